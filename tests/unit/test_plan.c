/* test_plan.c - the partition strategies of src/plan.c on a bucket index
 * small enough to plan by hand:
 *
 *   bucket     0  1  2  3  4  5  6  7
 *   events    10  0  5  5 20  1  1  8   (total 50)
 *   customers  2  0  1  1  4  1  1  2   (total 12)
 *
 * Imbalances are compared with the same floating expression max/(sum/P),
 * written out, so the comparison is exact.
 */
#include "pc_plan.h"
#include "pc_test.h"

#define B8 8
static const uint64_t EV[B8] = {10, 0, 5, 5, 20, 1, 1, 8};
static const uint64_t CU[B8] = {2, 0, 1, 1, 4, 1, 1, 2};

static void assert_owner(const PcPlan *p, const uint32_t *want, uint64_t B) {
  for (uint64_t b = 0; b < B; b++) CU_ASSERT_EQUAL(p->owner[b], want[b]);
}

/* hash, P = 3: owner = b mod 3 = 0 1 2 0 1 2 0 1.
 * events: r0 = b0+b3+b6 = 10+5+1 = 16, r1 = b1+b4+b7 = 0+20+8 = 28,
 * r2 = b2+b5 = 5+1 = 6. customers: r0 = 2+1+1 = 4, r1 = 0+4+2 = 6,
 * r2 = 1+1 = 2. cost (alpha 1) = 20, 34, 8 (sum 62). */
static void test_hash(void) {
  g_autoptr(PcPlan) p = pc_plan_build(EV, CU, B8, 3, PC_STRATEGY_HASH, 1.0);
  const uint32_t want[B8] = {0, 1, 2, 0, 1, 2, 0, 1};
  assert_owner(p, want, B8);
  CU_ASSERT_EQUAL(p->buckets, 8);
  CU_ASSERT_EQUAL(p->ranks, 3);
  CU_ASSERT_EQUAL(p->strategy, PC_STRATEGY_HASH);
  CU_ASSERT_EQUAL(p->rank_events[0], 16);
  CU_ASSERT_EQUAL(p->rank_events[1], 28);
  CU_ASSERT_EQUAL(p->rank_events[2], 6);
  CU_ASSERT_EQUAL(p->rank_customers[0], 4);
  CU_ASSERT_EQUAL(p->rank_customers[1], 6);
  CU_ASSERT_EQUAL(p->rank_customers[2], 2);
  CU_ASSERT_EQUAL(p->rank_buckets[0], 3);
  CU_ASSERT_EQUAL(p->rank_buckets[1], 3);
  CU_ASSERT_EQUAL(p->rank_buckets[2], 2);
  CU_ASSERT_EQUAL(p->rank_cost[0], 20.0);
  CU_ASSERT_EQUAL(p->rank_cost[1], 34.0);
  CU_ASSERT_EQUAL(p->rank_cost[2], 8.0);
  CU_ASSERT_EQUAL(p->imbalance_events, 28.0 / (50.0 / 3)); /* 1.68 */
  CU_ASSERT_EQUAL(p->imbalance_cost, 34.0 / (62.0 / 3));   /* 1.645... */
}

/* range, P = 3: owner = b*3/8 (integer division) = 0 0 0 1 1 1 2 2, runs
 * of 3, 3, 2. events: r0 = 10+0+5 = 15, r1 = 5+20+1 = 26, r2 = 1+8 = 9. */
static void test_range(void) {
  g_autoptr(PcPlan) p = pc_plan_build(EV, CU, B8, 3, PC_STRATEGY_RANGE, 1.0);
  const uint32_t want[B8] = {0, 0, 0, 1, 1, 1, 2, 2};
  assert_owner(p, want, B8);
  CU_ASSERT_EQUAL(p->rank_events[0], 15);
  CU_ASSERT_EQUAL(p->rank_events[1], 26);
  CU_ASSERT_EQUAL(p->rank_events[2], 9);
  CU_ASSERT_EQUAL(p->rank_customers[0], 3);
  CU_ASSERT_EQUAL(p->rank_customers[1], 6);
  CU_ASSERT_EQUAL(p->rank_customers[2], 3);
  CU_ASSERT_EQUAL(p->rank_buckets[0], 3);
  CU_ASSERT_EQUAL(p->rank_buckets[1], 3);
  CU_ASSERT_EQUAL(p->rank_buckets[2], 2);
  CU_ASSERT_EQUAL(p->imbalance_events, 26.0 / (50.0 / 3)); /* 1.56 */
}

/* balanced, P = 3, alpha = 0 (cost = events 10 0 5 5 20 1 1 8, total 50):
 * contiguous runs with the least largest cost. The dearest bucket (b4, 20)
 * bounds it from below, and 20 is feasible: filled greedily in bucket
 * order, r0 takes b0..b3 (10+0+5+5 = 20; b4 would make 40), r1 b4 (20),
 * r2 b5..b7 (1+1+8 = 10). owner = 0 0 0 0 1 2 2 2 (LPT, the strategy before
 * issue 19, had 1 1 2 1 0 2 2 2: the same largest cost, scattered). */
static void test_balanced_alpha0(void) {
  g_autoptr(PcPlan) p =
      pc_plan_build(EV, CU, B8, 3, PC_STRATEGY_BALANCED, 0.0);
  const uint32_t want[B8] = {0, 0, 0, 0, 1, 2, 2, 2};
  assert_owner(p, want, B8);
  CU_ASSERT_EQUAL(p->rank_events[0], 20);
  CU_ASSERT_EQUAL(p->rank_events[1], 20);
  CU_ASSERT_EQUAL(p->rank_events[2], 10);
  CU_ASSERT_EQUAL(p->rank_customers[0], 4); /* 2 + 0 + 1 + 1 */
  CU_ASSERT_EQUAL(p->rank_customers[1], 4); /* b4 */
  CU_ASSERT_EQUAL(p->rank_customers[2], 4); /* 1 + 1 + 2 */
  CU_ASSERT_EQUAL(p->rank_buckets[0], 4);
  CU_ASSERT_EQUAL(p->rank_buckets[1], 1);
  CU_ASSERT_EQUAL(p->rank_buckets[2], 3);
  CU_ASSERT_EQUAL(p->rank_cost[0], 20.0);
  CU_ASSERT_EQUAL(p->rank_cost[1], 20.0);
  CU_ASSERT_EQUAL(p->rank_cost[2], 10.0);
  CU_ASSERT_EQUAL(p->imbalance_events, 20.0 / (50.0 / 3)); /* 1.2 */
  CU_ASSERT_EQUAL(p->imbalance_cost, 20.0 / (50.0 / 3));
}

/* alpha = 1: cost = events + customers = 12 0 6 6 24 2 2 10 (total 62).
 * The dearest bucket (b4, 24) is feasible again: r0 b0..b3 (24), r1 b4
 * (24), r2 b5..b7 (14). */
static void test_balanced_alpha1(void) {
  g_autoptr(PcPlan) p =
      pc_plan_build(EV, CU, B8, 3, PC_STRATEGY_BALANCED, 1.0);
  const uint32_t want[B8] = {0, 0, 0, 0, 1, 2, 2, 2};
  assert_owner(p, want, B8);
  CU_ASSERT_EQUAL(p->alpha, 1.0);
  CU_ASSERT_EQUAL(p->rank_cost[0], 24.0);
  CU_ASSERT_EQUAL(p->rank_cost[1], 24.0);
  CU_ASSERT_EQUAL(p->rank_cost[2], 14.0);
  CU_ASSERT_EQUAL(p->rank_events[0], 20);
  CU_ASSERT_EQUAL(p->rank_events[1], 20);
  CU_ASSERT_EQUAL(p->rank_events[2], 10);
  CU_ASSERT_EQUAL(p->imbalance_cost, 24.0 / (62.0 / 3));
  CU_ASSERT_EQUAL(p->imbalance_events, 20.0 / (50.0 / 3));
}

/* P = 2 over a bucket that weighs 2 and three of 1 (2 1 1 1, total 5):
 * the dearest (2) needs 3 ranks, so the bisection finds the bottleneck 3
 * (just above it in floating point): r0 b0 b1 (3), r1 b2 b3 (2). Equal
 * costs (1 1 1 1, P = 2): 0 0 1 1, imbalance exactly 1. */
static void test_balanced_ties(void) {
  const uint64_t ev[4] = {2, 1, 1, 1}, cu[4] = {0, 0, 0, 0};
  g_autoptr(PcPlan) p = pc_plan_build(ev, cu, 4, 2, PC_STRATEGY_BALANCED, 1.0);
  const uint32_t want[4] = {0, 0, 1, 1};
  assert_owner(p, want, 4);
  CU_ASSERT_EQUAL(p->rank_cost[0], 3.0);
  CU_ASSERT_EQUAL(p->rank_cost[1], 2.0);
  const uint64_t eq[4] = {1, 1, 1, 1};
  g_autoptr(PcPlan) q = pc_plan_build(eq, cu, 4, 2, PC_STRATEGY_BALANCED, 1.0);
  assert_owner(q, want, 4);
  CU_ASSERT_EQUAL(q->imbalance_cost, 1.0);
  CU_ASSERT_EQUAL(q->imbalance_events, 1.0);
}

/* Many equal buckets (B = 4096, 10 events each, P = 3): runs of 1366,
 * 1366 and 1364 buckets, each contiguous. */
static void test_balanced_contiguous(void) {
  enum { NB = 4096 };
  g_autofree uint64_t *ev = g_new(uint64_t, NB), *cu = g_new0(uint64_t, NB);
  for (int b = 0; b < NB; b++) ev[b] = 10;
  g_autoptr(PcPlan) p = pc_plan_build(ev, cu, NB, 3, PC_STRATEGY_BALANCED, 1.0);
  for (int b = 1; b < NB; b++) CU_ASSERT(p->owner[b] == p->owner[b - 1] || p->owner[b] == p->owner[b - 1] + 1);
  CU_ASSERT_EQUAL(p->rank_buckets[0], 1366);
  CU_ASSERT_EQUAL(p->rank_buckets[1], 1366);
  CU_ASSERT_EQUAL(p->rank_buckets[2], 1364);
}

/* P = 1: every strategy gives all 8 buckets to rank 0, imbalance exactly 1
 * (max = sum = mean). */
static void test_one_rank(void) {
  const PcStrategy ss[] = {PC_STRATEGY_HASH, PC_STRATEGY_RANGE,
                           PC_STRATEGY_BALANCED};
  for (size_t i = 0; i < G_N_ELEMENTS(ss); i++) {
    g_autoptr(PcPlan) p = pc_plan_build(EV, CU, B8, 1, ss[i], 1.0);
    const uint32_t want[B8] = {0};
    assert_owner(p, want, B8);
    CU_ASSERT_EQUAL(p->rank_events[0], 50);
    CU_ASSERT_EQUAL(p->rank_customers[0], 12);
    CU_ASSERT_EQUAL(p->rank_buckets[0], 8);
    CU_ASSERT_EQUAL(p->rank_cost[0], 62.0);
    CU_ASSERT_EQUAL(p->imbalance_events, 1.0);
    CU_ASSERT_EQUAL(p->imbalance_cost, 1.0);
  }
}

/* P = 4 > B = 2, events {3, 1}, customers {1, 1}: ranks without a bucket.
 * hash: 0 1; range: b*4/2 = 0 2; balanced: the dearest bucket (4) is the
 * bottleneck, b0 -> r0, b1 (2) -> r1, r2 and r3 idle.
 * hash imbalance_events = 3 / (4/4) = 3; range rank_buckets = 1 0 1 0. */
static void test_more_ranks_than_buckets(void) {
  const uint64_t ev[2] = {3, 1}, cu[2] = {1, 1};
  g_autoptr(PcPlan) h = pc_plan_build(ev, cu, 2, 4, PC_STRATEGY_HASH, 1.0);
  g_autoptr(PcPlan) r = pc_plan_build(ev, cu, 2, 4, PC_STRATEGY_RANGE, 1.0);
  g_autoptr(PcPlan) b = pc_plan_build(ev, cu, 2, 4, PC_STRATEGY_BALANCED, 1.0);
  CU_ASSERT_EQUAL(h->owner[0], 0);
  CU_ASSERT_EQUAL(h->owner[1], 1);
  CU_ASSERT_EQUAL(r->owner[0], 0);
  CU_ASSERT_EQUAL(r->owner[1], 2);
  CU_ASSERT_EQUAL(b->owner[0], 0);
  CU_ASSERT_EQUAL(b->owner[1], 1);
  CU_ASSERT_EQUAL(h->imbalance_events, 3.0);
  CU_ASSERT_EQUAL(h->imbalance_cost, 4.0 / (6.0 / 4)); /* costs 4 2 0 0 */
  CU_ASSERT_EQUAL(r->rank_buckets[0], 1);
  CU_ASSERT_EQUAL(r->rank_buckets[1], 0);
  CU_ASSERT_EQUAL(r->rank_buckets[2], 1);
  CU_ASSERT_EQUAL(r->rank_buckets[3], 0);
  CU_ASSERT_EQUAL(r->rank_events[1], 0);
  CU_ASSERT_EQUAL(b->rank_events[2], 0);
  CU_ASSERT_EQUAL(b->rank_events[3], 0);
  size_t n = 99;
  g_autofree uint32_t *none = pc_plan_buckets_of(r, 3, &n);
  CU_ASSERT_EQUAL(n, 0);
}

/* An empty index (all zero) has nothing to balance: imbalance 1. */
static void test_empty_index(void) {
  const uint64_t z[4] = {0, 0, 0, 0};
  g_autoptr(PcPlan) p = pc_plan_build(z, z, 4, 3, PC_STRATEGY_BALANCED, 1.0);
  CU_ASSERT_EQUAL(p->imbalance_events, 1.0);
  CU_ASSERT_EQUAL(p->imbalance_cost, 1.0);
  /* all costs 0: the bottleneck 0 is feasible with one rank: 0 0 0 0. */
  const uint32_t want[4] = {0, 0, 0, 0};
  assert_owner(p, want, 4);
}

/* Buckets of a rank, ascending (from the alpha 0 balanced plan above,
 * owner 0 0 0 0 1 2 2 2): r0 {0,1,2,3}, r1 {4}, r2 {5,6,7}. */
static void test_buckets_of(void) {
  g_autoptr(PcPlan) p =
      pc_plan_build(EV, CU, B8, 3, PC_STRATEGY_BALANCED, 0.0);
  size_t n = 0;
  g_autofree uint32_t *r0 = pc_plan_buckets_of(p, 0, &n);
  CU_ASSERT_EQUAL_FATAL(n, 4);
  for (uint32_t i = 0; i < 4; i++) CU_ASSERT_EQUAL(r0[i], i);
  g_autofree uint32_t *r1 = pc_plan_buckets_of(p, 1, &n);
  CU_ASSERT_EQUAL_FATAL(n, 1);
  CU_ASSERT_EQUAL(r1[0], 4);
  g_autofree uint32_t *r2 = pc_plan_buckets_of(p, 2, &n);
  CU_ASSERT_EQUAL_FATAL(n, 3);
  CU_ASSERT_EQUAL(r2[0], 5);
  CU_ASSERT_EQUAL(r2[1], 6);
  CU_ASSERT_EQUAL(r2[2], 7);
}

/* Rank 0 of the alpha 0 balanced plan: 20 events, 4 customers, 8 buckets.
 * batch 8: held = min(20, 8) = 8 -> 8*52 = 416; 4*48 / max(20/8 = 2, 1)
 * = 96; 20*16 = 320; buckets 8 * (24 + 1 shard * 88) = 896; + 64 MiB =
 * 67108864. Total 67110592.
 * batch 100: held 20 -> 1040 + 192/1 + 320 + 896 + 67108864 = 67111312.
 * batch 100, 3 shards: 8 * (24 + 3 * 88) = 2304 instead of 896: 67112720. */
static void test_memory_estimate(void) {
  g_autoptr(PcPlan) p =
      pc_plan_build(EV, CU, B8, 3, PC_STRATEGY_BALANCED, 0.0);
  CU_ASSERT_EQUAL(pc_plan_memory_estimate(p, 0, 8, 1), UINT64_C(67110592));
  CU_ASSERT_EQUAL(pc_plan_memory_estimate(p, 0, 100, 1), UINT64_C(67111312));
  CU_ASSERT_EQUAL(pc_plan_memory_estimate(p, 0, 100, 3), UINT64_C(67112720));
}

static void test_strategy_names(void) {
  CU_ASSERT_STRING_EQUAL(pc_plan_strategy_name(PC_STRATEGY_HASH), "hash");
  CU_ASSERT_STRING_EQUAL(pc_plan_strategy_name(PC_STRATEGY_RANGE), "range");
  CU_ASSERT_STRING_EQUAL(pc_plan_strategy_name(PC_STRATEGY_BALANCED),
                         "balanced");
}

/* The plan is a function of the index: two builds, same owners. */
static void test_deterministic(void) {
  g_autoptr(PcPlan) a =
      pc_plan_build(EV, CU, B8, 3, PC_STRATEGY_BALANCED, 1.0);
  g_autoptr(PcPlan) b =
      pc_plan_build(EV, CU, B8, 3, PC_STRATEGY_BALANCED, 1.0);
  CU_ASSERT_EQUAL(memcmp(a->owner, b->owner, B8 * sizeof(uint32_t)), 0);
}

PC_TEST_MAIN("plan",
             {"/plan/hash", test_hash},
             {"/plan/range", test_range},
             {"/plan/balanced_alpha0", test_balanced_alpha0},
             {"/plan/balanced_alpha1", test_balanced_alpha1},
             {"/plan/balanced_ties", test_balanced_ties},
             {"/plan/balanced_contiguous", test_balanced_contiguous},
             {"/plan/one_rank", test_one_rank},
             {"/plan/more_ranks_than_buckets", test_more_ranks_than_buckets},
             {"/plan/empty_index", test_empty_index},
             {"/plan/buckets_of", test_buckets_of},
             {"/plan/memory_estimate", test_memory_estimate},
             {"/plan/strategy_names", test_strategy_names},
             {"/plan/deterministic", test_deterministic})
