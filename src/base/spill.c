/* spill.c - the spill facility of a rank (pc_spill.h): the memory pool of
 * the tables that grow with distinct keys, the temporary directory and its
 * run files, the first error, the figures.
 *
 * Owns PcSpill, the directory and its files. Does not own the formats of
 * the files (seqspill.c, qstore.c). No MPI, no HDF5.
 *
 * Invariants: the directory exists only between the first file and
 * pc_spill_free, and is registered with pc_signals for exactly that time;
 * the pool figures move only by pc_spill_account (atomics: tables of
 * several threads report at once); the first error wins (mutex).
 */
#include "pc_spill.h"
#include "pc_fs.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/statvfs.h>
#include <unistd.h>

#define SPILL_MIN_BYTES (16u << 10) /* a table smaller than this never spills */
#define WRITE_BUF (256u << 10)      /* write buffer of a file being written */

struct PcSpill {
  char *parent;
  int rank;
  PcSpillBudget budget;
  PcSignals *sig;
  GMutex lock;          /* dir, serial, error */
  char *dir;
  guint serial;
  GError *error;
  int failed;           /* atomic */
  uint64_t used, nobj;  /* atomic: pool bytes, tables holding bytes */
  uint64_t bytes, runs; /* atomic */
};

struct PcSpillFile {
  PcSpill *sp;
  char *path;
  int fd;               /* -1 when closed */
  guint8 *buf;          /* while writing */
  size_t held;
  uint64_t size;
};

PcSpill *pc_spill_new(const char *parent, int rank, PcSpillBudget budget,
                      PcSignals *sig) {
  PcSpill *sp = g_new0(PcSpill, 1);
  if (!parent || !*parent) parent = g_getenv("TMPDIR");
  sp->parent = g_strdup(parent && *parent ? parent : "/tmp");
  sp->rank = rank;
  sp->budget = budget;
  sp->sig = sig;
  g_mutex_init(&sp->lock);
  return sp;
}

void pc_spill_free(PcSpill *sp) {
  if (!sp) return;
  if (sp->dir) {
    pc_fs_remove_tree(sp->dir, NULL);
    pc_signals_unregister(sp->sig, sp->dir);
  }
  g_clear_error(&sp->error);
  g_mutex_clear(&sp->lock);
  g_free(sp->dir);
  g_free(sp->parent);
  g_free(sp);
}

/* ---- The pool ---- */

void pc_spill_account(PcSpill *sp, size_t *mine, size_t now) {
  if (!sp || *mine == now) return;
  if (*mine == 0) __atomic_add_fetch(&sp->nobj, 1, __ATOMIC_RELAXED);
  if (now == 0) __atomic_sub_fetch(&sp->nobj, 1, __ATOMIC_RELAXED);
  if (now > *mine) __atomic_add_fetch(&sp->used, now - *mine, __ATOMIC_RELAXED);
  else __atomic_sub_fetch(&sp->used, *mine - now, __ATOMIC_RELAXED);
  *mine = now;
}

gboolean pc_spill_due(const PcSpill *sp, size_t mine) {
  /* a pool below SPILL_MIN_BYTES (tests) lets every table spill */
  if (!sp || !sp->budget.pool || mine < MIN(SPILL_MIN_BYTES, sp->budget.pool)) return FALSE;
  uint64_t used = __atomic_load_n(&sp->used, __ATOMIC_RELAXED);
  uint64_t n = __atomic_load_n(&sp->nobj, __ATOMIC_RELAXED);
  /* the largest table is at least the average: some table always goes */
  return used > sp->budget.pool && (uint64_t)mine * MAX(n, 1) >= used;
}

PcSpillBudget pc_spill_budget(const PcSpill *sp) { return sp->budget; }

/* ---- Files ---- */

static gboolean io_fail(PcSpill *sp, int err, const char *what, GError **error) {
  if (err == ENOSPC || err == EDQUOT)
    pc_set_error(error, PC_ERROR_IO, "spill directory %s: no space left on device while %s (%.1f MiB spilled by this rank; point run.spill_dir at a larger file system or raise run.memory_per_rank)", sp->dir ? sp->dir : sp->parent, what, pc_spill_bytes(sp) / 1048576.0);
  else
    pc_set_error(error, PC_ERROR_IO, "spill directory %s: %s: %s", sp->dir ? sp->dir : sp->parent, what, g_strerror(err));
  return FALSE;
}

/* Under the lock: the directory, made and registered on first use. */
static gboolean make_dir(PcSpill *sp, GError **error) {
  if (sp->dir) return TRUE;
  g_autofree char *tmpl = g_strdup_printf("%s/parcours-spill-r%d-XXXXXX", sp->parent, sp->rank);
  if (!g_mkdtemp_full(tmpl, 0700)) return io_fail(sp, errno, "cannot create a directory under it", error);
  sp->dir = g_steal_pointer(&tmpl);
  pc_signals_register(sp->sig, sp->dir);
  return TRUE;
}

static gboolean check_space(PcSpill *sp, uint64_t expect, GError **error) {
  struct statvfs v;
  if (statvfs(sp->dir, &v) != 0) return io_fail(sp, errno, "statvfs", error);
  uint64_t avail = (uint64_t)v.f_bavail * v.f_frsize;
  if (avail >= expect) return TRUE;
  pc_set_error(error, PC_ERROR_IO, "spill directory %s: no space left on device for a spill (%.2f MiB free, up to %.2f MiB to write; point run.spill_dir at a larger file system or raise run.memory_per_rank)", sp->dir, avail / 1048576.0, expect / 1048576.0);
  return FALSE;
}

gboolean pc_spill_check_space(PcSpill *sp, uint64_t expect, GError **error) {
  struct statvfs v;
  if (statvfs(sp->parent, &v) != 0) return io_fail(sp, errno, "statvfs", error);
  uint64_t avail = (uint64_t)v.f_bavail * v.f_frsize;
  if (avail >= expect) return TRUE;
  pc_set_error(error, PC_ERROR_IO, "spill directory %s: %.1f MiB free, this rank is expected to spill about %.1f MiB past its table memory (point run.spill_dir at a larger file system or raise run.memory_per_rank)", sp->parent, avail / 1048576.0, expect / 1048576.0);
  return FALSE;
}

PcSpillFile *pc_spill_file_new(PcSpill *sp, const char *what, uint64_t expect,
                               GError **error) {
  g_mutex_lock(&sp->lock);
  gboolean ok = make_dir(sp, error) && check_space(sp, expect, error);
  g_autofree char *path = ok ? g_strdup_printf("%s/%06u-%s", sp->dir, sp->serial++, what) : NULL;
  g_mutex_unlock(&sp->lock);
  if (!ok) return NULL;
  int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    io_fail(sp, errno, "cannot create a run file", error);
    return NULL;
  }
  PcSpillFile *f = g_new0(PcSpillFile, 1);
  f->sp = sp;
  f->path = g_steal_pointer(&path);
  f->fd = fd;
  f->buf = g_malloc(WRITE_BUF);
  __atomic_add_fetch(&sp->runs, 1, __ATOMIC_RELAXED);
  return f;
}

static gboolean write_all(PcSpillFile *f, const guint8 *p, size_t len,
                          GError **error) {
  while (len > 0) {
    ssize_t w = write(f->fd, p, len);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return io_fail(f->sp, w < 0 ? errno : ENOSPC, "writing a run file", error);
    p += w;
    len -= (size_t)w;
    f->size += (uint64_t)w;
    __atomic_add_fetch(&f->sp->bytes, (uint64_t)w, __ATOMIC_RELAXED);
  }
  return TRUE;
}

gboolean pc_spill_file_write(PcSpillFile *f, const void *buf, size_t len,
                             GError **error) {
  g_return_val_if_fail(f->buf, FALSE);
  const guint8 *p = buf;
  if (f->held + len > WRITE_BUF) {
    if (!write_all(f, f->buf, f->held, error)) return FALSE;
    f->held = 0;
  }
  if (len >= WRITE_BUF) return write_all(f, p, len, error);
  memcpy(f->buf + f->held, p, len);
  f->held += len;
  return TRUE;
}

gboolean pc_spill_file_finish(PcSpillFile *f, GError **error) {
  g_return_val_if_fail(f->buf, FALSE);
  gboolean ok = write_all(f, f->buf, f->held, error);
  g_clear_pointer(&f->buf, g_free);
  f->held = 0;
  pc_spill_file_release(f); /* reopened by the first read: few stay open */
  return ok;
}

uint64_t pc_spill_file_size(const PcSpillFile *f) { return f->size; }

gboolean pc_spill_file_read(PcSpillFile *f, uint64_t off, void *buf,
                            size_t len, GError **error) {
  g_return_val_if_fail(!f->buf && off + len <= f->size, FALSE);
  if (f->fd < 0 && (f->fd = open(f->path, O_RDONLY | O_CLOEXEC)) < 0)
    return io_fail(f->sp, errno, "reopening a run file", error);
  for (guint8 *p = buf; len > 0;) {
    ssize_t r = pread(f->fd, p, len, (off_t)off);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return io_fail(f->sp, r < 0 ? errno : EIO, "reading a run file", error);
    p += r;
    len -= (size_t)r;
    off += (uint64_t)r;
  }
  return TRUE;
}

void pc_spill_file_release(PcSpillFile *f) {
  if (f->fd >= 0) close(f->fd);
  f->fd = -1;
}

void pc_spill_file_free(PcSpillFile *f) {
  if (!f) return;
  pc_spill_file_release(f);
  unlink(f->path);
  g_free(f->buf);
  g_free(f->path);
  g_free(f);
}

/* ---- Errors and figures ---- */

void pc_spill_fail(PcSpill *sp, GError *e) {
  g_mutex_lock(&sp->lock);
  if (!sp->error) sp->error = e;
  else g_error_free(e);
  __atomic_store_n(&sp->failed, 1, __ATOMIC_RELAXED);
  g_mutex_unlock(&sp->lock);
}

gboolean pc_spill_failed(const PcSpill *sp) {
  return sp && __atomic_load_n(&sp->failed, __ATOMIC_RELAXED);
}

gboolean pc_spill_check(const PcSpill *sp, GError **error) {
  if (!pc_spill_failed(sp)) return TRUE;
  g_mutex_lock((GMutex *)&sp->lock);
  if (error) *error = g_error_copy(sp->error);
  g_mutex_unlock((GMutex *)&sp->lock);
  return FALSE;
}

uint64_t pc_spill_bytes(const PcSpill *sp) {
  return sp ? __atomic_load_n(&sp->bytes, __ATOMIC_RELAXED) : 0;
}

uint64_t pc_spill_runs(const PcSpill *sp) {
  return sp ? __atomic_load_n(&sp->runs, __ATOMIC_RELAXED) : 0;
}
