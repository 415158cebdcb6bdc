/* attribution_models.c - the "attribution_models" analysis module (spec
 * §18): position-based and time-decay credit of the channels of pre-target
 * journeys with y = 1, and the Markov removal effect of order k =
 * attribution.markov_order over every customer's channel sequence
 * (attribution_models.csv).
 *
 * Owns one int64 array (position-based counts, exact per middle length,
 * fixed point for long journeys; the order-k Markov transition counts)
 * and one PcFix array (time-decay credit). Only integers are added, so
 * merge and the rank sums (sum_i64, sum_fix) are exact and order-free;
 * doubles appear per journey (time decay, then rounded to PcFix) and in
 * the tables on rank 0. Does not own the Markov solve (markov.c). No MPI,
 * no HDF5.
 *
 * Invariants: a journey's credit sums to 1 over its channels before it is
 * added (spec §18: exact per journey); for k = 1 the Markov counts and
 * solve are those of attribution.csv (spec §8), so its Markov columns are
 * the same bits.
 */
#include "pc_markov.h"
#include "pc_module.h"
#include "pc_stats.h"

#include <math.h>

#define MID_EXACT_MAX 64 /* middle lengths counted exactly; longer: fixed point */
#define MID_LO_BITS 31   /* fixed point of long middles: 2 limbs of 31 bits */
#define MAX_COUNTERS (UINT64_C(1) << 27) /* 1 GiB of state per instance */

enum { P_SINGLE, P_PAIR, P_FIRST, P_LAST, P_MID_HI, P_MID_LO, P_COUNT };

typedef struct {
  guint C, k;
  size_t off[5], pw;    /* first state id of each length (pc_markov.h); C^(k-1) */
  double half_life_us;
  int64_t *st;          /* [C][P_COUNT], [C][MID_EXACT_MAX], Markov [S][C+2] */
  size_t off_mid, off_markov, len;
  PcFix *td;            /* [C] time-decay credit */
  double *acc;          /* scratch [C]: a journey's weight per channel */
  int64_t *cnt;         /* scratch [C]: a journey's middle touches */
  uint32_t *touched;    /* scratch: channels of the journey */
} Models;

static gboolean am_enabled(const PcJobConfig *cfg) {
  return cfg->n_target_events > 0 && cfg->attribution;
}

static void am_destroy(void *self) {
  Models *m = self;
  if (!m) return;
  g_free(m->st);
  g_free(m->td);
  g_free(m->acc);
  g_free(m->cnt);
  g_free(m->touched);
  g_free(m);
}

/* The order-k state space must fit the exact solve (k >= 2) and, like
 * spec §8's, the counters (every k). */
static gboolean check_space(const PcModuleEnv *env, guint C, guint k,
                            GError **error) {
  const char *job = env->cfg->job_path ? env->cfg->job_path : "job";
  uint64_t top = pc_markov_pow(C, k), S = pc_markov_states(C, k);
  if (k >= 2 && top > PC_MARKOV_MAX_STATES) {
    pc_set_error(error, PC_ERROR_CONFIG,
                 "%s: attribution.markov_order = %u: %u channels give %" G_GUINT64_FORMAT
                 " Markov states of %u channels (channels^k), more than the %d an exact "
                 "solve takes; lower attribution.markov_order",
                 job, k, C, top, k, PC_MARKOV_MAX_STATES);
    return FALSE;
  }
  if (S == UINT64_MAX || S > MAX_COUNTERS / ((uint64_t)C + 2)) {
    pc_set_error(error, PC_ERROR_MEMORY,
                 "%s: attribution.markov_order = %u: %u channels give %" G_GUINT64_FORMAT
                 " Markov states, too many transition counters",
                 job, k, C, S);
    return FALSE;
  }
  return TRUE;
}

static void *am_create(const PcModuleEnv *env, GError **error) {
  guint C = env->names->channels->n, k = env->cfg->markov_order;
  if (!check_space(env, C, k, error)) return NULL;
  Models *m = g_new0(Models, 1);
  m->C = C;
  m->k = k;
  m->off[0] = 0, m->off[1] = 1, m->pw = 1;
  for (guint j = 1; j < k; j++) m->off[j + 1] = m->off[j] + (m->pw *= C);
  m->half_life_us = env->cfg->half_life_s * 1e6;
  m->off_mid = (size_t)C * P_COUNT;
  m->off_markov = m->off_mid + (size_t)C * MID_EXACT_MAX;
  m->len = m->off_markov + (size_t)pc_markov_states(C, k) * (C + 2);
  m->st = g_new0(int64_t, m->len);
  m->td = g_new0(PcFix, C + 1);
  m->acc = g_new0(double, C + 1);
  m->cnt = g_new0(int64_t, C + 1);
  m->touched = g_new0(uint32_t, C + 1);
  return m;
}

/* ---- Position based ---- */

/* 0.2 / d to each of the d middle touches when d > MID_EXACT_MAX: per
 * channel k/d as round(k 2^62 / d) in two 31-bit limbs, so that sums of
 * up to 2^32 journeys cannot overflow. */
static void add_middle_long(Models *m, const PcEvent *ev, size_t cut) {
  size_t d = cut - 2, nt = 0;
  for (size_t i = 1; i + 1 < cut; i++)
    if (m->cnt[ev[i].channel]++ == 0) m->touched[nt++] = ev[i].channel;
  for (size_t t = 0; t < nt; t++) {
    uint32_t c = m->touched[t];
    unsigned __int128 num = (unsigned __int128)m->cnt[c] << 62;
    uint64_t q = (uint64_t)((num + d / 2) / d); /* <= 2^62 */
    int64_t *r = m->st + (size_t)c * P_COUNT;
    r[P_MID_HI] += (int64_t)(q >> MID_LO_BITS);
    r[P_MID_LO] += (int64_t)(q & ((UINT64_C(1) << MID_LO_BITS) - 1));
    m->cnt[c] = 0;
  }
}

static void add_position(Models *m, const PcEvent *ev, size_t cut) {
  int64_t *st = m->st;
  if (cut == 1) {
    st[(size_t)ev[0].channel * P_COUNT + P_SINGLE]++;
    return;
  }
  if (cut == 2) {
    st[(size_t)ev[0].channel * P_COUNT + P_PAIR]++;
    st[(size_t)ev[1].channel * P_COUNT + P_PAIR]++;
    return;
  }
  st[(size_t)ev[0].channel * P_COUNT + P_FIRST]++;
  st[(size_t)ev[cut - 1].channel * P_COUNT + P_LAST]++;
  if (cut - 2 > MID_EXACT_MAX) {
    add_middle_long(m, ev, cut);
    return;
  }
  for (size_t i = 1; i + 1 < cut; i++)
    st[m->off_mid + (size_t)ev[i].channel * MID_EXACT_MAX + (cut - 3)]++;
}

/* ---- Time decay ---- */

/* Weights 2^(-(Δi - Δmin)/H): the same ratios as 2^(-Δi/H), without the
 * underflow of distant touches (Δmin is the last touch's). A journey's
 * credit per channel (summed in position order, over the sum of weights
 * in position order) is rounded once to PcFix and added. */
static void add_time_decay(Models *m, const PcEvent *ev, size_t cut,
                           int64_t target_us) {
  size_t nt = 0;
  double total = 0;
  int64_t dmin = target_us - ev[cut - 1].ts_us;
  for (size_t i = 0; i < cut; i++) {
    double d = (double)(target_us - ev[i].ts_us - dmin);
    double w = exp2(-d / m->half_life_us);
    uint32_t c = ev[i].channel;
    if (m->cnt[c]++ == 0) m->touched[nt++] = c;
    m->acc[c] += w;
    total += w;
  }
  for (size_t t = 0; t < nt; t++) {
    uint32_t c = m->touched[t];
    m->td[c] += pc_fix_from_double(m->acc[c] / total);
    m->acc[c] = 0;
    m->cnt[c] = 0;
  }
}

/* ---- The module ---- */

/* Markov counts over every customer's pre-target channels (as §8); the
 * credit models over the y = 1 journeys with at least one touch. */
static void am_add(void *self, const PcJourneyView *jv) {
  Models *m = self;
  const PcEvent *ev = jv->j->ev;
  size_t cut = jv->cut, W = (size_t)m->C + 2, s = 0, u = 0;
  guint j = 0; /* the state s = off[j] + u (pc_markov_next, incrementally) */
  int64_t *mk = m->st + m->off_markov;
  for (size_t i = 0; i < cut; i++) {
    uint32_t c = ev[i].channel;
    mk[s * W + c]++;
    if (j < m->k) u = u * m->C + c, j++;
    else u = (u % m->pw) * m->C + c;
    s = m->off[j] + u;
  }
  mk[s * W + (jv->y ? m->C : m->C + 1)]++;
  if (!jv->y || cut == 0) return;
  add_position(m, ev, cut);
  add_time_decay(m, ev, cut, ev[cut].ts_us);
}

static void am_merge(void *dst, void *src) {
  Models *d = dst, *s = src;
  pc_stats_add_i64(d->st, s->st, d->len);
  for (guint c = 0; c < d->C; c++) d->td[c] += s->td[c];
}

static gboolean am_reduce(void *self, const PcModuleEnv *env, GError **error) {
  Models *m = self;
  return env->ops->sum_i64(env->ops->ctx, m->st, m->len, error) &&
         env->ops->sum_fix(env->ops->ctx, m->td, m->C, error);
}

/* single + pair/2 + 0.4 (first + last) + 0.2 sum_d mid_d/d, in this order. */
static double position_credit(const Models *m, guint c) {
  const int64_t *r = m->st + (size_t)c * P_COUNT;
  const int64_t *mid = m->st + m->off_mid + (size_t)c * MID_EXACT_MAX;
  double s = 0;
  for (guint d = 1; d <= MID_EXACT_MAX; d++)
    if (mid[d - 1]) s += (double)mid[d - 1] / d;
  s += ldexp((double)r[P_MID_HI], MID_LO_BITS - 62);
  s += ldexp((double)r[P_MID_LO], -62);
  return (double)r[P_SINGLE] + 0.5 * (double)r[P_PAIR] +
         0.4 * (double)(r[P_FIRST] + r[P_LAST]) + 0.2 * s;
}

static gboolean am_tables(void *self, const PcModuleEnv *env, PcOutputs *out,
                          GError **error) {
  static const char *const cols[] = {
      "channel:string", "position_based:double", "time_decay:double",
      "markov_removal_effect:double", "markov_share:double",
      "markov_conversions:double"};
  Models *m = self;
  const PcNames *nm = env->names;
  PcTable *t = pc_table_new("attribution_models", cols, 6);
  g_autofree double *eff = g_new0(double, m->C + 1);
  double total = pc_markov_effects(m->st + m->off_markov, m->C, m->k,
                                   nm->channel_kept, eff);
  for (guint c = 0; c < m->C; c++) {
    if (nm->channel_kept && !nm->channel_kept[c]) continue;
    double share = pc_stats_ratio(eff[c], total);
    pc_table_add_row(t);
    pc_table_set_string(t, 0, nm->channels->names[c]);
    pc_table_set_double(t, 1, position_credit(m, c));
    pc_table_set_double(t, 2, pc_fix_to_double(m->td[c]));
    pc_table_set_double(t, 3, eff[c]);
    pc_table_set_double(t, 4, share);
    pc_table_set_double(t, 5, share * (double)env->facts->customers_with_outcome);
  }
  pc_outputs_add(out, t);
  return TRUE;
}

/* Per thread: the counters and the Markov counts; on rank 0 the dense
 * solve over at most every state, and the removal solves in parallel, each
 * over the states without one channel. A space past the limits is refused
 * by create: count it as nothing here. */
static uint64_t am_memory(const PcModuleEnv *env, int threads,
                          uint64_t customers) {
  uint64_t C = env->names->channels->n, k = env->cfg->markov_order;
  uint64_t S = pc_markov_states((guint)C, (guint)k);
  uint64_t S1 = pc_markov_states(C ? (guint)C - 1 : 0, (guint)k);
  if (S > MAX_COUNTERS || (k >= 2 && pc_markov_pow((guint)C, (guint)k) > PC_MARKOV_MAX_STATES))
    return 0;
  uint64_t state = C * (P_COUNT + MID_EXACT_MAX + 2 + 4) + S * (C + 2);
  uint64_t solvers = MIN((uint64_t)threads, C);
  return (uint64_t)threads * 8 * state + 8 * S * S + solvers * 8 * S1 * S1;
}

const PcModule pc_module_attribution_models = {
    .name = "attribution_models",
    .enabled = am_enabled,
    .create = am_create,
    .add = am_add,
    .merge = am_merge,
    .reduce = am_reduce,
    .tables = am_tables,
    .destroy = am_destroy,
    .memory = am_memory,
};
