/* seqdrivers.c - the "sequence_drivers" analysis module (spec §16): for
 * every contiguous n-gram (n = 2..target.sequence_max) of event tokens of
 * the pre-target journeys, the customers who have it (n), those of them
 * with the outcome (a) and their revenue, then the §6 driver columns for
 * the n-grams of at least target.sequence_min_customers customers
 * (sequence_drivers.csv).
 *
 * Owns one PcSeqTab keyed by the n-gram's event ids, counters [n, a, r0,
 * r1, r2] plus a local journey stamp, and dense counters for 2-grams of
 * small ids (moved into the table before any merge or reduce, so the
 * table is as if counted there). Does not own the driver formulas
 * (pc_stats_driver_cells) nor the exchange (pc_seqreduce.h). No MPI, no
 * HDF5.
 *
 * Invariants:
 *  - A customer counts once per n-gram (journey stamps), whatever the
 *    number of occurrences.
 *  - Revenue at risk is PcMoney kept as three limbs, r0 + r1 * 2^32 +
 *    r2 * 2^64 with r0, r1 in [0, 2^32) after normalize(): limbs add like
 *    the other counters, so merges and the owner exchange stay exact for
 *    every 128-bit sum.
 *  - The support floor applies on the owner after the exchange (every
 *    rank's counts of a key merged), never before; candidates are the
 *    owner's top k by the spec order (chi2 desc, n asc, path asc), a total
 *    order, so rank 0's top k of their union is the global top k.
 */
#include "pc_module.h"
#include "pc_seqreduce.h"
#include "pc_stats.h"

#include <stdlib.h>

#define DENSE 256u     /* 2-grams of event ids below it skip the hash table */
#define BATCH_KEYS 256 /* keys hashed and prefetched together */
#define LIMB_MASK INT64_C(0xFFFFFFFF)

enum { C_N, C_A, C_R0, C_R1, C_R2, C_K, C_STAMP = C_K }; /* per key */

typedef struct {
  guint nmax;            /* target.sequence_max */
  guint64 min_customers, top_k;
  PcSeqTab *t;           /* [n, a, r0, r1, r2 | stamp] */
  PcSeqSpill *runs;      /* t's spilled runs (pc_seqspill.h) */
  const PcFacts *facts;  /* N and Y, for the chi2 of the candidates */
  int64_t *dense;        /* DENSE^2 x [n, a, r0, r1, r2, stamp]; lazily */
  uint64_t serial;       /* journeys counted here; stamps = it */
  GArray *ev;            /* scratch: event ids of the pre-target journey */
  PcSeqTab *g;           /* rank 0 after reduce: the candidates */
} SeqDrivers;

static gboolean sd_enabled(const PcJobConfig *cfg) {
  return cfg->n_target_events > 0;
}

static void *sd_create(const PcModuleEnv *env, GError **error) {
  SeqDrivers *m = g_new0(SeqDrivers, 1);
  m->nmax = env->cfg->sequence_max;
  g_assert(m->nmax >= 2 && m->nmax <= 8); /* the job file's range */
  m->min_customers = env->cfg->sequence_min_customers;
  m->top_k = env->cfg->top_k;
  m->t = pc_seqtab_new_local(C_K, 1);
  m->runs = pc_seqspill_new(env->spill, "seqdrivers", C_K);
  m->ev = g_array_new(FALSE, FALSE, sizeof(uint32_t));
  return m;
}

static void sd_destroy(void *self) {
  SeqDrivers *m = self;
  if (!m) return;
  pc_seqtab_free(m->t);
  pc_seqspill_free(m->runs);
  pc_seqtab_free(m->g);
  g_free(m->dense);
  g_array_free(m->ev, TRUE);
  g_free(m);
}

/* ---- Money limbs ---- */

static void limbs_of(PcMoney v, int64_t *r) {
  r[0] = (int64_t)(v & LIMB_MASK);
  r[1] = (int64_t)((v >> 32) & LIMB_MASK);
  r[2] = (int64_t)(v >> 64);
}

static PcMoney money_of(const int64_t *r) {
  return (PcMoney)r[0] + (PcMoney)r[1] * ((PcMoney)1 << 32) +
         (PcMoney)r[2] * ((PcMoney)1 << 64);
}

/* Carries r0 and r1 into the next limb: same value, r0, r1 in [0, 2^32). */
static void normalize(int64_t *r) {
  r[1] += r[0] >> 32;
  r[0] &= LIMB_MASK;
  r[2] += r[1] >> 32;
  r[1] &= LIMB_MASK;
}

static void normalize_entry(const uint32_t *seq, size_t len, int64_t *c,
                            void *data) {
  normalize(c + C_R0);
}

/* One customer into the counters c (a key of this journey seen first). */
static void count(int64_t *c, uint64_t serial, gboolean y, const int64_t *rev) {
  if ((uint64_t)c[C_STAMP] == serial) return;
  c[C_STAMP] = (int64_t)serial;
  c[C_N]++;
  if (!y) return;
  c[C_A]++;
  for (int i = 0; i < 3; i++) c[C_R0 + i] += rev[i];
  normalize(c + C_R0);
}

/* ---- Counting ---- */

typedef struct {
  const uint32_t *seq;
  size_t len;
  uint64_t h;
} Key;

/* The windows starting at i0..i1 of length 2..nmax, dense ones counted at
 * once, the others hashed, prefetched, then upserted. */
static void count_batch(SeqDrivers *m, const uint32_t *ev, size_t cut,
                        size_t i0, size_t i1, gboolean y, const int64_t *rev) {
  Key k[BATCH_KEYS];
  size_t nk = 0;
  for (size_t i = i0; i < i1; i++) {
    uint64_t h = pc_seqtab_hash_step(PC_SEQTAB_HASH_INIT, ev[i]);
    size_t lmax = MIN((size_t)m->nmax, cut - i);
    for (size_t len = 2; len <= lmax; len++) {
      h = pc_seqtab_hash_step(h, ev[i + len - 1]);
      if (len == 2 && ev[i] < DENSE && ev[i + 1] < DENSE) {
        count(m->dense + 6 * ((size_t)ev[i] * DENSE + ev[i + 1]), m->serial, y, rev);
        continue;
      }
      k[nk++] = (Key){ev + i, len, pc_seqtab_hash_final(h)};
    }
  }
  for (size_t j = 0; j < nk; j++) pc_seqtab_prefetch_slot(m->t, k[j].h);
  for (size_t j = 0; j < nk; j++) pc_seqtab_prefetch_record(m->t, k[j].h);
  for (size_t j = 0; j < nk; j++)
    count(pc_seqtab_upsert_hashed(m->t, k[j].seq, k[j].len, k[j].h), m->serial,
          y, rev);
}

static void sd_add(void *self, const PcJourneyView *jv) {
  SeqDrivers *m = self;
  size_t cut = jv->cut;
  if (cut < 2) return;
  pc_seqspill_maybe(m->runs, m->t); /* a journey boundary */
  if (!m->dense) m->dense = g_new0(int64_t, 6 * (size_t)DENSE * DENSE);
  g_array_set_size(m->ev, cut);
  uint32_t *ev = (uint32_t *)m->ev->data;
  for (size_t i = 0; i < cut; i++) ev[i] = jv->j->ev[i].event;
  int64_t rev[3];
  limbs_of(jv->y ? jv->revenue : 0, rev);
  m->serial++;
  size_t step = BATCH_KEYS / (m->nmax - 1);
  for (size_t i0 = 0; i0 + 1 < cut; i0 += step)
    count_batch(m, ev, cut, i0, MIN(cut - 1, i0 + step), jv->y, rev);
}

/* Moves the dense 2-grams into the table (adding), then drops them. */
static void flush_dense(SeqDrivers *m) {
  if (!m->dense) return;
  for (uint32_t a = 0; a < DENSE; a++)
    for (uint32_t b = 0; b < DENSE; b++) {
      const int64_t *d = m->dense + 6 * ((size_t)a * DENSE + b);
      if (!d[C_N]) continue;
      uint32_t key[2] = {a, b};
      int64_t *c = pc_seqtab_upsert(m->t, key, 2);
      for (int i = 0; i < C_K; i++) c[i] += d[i];
      normalize(c + C_R0);
    }
  g_clear_pointer(&m->dense, g_free);
}

static void sd_merge(void *dst, void *src) {
  SeqDrivers *d = dst, *s = src;
  flush_dense(d);
  flush_dense(s);
  pc_seqtab_merge(d->t, s->t);
  pc_seqtab_foreach(d->t, normalize_entry, NULL);
  pc_seqspill_absorb(d->runs, s->runs);
  pc_seqspill_maybe(d->runs, d->t);
}

/* ---- Reduce ---- */

/* A candidate row: c[0] = the bits of chi2 (>= 0, so the int64 order of
 * the bits is the numeric order), then the C_K counters. */
typedef struct {
  int64_t c[1 + C_K];
} Row;

/* chi2 desc, then n asc (key length), then path asc: spec §16. */
static int cmp_chi2(const void *pa, const void *pb) {
  const PcSeqEntry *a = pa, *b = pb;
  if (a->c[0] != b->c[0]) return a->c[0] > b->c[0] ? -1 : 1;
  if (a->len != b->len) return a->len < b->len ? -1 : 1;
  return pc_seqtab_seq_cmp(a->seq, a->len, b->seq, b->len);
}

/* The entries of t with n >= min, as entries over Row counters (rows
 * owned by *rows), chi2 from the run's N and Y. */
static PcSeqEntry *supported(const PcSeqTab *t, guint64 min,
                             const PcFacts *f, Row **rows, size_t *nout) {
  size_t n, m = 0;
  PcSeqEntry *v = pc_seqtab_entries(t, &n);
  *rows = g_new(Row, n ? n : 1);
  for (size_t i = 0; i < n; i++) {
    if ((uint64_t)v[i].c[C_N] < min) continue;
    Row *r = &(*rows)[m];
    double chi2 = pc_stats_chi2((int64_t)f->customers,
                                (int64_t)f->customers_with_outcome,
                                v[i].c[C_N], v[i].c[C_A]);
    memcpy(&r->c[0], &chi2, sizeof chi2);
    memcpy(&r->c[1], v[i].c, C_K * sizeof(int64_t));
    v[m++] = (PcSeqEntry){v[i].seq, v[i].len, r->c};
  }
  *nout = m;
  return v;
}

/* The owner's candidates (pc_seqreduce.h: they compose, chi2 being a
 * function of the counters). */
static GByteArray *candidates(PcSeqTab *t, void *data) {
  const SeqDrivers *m = data;
  g_autofree Row *rows = NULL;
  size_t n;
  pc_seqtab_foreach(t, normalize_entry, NULL);
  g_autofree PcSeqEntry *v = supported(t, m->min_customers, m->facts, &rows, &n);
  size_t k = pc_seqred_select_top(v, n, m->top_k, cmp_chi2);
  GByteArray *buf = g_byte_array_new();
  for (size_t i = 0; i < k; i++)
    pc_seqtab_serialize_entry(buf, v[i].seq, v[i].len, v[i].c + 1, C_K);
  return buf;
}

static gboolean sd_reduce(void *self, const PcModuleEnv *env, GError **error) {
  SeqDrivers *m = self;
  flush_dense(m);
  pc_seqtab_foreach(m->t, normalize_entry, NULL);
  m->facts = env->facts;
  gboolean ok = pc_seqred_reduce(&m->t, m->runs, candidates, m, env->ops, &m->g, error);
  pc_seqtab_clear(m->t);
  pc_seqspill_forget(m->runs);
  return ok;
}

static gboolean sd_tables(void *self, const PcModuleEnv *env, PcOutputs *out,
                          GError **error) {
  SeqDrivers *m = self;
  const char *cols[11] = {"n:int", "path:string"};
  for (guint c = 0; c < 9; c++) cols[2 + c] = pc_stats_driver_cols[c];
  PcTable *t = pc_table_new("sequence_drivers", cols, 11);
  g_autofree Row *rows = NULL;
  size_t n;
  g_autofree PcSeqEntry *v = supported(m->g, 0, env->facts, &rows, &n);
  size_t k = pc_seqred_select_top(v, n, m->top_k, cmp_chi2);
  g_autoptr(GString) s = g_string_new(NULL);
  int64_t N = (int64_t)env->facts->customers;
  int64_t Y = (int64_t)env->facts->customers_with_outcome;
  for (size_t i = 0; i < k; i++) {
    const int64_t *c = v[i].c + 1;
    pc_table_add_row(t);
    pc_table_set_int(t, 0, (int64_t)v[i].len);
    pc_seqred_set_path(t, 1, env->names->events, v[i].seq, v[i].len, s);
    pc_stats_driver_cells(t, 2, N, Y, c[C_N], c[C_A], money_of(c + C_R0));
  }
  pc_outputs_add(out, t);
  return TRUE;
}

/* Per thread: the dense 2-gram counters (n-grams grow with distinct keys:
 * they spill past the rank's table pool, pc_spill.h). */
static uint64_t sd_memory(const PcModuleEnv *env, int threads,
                          uint64_t customers) {
  return (uint64_t)threads * 8 * 6 * DENSE * DENSE;
}

const PcModule pc_module_sequence_drivers = {
    .name = "sequence_drivers",
    .enabled = sd_enabled,
    .create = sd_create,
    .add = sd_add,
    .merge = sd_merge,
    .reduce = sd_reduce,
    .tables = sd_tables,
    .destroy = sd_destroy,
    .memory = sd_memory,
};
