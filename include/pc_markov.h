/* pc_markov.h - the Markov chains of channel attribution: order 1 (spec §8)
 * and order k = 1..4 (spec §18). A state is '^' or the last j = 1..k
 * channels of the path so far (shorter at the start, repeats kept); conv
 * and null absorb. P(conv) from '^' is solved exactly (dense Gaussian
 * elimination with partial pivoting in a fixed order of operations), with
 * or without the states that contain a removed channel.
 *
 * State ids: 0 = '^'; the tuples of length j (j = 1..k) follow those of
 * length j - 1, each in base-C order: (c1..cj) -> off(j) + sum ci C^(j-i),
 * off(1) = 1. For k = 1 that is 1 + c, the layout of spec §8's counts.
 * Counts: one row of C + 2 int64 per state: column c = the next channel c,
 * column C = conv, column C + 1 = null.
 *
 * Pure functions of integer counts; no state, no MPI, no HDF5.
 */
#ifndef PC_MARKOV_H
#define PC_MARKOV_H

#include "pc_core.h"

/* The most length-k states (channels^k) an order k >= 2 may have: the
 * exact solve is dense, O(states^3) per removed channel and states^2
 * doubles of memory on rank 0 (docs/analytics.md). Order 1 is bounded
 * like spec §8's chain (the counters' size) instead. */
#define PC_MARKOV_MAX_STATES 4096

/* 1 + C + C^2 + ... + C^k, the number of state ids; UINT64_MAX when it
 * does not fit 64 bits. */
uint64_t pc_markov_states(guint C, guint k);
/* C^k, or UINT64_MAX when it does not fit. */
uint64_t pc_markov_pow(guint C, guint k);

/* The state after s when channel c (< C) is used. */
size_t pc_markov_next(guint C, guint k, size_t s, guint c);

/* P(conv) from '^' of the order-k chain of counts (pc_markov_states(C, k)
 * rows of C + 2). removed: a channel whose states (every state containing
 * it) send their incoming transitions to null, or -1. 0 when no journey
 * was counted. */
double pc_markov_pconv_k(const int64_t *counts, guint C, guint k,
                         int64_t removed);
/* The order-1 chain of spec §8: pc_markov_pconv_k(counts, C, 1, removed).
 *   counts: (C + 1) rows (0 = '^', 1 + c = channel c) of (C + 2) columns. */
double pc_markov_pconv(const int64_t *counts, guint C, int64_t removed);

/* Removal effects of the channels c < C with kept[c] (kept may be NULL:
 * all): eff[c] = 1 - P(conv | c removed) / P(conv); 0 for a channel that
 * no transition enters (it is in no state); nan when P(conv) = 0. Other
 * entries are left 0. Returns the sum of the effects in channel order.
 * The solves of different channels run in parallel (OpenMP); each is
 * sequential, so the result does not depend on the thread count. */
double pc_markov_effects(const int64_t *counts, guint C, guint k,
                         const guint8 *kept, double *eff);

#endif
