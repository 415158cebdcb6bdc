/* model_fit.c - the fit of the outcome model of spec §7: the penalized
 * logistic objective with its gradient and Hessian, and Newton's method
 * with a backtracking line search (features and standardization:
 * model_feat.c).
 *
 * Why the bytes never depend on ranks, threads or the row split: every
 * floating sum over customers is an integer sum. Each customer's addend is
 * a double computed from that customer's row and from values every rank
 * holds identically, turned into an integer by a pure function (the loss:
 * pc_model_fix, units of 2^-64; the others: scaled by 2^scale and truncated
 * to int64, units of 2^-scale, model_feat.c picks the scale so that no
 * addend can overflow), and added as a 128-bit integer; threads add their
 * accumulators, ranks use ops->sum_fix. Integer addition is associative, so
 * each rank ends with the same bits for every sum, derives the same
 * gradient and Hessian from them with the same serial code, takes the same
 * Newton step and stops at the same iteration.
 *
 * Sparse algebra: a row stores raw values x (ln(1+count), ln(1+length),
 * channels); the standardized value is (x - mean)/sd. The fit sums only
 * over the nonzero x of each row (raw moments Σq, Σq·x, Σq·x·x, Σr, Σr·x)
 * and centres them afterwards, which costs O(nnz²) per row instead of O(d²).
 * No MPI, no HDF5: other ranks through PcCommOps only.
 */
#include "model_int.h"

/* ---- Objective, gradient, Hessian ------------------------------------------------ */

PcFix pc_model_fix_trunc(double x) { return pc_model_fix(x); }

double pc_model_sigmoid(double z) {
  if (z >= 0) return 1.0 / (1.0 + exp(-z));
  double e = exp(z);
  return e / (1.0 + e);
}

/* Per-customer term: OUT loss = ln(1+e^z) - y·z, r = dloss/dz = p - y,
 * q = d²loss/dz² = p(1-p), each in a form without cancellation, from one
 * exp and one log1p: with e = e^-|z|, sigmoid(|z|) = 1/(1+e),
 * sigmoid(-|z|) = e/(1+e) and ln(1+e^z) = max(z, 0) + log1p(e) (the same
 * bits as pc_model_sigmoid(±z)). */
void pc_model_logistic_terms(double z, int y, double *loss, double *r,
                             double *q) {
  double e = exp(-fabs(z)), d = 1.0 + e, big = 1.0 / d, small = e / d;
  double p = z >= 0 ? big : small, pm = z >= 0 ? small : big;
  double sp = log1p(e);
  *loss = y ? (z < 0 ? -z : 0.0) + sp : (z > 0 ? z : 0.0) + sp;
  *r = y ? -pm : p;
  *q = p * pm;
}

/* Accumulator layout of one evaluation (PcFix, summed over ranks):
 * [0] Σloss [1] invalid rows (a count) [2] Σr [3..3+dk) Σr·x, in units of
 * 2^-64; [3+dk] Σq [4+dk..4+2dk) Σq·x [4+2dk..) Σq·x·x upper triangle,
 * row-major, in units of 2^-scale (the Hessian's sums). */
#define ACC_LOSS 0
#define ACC_BAD 1
#define ACC_R 2
#define ACC_RX 3
static inline size_t acc_q(guint dk) { return 3 + (size_t)dk; }
static inline size_t acc_qx(guint dk) { return 4 + (size_t)dk; }
static inline size_t acc_qxx(guint dk) { return 4 + 2 * (size_t)dk; }
static inline size_t acc_len(guint dk) {
  return acc_qxx(dk) + (size_t)dk * (dk + 1) / 2;
}

/* A scaled addend (|a| < 2^(62 - PC_MODEL_FLUSH_LOG2) by the choice of the
 * scale) as an integer: truncated toward zero, a pure function of a. */
static inline int64_t units(double a) { return (int64_t)a; }

/* One thread's sums. The loss goes straight to acc (pc_model_fix). The
 * other sums go to int64 partials, added to acc every
 * 2^PC_MODEL_FLUSH_LOG2 rows, before they could overflow: an int64 add
 * instead of an __int128 one, integer addition keeps it order-free. The
 * gradient's addend a (|a| < 2^gscale_e) is kept exactly as pc_model_fix(a)
 * would, in two parts: hi = trunc(a·2^gscale) and lo = trunc(frac·
 * 2^(64-gscale)), hi·2^(64-gscale) + lo = trunc(a·2^64). */
typedef struct {
  PcFix *acc;     /* acc_len entries */
  int64_t *part;  /* acc_len: [ACC_R, q0) gradient hi, [q0, K) Hessian */
  int64_t *lo;    /* acc_len: [ACC_R, q0) gradient lo */
  size_t q0, K;
  int gshift;     /* 64 - gscale */
  guint rows;     /* rows in the partials */
} ThreadSums;

static void sums_flush(ThreadSums *t) {
  for (size_t k = ACC_R; k < t->q0; k++) {
    t->acc[k] += (PcFix)((unsigned __int128)(PcFix)t->part[k] << t->gshift) +
                 t->lo[k];
    t->part[k] = t->lo[k] = 0;
  }
  for (size_t k = t->q0; k < t->K; k++) {
    t->acc[k] += t->part[k];
    t->part[k] = 0;
  }
  t->rows = 0;
}

/* a·2^gscale = ah into the two gradient partials of entry k. */
static inline void grad_add(ThreadSums *t, const Model *m, size_t k,
                            double ah) {
  int64_t hi = (int64_t)ah;
  t->part[k] += hi;
  t->lo[k] += (int64_t)((ah - (double)hi) * m->gfrac_unit);
}

/* One training row's addends into this thread's sums; the Hessian part
 * only when hess. */
static void eval_row(const Model *m, const Row *row, RowBuf *b,
                     const double *v, double c, gboolean hess, ThreadSums *t) {
  guint n, dk = m->dk;
  double z = pc_model_row_z(m, row, b, v, c, &n);
  if (!isfinite(z) || fabs(z) > PC_MODEL_Z_LIMIT) {
    t->acc[ACC_BAD]++;
    return;
  }
  double loss, r, q;
  pc_model_logistic_terms(z, row->y, &loss, &r, &q);
  int64_t *qx = t->part + acc_qx(dk), *qxx = t->part + acc_qxx(dk);
  const guint *ks = b->ks;
  const double *xs = b->xs;
  double qs = q * m->unit, rh = r * m->gunit;
  t->acc[ACC_LOSS] += pc_model_fix(loss);
  grad_add(t, m, ACC_R, rh);
  t->part[acc_q(dk)] += units(qs);
  for (guint i = 0; i < n; i++) {
    double qxi = qs * xs[i];
    grad_add(t, m, ACC_RX + ks[i], rh * xs[i]);
    qx[ks[i]] += units(qxi);
    if (!hess) continue;
    int64_t *h = qxx + m->tri_base[ks[i]];
#pragma GCC unroll 4
    for (guint j = i; j < n; j++) h[ks[j]] += units(qxi * xs[j]);
  }
  if (++t->rows == 1u << PC_MODEL_FLUSH_LOG2) sums_flush(t);
}

/* Exact global sums of one evaluation at theta. Threads keep their own
 * integer sums; adding them is order-free. */
static gboolean eval_sums(const Model *m, const double *theta, gboolean hess,
                          PcFix *acc, GError **error) {
  size_t K = hess ? acc_len(m->dk) : acc_qxx(m->dk);
  double *v = g_new(double, m->dk + 1), c;
  pc_model_linear(m, theta, v, &c);
  memset(acc, 0, K * sizeof *acc);
  const gint64 nrows = m->rows->rows->len;
#pragma omp parallel
  {
    ThreadSums t = {g_new0(PcFix, K), g_new0(int64_t, K), g_new0(int64_t, K),
                    acc_q(m->dk), K, 64 - m->gscale, 0};
    RowBuf b;
    pc_model_rowbuf_init(&b, m->d);
#pragma omp for schedule(static)
    for (gint64 i = 0; i < nrows; i++) {
      const Row *row = pc_model_row_at(m->rows, (size_t)i);
      if (!row->test) eval_row(m, row, &b, v, c, hess, &t);
    }
    sums_flush(&t);
#pragma omp critical(pc_model_acc)
    for (size_t k = 0; k < K; k++) acc[k] += t.acc[k];
    pc_model_rowbuf_clear(&b);
    g_free(t.acc);
    g_free(t.part);
    g_free(t.lo);
  }
  g_free(v);
  return m->ops->sum_fix(m->ops->ctx, acc, K, error);
}

/* The raw moments of one evaluation as doubles (from the integer sums of
 * a pass, or in closed form at the start). */
typedef struct {
  gboolean valid;  /* no |z| > PC_MODEL_Z_LIMIT */
  double loss;     /* Σ loss */
  double R, Q;     /* Σr, Σq */
  double *RX, *QX; /* Σr·x, Σq·x per kept feature */
  double *QXX;     /* Σq·x·x, tri_base layout; NULL without the Hessian */
} Moments;

static void moments_init(Moments *mo, guint dk, gboolean hess) {
  memset(mo, 0, sizeof *mo);
  mo->RX = g_new0(double, dk + 1);
  mo->QX = g_new0(double, dk + 1);
  if (hess) mo->QXX = g_new0(double, (size_t)dk * (dk + 1) / 2 + 1);
}

static void moments_clear(Moments *mo) {
  g_free(mo->RX);
  g_free(mo->QX);
  g_free(mo->QXX);
}

/* The moments of a pass's sums (the loss and gradient ones in units of
 * 2^-64, the Hessian's in units of 2^-scale). */
static void moments_of_sums(const Model *m, const PcFix *acc, Moments *mo) {
  guint dk = m->dk;
  mo->valid = acc[ACC_BAD] == 0;
  mo->loss = pc_fix_to_double(acc[ACC_LOSS]);
  mo->R = pc_fix_to_double(acc[ACC_R]);
  mo->Q = pc_fix_to_double(acc[acc_q(dk)]) * m->unit_inv;
  for (guint k = 0; k < dk; k++) {
    mo->RX[k] = pc_fix_to_double(acc[ACC_RX + k]);
    mo->QX[k] = pc_fix_to_double(acc[acc_qx(dk) + k]) * m->unit_inv;
  }
  for (size_t i = 0; mo->QXX && i < (size_t)dk * (dk + 1) / 2; i++)
    mo->QXX[i] = pc_fix_to_double(acc[acc_qxx(dk) + i]) * m->unit_inv;
}

/* Loss, objective and gradient from the moments (centring them). */
static void eval_grad(const Model *m, const double *theta, const Moments *mo,
                      Eval *e) {
  guint dk = m->dk, D = dk + 1;
  double N = (double)m->n_train, lam = m->lambda, pen = 0;
  for (guint k = 0; k < dk; k++) {
    double w = theta[1 + k];
    pen += w * w;
    e->g[1 + k] = (mo->RX[k] - m->mean_k[k] * mo->R) / (N * m->sd_k[k]) +
                  lam * w;
  }
  e->valid = mo->valid;
  e->loss = mo->loss / N;
  e->obj = e->valid ? e->loss + 0.5 * lam * pen : INFINITY;
  e->g[0] = mo->R / N;
  e->gnorm = 0;
  for (guint i = 0; i < D; i++) e->gnorm = MAX(e->gnorm, fabs(e->g[i]));
  if (!e->valid) e->gnorm = INFINITY;
}

/* The Hessian in standardized space from the moments. */
static void eval_hess(const Model *m, const Moments *mo, Eval *e) {
  guint dk = m->dk, D = dk + 1;
  double N = (double)m->n_train, lam = m->lambda, Q = mo->Q;
  const double *mu = m->mean_k, *sd = m->sd_k, *qx = mo->QX;
  for (guint k = 0; k < dk; k++)
    e->h[1 + k] = e->h[(1 + k) * D] = (qx[k] - mu[k] * Q) / (N * sd[k]);
  e->h[0] = Q / N;
  for (guint k = 0; k < dk; k++)
    for (guint l = k; l < dk; l++) {
      double s = mo->QXX[m->tri_base[k] + l];
      s = s - mu[k] * qx[l] - mu[l] * qx[k] + mu[k] * mu[l] * Q;
      double h = s / (N * sd[k] * sd[l]) + (k == l ? lam : 0.0);
      e->h[(1 + k) * D + 1 + l] = e->h[(1 + l) * D + 1 + k] = h;
    }
}

/* The evaluation at theta = (b, 0) without a pass over the rows: with w = 0
 * every training customer has z = b, so the loss, r and q take one value
 * for y = 0 and one for y = 1 (q the same), and the moments are those
 * values times counts, Σx, Σx over y = 1 and the Gram matrix Σ x·x of the
 * setup pass (model_feat.c): q·Σx·x for Σq·x·x. Every rank holds the same
 * integers, so the same doubles. Collective in name only. */
void pc_model_eval_start(const Model *m, const double *theta, Eval *e) {
  guint dk = m->dk, d = m->d;
  double N = (double)m->n_train, np = (double)m->n_pos, l0, l1, r0, r1, q;
  pc_model_logistic_terms(theta[0], 0, &l0, &r0, &q);
  pc_model_logistic_terms(theta[0], 1, &l1, &r1, &q);
  Moments mo;
  moments_init(&mo, dk, TRUE);
  mo.valid = fabs(theta[0]) <= PC_MODEL_Z_LIMIT;
  mo.loss = (N - np) * l0 + np * l1;
  mo.R = (N - np) * r0 + np * r1;
  mo.Q = N * q;
  double gunit = ldexp(1.0, 64 - m->gram_scale);
  const PcFix *pos = m->start_fx + d, *gram = m->start_fx + 2 * (size_t)d;
  for (guint f = 0; f < d; f++) {
    gint k = m->f[f].kept;
    if (k < 0) continue;
    double xp = pc_fix_to_double(pos[f]);
    mo.RX[k] = r0 * (m->sx[f] - xp) + r1 * xp;
    mo.QX[k] = q * m->sx[f];
    for (guint g = f; g < d; g++)
      if (m->f[g].kept >= 0)
        mo.QXX[m->tri_base[k] + (guint)m->f[g].kept] =
            q * (pc_fix_to_double(gram[m->tri_d[f] + g]) * gunit);
  }
  eval_grad(m, theta, &mo, e);
  eval_hess(m, &mo, e);
  e->has_h = TRUE;
  moments_clear(&mo);
}

void pc_model_eval_init(Eval *e, guint dk) {
  memset(e, 0, sizeof *e);
  e->g = g_new0(double, dk + 1);
  e->h = g_new0(double, (size_t)(dk + 1) * (dk + 1));
}

void pc_model_eval_clear(Eval *e) {
  g_free(e->g);
  g_free(e->h);
  memset(e, 0, sizeof *e);
}

gboolean pc_model_eval(const Model *m, const double *theta, gboolean hess,
                       Eval *e, GError **error) {
  PcFix *acc = g_new(PcFix, acc_len(m->dk));
  gboolean ok = eval_sums(m, theta, hess, acc, error);
  Moments mo;
  moments_init(&mo, m->dk, hess);
  if (ok) {
    moments_of_sums(m, acc, &mo);
    eval_grad(m, theta, &mo, e);
  }
  if (ok && hess) eval_hess(m, &mo, e);
  e->has_h = ok && hess;
  moments_clear(&mo);
  g_free(acc);
  return ok;
}

/* ---- Newton's method -------------------------------------------------------------- */

/* Solves (H + ridge·I) x = -g by Cholesky, rows and columns in index order.
 * FALSE when a pivot is not positive (H not positive definite). */
static gboolean chol_solve(const double *H, const double *g, guint n,
                           double ridge, double *x) {
  double *L = g_new0(double, (size_t)n * n);
  gboolean ok = TRUE;
  for (guint j = 0; ok && j < n; j++) {
    for (guint i = j; i < n; i++) {
      double s = H[i * n + j] + (i == j ? ridge : 0.0);
      for (guint k = 0; k < j; k++) s -= L[i * n + k] * L[j * n + k];
      if (i == j) {
        if (!(s > 0) || !isfinite(s)) { ok = FALSE; break; }
        L[j * n + j] = sqrt(s);
      } else {
        L[i * n + j] = s / L[j * n + j];
      }
    }
  }
  for (guint i = 0; ok && i < n; i++) { /* L y = -g */
    double s = -g[i];
    for (guint k = 0; k < i; k++) s -= L[i * n + k] * x[k];
    x[i] = s / L[i * n + i];
  }
  for (guint i = n; ok && i-- > 0;) { /* Lᵀ x = y */
    double s = x[i];
    for (guint k = i + 1; k < n; k++) s -= L[k * n + i] * x[k];
    x[i] = s / L[i * n + i];
  }
  g_free(L);
  return ok;
}

/* The Newton direction; when H is not numerically positive definite
 * (λ = 0 with collinear features) a growing ridge makes it so. */
static gboolean newton_direction(const Eval *e, guint n, double *dx) {
  double scale = 0;
  for (guint i = 0; i < n; i++) scale = MAX(scale, fabs(e->h[i * n + i]));
  double ridge = 0;
  for (int t = 0; t < PC_MODEL_RIDGE_TRIES; t++) {
    if (chol_solve(e->h, e->g, n, ridge, dx)) return TRUE;
    ridge = ridge == 0 ? 1e-12 * (scale > 0 ? scale : 1.0) : ridge * 10;
  }
  return FALSE;
}

/* pc_model_eval() counted in info. */
static gboolean evaluate(const Model *m, const double *theta, gboolean hess,
                         Eval *e, PcModelInfo *info, GError **error) {
  info->passes++;
  info->hessians += hess ? 1 : 0;
  return pc_model_eval(m, theta, hess, e, error);
}

/* Whether the full step from the last iterate should reach the tolerance.
 * Near the optimum Newton's method converges quadratically, ‖∇'‖ ≈ C‖∇‖²;
 * C from the last two norms predicts ‖∇'‖ ≈ g·(g/gp)². A Hessian summed at
 * the point where the fit stops is never used, so the first trial skips it
 * when the prediction is 100 times below the tolerance; a wrong guess costs
 * the next step a pass of its own for it. Every rank has the same norms. */
static gboolean expect_converged(const GArray *norms) {
  if (norms->len < 2) return FALSE;
  double g = g_array_index(norms, double, norms->len - 1);
  double gp = g_array_index(norms, double, norms->len - 2);
  return g < gp && g * (g / gp) * (g / gp) < 1e-2 * PC_MODEL_GRAD_TOL;
}

/* Backtracking from the full step: accepts the first t = 2^-k with
 * sufficient decrease, or with no increase beyond the rounding of the
 * objective (near the optimum the decrease is below the noise of a sum).
 * The full step's trial sums the Hessian unless skip_h. On success *cur
 * holds the evaluation at the new theta. */
static gboolean line_search(const Model *m, double *theta, const double *dx,
                            gboolean skip_h, Eval *cur, Eval *trial,
                            PcModelInfo *info, GError **error) {
  guint D = m->dk + 1;
  double slope = 0;
  for (guint i = 0; i < D; i++) slope += cur->g[i] * dx[i];
  double *th = g_new(double, D);
  double t = 1;
  for (int k = 0; k <= PC_MODEL_MAX_HALVINGS; k++, t *= 0.5) {
    for (guint i = 0; i < D; i++) th[i] = theta[i] + t * dx[i];
    if (!evaluate(m, th, !(k == 0 && skip_h), trial, info, error)) break;
    double noise = 8 * DBL_EPSILON * fabs(cur->obj);
    if (trial->valid && (trial->obj <= cur->obj + PC_MODEL_ARMIJO * t * slope ||
                         trial->obj <= cur->obj + noise)) {
      memcpy(theta, th, D * sizeof *th);
      Eval tmp = *cur;
      *cur = *trial;
      *trial = tmp;
      g_free(th);
      return TRUE;
    }
  }
  g_free(th);
  if (error && !*error)
    pc_set_error(error, PC_ERROR_CONVERGE,
                 "model: line search found no decrease (‖∇‖∞ = %g)",
                 cur->gnorm);
  return FALSE;
}

/* One Newton step from theta (*e its evaluation, norms so far). */
static gboolean newton_step(const Model *m, double *theta, Eval *e,
                            Eval *trial, double *dx, GArray *norms,
                            PcModelInfo *info, GError **error) {
  guint D = m->dk + 1;
  if (!e->has_h && !evaluate(m, theta, TRUE, e, info, error)) return FALSE;
  if (!newton_direction(e, D, dx)) {
    pc_set_error(error, PC_ERROR_CONVERGE,
                 "model: Hessian not positive definite");
    return FALSE;
  }
  if (!line_search(m, theta, dx, expect_converged(norms), e, trial, info,
                   error))
    return FALSE;
  g_array_append_val(norms, e->gnorm);
  return TRUE;
}

/* Minimizes the objective from b = ln(n_pos / (n_train - n_pos)), w = 0
 * (b = 0 when every training customer has the same y). OUT: theta (1 + dk), *e at the
 * solution, norms (one double per iterate), info's pass counts. */
gboolean pc_model_newton(const Model *m, guint max_iter, double *theta,
                         Eval *e, GArray *norms, PcModelInfo *info,
                         GError **error) {
  Eval trial;
  pc_model_eval_init(&trial, m->dk);
  double *dx = g_new(double, m->dk + 1);
  memset(theta, 0, (m->dk + 1) * sizeof *theta);
  /* The optimum of the intercept-only model: a step closer than 0 */
  if (m->n_pos > 0 && m->n_pos < m->n_train)
    theta[0] = log((double)m->n_pos / (double)(m->n_train - m->n_pos));
  pc_model_eval_start(m, theta, e);
  gboolean ok = TRUE;
  g_array_append_val(norms, e->gnorm);
  for (guint it = 0; ok && !(e->gnorm < PC_MODEL_GRAD_TOL); it++) {
    if (it == max_iter) {
      pc_set_error(error, PC_ERROR_CONVERGE,
                   "model: no convergence in %u Newton steps (‖∇‖∞ = %g)",
                   max_iter, e->gnorm);
      ok = FALSE;
    } else {
      ok = newton_step(m, theta, e, &trial, dx, norms, info, error);
    }
  }
  g_free(dx);
  pc_model_eval_clear(&trial);
  return ok;
}
