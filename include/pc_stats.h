/* pc_stats.h - the small statistics the outcome analyses share (spec §6):
 * ratios with the inf/nan rule, the 2x2 chi-square, the driver columns,
 * and helpers for int64 counter arrays. Pure functions; no MPI, no HDF5.
 */
#ifndef PC_STATS_H
#define PC_STATS_H

#include "pc_core.h"
#include "pc_table.h"

/* x / y with spec §6's rule: inf for x > 0, -inf for x < 0, nan for 0/0
 * (nan propagates). */
double pc_stats_ratio(double x, double y);

/* Pearson chi-square of the 2x2 table [[a, n-a], [Y-a, N-n-Y+a]] without
 * continuity correction; 0 when any expected count is 0. */
double pc_stats_chi2(int64_t N, int64_t Y, int64_t n, int64_t a);

/* dst[i] += src[i] for i < n. */
void pc_stats_add_i64(int64_t *dst, const int64_t *src, size_t n);
void pc_stats_add_money(PcMoney *dst, const PcMoney *src, size_t n);
/* Millionths as units, one rounding of the exact sum. */
double pc_stats_money_units(PcMoney m);

/* A row to sort before emitting: id (name order), key, chi2. */
typedef struct {
  guint id;
  int64_t key;
  double chi2;
} PcStatsRow;

/* key desc, then id asc. */
int pc_stats_cmp_key_desc(const void *a, const void *b);
/* chi2 desc (as a double), then id asc. */
int pc_stats_cmp_chi2_desc(const void *a, const void *b);

/* The columns of a drivers table after its first column (spec §10):
 * customers .. revenue_at_risk, 9 names with their types. */
extern const char *const pc_stats_driver_cols[9];

/* Sets the 9 driver cells (from column col0 of the last row of t) for a
 * feature present in n customers, a of them with the outcome, among N
 * customers of which Y have it; rev = revenue at risk (millionths). */
void pc_stats_driver_cells(PcTable *t, guint col0, int64_t N, int64_t Y,
                           int64_t n, int64_t a, PcMoney rev);

#endif
