/* markov.c - the Markov chains of channel attribution (pc_markov.h): the
 * state ids of the last k channels, P(conv) from '^' by an exact dense
 * solve, and the removal effect of every channel. Shared by spec §8
 * (attribution.c, order 1) and §18 (attribution_models.c, order k).
 *
 * Owns no state. No MPI, no HDF5. Invariant: for the same counts the same
 * floating-point operations run in the same order (states in id order,
 * pivots chosen by a fixed rule), so P(conv) is the same bits on every run
 * and for any number of threads; for k = 1 they are the operations of the
 * first-order solve spec §8 always used.
 */
#include "pc_markov.h"

#include <math.h>

uint64_t pc_markov_pow(guint C, guint k) {
  uint64_t p = 1;
  for (guint i = 0; i < k; i++) {
    if (C && p > UINT64_MAX / C) return UINT64_MAX;
    p *= C;
  }
  return p;
}

uint64_t pc_markov_states(guint C, guint k) {
  uint64_t n = 1;
  for (guint j = 1; j <= k; j++) {
    uint64_t p = pc_markov_pow(C, j);
    if (p == UINT64_MAX || n > UINT64_MAX - p) return UINT64_MAX;
    n += p;
  }
  return n;
}

/* Length j and base-C index u of state s. */
static void decode(guint C, guint k, size_t s, guint *j, size_t *u) {
  size_t off = 1, p = 1;
  *j = 0;
  *u = 0;
  if (s == 0) return;
  for (guint l = 1; l <= k; l++) {
    p *= C;
    if (s < off + p) {
      *j = l;
      *u = s - off;
      return;
    }
    off += p;
  }
  g_assert_not_reached();
}

size_t pc_markov_next(guint C, guint k, size_t s, guint c) {
  guint j;
  size_t u;
  decode(C, k, s, &j, &u);
  size_t off = 1, p = 1; /* off(j) and C^(j-1) of the new length */
  guint nj = j < k ? j + 1 : k;
  for (guint l = 1; l < nj; l++) off += (p *= C);
  if (j == k) u %= p; /* drop the oldest channel */
  return off + u * C + c;
}

/* Whether state s holds channel c. */
static gboolean contains(guint C, guint k, size_t s, guint c) {
  guint j;
  size_t u;
  decode(C, k, s, &j, &u);
  for (guint l = 0; l < j; l++, u /= C)
    if (u % C == c) return TRUE;
  return FALSE;
}

/* ---- The dense solve ---- */

/* Solves A x = b (m x m, row-major, destroyed) by Gaussian elimination with
 * partial pivoting; ties pick the lowest row, so the operations are fixed. */
static void swap_rows(double *A, double *b, guint m, guint k, guint p) {
  for (guint c = 0; c < m; c++) {
    double t = A[(size_t)k * m + c];
    A[(size_t)k * m + c] = A[(size_t)p * m + c];
    A[(size_t)p * m + c] = t;
  }
  double t = b[k];
  b[k] = b[p];
  b[p] = t;
}

static void solve_dense(double *A, double *b, guint m) {
  for (guint k = 0; k < m; k++) {
    guint p = k;
    for (guint r = k + 1; r < m; r++)
      if (fabs(A[(size_t)r * m + k]) > fabs(A[(size_t)p * m + k])) p = r;
    if (p != k) swap_rows(A, b, m, k, p);
    double piv = A[(size_t)k * m + k];
    if (piv == 0) continue; /* cannot happen: every state reaches absorption */
    for (guint r = k + 1; r < m; r++) {
      double f = A[(size_t)r * m + k] / piv;
      if (f == 0) continue;
      for (guint c = k; c < m; c++) A[(size_t)r * m + c] -= f * A[(size_t)k * m + c];
      b[r] -= f * b[k];
    }
  }
  for (guint k = m; k-- > 0;) {
    double s = b[k];
    for (guint c = k + 1; c < m; c++) s -= A[(size_t)k * m + c] * b[c];
    double piv = A[(size_t)k * m + k];
    b[k] = piv != 0 ? s / piv : 0;
  }
}

static int64_t row_out(const int64_t *counts, size_t W, size_t s) {
  int64_t out = 0;
  for (size_t t = 0; t < W; t++) out += counts[s * W + t];
  return out;
}

/* The system, multiplied by out(s) so that its entries are the integer
 * counts: out(s) x_s - sum_t count(s,t) x_t = count(s,conv) over the live
 * states (with outgoing transitions, removed ones excluded); a transition
 * into a dead state ends in null (x = 0). */
double pc_markov_pconv_k(const int64_t *counts, guint C, guint k,
                         int64_t removed) {
  uint64_t S = pc_markov_states(C, k);
  size_t W = (size_t)C + 2;
  g_return_val_if_fail(S < G_MAXUINT, NAN); /* callers bound the space */
  g_autofree guint *idx = g_new(guint, S); /* state -> unknown */
  guint m = 0;
  for (size_t s = 0; s < S; s++) {
    gboolean live = row_out(counts, W, s) > 0 &&
                    !(removed >= 0 && contains(C, k, s, (guint)removed));
    idx[s] = live ? m++ : G_MAXUINT;
  }
  if (idx[0] == G_MAXUINT) return 0;
  g_autofree double *A = g_new0(double, (size_t)m * m);
  g_autofree double *b = g_new0(double, m);
  for (size_t s = 0; s < S; s++) {
    if (idx[s] == G_MAXUINT) continue;
    size_t r = idx[s];
    A[r * m + r] = (double)row_out(counts, W, s);
    for (guint c = 0; c < C; c++) {
      size_t t = pc_markov_next(C, k, s, c);
      if (idx[t] == G_MAXUINT || !counts[s * W + c]) continue;
      A[r * m + idx[t]] -= (double)counts[s * W + c];
    }
    b[r] = (double)counts[s * W + C];
  }
  solve_dense(A, b, m);
  return b[idx[0]];
}

double pc_markov_pconv(const int64_t *counts, guint C, int64_t removed) {
  return pc_markov_pconv_k(counts, C, 1, removed);
}

double pc_markov_effects(const int64_t *counts, guint C, guint k,
                         const guint8 *kept, double *eff) {
  size_t W = (size_t)C + 2, S = (size_t)pc_markov_states(C, k);
  double p = pc_markov_pconv_k(counts, C, k, -1), total = 0;
#pragma omp parallel for schedule(dynamic, 1)
  for (guint c = 0; c < C; c++) {
    if (kept && !kept[c]) continue;
    int64_t in = 0; /* a channel never entered cannot change P(conv) */
    for (size_t s = 0; s < S; s++) in += counts[s * W + c];
    if (p == 0) eff[c] = NAN;
    else eff[c] = in ? 1 - pc_markov_pconv_k(counts, C, k, c) / p : 0;
  }
  for (guint c = 0; c < C; c++)
    if (!kept || kept[c]) total += eff[c];
  return total;
}
