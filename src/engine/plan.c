/* plan.c - partition strategies over customer buckets (pc_plan.h).
 *
 * hash: bucket mod P. range: contiguous runs of equal bucket count.
 * balanced: greedy largest-first (LPT) on cost = events + alpha*customers,
 * each bucket to the rank of least cost so far (a binary heap keyed by
 * (cost, rank), so P = 65536 plans in milliseconds). Buckets of equal cost
 * go in bucket-id order and equal-cost ranks in rank order: the plan is a
 * function of the index only.
 */
#include "pc_plan.h"

#include <stdlib.h>

typedef struct {
  double cost;
  uint32_t bucket;
} Item;

static int cmp_item(const void *pa, const void *pb) {
  const Item *a = pa, *b = pb;
  if (a->cost != b->cost) return a->cost > b->cost ? -1 : 1;
  return a->bucket < b->bucket ? -1 : a->bucket > b->bucket;
}

typedef struct {
  double *cost;
  int *heap, n;
} Heap;

static gboolean heap_less(const Heap *h, int a, int b) {
  if (h->cost[a] != h->cost[b]) return h->cost[a] < h->cost[b];
  return a < b;
}

static void heap_down(Heap *h, int i) {
  for (;;) {
    int l = 2 * i + 1, r = l + 1, m = i;
    if (l < h->n && heap_less(h, h->heap[l], h->heap[m])) m = l;
    if (r < h->n && heap_less(h, h->heap[r], h->heap[m])) m = r;
    if (m == i) return;
    int t = h->heap[i];
    h->heap[i] = h->heap[m];
    h->heap[m] = t;
    i = m;
  }
}

static void plan_balanced(PcPlan *p, const uint64_t *ev, const uint64_t *cu) {
  uint64_t B = p->buckets;
  Item *it = g_new(Item, B);
  for (uint64_t b = 0; b < B; b++)
    it[b] = (Item){(double)ev[b] + p->alpha * (double)cu[b], (uint32_t)b};
  qsort(it, B, sizeof(Item), cmp_item);
  Heap h = {g_new0(double, p->ranks), g_new(int, p->ranks), p->ranks};
  for (int r = 0; r < p->ranks; r++) h.heap[r] = r; /* all 0: a valid heap */
  for (uint64_t k = 0; k < B; k++) {
    int r = h.heap[0];
    p->owner[it[k].bucket] = (uint32_t)r;
    h.cost[r] += it[k].cost;
    heap_down(&h, 0);
  }
  g_free(h.cost);
  g_free(h.heap);
  g_free(it);
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
