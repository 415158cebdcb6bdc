/* pc_runfile.h - temporary files of sorted runs (docs/format.md, "How a
 * shard is written"): bytes written once in order, read back once in
 * order, gone when freed. Used by the sort of ingest (pc_shardsort.h).
 *
 * A run file has no name once created: it is opened with O_TMPFILE (or
 * created and unlinked at once where the file system lacks it), so that
 * nothing is left behind however the process ends, kill -9 included; the
 * space it takes returns to the file system when it is freed or the
 * process exits. Errors name the directory and say why ("No space left on
 * device"). No MPI, no HDF5.
 */
#ifndef PC_RUNFILE_H
#define PC_RUNFILE_H

#include "pc_core.h"

typedef struct PcRunFile PcRunFile;

/* ---- API ----------------------------------------------------------------- */

/* A new, empty run file in directory dir, written through a buffer of
 * buf_bytes. NULL with PC_ERROR_IO ("DIR: cannot create a sorted run:
 * ..."). Caller frees with pc_runfile_free(). */
PcRunFile *pc_runfile_new(const char *dir, size_t buf_bytes, GError **error);
/* Frees f and its buffer; its bytes leave the disk. Cannot fail. */
void pc_runfile_free(PcRunFile *f);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PcRunFile, pc_runfile_free)

/* Appends n bytes. FALSE with PC_ERROR_IO ("DIR: cannot write a sorted
 * run: No space left on device"). */
gboolean pc_runfile_write(PcRunFile *f, const void *data, size_t n,
                          GError **error);
/* Ends the writing and reads from the start, through a buffer of buf_bytes
 * (the write buffer is freed). FALSE with PC_ERROR_IO. */
gboolean pc_runfile_rewind(PcRunFile *f, size_t buf_bytes, GError **error);
/* The next n bytes (the buffer grows when n is larger), valid until the
 * next call: *out, TRUE. At the end of the file with n bytes not there:
 * FALSE, and *error set (PC_ERROR_IO, a read error or a truncated run)
 * unless the file ended exactly here (then *out = NULL, no error). */
gboolean pc_runfile_read(PcRunFile *f, size_t n, const void **out,
                         GError **error);
/* Bytes written to f. */
uint64_t pc_runfile_bytes(const PcRunFile *f);

/* Bytes available to an unprivileged writer on the file system of path
 * (statvfs), or UINT64_MAX when unknown. */
uint64_t pc_runfile_free_bytes(const char *path);

#endif
