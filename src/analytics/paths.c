/* paths.c - the path tables of spec §3 and the preceding paths of spec §4:
 * counting per thread (PcPaths, PcPreceding), merging, and the collective
 * reduce that turns them into PcTables on rank 0.
 *
 * Owns PcPaths, PcPreceding and the table layouts of spec §10 for
 * variants, ngrams, transitions, prefix_tree and preceding_paths. Makes no
 * MPI or HDF5 call (PcCommOps only); no global mutable state.
 *
 * Counting keeps one PcSeqTab per table, keyed by token sequences:
 *   variants   [journeys]
 *   ngrams     [occurrences, customers | stamp]  n = key length, one table
 *   transitions[count, gap_hi, gap_lo]         key (a, b), ^/$ as ids
 *   prefix     [reach, end, target]
 * Invariants:
 *  - Counters are exact integers that only add; every emitted order is a
 *    total order on distinct keys (sequence asc breaks all ties), so the
 *    output bytes cannot depend on how journeys were split or merged.
 *  - The transition gap sum (µs) is gap_hi * 2^32 + gap_lo with
 *    0 <= gap_lo < 2^32 after every public call: both halves add like the
 *    other counters, and normalising the carry keeps the sum exact up to
 *    2^95 µs, far past int64 (billions of pairs of long gaps).
 *  - An n-gram's customers count once per journey: the entry's local word
 *    holds the serial of the last journey (of this instance) that counted
 *    it. Local words are never merged nor serialized.
 *  - Reduce: each key is merged on exactly one owner (hash % ranks), prefix
 *    pruning and per-owner top-k happen only after that merge; rank 0 takes
 *    the global top-k of the union of the owners' top-k, which contains it.
 */
#include "pc_paths.h"
#include "pc_seqtab.h"
#include "pc_table.h"

#include <stdlib.h>

#define GAP_LO_MASK UINT64_C(0xFFFFFFFF) /* gap_lo keeps the low 32 bits */
#define DENSE 256u  /* token ids below it are counted in plain arrays */
#define TR_N (DENSE + 2) /* transition rows/cols: tokens, ^ (DENSE), $ (DENSE+1) */

struct PcPaths {
  gboolean by_session;
  uint64_t gap_us;      /* session cut: gap > gap_us */
  gboolean collapse;
  guint ngram_max, depth;
  guint64 min_support, top_k;
  PcSeqTab *variants, *ngrams, *trans, *prefix;
  int64_t journeys;
  uint64_t serial;      /* journeys counted here; n-gram stamps = it */
  /* Dense counters for small token ids (< DENSE): 1-grams, 2-grams and
   * transitions skip the hash table; flush_dense() moves them into the
   * tables before any merge or reduce, so the tables are as if counted
   * there. Allocated on first use. */
  int64_t *uni;         /* DENSE x [occ, customers, stamp] */
  int64_t *bi;          /* DENSE^2 x [occ, customers, stamp] */
  int64_t *tr;          /* (DENSE+2)^2 x [count, gap_hi, gap_lo] */
  uint32_t *tok;        /* scratch for collapse */
  int64_t *ts;
  size_t scratch_cap;
  gboolean reduced;
};

struct PcPreceding {
  guint lookback;
  guint64 top_k;
  PcSeqTab *t;          /* [customers] */
  gboolean reduced;
};

typedef int (*EntryCmp)(const void *, const void *);

/* ---- private prototypes ---- */
static void count_journey(PcPaths *p, const uint32_t *tok, const int64_t *ts,
                          size_t n, gboolean y);
static void count_variant_prefix(PcPaths *p, const uint32_t *tok, size_t n,
                                 gboolean y);
static void count_ngrams(PcPaths *p, const uint32_t *tok, size_t n);
static void count_transitions(PcPaths *p, const uint32_t *tok,
                              const int64_t *ts, size_t n);
static void normalize_gaps(PcSeqTab *t);
static void flush_dense(PcPaths *p);
static size_t select_top(PcSeqEntry *v, size_t n, guint64 k, EntryCmp cmp);
static gboolean exchange_table(PcSeqTab **t, const PcCommOps *ops,
                               GError **error);
static gboolean gather_table(const GByteArray *mine, guint k,
                             const PcCommOps *ops, PcSeqTab **out,
                             GError **error);

/* ---- Construction ---- */

PcPaths *pc_paths_new(const PcJobConfig *cfg) {
  PcPaths *p = g_new0(PcPaths, 1);
  p->by_session = cfg->unit == PC_UNIT_SESSION;
  /* a gap that does not fit int64 µs can never be exceeded */
  if (cfg->session_gap_s <= 0) p->gap_us = 0;
  else if (cfg->session_gap_s > INT64_MAX / 1000000) p->gap_us = UINT64_MAX;
  else p->gap_us = (uint64_t)cfg->session_gap_s * 1000000u;
  p->collapse = cfg->collapse_repeats;
  p->ngram_max = cfg->ngram_max;
  p->depth = cfg->depth;
  p->min_support = cfg->min_support;
  p->top_k = cfg->top_k;
  p->variants = pc_seqtab_new(1);
  p->ngrams = pc_seqtab_new_local(2, 1); /* local word: journey stamp */
  p->trans = pc_seqtab_new(3);
  p->prefix = pc_seqtab_new(3);
  return p;
}

void pc_paths_free(PcPaths *p) {
  if (!p) return;
  pc_seqtab_free(p->variants);
  pc_seqtab_free(p->ngrams);
  pc_seqtab_free(p->trans);
  pc_seqtab_free(p->prefix);
  g_free(p->uni);
  g_free(p->bi);
  g_free(p->tr);
  g_free(p->tok);
  g_free(p->ts);
  g_free(p);
}

/* ---- Counting ---- */

void pc_paths_add(PcPaths *p, const uint32_t *tok, const int64_t *ts_us,
                  size_t n, gboolean y) {
  g_return_if_fail(!p->reduced && n >= 1);
  size_t start = 0;
  if (p->by_session)
    for (size_t i = 1; i < n; i++) {
      /* ts ascending: the unsigned difference is the exact gap */
      uint64_t gap = (uint64_t)ts_us[i] - (uint64_t)ts_us[i - 1];
      if (gap > p->gap_us) {
        count_journey(p, tok + start, ts_us + start, i - start, y);
        start = i;
      }
    }
  count_journey(p, tok + start, ts_us + start, n - start, y);
}

/* Collapses repeats (into scratch) when asked, then counts every table. */
static void count_journey(PcPaths *p, const uint32_t *tok, const int64_t *ts,
                          size_t n, gboolean y) {
  if (p->collapse) {
    if (n > p->scratch_cap) {
      p->scratch_cap = MAX(n, 2 * p->scratch_cap);
      p->tok = g_renew(uint32_t, p->tok, p->scratch_cap);
      p->ts = g_renew(int64_t, p->ts, p->scratch_cap);
    }
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
      if (m && p->tok[m - 1] == tok[i]) continue; /* run keeps first ts */
      p->tok[m] = tok[i];
      p->ts[m++] = ts[i];
    }
    tok = p->tok;
    ts = p->ts;
    n = m;
  }
  if (!p->uni) {
    p->uni = g_new0(int64_t, 3 * DENSE);
    p->bi = g_new0(int64_t, 3 * DENSE * DENSE);
    p->tr = g_new0(int64_t, 3 * TR_N * TR_N);
  }
  p->journeys++;
  p->serial++;
  count_variant_prefix(p, tok, n, y);
  count_ngrams(p, tok, n);
  count_transitions(p, tok, ts, n);
}

/* A key about to be upserted: hashing a journey's keys first and
 * prefetching their slots, then records, lets the cache misses of a batch
 * overlap instead of queueing (large tables miss on every lookup). */
typedef struct {
  PcSeqTab *t;
  const uint32_t *seq;
  size_t len;
  uint64_t h;
} Key;

#define BATCH_KEYS 256 /* keys hashed and prefetched together */

static void prefetch_keys(const Key *k, size_t n) {
  for (size_t i = 0; i < n; i++) pc_seqtab_prefetch_slot(k[i].t, k[i].h);
  for (size_t i = 0; i < n; i++) pc_seqtab_prefetch_record(k[i].t, k[i].h);
}

/* Prefixes 1..min(n, depth) and the variant: one incremental hash pass
 * (depth <= 64, so one batch). */
static void count_variant_prefix(PcPaths *p, const uint32_t *tok, size_t n,
                                 gboolean y) {
  Key k[BATCH_KEYS];
  uint64_t h = PC_SEQTAB_HASH_INIT;
  size_t d = MIN(n, (size_t)p->depth), m = 0;
  g_assert(d < BATCH_KEYS);
  for (size_t i = 0; i < n; i++) {
    h = pc_seqtab_hash_step(h, tok[i]);
    if (i < d) k[m++] = (Key){p->prefix, tok, i + 1, pc_seqtab_hash_final(h)};
  }
  k[m++] = (Key){p->variants, tok, n, pc_seqtab_hash_final(h)};
  prefetch_keys(k, m);
  for (size_t i = 0; i < d; i++) {
    int64_t *c = pc_seqtab_upsert_hashed(p->prefix, tok, i + 1, k[i].h);
    c[0]++;
    c[1] += i + 1 == n;
    c[2] += y ? 1 : 0;
  }
  pc_seqtab_upsert_hashed(p->variants, tok, n, k[d].h)[0]++;
}

/* Windows starting at i for n = 1..ngram_max share one hash pass; an
 * entry's local word c[2] stamps the last journey that counted it. */
/* 1- and 2-grams of small tokens in the dense arrays; returns TRUE when
 * the window (i, len) was counted there. */
static gboolean dense_ngram(PcPaths *p, const uint32_t *w, size_t len) {
  int64_t *c;
  if (len == 1 && w[0] < DENSE) c = p->uni + 3 * (size_t)w[0];
  else if (len == 2 && w[0] < DENSE && w[1] < DENSE) c = p->bi + 3 * ((size_t)w[0] * DENSE + w[1]);
  else return FALSE;
  c[0]++;
  if ((uint64_t)c[2] != p->serial) {
    c[2] = (int64_t)p->serial;
    c[1]++;
  }
  return TRUE;
}

static void count_ngrams(PcPaths *p, const uint32_t *tok, size_t n) {
  Key k[BATCH_KEYS];
  size_t step = BATCH_KEYS / p->ngram_max;
  for (size_t i0 = 0; i0 < n; i0 += step) {
    size_t m = 0, i1 = MIN(n, i0 + step);
    for (size_t i = i0; i < i1; i++) {
      uint64_t h = PC_SEQTAB_HASH_INIT;
      size_t lmax = MIN((size_t)p->ngram_max, n - i);
      for (size_t len = 1; len <= lmax; len++) {
        h = pc_seqtab_hash_step(h, tok[i + len - 1]);
        if (len <= 2 && dense_ngram(p, tok + i, len)) continue;
        k[m++] = (Key){p->ngrams, tok + i, len, pc_seqtab_hash_final(h)};
      }
    }
    prefetch_keys(k, m);
    for (size_t j = 0; j < m; j++) {
      int64_t *c = pc_seqtab_upsert_hashed(p->ngrams, k[j].seq, k[j].len,
                                           k[j].h);
      c[0]++;
      if ((uint64_t)c[2] != p->serial) {
        c[2] = (int64_t)p->serial;
        c[1]++;
      }
    }
  }
}

/* gap == UINT64_MAX: a ^/$ pair, no gap. */
static void add_gap(int64_t *c, uint64_t gap) {
  c[0]++;
  if (gap == UINT64_MAX) return;
  uint64_t lo = (uint64_t)c[2] + (gap & GAP_LO_MASK);
  c[1] += (int64_t)((gap >> 32) + (lo >> 32));
  c[2] = (int64_t)(lo & GAP_LO_MASK);
}

/* Pairs ^ -> t0, t0 -> t1, ..., t(n-1) -> $, in batches. */

static void count_transitions(PcPaths *p, const uint32_t *tok,
                              const int64_t *ts, size_t n) {
  enum { B = BATCH_KEYS / 2 };
  gboolean small = TRUE;
  for (size_t i = 0; i < n && small; i++) small = tok[i] < DENSE;
  if (small) { /* the whole journey in the dense matrix */
    for (size_t i = 0; i <= n; i++) {
      size_t a = i ? tok[i - 1] : DENSE, b = i < n ? tok[i] : DENSE + 1;
      add_gap(p->tr + 3 * (a * TR_N + b), i && i < n ? (uint64_t)ts[i] - (uint64_t)ts[i - 1] : UINT64_MAX);
    }
    return;
  }
  uint32_t pair[2 * B];
  Key k[B];
  for (size_t i0 = 0; i0 <= n; i0 += B) { /* pair i: (tok[i-1], tok[i]) */
    size_t m = MIN(n + 1, i0 + B) - i0;
    for (size_t j = 0; j < m; j++) {
      size_t i = i0 + j;
      pair[2 * j] = i ? tok[i - 1] : PC_TOKEN_START;
      pair[2 * j + 1] = i < n ? tok[i] : PC_TOKEN_END;
      k[j] = (Key){p->trans, pair + 2 * j, 2, pc_seqtab_hash(pair + 2 * j, 2)};
    }
    prefetch_keys(k, m);
    for (size_t j = 0; j < m; j++) {
      size_t i = i0 + j;
      uint64_t gap = i && i < n ? (uint64_t)ts[i] - (uint64_t)ts[i - 1]
                                : UINT64_MAX;
      add_gap(pc_seqtab_upsert_hashed(p->trans, k[j].seq, 2, k[j].h), gap);
    }
  }
}

/* Restores gap_lo < 2^32 after counters were added wholesale. */
static void normalize_one(const uint32_t *seq, size_t len, int64_t *c,
                          void *data) {
  c[1] += (int64_t)((uint64_t)c[2] >> 32);
  c[2] = (int64_t)((uint64_t)c[2] & GAP_LO_MASK);
}

static void normalize_gaps(PcSeqTab *t) {
  pc_seqtab_foreach(t, normalize_one, NULL);
}

/* Moves the dense counters into the tables (adding), then zeroes them.
 * Stamps stay: they only compare with this instance's journey serials. */
static void flush_dense(PcPaths *p) {
  if (!p->uni) return;
  for (uint32_t a = 0; a < DENSE; a++) {
    int64_t *c = p->uni + 3 * (size_t)a;
    if (c[0]) {
      int64_t *d = pc_seqtab_upsert(p->ngrams, &a, 1);
      d[0] += c[0];
      d[1] += c[1];
      c[0] = c[1] = 0;
    }
    for (uint32_t b = 0; b < DENSE; b++) {
      c = p->bi + 3 * ((size_t)a * DENSE + b);
      if (!c[0]) continue;
      uint32_t key[2] = {a, b};
      int64_t *d = pc_seqtab_upsert(p->ngrams, key, 2);
      d[0] += c[0];
      d[1] += c[1];
      c[0] = c[1] = 0;
    }
  }
  for (size_t a = 0; a < TR_N; a++)
    for (size_t b = 0; b < TR_N; b++) {
      int64_t *c = p->tr + 3 * (a * TR_N + b);
      if (!c[0]) continue;
      uint32_t key[2] = {a == DENSE ? PC_TOKEN_START : (uint32_t)a,
                         b == DENSE + 1 ? PC_TOKEN_END : (uint32_t)b};
      int64_t *d = pc_seqtab_upsert(p->trans, key, 2);
      d[0] += c[0];
      d[1] += c[1];
      d[2] += c[2];
      c[0] = c[1] = c[2] = 0;
    }
  normalize_gaps(p->trans);
}

void pc_paths_merge(PcPaths *dst, const PcPaths *src) {
  g_return_if_fail(!dst->reduced && !src->reduced && dst != src);
  flush_dense(dst);
  flush_dense((PcPaths *)src); /* moves counts between src's own stores */
  pc_seqtab_merge(dst->variants, src->variants);
  pc_seqtab_merge(dst->ngrams, src->ngrams);
  pc_seqtab_merge(dst->trans, src->trans);
  normalize_gaps(dst->trans);
  pc_seqtab_merge(dst->prefix, src->prefix);
  dst->journeys += src->journeys;
}

size_t pc_paths_memory_bytes(const PcPaths *p) {
  return sizeof *p + pc_seqtab_memory_bytes(p->variants) +
         pc_seqtab_memory_bytes(p->ngrams) + pc_seqtab_memory_bytes(p->trans) +
         pc_seqtab_memory_bytes(p->prefix) + p->scratch_cap * 12;
}

/* ---- Orders (qsort comparators on PcSeqEntry) ---- */

static int cmp_seq(const PcSeqEntry *a, const PcSeqEntry *b) {
  return pc_seqtab_seq_cmp(a->seq, a->len, b->seq, b->len);
}

static int cmp_i64_desc(int64_t a, int64_t b) {
  return a > b ? -1 : (a < b ? 1 : 0);
}

/* count desc, sequence asc: variants and preceding paths */
static int cmp_count_seq(const void *pa, const void *pb) {
  const PcSeqEntry *a = pa, *b = pb;
  int c = cmp_i64_desc(a->c[0], b->c[0]);
  return c ? c : cmp_seq(a, b);
}

/* occurrences desc, customers desc, sequence asc: n-grams of one n */
static int cmp_ngram(const void *pa, const void *pb) {
  const PcSeqEntry *a = pa, *b = pb;
  int c = cmp_i64_desc(a->c[0], b->c[0]);
  if (!c) c = cmp_i64_desc(a->c[1], b->c[1]);
  return c ? c : cmp_seq(a, b);
}

static int cmp_path(const void *pa, const void *pb) {
  return cmp_seq(pa, pb);
}

static void swap_entries(PcSeqEntry *a, PcSeqEntry *b) {
  PcSeqEntry t = *a;
  *a = *b;
  *b = t;
}

/* Heap on v[0..k) whose root is the worst kept entry (largest by cmp). */
static void sift_down(PcSeqEntry *v, size_t k, size_t i, EntryCmp cmp) {
  for (;;) {
    size_t l = 2 * i + 1, r = l + 1, w = i;
    if (l < k && cmp(&v[l], &v[w]) > 0) w = l;
    if (r < k && cmp(&v[r], &v[w]) > 0) w = r;
    if (w == i) return;
    swap_entries(&v[i], &v[w]);
    i = w;
  }
}

/* Moves the best min(n, k) entries to v[0..), sorted best first, and
 * returns how many. O(n log k): owners may hold tens of millions of keys. */
static size_t select_top(PcSeqEntry *v, size_t n, guint64 k, EntryCmp cmp) {
  if (k >= n) {
    qsort(v, n, sizeof *v, cmp);
    return n;
  }
  if (k == 0) return 0;
  for (size_t i = k / 2; i-- > 0;) sift_down(v, k, i, cmp);
  for (size_t i = k; i < n; i++)
    if (cmp(&v[i], &v[0]) < 0) {
      v[0] = v[i];
      sift_down(v, k, 0, cmp);
    }
  qsort(v, k, sizeof *v, cmp);
  return k;
}

/* Sorts v by length (counting sort); start[len] .. start[len+1] is the run
 * of length len, for len 0..maxlen. Longer keys are not expected. */
static void group_by_len(PcSeqEntry *v, size_t n, guint maxlen,
                         size_t *start) {
  PcSeqEntry *tmp = g_new(PcSeqEntry, n ? n : 1);
  size_t *at = g_new0(size_t, maxlen + 2);
  for (size_t i = 0; i < n; i++) {
    g_assert(v[i].len <= maxlen);
    at[v[i].len + 1]++;
  }
  for (guint l = 0; l <= maxlen; l++) at[l + 1] += at[l];
  memcpy(start, at, (maxlen + 2) * sizeof *start);
  for (size_t i = 0; i < n; i++) tmp[at[v[i].len]++] = v[i];
  memcpy(v, tmp, n * sizeof *v);
  g_free(at);
  g_free(tmp);
}

/* ---- Collective steps ---- */

/* Replaces *t by this rank's owned share of the union of all ranks' *t
 * (collective over ops; alone, there is nothing to move).
 * The local table is freed before the exchange: peak memory is the send
 * buffers plus what arrives, not two tables. */
static gboolean exchange_table(PcSeqTab **t, const PcCommOps *ops,
                               GError **error) {
  guint np = (guint)ops->size, k = pc_seqtab_k(*t);
  if (np == 1) return TRUE; /* already the one owner's share */
  GByteArray **send = g_new(GByteArray *, np);
  for (guint r = 0; r < np; r++) send[r] = g_byte_array_new();
  pc_seqtab_serialize_parts(*t, np, send);
  pc_seqtab_free(*t);
  *t = pc_seqtab_new(k);
  GByteArray *recv = NULL;
  gboolean ok = ops->exchange(ops->ctx, send, &recv, error);
  for (guint r = 0; r < np; r++) g_byte_array_unref(send[r]);
  g_free(send);
  if (ok) ok = pc_seqtab_merge_serialized(*t, recv->data, recv->len, error);
  if (recv) g_byte_array_unref(recv);
  return ok;
}

/* Gathers every rank's candidate entries; on rank 0 *out = their table
 * (keys are disjoint across owners), elsewhere NULL. */
static gboolean gather_table(const GByteArray *mine, guint k,
                             const PcCommOps *ops, PcSeqTab **out,
                             GError **error) {
  GByteArray *all = NULL;
  *out = NULL;
  if (!ops->gather(ops->ctx, mine->data, mine->len, &all, error)) return FALSE;
  if (!all) return TRUE;
  PcSeqTab *t = pc_seqtab_new(k);
  gboolean ok = pc_seqtab_merge_serialized(t, all->data, all->len, error);
  g_byte_array_unref(all);
  if (!ok) {
    pc_seqtab_free(t);
    return FALSE;
  }
  *out = t;
  return TRUE;
}

static void serialize_entries(GByteArray *buf, const PcSeqEntry *v, size_t n,
                              guint k) {
  for (size_t i = 0; i < n; i++)
    pc_seqtab_serialize_entry(buf, v[i].seq, v[i].len, v[i].c, k);
}

/* Candidates of an owned table: its top k by cmp. */
static GByteArray *candidates_top(const PcSeqTab *t, guint64 k, EntryCmp cmp) {
  size_t n;
  PcSeqEntry *v = pc_seqtab_entries(t, &n);
  GByteArray *buf = g_byte_array_new();
  serialize_entries(buf, v, select_top(v, n, k, cmp), pc_seqtab_k(t));
  g_free(v);
  return buf;
}

/* n-gram candidates: the top k of each n. */
static GByteArray *candidates_ngrams(const PcSeqTab *t, guint maxn,
                                     guint64 k) {
  size_t n, *start = g_new(size_t, maxn + 2);
  PcSeqEntry *v = pc_seqtab_entries(t, &n);
  GByteArray *buf = g_byte_array_new();
  group_by_len(v, n, maxn, start);
  for (guint l = 1; l <= maxn; l++) {
    PcSeqEntry *run = v + start[l];
    size_t m = select_top(run, start[l + 1] - start[l], k, cmp_ngram);
    serialize_entries(buf, run, m, pc_seqtab_k(t));
  }
  g_free(start);
  g_free(v);
  return buf;
}

/* Every entry whose first counter is >= min: prefix nodes with reach >=
 * min_support (only after the merge), or every transition (min 0). */
static GByteArray *candidates_min(const PcSeqTab *t, guint64 min) {
  GByteArray *buf = g_byte_array_new();
  size_t n;
  PcSeqEntry *v = pc_seqtab_entries(t, &n);
  for (size_t i = 0; i < n; i++)
    if ((uint64_t)v[i].c[0] >= min)
      pc_seqtab_serialize_entry(buf, v[i].seq, v[i].len, v[i].c,
                                pc_seqtab_k(t));
  g_free(v);
  return buf;
}

/* ---- Output tables (rank 0) ---- */

static const char *token_name(const PcDict *d, uint32_t id) {
  if (id == PC_TOKEN_START) return "^";
  if (id == PC_TOKEN_END) return "$";
  g_assert(id < d->n);
  return d->names[id];
}

/* Sets the path cell: tokens joined by " > "; the empty sequence is "^". */
static void set_path(PcTable *t, guint col, const PcDict *d,
                     const PcSeqEntry *e, GString *s) {
  g_string_truncate(s, 0);
  if (e->len == 0) g_string_append(s, "^");
  for (size_t i = 0; i < e->len; i++) {
    if (i) g_string_append(s, " > ");
    g_string_append(s, token_name(d, e->seq[i]));
  }
  pc_table_set_string_len(t, col, s->str, s->len);
}

/* rank, count, share [, length], path: the top k by count desc, sequence
 * asc. Variants (with length) and preceding paths share this shape. */
static PcTable *table_ranked(const char *name, const char *count_col,
                             gboolean with_length, const PcSeqTab *g,
                             guint64 k, int64_t total, const PcDict *d) {
  g_autofree char *cc = g_strdup_printf("%s:int", count_col);
  const char *cols[] = {"rank:int", cc, "share:double", "length:int", "path:string"};
  if (!with_length) cols[3] = cols[4];
  guint nc = with_length ? 5 : 4;
  PcTable *t = pc_table_new(name, cols, nc);
  GString *s = g_string_new(NULL);
  size_t n;
  PcSeqEntry *v = pc_seqtab_entries(g, &n);
  size_t m = select_top(v, n, k, cmp_count_seq);
  for (size_t i = 0; i < m; i++) {
    pc_table_add_row(t);
    pc_table_set_int(t, 0, (int64_t)i + 1);
    pc_table_set_int(t, 1, v[i].c[0]);
    pc_table_set_double(t, 2, (double)v[i].c[0] / (double)total);
    if (with_length) pc_table_set_int(t, 3, (int64_t)v[i].len);
    set_path(t, nc - 1, d, &v[i], s);
  }
  g_free(v);
  g_string_free(s, TRUE);
  return t;
}

static PcTable *table_variants(const PcSeqTab *g, guint64 k, int64_t journeys,
                               const PcDict *d) {
  return table_ranked("variants", "journeys", TRUE, g, k, journeys, d);
}

static PcTable *table_ngrams(const PcSeqTab *g, guint maxn, guint64 k,
                             const PcDict *d) {
  static const char *const cols[] = {"n:int", "rank:int", "occurrences:int",
                                     "customers:int", "path:string"};
  PcTable *t = pc_table_new("ngrams", cols, 5);
  GString *s = g_string_new(NULL);
  size_t n, *start = g_new(size_t, maxn + 2);
  PcSeqEntry *v = pc_seqtab_entries(g, &n);
  group_by_len(v, n, maxn, start);
  for (guint l = 1; l <= maxn; l++) {
    PcSeqEntry *run = v + start[l];
    size_t m = select_top(run, start[l + 1] - start[l], k, cmp_ngram);
    for (size_t i = 0; i < m; i++) {
      pc_table_add_row(t);
      pc_table_set_int(t, 0, l);
      pc_table_set_int(t, 1, (int64_t)i + 1);
      pc_table_set_int(t, 2, run[i].c[0]);
      pc_table_set_int(t, 3, run[i].c[1]);
      set_path(t, 4, d, &run[i], s);
    }
  }
  g_free(start);
  g_free(v);
  g_string_free(s, TRUE);
  return t;
}

typedef struct {
  const char *from, *to;
  PcSeqEntry e;
} TransRow;

/* from asc, count desc, to asc; by the strings: "^" (0x5E) and "$" (0x24)
 * do not sort where their ids would. */
static int cmp_trans(const void *pa, const void *pb) {
  const TransRow *a = pa, *b = pb;
  int c = strcmp(a->from, b->from);
  if (!c) c = cmp_i64_desc(a->e.c[0], b->e.c[0]);
  return c ? c : strcmp(a->to, b->to);
}

/* Exact µs sum / (count * 10^6), one rounding of the 128-bit sum. */
static double mean_gap_s(const int64_t *c) {
  unsigned __int128 sum = ((unsigned __int128)(uint64_t)c[1] << 32) +
                          (uint64_t)c[2];
  return (double)sum / ((double)c[0] * 1e6);
}

static void add_trans_row(PcTable *t, const TransRow *r, int64_t total) {
  pc_table_add_row(t);
  pc_table_set_string(t, 0, r->from);
  pc_table_set_string(t, 1, r->to);
  pc_table_set_int(t, 2, r->e.c[0]);
  pc_table_set_double(t, 3, (double)r->e.c[0] / (double)total);
  if (r->e.seq[0] != PC_TOKEN_START && r->e.seq[1] != PC_TOKEN_END)
    pc_table_set_double(t, 4, mean_gap_s(r->e.c));
}

static PcTable *table_transitions(const PcSeqTab *g, const PcDict *d) {
  static const char *const cols[] = {"from:string", "to:string", "count:int",
                                     "probability:double",
                                     "mean_gap_s:double"};
  PcTable *t = pc_table_new("transitions", cols, 5);
  size_t n;
  PcSeqEntry *v = pc_seqtab_entries(g, &n);
  TransRow *r = g_new(TransRow, n ? n : 1);
  for (size_t i = 0; i < n; i++) {
    r[i].e = v[i];
    r[i].from = token_name(d, r[i].e.seq[0]);
    r[i].to = token_name(d, r[i].e.seq[1]);
  }
  qsort(r, n, sizeof *r, cmp_trans);
  for (size_t i = 0, j; i < n; i = j) {
    int64_t total = 0; /* Σ_b count(a -> b), $ included */
    for (j = i; j < n && r[j].e.seq[0] == r[i].e.seq[0]; j++)
      total += r[j].e.c[0];
    for (size_t x = i; x < j; x++) add_trans_row(t, &r[x], total);
  }
  g_free(v);
  g_free(r);
  return t;
}

static PcTable *table_prefix(const PcSeqTab *g, const PcDict *d) {
  static const char *const cols[] = {"depth:int", "path:string", "reach:int",
                                     "end:int", "target:int"};
  PcTable *t = pc_table_new("prefix_tree", cols, 5);
  GString *s = g_string_new(NULL);
  size_t n;
  PcSeqEntry *v = pc_seqtab_entries(g, &n);
  qsort(v, n, sizeof *v, cmp_path);
  for (size_t i = 0; i < n; i++) {
    pc_table_add_row(t);
    pc_table_set_int(t, 0, (int64_t)v[i].len);
    set_path(t, 1, d, &v[i], s);
    for (guint c = 0; c < 3; c++) pc_table_set_int(t, 2 + c, v[i].c[c]);
  }
  g_free(v);
  g_string_free(s, TRUE);
  return t;
}

/* ---- Reduce ---- */

/* Owner candidates of table `which` (0 variants, 1 ngrams, 2 transitions,
 * 3 prefix), gathered; on rank 0 *out = the output table. */
static gboolean reduce_one(PcPaths *p, int which, const PcCommOps *ops,
                           const PcDict *tokens, int64_t journeys,
                           PcTable **out, GError **error) {
  PcSeqTab *tabs[4] = {p->variants, p->ngrams, p->trans, p->prefix};
  GByteArray *mine;
  if (which == 0) mine = candidates_top(tabs[0], p->top_k, cmp_count_seq);
  else if (which == 1) mine = candidates_ngrams(tabs[1], p->ngram_max, p->top_k);
  else if (which == 2) mine = candidates_min(tabs[2], 0);
  else mine = candidates_min(tabs[3], p->min_support);
  PcSeqTab *g = NULL;
  gboolean ok = gather_table(mine, pc_seqtab_k(tabs[which]), ops, &g, error);
  g_byte_array_unref(mine);
  *out = NULL;
  if (!ok || !g) return ok;
  if (which == 0) *out = table_variants(g, p->top_k, journeys, tokens);
  else if (which == 1) *out = table_ngrams(g, p->ngram_max, p->top_k, tokens);
  else if (which == 2) *out = table_transitions(g, tokens);
  else *out = table_prefix(g, tokens);
  pc_seqtab_free(g);
  return TRUE;
}

gboolean pc_paths_reduce(PcPaths *p, const PcCommOps *ops,
                         const PcDict *tokens, GPtrArray *tables,
                         uint64_t *journeys, GError **error) {
  g_return_val_if_fail(!p->reduced, FALSE);
  g_return_val_if_fail(error == NULL || *error == NULL, FALSE);
  flush_dense(p);
  p->reduced = TRUE;
  int64_t total = p->journeys;
  if (!ops->sum_i64(ops->ctx, &total, 1, error)) return FALSE;
  *journeys = (uint64_t)total;
  if (!exchange_table(&p->variants, ops, error) ||
      !exchange_table(&p->ngrams, ops, error) ||
      !exchange_table(&p->trans, ops, error) ||
      !exchange_table(&p->prefix, ops, error))
    return FALSE;
  normalize_gaps(p->trans);
  PcTable *out[4] = {NULL, NULL, NULL, NULL};
  gboolean ok = TRUE;
  for (int w = 0; w < 4 && ok; w++)
    ok = reduce_one(p, w, ops, tokens, total, &out[w], error);
  for (int w = 0; w < 4; w++) {
    if (ok && out[w]) g_ptr_array_add(tables, out[w]);
    else pc_table_free(out[w]);
  }
  return ok;
}

/* ---- Preceding paths (spec §4) ---- */

PcPreceding *pc_preceding_new(guint lookback, guint64 top_k) {
  PcPreceding *p = g_new0(PcPreceding, 1);
  p->lookback = lookback;
  p->top_k = top_k;
  p->t = pc_seqtab_new(1);
  return p;
}

void pc_preceding_free(PcPreceding *p) {
  if (!p) return;
  pc_seqtab_free(p->t);
  g_free(p);
}

void pc_preceding_add(PcPreceding *p, const uint32_t *pre, size_t len) {
  g_return_if_fail(!p->reduced);
  size_t m = MIN(len, (size_t)p->lookback);
  pc_seqtab_upsert(p->t, m ? pre + (len - m) : NULL, m)[0]++;
}

void pc_preceding_merge(PcPreceding *dst, const PcPreceding *src) {
  g_return_if_fail(!dst->reduced && !src->reduced && dst != src);
  pc_seqtab_merge(dst->t, src->t);
}

size_t pc_preceding_memory_bytes(const PcPreceding *p) {
  return sizeof *p + pc_seqtab_memory_bytes(p->t);
}

static PcTable *table_preceding(const PcSeqTab *g, guint64 k,
                                uint64_t y_total, const PcDict *d) {
  return table_ranked("preceding_paths", "customers", FALSE, g, k, (int64_t)y_total, d);
}

gboolean pc_preceding_reduce(PcPreceding *p, const PcCommOps *ops,
                             const PcDict *events, uint64_t y_total,
                             GPtrArray *tables, GError **error) {
  g_return_val_if_fail(!p->reduced, FALSE);
  g_return_val_if_fail(error == NULL || *error == NULL, FALSE);
  p->reduced = TRUE;
  if (!exchange_table(&p->t, ops, error)) return FALSE;
  GByteArray *mine = candidates_top(p->t, p->top_k, cmp_count_seq);
  PcSeqTab *g = NULL;
  gboolean ok = gather_table(mine, 1, ops, &g, error);
  g_byte_array_unref(mine);
  if (!ok || !g) return ok;
  g_ptr_array_add(tables, table_preceding(g, p->top_k, y_total, events));
  pc_seqtab_free(g);
  return TRUE;
}
