/* runfile.c - anonymous temporary files for sorted runs (pc_runfile.h):
 * create without a name, buffered sequential write, rewind, buffered
 * sequential read, and the free space of a file system.
 *
 * Owns the descriptor and one buffer per file (the write buffer, then the
 * read buffer). Does not own what the bytes mean (shardsort.c) nor the
 * directory (the caller creates and removes it). No MPI, no HDF5.
 *
 * Invariant: writing, buf[0..fill) are bytes not yet written at offset
 * `bytes - fill`; reading, buf[pos..fill) are the next bytes of the file.
 */
#include "pc_runfile.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/statvfs.h>
#include <unistd.h>

struct PcRunFile {
  char *dir;
  int fd;
  guint8 *buf;
  size_t cap, pos, fill;
  uint64_t bytes;      /* written in all */
  gboolean reading, eof;
};

/* O_TMPFILE where the file system has it, else a unique name unlinked at
 * once: either way the file has no name while it is used. */
static int open_anonymous(const char *dir) {
#ifdef O_TMPFILE
  int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)) return fd;
#endif
  g_autofree char *tmpl = g_build_filename(dir, "run-XXXXXX", NULL);
  int fd2 = g_mkstemp_full(tmpl, O_RDWR | O_CLOEXEC, 0600);
  if (fd2 >= 0) unlink(tmpl);
  return fd2;
}

PcRunFile *pc_runfile_new(const char *dir, size_t buf_bytes, GError **error) {
  int fd = open_anonymous(dir);
  if (fd < 0) {
    pc_set_error(error, PC_ERROR_IO, "%s: cannot create a sorted run: %s", dir, g_strerror(errno));
    return NULL;
  }
  PcRunFile *f = g_new0(PcRunFile, 1);
  f->dir = g_strdup(dir);
  f->fd = fd;
  f->cap = MAX(buf_bytes, (size_t)4096);
  f->buf = g_malloc(f->cap);
  return f;
}

void pc_runfile_free(PcRunFile *f) {
  if (!f) return;
  close(f->fd);
  g_free(f->buf);
  g_free(f->dir);
  g_free(f);
}

/* Writes buf[0..fill); FALSE with the reason. */
static gboolean flush(PcRunFile *f, GError **error) {
  for (size_t at = 0; at < f->fill;) {
    ssize_t w = write(f->fd, f->buf + at, f->fill - at);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      pc_set_error(error, PC_ERROR_IO, "%s: cannot write a sorted run: %s", f->dir, g_strerror(w < 0 ? errno : ENOSPC));
      return FALSE;
    }
    at += (size_t)w;
  }
  f->fill = 0;
  return TRUE;
}

gboolean pc_runfile_write(PcRunFile *f, const void *data, size_t n,
                          GError **error) {
  g_return_val_if_fail(!f->reading, FALSE);
  const guint8 *p = data;
  f->bytes += n;
  while (n > 0) {
    if (f->fill == f->cap && !flush(f, error)) return FALSE;
    size_t k = MIN(n, f->cap - f->fill);
    memcpy(f->buf + f->fill, p, k);
    f->fill += k, p += k, n -= k;
  }
  return TRUE;
}

gboolean pc_runfile_rewind(PcRunFile *f, size_t buf_bytes, GError **error) {
  if (!f->reading && !flush(f, error)) return FALSE;
  if (lseek(f->fd, 0, SEEK_SET) != 0) {
    pc_set_error(error, PC_ERROR_IO, "%s: cannot read a sorted run back: %s", f->dir, g_strerror(errno));
    return FALSE;
  }
  g_free(f->buf);
  f->cap = MAX(buf_bytes, (size_t)4096);
  f->buf = g_malloc(f->cap);
  f->pos = f->fill = 0;
  f->reading = TRUE;
  f->eof = FALSE;
  return TRUE;
}

/* Moves the unread bytes to the front and reads until n are there or the
 * file ends; grows the buffer for a record larger than it. */
static gboolean refill(PcRunFile *f, size_t n, GError **error) {
  memmove(f->buf, f->buf + f->pos, f->fill - f->pos);
  f->fill -= f->pos;
  f->pos = 0;
  if (n > f->cap) {
    f->cap = n;
    f->buf = g_realloc(f->buf, f->cap);
  }
  while (f->fill < n && !f->eof) {
    ssize_t r = read(f->fd, f->buf + f->fill, f->cap - f->fill);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      pc_set_error(error, PC_ERROR_IO, "%s: cannot read a sorted run back: %s", f->dir, g_strerror(errno));
      return FALSE;
    }
    if (r == 0) f->eof = TRUE;
    f->fill += (size_t)r;
  }
  return TRUE;
}

gboolean pc_runfile_read(PcRunFile *f, size_t n, const void **out,
                         GError **error) {
  g_return_val_if_fail(f->reading, FALSE);
  *out = NULL;
  if (f->fill - f->pos < n && !refill(f, n, error)) return FALSE;
  if (f->fill - f->pos < n) {
    if (f->fill != f->pos)
      pc_set_error(error, PC_ERROR_IO, "%s: a sorted run ends inside a record (%zu of %zu bytes)", f->dir, f->fill - f->pos, n);
    return FALSE;
  }
  *out = f->buf + f->pos;
  f->pos += n;
  return TRUE;
}

uint64_t pc_runfile_bytes(const PcRunFile *f) { return f->bytes; }

uint64_t pc_runfile_free_bytes(const char *path) {
  struct statvfs v;
  if (statvfs(path, &v) != 0) return UINT64_MAX;
  return (uint64_t)v.f_bavail * (uint64_t)v.f_frsize;
}
