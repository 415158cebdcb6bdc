/* channels.c - the "channels" analysis module: the channel KPIs of spec §6
 * (channels.csv): events, customers, customers_pre, outcome_rate,
 * value_sum and value_mean per channel of the kept input.
 *
 * Owns per channel int64 counters and a PcMoney sum of values (128 bits:
 * exact at any size), summed exactly over ranks. A customer counts once per
 * channel (journey stamps). No MPI, no HDF5.
 */
#include "pc_module.h"
#include "pc_stats.h"

enum { K_EVENTS, K_CUSTOMERS, K_PRE, K_PRE_Y, K_COUNT };

typedef struct {
  guint C;
  int64_t *st;              /* [C][K_COUNT] */
  PcMoney *value;           /* [C] sum of the event values */
  uint64_t serial, *all_stamp, *pre_stamp;
} Channels;

static void *channels_create(const PcModuleEnv *env, GError **error) {
  Channels *m = g_new0(Channels, 1);
  m->C = env->names->channels->n;
  m->st = g_new0(int64_t, (size_t)m->C * K_COUNT + 1);
  m->value = g_new0(PcMoney, m->C + 1);
  m->all_stamp = g_new0(uint64_t, m->C + 1);
  m->pre_stamp = g_new0(uint64_t, m->C + 1);
  return m;
}

static void channels_add(void *self, const PcJourneyView *jv) {
  Channels *m = self;
  uint64_t s = ++m->serial;
  for (size_t i = 0; i < jv->j->n; i++) {
    const PcEvent *e = &jv->j->ev[i];
    int64_t *r = m->st + (size_t)e->channel * K_COUNT;
    r[K_EVENTS]++;
    m->value[e->channel] += e->value;
    if (m->all_stamp[e->channel] != s) {
      m->all_stamp[e->channel] = s;
      r[K_CUSTOMERS]++;
    }
    if (i < jv->cut && m->pre_stamp[e->channel] != s) {
      m->pre_stamp[e->channel] = s;
      r[K_PRE]++;
      r[K_PRE_Y] += jv->y ? 1 : 0;
    }
  }
}

static void channels_merge(void *dst, void *src) {
  Channels *d = dst, *s = src;
  pc_stats_add_i64(d->st, s->st, (size_t)d->C * K_COUNT);
  pc_stats_add_money(d->value, s->value, d->C);
}

static gboolean channels_reduce(void *self, const PcModuleEnv *env,
                                GError **error) {
  Channels *m = self;
  return env->ops->sum_i64(env->ops->ctx, m->st, (size_t)m->C * K_COUNT,
                           error) &&
         env->ops->sum_fix(env->ops->ctx, m->value, m->C, error);
}

static gboolean channels_tables(void *self, const PcModuleEnv *env,
                                PcOutputs *out, GError **error) {
  static const char *const cols[] = {
      "channel:string", "events:int",          "customers:int",
      "customers_pre:int", "outcome_rate:double", "value_sum:micros",
      "value_mean:double"};
  Channels *m = self;
  const PcNames *nm = env->names;
  PcTable *t = pc_table_new("channels", cols, 7);
  for (guint c = 0; c < m->C; c++) {
    if (nm->channel_kept && !nm->channel_kept[c]) continue;
    const int64_t *r = m->st + (size_t)c * K_COUNT;
    pc_table_add_row(t);
    pc_table_set_string(t, 0, nm->channels->names[c]);
    pc_table_set_int(t, 1, r[K_EVENTS]);
    pc_table_set_int(t, 2, r[K_CUSTOMERS]);
    pc_table_set_int(t, 3, r[K_PRE]);
    pc_table_set_double(t, 4, pc_stats_ratio((double)r[K_PRE_Y], (double)r[K_PRE]));
    pc_table_set_micros(t, 5, m->value[c]);
    pc_table_set_double(t, 6, pc_stats_ratio(pc_stats_money_units(m->value[c]),
                                             (double)r[K_EVENTS]));
  }
  pc_outputs_add(out, t);
  return TRUE;
}

static void channels_destroy(void *self) {
  Channels *m = self;
  if (!m) return;
  g_free(m->st);
  g_free(m->value);
  g_free(m->all_stamp);
  g_free(m->pre_stamp);
  g_free(m);
}

/* Per thread: counters, value sum and two stamps per channel. */
static uint64_t channels_memory(const PcModuleEnv *env, int threads,
                                uint64_t customers) {
  return (uint64_t)threads * ((uint64_t)env->names->channels->n + 1) * (K_COUNT * 8 + sizeof(PcMoney) + 16);
}

const PcModule pc_module_channels = {
    .name = "channels",
    .create = channels_create,
    .add = channels_add,
    .merge = channels_merge,
    .reduce = channels_reduce,
    .tables = channels_tables,
    .destroy = channels_destroy,
    .memory = channels_memory,
};
