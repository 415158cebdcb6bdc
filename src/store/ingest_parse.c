/* ingest_parse.c - the parsing half of `parcours ingest` (pc_ingest.h,
 * state in the private ingest_int.h): the work split of the inputs into
 * pieces, then rounds of parsing and exchange by bucket owner, and the
 * customers-table rows decided in (file, line) order.
 *
 * Owns which rank reads which bytes and how accepted rows reach the rank
 * that owns their bucket (its sorter, pc_shardsort.h). Does not own the
 * CSV rules (csv.c), the sort and its runs (shardsort.c), the shard
 * (h5stream.c) or what happens to rejects (ingest.c, batch.c). Reaches
 * other ranks only through pc_comm.h.
 *
 * Invariant: every line of every input is read by exactly one rank and
 * keeps its true line number; a row is sent to exactly one owner. Memory:
 * a round's rows (round_bytes, from --memory) in flight, the sorter's
 * share in its buffer.
 */
#include "ingest_int.h"

#include "pc_progress.h"
#include "pc_testhook.h"

/* ---- 2. Work split ---------------------------------------------------------------- */

/* Bytes each rank hashes (inputs f % P == r; a gzip byte counts
 * GZIP_COST): hash[r]. */
static void hash_loads(const PcIngest *g, double *hash) {
  for (guint f = 0; f < g->paths->len; f++)
    hash[f % g->size] += (double)g->sizes[2 * f] * (g->sizes[2 * f + 1] ? GZIP_COST : 1);
}

/* The share of the plain bytes rank r parses, cumulated: cut[r]..cut[r+1].
 * Parsing plus HASH_COST times hashing is the same on every rank where it
 * can be (a rank that hashes a large input parses less). */
static void plain_cuts(const PcIngest *g, uint64_t plain, const double *hash, uint64_t *cut) {
  guint P = (guint)g->size;
  double all = 0, w = 0;
  for (guint r = 0; r < P; r++) all += hash[r];
  double even = ((double)plain + HASH_COST * all) / P;
  g_autofree double *x = g_new(double, P);
  for (guint r = 0; r < P; r++) w += x[r] = MAX(even - HASH_COST * hash[r], 0.0);
  double c = 0;
  cut[0] = 0;
  for (guint r = 0; r < P; r++) {
    c += x[r];
    cut[r + 1] = w > 0 ? (uint64_t)((double)plain * (c / w)) : plain * (r + 1) / P;
  }
  cut[P] = plain;
}

/* Plain files: global byte range [cut[r], cut[r+1]) of their concatenation
 * to rank r. Adds each rank's bytes to load[r]. */
static void split_plain(PcIngest *g, const double *hash, uint64_t *load) {
  uint64_t plain = 0, at = 0;
  for (guint f = 0; f < g->paths->len; f++)
    if (g->sizes[2 * f + 1] == 0) plain += g->sizes[2 * f];
  g_autofree uint64_t *cut = g_new(uint64_t, g->size + 1);
  plain_cuts(g, plain, hash, cut);
  for (guint f = 0; f < g->paths->len; f++) {
    uint64_t sz = g->sizes[2 * f];
    if (g->sizes[2 * f + 1]) continue;
    for (int r = 0; r < g->size; r++) {
      uint64_t lo = cut[r], hi = cut[r + 1];
      uint64_t s = MAX(lo, at), e = MIN(hi, at + sz);
      if (s >= e && !(sz == 0 && r == 0)) continue; /* an empty file: rank 0 */
      Piece p = {f, s - at, e - at, r, 0, f >= g->n_event_files};
      if (sz == 0) p.start = p.end = 0;
      g_array_append_val(g->pieces, p);
      load[r] += e > s ? e - s : 0;
    }
    at += sz;
  }
}

/* Gzip files whole, to the least loaded rank (ties: lowest rank). */
static void split_gzip(PcIngest *g, const double *hash, uint64_t *load) {
  for (guint f = 0; f < g->paths->len; f++) {
    if (!g->sizes[2 * f + 1]) continue;
    int best = 0;
    for (int r = 1; r < g->size; r++)
      if (load[r] + HASH_COST * hash[r] < load[best] + HASH_COST * hash[best]) best = r;
    load[best] += g->sizes[2 * f] * GZIP_COST;
    Piece p = {f, 0, UINT64_MAX, best, 0, f >= g->n_event_files};
    g_array_append_val(g->pieces, p);
  }
}

static int cmp_piece(const void *a, const void *b) {
  const Piece *x = a, *y = b;
  if (x->file != y->file) return x->file < y->file ? -1 : 1;
  return x->start < y->start ? -1 : x->start > y->start;
}

void pc_ingest_pieces(PcIngest *g) {
  g_autofree uint64_t *load = g_new0(uint64_t, g->size);
  g_autofree double *hash = g_new0(double, g->size);
  hash_loads(g, hash);
  split_plain(g, hash, load);
  split_gzip(g, hash, load);
  g_array_sort(g->pieces, cmp_piece);
  for (guint f = g->rank; f < g->paths->len; f += g->size) g->hash_load += g->sizes[2 * f];
  for (guint i = 0; i < g->pieces->len; i++) {
    const Piece *p = &g_array_index(g->pieces, Piece, i);
    if (p->rank == g->rank) g->parse_load += p->end == UINT64_MAX ? g->sizes[2 * p->file] : p->end - p->start;
  }
}

/* ---- 3. Parsing rounds --------------------------------------------------------------- */

static void add_reject(PcIngest *g, guint file, uint64_t line,
                       PcRejectReason r, const char *text, size_t len) {
  PcReject rj = pc_reject_make(file, line, r, text, len);
  g_array_append_val(g->rejects, rj);
}

static int owner_of(const PcIngest *g, uint32_t bucket) {
  return (int)((uint64_t)bucket * (uint64_t)g->size / g->buckets);
}

/* One line of piece p (number `no` in the piece, numbered as in
 * LINE_PIECE_SHIFT by its index `pi`): the header check (the file's line
 * 1), a reject, or a row queued for its owner in send[]. */
static gboolean parse_line(PcIngest *g, const Piece *p, guint pi,
                           const char *line, size_t len, uint64_t no,
                           GByteArray **send, GError **error) {
  const char *path = g_ptr_array_index(g->paths, p->file);
  if (p->start == 0 && no == 1) return pc_csv_check_header(line, len, p->customers, path, error);
  no |= (uint64_t)pi << LINE_PIECE_SHIFT;
  g->data_rows++;
  PcRejectReason r;
  if (p->customers) {
    PcCustomerRow row;
    if ((r = pc_csv_parse_customer(line, len, &row)) == PC_REJECT_NONE)
      wire_put_line(send[owner_of(g, pc_bucket_of(row.id, row.id_len, g->buckets))], p->file, no, PC_REJECT_NONE, line, (uint32_t)len, (uint32_t)len);
  } else {
    PcCsvRow row;
    if ((r = pc_csv_parse_event(line, len, &row)) == PC_REJECT_NONE) {
      uint32_t b = pc_bucket_of(row.id, row.id_len, g->buckets);
      wire_put_event(send[owner_of(g, b)], b, &row);
    }
  }
  if (r != PC_REJECT_NONE) add_reject(g, p->file, no, r, line, len);
  return TRUE;
}

typedef struct {
  guint piece;          /* next piece index to look at */
  PcLineReader *reader; /* open reader of the current piece */
  gboolean done;
} Cursor;

static void cursor_clear(Cursor *c) { g_clear_pointer(&c->reader, pc_line_reader_free); }
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Cursor, cursor_clear)

/* Opens this rank's next piece of the kind (customers or not), or marks
 * the cursor done. */
static gboolean open_next(PcIngest *g, Cursor *cur, gboolean customers,
                          GError **error) {
  while (cur->piece < g->pieces->len) {
    Piece *p = &g_array_index(g->pieces, Piece, cur->piece++);
    if (p->rank != g->rank || p->customers != customers) continue;
    cur->reader = pc_line_reader_open(g_ptr_array_index(g->paths, p->file), p->start, p->end, 1, error);
    return cur->reader != NULL;
  }
  cur->done = TRUE;
  return TRUE;
}

/* Parses the open piece until *queued reaches the round's bytes or the
 * piece ends (then the reader is closed). */
static gboolean parse_piece(PcIngest *g, Cursor *cur, GByteArray **send,
                            size_t *queued, GError **error) {
  guint pi = cur->piece - 1;
  const Piece *p = &g_array_index(g->pieces, Piece, pi);
  const char *line;
  size_t len;
  uint64_t no;
  g_autoptr(GError) e = NULL;
  uint64_t before = pc_line_reader_offset(cur->reader);
  while (*queued < g->round_bytes && pc_line_reader_next(cur->reader, &line, &len, &no, &e)) {
    if (!parse_line(g, p, pi, line, len, no, send, error)) return FALSE;
    *queued += len + ROW_OVERHEAD_BYTES;
  }
  g->bytes_done += pc_line_reader_offset(cur->reader) - before;
  if (e) {
    g_propagate_error(error, g_steal_pointer(&e));
    return FALSE;
  }
  if (*queued >= g->round_bytes) return TRUE;
  /* the same rule for plain and gzip: no header line is an error */
  if (p->start == 0 && pc_line_reader_lines(cur->reader) == 0) {
    pc_set_error(error, PC_ERROR_FORMAT, "%s: empty file: the header line is missing", (char *)g_ptr_array_index(g->paths, p->file));
    return FALSE;
  }
  g_clear_pointer(&cur->reader, pc_line_reader_free);
  return TRUE;
}

/* Parses until a round's bytes are queued or this rank's input ends. */
static gboolean fill_round(PcIngest *g, Cursor *cur, gboolean customers,
                           GByteArray **send, GError **error) {
  size_t queued = 0;
  while (!cur->done && queued < g->round_bytes) {
    if (!cur->reader && !open_next(g, cur, customers, error)) return FALSE;
    if (cur->done) break;
    if (!parse_piece(g, cur, send, &queued, error)) return FALSE;
  }
  return TRUE;
}

/* What this rank received in a round, into its sorter (which spills a
 * sorted run when its memory is full: FALSE with PC_ERROR_IO). */
static gboolean take_received(PcIngest *g, gboolean customers,
                              GByteArray *recv, GError **error) {
  gboolean ok = TRUE;
  for (const guint8 *p = recv->data, *end = p + recv->len; ok && p < end;) {
    if (customers) {
      WireLine h;
      const char *text;
      PcCustomerRow row;
      wire_take_line(&p, &h, &text);
      PcRejectReason why = pc_csv_parse_customer(text, h.len, &row);
      g_assert(why == PC_REJECT_NONE); /* the sender parsed it */
      ok = pc_shardsort_add_crm(g->sort, pc_bucket_of(row.id, row.id_len, g->buckets), h.file, h.line, text, h.len, error);
    } else {
      PcCsvRow r;
      uint32_t bucket;
      wire_take_event(&p, &bucket, &r);
      ok = pc_shardsort_add_event(g->sort, bucket, &r, error);
    }
  }
  return ok;
}

/* Collective: TRUE when some rank has input left; prints progress. */
static gboolean round_progress(PcIngest *g, const Cursor *cur,
                               gboolean customers) {
  uint64_t left[2] = {cur->done ? 0 : 1, g->bytes_done};
  pc_comm_sum_u64(g->comm, left, 2);
  double dt = pc_comm_wtime() - g->t0;
  pc_progress(g->comm, g->o->quiet, "ingest: %s %.0f%% (%.1f MB/s)", customers ? "customers" : "events",
              g->bytes_total ? 100.0 * left[1] / g->bytes_total : 100.0, dt > 0 ? left[1] / dt / 1e6 : 0);
  return left[0] != 0;
}

static void free_sends(GByteArray **send) {
  for (GByteArray **s = send; *s; s++) g_byte_array_unref(*s);
  g_free(send);
}

/* One pass over this rank's pieces of a kind, in exchange rounds. */
static gboolean pass(PcIngest *g, gboolean customers, GError **error) {
  g_auto(Cursor) cur = {0, NULL, FALSE};
  GByteArray **send = g_new0(GByteArray *, g->size + 1); /* NULL-terminated */
  for (int r = 0; r < g->size; r++) send[r] = g_byte_array_new();
  gboolean ok = TRUE, more = TRUE;
  g_autoptr(GByteArray) recv = NULL; /* reused: a round's pages are touched once */
  while (ok && more) {
    ok = fill_round(g, &cur, customers, send, error) &&
         pc_ingest_hash_some(g, g->parse_load ? (double)g->bytes_done / g->parse_load : 1, error);
    if (!pc_comm_agree(g->comm, ok, error)) { ok = FALSE; break; }
    ok = g->ops->exchange(g->ops->ctx, send, &recv, error);
    if (!pc_comm_agree(g->comm, ok, error)) { ok = FALSE; break; }
    guint runs = pc_shardsort_runs(g->sort);
    ok = take_received(g, customers, recv, error);
    if (ok && runs == 0 && pc_shardsort_runs(g->sort) > 0) pc_test_hook("ingest-spilled");
    if (!pc_comm_agree(g->comm, ok, error)) { ok = FALSE; break; }
    for (int r = 0; r < g->size; r++) g_byte_array_set_size(send[r], 0);
    more = round_progress(g, &cur, customers);
  }
  free_sends(send);
  return ok;
}

gboolean pc_ingest_parse(PcIngest *g, GError **error) {
  g->t_phase[1] = pc_comm_wtime();
  pc_signals_phase(pc_comm_signals(g->comm), "parsing, exchanging and sorting the inputs");
  g->sort = pc_shardsort_new(g->buckets, g->spill, g->sort_bytes);
  return pass(g, FALSE, error) && pass(g, TRUE, error) &&
         (g->identified || pc_ingest_identify_finish(g, error));
}
