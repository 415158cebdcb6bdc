/* shardsort_merge.c - the sorted runs of events (pc_shardsort.h): their
 * format on disk, and the k-way merge of the runs and the last buffer,
 * customer by customer in (bucket, id) order, into the sink, in passes of
 * at most fan-in runs.
 *
 * Owns the run format (private, never read by another version): per
 * customer a header, the id, the events as varints. Does not own the
 * buffer and its sort (shardsort.c) or the customers table
 * (shardsort_crm.c). No MPI, no HDF5.
 *
 * Invariant: a customer's events come out of one source in journey order
 * (a run was sorted by names' ranks at its spill, which order names as
 * the final ranks do); from several sources they are joined and sorted
 * again by the final ranks.
 */
#include "shardsort_int.h"

#include <stdlib.h>

/* Run format, per customer: this header, the id bytes, then its n events
 * encoded in `bytes` bytes: varints of the timestamp (the first zigzag,
 * then deltas: the events are in time order), the first-seen event and
 * channel ids and the zigzag value; about 8 bytes an event instead of 24
 * (spilled runs are written and read once more: disk bandwidth is what
 * they cost). */
typedef struct __attribute__((packed)) {
  uint32_t bucket;
  uint8_t id_len;
  uint32_t n;
  uint32_t bytes;
} RunHead;

#define RUN_EVENT_MAX_BYTES 30 /* 10 + 5 + 5 + 10: the longest encoded event */

static inline guint8 *put_varint(guint8 *p, uint64_t v) {
  while (v >= 0x80) *p++ = (guint8)(v | 0x80), v >>= 7;
  *p++ = (guint8)v;
  return p;
}

static inline uint64_t zigzag(int64_t v) { return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63); }
static inline int64_t unzigzag(uint64_t u) { return (int64_t)(u >> 1) ^ -(int64_t)(u & 1); }

/* NULL when the varint runs past end (a damaged run). */
static inline const guint8 *get_varint(const guint8 *p, const guint8 *end, uint64_t *v) {
  uint64_t x = 0;
  for (int shift = 0; p < end && shift < 64; shift += 7) {
    guint8 b = *p++;
    x |= (uint64_t)(b & 0x7F) << shift;
    if (!(b & 0x80)) {
      *v = x;
      return p;
    }
  }
  return NULL;
}

/* ev[0..n) encoded into out (n * RUN_EVENT_MAX_BYTES at least); its length. */
static size_t encode_events(const PcEvent *ev, size_t n, guint8 *out) {
  guint8 *p = out;
  for (size_t i = 0; i < n; i++) {
    p = put_varint(p, i ? (uint64_t)(ev[i].ts_us - ev[i - 1].ts_us) : zigzag(ev[i].ts_us));
    p = put_varint(p, ev[i].event);
    p = put_varint(p, ev[i].channel);
    p = put_varint(p, zigzag(ev[i].value));
  }
  return (size_t)(p - out);
}

static gboolean decode_events(const guint8 *p, size_t bytes, PcEvent *ev, size_t n) {
  const guint8 *end = p + bytes;
  uint64_t t, e, c, v;
  for (size_t i = 0; i < n; i++) {
    if (!(p = get_varint(p, end, &t)) || !(p = get_varint(p, end, &e)) ||
        !(p = get_varint(p, end, &c)) || !(p = get_varint(p, end, &v)))
      return FALSE;
    ev[i] = (PcEvent){i ? ev[i - 1].ts_us + (int64_t)t : unzigzag(t), unzigzag(v), (uint32_t)e, (uint32_t)c};
  }
  return p == end;
}

gboolean pc_shardsort_run_put(PcRunFile *f, uint32_t bucket, const char *id, uint32_t len,
                        const PcEvent *ev, size_t n, GByteArray *scratch, GError **error) {
  g_byte_array_set_size(scratch, (guint)(n * RUN_EVENT_MAX_BYTES));
  RunHead h = {bucket, (uint8_t)len, (uint32_t)n, (uint32_t)encode_events(ev, n, scratch->data)};
  return pc_runfile_write(f, &h, sizeof h, error) && pc_runfile_write(f, id, len, error) &&
         pc_runfile_write(f, scratch->data, h.bytes, error);
}

/* ---- Merge sources --------------------------------------------------------------- */

/* A sorted run, or (f NULL) the sorted buffer, one customer at a time. */
typedef struct {
  PcRunFile *f;
  const PcShardSort *s;
  size_t at;           /* the buffer: next record */
  uint32_t bucket, id_len;
  char id[PC_MAX_ID_BYTES + 1];
  PcEvent *ev;
  size_t n, cap;
} Src;

/* Loads the source's next customer: 1; 0 at its end; -1 on a read error
 * (*error set). */
static int src_next(Src *c, GError **error) {
  if (!c->f) {
    if (c->at >= c->s->ev_n) return 0;
    c->bucket = rec_bucket(c->s->ev[c->at].bl);
    c->id_len = rec_len(c->s->ev[c->at].bl);
    c->at = pc_shardsort_customer(c->s, c->at, c->id, &c->ev, &c->cap, &c->n);
    return 1;
  }
  const void *p;
  RunHead h;
  GError *e = NULL;
  if (!pc_runfile_read(c->f, sizeof h, &p, &e)) {
    if (!e) return 0;
    g_propagate_error(error, e);
    return -1;
  }
  memcpy(&h, p, sizeof h);
  c->bucket = h.bucket, c->id_len = h.id_len, c->n = h.n;
  sort_reserve((void **)&c->ev, &c->cap, h.n, sizeof(PcEvent));
  if (!pc_runfile_read(c->f, h.id_len, &p, &e)) goto truncated;
  memcpy(c->id, p, h.id_len);
  if (!pc_runfile_read(c->f, h.bytes, &p, &e)) goto truncated;
  if (decode_events(p, h.bytes, c->ev, h.n)) return 1;
truncated:
  if (!e) pc_set_error(&e, PC_ERROR_IO, "%s: a sorted run is damaged (a customer ends early)", c->s->dir);
  g_propagate_error(error, e);
  return -1;
}

static int src_cmp(const void *a, const void *b) {
  const Src *x = a, *y = b;
  if (x->bucket != y->bucket) return x->bucket < y->bucket ? -1 : 1;
  return pc_bytes_cmp(x->id, x->id_len, y->id, y->id_len);
}

void pc_sortheap_down(void **h, size_t n, size_t i, HeapCmp cmp) {
  for (;;) {
    size_t l = 2 * i + 1, m = i;
    if (l < n && cmp(h[l], h[m]) < 0) m = l;
    if (l + 1 < n && cmp(h[l + 1], h[m]) < 0) m = l + 1;
    if (m == i) return;
    void *t = h[i];
    h[i] = h[m], h[m] = t;
    i = m;
  }
}

void pc_sortheap_make(void **h, size_t n, HeapCmp cmp) {
  for (size_t i = n / 2; i-- > 0;) pc_sortheap_down(h, n, i, cmp);
}

/* ---- Merging ----------------------------------------------------------------------- */

/* Where a merge pass puts each customer: the sink (final ids) or a run. */
typedef struct {
  PcShardSort *s;
  const PcShardSink *sink;
  PcRunFile *run;
  GByteArray *scratch;         /* run: the events' encoding */
  const uint32_t *evr, *chr;   /* final ranks = the shard's ids */
  PcEvent *ev;                 /* a customer gathered from several sources */
  size_t cap;
} Out;

static int final_cmp(const void *a, const void *b, void *vo) {
  const PcEvent *x = a, *y = b;
  const Out *o = vo;
  if (x->ts_us != y->ts_us) return x->ts_us < y->ts_us ? -1 : 1;
  if (o->evr[x->event] != o->evr[y->event]) return o->evr[x->event] < o->evr[y->event] ? -1 : 1;
  if (o->chr[x->channel] != o->chr[y->channel]) return o->chr[x->channel] < o->chr[y->channel] ? -1 : 1;
  if (x->value != y->value) return x->value < y->value ? -1 : 1;
  return 0;
}

/* One customer (events in journey order, first-seen ids) to the output. */
static gboolean out_put(Out *o, uint32_t bucket, const char *id, uint32_t len,
                        PcEvent *ev, size_t n, GError **error) {
  if (o->run) return pc_shardsort_run_put(o->run, bucket, id, len, ev, n, o->scratch, error);
  for (size_t i = 0; i < n; i++) {
    ev[i].event = o->evr[ev[i].event];
    ev[i].channel = o->chr[ev[i].channel];
  }
  return o->sink->customer(o->sink->ctx, bucket, id, len, ev, n, error);
}

/* Pops the smallest customer and every source holding the same one,
 * joins their events, outputs them and advances the sources. */
static gboolean merge_step(void **heap, size_t *nh, Out *o, GError **error) {
  Src *top = heap[0];
  size_t n = 0;
  g_autoptr(GPtrArray) same = g_ptr_array_new();
  do {
    Src *c = heap[0];
    g_ptr_array_add(same, c);
    sort_reserve((void **)&o->ev, &o->cap, n + c->n, sizeof(PcEvent));
    memcpy(o->ev + n, c->ev, c->n * sizeof(PcEvent));
    n += c->n;
    heap[0] = heap[--*nh];
    pc_sortheap_down(heap, *nh, 0, src_cmp);
  } while (*nh > 0 && src_cmp(heap[0], top) == 0);
  if (same->len > 1) qsort_r(o->ev, n, sizeof(PcEvent), final_cmp, o);
  if (!out_put(o, top->bucket, top->id, top->id_len, o->ev, n, error)) return FALSE;
  for (guint i = 0; i < same->len; i++) {
    Src *c = g_ptr_array_index(same, i);
    int r = src_next(c, error);
    if (r < 0) return FALSE;
    if (r == 0) continue;
    heap[(*nh)++] = c;
    for (size_t k = *nh - 1; k > 0 && src_cmp(heap[k], heap[(k - 1) / 2]) < 0; k = (k - 1) / 2) {
      void *t = heap[k];
      heap[k] = heap[(k - 1) / 2], heap[(k - 1) / 2] = t;
    }
  }
  return TRUE;
}

/* Merges the runs files[0..n) (and the buffer when mem) into o. */
static gboolean merge_pass(PcShardSort *s, PcRunFile **files, size_t n,
                           gboolean mem, Out *o, GError **error) {
  size_t ns = n + (mem ? 1 : 0), nh = 0, rb = pc_shardsort_read_buf(s, ns);
  g_autofree Src *src = g_new0(Src, ns + 1);
  g_autofree void **heap = g_new(void *, ns + 1);
  gboolean ok = TRUE;
  for (size_t i = 0; ok && i < ns; i++) {
    src[i].s = s;
    src[i].f = i < n ? files[i] : NULL;
    ok = !src[i].f || pc_runfile_rewind(src[i].f, rb, error);
    int r = ok ? src_next(&src[i], error) : -1;
    if (r > 0) heap[nh++] = &src[i];
    ok = r >= 0;
  }
  pc_sortheap_make(heap, nh, src_cmp);
  while (ok && nh > 0) ok = merge_step(heap, &nh, o, error);
  for (size_t i = 0; i < ns; i++) g_free(src[i].ev);
  return ok;
}

/* While there are more runs than one pass can read, the first fan-in of
 * them become one run. */
static gboolean merge_groups(PcShardSort *s, Out *final, GError **error) {
  size_t fan = pc_shardsort_fan_in(s);
  while (s->ev_runs->len + 1 > fan) {
    Out o = *final;
    o.sink = NULL, o.ev = NULL, o.cap = 0;
    o.run = pc_runfile_new(s->dir, SORT_WRITE_BUF_BYTES, error);
    o.scratch = g_byte_array_new();
    gboolean ok = o.run && merge_pass(s, (PcRunFile **)s->ev_runs->pdata, fan, FALSE, &o, error);
    g_free(o.ev);
    g_byte_array_unref(o.scratch);
    if (!ok) {
      pc_runfile_free(o.run);
      return FALSE;
    }
    g_ptr_array_remove_range(s->ev_runs, 0, (guint)fan);
    g_ptr_array_add(s->ev_runs, o.run);
    s->runs++;
  }
  return TRUE;
}

gboolean pc_shardsort_merge(PcShardSort *s, const PcShardSink *sink,
                            GError **error) {
  g_autofree uint32_t *evr = pc_shardsort_ranks(&s->evn, NULL), *chr = pc_shardsort_ranks(&s->chan, NULL);
  Out o = {s, sink, NULL, NULL, evr, chr, NULL, 0};
  pc_shardsort_sort_buffer(s);
  gboolean ok = merge_groups(s, &o, error) &&
                merge_pass(s, (PcRunFile **)s->ev_runs->pdata, s->ev_runs->len, TRUE, &o, error);
  g_free(o.ev);
  /* the events are out: their memory goes before the customers table's merge */
  g_ptr_array_set_size(s->ev_runs, 0);
  pc_shardsort_clear_events(s);
  return ok && pc_shardsort_crm_merge(s, sink, error);
}
