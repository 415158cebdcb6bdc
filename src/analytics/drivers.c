/* drivers.c - the "drivers" analysis module (spec §6): for every event
 * token and every channel used in at least one pre-target journey, how the
 * outcome rate of the customers who used it compares with the others
 * (drivers.csv, channel_drivers.csv).
 *
 * Owns per event name and per channel the counters n (customers whose
 * pre-target journey has it) and a (of them with y = 1), int64, and their
 * revenue at risk, PcMoney (128 bits, exact at any size); all summed
 * exactly over ranks.
 * Invariant: a customer counts once per name (journey stamps). No MPI, no
 * HDF5.
 */
#include "pc_module.h"
#include "pc_stats.h"

#include <stdlib.h>

enum { D_N, D_A, D_COUNT }; /* per name, stride D_COUNT */

typedef struct {
  guint E, C;
  int64_t *st;       /* [E + C][D_COUNT]: events first, then channels */
  PcMoney *rev;      /* [E + C] revenue at risk */
  size_t len;
  uint64_t serial, *ev_stamp, *ch_stamp;
} Drivers;

static gboolean drivers_enabled(const PcJobConfig *cfg) {
  return cfg->n_target_events > 0;
}

static void *drivers_create(const PcModuleEnv *env, GError **error) {
  Drivers *m = g_new0(Drivers, 1);
  m->E = env->names->events->n;
  m->C = env->names->channels->n;
  m->len = ((size_t)m->E + m->C) * D_COUNT;
  m->st = g_new0(int64_t, m->len + 1);
  m->rev = g_new0(PcMoney, (size_t)m->E + m->C + 1);
  m->ev_stamp = g_new0(uint64_t, m->E + 1);
  m->ch_stamp = g_new0(uint64_t, m->C + 1);
  return m;
}

static void count(Drivers *m, size_t k, gboolean y, PcMoney revenue) {
  int64_t *r = m->st + k * D_COUNT;
  r[D_N]++;
  if (y) r[D_A]++, m->rev[k] += revenue;
}

static void drivers_add(void *self, const PcJourneyView *jv) {
  Drivers *m = self;
  uint64_t s = ++m->serial;
  for (size_t i = 0; i < jv->cut; i++) {
    const PcEvent *e = &jv->j->ev[i];
    if (m->ev_stamp[e->event] != s) {
      m->ev_stamp[e->event] = s;
      count(m, e->event, jv->y, jv->revenue);
    }
    if (m->ch_stamp[e->channel] != s) {
      m->ch_stamp[e->channel] = s;
      count(m, (size_t)m->E + e->channel, jv->y, jv->revenue);
    }
  }
}

static void drivers_merge(void *dst, void *src) {
  Drivers *d = dst, *s = src;
  pc_stats_add_i64(d->st, s->st, d->len);
  pc_stats_add_money(d->rev, s->rev, (size_t)d->E + d->C);
}

static gboolean drivers_reduce(void *self, const PcModuleEnv *env,
                               GError **error) {
  Drivers *m = self;
  return env->ops->sum_i64(env->ops->ctx, m->st, m->len, error) &&
         env->ops->sum_fix(env->ops->ctx, m->rev, (size_t)m->E + m->C, error);
}

/* Rows with n > 0, chi2 desc then name asc (id order = name order). */
static PcTable *table_drivers(const char *tname, const char *first_col,
                              const int64_t *base, const PcMoney *rev,
                              const PcDict *dict, int64_t N, int64_t Y) {
  const char *cols[10] = {first_col};
  for (guint c = 0; c < 9; c++) cols[1 + c] = pc_stats_driver_cols[c];
  PcTable *t = pc_table_new(tname, cols, 10);
  g_autofree PcStatsRow *rows = g_new0(PcStatsRow, dict->n + 1);
  guint nr = 0;
  for (guint id = 0; id < dict->n; id++) {
    const int64_t *r = base + (size_t)id * D_COUNT;
    if (r[D_N] > 0)
      rows[nr++] = (PcStatsRow){id, r[D_N], pc_stats_chi2(N, Y, r[D_N], r[D_A])};
  }
  qsort(rows, nr, sizeof *rows, pc_stats_cmp_chi2_desc);
  for (guint k = 0; k < nr; k++) {
    const int64_t *r = base + (size_t)rows[k].id * D_COUNT;
    pc_table_add_row(t);
    pc_table_set_string(t, 0, dict->names[rows[k].id]);
    pc_stats_driver_cells(t, 1, N, Y, r[D_N], r[D_A], rev[rows[k].id]);
  }
  return t;
}

static gboolean drivers_tables(void *self, const PcModuleEnv *env,
                               PcOutputs *out, GError **error) {
  Drivers *m = self;
  int64_t N = (int64_t)env->facts->customers;
  int64_t Y = (int64_t)env->facts->customers_with_outcome;
  pc_outputs_add(out, table_drivers("drivers", "token:string", m->st, m->rev,
                                    env->names->events, N, Y));
  pc_outputs_add(out, table_drivers("channel_drivers", "channel:string",
                                    m->st + (size_t)m->E * D_COUNT,
                                    m->rev + m->E, env->names->channels, N, Y));
  return TRUE;
}

static void drivers_destroy(void *self) {
  Drivers *m = self;
  if (!m) return;
  g_free(m->st);
  g_free(m->rev);
  g_free(m->ev_stamp);
  g_free(m->ch_stamp);
  g_free(m);
}

/* Per thread: counts, revenue and stamps per event name and channel. */
static uint64_t drivers_memory(const PcModuleEnv *env, int threads,
                               uint64_t customers) {
  uint64_t names = (uint64_t)env->names->events->n + (uint64_t)env->names->channels->n + 1;
  return (uint64_t)threads * names * (D_COUNT * 8 + sizeof(PcMoney) + 8);
}

const PcModule pc_module_drivers = {
    .name = "drivers",
    .enabled = drivers_enabled,
    .create = drivers_create,
    .add = drivers_add,
    .merge = drivers_merge,
    .reduce = drivers_reduce,
    .tables = drivers_tables,
    .destroy = drivers_destroy,
    .memory = drivers_memory,
};
