/* funnels.c - the "funnels" analysis module (spec §5): per [funnel.NAME]
 * the customers reaching each step within the window, conversion and
 * drop-off (funnels.csv), overall and per channel of the first event that
 * matches step 1 (split = channel) or per segment of the customer (split =
 * segment, spec §12).
 *
 * Owns the resolved funnels and one int64 counter per (funnel, split,
 * exact level), summed exactly over ranks (splits: (all), then every
 * channel or every segment of the run's dictionary, in id = name order);
 * a customer counts at its level only, step rows add the levels >= k.
 * No MPI, no HDF5.
 */
#include "pc_funnels.h"
#include "pc_module.h"
#include "pc_stats.h"

#include <stdlib.h>

#define NO_CHAIN INT64_MIN /* no chain yet */
#define MICROS 1000000
#define MAX_COUNTERS (UINT64_C(1) << 27) /* 1 GiB of state */

typedef struct {
  char *name;
  char **steps;         /* as configured: the "token" column */
  guint n_steps;
  int64_t *step_event;  /* -1: never matches */
  int64_t *step_chan;   /* NULL for match = event; -1 any */
  int64_t window_us;
  PcFunnelSplit split;
  size_t off;           /* [(1 + C or S if split) splits][n_steps levels] */
} Funnel;

typedef struct {
  guint C, S;           /* channels, segments */
  Funnel *f;            /* in name order */
  guint n;
  int64_t *st;
  size_t len;
  int64_t *best;        /* scratch: max n_steps */
} Funnels;

guint pc_funnel_level(const PcEvent *ev, size_t n, const int64_t *step_event,
                      const int64_t *step_chan, guint n_steps,
                      int64_t window_us, int64_t *best) {
  /* best[s] = the latest start time of a chain s1..s(s+1) ending before the
   * current event whose span is within the window. A later start is always
   * at least as good for any extension (timestamps are non-decreasing), so
   * one number per step is the whole state. Steps run from last to first so
   * that one event never serves two steps of the same chain, which keeps
   * repeated steps (a;b;a) and equal timestamps exact. */
  guint level = 0;
  for (guint s = 0; s < n_steps; s++) best[s] = NO_CHAIN;
  for (size_t i = 0; i < n && level < n_steps; i++) {
    int64_t ts = ev[i].ts_us;
    for (guint s = n_steps; s-- > 0;) {
      if ((int64_t)ev[i].event != step_event[s]) continue;
      if (step_chan && step_chan[s] >= 0 &&
          (int64_t)ev[i].channel != step_chan[s])
        continue;
      if (s == 0) {
        best[0] = ts;
        level = MAX(level, 1);
        continue;
      }
      if (best[s - 1] == NO_CHAIN || ts - best[s - 1] > window_us) continue;
      if (best[s - 1] > best[s]) best[s] = best[s - 1];
      level = MAX(level, s + 1);
    }
  }
  return level;
}

/* A step names an event (match = event) or "channel:event" split at the
 * first ':' (channels cannot contain ':'). An unknown name, or a
 * channel:event step without ':', resolves to -1: never matches. */
static void funnel_resolve(Funnel *f, const PcFunnelConfig *fc,
                           const PcNames *names) {
  f->name = g_strdup(fc->name);
  f->n_steps = fc->n_steps;
  f->steps = g_new0(char *, fc->n_steps + 1);
  f->step_event = g_new0(int64_t, fc->n_steps);
  if (fc->match_channel_event) f->step_chan = g_new0(int64_t, fc->n_steps);
  /* Seconds to µs, saturating: a window beyond ~292k years is "no limit". */
  f->window_us = fc->window_s > INT64_MAX / MICROS ? INT64_MAX
                                                    : fc->window_s * MICROS;
  f->split = fc->split;
  for (guint s = 0; s < fc->n_steps; s++) {
    const char *step = fc->steps[s];
    f->steps[s] = g_strdup(step);
    if (!fc->match_channel_event) {
      f->step_event[s] = pc_dict_find(names->events, step);
      continue;
    }
    const char *colon = strchr(step, ':');
    if (!colon) {
      f->step_event[s] = f->step_chan[s] = -1;
      continue;
    }
    g_autofree char *ch = g_strndup(step, colon - step);
    f->step_chan[s] = pc_dict_find(names->channels, ch);
    f->step_event[s] = pc_dict_find(names->events, colon + 1);
    if (f->step_chan[s] < 0) f->step_event[s] = -1;
  }
}

static void funnels_destroy(void *self) {
  Funnels *m = self;
  if (!m) return;
  for (guint i = 0; i < m->n; i++) {
    g_free(m->f[i].name);
    g_strfreev(m->f[i].steps);
    g_free(m->f[i].step_event);
    g_free(m->f[i].step_chan);
  }
  g_free(m->f);
  g_free(m->st);
  g_free(m->best);
  g_free(m);
}

static gboolean funnels_enabled(const PcJobConfig *cfg) {
  return cfg->n_funnels > 0;
}

static int cmp_funnel_name(const void *a, const void *b) {
  return strcmp(((const Funnel *)a)->name, ((const Funnel *)b)->name);
}

static void *funnels_create(const PcModuleEnv *env, GError **error) {
  const PcJobConfig *cfg = env->cfg;
  for (guint i = 0; i < cfg->n_funnels; i++)
    if (cfg->funnels[i].n_steps == 0) {
      pc_set_error(error, PC_ERROR_CONFIG, "funnel.%s: no steps", cfg->funnels[i].name);
      return NULL;
    }
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
    uint64_t splits = m->f[i].split == PC_SPLIT_CHANNEL ? m->C
                      : m->f[i].split == PC_SPLIT_SEGMENT ? m->S : 0;
    len += (splits + 1) * m->f[i].n_steps;
    max_steps = MAX(max_steps, m->f[i].n_steps);
  }
  if (len > MAX_COUNTERS) {
    pc_set_error(error, PC_ERROR_MEMORY, "%s: funnel state of %" G_GUINT64_FORMAT " counters (%u channels) is too large", cfg->job_path ? cfg->job_path : "job", len, m->C);
    funnels_destroy(m);
    return NULL;
  }
  m->len = len;
  m->st = g_new0(int64_t, len + 1);
  m->best = g_new0(int64_t, max_steps);
  return m;
}

static gboolean step_matches(const Funnel *f, guint s, const PcEvent *e) {
  if ((int64_t)e->event != f->step_event[s]) return FALSE;
  return !f->step_chan || f->step_chan[s] < 0 ||
         (int64_t)e->channel == f->step_chan[s];
}

/* Level counts per split. The split channel is that of the journey's first
 * event matching s1 (not necessarily the start of the best chain). */
static void funnels_add(void *self, const PcJourneyView *jv) {
  Funnels *m = self;
  const PcJourney *j = jv->j;
  for (guint i = 0; i < m->n; i++) {
    const Funnel *fu = &m->f[i];
    guint level = pc_funnel_level(j->ev, j->n, fu->step_event, fu->step_chan,
                                  fu->n_steps, fu->window_us, m->best);
    if (level == 0) continue;
    int64_t *cnt = m->st + fu->off;
    cnt[level - 1]++;
    if (fu->split == PC_SPLIT_SEGMENT)
      cnt[(1 + (size_t)jv->segment) * fu->n_steps + level - 1]++;
    if (fu->split != PC_SPLIT_CHANNEL) continue;
    for (size_t k = 0; k < j->n; k++)
      if (step_matches(fu, 0, &j->ev[k])) {
        cnt[(1 + (size_t)j->ev[k].channel) * fu->n_steps + level - 1]++;
        break;
      }
  }
}

static void funnels_merge(void *dst, void *src) {
  Funnels *d = dst;
  pc_stats_add_i64(d->st, ((Funnels *)src)->st, d->len);
}

static gboolean funnels_reduce(void *self, const PcModuleEnv *env,
                               GError **error) {
  Funnels *m = self;
  return env->ops->sum_i64(env->ops->ctx, m->st, m->len, error);
}

/* One funnel split: rows step 1..n from the counts of exact levels. */
static void funnel_rows(PcTable *t, const Funnel *f, const char *split,
                        const int64_t *lv) {
  int64_t first = 0, prev = 0;
  for (guint k = 1; k <= f->n_steps; k++) {
    int64_t cust = 0;
    for (guint l = k; l <= f->n_steps; l++) cust += lv[l - 1];
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

/* Split rows only for channels (segments) with at least one customer at
 * level >= 1. */
static gboolean funnels_tables(void *self, const PcModuleEnv *env,
                               PcOutputs *out, GError **error) {
  static const char *const cols[] = {
      "funnel:string", "split:string", "step:int",     "token:string",
      "customers:int", "conv_prev:double", "conv_first:double", "drop_off:int"};
  Funnels *m = self;
  PcTable *t = pc_table_new("funnels", cols, 8);
  for (guint i = 0; i < m->n; i++) {
    const Funnel *f = &m->f[i];
    const int64_t *lv = m->st + f->off;
    funnel_rows(t, f, "(all)", lv);
    if (!f->split) continue;
    const PcDict *sn = f->split == PC_SPLIT_SEGMENT ? pc_names_segments(env->names)
                                                    : env->names->channels;
    for (guint c = 0; c < sn->n; c++) {
      const int64_t *cl = lv + (1 + (size_t)c) * f->n_steps;
      int64_t any = 0;
      for (guint l = 0; l < f->n_steps; l++) any += cl[l];
      if (any > 0) funnel_rows(t, f, sn->names[c], cl);
    }
  }
  pc_outputs_add(out, t);
  return TRUE;
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
};
