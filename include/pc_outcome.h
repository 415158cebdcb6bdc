/* pc_outcome.h - outcome analytics of spec §4 (preceding tokens), §5
 * (funnels), §6 (drivers, channel drivers, channel KPIs, NPS) and §8
 * (attribution) as pure, exactly mergeable accumulators.
 *
 * Owns PcOutcome: one per thread. pc_outcome_add() folds one whole customer
 * journey into integer counters; pc_outcome_merge() adds two instances;
 * pc_outcome_state() exposes every counter as ONE flat int64 array that the
 * caller sums over ranks (PcCommOps.sum_i64, exact); pc_outcome_tables()
 * turns the summed integers into doubles and tables on rank 0 only.
 * Nothing else is kept, so the tables are byte-identical for any split of
 * the journeys between threads and ranks. No MPI, no HDF5, no globals.
 *
 * Preceding paths (§4) are not here (they belong to the path tables).
 * docs/analytics.md says how every number is computed.
 */
#ifndef PC_OUTCOME_H
#define PC_OUTCOME_H

#include "pc_config.h"
#include "pc_core.h"
#include "pc_table.h"

/* ======================== API ======================== */

typedef struct PcOutcome PcOutcome;

/* The outcome numbers of summary.csv (spec §10), filled by
 * pc_outcome_tables() from the summed state. */
typedef struct {
  uint64_t customers;                 /* N */
  uint64_t events;                    /* all kept events */
  uint64_t customers_with_outcome;    /* Y */
  uint64_t customers_without_revenue; /* 0 without a customers table */
  uint64_t nps_invalid;               /* NPS events with a bad value */
} PcOutcomeSummary;

/* Linear credit (§8) is kept as exact integer counts per (channel, journey
 * length) up to this length; longer pre-target journeys add their credit in
 * fixed point with 2^-62 resolution (docs/analytics.md). */
#define PC_OUTCOME_LINEAR_EXACT_MAX 64

/* Resolves the target, funnel steps and kpi.nps_event against names.
 *   cfg:    target_events (NULL: no target, y = 0 for everyone), lookback,
 *           funnels, nps_event, attribution. Not kept after the call.
 *   names:  the run's dictionaries; only their sizes and the step names'
 *           ids are kept, so pass the same names to pc_outcome_tables().
 *   target: the resolved target events (informational; y and the cut come
 *           with each journey). May be NULL.
 * A funnel step or NPS event naming no known event/channel is not an error:
 * it never matches (the caller warns). Fails (NULL, PC_ERROR_CONFIG) only on
 * a funnel without steps, or PC_ERROR_MEMORY when the state would exceed
 * 2^27 counters (the Markov block is quadratic in channels).
 * Caller frees with pc_outcome_free(). */
PcOutcome *pc_outcome_new(const PcJobConfig *cfg, const PcNames *names,
                          const PcTarget *target, GError **error);
void pc_outcome_free(PcOutcome *o);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PcOutcome, pc_outcome_free)

/* Adds one whole customer journey (events in journey order).
 *   y, cut:              from pc_target_cut() (cut = j->n when y = 0).
 *   has_customers_table: revenue at risk uses j->revenue (TRUE) or the sum
 *                        of the journey's event values (FALSE).
 * O(events * (1 + funnel steps)); no allocation. Cannot fail. */
void pc_outcome_add(PcOutcome *o, const PcJourney *j, gboolean y, size_t cut,
                    gboolean has_customers_table);

/* dst += src. Both from pc_outcome_new() with the same cfg and names. */
void pc_outcome_merge(PcOutcome *dst, const PcOutcome *src);

/* All state as one flat int64 array owned by o (counts; money in
 * millionths). Its length (OUT: *len) depends on cfg and names only, so it
 * is the same on every rank; the caller may sum it in place over ranks. */
int64_t *pc_outcome_state(PcOutcome *o, size_t *len);

/* On rank 0 after the sum: appends new PcTable*s to tables (the caller owns
 * them) in the order preceding_tokens, funnels, drivers, channel_drivers,
 * channels, nps, attribution; only the configured ones (spec §10). Fills
 * *sum (may be NULL). Returns TRUE; FALSE with PC_ERROR_INTERNAL only when
 * the state is inconsistent (a negative count). */
gboolean pc_outcome_tables(PcOutcome *o, const PcNames *names,
                           GPtrArray *tables, PcOutcomeSummary *sum,
                           GError **error);

/* ---- Exposed for tests: the pure kernels ---------------------------------- */

/* Funnel level of spec §5 for one journey: the largest k such that positions
 * i1 < ... < ik exist with match[j][ij] and ts[ik] - ts[i1] <= window_us.
 *   ev, n:      the journey (ts non-decreasing).
 *   step_event: n_steps event ids (-1: the step never matches).
 *   step_chan:  n_steps channel ids, -1 = any channel; NULL = all any.
 *   best:       scratch of n_steps int64 (OUT: clobbered).
 * O(n * n_steps). */
guint pc_outcome_funnel_level(const PcEvent *ev, size_t n,
                              const int64_t *step_event,
                              const int64_t *step_chan, guint n_steps,
                              int64_t window_us, int64_t *best);

/* Pearson chi-square of the 2x2 table [[a, n-a], [Y-a, N-n-Y+a]] without
 * continuity correction; 0 when any expected count is 0. */
double pc_outcome_chi2(int64_t N, int64_t Y, int64_t n, int64_t a);

/* x / y with spec §6's rule: inf for x > 0, nan for 0/0 (nan propagates). */
double pc_outcome_ratio(double x, double y);

/* P(conv) from '^' of the first-order Markov chain of spec §8.
 *   counts:  (C + 1) rows (0 = '^', 1 + c = channel c) of (C + 2) columns
 *            (c = channel c, C = conv, C + 1 = null) of transition counts.
 *   removed: a channel whose incoming transitions go to null, or -1.
 * Gaussian elimination with partial pivoting in a fixed order. 0 when no
 * journey was counted. */
double pc_outcome_markov_pconv(const int64_t *counts, guint C,
                               int64_t removed);

#endif
