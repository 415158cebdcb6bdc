/* ingest.c - the work of `parcours ingest` (pc_ingest.h): the target (the
 * store writer and its lock), the identity of the inputs, rejects, commit;
 * the parsing half is ingest_parse.c (state in the private ingest_int.h).
 *
 * Flow: rank 0 opens the target through the store writer (an append holds
 * STORE/LOCK from here to the end) and sizes the inputs; every input is
 * hashed and its rows counted (pc_batchid.h), and a batch already committed
 * ends the command here (exit 0); plain files are cut
 * into P equal byte ranges of their total, gzip files go whole to the least
 * loaded rank; ranks count the lines of their ranges so every row keeps its
 * true line number; then rounds of (parse up to ROUND_BYTES of rows, send
 * each row to the rank that owns its bucket with one all-to-all) until every
 * rank is done. The owner of bucket b is b*P/B, so shard r holds a
 * contiguous bucket range. Rejected rows stay on the rank that found them
 * and are gathered to rank 0 for the rejects file, sorted by (file, line).
 * Nothing becomes visible before every rank wrote its shard, the reject
 * share is within --max-reject-fraction and the inputs are what was hashed:
 * then rank 0 commits the MANIFEST.
 *
 * Owns the order of a batch's phases and writes. Does not own the CSV rules (csv.c), the
 * shard layout (shardbuild.c, h5shard.c), the store's files (store.c) or
 * the texts of the rejects file and batch record (batch.c). Reaches other
 * ranks only through pc_comm.h.
 *
 * Invariant: a shard is a function of the input rows only: rows reach their
 * owner in any order and the builder sorts them; customers-table rows are
 * sorted by (file, line) before duplicates are decided.
 */
#include "ingest_int.h"

#include "pc_batchid.h"
#include "pc_progress.h"
#include "pc_rawread.h"
#include "pc_h5io.h"
#include "pc_testhook.h"

#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>

/* ---- Life cycle ------------------------------------------------------------------ */

PcIngest *pc_ingest_new(PcComm *c, const PcIngestOpts *o) {
  PcIngest *g = g_new0(PcIngest, 1);
  g->comm = c;
  g->ops = pc_comm_ops(c);
  g->rank = pc_comm_rank(c);
  g->size = pc_comm_size(c);
  g->o = o;
  g->batch = 1;
  g->paths = g_ptr_array_new();
  for (char **p = o->inputs; *p; p++) g_ptr_array_add(g->paths, *p);
  g->n_event_files = g->paths->len;
  if (o->customers) g_ptr_array_add(g->paths, (char *)o->customers);
  g->pieces = g_array_new(FALSE, FALSE, sizeof(Piece));
  g->rejects = g_array_new(FALSE, FALSE, sizeof(PcReject));
  g_array_set_clear_func(g->rejects, (GDestroyNotify)pc_reject_clear);
  g->t0 = pc_comm_wtime();
  /* the budget: two rounds in flight (sent, packed, received), the
   * process's own share, and the sorter gets the rest */
  uint64_t m = o->memory ? o->memory : PC_INGEST_DEFAULT_MEMORY;
  g->round_bytes = CLAMP(m / 16, ROUND_MIN_BYTES, ROUND_MAX_BYTES);
  uint64_t fixed = 4 * (uint64_t)g->round_bytes + MIN(m / 8, BASE_MEMORY_BYTES);
  g->sort_bytes = m > fixed ? m - fixed : m / 4;
  return g;
}

void pc_ingest_free(PcIngest *g) {
  if (!g) return;
  pc_shardsort_free(g->sort);
  pc_h5io_writer_free(g->shard); /* an unfinished shard is removed */
  if (!g->done) pc_ingest_cleanup(g);
  pc_storewriter_free(g->writer);
  g_free(g->ids);
  g_free(g->key);
  g_ptr_array_unref(g->paths);
  g_free(g->sizes);
  pc_batchid_hash_free(g->hash);
  g_free(g->hash_words);
  g_array_unref(g->pieces);
  g_array_unref(g->rejects);
  g_free(g->staging);
  g_free(g->spill);
  g_free(g->record);
  g_free(g);
}

/* ---- 1. Target and inputs ------------------------------------------------------------ */

/* Rank 0: the writer (for an append: the lock, then the MANIFEST), B and
 * the batch number of the target. */
static gboolean check_target(PcIngest *g, uint64_t v[3], GError **error) {
  const PcIngestOpts *o = g->o;
  GError *e = NULL;
  if (!pc_storewriter_open(o->out, o->append, o->lock_wait_s, &g->writer, &e)) {
    /* an existing new store may hold this very batch (a retry after a
     * crash that came after its commit): identify decides */
    g->exists = !o->append && g_error_matches(e, PC_ERROR, PC_ERROR_EXISTS);
    if (g->exists) g_error_free(e);
    else g_propagate_error(error, e);
    return g->exists;
  }
  const PcStore *old = pc_storewriter_store(g->writer);
  if (old && o->buckets > 0 && o->buckets != old->buckets) {
    pc_set_error(error, PC_ERROR_CONFIG, "%s: the store has %" G_GUINT64_FORMAT " buckets; --buckets %" G_GUINT64_FORMAT " differs (an append keeps the store's B)", o->out, old->buckets, o->buckets);
    return FALSE;
  }
  if (old) v[0] = old->buckets;
  v[1] = pc_storewriter_batch(g->writer);
  return TRUE;
}

/* Rank 0: size and gzip flag of every input. */
static gboolean size_inputs(PcIngest *g, GError **error) {
  for (guint f = 0; f < g->paths->len; f++) {
    struct stat st;
    const char *p = g_ptr_array_index(g->paths, f);
    int serr = stat(p, &st) != 0 ? errno : 0; /* errno is stale when stat succeeds */
    if (serr || !S_ISREG(st.st_mode)) {
      pc_set_error(error, PC_ERROR_IO, "%s: %s", p, serr ? g_strerror(serr) : "not a regular file");
      return FALSE;
    }
    g->sizes[2 * f] = (uint64_t)st.st_size;
    GError *e = NULL;
    g->sizes[2 * f + 1] = pc_rawread_probe_gzip(p, &e);
    if (e) {
      g_propagate_error(error, e);
      return FALSE;
    }
  }
  return TRUE;
}

gboolean pc_ingest_open(PcIngest *g, GError **error) {
  uint64_t v[3] = {g->o->buckets > 0 ? g->o->buckets : PC_INGEST_DEFAULT_BUCKETS, 1, 0};
  gboolean ok = g->rank != 0 || check_target(g, v, error);
  if (g->rank == 0) v[2] = g->exists;
  if (!pc_comm_agree(g->comm, ok, error)) return FALSE;
  pc_comm_bcast_u64(g->comm, v, 3);
  g->buckets = v[0];
  g->batch = (guint)v[1];
  g->exists = (gboolean)v[2];
  guint n = g->paths->len;
  g->sizes = g_new0(uint64_t, 2 * n);
  ok = g->rank != 0 || size_inputs(g, error);
  if (!pc_comm_agree(g->comm, ok, error)) return FALSE;
  pc_comm_bcast_u64(g->comm, g->sizes, 2 * n);
  for (guint f = 0; f < n; f++) g->bytes_total += g->sizes[2 * f];
  pc_ingest_pieces(g);
  return TRUE;
}

/* ---- 2. Identity: digests, key, already committed? ------------------------------------- */

#define ID_WORDS 10 /* per input: 8 words of hex digest, rows, bytes */

/* The hashing of this rank's inputs (f % P == rank), a step at a time.
 * Words: ID_WORDS per input (digest, rows, bytes), then per piece the LFs
 * before its start - 1 (its first line number); 0 where another rank
 * hashes, so a sum gathers them. */
static gboolean hash_open_next(PcIngest *g, GError **error) {
  guint f = g->hash_next, np = g->pieces->len, nm = 0;
  g_autofree uint64_t *marks = g_new(uint64_t, np + 1);
  for (guint i = 0; i < np; i++) {
    const Piece *p = &g_array_index(g->pieces, Piece, i);
    if (p->file == f && p->start > 0 && p->end != UINT64_MAX) marks[nm++] = p->start - 1;
  }
  g->hash = pc_batchid_hash_new(g_ptr_array_index(g->paths, f), marks, nm, error);
  return g->hash != NULL;
}

/* The open input done: its identity and its pieces' LF counts into words. */
static gboolean hash_close(PcIngest *g, GError **error) {
  guint f = g->hash_next, n = g->paths->len, np = g->pieces->len, k = 0;
  g_autofree uint64_t *lf = g_new0(uint64_t, np + 1);
  gboolean ok = pc_batchid_hash_finish(g->hash, &g->ids[f], lf, error);
  g_clear_pointer(&g->hash, pc_batchid_hash_free);
  uint64_t *w = g->hash_words;
  memcpy(&w[ID_WORDS * f], g->ids[f].sha256, 64);
  w[ID_WORDS * f + 8] = g->ids[f].rows;
  w[ID_WORDS * f + 9] = g->ids[f].bytes;
  for (guint i = 0; i < np; i++) {
    const Piece *p = &g_array_index(g->pieces, Piece, i);
    if (p->file == f && p->start > 0 && p->end != UINT64_MAX) w[ID_WORDS * n + i] = lf[k++];
  }
  g->hash_next += g->size;
  return ok;
}

gboolean pc_ingest_hash_some(PcIngest *g, double fraction, GError **error) {
  guint n = g->paths->len;
  if (!g->ids) {
    g->ids = g_new0(PcInputId, n);
    g->hash_words = g_new0(uint64_t, ID_WORDS * n + g->pieces->len + 1);
    g->hash_next = g->rank;
  }
  uint64_t target = fraction >= 1 ? UINT64_MAX : (uint64_t)(fraction * g->hash_load);
  while (g->hash_next < n && g->hash_done < target) {
    gboolean done = FALSE;
    uint64_t read = 0;
    if (!g->hash && !hash_open_next(g, error)) return FALSE;
    if (!pc_batchid_hash_step(g->hash, target - g->hash_done, &read, &done, error)) return FALSE;
    g->hash_done += read;
    if (done && !hash_close(g, error)) return FALSE;
  }
  return TRUE;
}

/* Every rank's words summed: all learn every digest and line number. */
static void hash_gather(PcIngest *g) {
  guint n = g->paths->len, np = g->pieces->len;
  pc_comm_sum_u64(g->comm, g->hash_words, ID_WORDS * n + np);
  const uint64_t *w = g->hash_words;
  for (guint f = 0; f < n; f++) {
    memcpy(g->ids[f].sha256, &w[ID_WORDS * f], 64);
    g->ids[f].sha256[64] = 0;
    g->ids[f].rows = w[ID_WORDS * f + 8];
    g->ids[f].bytes = w[ID_WORDS * f + 9];
  }
  for (guint i = 0; i < np; i++) {
    Piece *p = &g_array_index(g->pieces, Piece, i);
    p->first_line = p->start == 0 ? 1 : 2 + w[ID_WORDS * n + i];
  }
}

/* A plain input whose size changed since it was measured is still being
 * written: its checksum would not describe the rows read. */
static gboolean check_unchanged(const PcIngest *g, guint f, uint64_t now,
                                const char *when, GError **error) {
  if (g->sizes[2 * f + 1] || now == g->sizes[2 * f]) return TRUE;
  pc_set_error(error, PC_ERROR_IO, "%s: changed while it was read (%" G_GUINT64_FORMAT " bytes at the start, %" G_GUINT64_FORMAT " %s): is it still being written? Nothing was done", (char *)g_ptr_array_index(g->paths, f), g->sizes[2 * f], now, when);
  return FALSE;
}

/* Rank 0: the key, then the committed batches of the target searched. */
static gboolean find_committed(PcIngest *g, GError **error) {
  for (guint f = 0; f < g->paths->len; f++)
    if (!check_unchanged(g, f, g->ids[f].bytes, "when its checksum was taken", error)) return FALSE;
  if (!pc_batchid_check_inputs(g->paths, g->ids, error)) return FALSE;
  g->key = pc_batchid_key(g->ids, g->n_event_files, g->paths->len, g->buckets);
  g_autoptr(PcStore) existing = NULL;
  const PcStore *st = g->writer ? pc_storewriter_store(g->writer) : NULL;
  if (g->exists) {
    if (!pc_store_open(g->o->out, &existing, NULL) || existing->batches != 1 ||
        !pc_batchid_find(existing, g->key, g->paths, 0, g->ids, &g->committed, NULL) || !g->committed) {
      pc_set_error(error, PC_ERROR_EXISTS, "%s: already exists (use --append to add a batch, or remove it)", g->o->out);
      return FALSE;
    }
    return TRUE;
  }
  return !st || pc_batchid_find(st, g->key, g->paths, g->n_event_files, g->ids, &g->committed, error);
}

gboolean pc_ingest_identify_finish(PcIngest *g, GError **error) {
  gboolean ok = pc_ingest_hash_some(g, 1, error);
  if (!pc_comm_agree(g->comm, ok, error)) return FALSE;
  hash_gather(g);
  g->identified = TRUE;
  pc_test_hook("ingest-identified");
  ok = g->rank != 0 || find_committed(g, error);
  if (!pc_comm_agree(g->comm, ok, error)) return FALSE;
  uint64_t c = g->committed;
  pc_comm_bcast_u64(g->comm, &c, 1);
  g->committed = (guint)c;
  if (g->committed && g->rank == 0)
    fprintf(stderr, "parcours: ingest: %s: these inputs are already batch %u (batch key %.16s...): nothing was added\n", g->o->out, g->committed, g->key);
  return TRUE;
}

/* A new store whose directory exists: the inputs are hashed now, since
 * only their digests say whether it is this very batch (a retry: exit 0)
 * or another store (an error). Otherwise they are hashed while parsing. */
gboolean pc_ingest_identify(PcIngest *g, GError **error) {
  g->t_phase[0] = pc_comm_wtime();
  return !g->exists || pc_ingest_identify_finish(g, error);
}

gboolean pc_ingest_committed(const PcIngest *g) { return g->committed != 0; }

/* ---- 4. Rejects and the batch record --------------------------------------------------- */

/* This rank's rejects as WireLine records. */
static GByteArray *pack_rejects(const PcIngest *g) {
  GByteArray *out = g_byte_array_new();
  for (guint i = 0; i < g->rejects->len; i++) {
    const PcReject *r = &g_array_index(g->rejects, PcReject, i);
    wire_put_line(out, r->file, r->line, r->reason, r->text, r->len, r->full_len);
  }
  return out;
}

/* Every rank's rejects (rank 0), sorted by (file, line). */
static GArray *unpack_rejects(const GByteArray *in) {
  GArray *out = g_array_new(FALSE, FALSE, sizeof(PcReject));
  g_array_set_clear_func(out, (GDestroyNotify)pc_reject_clear);
  for (const guint8 *p = in->data, *end = p + in->len; p < end;) {
    WireLine h;
    const char *text;
    wire_take_line(&p, &h, &text);
    PcReject r = pc_reject_make(h.file, h.line, (PcRejectReason)h.reason, text, h.len);
    r.full_len = h.full_len;
    g_array_append_val(out, r);
  }
  g_array_sort(out, pc_reject_cmp);
  return out;
}

/* Rank 0: the rejects file and the batch record; FALSE when the reject
 * share exceeds --max-reject-fraction (naming the first rejected row, so
 * the message alone says where to look). */
static gboolean write_rejects(PcIngest *g, const GArray *all, GError **error) {
  g_autofree char *name = pc_store_file_name(PC_STORE_FILE_REJECTS, g->batch);
  g_autofree char *path = g_build_filename(g->staging, name, NULL);
  for (guint i = 0; i < all->len; i++) g->ids[g_array_index(all, PcReject, i).file].rejected++;
  PcBatchRecord rec = {g->batch, g->buckets, g->size, g->paths, g->n_event_files, g->totals[0], {0}, name, g->ids, g->key};
  if (!pc_batch_write_rejects(path, all, g->paths, rec.by_reason, error)) return FALSE;
  for (int r = 1; r < PC_REJECT_N; r++)
    if (rec.by_reason[r] && !g->o->quiet)
      fprintf(stderr, "parcours: ingest: rejected %" G_GUINT64_FORMAT " rows: %s\n", rec.by_reason[r], pc_csv_reason_name(r));
  g->record = pc_batch_record_json(&rec);
  uint64_t rows = g->totals[0], rejected = all->len;
  double share = rows ? (double)rejected / (double)rows : 0;
  if (share <= g->o->max_reject) return TRUE;
  const PcReject *r0 = &g_array_index(all, PcReject, 0);
  pc_set_error(error, PC_ERROR_REJECTS, "%" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT " data rows rejected (%.6g), more than --max-reject-fraction %.6g (first: %s:%" G_GUINT64_FORMAT ": %s); nothing was added to %s; the rejected rows are listed in %s", rejected, rows, share, g->o->max_reject, (char *)g_ptr_array_index(g->paths, r0->file), r0->line, pc_csv_reason_name(r0->reason), g->o->out, path);
  return FALSE;
}

/* The rows parsed must be the rows hashed: otherwise an input changed
 * between the two reads and its checksum would not describe its rows.
 * Every rank decides alike (totals and ids are the same everywhere). */
static gboolean rows_as_hashed(const PcIngest *g, GError **error) {
  uint64_t hashed = 0;
  for (guint f = 0; f < g->paths->len; f++) hashed += g->ids[f].rows;
  if (hashed == g->totals[0]) return TRUE;
  pc_set_error(error, PC_ERROR_IO, "the inputs changed while they were read (%" G_GUINT64_FORMAT " data rows when their checksums were taken, %" G_GUINT64_FORMAT " when parsed): is one still being written? Nothing was added to %s", hashed, g->totals[0], g->o->out);
  return FALSE;
}

/* Rank 0: every input has the size it had when ingest started. A plain
 * file is read up to that size, so rows appended meanwhile would be
 * silently left for a next batch that then repeats the first rows. */
static gboolean inputs_unchanged(const PcIngest *g, GError **error) {
  for (guint f = 0; f < g->paths->len; f++) {
    struct stat st;
    const char *p = g_ptr_array_index(g->paths, f);
    uint64_t now = stat(p, &st) == 0 ? (uint64_t)st.st_size : UINT64_MAX;
    if (now == g->sizes[2 * f]) continue;
    pc_set_error(error, PC_ERROR_IO, "%s: changed while it was read (%" G_GUINT64_FORMAT " bytes at the start, %" G_GUINT64_FORMAT " at the end): is it still being written? Nothing was added to %s", p, g->sizes[2 * f], now, g->o->out);
    return FALSE;
  }
  return TRUE;
}

/* While parsing, a line is numbered piece << LINE_PIECE_SHIFT | its line
 * in the piece (the pieces' first lines were known only once hashed). */
static void number_rejects(PcIngest *g) {
  for (guint i = 0; i < g->rejects->len; i++) {
    PcReject *r = &g_array_index(g->rejects, PcReject, i);
    const Piece *p = &g_array_index(g->pieces, Piece, r->line >> LINE_PIECE_SHIFT);
    r->line = p->first_line + (r->line & ((UINT64_C(1) << LINE_PIECE_SHIFT) - 1)) - 1;
  }
}

gboolean pc_ingest_rejects(PcIngest *g, GError **error) {
  number_rejects(g);
  g->totals[0] = g->data_rows;
  g->totals[1] = g->rejects->len;
  g->totals[2] = pc_h5io_writer_events(g->shard);
  pc_comm_sum_u64(g->comm, g->totals, 3);
  pc_signals_phase(pc_comm_signals(g->comm), "writing the rejects and the batch record");
  gboolean ok = rows_as_hashed(g, error) && (g->rank != 0 || inputs_unchanged(g, error));
  if (!pc_comm_agree(g->comm, ok, error)) return FALSE;
  g_autoptr(GByteArray) mine = pack_rejects(g);
  g_autoptr(GByteArray) all = NULL;
  ok = g->ops->gather(g->ops->ctx, mine->data, mine->len, &all, error);
  if (ok && g->rank == 0) {
    g_autoptr(GArray) rejects = unpack_rejects(all);
    ok = write_rejects(g, rejects, error);
    g->keep_rejects = !ok && error && g_error_matches(*error, PC_ERROR, PC_ERROR_REJECTS);
  }
  if (!pc_comm_agree(g->comm, ok, error)) return FALSE;
  size_t len = g->rank == 0 ? strlen(g->record) + 1 : 0;
  pc_comm_bcast_bytes(g->comm, (void **)&g->record, &len);
  return TRUE;
}
