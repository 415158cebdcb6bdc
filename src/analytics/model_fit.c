/* model_fit.c - the fit of the outcome model of spec §7: features,
 * standardization with the training mean and population sd, the penalized
 * logistic objective with its gradient and Hessian, and Newton's method
 * with a backtracking line search.
 *
 * Why the bytes never depend on ranks, threads or the row split: every
 * floating sum over customers is a sum of PcFix (pc_fix_from_double of each
 * customer's addend, then integer addition, then ops->sum_fix). Integer
 * addition is associative, so each rank ends with the same bits for every
 * sum, derives the same gradient and Hessian from them with the same serial
 * code, takes the same Newton step and stops at the same iteration. Each
 * customer's addends depend on that customer's row only. Integer facts
 * (counts, min/max of raw feature values) travel as integers.
 *
 * Sparse algebra: a row stores raw values x (ln(1+count), ln(1+length),
 * channels); the standardized value is (x - mean)/sd. The fit sums only
 * over the nonzero x of each row (raw moments Σq, Σq·x, Σq·x·x, Σr, Σr·x)
 * and centres them afterwards, which costs O(nnz²) per row instead of O(d²).
 * No MPI, no HDF5: other ranks through PcCommOps only.
 */
#include "model_int.h"

/* ---- Features ------------------------------------------------------------------ */

static gboolean target_has(const PcTarget *t, guint32 ev) {
  for (guint i = 0; t && i < t->n; i++)
    if (t->events[i] == ev) return TRUE;
  return FALSE;
}

static int cmp_feature(const void *a, const void *b) {
  return strcmp(((const Feature *)a)->name, ((const Feature *)b)->name);
}

/* The feature list of spec §7 in bytewise name order. */
static void model_features(Model *m, const PcNames *names,
                           const PcTarget *target) {
  const PcDict *ev = names->events;
  m->n_ev = ev ? ev->n : 0;
  m->f = g_new0(Feature, m->n_ev + 2);
  guint d = 0;
  for (guint e = 0; e < m->n_ev; e++) {
    if (names->event_kept && !names->event_kept[e]) continue;
    if (target_has(target, e)) continue;
    m->f[d].kind = FEAT_EVENT;
    m->f[d].ev = e;
    m->f[d++].name = g_strconcat("event:", ev->names[e], NULL);
  }
  m->f[d].kind = FEAT_LENGTH;
  m->f[d++].name = g_strdup("length");
  m->f[d].kind = FEAT_CHANNELS;
  m->f[d++].name = g_strdup("channels");
  m->d = d;
  pc_model_sort_n(m->f, d, sizeof *m->f, cmp_feature);
  m->ev_feat = g_new(gint, m->n_ev + 1);
  for (guint e = 0; e < m->n_ev; e++) m->ev_feat[e] = -1;
  for (guint i = 0; i < d; i++)
    if (m->f[i].kind == FEAT_EVENT) m->ev_feat[m->f[i].ev] = (gint)i;
  /* The sparse row walk emits channels, events, length in that order and
   * relies on it being the name order ("channels" < "event:" < "length"). */
  g_assert(m->f[0].kind == FEAT_CHANNELS && m->f[d - 1].kind == FEAT_LENGTH);
}

static inline double model_log1p(const Model *m, guint32 c) {
  return c < PC_MODEL_LOGTAB ? m->logtab[c] : log1p((double)c);
}


static inline const Pair *row_pairs(const PcModelRows *r, const Row *row) {
  return &g_array_index(r->pairs, Pair, row->pair_off);
}

/* The row's nonzero features, in feature order: OUT fi (feature index), raw
 * (integer value: count, length or channels). Returns how many. */
static guint row_features(const Model *m, const PcModelRows *r,
                          const Row *row, guint *fi, guint32 *raw) {
  guint n = 0;
  if (row->nchan) fi[n] = 0, raw[n++] = row->nchan;
  const Pair *p = row_pairs(r, row);
  for (guint32 i = 0; i < row->npairs; i++) {
    gint f = p[i].ev < m->n_ev ? m->ev_feat[p[i].ev] : -1;
    if (f >= 0) fi[n] = (guint)f, raw[n++] = p[i].count;
  }
  if (row->length) fi[n] = m->d - 1, raw[n++] = row->length;
  return n;
}

static inline double feature_x(const Model *m, guint f, guint32 raw) {
  return m->f[f].kind == FEAT_CHANNELS ? (double)raw : model_log1p(m, raw);
}

/* The row's nonzero kept features: OUT ks (kept index, ascending), xs (raw
 * x, not standardized). Returns how many. */
static guint row_kept(const Model *m, const PcModelRows *r, const Row *row,
                      guint *fi, guint32 *raw, guint *ks, double *xs) {
  guint n = row_features(m, r, row, fi, raw), w = 0;
  for (guint i = 0; i < n; i++) {
    gint k = m->f[fi[i]].kept;
    if (k < 0) continue;
    ks[w] = (guint)k;
    xs[w++] = feature_x(m, fi[i], raw[i]);
  }
  return w;
}

/* ---- Standardization ----------------------------------------------------------- */

/* Global min/max of lo[0..d) and hi[0..d): gathered to rank 0, merged in
 * rank order, broadcast (min and max are not sums). */
static gboolean minmax_allreduce(const Model *m, int64_t *lo, int64_t *hi,
                                 guint d, GError **error) {
  size_t len = 2 * d * sizeof(int64_t);
  g_autofree int64_t *mine = g_new(int64_t, 2 * d);
  memcpy(mine, lo, d * sizeof *lo);
  memcpy(mine + d, hi, d * sizeof *hi);
  GByteArray *all = NULL;
  gboolean ok = m->ops->gather(m->ops->ctx, mine, len, &all, error);
  for (size_t off = 0; ok && all && off + len <= all->len; off += len) {
    const int64_t *v = (const int64_t *)(void *)(all->data + off);
    for (guint f = 0; f < d; f++) {
      mine[f] = MIN(mine[f], v[f]);
      mine[d + f] = MAX(mine[d + f], v[d + f]);
    }
  }
  if (all) g_byte_array_unref(all);
  void *buf = mine;
  size_t blen = len;
  if (ok) ok = m->ops->bcast(m->ops->ctx, &buf, &blen, error);
  if (ok && blen != len) {
    pc_set_error(error, PC_ERROR_INTERNAL, "model: bad broadcast size");
    ok = FALSE;
  }
  if (ok) {
    memcpy(lo, buf, d * sizeof *lo);
    memcpy(hi, (int64_t *)buf + d, d * sizeof *hi);
  }
  if (buf != mine) g_free(buf);
  return ok;
}

/* Integer facts of the training rows, global: n_train, n_test, per feature
 * the nonzero count and the min/max of nonzero raw values. */
static gboolean std_counts(Model *m, int64_t *nnz, int64_t *lo, int64_t *hi,
                           GError **error) {
  const PcModelRows *r = m->rows;
  guint d = m->d;
  g_autofree int64_t *cnt = g_new0(int64_t, 2 + d);
  for (guint f = 0; f < d; f++) lo[f] = INT64_MAX, hi[f] = INT64_MIN;
  g_autofree guint *fi = g_new(guint, d);
  g_autofree guint32 *raw = g_new(guint32, d);
  for (size_t i = 0; i < r->rows->len; i++) {
    const Row *row = pc_model_row_at(r, i);
    cnt[row->test ? 1 : 0]++;
    if (row->test) continue;
    guint n = row_features(m, r, row, fi, raw);
    for (guint k = 0; k < n; k++) {
      cnt[2 + fi[k]]++;
      lo[fi[k]] = MIN(lo[fi[k]], (int64_t)raw[k]);
      hi[fi[k]] = MAX(hi[fi[k]], (int64_t)raw[k]);
    }
  }
  if (!m->ops->sum_i64(m->ops->ctx, cnt, 2 + d, error)) return FALSE;
  m->n_train = cnt[0];
  m->n_test = cnt[1];
  memcpy(nnz, cnt + 2, d * sizeof *nnz);
  return minmax_allreduce(m, lo, hi, d, error);
}

/* Exact global sums over training rows of f(x) per feature, nonzero x only:
 * power 1 sums x, power 2 sums (x - mean)². */
static gboolean std_sums(Model *m, int power, PcFix *s, GError **error) {
  const PcModelRows *r = m->rows;
  guint *fi = g_new(guint, m->d);
  guint32 *raw = g_new(guint32, m->d);
  memset(s, 0, m->d * sizeof *s);
  for (size_t i = 0; i < r->rows->len; i++) {
    const Row *row = pc_model_row_at(r, i);
    if (row->test) continue;
    guint n = row_features(m, r, row, fi, raw);
    for (guint k = 0; k < n; k++) {
      double x = feature_x(m, fi[k], raw[k]);
      if (power == 2) x = (x - m->f[fi[k]].mean) * (x - m->f[fi[k]].mean);
      s[fi[k]] += pc_fix_from_double(x);
    }
  }
  g_free(fi);
  g_free(raw);
  return m->ops->sum_fix(m->ops->ctx, s, m->d, error);
}

/* Training mean and population sd of every feature; drops the constant ones
 * (exact test on the integer raw values) and numbers the kept ones. */
static gboolean model_standardize(Model *m, GError **error) {
  guint d = m->d;
  int64_t *nnz = g_new0(int64_t, d), *lo = g_new(int64_t, d),
          *hi = g_new(int64_t, d);
  PcFix *s = g_new0(PcFix, d);
  gboolean ok = std_counts(m, nnz, lo, hi, error);
  if (ok && m->n_train == 0) {
    pc_set_error(error, PC_ERROR_CONVERGE, "model: no training customer");
    ok = FALSE;
  }
  if (ok) ok = std_sums(m, 1, s, error);
  for (guint f = 0; ok && f < d; f++)
    m->f[f].mean = pc_fix_to_double(s[f]) / (double)m->n_train;
  if (ok) ok = std_sums(m, 2, s, error);
  m->dk = 0;
  for (guint f = 0; ok && f < d; f++) {
    Feature *F = &m->f[f];
    double zeros = (double)(m->n_train - nnz[f]);
    double var = (pc_fix_to_double(s[f]) + zeros * F->mean * F->mean) /
                 (double)m->n_train;
    F->sd = sqrt(var);
    F->dropped = nnz[f] == 0 || (nnz[f] == m->n_train && lo[f] == hi[f]) ||
                 !(F->sd > 0);
    F->kept = F->dropped ? -1 : (gint)m->dk++;
  }
  if (ok) {
    m->mean_k = g_new(double, m->dk + 1);
    m->sd_k = g_new(double, m->dk + 1);
    for (guint f = 0; f < d; f++)
      if (m->f[f].kept >= 0) {
        m->mean_k[m->f[f].kept] = m->f[f].mean;
        m->sd_k[m->f[f].kept] = m->f[f].sd;
      }
  }
  g_free(nnz);
  g_free(lo);
  g_free(hi);
  g_free(s);
  return ok;
}

gboolean pc_model_setup(Model *m, const PcModelRows *rows,
                            const PcNames *names, const PcTarget *target,
                            double lambda, const PcCommOps *ops,
                            GError **error) {
  memset(m, 0, sizeof *m);
  m->rows = rows;
  m->ops = ops;
  m->lambda = lambda;
  for (guint c = 0; c < PC_MODEL_LOGTAB; c++) m->logtab[c] = log1p((double)c);
  model_features(m, names, target);
  return model_standardize(m, error);
}

void pc_model_clear(Model *m) {
  for (guint f = 0; f < m->d; f++) g_free(m->f[f].name);
  g_free(m->f);
  g_free(m->ev_feat);
  g_free(m->mean_k);
  g_free(m->sd_k);
  memset(m, 0, sizeof *m);
}

/* ---- Objective, gradient, Hessian ------------------------------------------------ */

double pc_model_sigmoid(double z) {
  if (z >= 0) return 1.0 / (1.0 + exp(-z));
  double e = exp(z);
  return e / (1.0 + e);
}

/* ln(1 + e^z), no overflow, no cancellation. */
static double softplus(double z) {
  return (z > 0 ? z : 0.0) + log1p(exp(-fabs(z)));
}

/* Per-customer term: OUT loss = ln(1+e^z) - y·z, r = dloss/dz = p - y,
 * q = d²loss/dz² = p(1-p), each in a form without cancellation. */
void pc_model_logistic_terms(double z, int y, double *loss, double *r,
                           double *q) {
  double p = pc_model_sigmoid(z), pm = pc_model_sigmoid(-z);
  *loss = y ? softplus(-z) : softplus(z);
  *r = y ? -pm : p;
  *q = p * pm;
}

/* Accumulator layout of one evaluation (all PcFix, summed over ranks):
 * [0] Σloss [1] invalid rows [2] Σr [3..3+dk) Σr·x [3+dk] Σq
 * [4+dk..4+2dk) Σq·x [4+2dk..) Σq·x·x upper triangle, row-major. */
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
static inline size_t tri(guint dk, guint k, guint l) { /* k <= l */
  return (size_t)k * dk - (size_t)k * (k - 1) / 2 + (l - k);
}

/* z = c + Σ v·x with v = w/sd and c = b - Σ v·mean: the standardized
 * linear predictor, evaluated on the row's nonzero raw x only. */
void pc_model_linear(const Model *m, const double *theta, double *v,
                         double *c) {
  *c = theta[0];
  for (guint k = 0; k < m->dk; k++) {
    v[k] = theta[1 + k] / m->sd_k[k];
    *c -= v[k] * m->mean_k[k];
  }
}


void pc_model_rowbuf_init(RowBuf *b, guint d) {
  b->fi = g_new(guint, d);
  b->ks = g_new(guint, d);
  b->raw = g_new(guint32, d);
  b->xs = g_new(double, d);
}

void pc_model_rowbuf_clear(RowBuf *b) {
  g_free(b->fi);
  g_free(b->ks);
  g_free(b->raw);
  g_free(b->xs);
}

double pc_model_row_z(const Model *m, const Row *row, RowBuf *b,
                           const double *v, double c, guint *n) {
  *n = row_kept(m, m->rows, row, b->fi, b->raw, b->ks, b->xs);
  double z = c;
  for (guint i = 0; i < *n; i++) z += v[b->ks[i]] * b->xs[i];
  return z;
}

/* One training row's addends into this thread's accumulator. */
static void eval_row(const Model *m, const Row *row, RowBuf *b,
                     const double *v, double c, PcFix *acc) {
  guint n, dk = m->dk;
  double z = pc_model_row_z(m, row, b, v, c, &n);
  if (!isfinite(z) || fabs(z) > PC_MODEL_Z_LIMIT) {
    acc[ACC_BAD] += pc_fix_from_double(1.0);
    return;
  }
  double loss, r, q;
  pc_model_logistic_terms(z, row->y, &loss, &r, &q);
  acc[ACC_LOSS] += pc_fix_from_double(loss);
  acc[ACC_R] += pc_fix_from_double(r);
  acc[acc_q(dk)] += pc_fix_from_double(q);
  PcFix *qxx = acc + acc_qxx(dk);
  for (guint i = 0; i < n; i++) {
    guint k = b->ks[i];
    double qx = q * b->xs[i];
    acc[ACC_RX + k] += pc_fix_from_double(r * b->xs[i]);
    acc[acc_qx(dk) + k] += pc_fix_from_double(qx);
    for (guint j = i; j < n; j++)
      qxx[tri(dk, k, b->ks[j])] += pc_fix_from_double(qx * b->xs[j]);
  }
}

/* Exact global sums of one evaluation at theta. Threads keep their own
 * integer accumulators; adding them is order-free. */
static gboolean eval_sums(const Model *m, const double *theta, PcFix *acc,
                          GError **error) {
  size_t K = acc_len(m->dk);
  double *v = g_new(double, m->dk + 1), c;
  pc_model_linear(m, theta, v, &c);
  memset(acc, 0, K * sizeof *acc);
  const gint64 nrows = m->rows->rows->len;
#pragma omp parallel
  {
    PcFix *mine = g_new0(PcFix, K);
    RowBuf b;
    pc_model_rowbuf_init(&b, m->d);
#pragma omp for schedule(static)
    for (gint64 i = 0; i < nrows; i++) {
      const Row *row = pc_model_row_at(m->rows, (size_t)i);
      if (!row->test) eval_row(m, row, &b, v, c, mine);
    }
#pragma omp critical(pc_model_acc)
    for (size_t k = 0; k < K; k++) acc[k] += mine[k];
    pc_model_rowbuf_clear(&b);
    g_free(mine);
  }
  g_free(v);
  return m->ops->sum_fix(m->ops->ctx, acc, K, error);
}

/* Centres the raw moments: gradient and Hessian in standardized space. */
static void eval_finish(const Model *m, const double *theta, const PcFix *acc,
                        Eval *e) {
  guint dk = m->dk, D = dk + 1;
  double N = (double)m->n_train, lam = m->lambda;
  const double *mu = m->mean_k, *sd = m->sd_k;
  double R = pc_fix_to_double(acc[ACC_R]), Q = pc_fix_to_double(acc[acc_q(dk)]);
  double *qx = g_new(double, D);
  double pen = 0;
  for (guint k = 0; k < dk; k++) {
    double w = theta[1 + k];
    pen += w * w;
    qx[k] = pc_fix_to_double(acc[acc_qx(dk) + k]);
    e->g[1 + k] = (pc_fix_to_double(acc[ACC_RX + k]) - mu[k] * R) / (N * sd[k]) +
                  lam * w;
    e->h[1 + k] = e->h[(1 + k) * D] = (qx[k] - mu[k] * Q) / (N * sd[k]);
  }
  e->valid = acc[ACC_BAD] == 0;
  e->loss = pc_fix_to_double(acc[ACC_LOSS]) / N;
  e->obj = e->valid ? e->loss + 0.5 * lam * pen : INFINITY;
  e->g[0] = R / N;
  e->h[0] = Q / N;
  for (guint k = 0; k < dk; k++)
    for (guint l = k; l < dk; l++) {
      double s = pc_fix_to_double(acc[acc_qxx(dk) + tri(dk, k, l)]);
      s = s - mu[k] * qx[l] - mu[l] * qx[k] + mu[k] * mu[l] * Q;
      double h = s / (N * sd[k] * sd[l]) + (k == l ? lam : 0.0);
      e->h[(1 + k) * D + 1 + l] = e->h[(1 + l) * D + 1 + k] = h;
    }
  e->gnorm = 0;
  for (guint i = 0; i < D; i++) e->gnorm = MAX(e->gnorm, fabs(e->g[i]));
  if (!e->valid) e->gnorm = INFINITY;
  g_free(qx);
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

gboolean pc_model_eval(const Model *m, const double *theta, Eval *e,
                           GError **error) {
  PcFix *acc = g_new(PcFix, acc_len(m->dk));
  gboolean ok = eval_sums(m, theta, acc, error);
  if (ok) eval_finish(m, theta, acc, e);
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

/* Backtracking from the full step: accepts the first t = 2^-k with
 * sufficient decrease, or with no increase beyond the rounding of the
 * objective (near the optimum the decrease is below the noise of a sum).
 * On success *cur holds the evaluation at the new theta. */
static gboolean line_search(const Model *m, double *theta, const double *dx,
                            Eval *cur, Eval *trial, GError **error) {
  guint D = m->dk + 1;
  double slope = 0;
  for (guint i = 0; i < D; i++) slope += cur->g[i] * dx[i];
  double *th = g_new(double, D);
  double t = 1;
  for (int k = 0; k <= PC_MODEL_MAX_HALVINGS; k++, t *= 0.5) {
    for (guint i = 0; i < D; i++) th[i] = theta[i] + t * dx[i];
    if (!pc_model_eval(m, th, trial, error)) break;
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

/* Minimizes the objective from theta = 0. OUT: theta (1 + dk), *e at the
 * solution, norms (one double per iterate). */
gboolean pc_model_newton(const Model *m, guint max_iter, double *theta,
                         Eval *e, GArray *norms, GError **error) {
  guint D = m->dk + 1;
  Eval trial;
  pc_model_eval_init(&trial, m->dk);
  double *dx = g_new(double, D);
  memset(theta, 0, D * sizeof *theta);
  gboolean ok = pc_model_eval(m, theta, e, error);
  if (ok) g_array_append_val(norms, e->gnorm);
  for (guint it = 0; ok && !(e->gnorm < PC_MODEL_GRAD_TOL); it++) {
    if (it == max_iter) {
      pc_set_error(error, PC_ERROR_CONVERGE,
                   "model: no convergence in %u Newton steps (‖∇‖∞ = %g)",
                   max_iter, e->gnorm);
      ok = FALSE;
    } else if (!newton_direction(e, D, dx)) {
      pc_set_error(error, PC_ERROR_CONVERGE,
                   "model: Hessian not positive definite");
      ok = FALSE;
    } else if ((ok = line_search(m, theta, dx, e, &trial, error))) {
      g_array_append_val(norms, e->gnorm);
    }
  }
  g_free(dx);
  pc_model_eval_clear(&trial);
  return ok;
}

