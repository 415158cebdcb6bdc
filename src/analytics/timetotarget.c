/* timetotarget.c - the "time_to_target" analysis module (spec §17): for the
 * customers with y = 1, the time from their first event of each event
 * token of the pre-target journey to their first target event, and from
 * the journey's first event (row "^"); per token the customers and the
 * 25th, 50th and 90th nearest-rank percentiles in seconds
 * (time_to_target.csv).
 *
 * Owns the per-journey scan and the table. The values and their exact
 * percentiles belong to the shared exact distributed percentile code
 * (pc_quantile.h, spec §5's nearest rank on exact µs values, identical at
 * any P). That code is not on main yet (branch issue16-funnels): the four
 * ttt_q_* functions below stand in for pc_quantile_new/add/merge/select
 * with the same signatures and keep the values, but select only counts
 * them and leaves the percentile cells empty. Switching = deleting the
 * stand-in and calling pc_quantile_* (docs/choices.md). No MPI, no HDF5.
 *
 * Invariants: key e (< E) is event token e, key E is "^"; a customer adds
 * one value per distinct token (journey stamps), each >= 0 µs because the
 * journey is in time order and the first target event ends it.
 */
#include "pc_module.h"
#include "pc_stats.h"

#define N_PCT 3

/* ---- Stand-in for pc_quantile.h (switch when it reaches main) ---- */

typedef struct {
  GHashTable *by_key; /* uint64 key -> GArray of int64 */
} TttQuantile;

static void ttt_q_array_free(gpointer p) { g_array_unref(p); }

static TttQuantile *ttt_q_new(void) {
  TttQuantile *q = g_new0(TttQuantile, 1);
  q->by_key = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free,
                                    ttt_q_array_free);
  return q;
}

static void ttt_q_free(TttQuantile *q) {
  if (!q) return;
  g_hash_table_unref(q->by_key);
  g_free(q);
}

static void ttt_q_add(TttQuantile *q, uint64_t key, int64_t value) {
  GArray *a = g_hash_table_lookup(q->by_key, &key);
  if (!a) {
    a = g_array_new(FALSE, FALSE, sizeof(int64_t));
    g_hash_table_insert(q->by_key, g_memdup2(&key, sizeof key), a);
  }
  g_array_append_val(a, value);
}

static void ttt_q_merge(TttQuantile *dst, TttQuantile *src) {
  GHashTableIter it;
  gpointer k, v;
  g_hash_table_iter_init(&it, src->by_key);
  while (g_hash_table_iter_next(&it, &k, &v)) {
    const GArray *a = v;
    for (guint i = 0; i < a->len; i++)
      ttt_q_add(dst, *(const uint64_t *)k, g_array_index(a, int64_t, i));
  }
}

/* Collective. n_out[i] = the values of keys[i] over every rank. The
 * percentiles (val_out) are pc_quantile_select's to compute: *have_pct =
 * FALSE until it replaces this stand-in. */
static gboolean ttt_q_select(TttQuantile *q, const PcCommOps *ops,
                             const uint64_t *keys, size_t nk, int64_t *n_out,
                             gboolean *have_pct, GError **error) {
  for (size_t i = 0; i < nk; i++) {
    const GArray *a = g_hash_table_lookup(q->by_key, &keys[i]);
    n_out[i] = a ? (int64_t)a->len : 0;
  }
  *have_pct = FALSE;
  return ops->sum_i64(ops->ctx, n_out, nk, error);
}

/* ---- The module ---- */

typedef struct {
  guint E;
  TttQuantile *q;
  uint64_t serial, *stamp; /* [E] last journey that counted the token */
  int64_t *n;            /* after reduce: [E + 1] customers per key */
  int64_t *pct;          /* after reduce: [(E + 1) * N_PCT] µs */
  gboolean have_pct;
} TimeToTarget;

static gboolean ttt_enabled(const PcJobConfig *cfg) {
  return cfg->n_target_events > 0;
}

static void *ttt_create(const PcModuleEnv *env, GError **error) {
  TimeToTarget *m = g_new0(TimeToTarget, 1);
  m->E = env->names->events->n;
  m->q = ttt_q_new();
  m->stamp = g_new0(uint64_t, m->E + 1);
  return m;
}

static void ttt_destroy(void *self) {
  TimeToTarget *m = self;
  if (!m) return;
  ttt_q_free(m->q);
  g_free(m->stamp);
  g_free(m->n);
  g_free(m->pct);
  g_free(m);
}

/* Per y = 1 journey: "^" from its first event (the target itself when
 * the pre-target journey is empty: 0 s), each token from its first event. */
static void ttt_add(void *self, const PcJourneyView *jv) {
  TimeToTarget *m = self;
  if (!jv->y) return;
  const PcEvent *ev = jv->j->ev;
  int64_t target = ev[jv->cut].ts_us;
  uint64_t s = ++m->serial;
  ttt_q_add(m->q, m->E, target - ev[0].ts_us);
  for (size_t i = 0; i < jv->cut; i++) {
    uint32_t e = ev[i].event;
    if (m->stamp[e] == s) continue;
    m->stamp[e] = s;
    ttt_q_add(m->q, e, target - ev[i].ts_us);
  }
}

static void ttt_merge(void *dst, void *src) {
  ttt_q_merge(((TimeToTarget *)dst)->q, ((TimeToTarget *)src)->q);
}

static gboolean ttt_reduce(void *self, const PcModuleEnv *env,
                           GError **error) {
  TimeToTarget *m = self;
  size_t nk = (size_t)m->E + 1;
  g_autofree uint64_t *keys = g_new(uint64_t, nk);
  for (size_t i = 0; i < nk; i++) keys[i] = i;
  m->n = g_new0(int64_t, nk);
  m->pct = g_new0(int64_t, nk * N_PCT);
  return ttt_q_select(m->q, env->ops, keys, nk, m->n, &m->have_pct, error);
}

/* One row: key (E = "^"), its customers and percentiles in seconds. */
static void ttt_row(PcTable *t, const TimeToTarget *m, guint key,
                    const PcDict *events) {
  pc_table_add_row(t);
  pc_table_set_string(t, 0, key == m->E ? "^" : events->names[key]);
  pc_table_set_int(t, 1, m->n[key]);
  for (guint p = 0; m->have_pct && p < N_PCT; p++)
    pc_table_set_double(t, 2 + p, (double)m->pct[(size_t)key * N_PCT + p] / 1e6);
}

static gboolean ttt_tables(void *self, const PcModuleEnv *env, PcOutputs *out,
                           GError **error) {
  static const char *const cols[] = {"token:string", "customers:int",
                                     "p25_s:double", "median_s:double",
                                     "p90_s:double"};
  TimeToTarget *m = self;
  PcTable *t = pc_table_new("time_to_target", cols, 5);
  ttt_row(t, m, m->E, env->names->events);
  for (guint e = 0; e < m->E; e++)
    if (m->n[e] > 0) ttt_row(t, m, e, env->names->events);
  pc_outputs_add(out, t);
  return TRUE;
}

/* Per thread: the stamps; the values grow with the customers with y = 1
 * (16 bytes each per token of theirs while adding). */
static uint64_t ttt_memory(const PcModuleEnv *env, int threads,
                           uint64_t customers) {
  uint64_t E = env->names->events->n;
  return (uint64_t)threads * 8 * (E + 1) + 8 * (N_PCT + 1) * (E + 1);
}

const PcModule pc_module_time_to_target = {
    .name = "time_to_target",
    .enabled = ttt_enabled,
    .create = ttt_create,
    .add = ttt_add,
    .merge = ttt_merge,
    .reduce = ttt_reduce,
    .tables = ttt_tables,
    .destroy = ttt_destroy,
    .memory = ttt_memory,
};
