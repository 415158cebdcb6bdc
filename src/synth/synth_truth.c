/* synth_truth.c - the planted truth of the synthetic world as a JSON
 * document (pc_synth_truth_json, docs/generate.md), built with json-glib.
 *
 * Owns the document's keys and their order. Does not own the numbers: they
 * are the planted values of synth_world.c and what follows from them
 * (expected churn rate, NPS means, the length mean of PcSynth). No I/O:
 * the caller writes the text to the store's truth file.
 *
 * Invariants: every number is the planted double rounded to 10 significant
 * digits (the precision the document has always had); a number that is
 * then integral is written as an integer ("odds_multiplier": 3), others as
 * doubles (json-glib prints 17 significant digits, which read back to the
 * same double); money (revenue) stays a decimal. Times use
 * pc_time_format_iso, fraction only when non-zero.
 */
#include "synth_int.h"

#include "pc_time.h"

#include <json-glib/json-glib.h>
#include <math.h>

/* ---- Numbers -------------------------------------------------------------------- */

/* x rounded to 10 significant digits. */
static double round10(double x) {
  char buf[G_ASCII_DTOSTR_BUF_SIZE];
  return g_ascii_strtod(g_ascii_formatd(buf, sizeof buf, "%.10g", x), NULL);
}

static void add_num(JsonBuilder *b, const char *key, double x) {
  double r = round10(x);
  json_builder_set_member_name(b, key);
  if (r == floor(r) && fabs(r) < 1e15) json_builder_add_int_value(b, (gint64)r);
  else json_builder_add_double_value(b, r);
}

static void add_str(JsonBuilder *b, const char *key, const char *s) {
  json_builder_set_member_name(b, key);
  json_builder_add_string_value(b, s);
}

static void add_int(JsonBuilder *b, const char *key, gint64 v) {
  json_builder_set_member_name(b, key);
  json_builder_add_int_value(b, v);
}

static void add_time(JsonBuilder *b, const char *key, int64_t us) {
  char buf[PC_TIME_ISO_BYTES];
  add_str(b, key, pc_time_format_iso(us, PC_TIME_FRAC_AUTO, buf));
}

static void add_names(JsonBuilder *b, const char *key, const char *const *names) {
  json_builder_set_member_name(b, key);
  json_builder_begin_array(b);
  for (unsigned i = 0; names[i]; i++) json_builder_add_string_value(b, names[i]);
  json_builder_end_array(b);
}

/* Mean score and NPS (promoters 9-10 minus detractors 0-6, in %) of a pmf. */
static double nps_mean(unsigned ch, double *nps) {
  double mean = 0, pro = 0, det = 0;
  for (unsigned v = 0; v <= 10; v++) {
    double p = synth_nps_pmf[ch][v] / 1000.0;
    mean += v * p;
    if (v >= 9) pro += p;
    if (v <= 6) det += p;
  }
  *nps = 100 * (pro - det);
  return mean;
}

/* ---- Sections ------------------------------------------------------------------- */


static void add_episode(JsonBuilder *b, const Flagged *f) {
  json_builder_begin_object(b);
  add_str(b, "event", synth_event_names[f->event]);
  add_num(b, "odds_multiplier", f->odds_multiplier);
  add_num(b, "prevalence", f->prevalence);
  json_builder_end_object(b);
}

static void truth_churn(JsonBuilder *b) {
  static const unsigned harmless[3] = {EP_BILLING_ISSUE, EP_INTERNET_ISSUE, EP_TV_ISSUE};
  json_builder_set_member_name(b, "churn");
  json_builder_begin_object(b);
  add_str(b, "event", "churn");
  add_str(b, "model", "logit P(churn) = logit(base_rate) + sum of ln(odds_multiplier) over the driver events the customer has");
  add_num(b, "base_rate", CHURN_BASE_RATE);
  add_num(b, "expected_rate", synth_churn_rate(FALSE));
  json_builder_set_member_name(b, "channels");
  json_builder_begin_object(b);
  add_num(b, "call", synth_churn_choice.p[0]);
  add_num(b, "web", synth_churn_choice.p[1]);
  json_builder_end_object(b);
  json_builder_set_member_name(b, "drivers");
  json_builder_begin_array(b);
  for (unsigned d = 0; d < 2; d++) add_episode(b, &synth_episodes[synth_driver_ep[d]]);
  json_builder_end_array(b);
  json_builder_set_member_name(b, "harmless_issues");
  json_builder_begin_array(b);
  for (unsigned i = 0; i < 3; i++) add_episode(b, &synth_episodes[harmless[i]]);
  json_builder_end_array(b);
  json_builder_end_object(b);
}

/* The waiver channels in channel order: share, mean score, NPS. */
static void nps_channels(JsonBuilder *b) {
  json_builder_set_member_name(b, "channels");
  json_builder_begin_array(b);
  for (unsigned c = 0; c < CH_N; c++) {
    unsigned i = 0;
    while (i < synth_waiver_choice.n && synth_waiver_choice.what[i] != c) i++;
    if (i == synth_waiver_choice.n) continue;
    double nps, mean = nps_mean(c, &nps);
    json_builder_begin_object(b);
    add_str(b, "channel", synth_channel_names[c]);
    add_num(b, "share", synth_waiver_choice.p[i]);
    add_num(b, "mean", mean);
    add_num(b, "nps", nps);
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
}

static void truth_nps(JsonBuilder *b) {
  unsigned best = 0;
  double best_mean = -1, nps;
  for (unsigned i = 0; i < synth_waiver_choice.n; i++) {
    double m = nps_mean(synth_waiver_choice.what[i], &nps);
    if (m > best_mean) best_mean = m, best = synth_waiver_choice.what[i];
  }
  json_builder_set_member_name(b, "nps");
  json_builder_begin_object(b);
  add_str(b, "event", synth_event_names[EV_NPS]);
  add_str(b, "trigger_event", synth_event_names[EV_FEE_WAIVER]);
  add_num(b, "response_rate", P_NPS_RESPONSE);
  add_str(b, "best_channel", synth_channel_names[best]);
  nps_channels(b);
  json_builder_end_object(b);
}

static void truth_offers(JsonBuilder *b) {
  const Choice *oc = &synth_offer_choice;
  unsigned best = oc->what[0];
  for (unsigned i = 1; i < oc->n; i++)
    if (synth_offer_signup_p[oc->what[i]] > synth_offer_signup_p[best]) best = oc->what[i];
  json_builder_set_member_name(b, "offers");
  json_builder_begin_object(b);
  add_str(b, "sent_event", synth_event_names[EV_OFFER_SENT]);
  add_str(b, "signup_event", synth_event_names[EV_OFFER_SIGNUP]);
  add_str(b, "best_channel", synth_channel_names[best]);
  json_builder_set_member_name(b, "channels");
  json_builder_begin_array(b);
  for (unsigned i = 0; i < oc->n; i++) {
    unsigned c = oc->what[i];
    json_builder_begin_object(b);
    add_str(b, "channel", synth_channel_names[c]);
    add_num(b, "share", oc->p[i]);
    add_num(b, "signup_rate", synth_offer_signup_p[c]);
    add_str(b, "signup_channel", synth_channel_names[synth_offer_signup_ch[c]]);
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
  json_builder_end_object(b);
}

static void truth_funnel(JsonBuilder *b) {
  static const char *const steps[] = {"visit", "product_view", "add_to_cart", "checkout", "purchase", NULL};
  json_builder_set_member_name(b, "funnel");
  json_builder_begin_object(b);
  add_names(b, "steps", steps);
  json_builder_set_member_name(b, "channels");
  json_builder_begin_array(b);
  for (unsigned i = 0; i < 3; i++) {
    const Funnel *f = &synth_funnel_p[i];
    json_builder_begin_object(b);
    add_str(b, "channel", synth_channel_names[f->ch]);
    add_num(b, "share", synth_browse_choice.p[i]);
    add_num(b, steps[1], f->view);
    add_num(b, steps[2], f->cart);
    add_num(b, steps[3], f->checkout);
    add_num(b, steps[4], f->purchase);
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
  json_builder_end_object(b);
}

static void truth_length(const PcSynth *s, JsonBuilder *b) {
  json_builder_set_member_name(b, "length");
  json_builder_begin_object(b);
  add_num(b, "lognormal_share", LEN_LN_SHARE);
  add_num(b, "lognormal_mu", LEN_LN_MU);
  add_num(b, "lognormal_sigma", LEN_LN_SIGMA);
  add_num(b, "pareto_xm", LEN_PARETO_XM);
  add_num(b, "pareto_alpha", LEN_PARETO_ALPHA);
  add_int(b, "cap", LEN_CAP);
  add_int(b, "max_events", PC_SYNTH_MAX_EVENTS);
  add_num(b, "mean_target", s->len_mean);
  json_builder_end_object(b);
}

/* Revenue bounds are money: decimals of cents, never integers. */
static void truth_segments(JsonBuilder *b) {
  json_builder_set_member_name(b, "segments");
  json_builder_begin_array(b);
  for (unsigned i = 0; i < 2; i++) {
    const Segment *sg = &synth_segments[i];
    json_builder_begin_object(b);
    add_str(b, "segment", sg->name);
    add_num(b, "share", sg->share);
    json_builder_set_member_name(b, "revenue_min");
    json_builder_add_double_value(b, round10(sg->lo_cents / 100.0));
    json_builder_set_member_name(b, "revenue_max");
    json_builder_add_double_value(b, round10(sg->hi_cents / 100.0));
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
}

/* ---- The document ----------------------------------------------------------------- */

static void truth_head(const PcSynth *s, JsonBuilder *b) {
  add_str(b, "generator", "parcours-synth/1");
  add_int(b, "seed", (gint64)s->seed);
  add_int(b, "customers", (gint64)s->n_customers);
  add_time(b, "from", s->from_us);
  add_time(b, "to", s->to_us);
  add_int(b, "from_us", s->from_us);
  add_int(b, "to_us", s->to_us);
  add_names(b, "channels", synth_channel_names);
  add_names(b, "events", synth_event_names);
  add_str(b, "target_event", PC_SYNTH_TARGET_EVENT);
}

/* "month" (only for a world of pc_synth_set_month): the month and the
 * planted change a month-over-month diff must find. */
static void truth_month(const PcSynth *s, JsonBuilder *b) {
  if (!s->month) return;
  double base = synth_offer_signup_p[MONTH_CHANGE_CH];
  json_builder_set_member_name(b, "month");
  json_builder_begin_object(b);
  add_int(b, "month", s->month);
  json_builder_set_member_name(b, "planted_change");
  json_builder_begin_object(b);
  add_str(b, "what", "offer sign-up rate of one channel, from month 2 on");
  add_str(b, "channel", synth_channel_names[MONTH_CHANGE_CH]);
  add_num(b, "signup_rate_month_1", base);
  add_num(b, "signup_rate_from_month_2", base + MONTH_CHANGE_LIFT);
  add_num(b, "signup_rate_now", s->month >= 2 ? base + MONTH_CHANGE_LIFT : base);
  json_builder_end_object(b);
  json_builder_end_object(b);
}

char *pc_synth_truth_json(const PcSynth *s) {
  g_return_val_if_fail(s != NULL, NULL);
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  truth_head(s, b);
  truth_churn(b);
  synth_plant_truth(b);
  truth_nps(b);
  truth_offers(b);
  truth_funnel(b);
  truth_length(s, b);
  truth_segments(b);
  truth_month(s, b);
  json_builder_end_object(b);
  g_autoptr(JsonNode) root = json_builder_get_root(b);
  g_autoptr(JsonGenerator) gen = json_generator_new();
  json_generator_set_root(gen, root);
  json_generator_set_pretty(gen, TRUE);
  json_generator_set_indent(gen, 2);
  g_autofree char *text = json_generator_to_data(gen, NULL);
  return g_strconcat(text, "\n", NULL);
}
