/* shardsort.c - the sort of a shard's rows in bounded memory
 * (pc_shardsort.h): names, the event buffer, its sort and spill as a
 * sorted run. The run format and the k-way merge into the sink are
 * shardsort_merge.c; the customers table is shardsort_crm.c.
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
 * runs than the merge memory can buffer are first merged in groups
 * (shardsort_merge.c).
 *
 * Owns names, the event buffer and its sort. Does not own the run format
 * and the merge (shardsort_merge.c), where rows come from
 * (ingest_parse.c), the shard file (h5stream.c) or the customers table
 * (shardsort_crm.c). No MPI, no HDF5.
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

uint32_t *pc_shardsort_ranks(const NameTab *t, PcDict **dict) {
  g_autoptr(PcDict) d = pc_dict_new_sorted((char **)t->names->pdata, t->names->len);
  uint32_t *rank = g_new(uint32_t, t->names->len + 1);
  for (guint i = 0; i < t->names->len; i++) rank[i] = (uint32_t)pc_dict_find(d, g_ptr_array_index(t->names, i));
  if (dict) *dict = g_steal_pointer(&d);
  return rank;
}

void pc_shardsort_names(const PcShardSort *s, PcDict **channels,
                        PcDict **events) {
  g_free(pc_shardsort_ranks(&s->chan, channels));
  g_free(pc_shardsort_ranks(&s->evn, events));
}

/* ---- Life cycle ------------------------------------------------------------------ */

/* The event buffer is allocated at its full capacity once (pages are
 * taken as rows fill it, and reused by every run): growing it by doubling
 * touched fresh memory again at each step. */
static void ev_buffer_free(PcShardSort *s) {
  g_clear_pointer(&s->ev, g_free);
  s->ev_alloc = 0;
}

void pc_shardsort_clear_events(PcShardSort *s) {
  ev_buffer_free(s);
  g_clear_pointer(&s->tails, g_free);
  s->tail_alloc = 0;
  s->ev_n = s->tail_n = 0;
  s->bmin = UINT32_MAX;
  s->bmax = 0;
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
  pc_shardsort_clear_events(s);
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
uint64_t pc_shardsort_run_bytes(const PcShardSort *s) { return s->run_bytes; }

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

size_t pc_shardsort_customer(const PcShardSort *s, size_t i, char *id,
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

void pc_shardsort_sort_buffer(PcShardSort *s) {
  if (s->ev_n == 0) return;
  g_autofree uint32_t *evr = pc_shardsort_ranks(&s->evn, NULL), *chr = pc_shardsort_ranks(&s->chan, NULL);
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

static gboolean ev_spill(PcShardSort *s, GError **error) {
  pc_shardsort_sort_buffer(s);
  g_autoptr(PcRunFile) f = pc_runfile_new(s->dir, SORT_WRITE_BUF_BYTES, error);
  if (!f) return FALSE;
  char id[PC_MAX_ID_BYTES + 1];
  size_t cap = 0, n;
  g_autofree PcEvent *ev = NULL;
  g_autoptr(GByteArray) scratch = g_byte_array_new();
  for (size_t i = 0; i < s->ev_n;) {
    uint32_t bl = s->ev[i].bl;
    i = pc_shardsort_customer(s, i, id, &ev, &cap, &n);
    if (!pc_shardsort_run_put(f, rec_bucket(bl), id, rec_len(bl), ev, n, scratch, error)) return FALSE;
  }
  if (!pc_runfile_rewind(f, SORT_MIN_READ_BUF_BYTES, error)) return FALSE;
  s->run_bytes += pc_runfile_bytes(f);
  g_ptr_array_add(s->ev_runs, g_steal_pointer(&f));
  s->runs++;
  s->ev_n = s->tail_n = 0;
  s->bmin = UINT32_MAX;
  s->bmax = 0;
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
