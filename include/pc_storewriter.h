/* pc_storewriter.h - writing one batch into a store, safely for a monthly
 * production job: one writer at a time, nothing visible before the
 * commit, nothing committed ever overwritten (docs/format.md, "Writers").
 *
 *  - An append takes STORE/LOCK (flock, held by rank 0 until the writer is
 *    freed; the kernel releases it if the process dies, kill -9 included)
 *    before it reads the MANIFEST, so its batch number is current; a second
 *    writer fails at once naming the holder (or waits up to wait_s).
 *  - A new store is built in STORE.tmp-PID and renamed to STORE with
 *    RENAME_NOREPLACE: of two commands creating one store, exactly one
 *    commits; the other fails and removes its staging directory.
 *  - Readers (run, inspect, plan) take no lock: the MANIFEST is replaced by
 *    rename and committed shards are never rewritten, so a reader sees the
 *    old history or the new one whole.
 *
 * File-system work of rank 0 only; no MPI, no HDF5.
 */
#ifndef PC_STOREWRITER_H
#define PC_STOREWRITER_H

#include "pc_store.h"

typedef struct PcStoreWriter PcStoreWriter;

/* ---- API ----------------------------------------------------------------- */

/* Opens dir for a new batch.
 * append: dir must be a store (pc_store_open's errors); takes dir/LOCK,
 *   retrying for up to wait_s seconds, then reads the MANIFEST and removes
 *   what a writer that died left of batches the MANIFEST does not count
 *   (their shards, batch records and rejects files, MANIFEST.tmp).
 * new store: dir must not exist; nothing is created until stage.
 * FALSE with PC_ERROR_BUSY ("STORE: another parcours command (PID N on
 * host H) is writing this store ..."), PC_ERROR_EXISTS (a new store's dir
 * exists), or PC_ERROR_IO / PC_ERROR_FORMAT. Caller frees *out with
 * pc_storewriter_free(), which releases the lock. */
gboolean pc_storewriter_open(const char *dir, gboolean append, double wait_s,
                             PcStoreWriter **out, GError **error);
void pc_storewriter_free(PcStoreWriter *w);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PcStoreWriter, pc_storewriter_free)

/* The store as it was (append), NULL for a new store. Owned by w. */
const PcStore *pc_storewriter_store(const PcStoreWriter *w);
/* The number of the batch being written: the store's batches + 1, or 1. */
guint pc_storewriter_batch(const PcStoreWriter *w);

/* Creates the directory the batch is written to (new: STORE.tmp-PID;
 * append: STORE itself, nothing to create). FALSE with PC_ERROR_IO. */
gboolean pc_storewriter_stage(PcStoreWriter *w, GError **error);
/* The staging directory (valid after stage). Owned by w. */
const char *pc_storewriter_staging(const PcStoreWriter *w);

/* Makes the batch visible: writes MANIFEST.tmp (the old shards, then
 * new_files; batches + 1), fsyncs it, renames it to MANIFEST, and for a
 * new store renames STORE.tmp-PID to STORE without replacing anything.
 * FALSE with PC_ERROR_IO, or PC_ERROR_EXISTS when another command created
 * STORE meanwhile; readers then see the store as it was. */
gboolean pc_storewriter_commit(PcStoreWriter *w, uint64_t buckets,
                               GPtrArray *new_files, GError **error);

/* After a failure: removes new_files from the staging directory and, for a
 * new store, the staging directory with all in it. Cannot fail. */
void pc_storewriter_abandon(PcStoreWriter *w, GPtrArray *new_files);

#endif
