/* pc_funnels.h - funnels of spec §5 as the "funnels" analysis module, and
 * the pure level kernel exposed for tests. No MPI, no HDF5.
 */
#ifndef PC_FUNNELS_H
#define PC_FUNNELS_H

#include "pc_core.h"

/* Funnel level of spec §5 for one journey: the largest k such that positions
 * i1 < ... < ik exist with match[j][ij] and ts[ik] - ts[i1] <= window_us.
 *   ev, n:      the journey (ts non-decreasing).
 *   step_event: n_steps event ids (-1: the step never matches).
 *   step_chan:  n_steps channel ids, -1 = any channel; NULL = all any.
 *   best:       scratch of n_steps int64 (OUT: clobbered).
 * O(n * n_steps). */
guint pc_funnel_level(const PcEvent *ev, size_t n, const int64_t *step_event,
                      const int64_t *step_chan, guint n_steps,
                      int64_t window_us, int64_t *best);

#endif
