/* storewriter.c - one batch into a store (pc_storewriter.h): the writer
 * lock, the staging directory, the MANIFEST commit, and the cleanup of
 * what a writer that died left behind.
 *
 * Owns the lock descriptor, the staging path and the order of the commit:
 * shards and batch record first (the caller), then MANIFEST.tmp written and
 * fsync'ed, renamed over MANIFEST, the directory fsync'ed. File names come
 * from store.c. No MPI, no HDF5.
 *
 * Invariants: a file listed in a committed MANIFEST is never written,
 * renamed or removed here (leftovers are only files of batches above the
 * MANIFEST's count, and only under the lock); a new store appears under
 * its name only by one rename that refuses to replace anything.
 */
#include "pc_storewriter.h"
#include "pc_fs.h"
#include "pc_testhook.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <unistd.h>

struct PcStoreWriter {
  char *dir;
  gboolean append;
  int lock_fd;        /* append: STORE/LOCK, held until free; else -1 */
  PcStore *old;       /* append: the MANIFEST read under the lock */
  char *staging;      /* after stage */
};

void pc_storewriter_free(PcStoreWriter *w) {
  if (!w) return;
  if (w->lock_fd >= 0) close(w->lock_fd); /* releases the flock */
  pc_store_free(w->old);
  g_free(w->dir);
  g_free(w->staging);
  g_free(w);
}

const PcStore *pc_storewriter_store(const PcStoreWriter *w) { return w->old; }
guint pc_storewriter_batch(const PcStoreWriter *w) { return w->old ? w->old->batches + 1 : 1; }
const char *pc_storewriter_staging(const PcStoreWriter *w) { return w->staging; }

/* fsync of a directory, so that a rename in it survives a crash of the
 * machine. Best effort: some file systems refuse it. */
static void sync_dir(const char *dir) {
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  (void)fsync(fd);
  close(fd);
}

/* Files of batches the MANIFEST does not count (the runs' directory
 * tmp-bNNNNNN too), and MANIFEST.tmp: what an append that died (kill -9,
 * node lost) left before or during its commit. Only called under the
 * lock, so no live writer owns them. */
static void remove_leftovers(const PcStoreWriter *w) {
  GDir *d = g_dir_open(w->dir, 0, NULL);
  g_autofree char *mtmp = pc_store_file_name(PC_STORE_FILE_MANIFEST, 0);
  char *tmpname = g_strdup_printf("%s.tmp", mtmp);
  for (const char *n; d && (n = g_dir_read_name(d)) != NULL;) {
    guint b;
    if (!strcmp(n, tmpname) || (pc_store_name_batch(n, &b) && b > w->old->batches)) {
      g_autofree char *p = g_build_filename(w->dir, n, NULL);
      pc_fs_remove_tree(p, NULL);
    }
  }
  g_free(tmpname);
  if (d) g_dir_close(d);
}

static gboolean lock_store(PcStoreWriter *w, double wait_s, GError **error) {
  g_autofree char *path = pc_store_file_path(w->dir, PC_STORE_FILE_LOCK, 0);
  g_autofree char *holder = NULL;
  GError *e = NULL;
  w->lock_fd = pc_fs_lock(path, wait_s, &holder, &e);
  if (w->lock_fd >= 0) return TRUE;
  if (g_error_matches(e, PC_ERROR, PC_ERROR_BUSY))
    pc_set_error(error, PC_ERROR_BUSY, "%s: another parcours command (%s) is writing this store (it holds %s%s); nothing was done: run again when it has finished, or pass --lock-timeout SECONDS to wait for it", w->dir, holder, path, wait_s > 0 ? " still" : "");
  else
    pc_set_error(error, PC_ERROR_IO, "%s", e->message);
  g_error_free(e);
  return FALSE;
}

gboolean pc_storewriter_open(const char *dir, gboolean append, double wait_s,
                             PcStoreWriter **out, GError **error) {
  g_autoptr(PcStoreWriter) w = g_new0(PcStoreWriter, 1);
  w->dir = g_strdup(dir);
  w->append = append;
  w->lock_fd = -1;
  if (!append) {
    if (g_file_test(dir, G_FILE_TEST_EXISTS) || g_file_test(dir, G_FILE_TEST_IS_SYMLINK)) {
      pc_set_error(error, PC_ERROR_EXISTS, "%s: already exists (use --append to add a batch, or remove it)", dir);
      return FALSE;
    }
    *out = g_steal_pointer(&w);
    return TRUE;
  }
  g_autoptr(PcStore) probe = NULL; /* a store at all? (never lock elsewhere) */
  if (!pc_store_open(dir, &probe, error) || !lock_store(w, wait_s, error) ||
      !pc_store_open(dir, &w->old, error))
    return FALSE;
  remove_leftovers(w);
  *out = g_steal_pointer(&w);
  return TRUE;
}

gboolean pc_storewriter_stage(PcStoreWriter *w, GError **error) {
  if (w->append) {
    w->staging = g_strdup(w->dir);
    return TRUE;
  }
  char *tmp = pc_store_staging_path(w->dir);
  if (g_mkdir(tmp, 0755) != 0) {
    pc_set_error(error, PC_ERROR_IO, "%s: %s", tmp, g_strerror(errno));
    g_free(tmp);
    return FALSE;
  }
  w->staging = tmp;
  return TRUE;
}

/* staging/MANIFEST.tmp: the old shards, then the new ones; fsync'ed. */
static gboolean write_manifest_tmp(const PcStoreWriter *w, uint64_t buckets,
                                   GPtrArray *files, const char *tmp,
                                   GError **error) {
  g_autoptr(GString) m = g_string_new("parcours-store 1\n");
  g_string_append_printf(m, "buckets %" G_GUINT64_FORMAT "\nbatches %u\n", buckets, pc_storewriter_batch(w));
  for (guint i = 0; w->old && i < w->old->files->len; i++)
    g_string_append_printf(m, "shard %s\n", (char *)g_ptr_array_index(w->old->files, i));
  for (guint i = 0; i < files->len; i++)
    g_string_append_printf(m, "shard %s\n", (char *)g_ptr_array_index(files, i));
  FILE *f = fopen(tmp, "w");
  gboolean ok = f && fwrite(m->str, 1, m->len, f) == m->len && fflush(f) == 0 && fsync(fileno(f)) == 0;
  int err = errno;
  if (f && fclose(f) != 0 && ok) ok = FALSE, err = errno;
  if (!ok) {
    unlink(tmp);
    pc_set_error(error, PC_ERROR_IO, "%s: cannot write: %s", tmp, g_strerror(err));
  }
  return ok;
}

/* rename(2) that never replaces an existing dir; where the file system
 * has no RENAME_NOREPLACE, plain rename still refuses a non-empty one. */
static int rename_noreplace(const char *from, const char *to) {
  if (renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0) return 0;
  if (errno != EINVAL && errno != ENOSYS) return -1;
  return rename(from, to);
}

/* A new store: STORE.tmp-PID becomes STORE, or nothing happens. */
static gboolean publish_new(PcStoreWriter *w, GError **error) {
  if (rename_noreplace(w->staging, w->dir) == 0) {
    g_autofree char *parent = g_path_get_dirname(w->dir);
    sync_dir(parent);
    return TRUE;
  }
  if (errno == EEXIST || errno == ENOTEMPTY)
    pc_set_error(error, PC_ERROR_EXISTS, "%s: already exists: another command created it while this one ran; nothing was written (remove it, or use --append)", w->dir);
  else
    pc_set_error(error, PC_ERROR_IO, "cannot rename %s to %s: %s", w->staging, w->dir, g_strerror(errno));
  return FALSE;
}

gboolean pc_storewriter_commit(PcStoreWriter *w, uint64_t buckets,
                               GPtrArray *new_files, GError **error) {
  g_return_val_if_fail(w->staging != NULL, FALSE);
  g_autofree char *path = pc_store_file_path(w->staging, PC_STORE_FILE_MANIFEST, 0);
  g_autofree char *tmp = g_strdup_printf("%s.tmp", path);
  if (!write_manifest_tmp(w, buckets, new_files, tmp, error)) return FALSE;
  pc_test_hook("store-before-commit");
  if (rename(tmp, path) != 0) {
    pc_set_error(error, PC_ERROR_IO, "%s: cannot write: %s", path, g_strerror(errno));
    unlink(tmp);
    return FALSE;
  }
  sync_dir(w->staging);
  if (!w->append && !publish_new(w, error)) return FALSE;
  pc_test_hook("store-after-commit");
  return TRUE;
}

void pc_storewriter_abandon(PcStoreWriter *w, GPtrArray *new_files) {
  if (!w || !w->staging) return;
  for (guint i = 0; new_files && i < new_files->len; i++) {
    g_autofree char *p = g_build_filename(w->staging, (char *)g_ptr_array_index(new_files, i), NULL);
    g_unlink(p);
  }
  if (w->append) return;
  /* staging is this process's private STORE.tmp-PID: all of it goes (the
   * rejects file and batch record too) */
  g_autoptr(GError) e = NULL;
  if (!pc_fs_remove_tree(w->staging, &e))
    fprintf(stderr, "parcours: warning: %s\n", e->message);
}
