/* outcome.c - the outcome analytics of spec §4 (preceding tokens), §5
 * (funnels), §6 (drivers, channel drivers, channel KPIs, NPS) and §8
 * (attribution), as exact integer accumulators.
 *
 * Owns PcOutcome. Makes no MPI or HDF5 calls and has no global state.
 * Invariants:
 *  - Every counter lives in ONE flat int64 array (o->st) whose layout
 *    depends on the configuration and the dictionaries only. Adding a
 *    journey only increments integers, so the state of any partition of the
 *    journeys, summed, is the same array: merge and the rank sum are exact
 *    and order-free.
 *  - Doubles appear only in pc_outcome_tables(), on rank 0, from the summed
 *    integers, in a fixed order.
 *  - pc_outcome_add() allocates nothing: the scratch arrays (stamps, funnel
 *    chains, per-channel counts) are sized at pc_outcome_new().
 */
#include "pc_outcome.h"

#include <math.h>
#include <stdlib.h>

#define PC_OUTCOME_MAX_COUNTERS (UINT64_C(1) << 27) /* 1 GiB of state */
#define NO_CHAIN INT64_MIN                           /* funnel: no chain yet */
#define LIN_LO_BITS 31 /* linear credit fixed point: 2 limbs of 31 bits */
#define MICROS 1000000

/* Globals block. */
enum { G_CUSTOMERS, G_EVENTS, G_Y, G_NO_REVENUE, G_NPS_INVALID, G_COUNT };
/* Per event name (stride EV_COUNT). */
enum { EV_PRECEDING, EV_N, EV_A, EV_REV, EV_COUNT };
/* Per channel (stride CH_COUNT). CH_PRE/CH_PRE_Y are n and a of the channel
 * drivers; CH_LIN_HI/LO the fixed-point linear credit of long journeys. */
enum {
  CH_EVENTS, CH_CUSTOMERS, CH_PRE, CH_PRE_Y, CH_VALUE, CH_REV, CH_FIRST,
  CH_LAST, CH_LIN_HI, CH_LIN_LO, CH_COUNT
};
/* NPS per channel (+ "(unknown)" at index C), stride NPS_COUNT. */
enum { NPS_PROMOTER, NPS_PASSIVE, NPS_DETRACTOR, NPS_COUNT };

typedef struct {
  char *name;
  char **steps;         /* as configured: the "token" column */
  guint n_steps;
  int64_t *step_event;  /* -1: never matches */
  int64_t *step_chan;   /* NULL for match = event; -1 any (unused) */
  int64_t window_us;
  gboolean split;
  size_t off;           /* [(1 + C if split) splits][n_steps levels] */
} Funnel;

struct PcOutcome {
  guint C, E;           /* channels, event names of the dictionaries */
  gboolean has_target, attribution;
  guint lookback;
  int64_t nps_event;    /* -1: no NPS or unknown name */
  gboolean has_nps;
  Funnel *funnels;
  guint n_funnels;
  guint *funnel_order;  /* funnels by name bytewise */
  /* Offsets into st. */
  size_t off_ev, off_ch, off_lin, off_markov, off_nps, len;
  int64_t *st;
  /* Scratch for pc_outcome_add(). */
  uint64_t stamp;
  uint64_t *ev_pre_stamp, *ev_look_stamp, *ch_all_stamp, *ch_pre_stamp;
  uint32_t *ev_list, *ch_list;
  int64_t *ch_k;        /* positions of a channel in the pre-target journey */
  int64_t *best;        /* funnel chains, max n_steps */
};

/* ---- private prototypes ---------------------------------------------------- */

static gboolean outcome_layout(PcOutcome *o, const PcJobConfig *cfg,
                               GError **error);
static void funnel_resolve(Funnel *f, const PcFunnelConfig *fc,
                           const PcNames *names);
static void add_presence(PcOutcome *o, const PcJourney *j, gboolean y,
                         size_t cut, int64_t revenue);
static void add_preceding(PcOutcome *o, const PcJourney *j, size_t cut);
static void add_attribution(PcOutcome *o, const PcJourney *j, gboolean y,
                            size_t cut);
static void add_nps(PcOutcome *o, const PcJourney *j);
static void add_funnels(PcOutcome *o, const PcJourney *j);

/* ---- construction ------------------------------------------------------------ */

PcOutcome *pc_outcome_new(const PcJobConfig *cfg, const PcNames *names,
                          const PcTarget *target, GError **error) {
  g_return_val_if_fail(cfg && names && names->channels && names->events, NULL);
  (void)target; /* y and the cut come with each journey */
  g_autoptr(PcOutcome) o = g_new0(PcOutcome, 1);
  o->C = names->channels->n;
  o->E = names->events->n;
  o->has_target = cfg->target_events != NULL && cfg->n_target_events > 0;
  o->attribution = o->has_target && cfg->attribution;
  o->lookback = cfg->lookback;
  o->has_nps = cfg->nps_event != NULL;
  o->nps_event = o->has_nps ? pc_dict_find(names->events, cfg->nps_event) : -1;
  o->n_funnels = cfg->n_funnels;
  o->funnels = g_new0(Funnel, cfg->n_funnels);
  guint max_steps = 1;
  for (guint f = 0; f < cfg->n_funnels; f++) {
    if (cfg->funnels[f].n_steps == 0) {
      pc_set_error(error, PC_ERROR_CONFIG, "funnel.%s: no steps",
                   cfg->funnels[f].name);
      return NULL;
    }
    funnel_resolve(&o->funnels[f], &cfg->funnels[f], names);
    max_steps = MAX(max_steps, cfg->funnels[f].n_steps);
  }
  if (!outcome_layout(o, cfg, error)) return NULL;
  o->st = g_new0(int64_t, o->len);
  o->ev_pre_stamp = g_new0(uint64_t, o->E);
  o->ev_look_stamp = g_new0(uint64_t, o->E);
  o->ch_all_stamp = g_new0(uint64_t, o->C);
  o->ch_pre_stamp = g_new0(uint64_t, o->C);
  o->ev_list = g_new0(uint32_t, o->E + 1);
  o->ch_list = g_new0(uint32_t, o->C + 1);
  o->ch_k = g_new0(int64_t, o->C + 1);
  o->best = g_new0(int64_t, max_steps);
  return g_steal_pointer(&o);
}

static int cmp_funnel_name(const void *a, const void *b, void *data) {
  const Funnel *f = data;
  return strcmp(f[*(const guint *)a].name, f[*(const guint *)b].name);
}

/* Computes every offset of st; fails when the state would be too large
 * (the Markov block is quadratic in channels). */
static gboolean outcome_layout(PcOutcome *o, const PcJobConfig *cfg,
                               GError **error) {
  uint64_t C = o->C, len = G_COUNT;
  o->off_ev = len;
  len += (uint64_t)o->E * EV_COUNT;
  o->off_ch = len;
  len += C * CH_COUNT;
  o->off_lin = len;
  if (o->attribution) len += C * PC_OUTCOME_LINEAR_EXACT_MAX;
  o->off_markov = len;
  if (o->attribution) len += (C + 1) * (C + 2);
  o->off_nps = len;
  if (o->has_nps) len += (C + 1) * NPS_COUNT;
  for (guint f = 0; f < o->n_funnels; f++) {
    o->funnels[f].off = len;
    len += (o->funnels[f].split ? C + 1 : 1) * o->funnels[f].n_steps;
  }
  if (len > PC_OUTCOME_MAX_COUNTERS) {
    pc_set_error(error, PC_ERROR_MEMORY,
                 "%s: outcome state of %" G_GUINT64_FORMAT
                 " counters (%u channels) is too large",
                 cfg->job_path ? cfg->job_path : "job", len, o->C);
    return FALSE;
  }
  o->len = len;
  o->funnel_order = g_new0(guint, o->n_funnels + 1);
  for (guint f = 0; f < o->n_funnels; f++) o->funnel_order[f] = f;
  g_qsort_with_data(o->funnel_order, o->n_funnels, sizeof(guint),
                    cmp_funnel_name, o->funnels);
  return TRUE;
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
  f->split = fc->split_channel;
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

void pc_outcome_free(PcOutcome *o) {
  if (!o) return;
  for (guint f = 0; f < o->n_funnels; f++) {
    g_free(o->funnels[f].name);
    g_strfreev(o->funnels[f].steps);
    g_free(o->funnels[f].step_event);
    g_free(o->funnels[f].step_chan);
  }
  g_free(o->funnels);
  g_free(o->funnel_order);
  g_free(o->st);
  g_free(o->ev_pre_stamp);
  g_free(o->ev_look_stamp);
  g_free(o->ch_all_stamp);
  g_free(o->ch_pre_stamp);
  g_free(o->ev_list);
  g_free(o->ch_list);
  g_free(o->ch_k);
  g_free(o->best);
  g_free(o);
}

/* ---- accumulation ------------------------------------------------------------- */

void pc_outcome_add(PcOutcome *o, const PcJourney *j, gboolean y, size_t cut,
                    gboolean has_customers_table) {
  g_assert(cut <= j->n && (y || cut == j->n));
  int64_t *g = o->st;
  o->stamp++;
  g[G_CUSTOMERS]++;
  g[G_EVENTS] += (int64_t)j->n;
  g[G_Y] += y ? 1 : 0;
  if (has_customers_table && !j->has_revenue) g[G_NO_REVENUE]++;
  int64_t revenue = 0;
  if (has_customers_table) revenue = j->revenue;
  else
    for (size_t i = 0; i < j->n; i++) revenue += j->ev[i].value;
  add_presence(o, j, y, cut, revenue);
  if (o->has_target && y) add_preceding(o, j, cut);
  if (o->attribution) add_attribution(o, j, y, cut);
  if (o->nps_event >= 0) add_nps(o, j);
  if (o->n_funnels) add_funnels(o, j);
}

/* Channel KPIs and the f-indicators of the drivers (§6): an event or
 * channel counts once per customer, whatever its number of events. */
static void add_presence(PcOutcome *o, const PcJourney *j, gboolean y,
                         size_t cut, int64_t revenue) {
  uint64_t s = o->stamp;
  size_t nev = 0, nch = 0;
  for (size_t i = 0; i < j->n; i++) {
    const PcEvent *e = &j->ev[i];
    int64_t *ch = o->st + o->off_ch + (size_t)e->channel * CH_COUNT;
    ch[CH_EVENTS]++;
    ch[CH_VALUE] += e->value;
    if (o->ch_all_stamp[e->channel] != s) {
      o->ch_all_stamp[e->channel] = s;
      ch[CH_CUSTOMERS]++;
    }
    if (i >= cut) continue;
    if (o->ev_pre_stamp[e->event] != s) {
      o->ev_pre_stamp[e->event] = s;
      o->ev_list[nev++] = e->event;
    }
    if (o->ch_pre_stamp[e->channel] != s) {
      o->ch_pre_stamp[e->channel] = s;
      o->ch_list[nch++] = e->channel;
    }
  }
  for (size_t k = 0; k < nev; k++) {
    int64_t *ev = o->st + o->off_ev + (size_t)o->ev_list[k] * EV_COUNT;
    ev[EV_N]++;
    if (y) ev[EV_A]++, ev[EV_REV] += revenue;
  }
  for (size_t k = 0; k < nch; k++) {
    int64_t *ch = o->st + o->off_ch + (size_t)o->ch_list[k] * CH_COUNT;
    ch[CH_PRE]++;
    if (y) ch[CH_PRE_Y]++, ch[CH_REV] += revenue;
  }
}

/* §4: distinct event tokens among the last lookback pre-target events. */
static void add_preceding(PcOutcome *o, const PcJourney *j, size_t cut) {
  uint64_t s = o->stamp;
  size_t from = cut > o->lookback ? cut - o->lookback : 0;
  for (size_t i = from; i < cut; i++) {
    uint32_t e = j->ev[i].event;
    if (o->ev_look_stamp[e] == s) continue;
    o->ev_look_stamp[e] = s;
    o->st[o->off_ev + (size_t)e * EV_COUNT + EV_PRECEDING]++;
  }
}

/* §8 over the channel sequence of the pre-target journey (repeats kept):
 * Markov transition counts for everyone; first, last and linear credit for
 * y = 1. Linear credit k/len per channel is exact as counts per (channel,
 * len) for len <= PC_OUTCOME_LINEAR_EXACT_MAX; beyond, round(k*2^62/len) is
 * split into two 31-bit limbs so that sums of up to 2^32 journeys cannot
 * overflow. Either way only integers are added: order-free. */
static void add_attribution(PcOutcome *o, const PcJourney *j, gboolean y,
                            size_t cut) {
  uint64_t C = o->C;
  int64_t *mk = o->st + o->off_markov;
  size_t prev = 0; /* row 0 = '^' */
  for (size_t i = 0; i < cut; i++) {
    uint32_t c = j->ev[i].channel;
    mk[prev * (C + 2) + c]++;
    prev = 1 + (size_t)c;
  }
  mk[prev * (C + 2) + (y ? C : C + 1)]++;
  if (!y || cut == 0) return;
  int64_t *ch = o->st + o->off_ch;
  ch[(size_t)j->ev[0].channel * CH_COUNT + CH_FIRST]++;
  ch[(size_t)j->ev[cut - 1].channel * CH_COUNT + CH_LAST]++;
  if (cut <= PC_OUTCOME_LINEAR_EXACT_MAX) {
    int64_t *lin = o->st + o->off_lin;
    for (size_t i = 0; i < cut; i++)
      lin[(size_t)j->ev[i].channel * PC_OUTCOME_LINEAR_EXACT_MAX + cut - 1]++;
    return;
  }
  size_t nch = 0;
  for (size_t i = 0; i < cut; i++) {
    uint32_t c = j->ev[i].channel;
    if (o->ch_k[c]++ == 0) o->ch_list[nch++] = c;
  }
  for (size_t k = 0; k < nch; k++) {
    uint32_t c = o->ch_list[k];
    unsigned __int128 num = (unsigned __int128)o->ch_k[c] << 62;
    uint64_t q = (uint64_t)((num + cut / 2) / cut); /* <= 2^62 */
    ch[(size_t)c * CH_COUNT + CH_LIN_HI] += (int64_t)(q >> LIN_LO_BITS);
    ch[(size_t)c * CH_COUNT + CH_LIN_LO] +=
        (int64_t)(q & ((UINT64_C(1) << LIN_LO_BITS) - 1));
    o->ch_k[c] = 0;
  }
}

/* §6 NPS: a response takes the channel of the nearest earlier event that is
 * not an NPS event (index C = "(unknown)"). A value that is not a whole
 * number 0..10 is counted invalid and skipped; it is still an NPS event, so
 * it never lends its channel to a later response. */
static void add_nps(PcOutcome *o, const PcJourney *j) {
  size_t last = o->C;
  int64_t *nps = o->st + o->off_nps;
  for (size_t i = 0; i < j->n; i++) {
    const PcEvent *e = &j->ev[i];
    if ((int64_t)e->event != o->nps_event) {
      last = e->channel;
      continue;
    }
    if (e->value < 0 || e->value > 10 * MICROS || e->value % MICROS != 0) {
      o->st[G_NPS_INVALID]++;
      continue;
    }
    int64_t score = e->value / MICROS;
    int kind = score >= 9 ? NPS_PROMOTER : score >= 7 ? NPS_PASSIVE
                                                      : NPS_DETRACTOR;
    nps[last * NPS_COUNT + kind]++;
  }
}

static gboolean step_matches(const Funnel *f, guint s, const PcEvent *e) {
  if ((int64_t)e->event != f->step_event[s]) return FALSE;
  return !f->step_chan || f->step_chan[s] < 0 ||
         (int64_t)e->channel == f->step_chan[s];
}

guint pc_outcome_funnel_level(const PcEvent *ev, size_t n,
                              const int64_t *step_event,
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

/* §5: level counts per split. The split channel is that of the journey's
 * first event matching s1 (not necessarily the start of the best chain). */
static void add_funnels(PcOutcome *o, const PcJourney *j) {
  for (guint f = 0; f < o->n_funnels; f++) {
    const Funnel *fu = &o->funnels[f];
    guint level = pc_outcome_funnel_level(j->ev, j->n, fu->step_event,
                                          fu->step_chan, fu->n_steps,
                                          fu->window_us, o->best);
    if (level == 0) continue;
    int64_t *cnt = o->st + fu->off;
    cnt[level - 1]++;
    if (!fu->split) continue;
    for (size_t i = 0; i < j->n; i++)
      if (step_matches(fu, 0, &j->ev[i])) {
        cnt[(1 + (size_t)j->ev[i].channel) * fu->n_steps + level - 1]++;
        break;
      }
  }
}

void pc_outcome_merge(PcOutcome *dst, const PcOutcome *src) {
  g_return_if_fail(dst->len == src->len);
  for (size_t i = 0; i < dst->len; i++) dst->st[i] += src->st[i];
}

int64_t *pc_outcome_state(PcOutcome *o, size_t *len) {
  *len = o->len;
  return o->st;
}

/* ---- statistics (rank 0) ---------------------------------------------------------- */

double pc_outcome_ratio(double x, double y) {
  if (y != 0 || isnan(y)) return x / y;
  if (isnan(x) || x == 0) return NAN;
  return x > 0 ? INFINITY : -INFINITY;
}

double pc_outcome_chi2(int64_t N, int64_t Y, int64_t n, int64_t a) {
  int64_t r1 = n, r2 = N - n, c1 = Y, c2 = N - Y;
  if (N <= 0 || r1 <= 0 || r2 <= 0 || c1 <= 0 || c2 <= 0) return 0;
  /* N (o11 o22 - o12 o21)^2 / (r1 r2 c1 c2): the Pearson sum of the 2x2
   * table in closed form; the determinant is exact in 128 bits. */
  __int128 det = (__int128)a * (N - n - Y + a) - (__int128)(n - a) * (Y - a);
  double d = (double)det;
  return (double)N * d * d /
         ((double)r1 * (double)r2 * (double)c1 * (double)c2);
}

/* Solves A x = b (m x m, row-major, destroyed) by Gaussian elimination with
 * partial pivoting; ties pick the lowest row, so the operations are fixed. */
static void solve_dense(double *A, double *b, guint m) {
  for (guint k = 0; k < m; k++) {
    guint p = k;
    for (guint r = k + 1; r < m; r++)
      if (fabs(A[(size_t)r * m + k]) > fabs(A[(size_t)p * m + k])) p = r;
    if (p != k) {
      for (guint c = 0; c < m; c++) {
        double t = A[(size_t)k * m + c];
        A[(size_t)k * m + c] = A[(size_t)p * m + c];
        A[(size_t)p * m + c] = t;
      }
      double t = b[k];
      b[k] = b[p];
      b[p] = t;
    }
    double piv = A[(size_t)k * m + k];
    if (piv == 0) continue; /* cannot happen: every state reaches absorption */
    for (guint r = k + 1; r < m; r++) {
      double f = A[(size_t)r * m + k] / piv;
      if (f == 0) continue;
      for (guint c = k; c < m; c++) A[(size_t)r * m + c] -= f * A[(size_t)k * m + c];
      b[r] -= f * b[k];
    }
  }
  for (guint k = m; k-- > 0;) {
    double s = b[k];
    for (guint c = k + 1; c < m; c++) s -= A[(size_t)k * m + c] * b[c];
    double piv = A[(size_t)k * m + k];
    b[k] = piv != 0 ? s / piv : 0;
  }
}

/* The system, multiplied by out(s) so that its entries are the integer
 * counts: out(s) x_s - sum_t count(s,t) x_t = count(s,conv) over the live
 * states ('^' and channels with outgoing transitions, removed excluded);
 * a transition into a dead state ends in null (x = 0). */
double pc_outcome_markov_pconv(const int64_t *counts, guint C,
                               int64_t removed) {
  size_t W = (size_t)C + 2;
  g_autofree guint *idx = g_new(guint, C + 1); /* state -> unknown, or G_MAXUINT */
  guint m = 0;
  for (guint s = 0; s <= C; s++) {
    int64_t out = 0;
    for (size_t t = 0; t < W; t++) out += counts[s * W + t];
    gboolean live = out > 0 && !(s > 0 && (int64_t)(s - 1) == removed);
    idx[s] = live ? m++ : G_MAXUINT;
  }
  if (idx[0] == G_MAXUINT) return 0;
  g_autofree double *A = g_new0(double, (size_t)m * m);
  g_autofree double *b = g_new0(double, m);
  for (guint s = 0; s <= C; s++) {
    if (idx[s] == G_MAXUINT) continue;
    size_t r = idx[s];
    int64_t out = 0;
    for (size_t t = 0; t < W; t++) out += counts[s * W + t];
    A[r * m + r] = (double)out;
    for (guint t = 0; t < C; t++) {
      if (idx[t + 1] == G_MAXUINT || !counts[s * W + t]) continue;
      A[r * m + idx[t + 1]] -= (double)counts[s * W + t];
    }
    b[r] = (double)counts[s * W + C];
  }
  solve_dense(A, b, m);
  return b[idx[0]];
}

/* ---- tables ------------------------------------------------------------------------ */

static gboolean name_kept(const guint8 *kept, guint id) {
  return !kept || kept[id];
}

typedef struct {
  guint id;
  int64_t key;  /* customers */
  double chi2;
} SortRow;

static int cmp_customers_desc(const void *pa, const void *pb) {
  const SortRow *a = pa, *b = pb;
  if (a->key != b->key) return a->key > b->key ? -1 : 1;
  return a->id < b->id ? -1 : (a->id > b->id);
}

static int cmp_chi2_desc(const void *pa, const void *pb) {
  const SortRow *a = pa, *b = pb;
  if (a->chi2 != b->chi2) return a->chi2 > b->chi2 ? -1 : 1;
  return a->id < b->id ? -1 : (a->id > b->id);
}

static PcTable *table_preceding(const PcOutcome *o, const PcNames *names) {
  static const char *const cols[] = {"token:string", "customers:int",
                                     "share:double"};
  PcTable *t = pc_table_new("preceding_tokens", cols, 3);
  g_autofree SortRow *rows = g_new0(SortRow, o->E + 1);
  guint nr = 0;
  for (guint e = 0; e < o->E; e++) {
    int64_t c = o->st[o->off_ev + (size_t)e * EV_COUNT + EV_PRECEDING];
    if (c > 0) rows[nr++] = (SortRow){e, c, 0};
  }
  qsort(rows, nr, sizeof *rows, cmp_customers_desc);
  for (guint r = 0; r < nr; r++) {
    pc_table_add_row(t);
    pc_table_set_string(t, 0, names->events->names[rows[r].id]);
    pc_table_set_int(t, 1, rows[r].key);
    pc_table_set_double(t, 2, pc_outcome_ratio((double)rows[r].key,
                                               (double)o->st[G_Y]));
  }
  return t;
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
    if (k >= 2) pc_table_set_double(t, 5, pc_outcome_ratio((double)cust, (double)prev));
    pc_table_set_double(t, 6, pc_outcome_ratio((double)cust, (double)first));
    if (k >= 2) pc_table_set_int(t, 7, lv[k - 2]);
    prev = cust;
  }
}

/* Split rows only for channels with at least one customer at level >= 1. */
static PcTable *table_funnels(const PcOutcome *o, const PcNames *names) {
  static const char *const cols[] = {
      "funnel:string", "split:string", "step:int",     "token:string",
      "customers:int", "conv_prev:double", "conv_first:double", "drop_off:int"};
  PcTable *t = pc_table_new("funnels", cols, 8);
  for (guint i = 0; i < o->n_funnels; i++) {
    const Funnel *f = &o->funnels[o->funnel_order[i]];
    const int64_t *lv = o->st + f->off;
    funnel_rows(t, f, "(all)", lv);
    if (!f->split) continue;
    for (guint c = 0; c < o->C; c++) {
      const int64_t *cl = lv + (1 + (size_t)c) * f->n_steps;
      int64_t any = 0;
      for (guint l = 0; l < f->n_steps; l++) any += cl[l];
      if (any > 0) funnel_rows(t, f, names->channels->names[c], cl);
    }
  }
  return t;
}

/* §6 drivers from n, a and revenue per row (id order = name order). */
static PcTable *table_drivers(const char *tname, const char *first_col,
                              const PcOutcome *o, const PcDict *dict,
                              const int64_t *base, size_t stride, size_t i_n,
                              size_t i_a, size_t i_rev) {
  const char *const cols[] = {first_col,        "customers:int",
                              "customers_with_outcome:int", "rate_with:double",
                              "rate_without:double", "lift:double",
                              "risk_ratio:double",   "chi2:double",
                              "coverage:double",     "revenue_at_risk:micros"};
  PcTable *t = pc_table_new(tname, cols, 10);
  int64_t N = o->st[G_CUSTOMERS], Y = o->st[G_Y];
  g_autofree SortRow *rows = g_new0(SortRow, dict->n + 1);
  guint nr = 0;
  for (guint id = 0; id < dict->n; id++) {
    const int64_t *r = base + (size_t)id * stride;
    if (r[i_n] > 0)
      rows[nr++] = (SortRow){id, r[i_n], pc_outcome_chi2(N, Y, r[i_n], r[i_a])};
  }
  qsort(rows, nr, sizeof *rows, cmp_chi2_desc);
  for (guint k = 0; k < nr; k++) {
    const int64_t *r = base + (size_t)rows[k].id * stride;
    int64_t n = r[i_n], a = r[i_a];
    double with = pc_outcome_ratio((double)a, (double)n);
    double without = pc_outcome_ratio((double)(Y - a), (double)(N - n));
    pc_table_add_row(t);
    pc_table_set_string(t, 0, dict->names[rows[k].id]);
    pc_table_set_int(t, 1, n);
    pc_table_set_int(t, 2, a);
    pc_table_set_double(t, 3, with);
    pc_table_set_double(t, 4, without);
    pc_table_set_double(t, 5, pc_outcome_ratio(with, pc_outcome_ratio((double)Y, (double)N)));
    pc_table_set_double(t, 6, pc_outcome_ratio(with, without));
    pc_table_set_double(t, 7, rows[k].chi2);
    pc_table_set_double(t, 8, pc_outcome_ratio((double)a, (double)Y));
    pc_table_set_micros(t, 9, r[i_rev]);
  }
  return t;
}

static PcTable *table_channels(const PcOutcome *o, const PcNames *names) {
  static const char *const cols[] = {
      "channel:string", "events:int",          "customers:int",
      "customers_pre:int", "outcome_rate:double", "value_sum:micros",
      "value_mean:double"};
  PcTable *t = pc_table_new("channels", cols, 7);
  for (guint c = 0; c < o->C; c++) {
    if (!name_kept(names->channel_kept, c)) continue;
    const int64_t *r = o->st + o->off_ch + (size_t)c * CH_COUNT;
    pc_table_add_row(t);
    pc_table_set_string(t, 0, names->channels->names[c]);
    pc_table_set_int(t, 1, r[CH_EVENTS]);
    pc_table_set_int(t, 2, r[CH_CUSTOMERS]);
    pc_table_set_int(t, 3, r[CH_PRE]);
    pc_table_set_double(t, 4, pc_outcome_ratio((double)r[CH_PRE_Y], (double)r[CH_PRE]));
    pc_table_set_micros(t, 5, r[CH_VALUE]);
    pc_table_set_double(t, 6, pc_outcome_ratio((double)r[CH_VALUE] / MICROS,
                                               (double)r[CH_EVENTS]));
  }
  return t;
}

static void nps_row(PcTable *t, const char *name, int64_t pro, int64_t pas,
                    int64_t det) {
  int64_t resp = pro + pas + det;
  pc_table_add_row(t);
  pc_table_set_string(t, 0, name);
  pc_table_set_int(t, 1, resp);
  pc_table_set_int(t, 2, pro);
  pc_table_set_int(t, 3, pas);
  pc_table_set_int(t, 4, det);
  pc_table_set_double(t, 5, pc_outcome_ratio(100.0 * (double)(pro - det), (double)resp));
}

/* "(all)" first, then every channel with a response, "(unknown)" sorted
 * bytewise among the channel names. */
static PcTable *table_nps(const PcOutcome *o, const PcNames *names) {
  static const char *const cols[] = {"channel:string", "responses:int",
                                     "promoters:int",  "passives:int",
                                     "detractors:int", "nps:double"};
  PcTable *t = pc_table_new("nps", cols, 6);
  const int64_t *nps = o->st + o->off_nps;
  int64_t tot[NPS_COUNT] = {0};
  for (size_t c = 0; c <= o->C; c++)
    for (int k = 0; k < NPS_COUNT; k++) tot[k] += nps[c * NPS_COUNT + k];
  nps_row(t, "(all)", tot[NPS_PROMOTER], tot[NPS_PASSIVE], tot[NPS_DETRACTOR]);
  const int64_t *unk = nps + (size_t)o->C * NPS_COUNT;
  gboolean unk_done = unk[0] + unk[1] + unk[2] == 0;
  for (guint c = 0; c <= o->C; c++) {
    const char *name = c < o->C ? names->channels->names[c] : NULL;
    if (!unk_done && (!name || strcmp("(unknown)", name) < 0)) {
      nps_row(t, "(unknown)", unk[NPS_PROMOTER], unk[NPS_PASSIVE], unk[NPS_DETRACTOR]);
      unk_done = TRUE;
    }
    if (!name) break;
    const int64_t *r = nps + (size_t)c * NPS_COUNT;
    if (r[0] + r[1] + r[2] > 0)
      nps_row(t, name, r[NPS_PROMOTER], r[NPS_PASSIVE], r[NPS_DETRACTOR]);
  }
  return t;
}

static double linear_credit(const PcOutcome *o, guint c) {
  const int64_t *lin = o->st + o->off_lin + (size_t)c * PC_OUTCOME_LINEAR_EXACT_MAX;
  const int64_t *ch = o->st + o->off_ch + (size_t)c * CH_COUNT;
  double s = 0;
  for (guint len = 1; len <= PC_OUTCOME_LINEAR_EXACT_MAX; len++)
    if (lin[len - 1]) s += (double)lin[len - 1] / len;
  s += ldexp((double)ch[CH_LIN_HI], LIN_LO_BITS - 62);
  s += ldexp((double)ch[CH_LIN_LO], -62);
  return s;
}

static PcTable *table_attribution(const PcOutcome *o, const PcNames *names) {
  static const char *const cols[] = {
      "channel:string", "first_touch:int", "last_touch:int", "linear:double",
      "markov_removal_effect:double", "markov_share:double",
      "markov_conversions:double"};
  PcTable *t = pc_table_new("attribution", cols, 7);
  const int64_t *mk = o->st + o->off_markov;
  size_t W = (size_t)o->C + 2;
  double p = pc_outcome_markov_pconv(mk, o->C, -1);
  g_autofree double *eff = g_new0(double, o->C + 1);
  double total = 0;
  for (guint c = 0; c < o->C; c++) {
    if (!name_kept(names->channel_kept, c)) continue;
    int64_t in = 0; /* a channel never entered cannot change P(conv) */
    for (size_t s = 0; s <= o->C; s++) in += mk[s * W + c];
    if (p == 0) eff[c] = NAN;
    else eff[c] = in ? 1 - pc_outcome_markov_pconv(mk, o->C, c) / p : 0;
    total += eff[c];
  }
  for (guint c = 0; c < o->C; c++) {
    if (!name_kept(names->channel_kept, c)) continue;
    const int64_t *r = o->st + o->off_ch + (size_t)c * CH_COUNT;
    double share = pc_outcome_ratio(eff[c], total);
    pc_table_add_row(t);
    pc_table_set_string(t, 0, names->channels->names[c]);
    pc_table_set_int(t, 1, r[CH_FIRST]);
    pc_table_set_int(t, 2, r[CH_LAST]);
    pc_table_set_double(t, 3, linear_credit(o, c));
    pc_table_set_double(t, 4, eff[c]);
    pc_table_set_double(t, 5, share);
    pc_table_set_double(t, 6, share * (double)o->st[G_Y]);
  }
  return t;
}

gboolean pc_outcome_tables(PcOutcome *o, const PcNames *names,
                           GPtrArray *tables, PcOutcomeSummary *sum,
                           GError **error) {
  for (size_t i = 0; i < G_COUNT; i++)
    if (o->st[i] < 0) {
      pc_set_error(error, PC_ERROR_INTERNAL, "outcome state: negative count");
      return FALSE;
    }
  if (sum) {
    sum->customers = (uint64_t)o->st[G_CUSTOMERS];
    sum->events = (uint64_t)o->st[G_EVENTS];
    sum->customers_with_outcome = (uint64_t)o->st[G_Y];
    sum->customers_without_revenue = (uint64_t)o->st[G_NO_REVENUE];
    sum->nps_invalid = (uint64_t)o->st[G_NPS_INVALID];
  }
  if (o->has_target) g_ptr_array_add(tables, table_preceding(o, names));
  if (o->n_funnels) g_ptr_array_add(tables, table_funnels(o, names));
  if (o->has_target) {
    g_ptr_array_add(tables, table_drivers("drivers", "token:string", o,
                                          names->events, o->st + o->off_ev,
                                          EV_COUNT, EV_N, EV_A, EV_REV));
    g_ptr_array_add(tables, table_drivers("channel_drivers", "channel:string",
                                          o, names->channels, o->st + o->off_ch,
                                          CH_COUNT, CH_PRE, CH_PRE_Y, CH_REV));
  }
  g_ptr_array_add(tables, table_channels(o, names));
  if (o->has_nps) g_ptr_array_add(tables, table_nps(o, names));
  if (o->attribution) g_ptr_array_add(tables, table_attribution(o, names));
  return TRUE;
}
