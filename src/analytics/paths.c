/* paths.c - the path tables of spec §3 (variants, n-grams, transitions,
 * prefix tree): counting per thread (PcPaths), merging, and the "paths"
 * analysis module. The reduce and the table layouts are in paths_tables.c.
 *
 * Owns PcPaths. Makes no MPI or HDF5 call (PcCommOps only); no global
 * mutable state.
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
#include "paths_int.h"
#include "pc_module.h"

#include <stdlib.h>

/* ---- private prototypes ---- */
static void count_journey(PcPaths *p, const uint32_t *tok, const int64_t *ts,
                          size_t n, gboolean y);
static void count_variant_prefix(PcPaths *p, const uint32_t *tok, size_t n,
                                 gboolean y);
static void count_ngrams(PcPaths *p, const uint32_t *tok, size_t n);
static void count_transitions(PcPaths *p, const uint32_t *tok,
                              const int64_t *ts, size_t n);

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
  p->gaps = pc_quantile_new();
  pc_paths_set_spill(p, NULL);
  return p;
}

static const char *const table_names[4] = {"variants", "ngrams",
                                            "transitions", "prefix"};

void pc_paths_set_spill(PcPaths *p, PcSpill *sp) {
  g_return_if_fail(p->journeys == 0 && !p->reduced);
  PcSeqTab **tabs[4] = PATHS_TABLES(p);
  for (int i = 0; i < 4; i++) {
    pc_seqspill_free(p->runs[i]);
    p->runs[i] = pc_seqspill_new(sp, table_names[i], pc_seqtab_k(*tabs[i]));
  }
  pc_quantile_set_spill(p->gaps, sp, "gaps");
}

/* At a journey boundary: each table reports its bytes, and spills when
 * the rank's pool is over budget (pc_seqspill.h). */
static void maybe_spill(PcPaths *p) {
  PcSeqTab **tabs[4] = PATHS_TABLES(p);
  for (int i = 0; i < 4; i++) pc_seqspill_maybe(p->runs[i], *tabs[i]);
}

void pc_paths_free(PcPaths *p) {
  if (!p) return;
  pc_seqtab_free(p->variants);
  pc_seqtab_free(p->ngrams);
  pc_seqtab_free(p->trans);
  pc_seqtab_free(p->prefix);
  pc_quantile_free(p->gaps);
  for (int i = 0; i < 4; i++) pc_seqspill_free(p->runs[i]);
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
  maybe_spill(p);
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
  for (size_t i = 1; i < n; i++) /* real pairs: every gap for its percentiles */
    pc_quantile_add(p->gaps, GAP_KEY(tok[i - 1], tok[i]), ts[i] - ts[i - 1]);
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

void pc_paths_normalize_gaps(PcSeqTab *t) {
  pc_seqtab_foreach(t, normalize_one, NULL);
}

/* Moves the dense counters into the tables (adding), then zeroes them.
 * Stamps stay: they only compare with this instance's journey serials. */
void pc_paths_flush_dense(PcPaths *p) {
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
  pc_paths_normalize_gaps(p->trans);
}

void pc_paths_merge(PcPaths *dst, PcPaths *src) {
  g_return_if_fail(!dst->reduced && !src->reduced && dst != src);
  pc_paths_flush_dense(dst);
  pc_paths_flush_dense(src); /* moves counts between src's own stores */
  pc_seqtab_merge(dst->variants, src->variants);
  pc_seqtab_merge(dst->ngrams, src->ngrams);
  pc_seqtab_merge(dst->trans, src->trans);
  pc_paths_normalize_gaps(dst->trans);
  pc_seqtab_merge(dst->prefix, src->prefix);
  pc_quantile_merge(dst->gaps, src->gaps); /* moves src's values */
  for (int i = 0; i < 4; i++) pc_seqspill_absorb(dst->runs[i], src->runs[i]);
  dst->journeys += src->journeys;
  maybe_spill(dst);
}

size_t pc_paths_memory_bytes(const PcPaths *p) {
  return sizeof *p + pc_seqtab_memory_bytes(p->variants) +
         pc_seqtab_memory_bytes(p->ngrams) + pc_seqtab_memory_bytes(p->trans) +
         pc_seqtab_memory_bytes(p->prefix) + pc_quantile_memory_bytes(p->gaps) +
         p->scratch_cap * 12;
}

/* ---- The "paths" module (pc_module.h) ---- */

typedef struct {
  PcPaths *p;
  GPtrArray *tables;   /* rank 0 after reduce: variants .. prefix_tree */
  uint64_t journeys;
} PathsModule;

static void *paths_create(const PcModuleEnv *env, GError **error) {
  PathsModule *m = g_new0(PathsModule, 1);
  m->p = pc_paths_new(env->cfg);
  pc_paths_set_spill(m->p, env->spill);
  m->tables = g_ptr_array_new_with_free_func((GDestroyNotify)pc_table_free);
  return m;
}

static void paths_add(void *self, const PcJourneyView *jv) {
  PathsModule *m = self;
  pc_paths_add(m->p, jv->tok, jv->ts, jv->j->n, jv->y);
}

static void paths_merge(void *dst, void *src) {
  pc_paths_merge(((PathsModule *)dst)->p, ((PathsModule *)src)->p);
}

static gboolean paths_reduce(void *self, const PcModuleEnv *env,
                             GError **error) {
  PathsModule *m = self;
  return pc_paths_reduce(m->p, env->ops, env->tokens, m->tables, &m->journeys,
                         error);
}

static gboolean paths_tables(void *self, const PcModuleEnv *env,
                             PcOutputs *out, GError **error) {
  PathsModule *m = self;
  pc_outputs_summary(out, PC_SUMMARY_JOURNEYS, m->journeys);
  for (guint i = 0; i < m->tables->len; i++)
    pc_outputs_add(out, g_ptr_array_index(m->tables, i));
  g_ptr_array_set_free_func(m->tables, NULL);
  g_ptr_array_set_size(m->tables, 0);
  return TRUE;
}

static void paths_destroy(void *self) {
  PathsModule *m = self;
  if (!m) return;
  pc_paths_free(m->p);
  g_ptr_array_unref(m->tables);
  g_free(m);
}

/* Per thread: the dense counters of small token ids (the tables keyed by
 * sequences grow with distinct keys: they spill past the rank's table
 * pool, pc_spill.h). */
static uint64_t paths_memory(const PcModuleEnv *env, int threads,
                             uint64_t customers) {
  return (uint64_t)threads * 8 * 3 * (DENSE + DENSE * DENSE + TR_N * TR_N);
}

const PcModule pc_module_paths = {
    .name = "paths",
    .create = paths_create,
    .add = paths_add,
    .merge = paths_merge,
    .reduce = paths_reduce,
    .tables = paths_tables,
    .destroy = paths_destroy,
    .memory = paths_memory,
};
