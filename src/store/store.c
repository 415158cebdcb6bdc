/* store.c - the store directory (pc_store.h): its MANIFEST, the names of
 * every file in it, staging, commit and abandon of a batch, and opening a
 * store with its shards' metadata.
 *
 * Owns the file names: MANIFEST, bBBBBBB-rRRRRR.h5, batch-NNNNNN.json,
 * rejects-bNNNNNN.tsv, truth.json and STORE.tmp-PID are spelled here and
 * nowhere else. Does not own what the files hold (h5shard.c writes shards,
 * batch.c the batch record and the rejects, synth the truth) and makes no
 * MPI call and no HDF5 call of its own.
 *
 * MANIFEST is text: "parcours-store 1", "buckets B", "batches N", then one
 * "shard FILE" line per shard. It is the commit point of every ingest: it
 * is written to MANIFEST.tmp, fsync'ed and renamed.
 *
 * Invariant: a store opened with pc_store_open_meta has at least one shard
 * and every shard has the MANIFEST's bucket count.
 */
#include "pc_store.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <unistd.h>

#define MANIFEST_NAME "MANIFEST"

void pc_store_free(PcStore *s) {
  if (!s) return;
  g_free(s->dir);
  if (s->shards) g_ptr_array_unref(s->shards);
  if (s->files) g_ptr_array_unref(s->files);
  g_free(s);
}

static gboolean parse_line(PcStore *s, const char *line, guint no,
                           const char *path, GError **error) {
  guint64 v;
  if (g_str_has_prefix(line, "buckets ") && g_ascii_string_to_unsigned(line + 8, 10, 1, G_MAXUINT32, &v, NULL)) {
    s->buckets = v;
    return TRUE;
  }
  if (g_str_has_prefix(line, "batches ") && g_ascii_string_to_unsigned(line + 8, 10, 0, G_MAXUINT32, &v, NULL)) {
    s->batches = (guint)v;
    return TRUE;
  }
  if (g_str_has_prefix(line, "shard ") && line[6] && !strchr(line + 6, '/')) {
    g_ptr_array_add(s->files, g_strdup(line + 6));
    g_ptr_array_add(s->shards, g_build_filename(s->dir, line + 6, NULL));
    return TRUE;
  }
  if (!*line) return TRUE;
  pc_set_error(error, PC_ERROR_FORMAT, "%s:%u: unexpected line \"%s\"", path, no, line);
  return FALSE;
}

gboolean pc_store_open(const char *dir, PcStore **out, GError **error) {
  g_autofree char *path = g_build_filename(dir, MANIFEST_NAME, NULL);
  g_autofree char *text = NULL;
  GError *e = NULL;
  if (!g_file_get_contents(path, &text, NULL, &e)) {
    pc_set_error(error, PC_ERROR_IO,
                 "%s: not a parcours store (%s)", dir, e->message);
    g_error_free(e);
    return FALSE;
  }
  g_autoptr(PcStore) s = g_new0(PcStore, 1);
  s->dir = g_strdup(dir);
  s->shards = g_ptr_array_new_with_free_func(g_free);
  s->files = g_ptr_array_new_with_free_func(g_free);
  g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
  if (!lines[0] || strcmp(lines[0], "parcours-store 1") != 0) {
    pc_set_error(error, PC_ERROR_FORMAT, "%s:1: not a parcours store manifest of version 1", path);
    return FALSE;
  }
  for (guint i = 1; lines[i]; i++)
    if (!parse_line(s, lines[i], i + 1, path, error)) return FALSE;
  if (!s->buckets || !s->shards->len) {
    pc_set_error(error, PC_ERROR_FORMAT, "%s: no buckets line or no shard", path);
    return FALSE;
  }
  *out = g_steal_pointer(&s);
  return TRUE;
}

char *pc_store_staging_dir(const char *dir, gboolean append, GError **error) {
  if (append) return g_strdup(dir);
  if (g_file_test(dir, G_FILE_TEST_EXISTS)) {
    pc_set_error(error, PC_ERROR_EXISTS, "%s: already exists (use --append to add a batch, or remove it)", dir);
    return NULL;
  }
  char *tmp = g_strdup_printf("%s.tmp-%d", dir, (int)getpid());
  if (g_mkdir_with_parents(tmp, 0755) != 0) {
    pc_set_error(error, PC_ERROR_IO, "%s: %s", tmp, g_strerror(errno));
    g_free(tmp);
    return NULL;
  }
  return tmp;
}

/* ---- File names --------------------------------------------------------------- */

char *pc_store_shard_name(guint batch, int rank) {
  return g_strdup_printf("b%06u-r%05d.h5", batch, rank);
}

char *pc_store_file_name(PcStoreFile file, guint batch) {
  switch (file) {
  case PC_STORE_FILE_BATCH_RECORD: return g_strdup_printf("batch-%06u.json", batch);
  case PC_STORE_FILE_REJECTS: return g_strdup_printf("rejects-b%06u.tsv", batch);
  case PC_STORE_FILE_TRUTH: return g_strdup("truth.json");
  }
  g_return_val_if_reached(NULL);
}

char *pc_store_file_path(const char *dir, PcStoreFile file, guint batch) {
  g_autofree char *name = pc_store_file_name(file, batch);
  return g_build_filename(dir, name, NULL);
}

static gboolean write_manifest(const char *dir, const PcStore *old,
                               uint64_t buckets, GPtrArray *files,
                               GError **error) {
  GString *m = g_string_new("parcours-store 1\n");
  g_string_append_printf(m, "buckets %" G_GUINT64_FORMAT "\nbatches %u\n", buckets, old ? old->batches + 1 : 1);
  for (guint i = 0; old && i < old->files->len; i++)
    g_string_append_printf(m, "shard %s\n", (char *)g_ptr_array_index(old->files, i));
  for (guint i = 0; i < files->len; i++)
    g_string_append_printf(m, "shard %s\n", (char *)g_ptr_array_index(files, i));
  g_autofree char *path = g_build_filename(dir, MANIFEST_NAME, NULL);
  g_autofree char *tmp = g_strdup_printf("%s.tmp", path);
  FILE *f = fopen(tmp, "w");
  gboolean ok = f && fwrite(m->str, 1, m->len, f) == m->len && fflush(f) == 0 && fsync(fileno(f)) == 0;
  int err = errno;
  if (f && fclose(f) != 0) ok = FALSE;
  if (ok && rename(tmp, path) != 0) {
    ok = FALSE;
    err = errno;
  }
  if (!ok) {
    unlink(tmp);
    pc_set_error(error, PC_ERROR_IO, "%s: cannot write: %s", path, g_strerror(err));
  }
  g_string_free(m, TRUE);
  return ok;
}

gboolean pc_store_commit(const char *dir, const char *staging,
                         const PcStore *old, uint64_t buckets,
                         GPtrArray *new_files, GError **error) {
  if (!write_manifest(staging, old, buckets, new_files, error)) return FALSE;
  if (strcmp(staging, dir) != 0 && rename(staging, dir) != 0) {
    pc_set_error(error, PC_ERROR_IO, "cannot rename %s to %s: %s", staging, dir, g_strerror(errno));
    return FALSE;
  }
  return TRUE;
}

void pc_store_abandon(const char *dir, const char *staging, gboolean append,
                      GPtrArray *new_files) {
  for (guint i = 0; new_files && i < new_files->len; i++) {
    g_autofree char *p = g_build_filename(staging, (char *)g_ptr_array_index(new_files, i), NULL);
    g_unlink(p);
  }
  if (!append) {
    /* staging is this ingest's private STORE.tmp-PID: empty it all (the
     * rejects file and batch record too), else the rmdir fails and a
     * failed ingest leaves a directory behind */
    GDir *d = g_dir_open(staging, 0, NULL);
    for (const char *n; d && (n = g_dir_read_name(d)) != NULL;) {
      g_autofree char *p = g_build_filename(staging, n, NULL);
      g_unlink(p);
    }
    if (d) g_dir_close(d);
    g_rmdir(staging);
  }
}

/* ---- Opening with the shards' metadata ------------------------------------------ */

void pc_store_meta_free(PcStoreMeta *m) {
  if (!m) return;
  for (guint i = 0; i < m->n; i++) pc_shard_meta_free(m->meta[i]);
  g_free(m->meta);
  if (m->paths) g_ptr_array_unref(m->paths);
  pc_store_free(m->store);
  g_free(m);
}

/* Shard i must have m->buckets (from the MANIFEST, or else shard 0's). */
static gboolean check_buckets(const PcStoreMeta *m, guint i,
                              gboolean from_manifest, GError **error) {
  const PcShardMeta *s = m->meta[i];
  if (s->buckets == m->buckets) return TRUE;
  if (from_manifest)
    pc_set_error(error, PC_ERROR_FORMAT, "%s: %" G_GUINT64_FORMAT " buckets, the MANIFEST says %" G_GUINT64_FORMAT, s->path, s->buckets, m->buckets);
  else
    pc_set_error(error, PC_ERROR_FORMAT, "%s: %" G_GUINT64_FORMAT " buckets, but %s has %" G_GUINT64_FORMAT, s->path, s->buckets, m->meta[0]->path, m->buckets);
  return FALSE;
}

gboolean pc_store_open_meta_paths(const char *dir, GPtrArray *paths,
                                  uint64_t buckets, PcStoreMeta **out,
                                  GError **error) {
  g_return_val_if_fail(paths != NULL && out != NULL, FALSE);
  if (paths->len == 0) {
    pc_set_error(error, PC_ERROR_FORMAT, "%s: the store lists no shard", dir);
    return FALSE;
  }
  g_autoptr(PcStoreMeta) m = g_new0(PcStoreMeta, 1);
  m->paths = g_ptr_array_new_full(paths->len, g_free);
  for (guint i = 0; i < paths->len; i++) g_ptr_array_add(m->paths, g_strdup(g_ptr_array_index(paths, i)));
  m->meta = g_new0(PcShardMeta *, paths->len);
  m->buckets = buckets;
  for (guint i = 0; i < paths->len; i++) {
    if (!pc_h5io_read_meta(g_ptr_array_index(paths, i), &m->meta[i], error)) return FALSE;
    m->n++;
    if (i == 0 && buckets == 0) m->buckets = m->meta[0]->buckets;
    if (!check_buckets(m, i, buckets != 0, error)) return FALSE;
    m->has_crm |= m->meta[i]->n_crm > 0;
  }
  *out = g_steal_pointer(&m);
  return TRUE;
}

gboolean pc_store_open_meta(const char *dir, PcStoreMeta **out,
                            GError **error) {
  g_autoptr(PcStore) st = NULL;
  PcStoreMeta *m = NULL;
  if (!pc_store_open(dir, &st, error) ||
      !pc_store_open_meta_paths(dir, st->shards, st->buckets, &m, error))
    return FALSE;
  m->store = g_steal_pointer(&st);
  *out = m;
  return TRUE;
}
