/* test_outcome.c - CUnit cases for the outcome analysis modules
 * (src/analytics: preceding.c §4 preceding tokens, funnels.c §5, drivers.c,
 * channels.c and nps.c §6, attribution.c §8), driven through the module
 * loop (pc_modset.h) exactly as a run drives them. Every expected number is
 * worked out by hand in the comment above its assert. */
#include "pc_attribution.h"
#include "pc_funnels.h"
#include "pc_modtest.h"
#include "pc_stats.h"
#include "pc_test.h"

#include <glib/gstdio.h>
#include <math.h>
#include <stdlib.h>
#include <unistd.h>

#define S 1000000 /* µs per second, and millionths per unit */

/* An event of a hand-written journey. */
typedef struct {
  int64_t ts_us;
  const char *ch;
  const char *ev;
  int64_t value; /* millionths */
} TEv;

static PcNames names_new(const char *const *ch, guint nch,
                         const char *const *ev, guint nev) {
  PcNames nm = {pc_dict_new_sorted((char **)ch, nch),
                pc_dict_new_sorted((char **)ev, nev), NULL, NULL, NULL};
  return nm;
}

static void names_clear(PcNames *nm) {
  pc_dict_free(nm->channels);
  pc_dict_free(nm->events);
}

static int cmp_event(const void *a, const void *b) {
  return pc_event_cmp(a, b);
}

/* Resolves and sorts n events into out (journey order of spec §2). */
static void events_build(const PcNames *nm, const TEv *in, size_t n,
                         PcEvent *out) {
  for (size_t i = 0; i < n; i++) {
    gint64 e = pc_dict_find(nm->events, in[i].ev);
    gint64 c = pc_dict_find(nm->channels, in[i].ch);
    g_assert(e >= 0 && c >= 0);
    out[i] = (PcEvent){in[i].ts_us, in[i].value, (uint32_t)e, (uint32_t)c};
  }
  qsort(out, n, sizeof *out, cmp_event);
}

/* The outcome analyses of one hand-made run: the journeys are kept and
 * replayed into a fresh module loop (pc_modtest.h) whenever tables are
 * asked for, so a test may change the names' kept flags and ask again. */
typedef struct {
  PcEvent ev[256];
  size_t n;
  int64_t revenue;
  gboolean has_rev;
} Rec;

typedef struct {
  PcJobConfig cfg;
  const PcNames *nm;
  const PcTarget *t;
  GArray *recs;         /* Rec */
  gboolean has_ct;
} Outcome;

/* The outcome summary rows (summary.csv). */
typedef struct {
  uint64_t customers, events, customers_with_outcome, customers_without_revenue,
      nps_invalid;
} OcSummary;

/* NULL with *err when a module refuses cfg (tried at once). */
static Outcome *oc_new(const PcJobConfig *cfg, const PcNames *nm,
                       const PcTarget *t, GError **err) {
  PcJobConfig c = *cfg;
  c.model = FALSE;
  PcModTest *probe = pc_modtest_new(&c, nm, t, FALSE, 1, err);
  if (!probe) return NULL;
  pc_modtest_free(probe);
  Outcome *o = g_new0(Outcome, 1);
  o->cfg = c;
  o->nm = nm;
  o->t = t;
  o->recs = g_array_new(FALSE, FALSE, sizeof(Rec));
  return o;
}

static void oc_free(Outcome *o) {
  g_array_unref(o->recs);
  g_free(o);
}

/* Tables the old outcome accumulator produced, in run order: the path
 * tables, preceding paths and summary are other modules' business here. */
static gboolean outcome_table(const char *name) {
  static const char *const skip[] = {"summary", "variants", "ngrams",
                                     "transitions", "prefix_tree",
                                     "transition_gaps", "preceding_paths",
                                     "flows", "sequence_drivers",
                                     "time_to_target", "attribution_models"};
  for (guint i = 0; i < G_N_ELEMENTS(skip); i++)
    if (!strcmp(name, skip[i])) return FALSE;
  return TRUE;
}

static uint64_t summary_of(GPtrArray *all, const char *key) {
  int64_t v = pc_modtest_summary(all, key);
  return v < 0 ? 0 : (uint64_t)v;
}

static GPtrArray *oc_tables(Outcome *o, OcSummary *sum) {
  PcModTest *m = pc_modtest_new(&o->cfg, o->nm, o->t, o->has_ct, 1, NULL);
  CU_ASSERT_PTR_NOT_NULL_FATAL(m);
  for (guint i = 0; i < o->recs->len; i++) {
    const Rec *r = &g_array_index(o->recs, Rec, i);
    pc_modtest_add(m, 0, r->ev, r->n, "c", r->revenue, r->has_rev);
  }
  GPtrArray *all = pc_modtest_tables(m);
  CU_ASSERT_PTR_NOT_NULL_FATAL(all);
  if (sum)
    *sum = (OcSummary){summary_of(all, "customers"), summary_of(all, "events"),
                       summary_of(all, "customers_with_outcome"),
                       summary_of(all, "customers_without_revenue"),
                       summary_of(all, "nps_invalid")};
  GPtrArray *tables = g_ptr_array_new_with_free_func((GDestroyNotify)pc_table_free);
  for (guint i = 0; i < all->len; i++)
    if (outcome_table(pc_table_name(all->pdata[i])))
      g_ptr_array_add(tables, g_steal_pointer(&all->pdata[i]));
  g_ptr_array_unref(all);
  pc_modtest_free(m);
  return tables;
}

/* Adds one journey with y and cut from pc_target_cut(). */
static void add_full(Outcome *o, const PcNames *nm, const PcTarget *t,
                     const TEv *in, size_t n, gboolean has_ct,
                     int64_t revenue, gboolean has_rev) {
  Rec r = {.n = n, .revenue = revenue, .has_rev = has_rev};
  g_assert(n <= 256 && t == o->t);
  events_build(nm, in, n, r.ev);
  o->has_ct = has_ct;
  g_array_append_val(o->recs, r);
}

static void add_j(Outcome *o, const PcNames *nm, const PcTarget *t,
                  const TEv *in, size_t n) {
  add_full(o, nm, t, in, n, FALSE, 0, FALSE);
}

/* Target of the event names (resolved against nm). events must hold n. */
static PcTarget target_of(const PcNames *nm, const char *name, uint32_t *buf) {
  PcTarget t = {0, buf};
  if (name) buf[t.n++] = (uint32_t)pc_dict_find(nm->events, name);
  return t;
}

static const PcTable *find_table(GPtrArray *tables, const char *name) {
  for (guint i = 0; i < tables->len; i++)
    if (!strcmp(pc_table_name(tables->pdata[i]), name)) return tables->pdata[i];
  return NULL;
}

static GPtrArray *tables_of(Outcome *o, const PcNames *nm, OcSummary *sum) {
  g_assert(nm == o->nm);
  return oc_tables(o, sum);
}

#define CELL_S(t, r, c) pc_table_get_string((t), (r), (c))
#define CELL_I(t, r, c) pc_table_get_int((t), (r), (c))
#define CELL_D(t, r, c) pc_table_get_double((t), (r), (c))
#define ASSERT_NEAR(x, y) CU_ASSERT_DOUBLE_EQUAL((x), (y), 1e-12 * (1 + fabs(y)))

static char *target_buy[] = {"buy", NULL};

/* ---- funnels table ------------------------------------------------------------ */

static void assert_funnel_row(const PcTable *t, guint r, const char *fn,
                              const char *split, int64_t step,
                              const char *token, int64_t cust,
                              double conv_prev, double conv_first,
                              int64_t drop) {
  CU_ASSERT_STRING_EQUAL(CELL_S(t, r, 0), fn);
  CU_ASSERT_STRING_EQUAL(CELL_S(t, r, 1), split);
  CU_ASSERT_EQUAL(CELL_I(t, r, 2), step);
  CU_ASSERT_STRING_EQUAL(CELL_S(t, r, 3), token);
  CU_ASSERT_EQUAL(CELL_I(t, r, 4), cust);
  if (step == 1) {
    CU_ASSERT_TRUE(pc_table_is_empty(t, r, 5));
    CU_ASSERT_TRUE(pc_table_is_empty(t, r, 7));
  } else {
    if (isnan(conv_prev)) {
      CU_ASSERT_TRUE(isnan(CELL_D(t, r, 5)));
    } else {
      ASSERT_NEAR(CELL_D(t, r, 5), conv_prev);
    }
    CU_ASSERT_EQUAL(CELL_I(t, r, 7), drop);
  }
  if (isnan(conv_first)) {
    CU_ASSERT_TRUE(isnan(CELL_D(t, r, 6)));
  } else {
    ASSERT_NEAR(CELL_D(t, r, 6), conv_first);
  }
}

/* Funnels f (a;b;c, W 100 s, split channel), ce (web:a;email:b) and zz
 * (nope;a: s1 unknown). Given unsorted: the table is by funnel name.
 *  c1: email a@0, web a@10, web b@20, web c@200: c is 200 s after a@0 and
 *      190 s after a@10 -> f level 2; split = email (first a).
 *      ce: web a@10, no email b -> 1.
 *  c2: web a@0, email b@50, web c@100 (= W) -> f 3, split web; ce 2.
 *  c3: web b@0 -> level 0 everywhere: only in (all).
 *  c4: web a@0, web b@1, web c@100 s + 1 µs -> f 2, split web; ce 1.
 * f (all): levels {2: c1 c4, 3: c2} -> customers 3, 3, 1; conv_prev -, 1,
 *   1/3; conv_first 1, 1, 1/3; drop_off -, #level1 = 0, #level2 = 2.
 * f email: {2: c1} -> 1, 1, 0; conv_prev 1, 0; drop_off 0, 1.
 * f web: {3: c2, 2: c4} -> 2, 2, 1; conv_prev 1, 1/2; drop_off 0, 1.
 * ce: levels {1: c1 c4, 2: c2} -> 3, 1; conv 1/3; drop_off 2.
 * zz: nobody -> 0, 0; conv_first 0/0 = nan; conv_prev nan; drop_off 0. */
static void test_funnel_table(void) {
  const char *ch[] = {"web", "email"}, *ev[] = {"a", "b", "c"};
  PcNames nm = names_new(ch, 2, ev, 3);
  char *f_steps[] = {"a", "b", "c", NULL}, *ce_steps[] = {"web:a", "email:b", NULL};
  char *zz_steps[] = {"nope", "a", NULL};
  PcFunnelConfig fc[] = {{"f", f_steps, 3, 100, FALSE, TRUE, 0},
                         {"zz", zz_steps, 2, 100, FALSE, FALSE, 0},
                         {"ce", ce_steps, 2, 100, TRUE, FALSE, 0}};
  PcJobConfig cfg = {0};
  cfg.funnels = fc;
  cfg.n_funnels = 3;
  Outcome *o = oc_new(&cfg, &nm, NULL, NULL);
  CU_ASSERT_PTR_NOT_NULL_FATAL(o);
  TEv c1[] = {{0, "email", "a", 0}, {10 * S, "web", "a", 0},
              {20 * S, "web", "b", 0}, {200 * S, "web", "c", 0}};
  TEv c2[] = {{0, "web", "a", 0}, {50 * S, "email", "b", 0},
              {100 * S, "web", "c", 0}};
  TEv c3[] = {{0, "web", "b", 0}};
  TEv c4[] = {{0, "web", "a", 0}, {S, "web", "b", 0}, {100 * S + 1, "web", "c", 0}};
  add_j(o, &nm, NULL, c1, 4);
  add_j(o, &nm, NULL, c2, 3);
  add_j(o, &nm, NULL, c3, 1);
  add_j(o, &nm, NULL, c4, 3);
  GPtrArray *tables = tables_of(o, &nm, NULL);
  /* No target: funnels, funnel times and channels only, in that order. */
  CU_ASSERT_EQUAL(tables->len, 3);
  CU_ASSERT_STRING_EQUAL(pc_table_name(tables->pdata[0]), "funnels");
  CU_ASSERT_STRING_EQUAL(pc_table_name(tables->pdata[1]), "funnel_times");
  CU_ASSERT_STRING_EQUAL(pc_table_name(tables->pdata[2]), "channels");
  const PcTable *t = tables->pdata[0];
  CU_ASSERT_EQUAL_FATAL(pc_table_nrows(t), 2 + 9 + 2);
  assert_funnel_row(t, 0, "ce", "(all)", 1, "web:a", 3, 0, 1, 0);
  assert_funnel_row(t, 1, "ce", "(all)", 2, "email:b", 1, 1.0 / 3, 1.0 / 3, 2);
  assert_funnel_row(t, 2, "f", "(all)", 1, "a", 3, 0, 1, 0);
  assert_funnel_row(t, 3, "f", "(all)", 2, "b", 3, 1, 1, 0);
  assert_funnel_row(t, 4, "f", "(all)", 3, "c", 1, 1.0 / 3, 1.0 / 3, 2);
  assert_funnel_row(t, 5, "f", "email", 1, "a", 1, 0, 1, 0);
  assert_funnel_row(t, 6, "f", "email", 2, "b", 1, 1, 1, 0);
  assert_funnel_row(t, 7, "f", "email", 3, "c", 0, 0, 0, 1);
  assert_funnel_row(t, 8, "f", "web", 1, "a", 2, 0, 1, 0);
  assert_funnel_row(t, 9, "f", "web", 2, "b", 2, 1, 1, 0);
  assert_funnel_row(t, 10, "f", "web", 3, "c", 1, 0.5, 0.5, 1);
  assert_funnel_row(t, 11, "zz", "(all)", 1, "nope", 0, 0, NAN, 0);
  assert_funnel_row(t, 12, "zz", "(all)", 2, "a", 0, NAN, NAN, 0);
  /* funnel_times, in the rows of funnels.csv, steps >= 2: t_2 of c1 is
   * 10 s (a@10 b@20 beats a@0 b@20), c2 50 s, c4 1 s; t_3 of c2 100 s.
   * f (all) step 2: 1, 10, 50 -> ranks ceil(.75) = 1, ceil(1.5) = 2,
   * ceil(2.7) = 3; f web step 2: 1, 50 -> ranks 1, 1, 2; ce: c2's 50 s. */
  g_autofree char *times = pc_modtest_csv(tables->pdata[1]);
  CU_ASSERT_STRING_EQUAL(times,
                         "funnel,split,step,customers,p25_s,median_s,p90_s\n"
                         "ce,(all),2,1,50,50,50\n"
                         "f,(all),2,3,1,10,50\n"
                         "f,(all),3,1,100,100,100\n"
                         "f,email,2,1,10,10,10\n"
                         "f,email,3,0,,,\n"
                         "f,web,2,2,1,1,50\n"
                         "f,web,3,1,100,100,100\n"
                         "zz,(all),2,0,,,\n");
  g_ptr_array_unref(tables);
  oc_free(o);
  names_clear(&nm);
}

/* ---- drivers ---------------------------------------------------------------------- */

static void test_ratio_rules(void) {
  CU_ASSERT_EQUAL(pc_stats_ratio(3, 2), 1.5);
  CU_ASSERT_TRUE(isinf(pc_stats_ratio(1, 0)) && pc_stats_ratio(1, 0) > 0);
  CU_ASSERT_TRUE(isnan(pc_stats_ratio(0, 0)));
  CU_ASSERT_TRUE(isnan(pc_stats_ratio(NAN, 0)));
  CU_ASSERT_TRUE(isnan(pc_stats_ratio(NAN, 2)));
  CU_ASSERT_TRUE(isnan(pc_stats_ratio(1, NAN)));
}

/* N = 10, Y = 4, n = 5, a = 3: table [[3, 2], [1, 4]], expected counts
 * E = [[2, 3], [2, 3]]; chi2 = 1/2 + 1/3 + 1/2 + 1/3 = 5/3
 * = N (3*4 - 2*1)^2 / (5*5*4*6) = 1000/600. Any empty margin -> 0. */
static void test_chi2(void) {
  ASSERT_NEAR(pc_stats_chi2(10, 4, 5, 3), 5.0 / 3);
  CU_ASSERT_EQUAL(pc_stats_chi2(10, 4, 10, 4), 0); /* N - n = 0 */
  CU_ASSERT_EQUAL(pc_stats_chi2(10, 0, 5, 0), 0);  /* Y = 0 */
  CU_ASSERT_EQUAL(pc_stats_chi2(10, 10, 5, 5), 0); /* N - Y = 0 */
  CU_ASSERT_EQUAL(pc_stats_chi2(10, 4, 5, 2), 0);  /* independent: det 0 */
}

/* Fixture of 4 customers, target buy (values in units):
 *  c1: web visit@1, web click@2, store buy@3 (10.5)  y = 1, pre {visit, click}
 *  c2: web visit@1, email click@2, email buy@3 (2)   y = 1, pre {visit, click}
 *  c3: web visit@1, email click@2                    y = 0
 *  c4: store visit@1                                 y = 0
 * N = 4, Y = 2. */
static const TEv D1[] = {{1, "web", "visit", 0}, {2, "web", "click", 0},
                         {3, "store", "buy", 10500000}};
static const TEv D2[] = {{1, "web", "visit", 0}, {2, "email", "click", 0},
                         {3, "email", "buy", 2 * S}};
static const TEv D3[] = {{1, "web", "visit", 0}, {2, "email", "click", 0}};
static const TEv D4[] = {{1, "store", "visit", 0}};
static const char *D_CH[] = {"web", "email", "store"};
static const char *D_EV[] = {"visit", "click", "buy"};

static Outcome *drivers_fixture(PcNames *nm, PcTarget *t, uint32_t *buf,
                                  guint lookback, gboolean has_ct) {
  *nm = names_new(D_CH, 3, D_EV, 3);
  *t = target_of(nm, "buy", buf);
  PcJobConfig cfg = {0};
  cfg.target_events = target_buy;
  cfg.n_target_events = 1;
  cfg.lookback = lookback;
  cfg.attribution = TRUE;
  Outcome *o = oc_new(&cfg, nm, t, NULL);
  /* Customers table: c1 revenue 100, c2 absent, c3 revenue 5, c4 absent. */
  add_full(o, nm, t, D1, 3, has_ct, 100 * S, TRUE);
  add_full(o, nm, t, D2, 3, has_ct, 0, FALSE);
  add_full(o, nm, t, D3, 2, has_ct, 5 * S, TRUE);
  add_full(o, nm, t, D4, 1, has_ct, 0, FALSE);
  return o;
}

/* drivers.csv:
 *  click: n = 3 (c1 c2 c3), a = 2: rate_with 2/3; rate_without 0/1 = 0;
 *    lift (2/3)/(2/4) = 4/3; risk_ratio (2/3)/0 = inf; table [[2,1],[0,1]]:
 *    chi2 = 4 (2*1 - 1*0)^2 / (3*1*2*2) = 4/3; coverage 2/2 = 1;
 *    revenue (no customers table) = event values of c1 + c2 = 12.5.
 *  visit: n = 4, a = 2: rate_with 1/2; rate_without 0/0 = nan; lift 1;
 *    risk_ratio nan; chi2 0 (N - n = 0); coverage 1; revenue 12.5.
 * Order: chi2 desc -> click, visit. buy is never pre-target: no row. */
static void test_drivers_by_hand(void) {
  PcNames nm;
  PcTarget t;
  uint32_t buf[1];
  Outcome *o = drivers_fixture(&nm, &t, buf, 5, FALSE);
  OcSummary sum;
  GPtrArray *tables = tables_of(o, &nm, &sum);
  CU_ASSERT_EQUAL(sum.customers, 4);
  CU_ASSERT_EQUAL(sum.events, 9);
  CU_ASSERT_EQUAL(sum.customers_with_outcome, 2);
  CU_ASSERT_EQUAL(sum.customers_without_revenue, 0);
  const PcTable *d = find_table(tables, "drivers");
  CU_ASSERT_PTR_NOT_NULL_FATAL(d);
  CU_ASSERT_EQUAL_FATAL(pc_table_nrows(d), 2);
  CU_ASSERT_STRING_EQUAL(CELL_S(d, 0, 0), "click");
  CU_ASSERT_EQUAL(CELL_I(d, 0, 1), 3);
  CU_ASSERT_EQUAL(CELL_I(d, 0, 2), 2);
  ASSERT_NEAR(CELL_D(d, 0, 3), 2.0 / 3);
  CU_ASSERT_EQUAL(CELL_D(d, 0, 4), 0);
  ASSERT_NEAR(CELL_D(d, 0, 5), 4.0 / 3);
  CU_ASSERT_TRUE(isinf(CELL_D(d, 0, 6)) && CELL_D(d, 0, 6) > 0);
  ASSERT_NEAR(CELL_D(d, 0, 7), 4.0 / 3);
  CU_ASSERT_EQUAL(CELL_D(d, 0, 8), 1);
  CU_ASSERT_EQUAL(CELL_I(d, 0, 9), 12500000);
  CU_ASSERT_STRING_EQUAL(CELL_S(d, 1, 0), "visit");
  CU_ASSERT_EQUAL(CELL_I(d, 1, 1), 4);
  CU_ASSERT_EQUAL(CELL_D(d, 1, 3), 0.5);
  CU_ASSERT_TRUE(isnan(CELL_D(d, 1, 4)));
  CU_ASSERT_EQUAL(CELL_D(d, 1, 5), 1);
  CU_ASSERT_TRUE(isnan(CELL_D(d, 1, 6)));
  CU_ASSERT_EQUAL(CELL_D(d, 1, 7), 0);
  CU_ASSERT_EQUAL(CELL_I(d, 1, 9), 12500000);
  g_ptr_array_unref(tables);
  oc_free(o);
  names_clear(&nm);
}

/* channel_drivers.csv (channels before the target: c1 {web}, c2 {web,
 * email}, c3 {web, email}, c4 {store}):
 *  store: n 1, a 0: rate_with 0, rate_without 2/3, lift 0, rr 0;
 *    [[0,1],[2,1]]: chi2 = 4 (0 - 2)^2 / (1*3*2*2) = 4/3; coverage 0.
 *  web: n 3, a 2: as click above, chi2 = 4 * 2^2 / (3*1*2*2) = 4/3.
 *  email: n 2, a 1: 1/2, 1/2, lift 1, rr 1, det 0 -> chi2 0; coverage 1/2.
 * Order: chi2 desc, ties by name: store, web (both 16/12), email.
 * With the customers table, revenue at risk is c1's 100 (c2 is absent:
 * revenue 0), and customers_without_revenue = 2 (c2, c4). */
static void test_channel_drivers_by_hand(void) {
  PcNames nm;
  PcTarget t;
  uint32_t buf[1];
  Outcome *o = drivers_fixture(&nm, &t, buf, 5, TRUE);
  OcSummary sum;
  GPtrArray *tables = tables_of(o, &nm, &sum);
  CU_ASSERT_EQUAL(sum.customers_without_revenue, 2);
  const PcTable *d = find_table(tables, "channel_drivers");
  CU_ASSERT_PTR_NOT_NULL_FATAL(d);
  CU_ASSERT_EQUAL_FATAL(pc_table_nrows(d), 3);
  CU_ASSERT_STRING_EQUAL(CELL_S(d, 0, 0), "store");
  CU_ASSERT_EQUAL(CELL_I(d, 0, 1), 1);
  CU_ASSERT_EQUAL(CELL_I(d, 0, 2), 0);
  CU_ASSERT_EQUAL(CELL_D(d, 0, 3), 0);
  ASSERT_NEAR(CELL_D(d, 0, 4), 2.0 / 3);
  CU_ASSERT_EQUAL(CELL_D(d, 0, 5), 0);
  CU_ASSERT_EQUAL(CELL_D(d, 0, 6), 0);
  ASSERT_NEAR(CELL_D(d, 0, 7), 4.0 / 3);
  CU_ASSERT_EQUAL(CELL_D(d, 0, 8), 0);
  CU_ASSERT_EQUAL(CELL_I(d, 0, 9), 0);
  CU_ASSERT_STRING_EQUAL(CELL_S(d, 1, 0), "web");
  CU_ASSERT_TRUE(isinf(CELL_D(d, 1, 6)));
  CU_ASSERT_EQUAL(CELL_I(d, 1, 9), 100 * S);
  CU_ASSERT_STRING_EQUAL(CELL_S(d, 2, 0), "email");
  CU_ASSERT_EQUAL(CELL_D(d, 2, 5), 1);
  CU_ASSERT_EQUAL(CELL_D(d, 2, 6), 1);
  CU_ASSERT_EQUAL(CELL_D(d, 2, 7), 0);
  CU_ASSERT_EQUAL(CELL_D(d, 2, 8), 0.5);
  CU_ASSERT_EQUAL(CELL_I(d, 2, 9), 0);
  /* drivers.csv revenue now from the table: click = c1 100 + c2 0. */
  const PcTable *dr = find_table(tables, "drivers");
  CU_ASSERT_EQUAL(CELL_I(dr, 0, 9), 100 * S);
  g_ptr_array_unref(tables);
  oc_free(o);
  names_clear(&nm);
}

/* channels.csv (channel asc; all events, not only pre-target):
 *  email: events 3 (c2 click, c2 buy, c3 click), customers 2, pre 2,
 *    outcome_rate 1/2, value_sum 2, mean 2/3.
 *  store: events 2 (c1 buy, c4 visit), customers 2, pre 1 (c4),
 *    rate 0/1 = 0, value 10.5, mean 5.25.
 *  web: events 4, customers 3, pre 3, rate 2/3, value 0, mean 0.
 * With channel_kept hiding email, only store and web are listed. */
static void test_channels_kpi(void) {
  PcNames nm;
  PcTarget t;
  uint32_t buf[1];
  Outcome *o = drivers_fixture(&nm, &t, buf, 5, FALSE);
  GPtrArray *tables = tables_of(o, &nm, NULL);
  const PcTable *c = find_table(tables, "channels");
  CU_ASSERT_EQUAL_FATAL(pc_table_nrows(c), 3);
  CU_ASSERT_STRING_EQUAL(CELL_S(c, 0, 0), "email");
  CU_ASSERT_EQUAL(CELL_I(c, 0, 1), 3);
  CU_ASSERT_EQUAL(CELL_I(c, 0, 2), 2);
  CU_ASSERT_EQUAL(CELL_I(c, 0, 3), 2);
  CU_ASSERT_EQUAL(CELL_D(c, 0, 4), 0.5);
  CU_ASSERT_EQUAL(CELL_I(c, 0, 5), 2 * S);
  ASSERT_NEAR(CELL_D(c, 0, 6), 2.0 / 3);
  CU_ASSERT_STRING_EQUAL(CELL_S(c, 1, 0), "store");
  CU_ASSERT_EQUAL(CELL_I(c, 1, 1), 2);
  CU_ASSERT_EQUAL(CELL_I(c, 1, 3), 1);
  CU_ASSERT_EQUAL(CELL_D(c, 1, 4), 0);
  CU_ASSERT_EQUAL(CELL_I(c, 1, 5), 10500000);
  CU_ASSERT_EQUAL(CELL_D(c, 1, 6), 5.25);
  CU_ASSERT_STRING_EQUAL(CELL_S(c, 2, 0), "web");
  CU_ASSERT_EQUAL(CELL_I(c, 2, 1), 4);
  CU_ASSERT_EQUAL(CELL_I(c, 2, 2), 3);
  ASSERT_NEAR(CELL_D(c, 2, 4), 2.0 / 3);
  CU_ASSERT_EQUAL(CELL_D(c, 2, 6), 0);
  g_ptr_array_unref(tables);
  guint8 kept[3] = {0, 1, 1}; /* ids: email 0, store 1, web 2 */
  nm.channel_kept = kept;
  tables = tables_of(o, &nm, NULL);
  c = find_table(tables, "channels");
  CU_ASSERT_EQUAL_FATAL(pc_table_nrows(c), 2);
  CU_ASSERT_STRING_EQUAL(CELL_S(c, 0, 0), "store");
  CU_ASSERT_EQUAL(pc_table_nrows(find_table(tables, "attribution")), 2);
  g_ptr_array_unref(tables);
  oc_free(o);
  names_clear(&nm);
}

/* preceding_tokens with lookback 5: c1 {visit, click}, c2 {visit, click}
 * -> click 2 (share 2/2), visit 2; ties by token asc. With lookback 1 the
 * last pre-target event of both is click -> click only. Table order:
 * preceding_tokens, drivers, channel_drivers, channels, attribution. */
static void test_preceding_tokens(void) {
  PcNames nm;
  PcTarget t;
  uint32_t buf[1];
  Outcome *o = drivers_fixture(&nm, &t, buf, 5, FALSE);
  GPtrArray *tables = tables_of(o, &nm, NULL);
  const char *order[] = {"preceding_tokens", "drivers", "channel_drivers",
                         "channels", "attribution"};
  CU_ASSERT_EQUAL_FATAL(tables->len, 5);
  for (guint i = 0; i < 5; i++)
    CU_ASSERT_STRING_EQUAL(pc_table_name(tables->pdata[i]), order[i]);
  const PcTable *p = tables->pdata[0];
  CU_ASSERT_EQUAL_FATAL(pc_table_nrows(p), 2);
  CU_ASSERT_STRING_EQUAL(CELL_S(p, 0, 0), "click");
  CU_ASSERT_EQUAL(CELL_I(p, 0, 1), 2);
  CU_ASSERT_EQUAL(CELL_D(p, 0, 2), 1);
  CU_ASSERT_STRING_EQUAL(CELL_S(p, 1, 0), "visit");
  g_ptr_array_unref(tables);
  oc_free(o);
  names_clear(&nm);
  o = drivers_fixture(&nm, &t, buf, 1, FALSE);
  tables = tables_of(o, &nm, NULL);
  p = find_table(tables, "preceding_tokens");
  CU_ASSERT_EQUAL_FATAL(pc_table_nrows(p), 1);
  CU_ASSERT_STRING_EQUAL(CELL_S(p, 0, 0), "click");
  g_ptr_array_unref(tables);
  oc_free(o);
  names_clear(&nm);
}

/* ---- NPS ---------------------------------------------------------------------------- */

/* kpi.nps_event = nps, no target:
 *  c1: web visit@1, nps@2 = 9, nps@3 = 10, email visit@4, nps@5 = 6
 *      -> web promoter x2 (the nps@2 before nps@3 is skipped), email detractor
 *  c2: nps@1 = 7, nps@2 = 11 (invalid), nps@3 = 8.5 (invalid), nps@4 empty
 *      -> (unknown) passive, (unknown) detractor (empty = 0)
 *  c3: nps@1 = -1 (invalid), store visit@2, nps@3 = 10 -> store promoter
 * (all): 6 responses, 3 promoters, 1 passive, 2 detractors,
 *   nps = 100 (3 - 2) / 6 = 16.67. Rows: (all), then "(unknown)" (0x28
 *   sorts before letters) -50, email -100, store 100, web 100.
 * nps_invalid = 3. */
static void test_nps(void) {
  const char *ch[] = {"web", "email", "store"}, *ev[] = {"visit", "nps"};
  PcNames nm = names_new(ch, 3, ev, 2);
  PcJobConfig cfg = {0};
  cfg.nps_event = "nps";
  Outcome *o = oc_new(&cfg, &nm, NULL, NULL);
  TEv c1[] = {{1, "web", "visit", 0}, {2, "web", "nps", 9 * S},
              {3, "email", "nps", 10 * S}, {4, "email", "visit", 0},
              {5, "web", "nps", 6 * S}};
  TEv c2[] = {{1, "web", "nps", 7 * S}, {2, "web", "nps", 11 * S},
              {3, "web", "nps", 8500000}, {4, "web", "nps", 0}};
  TEv c3[] = {{1, "web", "nps", -S}, {2, "store", "visit", 0},
              {3, "web", "nps", 10 * S}};
  add_j(o, &nm, NULL, c1, 5);
  add_j(o, &nm, NULL, c2, 4);
  add_j(o, &nm, NULL, c3, 3);
  OcSummary sum;
  GPtrArray *tables = tables_of(o, &nm, &sum);
  CU_ASSERT_EQUAL(sum.nps_invalid, 3);
  CU_ASSERT_EQUAL(tables->len, 2); /* channels, nps */
  const PcTable *t = find_table(tables, "nps");
  CU_ASSERT_PTR_NOT_NULL_FATAL(t);
  CU_ASSERT_EQUAL_FATAL(pc_table_nrows(t), 5);
  const char *rows[] = {"(all)", "(unknown)", "email", "store", "web"};
  const int64_t want[5][4] = {{6, 3, 1, 2}, {2, 0, 1, 1}, {1, 0, 0, 1},
                              {1, 1, 0, 0}, {2, 2, 0, 0}};
  const double nps[] = {100.0 / 6, -50, -100, 100, 100};
  for (guint r = 0; r < 5; r++) {
    CU_ASSERT_STRING_EQUAL(CELL_S(t, r, 0), rows[r]);
    for (guint k = 0; k < 4; k++) CU_ASSERT_EQUAL(CELL_I(t, r, 1 + k), want[r][k]);
    ASSERT_NEAR(CELL_D(t, r, 5), nps[r]);
  }
  g_ptr_array_unref(tables);
  oc_free(o);
  names_clear(&nm);
}

/* ---- attribution -------------------------------------------------------------------- */

/* J1: A x, B x, A buy (y = 1, pre A B); J2: A x (y = 0); J3: B x, B buy
 * (y = 1, pre B). Transitions: ^->A 2, ^->B 1, A->B 1, A->null 1,
 * B->conv 2. x_B = 1, x_A = 1/2 x_B = 1/2, P = x_^ = 2/3 (1/2) + 1/3 = 2/3.
 * Remove A: ^->A goes to null: x_^ = 1/3 -> effect 1 - (1/3)/(2/3) = 1/2.
 * Remove B: x_A = 0, x_^ = 0 -> effect 1. Shares 1/3, 2/3; conversions
 * (Y = 2) 2/3, 4/3. First: A 1 (J1), B 1 (J3); last: A 0, B 2; linear:
 * A 1/2, B 1/2 + 1 = 3/2. Channel C is never used: all 0. */
static void test_markov_by_hand(void) {
  const char *ch[] = {"A", "B", "C"}, *ev[] = {"x", "buy"};
  PcNames nm = names_new(ch, 3, ev, 2);
  uint32_t buf[1];
  PcTarget t = target_of(&nm, "buy", buf);
  PcJobConfig cfg = {0};
  cfg.target_events = target_buy;
  cfg.n_target_events = 1;
  cfg.attribution = TRUE;
  Outcome *o = oc_new(&cfg, &nm, &t, NULL);
  TEv j1[] = {{1, "A", "x", 0}, {2, "B", "x", 0}, {3, "A", "buy", 0}};
  TEv j2[] = {{1, "A", "x", 0}};
  TEv j3[] = {{1, "B", "x", 0}, {2, "B", "buy", 0}};
  add_j(o, &nm, &t, j1, 3);
  add_j(o, &nm, &t, j2, 1);
  add_j(o, &nm, &t, j3, 2);
  GPtrArray *tables = tables_of(o, &nm, NULL);
  const PcTable *a = find_table(tables, "attribution");
  CU_ASSERT_EQUAL_FATAL(pc_table_nrows(a), 3);
  const double want[3][6] = {{1, 0, 0.5, 0.5, 1.0 / 3, 2.0 / 3},
                             {1, 2, 1.5, 1, 2.0 / 3, 4.0 / 3},
                             {0, 0, 0, 0, 0, 0}};
  for (guint r = 0; r < 3; r++) {
    CU_ASSERT_STRING_EQUAL(CELL_S(a, r, 0), ch[r]);
    CU_ASSERT_EQUAL(CELL_I(a, r, 1), (int64_t)want[r][0]);
    CU_ASSERT_EQUAL(CELL_I(a, r, 2), (int64_t)want[r][1]);
    for (guint k = 2; k < 6; k++) ASSERT_NEAR(CELL_D(a, r, 1 + k), want[r][k]);
  }
  /* The kernel directly: rows ^, A, B, C; columns A, B, C, conv, null. */
  const int64_t counts[] = {2, 1, 0, 0, 0,  /* ^ */
                            0, 1, 0, 0, 1,  /* A */
                            0, 0, 0, 2, 0,  /* B */
                            0, 0, 0, 0, 0}; /* C */
  ASSERT_NEAR(pc_markov_pconv(counts, 3, -1), 2.0 / 3);
  ASSERT_NEAR(pc_markov_pconv(counts, 3, 0), 1.0 / 3);
  CU_ASSERT_EQUAL(pc_markov_pconv(counts, 3, 1), 0);
  g_ptr_array_unref(tables);
  oc_free(o);
  names_clear(&nm);
}

/* Self-loops and an empty pre-target journey. J1: A x, A x, A buy (pre A A:
 * ^->A, A->A, A->conv); J2: buy at once (^ -> conv); J3: A x (A->null).
 * x_A = (1 + x_A)/3 ... out(A) = 3: 3 x_A = x_A + 1 -> x_A = 1/2;
 * x_^ = (2 x_A + 1)/3 = 2/3. Remove A: x_^ = 1/3 -> effect 1/2, share 1,
 * conversions Y = 2. First/last A 1 each (J2 credits nobody); linear 1.
 * No conversion at all (P = 0): effect, share and conversions are nan. */
static void test_markov_loops_and_empty(void) {
  const char *ch[] = {"A"}, *ev[] = {"x", "buy"};
  PcNames nm = names_new(ch, 1, ev, 2);
  uint32_t buf[1];
  PcTarget t = target_of(&nm, "buy", buf);
  PcJobConfig cfg = {0};
  cfg.target_events = target_buy;
  cfg.n_target_events = 1;
  cfg.attribution = TRUE;
  Outcome *o = oc_new(&cfg, &nm, &t, NULL);
  Outcome *none = oc_new(&cfg, &nm, &t, NULL);
  TEv j1[] = {{1, "A", "x", 0}, {2, "A", "x", 0}, {3, "A", "buy", 0}};
  TEv j2[] = {{1, "A", "buy", 0}};
  TEv j3[] = {{1, "A", "x", 0}};
  add_j(o, &nm, &t, j1, 3);
  add_j(o, &nm, &t, j2, 1);
  add_j(o, &nm, &t, j3, 1);
  add_j(none, &nm, &t, j3, 1);
  GPtrArray *tables = tables_of(o, &nm, NULL);
  const PcTable *a = find_table(tables, "attribution");
  CU_ASSERT_EQUAL(CELL_I(a, 0, 1), 1);
  CU_ASSERT_EQUAL(CELL_I(a, 0, 2), 1);
  CU_ASSERT_EQUAL(CELL_D(a, 0, 3), 1);
  ASSERT_NEAR(CELL_D(a, 0, 4), 0.5);
  CU_ASSERT_EQUAL(CELL_D(a, 0, 5), 1);
  CU_ASSERT_EQUAL(CELL_D(a, 0, 6), 2);
  g_ptr_array_unref(tables);
  tables = tables_of(none, &nm, NULL);
  a = find_table(tables, "attribution");
  for (guint k = 4; k <= 6; k++) CU_ASSERT_TRUE(isnan(CELL_D(a, 0, k)));
  g_ptr_array_unref(tables);
  oc_free(o);
  oc_free(none);
  names_clear(&nm);
}

/* Linear credit: A B A buy -> A 2/3, B 1/3 (exact counts, length 3); a
 * pre-target journey of 100 events (over PC_ATTRIBUTION_LINEAR_EXACT_MAX) with
 * A at i % 3 == 0 (34 times) and B elsewhere (66) -> A 0.34, B 0.66 (fixed
 * point, error < 2^-62). Totals A 0.34 + 2/3, B 0.66 + 1/3. */
static void test_linear_credit(void) {
  const char *ch[] = {"A", "B"}, *ev[] = {"x", "buy"};
  PcNames nm = names_new(ch, 2, ev, 2);
  uint32_t buf[1];
  PcTarget t = target_of(&nm, "buy", buf);
  PcJobConfig cfg = {0};
  cfg.target_events = target_buy;
  cfg.n_target_events = 1;
  cfg.attribution = TRUE;
  Outcome *o = oc_new(&cfg, &nm, &t, NULL);
  TEv s[] = {{1, "A", "x", 0}, {2, "B", "x", 0}, {3, "A", "x", 0},
             {4, "A", "buy", 0}};
  add_j(o, &nm, &t, s, 4);
  TEv l[101];
  for (int i = 0; i < 100; i++) l[i] = (TEv){i, i % 3 == 0 ? "A" : "B", "x", 0};
  l[100] = (TEv){1000, "B", "buy", 0};
  add_j(o, &nm, &t, l, 101);
  GPtrArray *tables = tables_of(o, &nm, NULL);
  const PcTable *a = find_table(tables, "attribution");
  CU_ASSERT_DOUBLE_EQUAL(CELL_D(a, 0, 3), 0.34 + 2.0 / 3, 1e-15);
  CU_ASSERT_DOUBLE_EQUAL(CELL_D(a, 1, 3), 0.66 + 1.0 / 3, 1e-15);
  CU_ASSERT_EQUAL(CELL_I(a, 0, 1), 2); /* first: A in both */
  CU_ASSERT_EQUAL(CELL_I(a, 0, 2), 2); /* last: A@3, and i = 99 is A */
  CU_ASSERT_EQUAL(CELL_I(a, 1, 2), 0);
  g_ptr_array_unref(tables);
  oc_free(o);
  names_clear(&nm);
}

/* ---- merge -------------------------------------------------------------------------- */

/* 60 pseudo-random journeys (some over 64 events), every analysis on.
 * One instance in order; two thread instances split odd/even; three split
 * by blocks and fed in reverse: after the module loop merges the threads,
 * every table is the same CSV bytes. */
static char *csv_all(GPtrArray *tables) {
  GString *s = g_string_new(NULL);
  for (guint i = 0; i < tables->len; i++) {
    g_autofree char *c = pc_modtest_csv(tables->pdata[i]);
    g_string_append_printf(s, "== %s\n%s", pc_table_name(tables->pdata[i]), c ? c : "?");
  }
  return g_string_free(s, FALSE);
}

static void test_merge_order(void) {
  const char *ch[] = {"app", "email", "web"};
  const char *ev[] = {"buy", "click", "nps", "view"};
  PcNames nm = names_new(ch, 3, ev, 4);
  uint32_t buf[1];
  PcTarget t = target_of(&nm, "buy", buf);
  char *steps[] = {"view", "click", "view", NULL};
  PcFunnelConfig fc = {"f", steps, 3, 30, FALSE, TRUE, 0};
  PcJobConfig cfg = {0};
  cfg.target_events = target_buy;
  cfg.n_target_events = 1;
  cfg.lookback = 3;
  cfg.attribution = TRUE;
  cfg.nps_event = "nps";
  cfg.funnels = &fc;
  cfg.n_funnels = 1;
  cfg.ngram_max = 3;
  cfg.depth = 4;
  static PcEvent js[60][120];
  size_t lens[60];
  uint64_t r = 42;
  for (int k = 0; k < 60; k++) {
    TEv in[120];
    lens[k] = 1 + (k % 7 == 0 ? 90 : k % 9);
    for (size_t i = 0; i < lens[k]; i++) {
      r = r * 6364136223846793005ULL + 1442695040888963407ULL;
      in[i] = (TEv){(int64_t)(r >> 50) * S, ch[(r >> 20) % 3],
                    ev[(r >> 24) % 4], (int64_t)((r >> 30) % 12) * S};
    }
    events_build(&nm, in, lens[k], js[k]);
  }
  PcModTest *one = pc_modtest_new(&cfg, &nm, &t, FALSE, 1, NULL);
  PcModTest *two = pc_modtest_new(&cfg, &nm, &t, FALSE, 2, NULL);
  PcModTest *three = pc_modtest_new(&cfg, &nm, &t, FALSE, 3, NULL);
  CU_ASSERT_FATAL(one && two && three);
  for (int k = 0; k < 60; k++) pc_modtest_add(one, 0, js[k], lens[k], "c", 0, FALSE);
  for (int k = 0; k < 60; k++) pc_modtest_add(two, k % 2, js[k], lens[k], "c", 0, FALSE);
  for (int k = 59; k >= 0; k--) pc_modtest_add(three, k / 20, js[k], lens[k], "c", 0, FALSE);
  GPtrArray *t1 = pc_modtest_tables(one), *t2 = pc_modtest_tables(two);
  GPtrArray *t3 = pc_modtest_tables(three);
  g_autofree char *s1 = csv_all(t1), *s2 = csv_all(t2), *s3 = csv_all(t3);
  CU_ASSERT_STRING_EQUAL(s1, s2);
  CU_ASSERT_STRING_EQUAL(s1, s3);
  CU_ASSERT_EQUAL(pc_modtest_summary(t1, "customers"), 60);
  /* summary, 5 path tables, preceding paths and tokens, funnels, funnel
   * times, drivers, channel drivers, channels, nps, attribution, sequence
   * drivers, time to the target, attribution models */
  CU_ASSERT_EQUAL(t1->len, 18);
  g_ptr_array_unref(t1);
  g_ptr_array_unref(t2);
  g_ptr_array_unref(t3);
  pc_modtest_free(one);
  pc_modtest_free(two);
  pc_modtest_free(three);
  names_clear(&nm);
}

/* A funnel without steps is a config error; unknown steps are not. */
static void test_new_errors(void) {
  const char *ch[] = {"web"}, *ev[] = {"a"};
  PcNames nm = names_new(ch, 1, ev, 1);
  PcFunnelConfig fc = {"empty", NULL, 0, 10, FALSE, FALSE, 0};
  PcJobConfig cfg = {0};
  cfg.funnels = &fc;
  cfg.n_funnels = 1;
  GError *err = NULL;
  CU_ASSERT_PTR_NULL(oc_new(&cfg, &nm, NULL, &err));
  CU_ASSERT_TRUE(g_error_matches(err, PC_ERROR, PC_ERROR_CONFIG));
  g_clear_error(&err);
  char *steps[] = {"nosuch:a", "web", NULL};
  PcFunnelConfig ok = {"u", steps, 2, 10, TRUE, FALSE, 0};
  cfg.funnels = &ok;
  Outcome *o = oc_new(&cfg, &nm, NULL, &err);
  CU_ASSERT_PTR_NOT_NULL(o);
  CU_ASSERT_PTR_NULL(err);
  oc_free(o);
  names_clear(&nm);
}

PC_TEST_MAIN("outcome",
             {"/outcome/funnel_table", test_funnel_table},
             {"/outcome/ratio_rules", test_ratio_rules},
             {"/outcome/chi2", test_chi2},
             {"/outcome/drivers_by_hand", test_drivers_by_hand},
             {"/outcome/channel_drivers_by_hand", test_channel_drivers_by_hand},
             {"/outcome/channels_kpi", test_channels_kpi},
             {"/outcome/preceding_tokens", test_preceding_tokens},
             {"/outcome/nps", test_nps},
             {"/outcome/markov_by_hand", test_markov_by_hand},
             {"/outcome/markov_loops_and_empty", test_markov_loops_and_empty},
             {"/outcome/linear_credit", test_linear_credit},
             {"/outcome/merge_order", test_merge_order},
             {"/outcome/new_errors", test_new_errors})
