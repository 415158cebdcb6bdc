/* rawread.c - the bytes of an input file (pc_rawread.h): plain from a byte
 * offset, or gzip whole with zlib's inflate, member after member.
 *
 * Owns the file descriptor, the zlib stream and its input buffer. Does not
 * own lines (csv.c) or digests (batchid.c). No MPI, no HDF5.
 *
 * Why not gzread: it reads concatenated members, but silently ignores
 * whatever follows a member when that is not another gzip header, so rows
 * appended to a .csv.gz with `>>` vanished without a reject or an error.
 * Here, after each member's end, the next bytes must be another member's
 * magic (1f 8b) or the end of the file.
 *
 * Invariant: for gzip, the content is exactly what `gzip -dc FILE` prints
 * when gzip exits 0; anything else is an error naming the file.
 */
#include "pc_rawread.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#define RAW_IN_BYTES ((size_t)1 << 20) /* compressed bytes per read() */

struct PcRawRead {
  char *path;
  int fd;
  gboolean gz;
  z_stream zs;
  gboolean zinit;
  guint8 *in;             /* compressed input buffer (gzip) */
  uint64_t in_read;       /* compressed bytes read from the file */
  uint64_t plain_at;      /* plain: file offset of the next byte */
  uint64_t lines;         /* LFs handed out so far (for "near line") */
  gboolean in_eof;        /* read() returned 0 */
  gboolean between;       /* a member ended; the next must start or EOF */
  gboolean done;
};

gboolean pc_rawread_probe_gzip(const char *path, GError **error) {
  unsigned char magic[2];
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    pc_set_error(error, PC_ERROR_IO, "%s: cannot open: %s", path, g_strerror(errno));
    return FALSE;
  }
  ssize_t got;
  do got = pread(fd, magic, 2, 0);
  while (got < 0 && errno == EINTR);
  int saved = errno;
  close(fd);
  if (got < 0) {
    pc_set_error(error, PC_ERROR_IO, "%s: cannot read: %s", path, g_strerror(saved));
    return FALSE;
  }
  return got == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
}

void pc_rawread_close(PcRawRead *r) {
  if (!r) return;
  if (r->zinit) inflateEnd(&r->zs);
  if (r->fd >= 0) close(r->fd);
  g_free(r->in);
  g_free(r->path);
  g_free(r);
}

PcRawRead *pc_rawread_open(const char *path, uint64_t start, GError **error) {
  GError *e = NULL;
  gboolean gz = pc_rawread_probe_gzip(path, &e);
  if (e) {
    g_propagate_error(error, e);
    return NULL;
  }
  g_autoptr(PcRawRead) r = g_new0(PcRawRead, 1);
  r->path = g_strdup(path);
  r->gz = gz;
  r->fd = open(path, O_RDONLY | O_CLOEXEC);
  if (r->fd < 0) {
    pc_set_error(error, PC_ERROR_IO, "%s: cannot open: %s", path, g_strerror(errno));
    return NULL;
  }
  if (gz) {
    if (start != 0) {
      pc_set_error(error, PC_ERROR_INTERNAL, "%s: a gzip file is read whole, not from byte %" G_GUINT64_FORMAT, path, start);
      return NULL;
    }
    r->in = g_malloc(RAW_IN_BYTES);
    r->zinit = inflateInit2(&r->zs, 15 + 16) == Z_OK; /* gzip wrapper only */
    if (!r->zinit) {
      pc_set_error(error, PC_ERROR_INTERNAL, "%s: cannot start zlib", path);
      return NULL;
    }
  } else if (start && lseek(r->fd, (off_t)start, SEEK_SET) < 0) {
    pc_set_error(error, PC_ERROR_IO, "%s: cannot seek to %" G_GUINT64_FORMAT ": %s", path, start, g_strerror(errno));
    return NULL;
  }
  r->plain_at = start;
  return g_steal_pointer(&r);
}

/* read() that retries EINTR; -1 with *error. */
static ssize_t read_fd(PcRawRead *r, void *buf, size_t n, uint64_t at,
                       GError **error) {
  for (;;) {
    ssize_t got = read(r->fd, buf, n);
    if (got >= 0) return got;
    if (errno == EINTR) continue;
    pc_set_error(error, PC_ERROR_IO, "%s: read error at byte %" G_GUINT64_FORMAT ": %s", r->path, at, g_strerror(errno));
    return -1;
  }
}

/* More compressed input, keeping the avail_in bytes not yet used (at most
 * one when called to look at a magic number). FALSE on a read error. */
static gboolean refill(PcRawRead *r, GError **error) {
  size_t keep = r->zs.avail_in;
  if (keep) memmove(r->in, r->zs.next_in, keep);
  ssize_t got = read_fd(r, r->in + keep, RAW_IN_BYTES - keep, r->in_read, error);
  if (got < 0) return FALSE;
  r->in_eof = got == 0;
  r->in_read += (uint64_t)got;
  r->zs.next_in = r->in;
  r->zs.avail_in = (uInt)(keep + (size_t)got);
  return TRUE;
}

static void gz_error(PcRawRead *r, const char *why, GError **error) {
  pc_set_error(error, PC_ERROR_FORMAT, "%s: corrupt gzip data near line %" G_GUINT64_FORMAT ": %s", r->path, r->lines + 1, why);
}

/* Between members: end of file (done), another member (reset), or bytes
 * that are not gzip (error). FALSE on error. */
static gboolean next_member(PcRawRead *r, GError **error) {
  while (r->zs.avail_in < 2 && !r->in_eof)
    if (!refill(r, error)) return FALSE;
  if (r->zs.avail_in == 0) {
    r->done = TRUE;
    return TRUE;
  }
  if (r->zs.avail_in >= 2 && r->zs.next_in[0] == 0x1f && r->zs.next_in[1] == 0x8b) {
    inflateReset(&r->zs);
    r->between = FALSE;
    return TRUE;
  }
  uint64_t at = r->in_read - r->zs.avail_in;
  pc_set_error(error, PC_ERROR_FORMAT, "%s: bytes after the end of the gzip data at byte %" G_GUINT64_FORMAT " are not gzip data (rows appended to a compressed file?): compress the whole file, or give the rows as a separate input", r->path, at);
  return FALSE;
}

/* Inflates into buf until some output or the end; -1 on error. */
static ssize_t read_gzip(PcRawRead *r, void *buf, size_t n, GError **error) {
  r->zs.next_out = buf;
  r->zs.avail_out = (uInt)MIN(n, (size_t)G_MAXUINT32);
  uInt want = r->zs.avail_out;
  while (r->zs.avail_out == want && !r->done) {
    if (r->between) {
      if (!next_member(r, error)) return -1;
      continue;
    }
    if (r->zs.avail_in == 0 && !r->in_eof && !refill(r, error)) return -1;
    int ret = inflate(&r->zs, Z_NO_FLUSH);
    if (ret == Z_STREAM_END) {
      r->between = TRUE;
    } else if (ret == Z_BUF_ERROR || (ret == Z_OK && r->zs.avail_in == 0)) {
      if (r->zs.avail_in == 0 && r->in_eof) {
        gz_error(r, "unexpected end of file", error);
        return -1;
      }
    } else if (ret != Z_OK) {
      gz_error(r, r->zs.msg ? r->zs.msg : zError(ret), error);
      return -1;
    }
  }
  return (ssize_t)(want - r->zs.avail_out);
}

static void count_lines(PcRawRead *r, const char *p, size_t n) {
  for (const char *e = p + n; (p = memchr(p, '\n', (size_t)(e - p))) != NULL; p++) r->lines++;
}

ssize_t pc_rawread_read(PcRawRead *r, void *buf, size_t n, GError **error) {
  if (n == 0) return 0;
  ssize_t got = r->gz ? read_gzip(r, buf, n, error) : read_fd(r, buf, n, r->plain_at, error);
  if (got > 0) {
    count_lines(r, buf, (size_t)got);
    if (!r->gz) r->plain_at += (uint64_t)got;
  }
  return got;
}

uint64_t pc_rawread_offset(const PcRawRead *r) {
  return r->gz ? r->in_read - r->zs.avail_in : r->plain_at;
}

gboolean pc_rawread_is_gzip(const PcRawRead *r) { return r->gz; }
