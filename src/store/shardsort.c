/* shardsort.c - the sort of a shard's rows in bounded memory
 * (pc_shardsort.h): names, the event buffer, sorted runs of events, the
 * k-way merge into the sink. The customers table is shardsort_crm.c.
 *
 * How a run is made: rows are appended as 48-byte records; when the buffer
 * reaches its share of the budget, records are partitioned by bucket in
 * place (one American-flag pass: O(n), no second buffer), each bucket is
 * sorted by (id, journey key) with an inlined quicksort (the first 16 id
 * bytes are two integer compares), and customers are written as blocks
 * {bucket, id, n, n events} to an anonymous run file. Names are interned
 * by first sight; a run is sorted by the names' ranks among the names seen
 * so far, which order two names as their final ranks do, so runs stay
 * valid as names arrive. The merge pops customers in (bucket, id) order
 * from a heap of runs (plus the last buffer, sorted in memory), joins a
 * customer's events from several runs and sorts them by final ranks. More
 * runs than the merge memory can buffer are first merged in groups.
 *
 * Owns the run format (private, never read by another version). Does not
 * own where rows come from (ingest_parse.c), the shard file (h5stream.c)
 * or the customers table (shardsort_crm.c). No MPI, no HDF5.
 */
#include "shardsort_int.h"

#include <stdlib.h>

/* ---- Names ------------------------------------------------------------------- */

static void names_init(NameTab *t) {
  t->names = g_ptr_array_new_with_free_func(g_free);
  t->lens = g_array_new(FALSE, FALSE, 1);
  t->hashes = g_array_new(FALSE, FALSE, sizeof(uint64_t));
  t->nslots = 64;
  t->slots = g_new0(uint32_t, t->nslots);
}

static void names_clear(NameTab *t) {
  if (t->names) g_ptr_array_unref(t->names);
  if (t->lens) g_array_unref(t->lens);
  if (t->hashes) g_array_unref(t->hashes);
  g_free(t->slots);
}

static void names_grow(NameTab *t) {
  uint32_t n = t->nslots * 2;
  uint32_t *s = g_new0(uint32_t, n);
  for (guint i = 0; i < t->names->len; i++) {
    uint64_t p = g_array_index(t->hashes, uint64_t, i) & (n - 1);
    while (s[p]) p = (p + 1) & (n - 1);
    s[p] = i + 1;
  }
  g_free(t->slots);
  t->slots = s;
  t->nslots = n;
}

/* First-seen id of the name s[0..len). */
static uint32_t names_intern(NameTab *t, const char *s, uint32_t len) {
  uint64_t h = pc_fnv1a64(s, len), p = h & (t->nslots - 1);
  for (; t->slots[p]; p = (p + 1) & (t->nslots - 1)) {
    uint32_t i = t->slots[p] - 1;
    if (g_array_index(t->hashes, uint64_t, i) == h && g_array_index(t->lens, guint8, i) == len &&
        memcmp(g_ptr_array_index(t->names, i), s, len) == 0)
      return i;
  }
  uint32_t id = t->names->len;
  guint8 l = (guint8)len;
  g_ptr_array_add(t->names, g_strndup(s, len));
  g_array_append_val(t->lens, l);
  g_array_append_val(t->hashes, h);
  t->slots[p] = id + 1;
  if (2 * t->names->len > t->nslots) names_grow(t);
  return id;
}

/* rank[first-seen id] = the name's rank among all names now known; *dict
 * (if not NULL) gets the sorted dictionary. Caller g_free()s. */
static uint32_t *names_ranks(const NameTab *t, PcDict **dict) {
  g_autoptr(PcDict) d = pc_dict_new_sorted((char **)t->names->pdata, t->names->len);
  uint32_t *rank = g_new(uint32_t, t->names->len + 1);
  for (guint i = 0; i < t->names->len; i++) rank[i] = (uint32_t)pc_dict_find(d, g_ptr_array_index(t->names, i));
  if (dict) *dict = g_steal_pointer(&d);
  return rank;
}

void pc_shardsort_names(const PcShardSort *s, PcDict **channels,
                        PcDict **events) {
  g_free(names_ranks(&s->chan, channels));
  g_free(names_ranks(&s->evn, events));
}

/* ---- Life cycle ------------------------------------------------------------------ */

/* The event buffer is allocated at its full capacity once (pages are
 * taken as rows fill it, and reused by every run): growing it by doubling
 * touched fresh memory again at each step. */
static void ev_buffer_free(PcShardSort *s) {
  g_clear_pointer(&s->ev, g_free);
  s->ev_alloc = 0;
}

PcShardSort *pc_shardsort_new(uint64_t buckets, const char *dir,
                              size_t mem_bytes) {
  PcShardSort *s = g_new0(PcShardSort, 1);
  mem_bytes = MAX(mem_bytes, (size_t)64 << 10);
  s->buckets = buckets;
  s->dir = g_strdup(dir);
  s->ev_cap_bytes = mem_bytes / 2;     /* events: the most rows */
  s->crm_cap_bytes = mem_bytes / 5;    /* customers table: kept while events merge */
  s->merge_bytes = mem_bytes / 4;      /* read buffers of the runs */
  names_init(&s->chan);
  names_init(&s->evn);
  s->used = g_malloc0(buckets);
  s->bmin = UINT32_MAX;
  s->ev_runs = g_ptr_array_new_with_free_func((GDestroyNotify)pc_runfile_free);
  s->crm_runs = g_ptr_array_new_with_free_func((GDestroyNotify)pc_runfile_free);
  return s;
}

void pc_shardsort_free(PcShardSort *s) {
  if (!s) return;
  names_clear(&s->chan);
  names_clear(&s->evn);
  ev_buffer_free(s);
  g_free(s->tails);
  g_free(s->used);
  g_ptr_array_unref(s->ev_runs);
  pc_shardsort_crm_clear(s);
  g_ptr_array_unref(s->crm_runs);
  g_free(s->dir);
  g_free(s);
}

uint64_t pc_shardsort_events(const PcShardSort *s) { return s->events; }
uint64_t pc_shardsort_buckets_used(const PcShardSort *s) { return s->used_n; }
guint pc_shardsort_runs(const PcShardSort *s) { return s->runs; }

size_t pc_shardsort_read_buf(const PcShardSort *s, size_t n) {
  size_t b = n ? s->merge_bytes / n : s->merge_bytes;
  return CLAMP(b, SORT_MIN_READ_BUF_BYTES, SORT_MAX_READ_BUF_BYTES);
}

size_t pc_shardsort_fan_in(const PcShardSort *s) {
  return MAX(s->merge_bytes / SORT_MIN_READ_BUF_BYTES, (size_t)2);
}

/* ---- Sorting a buffer ------------------------------------------------------------- */

typedef struct {
  const guint8 *tails;
  const uint32_t *evr, *chr; /* ranks of first-seen ids */
} Order;

/* (id, ts, event, channel, value) of two records of one bucket. */
static inline int ev_cmp(const EvRec *a, const EvRec *b, const Order *o) {
  if (a->k0 != b->k0) return a->k0 < b->k0 ? -1 : 1;
  if (a->k1 != b->k1) return a->k1 < b->k1 ? -1 : 1;
  uint32_t la = rec_len(a->bl), lb = rec_len(b->bl);
  if (la > SORT_ID_KEY_BYTES || lb > SORT_ID_KEY_BYTES) {
    if (la <= SORT_ID_KEY_BYTES || lb <= SORT_ID_KEY_BYTES) return la < lb ? -1 : 1;
    int c = pc_bytes_cmp(o->tails + a->tail, la - SORT_ID_KEY_BYTES, o->tails + b->tail, lb - SORT_ID_KEY_BYTES);
    if (c) return c;
  }
  if (a->ts != b->ts) return a->ts < b->ts ? -1 : 1;
  if (a->ev != b->ev && o->evr[a->ev] != o->evr[b->ev]) return o->evr[a->ev] < o->evr[b->ev] ? -1 : 1;
  if (a->ch != b->ch && o->chr[a->ch] != o->chr[b->ch]) return o->chr[a->ch] < o->chr[b->ch] ? -1 : 1;
  if (a->value != b->value) return a->value < b->value ? -1 : 1;
  return 0;
}

static int ev_cmp_r(const void *a, const void *b, void *o) { return ev_cmp(a, b, o); }

/* Quicksort (median of three, Hoare partition) with insertion sort below
 * 16 records; past a depth of 2 log n (an adversarial input) the slice is
 * left to glibc's qsort_r, which is O(n log n) always. */
static void ev_sort(EvRec *a, size_t n, const Order *o, int depth) {
  while (n > 16) {
    if (depth-- <= 0) {
      qsort_r(a, n, sizeof *a, ev_cmp_r, (void *)o);
      return;
    }
    size_t m = n / 2;
    EvRec t;
    if (ev_cmp(&a[m], &a[0], o) < 0) t = a[m], a[m] = a[0], a[0] = t;
    if (ev_cmp(&a[n - 1], &a[0], o) < 0) t = a[n - 1], a[n - 1] = a[0], a[0] = t;
    if (ev_cmp(&a[n - 1], &a[m], o) < 0) t = a[n - 1], a[n - 1] = a[m], a[m] = t;
    EvRec p = a[m];
    size_t i = 0, j = n - 1;
    for (;;) {
      while (ev_cmp(&a[i], &p, o) < 0) i++;
      while (ev_cmp(&p, &a[j], o) < 0) j--;
      if (i >= j) break;
      t = a[i], a[i] = a[j], a[j] = t;
      i++, j--;
    }
    size_t left = j + 1; /* [0, j] and [j + 1, n) */
    if (left < n - left) {
      ev_sort(a, left, o, depth);
      a += left, n -= left;
    } else {
      ev_sort(a + left, n - left, o, depth);
      n = left;
    }
  }
  for (size_t i = 1; i < n; i++) {
    EvRec x = a[i];
    size_t j = i;
    for (; j > 0 && ev_cmp(&x, &a[j - 1], o) < 0; j--) a[j] = a[j - 1];
    a[j] = x;
  }
}

#define RADIX_BITS 6 /* 64 cursors per pass: they stay in cache */

/* a[0..n) grouped by digit ((bucket - lo) >> shift) & 63 in place, then
 * each group by the next digit, down to single buckets: an MSD American
 * flag sort. One pass over thousands of buckets missed the cache (and the
 * TLB) on every record; 64 write cursors do not. */
static void ev_radix(EvRec *a, size_t n, uint32_t lo, int shift) {
  if (n < 32) { /* insertion sort by bucket: stable enough, equal keys stay together */
    for (size_t i = 1; i < n; i++) {
      EvRec x = a[i];
      size_t j = i;
      for (; j > 0 && rec_bucket(a[j - 1].bl) > rec_bucket(x.bl); j--) a[j] = a[j - 1];
      a[j] = x;
    }
    return;
  }
  size_t start[65] = {0}, next[64];
  for (size_t i = 0; i < n; i++) start[((rec_bucket(a[i].bl) - lo) >> shift & 63) + 1]++;
  for (int d = 0; d < 64; d++) start[d + 1] += start[d];
  memcpy(next, start, sizeof next);
  for (int d = 0; d < 64; d++)
    while (next[d] < start[d + 1]) {
      EvRec r = a[next[d]];
      for (int e = (rec_bucket(r.bl) - lo) >> shift & 63; e != d; e = (rec_bucket(r.bl) - lo) >> shift & 63) {
        EvRec t = a[next[e]];
        a[next[e]++] = r;
        r = t;
      }
      a[next[d]++] = r;
    }
  if (shift == 0) return;
  for (int d = 0; d < 64; d++)
    if (start[d + 1] - start[d] > 1) ev_radix(a + start[d], start[d + 1] - start[d], lo, shift - RADIX_BITS);
}

/* Records grouped by bucket in place; start gets the offsets of buckets
 * bmin..bmax + 1, relative to bmin. */
static void ev_partition(PcShardSort *s, size_t *start) {
  uint32_t lo = s->bmin, nb = s->bmax - s->bmin + 1;
  int bits = nb > 1 ? (int)g_bit_storage(nb - 1) : 0;
  if (bits > 0) ev_radix(s->ev, s->ev_n, lo, (bits - 1) / RADIX_BITS * RADIX_BITS);
  memset(start, 0, (nb + 1) * sizeof *start);
  for (size_t i = 0; i < s->ev_n; i++) start[rec_bucket(s->ev[i].bl) - lo + 1]++;
  for (uint32_t b = 0; b < nb; b++) start[b + 1] += start[b];
}

/* ---- Spilling a run ---------------------------------------------------------------- */

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

/* One customer to run f; scratch (grown) holds the encoding. */
static gboolean run_put(PcRunFile *f, uint32_t bucket, const char *id, uint32_t len,
                        const PcEvent *ev, size_t n, GByteArray *scratch, GError **error) {
  g_byte_array_set_size(scratch, (guint)(n * RUN_EVENT_MAX_BYTES));
  RunHead h = {bucket, (uint8_t)len, (uint32_t)n, (uint32_t)encode_events(ev, n, scratch->data)};
  return pc_runfile_write(f, &h, sizeof h, error) && pc_runfile_write(f, id, len, error) &&
         pc_runfile_write(f, scratch->data, h.bytes, error);
}

/* The id of record r into buf (at least 255 bytes). */
static void rec_id(const PcShardSort *s, const EvRec *r, char *buf) {
  uint64_t k[2] = {GUINT64_TO_BE(r->k0), GUINT64_TO_BE(r->k1)};
  uint32_t len = rec_len(r->bl);
  memcpy(buf, k, MIN(len, (uint32_t)SORT_ID_KEY_BYTES));
  if (len > SORT_ID_KEY_BYTES) memcpy(buf + SORT_ID_KEY_BYTES, s->tails + r->tail, len - SORT_ID_KEY_BYTES);
}

static gboolean same_id(const PcShardSort *s, const EvRec *a, const EvRec *b) {
  if (a->bl != b->bl || a->k0 != b->k0 || a->k1 != b->k1) return FALSE;
  uint32_t len = rec_len(a->bl);
  return len <= SORT_ID_KEY_BYTES || !memcmp(s->tails + a->tail, s->tails + b->tail, len - SORT_ID_KEY_BYTES);
}

/* The customer starting at record i: its id, its events (first-seen ids)
 * into *ev (grown); returns the index after it. */
static size_t rec_customer(const PcShardSort *s, size_t i, char *id,
                           PcEvent **ev, size_t *cap, size_t *n) {
  size_t j = i;
  rec_id(s, &s->ev[i], id);
  for (; j < s->ev_n && same_id(s, &s->ev[i], &s->ev[j]); j++) {
    sort_reserve((void **)ev, cap, j - i + 1, sizeof(PcEvent));
    (*ev)[j - i] = (PcEvent){s->ev[j].ts, s->ev[j].value, s->ev[j].ev, s->ev[j].ch};
  }
  *n = j - i;
  return j;
}

/* Sorts the buffer: buckets, then (id, journey key) by today's ranks. */
static void ev_sort_buffer(PcShardSort *s) {
  if (s->ev_n == 0) return;
  g_autofree uint32_t *evr = names_ranks(&s->evn, NULL), *chr = names_ranks(&s->chan, NULL);
  Order o = {s->tails, evr, chr};
  uint32_t nb = s->bmax - s->bmin + 1;
  g_autofree size_t *start = g_new(size_t, nb + 1);
  ev_partition(s, start);
  int depth = 2 * g_bit_storage(s->ev_n);
  for (uint32_t b = 0; b < nb; b++) {
    EvRec *a = s->ev + start[b];
    size_t n = start[b + 1] - start[b], i = 1;
    for (; i < n && ev_cmp(&a[i - 1], &a[i], &o) <= 0; i++) continue;
    if (i < n) ev_sort(a, n, &o, depth); /* inputs grouped by customer often come sorted */
  }
}

static void ev_reset(PcShardSort *s) {
  s->ev_n = s->tail_n = 0;
  s->bmin = UINT32_MAX;
  s->bmax = 0;
}

static gboolean ev_spill(PcShardSort *s, GError **error) {
  ev_sort_buffer(s);
  g_autoptr(PcRunFile) f = pc_runfile_new(s->dir, SORT_WRITE_BUF_BYTES, error);
  if (!f) return FALSE;
  char id[PC_MAX_ID_BYTES + 1];
  size_t cap = 0, n;
  g_autofree PcEvent *ev = NULL;
  g_autoptr(GByteArray) scratch = g_byte_array_new();
  for (size_t i = 0; i < s->ev_n;) {
    uint32_t bl = s->ev[i].bl;
    i = rec_customer(s, i, id, &ev, &cap, &n);
    if (!run_put(f, rec_bucket(bl), id, rec_len(bl), ev, n, scratch, error)) return FALSE;
  }
  if (!pc_runfile_rewind(f, SORT_MIN_READ_BUF_BYTES, error)) return FALSE;
  g_ptr_array_add(s->ev_runs, g_steal_pointer(&f));
  s->runs++;
  ev_reset(s);
  return TRUE;
}

gboolean pc_shardsort_add_event(PcShardSort *s, uint32_t bucket,
                                const PcCsvRow *row, GError **error) {
  if (s->ev_n * sizeof(EvRec) + s->tail_n >= s->ev_cap_bytes && !ev_spill(s, error)) return FALSE;
  if (!s->ev) s->ev = g_new(EvRec, s->ev_alloc = s->ev_cap_bytes / sizeof(EvRec) + 1);
  EvRec *r = &s->ev[s->ev_n++];
  id_key(row->id, row->id_len, &r->k0, &r->k1);
  r->ts = row->ts_us;
  r->value = row->value;
  r->ev = names_intern(&s->evn, row->event, row->event_len);
  r->ch = names_intern(&s->chan, row->channel, row->channel_len);
  r->bl = bucket | row->id_len << 24;
  r->tail = (uint32_t)s->tail_n;
  if (row->id_len > SORT_ID_KEY_BYTES) {
    uint32_t k = row->id_len - SORT_ID_KEY_BYTES;
    sort_reserve((void **)&s->tails, &s->tail_alloc, s->tail_n + k, 1);
    memcpy(s->tails + s->tail_n, row->id + SORT_ID_KEY_BYTES, k);
    s->tail_n += k;
  }
  s->bmin = MIN(s->bmin, bucket);
  s->bmax = MAX(s->bmax, bucket);
  s->used_n += !s->used[bucket];
  s->used[bucket] = 1;
  s->events++;
  return TRUE;
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
    c->at = rec_customer(c->s, c->at, c->id, &c->ev, &c->cap, &c->n);
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
  if (o->run) return run_put(o->run, bucket, id, len, ev, n, o->scratch, error);
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
  g_autofree uint32_t *evr = names_ranks(&s->evn, NULL), *chr = names_ranks(&s->chan, NULL);
  Out o = {s, sink, NULL, NULL, evr, chr, NULL, 0};
  ev_sort_buffer(s);
  gboolean ok = merge_groups(s, &o, error) &&
                merge_pass(s, (PcRunFile **)s->ev_runs->pdata, s->ev_runs->len, TRUE, &o, error);
  g_free(o.ev);
  /* the events are out: their memory goes before the customers table's merge */
  g_ptr_array_set_size(s->ev_runs, 0);
  ev_buffer_free(s);
  g_clear_pointer(&s->tails, g_free);
  s->tail_alloc = 0;
  ev_reset(s);
  return ok && pc_shardsort_crm_merge(s, sink, error);
}
