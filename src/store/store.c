/* store.c - the store directory (pc_store.h): its MANIFEST, the names of
 * every file in it, and opening a store with its shards' metadata.
 *
 * Owns the file names: MANIFEST, bBBBBBB-rRRRRR.h5, batch-NNNNNN.json,
 * rejects-bNNNNNN.tsv, truth.json, LOCK and STORE.tmp-PID are spelled here
 * and nowhere else. Does not own what the files hold (h5shard.c writes
 * shards, batch.c the batch record and the rejects, synth the truth) nor
 * how a batch is written (storewriter.c: lock, staging, commit), and makes
 * no MPI call and no HDF5 call of its own.
 *
 * MANIFEST is text: "parcours-store 1", "buckets B", "batches N", then one
 * "shard FILE" line per shard. It is the commit point of every ingest
 * (storewriter.c writes MANIFEST.tmp, fsyncs it and renames it).
 *
 * Invariants: a store opened with pc_store_open_meta has at least one
 * shard, no shard twice (by name or by file) and every shard has the
 * MANIFEST's bucket count; no listed shard is of a batch above "batches".
 */
#include "pc_store.h"
#include "pc_testhook.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#define MANIFEST_NAME "MANIFEST"

void pc_store_free(PcStore *s) {
  if (!s) return;
  g_free(s->dir);
  if (s->shards) g_ptr_array_unref(s->shards);
  if (s->files) g_ptr_array_unref(s->files);
  g_free(s);
}

/* "KEY N" with 1 <= N <= max, given once. */
static gboolean parse_count(const char *line, const char *key, uint64_t max,
                            gboolean *seen, uint64_t *v, guint no,
                            const char *path, GError **error) {
  size_t n = strlen(key);
  if (!g_ascii_string_to_unsigned(line + n + 1, 10, 1, max, v, NULL)) {
    pc_set_error(error, PC_ERROR_FORMAT, "%s:%u: %s must be 1..%" G_GUINT64_FORMAT ", not \"%s\"", path, no, key, max, line + n + 1);
    return FALSE;
  }
  if (*seen) {
    pc_set_error(error, PC_ERROR_FORMAT, "%s:%u: a second %s line", path, no, key);
    return FALSE;
  }
  *seen = TRUE;
  return TRUE;
}

/* A shard line: a plain file name, listed once. */
static gboolean add_shard(PcStore *s, GHashTable *seen, const char *name,
                          guint no, const char *path, GError **error) {
  guint first = GPOINTER_TO_UINT(g_hash_table_lookup(seen, name));
  if (first) {
    pc_set_error(error, PC_ERROR_FORMAT, "%s:%u: shard %s is listed twice (first at line %u): its rows would be counted twice", path, no, name, first);
    return FALSE;
  }
  g_hash_table_insert(seen, (gpointer)name, GUINT_TO_POINTER(no));
  g_ptr_array_add(s->files, g_strdup(name));
  g_ptr_array_add(s->shards, g_build_filename(s->dir, name, NULL));
  return TRUE;
}

/* The lines after the first: buckets and batches once each, shards. */
static gboolean parse_body(PcStore *s, char **lines, const char *path,
                           GError **error) {
  g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
  gboolean has_b = FALSE, has_n = FALSE;
  uint64_t v;
  for (guint i = 1; lines[i]; i++) {
    const char *l = lines[i];
    guint no = i + 1;
    if (g_str_has_prefix(l, "buckets ")) {
      if (!parse_count(l, "buckets", PC_MAX_BUCKETS, &has_b, &s->buckets, no, path, error)) return FALSE;
    } else if (g_str_has_prefix(l, "batches ")) {
      if (!parse_count(l, "batches", G_MAXUINT32, &has_n, &v, no, path, error)) return FALSE;
      s->batches = (guint)v;
    } else if (g_str_has_prefix(l, "shard ") && l[6] && !strchr(l + 6, '/') && strcmp(l + 6, "..") && strcmp(l + 6, ".")) {
      if (!add_shard(s, seen, l + 6, no, path, error)) return FALSE;
    } else if (*l) {
      pc_set_error(error, PC_ERROR_FORMAT, "%s:%u: unexpected line \"%s\"", path, no, l);
      return FALSE;
    }
  }
  if (!has_b || !has_n || !s->shards->len) {
    pc_set_error(error, PC_ERROR_FORMAT, "%s: no %s line", path, !has_b ? "buckets" : !has_n ? "batches" : "shard");
    return FALSE;
  }
  return TRUE;
}

/* A shard named like a batch of ours must not be of a batch the MANIFEST
 * does not count: the next append would write over it. */
static gboolean check_batches(const PcStore *s, const char *path,
                              GError **error) {
  for (guint i = 0; i < s->files->len; i++) {
    const char *f = g_ptr_array_index(s->files, i);
    guint b;
    if (pc_store_name_batch(f, &b) && b > s->batches) {
      pc_set_error(error, PC_ERROR_FORMAT, "%s: shard %s is of batch %u, but the MANIFEST counts %u batches", path, f, b, s->batches);
      return FALSE;
    }
  }
  return TRUE;
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
  if (!parse_body(s, lines, path, error) || !check_batches(s, path, error)) return FALSE;
  *out = g_steal_pointer(&s);
  pc_test_hook("store-opened");
  return TRUE;
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
  case PC_STORE_FILE_LOCK: return g_strdup("LOCK");
  case PC_STORE_FILE_MANIFEST: return g_strdup(MANIFEST_NAME);
  case PC_STORE_FILE_RUNS: return g_strdup_printf("tmp-b%06u", batch);
  }
  g_return_val_if_reached(NULL);
}

char *pc_store_file_path(const char *dir, PcStoreFile file, guint batch) {
  g_autofree char *name = pc_store_file_name(file, batch);
  return g_build_filename(dir, name, NULL);
}

char *pc_store_staging_path(const char *dir) {
  return g_strdup_printf("%s.tmp-%d", dir, (int)getpid());
}

/* Exactly NNNNNN (6 digits) at s, then the rest must be end. */
static gboolean batch_digits(const char *s, const char *end, guint *batch) {
  for (int i = 0; i < 6; i++)
    if (!g_ascii_isdigit(s[i])) return FALSE;
  if (strcmp(s + 6, end) != 0) return FALSE;
  *batch = (guint)g_ascii_strtoull(s, NULL, 10);
  return TRUE;
}

gboolean pc_store_name_batch(const char *name, guint *batch) {
  guint b;
  gboolean ok = FALSE;
  if (g_str_has_prefix(name, "batch-")) ok = batch_digits(name + 6, ".json", &b);
  else if (g_str_has_prefix(name, "rejects-b")) ok = batch_digits(name + 9, ".tsv", &b);
  else if (g_str_has_prefix(name, "tmp-b")) ok = batch_digits(name + 5, "", &b);
  else if (name[0] == 'b' && strlen(name) == 17 && name[7] == '-' && name[8] == 'r' &&
           g_str_has_suffix(name, ".h5")) {
    ok = TRUE;
    for (int i = 9; i < 14; i++) ok = ok && g_ascii_isdigit(name[i]);
    g_autofree char *head = g_strndup(name + 1, 6);
    ok = ok && batch_digits(head, "", &b);
  }
  if (ok) *batch = b;
  return ok;
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

/* Two paths of the list that are one file (a link, a second name): its
 * rows would be read twice. FALSE naming both. A path that cannot be
 * stat'ed is left to pc_h5io_read_meta to report. */
static gboolean check_distinct(GPtrArray *paths, GError **error) {
  g_autofree struct stat *st = g_new0(struct stat, paths->len + 1);
  g_autofree gboolean *have = g_new0(gboolean, paths->len + 1);
  for (guint i = 0; i < paths->len; i++) {
    have[i] = stat(g_ptr_array_index(paths, i), &st[i]) == 0;
    for (guint k = 0; have[i] && k < i; k++)
      if (have[k] && st[k].st_dev == st[i].st_dev && st[k].st_ino == st[i].st_ino) {
        pc_set_error(error, PC_ERROR_FORMAT, "%s is the same file as %s (listed twice in the MANIFEST): its rows would be counted twice", (char *)g_ptr_array_index(paths, i), (char *)g_ptr_array_index(paths, k));
        return FALSE;
      }
  }
  return TRUE;
}

gboolean pc_store_open_meta_paths(const char *dir, GPtrArray *paths,
                                  uint64_t buckets, PcStoreMeta **out,
                                  GError **error) {
  g_return_val_if_fail(paths != NULL && out != NULL, FALSE);
  if (paths->len == 0) {
    pc_set_error(error, PC_ERROR_FORMAT, "%s: the store lists no shard", dir);
    return FALSE;
  }
  if (!check_distinct(paths, error)) return FALSE;
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
