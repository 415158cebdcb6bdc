/* shardsort_crm.c - the customers table of a shard in bounded memory
 * (pc_shardsort.h): rows buffered with their line, sorted by (bucket, id,
 * file, line), spilled as runs, merged; the first row of an id is kept,
 * later ones go to the sink's duplicate function.
 *
 * Owns the customers table's run format (private). Does not own the rows'
 * rules (csv.c parses each line again here: it was valid when added) nor
 * events (shardsort.c). No MPI, no HDF5.
 *
 * Invariant: rows of one id reach the merge in (file, line) order, so
 * "the first of a repeated id is kept" (docs/format.md) holds whatever
 * runs the rows were spilled in.
 */
#include "shardsort_int.h"

#include <stdlib.h>

/* Run format, per row: this header, then the line. */
typedef struct __attribute__((packed)) {
  uint32_t bucket;
  uint32_t file;
  uint64_t line;
  uint32_t len;
} CrmHead;

void pc_shardsort_crm_clear(PcShardSort *s) {
  g_clear_pointer(&s->crm, g_free);
  g_clear_pointer(&s->text, g_free);
  s->crm_n = s->crm_alloc = s->text_n = s->text_alloc = 0;
}

/* (bucket, id, file, line) of two rows; text: the text area. */
static int crm_cmp(const void *pa, const void *pb, void *text) {
  const CrmRec *a = pa, *b = pb;
  if (a->bl != b->bl && rec_bucket(a->bl) != rec_bucket(b->bl)) return rec_bucket(a->bl) < rec_bucket(b->bl) ? -1 : 1;
  if (a->k0 != b->k0) return a->k0 < b->k0 ? -1 : 1;
  if (a->k1 != b->k1) return a->k1 < b->k1 ? -1 : 1;
  const guint8 *t = text;
  int c = pc_bytes_cmp(t + a->text, rec_len(a->bl), t + b->text, rec_len(b->bl));
  if (c) return c;
  if (a->file != b->file) return a->file < b->file ? -1 : 1;
  return a->line < b->line ? -1 : a->line > b->line;
}

static gboolean crm_spill(PcShardSort *s, GError **error) {
  qsort_r(s->crm, s->crm_n, sizeof(CrmRec), crm_cmp, s->text);
  g_autoptr(PcRunFile) f = pc_runfile_new(s->dir, SORT_WRITE_BUF_BYTES, error);
  if (!f) return FALSE;
  for (size_t i = 0; i < s->crm_n; i++) {
    const CrmRec *r = &s->crm[i];
    CrmHead h = {rec_bucket(r->bl), r->file, r->line, r->len};
    if (!pc_runfile_write(f, &h, sizeof h, error) || !pc_runfile_write(f, s->text + r->text, r->len, error))
      return FALSE;
  }
  if (!pc_runfile_rewind(f, SORT_MIN_READ_BUF_BYTES, error)) return FALSE;
  g_ptr_array_add(s->crm_runs, g_steal_pointer(&f));
  s->runs++;
  s->crm_n = s->text_n = 0;
  return TRUE;
}

gboolean pc_shardsort_add_crm(PcShardSort *s, uint32_t bucket, uint32_t file,
                              uint64_t no, const char *text, uint32_t len,
                              GError **error) {
  PcCustomerRow row;
  PcRejectReason why = pc_csv_parse_customer(text, len, &row);
  g_assert(why == PC_REJECT_NONE); /* the caller parsed it */
  if (s->crm_n * sizeof(CrmRec) + s->text_n + len >= s->crm_cap_bytes && s->crm_n > 0 &&
      !crm_spill(s, error))
    return FALSE;
  sort_reserve((void **)&s->crm, &s->crm_alloc, s->crm_n + 1, sizeof(CrmRec));
  sort_reserve((void **)&s->text, &s->text_alloc, s->text_n + len, 1);
  CrmRec *r = &s->crm[s->crm_n++];
  id_key(row.id, row.id_len, &r->k0, &r->k1);
  r->line = no;
  r->text = s->text_n;
  r->bl = bucket | row.id_len << 24;
  r->file = file;
  r->len = len;
  memcpy(s->text + s->text_n, text, len);
  s->text_n += len;
  return TRUE;
}

/* ---- Merge ---------------------------------------------------------------------- */

/* A run of rows, or (f NULL) the sorted buffer, one row at a time. */
typedef struct {
  PcRunFile *f;
  const PcShardSort *s;
  size_t at;
  CrmHead h;
  const char *text;    /* the line (in the run's buffer or the text area) */
  char *copy;          /* a run's line, copied: the next read moves the buffer */
  size_t copy_cap;
  PcCustomerRow row;
} CSrc;

/* Loads the next row: 1; 0 at the end; -1 on a read error. */
static int csrc_next(CSrc *c, GError **error) {
  if (!c->f) {
    if (c->at >= c->s->crm_n) return 0;
    const CrmRec *r = &c->s->crm[c->at++];
    c->h = (CrmHead){rec_bucket(r->bl), r->file, r->line, r->len};
    c->text = (const char *)c->s->text + r->text;
  } else {
    const void *p;
    GError *e = NULL;
    if (!pc_runfile_read(c->f, sizeof c->h, &p, &e)) {
      if (!e) return 0;
      g_propagate_error(error, e);
      return -1;
    }
    memcpy(&c->h, p, sizeof c->h);
    if (!pc_runfile_read(c->f, c->h.len, &p, &e)) {
      if (!e) pc_set_error(&e, PC_ERROR_IO, "%s: a sorted run ends inside a customers-table row", c->s->dir);
      g_propagate_error(error, e);
      return -1;
    }
    sort_reserve((void **)&c->copy, &c->copy_cap, c->h.len + 1, 1);
    memcpy(c->copy, p, c->h.len);
    c->text = c->copy;
  }
  PcRejectReason why = pc_csv_parse_customer(c->text, c->h.len, &c->row);
  g_assert(why == PC_REJECT_NONE);
  return 1;
}

static int csrc_cmp(const void *a, const void *b) {
  const CSrc *x = a, *y = b;
  if (x->h.bucket != y->h.bucket) return x->h.bucket < y->h.bucket ? -1 : 1;
  int c = pc_bytes_cmp(x->row.id, x->row.id_len, y->row.id, y->row.id_len);
  if (c) return c;
  if (x->h.file != y->h.file) return x->h.file < y->h.file ? -1 : 1;
  return x->h.line < y->h.line ? -1 : x->h.line > y->h.line;
}

typedef struct {
  const PcShardSink *sink;     /* NULL: write rows to run */
  PcRunFile *run;
  uint32_t last_bucket, last_len;
  char last[PC_MAX_ID_BYTES + 1];
  gboolean any;
} COut;

/* The row at the top to the output: kept, or a duplicate of the last. */
static gboolean cout_put(COut *o, const CSrc *c, GError **error) {
  if (o->run)
    return pc_runfile_write(o->run, &c->h, sizeof c->h, error) && pc_runfile_write(o->run, c->text, c->h.len, error);
  const PcCustomerRow *r = &c->row;
  if (o->any && o->last_bucket == c->h.bucket && !pc_bytes_cmp(o->last, o->last_len, r->id, r->id_len)) {
    o->sink->duplicate(o->sink->ctx, c->h.file, c->h.line, c->text, c->h.len);
    return TRUE;
  }
  o->any = TRUE;
  o->last_bucket = c->h.bucket;
  o->last_len = r->id_len;
  memcpy(o->last, r->id, r->id_len);
  return o->sink->crm(o->sink->ctx, c->h.bucket, r->id, r->id_len, r->revenue, r->segment, r->segment_len, error);
}

/* Merges runs files[0..n) (and the buffer when mem) into o. */
static gboolean cmerge_pass(PcShardSort *s, PcRunFile **files, size_t n,
                            gboolean mem, COut *o, GError **error) {
  size_t ns = n + (mem ? 1 : 0), nh = 0, rb = pc_shardsort_read_buf(s, ns);
  g_autofree CSrc *src = g_new0(CSrc, ns + 1);
  g_autofree void **heap = g_new(void *, ns + 1);
  gboolean ok = TRUE;
  for (size_t i = 0; ok && i < ns; i++) {
    src[i] = (CSrc){.f = i < n ? files[i] : NULL, .s = s};
    ok = !src[i].f || pc_runfile_rewind(src[i].f, rb, error);
    int r = ok ? csrc_next(&src[i], error) : -1;
    if (r > 0) heap[nh++] = &src[i];
    ok = r >= 0;
  }
  pc_sortheap_make(heap, nh, csrc_cmp);
  while (ok && nh > 0) {
    CSrc *c = heap[0];
    ok = cout_put(o, c, error);
    int r = ok ? csrc_next(c, error) : -1;
    ok = r >= 0;
    if (r == 0) heap[0] = heap[--nh];
    pc_sortheap_down(heap, nh, 0, csrc_cmp);
  }
  for (size_t i = 0; i < ns; i++) g_free(src[i].copy);
  return ok;
}

gboolean pc_shardsort_crm_merge(PcShardSort *s, const PcShardSink *sink,
                                GError **error) {
  qsort_r(s->crm, s->crm_n, sizeof(CrmRec), crm_cmp, s->text);
  size_t fan = pc_shardsort_fan_in(s);
  while (s->crm_runs->len + 1 > fan) {
    COut o = {.run = pc_runfile_new(s->dir, SORT_WRITE_BUF_BYTES, error)};
    if (!o.run || !cmerge_pass(s, (PcRunFile **)s->crm_runs->pdata, fan, FALSE, &o, error)) {
      pc_runfile_free(o.run);
      return FALSE;
    }
    g_ptr_array_remove_range(s->crm_runs, 0, (guint)fan);
    g_ptr_array_add(s->crm_runs, o.run);
    s->runs++;
  }
  COut o = {.sink = sink};
  gboolean ok = cmerge_pass(s, (PcRunFile **)s->crm_runs->pdata, s->crm_runs->len, TRUE, &o, error);
  g_ptr_array_set_size(s->crm_runs, 0);
  pc_shardsort_crm_clear(s);
  return ok;
}
