/* pc_store.h - the event store as a directory: its MANIFEST, the batches of
 * shards ingest adds, and atomic creation and append (docs/format.md).
 * File-system work only (no HDF5, no MPI): rank 0 calls these.
 *
 * A store is readable exactly when STORE/MANIFEST lists its shards; a new
 * store is built as STORE.tmp-PID and renamed; an append writes its shards
 * under new names and then replaces MANIFEST by rename, so readers see the
 * old or the new history, never a half-appended one.
 */
#ifndef PC_STORE_H
#define PC_STORE_H

#include "pc_core.h"

typedef struct {
  char *dir;          /* the store directory */
  uint64_t buckets;
  guint batches;      /* number of batches (ingest or generate runs) */
  GPtrArray *shards;  /* full paths, in manifest order */
  GPtrArray *files;   /* manifest file names (relative) */
} PcStore;

gboolean pc_store_open(const char *dir, PcStore **out, GError **error);
void pc_store_free(PcStore *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PcStore, pc_store_free)

/* Where ingest writes batch `batch` (1 = a new store): for a new store a
 * fresh STORE.tmp-PID directory (created), for an append STORE itself.
 * Caller g_free()s. FALSE if a new store's directory already exists. */
char *pc_store_staging_dir(const char *dir, gboolean append, GError **error);
/* Shard file name of (batch, rank). Caller g_free()s. */
char *pc_store_shard_name(guint batch, int rank);
/* Makes the batch visible: writes the MANIFEST listing the old shards (if
 * any) plus new_files, and renames staging into place for a new store. On
 * failure nothing changes for readers. */
gboolean pc_store_commit(const char *dir, const char *staging,
                         const PcStore *old, uint64_t buckets,
                         GPtrArray *new_files, GError **error);
/* Removes a failed batch's files (best effort). */
void pc_store_abandon(const char *dir, const char *staging,
                      gboolean append, GPtrArray *new_files);

#endif
