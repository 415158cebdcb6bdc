/* pc_batchid.h - the identity of a batch, so that no input is ever added
 * to a store twice (docs/format.md, "Batch checksums"):
 *  - every input's content is hashed (SHA-256 of its bytes, after gzip
 *    decompression, so the same rows compressed or not are the same input)
 *    and its data rows counted, before anything is parsed;
 *  - the batch key is a SHA-256 over the store's B and the input digests
 *    (events files in digest order: their order does not change the data);
 *  - a store's committed batch records are searched for the key (the same
 *    append again, e.g. retried after a crash that came after its commit)
 *    and for each events input (its rows already in another batch).
 * Rank 0 searches; any rank hashes. No MPI, no HDF5.
 */
#ifndef PC_BATCHID_H
#define PC_BATCHID_H

#include "pc_batch.h"
#include "pc_store.h"

/* ---- API ----------------------------------------------------------------- */

/* Reads path whole through pc_rawread.h: out->sha256, ->bytes, ->rows (lines
 * after the first; ->rejected is set to 0). FALSE with pc_rawread's errors,
 * or PC_ERROR_FORMAT "FILE: empty file: the header line is missing" when
 * there is no byte at all (plain or gzip alike). */
gboolean pc_batchid_input(const char *path, PcInputId *out, GError **error);
/* The same, and in the same pass the line feeds before each of marks[0..n)
 * (ascending content offsets): lf_before[i] = LFs in bytes [0, marks[i]).
 * Ingest numbers the lines of its byte ranges with them instead of reading
 * the input once more. */
gboolean pc_batchid_input_marked(const char *path, const uint64_t *marks,
                                 guint n, uint64_t *lf_before, PcInputId *out,
                                 GError **error);

/* The same a step at a time, so that ingest can hash while it parses. */
typedef struct PcBatchHash PcBatchHash;
/* A hash of path from its start, with marks as above (copied). NULL with
 * pc_rawread's errors. Caller frees with pc_batchid_hash_free(). */
PcBatchHash *pc_batchid_hash_new(const char *path, const uint64_t *marks,
                                 guint n, GError **error);
void pc_batchid_hash_free(PcBatchHash *h);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PcBatchHash, pc_batchid_hash_free)
/* Reads and hashes at least `bytes` more bytes of the file (compressed
 * bytes for gzip; whole 4 MiB blocks of content) or to the end (*done).
 * *read (may be NULL) gets the file bytes read. FALSE with pc_rawread's
 * errors. */
gboolean pc_batchid_hash_step(PcBatchHash *h, uint64_t bytes, uint64_t *read,
                              gboolean *done, GError **error);
/* Hashes what is left, then as pc_batchid_input_marked: *out and
 * lf_before[0..n) (may be NULL). */
gboolean pc_batchid_hash_finish(PcBatchHash *h, PcInputId *out,
                                uint64_t *lf_before, GError **error);

/* The batch key (64 hex digits): SHA-256 of "parcours-batch 1\nbuckets B\n",
 * then "events HEX\n" per events input in ascending HEX order, then
 * "customers HEX\n" per customers input. ids[0..n_events) are the events
 * inputs. Caller g_free()s. Cannot fail. */
char *pc_batchid_key(const PcInputId *ids, guint n_events, guint n,
                     uint64_t buckets);

/* Two inputs of one batch with the same content and rows: FALSE with
 * PC_ERROR_CONFIG naming both ("B has the same content as A: its rows
 * would be added twice"). */
gboolean pc_batchid_check_inputs(GPtrArray *paths, const PcInputId *ids,
                                 GError **error);

/* Looks through the committed batches of st (their batch-NNNNNN.json; a
 * record without checksums, as a generated batch's, is skipped). TRUE with
 * *committed = K when batch K has this key, 0 when none does. FALSE with
 * PC_ERROR_CONFIG when an events input with rows has the content of an
 * events input of batch K ("FILE: its N rows are already in batch K of
 * STORE (as PATH, sha256 ...); adding them again would count them twice"). */
gboolean pc_batchid_find(const PcStore *st, const char *key, GPtrArray *paths,
                         guint n_events, const PcInputId *ids,
                         guint *committed, GError **error);

#endif
