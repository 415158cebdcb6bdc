/* pc_shardsort.h - the rows of one shard, arriving in any order, sorted in
 * bounded memory (docs/format.md, "How a shard is written"): events and
 * customers-table rows are buffered up to a memory budget, each full
 * buffer is sorted and spilled as a sorted run (an anonymous file of
 * pc_runfile.h in a directory of the caller), and at the end the runs and
 * the last buffer are merged, customer by customer in (bucket, id bytes)
 * order, into a sink (the shard writer of pc_h5io.h, or a test's arrays).
 *
 * Used by ingest on the rank that owns the rows' buckets. No MPI, no HDF5.
 *
 * Invariants:
 *  - What reaches the sink is a function of the rows added, not of their
 *    order nor of the budget: customers in (bucket, id) order, each with
 *    all its events sorted by the journey key of spec §2 (ts, event bytes,
 *    channel bytes, value; equal keys kept), ids into the dictionaries of
 *    the names added (bytewise sorted); customers-table rows in (bucket, id)
 *    order, the first of an id in (file, line) order kept, the later ones
 *    handed to `duplicate`.
 *  - Memory stays within the budget given to pc_shardsort_new (rows are
 *    48 bytes plus id bytes beyond 16; merge buffers share a quarter).
 */
#ifndef PC_SHARDSORT_H
#define PC_SHARDSORT_H

#include "pc_csv.h"

typedef struct PcShardSort PcShardSort;

/* Where merged rows go; each function returns FALSE with *error set to
 * stop the merge (a write failed). */
typedef struct {
  void *ctx;
  /* A customer and its n >= 1 events, journey order, final ids. */
  gboolean (*customer)(void *ctx, uint32_t bucket, const char *id,
                       uint32_t id_len, const PcEvent *ev, size_t n,
                       GError **error);
  /* A customers-table row kept. */
  gboolean (*crm)(void *ctx, uint32_t bucket, const char *id, uint32_t id_len,
                  int64_t revenue, const char *seg, uint32_t seg_len,
                  GError **error);
  /* A customers-table row whose id came earlier: the whole line. */
  void (*duplicate)(void *ctx, uint32_t file, uint64_t line, const char *text,
                    uint32_t len);
} PcShardSink;

/* ---- API ----------------------------------------------------------------- */

/* A sorter for a store of `buckets` buckets that spills into directory
 * dir (which must exist) and keeps at most mem_bytes in memory (at least
 * 64 KiB). Cannot fail. Caller frees with pc_shardsort_free(). */
PcShardSort *pc_shardsort_new(uint64_t buckets, const char *dir,
                              size_t mem_bytes);
/* Frees s; its runs leave the disk. Cannot fail. */
void pc_shardsort_free(PcShardSort *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PcShardSort, pc_shardsort_free)

/* Adds an event row of bucket `bucket` (< buckets; the caller computed
 * it). Spills a sorted run when the buffer is full: FALSE with
 * PC_ERROR_IO ("DIR: cannot write a sorted run: No space left on device"). */
gboolean pc_shardsort_add_event(PcShardSort *s, uint32_t bucket,
                                const PcCsvRow *row, GError **error);
/* Adds a customers-table row: line no of input file, its text (a valid
 * row of pc_csv_parse_customer). Spills like pc_shardsort_add_event. */
gboolean pc_shardsort_add_crm(PcShardSort *s, uint32_t bucket, uint32_t file,
                              uint64_t no, const char *text, uint32_t len,
                              GError **error);

/* Event rows added so far. */
uint64_t pc_shardsort_events(const PcShardSort *s);
/* Buckets with at least one event row. */
uint64_t pc_shardsort_buckets_used(const PcShardSort *s);
/* Sorted runs spilled to disk so far (events and customers table; merge
 * passes that write runs count too), and the bytes of the event runs. */
guint pc_shardsort_runs(const PcShardSort *s);
uint64_t pc_shardsort_run_bytes(const PcShardSort *s);
/* The channel and event names of the rows added, sorted: the dictionaries
 * whose ids the merge hands out. Caller frees both with pc_dict_free(). */
void pc_shardsort_names(const PcShardSort *s, PcDict **channels,
                        PcDict **events);

/* Merges every row into sink: all customers with their events, then the
 * customers table. Call once, after the last row. FALSE with the sink's
 * error or PC_ERROR_IO (a run could not be written or read back). */
gboolean pc_shardsort_merge(PcShardSort *s, const PcShardSink *sink,
                            GError **error);

#endif
