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

/* balanced, P = 3, alpha = 0 (cost = events). Largest first, equal costs
 * in bucket order: b4 20, b0 10, b7 8, b2 5, b3 5, b5 1, b6 1, b1 0. Each to
 * the least-cost rank, ties to the lower rank:
 *   b4 -> r0 (0,0,0 tie)   costs 20  0  0
 *   b0 -> r1 (0,0 tie)           20 10  0
 *   b7 -> r2                     20 10  8
 *   b2 -> r2 (8)                 20 10 13
 *   b3 -> r1 (10)                20 15 13
 *   b5 -> r2 (13)                20 15 14
 *   b6 -> r2 (14)                20 15 15
 *   b1 -> r1 (15,15 tie)         20 15 15
 * owner = 1 1 2 1 0 2 2 2. */
static void test_balanced_alpha0(void) {
  g_autoptr(PcPlan) p =
      pc_plan_build(EV, CU, B8, 3, PC_STRATEGY_BALANCED, 0.0);
  const uint32_t want[B8] = {1, 1, 2, 1, 0, 2, 2, 2};
  assert_owner(p, want, B8);
  CU_ASSERT_EQUAL(p->rank_events[0], 20);
  CU_ASSERT_EQUAL(p->rank_events[1], 15);
  CU_ASSERT_EQUAL(p->rank_events[2], 15);
  CU_ASSERT_EQUAL(p->rank_customers[0], 4); /* b4 */
  CU_ASSERT_EQUAL(p->rank_customers[1], 3); /* b0 2 + b1 0 + b3 1 */
  CU_ASSERT_EQUAL(p->rank_customers[2], 5); /* b2 1 + b5 1 + b6 1 + b7 2 */
  CU_ASSERT_EQUAL(p->rank_buckets[0], 1);
  CU_ASSERT_EQUAL(p->rank_buckets[1], 3);
  CU_ASSERT_EQUAL(p->rank_buckets[2], 4);
  CU_ASSERT_EQUAL(p->rank_cost[0], 20.0);
  CU_ASSERT_EQUAL(p->rank_cost[1], 15.0);
  CU_ASSERT_EQUAL(p->rank_cost[2], 15.0);
  CU_ASSERT_EQUAL(p->imbalance_events, 20.0 / (50.0 / 3)); /* 1.2 */
  CU_ASSERT_EQUAL(p->imbalance_cost, 20.0 / (50.0 / 3));
}

/* alpha = 1: cost = events + customers = 12 0 6 6 24 2 2 10. Order b4 24,
 * b0 12, b7 10, b2 6, b3 6, b5 2, b6 2, b1 0:
 *   b4 -> r0   24  0  0      b3 -> r1 (12)   24 18 16
 *   b0 -> r1   24 12  0      b5 -> r2 (16)   24 18 18
 *   b7 -> r2   24 12 10      b6 -> r1 (18,18 tie: lower rank) 24 20 18
 *   b2 -> r2   24 12 16      b1 -> r2 (18)   24 20 18
 * owner = 1 2 2 1 0 2 1 2: b1 and b6 move compared with alpha = 0. */
static void test_balanced_alpha1(void) {
  g_autoptr(PcPlan) p =
      pc_plan_build(EV, CU, B8, 3, PC_STRATEGY_BALANCED, 1.0);
  const uint32_t want[B8] = {1, 2, 2, 1, 0, 2, 1, 2};
  assert_owner(p, want, B8);
  CU_ASSERT_EQUAL(p->alpha, 1.0);
  CU_ASSERT_EQUAL(p->rank_cost[0], 24.0);
  CU_ASSERT_EQUAL(p->rank_cost[1], 20.0);
  CU_ASSERT_EQUAL(p->rank_cost[2], 18.0);
  CU_ASSERT_EQUAL(p->rank_events[0], 20); /* b4 */
  CU_ASSERT_EQUAL(p->rank_events[1], 16); /* b0 10 + b3 5 + b6 1 */
  CU_ASSERT_EQUAL(p->rank_events[2], 14); /* b1 0 + b2 5 + b5 1 + b7 8 */
  CU_ASSERT_EQUAL(p->imbalance_cost, 24.0 / (62.0 / 3));
  CU_ASSERT_EQUAL(p->imbalance_events, 20.0 / (50.0 / 3));
}

/* Equal costs everywhere (B = 4, 1 event each, P = 2): bucket order
 * b0 b1 b2 b3, ranks alternate by the lower-rank tie rule: 0 1 0 1. */
static void test_balanced_ties(void) {
  const uint64_t ev[4] = {1, 1, 1, 1}, cu[4] = {0, 0, 0, 0};
  g_autoptr(PcPlan) p = pc_plan_build(ev, cu, 4, 2, PC_STRATEGY_BALANCED, 1.0);
  const uint32_t want[4] = {0, 1, 0, 1};
  assert_owner(p, want, 4);
  CU_ASSERT_EQUAL(p->imbalance_cost, 1.0);
  CU_ASSERT_EQUAL(p->imbalance_events, 1.0);
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
 * hash: 0 1; range: b*4/2 = 0 2; balanced: b0 (cost 4) -> r0, b1 (2) -> r1.
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
  /* all costs 0: rank 0 stays at cost 0 after each bucket, so the least
   * (cost, rank) is r0 every time: 0 0 0 0. */
  const uint32_t want[4] = {0, 0, 0, 0};
  assert_owner(p, want, 4);
}

/* Buckets of a rank, ascending (from the alpha 0 balanced plan above,
 * owner 1 1 2 1 0 2 2 2): r0 {4}, r1 {0,1,3}, r2 {2,5,6,7}. */
static void test_buckets_of(void) {
  g_autoptr(PcPlan) p =
      pc_plan_build(EV, CU, B8, 3, PC_STRATEGY_BALANCED, 0.0);
  size_t n = 0;
  g_autofree uint32_t *r0 = pc_plan_buckets_of(p, 0, &n);
  CU_ASSERT_EQUAL_FATAL(n, 1);
  CU_ASSERT_EQUAL(r0[0], 4);
  g_autofree uint32_t *r1 = pc_plan_buckets_of(p, 1, &n);
  CU_ASSERT_EQUAL_FATAL(n, 3);
  CU_ASSERT_EQUAL(r1[0], 0);
  CU_ASSERT_EQUAL(r1[1], 1);
  CU_ASSERT_EQUAL(r1[2], 3);
  g_autofree uint32_t *r2 = pc_plan_buckets_of(p, 2, &n);
  CU_ASSERT_EQUAL_FATAL(n, 4);
  CU_ASSERT_EQUAL(r2[0], 2);
  CU_ASSERT_EQUAL(r2[1], 5);
  CU_ASSERT_EQUAL(r2[2], 6);
  CU_ASSERT_EQUAL(r2[3], 7);
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
             {"/plan/one_rank", test_one_rank},
             {"/plan/more_ranks_than_buckets", test_more_ranks_than_buckets},
             {"/plan/empty_index", test_empty_index},
             {"/plan/buckets_of", test_buckets_of},
             {"/plan/memory_estimate", test_memory_estimate},
             {"/plan/strategy_names", test_strategy_names},
             {"/plan/deterministic", test_deterministic})
