/* segments.c - the "segments" analysis module (spec §12): per segment of
 * the customers in scope, customers, events, customers_with_outcome,
 * outcome_rate, revenue and revenue_at_risk (segments.csv), written only
 * when the store has a customers table.
 *
 * Owns three int64 counters and two PcMoney sums per segment id of the
 * run's dictionary (pc_names_segments), summed exactly over ranks. Does
 * not own what a segment is (the engine resolves it, with the (unknown)
 * rules of §12, into PcJourneyView.segment) nor the scope (applied before
 * any module sees a journey). No MPI, no HDF5.
 *
 * Invariant: rows come in segment id order, which is bytewise name order;
 * a segment without a customer in scope has no row.
 */
#include "pc_module.h"
#include "pc_stats.h"

enum { G_CUSTOMERS, G_EVENTS, G_Y, G_N };
enum { M_REVENUE, M_AT_RISK, M_N };

typedef struct {
  guint S;          /* segments in the dictionary */
  gboolean on;      /* the store has a customers table */
  int64_t *st;      /* [S][G_N] */
  PcMoney *money;   /* [S][M_N] millionths */
} Segments;

static void *segments_create(const PcModuleEnv *env, GError **error) {
  Segments *m = g_new0(Segments, 1);
  m->S = pc_names_segments(env->names)->n;
  m->on = env->has_crm;
  m->st = g_new0(int64_t, (size_t)m->S * G_N + 1);
  m->money = g_new0(PcMoney, (size_t)m->S * M_N + 1);
  return m;
}

/* revenue is the customers-table revenue here: the module counts only
 * with a customers table, where PcJourneyView.revenue is exactly that. */
static void segments_add(void *self, const PcJourneyView *jv) {
  Segments *m = self;
  if (!m->on) return;
  g_assert(jv->segment < m->S);
  int64_t *r = m->st + (size_t)jv->segment * G_N;
  PcMoney *mo = m->money + (size_t)jv->segment * M_N;
  r[G_CUSTOMERS]++;
  r[G_EVENTS] += (int64_t)jv->j->n;
  r[G_Y] += jv->y ? 1 : 0;
  mo[M_REVENUE] += jv->revenue;
  if (jv->y) mo[M_AT_RISK] += jv->revenue;
}

static void segments_merge(void *dst, void *src) {
  Segments *d = dst, *s = src;
  pc_stats_add_i64(d->st, s->st, (size_t)d->S * G_N);
  pc_stats_add_money(d->money, s->money, (size_t)d->S * M_N);
}

static gboolean segments_reduce(void *self, const PcModuleEnv *env,
                                GError **error) {
  Segments *m = self;
  if (!m->on) return TRUE;
  return env->ops->sum_i64(env->ops->ctx, m->st, (size_t)m->S * G_N, error) &&
         env->ops->sum_fix(env->ops->ctx, m->money, (size_t)m->S * M_N, error);
}

static gboolean segments_tables(void *self, const PcModuleEnv *env,
                                PcOutputs *out, GError **error) {
  static const char *const cols[] = {
      "segment:string", "customers:int", "events:int", "customers_with_outcome:int",
      "outcome_rate:double", "revenue:micros", "revenue_at_risk:micros"};
  Segments *m = self;
  if (!m->on) return TRUE;
  const PcDict *names = pc_names_segments(env->names);
  PcTable *t = pc_table_new("segments", cols, G_N_ELEMENTS(cols));
  for (guint s = 0; s < m->S; s++) {
    const int64_t *r = m->st + (size_t)s * G_N;
    const PcMoney *mo = m->money + (size_t)s * M_N;
    if (!r[G_CUSTOMERS]) continue;
    pc_table_add_row(t);
    pc_table_set_string(t, 0, names->names[s]);
    pc_table_set_int(t, 1, r[G_CUSTOMERS]);
    pc_table_set_int(t, 2, r[G_EVENTS]);
    pc_table_set_int(t, 3, r[G_Y]);
    pc_table_set_double(t, 4, pc_stats_ratio((double)r[G_Y], (double)r[G_CUSTOMERS]));
    pc_table_set_micros(t, 5, mo[M_REVENUE]);
    pc_table_set_micros(t, 6, mo[M_AT_RISK]);
  }
  pc_outputs_add(out, t);
  return TRUE;
}

static void segments_destroy(void *self) {
  Segments *m = self;
  if (!m) return;
  g_free(m->st);
  g_free(m->money);
  g_free(m);
}

/* Per thread: counters and money per segment of the run's dictionary. */
static uint64_t segments_memory(const PcModuleEnv *env, int threads,
                                uint64_t customers) {
  uint64_t S = pc_names_segments(env->names)->n + 1;
  return (uint64_t)threads * S * (G_N * 8 + M_N * sizeof(PcMoney));
}

const PcModule pc_module_segments = {
    .name = "segments",
    .create = segments_create,
    .add = segments_add,
    .merge = segments_merge,
    .reduce = segments_reduce,
    .tables = segments_tables,
    .destroy = segments_destroy,
    .memory = segments_memory,
};
