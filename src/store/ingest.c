/* ingest.c - the work of `parcours ingest` (pc_ingest.h): input split,
 * parsing rounds, exchange by bucket owner, rejects, commit.
 *
 * Flow: rank 0 checks the store and sizes the inputs; plain files are cut
 * into P equal byte ranges of their total, gzip files go whole to the least
 * loaded rank; ranks count the lines of their ranges so every row keeps its
 * true line number; then rounds of (parse up to ROUND_BYTES of rows, send
 * each row to the rank that owns its bucket with one all-to-all) until every
 * rank is done. The owner of bucket b is b*P/B, so shard r holds a
 * contiguous bucket range. Rejected rows stay on the rank that found them
 * and are gathered to rank 0 for the rejects file, sorted by (file, line).
 * Nothing becomes visible before every rank wrote its shard and the reject
 * share is within --max-reject-fraction: then rank 0 commits the MANIFEST.
 *
 * Owns the work split, the wire records rows travel in between ranks and
 * the order of a batch's writes. Does not own the CSV rules (csv.c), the
 * shard layout (shardbuild.c, h5shard.c), the store's files (store.c) or
 * the texts of the rejects file and batch record (batch.c). Reaches other
 * ranks only through pc_comm.h.
 *
 * Invariant: a shard is a function of the input rows only: rows reach their
 * owner in any order and the builder sorts them; customers-table rows are
 * sorted by (file, line) before duplicates are decided.
 */
#include "pc_ingest.h"

#include "pc_batch.h"
#include "pc_progress.h"
#include "pc_rawread.h"
#include "pc_h5io.h"
#include "pc_shard.h"
#include "pc_storewriter.h"
#include "pc_testhook.h"

#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>

#define ROUND_BYTES ((size_t)64 << 20) /* rows parsed per exchange round */
#define ROW_OVERHEAD_BYTES 24          /* per-row allowance in ROUND_BYTES */
#define GZIP_COST 4                    /* a gzip byte costs about 4 plain ones */

/* A contiguous part of one input, read by one rank. */
typedef struct {
  guint file;
  uint64_t start, end;   /* byte range; end = UINT64_MAX: whole gzip file */
  int rank;
  uint64_t first_line;   /* 1-based number of its first line */
  gboolean customers;    /* a customers-table file */
} Piece;

struct PcIngest {
  PcComm *comm;
  const PcCommOps *ops;
  int rank, size;
  const PcIngestOpts *o;
  uint64_t buckets;
  guint batch;
  PcStoreWriter *writer;  /* rank 0: lock, staging, commit (pc_storewriter.h) */
  GPtrArray *paths;       /* all inputs: events files, then the customers file */
  guint n_event_files;
  uint64_t *sizes;        /* 2 per input: bytes, is gzip */
  GArray *pieces;         /* Piece, in (file, start) order */
  GArray *rejects;        /* PcReject, found on this rank */
  uint64_t data_rows;     /* non-header lines read by this rank */
  uint64_t bytes_done, bytes_total;
  double t0;
  PcShardBuilder *builder;
  GPtrArray *crm_lines;   /* GByteArray of WireLine records received */
  char *staging;          /* where this batch is written */
  char *record;           /* the batch record (JSON) */
  uint64_t totals[3];     /* data rows, rejected, events: all ranks */
};

/* ---- Wire records: how rows cross ranks ----------------------------------------- */

/* An accepted event row: the header, then id, channel and event bytes. */
typedef struct __attribute__((packed)) {
  int64_t ts_us;
  int64_t value;
  uint8_t id_len, channel_len, event_len;
} WireEvent;

/* A line kept whole (customers-table rows, rejects): the header, then
 * len bytes of text. Customers rows keep file and line because duplicates
 * are decided on the owner in (file, line) order and rejected with text. */
typedef struct __attribute__((packed)) {
  uint32_t file;
  uint64_t line;
  uint32_t reason;        /* PcRejectReason; PC_REJECT_NONE for a customer */
  uint32_t len;
} WireLine;

static void wire_put_event(GByteArray *out, const PcCsvRow *r) {
  WireEvent h = {r->ts_us, r->value, (uint8_t)r->id_len, (uint8_t)r->channel_len, (uint8_t)r->event_len};
  g_byte_array_append(out, (const guint8 *)&h, sizeof h);
  g_byte_array_append(out, (const guint8 *)r->id, r->id_len);
  g_byte_array_append(out, (const guint8 *)r->channel, r->channel_len);
  g_byte_array_append(out, (const guint8 *)r->event, r->event_len);
}

/* The event at *p (advanced past it); strings point into the buffer. */
static void wire_take_event(const guint8 **p, PcCsvRow *r) {
  WireEvent h;
  memcpy(&h, *p, sizeof h);
  const char *s = (const char *)*p + sizeof h;
  *r = (PcCsvRow){s, h.id_len, h.ts_us, s + h.id_len, h.channel_len,
                  s + h.id_len + h.channel_len, h.event_len, h.value};
  *p += sizeof h + h.id_len + h.channel_len + h.event_len;
}

static void wire_put_line(GByteArray *out, guint file, uint64_t line,
                          PcRejectReason reason, const char *text,
                          uint32_t len) {
  WireLine h = {file, line, (uint32_t)reason, len};
  g_byte_array_append(out, (const guint8 *)&h, sizeof h);
  g_byte_array_append(out, (const guint8 *)text, len);
}

/* The line at *p (advanced past it); *text points into the buffer. */
static void wire_take_line(const guint8 **p, WireLine *h, const char **text) {
  memcpy(h, *p, sizeof *h);
  *text = (const char *)*p + sizeof *h;
  *p += sizeof *h + h->len;
}

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
  g->crm_lines = g_ptr_array_new_with_free_func((GDestroyNotify)g_byte_array_unref);
  g->t0 = pc_comm_wtime();
  return g;
}

void pc_ingest_free(PcIngest *g) {
  if (!g) return;
  pc_storewriter_free(g->writer);
  g_ptr_array_unref(g->paths);
  g_free(g->sizes);
  g_array_unref(g->pieces);
  g_array_unref(g->rejects);
  pc_shard_builder_free(g->builder);
  g_ptr_array_unref(g->crm_lines);
  g_free(g->staging);
  g_free(g->record);
  g_free(g);
}

/* ---- 1. Target and inputs ------------------------------------------------------------ */

/* Rank 0: the writer (for an append: the lock, then the MANIFEST), B and
 * the batch number of the target. */
static gboolean check_target(PcIngest *g, uint64_t v[2], GError **error) {
  const PcIngestOpts *o = g->o;
  if (!pc_storewriter_open(o->out, o->append, o->lock_wait_s, &g->writer, error)) return FALSE;
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
  uint64_t v[2] = {g->o->buckets > 0 ? g->o->buckets : PC_INGEST_DEFAULT_BUCKETS, 1};
  gboolean ok = g->rank != 0 || check_target(g, v, error);
  if (!pc_comm_agree(g->comm, ok, error)) return FALSE;
  pc_comm_bcast_u64(g->comm, v, 2);
  g->buckets = v[0];
  g->batch = (guint)v[1];
  guint n = g->paths->len;
  g->sizes = g_new0(uint64_t, 2 * n);
  ok = g->rank != 0 || size_inputs(g, error);
  if (!pc_comm_agree(g->comm, ok, error)) return FALSE;
  pc_comm_bcast_u64(g->comm, g->sizes, 2 * n);
  for (guint f = 0; f < n; f++) g->bytes_total += g->sizes[2 * f];
  return TRUE;
}

/* ---- 2. Work split ---------------------------------------------------------------- */

/* Plain files: global byte range [r*T/P, (r+1)*T/P) of their concatenation
 * to rank r. Adds each rank's bytes to load[r]. */
static void split_plain(PcIngest *g, uint64_t *load) {
  uint64_t plain = 0, at = 0;
  for (guint f = 0; f < g->paths->len; f++)
    if (g->sizes[2 * f + 1] == 0) plain += g->sizes[2 * f];
  for (guint f = 0; f < g->paths->len; f++) {
    uint64_t sz = g->sizes[2 * f];
    if (g->sizes[2 * f + 1]) continue;
    for (int r = 0; r < g->size; r++) {
      uint64_t lo = plain * r / g->size, hi = plain * (r + 1) / g->size;
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
static void split_gzip(PcIngest *g, uint64_t *load) {
  for (guint f = 0; f < g->paths->len; f++) {
    if (!g->sizes[2 * f + 1]) continue;
    int best = 0;
    for (int r = 1; r < g->size; r++)
      if (load[r] < load[best]) best = r;
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

gboolean pc_ingest_split(PcIngest *g, GError **error) {
  g_autofree uint64_t *load = g_new0(uint64_t, g->size);
  split_plain(g, load);
  split_gzip(g, load);
  g_array_sort(g->pieces, cmp_piece);
  /* first_line of every piece: the line counts of the earlier pieces of its
   * file, counted by their ranks and summed */
  guint n = g->pieces->len;
  g_autofree uint64_t *cnt = g_new0(uint64_t, n ? n : 1);
  gboolean ok = TRUE;
  for (guint i = 0; i < n && ok; i++) {
    Piece *p = &g_array_index(g->pieces, Piece, i);
    if (p->rank != g->rank || p->end == UINT64_MAX) continue;
    ok = pc_csv_count_lines(g_ptr_array_index(g->paths, p->file), p->start, p->end, &cnt[i], error);
  }
  if (!pc_comm_agree(g->comm, ok, error)) return FALSE;
  pc_comm_sum_u64(g->comm, cnt, n);
  for (guint i = 0; i < n; i++) {
    Piece *p = &g_array_index(g->pieces, Piece, i);
    const Piece *prev = i ? &g_array_index(g->pieces, Piece, i - 1) : NULL;
    p->first_line = prev && prev->file == p->file ? prev->first_line + cnt[i - 1] : 1;
  }
  return TRUE;
}

/* ---- 3. Parsing rounds --------------------------------------------------------------- */

static void add_reject(PcIngest *g, guint file, uint64_t line,
                       PcRejectReason r, const char *text, size_t len) {
  PcReject rj = {file, line, r, g_strndup(text, MIN(len, PC_BATCH_REJECT_TEXT_BYTES))};
  g_array_append_val(g->rejects, rj);
}

static int owner_of(const PcIngest *g, const char *id, size_t len) {
  uint64_t b = pc_bucket_of(id, len, g->buckets);
  return (int)(b * (uint64_t)g->size / g->buckets);
}

/* One line of piece p: the header check (line 1), a reject, or a row
 * queued for its owner in send[]. */
static gboolean parse_line(PcIngest *g, const Piece *p, const char *line,
                           size_t len, uint64_t no, GByteArray **send,
                           GError **error) {
  const char *path = g_ptr_array_index(g->paths, p->file);
  if (no == 1) return pc_csv_check_header(line, len, p->customers, path, error);
  g->data_rows++;
  PcRejectReason r;
  if (p->customers) {
    PcCustomerRow row;
    if ((r = pc_csv_parse_customer(line, len, &row)) == PC_REJECT_NONE)
      wire_put_line(send[owner_of(g, row.id, row.id_len)], p->file, no, PC_REJECT_NONE, line, (uint32_t)len);
  } else {
    PcCsvRow row;
    if ((r = pc_csv_parse_event(line, len, &row)) == PC_REJECT_NONE)
      wire_put_event(send[owner_of(g, row.id, row.id_len)], &row);
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
    cur->reader = pc_line_reader_open(g_ptr_array_index(g->paths, p->file), p->start, p->end, p->first_line, error);
    return cur->reader != NULL;
  }
  cur->done = TRUE;
  return TRUE;
}

/* Parses the open piece until *queued reaches ROUND_BYTES or the piece
 * ends (then the reader is closed). */
static gboolean parse_piece(PcIngest *g, Cursor *cur, GByteArray **send,
                            size_t *queued, GError **error) {
  const Piece *p = &g_array_index(g->pieces, Piece, cur->piece - 1);
  const char *line;
  size_t len;
  uint64_t no;
  g_autoptr(GError) e = NULL;
  uint64_t before = pc_line_reader_offset(cur->reader);
  while (*queued < ROUND_BYTES && pc_line_reader_next(cur->reader, &line, &len, &no, &e)) {
    if (!parse_line(g, p, line, len, no, send, error)) return FALSE;
    *queued += len + ROW_OVERHEAD_BYTES;
  }
  g->bytes_done += pc_line_reader_offset(cur->reader) - before;
  if (e) {
    g_propagate_error(error, g_steal_pointer(&e));
    return FALSE;
  }
  if (*queued >= ROUND_BYTES) return TRUE;
  /* the same rule for plain and gzip: no header line is an error */
  if (p->first_line == 1 && p->start == 0 && pc_line_reader_lines(cur->reader) == 0) {
    pc_set_error(error, PC_ERROR_FORMAT, "%s: empty file: the header line is missing", (char *)g_ptr_array_index(g->paths, p->file));
    return FALSE;
  }
  g_clear_pointer(&cur->reader, pc_line_reader_free);
  return TRUE;
}

/* Parses until ROUND_BYTES are queued or this rank's input ends. */
static gboolean fill_round(PcIngest *g, Cursor *cur, gboolean customers,
                           GByteArray **send, GError **error) {
  size_t queued = 0;
  while (!cur->done && queued < ROUND_BYTES) {
    if (!cur->reader && !open_next(g, cur, customers, error)) return FALSE;
    if (cur->done) break;
    if (!parse_piece(g, cur, send, &queued, error)) return FALSE;
  }
  return TRUE;
}

/* What this rank received in a round: events into the builder; customers
 * lines kept until every one has arrived (duplicates need them all). */
static void take_received(PcIngest *g, gboolean customers, GByteArray *recv) {
  if (customers) {
    g_ptr_array_add(g->crm_lines, g_byte_array_ref(recv));
    return;
  }
  for (const guint8 *p = recv->data, *end = p + recv->len; p < end;) {
    PcCsvRow r;
    wire_take_event(&p, &r);
    pc_shard_builder_add_event(g->builder, r.id, r.id_len, r.ts_us, r.channel, r.channel_len, r.event, r.event_len, r.value);
  }
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
  while (ok && more) {
    ok = fill_round(g, &cur, customers, send, error);
    if (!pc_comm_agree(g->comm, ok, error)) { ok = FALSE; break; }
    g_autoptr(GByteArray) recv = NULL;
    ok = g->ops->exchange(g->ops->ctx, send, &recv, error);
    if (!pc_comm_agree(g->comm, ok, error)) { ok = FALSE; break; }
    take_received(g, customers, recv);
    for (int r = 0; r < g->size; r++) g_byte_array_set_size(send[r], 0);
    more = round_progress(g, &cur, customers);
  }
  free_sends(send);
  return ok;
}

typedef struct {
  WireLine h;
  const char *text;
} CrmLine;

static int cmp_crm(const void *a, const void *b) {
  const WireLine *x = &((const CrmLine *)a)->h, *y = &((const CrmLine *)b)->h;
  if (x->file != y->file) return x->file < y->file ? -1 : 1;
  return x->line < y->line ? -1 : x->line > y->line;
}

/* The customers-table rows this rank owns, in (file, line) order: the
 * first of a repeated id is kept, the others rejected. */
static void add_customers(PcIngest *g) {
  g_autoptr(GArray) recs = g_array_new(FALSE, FALSE, sizeof(CrmLine));
  for (guint i = 0; i < g->crm_lines->len; i++) {
    GByteArray *a = g_ptr_array_index(g->crm_lines, i);
    for (const guint8 *p = a->data, *end = p + a->len; p < end;) {
      CrmLine r;
      wire_take_line(&p, &r.h, &r.text);
      g_array_append_val(recs, r);
    }
  }
  g_array_sort(recs, cmp_crm);
  for (guint i = 0; i < recs->len; i++) {
    const CrmLine *r = &g_array_index(recs, CrmLine, i);
    PcCustomerRow row;
    PcRejectReason why = pc_csv_parse_customer(r->text, r->h.len, &row);
    g_assert(why == PC_REJECT_NONE); /* the sender parsed it */
    if (!pc_shard_builder_add_customer(g->builder, row.id, row.id_len, row.revenue, row.segment, row.segment_len))
      add_reject(g, r->h.file, r->h.line, PC_REJECT_DUPLICATE, r->text, r->h.len);
  }
}

gboolean pc_ingest_parse(PcIngest *g, GError **error) {
  g->builder = pc_shard_builder_new(g->buckets);
  if (!pass(g, FALSE, error) || !pass(g, TRUE, error)) return FALSE;
  add_customers(g);
  return TRUE;
}

/* ---- 4. Rejects and the batch record --------------------------------------------------- */

/* This rank's rejects as WireLine records. */
static GByteArray *pack_rejects(const PcIngest *g) {
  GByteArray *out = g_byte_array_new();
  for (guint i = 0; i < g->rejects->len; i++) {
    const PcReject *r = &g_array_index(g->rejects, PcReject, i);
    wire_put_line(out, r->file, r->line, r->reason, r->text, (uint32_t)strlen(r->text));
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
    PcReject r = {h.file, h.line, (PcRejectReason)h.reason, g_strndup(text, h.len)};
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
  PcBatchRecord rec = {g->batch, g->buckets, g->size, g->paths, g->n_event_files, g->totals[0], {0}, name};
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

/* Rank 0 creates the staging directory; everyone learns its name. */
static gboolean stage(PcIngest *g, GError **error) {
  gboolean ok = g->rank != 0 || pc_storewriter_stage(g->writer, error);
  if (ok && g->rank == 0) g->staging = g_strdup(pc_storewriter_staging(g->writer));
  if (!pc_comm_agree(g->comm, ok, error)) return FALSE;
  size_t len = g->rank == 0 ? strlen(g->staging) + 1 : 0;
  pc_comm_bcast_bytes(g->comm, (void **)&g->staging, &len);
  return TRUE;
}

gboolean pc_ingest_rejects(PcIngest *g, GError **error) {
  if (!stage(g, error)) return FALSE;
  g_autoptr(GByteArray) mine = pack_rejects(g);
  g_autoptr(GByteArray) all = NULL;
  gboolean ok = g->ops->gather(g->ops->ctx, mine->data, mine->len, &all, error);
  g->totals[0] = g->data_rows;
  g->totals[1] = g->rejects->len;
  g->totals[2] = pc_shard_builder_events(g->builder);
  pc_comm_sum_u64(g->comm, g->totals, 3);
  if (ok && g->rank == 0) {
    g_autoptr(GArray) rejects = unpack_rejects(all);
    ok = write_rejects(g, rejects, error);
  }
  if (!pc_comm_agree(g->comm, ok, error)) return FALSE;
  size_t len = g->rank == 0 ? strlen(g->record) + 1 : 0;
  pc_comm_bcast_bytes(g->comm, (void **)&g->record, &len);
  return TRUE;
}

/* ---- 5. Shards and commit --------------------------------------------------------------- */

/* Rank 0: the batch record file, then the MANIFEST (the commit point). */
static gboolean commit(PcIngest *g, GPtrArray *files, GError **error) {
  g_autofree char *path = pc_store_file_path(g->staging, PC_STORE_FILE_BATCH_RECORD, g->batch);
  g_autoptr(GError) e = NULL;
  if (!g_file_set_contents(path, g->record, -1, &e)) {
    pc_set_error(error, PC_ERROR_IO, "%s: %s", path, e->message);
    return FALSE;
  }
  return pc_storewriter_commit(g->writer, g->buckets, files, error);
}

gboolean pc_ingest_commit(PcIngest *g, GError **error) {
  g_autofree char *name = pc_store_shard_name(g->batch, g->rank);
  g_autofree char *path = g_build_filename(g->staging, name, NULL);
  g_autoptr(PcShardData) shard = pc_shard_builder_finish(g_steal_pointer(&g->builder));
  gboolean ok = pc_h5io_write_shard(path, shard, g->record, error);
  if (ok) pc_test_hook("ingest-after-shards");
  g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func(g_free);
  for (int r = 0; r < g->size; r++) g_ptr_array_add(files, pc_store_shard_name(g->batch, r));
  if (!pc_comm_agree(g->comm, ok, error)) {
    if (g->rank == 0) pc_storewriter_abandon(g->writer, files);
    return FALSE;
  }
  if (g->rank == 0) {
    ok = commit(g, files, error);
    if (!ok) pc_storewriter_abandon(g->writer, files);
    else if (!g->o->quiet)
      fprintf(stderr, "parcours: ingest: %s batch %u: %" G_GUINT64_FORMAT " events from %" G_GUINT64_FORMAT " data rows, %" G_GUINT64_FORMAT " rejected, %d shards, %.2f s\n", g->o->out, g->batch, g->totals[2], g->totals[0], g->totals[1], g->size, pc_comm_wtime() - g->t0);
  }
  return pc_comm_agree(g->comm, ok, error);
}
