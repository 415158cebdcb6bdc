/* pc_model.h - the outcome model of spec §7: a logistic regression on one
 * row per customer, fitted by Newton's method across ranks.
 *
 * Owns PcModelRows (this rank's compact feature rows; they never leave the
 * rank) and PcModelInfo. No MPI, no HDF5: the other ranks are reached only
 * through PcCommOps. Every floating sum over customers is a PcFix sum, so
 * the fit, and every table it writes, is byte-identical for any number of
 * ranks, threads and any split of rows between instances (docs/model.md).
 */
#ifndef PC_MODEL_H
#define PC_MODEL_H

#include "pc_commops.h"
#include "pc_config.h"
#include "pc_core.h"

/* ---- API -------------------------------------------------------------------- */

typedef struct PcModelRows PcModelRows;

/* A new, empty set of rows for the run's names and target (both must outlive
 * the rows). Cannot fail. Caller frees with pc_model_rows_free(). */
PcModelRows *pc_model_rows_new(const PcNames *names, const PcTarget *target);
void pc_model_rows_free(PcModelRows *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PcModelRows, pc_model_rows_free)

/* Adds one customer: y and cut as pc_target_cut() gave them for j. Stores
 * the id bytes, y, the split (test when FNV-1a-64(id) mod 5 == 0), the
 * pre-target length, its number of distinct channels and its sparse
 * (event id, count) pairs. Not thread-safe on one instance: use one
 * instance per thread, then pc_model_rows_append(). Cannot fail. */
void pc_model_rows_add(PcModelRows *r, const PcJourney *j, gboolean y,
                       size_t cut);

/* Moves every row of src to the end of dst; src is left empty (still to be
 * freed by its owner). The order of rows never changes a result. */
void pc_model_rows_append(PcModelRows *dst, PcModelRows *src);

/* Number of rows held (this instance only). */
size_t pc_model_rows_count(const PcModelRows *r);

/* What the fit did (for run.json): identical on every rank but the times,
 * which are this rank's wall clock. */
typedef struct {
  guint iterations;    /* Newton steps taken */
  double *grad_norms;  /* iterations + 1 entries: ‖∇‖∞ at each iterate */
  double grad_norm;    /* ‖∇‖∞ at the solution */
  guint passes;        /* solver passes over the rows (evaluations) */
  guint hessians;      /* of them, the ones that also summed the Hessian */
  double setup_s;      /* features and standardization */
  double solve_s;      /* Newton's method */
  double report_s;     /* scores, ROC, at-risk list, tables */
} PcModelInfo;

/* Collective: every rank calls it with its rows, the same cfg, names and
 * target. Fits the model of spec §7 (lambda, max_iter, top_n from cfg) and,
 * on rank 0 only, appends to tables (PcTable *, owned by the array's free
 * function from then on) "model", "model_summary", "roc", "scores" and
 * "at_risk" as spec §10 lays them out; other ranks append nothing.
 * TRUE on success with *info filled (free with pc_model_info_clear()).
 * FALSE with *error set: PC_ERROR_CONVERGE when ‖∇‖∞ < 1e-9 is not reached
 * in cfg->max_iter Newton steps or there is no training customer,
 * PC_ERROR_CONFIG when cfg->solver is not "newton" (NULL = newton), or the
 * error of a failing PcCommOps call; then tables and *info are untouched. */
gboolean pc_model_fit(PcModelRows *rows, const PcJobConfig *cfg,
                      const PcNames *names, const PcTarget *target,
                      const PcCommOps *ops, GPtrArray *tables,
                      PcModelInfo *info, GError **error);

/* Frees what *info holds and zeroes it. NULL-safe. */
void pc_model_info_clear(PcModelInfo *info);

/* ---- Pieces of the fit, exposed for tests and diagnostics -------------------- */

/* Collective, like pc_model_fit(): determines and standardizes the features
 * exactly as the fit does, then evaluates at theta (1 + d entries:
 * intercept, then every feature in name order, dropped ones included and
 * ignored) OUT: *obj, the objective of spec §7, and OUT: grad[0..1+d), its
 * gradient (0 for dropped features). *n_features gets d. FALSE with *error
 * set when there is no training customer, ntheta != 1 + d, or a PcCommOps
 * call fails. */
gboolean pc_model_objective(PcModelRows *rows, const PcNames *names,
                            const PcTarget *target, double lambda,
                            const PcCommOps *ops, const double *theta,
                            guint ntheta, double *obj, double *grad,
                            guint *n_features, GError **error);

/* x·2^64 truncated toward zero (|x| < 2^62), the pure function that turns
 * each customer's loss into the PcFix the fit sums (exposed for tests).
 * Cannot fail. */
PcFix pc_model_fix_trunc(double x);

/* Area under the ROC curve of scores score[0..n) for outcomes y[0..n)
 * (0/1): the probability that a positive outscores a negative, ties
 * counting 1/2. NaN without positives or without negatives. Cannot fail. */
double pc_model_auc(const double *score, const guint8 *y, size_t n);

#endif
