/* pc_attribution.h - channel attribution of spec §8 as the "attribution"
 * analysis module, and the Markov kernel exposed for tests. No MPI, no HDF5.
 */
#ifndef PC_ATTRIBUTION_H
#define PC_ATTRIBUTION_H

#include "pc_core.h"

/* Linear credit (§8) is kept as exact integer counts per (channel, journey
 * length) up to this length; longer pre-target journeys add their credit in
 * fixed point with 2^-62 resolution (docs/analytics.md). */
#define PC_ATTRIBUTION_LINEAR_EXACT_MAX 64

/* P(conv) from '^' of the first-order Markov chain of spec §8.
 *   counts:  (C + 1) rows (0 = '^', 1 + c = channel c) of (C + 2) columns
 *            (c = channel c, C = conv, C + 1 = null) of transition counts.
 *   removed: a channel whose incoming transitions go to null, or -1.
 * Gaussian elimination with partial pivoting in a fixed order. 0 when no
 * journey was counted. */
double pc_markov_pconv(const int64_t *counts, guint C, int64_t removed);

#endif
