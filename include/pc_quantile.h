/* pc_quantile.h - exact percentiles of int64 values grouped under uint64
 * keys, across threads and ranks (spec §5 conversion times, §3 transition
 * gaps, §17 time to the target): values are added per thread, merged across
 * threads, and the nearest-rank values are selected collectively through
 * PcCommOps, identical for any number of ranks. Not a sample, not a sketch.
 *
 * The q-th percentile of the n values of a key is the value of rank
 * ceil(q * n / 100) (1-based) in their ascending list (spec §5).
 *
 * Memory, per rank: 8 bytes per value plus the doubling slack of its key's
 * array (at most as much again) while adding, 8 bytes per value once
 * sealed, and about 40 bytes per distinct key; the selection adds
 * O(keys * percentiles). With a PcSpill the values spill to disk past the
 * rank's pool (src/analytics/qstore_int.h, qspill.c).
 *
 * No MPI, no HDF5.
 */
#ifndef PC_QUANTILE_H
#define PC_QUANTILE_H

#include "pc_commops.h"
#include "pc_spill.h"

typedef struct PcQuantile PcQuantile;

/* An empty set of values. Free with pc_quantile_free. */
PcQuantile *pc_quantile_new(void);
void pc_quantile_free(PcQuantile *q);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PcQuantile, pc_quantile_free)

/* Lets the values spill through sp when the rank's pool is over budget
 * (pc_spill.h; NULL: never): sorted runs while adding, merged into one
 * sorted file at the selection, whose counts are read through fences (one
 * block of 512 values per count). name (a static string) names the files.
 * Before any add. */
void pc_quantile_set_spill(PcQuantile *q, PcSpill *sp, const char *name);
/* Adds one value under key. Not after pc_quantile_select. Cannot fail. */
void pc_quantile_add(PcQuantile *q, uint64_t key, int64_t value);
/* dst gets every value of src; src is left empty (still to be freed). */
void pc_quantile_merge(PcQuantile *dst, PcQuantile *src);
/* Values held here, and the bytes they take. */
uint64_t pc_quantile_values(const PcQuantile *q);
size_t pc_quantile_memory_bytes(const PcQuantile *q);

/* Collective: every rank calls it with the same keys[0..nk) and
 * pct[0..np) (each 1..100). On every rank, for key i:
 *   n_out[i]              = its number of values over all ranks,
 *   val_out[i * np + p]   = its pct[p]-th percentile (left 0 when n = 0).
 * Keys this rank holds but that are not listed are ignored. q is sealed:
 * no value can be added afterwards. Bisection over the int64 range with
 * the counts of values <= pivot summed across ranks, every pending
 * (key, percentile) batched in one sum_i64 per round: at most 64 rounds
 * (fewer, several pivots per round, when few are pending). FALSE with
 * *error when a sum fails. */
gboolean pc_quantile_select(PcQuantile *q, const PcCommOps *ops,
                            const uint64_t *keys, size_t nk, const guint *pct,
                            guint np, int64_t *n_out, int64_t *val_out,
                            GError **error);

/* After pc_quantile_select: frees the values (and their run files), so a
 * module's reduce gives its memory back; q stays sealed and empty. */
void pc_quantile_release(PcQuantile *q);

/* The 1-based nearest rank ceil(pct * n / 100) (0 when n = 0). */
uint64_t pc_quantile_rank(uint64_t n, guint pct);

#endif
