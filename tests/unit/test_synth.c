/* test_synth.c - CUnit cases of synth.c: names, determinism, time order and
 * range, value rules, and the planted truth recovered by plain counting over
 * 50k customers (churn drivers vs harmless issues, best NPS and offer
 * channels, heavy-tailed lengths). */
#include "pc_synth.h"
#include "pc_test.h"

#include <json-glib/json-glib.h>

#define STAT_CUSTOMERS 50000
#define STAT_SEED 20260101

/* ---- Helpers ------------------------------------------------------------------ */

static guint find_name(const char *const *names, guint n, const char *name) {
  for (guint i = 0; i < n; i++)
    if (strcmp(names[i], name) == 0) return i;
  CU_FAIL_FATAL("name not found");
  return 0;
}

static guint ev_id(const char *name) {
  guint n;
  const char *const *names = pc_synth_events(&n);
  return find_name(names, n, name);
}

static guint ch_id(const char *name) {
  guint n;
  const char *const *names = pc_synth_channels(&n);
  return find_name(names, n, name);
}

/* FNV-1a over everything a customer carries. */
static uint64_t customer_hash(const PcSynthCustomer *c) {
  uint64_t h = pc_fnv1a64(c->id, c->id_len);
  h ^= pc_fnv1a64(c->segment, strlen(c->segment)) * 31;
  h ^= pc_fnv1a64(&c->revenue, sizeof c->revenue) * 131;
  for (size_t i = 0; i < c->n; i++) {
    const PcSynthEvent *e = &c->ev[i];
    uint64_t row[3] = {(uint64_t)e->ts_us, (uint64_t)e->value,
                       ((uint64_t)e->channel << 16) | e->event};
    h = (h * 1099511628211u) ^ pc_fnv1a64(row, sizeof row);
  }
  return h ^ c->n;
}

static gboolean name_valid(const char *s, gboolean channel) {
  size_t n = strlen(s);
  if (n < 1 || n > PC_MAX_NAME_BYTES) return FALSE;
  for (size_t i = 0; i < n; i++) {
    unsigned char b = (unsigned char)s[i];
    if (b < 0x20 || b == ',' || b == '>' || (channel && b == ':')) return FALSE;
  }
  return strcmp(s, "^") && strcmp(s, "$") && strcmp(s, "(all)") && strcmp(s, "(unknown)");
}

/* Counts over the first n customers of a fixed world. */
typedef struct {
  uint64_t customers, churned, events, max_len;
  uint64_t with[64], churn_with[64]; /* customers having event e (before churn) */
  double nps_sum[16];
  uint64_t nps_n[16];                /* NPS attributed per spec §6 */
  uint64_t offers[16], signups[16];  /* offer_sent per channel, followed by sign-up */
} Stats;

static void stats_customer(Stats *st, const PcSynthCustomer *c) {
  guint churn = ev_id("churn"), nps = ev_id("nps_response");
  guint sent = ev_id("offer_sent"), signup = ev_id("offer_signup");
  gboolean seen[64] = {FALSE};
  gboolean y = c->n > 0 && c->ev[c->n - 1].event == churn;
  for (size_t i = 0; i < c->n; i++) {
    const PcSynthEvent *e = &c->ev[i];
    seen[e->event] = TRUE;
    if (e->event == nps) {
      size_t j = i;
      while (j > 0 && c->ev[j - 1].event == nps) j--;
      guint ch = j > 0 ? c->ev[j - 1].channel : 15;
      st->nps_sum[ch] += e->value / 1e6;
      st->nps_n[ch]++;
    }
    if (e->event == sent) {
      st->offers[e->channel]++;
      if (i + 1 < c->n && c->ev[i + 1].event == signup) st->signups[e->channel]++;
    }
  }
  for (guint e = 0; e < 64; e++) {
    st->with[e] += seen[e];
    st->churn_with[e] += seen[e] && y;
  }
  st->customers++;
  st->churned += y;
  st->events += c->n;
  if (c->n > st->max_len) st->max_len = c->n;
}

static void stats_compute(Stats *st) {
  memset(st, 0, sizeof *st);
  PcSynth *s = pc_synth_new(STAT_SEED, STAT_CUSTOMERS);
  PcSynthCustomer c = {0};
  for (uint64_t k = 0; k < STAT_CUSTOMERS; k++) {
    pc_synth_customer(s, k, &c);
    stats_customer(st, &c);
  }
  pc_synth_customer_clear(&c);
  pc_synth_free(s);
}

/* Churn rate with the event over the rate without it. */
static double churn_ratio(const Stats *st, guint e) {
  double with = (double)st->churn_with[e] / st->with[e];
  double without = (double)(st->churned - st->churn_with[e]) / (st->customers - st->with[e]);
  return with / without;
}

/* ---- Cases ---------------------------------------------------------------------- */

static void test_names(void) {
  guint nc, ne;
  const char *const *ch = pc_synth_channels(&nc);
  const char *const *ev = pc_synth_events(&ne);
  CU_ASSERT_EQUAL(nc, 8);
  CU_ASSERT_EQUAL(ne, 19);
  CU_ASSERT_PTR_NULL(ch[nc]);
  CU_ASSERT_PTR_NULL(ev[ne]);
  for (guint i = 0; i < nc; i++) {
    CU_ASSERT(name_valid(ch[i], TRUE));
    if (i) CU_ASSERT(strcmp(ch[i - 1], ch[i]) < 0);
  }
  for (guint i = 0; i < ne; i++) {
    CU_ASSERT(name_valid(ev[i], FALSE));
    if (i) CU_ASSERT(strcmp(ev[i - 1], ev[i]) < 0);
  }
  CU_ASSERT_STRING_EQUAL(ch[0], "app");
  CU_ASSERT_STRING_EQUAL(ch[7], "web");
  CU_ASSERT_EQUAL(ev_id("churn"), 5);
}

static void test_determinism(void) {
  enum { N = 3000 };
  uint64_t *fwd = g_new(uint64_t, N);
  PcSynth *s = pc_synth_new(7, N), *t = pc_synth_new(7, N), *u = pc_synth_new(8, N);
  PcSynthCustomer c = {0};
  for (uint64_t k = 0; k < N; k++) {
    pc_synth_customer(s, k, &c);
    fwd[k] = customer_hash(&c);
  }
  guint same_other_seed = 0;
  for (uint64_t k = N; k-- > 0;) {
    pc_synth_customer(t, k, &c);
    CU_ASSERT_EQUAL(customer_hash(&c), fwd[k]);
    pc_synth_customer(s, k, &c);
    CU_ASSERT_EQUAL(customer_hash(&c), fwd[k]);
    pc_synth_customer(u, k, &c);
    same_other_seed += customer_hash(&c) == fwd[k];
  }
  CU_ASSERT_EQUAL(same_other_seed, 0);
  /* a fresh buffer gives the same customer as a reused one */
  PcSynthCustomer d = {0};
  pc_synth_customer(s, 1234, &d);
  CU_ASSERT_EQUAL(customer_hash(&d), fwd[1234]);
  pc_synth_customer_clear(&d);
  CU_ASSERT_PTR_NULL(d.ev);
  pc_synth_customer_clear(&c);
  pc_synth_free(u);
  pc_synth_free(t);
  pc_synth_free(s);
  g_free(fwd);
}

/* Time order, range, value rules, churn last, id format and order. */
static void check_customer(int64_t from, int64_t to,
                           const PcSynthCustomer *c) {
  guint nc, ne;
  pc_synth_channels(&nc);
  pc_synth_events(&ne);
  guint churn = ev_id("churn"), nps = ev_id("nps_response"), buy = ev_id("purchase");
  CU_ASSERT(c->n >= 1 && c->n <= PC_SYNTH_MAX_EVENTS);
  for (size_t i = 0; i < c->n; i++) {
    const PcSynthEvent *e = &c->ev[i];
    CU_ASSERT(e->ts_us >= from && e->ts_us < to);
    if (i) CU_ASSERT(e->ts_us > c->ev[i - 1].ts_us);
    CU_ASSERT(e->channel < nc && e->event < ne);
    if (e->event == churn) CU_ASSERT_EQUAL(i, c->n - 1);
    if (e->event == nps) {
      CU_ASSERT(e->value >= 0 && e->value <= 10000000 && e->value % 1000000 == 0);
    } else if (e->event == buy) {
      CU_ASSERT(e->value >= 5000000 && e->value <= 500000000 && e->value % 10000 == 0);
    } else {
      CU_ASSERT_EQUAL(e->value, 0);
    }
  }
  CU_ASSERT(c->revenue >= 20000000 && c->revenue <= 200000000 && c->revenue % 10000 == 0);
  CU_ASSERT(strcmp(c->segment, "consumer") == 0 || strcmp(c->segment, "business") == 0);
  CU_ASSERT_EQUAL(c->id_len, strlen(c->id));
}

static void test_order_range(void) {
  enum { N = 20000 };
  PcSynth *s = pc_synth_new(99, N);
  PcSynthCustomer c = {0};
  char prev[24] = "";
  for (uint64_t k = 0; k < N; k++) {
    pc_synth_customer(s, k, &c);
    check_customer(PC_SYNTH_DEFAULT_FROM_US, PC_SYNTH_DEFAULT_TO_US, &c);
    if (k) CU_ASSERT(strcmp(prev, c.id) < 0);
    memcpy(prev, c.id, sizeof prev);
  }
  pc_synth_customer(s, 1234, &c);
  CU_ASSERT_STRING_EQUAL(c.id, "c000001234");
  pc_synth_customer_clear(&c);
  pc_synth_free(s);
}

static void test_id_width(void) {
  PcSynth *s = pc_synth_new(1, UINT64_C(12345678901));
  PcSynthCustomer c = {0};
  pc_synth_customer(s, 42, &c);
  CU_ASSERT_STRING_EQUAL(c.id, "c00000000042");
  CU_ASSERT_EQUAL(c.id_len, 12);
  pc_synth_customer_clear(&c);
  pc_synth_free(s);
}

static void test_set_range(void) {
  enum { N = 5000 };
  const int64_t from = INT64_C(1704067200000000), to = from + INT64_C(3) * 86400000000;
  PcSynth *s = pc_synth_new(5, N);
  GError *err = NULL;
  CU_ASSERT_FALSE(pc_synth_set_range(s, from, from + 3600000000, &err));
  CU_ASSERT(err && g_error_matches(err, PC_ERROR, PC_ERROR_CONFIG));
  g_clear_error(&err);
  CU_ASSERT_TRUE(pc_synth_set_range(s, from, to, &err));
  CU_ASSERT_PTR_NULL(err);
  PcSynthCustomer c = {0};
  for (uint64_t k = 0; k < N; k++) {
    pc_synth_customer(s, k, &c);
    check_customer(from, to, &c);
  }
  pc_synth_customer_clear(&c);
  char *json = pc_synth_truth_json(s);
  CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"from\" : \"2024-01-01T00:00:00Z\""));
  CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"to\" : \"2024-01-04T00:00:00Z\""));
  g_free(json);
  pc_synth_free(s);
}

static void test_churn_drivers(void) {
  Stats st;
  stats_compute(&st);
  double rate = (double)st.churned / st.customers;
  CU_ASSERT(rate > 0.05 && rate < 0.10);
  CU_ASSERT(churn_ratio(&st, ev_id("billing_dispute")) >= 2.0);
  CU_ASSERT(churn_ratio(&st, ev_id("ivr_failure")) >= 2.0);
  CU_ASSERT(st.with[ev_id("billing_dispute")] > 2000);
  CU_ASSERT(st.with[ev_id("ivr_failure")] > 2000);
}

static void test_harmless_issues(void) {
  Stats st;
  stats_compute(&st);
  const char *harmless[3] = {"billing_issue", "internet_issue", "tv_issue"};
  for (int i = 0; i < 3; i++) {
    guint e = ev_id(harmless[i]);
    double r = churn_ratio(&st, e);
    CU_ASSERT(r >= 0.8 && r <= 1.25);
    /* frequent: more common than either driver */
    CU_ASSERT(st.with[e] > st.with[ev_id("billing_dispute")]);
    CU_ASSERT(st.with[e] > st.with[ev_id("ivr_failure")]);
  }
}

static void test_nps_best(void) {
  Stats st;
  stats_compute(&st);
  guint best = ch_id("chat");
  double best_mean = st.nps_sum[best] / st.nps_n[best];
  CU_ASSERT(st.nps_n[best] > 500);
  for (guint ch = 0; ch < 16; ch++)
    if (ch != best && st.nps_n[ch]) CU_ASSERT(st.nps_sum[ch] / st.nps_n[ch] < best_mean);
  CU_ASSERT(st.nps_n[ch_id("app")] > 0 && st.nps_n[ch_id("call")] > 0);
  CU_ASSERT_EQUAL(st.nps_n[15], 0); /* always preceded by the waiver */
}

static void test_offer_best(void) {
  Stats st;
  stats_compute(&st);
  guint best = ch_id("sms");
  double best_rate = (double)st.signups[best] / st.offers[best];
  for (guint ch = 0; ch < 16; ch++)
    if (ch != best && st.offers[ch])
      CU_ASSERT((double)st.signups[ch] / st.offers[ch] < best_rate);
  CU_ASSERT(st.offers[ch_id("email")] > 0 && st.offers[ch_id("app")] > 0);
}

/* The planted patterns of spec §16-§17 (synth_plant.c), by plain counting:
 * customers whose first ivr_failure reached an agent at once churn at
 * least 1.5 times as often as those whose did not; among churners, the
 * median time from the first internet_issue to the churn is 1..3 days and
 * from the first billing_issue 14..28 days (nearest rank). */
static gint cmp_i64(gconstpointer a, gconstpointer b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return x < y ? -1 : (x > y);
}

static void planted_customer(const PcSynthCustomer *c, uint64_t *esc, GArray *delay_int,
                             GArray *delay_bill) {
  guint churn = ev_id("churn"), ivr = ev_id("ivr_failure"), agent = ev_id("call_agent");
  gboolean y = c->ev[c->n - 1].event == churn;
  int64_t t_int = -1, t_bill = -1;
  gboolean first_ivr = TRUE;
  for (size_t i = 0; i < c->n; i++) {
    guint e = c->ev[i].event;
    if (e == ivr && first_ivr) {
      guint k = i + 1 < c->n && c->ev[i + 1].event == agent; /* 1: escalated */
      esc[2 * k]++, esc[2 * k + 1] += y, first_ivr = FALSE;
    }
    if (e == ev_id("internet_issue") && t_int < 0) t_int = c->ev[i].ts_us;
    if (e == ev_id("billing_issue") && t_bill < 0) t_bill = c->ev[i].ts_us;
  }
  int64_t end = c->ev[c->n - 1].ts_us;
  if (y && t_int >= 0) g_array_append_vals(delay_int, &(int64_t){end - t_int}, 1);
  if (y && t_bill >= 0) g_array_append_vals(delay_bill, &(int64_t){end - t_bill}, 1);
}

static double median_days(GArray *v) {
  g_array_sort(v, cmp_i64);
  return v->len ? g_array_index(v, int64_t, (v->len + 1) / 2 - 1) / 86400e6 : NAN;
}

static void test_planted_sequence_and_delays(void) {
  PcSynth *s = pc_synth_new(STAT_SEED, STAT_CUSTOMERS);
  PcSynthCustomer c = {0};
  uint64_t esc[4] = {0}; /* not escalated: n, churned; escalated: n, churned */
  g_autoptr(GArray) di = g_array_new(FALSE, FALSE, sizeof(int64_t));
  g_autoptr(GArray) db = g_array_new(FALSE, FALSE, sizeof(int64_t));
  for (uint64_t k = 0; k < STAT_CUSTOMERS; k++) {
    pc_synth_customer(s, k, &c);
    planted_customer(&c, esc, di, db);
  }
  pc_synth_customer_clear(&c);
  pc_synth_free(s);
  CU_ASSERT(esc[0] > 200 && esc[2] > 1000);
  CU_ASSERT((double)esc[3] / esc[2] >= 1.5 * (double)esc[1] / esc[0]);
  double mi = median_days(di), mb = median_days(db);
  CU_ASSERT(di->len > 1000 && db->len > 1000);
  CU_ASSERT(mi >= 1 && mi <= 3);
  CU_ASSERT(mb >= 14 && mb <= 28);
}

static void test_length(void) {
  Stats st;
  stats_compute(&st);
  double mean = (double)st.events / st.customers;
  CU_ASSERT(mean >= 8.0 && mean <= 12.0);
  CU_ASSERT(st.max_len > 100);
  CU_ASSERT(st.max_len <= PC_SYNTH_MAX_EVENTS);
}

/* Member path "a.b" of a parsed JSON object, or NULL. */
static JsonNode *jpath(JsonNode *root, const char *path) {
  g_auto(GStrv) parts = g_strsplit(path, ".", -1);
  JsonNode *n = root;
  for (guint i = 0; n && parts[i]; i++) {
    if (g_ascii_isdigit(parts[i][0])) {
      JsonArray *a = JSON_NODE_HOLDS_ARRAY(n) ? json_node_get_array(n) : NULL;
      guint k = (guint)g_ascii_strtoull(parts[i], NULL, 10);
      n = a && k < json_array_get_length(a) ? json_array_get_element(a, k) : NULL;
    } else {
      JsonObject *o = JSON_NODE_HOLDS_OBJECT(n) ? json_node_get_object(n) : NULL;
      n = o && json_object_has_member(o, parts[i]) ? json_object_get_member(o, parts[i]) : NULL;
    }
  }
  return n;
}

static void assert_str(JsonNode *root, const char *path, const char *want) {
  JsonNode *n = jpath(root, path);
  CU_ASSERT_PTR_NOT_NULL_FATAL(n);
  CU_ASSERT_STRING_EQUAL(json_node_get_string(n), want);
}

/* Integral numbers are JSON integers, the others doubles: exact values. */
static void assert_int(JsonNode *root, const char *path, gint64 want) {
  JsonNode *n = jpath(root, path);
  CU_ASSERT_PTR_NOT_NULL_FATAL(n);
  CU_ASSERT_EQUAL(json_node_get_value_type(n), G_TYPE_INT64);
  CU_ASSERT_EQUAL(json_node_get_int(n), want);
}

static void assert_double(JsonNode *root, const char *path, double want) {
  JsonNode *n = jpath(root, path);
  CU_ASSERT_PTR_NOT_NULL_FATAL(n);
  CU_ASSERT_EQUAL(json_node_get_value_type(n), G_TYPE_DOUBLE);
  CU_ASSERT_EQUAL(json_node_get_double(n), want);
}

/* The truth document parses, ends with a newline and holds the planted
 * numbers (values that docs/generate.md lists). */
static void test_truth_json(void) {
  g_autoptr(PcSynth) s = pc_synth_new(42, 1000);
  g_autofree char *json = pc_synth_truth_json(s);
  CU_ASSERT_EQUAL(json[strlen(json) - 1], '\n');
  g_autoptr(JsonParser) p = json_parser_new();
  CU_ASSERT_TRUE_FATAL(json_parser_load_from_data(p, json, -1, NULL));
  JsonNode *r = json_parser_get_root(p);
  assert_str(r, "generator", "parcours-synth/1");
  assert_int(r, "seed", 42);
  assert_int(r, "customers", 1000);
  assert_str(r, "from", "2026-01-01T00:00:00Z");
  assert_str(r, "to", "2026-07-01T00:00:00Z");
  assert_int(r, "from_us", INT64_C(1767225600000000));
  assert_str(r, "channels.0", "app");
  assert_str(r, "events.18", "visit");
  assert_str(r, "target_event", "churn");
  assert_double(r, "churn.base_rate", 0.05);
  assert_double(r, "churn.channels.call", 0.6);
  assert_str(r, "churn.drivers.0.event", "billing_dispute");
  assert_double(r, "churn.drivers.0.odds_multiplier", 4.5);
  assert_str(r, "churn.drivers.1.event", "ivr_failure");
  assert_int(r, "churn.drivers.1.odds_multiplier", 3);
  assert_str(r, "churn.harmless_issues.2.event", "tv_issue");
  assert_int(r, "churn.harmless_issues.2.odds_multiplier", 1);
  assert_str(r, "nps.best_channel", "chat");
  assert_str(r, "nps.channels.2.channel", "chat");
  assert_double(r, "nps.channels.2.share", 0.3);
  assert_double(r, "nps.channels.2.mean", 8.515);
  assert_int(r, "nps.channels.2.nps", 53);
  assert_str(r, "offers.best_channel", "sms");
  assert_str(r, "offers.channels.2.channel", "sms");
  assert_double(r, "offers.channels.2.signup_rate", 0.11);
  assert_str(r, "funnel.steps.4", "purchase");
  assert_int(r, "length.cap", 1998);
  assert_int(r, "length.max_events", PC_SYNTH_MAX_EVENTS);
  assert_str(r, "segments.1.segment", "business");
  assert_double(r, "segments.1.revenue_min", 80.0);
  assert_double(r, "segments.1.revenue_max", 200.0);
}

/* A time range outside GDateTime's years still has its dates. */
static void test_truth_json_range(void) {
  g_autoptr(PcSynth) s = pc_synth_new(1, 10);
  CU_ASSERT_TRUE_FATAL(pc_synth_set_range(s, INT64_C(-62167219200000000), INT64_C(-62167219200000000) + PC_SYNTH_MIN_RANGE_US + 1, NULL));
  g_autofree char *json = pc_synth_truth_json(s);
  g_autoptr(JsonParser) p = json_parser_new();
  CU_ASSERT_TRUE_FATAL(json_parser_load_from_data(p, json, -1, NULL));
  assert_str(json_parser_get_root(p), "from", "0000-01-01T00:00:00Z");
  assert_str(json_parser_get_root(p), "to", "0000-01-02T00:00:00.000001Z");
}

/* pc_synth_set_month: month 2 is February 2026 (every event inside it);
 * the planted change: sms offers sign up at 0.17 in month 2 against 0.11
 * in month 1 (50k customers: within 0.015 of each), email and app
 * unchanged (within 0.015 of 0.03 and 0.07); truth.json says so. */
static void test_month(void) {
  double rate[3][3]; /* [month][sms, email, app] */
  const char *chs[3] = {"sms", "email", "app"};
  for (guint m = 1; m <= 2; m++) {
    Stats st;
    memset(&st, 0, sizeof st);
    g_autoptr(PcSynth) s = pc_synth_new(STAT_SEED, STAT_CUSTOMERS);
    pc_synth_set_month(s, m);
    PcSynthCustomer c = {0};
    for (uint64_t k = 0; k < STAT_CUSTOMERS; k++) {
      pc_synth_customer(s, k, &c);
      for (size_t i = 0; m == 2 && i < c.n; i++)
        CU_ASSERT(c.ev[i].ts_us >= INT64_C(1769904000000000) && c.ev[i].ts_us < INT64_C(1772323200000000));
      stats_customer(&st, &c);
    }
    pc_synth_customer_clear(&c);
    for (int i = 0; i < 3; i++)
      rate[m][i] = (double)st.signups[ch_id(chs[i])] / st.offers[ch_id(chs[i])];
    g_autofree char *json = pc_synth_truth_json(s);
    g_autoptr(JsonParser) p = json_parser_new();
    CU_ASSERT_TRUE_FATAL(json_parser_load_from_data(p, json, -1, NULL));
    JsonNode *r = json_parser_get_root(p);
    assert_str(r, "from", m == 1 ? "2026-01-01T00:00:00Z" : "2026-02-01T00:00:00Z");
    assert_str(r, "month.planted_change.channel", "sms");
    assert_double(r, "month.planted_change.signup_rate_now", m == 1 ? 0.11 : 0.17);
  }
  CU_ASSERT_DOUBLE_EQUAL(rate[1][0], 0.11, 0.015);
  CU_ASSERT_DOUBLE_EQUAL(rate[2][0], 0.17, 0.015);
  for (int i = 1; i < 3; i++) CU_ASSERT_DOUBLE_EQUAL(rate[2][i], rate[1][i], 0.015);
}

PC_TEST_MAIN("synth",
             {"/synth/names", test_names},
             {"/synth/determinism", test_determinism},
             {"/synth/order_range", test_order_range},
             {"/synth/id_width", test_id_width},
             {"/synth/set_range", test_set_range},
             {"/synth/churn_drivers", test_churn_drivers},
             {"/synth/harmless_issues", test_harmless_issues},
             {"/synth/planted_sequence_and_delays", test_planted_sequence_and_delays},
             {"/synth/nps_best", test_nps_best},
             {"/synth/offer_best", test_offer_best},
             {"/synth/length", test_length},
             {"/synth/truth_json", test_truth_json},
             {"/synth/truth_json_range", test_truth_json_range},
             {"/synth/month", test_month})
