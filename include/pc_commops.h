/* pc_commops.h - what analytics may ask of the other ranks, as function
 * pointers, so that analytics never include mpi.h and unit tests pass a
 * serial implementation (pc_commops_serial()).
 *
 * Exact sums: PcFix is a 128-bit fixed-point number with 64 fractional bits
 * (value = raw / 2^64). Adding integers is associative, so the sum of the
 * same addends is bit-identical in any order and on any number of ranks: this
 * is how floating sums (model gradients, Hessians, losses) stay
 * byte-identical for any P and thread count (docs/architecture.md).
 */
#ifndef PC_COMMOPS_H
#define PC_COMMOPS_H

#include "pc_core.h"

typedef __int128 PcFix;

/* Rounds x * 2^64 to nearest (|x| < 2^62). */
PcFix pc_fix_from_double(double x);
double pc_fix_to_double(PcFix f);

typedef struct {
  void *ctx;
  int rank, size;
  /* Collective: v[0..n) becomes the sum over ranks, on every rank. */
  gboolean (*sum_fix)(void *ctx, PcFix *v, size_t n, GError **error);
  /* Collective: v[0..n) becomes the sum over ranks, on every rank. */
  gboolean (*sum_i64)(void *ctx, int64_t *v, size_t n, GError **error);
  /* Collective: the ranks' byte buffers concatenated in rank order, on rank
   * 0 (*out); other ranks get *out = NULL. Caller frees with
   * g_byte_array_unref. */
  gboolean (*gather)(void *ctx, const void *mine, size_t len,
                     GByteArray **out, GError **error);
  /* Collective: rank 0's buffer to every rank (len in/out; *buf is
   * g_malloc'ed on non-root ranks, caller frees). */
  gboolean (*bcast)(void *ctx, void **buf, size_t *len, GError **error);
  /* Collective all-to-all: send[r] (size entries, may be empty) goes to rank
   * r; *recv gets what every rank sent to this one, concatenated in rank
   * order: a new array when *recv is NULL, else *recv resized and reused
   * (rounds of one exchange keep their pages). Caller frees *recv with
   * g_byte_array_unref. */
  gboolean (*exchange)(void *ctx, GByteArray **send, GByteArray **recv,
                       GError **error);
} PcCommOps;

/* One rank, no MPI: sums are identities, gather copies. Static storage. */
const PcCommOps *pc_commops_serial(void);

#endif
