/* pc_attribution.h - channel attribution of spec §8 as the "attribution"
 * analysis module: its limits. The Markov kernel is pc_markov.h. No MPI,
 * no HDF5.
 */
#ifndef PC_ATTRIBUTION_H
#define PC_ATTRIBUTION_H

#include "pc_core.h"
#include "pc_markov.h"

/* Linear credit (§8) is kept as exact integer counts per (channel, journey
 * length) up to this length; longer pre-target journeys add their credit in
 * fixed point with 2^-62 resolution (docs/analytics.md). */
#define PC_ATTRIBUTION_LINEAR_EXACT_MAX 64

#endif
