/* outdir.c - the output directory of a run (pc_outdir.h): the writer lock,
 * the marker, the checks that keep --force from deleting anything parcours
 * did not write, and the rename-based commit.
 *
 * Owns the lock's file descriptor and the staging path. Invariant: the only
 * tree this file ever removes is one that carries the marker (an old
 * output directory, moved aside first) or its own staging directory.
 */
#include "pc_outdir.h"
#include "pc_fs.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

struct PcOutDir {
  char *dir, *store, *lock, *staging;
  gboolean force;
  int lock_fd;
  PcSignals *sig;
};

void pc_outdir_close(PcOutDir *o) {
  if (!o) return;
  if (o->lock_fd >= 0) close(o->lock_fd); /* releases the flock */
  g_free(o->dir);
  g_free(o->store);
  g_free(o->lock);
  g_free(o->staging);
  g_free(o);
}

/* The canonical absolute path of p, or of its parent + its name when p does
 * not exist yet. NULL when neither resolves. */
static char *canonical(const char *p) {
  char *r = realpath(p, NULL);
  if (r) return r;
  g_autofree char *parent = g_path_get_dirname(p);
  g_autofree char *base = g_path_get_basename(p);
  g_autofree char *rp = realpath(parent, NULL);
  return rp ? g_build_filename(rp, base, NULL) : NULL;
}

/* a == b or a is an ancestor directory of b (canonical paths). */
static gboolean is_within(const char *b, const char *a) {
  size_t n = strlen(a);
  if (strncmp(a, b, n) != 0) return FALSE;
  return b[n] == 0 || b[n] == '/' || (n == 1 && a[0] == '/');
}

/* Makes the parent directories of DIR as needed (mkdir -p), checks that DIR
 * is not the store, "/", an ancestor of the store or inside it. */
static gboolean check_not_store(const PcOutDir *o, GError **error) {
  g_autofree char *parent = g_path_get_dirname(o->dir);
  if (g_mkdir_with_parents(parent, 0755) != 0) {
    pc_set_error(error, PC_ERROR_IO, "output.dir %s: cannot create its parent directory: %s", o->dir, g_strerror(errno));
    return FALSE;
  }
  g_autofree char *d = canonical(o->dir), *s = canonical(o->store);
  if (!d) {
    pc_set_error(error, PC_ERROR_IO, "output.dir %s: its parent directory cannot be resolved", o->dir);
    return FALSE;
  }
  if (!strcmp(d, "/") || (s && (is_within(s, d) || is_within(d, s)))) {
    pc_set_error(error, PC_ERROR_CONFIG, "output.dir %s is the store %s, a parent of it or inside it: refusing to write there", o->dir, o->store);
    return FALSE;
  }
  return TRUE;
}

gboolean pc_outdir_check_apart(const char *dir, const char *other,
                               const char *what, GError **error) {
  g_autofree char *d = canonical(dir), *s = canonical(other);
  if (!d) {
    pc_set_error(error, PC_ERROR_IO, "%s: its parent directory does not exist", dir);
    return FALSE;
  }
  if (!strcmp(d, "/") || (s && (is_within(s, d) || is_within(d, s)))) {
    pc_set_error(error, PC_ERROR_CONFIG, "%s is %s (%s), a parent of it or inside it: refusing to write there", dir, what, other);
    return FALSE;
  }
  return TRUE;
}

/* DIR absent, or (force) a real directory with the marker. */
static gboolean check_replaceable(const PcOutDir *o, GError **error) {
  struct stat st;
  if (lstat(o->dir, &st) != 0) {
    if (errno == ENOENT) return TRUE;
    pc_set_error(error, PC_ERROR_IO, "output.dir %s: %s", o->dir, g_strerror(errno));
    return FALSE;
  }
  if (!o->force) {
    pc_set_error(error, PC_ERROR_EXISTS, "output directory %s already exists (use --force to replace it atomically)", o->dir);
    return FALSE;
  }
  if (S_ISLNK(st.st_mode) || !S_ISDIR(st.st_mode)) {
    pc_set_error(error, PC_ERROR_CONFIG, "output.dir %s is %s, not a directory parcours wrote: --force replaces only those", o->dir, S_ISLNK(st.st_mode) ? "a symbolic link" : "not a directory");
    return FALSE;
  }
  g_autofree char *marker = g_build_filename(o->dir, PC_OUTDIR_MARKER, NULL);
  if (lstat(marker, &st) != 0 || !S_ISREG(st.st_mode)) {
    pc_set_error(error, PC_ERROR_CONFIG, "output.dir %s was not written by parcours run (no %s in it): --force replaces only those; remove it yourself if it may go", o->dir, PC_OUTDIR_MARKER);
    return FALSE;
  }
  return TRUE;
}

/* The holder's PID as written in the lock file, for the message. */
static char *holder_of(int fd) {
  char buf[32] = {0};
  ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
  if (n <= 0) return g_strdup("unknown");
  return g_strstrip(g_strndup(buf, (gsize)n));
}

static gboolean take_lock(PcOutDir *o, GError **error) {
  o->lock_fd = open(o->lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (o->lock_fd < 0) {
    pc_set_error(error, PC_ERROR_IO, "%s: cannot create the output lock: %s", o->lock, g_strerror(errno));
    return FALSE;
  }
  if (flock(o->lock_fd, LOCK_EX | LOCK_NB) != 0) {
    g_autofree char *who = holder_of(o->lock_fd);
    pc_set_error(error, PC_ERROR_IO, "output.dir %s is being written by another parcours run (PID %s holds %s)", o->dir, who, o->lock);
    return FALSE;
  }
  g_autofree char *pid = g_strdup_printf("%d\n", (int)getpid());
  if (ftruncate(o->lock_fd, 0) != 0 || pwrite(o->lock_fd, pid, strlen(pid), 0) < 0) {
    pc_set_error(error, PC_ERROR_IO, "%s: %s", o->lock, g_strerror(errno));
    return FALSE;
  }
  return TRUE;
}

gboolean pc_outdir_open(const char *dir, const char *store, gboolean force,
                        PcSignals *sig, PcOutDir **out, GError **error) {
  g_autoptr(PcOutDir) o = g_new0(PcOutDir, 1);
  o->lock_fd = -1;
  o->sig = sig;
  g_autofree char *trimmed = g_strdup(dir);
  for (size_t n = strlen(trimmed); n > 1 && trimmed[n - 1] == '/';) trimmed[--n] = 0;
  o->dir = g_steal_pointer(&trimmed);
  o->store = g_strdup(store);
  o->force = force;
  o->lock = g_strdup_printf("%s.lock", o->dir);
  o->staging = g_strdup_printf("%s.tmp-%d", o->dir, (int)getpid());
  if (!check_not_store(o, error) || !take_lock(o, error) ||
      !check_replaceable(o, error))
    return FALSE;
  *out = g_steal_pointer(&o);
  return TRUE;
}

const char *pc_outdir_staging(const PcOutDir *o) { return o->staging; }

gboolean pc_outdir_stage(PcOutDir *o, GError **error) {
  pc_signals_register(o->sig, o->staging);
  if (g_mkdir_with_parents(o->staging, 0755) != 0) {
    pc_set_error(error, PC_ERROR_IO, "%s: %s", o->staging, g_strerror(errno));
    return FALSE;
  }
  g_autofree char *marker = g_build_filename(o->staging, PC_OUTDIR_MARKER, NULL);
  static const char text[] = "parcours-output 1\n";
  return pc_fs_write_atomic(marker, text, sizeof text - 1, error);
}

/* The renames of the commit; a signal waits for them (pc_signals.h). */
static gboolean swap_in(PcOutDir *o, const char *old, gboolean had,
                        GError **error) {
  if (had && rename(o->dir, old) != 0) {
    pc_set_error(error, PC_ERROR_IO, "cannot move the old %s aside: %s", o->dir, g_strerror(errno));
    return FALSE;
  }
  if (rename(o->staging, o->dir) != 0) {
    int err = errno;
    if (had && rename(old, o->dir) != 0)
      fprintf(stderr, "parcours: warning: the previous %s is kept as %s\n", o->dir, old);
    pc_set_error(error, PC_ERROR_IO, "cannot rename %s to %s: %s", o->staging, o->dir, g_strerror(err));
    return FALSE;
  }
  return TRUE;
}

gboolean pc_outdir_commit(PcOutDir *o, GError **error) {
  if (!check_replaceable(o, error)) return FALSE;
  g_autofree char *old = g_strdup_printf("%s.old-%d", o->dir, (int)getpid());
  gboolean had = g_file_test(o->dir, G_FILE_TEST_EXISTS);
  pc_signals_commit_begin(o->sig);
  gboolean ok = swap_in(o, old, had, error);
  if (ok) pc_signals_commit_end(o->sig);
  else pc_signals_commit_abort(o->sig);
  if (!ok) return FALSE;
  g_autoptr(GError) rm = NULL;
  if (had && !pc_fs_remove_tree(old, &rm))
    fprintf(stderr, "parcours: warning: %s\n", rm->message);
  return TRUE;
}

void pc_outdir_abandon(PcOutDir *o) {
  if (!o) return;
  g_autoptr(GError) rm = NULL;
  if (g_file_test(o->staging, G_FILE_TEST_EXISTS) && !pc_fs_remove_tree(o->staging, &rm))
    fprintf(stderr, "parcours: warning: %s\n", rm->message);
  pc_signals_unregister(o->sig, o->staging);
}
