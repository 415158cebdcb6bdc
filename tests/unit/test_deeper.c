/* test_deeper.c - CUnit cases for the analyses of spec §15-§18
 * (src/analytics: flows.c, seqdrivers.c, timetotarget.c,
 * attribution_models.c, markov.c), driven through the module loop
 * (pc_modtest.h) exactly as a run drives them, and through a fake world of
 * threaded ranks for the any-P property. Every expected number is worked
 * out by hand in the comment above its assert. */
#include "pc_markov.h"
#include "pc_modtest.h"
#include "pc_stats.h"
#include "pc_test.h"

#include <math.h>
#include <stdlib.h>

#define S INT64_C(1000000) /* µs per second, and millionths per unit */
#define DAY (86400 * S)

/* An event of a hand-written journey. */
typedef struct {
  int64_t ts_us;
  const char *ch;
  const char *ev;
} TEv;

typedef struct {
  PcNames nm;
  uint32_t tev[2];
  PcTarget target;
  PcModTest *m;
} Fix;

static char *target_churn[] = {"churn", NULL};

static int cmp_event(const void *a, const void *b) { return pc_event_cmp(a, b); }

/* Names of the fixture: events and channels as given (sorted here). */
static void fix_init(Fix *f, const char *const *ev, guint nev,
                     const char *const *ch, guint nch) {
  memset(f, 0, sizeof *f);
  f->nm.events = pc_dict_new_sorted((char **)ev, nev);
  f->nm.channels = pc_dict_new_sorted((char **)ch, nch);
  f->target.events = f->tev;
  gint64 c = pc_dict_find(f->nm.events, "churn");
  if (c >= 0) f->tev[f->target.n++] = (uint32_t)c;
}

/* The module loop over cfg (target "churn" when with_target). */
static void fix_start(Fix *f, PcJobConfig *cfg, gboolean with_target,
                      int threads) {
  if (with_target) {
    cfg->target_events = target_churn;
    cfg->n_target_events = 1;
  }
  f->m = pc_modtest_new(cfg, &f->nm, with_target ? &f->target : NULL,
                        TRUE, threads, NULL);
  CU_ASSERT_PTR_NOT_NULL_FATAL(f->m);
}

static void fix_clear(Fix *f) {
  pc_modtest_free(f->m);
  pc_dict_free(f->nm.events);
  pc_dict_free(f->nm.channels);
}

/* Adds a journey given as events (any order; sorted as spec §2 does). */
static void fix_add(Fix *f, int thread, const TEv *in, size_t n,
                    int64_t revenue) {
  PcEvent ev[64];
  g_assert(n <= 64);
  for (size_t i = 0; i < n; i++) {
    gint64 e = pc_dict_find(f->nm.events, in[i].ev);
    gint64 c = pc_dict_find(f->nm.channels, in[i].ch);
    g_assert(e >= 0 && c >= 0);
    ev[i] = (PcEvent){in[i].ts_us, 0, (uint32_t)e, (uint32_t)c};
  }
  qsort(ev, n, sizeof *ev, cmp_event);
  pc_modtest_add(f->m, thread, ev, n, "c", revenue, TRUE);
}

/* A journey of event names on channel "web", one second apart. */
static void fix_add_names(Fix *f, const char *names, int64_t revenue) {
  g_auto(GStrv) v = g_strsplit(names, " ", -1);
  TEv in[64] = {{0}};
  size_t n = 0;
  for (; v[n] && n < 64; n++) in[n] = (TEv){(int64_t)(n + 1) * S, "web", v[n]};
  fix_add(f, 0, in, n, revenue);
}

/* The CSV bytes of table name after the run (g_free). */
static char *fix_csv(Fix *f, const char *name) {
  GPtrArray *t = pc_modtest_tables(f->m);
  CU_ASSERT_PTR_NOT_NULL_FATAL(t);
  const PcTable *tab = pc_modtest_find(t, name);
  char *csv = tab ? pc_modtest_csv(tab) : g_strdup("(no table)");
  g_ptr_array_unref(t);
  return csv;
}

static void assert_text(const char *got, const char *want) {
  if (strcmp(got, want)) fprintf(stderr, "\n--- got\n%s--- want\n%s", got, want);
  CU_ASSERT_STRING_EQUAL(got, want);
}

/* ---- flows (§15) ---------------------------------------------------------- */

static const char *const flow_events[] = {"!x", "bill", "churn", "x", "y", "z"};
static const char *const web[] = {"web"};

/* Eight journeys; bill is the anchor (first bill only), two steps.
 *   J1 x bill y z churn   after [y z]     before [x]     y = 1
 *   J2 bill               after $         before ^
 *   J3 y bill y           after [y]       before [y]
 *   J4 x bill y z         after [y z]     before [x]
 *   J5 bill x bill churn  after [x bill]  before ^       y = 1
 *   J6 z                  (no anchor: in neither flow)
 *   J7 bill !x            after [!x]      before ^
 *   J8 x y z bill         after $         before [y z]   (two steps of three)
 * 7 customers have the anchor. After: $ 2 (J2 J8, rate 0), y > z 2 (J1 J4,
 * rate 1/2); then 1 each, path asc with "$" as a one-token sequence:
 * "!x" (0x21) < "$" (0x24) is why "!x" is not first among the 2s but the
 * first of the 1s: !x, x > bill (rate 1), y. Before: ^ 3 (J2 J5 J7, rate
 * 1/3), x 2 (rate 1/2), y 1, y > z 1. Shares are of 7. */
static void add_flow_journeys(Fix *f) {
  fix_add_names(f, "x bill y z churn", 0);
  fix_add_names(f, "bill", 0);
  fix_add_names(f, "y bill y", 0);
  fix_add_names(f, "x bill y z", 0);
  fix_add_names(f, "bill x bill churn", 0);
  fix_add_names(f, "z", 0);
  fix_add_names(f, "bill !x", 0);
  fix_add_names(f, "x y z bill", 0);
}

static void test_flows_by_hand(void) {
  Fix f;
  fix_init(&f, flow_events, 6, web, 1);
  PcFlowConfig fl[] = {{"after", "bill", FALSE, 2}, {"before", "bill", TRUE, 2}};
  PcJobConfig cfg = {0};
  cfg.flows = fl;
  cfg.n_flows = 2;
  fix_start(&f, &cfg, TRUE, 1);
  add_flow_journeys(&f);
  g_autofree char *csv = fix_csv(&f, "flows");
  assert_text(csv,
              "flow,rank,customers,share,outcome_rate,path\n"
              "after,1,2,0.285714285714,0,$\n"
              "after,2,2,0.285714285714,0.5,y > z\n"
              "after,3,1,0.142857142857,0,!x\n"
              "after,4,1,0.142857142857,1,x > bill\n"
              "after,5,1,0.142857142857,0,y\n"
              "before,1,3,0.428571428571,0.333333333333,^\n"
              "before,2,2,0.285714285714,0.5,x\n"
              "before,3,1,0.142857142857,0,y\n"
              "before,4,1,0.142857142857,0,y > z\n");
  fix_clear(&f);
}

/* top_k = 2 keeps the two best of each flow; without a target the
 * outcome_rate cells are empty; an anchor absent from the input gives a
 * flow without rows (and no error); a flow of one step cuts [y z] to [y]. */
static void test_flows_top_k_no_target(void) {
  Fix f;
  fix_init(&f, flow_events, 6, web, 1);
  PcFlowConfig fl[] = {{"a1", "bill", FALSE, 1}, {"nothing", "nosuch", FALSE, 5}};
  PcJobConfig cfg = {0};
  cfg.flows = fl;
  cfg.n_flows = 2;
  cfg.top_k = 2;
  fix_start(&f, &cfg, FALSE, 2);
  add_flow_journeys(&f);
  /* a1: [y] J1 J3 J4 = 3, $ J2 J8 = 2, [x] J5, [!x] J7 */
  g_autofree char *csv = fix_csv(&f, "flows");
  assert_text(csv,
              "flow,rank,customers,share,outcome_rate,path\n"
              "a1,1,3,0.428571428571,,y\n"
              "a1,2,2,0.285714285714,,$\n");
  fix_clear(&f);
}

/* ---- sequence drivers (§16) ----------------------------------------------- */

static const char *const sd_events[] = {"a", "b", "c", "churn"};

/* N = 6 customers, Y = 3 (revenue from the customers table):
 *   1 a b c churn    rev 10   2-grams ab bc, 3-gram abc         y = 1
 *   2 a b a b churn  rev 20   ab (once) ba, aba bab             y = 1
 *   3 a b                     ab
 *   4 b c                     bc
 *   5 c                       none
 *   6 churn          rev 5    (empty pre-target journey)         y = 1
 * ab: n 3, a 2, revenue 30; bc: n 2, a 1, revenue 10; the others n = 1. */
static void add_sd_journeys(Fix *f) {
  fix_add_names(f, "a b c churn", 10 * S);
  fix_add_names(f, "a b a b churn", 20 * S);
  fix_add_names(f, "a b", 7 * S);
  fix_add_names(f, "b c", 7 * S);
  fix_add_names(f, "c", 7 * S);
  fix_add_names(f, "churn", 5 * S);
}

/* Floor 2 keeps ab and bc. ab: 2x2 [[2,1],[1,2]], det 3, chi2 = 6*9/3^4 =
 * 2/3; rate_with 2/3, rate_without 1/3, lift (2/3)/(1/2), risk ratio 2,
 * coverage 2/3. bc: [[1,1],[2,2]], det 0, chi2 0, rates 1/2, lift and risk
 * ratio 1, coverage 1/3. */
static void test_sequence_drivers_by_hand(void) {
  Fix f;
  fix_init(&f, sd_events, 4, web, 1);
  PcJobConfig cfg = {0};
  cfg.sequence_max = 3;
  cfg.sequence_min_customers = 2;
  fix_start(&f, &cfg, TRUE, 1);
  add_sd_journeys(&f);
  g_autofree char *csv = fix_csv(&f, "sequence_drivers");
  assert_text(csv,
              "n,path,customers,customers_with_outcome,rate_with,rate_without,"
              "lift,risk_ratio,chi2,coverage,revenue_at_risk\n"
              "2,a > b,3,2,0.666666666667,0.333333333333,1.33333333333,2,"
              "0.666666666667,0.666666666667,30.000000\n"
              "2,b > c,2,1,0.5,0.5,1,1,0,0.333333333333,10.000000\n");
  fix_clear(&f);
}

/* Floor 1: the n = 1 n-grams ba, aba, abc, bab ([[1,0],[2,3]], det 3,
 * chi2 = 6*9/(1*5*3*3) = 1.2, rate_without 2/5, lift 2, risk ratio 2.5)
 * come first; among equal chi2, n asc (ba), then path asc (a > b > a <
 * a > b > c < b > a > b). top_k = 5 cuts bc. */
static void test_sequence_drivers_order(void) {
  Fix f;
  fix_init(&f, sd_events, 4, web, 1);
  PcJobConfig cfg = {0};
  cfg.sequence_max = 3;
  cfg.sequence_min_customers = 1;
  cfg.top_k = 5;
  fix_start(&f, &cfg, TRUE, 3);
  add_sd_journeys(&f);
  g_autofree char *csv = fix_csv(&f, "sequence_drivers");
  assert_text(csv,
              "n,path,customers,customers_with_outcome,rate_with,rate_without,"
              "lift,risk_ratio,chi2,coverage,revenue_at_risk\n"
              "2,b > a,1,1,1,0.4,2,2.5,1.2,0.333333333333,20.000000\n"
              "3,a > b > a,1,1,1,0.4,2,2.5,1.2,0.333333333333,20.000000\n"
              "3,a > b > c,1,1,1,0.4,2,2.5,1.2,0.333333333333,10.000000\n"
              "3,b > a > b,1,1,1,0.4,2,2.5,1.2,0.333333333333,20.000000\n"
              "2,a > b,3,2,0.666666666667,0.333333333333,1.33333333333,2,"
              "0.666666666667,0.666666666667,30.000000\n");
  fix_clear(&f);
}

/* Revenue at risk beyond int64: three customers of revenue 9e12 units
 * (9e18 millionths, the §1 limit) sum to 2.7e19 millionths, a fourth
 * brings -1 unit; on two thread instances. The 2-gram a > c is counted
 * in the dense counters, the 3-gram a > c > b in the hash table: both
 * carry the same exact sum. */
static void test_sequence_drivers_money(void) {
  Fix f;
  fix_init(&f, sd_events, 4, web, 1);
  PcJobConfig cfg = {0};
  cfg.sequence_max = 3;
  cfg.sequence_min_customers = 1;
  fix_start(&f, &cfg, TRUE, 2);
  for (int i = 0; i < 4; i++) {
    TEv j[] = {{1, "web", "a"}, {2, "web", "c"}, {3, "web", "b"}, {4, "web", "churn"}};
    fix_add(&f, i % 2, j, 4, i < 3 ? INT64_C(9000000000000000000) : -S);
  }
  g_autofree char *csv = fix_csv(&f, "sequence_drivers");
  CU_ASSERT_PTR_NOT_NULL(strstr(csv, "2,a > c,4,4,"));
  CU_ASSERT_PTR_NOT_NULL(strstr(csv, "3,a > c > b,4,4,"));
  g_auto(GStrv) lines = g_strsplit(csv, "\n", -1);
  guint big = 0;
  for (guint i = 1; lines[i] && *lines[i]; i++)
    big += g_str_has_suffix(lines[i], ",26999999999999.000000");
  CU_ASSERT_EQUAL(big, 3); /* a > c, c > b, a > c > b */
  fix_clear(&f);
}

/* ---- time to the target (§17) ---------------------------------------------- */

/* Target churn (event names a, b, churn; seconds):
 *   J1 a@0 b@10 a@20 churn@100   ^ 100, a 100 (its first a), b 90
 *   J2 b@0 churn@50              ^ 50, b 50
 *   J3 a@0                       y = 0: nothing
 *   J4 churn@5                   ^ 0 (empty pre-target journey)
 *   J5 a@30 churn@30 b@40        a sorts before churn at 30: a 0, ^ 0; b is after
 * ^ [0 0 50 100]: ranks 1, 2, 4 -> 0, 0, 100; a [0 100]: ranks 1, 1, 2;
 * b [50 90]: 50, 50, 90. Without a y = 1 customer only "^" with 0 and
 * empty percentiles. Two thread instances. */
static void test_time_to_target_by_hand(void) {
  static const char *const ev[] = {"a", "b", "churn"};
  Fix f;
  fix_init(&f, ev, 3, web, 1);
  PcJobConfig cfg = {0};
  fix_start(&f, &cfg, TRUE, 2);
  TEv j1[] = {{0, "web", "a"}, {10 * S, "web", "b"}, {20 * S, "web", "a"}, {100 * S, "web", "churn"}};
  TEv j2[] = {{0, "web", "b"}, {50 * S, "web", "churn"}};
  TEv j3[] = {{0, "web", "a"}};
  TEv j4[] = {{5 * S, "web", "churn"}};
  TEv j5[] = {{30 * S, "web", "churn"}, {30 * S, "web", "a"}, {40 * S, "web", "b"}};
  fix_add(&f, 0, j1, 4, 0);
  fix_add(&f, 1, j2, 2, 0);
  fix_add(&f, 0, j3, 1, 0);
  fix_add(&f, 1, j4, 1, 0);
  fix_add(&f, 0, j5, 3, 0);
  g_autofree char *csv = fix_csv(&f, "time_to_target");
  assert_text(csv, "token,customers,p25_s,median_s,p90_s\n^,4,0,0,100\na,2,0,0,100\nb,2,50,50,90\n");
  fix_clear(&f);
  Fix g;
  fix_init(&g, ev, 3, web, 1);
  PcJobConfig cfg2 = {0};
  fix_start(&g, &cfg2, TRUE, 1);
  fix_add(&g, 0, j3, 1, 0);
  g_autofree char *none = fix_csv(&g, "time_to_target");
  assert_text(none, "token,customers,p25_s,median_s,p90_s\n^,0,,,\n");
  fix_clear(&g);
}

/* ---- attribution models (§18) ----------------------------------------------- */

static const char *const am_events[] = {"a", "churn"};
static const char *const abc[] = {"A", "B", "C"};

#define ASSERT_NEAR(x, y) CU_ASSERT_DOUBLE_EQUAL((x), (y), 1e-13 * (1 + fabs(y)))

/* The attribution_models table after the run (the caller frees it). */
static GPtrArray *fix_tables(Fix *f, const PcTable **am) {
  GPtrArray *t = pc_modtest_tables(f->m);
  CU_ASSERT_PTR_NOT_NULL_FATAL(t);
  *am = pc_modtest_find(t, "attribution_models");
  CU_ASSERT_PTR_NOT_NULL_FATAL(*am);
  return t;
}

/* H = 1 day; touches are event "a" (which sorts before "churn" at an equal
 * timestamp, so a touch at the target's time is in the pre-target journey).
 *   J1 A@0 B@1d C@2d, churn@3d   position A .4 B .2 C .4; decay weights
 *      2^-3 2^-2 2^-1 (sum 7/8): A 1/7, B 2/7, C 4/7
 *   J2 B@0, churn@5d             B 1 (one touch); decay B 1
 *   J3 A@0 B@1d, churn@1d        A .5 B .5 (two touches); decay 1/2 : 1 ->
 *      A 1/3, B 2/3
 *   J4 A@0 A@1d B@2d C@3d A@4d, churn@4d  first and last A .4 + .4, the
 *      three middles .2/3 each; decay 1/16 1/8 1/4 1/2 1 (31/16): A 19/31,
 *      B 4/31, C 8/31
 *   J5 C@0 (no churn)  J6 churn only (empty: credits nobody)
 * Position: A .5 + 1.2 + .2/3, B 1 + .5 + .2 + .2/3, C .4 + .2/3; decay: A
 * 1/7 + 1/3 + 19/31, B 2/7 + 1 + 2/3 + 4/31, C 4/7 + 8/31; each model sums
 * to the 4 customers with a touch. */
static void test_attribution_models_credit(void) {
  Fix f;
  fix_init(&f, am_events, 2, abc, 3);
  PcJobConfig cfg = {0};
  cfg.attribution = TRUE;
  cfg.half_life_s = 86400;
  fix_start(&f, &cfg, TRUE, 2);
  TEv j1[] = {{0, "A", "a"}, {DAY, "B", "a"}, {2 * DAY, "C", "a"}, {3 * DAY, "A", "churn"}};
  TEv j2[] = {{0, "B", "a"}, {5 * DAY, "B", "churn"}};
  TEv j3[] = {{0, "A", "a"}, {DAY, "B", "a"}, {DAY, "C", "churn"}};
  TEv j4[] = {{0, "A", "a"}, {DAY, "A", "a"}, {2 * DAY, "B", "a"}, {3 * DAY, "C", "a"},
              {4 * DAY, "A", "a"}, {4 * DAY, "A", "churn"}};
  TEv j5[] = {{0, "C", "a"}};
  TEv j6[] = {{0, "C", "churn"}};
  fix_add(&f, 0, j1, 4, 0);
  fix_add(&f, 1, j2, 2, 0);
  fix_add(&f, 0, j3, 3, 0);
  fix_add(&f, 1, j4, 6, 0);
  fix_add(&f, 0, j5, 1, 0);
  fix_add(&f, 1, j6, 1, 0);
  const PcTable *am;
  GPtrArray *t = fix_tables(&f, &am);
  const double pos[] = {0.5 + 1.2 + 0.2 / 3, 1 + 0.5 + 0.2 + 0.2 / 3, 0.4 + 0.2 / 3};
  const double dec[] = {1.0 / 7 + 1.0 / 3 + 19.0 / 31, 2.0 / 7 + 1 + 2.0 / 3 + 4.0 / 31,
                        4.0 / 7 + 8.0 / 31};
  CU_ASSERT_EQUAL_FATAL(pc_table_nrows(am), 3);
  for (guint r = 0; r < 3; r++) {
    CU_ASSERT_STRING_EQUAL(pc_table_get_string(am, r, 0), abc[r]);
    ASSERT_NEAR(pc_table_get_double(am, r, 1), pos[r]);
    ASSERT_NEAR(pc_table_get_double(am, r, 2), dec[r]);
  }
  g_ptr_array_unref(t);
  fix_clear(&f);
}

/* Order 2 on channels A, B: J1 A B (y = 1), J2 A A, J3 B (y = 1), J4 B A.
 * States ^ A B AA AB BA BB: ^->A 2, ^->B 2, A->AA 1, A->AB 1, AB->conv,
 * AA->null, B->conv 1, B->BA 1, BA->null. x_AB = 1, x_A = 1/2, x_B = 1/2,
 * P = x_^ = 1/2. Remove A (A AA AB BA dead): x_B = 1/2, x_^ = 1/4 ->
 * effect 1/2. Remove B: x_A = 0, x_^ = 0 -> effect 1. Shares 1/3, 2/3,
 * conversions (Y = 2) 2/3, 4/3. Order 1 on the same journeys: x_A = 1/4,
 * x_B = 3/4, P = 1/2; without A x_^ = 1/3 -> effect 1/3; without B 1. */
static void test_markov_order2_by_hand(void) {
  const char *const ab[] = {"A", "B"};
  const double want[2][2][3] = {{{1.0 / 3, 0.25, 0.5}, {1, 0.75, 1.5}},
                                {{0.5, 1.0 / 3, 2.0 / 3}, {1, 2.0 / 3, 4.0 / 3}}};
  for (guint k = 1; k <= 2; k++) {
    Fix f;
    fix_init(&f, am_events, 2, ab, 2);
    PcJobConfig cfg = {0};
    cfg.attribution = TRUE;
    cfg.markov_order = k;
    fix_start(&f, &cfg, TRUE, 1);
    TEv j1[] = {{1, "A", "a"}, {2, "B", "a"}, {3, "B", "churn"}};
    TEv j2[] = {{1, "A", "a"}, {2, "A", "a"}};
    TEv j3[] = {{1, "B", "a"}, {2, "B", "churn"}};
    TEv j4[] = {{1, "B", "a"}, {2, "A", "a"}};
    fix_add(&f, 0, j1, 3, 0);
    fix_add(&f, 0, j2, 2, 0);
    fix_add(&f, 0, j3, 2, 0);
    fix_add(&f, 0, j4, 2, 0);
    const PcTable *am;
    GPtrArray *t = fix_tables(&f, &am);
    for (guint r = 0; r < 2; r++)
      for (guint c = 0; c < 3; c++)
        ASSERT_NEAR(pc_table_get_double(am, r, 3 + c), want[k - 1][r][c]);
    g_ptr_array_unref(t);
    fix_clear(&f);
  }
  /* the kernel: state ids and transitions of order 2 over C = 2 */
  CU_ASSERT_EQUAL(pc_markov_states(2, 2), 7);
  CU_ASSERT_EQUAL(pc_markov_next(2, 2, 0, 1), 2);     /* ^ -B-> B */
  CU_ASSERT_EQUAL(pc_markov_next(2, 2, 1, 1), 4);     /* A -B-> AB */
  CU_ASSERT_EQUAL(pc_markov_next(2, 2, 4, 0), 5);     /* AB -A-> BA */
  CU_ASSERT_EQUAL(pc_markov_next(2, 2, 6, 1), 6);     /* BB -B-> BB */
  CU_ASSERT_EQUAL(pc_markov_states(10, 4), 11111);
  CU_ASSERT_EQUAL(pc_markov_states(1u << 20, 4), UINT64_MAX);
}

/* More channels^k than PC_MARKOV_MAX_STATES is a configuration error that
 * names the key and the number of states: 65 channels, order 2 = 4225. */
static void test_markov_too_many_states(void) {
  char *ch[65];
  for (int i = 0; i < 65; i++) ch[i] = g_strdup_printf("c%02d", i);
  Fix f;
  fix_init(&f, am_events, 2, (const char *const *)ch, 65);
  PcJobConfig cfg = {0};
  cfg.attribution = TRUE;
  cfg.markov_order = 2;
  cfg.target_events = target_churn;
  cfg.n_target_events = 1;
  GError *err = NULL;
  PcModTest *m = pc_modtest_new(&cfg, &f.nm, &f.target, TRUE, 1, &err);
  CU_ASSERT_PTR_NULL(m);
  CU_ASSERT_TRUE(g_error_matches(err, PC_ERROR, PC_ERROR_CONFIG));
  CU_ASSERT_PTR_NOT_NULL(err ? strstr(err->message, "attribution.markov_order") : NULL);
  CU_ASSERT_PTR_NOT_NULL(err ? strstr(err->message, "4225") : NULL);
  g_clear_error(&err);
  cfg.markov_order = 1; /* order 1 is bounded like spec §8 only */
  f.m = pc_modtest_new(&cfg, &f.nm, &f.target, TRUE, 1, &err);
  CU_ASSERT_PTR_NOT_NULL(f.m);
  fix_clear(&f);
  for (int i = 0; i < 65; i++) g_free(ch[i]);
}

/* Order 1 is spec §8's chain: on 300 pseudo-random journeys (some long,
 * some empty before the target) the Markov columns of attribution_models
 * are the bytes of attribution.csv's. */
static void test_markov_order1_is_attribution(void) {
  const char *const ch[] = {"app", "call", "email", "web"};
  Fix f;
  fix_init(&f, am_events, 2, ch, 4);
  PcJobConfig cfg = {0};
  cfg.attribution = TRUE;
  fix_start(&f, &cfg, TRUE, 2);
  uint64_t r = 7;
  for (int k = 0; k < 300; k++) {
    TEv in[64];
    size_t n = 1 + (k % 11 == 0 ? 60 : k % 6);
    for (size_t i = 0; i < n; i++) {
      r = r * 6364136223846793005ULL + 1442695040888963407ULL;
      in[i] = (TEv){(int64_t)i * S, ch[(r >> 33) % 4], (r >> 40) % 5 ? "a" : "churn"};
    }
    fix_add(&f, k % 2, in, n, 0);
  }
  GPtrArray *t = pc_modtest_tables(f.m);
  const PcTable *a = pc_modtest_find(t, "attribution");
  const PcTable *am = pc_modtest_find(t, "attribution_models");
  CU_ASSERT_FATAL(a && am && pc_table_nrows(a) == 4 && pc_table_nrows(am) == 4);
  for (guint row = 0; row < 4; row++)
    for (guint c = 0; c < 3; c++) {
      double x = pc_table_get_double(a, row, 4 + c), y = pc_table_get_double(am, row, 3 + c);
      CU_ASSERT_EQUAL(memcmp(&x, &y, sizeof x), 0);
      CU_ASSERT_TRUE(x > 0 && x < 2.0 * 300);
    }
  g_ptr_array_unref(t);
  fix_clear(&f);
}

PC_TEST_MAIN("deeper",
             {"/deeper/flows_by_hand", test_flows_by_hand},
             {"/deeper/flows_top_k_no_target", test_flows_top_k_no_target},
             {"/deeper/sequence_drivers_by_hand", test_sequence_drivers_by_hand},
             {"/deeper/sequence_drivers_order", test_sequence_drivers_order},
             {"/deeper/sequence_drivers_money", test_sequence_drivers_money},
             {"/deeper/time_to_target_by_hand", test_time_to_target_by_hand},
             {"/deeper/attribution_models_credit", test_attribution_models_credit},
             {"/deeper/markov_order2_by_hand", test_markov_order2_by_hand},
             {"/deeper/markov_too_many_states", test_markov_too_many_states},
             {"/deeper/markov_order1_is_attribution", test_markov_order1_is_attribution})
