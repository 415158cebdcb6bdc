/* nps.c - the "nps" analysis module (spec §6, kpi.nps_event): responses
 * 0..10 attributed to the channel of the customer's nearest earlier event
 * that is not a response, promoters/passives/detractors and NPS per
 * channel (nps.csv), and summary.csv's nps_invalid.
 *
 * Owns per channel (+ "(unknown)" at index C) three int64 counters and the
 * invalid count, summed exactly over ranks. No MPI, no HDF5.
 */
#include "pc_module.h"
#include "pc_stats.h"

#define MICROS 1000000

enum { N_PROMOTER, N_PASSIVE, N_DETRACTOR, N_COUNT };

typedef struct {
  guint C;
  int64_t event;        /* the response event id; -1 never matches */
  int64_t *st;          /* [(C + 1) * N_COUNT], then invalid */
  size_t len;
} Nps;

static gboolean nps_enabled(const PcJobConfig *cfg) {
  return cfg->nps_event != NULL;
}

static void *nps_create(const PcModuleEnv *env, GError **error) {
  Nps *m = g_new0(Nps, 1);
  m->C = env->names->channels->n;
  m->event = pc_dict_find(env->names->events, env->cfg->nps_event);
  m->len = ((size_t)m->C + 1) * N_COUNT + 1;
  m->st = g_new0(int64_t, m->len);
  return m;
}

/* A value that is not a whole number 0..10 is counted invalid and skipped;
 * it is still a response, so it never lends its channel to a later one. */
static void nps_add(void *self, const PcJourneyView *jv) {
  Nps *m = self;
  size_t last = m->C;
  for (size_t i = 0; i < jv->j->n; i++) {
    const PcEvent *e = &jv->j->ev[i];
    if ((int64_t)e->event != m->event) {
      last = e->channel;
      continue;
    }
    if (e->value < 0 || e->value > 10 * MICROS || e->value % MICROS != 0) {
      m->st[m->len - 1]++;
      continue;
    }
    int64_t score = e->value / MICROS;
    int kind = score >= 9 ? N_PROMOTER : score >= 7 ? N_PASSIVE : N_DETRACTOR;
    m->st[last * N_COUNT + kind]++;
  }
}

static void nps_merge(void *dst, void *src) {
  Nps *d = dst;
  pc_stats_add_i64(d->st, ((Nps *)src)->st, d->len);
}

static gboolean nps_reduce(void *self, const PcModuleEnv *env,
                           GError **error) {
  Nps *m = self;
  return env->ops->sum_i64(env->ops->ctx, m->st, m->len, error);
}

static void nps_row(PcTable *t, const char *name, const int64_t *r) {
  int64_t pro = r[N_PROMOTER], pas = r[N_PASSIVE], det = r[N_DETRACTOR];
  int64_t resp = pro + pas + det;
  pc_table_add_row(t);
  pc_table_set_string(t, 0, name);
  pc_table_set_int(t, 1, resp);
  pc_table_set_int(t, 2, pro);
  pc_table_set_int(t, 3, pas);
  pc_table_set_int(t, 4, det);
  pc_table_set_double(t, 5, pc_stats_ratio(100.0 * (double)(pro - det), (double)resp));
}

/* "(all)" first, then every channel with a response, "(unknown)" sorted
 * bytewise among the channel names. */
static PcTable *table_nps(const Nps *m, const PcDict *channels) {
  static const char *const cols[] = {"channel:string", "responses:int",
                                     "promoters:int",  "passives:int",
                                     "detractors:int", "nps:double"};
  PcTable *t = pc_table_new("nps", cols, 6);
  int64_t tot[N_COUNT] = {0};
  for (size_t c = 0; c <= m->C; c++)
    for (int k = 0; k < N_COUNT; k++) tot[k] += m->st[c * N_COUNT + k];
  nps_row(t, "(all)", tot);
  const int64_t *unk = m->st + (size_t)m->C * N_COUNT;
  gboolean unk_done = unk[0] + unk[1] + unk[2] == 0;
  for (guint c = 0; c <= m->C; c++) {
    const char *name = c < m->C ? channels->names[c] : NULL;
    if (!unk_done && (!name || strcmp("(unknown)", name) < 0)) {
      nps_row(t, "(unknown)", unk);
      unk_done = TRUE;
    }
    if (!name) break;
    const int64_t *r = m->st + (size_t)c * N_COUNT;
    if (r[0] + r[1] + r[2] > 0) nps_row(t, name, r);
  }
  return t;
}

static gboolean nps_tables(void *self, const PcModuleEnv *env, PcOutputs *out,
                           GError **error) {
  Nps *m = self;
  pc_outputs_summary(out, PC_SUMMARY_NPS_INVALID, (uint64_t)m->st[m->len - 1]);
  pc_outputs_add(out, table_nps(m, env->names->channels));
  return TRUE;
}

static void nps_destroy(void *self) {
  Nps *m = self;
  if (!m) return;
  g_free(m->st);
  g_free(m);
}

static uint64_t nps_memory(const PcModuleEnv *env, int threads,
                           uint64_t customers) {
  return (uint64_t)threads * 8 * (((uint64_t)env->names->channels->n + 1) * N_COUNT + 1);
}

const PcModule pc_module_nps = {
    .name = "nps",
    .enabled = nps_enabled,
    .create = nps_create,
    .add = nps_add,
    .merge = nps_merge,
    .reduce = nps_reduce,
    .tables = nps_tables,
    .destroy = nps_destroy,
    .memory = nps_memory,
};
