/* pc_paths.h - the path tables of spec §3 (variants, n-grams, transitions,
 * prefix tree) and the preceding paths of spec §4, counted per thread and
 * reduced across ranks into output tables.
 *
 * Owns PcPaths and PcPreceding. No MPI, no HDF5: the reduce calls go
 * through PcCommOps. Counts are exact integers that only add, and every
 * output order is a total order on distinct keys, so the tables are
 * byte-identical however the journeys are split among instances and ranks.
 */
#ifndef PC_PATHS_H
#define PC_PATHS_H

#include "pc_commops.h"
#include "pc_config.h"
#include "pc_core.h"
#include "pc_spill.h"

/* ---- Path tables (spec §3) ---------------------------------------------- */

typedef struct PcPaths PcPaths;

/* Reads cfg->unit, session_gap_s, collapse_repeats, ngram_max, depth,
 * min_support, top_k (cfg is not kept). Caller frees with pc_paths_free(). */
PcPaths *pc_paths_new(const PcJobConfig *cfg);
void pc_paths_free(PcPaths *p);
/* Lets the tables that grow with distinct keys (variants, n-grams,
 * transitions, prefix tree, transition gaps) spill through sp when the
 * rank's pool is over budget (pc_spill.h; NULL: never). Before any add. */
void pc_paths_set_spill(PcPaths *p, PcSpill *sp);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PcPaths, pc_paths_free)

/* Counts one customer journey: tok[i] = token id of event i (ids in
 * bytewise order of the token strings), ts_us[i] its time (ascending),
 * n >= 1, y = customer reaches the target (spec §4). Cuts sessions
 * (path.unit = session: gap_us > session_gap_s * 10^6 starts a new one),
 * collapses repeats inside each journey (a run keeps its first timestamp),
 * then counts every table. Allocates only when a table or scratch grows.
 * One PcPaths per thread. Cannot fail. */
void pc_paths_add(PcPaths *p, const uint32_t *tok, const int64_t *ts_us,
                  size_t n, gboolean y);
/* Adds src's counts into dst (same configuration) and moves src's
 * transition gaps to dst; src keeps its counts, loses its gaps, and may
 * only be freed afterwards. */
void pc_paths_merge(PcPaths *dst, PcPaths *src);

/* Collective (every rank calls it). Partitions every table by key hash with
 * ops->exchange so each key is merged on exactly one owner rank, prunes
 * prefix nodes with reach < min_support after that merge, selects each
 * owner's top-k candidates, gathers them to rank 0, which appends to
 * tables (caller owns them, frees with pc_table_free): "variants",
 * "ngrams", "transitions", "prefix_tree", "transition_gaps" (spec §10; the
 * gap percentiles by pc_quantile_select over the real pairs of
 * transitions, whose list rank 0 broadcasts). Token names: tokens
 * ->names[id], "^" for PC_TOKEN_START, "$" for PC_TOKEN_END. *journeys =
 * journeys over all ranks, on every rank. Non-root ranks append nothing.
 * p is consumed: afterwards it holds only this rank's owned keys; only
 * pc_paths_free() may follow. FALSE with *error set (PC_ERROR_COMM from
 * ops, PC_ERROR_FORMAT on a corrupt buffer); tables then unchanged. */
gboolean pc_paths_reduce(PcPaths *p, const PcCommOps *ops,
                         const PcDict *tokens, GPtrArray *tables,
                         uint64_t *journeys, GError **error);
size_t pc_paths_memory_bytes(const PcPaths *p);

/* ---- Preceding paths (spec §4) ------------------------------------------ */

typedef struct PcPreceding PcPreceding;

/* Caller frees with pc_preceding_free(). */
PcPreceding *pc_preceding_new(guint lookback, guint64 top_k);
void pc_preceding_free(PcPreceding *p);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PcPreceding, pc_preceding_free)

/* One customer with y = 1: pre = event ids of its pre-target journey
 * (len may be 0); counts its last `lookback` ids (the empty sequence when
 * len or lookback is 0, written "^"). Cannot fail. */
void pc_preceding_add(PcPreceding *p, const uint32_t *pre, size_t len);
/* dst gets src's counts and spilled runs. */
void pc_preceding_merge(PcPreceding *dst, PcPreceding *src);
/* Lets the table spill through sp (pc_spill.h; NULL: never). Before any
 * add. */
void pc_preceding_set_spill(PcPreceding *p, PcSpill *sp);
/* Collective like pc_paths_reduce; rank 0 appends "preceding_paths"
 * (rank,customers,share,path), share = customers / y_total, sorted by
 * customers desc then sequence asc (the empty sequence first). p is
 * consumed as in pc_paths_reduce. */
gboolean pc_preceding_reduce(PcPreceding *p, const PcCommOps *ops,
                             const PcDict *events, uint64_t y_total,
                             GPtrArray *tables, GError **error);

#endif
