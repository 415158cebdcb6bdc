/* fs.c - file-system helpers (pc_fs.h): tree removal with openat/unlinkat
 * (no shell, links never followed, no global state), atomic file
 * replacement, and the writer lock (flock on a file naming its holder).
 * Owns nothing but the descriptors it hands out.
 */
#include "pc_fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <unistd.h>

static gboolean rm_fail(const char *full, int err, GError **error) {
  pc_set_error(error, PC_ERROR_IO, "cannot remove %s: %s", full, g_strerror(err));
  return FALSE;
}

/* Removes name (relative to parent; full is its path for messages). A
 * directory is emptied first; a symbolic link is unlinked, never entered
 * (O_NOFOLLOW). */
static gboolean rm_at(int parent, const char *name, const char *full,
                      GError **error) {
  if (unlinkat(parent, name, 0) == 0 || errno == ENOENT) return TRUE;
  if (errno != EISDIR) return rm_fail(full, errno, error);
  int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
  if (!d) {
    int err = errno;
    if (fd >= 0) close(fd);
    return rm_fail(full, err, error);
  }
  gboolean ok = TRUE;
  for (struct dirent *de; ok && (de = readdir(d)) != NULL;) {
    if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
    g_autofree char *child = g_build_filename(full, de->d_name, NULL);
    ok = rm_at(dirfd(d), de->d_name, child, error);
  }
  closedir(d);
  if (ok && unlinkat(parent, name, AT_REMOVEDIR) != 0 && errno != ENOENT)
    return rm_fail(full, errno, error);
  return ok;
}

gboolean pc_fs_remove_tree(const char *path, GError **error) {
  return rm_at(AT_FDCWD, path, path, error);
}

gboolean pc_fs_write_atomic(const char *path, const void *data, size_t len,
                            GError **error) {
  g_autofree char *tmp = g_strdup_printf("%s.tmp-%d", path, (int)getpid());
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  gboolean ok = fd >= 0;
  const char *p = data;
  for (size_t done = 0; ok && done < len;) {
    ssize_t w = write(fd, p + done, len - done);
    if (w < 0 && errno == EINTR) continue;
    ok = w > 0;
    if (ok) done += (size_t)w;
  }
  ok = ok && fsync(fd) == 0;
  int err = errno;
  if (fd >= 0 && close(fd) != 0 && ok) ok = FALSE, err = errno;
  if (ok && rename(tmp, path) != 0) ok = FALSE, err = errno;
  if (!ok) {
    unlink(tmp);
    pc_set_error(error, PC_ERROR_IO, "%s: cannot write: %s", path, g_strerror(err));
  }
  return ok;
}

/* The holder's text as written in the lock file, for the message. */
static char *lock_holder(int fd) {
  char buf[256] = {0};
  ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
  g_autofree char *s = n > 0 ? g_strndup(buf, (gsize)n) : NULL;
  if (!s || !*g_strstrip(s)) return g_strdup("unknown");
  return g_steal_pointer(&s);
}

/* flock, retried every 50 ms until wait_s has passed. 0 or the errno. */
static int lock_wait(int fd, double wait_s) {
  gint64 until = g_get_monotonic_time() + (gint64)(wait_s * 1e6);
  for (;;) {
    if (flock(fd, LOCK_EX | LOCK_NB) == 0) return 0;
    int err = errno;
    if (err == EINTR) continue;
    if (err != EWOULDBLOCK || g_get_monotonic_time() >= until) return err;
    g_usleep(50000);
  }
}

int pc_fs_lock(const char *path, double wait_s, char **holder, GError **error) {
  int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) {
    pc_set_error(error, PC_ERROR_IO, "%s: cannot create the lock file: %s", path, g_strerror(errno));
    return -1;
  }
  int err = lock_wait(fd, wait_s);
  if (err == EWOULDBLOCK) {
    g_autofree char *who = lock_holder(fd);
    pc_set_error(error, PC_ERROR_BUSY, "%s is held by %s", path, who);
    if (holder) *holder = g_steal_pointer(&who);
    close(fd);
    return -1;
  }
  char host[256] = "unknown";
  gethostname(host, sizeof host - 1);
  g_autofree char *me = g_strdup_printf("PID %d on host %s\n", (int)getpid(), host);
  if (err == 0 && (ftruncate(fd, 0) != 0 || pwrite(fd, me, strlen(me), 0) < 0)) err = errno;
  if (err) {
    pc_set_error(error, PC_ERROR_IO, "%s: cannot lock: %s", path, g_strerror(err));
    close(fd);
    return -1;
  }
  return fd;
}
