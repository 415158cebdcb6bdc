/* pc_plan.h - the partition plan: which rank processes which customer
 * buckets (rank 0 builds it from the bucket index alone, then broadcasts).
 * Pure: arrays in, struct out; no MPI, no HDF5.
 */
#ifndef PC_PLAN_H
#define PC_PLAN_H

#include "pc_config.h"

typedef struct {
  uint64_t buckets;
  int ranks;
  PcStrategy strategy;
  double alpha;
  uint32_t *owner;          /* B entries: rank of each bucket */
  uint64_t *rank_events;    /* P entries */
  uint64_t *rank_customers; /* P entries (customer-shard entries) */
  uint64_t *rank_buckets;   /* P entries */
  double *rank_cost;        /* P entries: events + alpha * customers */
  double imbalance_cost;    /* max / mean of rank_cost (1 = perfect) */
  double imbalance_events;  /* max / mean of rank_events */
} PcPlan;

/* events[b], customers[b]: totals over all shards. P >= 1. Deterministic:
 * ties go to the lower bucket id / lower rank. Caller frees. */
PcPlan *pc_plan_build(const uint64_t *events, const uint64_t *customers,
                      uint64_t B, int P, PcStrategy s, double alpha);
void pc_plan_free(PcPlan *p);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PcPlan, pc_plan_free)
/* The buckets of rank r, ascending. *n set. Caller g_free()s. */
uint32_t *pc_plan_buckets_of(const PcPlan *p, int r, size_t *n);
const char *pc_plan_strategy_name(PcStrategy s);
/* Estimated peak bytes of rank r while reading (batch of batch_events)
 * a store of `shards` shards: rows held, journeys, and the arrays of one
 * entry per bucket that every rank keeps per shard (B matters: 10^8
 * buckets cost 9 GB per shard whatever the events). */
uint64_t pc_plan_memory_estimate(const PcPlan *p, int r, uint64_t batch_events,
                                 uint64_t shards);

#endif
