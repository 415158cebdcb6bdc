/* cmd_ingest.c - `parcours ingest`: canonical CSV (plain or gzip) into a
 * batch of store shards, in parallel.
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
 */
#include "pc_cmd.h"
#include "pc_csv.h"
#include "pc_h5io.h"
#include "pc_store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#define ROUND_BYTES ((size_t)64 << 20)
#define DEFAULT_BUCKETS 4096

typedef struct {
  guint file;
  uint64_t start, end;
  int rank;
  uint64_t first_line;
  gboolean customers;
} Piece;

typedef struct {
  guint file;
  uint64_t line;
  PcRejectReason reason;
  char *text;
} Reject;

typedef struct {
  PcComm *comm;
  int rank, size;
  gboolean quiet;
  uint64_t buckets;
  GPtrArray *paths;       /* all inputs: events files, then the customers file */
  guint n_event_files;
  uint64_t *sizes;
  GArray *pieces;         /* Piece, in (file, start) order */
  GArray *rejects;        /* Reject, found on this rank */
  uint64_t data_rows;     /* non-header lines read by this rank */
  uint64_t bytes_done, bytes_total;
  double t0;
  PcShardBuilder *builder;
  GArray *crm_records;    /* customers rows received: GByteArray* */
} Ingest;

/* ---- work split ------------------------------------------------------------- */

static void split_inputs(Ingest *g) {
  uint64_t plain = 0;
  g_autofree uint64_t *load = g_new0(uint64_t, g->size);
  for (guint f = 0; f < g->paths->len; f++)
    if (g->sizes[2 * f + 1] == 0) plain += g->sizes[2 * f];
  /* plain files: global byte range [r*T/P, (r+1)*T/P) of their concatenation */
  uint64_t at = 0;
  for (guint f = 0; f < g->paths->len; f++) {
    uint64_t sz = g->sizes[2 * f];
    if (g->sizes[2 * f + 1]) continue;
    for (int r = 0; r < g->size; r++) {
      uint64_t lo = plain * r / g->size, hi = plain * (r + 1) / g->size;
      uint64_t s = MAX(lo, at), e = MIN(hi, at + sz);
      if (s >= e && !(sz == 0 && r == 0)) continue;
      Piece p = {f, s - at, e - at, r, 0, f >= g->n_event_files};
      if (sz == 0) p.start = p.end = 0;
      g_array_append_val(g->pieces, p);
      load[r] += e > s ? e - s : 0;
    }
    at += sz;
  }
  /* gzip files whole, to the least loaded rank (ties: lowest rank) */
  for (guint f = 0; f < g->paths->len; f++) {
    if (!g->sizes[2 * f + 1]) continue;
    int best = 0;
    for (int r = 1; r < g->size; r++)
      if (load[r] < load[best]) best = r;
    load[best] += g->sizes[2 * f] * 4;
    Piece p = {f, 0, UINT64_MAX, best, 0, f >= g->n_event_files};
    g_array_append_val(g->pieces, p);
  }
}

static int cmp_piece(const void *a, const void *b) {
  const Piece *x = a, *y = b;
  if (x->file != y->file) return x->file < y->file ? -1 : 1;
  return x->start < y->start ? -1 : x->start > y->start;
}

/* first_line of every piece: line counts of earlier pieces of its file. */
static gboolean number_lines(Ingest *g, GError **error) {
  g_array_sort(g->pieces, cmp_piece);
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
    p->first_line = (i && g_array_index(g->pieces, Piece, i - 1).file == p->file)
                        ? g_array_index(g->pieces, Piece, i - 1).first_line + cnt[i - 1]
                        : 1;
  }
  return TRUE;
}

/* ---- parsing ------------------------------------------------------------------ */

static void add_reject(Ingest *g, guint file, uint64_t line, PcRejectReason r,
                       const char *text, size_t len) {
  Reject rj = {file, line, r, g_strndup(text, MIN(len, 4096))};
  g_array_append_val(g->rejects, rj);
}

static int owner_of(const Ingest *g, const char *id, size_t len) {
  uint64_t b = pc_bucket_of(id, len, g->buckets);
  return (int)(b * (uint64_t)g->size / g->buckets);
}

static void pack_event(GByteArray *out, const PcCsvRow *r) {
  guint8 h[3] = {(guint8)r->id_len, (guint8)r->channel_len, (guint8)r->event_len};
  g_byte_array_append(out, h, 3);
  g_byte_array_append(out, (const guint8 *)&r->ts_us, 8);
  g_byte_array_append(out, (const guint8 *)&r->value, 8);
  g_byte_array_append(out, (const guint8 *)r->id, r->id_len);
  g_byte_array_append(out, (const guint8 *)r->channel, r->channel_len);
  g_byte_array_append(out, (const guint8 *)r->event, r->event_len);
}

/* Customers rows keep file, line and text: duplicates are decided on the
 * owner in (file, line) order and rejected with their text. */
static void pack_customer(GByteArray *out, guint file, uint64_t line,
                          const char *text, uint32_t len) {
  g_byte_array_append(out, (const guint8 *)&file, 4);
  g_byte_array_append(out, (const guint8 *)&line, 8);
  g_byte_array_append(out, (const guint8 *)&len, 4);
  g_byte_array_append(out, (const guint8 *)text, len);
}

static void unpack_events(Ingest *g, const guint8 *p, size_t n) {
  const guint8 *end = p + n;
  while (p < end) {
    int64_t ts, v;
    memcpy(&ts, p + 3, 8);
    memcpy(&v, p + 11, 8);
    const char *id = (const char *)p + 19;
    pc_shard_builder_add_event(g->builder, id, p[0], ts, id + p[0], p[1], id + p[0] + p[1], p[2], v);
    p += 19 + p[0] + p[1] + p[2];
  }
}

static void unpack_customers(Ingest *g, const guint8 *p, size_t n) {
  GByteArray *keep = g_byte_array_sized_new((guint)n);
  g_byte_array_append(keep, p, (guint)n);
  g_array_append_val(g->crm_records, keep);
}

typedef struct {
  guint piece;          /* next piece index to look at */
  PcLineReader *reader; /* open reader of the current piece */
  gboolean done;
} Cursor;

static gboolean open_next(Ingest *g, Cursor *cur, gboolean customers,
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

static gboolean parse_line(Ingest *g, const Piece *p, const char *line,
                           size_t len, uint64_t no, GByteArray **send,
                           GError **error) {
  const char *path = g_ptr_array_index(g->paths, p->file);
  if (no == 1) return pc_csv_check_header(line, len, p->customers, path, error);
  g->data_rows++;
  if (p->customers) {
    PcCustomerRow row;
    PcRejectReason r = pc_csv_parse_customer(line, len, &row);
    if (r != PC_REJECT_NONE) add_reject(g, p->file, no, r, line, len);
    else pack_customer(send[owner_of(g, row.id, row.id_len)], p->file, no, line, (uint32_t)len);
    return TRUE;
  }
  PcCsvRow row;
  PcRejectReason r = pc_csv_parse_event(line, len, &row);
  if (r != PC_REJECT_NONE) add_reject(g, p->file, no, r, line, len);
  else pack_event(send[owner_of(g, row.id, row.id_len)], &row);
  return TRUE;
}

/* Parses until ROUND_BYTES are queued or this rank's input ends. */
static gboolean fill_round(Ingest *g, Cursor *cur, gboolean customers,
                           GByteArray **send, GError **error) {
  size_t queued = 0;
  while (!cur->done && queued < ROUND_BYTES) {
    if (!cur->reader && !open_next(g, cur, customers, error)) return FALSE;
    if (cur->done) break;
    const Piece *p = &g_array_index(g->pieces, Piece, cur->piece - 1);
    const char *line;
    size_t len;
    uint64_t no;
    GError *e = NULL;
    uint64_t before = pc_line_reader_offset(cur->reader);
    while (queued < ROUND_BYTES && pc_line_reader_next(cur->reader, &line, &len, &no, &e)) {
      if (!parse_line(g, p, line, len, no, send, error)) return FALSE;
      queued += len + 24;
    }
    g->bytes_done += pc_line_reader_offset(cur->reader) - before;
    if (e) {
      g_propagate_error(error, e);
      return FALSE;
    }
    if (queued < ROUND_BYTES) {
      if (p->first_line == 1 && pc_line_reader_offset(cur->reader) == 0 && p->start == 0) {
        pc_set_error(error, PC_ERROR_FORMAT, "%s: empty file: the header line is missing", (char *)g_ptr_array_index(g->paths, p->file));
        return FALSE;
      }
      g_clear_pointer(&cur->reader, pc_line_reader_free);
    }
  }
  return TRUE;
}

static gboolean pass(Ingest *g, gboolean customers, GError **error) {
  Cursor cur = {0, NULL, FALSE};
  GByteArray **send = g_new(GByteArray *, g->size);
  for (int r = 0; r < g->size; r++) send[r] = g_byte_array_new();
  gboolean ok = TRUE;
  for (;;) {
    ok = fill_round(g, &cur, customers, send, error);
    if (!pc_comm_agree(g->comm, ok, error)) { ok = FALSE; break; }
    GByteArray *recv = NULL;
    pc_comm_ops(g->comm)->exchange(pc_comm_ops(g->comm)->ctx, send, &recv, error);
    if (customers) unpack_customers(g, recv->data, recv->len);
    else unpack_events(g, recv->data, recv->len);
    g_byte_array_unref(recv);
    for (int r = 0; r < g->size; r++) g_byte_array_set_size(send[r], 0);
    uint64_t left[2] = {cur.done ? 0 : 1, g->bytes_done};
    pc_comm_sum_u64(g->comm, left, 2);
    double dt = pc_comm_wtime() - g->t0;
    pc_progress(g->comm, g->quiet, "ingest: %s %.0f%% (%.1f MB/s)", customers ? "customers" : "events",
                g->bytes_total ? 100.0 * left[1] / g->bytes_total : 100.0, dt > 0 ? left[1] / dt / 1e6 : 0);
    if (!left[0]) break;
  }
  if (cur.reader) pc_line_reader_free(cur.reader);
  for (int r = 0; r < g->size; r++) g_byte_array_unref(send[r]);
  g_free(send);
  return ok;
}

/* ---- customers table: duplicates in (file, line) order ----------------------- */

typedef struct {
  guint file;
  uint64_t line;
  const guint8 *text;
  uint32_t len;
} CrmRec;

static int cmp_crm(const void *a, const void *b) {
  const CrmRec *x = a, *y = b;
  if (x->file != y->file) return x->file < y->file ? -1 : 1;
  return x->line < y->line ? -1 : x->line > y->line;
}

static void add_customers(Ingest *g) {
  GArray *recs = g_array_new(FALSE, FALSE, sizeof(CrmRec));
  for (guint i = 0; i < g->crm_records->len; i++) {
    GByteArray *a = g_array_index(g->crm_records, GByteArray *, i);
    for (const guint8 *p = a->data; p < a->data + a->len;) {
      CrmRec r;
      memcpy(&r.file, p, 4);
      memcpy(&r.line, p + 4, 8);
      memcpy(&r.len, p + 12, 4);
      r.text = p + 16;
      g_array_append_val(recs, r);
      p += 16 + r.len;
    }
  }
  g_array_sort(recs, cmp_crm);
  for (guint i = 0; i < recs->len; i++) {
    CrmRec *r = &g_array_index(recs, CrmRec, i);
    PcCustomerRow row;
    pc_csv_parse_customer((const char *)r->text, r->len, &row);
    if (!pc_shard_builder_add_customer(g->builder, row.id, row.id_len, row.revenue, row.segment, row.segment_len))
      add_reject(g, r->file, r->line, PC_REJECT_DUPLICATE, (const char *)r->text, r->len);
  }
  g_array_free(recs, TRUE);
}

/* ---- rejects ----------------------------------------------------------------- */

static int cmp_reject(const void *a, const void *b) {
  const Reject *x = a, *y = b;
  if (x->file != y->file) return x->file < y->file ? -1 : 1;
  return x->line < y->line ? -1 : x->line > y->line;
}

static GByteArray *pack_rejects(const Ingest *g) {
  GByteArray *out = g_byte_array_new();
  for (guint i = 0; i < g->rejects->len; i++) {
    const Reject *r = &g_array_index(g->rejects, Reject, i);
    uint32_t len = (uint32_t)strlen(r->text), reason = r->reason;
    g_byte_array_append(out, (const guint8 *)&r->file, 4);
    g_byte_array_append(out, (const guint8 *)&r->line, 8);
    g_byte_array_append(out, (const guint8 *)&reason, 4);
    g_byte_array_append(out, (const guint8 *)&len, 4);
    g_byte_array_append(out, (const guint8 *)r->text, len);
  }
  return out;
}

static GArray *unpack_rejects(const GByteArray *in) {
  GArray *out = g_array_new(FALSE, FALSE, sizeof(Reject));
  for (const guint8 *p = in->data; p < in->data + in->len;) {
    Reject r;
    uint32_t reason, len;
    memcpy(&r.file, p, 4);
    memcpy(&r.line, p + 4, 8);
    memcpy(&reason, p + 12, 4);
    memcpy(&len, p + 16, 4);
    r.reason = reason;
    r.text = g_strndup((const char *)p + 20, len);
    g_array_append_val(out, r);
    p += 20 + len;
  }
  g_array_sort(out, cmp_reject);
  return out;
}

static void free_rejects(GArray *a) {
  for (guint i = 0; i < a->len; i++) g_free(g_array_index(a, Reject, i).text);
  g_array_free(a, TRUE);
}

/* Rank 0: the rejects file, the per-reason counts and the batch record. */
static char *write_rejects(Ingest *g, GArray *all, const char *dir,
                           guint batch, uint64_t rows, uint64_t accepted,
                           GError **error) {
  uint64_t by[PC_REJECT_N] = {0};
  g_autofree char *name = g_strdup_printf("rejects-b%06u.tsv", batch);
  g_autofree char *path = g_build_filename(dir, name, NULL);
  GString *s = g_string_new("file\tline\treason\ttext\n");
  for (guint i = 0; i < all->len; i++) {
    Reject *r = &g_array_index(all, Reject, i);
    by[r->reason]++;
    g_string_append_printf(s, "%s\t%" G_GUINT64_FORMAT "\t%s\t%s\n", (char *)g_ptr_array_index(g->paths, r->file), r->line, pc_csv_reason_name(r->reason), r->text);
  }
  GError *e = NULL;
  if (!g_file_set_contents(path, s->str, (gssize)s->len, &e)) {
    pc_set_error(error, PC_ERROR_IO, "%s: %s", path, e->message);
    g_error_free(e);
    g_string_free(s, TRUE);
    return NULL;
  }
  g_string_free(s, TRUE);
  GString *j = g_string_new(NULL);
  g_string_append_printf(j, "{\"batch\":%u,\"buckets\":%" G_GUINT64_FORMAT ",\"ranks\":%d,\"inputs\":[", batch, g->buckets, g->size);
  for (guint f = 0; f < g->paths->len; f++) {
    g_autofree char *esc = g_strescape(g_ptr_array_index(g->paths, f), NULL);
    g_string_append_printf(j, "%s{\"path\":\"%s\",\"kind\":\"%s\"}", f ? "," : "", esc, f < g->n_event_files ? "events" : "customers");
  }
  g_string_append_printf(j, "],\"rows\":%" G_GUINT64_FORMAT ",\"accepted\":%" G_GUINT64_FORMAT ",\"rejected\":%u,\"rejected_by_reason\":{", rows, accepted, all->len);
  gboolean first = TRUE;
  for (int r = 1; r < PC_REJECT_N; r++) {
    if (!by[r]) continue;
    g_string_append_printf(j, "%s\"%s\":%" G_GUINT64_FORMAT, first ? "" : ",", pc_csv_reason_name(r), by[r]);
    first = FALSE;
    if (!g->quiet) fprintf(stderr, "parcours: ingest: rejected %" G_GUINT64_FORMAT " rows: %s\n", by[r], pc_csv_reason_name(r));
  }
  g_string_append_printf(j, "},\"rejects_file\":\"%s\"}", name);
  return g_string_free(j, FALSE);
}

/* ---- the command ----------------------------------------------------------------- */

static gboolean size_inputs(Ingest *g, GError **error) {
  guint n = g->paths->len;
  g->sizes = g_new0(uint64_t, 2 * n);
  gboolean ok = TRUE;
  if (g->rank == 0)
    for (guint f = 0; f < n && ok; f++) {
      struct stat st;
      const char *p = g_ptr_array_index(g->paths, f);
      int serr = stat(p, &st) != 0 ? errno : 0; /* errno is stale when stat succeeds */
      if (serr || !S_ISREG(st.st_mode)) {
        pc_set_error(error, PC_ERROR_IO, "%s: %s", p, serr ? g_strerror(serr) : "not a regular file");
        ok = FALSE;
        break;
      }
      g->sizes[2 * f] = st.st_size;
      ok = TRUE;
      GError *e = NULL;
      g->sizes[2 * f + 1] = pc_csv_is_gzip(p, &e);
      if (e) { g_propagate_error(error, e); ok = FALSE; }
    }
  if (!pc_comm_agree(g->comm, ok, error)) return FALSE;
  pc_comm_bcast_u64(g->comm, g->sizes, 2 * n);
  for (guint f = 0; f < n; f++) g->bytes_total += g->sizes[2 * f];
  return TRUE;
}

typedef struct {
  char *out, *customers;
  gboolean append, quiet;
  gint64 buckets;
  double max_reject;
  char **inputs;
} IngestOpts;

static gboolean open_target(Ingest *g, const IngestOpts *o, PcStore **old,
                            guint *batch, GError **error) {
  uint64_t v[2] = {o->buckets > 0 ? (uint64_t)o->buckets : DEFAULT_BUCKETS, 1};
  gboolean ok = TRUE;
  if (g->rank == 0 && o->append) {
    ok = pc_store_open(o->out, old, error);
    if (ok && o->buckets > 0 && (uint64_t)o->buckets != (*old)->buckets) {
      pc_set_error(error, PC_ERROR_CONFIG, "%s: the store has %" G_GUINT64_FORMAT " buckets; --buckets %" G_GINT64_FORMAT " differs (an append keeps the store's B)", o->out, (*old)->buckets, o->buckets);
      ok = FALSE;
    }
    if (ok) {
      v[0] = (*old)->buckets;
      v[1] = (*old)->batches + 1;
    }
  } else if (g->rank == 0 && g_file_test(o->out, G_FILE_TEST_EXISTS)) {
    pc_set_error(error, PC_ERROR_EXISTS, "%s: already exists (use --append to add a batch, or remove it)", o->out);
    ok = FALSE;
  }
  if (!pc_comm_agree(g->comm, ok, error)) return FALSE;
  pc_comm_bcast_u64(g->comm, v, 2);
  g->buckets = v[0];
  *batch = (guint)v[1];
  return TRUE;
}

static gboolean ingest(Ingest *g, const IngestOpts *o, GError **error) {
  g_autoptr(PcStore) old = NULL;
  guint batch = 1;
  if (!open_target(g, o, &old, &batch, error) || !size_inputs(g, error)) return FALSE;
  split_inputs(g);
  if (!number_lines(g, error)) return FALSE;
  g->builder = pc_shard_builder_new(g->buckets);
  if (!pass(g, FALSE, error) || !pass(g, TRUE, error)) return FALSE;
  add_customers(g);
  /* staging dir: rank 0 creates it, everyone learns its name */
  g_autofree char *staging = NULL;
  gboolean ok = TRUE;
  if (g->rank == 0) ok = (staging = pc_store_staging_dir(o->out, o->append, error)) != NULL;
  if (!pc_comm_agree(g->comm, ok, error)) return FALSE;
  size_t slen = g->rank == 0 ? strlen(staging) + 1 : 0;
  pc_comm_bcast_bytes(g->comm, (void **)&staging, &slen);
  /* counts and rejects */
  g_autoptr(GByteArray) mine = pack_rejects(g);
  GByteArray *allr = NULL;
  pc_comm_ops(g->comm)->gather(g->comm, mine->data, mine->len, &allr, error);
  uint64_t cnt[3] = {g->data_rows, g->rejects->len, pc_shard_builder_events(g->builder)};
  pc_comm_sum_u64(g->comm, cnt, 3);
  g_autofree char *record = NULL;
  if (g->rank == 0) {
    GArray *all = unpack_rejects(allr);
    record = write_rejects(g, all, staging, batch, cnt[0], cnt[0] - cnt[1], error);
    ok = record != NULL;
    double share = cnt[0] ? (double)cnt[1] / (double)cnt[0] : 0;
    if (ok && share > o->max_reject) {
      /* name the first rejected row (file:line: reason), so the message
       * alone says where to look; the rejects file has them all */
      const Reject *r0 = &g_array_index(all, Reject, 0);
      pc_set_error(error, PC_ERROR_REJECTS, "%" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT " data rows rejected (%.6g), more than --max-reject-fraction %.6g (first: %s:%" G_GUINT64_FORMAT ": %s); nothing was added to %s; the rejected rows are listed in %s/rejects-b%06u.tsv", cnt[1], cnt[0], share, o->max_reject, (char *)g_ptr_array_index(g->paths, r0->file), r0->line, pc_csv_reason_name(r0->reason), o->out, staging, batch);
      ok = FALSE;
    }
    free_rejects(all);
    g_byte_array_unref(allr);
  }
  if (!pc_comm_agree(g->comm, ok, error)) return FALSE;
  size_t rlen = g->rank == 0 ? strlen(record) + 1 : 0;
  pc_comm_bcast_bytes(g->comm, (void **)&record, &rlen);
  /* every rank writes its shard */
  g_autofree char *name = pc_store_shard_name(batch, g->rank);
  g_autofree char *path = g_build_filename(staging, name, NULL);
  g_autoptr(PcShardData) shard = pc_shard_builder_finish(g_steal_pointer(&g->builder));
  ok = pc_h5io_write_shard(path, shard, record, error);
  g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func(g_free);
  for (int r = 0; r < g->size; r++) g_ptr_array_add(files, pc_store_shard_name(batch, r));
  if (!pc_comm_agree(g->comm, ok, error)) {
    if (g->rank == 0) pc_store_abandon(o->out, staging, o->append, files);
    return FALSE;
  }
  if (g->rank == 0) {
    g_autofree char *bj = g_strdup_printf("%s/batch-%06u.json", staging, batch);
    ok = g_file_set_contents(bj, record, -1, NULL) &&
         pc_store_commit(o->out, staging, old, g->buckets, files, error);
    if (!ok) pc_store_abandon(o->out, staging, o->append, files);
    else if (!g->quiet)
      fprintf(stderr, "parcours: ingest: %s batch %u: %" G_GUINT64_FORMAT " events from %" G_GUINT64_FORMAT " data rows, %" G_GUINT64_FORMAT " rejected, %d shards, %.2f s\n", o->out, batch, cnt[2], cnt[0], cnt[1], g->size, pc_comm_wtime() - g->t0);
  }
  return pc_comm_agree(g->comm, ok, error);
}

int pc_cmd_ingest(PcComm *c, int argc, char **argv) {
  IngestOpts o = {0};
  o.buckets = 0;
  GOptionEntry entries[] = {
      {"output", 'o', 0, G_OPTION_ARG_FILENAME, &o.out, "Store directory to create (or to extend with --append)", "STORE"},
      {"append", 0, 0, G_OPTION_ARG_NONE, &o.append, "Add these inputs as a new batch of shards to an existing store (same bucket count); readers see the old or the new history, never a mix", NULL},
      {"customers", 0, 0, G_OPTION_ARG_FILENAME, &o.customers, "Customers table CSV (customer_id,revenue,segment; plain or gzip)", "FILE"},
      {"buckets", 0, 0, G_OPTION_ARG_INT64, &o.buckets, "Number of customer buckets B of a new store (default 4096); customer -> FNV-1a-64(id) mod B", "B"},
      {"max-reject-fraction", 0, 0, G_OPTION_ARG_DOUBLE, &o.max_reject, "Fail (adding nothing) when rejected rows / data rows exceeds F (default 0: any rejected row fails)", "F"},
      {"quiet", 'q', 0, G_OPTION_ARG_NONE, &o.quiet, "No progress lines on stderr", NULL},
      {G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &o.inputs, NULL, "INPUT..."},
      {NULL, 0, 0, 0, NULL, NULL, NULL}};
  int status;
  if (!pc_cmd_parse(c, "ingest", "-o STORE",
                    "Validates canonical event CSV files (spec §1; plain or .gz) and writes them as a batch of HDF5 shards,\n"
                    "one per rank, grouped by customer bucket. Rejected rows go to STORE/rejects-bNNNNNN.tsv\n"
                    "(file, line, reason, text) and are counted by reason.",
                    "Run under mpirun -np P to parse and write in parallel. Exit status 0 on success.",
                    entries, &argc, &argv, &status))
    return status;
  g_autoptr(GError) e = NULL;
  int rc = 0;
  if (!o.out || !o.inputs || !o.inputs[0]) {
    if (pc_comm_rank(c) == 0) fprintf(stderr, "parcours ingest: -o STORE and at least one INPUT are required (see --help)\n");
    rc = 2;
  } else if (o.buckets < 0 || o.buckets > (INT64_C(1) << 31) || o.max_reject < 0 || o.max_reject > 1) {
    if (pc_comm_rank(c) == 0) fprintf(stderr, "parcours ingest: --buckets must be 1..2^31 and --max-reject-fraction 0..1\n");
    rc = 2;
  } else {
    Ingest g = {c, pc_comm_rank(c), pc_comm_size(c), o.quiet, 0, g_ptr_array_new(), 0, NULL,
                g_array_new(FALSE, FALSE, sizeof(Piece)), g_array_new(FALSE, FALSE, sizeof(Reject)),
                0, 0, 0, pc_comm_wtime(), NULL, g_array_new(FALSE, FALSE, sizeof(GByteArray *))};
    for (char **p = o.inputs; *p; p++) g_ptr_array_add(g.paths, *p);
    g.n_event_files = g.paths->len;
    if (o.customers) g_ptr_array_add(g.paths, o.customers);
    if (!ingest(&g, &o, &e)) {
      pc_cmd_fail(c, "ingest", e);
      rc = 1;
    }
    for (guint i = 0; i < g.crm_records->len; i++) g_byte_array_unref(g_array_index(g.crm_records, GByteArray *, i));
    g_array_free(g.crm_records, TRUE);
    free_rejects(g.rejects);
    g_array_free(g.pieces, TRUE);
    g_ptr_array_unref(g.paths);
    g_free(g.sizes);
    pc_shard_builder_free(g.builder);
  }
  g_free(o.out);
  g_free(o.customers);
  g_strfreev(o.inputs);
  return rc;
}
