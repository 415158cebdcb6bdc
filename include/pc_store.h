/* pc_store.h - the event store as a directory: its MANIFEST, the names of
 * every file in it, and opening a store with every shard's metadata
 * (docs/format.md). Writing a batch (lock, staging, commit) is
 * pc_storewriter.h. No MPI and no hdf5.h: shard metadata is read through
 * pc_h5io.h.
 *
 * A store is readable exactly when STORE/MANIFEST lists its shards; a new
 * store is built as STORE.tmp-PID and renamed; an append writes its shards
 * under new names and then replaces MANIFEST by rename, so readers see the
 * old or the new history, never a half-appended one.
 */
#ifndef PC_STORE_H
#define PC_STORE_H

#include "pc_core.h"
#include "pc_h5io.h"

typedef struct {
  char *dir;          /* the store directory */
  uint64_t buckets;
  guint batches;      /* number of batches (ingest or generate runs) */
  GPtrArray *shards;  /* full paths, in manifest order */
  GPtrArray *files;   /* manifest file names (relative) */
} PcStore;

/* ---- API: opening --------------------------------------------------------- */

/* Reads dir/MANIFEST. FALSE with PC_ERROR_IO (no MANIFEST: "not a parcours
 * store") or PC_ERROR_FORMAT naming the line: an unknown line, buckets
 * outside 1..PC_MAX_BUCKETS, a missing or repeated buckets or batches
 * line, no shard, a shard listed twice (its rows would count twice), a
 * shard of a batch above the batches count (an append would overwrite
 * it). Caller frees *out with pc_store_free(). No lock: the MANIFEST is
 * replaced by rename, so this reads the old or the new one whole. */
gboolean pc_store_open(const char *dir, PcStore **out, GError **error);
void pc_store_free(PcStore *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PcStore, pc_store_free)

/* A store with the metadata of every shard: what inspect, plan and run
 * start from. */
typedef struct {
  PcStore *store;       /* the MANIFEST; NULL from pc_store_open_meta_paths */
  GPtrArray *paths;     /* shard paths, in manifest order (owned) */
  PcShardMeta **meta;   /* meta[i] of paths[i], n entries */
  guint n;
  uint64_t buckets;     /* B, the same in every shard */
  gboolean has_crm;     /* some shard has customers-table rows */
} PcStoreMeta;

/* Opens dir: its MANIFEST, then pc_h5io_read_meta() of every shard listed
 * there, in order, checking that every shard has the MANIFEST's bucket
 * count. FALSE with the first failure: pc_store_open's errors, a shard's
 * own (PC_ERROR_IO or PC_ERROR_FORMAT naming it), or PC_ERROR_FORMAT
 * "SHARD: N buckets, the MANIFEST says B" naming the shard that disagrees.
 * Caller frees *out with pc_store_meta_free(). */
gboolean pc_store_open_meta(const char *dir, PcStoreMeta **out,
                            GError **error);
/* The same from a list of shard paths (e.g. the MANIFEST's, read on rank 0
 * and broadcast), without reading MANIFEST: every rank can call it.
 * buckets: the count every shard must have, or 0 for "the first shard's"
 * (then the error is "SHARD: N buckets, but FIRST has B"). paths is copied.
 * dir only names the store in errors (an empty list: PC_ERROR_FORMAT). */
gboolean pc_store_open_meta_paths(const char *dir, GPtrArray *paths,
                                  uint64_t buckets, PcStoreMeta **out,
                                  GError **error);
void pc_store_meta_free(PcStoreMeta *m);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PcStoreMeta, pc_store_meta_free)

/* ---- API: file names ---------------------------------------------------------- */

/* The files of a store besides MANIFEST and the shards (docs/format.md).
 * Only store.c spells their names. */
typedef enum {
  PC_STORE_FILE_BATCH_RECORD, /* batch-NNNNNN.json: the batch record */
  PC_STORE_FILE_REJECTS,      /* rejects-bNNNNNN.tsv: rejected rows */
  PC_STORE_FILE_TRUTH,        /* truth.json: generate's planted truth */
  PC_STORE_FILE_LOCK,         /* LOCK: the writer lock (pc_storewriter.h) */
  PC_STORE_FILE_MANIFEST,     /* MANIFEST: the commit point */
  PC_STORE_FILE_RUNS          /* tmp-bNNNNNN/: ingest's sorted runs (a directory) */
} PcStoreFile;

/* File name of a store file (batch ignored for the truth). Caller g_free()s. */
char *pc_store_file_name(PcStoreFile file, guint batch);
/* dir/pc_store_file_name(file, batch). Caller g_free()s. */
char *pc_store_file_path(const char *dir, PcStoreFile file, guint batch);
/* Shard file name of (batch, rank): bBBBBBB-rRRRRR.h5. Caller g_free()s. */
char *pc_store_shard_name(guint batch, int rank);
/* Where this process builds a new store: STORE.tmp-PID. Caller g_free()s. */
char *pc_store_staging_path(const char *dir);
/* TRUE when name is a file of one batch (bBBBBBB-rRRRRR.h5,
 * batch-BBBBBB.json, rejects-bBBBBBB.tsv, tmp-bBBBBBB); *batch gets its
 * number. */
gboolean pc_store_name_batch(const char *name, guint *batch);

#endif
