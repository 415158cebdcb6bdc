/* pc_ingest.h - the work of `parcours ingest`: canonical CSV (plain or
 * gzip) into a new batch of store shards, in parallel (docs/format.md,
 * docs/input.md). The command (cmd_ingest.c) parses the options and calls
 * the phases below in order; every phase is collective (every rank calls
 * it) and ends with pc_comm_agree(), so on failure every rank returns
 * FALSE with the lowest failing rank's error.
 */
#ifndef PC_INGEST_H
#define PC_INGEST_H

#include "pc_comm.h"

#define PC_INGEST_DEFAULT_BUCKETS 4096
#define PC_INGEST_DEFAULT_MEMORY ((uint64_t)1 << 30) /* --memory: 1 GiB per rank */
#define PC_INGEST_MIN_MEMORY ((uint64_t)256 << 10)   /* --memory: at least 256 KiB */

/* ---- API ----------------------------------------------------------------- */

typedef struct {
  const char *out;        /* store directory to create or extend */
  char **inputs;          /* events files, NULL-terminated, at least one */
  const char *customers;  /* customers table, or NULL */
  gboolean append;        /* add a batch to an existing store */
  uint64_t buckets;       /* B of a new store; 0 = default (append: the store's) */
  double max_reject;      /* fail when rejected / data rows exceeds it */
  gboolean quiet;         /* no progress lines */
  double lock_wait_s;     /* append: wait this long for another writer's lock */
  uint64_t memory;        /* bytes per rank for rows in flight and in sort; 0 = default */
} PcIngestOpts;

typedef struct PcIngest PcIngest;

/* An ingest of o's inputs on the ranks of c. o and its strings must
 * outlive it. Cannot fail. Caller frees with pc_ingest_free(). */
PcIngest *pc_ingest_new(PcComm *c, const PcIngestOpts *o);
void pc_ingest_free(PcIngest *g);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PcIngest, pc_ingest_free)

/* 1. Rank 0 opens the target with pc_storewriter_open (a new store must
 *    not exist, unless identify finds it is exactly this batch; an append
 *    takes STORE/LOCK, waiting up to lock_wait_s, then reads the MANIFEST
 *    and keeps its B), sizes the inputs and detects gzip; all learn B, the
 *    batch number and the sizes. PC_ERROR_BUSY, _CONFIG, _IO or the
 *    store's errors. */
gboolean pc_ingest_open(PcIngest *g, GError **error);
/* 1b. Every input's content digest and rows (inputs spread over the
 *    ranks, f % P), and in the same pass the first line number of every
 *    rank's byte range. Rank 0 then refuses two inputs of the same content,
 *    a plain input whose size changed, an events input whose rows are
 *    already in a committed batch (PC_ERROR_CONFIG), and looks for a
 *    committed batch with this batch's key: then pc_ingest_committed() is
 *    TRUE, a line says so on stderr and nothing else is to be done.
 *    When the target is a new store whose directory exists (a retry, or a
 *    mistake: PC_ERROR_EXISTS unless it is exactly this batch) this is done
 *    here, before anything is parsed; otherwise the inputs are hashed while
 *    they are parsed (pc_ingest_parse), a little at every round, the
 *    hashing ranks parsing less, and all of the above is decided when the
 *    parse ends. */
gboolean pc_ingest_identify(PcIngest *g, GError **error);
/* TRUE after identify (or the parse) found these inputs committed already. */
gboolean pc_ingest_committed(const PcIngest *g);
/* 2. Rank 0 creates the staging directory (a new store: STORE.tmp-PID;
 *    an append: STORE) and in it the directory of sorted runs
 *    (tmp-bNNNNNN), checks that the file system has about the inputs'
 *    size free (else PC_ERROR_IO "DIR: No space left on device: ..."),
 *    and registers what a signal must remove (pc_signals.h); all learn
 *    both paths. From here on, a failure or pc_ingest_free() before the
 *    commit removes what the batch wrote. */
gboolean pc_ingest_stage(PcIngest *g, GError **error);
/* 3. Rounds of parsing and all-to-all exchange: each rank reads its pieces
 *    (plain files: byte ranges of their concatenation, gzip files whole),
 *    each valid row goes to the rank that owns its bucket (b * P / B) and
 *    into its sorter (pc_shardsort.h), which spills sorted runs when the
 *    memory budget is full; events, then customers-table rows; the inputs
 *    are hashed alongside (1b), and identified at the end (then check
 *    pc_ingest_committed()). PC_ERROR_FORMAT (header, empty file, corrupt
 *    gzip), PC_ERROR_IO (a spill failed) or identify's errors. */
gboolean pc_ingest_parse(PcIngest *g, GError **error);
/* 4. Every rank merges its sorted rows into its shard file, chunk by
 *    chunk; customers-table rows repeating an id are rejected here, in
 *    (file, line) order. The shard stays open for its batch record.
 *    PC_ERROR_IO. */
gboolean pc_ingest_write(PcIngest *g, GError **error);
/* 5. Checks that the inputs did not change while read (rows parsed =
 *    rows hashed, sizes as at the start: else PC_ERROR_IO), then rank 0
 *    gathers the rejects, writes the rejects file and builds the batch
 *    record; fails with PC_ERROR_REJECTS when the reject share exceeds
 *    max_reject (the rejects file stays in the staging directory, named in
 *    the message). */
gboolean pc_ingest_rejects(PcIngest *g, GError **error);
/* 6. Every rank finishes its shard (with the batch record); rank 0 then
 *    writes batch-NNNNNN.json and commits the MANIFEST (a signal waits for
 *    the commit). On failure the batch's files are removed and readers see
 *    the store as it was. Unless quiet, rank 0 says what was added and how
 *    many sorted runs the memory budget took. */
gboolean pc_ingest_commit(PcIngest *g, GError **error);


#endif
