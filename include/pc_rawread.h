/* pc_rawread.h - the bytes of an input file exactly as parcours reads them:
 * a plain file from a byte offset, or a gzip file whole. A gzip file is
 * every member in order (RFC 1952 allows members to be concatenated, and
 * `gzip -dc` prints them all), and nothing after the last member: bytes
 * there that do not start another member (rows appended to a .csv.gz) are
 * an error naming the file and their offset, never dropped in silence.
 * No MPI, no HDF5. The line reader (pc_csv.h) and the input digests of a
 * batch (pc_batchid.h) read through it, so both see the same bytes.
 */
#ifndef PC_RAWREAD_H
#define PC_RAWREAD_H

#include "pc_core.h"

#include <sys/types.h>

typedef struct PcRawRead PcRawRead;

/* ---- API ----------------------------------------------------------------- */

/* Opens path: gzip (whole; start must be 0) when its first two bytes are
 * the gzip magic, else plain from byte start. NULL with PC_ERROR_IO when
 * it cannot be opened or sought. Caller frees with pc_rawread_close(). */
PcRawRead *pc_rawread_open(const char *path, uint64_t start, GError **error);
void pc_rawread_close(PcRawRead *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PcRawRead, pc_rawread_close)

/* Up to n bytes of content into buf (decompressed for gzip); 0 at the end.
 * -1 with *error set: PC_ERROR_IO (read error), PC_ERROR_FORMAT (corrupt
 * or truncated gzip data: "FILE: corrupt gzip data near line L: WHY";
 * bytes after the last member: "FILE: bytes after the end of the gzip
 * data at byte OFFSET are not gzip data ..."). */
ssize_t pc_rawread_read(PcRawRead *r, void *buf, size_t n, GError **error);

/* Bytes of the file consumed so far (compressed bytes for gzip): what
 * progress compares with the file's size. */
uint64_t pc_rawread_offset(const PcRawRead *r);
/* TRUE for a gzip file. */
gboolean pc_rawread_is_gzip(const PcRawRead *r);

/* FALSE without error for a short or non-gzip file; FALSE with PC_ERROR_IO
 * when it cannot be opened or read. */
gboolean pc_rawread_probe_gzip(const char *path, GError **error);

#endif
