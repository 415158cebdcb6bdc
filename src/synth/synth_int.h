/* synth_int.h - private to src/synth: the world of the generator (names,
 * planted numbers, their types) and the PcSynth struct, shared by synth.c
 * (customers), synth_world.c (the tables' values) and synth_truth.c (the
 * planted truth as JSON). Nothing outside src/synth includes it.
 *
 * Invariant: channel and event enums are in bytewise order of the names
 * (test_synth checks it), so an enum value is the id a sorted PcDict of the
 * names would give.
 */
#ifndef PC_SYNTH_INT_H
#define PC_SYNTH_INT_H

#include "pc_synth.h"

#include <json-glib/json-glib.h>

/* ---- The world: names ------------------------------------------------------ */

/* Enum order = bytewise order of the names (the test checks it). */
enum { CH_APP, CH_CALL, CH_CHAT, CH_EMAIL, CH_IVR, CH_SMS, CH_STORE, CH_WEB, CH_N };
extern const char *const synth_channel_names[CH_N + 1];

enum {
  EV_ADD_TO_CART, EV_BILLING_DISPUTE, EV_BILLING_ISSUE, EV_CALL_AGENT,
  EV_CHECKOUT, EV_CHURN, EV_FEE_WAIVER, EV_INTERNET_ISSUE, EV_IVR_FAILURE,
  EV_LOGIN, EV_NPS, EV_OFFER_SENT, EV_OFFER_SIGNUP, EV_PASSWORD_RESET,
  EV_PAYMENT, EV_PRODUCT_VIEW, EV_PURCHASE, EV_TV_ISSUE, EV_VISIT, EV_N
};
extern const char *const synth_event_names[EV_N + 1];

/* ---- The world: planted numbers (docs/generate.md mirrors them) ------------ */

#define MICROS INT64_C(1000000)
#define DRAWN_MAX_EVENTS 2000   /* events synth.c draws, churn included; the
                                 * planted patterns add up to 2 (synth_plant.c) */
#define LEN_CAP 1998            /* target length cap (filler events) */
#define LEN_LN_SHARE 0.95       /* mixture weight of the log-normal part */
#define LEN_LN_MU 1.55          /* ln-scale location */
#define LEN_LN_SIGMA 0.85       /* ln-scale spread */
#define LEN_PARETO_XM 12.0      /* Pareto scale (events) of the heavy users */
#define LEN_PARETO_ALPHA 1.25   /* Pareto tail index: infinite variance uncapped */
#define LEN_GUIDE 4096          /* guide-table buckets for length sampling */
#define Q_N 256                 /* quantile-table synth_segments (top 8 bits) */
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
extern const double synth_fill_p[FILL_N];

/* Purchase funnel per channel: P(step | previous step). */
typedef struct {
  uint8_t ch;
  double view, more_view, cart, checkout, purchase;
} Funnel;
extern const Choice synth_browse_choice;
extern const Funnel synth_funnel_p[3];

extern const Choice synth_account_choice;
#define P_PASSWORD_RESET 0.08   /* before a login */
#define P_PAYMENT 0.45          /* after a login */

/* Offers: sent on email/sms/app; sign-up rate per channel (sms planted best). */
extern const Choice synth_offer_choice;
extern const double synth_offer_signup_p[CH_N];
extern const uint8_t synth_offer_signup_ch[CH_N];
/* The planted month-over-month change (pc_synth_set_month): from month 2
 * on, the sign-up rate of this channel's offers rises by this much. */
#define MONTH_CHANGE_CH CH_SMS
#define MONTH_CHANGE_LIFT 0.06
#define MONTH_ONE_INDEX 672     /* calendar months since 1970-01 of 2026-01 */

/* Flagged episodes: present or not per customer, independently of each other
 * and of the journey length (so presence is unconfounded by length). */
enum { EP_BILLING_ISSUE, EP_TV_ISSUE, EP_INTERNET_ISSUE, EP_DISPUTE, EP_IVR,
       EP_FEE_WAIVER, EP_N };
typedef struct {
  uint8_t event;
  double prevalence;     /* P(customer has at least one) */
  double odds_multiplier; /* on the churn odds; 1 = harmless */
} Flagged;
extern const Flagged synth_episodes[EP_N];
/* Drivers by bit in the churn-threshold index. */
extern const uint8_t synth_driver_ep[2];

extern const Choice synth_issue_choice;
#define P_ISSUE_AGENT 0.60      /* an issue on call reaches an agent */
extern const Choice synth_dispute_choice;
#define P_DISPUTE_AGENT 0.80
#define P_IVR_AGENT 0.85        /* ivr_failure is followed by call_agent on call */

/* Fee waivers by app/chat/call, then an NPS survey by email/sms whose score
 * depends on the waiver channel (chat planted best). Per-mille pmf of 0..10. */
extern const Choice synth_waiver_choice;
#define P_NPS_RESPONSE 0.70
extern const Choice synth_survey_choice;
extern const uint16_t synth_nps_pmf[CH_N][11];

extern const Choice synth_churn_choice;

/* Segments: share and uniform monthly revenue range in cents. */
typedef struct {
  const char *name;
  double share;
  uint32_t lo_cents, hi_cents;
} Segment;
extern const Segment synth_segments[2];


/* ---- The precomputed world ------------------------------------------------------ */

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
  unsigned month;             /* pc_synth_set_month, 0: not a month world */
  uint64_t churn53[4];        /* by driver bits: u53 < churn53 churns */
};

/* ---- Planted patterns (synth_plant.c) ----------------------------------------- */

/* Adds the planted sequence and delay patterns to customer k as drawn by
 * synth.c (events already placed in the range). */
void synth_plant(const PcSynth *s, uint64_t k, PcSynthCustomer *c);
/* The planted patterns as the members "sequence" and "delays" of the
 * truth document being built. */
void synth_plant_truth(JsonBuilder *b);

/* The world's churn rate over the four combinations of the two drivers,
 * weighted by prevalence; with_plant adds the escalated-IVR churn of
 * synth_plant.c (customers with IVR: P(escalated first) x (1 - rate) x the
 * extra churn). */
double synth_churn_rate(gboolean with_plant);

#endif
