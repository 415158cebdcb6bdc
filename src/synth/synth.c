/* synth.c - the synthetic omnichannel world of `parcours generate`: the
 * static world tables, per-customer journey generation and the planted truth.
 *
 * Owns PcSynth (read-only after pc_synth_new: precomputed thresholds and
 * quantile tables) and the planted numbers. Does not own where customers go
 * (HDF5, CSV) nor which rank makes which customer: no MPI, no HDF5, no I/O.
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
#include "pc_synth.h"

#include <math.h>
#include <stdio.h>

/* ---- The world: names ------------------------------------------------------ */

/* Enum order = bytewise order of the names (the test checks it). */
enum { CH_APP, CH_CALL, CH_CHAT, CH_EMAIL, CH_IVR, CH_SMS, CH_STORE, CH_WEB, CH_N };
static const char *const channel_names[CH_N + 1] = {
    "app", "call", "chat", "email", "ivr", "sms", "store", "web", NULL};

enum {
  EV_ADD_TO_CART, EV_BILLING_DISPUTE, EV_BILLING_ISSUE, EV_CALL_AGENT,
  EV_CHECKOUT, EV_CHURN, EV_FEE_WAIVER, EV_INTERNET_ISSUE, EV_IVR_FAILURE,
  EV_LOGIN, EV_NPS, EV_OFFER_SENT, EV_OFFER_SIGNUP, EV_PASSWORD_RESET,
  EV_PAYMENT, EV_PRODUCT_VIEW, EV_PURCHASE, EV_TV_ISSUE, EV_VISIT, EV_N
};
static const char *const event_names[EV_N + 1] = {
    "add_to_cart", "billing_dispute", "billing_issue", "call_agent",
    "checkout", "churn", "fee_waiver_request", "internet_issue",
    "ivr_failure", "login", "nps_response", "offer_sent", "offer_signup",
    "password_reset", "payment", "product_view", "purchase", "tv_issue",
    "visit", NULL};

/* ---- The world: planted numbers (docs/generate.md mirrors them) ------------ */

#define MICROS INT64_C(1000000)
#define LEN_CAP 1998            /* target length cap (filler events) */
#define LEN_LN_SHARE 0.95       /* mixture weight of the log-normal part */
#define LEN_LN_MU 1.55          /* ln-scale location */
#define LEN_LN_SIGMA 0.85       /* ln-scale spread */
#define LEN_PARETO_XM 12.0      /* Pareto scale (events) of the heavy users */
#define LEN_PARETO_ALPHA 1.25   /* Pareto tail index: infinite variance uncapped */
#define LEN_GUIDE 4096          /* guide-table buckets for length sampling */
#define Q_N 256                 /* quantile-table segments (top 8 bits) */
#define EXTRA_EVERY 40          /* one more repeat of a flagged episode per 40 events */
#define EXTRA_MAX 10            /* repeats of one flagged episode beyond the first */
#define VIEWS_MAX 5             /* product views in one browse session */
#define EVENTS_PER_EPISODE 2.3  /* for the inter-session gap scale only */
#define SPAN_USE 0.5            /* share of the range an average journey may fill */

#define GAP_INTRA_MIN_S 5.0     /* in-session gaps: log-uniform 5 s .. 20 min, */
#define GAP_INTRA_MAX_S 1200.0  /* below the default path.session_gap (1800 s) */
#define GAP_INTER_MIN_S 3600.0  /* between sessions: log-uniform 1 h .. 30 days */
#define GAP_INTER_MAX_S 2592000.0
#define AMOUNT_MIN_CENTS 500.0  /* purchases: log-uniform 5.00 .. 500.00 */
#define AMOUNT_MAX_CENTS 50000.0

#define CHURN_BASE_RATE 0.05    /* churn probability without a driver event */

/* A categorical choice among up to 4 outcomes (channels). */
typedef struct {
  unsigned n;
  uint8_t what[4];
  double p[4];
} Choice;

/* Filler sessions, drawn until the journey has its target length. */
enum { FILL_BROWSE, FILL_ACCOUNT, FILL_OFFER, FILL_N };
static const double fill_p[FILL_N] = {0.62, 0.25, 0.13};

/* Purchase funnel per channel: P(step | previous step). */
typedef struct {
  uint8_t ch;
  double view, more_view, cart, checkout, purchase;
} Funnel;
static const Choice browse_choice = {3, {CH_WEB, CH_APP, CH_STORE}, {0.50, 0.35, 0.15}};
static const Funnel funnel_p[3] = {
    {CH_WEB, 0.70, 0.35, 0.35, 0.55, 0.75},
    {CH_APP, 0.75, 0.40, 0.45, 0.65, 0.85},
    {CH_STORE, 0.85, 0.30, 0.55, 0.80, 0.90},
};

static const Choice account_choice = {2, {CH_WEB, CH_APP}, {0.45, 0.55}};
#define P_PASSWORD_RESET 0.08   /* before a login */
#define P_PAYMENT 0.45          /* after a login */

/* Offers: sent on email/sms/app; sign-up rate per channel (sms planted best). */
static const Choice offer_choice = {3, {CH_APP, CH_EMAIL, CH_SMS}, {0.20, 0.50, 0.30}};
static const double offer_signup_p[CH_N] = {[CH_APP] = 0.07, [CH_EMAIL] = 0.03,
                                            [CH_SMS] = 0.11};
static const uint8_t offer_signup_ch[CH_N] = {[CH_APP] = CH_APP, [CH_EMAIL] = CH_WEB,
                                              [CH_SMS] = CH_WEB};

/* Flagged episodes: present or not per customer, independently of each other
 * and of the journey length (so presence is unconfounded by length). */
enum { EP_BILLING_ISSUE, EP_TV_ISSUE, EP_INTERNET_ISSUE, EP_DISPUTE, EP_IVR,
       EP_FEE_WAIVER, EP_N };
typedef struct {
  uint8_t event;
  double prevalence;     /* P(customer has at least one) */
  double odds_multiplier; /* on the churn odds; 1 = harmless */
} Flagged;
static const Flagged flagged[EP_N] = {
    [EP_BILLING_ISSUE] = {EV_BILLING_ISSUE, 0.30, 1.0},
    [EP_TV_ISSUE] = {EV_TV_ISSUE, 0.25, 1.0},
    [EP_INTERNET_ISSUE] = {EV_INTERNET_ISSUE, 0.28, 1.0},
    [EP_DISPUTE] = {EV_BILLING_DISPUTE, 0.07, 4.5},
    [EP_IVR] = {EV_IVR_FAILURE, 0.09, 3.0},
    [EP_FEE_WAIVER] = {EV_FEE_WAIVER, 0.12, 1.0},
};
/* Drivers by bit in the churn-threshold index. */
static const uint8_t driver_ep[2] = {EP_DISPUTE, EP_IVR};

static const Choice issue_choice = {4, {CH_CALL, CH_CHAT, CH_APP, CH_WEB},
                                    {0.35, 0.25, 0.20, 0.20}};
#define P_ISSUE_AGENT 0.60      /* an issue on call reaches an agent */
static const Choice dispute_choice = {2, {CH_CALL, CH_CHAT}, {0.70, 0.30}};
#define P_DISPUTE_AGENT 0.80
#define P_IVR_AGENT 0.85        /* ivr_failure is followed by call_agent on call */

/* Fee waivers by app/chat/call, then an NPS survey by email/sms whose score
 * depends on the waiver channel (chat planted best). Per-mille pmf of 0..10. */
static const Choice waiver_choice = {3, {CH_APP, CH_CALL, CH_CHAT}, {0.40, 0.30, 0.30}};
#define P_NPS_RESPONSE 0.70
static const Choice survey_choice = {2, {CH_EMAIL, CH_SMS}, {0.60, 0.40}};
static const uint16_t nps_pmf[CH_N][11] = {
    [CH_APP] = {20, 15, 20, 30, 40, 60, 90, 170, 220, 185, 150},
    [CH_CALL] = {60, 50, 60, 80, 90, 110, 130, 140, 120, 90, 70},
    [CH_CHAT] = {5, 5, 5, 10, 15, 20, 40, 90, 180, 300, 330},
};

static const Choice churn_choice = {2, {CH_CALL, CH_WEB}, {0.60, 0.40}};

/* Segments: share and uniform monthly revenue range in cents. */
typedef struct {
  const char *name;
  double share;
  uint32_t lo_cents, hi_cents;
} Segment;
static const Segment segments[2] = {
    {"consumer", 0.78, 2000, 12000},
    {"business", 0.22, 8000, 20000},
};

/* ---- Private types ------------------------------------------------------------ */

typedef struct {
  unsigned n;
  uint8_t what[4];
  uint32_t cum[4]; /* u32 < cum[i] picks what[i]; the last entry catches all */
} ChoiceT;

typedef struct {
  uint8_t ch;
  uint32_t view, more_view, cart, checkout, purchase;
} FunnelT;

struct PcSynth {
  uint64_t seed, n_customers;
  int64_t from_us, to_us;
  unsigned id_width;          /* decimal digits after the 'c' */
  uint64_t len_free;          /* target length up to which inter gaps are unscaled */
  double len_mean;            /* exact mean of the target length pmf */
  uint64_t len_cum[LEN_CAP + 1]; /* 53-bit CDF: L = min l with u53 < len_cum[l] */
  uint16_t len_guide[LEN_GUIDE];
  int64_t intra_q[Q_N + 1];   /* µs */
  int64_t inter_q[Q_N + 1];   /* µs */
  int64_t amount_q[Q_N + 1];  /* cents */
  double inter_mean_us;
  ChoiceT browse, account, offer, issue, dispute, waiver, survey, churn, fill;
  FunnelT funnel[3];
  uint32_t p_password, p_payment, p_issue_agent, p_dispute_agent, p_ivr_agent,
      p_nps;
  uint32_t offer_signup[CH_N];
  uint32_t flagged[EP_N];
  uint32_t nps_cum[CH_N][11]; /* per-mille cumulative */
  uint32_t segment_business;  /* u32 >= this: business */
  uint64_t churn53[4];        /* by driver bits: u53 < churn53 churns */
};

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
static double synth_nps_mean(unsigned ch, double *nps);
static void synth_write_id(const PcSynth *s, uint64_t k, PcSynthCustomer *out);
static void synth_profile(Gen *g, PcSynthCustomer *out);
static unsigned synth_length(Gen *g);
static unsigned synth_plan_flagged(Gen *g, unsigned len, Slot *slots,
                                   unsigned *flags);
static unsigned synth_filler(Gen *g, unsigned budget);
static void synth_flagged(Gen *g, unsigned kind);
static void synth_place_slots(Gen *g, Slot *slots, unsigned n, unsigned budget);
static void synth_place(Gen *g);
static void truth_churn(GString *j);
static void truth_nps(GString *j);
static void truth_offers(GString *j);
static void truth_funnel(GString *j);
static void truth_length(const PcSynth *s, GString *j);

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
  s->browse = choice_t(&browse_choice);
  s->account = choice_t(&account_choice);
  s->offer = choice_t(&offer_choice);
  s->issue = choice_t(&issue_choice);
  s->dispute = choice_t(&dispute_choice);
  s->waiver = choice_t(&waiver_choice);
  s->survey = choice_t(&survey_choice);
  s->churn = choice_t(&churn_choice);
  Choice fill = {FILL_N, {FILL_BROWSE, FILL_ACCOUNT, FILL_OFFER},
                 {fill_p[0], fill_p[1], fill_p[2]}};
  s->fill = choice_t(&fill);
  for (unsigned i = 0; i < 3; i++) {
    const Funnel *f = &funnel_p[i];
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
    s->offer_signup[c] = p32(offer_signup_p[c]);
    uint32_t cum = 0;
    for (unsigned v = 0; v <= 10; v++) s->nps_cum[c][v] = cum += nps_pmf[c][v];
  }
  for (unsigned e = 0; e < EP_N; e++) s->flagged[e] = p32(flagged[e].prevalence);
  s->segment_business = p32(segments[0].share);
  double base_odds = CHURN_BASE_RATE / (1 - CHURN_BASE_RATE);
  for (unsigned b = 0; b < 4; b++) {
    double odds = base_odds;
    for (unsigned d = 0; d < 2; d++)
      if (b & (1u << d)) odds *= flagged[driver_ep[d]].odds_multiplier;
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

const char *const *pc_synth_channels(guint *n) {
  *n = CH_N;
  return channel_names;
}

const char *const *pc_synth_events(guint *n) {
  *n = EV_N;
  return event_names;
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
  gen_emit(g, offer_signup_ch[ch], EV_OFFER_SIGNUP, 0);
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
  unsigned ch, ev = flagged[kind].event;
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

static void synth_profile(Gen *g, PcSynthCustomer *out) {
  const Segment *seg = &segments[rng_u32(&g->rng) >= g->s->segment_business];
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
  unsigned room = PC_SYNTH_MAX_EVENTS - 2 - 2 * nslots;
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
    if (flags & (1u << driver_ep[d])) drivers |= 1u << d;
  if ((rng_next(&g.rng) >> 11) < s->churn53[drivers]) {
    gen_gap_inter(&g);
    gen_emit(&g, choice_pick(&s->churn, rng_u32(&g.rng)), EV_CHURN, 0);
  }
  g_assert(g.n >= 1 && g.n <= PC_SYNTH_MAX_EVENTS);
  synth_place(&g);
  out->n = g.n;
}

void pc_synth_customer_clear(PcSynthCustomer *c) {
  g_free(c->ev);
  memset(c, 0, sizeof *c);
}

/* ---- Truth --------------------------------------------------------------------- */

/* Mean score and NPS (promoters 9-10 minus detractors 0-6, in %) of a pmf. */
static double synth_nps_mean(unsigned ch, double *nps) {
  double mean = 0, pro = 0, det = 0;
  for (unsigned v = 0; v <= 10; v++) {
    double p = nps_pmf[ch][v] / 1000.0;
    mean += v * p;
    if (v >= 9) pro += p;
    if (v <= 6) det += p;
  }
  *nps = 100 * (pro - det);
  return mean;
}

static void json_num(GString *j, double x) {
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  g_string_append(j, g_ascii_formatd(buf, sizeof buf, "%.10g", x));
}

static void json_time(GString *j, int64_t us) {
  int64_t sec = us >= 0 ? us / MICROS : -((-us + MICROS - 1) / MICROS);
  GDateTime *dt = g_date_time_new_from_unix_utc(sec);
  char *txt = dt ? g_date_time_format(dt, "%Y-%m-%dT%H:%M:%S") : g_strdup("?");
  g_string_append_printf(j, "\"%s", txt);
  if (us - sec * MICROS) g_string_append_printf(j, ".%06" G_GINT64_FORMAT, us - sec * MICROS);
  g_string_append(j, "Z\"");
  g_free(txt);
  if (dt) g_date_time_unref(dt);
}

static void json_names(GString *j, const char *key, const char *const *names) {
  g_string_append_printf(j, "  \"%s\": [", key);
  for (unsigned i = 0; names[i]; i++)
    g_string_append_printf(j, "%s\"%s\"", i ? ", " : "", names[i]);
  g_string_append(j, "],\n");
}

static void truth_churn(GString *j) {
  double base_odds = CHURN_BASE_RATE / (1 - CHURN_BASE_RATE), expected = 0;
  for (unsigned b = 0; b < 4; b++) {
    double odds = base_odds, w = 1;
    for (unsigned d = 0; d < 2; d++) {
      const Flagged *f = &flagged[driver_ep[d]];
      int on = (b >> d) & 1;
      if (on) odds *= f->odds_multiplier;
      w *= on ? f->prevalence : 1 - f->prevalence;
    }
    expected += w * odds / (1 + odds);
  }
  g_string_append(j, "  \"churn\": {\n    \"event\": \"churn\",\n    \"model\": "
                     "\"logit P(churn) = logit(base_rate) + sum of ln(odds_multiplier) "
                     "over the driver events the customer has\",\n    \"base_rate\": ");
  json_num(j, CHURN_BASE_RATE);
  g_string_append(j, ",\n    \"expected_rate\": ");
  json_num(j, expected);
  g_string_append(j, ",\n    \"channels\": {\"call\": ");
  json_num(j, churn_choice.p[0]);
  g_string_append(j, ", \"web\": ");
  json_num(j, churn_choice.p[1]);
  g_string_append(j, "},\n    \"drivers\": [");
  for (unsigned d = 0; d < 2; d++) {
    const Flagged *f = &flagged[driver_ep[d]];
    g_string_append_printf(j, "%s\n      {\"event\": \"%s\", \"odds_multiplier\": ",
                           d ? "," : "", event_names[f->event]);
    json_num(j, f->odds_multiplier);
    g_string_append(j, ", \"prevalence\": ");
    json_num(j, f->prevalence);
    g_string_append(j, "}");
  }
  g_string_append(j, "\n    ],\n    \"harmless_issues\": [");
  const unsigned harmless[3] = {EP_BILLING_ISSUE, EP_INTERNET_ISSUE, EP_TV_ISSUE};
  for (unsigned i = 0; i < 3; i++) {
    const Flagged *f = &flagged[harmless[i]];
    g_string_append_printf(j, "%s\n      {\"event\": \"%s\", \"odds_multiplier\": 1, "
                              "\"prevalence\": ", i ? "," : "", event_names[f->event]);
    json_num(j, f->prevalence);
    g_string_append(j, "}");
  }
  g_string_append(j, "\n    ]\n  },\n");
}

static void truth_nps(GString *j) {
  unsigned best = 0;
  double best_mean = -1, nps;
  for (unsigned i = 0; i < waiver_choice.n; i++) {
    double m = synth_nps_mean(waiver_choice.what[i], &nps);
    if (m > best_mean) best_mean = m, best = waiver_choice.what[i];
  }
  g_string_append_printf(j, "  \"nps\": {\n    \"event\": \"%s\",\n    \"trigger_event\": "
                            "\"%s\",\n    \"response_rate\": ",
                         event_names[EV_NPS], event_names[EV_FEE_WAIVER]);
  json_num(j, P_NPS_RESPONSE);
  g_string_append_printf(j, ",\n    \"best_channel\": \"%s\",\n    \"channels\": [",
                         channel_names[best]);
  for (unsigned c = 0, k = 0; c < CH_N; c++) {
    unsigned i = 0;
    while (i < waiver_choice.n && waiver_choice.what[i] != c) i++;
    if (i == waiver_choice.n) continue;
    double mean = synth_nps_mean(c, &nps);
    g_string_append_printf(j, "%s\n      {\"channel\": \"%s\", \"share\": ", k++ ? "," : "",
                           channel_names[c]);
    json_num(j, waiver_choice.p[i]);
    g_string_append(j, ", \"mean\": ");
    json_num(j, mean);
    g_string_append(j, ", \"nps\": ");
    json_num(j, nps);
    g_string_append(j, "}");
  }
  g_string_append(j, "\n    ]\n  },\n");
}

static void truth_offers(GString *j) {
  unsigned best = offer_choice.what[0];
  for (unsigned i = 1; i < offer_choice.n; i++)
    if (offer_signup_p[offer_choice.what[i]] > offer_signup_p[best]) best = offer_choice.what[i];
  g_string_append_printf(j, "  \"offers\": {\n    \"sent_event\": \"%s\",\n    "
                            "\"signup_event\": \"%s\",\n    \"best_channel\": \"%s\",\n"
                            "    \"channels\": [",
                         event_names[EV_OFFER_SENT], event_names[EV_OFFER_SIGNUP],
                         channel_names[best]);
  for (unsigned i = 0; i < offer_choice.n; i++) {
    unsigned c = offer_choice.what[i];
    g_string_append_printf(j, "%s\n      {\"channel\": \"%s\", \"share\": ", i ? "," : "",
                           channel_names[c]);
    json_num(j, offer_choice.p[i]);
    g_string_append(j, ", \"signup_rate\": ");
    json_num(j, offer_signup_p[c]);
    g_string_append_printf(j, ", \"signup_channel\": \"%s\"}", channel_names[offer_signup_ch[c]]);
  }
  g_string_append(j, "\n    ]\n  },\n");
}

static void truth_funnel(GString *j) {
  g_string_append(j, "  \"funnel\": {\n    \"steps\": [\"visit\", \"product_view\", "
                     "\"add_to_cart\", \"checkout\", \"purchase\"],\n    \"channels\": [");
  for (unsigned i = 0; i < 3; i++) {
    const Funnel *f = &funnel_p[i];
    g_string_append_printf(j, "%s\n      {\"channel\": \"%s\", \"share\": ", i ? "," : "",
                           channel_names[f->ch]);
    json_num(j, browse_choice.p[i]);
    const double p[4] = {f->view, f->cart, f->checkout, f->purchase};
    const char *k[4] = {"product_view", "add_to_cart", "checkout", "purchase"};
    for (unsigned s = 0; s < 4; s++) {
      g_string_append_printf(j, ", \"%s\": ", k[s]);
      json_num(j, p[s]);
    }
    g_string_append(j, "}");
  }
  g_string_append(j, "\n    ]\n  },\n");
}

static void truth_length(const PcSynth *s, GString *j) {
  g_string_append(j, "  \"length\": {\"lognormal_share\": ");
  json_num(j, LEN_LN_SHARE);
  g_string_append(j, ", \"lognormal_mu\": ");
  json_num(j, LEN_LN_MU);
  g_string_append(j, ", \"lognormal_sigma\": ");
  json_num(j, LEN_LN_SIGMA);
  g_string_append(j, ", \"pareto_xm\": ");
  json_num(j, LEN_PARETO_XM);
  g_string_append(j, ", \"pareto_alpha\": ");
  json_num(j, LEN_PARETO_ALPHA);
  g_string_append_printf(j, ", \"cap\": %d, \"max_events\": %d, \"mean_target\": ",
                         LEN_CAP, PC_SYNTH_MAX_EVENTS);
  json_num(j, s->len_mean);
  g_string_append(j, "},\n");
}

char *pc_synth_truth_json(const PcSynth *s) {
  g_return_val_if_fail(s != NULL, NULL);
  GString *j = g_string_new("{\n  \"generator\": \"parcours-synth/1\",\n");
  g_string_append_printf(j, "  \"seed\": %" G_GUINT64_FORMAT ",\n  \"customers\": %"
                            G_GUINT64_FORMAT ",\n  \"from\": ", s->seed, s->n_customers);
  json_time(j, s->from_us);
  g_string_append(j, ",\n  \"to\": ");
  json_time(j, s->to_us);
  g_string_append_printf(j, ",\n  \"from_us\": %" G_GINT64_FORMAT ",\n  \"to_us\": %"
                            G_GINT64_FORMAT ",\n", s->from_us, s->to_us);
  json_names(j, "channels", channel_names);
  json_names(j, "events", event_names);
  g_string_append(j, "  \"target_event\": \"churn\",\n");
  truth_churn(j);
  truth_nps(j);
  truth_offers(j);
  truth_funnel(j);
  truth_length(s, j);
  g_string_append(j, "  \"segments\": [");
  for (unsigned i = 0; i < 2; i++) {
    g_string_append_printf(j, "%s{\"segment\": \"%s\", \"share\": ", i ? ", " : "",
                           segments[i].name);
    json_num(j, segments[i].share);
    g_string_append_printf(j, ", \"revenue_min\": %u.%02u, \"revenue_max\": %u.%02u}",
                           segments[i].lo_cents / 100, segments[i].lo_cents % 100,
                           segments[i].hi_cents / 100, segments[i].hi_cents % 100);
  }
  g_string_append(j, "]\n}\n");
  return g_string_free(j, FALSE);
}
