/* synth_plant.c - the planted patterns of spec §16 and §17 in the synthetic
 * world, added to a customer after synth.c has drawn it, without changing
 * any event it drew (docs/generate.md, "Sequences and delays"):
 *
 *  - Escalated IVR failure: a customer whose first ivr_failure is followed
 *    at once by call_agent (the failure reached an agent) and who did not
 *    churn churns with probability ESC_CHURN more (a churn event appended
 *    after the journey). The sequence ivr_failure > call_agent then drives
 *    churn more than ivr_failure alone (whose customers include the
 *    unescalated ones) and than call_agent alone (which also follows the
 *    harmless issues).
 *  - Delays: a customer without an internet_issue (billing_issue) of its own
 *    gets one with probability DELAY_SHARE, INT_MIN_S..INT_MAX_S (days)
 *    (BILL_MIN_S..BILL_MAX_S: weeks) before its churn, or before the end of
 *    its journey plus a gap when it does not churn. Presence is decided
 *    without looking at churn, so both issues stay exactly independent of
 *    churn (harmless); among churners, the time from the first such issue
 *    to the churn is mostly the planted one.
 *
 * Owns the planted numbers and their truth.json section. Draws come from a
 * stream of its own, keyed by (seed, k) like the world's but salted, so the
 * drawn events are untouched and customer k stays a pure function of
 * (seed, k, range). No MPI, no HDF5, no I/O.
 *
 * Invariants kept: events strictly increasing in [from, to); churn, when
 * present, is the last event; at most PC_SYNTH_MAX_EVENTS events.
 */
#include "synth_int.h"

#define PLANT_SALT UINT64_C(0x5EED0F5E0E1CE5ED) /* the planted stream's key salt */
#define ESC_CHURN 0.35        /* extra churn after an escalated first IVR failure */
#define DELAY_SHARE 0.7       /* customers without the issue who get a planted one */
#define INT_MIN_S 86400.0     /* internet_issue: 1 .. 3 days before the churn */
#define INT_MAX_S 259200.0
#define BILL_MIN_S 1209600.0  /* billing_issue: 14 .. 28 days before the churn */
#define BILL_MAX_S 2419200.0
#define END_GAP_MIN_S 3600.0  /* non-churners: the journey's end plus 1 h .. 30 days */
#define END_GAP_MAX_S 2592000.0

typedef struct {
  uint64_t key, i;
} PlantRng;

/* The SplitMix64 finalizer: a bijection with full avalanche. */
static uint64_t plant_mix(uint64_t z) {
  z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
  return z ^ (z >> 31);
}

/* SplitMix64: the next output of the stream of key. */
static uint64_t plant_next(PlantRng *r) {
  return plant_mix(r->key + ++r->i * UINT64_C(0x9E3779B97F4A7C15));
}

/* Uniform in [0, 1) with 53 bits. */
static double plant_unit(PlantRng *r) {
  return (double)(plant_next(r) >> 11) / 9007199254740992.0;
}

/* Uniform in [lo, hi] seconds, as µs. */
static int64_t plant_span_us(PlantRng *r, double lo, double hi) {
  return (int64_t)((lo + (hi - lo) * plant_unit(r)) * 1e6);
}

static int has_event(const PcSynthCustomer *c, unsigned ev) {
  for (size_t i = 0; i < c->n; i++)
    if (c->ev[i].event == ev) return 1;
  return 0;
}

/* The first ivr_failure is followed at once by call_agent. */
static int escalated_ivr(const PcSynthCustomer *c) {
  for (size_t i = 0; i + 1 < c->n; i++)
    if (c->ev[i].event == EV_IVR_FAILURE) return c->ev[i + 1].event == EV_CALL_AGENT;
  return 0;
}

/* Inserts (ts, ch, ev) in time order at a free microsecond at or before ts
 * (and at or after from); nothing when there is none. */
static void insert_event(const PcSynth *s, PcSynthCustomer *c, int64_t ts,
                         unsigned ch, unsigned ev) {
  size_t p = 0;
  if (ts < s->from_us) ts = s->from_us;
  if (ts > s->to_us - 1) ts = s->to_us - 1;
  while (p < c->n && c->ev[p].ts_us < ts) p++;
  while (p < c->n && c->ev[p].ts_us == ts) { /* taken: step back */
    if (--ts < s->from_us || (p > 0 && c->ev[p - 1].ts_us >= ts)) return;
  }
  g_assert(c->n < PC_SYNTH_MAX_EVENTS);
  memmove(c->ev + p + 1, c->ev + p, (c->n - p) * sizeof *c->ev);
  c->ev[p] = (PcSynthEvent){ts, 0, (uint16_t)ch, (uint16_t)ev};
  c->n++;
}

/* The escalated-IVR churn, appended after the last event (before to).
 * Every draw is made first, so the stream's position never depends on the
 * customer. */
static void plant_churn(const PcSynth *s, PlantRng *r, PcSynthCustomer *c) {
  int64_t last = c->ev[c->n - 1].ts_us;
  double u = plant_unit(r);
  unsigned ch = plant_unit(r) < synth_churn_choice.p[0] ? CH_CALL : CH_WEB;
  int64_t ts = last + plant_span_us(r, END_GAP_MIN_S, END_GAP_MAX_S);
  if (c->ev[c->n - 1].event == EV_CHURN || !escalated_ivr(c) || u >= ESC_CHURN) return;
  if (ts >= s->to_us) ts = last + (s->to_us - 1 - last) / 2;
  if (ts <= last) return; /* the journey ends at the range's end */
  c->ev[c->n++] = (PcSynthEvent){ts, 0, (uint16_t)ch, EV_CHURN};
}

/* One planted issue ev, lo..hi seconds before the anchor. */
static void plant_delay(const PcSynth *s, PlantRng *r, PcSynthCustomer *c,
                        int64_t anchor, unsigned ev, double lo, double hi) {
  const Choice *ic = &synth_issue_choice;
  double u = plant_unit(r), v = plant_unit(r), cum = 0;
  int64_t before = plant_span_us(r, lo, hi);
  unsigned ch = ic->what[ic->n - 1];
  for (unsigned i = 0; i + 1 < ic->n; i++)
    if (v < (cum += ic->p[i])) {
      ch = ic->what[i];
      break;
    }
  if (has_event(c, ev) || u >= DELAY_SHARE) return;
  insert_event(s, c, anchor - before, ch, ev);
}

void synth_plant(const PcSynth *s, uint64_t k, PcSynthCustomer *c) {
  PlantRng r = {plant_mix(plant_mix(s->seed ^ PLANT_SALT) ^ k), 0};
  plant_churn(s, &r, c);
  int churned = c->ev[c->n - 1].event == EV_CHURN;
  int64_t end_gap = plant_span_us(&r, END_GAP_MIN_S, END_GAP_MAX_S);
  int64_t anchor = c->ev[c->n - 1].ts_us + (churned ? 0 : end_gap);
  plant_delay(s, &r, c, anchor, EV_INTERNET_ISSUE, INT_MIN_S, INT_MAX_S);
  plant_delay(s, &r, c, anchor, EV_BILLING_ISSUE, BILL_MIN_S, BILL_MAX_S);
}

/* ---- truth.json ---- */

static void truth_delay(JsonBuilder *b, unsigned ev, double lo, double hi) {
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "event");
  json_builder_add_string_value(b, synth_event_names[ev]);
  json_builder_set_member_name(b, "added_share");
  json_builder_add_double_value(b, DELAY_SHARE);
  json_builder_set_member_name(b, "min_s");
  json_builder_add_int_value(b, (gint64)lo);
  json_builder_set_member_name(b, "max_s");
  json_builder_add_int_value(b, (gint64)hi);
  json_builder_end_object(b);
}

double synth_churn_rate(gboolean with_plant) {
  double base_odds = CHURN_BASE_RATE / (1 - CHURN_BASE_RATE), rate = 0;
  unsigned ivr_bit = synth_driver_ep[0] == EP_IVR ? 0 : 1;
  for (unsigned b = 0; b < 4; b++) {
    double odds = base_odds, w = 1;
    for (unsigned d = 0; d < 2; d++) {
      const Flagged *f = &synth_episodes[synth_driver_ep[d]];
      int on = (b >> d) & 1;
      if (on) odds *= f->odds_multiplier;
      w *= on ? f->prevalence : 1 - f->prevalence;
    }
    double p = odds / (1 + odds);
    gboolean esc = with_plant && ((b >> ivr_bit) & 1);
    rate += w * (esc ? p + P_IVR_AGENT * (1 - p) * ESC_CHURN : p);
  }
  return rate;
}

void synth_plant_truth(JsonBuilder *b) {
  json_builder_set_member_name(b, "sequence");
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "path");
  json_builder_begin_array(b);
  json_builder_add_string_value(b, synth_event_names[EV_IVR_FAILURE]);
  json_builder_add_string_value(b, synth_event_names[EV_CALL_AGENT]);
  json_builder_end_array(b);
  json_builder_set_member_name(b, "extra_churn");
  json_builder_add_double_value(b, ESC_CHURN);
  json_builder_set_member_name(b, "expected_rate");
  char buf[G_ASCII_DTOSTR_BUF_SIZE]; /* 10 significant digits, as synth_truth.c */
  json_builder_add_double_value(b, g_ascii_strtod(g_ascii_formatd(buf, sizeof buf, "%.10g", synth_churn_rate(TRUE)), NULL));
  json_builder_set_member_name(b, "when");
  json_builder_add_string_value(b, "the first ivr_failure is followed at once by call_agent and the customer did not churn");
  json_builder_end_object(b);
  json_builder_set_member_name(b, "delays");
  json_builder_begin_array(b);
  truth_delay(b, EV_INTERNET_ISSUE, INT_MIN_S, INT_MAX_S);
  truth_delay(b, EV_BILLING_ISSUE, BILL_MIN_S, BILL_MAX_S);
  json_builder_end_array(b);
}
