/* summary.c - the "summary" analysis module: the customer and event counts
 * of summary.csv (spec §10) and the run-wide facts N (customers) and Y
 * (customers with the outcome) that later modules read in their reduce.
 * First in the module table for that reason.
 *
 * Owns four int64 counters per instance. No MPI, no HDF5; the counters are
 * summed over ranks with PcCommOps.sum_i64 (exact, order-free).
 */
#include "pc_module.h"
#include "pc_stats.h"

enum { S_CUSTOMERS, S_EVENTS, S_Y, S_NO_REVENUE, S_N };

typedef struct {
  int64_t st[S_N];
  gboolean has_crm;
} Summary;

static void *summary_create(const PcModuleEnv *env, GError **error) {
  Summary *m = g_new0(Summary, 1);
  m->has_crm = env->has_crm;
  return m;
}

static void summary_add(void *self, const PcJourneyView *jv) {
  Summary *m = self;
  m->st[S_CUSTOMERS]++;
  m->st[S_EVENTS] += (int64_t)jv->j->n;
  m->st[S_Y] += jv->y ? 1 : 0;
  if (m->has_crm && !jv->j->has_revenue) m->st[S_NO_REVENUE]++;
}

static void summary_merge(void *dst, void *src) {
  pc_stats_add_i64(((Summary *)dst)->st, ((Summary *)src)->st, S_N);
}

static gboolean summary_reduce(void *self, const PcModuleEnv *env,
                               GError **error) {
  Summary *m = self;
  if (!env->ops->sum_i64(env->ops->ctx, m->st, S_N, error)) return FALSE;
  env->facts->customers = (uint64_t)m->st[S_CUSTOMERS];
  env->facts->customers_with_outcome = (uint64_t)m->st[S_Y];
  return TRUE;
}

static gboolean summary_tables(void *self, const PcModuleEnv *env,
                               PcOutputs *out, GError **error) {
  Summary *m = self;
  pc_outputs_summary(out, PC_SUMMARY_CUSTOMERS, (uint64_t)m->st[S_CUSTOMERS]);
  pc_outputs_summary(out, PC_SUMMARY_EVENTS, (uint64_t)m->st[S_EVENTS]);
  pc_outputs_summary(out, PC_SUMMARY_CUSTOMERS_WITH_OUTCOME,
                     (uint64_t)m->st[S_Y]);
  pc_outputs_summary(out, PC_SUMMARY_CUSTOMERS_WITHOUT_REVENUE,
                     (uint64_t)m->st[S_NO_REVENUE]);
  return TRUE;
}

const PcModule pc_module_summary = {
    .name = "summary",
    .create = summary_create,
    .add = summary_add,
    .merge = summary_merge,
    .reduce = summary_reduce,
    .tables = summary_tables,
    .destroy = g_free,
};
