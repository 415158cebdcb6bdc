/* attribution.c - the "attribution" analysis module (spec §8): first-touch,
 * last-touch and linear credit of the channels of pre-target journeys with
 * y = 1, and the first-order Markov removal effect over every customer's
 * channel sequence (attribution.csv).
 *
 * Owns one int64 array: per channel first/last counts and the fixed-point
 * linear credit of long journeys, exact linear counts per (channel,
 * length), and the (C+1) x (C+2) Markov transition counts. Only integers
 * are added, so merge and the rank sum are exact and order-free; doubles
 * appear only in the tables, on rank 0 (the Markov solve is markov.c's).
 * No MPI, no HDF5.
 */
#include "pc_attribution.h"
#include "pc_markov.h"
#include "pc_module.h"
#include "pc_stats.h"

#include <math.h>

#define LIN_LO_BITS 31 /* linear credit fixed point: 2 limbs of 31 bits */
#define LINMAX PC_ATTRIBUTION_LINEAR_EXACT_MAX
#define MAX_COUNTERS (UINT64_C(1) << 27) /* 1 GiB of state */

enum { A_FIRST, A_LAST, A_LIN_HI, A_LIN_LO, A_COUNT }; /* per channel */

typedef struct {
  guint C;
  int64_t *st;
  size_t off_lin, off_markov, len;
  int64_t *ch_k;        /* scratch: positions of a channel, long journeys */
  uint32_t *ch_list;
} Attribution;

static gboolean attribution_enabled(const PcJobConfig *cfg) {
  return cfg->n_target_events > 0 && cfg->attribution;
}

static void attribution_destroy(void *self) {
  Attribution *m = self;
  if (!m) return;
  g_free(m->st);
  g_free(m->ch_k);
  g_free(m->ch_list);
  g_free(m);
}

static void *attribution_create(const PcModuleEnv *env, GError **error) {
  Attribution *m = g_new0(Attribution, 1);
  uint64_t C = m->C = env->names->channels->n;
  m->off_lin = C * A_COUNT;
  m->off_markov = m->off_lin + C * LINMAX;
  uint64_t len = m->off_markov + (C + 1) * (C + 2);
  if (len > MAX_COUNTERS) {
    pc_set_error(error, PC_ERROR_MEMORY, "%s: attribution state of %" G_GUINT64_FORMAT " counters (%u channels) is too large", env->cfg->job_path ? env->cfg->job_path : "job", len, m->C);
    attribution_destroy(m);
    return NULL;
  }
  m->len = len;
  m->st = g_new0(int64_t, len);
  m->ch_k = g_new0(int64_t, C + 1);
  m->ch_list = g_new0(uint32_t, C + 1);
  return m;
}

/* Linear credit k/len per channel of a journey longer than LINMAX:
 * round(k*2^62/len) split into two 31-bit limbs so that sums of up to 2^32
 * journeys cannot overflow. */
static void add_linear_long(Attribution *m, const PcEvent *ev, size_t cut) {
  size_t nch = 0;
  for (size_t i = 0; i < cut; i++) {
    uint32_t c = ev[i].channel;
    if (m->ch_k[c]++ == 0) m->ch_list[nch++] = c;
  }
  for (size_t k = 0; k < nch; k++) {
    uint32_t c = m->ch_list[k];
    unsigned __int128 num = (unsigned __int128)m->ch_k[c] << 62;
    uint64_t q = (uint64_t)((num + cut / 2) / cut); /* <= 2^62 */
    int64_t *r = m->st + (size_t)c * A_COUNT;
    r[A_LIN_HI] += (int64_t)(q >> LIN_LO_BITS);
    r[A_LIN_LO] += (int64_t)(q & ((UINT64_C(1) << LIN_LO_BITS) - 1));
    m->ch_k[c] = 0;
  }
}

/* Over the channel sequence of the pre-target journey (repeats kept):
 * Markov transition counts for everyone; first, last and linear credit for
 * y = 1. */
static void attribution_add(void *self, const PcJourneyView *jv) {
  Attribution *m = self;
  const PcEvent *ev = jv->j->ev;
  size_t cut = jv->cut, W = (size_t)m->C + 2, prev = 0; /* row 0 = '^' */
  int64_t *mk = m->st + m->off_markov;
  for (size_t i = 0; i < cut; i++) {
    mk[prev * W + ev[i].channel]++;
    prev = 1 + (size_t)ev[i].channel;
  }
  mk[prev * W + (jv->y ? m->C : m->C + 1)]++;
  if (!jv->y || cut == 0) return;
  m->st[(size_t)ev[0].channel * A_COUNT + A_FIRST]++;
  m->st[(size_t)ev[cut - 1].channel * A_COUNT + A_LAST]++;
  if (cut > LINMAX) {
    add_linear_long(m, ev, cut);
    return;
  }
  for (size_t i = 0; i < cut; i++)
    m->st[m->off_lin + (size_t)ev[i].channel * LINMAX + cut - 1]++;
}

static void attribution_merge(void *dst, void *src) {
  Attribution *d = dst;
  pc_stats_add_i64(d->st, ((Attribution *)src)->st, d->len);
}

static gboolean attribution_reduce(void *self, const PcModuleEnv *env,
                                   GError **error) {
  Attribution *m = self;
  return env->ops->sum_i64(env->ops->ctx, m->st, m->len, error);
}

/* ---- Table ---- */

static double linear_credit(const Attribution *m, guint c) {
  const int64_t *lin = m->st + m->off_lin + (size_t)c * LINMAX;
  const int64_t *r = m->st + (size_t)c * A_COUNT;
  double s = 0;
  for (guint len = 1; len <= LINMAX; len++)
    if (lin[len - 1]) s += (double)lin[len - 1] / len;
  s += ldexp((double)r[A_LIN_HI], LIN_LO_BITS - 62);
  s += ldexp((double)r[A_LIN_LO], -62);
  return s;
}

/* Removal effect per kept channel (nan when P(conv) = 0); the sum. */
static double markov_effects(const Attribution *m, const PcNames *nm,
                             double *eff) {
  return pc_markov_effects(m->st + m->off_markov, m->C, 1, nm->channel_kept,
                           eff);
}

static gboolean attribution_tables(void *self, const PcModuleEnv *env,
                                   PcOutputs *out, GError **error) {
  static const char *const cols[] = {
      "channel:string", "first_touch:int", "last_touch:int", "linear:double",
      "markov_removal_effect:double", "markov_share:double",
      "markov_conversions:double"};
  Attribution *m = self;
  const PcNames *nm = env->names;
  PcTable *t = pc_table_new("attribution", cols, 7);
  g_autofree double *eff = g_new0(double, m->C + 1);
  double total = markov_effects(m, nm, eff);
  for (guint c = 0; c < m->C; c++) {
    if (nm->channel_kept && !nm->channel_kept[c]) continue;
    const int64_t *r = m->st + (size_t)c * A_COUNT;
    double share = pc_stats_ratio(eff[c], total);
    pc_table_add_row(t);
    pc_table_set_string(t, 0, nm->channels->names[c]);
    pc_table_set_int(t, 1, r[A_FIRST]);
    pc_table_set_int(t, 2, r[A_LAST]);
    pc_table_set_double(t, 3, linear_credit(m, c));
    pc_table_set_double(t, 4, eff[c]);
    pc_table_set_double(t, 5, share);
    pc_table_set_double(t, 6, share * (double)env->facts->customers_with_outcome);
  }
  pc_outputs_add(out, t);
  return TRUE;
}

/* Per thread: the counters and the (C+1) x (C+2) Markov counts; on rank 0
 * the dense solve of up to C+1 unknowns. */
static uint64_t attribution_memory(const PcModuleEnv *env, int threads,
                                   uint64_t customers) {
  uint64_t C = (uint64_t)env->names->channels->n;
  uint64_t state = C * (A_COUNT + LINMAX) + (C + 1) * (C + 2);
  return (uint64_t)threads * 8 * state + 8 * (C + 1) * (C + 2);
}

const PcModule pc_module_attribution = {
    .name = "attribution",
    .enabled = attribution_enabled,
    .create = attribution_create,
    .add = attribution_add,
    .merge = attribution_merge,
    .reduce = attribution_reduce,
    .tables = attribution_tables,
    .destroy = attribution_destroy,
    .memory = attribution_memory,
};
