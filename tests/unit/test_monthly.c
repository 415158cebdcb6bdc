/* test_monthly.c - CUnit cases for the monthly analyses: the scope of spec
 * §12 on a journey (pc_journey_scope), segments.csv (segments.c), funnels
 * split = segment (funnels.c), retention.csv (retention.c, spec §13) over
 * threads and over fake ranks, and the job keys of [scope] and
 * [retention]. Every expected table is worked out by hand in the comment
 * above it; modules run through the module loop (pc_modtest.h). */
#include "pc_journey.h"
#include "pc_modtest.h"
#include "pc_test.h"
#include "pc_time.h"

#include <stdio.h>
#include <stdlib.h>

/* ---- fixture: names, events, tables ---------------------------------------------- */

static const char *const CH[] = {"app", "web"};
static const char *const EV[] = {"bill", "churn", "visit"}; /* ids 0, 1, 2 */
static const char *const SEG[] = {"(unknown)", "gold", "silver"}; /* ids 0, 1, 2 */
enum { BILL, CHURN, VISIT };
enum { UNKNOWN, GOLD, SILVER };

static PcNames names_new(void) {
  PcNames nm = {pc_dict_new_sorted((char **)CH, 2), pc_dict_new_sorted((char **)EV, 3),
                NULL, NULL, pc_dict_new_sorted((char **)SEG, 3)};
  return nm;
}

static void names_clear(PcNames *nm) {
  pc_dict_free(nm->channels);
  pc_dict_free(nm->events);
  pc_dict_free(nm->segments);
}

/* An event at an ISO timestamp on web. */
static PcEvent at(const char *iso, uint32_t event) {
  int64_t us = 0;
  g_assert(pc_time_parse(iso, strlen(iso), &us));
  return (PcEvent){us, 0, event, 1};
}

/* The CSV bytes of table `name` after the loop, "" when absent. */
static char *csv_of(PcModTest *m, const char *name) {
  g_autoptr(GPtrArray) t = pc_modtest_tables(m);
  const PcTable *x = pc_modtest_find(t, name);
  return x ? pc_modtest_csv(x) : g_strdup("");
}

static PcJobConfig base_cfg(void) {
  PcJobConfig c = {0};
  c.top_k = 1000;
  c.lookback = 5;
  return c;
}

/* ---- scope ---------------------------------------------------------------------------- */

/* keep = {(unknown), silver}, entry = bill: a gold customer is out; a
 * silver one starts at its bill; one without a bill is out. */
static void test_scope_segments_entry(void) {
  const guint8 keep[] = {1, 0, 1};
  PcJourneyMaps m = {.segment_keep = keep, .entry_event = BILL};
  PcEvent ev[] = {at("2024-01-01T00:00:00Z", VISIT), at("2024-01-02T00:00:00Z", BILL),
                  at("2024-01-03T00:00:00Z", VISIT)};
  PcJourney gold = {"g", 1, 0, ev, 3, 0, FALSE, GOLD};
  CU_ASSERT_FALSE(pc_journey_scope(&m, &gold));
  PcJourney silver = {"s", 1, 0, ev, 3, 0, FALSE, SILVER};
  CU_ASSERT_TRUE(pc_journey_scope(&m, &silver));
  CU_ASSERT_EQUAL(silver.n, 2);
  CU_ASSERT_PTR_EQUAL(silver.ev, &ev[1]);
  PcJourney nobill = {"u", 1, 0, ev, 1, 0, FALSE, UNKNOWN};
  CU_ASSERT_FALSE(pc_journey_scope(&m, &nobill));
  PcJourneyMaps all = {.entry_event = -1};
  PcJourney any = {"a", 1, 0, ev, 3, 0, FALSE, GOLD};
  CU_ASSERT_TRUE(pc_journey_scope(&all, &any));
  CU_ASSERT_EQUAL(any.n, 3);
}

/* Ties: at one timestamp the journey holds bill, churn, visit (event id
 * order); with entry = churn the tied bill sorted before it is dropped,
 * the tied visit after it kept. */
static void test_scope_entry_ties(void) {
  PcJourneyMaps m = {.entry_event = CHURN};
  PcEvent ev[] = {at("2024-01-01T00:00:00Z", VISIT), at("2024-01-05T00:00:00Z", BILL),
                  at("2024-01-05T00:00:00Z", CHURN), at("2024-01-05T00:00:00Z", VISIT)};
  PcJourney j = {"t", 1, 0, ev, 4, 0, FALSE, 0};
  CU_ASSERT_TRUE(pc_journey_scope(&m, &j));
  CU_ASSERT_EQUAL(j.n, 2);
  CU_ASSERT_EQUAL(j.ev[0].event, CHURN);
  CU_ASSERT_EQUAL(j.ev[1].event, VISIT);
}

/* ---- segments.csv -------------------------------------------------------------------- */

/* A gold 10.50 churns (visit, churn); B has no row: (unknown), revenue 0;
 * C silver 2.00 (visit, bill); D gold 1.25 (bill). Target churn.
 * (unknown): 1 customer, 1 event; gold: 2 customers, 3 events, 1 churns,
 * rate 0.5, revenue 11.75, at risk A's 10.50; silver: 1, 2 events, 2.00. */
static void test_segments_table(void) {
  PcNames nm = names_new();
  uint32_t tev[] = {CHURN};
  PcTarget t = {1, tev};
  PcJobConfig cfg = base_cfg();
  g_autoptr(GError) e = NULL;
  PcModTest *m = pc_modtest_new(&cfg, &nm, &t, TRUE, 2, &e);
  CU_ASSERT_PTR_NOT_NULL_FATAL(m);
  PcEvent a[] = {at("2024-01-01T00:00:00Z", VISIT), at("2024-01-02T00:00:00Z", CHURN)};
  PcEvent b[] = {at("2024-01-01T00:00:00Z", VISIT)};
  PcEvent c[] = {at("2024-01-01T00:00:00Z", VISIT), at("2024-01-01T00:00:01Z", BILL)};
  PcEvent d[] = {at("2024-01-03T00:00:00Z", BILL)};
  pc_modtest_add_seg(m, 0, a, 2, "A", 10500000, TRUE, GOLD);
  pc_modtest_add_seg(m, 1, b, 1, "B", 0, FALSE, UNKNOWN);
  pc_modtest_add_seg(m, 0, c, 2, "C", 2000000, TRUE, SILVER);
  pc_modtest_add_seg(m, 1, d, 1, "D", 1250000, TRUE, GOLD);
  g_autofree char *csv = csv_of(m, "segments");
  CU_ASSERT_STRING_EQUAL(csv,
      "segment,customers,events,customers_with_outcome,outcome_rate,revenue,revenue_at_risk\n"
      "(unknown),1,1,0,0,0.000000,0.000000\n"
      "gold,2,3,1,0.5,11.750000,10.500000\n"
      "silver,1,2,0,0,2.000000,0.000000\n");
  pc_modtest_free(m);
  names_clear(&nm);
}

/* Without a customers table there is no segments.csv (spec §10). */
static void test_segments_without_crm(void) {
  PcNames nm = names_new();
  PcJobConfig cfg = base_cfg();
  PcModTest *m = pc_modtest_new(&cfg, &nm, NULL, FALSE, 1, NULL);
  PcEvent a[] = {at("2024-01-01T00:00:00Z", VISIT)};
  pc_modtest_add(m, 0, a, 1, "A", 0, FALSE);
  g_autoptr(GPtrArray) t = pc_modtest_tables(m);
  CU_ASSERT_PTR_NULL(pc_modtest_find(t, "segments"));
  CU_ASSERT_PTR_NOT_NULL(pc_modtest_find(t, "summary"));
  pc_modtest_free(m);
  names_clear(&nm);
}

/* ---- funnels, split = segment ------------------------------------------------------- */

/* Funnel f: visit -> bill within 100 s. A gold reaches bill 50 s after its
 * visit (level 2), B gold only visits (1), C silver only bills (0: no
 * silver rows), D (unknown) bills 200 s after its visit (1). (all): 3, 1;
 * (unknown): 1, 0; gold: 2, 1. */
static void test_funnel_split_segment(void) {
  PcNames nm = names_new();
  char *steps[] = {"visit", "bill", NULL};
  PcFunnelConfig f = {.name = "f", .steps = steps, .n_steps = 2, .window_s = 100,
                      .split = PC_SPLIT_SEGMENT};
  PcJobConfig cfg = base_cfg();
  cfg.funnels = &f;
  cfg.n_funnels = 1;
  PcModTest *m = pc_modtest_new(&cfg, &nm, NULL, TRUE, 1, NULL);
  CU_ASSERT_PTR_NOT_NULL_FATAL(m);
  PcEvent a[] = {at("2024-01-01T00:00:00Z", VISIT), at("2024-01-01T00:00:50Z", BILL)};
  PcEvent b[] = {at("2024-01-01T00:00:00Z", VISIT)};
  PcEvent c[] = {at("2024-01-01T00:00:00Z", BILL)};
  PcEvent d[] = {at("2024-01-01T00:00:00Z", VISIT), at("2024-01-01T00:03:20Z", BILL)};
  pc_modtest_add_seg(m, 0, a, 2, "A", 0, TRUE, GOLD);
  pc_modtest_add_seg(m, 0, b, 1, "B", 0, TRUE, GOLD);
  pc_modtest_add_seg(m, 0, c, 1, "C", 0, TRUE, SILVER);
  pc_modtest_add_seg(m, 0, d, 2, "D", 0, FALSE, UNKNOWN);
  g_autofree char *csv = csv_of(m, "funnels");
  CU_ASSERT_STRING_EQUAL(csv,
      "funnel,split,step,token,customers,conv_prev,conv_first,drop_off\n"
      "f,(all),1,visit,3,,1,\n"
      "f,(all),2,bill,1,0.333333333333,0.333333333333,2\n"
      "f,(unknown),1,visit,1,,1,\n"
      "f,(unknown),2,bill,0,0,0,1\n"
      "f,gold,1,visit,2,,1,\n"
      "f,gold,2,bill,1,0.5,0.5,1\n");
  pc_modtest_free(m);
  names_clear(&nm);
}

/* ---- retention ------------------------------------------------------------------------ */

/* The fixture of retention by month, N = 3 (2024 is a leap year):
 *  S 2023-12-31T23:59:59 visit, 03-15 bill: cohort Dec; j = 3 is too far;
 *  P 01-31T23:59:59.999999 visit, 02-01T00:00 visit: cohort Jan, j 0, 1;
 *  Q 02-29T12:00 visit, 04-01T00:00 bill (the latest event): Feb, j 0, 2;
 *  R 03-01T00:00 visit: cohort Mar: j = 1 is April (row, inactive), j = 2
 *    is May, after the latest event's period: no row. */
static void add_month_fixture(PcModTest *m, int threads) {
  static PcEvent s[2], p[2], q[2], r[1];
  s[0] = at("2023-12-31T23:59:59Z", VISIT), s[1] = at("2024-03-15T00:00:00Z", BILL);
  p[0] = at("2024-01-31T23:59:59.999999Z", VISIT), p[1] = at("2024-02-01T00:00:00Z", VISIT);
  q[0] = at("2024-02-29T12:00:00Z", VISIT), q[1] = at("2024-04-01T00:00:00Z", BILL);
  r[0] = at("2024-03-01T00:00:00Z", VISIT);
  pc_modtest_add(m, 0, s, 2, "S", 0, FALSE);
  pc_modtest_add(m, 1 % threads, p, 2, "P", 0, FALSE);
  pc_modtest_add(m, 2 % threads, q, 2, "Q", 0, FALSE);
  pc_modtest_add(m, 0, r, 1, "R", 0, FALSE);
}

static const char month_csv[] =
    "cohort,period,customers,active,rate\n"
    "2023-12-01,0,1,1,1\n2023-12-01,1,1,0,0\n2023-12-01,2,1,0,0\n"
    "2024-01-01,0,1,1,1\n2024-01-01,1,1,1,1\n2024-01-01,2,1,0,0\n"
    "2024-02-01,0,1,1,1\n2024-02-01,1,1,0,0\n2024-02-01,2,1,1,1\n"
    "2024-03-01,0,1,1,1\n2024-03-01,1,1,0,0\n";

static char *retention_csv(PcPeriod period, guint n, const char *ret,
                           int threads, void (*fill)(PcModTest *, int)) {
  PcNames nm = names_new();
  PcJobConfig cfg = base_cfg();
  cfg.retention = TRUE;
  cfg.retention_period = period;
  cfg.retention_periods = n;
  cfg.return_event = (char *)ret;
  PcModTest *m = pc_modtest_new(&cfg, &nm, NULL, FALSE, threads, NULL);
  fill(m, threads);
  char *csv = csv_of(m, "retention");
  pc_modtest_free(m);
  names_clear(&nm);
  return csv;
}

/* The same bytes on 1 and 3 threads (instances merged). */
static void test_retention_month(void) {
  g_autofree char *one = retention_csv(PC_PERIOD_MONTH, 3, NULL, 1, add_month_fixture);
  g_autofree char *three = retention_csv(PC_PERIOD_MONTH, 3, NULL, 3, add_month_fixture);
  CU_ASSERT_STRING_EQUAL(one, month_csv);
  CU_ASSERT_STRING_EQUAL(three, month_csv);
}

/* return_event = bill: the rows stay (the latest event of any name), only
 * Q's April bill makes anyone active (Feb, j = 2); S's March bill is j = 3. */
static void test_retention_return_event(void) {
  g_autofree char *csv = retention_csv(PC_PERIOD_MONTH, 3, "bill", 2, add_month_fixture);
  CU_ASSERT_STRING_EQUAL(csv,
      "cohort,period,customers,active,rate\n"
      "2023-12-01,0,1,0,0\n2023-12-01,1,1,0,0\n2023-12-01,2,1,0,0\n"
      "2024-01-01,0,1,0,0\n2024-01-01,1,1,0,0\n2024-01-01,2,1,0,0\n"
      "2024-02-01,0,1,0,0\n2024-02-01,1,1,0,0\n2024-02-01,2,1,1,1\n"
      "2024-03-01,0,1,0,0\n2024-03-01,1,1,0,0\n");
}

/* Days around the leap day, N = 2: T 02-28T23:00 and 02-29T01:00; U
 * 02-29T23:59 and 03-01T00:00:01 (the latest). */
static void add_day_fixture(PcModTest *m, int threads) {
  static PcEvent t[2], u[2];
  t[0] = at("2024-02-28T23:00:00Z", VISIT), t[1] = at("2024-02-29T01:00:00Z", VISIT);
  u[0] = at("2024-02-29T23:59:00Z", VISIT), u[1] = at("2024-03-01T00:00:01Z", VISIT);
  pc_modtest_add(m, 0, t, 2, "T", 0, FALSE);
  pc_modtest_add(m, threads - 1, u, 2, "U", 0, FALSE);
}

static void test_retention_days_leap(void) {
  g_autofree char *csv = retention_csv(PC_PERIOD_DAY, 2, NULL, 2, add_day_fixture);
  CU_ASSERT_STRING_EQUAL(csv,
      "cohort,period,customers,active,rate\n"
      "2024-02-28,0,1,1,1\n2024-02-28,1,1,1,1\n"
      "2024-02-29,0,1,1,1\n2024-02-29,1,1,1,1\n");
}

/* Weeks of the same journeys: both in the week of Monday 02-26; U's March
 * event is the same week. N = 2: j = 1 (week of 03-04) is after the latest
 * event's week: one row. */
static void test_retention_weeks(void) {
  g_autofree char *csv = retention_csv(PC_PERIOD_WEEK, 2, NULL, 1, add_day_fixture);
  CU_ASSERT_STRING_EQUAL(csv, "cohort,period,customers,active,rate\n2024-02-26,0,2,2,1\n");
}

static void add_nothing(PcModTest *m, int threads) {}

static void test_retention_empty(void) {
  g_autofree char *csv = retention_csv(PC_PERIOD_MONTH, 12, NULL, 2, add_nothing);
  CU_ASSERT_STRING_EQUAL(csv, "cohort,period,customers,active,rate\n");
}

/* ---- retention over fake ranks -------------------------------------------------------- */

/* A gather of several ranks run one after the other: ranks 1..P-1 reduce
 * first and leave their bytes; rank 0's gather gets them in rank order. */
typedef struct {
  int rank;
  GByteArray *posted; /* what ranks 1.. sent, in order */
} FakeRank;

static gboolean fake_gather(void *ctx, const void *mine, size_t len,
                            GByteArray **out, GError **e) {
  FakeRank *r = ctx;
  *out = NULL;
  if (r->rank) {
    g_byte_array_append(r->posted, mine, (guint)len);
    return TRUE;
  }
  *out = g_byte_array_new();
  g_byte_array_append(*out, mine, (guint)len);
  g_byte_array_append(*out, r->posted->data, r->posted->len);
  return TRUE;
}

/* The module called name from the module table. */
static const PcModule *module(const char *name) {
  guint n;
  const PcModule *const *all = pc_modules_all(&n);
  for (guint i = 0; i < n; i++)
    if (!strcmp(all[i]->name, name)) return all[i];
  return NULL;
}

/* One rank of the retention module alone (the other modules would gather
 * too): its journeys folded in, reduced through ops, its table (rank 0). */
static char *retention_rank(const PcModuleEnv *env, PcEvent *const *ev,
                            const size_t *n, guint nj) {
  const PcModule *m = module("retention");
  void *self = m->create(env, NULL);
  g_autoptr(GArray) tok = g_array_new(FALSE, FALSE, sizeof(uint32_t));
  g_autoptr(GArray) ts = g_array_new(FALSE, FALSE, sizeof(int64_t));
  PcTokenMap tm = {PC_TOKEN_EVENT, NULL, 3};
  for (guint i = 0; i < nj; i++) {
    PcJourney j = {"x", 1, 0, ev[i], n[i], 0, FALSE, 0};
    PcJourneyView v;
    pc_journey_view(&v, &j, env->target, &tm, FALSE, tok, ts);
    m->add(self, &v);
  }
  char *csv = NULL;
  CU_ASSERT_TRUE(m->reduce(self, env, NULL));
  if (env->ops->rank == 0) {
    g_autoptr(PcOutputs) out = pc_outputs_new();
    CU_ASSERT_TRUE(m->tables(self, env, out, NULL));
    g_autoptr(GPtrArray) t = pc_outputs_finish(out);
    csv = pc_modtest_csv(pc_modtest_find(t, "retention"));
  }
  m->destroy(self);
  return csv;
}

/* The month fixture's customers dealt to 3 ranks (S, P | Q | R): rank 0's
 * table equals the one-rank table; the latest event (Q's) is on rank 1. */
static void test_retention_ranks(void) {
  PcNames nm = names_new();
  PcJobConfig cfg = base_cfg();
  cfg.retention = TRUE;
  cfg.retention_period = PC_PERIOD_MONTH;
  cfg.retention_periods = 3;
  g_autoptr(GByteArray) posted = g_byte_array_new();
  PcEvent s[] = {at("2023-12-31T23:59:59Z", VISIT), at("2024-03-15T00:00:00Z", BILL)};
  PcEvent p[] = {at("2024-01-31T23:59:59.999999Z", VISIT), at("2024-02-01T00:00:00Z", VISIT)};
  PcEvent q[] = {at("2024-02-29T12:00:00Z", VISIT), at("2024-04-01T00:00:00Z", BILL)};
  PcEvent r[] = {at("2024-03-01T00:00:00Z", VISIT)};
  PcEvent *const evs[3][2] = {{s, p}, {q}, {r}};
  const size_t ns[3][2] = {{2, 2}, {2}, {1}};
  const guint nj[3] = {2, 1, 1};
  PcTarget t = {0, NULL};
  PcFacts facts = {0};
  char *csv[3];
  for (int k = 2; k >= 0; k--) { /* rank 0 gathers last */
    FakeRank fr = {k, posted};
    PcCommOps ops = *pc_commops_serial();
    ops.ctx = &fr;
    ops.rank = k;
    ops.size = 3;
    ops.gather = fake_gather;
    PcModuleEnv env = {&cfg, &nm, nm.events, &t, FALSE, &ops, &facts, NULL};
    csv[k] = retention_rank(&env, evs[k], ns[k], nj[k]);
  }
  CU_ASSERT_PTR_NULL(csv[1]);
  CU_ASSERT_PTR_NULL(csv[2]);
  CU_ASSERT_STRING_EQUAL(csv[0], month_csv);
  g_free(csv[0]);
  names_clear(&nm);
}

/* ---- calendar periods (pc_time.h) --------------------------------------------------- */

static int64_t us_of(const char *iso) { return at(iso, 0).ts_us; }

static const char *date_of(int64_t us) {
  static char buf[PC_TIME_ISO_BYTES];
  return pc_time_format_date(us, buf);
}

/* Sunday 23:59:59.999999 and Monday 00:00 are consecutive weeks; weeks
 * start on Monday 00:00 UTC, also before the epoch and in year 0. */
static void test_period_weeks(void) {
  int64_t sun = us_of("2024-02-04T23:59:59.999999Z"), mon = us_of("2024-02-05T00:00:00Z");
  CU_ASSERT_EQUAL(pc_time_period_of(mon, PC_PERIOD_WEEK), pc_time_period_of(sun, PC_PERIOD_WEEK) + 1);
  CU_ASSERT_STRING_EQUAL(date_of(pc_time_period_start(pc_time_period_of(sun, PC_PERIOD_WEEK), PC_PERIOD_WEEK)), "2024-01-29");
  CU_ASSERT_EQUAL(pc_time_period_start(pc_time_period_of(mon, PC_PERIOD_WEEK), PC_PERIOD_WEEK), mon);
  CU_ASSERT_EQUAL(pc_time_period_of(0, PC_PERIOD_WEEK), 0); /* Thu 1970-01-01 */
  CU_ASSERT_STRING_EQUAL(date_of(pc_time_period_start(0, PC_PERIOD_WEEK)), "1969-12-29");
  CU_ASSERT_EQUAL(pc_time_period_of(us_of("1969-12-28T23:59:59Z"), PC_PERIOD_WEEK), -1);
  /* 0000-01-01 is a Saturday (like 2000-01-01: 400 years are whole weeks) */
  int64_t y0 = us_of("0000-01-01T00:00:00Z");
  CU_ASSERT_STRING_EQUAL(date_of(pc_time_period_start(pc_time_period_of(y0, PC_PERIOD_WEEK), PC_PERIOD_WEEK)), "-0001-12-27");
}

/* Month ends: leap February 2024 and 2000, common 2023 and 1900. */
static void test_period_months(void) {
  const char *last[] = {"2024-02-29T23:59:59.999999Z", "2023-02-28T23:59:59.999999Z",
                        "2000-02-29T23:59:59.999999Z", "1900-02-28T23:59:59.999999Z",
                        "1969-12-31T23:59:59.999999Z"};
  const char *next[] = {"2024-03-01", "2023-03-01", "2000-03-01", "1900-03-01", "1970-01-01"};
  for (int i = 0; i < 5; i++) {
    int64_t p = pc_time_period_of(us_of(last[i]), PC_PERIOD_MONTH);
    CU_ASSERT_STRING_EQUAL(date_of(pc_time_period_start(p + 1, PC_PERIOD_MONTH)), next[i]);
    CU_ASSERT_EQUAL(pc_time_period_of(pc_time_period_start(p + 1, PC_PERIOD_MONTH), PC_PERIOD_MONTH), p + 1);
  }
  CU_ASSERT_EQUAL(pc_time_period_of(0, PC_PERIOD_MONTH), 0);
  CU_ASSERT_EQUAL(pc_time_period_of(us_of("2024-02-15T00:00:00Z"), PC_PERIOD_MONTH), 54 * 12 + 1);
  CU_ASSERT_EQUAL(pc_time_period_of(-1, PC_PERIOD_DAY), -1);
  CU_ASSERT_STRING_EQUAL(date_of(pc_time_period_start(pc_time_period_of(us_of("2024-02-29T12:00:00Z"), PC_PERIOD_DAY), PC_PERIOD_DAY)), "2024-02-29");
}

/* ---- job keys ------------------------------------------------------------------------------ */

#define BASE "[input]\nstore = s\n[output]\ndir = o\n"

static PcJobConfig *load(const char *text, GError **e) {
  PcJobConfig *c = NULL;
  pc_config_load_data(text, "job.ini", NULL, &c, e);
  return c;
}

/* [scope] segments is free text ((unknown) included, trimmed); entry_event
 * an event name; [retention] with its defaults; split = segment. */
static void test_config_keys(void) {
  GError *e = NULL;
  g_autoptr(PcJobConfig) c = load(BASE "[scope]\nsegments = gold ; (unknown);a>b c\nentry_event = bill\n"
                                  "[retention]\nperiod = week\n"
                                  "[funnel.f]\nsteps = a;b\nwindow = 5\nsplit = segment\n", &e);
  CU_ASSERT_PTR_NOT_NULL_FATAL(c);
  CU_ASSERT_EQUAL_FATAL(c->n_scope_segments, 3);
  CU_ASSERT_STRING_EQUAL(c->scope_segments[1], "(unknown)");
  CU_ASSERT_STRING_EQUAL(c->scope_segments[2], "a>b c");
  CU_ASSERT_STRING_EQUAL(c->entry_event, "bill");
  CU_ASSERT_TRUE(c->retention);
  CU_ASSERT_EQUAL(c->retention_period, PC_PERIOD_WEEK);
  CU_ASSERT_EQUAL(c->retention_periods, 12);
  CU_ASSERT_PTR_NULL(c->return_event);
  CU_ASSERT_EQUAL(c->funnels[0].split, PC_SPLIT_SEGMENT);
  g_autofree char *json = pc_config_to_json(c);
  CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"scope\":{\"segments\":[\"gold\",\"(unknown)\",\"a>b c\"],\"entry_event\":\"bill\"}"));
  CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"retention\":{\"period\":\"week\",\"periods\":12,\"return_event\":null}"));
  CU_ASSERT_PTR_NOT_NULL(strstr(json, "\"split\":\"segment\""));
  g_autoptr(PcJobConfig) d = load(BASE, &e);
  CU_ASSERT_FALSE(d->retention);
  CU_ASSERT_PTR_NULL(d->scope_segments);
}

static void expect_config_error(const char *text, const char *needle) {
  GError *e = NULL;
  PcJobConfig *c = load(text, &e);
  CU_ASSERT_PTR_NULL(c);
  CU_ASSERT_PTR_NOT_NULL_FATAL(e);
  CU_ASSERT_EQUAL(e->code, PC_ERROR_CONFIG);
  if (!strstr(e->message, needle)) fprintf(stderr, "\n\"%s\" lacks \"%s\"\n", e->message, needle);
  CU_ASSERT_PTR_NOT_NULL(strstr(e->message, needle));
  g_error_free(e);
}

static void test_config_errors(void) {
  expect_config_error(BASE "[retention]\nperiods = 3\n", "missing required key period");
  expect_config_error(BASE "[retention]\nperiod = year\n", "is not one of: day, week, month");
  expect_config_error(BASE "[retention]\nperiod = day\nperiods = 0\n", "out of range (1..1000)");
  expect_config_error(BASE "[retention]\nperiod = day\nperiods = 1001\n", "out of range (1..1000)");
  expect_config_error(BASE "[retention]\nperiod = day\nreturn_event = (unknown)\n", "reserved");
  expect_config_error(BASE "[scope]\nentry_event = a,b\n", "is not an event name");
  expect_config_error(BASE "[scope]\nsegments = gold;;silver\n", "empty item");
  expect_config_error(BASE "[funnel.f]\nsteps = a\nwindow = 5\nsplit = region\n", "none, channel, segment");
}

PC_TEST_MAIN("monthly",
             {"/monthly/scope_segments_entry", test_scope_segments_entry},
             {"/monthly/scope_entry_ties", test_scope_entry_ties},
             {"/monthly/segments_table", test_segments_table},
             {"/monthly/segments_without_crm", test_segments_without_crm},
             {"/monthly/funnel_split_segment", test_funnel_split_segment},
             {"/monthly/retention_month", test_retention_month},
             {"/monthly/retention_return_event", test_retention_return_event},
             {"/monthly/retention_days_leap", test_retention_days_leap},
             {"/monthly/retention_weeks", test_retention_weeks},
             {"/monthly/retention_empty", test_retention_empty},
             {"/monthly/retention_ranks", test_retention_ranks},
             {"/monthly/period_weeks", test_period_weeks},
             {"/monthly/period_months", test_period_months},
             {"/monthly/config_keys", test_config_keys},
             {"/monthly/config_errors", test_config_errors})
