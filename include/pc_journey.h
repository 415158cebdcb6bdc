/* pc_journey.h - journey assembly: the k-way merge of the shards' slices of
 * a batch of buckets into customer journeys (spec §2), handed one by one to
 * a callback, and the per-journey view every analysis module receives.
 *
 * Pure: arrays in, callbacks out; no MPI, no HDF5, no files, so CUnit tests
 * build slices by hand. Invariants: within a bucket, customers come in id
 * byte order and a customer's events in journey-key order whatever the
 * number of shards holding them; a customer's events from all shards form
 * one journey (its id is compared, never only hashed).
 */
#ifndef PC_JOURNEY_H
#define PC_JOURNEY_H

#include "pc_config.h"
#include "pc_module.h"
#include "pc_shard.h"

/* Shard-local id -> global id maps of every shard, the time filter, the
 * segments and the scope of spec §12. */
typedef struct {
  guint n_shards;
  uint32_t *const *ch_map;  /* [shard][local channel id] */
  uint32_t *const *ev_map;  /* [shard][local event id] */
  gboolean has_from, has_to;
  int64_t from_us, to_us;   /* keep from <= ts < to */
  const PcDict *segments;   /* the run's segments; NULL: every customer is
                             * segment 0, PC_SEGMENT_UNKNOWN alone */
  uint32_t segment_unknown; /* id of PC_SEGMENT_UNKNOWN in segments */
  const guint8 *segment_keep; /* [segment id] scope.segments; NULL: all */
  int64_t entry_event;      /* scope.entry_event global id, or -1 */
} PcJourneyMaps;

/* A batch: the slices of every shard for the same sorted buckets. */
typedef struct PcBatch PcBatch;

/* slices[s] holds shard s's rows of buckets[0..nb) (pc_h5io_read_buckets);
 * both arrays must outlive the batch. Caller frees with pc_batch_free(). */
PcBatch *pc_batch_new(PcShardData *const *slices, const PcJourneyMaps *maps,
                      const uint32_t *buckets, size_t nb);
void pc_batch_free(PcBatch *b);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PcBatch, pc_batch_free)

/* Called once per customer with at least one kept event in scope (spec
 * §12: the customer's segment among scope.segments, the journey from its
 * first scope.entry_event on). j and its events are valid during the call
 * only. */
typedef void (*PcJourneyFn)(const PcJourney *j, void *user);

/* Assembles the journeys of the batch's i-th bucket in customer id order.
 * scratch: a GArray of PcEvent owned by the calling thread. Different i
 * may run on different threads at once. */
void pc_batch_journeys(const PcBatch *b, size_t i, GArray *scratch,
                       PcJourneyFn fn, void *user);

/* The scope of spec §12 on a journey whose events passed input.from/to
 * and whose segment is set: FALSE when the customer is out of scope (a
 * segment outside m->segment_keep, or no m->entry_event); else TRUE, and
 * *j starts at its first entry event (events before it, ties sorted
 * before it included, dropped). Pure. */
gboolean pc_journey_scope(const PcJourneyMaps *m, PcJourney *j);

/* How a journey's path tokens are named (path.token). */
typedef struct {
  PcTokenMode mode;
  const uint32_t *pair_token; /* channel:event: [channel * E + event] */
  uint32_t E;                 /* events in the dictionary */
} PcTokenMap;

/* Fills *v for j: y and cut from the target (§4), tokens and times into
 * the thread's scratch arrays tok (uint32) and ts (int64), revenue as §6
 * defines it (has_crm: j->revenue, else the sum of the event values). */
void pc_journey_view(PcJourneyView *v, const PcJourney *j,
                     const PcTarget *target, const PcTokenMap *tm,
                     gboolean has_crm, GArray *tok, GArray *ts);

#endif
