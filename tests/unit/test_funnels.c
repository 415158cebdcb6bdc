/* test_funnels.c - CUnit cases for the funnel kernels of spec §5
 * (src/analytics/funnel_level.c): the default level with ties, repeated
 * steps and windows, its least conversion times t_k, an exhaustive check
 * of both against every assignment of events to steps on thousands of
 * small random journeys, and the ClickHouse modes on the hand-checked
 * cases of funnel_cases.h (which `make conformance` checks against
 * ClickHouse itself). */
#include "funnel_cases.h"
#include "pc_funnels.h"
#include "pc_test.h"

#include <stdlib.h>

#define S 1000000 /* µs per second */

/* A spec over event ids (chan NULL) or channel:event pairs. */
static PcFunnelSpec spec_of(const int64_t *ev, const int64_t *ch, guint n,
                            int64_t window_us, guint mode) {
  PcFunnelSpec f;
  pc_funnel_spec_init(&f, n, ev, ch, window_us, mode);
  return f;
}

static guint level_of(const int64_t *steps, guint n, int64_t window_us,
                      const PcEvent *ev, size_t ne, int64_t *span) {
  PcFunnelSpec f = spec_of(steps, NULL, n, window_us, 0);
  PcFunnelWork *w = pc_funnel_work_new(n);
  guint l = pc_funnel_level(&f, ev, ne, w, span);
  pc_funnel_work_free(w);
  pc_funnel_spec_clear(&f);
  return l;
}

/* ---- default definition, by hand ------------------------------------------ */

/* Steps a;b (ids 0, 1), W = 10 s. */
static void test_window_edge(void) {
  int64_t steps[] = {0, 1}, span[2];
  /* a@0, b@10 s: span 10 s = W counts -> level 2, t_2 = 10 s. */
  PcEvent in[] = {{0, 0, 0, 0}, {10 * S, 0, 1, 0}};
  CU_ASSERT_EQUAL(level_of(steps, 2, 10 * S, in, 2, span), 2);
  CU_ASSERT_EQUAL(span[0], 0);
  CU_ASSERT_EQUAL(span[1], 10 * S);
  /* b one µs later: span W + 1 µs -> only step 1. */
  PcEvent out[] = {{0, 0, 0, 0}, {10 * S + 1, 0, 1, 0}};
  CU_ASSERT_EQUAL(level_of(steps, 2, 10 * S, out, 2, NULL), 1);
  /* W = 0: both at the same instant count. */
  PcEvent same[] = {{5, 0, 0, 0}, {5, 0, 1, 0}};
  CU_ASSERT_EQUAL(level_of(steps, 2, 0, same, 2, span), 2);
  CU_ASSERT_EQUAL(span[1], 0);
}

/* a;b;c with W = 10 s: a@0, a@5, b@12, c@14. From a@0, b@12 is out of the
 * window; from the later a@5: b@12 (7 s), c@14 (9 s) -> level 3, t_2 = 7 s,
 * t_3 = 9 s. A greedy scan from the first a would wrongly give 1. */
static void test_later_start(void) {
  int64_t steps[] = {0, 1, 2}, span[3];
  PcEvent ev[] = {{0, 0, 0, 0}, {5 * S, 0, 0, 0}, {12 * S, 0, 1, 0}, {14 * S, 0, 2, 0}};
  CU_ASSERT_EQUAL(level_of(steps, 3, 10 * S, ev, 4, span), 3);
  CU_ASSERT_EQUAL(span[1], 7 * S);
  CU_ASSERT_EQUAL(span[2], 9 * S);
  /* Dropping a@5: a@0 then b@12 is 12 s > W -> level 1. */
  PcEvent ev2[] = {{0, 0, 0, 0}, {12 * S, 0, 1, 0}, {14 * S, 0, 2, 0}};
  CU_ASSERT_EQUAL(level_of(steps, 3, 10 * S, ev2, 3, NULL), 1);
}

/* t_k is the least span of a chain reaching k, which need not belong to
 * the chain reaching the level: a;b;c, W = 100 s, a@0 b@1 a@50 b@52 c@90.
 * Level 3 (a@0 b@1 c@90 or a@50 b@52 c@90); t_2 = 1 s (a@0 b@1), t_3 =
 * 40 s (a@50 b@52 c@90). */
static void test_least_spans(void) {
  int64_t steps[] = {0, 1, 2}, span[3];
  PcEvent ev[] = {{0, 0, 0, 0}, {1 * S, 0, 1, 0}, {50 * S, 0, 0, 0}, {52 * S, 0, 1, 0}, {90 * S, 0, 2, 0}};
  CU_ASSERT_EQUAL(level_of(steps, 3, 100 * S, ev, 5, span), 3);
  CU_ASSERT_EQUAL(span[0], 0);
  CU_ASSERT_EQUAL(span[1], 1 * S);
  CU_ASSERT_EQUAL(span[2], 40 * S);
}

/* Repeated steps a;b;a (a = 0, b = 1): one event never serves two steps. */
static void test_repeated_steps(void) {
  int64_t steps[] = {0, 1, 0}, W = 100 * S;
  /* a b a -> 3. */
  PcEvent aba[] = {{1, 0, 0, 0}, {2, 0, 1, 0}, {3, 0, 0, 0}};
  CU_ASSERT_EQUAL(level_of(steps, 3, W, aba, 3, NULL), 3);
  /* a a b: no a after b -> 2. */
  PcEvent aab[] = {{1, 0, 0, 0}, {2, 0, 0, 0}, {3, 0, 1, 0}};
  CU_ASSERT_EQUAL(level_of(steps, 3, W, aab, 3, NULL), 2);
  /* a alone -> 1 (the same a is not also step 3). */
  CU_ASSERT_EQUAL(level_of(steps, 3, W, aba, 1, NULL), 1);
  /* Steps a;a: one a -> 1, two a at the same instant -> 2. */
  int64_t aa[] = {0, 0};
  PcEvent two[] = {{7, 0, 0, 0}, {7, 0, 0, 0}};
  CU_ASSERT_EQUAL(level_of(aa, 2, W, two, 1, NULL), 1);
  CU_ASSERT_EQUAL(level_of(aa, 2, W, two, 2, NULL), 2);
}

/* Equal timestamps serve the steps in either order (spec §5, revised):
 * a (id 0) and b (id 1) at one instant give 2 for a;b and for b;a. */
static void test_ties(void) {
  int64_t ab[] = {0, 1}, ba[] = {1, 0}, span[2];
  PcEvent ev[] = {{9, 0, 0, 0}, {9, 0, 1, 0}};
  CU_ASSERT_EQUAL(level_of(ab, 2, 0, ev, 2, NULL), 2);
  CU_ASSERT_EQUAL(level_of(ba, 2, 0, ev, 2, span), 2);
  CU_ASSERT_EQUAL(span[1], 0);
  /* The buy-before-view tie of the issue: view;buy with buy sorted first. */
  PcEvent vb[] = {{60 * S, 0, 0 /* buy */, 0}, {60 * S, 0, 1 /* view */, 0}};
  int64_t view_buy[] = {1, 0};
  CU_ASSERT_EQUAL(level_of(view_buy, 2, 0, vb, 2, NULL), 2);
}

/* Many events at one timestamp: a matching per key. Steps a;b;a;b;c
 * (a 0, b 1, c 2). At t = 5: a a b; at t = 6: b c.
 *  - (a a b)@5 serves a,b,a (block 1..3: two a, one b) then b,c @6 -> 5.
 *  - with one a at 5 the block stops at a,b, and step 3 (a) has no event
 *    at 6 -> level 2. */
static void test_tie_groups(void) {
  int64_t steps[] = {0, 1, 0, 1, 2}, span[5];
  PcEvent ev[] = {{5, 0, 0, 0}, {5, 0, 0, 0}, {5, 0, 1, 0}, {6, 0, 1, 0}, {6, 0, 2, 0}};
  CU_ASSERT_EQUAL(level_of(steps, 5, 10, ev, 5, span), 5);
  CU_ASSERT_EQUAL(span[2], 0); /* a b a all at 5 */
  CU_ASSERT_EQUAL(span[3], 1);
  PcEvent one_a[] = {{5, 0, 0, 0}, {5, 0, 1, 0}, {6, 0, 1, 0}, {6, 0, 2, 0}};
  CU_ASSERT_EQUAL(level_of(steps, 5, 10, one_a, 4, NULL), 2);
  /* The same events in another order inside each timestamp: same answer. */
  PcEvent shuffled[] = {{5, 0, 1, 0}, {5, 0, 0, 0}, {5, 0, 0, 0}, {6, 0, 2, 0}, {6, 0, 1, 0}};
  CU_ASSERT_EQUAL(level_of(steps, 5, 10, shuffled, 5, NULL), 5);
  /* Ten a at one instant and steps a x 6: 6; five a: 5. */
  int64_t a6[] = {0, 0, 0, 0, 0, 0};
  PcEvent many[10];
  for (int i = 0; i < 10; i++) many[i] = (PcEvent){42, 0, 0, 0};
  CU_ASSERT_EQUAL(level_of(a6, 6, 0, many, 10, NULL), 6);
  CU_ASSERT_EQUAL(level_of(a6, 6, 0, many, 5, NULL), 5);
}

/* s1 never matches -> 0 even when later steps do; an unknown step (-1)
 * never matches; channel:event needs both. */
static void test_never(void) {
  int64_t steps[] = {2, 1}, unknown[] = {-1, 1};
  PcEvent ev[] = {{1, 0, 0, 0}, {2, 0, 1, 0}};
  CU_ASSERT_EQUAL(level_of(steps, 2, S, ev, 2, NULL), 0);
  CU_ASSERT_EQUAL(level_of(unknown, 2, S, ev, 2, NULL), 0);
  CU_ASSERT_EQUAL(level_of(steps, 2, S, ev, 0, NULL), 0);
  /* Steps 0:0 ; 1:1 (channel:event): event 1 is on channel 0 -> 1 only. */
  int64_t se[] = {0, 1}, sc[] = {0, 1};
  PcFunnelSpec f = spec_of(se, sc, 2, S, 0);
  PcFunnelWork *w = pc_funnel_work_new(2);
  CU_ASSERT_EQUAL(pc_funnel_level(&f, ev, 2, w, NULL), 1);
  pc_funnel_spec_clear(&f);
  sc[1] = 0;
  f = spec_of(se, sc, 2, S, 0);
  CU_ASSERT_EQUAL(pc_funnel_level(&f, ev, 2, w, NULL), 2);
  CU_ASSERT_FALSE(pc_funnel_spec_has_repeats(&f));
  pc_funnel_spec_clear(&f);
  /* web:a ; email:a are two keys, web:a ; web:a one. */
  int64_t e2[] = {0, 0}, c2[] = {0, 1};
  f = spec_of(e2, c2, 2, S, 0);
  CU_ASSERT_FALSE(pc_funnel_spec_has_repeats(&f));
  pc_funnel_spec_clear(&f);
  c2[1] = 0;
  f = spec_of(e2, c2, 2, S, 0);
  CU_ASSERT_TRUE(pc_funnel_spec_has_repeats(&f));
  pc_funnel_spec_clear(&f);
  pc_funnel_work_free(w);
}

/* ---- exhaustive check ------------------------------------------------------- */

typedef struct {
  const PcFunnelSpec *f;
  const PcEvent *ev;
  size_t n;
  gboolean used[8];
  guint best;
  int64_t span[4];
} Brute;

static gboolean matches(const PcFunnelSpec *f, guint s, const PcEvent *e) {
  return f->step_event[s] == (int64_t)e->event &&
         (!f->step_chan || f->step_chan[s] == (int64_t)e->channel);
}

/* Every chain e1..ek of distinct events, ej matching step j, timestamps
 * non-decreasing, within the window from e1: the largest k and, per k,
 * the least span. */
static void brute(Brute *b, guint k, int64_t t0, int64_t tlast) {
  if (k > b->best) b->best = k;
  if (k >= 1 && tlast - t0 < b->span[k - 1]) b->span[k - 1] = tlast - t0;
  if (k == b->f->n_steps) return;
  for (size_t i = 0; i < b->n; i++) {
    const PcEvent *e = &b->ev[i];
    if (b->used[i] || !matches(b->f, k, e)) continue;
    if (k > 0 && (e->ts_us < tlast || e->ts_us - t0 > b->f->window_us)) continue;
    b->used[i] = TRUE;
    brute(b, k + 1, k ? t0 : e->ts_us, e->ts_us);
    b->used[i] = FALSE;
  }
}

static int cmp_ts(const void *a, const void *b) {
  const PcEvent *x = a, *y = b;
  return x->ts_us < y->ts_us ? -1 : x->ts_us > y->ts_us;
}

/* A random journey: up to 7 events over 4 event ids and 2 channels, at
 * timestamps 0..5 (many ties), sorted by timestamp only (the order inside
 * a timestamp is random, which the kernel must not care about). */
static size_t random_journey(GRand *g, PcEvent *ev) {
  size_t n = (size_t)g_rand_int_range(g, 0, 8);
  for (size_t i = 0; i < n; i++)
    ev[i] = (PcEvent){g_rand_int_range(g, 0, 6), 0, (uint32_t)g_rand_int_range(g, 0, 4),
                      (uint32_t)g_rand_int_range(g, 0, 2)};
  qsort(ev, n, sizeof *ev, cmp_ts); /* not stable: ties in any order */
  return n;
}

static void test_exhaustive(void) {
  GRand *g = g_rand_new_with_seed(5150);
  PcFunnelWork *w = pc_funnel_work_new(4);
  int bad = 0, checked = 0, tied = 0;
  for (int it = 0; it < 30000; it++) {
    PcEvent ev[8];
    size_t n = random_journey(g, ev);
    guint ns = (guint)g_rand_int_range(g, 1, 5);
    int64_t se[4], sc[4];
    gboolean chan = g_rand_boolean(g);
    for (guint s = 0; s < ns; s++) {
      se[s] = g_rand_int_range(g, 0, 9) == 0 ? -1 : g_rand_int_range(g, 0, 3);
      sc[s] = g_rand_int_range(g, 0, 2);
    }
    static const int64_t windows[] = {0, 1, 2, 3, 100};
    PcFunnelSpec f = spec_of(se, chan ? sc : NULL, ns, windows[g_rand_int_range(g, 0, 5)], 0);
    Brute b = {&f, ev, n, {FALSE}, 0, {INT64_MAX, INT64_MAX, INT64_MAX, INT64_MAX}};
    brute(&b, 0, 0, 0);
    int64_t span[4];
    guint level = pc_funnel_level(&f, ev, n, w, span);
    gboolean same = level == b.best;
    for (guint k = 1; same && k <= level; k++) same = span[k - 1] == b.span[k - 1];
    if (!same && bad++ < 5)
      g_printerr("exhaustive: journey %d: kernel %u, search %u\n", it, level, b.best);
    checked++;
    for (size_t i = 1; i < n; i++) tied += ev[i].ts_us == ev[i - 1].ts_us && b.best >= 2;
    pc_funnel_spec_clear(&f);
  }
  CU_ASSERT_EQUAL(bad, 0);
  CU_ASSERT_EQUAL(checked, 30000);
  CU_ASSERT(tied > 1000); /* ties really were exercised */
  pc_funnel_work_free(w);
  g_rand_free(g);
}

/* ---- ClickHouse modes -------------------------------------------------------- */

static int cmp_name(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static guint mode_of(const char *s) {
  g_auto(GStrv) v = g_strsplit(s, ";", -1);
  guint bits = 0;
  for (guint i = 0; *s && v[i]; i++)
    for (guint c = 0; pc_config_funnel_modes[c]; c++)
      if (!strcmp(v[i], pc_config_funnel_modes[c])) bits |= 1u << c;
  return bits;
}

/* The level of a hand case, timestamps and window in seconds -> µs, events
 * named in bytewise order and sorted as a journey (spec §2). */
static guint case_level(const FunnelCase *c, guint *default_level) {
  g_auto(GStrv) steps = g_strsplit(c->steps, ",", -1);
  g_auto(GStrv) evs = g_strsplit(c->events, " ", -1);
  guint ns = g_strv_length(steps), ne = g_strv_length(evs);
  g_autoptr(GPtrArray) names = g_ptr_array_new();
  for (guint i = 0; i < ns; i++) g_ptr_array_add(names, steps[i]);
  for (guint i = 0; i < ne; i++) g_ptr_array_add(names, strchr(evs[i], ':') + 1);
  g_ptr_array_sort(names, cmp_name);
  g_autofree PcEvent *ev = g_new0(PcEvent, ne);
  g_autofree int64_t *se = g_new0(int64_t, ns);
  for (guint i = 0; i < ne + ns; i++) {
    const char *nm = i < ne ? strchr(evs[i], ':') + 1 : steps[i - ne];
    guint id = 0;
    while (strcmp(names->pdata[id], nm)) id++;
    if (i < ne) ev[i] = (PcEvent){g_ascii_strtoll(evs[i], NULL, 10) * S, 0, id, 0};
    else se[i - ne] = id;
  }
  qsort(ev, ne, sizeof *ev, (int (*)(const void *, const void *))pc_event_cmp);
  PcFunnelSpec f = spec_of(se, NULL, ns, c->window_s * S, mode_of(c->mode));
  PcFunnelWork *w = pc_funnel_work_new(ns);
  *default_level = pc_funnel_level(&f, ev, ne, w, NULL);
  guint l = f.mode ? pc_funnel_mode_level(&f, ev, ne, w) : *default_level;
  pc_funnel_work_free(w);
  pc_funnel_spec_clear(&f);
  return l;
}

static void test_clickhouse_cases(void) {
  for (size_t i = 0; i < G_N_ELEMENTS(funnel_cases); i++) {
    const FunnelCase *c = &funnel_cases[i];
    guint def = 0, l = case_level(c, &def);
    if (l != c->level) g_printerr("case \"%s\": level %u, expected %u\n", c->name, l, c->level);
    CU_ASSERT_EQUAL(l, c->level);
    CU_ASSERT(l <= def); /* a mode only removes chains */
  }
}

/* Distinct steps: strict_once alone is ClickHouse's default, which is the
 * §5 definition; every mode's level is at most the default level. */
static void test_mode_bounds(void) {
  GRand *g = g_rand_new_with_seed(77);
  PcFunnelWork *w = pc_funnel_work_new(4);
  int bad = 0;
  for (int it = 0; it < 20000; it++) {
    PcEvent ev[8];
    size_t n = random_journey(g, ev);
    qsort(ev, n, sizeof *ev, (int (*)(const void *, const void *))pc_event_cmp);
    int64_t se[4] = {0, 1, 2, 3};
    for (int s = 3; s > 0; s--) { /* a random order of the 4 events */
      int r = g_rand_int_range(g, 0, s + 1);
      int64_t t = se[s];
      se[s] = se[r];
      se[r] = t;
    }
    guint ns = (guint)g_rand_int_range(g, 1, 5), mode = (guint)g_rand_int_range(g, 1, 32);
    if ((mode & PC_FUNNEL_ALLOW_REENTRY) && !(mode & PC_FUNNEL_STRICT_ORDER)) mode |= PC_FUNNEL_STRICT_ORDER;
    PcFunnelSpec f = spec_of(se, NULL, ns, g_rand_int_range(g, 0, 4), PC_FUNNEL_STRICT_ONCE);
    guint def = pc_funnel_level(&f, ev, n, w, NULL);
    bad += pc_funnel_mode_level(&f, ev, n, w) != def;
    f.mode = mode;
    bad += pc_funnel_mode_level(&f, ev, n, w) > def;
    pc_funnel_spec_clear(&f);
  }
  CU_ASSERT_EQUAL(bad, 0);
  pc_funnel_work_free(w);
  g_rand_free(g);
}

/* Where §5's default differs from ClickHouse's default (outside the
 * conformance test, by the spec): with repeated steps one ClickHouse row
 * meets two equal conditions. Steps a;a and one a: ClickHouse
 * windowFunnel(10)(ts, ev = 'a', ev = 'a') gives 2 (measured, 26.7.2.1),
 * §5 gives 1 (e1, e2 distinct); with a second a both give 2. */
static void test_clickhouse_differs(void) {
  int64_t aa[] = {0, 0};
  PcEvent one[] = {{1 * S, 0, 0, 0}, {1 * S, 0, 0, 0}};
  CU_ASSERT_EQUAL(level_of(aa, 2, 10 * S, one, 1, NULL), 1);
  CU_ASSERT_EQUAL(level_of(aa, 2, 10 * S, one, 2, NULL), 2);
}

/* A journey longer than any before grows the work; one event at a time. */
static void test_work_growth(void) {
  int64_t steps[] = {0, 1};
  PcFunnelSpec f = spec_of(steps, NULL, 2, 5, PC_FUNNEL_STRICT_ORDER);
  PcFunnelWork *w = pc_funnel_work_new(2);
  PcEvent *ev = g_new(PcEvent, 5000);
  for (int i = 0; i < 5000; i++) ev[i] = (PcEvent){i / 3, 0, (uint32_t)(i % 2), 0};
  CU_ASSERT_EQUAL(pc_funnel_mode_level(&f, ev, 1, w), 1);
  CU_ASSERT_EQUAL(pc_funnel_mode_level(&f, ev, 5000, w), 2);
  CU_ASSERT_EQUAL(pc_funnel_level(&f, ev, 5000, w, NULL), 2);
  g_free(ev);
  pc_funnel_work_free(w);
  pc_funnel_spec_clear(&f);
}

PC_TEST_MAIN("funnels",
             {"/funnels/window_edge", test_window_edge},
             {"/funnels/later_start", test_later_start},
             {"/funnels/least_spans", test_least_spans},
             {"/funnels/repeated_steps", test_repeated_steps},
             {"/funnels/ties", test_ties},
             {"/funnels/tie_groups", test_tie_groups},
             {"/funnels/never", test_never},
             {"/funnels/exhaustive", test_exhaustive},
             {"/funnels/clickhouse_cases", test_clickhouse_cases},
             {"/funnels/mode_bounds", test_mode_bounds},
             {"/funnels/clickhouse_differs", test_clickhouse_differs},
             {"/funnels/work_growth", test_work_growth})
