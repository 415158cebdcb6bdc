/* timetotarget.c - the "time_to_target" analysis module (spec §17): for the
 * customers with y = 1, the time from their first event of each event
 * token of the pre-target journey to their first target event, and from
 * the journey's first event (row "^"); per token the customers and the
 * 25th, 50th and 90th nearest-rank percentiles in seconds
 * (time_to_target.csv).
 *
 * Owns the per-journey scan and the table. The values and their exact
 * percentiles are the shared exact distributed percentiles' (pc_quantile.h:
 * spec §5's nearest rank on the exact µs values, the same at any P and
 * thread count). No MPI, no HDF5.
 *
 * Invariants: key e (< E) is event token e, key E is "^"; a customer adds
 * one value per distinct token (journey stamps), each >= 0 µs because the
 * journey is in time order and the first target event ends it.
 */
#include "pc_module.h"
#include "pc_quantile.h"

#define N_PCT 3

/* ---- The module ---- */

static const guint pct[N_PCT] = {25, 50, 90};

typedef struct {
  guint E;
  PcQuantile *q;
  uint64_t serial, *stamp; /* [E] last journey that counted the token */
  int64_t *n;            /* after reduce: [E + 1] customers per key */
  int64_t *pct;          /* after reduce: [(E + 1) * N_PCT] µs */
} TimeToTarget;

static gboolean ttt_enabled(const PcJobConfig *cfg) {
  return cfg->n_target_events > 0;
}

static void *ttt_create(const PcModuleEnv *env, GError **error) {
  TimeToTarget *m = g_new0(TimeToTarget, 1);
  m->E = env->names->events->n;
  m->q = pc_quantile_new();
  pc_quantile_set_spill(m->q, env->spill, "time_to_target");
  m->stamp = g_new0(uint64_t, m->E + 1);
  return m;
}

static void ttt_destroy(void *self) {
  TimeToTarget *m = self;
  if (!m) return;
  pc_quantile_free(m->q);
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
  pc_quantile_add(m->q, m->E, target - ev[0].ts_us);
  for (size_t i = 0; i < jv->cut; i++) {
    uint32_t e = ev[i].event;
    if (m->stamp[e] == s) continue;
    m->stamp[e] = s;
    pc_quantile_add(m->q, e, target - ev[i].ts_us);
  }
}

static void ttt_merge(void *dst, void *src) {
  pc_quantile_merge(((TimeToTarget *)dst)->q, ((TimeToTarget *)src)->q);
}

static gboolean ttt_reduce(void *self, const PcModuleEnv *env,
                           GError **error) {
  TimeToTarget *m = self;
  size_t nk = (size_t)m->E + 1;
  g_autofree uint64_t *keys = g_new(uint64_t, nk);
  for (size_t i = 0; i < nk; i++) keys[i] = i;
  m->n = g_new0(int64_t, nk);
  m->pct = g_new0(int64_t, nk * N_PCT);
  gboolean ok = pc_quantile_select(m->q, env->ops, keys, nk, pct, N_PCT, m->n,
                                   m->pct, error);
  pc_quantile_release(m->q);
  return ok;
}

/* One row: key (E = "^"), its customers and percentiles in seconds (empty
 * cells when no customer reaches the target: "^" only). */
static void ttt_row(PcTable *t, const TimeToTarget *m, guint key,
                    const PcDict *events) {
  pc_table_add_row(t);
  pc_table_set_string(t, 0, key == m->E ? "^" : events->names[key]);
  pc_table_set_int(t, 1, m->n[key]);
  for (guint p = 0; m->n[key] > 0 && p < N_PCT; p++)
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
 * (pc_quantile.h: 16 bytes per value while adding, 8 once sealed). */
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
