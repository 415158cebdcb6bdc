/* pc_shard.h - one shard of the event store in memory, and the builder that
 * turns rows in any order into it (used by ingest and generate).
 *
 * A shard (docs/format.md) holds customers sorted by (bucket, id bytes),
 * their events grouped by customer in that order and sorted by the journey
 * key inside a customer, shard-local channel and event dictionaries sorted
 * bytewise, the (channel, event) pairs present, the optional customers table
 * (same order), and per-bucket event and customer counts: the bucket index.
 * No MPI, no HDF5: h5io.c writes and reads this struct.
 */
#ifndef PC_SHARD_H
#define PC_SHARD_H

#include "pc_core.h"

typedef struct {
  uint64_t buckets;          /* B */
  /* customers of the events, sorted by (bucket, id) */
  uint64_t n_customers;
  guint8 *id_bytes;          /* concatenated ids */
  uint64_t *id_offsets;      /* n_customers + 1 */
  /* events, grouped by customer in customer order */
  uint64_t n_events;
  uint32_t *ev_customer;     /* shard-local customer index */
  int64_t *ev_ts;
  uint32_t *ev_channel;      /* shard-local channel id */
  uint32_t *ev_event;        /* shard-local event id */
  int64_t *ev_value;
  /* dictionaries */
  PcDict *channels;
  PcDict *events;
  uint64_t n_pairs;
  uint32_t *pairs;           /* 2 * n_pairs: (channel, event), sorted */
  /* bucket index */
  uint64_t *bucket_events;   /* B counts */
  uint64_t *bucket_customers;/* B counts */
  /* customers table rows (spec §1), sorted by (bucket, id) */
  uint64_t n_crm;
  guint8 *crm_id_bytes;
  uint64_t *crm_id_offsets;  /* n_crm + 1 */
  int64_t *crm_revenue;      /* millionths */
  guint8 *crm_seg_bytes;
  uint64_t *crm_seg_offsets; /* n_crm + 1 */
  uint64_t *bucket_crm;      /* B counts */
} PcShardData;

void pc_shard_data_free(PcShardData *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PcShardData, pc_shard_data_free)

/* Bucket of a customer id: FNV-1a-64(id) mod B (spec'd by the format). */
static inline uint32_t pc_bucket_of(const void *id, size_t len, uint64_t B) {
  return (uint32_t)(pc_fnv1a64(id, len) % B);
}

typedef struct PcShardBuilder PcShardBuilder;

/* An empty builder for a store of `buckets` buckets. Cannot fail. Caller
 * frees with pc_shard_builder_free() or hands it to
 * pc_shard_builder_finish(). */
PcShardBuilder *pc_shard_builder_new(uint64_t buckets);
void pc_shard_builder_free(PcShardBuilder *b);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PcShardBuilder, pc_shard_builder_free)
/* Adds one event (names as bytes; need not be NUL-terminated). */
void pc_shard_builder_add_event(PcShardBuilder *b, const char *id,
                                uint32_t id_len, int64_t ts_us,
                                const char *channel, uint32_t channel_len,
                                const char *event, uint32_t event_len,
                                int64_t value);
/* Adds a customers-table row; FALSE (row not added) if the id is already
 * in the table: the caller rejects it as duplicate_customer. */
gboolean pc_shard_builder_add_customer(PcShardBuilder *b, const char *id,
                                       uint32_t id_len, int64_t revenue,
                                       const char *seg, uint32_t seg_len);
/* Events added so far. */
uint64_t pc_shard_builder_events(const PcShardBuilder *b);
/* Sorts and hands over the shard; b is consumed (freed). Cannot fail.
 * Caller frees the shard with pc_shard_data_free(). */
PcShardData *pc_shard_builder_finish(PcShardBuilder *b);

#endif
