/* plan.c - partition strategies over customer buckets (pc_plan.h).
 *
 * hash: bucket mod P. range: contiguous runs of equal bucket count.
 * balanced: contiguous runs of buckets whose largest cost (cost = events +
 * alpha*customers) is the least possible, found by bisection on that
 * bottleneck and a greedy fill in bucket order (B = 10^6 buckets plan in
 * a second). The plan is a function of the index only.
 */
#include "pc_plan.h"


/* The ranks the greedy fill needs at bottleneck t: each rank takes the next
 * buckets while its cost stays <= t. */
static int ranks_needed(const double *cost, uint64_t B, double t) {
  int r = 1;
  double sum = 0;
  for (uint64_t b = 0; b < B; b++) {
    if (sum + cost[b] > t && sum > 0) {
      r++;
      sum = 0;
    }
    sum += cost[b];
  }
  return r;
}

/* balanced: contiguous runs of buckets with the least possible largest
 * cost. The bottleneck is bisected between the dearest bucket and the
 * total (the greedy fill is feasible exactly from the optimum up), then
 * ranks are filled greedily in bucket order. Contiguous runs are what lets
 * a rank inflate only the chunks that hold its buckets (a shard's rows are
 * in bucket order; a rank shares at most one chunk per column with its
 * neighbour), where a scattered plan made every rank inflate nearly every
 * chunk. Pure double arithmetic on the index: the same plan on any rank. */
static void plan_balanced(PcPlan *p, const uint64_t *ev, const uint64_t *cu) {
  uint64_t B = p->buckets;
  g_autofree double *cost = g_new(double, B);
  double lo = 0, hi = 0;
  for (uint64_t b = 0; b < B; b++) {
    cost[b] = (double)ev[b] + p->alpha * (double)cu[b];
    lo = MAX(lo, cost[b]);
    hi += cost[b];
  }
  hi = MAX(hi, lo);
  if (ranks_needed(cost, B, lo) <= p->ranks) hi = lo;
  for (int it = 0; it < 200 && lo < hi; it++) { /* lo infeasible, hi feasible */
    double mid = lo + (hi - lo) / 2;
    if (mid <= lo || mid >= hi) break;
    if (ranks_needed(cost, B, mid) <= p->ranks) hi = mid;
    else lo = mid;
  }
  int r = 0;
  double sum = 0;
  for (uint64_t b = 0; b < B; b++) {
    if (sum + cost[b] > hi && sum > 0) {
      r++;
      sum = 0;
    }
    sum += cost[b];
    p->owner[b] = (uint32_t)r;
  }
}

static double ratio_max_mean(const double *v, int n) {
  double mx = 0, sum = 0;
  for (int i = 0; i < n; i++) {
    mx = MAX(mx, v[i]);
    sum += v[i];
  }
  return sum > 0 ? mx / (sum / n) : 1.0;
}

PcPlan *pc_plan_build(const uint64_t *events, const uint64_t *customers,
                      uint64_t B, int P, PcStrategy s, double alpha) {
  g_return_val_if_fail(P >= 1 && B >= 1, NULL);
  PcPlan *p = g_new0(PcPlan, 1);
  p->buckets = B;
  p->ranks = P;
  p->strategy = s;
  p->alpha = alpha;
  p->owner = g_new(uint32_t, B);
  if (s == PC_STRATEGY_HASH)
    for (uint64_t b = 0; b < B; b++) p->owner[b] = (uint32_t)(b % (uint64_t)P);
  else if (s == PC_STRATEGY_RANGE)
    for (uint64_t b = 0; b < B; b++) p->owner[b] = (uint32_t)(b * (uint64_t)P / B);
  else
    plan_balanced(p, events, customers);
  p->rank_events = g_new0(uint64_t, P);
  p->rank_customers = g_new0(uint64_t, P);
  p->rank_buckets = g_new0(uint64_t, P);
  p->rank_cost = g_new0(double, P);
  g_autofree double *evd = g_new0(double, P);
  for (uint64_t b = 0; b < B; b++) {
    int r = (int)p->owner[b];
    p->rank_events[r] += events[b];
    p->rank_customers[r] += customers[b];
    p->rank_buckets[r]++;
    p->rank_cost[r] += (double)events[b] + alpha * (double)customers[b];
  }
  for (int r = 0; r < P; r++) evd[r] = (double)p->rank_events[r];
  p->imbalance_cost = ratio_max_mean(p->rank_cost, P);
  p->imbalance_events = ratio_max_mean(evd, P);
  return p;
}

void pc_plan_free(PcPlan *p) {
  if (!p) return;
  g_free(p->owner);
  g_free(p->rank_events);
  g_free(p->rank_customers);
  g_free(p->rank_buckets);
  g_free(p->rank_cost);
  g_free(p);
}

uint32_t *pc_plan_buckets_of(const PcPlan *p, int r, size_t *n) {
  uint32_t *out = g_new(uint32_t, p->rank_buckets[r] + 1);
  size_t k = 0;
  for (uint64_t b = 0; b < p->buckets; b++)
    if (p->owner[b] == (uint32_t)r) out[k++] = (uint32_t)b;
  *n = k;
  return out;
}

const char *pc_plan_strategy_name(PcStrategy s) {
  return s == PC_STRATEGY_HASH ? "hash" : s == PC_STRATEGY_RANGE ? "range" : "balanced";
}

/* Per event held at once: the slice (28 bytes of columns) and the journey
 * copy (24); per customer: id and journey header; plus the rank's share of
 * path-table keys, estimated as 16 bytes per event. A planning figure, not
 * a bound. */
#define PLAN_BUCKET_BYTES 24  /* per bucket: totals (16), owner (4), a rank's list (4) */
#define SHARD_BUCKET_BYTES 88 /* per bucket and shard: metadata counts and prefix
                                 sums (64), a slice's counts (24) */

uint64_t pc_plan_memory_estimate(const PcPlan *p, int r, uint64_t batch,
                                 uint64_t shards) {
  uint64_t ev = p->rank_events[r];
  uint64_t held = MIN(ev, batch);
  return held * 52 + p->rank_customers[r] * 48 / MAX(ev / MAX(held, 1), 1) +
         ev * 16 + p->buckets * (PLAN_BUCKET_BYTES + shards * SHARD_BUCKET_BYTES) +
         (UINT64_C(64) << 20);
}
