/* synth.c - the synthetic omnichannel world of `parcours generate`:
 * construction of PcSynth (thresholds and quantile tables from the planted
 * numbers of synth_world.c) and per-customer journey generation.
 *
 * Owns PcSynth (read-only after pc_synth_new). Does not own the planted
 * values (synth_world.c), the truth document (synth_truth.c), where
 * customers go (HDF5, CSV: src/store/generate.c) nor which rank makes which
 * customer: no MPI, no HDF5, no I/O.
 *
 * Determinism: customer k is drawn from its own xoshiro256** stream seeded by
 * SplitMix64 from key(seed, k) (counter-based: no state shared between
 * customers), so any rank, thread or call order gives the same bytes.
 *
 * Speed: a customer costs a few table look-ups; per event there are one to
 * three RNG draws, integer threshold compares and a piecewise-linear
 * quantile table for gaps and amounts. libm is used only in pc_synth_new.
 *
 * Planted truth, by construction: the flagged episodes (service issues,
 * disputes, IVR failures, fee waivers) are present or not independently of
 * each other and of the journey length; filler sessions (browse, account,
 * offers) depend on the length only; churn depends on the two driver flags
 * only. So every non-driver event is exactly independent of churn, and the
 * drivers' odds multipliers are the true conditional ones.
 *
 * Invariants: events strictly increasing in time within [from, to); churn,
 * when drawn, is the last event; n <= PC_SYNTH_MAX_EVENTS.
 */
#include "synth_int.h"
#include "pc_time.h"

#include <math.h>

/* ---- Private types ------------------------------------------------------------ */

typedef struct {
  uint64_t s0, s1, s2, s3;
} SynthRng;

/* One customer's generation state. t is the offset of the last event from
 * the journey start, in µs, before placement in the range. */
typedef struct {
  const PcSynth *s;
  SynthRng rng;
  PcSynthEvent *ev;
  size_t n;
  int64_t t;
  uint64_t inter_q16; /* inter-session gap scale, 16.16 fixed point */
} Gen;

typedef struct {
  uint32_t pos;  /* filler events before it */
  uint8_t kind;  /* EP_* */
} Slot;


/* ---- Private prototypes --------------------------------------------------------- */

static uint64_t synth_mix64(uint64_t z);
static void synth_rng_seed(SynthRng *r, uint64_t seed, uint64_t k);
static void synth_init_tables(PcSynth *s);
static void synth_init_length(PcSynth *s);
static void synth_init_scale(PcSynth *s);
static void synth_write_id(const PcSynth *s, uint64_t k, PcSynthCustomer *out);
static void synth_profile(Gen *g, PcSynthCustomer *out);
static unsigned synth_length(Gen *g);
static unsigned synth_plan_flagged(Gen *g, unsigned len, Slot *slots,
                                   unsigned *flags);
static unsigned synth_filler(Gen *g, unsigned budget);
static void synth_flagged(Gen *g, unsigned kind);
static void synth_place_slots(Gen *g, Slot *slots, unsigned n, unsigned budget);
static void synth_place(Gen *g);

/* ---- RNG ------------------------------------------------------------------- */

/* SplitMix64 finalizer: a bijection with full avalanche. */
static uint64_t synth_mix64(uint64_t z) {
  z += UINT64_C(0x9E3779B97F4A7C15);
  z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
  return z ^ (z >> 31);
}

/* key = mix(mix(seed) ^ k) is distinct for distinct k (mix is a bijection);
 * the four words come from SplitMix64 steps on the key, as the xoshiro
 * authors recommend. Streams of 2^256 period never meet in practice. */
static void synth_rng_seed(SynthRng *r, uint64_t seed, uint64_t k) {
  uint64_t key = synth_mix64(synth_mix64(seed) ^ k);
  const uint64_t gamma = UINT64_C(0x9E3779B97F4A7C15);
  r->s0 = synth_mix64(key);
  r->s1 = synth_mix64(key + gamma);
  r->s2 = synth_mix64(key + 2 * gamma);
  r->s3 = synth_mix64(key + 3 * gamma);
}

static inline uint64_t synth_rotl(uint64_t x, int b) {
  return (x << b) | (x >> (64 - b));
}

/* xoshiro256** (Blackman, Vigna). */
static inline uint64_t rng_next(SynthRng *r) {
  uint64_t res = synth_rotl(r->s1 * 5, 7) * 9;
  uint64_t t = r->s1 << 17;
  r->s2 ^= r->s0;
  r->s3 ^= r->s1;
  r->s1 ^= r->s2;
  r->s0 ^= r->s3;
  r->s2 ^= t;
  r->s3 = synth_rotl(r->s3, 45);
  return res;
}

static inline uint32_t rng_u32(SynthRng *r) { return (uint32_t)(rng_next(r) >> 32); }

/* Uniform in [0, n) by multiply-shift (bias < n / 2^32, n < 2^32). */
static inline uint32_t rng_below(SynthRng *r, uint32_t n) {
  return (uint32_t)(((uint64_t)rng_u32(r) * n) >> 32);
}

static inline unsigned choice_pick(const ChoiceT *c, uint32_t u) {
  unsigned i = 0;
  while (i + 1 < c->n && u >= c->cum[i]) i++;
  return c->what[i];
}

/* Piecewise-linear inverse CDF: the top 8 bits pick a segment, the next 24
 * interpolate (24 bits keep (hi - lo) * frac inside 64 bits). */
static inline int64_t q_sample(const int64_t *q, uint64_t r) {
  unsigned i = (unsigned)(r >> 56);
  uint64_t frac = (r >> 32) & 0xFFFFFF;
  return q[i] + (int64_t)(((uint64_t)(q[i + 1] - q[i]) * frac) >> 24);
}

/* ---- Construction ------------------------------------------------------------ */

static uint32_t p32(double p) {
  if (p <= 0) return 0;
  if (p >= 1) return UINT32_MAX;
  return (uint32_t)(p * 4294967296.0);
}

static ChoiceT choice_t(const Choice *c) {
  ChoiceT t = {c->n, {0}, {0}};
  double cum = 0;
  for (unsigned i = 0; i < c->n; i++) {
    cum += c->p[i];
    t.what[i] = c->what[i];
    t.cum[i] = p32(cum);
  }
  return t;
}

/* Log-uniform quantiles of [lo, hi] at i / Q_N. */
static void q_log_uniform(int64_t *q, double lo, double hi, double unit) {
  for (unsigned i = 0; i <= Q_N; i++)
    q[i] = (int64_t)llround(lo * pow(hi / lo, (double)i / Q_N) * unit);
}

static void synth_init_tables(PcSynth *s) {
  s->browse = choice_t(&synth_browse_choice);
  s->account = choice_t(&synth_account_choice);
  s->offer = choice_t(&synth_offer_choice);
  s->issue = choice_t(&synth_issue_choice);
  s->dispute = choice_t(&synth_dispute_choice);
  s->waiver = choice_t(&synth_waiver_choice);
  s->survey = choice_t(&synth_survey_choice);
  s->churn = choice_t(&synth_churn_choice);
  Choice fill = {FILL_N, {FILL_BROWSE, FILL_ACCOUNT, FILL_OFFER},
                 {synth_fill_p[0], synth_fill_p[1], synth_fill_p[2]}};
  s->fill = choice_t(&fill);
  for (unsigned i = 0; i < 3; i++) {
    const Funnel *f = &synth_funnel_p[i];
    s->funnel[i] = (FunnelT){f->ch, p32(f->view), p32(f->more_view),
                             p32(f->cart), p32(f->checkout), p32(f->purchase)};
  }
  s->p_password = p32(P_PASSWORD_RESET);
  s->p_payment = p32(P_PAYMENT);
  s->p_issue_agent = p32(P_ISSUE_AGENT);
  s->p_dispute_agent = p32(P_DISPUTE_AGENT);
  s->p_ivr_agent = p32(P_IVR_AGENT);
  s->p_nps = p32(P_NPS_RESPONSE);
  for (unsigned c = 0; c < CH_N; c++) {
    s->offer_signup[c] = p32(synth_offer_signup_p[c]);
    uint32_t cum = 0;
    for (unsigned v = 0; v <= 10; v++) s->nps_cum[c][v] = cum += synth_nps_pmf[c][v];
  }
  for (unsigned e = 0; e < EP_N; e++) s->flagged[e] = p32(synth_episodes[e].prevalence);
  s->segment_business = p32(synth_segments[0].share);
  double base_odds = CHURN_BASE_RATE / (1 - CHURN_BASE_RATE);
  for (unsigned b = 0; b < 4; b++) {
    double odds = base_odds;
    for (unsigned d = 0; d < 2; d++)
      if (b & (1u << d)) odds *= synth_episodes[synth_driver_ep[d]].odds_multiplier;
    s->churn53[b] = (uint64_t)(odds / (1 + odds) * 9007199254740992.0);
  }
  q_log_uniform(s->intra_q, GAP_INTRA_MIN_S, GAP_INTRA_MAX_S, 1e6);
  q_log_uniform(s->inter_q, GAP_INTER_MIN_S, GAP_INTER_MAX_S, 1e6);
  q_log_uniform(s->amount_q, AMOUNT_MIN_CENTS, AMOUNT_MAX_CENTS, 1);
}

static double ln_cdf(double x) {
  if (x <= 0) return 0;
  return 0.5 * erfc(-(log(x) - LEN_LN_MU) / (LEN_LN_SIGMA * 1.4142135623730951));
}

/* P(Pareto >= x), x >= 0. */
static double pareto_sf(double x) {
  return x <= LEN_PARETO_XM ? 1.0 : pow(LEN_PARETO_XM / x, LEN_PARETO_ALPHA);
}

/* Target length L in 1..LEN_CAP: with LEN_LN_SHARE max(1, round(X)), X
 * log-normal; else floor(Y), Y Pareto; the mixture truncated to the cap and
 * renormalized. Stored as a 53-bit CDF with a guide table. */
static void synth_init_length(PcSynth *s) {
  double pmf[LEN_CAP + 1], total = 0, mean = 0;
  pmf[0] = 0;
  for (unsigned l = 1; l <= LEN_CAP; l++) {
    double ln = l == 1 ? ln_cdf(1.5) : ln_cdf(l + 0.5) - ln_cdf(l - 0.5);
    double pa = pareto_sf(l) - pareto_sf(l + 1);
    pmf[l] = LEN_LN_SHARE * ln + (1 - LEN_LN_SHARE) * pa;
    total += pmf[l];
  }
  double cum = 0;
  s->len_cum[0] = 0;
  for (unsigned l = 1; l <= LEN_CAP; l++) {
    cum += pmf[l] / total;
    mean += l * pmf[l] / total;
    s->len_cum[l] = (uint64_t)(cum * 9007199254740992.0);
  }
  s->len_cum[LEN_CAP] = UINT64_C(1) << 53;
  s->len_mean = mean;
  unsigned l = 1;
  for (unsigned b = 0; b < LEN_GUIDE; b++) {
    uint64_t lo = (uint64_t)b << (53 - 12); /* LEN_GUIDE = 2^12 */
    while (s->len_cum[l] <= lo) l++;
    s->len_guide[b] = (uint16_t)l;
  }
}

/* Inter-session gaps are scaled down for long journeys so that a journey of
 * L events fills about SPAN_USE of the range at most; placement compresses
 * whatever still overflows. */
static void synth_init_scale(PcSynth *s) {
  double sum = 0;
  for (unsigned i = 0; i < Q_N; i++)
    sum += 0.5 * (double)(s->inter_q[i] + s->inter_q[i + 1]);
  s->inter_mean_us = sum / Q_N;
  double span = (double)(s->to_us - s->from_us);
  double lf = SPAN_USE * span / s->inter_mean_us * EVENTS_PER_EPISODE;
  s->len_free = lf < 1 ? 1 : (uint64_t)lf;
}

PcSynth *pc_synth_new(uint64_t seed, uint64_t n_customers) {
  PcSynth *s = g_new0(PcSynth, 1);
  s->seed = seed;
  s->n_customers = n_customers;
  s->from_us = PC_SYNTH_DEFAULT_FROM_US;
  s->to_us = PC_SYNTH_DEFAULT_TO_US;
  unsigned w = 1;
  for (uint64_t m = n_customers > 0 ? n_customers - 1 : 0; m >= 10; m /= 10) w++;
  s->id_width = w < 9 ? 9 : w;
  synth_init_tables(s);
  synth_init_length(s);
  synth_init_scale(s);
  return s;
}

void pc_synth_free(PcSynth *s) { g_free(s); }

gboolean pc_synth_set_range(PcSynth *s, int64_t from_us, int64_t to_us,
                            GError **error) {
  g_return_val_if_fail(s != NULL, FALSE);
  if (to_us <= from_us || (uint64_t)to_us - (uint64_t)from_us < (uint64_t)PC_SYNTH_MIN_RANGE_US) {
    pc_set_error(error, PC_ERROR_CONFIG,
                 "generate: the time range must span at least one day "
                 "(from %" G_GINT64_FORMAT " to %" G_GINT64_FORMAT " us)",
                 from_us, to_us);
    return FALSE;
  }
  s->from_us = from_us;
  s->to_us = to_us;
  synth_init_scale(s);
  return TRUE;
}

void pc_synth_set_month(PcSynth *s, guint month) {
  g_return_if_fail(s != NULL && month >= 1 && month <= PC_SYNTH_MAX_MONTH);
  int64_t m = MONTH_ONE_INDEX + (int64_t)month - 1;
  gboolean ok = pc_synth_set_range(s, pc_time_period_start(m, PC_PERIOD_MONTH),
                                   pc_time_period_start(m + 1, PC_PERIOD_MONTH), NULL);
  g_assert(ok); /* a month is longer than a day */
  s->month = month;
  double p = synth_offer_signup_p[MONTH_CHANGE_CH] + (month >= 2 ? MONTH_CHANGE_LIFT : 0);
  s->offer_signup[MONTH_CHANGE_CH] = p32(p);
}

const char *const *pc_synth_channels(guint *n) {
  *n = CH_N;
  return synth_channel_names;
}

const char *const *pc_synth_events(guint *n) {
  *n = EV_N;
  return synth_event_names;
}

/* ---- Emitting events ---------------------------------------------------------- */

static inline void gen_emit(Gen *g, unsigned ch, unsigned ev, int64_t value) {
  PcSynthEvent *e = &g->ev[g->n++];
  e->ts_us = g->t;
  e->value = value;
  e->channel = (uint16_t)ch;
  e->event = (uint16_t)ev;
}

/* Gap before the next event of the same session. */
static inline void gen_gap_intra(Gen *g) {
  g->t += q_sample(g->s->intra_q, rng_next(&g->rng));
}

/* Gap before a new session (none before the first event). */
static inline void gen_gap_inter(Gen *g) {
  if (g->n == 0) return;
  int64_t gap = q_sample(g->s->inter_q, rng_next(&g->rng));
  gap = (int64_t)(((uint64_t)gap * g->inter_q16) >> 16);
  g->t += gap > 0 ? gap : 1;
}

static inline int gen_bern(Gen *g, uint32_t thr) { return rng_u32(&g->rng) < thr; }

/* visit -> product_view+ -> add_to_cart -> checkout -> purchase, cut at
 * budget events (a journey may end mid-funnel). Returns events emitted. */
static unsigned synth_browse(Gen *g, unsigned budget) {
  const PcSynth *s = g->s;
  unsigned ch = choice_pick(&s->browse, rng_u32(&g->rng));
  const FunnelT *f = &s->funnel[ch == CH_WEB ? 0 : ch == CH_APP ? 1 : 2];
  gen_gap_inter(g);
  gen_emit(g, ch, EV_VISIT, 0);
  unsigned k = 1;
  if (k >= budget || !gen_bern(g, f->view)) return k;
  for (unsigned v = 0; v < VIEWS_MAX && k < budget; v++) {
    gen_gap_intra(g);
    gen_emit(g, ch, EV_PRODUCT_VIEW, 0);
    k++;
    if (!gen_bern(g, f->more_view)) break;
  }
  if (k >= budget || !gen_bern(g, f->cart)) return k;
  gen_gap_intra(g);
  gen_emit(g, ch, EV_ADD_TO_CART, 0);
  if (++k >= budget || !gen_bern(g, f->checkout)) return k;
  gen_gap_intra(g);
  gen_emit(g, ch, EV_CHECKOUT, 0);
  if (++k >= budget || !gen_bern(g, f->purchase)) return k;
  gen_gap_intra(g);
  int64_t cents = q_sample(s->amount_q, rng_next(&g->rng));
  gen_emit(g, ch, EV_PURCHASE, cents * 10000);
  return k + 1;
}

/* [password_reset ->] login [-> payment]. */
static unsigned synth_account(Gen *g, unsigned budget) {
  const PcSynth *s = g->s;
  unsigned ch = choice_pick(&s->account, rng_u32(&g->rng));
  unsigned k = 0;
  gen_gap_inter(g);
  if (budget >= 2 && gen_bern(g, s->p_password)) {
    gen_emit(g, ch, EV_PASSWORD_RESET, 0);
    gen_gap_intra(g);
    k++;
  }
  gen_emit(g, ch, EV_LOGIN, 0);
  if (++k >= budget || !gen_bern(g, s->p_payment)) return k;
  gen_gap_intra(g);
  gen_emit(g, ch, EV_PAYMENT, 0);
  return k + 1;
}

/* offer_sent [-> offer_signup]. Never cut, so that the planted sign-up rate
 * holds exactly: may exceed the budget by one event. */
static unsigned synth_offer(Gen *g) {
  const PcSynth *s = g->s;
  unsigned ch = choice_pick(&s->offer, rng_u32(&g->rng));
  gen_gap_inter(g);
  gen_emit(g, ch, EV_OFFER_SENT, 0);
  if (!gen_bern(g, s->offer_signup[ch])) return 1;
  gen_gap_intra(g);
  gen_emit(g, synth_offer_signup_ch[ch], EV_OFFER_SIGNUP, 0);
  return 2;
}

/* One filler session of at most budget (>= 1) events (+1 for an offer). */
static unsigned synth_filler(Gen *g, unsigned budget) {
  switch (choice_pick(&g->s->fill, rng_u32(&g->rng))) {
    case FILL_BROWSE: return synth_browse(g, budget);
    case FILL_ACCOUNT: return synth_account(g, budget);
    default: return synth_offer(g);
  }
}

/* A flagged episode: at most 2 events. */
static void synth_flagged(Gen *g, unsigned kind) {
  const PcSynth *s = g->s;
  unsigned ch, ev = synth_episodes[kind].event;
  gen_gap_inter(g);
  switch (kind) {
    case EP_IVR:
      gen_emit(g, CH_IVR, EV_IVR_FAILURE, 0);
      if (!gen_bern(g, s->p_ivr_agent)) return;
      gen_gap_intra(g);
      gen_emit(g, CH_CALL, EV_CALL_AGENT, 0);
      return;
    case EP_FEE_WAIVER: {
      ch = choice_pick(&s->waiver, rng_u32(&g->rng));
      gen_emit(g, ch, EV_FEE_WAIVER, 0);
      if (!gen_bern(g, s->p_nps)) return;
      uint32_t u = rng_below(&g->rng, 1000);
      unsigned score = 0;
      while (u >= s->nps_cum[ch][score]) score++;
      gen_gap_intra(g);
      gen_emit(g, choice_pick(&s->survey, rng_u32(&g->rng)), EV_NPS,
               (int64_t)score * MICROS);
      return;
    }
    case EP_DISPUTE:
      ch = choice_pick(&s->dispute, rng_u32(&g->rng));
      gen_emit(g, ch, ev, 0);
      if (ch != CH_CALL || !gen_bern(g, s->p_dispute_agent)) return;
      gen_gap_intra(g);
      gen_emit(g, CH_CALL, EV_CALL_AGENT, 0);
      return;
    default: /* the frequent service issues */
      ch = choice_pick(&s->issue, rng_u32(&g->rng));
      gen_emit(g, ch, ev, 0);
      if (ch != CH_CALL || !gen_bern(g, s->p_issue_agent)) return;
      gen_gap_intra(g);
      gen_emit(g, CH_CALL, EV_CALL_AGENT, 0);
      return;
  }
}

/* ---- One customer ------------------------------------------------------------- */

static void synth_write_id(const PcSynth *s, uint64_t k, PcSynthCustomer *out) {
  unsigned w = s->id_width;
  out->id[0] = 'c';
  for (unsigned i = w; i >= 1; i--) {
    out->id[i] = (char)('0' + k % 10);
    k /= 10;
  }
  out->id[w + 1] = '\0';
  out->id_len = w + 1;
}

uint32_t pc_synth_id(const PcSynth *s, uint64_t k, char id[24]) {
  PcSynthCustomer c;
  synth_write_id(s, k, &c);
  memcpy(id, c.id, c.id_len + 1);
  return c.id_len;
}

static void synth_profile(Gen *g, PcSynthCustomer *out) {
  const Segment *seg = &synth_segments[rng_u32(&g->rng) >= g->s->segment_business];
  uint32_t cents = seg->lo_cents + rng_below(&g->rng, seg->hi_cents - seg->lo_cents + 1);
  out->segment = seg->name;
  out->revenue = (int64_t)cents * 10000;
}

static unsigned synth_length(Gen *g) {
  uint64_t u = rng_next(&g->rng) >> 11;
  unsigned l = g->s->len_guide[u >> (53 - 12)];
  while (u >= g->s->len_cum[l]) l++;
  return l;
}

/* Draws which flagged episodes the customer has (bit per EP_*) and how many
 * of each: presence is independent of len, repeats grow with it. */
static unsigned synth_plan_flagged(Gen *g, unsigned len, Slot *slots,
                                   unsigned *flags) {
  unsigned n = 0;
  *flags = 0;
  for (unsigned e = 0; e < EP_N; e++) {
    if (!gen_bern(g, g->s->flagged[e])) continue;
    *flags |= 1u << e;
    unsigned cnt = 1;
    if (len >= EXTRA_EVERY) {
      unsigned extra = rng_below(&g->rng, len / EXTRA_EVERY + 1);
      cnt += extra < EXTRA_MAX ? extra : EXTRA_MAX;
    }
    while (cnt--) slots[n++].kind = (uint8_t)e;
  }
  return n;
}

/* Random filler position per flagged episode, then sort (few slots). */
static void synth_place_slots(Gen *g, Slot *slots, unsigned n, unsigned budget) {
  for (unsigned i = 0; i < n; i++)
    slots[i].pos = rng_below(&g->rng, budget + 1);
  for (unsigned i = 1; i < n; i++) {
    Slot x = slots[i];
    unsigned j = i;
    for (; j > 0 && slots[j - 1].pos > x.pos; j--) slots[j] = slots[j - 1];
    slots[j] = x;
  }
}

/* Moves the journey (offsets from 0) into [from, to): a uniform start, after
 * compressing a journey too long for the range (then + i keeps the times
 * strictly increasing). */
static void synth_place(Gen *g) {
  int64_t span = g->s->to_us - g->s->from_us;
  int64_t n = (int64_t)g->n;
  int64_t total = g->ev[n - 1].ts_us;
  if (total > span - n - 1) {
    double f = (double)(span - 2 * n) / (double)total;
    for (int64_t i = 0; i < n; i++)
      g->ev[i].ts_us = (int64_t)((double)g->ev[i].ts_us * f) + i;
    total = g->ev[n - 1].ts_us;
  }
  int64_t start = g->s->from_us + (int64_t)(rng_next(&g->rng) % (uint64_t)(span - total));
  for (int64_t i = 0; i < n; i++) g->ev[i].ts_us += start;
}

void pc_synth_customer(const PcSynth *s, uint64_t k, PcSynthCustomer *out) {
  g_return_if_fail(s != NULL && out != NULL && k < s->n_customers);
  if (out->cap < PC_SYNTH_MAX_EVENTS) {
    out->ev = g_renew(PcSynthEvent, out->ev, PC_SYNTH_MAX_EVENTS);
    out->cap = PC_SYNTH_MAX_EVENTS;
  }
  Gen g = {.s = s, .ev = out->ev, .n = 0, .t = 0, .inter_q16 = 65536};
  synth_rng_seed(&g.rng, s->seed, k);
  synth_write_id(s, k, out);
  synth_profile(&g, out);
  unsigned len = synth_length(&g);
  if (len > s->len_free) g.inter_q16 = 65536 * s->len_free / len;
  Slot slots[EP_N * (1 + EXTRA_MAX)];
  unsigned flags, nslots = synth_plan_flagged(&g, len, slots, &flags);
  /* Filler does not shrink for flagged episodes: filler events then stay
   * independent of churn (no spurious protective visit/login). Only the
   * event cap may cut it (offer overshoot + churn = 2 more events). */
  unsigned room = DRAWN_MAX_EVENTS - 2 - 2 * nslots;
  unsigned budget = len < room ? len : room;
  synth_place_slots(&g, slots, nslots, budget);
  unsigned done = 0, j = 0;
  for (;;) {
    while (j < nslots && slots[j].pos <= done) synth_flagged(&g, slots[j++].kind);
    if (done >= budget) break;
    done += synth_filler(&g, budget - done);
  }
  unsigned drivers = 0;
  for (unsigned d = 0; d < 2; d++)
    if (flags & (1u << synth_driver_ep[d])) drivers |= 1u << d;
  if ((rng_next(&g.rng) >> 11) < s->churn53[drivers]) {
    gen_gap_inter(&g);
    gen_emit(&g, choice_pick(&s->churn, rng_u32(&g.rng)), EV_CHURN, 0);
  }
  g_assert(g.n >= 1 && g.n <= DRAWN_MAX_EVENTS);
  synth_place(&g);
  out->n = g.n;
  synth_plant(s, k, out);
}

void pc_synth_customer_clear(PcSynthCustomer *c) {
  g_free(c->ev);
  memset(c, 0, sizeof *c);
}

