/* pc_sha256.h - SHA-256 of a byte stream, at memory speed where the CPU has
 * the SHA extensions (x86 SHA-NI), else through GLib's GChecksum. Ingest
 * hashes every input whole before parsing it (pc_batchid.h), on one rank
 * per input: at GLib's ~350 MB/s a 7 GB input took 20 s, as long as the
 * whole parse.
 *
 * Owns the digest arithmetic only: no files, no MPI, no HDF5. Invariant:
 * the digest is the FIPS 180-4 SHA-256 of the bytes given, whichever path
 * computed it (tests/unit/test_sha256.c checks both against GChecksum).
 */
#ifndef PC_SHA256_H
#define PC_SHA256_H

#include "pc_core.h"

#define PC_SHA256_HEX_BYTES 65 /* 64 lowercase hex digits and a NUL */

typedef struct PcSha256 PcSha256;

/* ---- API ----------------------------------------------------------------- */

/* A new digest. force_portable: use GChecksum even where SHA-NI exists
 * (tests compare the two). Cannot fail. Caller frees with
 * pc_sha256_free(). */
PcSha256 *pc_sha256_new(gboolean force_portable);
void pc_sha256_free(PcSha256 *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PcSha256, pc_sha256_free)
/* Adds n bytes. Cannot fail. */
void pc_sha256_update(PcSha256 *s, const void *data, size_t n);
/* The digest as lowercase hex into hex (PC_SHA256_HEX_BYTES); s can take
 * no more bytes afterwards. Cannot fail. */
void pc_sha256_hex(PcSha256 *s, char hex[PC_SHA256_HEX_BYTES]);
/* TRUE when this CPU runs the SHA-NI path. */
gboolean pc_sha256_accelerated(void);

#endif
