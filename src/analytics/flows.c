/* flows.c - the "flows" analysis module (spec §15): for every [flow.NAME],
 * the path of up to `steps` event names right after (or before) each
 * customer's first anchor event, counted per path with how many of those
 * customers reach the target (flows.csv).
 *
 * Owns one PcSeqTab for all flows, keyed by [flow index, path tokens...]
 * with the counters [customers, customers_with_outcome], and per flow the
 * customers whose journey has the anchor (int64, summed exactly). Does not
 * own the config (PcFlowConfig) nor the exchange (pc_seqreduce.h). No MPI,
 * no HDF5.
 *
 * Invariants:
 *  - Path tokens are stored as 2 * event id + 1; the one-token path "$"
 *    (nothing follows) or "^" (nothing precedes) is stored as 2 * lb, lb =
 *    the number of event names bytewise below "$" (or "^"). So the plain
 *    token order of keys is the order of spec §15, where "$" and "^"
 *    compare as one-token sequences with real names, and every order here
 *    is total on distinct keys: emitted bytes never depend on how journeys
 *    were split or merged.
 *  - Counts are exact integers that only add; each key is merged on one
 *    owner rank before any selection; the top k of each flow is taken on
 *    the owners, then again on rank 0 over the union (which contains it).
 *  - A customer counts once per flow (its first anchor event only).
 */
#include "pc_module.h"
#include "pc_seqreduce.h"
#include "pc_stats.h"

#include <stdlib.h>

#define MAX_STEPS 16 /* flow.steps range (config_keys.c) */

typedef struct {
  guint n;               /* flows */
  const PcFlowConfig *cfg;
  gint64 *anchor;        /* [n] event id of the anchor, -1: not in the input */
  uint32_t special[2];   /* stored token of "$" (after) and "^" (before) */
  int64_t *with_anchor;  /* [n] customers whose journey has the anchor */
  PcSeqTab *t;           /* [flow, path...] -> [customers, with outcome] */
  PcSeqSpill *runs;      /* t's spilled runs (pc_seqspill.h) */
  PcSeqTab *g;           /* rank 0 after reduce: the candidates */
  guint64 top_k;
} Flows;

static gboolean flows_enabled(const PcJobConfig *cfg) {
  return cfg->n_flows > 0;
}

/* Names of d bytewise below s: where s would sort among them. */
static uint32_t lower_bound(const PcDict *d, const char *s) {
  uint32_t n = 0;
  for (guint i = 0; i < d->n; i++) n += strcmp(d->names[i], s) < 0;
  return n;
}

static void *flows_create(const PcModuleEnv *env, GError **error) {
  const PcJobConfig *cfg = env->cfg;
  Flows *m = g_new0(Flows, 1);
  m->n = cfg->n_flows;
  m->cfg = cfg->flows;
  m->top_k = cfg->top_k;
  m->anchor = g_new(gint64, m->n);
  for (guint f = 0; f < m->n; f++)
    m->anchor[f] = pc_dict_find(env->names->events, cfg->flows[f].anchor);
  m->special[0] = 2 * lower_bound(env->names->events, "$");
  m->special[1] = 2 * lower_bound(env->names->events, "^");
  m->with_anchor = g_new0(int64_t, m->n);
  m->t = pc_seqtab_new(2);
  m->runs = pc_seqspill_new(env->spill, "flows", 2);
  return m;
}

static void flows_destroy(void *self) {
  Flows *m = self;
  if (!m) return;
  g_free(m->anchor);
  g_free(m->with_anchor);
  pc_seqtab_free(m->t);
  pc_seqspill_free(m->runs);
  pc_seqtab_free(m->g);
  g_free(m);
}

/* The key of flow f for journey j whose first anchor is ev[i]. */
static size_t flow_key(const Flows *m, guint f, const PcJourney *j, size_t i,
                       uint32_t *key) {
  const PcFlowConfig *fc = &m->cfg[f];
  size_t a, b; /* the path is ev[a..b) */
  if (fc->before) a = i > fc->steps ? i - fc->steps : 0, b = i;
  else a = i + 1, b = MIN(j->n, i + 1 + fc->steps);
  key[0] = f;
  if (a == b) {
    key[1] = m->special[fc->before ? 1 : 0];
    return 2;
  }
  for (size_t k = a; k < b; k++) key[1 + k - a] = 2 * j->ev[k].event + 1;
  return 1 + b - a;
}

static void flows_add(void *self, const PcJourneyView *jv) {
  Flows *m = self;
  const PcJourney *j = jv->j;
  uint32_t key[1 + MAX_STEPS];
  pc_seqspill_maybe(m->runs, m->t); /* a journey boundary */
  for (guint f = 0; f < m->n; f++) {
    if (m->anchor[f] < 0) continue;
    size_t i = 0;
    while (i < j->n && j->ev[i].event != (uint32_t)m->anchor[f]) i++;
    if (i == j->n) continue;
    m->with_anchor[f]++;
    int64_t *c = pc_seqtab_upsert(m->t, key, flow_key(m, f, j, i, key));
    c[0]++;
    c[1] += jv->y ? 1 : 0;
  }
}

static void flows_merge(void *dst, void *src) {
  Flows *d = dst, *s = src;
  pc_stats_add_i64(d->with_anchor, s->with_anchor, d->n);
  pc_seqtab_merge(d->t, s->t);
  pc_seqspill_absorb(d->runs, s->runs);
  pc_seqspill_maybe(d->runs, d->t);
}

/* Sorts v by flow (the first token; stable counting sort); start[f] ..
 * start[f + 1] is the run of flow f (start: n + 1 entries). */
static void group_by_flow(PcSeqEntry *v, size_t nv, guint n, size_t *start) {
  g_autofree PcSeqEntry *tmp = g_new(PcSeqEntry, nv ? nv : 1);
  g_autofree size_t *at = g_new0(size_t, n + 1);
  for (size_t i = 0; i < nv; i++) at[v[i].seq[0] + 1]++;
  for (guint f = 0; f < n; f++) at[f + 1] += at[f];
  memcpy(start, at, (n + 1) * sizeof *start);
  for (size_t i = 0; i < nv; i++) tmp[at[v[i].seq[0]]++] = v[i];
  memcpy(v, tmp, nv * sizeof *v);
}

/* The owner's candidates: the top k of every flow (customers desc, then
 * path asc: the key order, whose first token is the same in a flow). */
static GByteArray *candidates(PcSeqTab *t, void *data) {
  const Flows *m = data;
  size_t nv;
  g_autofree PcSeqEntry *v = pc_seqtab_entries(t, &nv);
  g_autofree size_t *start = g_new(size_t, m->n + 1);
  GByteArray *buf = g_byte_array_new();
  group_by_flow(v, nv, m->n, start);
  for (guint f = 0; f < m->n; f++) {
    PcSeqEntry *run = v + start[f];
    size_t k = pc_seqred_select_top(run, start[f + 1] - start[f], m->top_k,
                                    pc_seqred_cmp_count);
    for (size_t i = 0; i < k; i++)
      pc_seqtab_serialize_entry(buf, run[i].seq, run[i].len, run[i].c, 2);
  }
  return buf;
}

static gboolean flows_reduce(void *self, const PcModuleEnv *env,
                             GError **error) {
  Flows *m = self;
  const PcCommOps *ops = env->ops;
  if (!ops->sum_i64(ops->ctx, m->with_anchor, m->n, error)) return FALSE;
  gboolean ok = pc_seqred_reduce(&m->t, m->runs, candidates, m, ops, &m->g, error);
  pc_seqtab_clear(m->t);
  pc_seqspill_forget(m->runs);
  return ok;
}

/* The path cell: stored tokens back to names joined by " > ". */
static void set_path(PcTable *t, guint col, const Flows *m, const PcDict *d,
                     const PcSeqEntry *e, GString *s) {
  g_string_truncate(s, 0);
  for (size_t k = 1; k < e->len; k++) {
    uint32_t tok = e->seq[k];
    if (k > 1) g_string_append(s, " > ");
    if (tok & 1) g_string_append(s, d->names[tok >> 1]);
    else g_string_append(s, m->cfg[e->seq[0]].before ? "^" : "$");
  }
  pc_table_set_string_len(t, col, s->str, s->len);
}

/* Rows of flow f: run[0..k) sorted best first. */
static void flow_rows(PcTable *t, const Flows *m, guint f, const PcSeqEntry *run,
                      size_t k, const PcModuleEnv *env, GString *s) {
  for (size_t i = 0; i < k; i++) {
    pc_table_add_row(t);
    pc_table_set_string(t, 0, m->cfg[f].name);
    pc_table_set_int(t, 1, (int64_t)i + 1);
    pc_table_set_int(t, 2, run[i].c[0]);
    pc_table_set_double(t, 3, (double)run[i].c[0] / (double)m->with_anchor[f]);
    if (env->target->n)
      pc_table_set_double(t, 4, (double)run[i].c[1] / (double)run[i].c[0]);
    set_path(t, 5, m, env->names->events, &run[i], s);
  }
}

static gboolean flows_tables(void *self, const PcModuleEnv *env,
                             PcOutputs *out, GError **error) {
  static const char *const cols[] = {"flow:string", "rank:int", "customers:int",
                                     "share:double", "outcome_rate:double",
                                     "path:string"};
  Flows *m = self;
  PcTable *t = pc_table_new("flows", cols, 6);
  size_t nv;
  g_autofree PcSeqEntry *v = pc_seqtab_entries(m->g, &nv);
  g_autofree size_t *start = g_new(size_t, m->n + 1);
  g_autoptr(GString) s = g_string_new(NULL);
  group_by_flow(v, nv, m->n, start);
  for (guint f = 0; f < m->n; f++) {
    PcSeqEntry *run = v + start[f];
    size_t k = pc_seqred_select_top(run, start[f + 1] - start[f], m->top_k,
                                    pc_seqred_cmp_count);
    flow_rows(t, m, f, run, k, env, s);
  }
  pc_outputs_add(out, t);
  return TRUE;
}

/* Per thread: the anchors and counts per flow (paths grow with distinct
 * keys: they spill past the rank's table pool, pc_spill.h). */
static uint64_t flows_memory(const PcModuleEnv *env, int threads,
                             uint64_t customers) {
  return (uint64_t)threads * 16 * env->cfg->n_flows;
}

const PcModule pc_module_flows = {
    .name = "flows",
    .enabled = flows_enabled,
    .create = flows_create,
    .add = flows_add,
    .merge = flows_merge,
    .reduce = flows_reduce,
    .tables = flows_tables,
    .destroy = flows_destroy,
    .memory = flows_memory,
};
