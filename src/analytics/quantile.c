/* quantile.c - exact nearest-rank percentiles across threads and ranks
 * (pc_quantile.h), shared by the funnel conversion times, the transition
 * gaps and every later table of percentiles.
 *
 * Owns PcQuantile: a value store (qstore_int.h) and the collective
 * selection. No MPI, no HDF5: other ranks only through PcCommOps.
 *
 * The selection. For a key with n values (summed over ranks) and rank
 * r = ceil(q n / 100), the answer is the least v with count(<= v) >= r, a
 * value of the data. Every pending query keeps an interval [lo, hi] that
 * holds it (at first the whole int64 range: count(<= INT64_MAX) = n >= r).
 * A round cuts every interval at F - 1 pivots, sums the local counts of
 * values <= each pivot over the ranks in one sum_i64, and keeps the first
 * piece whose right end reaches r. Pivots, F and the order of the batch are
 * functions of (lo, hi) and of how many queries are pending, which are the
 * same on every rank, and the counts are exact integers: every rank makes
 * the same choices and ends on the same values for any number of ranks,
 * threads, or partition of the values. A round divides every width by F, so
 * 64 / log2(F) rounds end it. The trade-off: F = 2 sends the least per
 * round, F = 16 the fewest rounds; F is the largest power of two up to 16
 * that keeps a round under ROUND_COUNTS counts.
 */
#include "pc_quantile.h"
#include "qstore_int.h"

#define MAX_FANOUT 16
#define ROUND_COUNTS (1u << 20) /* counts summed per round (8 MiB) */

struct PcQuantile {
  QStore *store;
};

PcQuantile *pc_quantile_new(void) {
  PcQuantile *q = g_new0(PcQuantile, 1);
  q->store = qstore_new();
  return q;
}

void pc_quantile_set_spill(PcQuantile *q, PcSpill *sp, const char *name) {
  qstore_set_spill(q->store, sp, name);
}

void pc_quantile_free(PcQuantile *q) {
  if (!q) return;
  qstore_free(q->store);
  g_free(q);
}

void pc_quantile_add(PcQuantile *q, uint64_t key, int64_t value) {
  qstore_append(q->store, key, value);
}

void pc_quantile_merge(PcQuantile *dst, PcQuantile *src) {
  qstore_absorb(dst->store, src->store);
}

uint64_t pc_quantile_values(const PcQuantile *q) {
  return qstore_values(q->store);
}

size_t pc_quantile_memory_bytes(const PcQuantile *q) {
  return sizeof *q + qstore_memory_bytes(q->store);
}

void pc_quantile_release(PcQuantile *q) {
  qstore_free(q->store);
  q->store = qstore_new();
  qstore_seal(q->store);
}

uint64_t pc_quantile_rank(uint64_t n, guint pct) {
  g_return_val_if_fail(pct >= 1 && pct <= 100, 0);
  /* ceil(pct n / 100) without overflow for any n < 2^64 / 100 */
  return (pct * n + 99) / 100;
}

/* ---- The selection ------------------------------------------------------ */

typedef struct {
  size_t key;     /* index in keys[] */
  size_t out;     /* index in val_out[] */
  uint64_t rank;  /* r, >= 1 */
  int64_t lo, hi; /* the answer is in [lo, hi] */
} Query;

/* Pivot i (1..F-1) of [lo, hi]: lo - 1 + i * ceil(width / F), or none when
 * it would reach hi (the last piece ends at hi, known to reach r). */
static gboolean pivot(const Query *qq, guint F, guint i, int64_t *p) {
  uint64_t width = (uint64_t)qq->hi - (uint64_t)qq->lo; /* values - 1 */
  uint64_t step = width / F + 1;                        /* >= 1 */
  if ((uint64_t)i * step - 1 >= width) return FALSE;
  *p = (int64_t)((uint64_t)qq->lo + (uint64_t)i * step - 1);
  return TRUE;
}

static guint fanout(size_t pending) {
  guint F = MAX_FANOUT;
  while (F > 2 && pending * (F - 1) > ROUND_COUNTS) F /= 2;
  return F;
}

/* One round over the pending queries v[0..m); returns the new m (resolved
 * queries are written to val_out and dropped, order kept). */
static gboolean round_once(const QStore *s, const uint64_t *keys, Query *v,
                           size_t *m, int64_t *val_out, int64_t *cnt,
                           const PcCommOps *ops, GError **error) {
  guint F = fanout(*m);
  for (size_t x = 0; x < *m; x++)
    for (guint i = 1; i < F; i++) {
      int64_t p = 0;
      cnt[x * (F - 1) + i - 1] =
          pivot(&v[x], F, i, &p) ? (int64_t)qstore_count_le(s, keys[v[x].key], p) : 0;
    }
  if (!ops->sum_i64(ops->ctx, cnt, *m * (F - 1), error)) return FALSE;
  size_t keep = 0;
  for (size_t x = 0; x < *m; x++) {
    Query qq = v[x];
    int64_t p = 0, next_lo = qq.lo;
    for (guint i = 1; i < F && pivot(&v[x], F, i, &p); i++) {
      if ((uint64_t)cnt[x * (F - 1) + i - 1] >= qq.rank) {
        qq.hi = p;
        break;
      }
      next_lo = p + 1;
    }
    qq.lo = next_lo;
    if (qq.lo == qq.hi) val_out[qq.out] = qq.lo;
    else v[keep++] = qq;
  }
  *m = keep;
  return TRUE;
}

gboolean pc_quantile_select(PcQuantile *q, const PcCommOps *ops,
                            const uint64_t *keys, size_t nk, const guint *pct,
                            guint np, int64_t *n_out, int64_t *val_out,
                            GError **error) {
  g_return_val_if_fail(error == NULL || *error == NULL, FALSE);
  qstore_seal(q->store);
  for (size_t i = 0; i < nk; i++) n_out[i] = (int64_t)qstore_count(q->store, keys[i]);
  if (!ops->sum_i64(ops->ctx, n_out, nk, error)) return FALSE;
  memset(val_out, 0, nk * np * sizeof *val_out);
  g_autofree Query *v = g_new(Query, MAX(nk * np, (size_t)1));
  size_t m = 0;
  for (size_t i = 0; i < nk; i++)
    for (guint p = 0; p < np && n_out[i] > 0; p++)
      v[m++] = (Query){i, i * np + p, pc_quantile_rank((uint64_t)n_out[i], pct[p]),
                       INT64_MIN, INT64_MAX};
  g_autofree int64_t *cnt = g_new(int64_t, m * (MAX_FANOUT - 1) + 1);
  while (m > 0)
    if (!round_once(q->store, keys, v, &m, val_out, cnt, ops, error)) return FALSE;
  return TRUE;
}
