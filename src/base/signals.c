/* signals.c - stopping a command cleanly on SIGTERM, SIGINT or SIGHUP
 * (pc_signals.h): the blocked signal mask, the watcher thread, the
 * registry of temporary paths, the commit lock.
 *
 * Owns PcSignals (one per process, made in main and reached through
 * pc_comm_signals()). The watcher is an ordinary thread blocked in
 * sigwait(), never a handler, so the cleanup may allocate and take locks.
 * Invariant: a registered path is removed only while no commit is running
 * and none has ended since it was registered.
 */
#include "pc_signals.h"
#include "pc_fs.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#define RANK_LINGER_US (2 * G_USEC_PER_SEC) /* a rank but 0 after a signal */

struct PcSignals {
  pthread_mutex_t lock;       /* held by commits and by the cleanup */
  sigset_t set;
  char *cmd;
  int rank;
  const char *phase;
  GPtrArray *paths;           /* char *, to remove on a signal */
  gboolean committed;
};

/* Writes msg with write(2): stdio of the other threads may be busy. */
static void say(const char *msg) {
  for (size_t n = strlen(msg); n > 0;) {
    ssize_t w = write(STDERR_FILENO, msg, n);
    if (w <= 0) return;
    msg += w;
    n -= (size_t)w;
  }
}

/* Also appends msg to the file PARCOURS_SIGNAL_LOG names, when set: a
 * launcher (mpirun, Slurm) may close the ranks' output streams as it ends
 * the job, while a batch script can print that file after the job step
 * (slurm/monthly.sbatch does). */
static void say_to_log(const char *msg) {
  const char *path = g_getenv("PARCOURS_SIGNAL_LOG");
  if (!path || !*path) return;
  int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return;
  if (write(fd, msg, strlen(msg)) < 0) { /* best effort: stderr has it too */ }
  close(fd);
}

/* A registered tree may still be written by a thread of this process while
 * it is removed (run writes csv/ and the report on a thread of its own while
 * results.h5 is written): passes are repeated, a moment apart, until the
 * tree is gone or about a second has passed. Each path is tried, whatever
 * became of the one before. */
#define REMOVE_PASSES 50
#define REMOVE_NAP_US 20000
static void remove_all(PcSignals *s) {
  for (guint i = 0; i < s->paths->len; i++)
    for (int pass = 0; pass < REMOVE_PASSES; pass++) {
      if (pc_fs_remove_tree(g_ptr_array_index(s->paths, i), NULL)) break;
      g_usleep(REMOVE_NAP_US);
    }
}

static const char *sig_name(int sig) {
  return sig == SIGTERM ? "SIGTERM" : sig == SIGINT ? "SIGINT" : "SIGHUP";
}

static void *watch(void *data) {
  PcSignals *s = data;
  int sig = 0;
  while (sigwait(&s->set, &sig) != 0) continue;
  pthread_mutex_lock(&s->lock); /* waits for a running commit */
  g_autofree char *msg = NULL;
  if (s->committed)
    msg = g_strdup_printf("parcours %s: interrupted by %s after its results were committed (they are complete)\n", s->cmd ? s->cmd : "", sig_name(sig));
  else
    msg = g_strdup_printf("parcours %s: interrupted by %s while %s: nothing was committed%s\n", s->cmd ? s->cmd : "", sig_name(sig), s->phase ? s->phase : "starting", s->paths->len ? "; removing its temporary files" : "");
  /* first the message: mpirun or Slurm may end the output streams soon */
  if (s->rank == 0) {
    say(msg);
    say_to_log(msg);
  }
  if (!s->committed) remove_all(s);
  /* Rank 0 removes the temporary files. When another rank ends first,
   * mpirun kills the rest after about a second, and a loaded machine may
   * not have let rank 0 finish: the others stay a moment (mpirun ends
   * them once rank 0 is gone; a signal to one rank alone still ends the
   * job, two seconds later). */
  if (s->rank != 0) g_usleep(RANK_LINGER_US);
  _exit(128 + sig);
}

PcSignals *pc_signals_start(void) {
  PcSignals *s = g_new0(PcSignals, 1);
  pthread_mutex_init(&s->lock, NULL);
  s->paths = g_ptr_array_new_with_free_func(g_free);
  sigemptyset(&s->set);
  sigaddset(&s->set, SIGTERM);
  sigaddset(&s->set, SIGINT);
  sigaddset(&s->set, SIGHUP);
  pthread_t t;
  if (pthread_sigmask(SIG_BLOCK, &s->set, NULL) != 0 ||
      pthread_create(&t, NULL, watch, s) != 0) {
    pthread_sigmask(SIG_UNBLOCK, &s->set, NULL);
    g_ptr_array_unref(s->paths);
    g_free(s);
    return NULL;
  }
  pthread_detach(t);
  return s; /* lives until the process ends: the watcher holds it */
}

void pc_signals_set_command(PcSignals *s, const char *cmd, int rank) {
  if (!s) return;
  pthread_mutex_lock(&s->lock);
  g_free(s->cmd);
  s->cmd = g_strdup(cmd);
  s->rank = rank;
  pthread_mutex_unlock(&s->lock);
}

void pc_signals_phase(PcSignals *s, const char *phase) {
  if (!s) return;
  pthread_mutex_lock(&s->lock);
  s->phase = phase;
  pthread_mutex_unlock(&s->lock);
}

void pc_signals_register(PcSignals *s, const char *path) {
  if (!s) return;
  pthread_mutex_lock(&s->lock);
  g_ptr_array_add(s->paths, g_strdup(path));
  s->committed = FALSE;
  pthread_mutex_unlock(&s->lock);
}

void pc_signals_unregister(PcSignals *s, const char *path) {
  if (!s) return;
  pthread_mutex_lock(&s->lock);
  for (guint i = s->paths->len; i-- > 0;)
    if (!strcmp(g_ptr_array_index(s->paths, i), path)) g_ptr_array_remove_index(s->paths, i);
  pthread_mutex_unlock(&s->lock);
}

void pc_signals_commit_begin(PcSignals *s) {
  if (s) pthread_mutex_lock(&s->lock);
}

void pc_signals_commit_end(PcSignals *s) {
  if (!s) return;
  s->committed = TRUE;
  g_ptr_array_set_size(s->paths, 0);
  pthread_mutex_unlock(&s->lock);
}

void pc_signals_commit_abort(PcSignals *s) {
  if (s) pthread_mutex_unlock(&s->lock);
}
