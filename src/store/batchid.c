/* batchid.c - the identity of a batch (pc_batchid.h): content digests of
 * its inputs, the batch key, and the search of a store's committed batch
 * records for either.
 *
 * Owns the key's text and the reading of batch records (json-glib). Does
 * not own their writing (batch.c) nor what the caller does with a match
 * (ingest.c: "already committed", exit 0). No MPI, no HDF5.
 *
 * Invariant: a digest is of the bytes pc_rawread hands out, the same bytes
 * the parser reads, so two inputs with one digest hold the same rows.
 */
#include "pc_batchid.h"
#include "pc_rawread.h"
#include "pc_sha256.h"

#include <json-glib/json-glib.h>
#include <stdio.h>

#define DIGEST_BLOCK_BYTES ((size_t)4 << 20)

/* LFs in buf[0..n). */
static uint64_t count_lf(const char *buf, size_t n) {
  uint64_t lf = 0;
  for (const char *p = buf, *e = buf + n; (p = memchr(p, '\n', (size_t)(e - p))) != NULL; p++) lf++;
  return lf;
}

struct PcBatchHash {
  char *path;
  PcRawRead *r;
  PcSha256 *sum;
  char *buf;
  uint64_t bytes, lf;
  uint64_t *marks, *lf_before;
  guint n, m;            /* marks, the next mark */
  char last;
  gboolean done;
};

PcBatchHash *pc_batchid_hash_new(const char *path, const uint64_t *marks,
                                 guint n, GError **error) {
  PcRawRead *r = pc_rawread_open(path, 0, error);
  if (!r) return NULL;
  PcBatchHash *h = g_new0(PcBatchHash, 1);
  h->path = g_strdup(path);
  h->r = r;
  h->sum = pc_sha256_new(FALSE);
  h->buf = g_malloc(DIGEST_BLOCK_BYTES);
  h->marks = g_memdup2(marks, (n + 1) * sizeof(uint64_t));
  h->lf_before = g_new0(uint64_t, n + 1);
  h->n = n;
  h->last = '\n';
  return h;
}

void pc_batchid_hash_free(PcBatchHash *h) {
  if (!h) return;
  pc_rawread_close(h->r);
  pc_sha256_free(h->sum);
  g_free(h->buf);
  g_free(h->marks);
  g_free(h->lf_before);
  g_free(h->path);
  g_free(h);
}

/* One block of the input: digest, LFs, the marks inside it. */
static void hash_block(PcBatchHash *h, const char *buf, size_t got) {
  pc_sha256_update(h->sum, buf, got);
  size_t at = 0;
  for (; h->m < h->n && h->marks[h->m] <= h->bytes + got; h->m++) { /* a mark in this block */
    size_t upto = (size_t)(h->marks[h->m] - h->bytes);
    h->lf += count_lf(buf + at, upto - at);
    h->lf_before[h->m] = h->lf;
    at = upto;
  }
  h->lf += count_lf(buf + at, got - at);
  h->bytes += got;
  h->last = buf[got - 1];
}

gboolean pc_batchid_hash_step(PcBatchHash *h, uint64_t bytes, uint64_t *read,
                              gboolean *done, GError **error) {
  uint64_t at = pc_rawread_offset(h->r);
  while (!h->done && pc_rawread_offset(h->r) - at < bytes) {
    ssize_t got = pc_rawread_read(h->r, h->buf, DIGEST_BLOCK_BYTES, error);
    if (got < 0) return FALSE;
    if (got == 0) h->done = TRUE;
    else hash_block(h, h->buf, (size_t)got);
  }
  if (read) *read = pc_rawread_offset(h->r) - at;
  *done = h->done;
  return TRUE;
}

gboolean pc_batchid_hash_finish(PcBatchHash *h, PcInputId *out,
                                uint64_t *lf_before, GError **error) {
  gboolean done = h->done;
  if (!done && !pc_batchid_hash_step(h, UINT64_MAX, NULL, &done, error)) return FALSE;
  for (; h->m < h->n; h->m++) h->lf_before[h->m] = h->lf; /* marks past the end */
  if (h->bytes == 0) {
    pc_set_error(error, PC_ERROR_FORMAT, "%s: empty file: the header line is missing", h->path);
    return FALSE;
  }
  uint64_t lines = h->lf + (h->last != '\n'); /* a last line without LF is a line */
  pc_sha256_hex(h->sum, out->sha256);
  out->bytes = h->bytes;
  out->rows = lines - 1;
  out->rejected = 0;
  if (lf_before) memcpy(lf_before, h->lf_before, h->n * sizeof(uint64_t));
  return TRUE;
}

gboolean pc_batchid_input_marked(const char *path, const uint64_t *marks,
                                 guint n, uint64_t *lf_before, PcInputId *out,
                                 GError **error) {
  g_autoptr(PcBatchHash) h = pc_batchid_hash_new(path, marks, n, error);
  return h && pc_batchid_hash_finish(h, out, lf_before, error);
}

gboolean pc_batchid_input(const char *path, PcInputId *out, GError **error) {
  return pc_batchid_input_marked(path, NULL, 0, NULL, out, error);
}

static int cmp_hex(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

char *pc_batchid_key(const PcInputId *ids, guint n_events, guint n,
                     uint64_t buckets) {
  g_autofree const char **ev = g_new(const char *, n_events + 1);
  for (guint i = 0; i < n_events; i++) ev[i] = ids[i].sha256;
  qsort(ev, n_events, sizeof *ev, cmp_hex);
  g_autoptr(GString) s = g_string_new("parcours-batch 1\n");
  g_string_append_printf(s, "buckets %" G_GUINT64_FORMAT "\n", buckets);
  for (guint i = 0; i < n_events; i++) g_string_append_printf(s, "events %s\n", ev[i]);
  for (guint i = n_events; i < n; i++) g_string_append_printf(s, "customers %s\n", ids[i].sha256);
  return g_compute_checksum_for_string(G_CHECKSUM_SHA256, s->str, (gssize)s->len);
}

gboolean pc_batchid_check_inputs(GPtrArray *paths, const PcInputId *ids,
                                 GError **error) {
  for (guint i = 0; i < paths->len; i++)
    for (guint k = 0; k < i; k++)
      if (ids[i].rows && !strcmp(ids[i].sha256, ids[k].sha256)) {
        pc_set_error(error, PC_ERROR_CONFIG, "%s has the same content as %s (sha256 %s): its rows would be added twice; give it once", (char *)g_ptr_array_index(paths, i), (char *)g_ptr_array_index(paths, k), ids[i].sha256);
        return FALSE;
      }
  return TRUE;
}

/* One committed batch's record, parsed; NULL when there is none (a
 * generated store writes none) or (with a warning) when it cannot be
 * read: such a batch is not compared. */
static JsonParser *read_record(const PcStore *st, guint batch) {
  g_autofree char *path = pc_store_file_path(st->dir, PC_STORE_FILE_BATCH_RECORD, batch);
  if (!g_file_test(path, G_FILE_TEST_EXISTS)) return NULL;
  g_autoptr(JsonParser) p = json_parser_new();
  g_autoptr(GError) e = NULL;
  if (!json_parser_load_from_file(p, path, &e) || !JSON_NODE_HOLDS_OBJECT(json_parser_get_root(p))) {
    fprintf(stderr, "parcours: warning: %s: %s: batch %u is not compared with this one\n", path, e ? e->message : "not a JSON object", batch);
    return NULL;
  }
  return g_steal_pointer(&p);
}

/* An events input of this batch with rows whose digest is an events input
 * (with rows) of the record: FALSE naming both. */
static gboolean check_overlap(const PcStore *st, JsonObject *rec, guint batch,
                              GPtrArray *paths, guint n_events,
                              const PcInputId *ids, GError **error) {
  JsonArray *in = json_object_has_member(rec, "inputs") ? json_object_get_array_member(rec, "inputs") : NULL;
  for (guint k = 0; in && k < json_array_get_length(in); k++) {
    JsonObject *o = json_array_get_object_element(in, k);
    if (!o || g_strcmp0(json_object_get_string_member_with_default(o, "kind", ""), "events") ||
        json_object_get_int_member_with_default(o, "rows", 0) <= 0)
      continue;
    const char *hex = json_object_get_string_member_with_default(o, "sha256", "");
    for (guint i = 0; i < n_events; i++)
      if (ids[i].rows && !strcmp(ids[i].sha256, hex)) {
        pc_set_error(error, PC_ERROR_CONFIG, "%s: its %" G_GUINT64_FORMAT " rows are already in batch %u of %s (as %s, sha256 %s); adding them again would count them twice: nothing was done", (char *)g_ptr_array_index(paths, i), ids[i].rows, batch, st->dir, json_object_get_string_member_with_default(o, "path", "?"), hex);
        return FALSE;
      }
  }
  return TRUE;
}

gboolean pc_batchid_find(const PcStore *st, const char *key, GPtrArray *paths,
                         guint n_events, const PcInputId *ids,
                         guint *committed, GError **error) {
  *committed = 0;
  g_autoptr(GPtrArray) recs = g_ptr_array_new_with_free_func(g_object_unref);
  for (guint b = 1; b <= st->batches; b++) {
    JsonParser *p = read_record(st, b);
    JsonObject *o = p ? json_node_get_object(json_parser_get_root(p)) : NULL;
    if (o && !g_strcmp0(json_object_get_string_member_with_default(o, "key", ""), key)) {
      *committed = b;
      g_object_unref(p);
      return TRUE;
    }
    if (p) g_ptr_array_add(recs, p);
  }
  for (guint i = 0; i < recs->len; i++) {
    JsonObject *o = json_node_get_object(json_parser_get_root(g_ptr_array_index(recs, i)));
    guint b = (guint)json_object_get_int_member_with_default(o, "batch", 0);
    if (!check_overlap(st, o, b, paths, n_events, ids, error)) return FALSE;
  }
  return TRUE;
}
