/* funnels.c - the "funnels" analysis module (spec §5): per [funnel.NAME]
 * the customers reaching each step within the window, conversion and
 * drop-off (funnels.csv), and the conversion times t_k (funnel_times.csv),
 * overall and per channel of the first event that matches step 1
 * (split = channel) or per segment of the customer (split = segment, spec
 * §12). The per-journey kernels are funnel_level.c.
 *
 * Owns the resolved funnels, one int64 counter per (funnel, split, exact
 * level) summed exactly over ranks, and the t_k values of every (funnel,
 * split, step >= 2) in a PcQuantile, whose percentiles are selected
 * exactly across ranks. A customer counts at its level only; step rows add
 * the levels >= k. With a mode, the level is ClickHouse's and t_k still
 * comes from the default chains (spec §5): a mode only ever removes chains,
 * so a customer of mode level >= k always has one. No MPI, no HDF5.
 */
#include "pc_funnels.h"
#include "pc_module.h"
#include "pc_quantile.h"
#include "pc_stats.h"

#include <stdlib.h>

#define MICROS 1000000
#define MAX_COUNTERS (UINT64_C(1) << 27) /* 1 GiB of state */
#define N_PCT 3

static const guint pct[N_PCT] = {25, 50, 90};

typedef struct {
  char *name;
  char **steps;         /* as configured: the "token" column */
  PcFunnelSpec spec;
  PcFunnelSplit split;
  size_t off;           /* [(1 + C or S if split) splits][n_steps levels] */
} Funnel;

/* Counter and time key of (split s, step k >= 1) of f: off + s*n + k - 1;
 * split 0 is (all), 1 + c is channel c or segment c. */
#define SLOT(f, s, k) ((f)->off + (size_t)(s) * (f)->spec.n_steps + (k) - 1)

typedef struct {
  guint C, S;           /* channels, segments */
  Funnel *f;            /* in name order */
  guint n;
  int64_t *st;          /* [len] customers at exactly level k per slot */
  size_t len;
  PcFunnelWork *work;
  int64_t *span;        /* scratch: t_k of one journey */
  PcQuantile *times;    /* t_k (µs) under SLOT(f, s, k), k >= 2 */
  int64_t *tn, *tq;     /* after reduce: [len] values, [len][N_PCT] µs */
} Funnels;

/* A step names an event (match = event) or "channel:event" split at the
 * first ':' (channels cannot contain ':'). An unknown name, or a
 * channel:event step without ':', resolves to -1: never matches. */
static void funnel_resolve(Funnel *f, const PcFunnelConfig *fc,
                           const PcNames *names) {
  guint n = fc->n_steps;
  g_autofree int64_t *ev = g_new0(int64_t, n);
  g_autofree int64_t *ch = fc->match_channel_event ? g_new0(int64_t, n) : NULL;
  f->name = g_strdup(fc->name);
  f->steps = g_new0(char *, n + 1);
  f->split = fc->split;
  for (guint s = 0; s < n; s++) {
    const char *step = fc->steps[s];
    f->steps[s] = g_strdup(step);
    if (!ch) {
      ev[s] = pc_dict_find(names->events, step);
      continue;
    }
    const char *colon = strchr(step, ':');
    if (!colon) {
      ev[s] = ch[s] = -1;
      continue;
    }
    g_autofree char *c = g_strndup(step, colon - step);
    ch[s] = pc_dict_find(names->channels, c);
    ev[s] = pc_dict_find(names->events, colon + 1);
    if (ch[s] < 0) ev[s] = -1;
  }
  /* Seconds to µs, saturating: a window beyond ~292k years is "no limit". */
  int64_t w = fc->window_s > INT64_MAX / MICROS ? INT64_MAX : fc->window_s * MICROS;
  pc_funnel_spec_init(&f->spec, n, ev, ch, w, fc->mode);
}

static void funnels_destroy(void *self) {
  Funnels *m = self;
  if (!m) return;
  for (guint i = 0; i < m->n; i++) {
    g_free(m->f[i].name);
    g_strfreev(m->f[i].steps);
    pc_funnel_spec_clear(&m->f[i].spec);
  }
  g_free(m->f);
  g_free(m->st);
  pc_funnel_work_free(m->work);
  g_free(m->span);
  pc_quantile_free(m->times);
  g_free(m->tn);
  g_free(m->tq);
  g_free(m);
}

static gboolean funnels_enabled(const PcJobConfig *cfg) {
  return cfg->n_funnels > 0;
}

static int cmp_funnel_name(const void *a, const void *b) {
  return strcmp(((const Funnel *)a)->name, ((const Funnel *)b)->name);
}

/* What the job loader checks, again for hand-made configurations. */
static gboolean check_config(const PcJobConfig *cfg, GError **error) {
  for (guint i = 0; i < cfg->n_funnels; i++) {
    const PcFunnelConfig *fc = &cfg->funnels[i];
    if (fc->n_steps == 0) {
      pc_set_error(error, PC_ERROR_CONFIG, "funnel.%s: no steps", fc->name);
      return FALSE;
    }
    if ((fc->mode & PC_FUNNEL_ALLOW_REENTRY) && !(fc->mode & PC_FUNNEL_STRICT_ORDER)) {
      pc_set_error(error, PC_ERROR_CONFIG, "funnel %s: allow_reentry needs strict_order", fc->name);
      return FALSE;
    }
    for (guint s = 0; fc->mode && s < fc->n_steps; s++)
      for (guint r = 0; r < s; r++)
        if (!strcmp(fc->steps[s], fc->steps[r])) {
          pc_set_error(error, PC_ERROR_CONFIG, "funnel %s: a mode needs distinct steps", fc->name);
          return FALSE;
        }
  }
  return TRUE;
}

/* Split rows besides (all): one per channel or per segment of the run. */
static uint64_t splits_of(PcFunnelSplit split, guint C, guint S) {
  return split == PC_SPLIT_CHANNEL ? C : split == PC_SPLIT_SEGMENT ? S : 0;
}

static void *funnels_create(const PcModuleEnv *env, GError **error) {
  const PcJobConfig *cfg = env->cfg;
  if (!check_config(cfg, error)) return NULL;
  Funnels *m = g_new0(Funnels, 1);
  m->C = env->names->channels->n;
  m->S = pc_names_segments(env->names)->n;
  m->n = cfg->n_funnels;
  m->f = g_new0(Funnel, m->n);
  for (guint i = 0; i < m->n; i++)
    funnel_resolve(&m->f[i], &cfg->funnels[i], env->names);
  /* the table is in name order (the job loader sorts too; a hand-made
   * configuration may not) */
  qsort(m->f, m->n, sizeof *m->f, cmp_funnel_name);
  guint max_steps = 1;
  uint64_t len = 0;
  for (guint i = 0; i < m->n; i++) {
    m->f[i].off = len;
    len += (splits_of(m->f[i].split, m->C, m->S) + 1) * m->f[i].spec.n_steps;
    max_steps = MAX(max_steps, m->f[i].spec.n_steps);
  }
  if (len > MAX_COUNTERS) {
    pc_set_error(error, PC_ERROR_MEMORY, "%s: funnel state of %" G_GUINT64_FORMAT " counters (%u channels) is too large", cfg->job_path ? cfg->job_path : "job", len, m->C);
    funnels_destroy(m);
    return NULL;
  }
  m->len = len;
  m->st = g_new0(int64_t, len + 1);
  m->work = pc_funnel_work_new(max_steps);
  m->span = g_new(int64_t, max_steps);
  m->times = pc_quantile_new();
  pc_quantile_set_spill(m->times, env->spill, "funnel_times");
  return m;
}

/* The split of a journey: 1 + the channel of its first event matching
 * step 1, or 0 when none does (then its level is 0). */
static guint split_of(const Funnel *f, const PcJourney *j) {
  const PcFunnelSpec *s = &f->spec;
  for (size_t k = 0; k < j->n; k++) {
    const PcEvent *e = &j->ev[k];
    if ((int64_t)e->event == s->step_event[0] &&
        (!s->step_chan || (int64_t)e->channel == s->step_chan[0]))
      return 1 + e->channel;
  }
  return 0;
}

/* Level counts per split, and t_2..t_level per split. */
static void funnels_add(void *self, const PcJourneyView *jv) {
  Funnels *m = self;
  const PcJourney *j = jv->j;
  for (guint i = 0; i < m->n; i++) {
    const Funnel *fu = &m->f[i];
    guint level = pc_funnel_level(&fu->spec, j->ev, j->n, m->work, m->span);
    if (fu->spec.mode) {
      guint ch = pc_funnel_mode_level(&fu->spec, j->ev, j->n, m->work);
      g_assert(ch <= level); /* a mode only removes chains */
      level = ch;
    }
    if (level == 0) continue;
    guint sp = fu->split == PC_SPLIT_SEGMENT ? 1 + jv->segment
               : fu->split == PC_SPLIT_CHANNEL ? split_of(fu, j) : 0;
    m->st[SLOT(fu, 0, level)]++;
    if (sp) m->st[SLOT(fu, sp, level)]++;
    for (guint k = 2; k <= level; k++) {
      pc_quantile_add(m->times, SLOT(fu, 0, k), m->span[k - 1]);
      if (sp) pc_quantile_add(m->times, SLOT(fu, sp, k), m->span[k - 1]);
    }
  }
}

static void funnels_merge(void *dst, void *src) {
  Funnels *d = dst, *s = src;
  pc_stats_add_i64(d->st, s->st, d->len);
  pc_quantile_merge(d->times, s->times);
}

/* Level counts by a sum; the percentiles of every slot of step >= 2 by the
 * exact collective selection (the same slot list on every rank). */
static gboolean funnels_reduce(void *self, const PcModuleEnv *env,
                               GError **error) {
  Funnels *m = self;
  if (!env->ops->sum_i64(env->ops->ctx, m->st, m->len, error)) return FALSE;
  g_autofree uint64_t *keys = g_new(uint64_t, m->len + 1);
  for (size_t x = 0; x < m->len; x++) keys[x] = x; /* step 1 slots stay empty */
  m->tn = g_new0(int64_t, m->len + 1);
  m->tq = g_new0(int64_t, N_PCT * m->len + 1);
  gboolean ok = pc_quantile_select(m->times, env->ops, keys, m->len, pct,
                                   N_PCT, m->tn, m->tq, error);
  pc_quantile_release(m->times);
  return ok;
}

/* One funnel split s: rows step 1..n from the counts of exact levels. */
static void funnel_rows(PcTable *t, const Funnel *f, const char *split,
                        const int64_t *lv) {
  int64_t first = 0, prev = 0;
  for (guint k = 1; k <= f->spec.n_steps; k++) {
    int64_t cust = 0;
    for (guint l = k; l <= f->spec.n_steps; l++) cust += lv[l - 1];
    if (k == 1) first = cust;
    pc_table_add_row(t);
    pc_table_set_string(t, 0, f->name);
    pc_table_set_string(t, 1, split);
    pc_table_set_int(t, 2, k);
    pc_table_set_string(t, 3, f->steps[k - 1]);
    pc_table_set_int(t, 4, cust);
    if (k >= 2) pc_table_set_double(t, 5, pc_stats_ratio((double)cust, (double)prev));
    pc_table_set_double(t, 6, pc_stats_ratio((double)cust, (double)first));
    if (k >= 2) pc_table_set_int(t, 7, lv[k - 2]);
    prev = cust;
  }
}

/* One funnel split s: rows step 2..n of funnel_times (empty cells, n = 0). */
static void time_rows(PcTable *t, const Funnels *m, const Funnel *f,
                      const char *split, guint s) {
  for (guint k = 2; k <= f->spec.n_steps; k++) {
    size_t x = SLOT(f, s, k);
    pc_table_add_row(t);
    pc_table_set_string(t, 0, f->name);
    pc_table_set_string(t, 1, split);
    pc_table_set_int(t, 2, k);
    pc_table_set_int(t, 3, m->tn[x]);
    for (guint p = 0; p < N_PCT && m->tn[x] > 0; p++)
      pc_table_set_double(t, 4 + p, (double)m->tq[x * N_PCT + p] / MICROS);
  }
}

/* Split rows only for channels (segments) with at least one customer at
 * level >= 1, in both tables (funnel_times follows the rows of funnels.csv). */
static gboolean funnels_tables(void *self, const PcModuleEnv *env,
                               PcOutputs *out, GError **error) {
  static const char *const cols[] = {
      "funnel:string", "split:string", "step:int",     "token:string",
      "customers:int", "conv_prev:double", "conv_first:double", "drop_off:int"};
  static const char *const tcols[] = {
      "funnel:string", "split:string", "step:int", "customers:int",
      "p25_s:double",  "median_s:double", "p90_s:double"};
  Funnels *m = self;
  PcTable *t = pc_table_new("funnels", cols, 8);
  PcTable *tt = pc_table_new("funnel_times", tcols, 7);
  for (guint i = 0; i < m->n; i++) {
    const Funnel *f = &m->f[i];
    funnel_rows(t, f, "(all)", m->st + SLOT(f, 0, 1));
    time_rows(tt, m, f, "(all)", 0);
    if (f->split == PC_SPLIT_NONE) continue;
    const PcDict *sn = f->split == PC_SPLIT_SEGMENT ? pc_names_segments(env->names)
                                                    : env->names->channels;
    for (guint c = 0; c < sn->n; c++) {
      const int64_t *cl = m->st + SLOT(f, 1 + c, 1);
      int64_t any = 0;
      for (guint l = 0; l < f->spec.n_steps; l++) any += cl[l];
      if (!any) continue;
      funnel_rows(t, f, sn->names[c], cl);
      time_rows(tt, m, f, sn->names[c], 1 + c);
    }
  }
  pc_outputs_add(out, t);
  pc_outputs_add(out, tt);
  return TRUE;
}

/* Per thread: one counter per (funnel, split, level). */
static uint64_t funnels_memory(const PcModuleEnv *env, int threads,
                               uint64_t customers) {
  uint64_t len = 0;
  for (guint i = 0; i < env->cfg->n_funnels; i++)
    len += (splits_of(env->cfg->funnels[i].split, env->names->channels->n,
                      pc_names_segments(env->names)->n) + 1) *
           env->cfg->funnels[i].n_steps;
  return (uint64_t)threads * 8 * (len + 1);
}

const PcModule pc_module_funnels = {
    .name = "funnels",
    .enabled = funnels_enabled,
    .create = funnels_create,
    .add = funnels_add,
    .merge = funnels_merge,
    .reduce = funnels_reduce,
    .tables = funnels_tables,
    .destroy = funnels_destroy,
    .memory = funnels_memory,
};
