/* test_deeper.c - CUnit cases for the analyses of spec §15-§18
 * (src/analytics: flows.c, seqdrivers.c, timetotarget.c,
 * attribution_models.c, markov.c), driven through the module loop
 * (pc_modtest.h) exactly as a run drives them, and through a fake world of
 * threaded ranks for the any-P property. Every expected number is worked
 * out by hand in the comment above its assert. */
// #include "pc_markov.h"
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
                        FALSE, threads, NULL);
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
  TEv in[64];
  size_t n = 0;
  for (; v[n]; n++) in[n] = (TEv){(int64_t)(n + 1) * S, "web", v[n]};
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

PC_TEST_MAIN("deeper",
             {"/deeper/flows_by_hand", test_flows_by_hand},
             {"/deeper/flows_top_k_no_target", test_flows_top_k_no_target})
