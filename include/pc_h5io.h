/* pc_h5io.h - every HDF5 call of parcours: shards of the event store
 * (docs/format.md) and results.h5. Implemented by src/store/h5io.c (shared
 * helpers, private header h5io_int.h), h5shard.c (writing a shard, reading
 * its metadata), h5slice.c (the rows of a set of buckets) and h5results.c;
 * only those files include hdf5.h.
 *
 * Shards are written and read by one rank each with the sec2 driver (each
 * rank writes its own shard; reads are independent hyperslab selections),
 * so no collective HDF5 call exists and a rank never waits on another inside
 * HDF5. Every error names the file and the dataset.
 */
#ifndef PC_H5IO_H
#define PC_H5IO_H

#include "pc_shard.h"
#include "pc_table.h"

#define PC_STORE_FORMAT "parcours-store"
#define PC_STORE_VERSION 1

/* Writes s to path (the caller renames: atomicity is the store's job)
 * through a PcShardWriter. batch_json (may be NULL): the batch record
 * (batch.c), kept verbatim as the scalar string dataset "/ingest". FALSE
 * with PC_ERROR_IO naming path; no file is left. */
gboolean pc_h5io_write_shard(const char *path, const PcShardData *s,
                             const char *batch_json, GError **error);

/* ---- Writing a shard as a stream (src/store/h5stream.c) ------------------- */

/* A shard file written in (bucket, id) order, a chunk of each dataset at a
 * time (memory: one chunk per dataset, whatever the shard's size), with the
 * disk reserved ahead so that a full disk is a clean error naming the file
 * ("PATH: cannot write: No space left on device"). The same rows give the
 * same file bytes. */
typedef struct PcShardWriter PcShardWriter;

/* Creates path for a shard of `buckets` buckets whose dictionaries are
 * channels and events (sorted; event ids index them; copied).
 * events_hint and buckets_used size the event chunks (about one bucket's
 * events per chunk): estimates are fine, the same values give the same
 * file. FALSE with PC_ERROR_IO naming path. Caller frees *out with
 * pc_h5io_writer_free(), after pc_h5io_writer_finish() to keep the file. */
gboolean pc_h5io_writer_open(const char *path, uint64_t buckets,
                             const PcDict *channels, const PcDict *events,
                             uint64_t events_hint, uint64_t buckets_used,
                             PcShardWriter **out, GError **error);
/* The next customer: bucket >= the previous one's, ids ascending in a
 * bucket (the caller's order, asserted for buckets), n >= 1 events in the
 * journey order of spec §2 with ids into the dictionaries. FALSE with
 * PC_ERROR_IO naming the file. */
gboolean pc_h5io_writer_customer(PcShardWriter *w, uint32_t bucket,
                                 const char *id, uint32_t id_len,
                                 const PcEvent *ev, size_t n, GError **error);
/* The next customers-table row, in (bucket, id) order. As above. */
gboolean pc_h5io_writer_crm(PcShardWriter *w, uint32_t bucket, const char *id,
                            uint32_t id_len, int64_t revenue, const char *seg,
                            uint32_t seg_len, GError **error);
/* Events written so far. */
uint64_t pc_h5io_writer_events(const PcShardWriter *w);
/* TRUE when every name of both dictionaries has at least one event (a
 * shard lists only the names of its events); channels[i], events[i] (each
 * may be NULL, else one per name) get 1 for a name with an event. */
gboolean pc_h5io_writer_names_used(const PcShardWriter *w, guint8 *channels,
                                   guint8 *events);
/* Writes the rest (dictionaries, pairs, bucket index, attributes, the
 * batch record batch_json if not NULL), closes and fsyncs the file. FALSE
 * with PC_ERROR_IO naming it. */
gboolean pc_h5io_writer_finish(PcShardWriter *w, const char *batch_json,
                               GError **error);
/* Frees w; a file not finished is closed and removed. Cannot fail. */
void pc_h5io_writer_free(PcShardWriter *w);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PcShardWriter, pc_h5io_writer_free)

/* What a rank needs to plan and to read: dictionaries and bucket index. */
typedef struct {
  char *path;
  uint64_t buckets;
  uint64_t n_events, n_customers, n_crm;
  PcDict *channels, *events;
  uint64_t n_pairs;
  uint32_t *pairs;          /* 2 * n_pairs */
  uint64_t *bucket_events;  /* B counts */
  uint64_t *bucket_customers;
  uint64_t *bucket_crm;
  /* derived prefix sums, B + 1 each */
  uint64_t *ev_start, *cust_start, *idb_start, *crm_start, *crmb_start;
  uint64_t *crms_start;     /* segment bytes of the customers table */
  char *ingest_json;        /* the "ingest" attribute or NULL */
} PcShardMeta;

/* Reads and checks the metadata of the shard at path (docs/format.md: the
 * checks a reader makes). FALSE with PC_ERROR_IO (unreadable file) or
 * PC_ERROR_FORMAT naming path and the dataset. Caller frees *out with
 * pc_shard_meta_free(). */
gboolean pc_h5io_read_meta(const char *path, PcShardMeta **out,
                           GError **error);
void pc_shard_meta_free(PcShardMeta *m);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PcShardMeta, pc_shard_meta_free)

/* The distinct non-empty segments of the shard's customers table (spec
 * §12), as a sorted dictionary (*out, possibly empty). FALSE with
 * PC_ERROR_FORMAT naming the file when /crm cannot be read. Caller frees
 * *out with pc_dict_free(). */
gboolean pc_h5io_read_segments(const PcShardMeta *m, PcDict **out,
                               GError **error);

/* Reads the customers, events and customers-table rows of the given buckets
 * (sorted ascending, distinct) into a PcShardData whose customer indices are
 * relative to the slice; ids keep the shard's (bucket, id) order and
 * bucket_events/bucket_customers/bucket_crm are filled for all B buckets
 * (0 outside the selection). *bytes_read adds the bytes read. */
gboolean pc_h5io_read_buckets(const PcShardMeta *m, const uint32_t *buckets,
                              size_t n, PcShardData **out,
                              uint64_t *bytes_read, GError **error);

/* Buffers a reader keeps from one batch to the next: a slice read with
 * pc_h5io_read_buckets_into takes its column buffers from bufs, and
 * pc_h5io_slice_release gives them back for the next batch of the same
 * shard (fresh buffers cost a page fault and a zeroing per 4 KiB, about
 * 40% of a read's CPU). Free with pc_h5io_slice_bufs_free. */
typedef struct PcSliceBufs PcSliceBufs;
PcSliceBufs *pc_h5io_slice_bufs_new(void);
void pc_h5io_slice_bufs_free(PcSliceBufs *b);
/* pc_h5io_read_buckets with buffers from bufs (NULL: fresh ones). The
 * slice is freed with pc_h5io_slice_release(bufs, s), or with
 * pc_shard_data_free() (the buffers are then not kept). */
gboolean pc_h5io_read_buckets_into(const PcShardMeta *m, const uint32_t *buckets,
                                   size_t n, PcSliceBufs *bufs, PcShardData **out,
                                   uint64_t *bytes_read, GError **error);
/* Frees s, its buffers kept in b (when they came from b). s may be NULL. */
void pc_h5io_slice_release(PcSliceBufs *b, PcShardData *s);
/* results.h5: one group per table, dataset "table" (compound; strings as
 * variable-length strings), attributes "columns" per group. Object time
 * tracking is off, so the same tables give the same bytes. Written to
 * path.tmp then renamed. */
gboolean pc_h5io_write_results(const char *path, GPtrArray *tables,
                               GError **error);

/* Reads back one table of results.h5 (report, diff, tests). */
gboolean pc_h5io_read_table(const char *path, const char *name, PcTable **out,
                            GError **error);
/* The names of the tables of results.h5 (its groups), sorted bytewise, in
 * *out (a new array that frees its strings). FALSE with PC_ERROR_IO when
 * path cannot be opened, PC_ERROR_FORMAT when it is not a results file. */
gboolean pc_h5io_list_tables(const char *path, GPtrArray **out,
                             GError **error);

/* Silences HDF5's own error stack printing (we report through GError). */
void pc_h5io_quiet(void);

#endif
