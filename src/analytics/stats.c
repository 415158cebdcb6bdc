/* stats.c - the shared statistics of the outcome analyses (pc_stats.h).
 * Pure functions of integers; doubles are computed in one fixed order, so
 * the same counts always give the same bits. No state, no MPI, no HDF5.
 */
#include "pc_stats.h"

#include <math.h>

double pc_stats_ratio(double x, double y) {
  if (y != 0 || isnan(y)) return x / y;
  if (isnan(x) || x == 0) return NAN;
  return x > 0 ? INFINITY : -INFINITY;
}

double pc_stats_chi2(int64_t N, int64_t Y, int64_t n, int64_t a) {
  int64_t r1 = n, r2 = N - n, c1 = Y, c2 = N - Y;
  if (N <= 0 || r1 <= 0 || r2 <= 0 || c1 <= 0 || c2 <= 0) return 0;
  /* N (o11 o22 - o12 o21)^2 / (r1 r2 c1 c2): the Pearson sum of the 2x2
   * table in closed form; the determinant is exact in 128 bits. */
  __int128 det = (__int128)a * (N - n - Y + a) - (__int128)(n - a) * (Y - a);
  double d = (double)det;
  return (double)N * d * d /
         ((double)r1 * (double)r2 * (double)c1 * (double)c2);
}

void pc_stats_add_i64(int64_t *dst, const int64_t *src, size_t n) {
  for (size_t i = 0; i < n; i++) dst[i] += src[i];
}

void pc_stats_add_money(PcMoney *dst, const PcMoney *src, size_t n) {
  for (size_t i = 0; i < n; i++) dst[i] += src[i];
}

double pc_stats_money_units(PcMoney m) {
  return (double)m / 1e6;
}

int pc_stats_cmp_key_desc(const void *pa, const void *pb) {
  const PcStatsRow *a = pa, *b = pb;
  if (a->key != b->key) return a->key > b->key ? -1 : 1;
  return a->id < b->id ? -1 : (a->id > b->id);
}

int pc_stats_cmp_chi2_desc(const void *pa, const void *pb) {
  const PcStatsRow *a = pa, *b = pb;
  if (a->chi2 != b->chi2) return a->chi2 > b->chi2 ? -1 : 1;
  return a->id < b->id ? -1 : (a->id > b->id);
}

const char *const pc_stats_driver_cols[9] = {
    "customers:int",       "customers_with_outcome:int", "rate_with:double",
    "rate_without:double", "lift:double",                "risk_ratio:double",
    "chi2:double",         "coverage:double",            "revenue_at_risk:micros"};

void pc_stats_driver_cells(PcTable *t, guint col0, int64_t N, int64_t Y,
                           int64_t n, int64_t a, PcMoney rev) {
  double with = pc_stats_ratio((double)a, (double)n);
  double without = pc_stats_ratio((double)(Y - a), (double)(N - n));
  pc_table_set_int(t, col0, n);
  pc_table_set_int(t, col0 + 1, a);
  pc_table_set_double(t, col0 + 2, with);
  pc_table_set_double(t, col0 + 3, without);
  pc_table_set_double(t, col0 + 4,
                      pc_stats_ratio(with, pc_stats_ratio((double)Y, (double)N)));
  pc_table_set_double(t, col0 + 5, pc_stats_ratio(with, without));
  pc_table_set_double(t, col0 + 6, pc_stats_chi2(N, Y, n, a));
  pc_table_set_double(t, col0 + 7, pc_stats_ratio((double)a, (double)Y));
  pc_table_set_micros(t, col0 + 8, rev);
}
