/* model.c - the outcome model of spec §7: logistic regression on one row per
 * customer (its pre-target journey), standardized features, Newton's method
 * with a backtracking line search, and the tables model, model_summary, roc,
 * scores and at_risk of spec §10.
 *
 * Owns PcModelRows (compact per-customer rows: id bytes, y, split, length,
 * distinct channels, sparse (event id, count) pairs) and the fit. Makes no
 * MPI or HDF5 call: other ranks are reached through PcCommOps only.
 *
 * Why the bytes never depend on ranks, threads or the row split: every
 * floating sum over customers is a sum of PcFix (pc_fix_from_double of each
 * customer's addend, then integer addition, then ops->sum_fix). Integer
 * addition is associative, so each rank ends with the same bits for every
 * sum, derives the same gradient and Hessian from them with the same serial
 * code, takes the same Newton step and stops at the same iteration. Each
 * customer's addends depend on that customer's row only. Integer facts
 * (counts, min/max of raw feature values) travel as integers. Outputs are
 * sorted by keys, never by arrival order.
 *
 * Sparse algebra: a row stores raw values x (ln(1+count), ln(1+length),
 * channels); the standardized value is (x - mean)/sd. The fit sums only
 * over the nonzero x of each row (raw moments Σq, Σq·x, Σq·x·x, Σr, Σr·x)
 * and centres them afterwards, which costs O(nnz²) per row instead of O(d²).
 */
#include "pc_model.h"
#include "pc_table.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>

#define PC_MODEL_GRAD_TOL 1e-9       /* ‖∇‖∞ stopping rule of spec §7 */
#define PC_MODEL_ARMIJO 1e-4         /* sufficient decrease of the line search */
#define PC_MODEL_MAX_HALVINGS 60     /* smallest step 2^-60, then give up */
#define PC_MODEL_Z_LIMIT 1e8         /* |z| beyond: trial point rejected (keeps PcFix sums < 2^63) */
#define PC_MODEL_LOGTAB 1024         /* counts whose ln(1+c) is tabulated */
#define PC_MODEL_RIDGE_TRIES 30      /* Cholesky retries with a growing ridge */

/* ---- Rows ------------------------------------------------------------------- */

typedef struct {
  guint64 id_off;   /* into ids */
  guint64 pair_off; /* into pairs */
  guint32 npairs;   /* distinct event ids of the pre-target journey */
  guint32 length;   /* events of the pre-target journey */
  guint32 nchan;    /* distinct channels of the pre-target journey */
  guint8 id_len;
  guint8 y;
  guint8 test;      /* FNV-1a-64(id) mod 5 == 0 */
} Row;

typedef struct {
  guint32 ev;
  guint32 count;
} Pair;

struct PcModelRows {
  GArray *rows;      /* Row */
  GByteArray *ids;   /* id bytes, back to back */
  GArray *pairs;     /* Pair, per row sorted by event id */
  GArray *scratch;   /* guint32, pc_model_rows_add() only */
};

/* ---- The fit's state ----------------------------------------------------------- */

typedef enum { FEAT_CHANNELS, FEAT_EVENT, FEAT_LENGTH } FeatKind;

typedef struct {
  char *name;       /* "channels", "event:NAME", "length" */
  FeatKind kind;
  guint32 ev;       /* FEAT_EVENT: event id */
  gboolean dropped; /* training values all equal */
  gint kept;        /* index among kept features, -1 when dropped */
  double mean, sd;  /* training mean and population sd of x */
} Feature;

typedef struct {
  const PcModelRows *rows;
  const PcCommOps *ops;
  double lambda;
  guint d;          /* features, dropped included */
  Feature *f;       /* name order */
  guint n_ev;
  gint *ev_feat;    /* event id -> feature index, -1 when not a feature */
  guint dk;         /* kept features */
  double *mean_k, *sd_k; /* per kept feature */
  int64_t n_train, n_test;
  double logtab[PC_MODEL_LOGTAB];
} Model;

/* The objective and its derivatives at one point, standardized space:
 * index 0 is the intercept, 1 + k the k-th kept feature. */
typedef struct {
  gboolean valid;   /* FALSE: some |z| > PC_MODEL_Z_LIMIT (objective = inf) */
  double obj;       /* penalized objective */
  double loss;      /* unpenalized mean training log-loss */
  double *g;        /* 1 + dk */
  double *h;        /* (1 + dk)², row-major, full */
  double gnorm;     /* ‖g‖∞ */
} Eval;

/* One test customer's score, or one at-risk candidate. */
typedef struct {
  const char *id;
  guint8 id_len;
  guint8 y;
  double score;
} Scored;

/* ---- Private prototypes ---------------------------------------------------------- */

static int cmp_u32(const void *a, const void *b);
static void sort_n(void *base, size_t n, size_t size,
                   int (*cmp)(const void *, const void *));
static gboolean model_setup(Model *m, const PcModelRows *rows,
                            const PcNames *names, const PcTarget *target,
                            double lambda, const PcCommOps *ops,
                            GError **error);
static void model_clear(Model *m);
static gboolean model_eval(const Model *m, const double *theta, Eval *e,
                           GError **error);
static void eval_init(Eval *e, guint dk);
static void eval_clear(Eval *e);
static double sigmoid(double z);

/* ---- Rows API ---------------------------------------------------------------- */

PcModelRows *pc_model_rows_new(const PcNames *names, const PcTarget *target) {
  (void)names;
  (void)target;
  PcModelRows *r = g_new0(PcModelRows, 1);
  r->rows = g_array_new(FALSE, FALSE, sizeof(Row));
  r->ids = g_byte_array_new();
  r->pairs = g_array_new(FALSE, FALSE, sizeof(Pair));
  r->scratch = g_array_new(FALSE, FALSE, sizeof(guint32));
  return r;
}

void pc_model_rows_free(PcModelRows *r) {
  if (!r) return;
  g_array_unref(r->rows);
  g_byte_array_unref(r->ids);
  g_array_unref(r->pairs);
  g_array_unref(r->scratch);
  g_free(r);
}

size_t pc_model_rows_count(const PcModelRows *r) { return r ? r->rows->len : 0; }

/* qsort that accepts an empty (possibly NULL) array. */
static void sort_n(void *base, size_t n, size_t size,
                   int (*cmp)(const void *, const void *)) {
  if (n > 1) qsort(base, n, size, cmp);
}

static int cmp_u32(const void *a, const void *b) {
  guint32 x = *(const guint32 *)a, y = *(const guint32 *)b;
  return x < y ? -1 : (x > y ? 1 : 0);
}

/* Sorted ids in s[0..n) -> (id, count) pairs appended to out; returns how
 * many distinct ids. out may be NULL (count only). */
static guint32 rows_runs(const guint32 *s, size_t n, GArray *out) {
  guint32 runs = 0;
  for (size_t i = 0; i < n;) {
    size_t k = i;
    while (k < n && s[k] == s[i]) k++;
    if (out) {
      Pair p = {s[i], (guint32)(k - i)};
      g_array_append_val(out, p);
    }
    runs++;
    i = k;
  }
  return runs;
}

void pc_model_rows_add(PcModelRows *r, const PcJourney *j, gboolean y,
                       size_t cut) {
  g_return_if_fail(r && j && cut <= j->n);
  g_return_if_fail(j->id_len >= 1 && j->id_len <= PC_MAX_ID_BYTES);
  g_return_if_fail(cut <= G_MAXUINT32);
  Row row = {0};
  row.id_off = r->ids->len;
  row.id_len = (guint8)j->id_len;
  row.y = y ? 1 : 0;
  row.test = pc_fnv1a64(j->id, j->id_len) % 5 == 0;
  row.length = (guint32)cut;
  row.pair_off = r->pairs->len;
  g_byte_array_append(r->ids, (const guint8 *)j->id, j->id_len);

  g_array_set_size(r->scratch, cut);
  guint32 *s = (guint32 *)(void *)r->scratch->data;
  for (size_t i = 0; i < cut; i++) s[i] = j->ev[i].event;
  sort_n(s, cut, sizeof *s, cmp_u32);
  row.npairs = rows_runs(s, cut, r->pairs);
  for (size_t i = 0; i < cut; i++) s[i] = j->ev[i].channel;
  sort_n(s, cut, sizeof *s, cmp_u32);
  row.nchan = rows_runs(s, cut, NULL);
  g_array_append_val(r->rows, row);
}

void pc_model_rows_append(PcModelRows *dst, PcModelRows *src) {
  g_return_if_fail(dst && src && dst != src);
  guint64 id_base = dst->ids->len, pair_base = dst->pairs->len;
  guint n0 = dst->rows->len;
  g_array_append_vals(dst->rows, src->rows->data, src->rows->len);
  for (guint i = n0; i < dst->rows->len; i++) {
    Row *row = &g_array_index(dst->rows, Row, i);
    row->id_off += id_base;
    row->pair_off += pair_base;
  }
  g_byte_array_append(dst->ids, src->ids->data, src->ids->len);
  g_array_append_vals(dst->pairs, src->pairs->data, src->pairs->len);
  g_array_set_size(src->rows, 0);
  g_byte_array_set_size(src->ids, 0);
  g_array_set_size(src->pairs, 0);
}

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
  sort_n(m->f, d, sizeof *m->f, cmp_feature);
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

static inline const Row *row_at(const PcModelRows *r, size_t i) {
  return &g_array_index(r->rows, Row, i);
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

/* Integer facts of the training rows, global: n_train, n_test, per feature
 * the nonzero count and the min/max of nonzero raw values (gathered to
 * rank 0, merged, broadcast: min/max are not sums). */
static gboolean std_counts(Model *m, int64_t *nnz, int64_t *lo, int64_t *hi,
                           GError **error) {
  const PcModelRows *r = m->rows;
  guint d = m->d;
  int64_t *cnt = g_new0(int64_t, 2 + d);
  for (guint f = 0; f < d; f++) lo[f] = INT64_MAX, hi[f] = INT64_MIN;
  guint *fi = g_new(guint, d);
  guint32 *raw = g_new(guint32, d);
  for (size_t i = 0; i < r->rows->len; i++) {
    const Row *row = row_at(r, i);
    cnt[row->test ? 1 : 0]++;
    if (row->test) continue;
    guint n = row_features(m, r, row, fi, raw);
    for (guint k = 0; k < n; k++) {
      cnt[2 + fi[k]]++;
      lo[fi[k]] = MIN(lo[fi[k]], (int64_t)raw[k]);
      hi[fi[k]] = MAX(hi[fi[k]], (int64_t)raw[k]);
    }
  }
  g_free(fi);
  g_free(raw);
  gboolean ok = m->ops->sum_i64(m->ops->ctx, cnt, 2 + d, error);
  if (ok) {
    m->n_train = cnt[0];
    m->n_test = cnt[1];
    memcpy(nnz, cnt + 2, d * sizeof *nnz);
  }
  g_free(cnt);
  if (!ok) return FALSE;

  size_t len = 2 * d * sizeof(int64_t);
  int64_t *mine = g_new(int64_t, 2 * d);
  memcpy(mine, lo, d * sizeof *lo);
  memcpy(mine + d, hi, d * sizeof *hi);
  GByteArray *all = NULL;
  ok = m->ops->gather(m->ops->ctx, mine, len, &all, error);
  if (ok && all) { /* rank 0: merge in rank order */
    for (size_t off = 0; off + len <= all->len; off += len) {
      const int64_t *v = (const int64_t *)(void *)(all->data + off);
      for (guint f = 0; f < d; f++) {
        mine[f] = MIN(mine[f], v[f]);
        mine[d + f] = MAX(mine[d + f], v[d + f]);
      }
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
  g_free(mine);
  return ok;
}

/* Exact global sums over training rows of f(x) per feature, nonzero x only:
 * power 1 sums x, power 2 sums (x - mean)². */
static gboolean std_sums(Model *m, int power, PcFix *s, GError **error) {
  const PcModelRows *r = m->rows;
  guint *fi = g_new(guint, m->d);
  guint32 *raw = g_new(guint32, m->d);
  memset(s, 0, m->d * sizeof *s);
  for (size_t i = 0; i < r->rows->len; i++) {
    const Row *row = row_at(r, i);
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

static gboolean model_setup(Model *m, const PcModelRows *rows,
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

static void model_clear(Model *m) {
  for (guint f = 0; f < m->d; f++) g_free(m->f[f].name);
  g_free(m->f);
  g_free(m->ev_feat);
  g_free(m->mean_k);
  g_free(m->sd_k);
  memset(m, 0, sizeof *m);
}

/* ---- Objective, gradient, Hessian ------------------------------------------------ */

static double sigmoid(double z) {
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
static void logistic_terms(double z, int y, double *loss, double *r,
                           double *q) {
  double p = sigmoid(z), pm = sigmoid(-z);
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
static void model_linear(const Model *m, const double *theta, double *v,
                         double *c) {
  *c = theta[0];
  for (guint k = 0; k < m->dk; k++) {
    v[k] = theta[1 + k] / m->sd_k[k];
    *c -= v[k] * m->mean_k[k];
  }
}

typedef struct {
  guint *fi, *ks;
  guint32 *raw;
  double *xs;
} RowBuf;

static void rowbuf_init(RowBuf *b, guint d) {
  b->fi = g_new(guint, d);
  b->ks = g_new(guint, d);
  b->raw = g_new(guint32, d);
  b->xs = g_new(double, d);
}

static void rowbuf_clear(RowBuf *b) {
  g_free(b->fi);
  g_free(b->ks);
  g_free(b->raw);
  g_free(b->xs);
}

static inline double row_z(const Model *m, const Row *row, RowBuf *b,
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
  double z = row_z(m, row, b, v, c, &n);
  if (!isfinite(z) || fabs(z) > PC_MODEL_Z_LIMIT) {
    acc[ACC_BAD] += pc_fix_from_double(1.0);
    return;
  }
  double loss, r, q;
  logistic_terms(z, row->y, &loss, &r, &q);
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
  model_linear(m, theta, v, &c);
  memset(acc, 0, K * sizeof *acc);
  const gint64 nrows = m->rows->rows->len;
#pragma omp parallel
  {
    PcFix *mine = g_new0(PcFix, K);
    RowBuf b;
    rowbuf_init(&b, m->d);
#pragma omp for schedule(static)
    for (gint64 i = 0; i < nrows; i++) {
      const Row *row = row_at(m->rows, (size_t)i);
      if (!row->test) eval_row(m, row, &b, v, c, mine);
    }
#pragma omp critical(pc_model_acc)
    for (size_t k = 0; k < K; k++) acc[k] += mine[k];
    rowbuf_clear(&b);
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

static void eval_init(Eval *e, guint dk) {
  memset(e, 0, sizeof *e);
  e->g = g_new0(double, dk + 1);
  e->h = g_new0(double, (size_t)(dk + 1) * (dk + 1));
}

static void eval_clear(Eval *e) {
  g_free(e->g);
  g_free(e->h);
  memset(e, 0, sizeof *e);
}

static gboolean model_eval(const Model *m, const double *theta, Eval *e,
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
    if (!model_eval(m, th, trial, error)) break;
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
static gboolean model_newton(const Model *m, guint max_iter, double *theta,
                             Eval *e, GArray *norms, GError **error) {
  guint D = m->dk + 1;
  Eval trial;
  eval_init(&trial, m->dk);
  double *dx = g_new(double, D);
  memset(theta, 0, D * sizeof *theta);
  gboolean ok = model_eval(m, theta, e, error);
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
  eval_clear(&trial);
  return ok;
}

/* ---- AUC and ROC ------------------------------------------------------------------ */

static int cmp_scored_desc(const void *a, const void *b) {
  const Scored *x = a, *y = b;
  if (x->score != y->score) return x->score > y->score ? -1 : 1;
  return x->y != y->y ? (x->y > y->y ? -1 : 1) : 0;
}

/* s sorted by score desc. Walks the tie groups; optionally appends the ROC
 * rows. AUC·P·N counted in halves, as an exact integer. */
static double roc_walk(const Scored *s, size_t n, PcTable *roc) {
  uint64_t P = 0, Nn = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i].y) P++;
    else Nn++;
  }
  uint64_t tp = 0, fp = 0, halves = 0;
  for (size_t i = 0; i < n;) {
    uint64_t pg = 0, ng = 0;
    size_t k = i;
    for (; k < n && s[k].score == s[i].score; k++) {
      if (s[k].y) pg++;
      else ng++;
    }
    tp += pg;
    fp += ng;
    halves += 2 * pg * (Nn - fp) + pg * ng;
    if (roc) {
      pc_table_add_row(roc);
      pc_table_set_double(roc, 0, s[i].score);
      pc_table_set_double(roc, 1, (double)fp / (double)Nn);
      pc_table_set_double(roc, 2, (double)tp / (double)P);
    }
    i = k;
  }
  if (P == 0 || Nn == 0) return NAN;
  return (double)halves / (2.0 * (double)P * (double)Nn);
}

double pc_model_auc(const double *score, const guint8 *y, size_t n) {
  Scored *s = g_new0(Scored, n ? n : 1);
  for (size_t i = 0; i < n; i++) s[i].score = score[i], s[i].y = y[i] ? 1 : 0;
  sort_n(s, n, sizeof *s, cmp_scored_desc);
  double auc = roc_walk(s, n, NULL);
  g_free(s);
  return auc;
}

/* ---- Scores, at-risk list, tables ------------------------------------------------- */

static int cmp_scored_id(const void *a, const void *b) {
  const Scored *x = a, *y = b;
  return pc_bytes_cmp(x->id, x->id_len, y->id, y->id_len);
}

/* At-risk order: score desc, then id asc. */
static int cmp_risk(const void *a, const void *b) {
  const Scored *x = a, *y = b;
  if (x->score != y->score) return x->score > y->score ? -1 : 1;
  return pc_bytes_cmp(x->id, x->id_len, y->id, y->id_len);
}

/* Min-heap on at-risk order (the worst candidate on top) of at most cap. */
static void heap_offer(Scored *h, size_t *n, size_t cap, Scored s) {
  size_t i;
  if (*n < cap) {
    for (i = (*n)++; i > 0 && cmp_risk(&h[(i - 1) / 2], &s) < 0; i = (i - 1) / 2)
      h[i] = h[(i - 1) / 2];
    h[i] = s;
    return;
  }
  if (cap == 0 || cmp_risk(&s, &h[0]) >= 0) return;
  for (i = 0;;) {
    size_t c = 2 * i + 1;
    if (c >= *n) break;
    if (c + 1 < *n && cmp_risk(&h[c + 1], &h[c]) > 0) c++;
    if (cmp_risk(&h[c], &s) <= 0) break;
    h[i] = h[c];
    i = c;
  }
  h[i] = s;
}

/* Record: id_len, id bytes, score (8 bytes, native), y. */
static void record_put(GByteArray *b, const Scored *s) {
  g_byte_array_append(b, &s->id_len, 1);
  g_byte_array_append(b, (const guint8 *)s->id, s->id_len);
  g_byte_array_append(b, (const guint8 *)&s->score, sizeof s->score);
  g_byte_array_append(b, &s->y, 1);
}

/* Parses what record_put wrote; ids point into b. */
static GArray *records_parse(const GByteArray *b) {
  GArray *out = g_array_new(FALSE, FALSE, sizeof(Scored));
  for (size_t off = 0; off < b->len;) {
    Scored s;
    s.id_len = b->data[off];
    s.id = (const char *)b->data + off + 1;
    memcpy(&s.score, b->data + off + 1 + s.id_len, sizeof s.score);
    s.y = b->data[off + 1 + s.id_len + sizeof s.score];
    g_array_append_val(out, s);
    off += 2 + s.id_len + sizeof s.score;
  }
  return out;
}

/* Final pass: every row's score. Test rows go to *test (records) and add
 * their log-loss to *test_loss; y = 0 rows compete for this rank's top_n. */
static void model_score(const Model *m, const double *theta, guint64 top_n,
                        GByteArray *test, PcFix *test_loss, GByteArray *risk) {
  const PcModelRows *r = m->rows;
  size_t n = r->rows->len;
  double *v = g_new(double, m->dk + 1), c;
  double *z = g_new(double, n ? n : 1);
  model_linear(m, theta, v, &c);
#pragma omp parallel
  {
    RowBuf b;
    guint k;
    rowbuf_init(&b, m->d);
#pragma omp for schedule(static)
    for (gint64 i = 0; i < (gint64)n; i++)
      z[i] = row_z(m, row_at(r, (size_t)i), &b, v, c, &k);
    rowbuf_clear(&b);
  }
  size_t cap = (size_t)MIN(top_n, (guint64)n), hn = 0;
  Scored *heap = g_new(Scored, cap ? cap : 1);
  for (size_t i = 0; i < n; i++) {
    const Row *row = row_at(r, i);
    Scored s = {(const char *)r->ids->data + row->id_off, row->id_len, row->y,
                sigmoid(z[i])};
    if (row->test) {
      double loss, rr, q;
      logistic_terms(z[i], row->y, &loss, &rr, &q);
      *test_loss += pc_fix_from_double(loss);
      record_put(test, &s);
    }
    if (!row->y) heap_offer(heap, &hn, cap, s);
  }
  for (size_t i = 0; i < hn; i++) record_put(risk, &heap[i]);
  g_free(heap);
  g_free(z);
  g_free(v);
}

static PcTable *table_model(const Model *m, const double *theta) {
  static const char *const cols[] = {"term:string", "coefficient:double",
                                     "dropped:int"};
  PcTable *t = pc_table_new("model", cols, 3);
  pc_table_add_row(t);
  pc_table_set_string(t, 0, "(intercept)");
  pc_table_set_double(t, 1, theta[0]);
  pc_table_set_int(t, 2, 0);
  for (guint f = 0; f < m->d; f++) {
    pc_table_add_row(t);
    pc_table_set_string(t, 0, m->f[f].name);
    pc_table_set_double(t, 1, m->f[f].kept >= 0 ? theta[1 + m->f[f].kept] : 0.0);
    pc_table_set_int(t, 2, m->f[f].dropped ? 1 : 0);
  }
  return t;
}

static PcTable *table_summary(const Model *m, const Eval *e, guint iters,
                              double test_logloss, double auc) {
  static const char *const cols[] = {"key:string", "value:double"};
  const char *keys[] = {"n_train", "n_test", "features", "iterations",
                        "grad_norm", "train_logloss", "test_logloss",
                        "test_auc"};
  double vals[] = {(double)m->n_train, (double)m->n_test, (double)m->d,
                   (double)iters, e->gnorm, e->loss, test_logloss, auc};
  PcTable *t = pc_table_new("model_summary", cols, 2);
  for (guint i = 0; i < G_N_ELEMENTS(keys); i++) {
    pc_table_add_row(t);
    pc_table_set_string(t, 0, keys[i]);
    pc_table_set_double(t, 1, vals[i]);
  }
  return t;
}

static PcTable *table_scores(Scored *s, size_t n) {
  static const char *const cols[] = {"customer_id:string", "score:double",
                                     "outcome:int"};
  PcTable *t = pc_table_new("scores", cols, 3);
  sort_n(s, n, sizeof *s, cmp_scored_id);
  for (size_t i = 0; i < n; i++) {
    pc_table_add_row(t);
    pc_table_set_string_len(t, 0, s[i].id, s[i].id_len);
    pc_table_set_double(t, 1, s[i].score);
    pc_table_set_int(t, 2, s[i].y);
  }
  return t;
}

static PcTable *table_at_risk(Scored *s, size_t n, guint64 top_n) {
  static const char *const cols[] = {"rank:int", "customer_id:string",
                                     "score:double"};
  PcTable *t = pc_table_new("at_risk", cols, 3);
  sort_n(s, n, sizeof *s, cmp_risk);
  for (size_t i = 0; i < n && i < top_n; i++) {
    pc_table_add_row(t);
    pc_table_set_int(t, 0, (int64_t)i + 1);
    pc_table_set_string_len(t, 1, s[i].id, s[i].id_len);
    pc_table_set_double(t, 2, s[i].score);
  }
  return t;
}

/* Rank 0: the five tables from the gathered test and at-risk records. */
static void model_tables(const Model *m, const double *theta, const Eval *e,
                         guint iters, double test_logloss,
                         const GByteArray *test, const GByteArray *risk,
                         guint64 top_n, GPtrArray *tables) {
  GArray *ts = records_parse(test), *rs = records_parse(risk);
  Scored *t = (Scored *)(void *)ts->data;
  PcTable *roc = pc_table_new(
      "roc", (const char *const[]){"threshold:double", "fpr:double", "tpr:double"},
      3);
  sort_n(t, ts->len, sizeof *t, cmp_scored_desc);
  double auc = roc_walk(t, ts->len, roc);
  g_ptr_array_add(tables, table_model(m, theta));
  g_ptr_array_add(tables, table_summary(m, e, iters, test_logloss, auc));
  g_ptr_array_add(tables, roc);
  g_ptr_array_add(tables, table_scores(t, ts->len));
  g_ptr_array_add(tables,
                  table_at_risk((Scored *)(void *)rs->data, rs->len, top_n));
  g_array_unref(ts);
  g_array_unref(rs);
}

/* Scores every row, gathers test records and local at-risk lists on rank 0
 * and builds the tables there (appended to out). */
static gboolean model_report(const Model *m, const double *theta,
                             const Eval *e, guint iters, guint64 top_n,
                             GPtrArray *out, GError **error) {
  GByteArray *test = g_byte_array_new(), *risk = g_byte_array_new();
  GByteArray *all_test = NULL, *all_risk = NULL;
  PcFix tl = 0;
  model_score(m, theta, top_n, test, &tl, risk);
  gboolean ok = m->ops->sum_fix(m->ops->ctx, &tl, 1, error) &&
                m->ops->gather(m->ops->ctx, test->data, test->len, &all_test,
                               error) &&
                m->ops->gather(m->ops->ctx, risk->data, risk->len, &all_risk,
                               error);
  if (ok && m->ops->rank == 0) {
    if (!all_test || !all_risk) {
      pc_set_error(error, PC_ERROR_INTERNAL, "model: gather gave rank 0 nothing");
      ok = FALSE;
    } else {
      double test_logloss = pc_fix_to_double(tl) / (double)m->n_test;
      model_tables(m, theta, e, iters, test_logloss, all_test, all_risk, top_n,
                   out);
    }
  }
  if (all_test) g_byte_array_unref(all_test);
  if (all_risk) g_byte_array_unref(all_risk);
  g_byte_array_unref(test);
  g_byte_array_unref(risk);
  return ok;
}

/* ---- Public fit ------------------------------------------------------------------- */

gboolean pc_model_fit(PcModelRows *rows, const PcJobConfig *cfg,
                      const PcNames *names, const PcTarget *target,
                      const PcCommOps *ops, GPtrArray *tables,
                      PcModelInfo *info, GError **error) {
  g_return_val_if_fail(rows && cfg && names && ops && tables && info, FALSE);
  g_return_val_if_fail(error == NULL || *error == NULL, FALSE);
  if (cfg->solver && strcmp(cfg->solver, "newton") != 0) {
    pc_set_error(error, PC_ERROR_CONFIG, "model.solver: unknown solver '%s'",
                 cfg->solver);
    return FALSE;
  }
  if (!target || target->n == 0) {
    pc_set_error(error, PC_ERROR_CONFIG, "model: no target configured");
    return FALSE;
  }
  Model m;
  if (!model_setup(&m, rows, names, target, cfg->lambda, ops, error)) {
    model_clear(&m);
    return FALSE;
  }
  double *theta = g_new0(double, m.dk + 1);
  GArray *norms = g_array_new(FALSE, FALSE, sizeof(double));
  GPtrArray *mine = g_ptr_array_new_with_free_func((GDestroyNotify)pc_table_free);
  Eval e;
  eval_init(&e, m.dk);
  gboolean ok = model_newton(&m, cfg->max_iter, theta, &e, norms, error) &&
                model_report(&m, theta, &e, norms->len - 1, cfg->top_n, mine,
                             error);
  if (ok) {
    for (guint i = 0; i < mine->len; i++)
      g_ptr_array_add(tables, g_steal_pointer(&mine->pdata[i]));
    info->iterations = norms->len - 1;
    info->grad_norm = e.gnorm;
    info->grad_norms = (double *)(void *)g_array_free(norms, FALSE);
    norms = NULL;
  }
  if (norms) g_array_free(norms, TRUE);
  g_ptr_array_unref(mine);
  eval_clear(&e);
  g_free(theta);
  model_clear(&m);
  return ok;
}

void pc_model_info_clear(PcModelInfo *info) {
  if (!info) return;
  g_free(info->grad_norms);
  memset(info, 0, sizeof *info);
}

gboolean pc_model_objective(PcModelRows *rows, const PcNames *names,
                            const PcTarget *target, double lambda,
                            const PcCommOps *ops, const double *theta,
                            guint ntheta, double *obj, double *grad,
                            guint *n_features, GError **error) {
  g_return_val_if_fail(rows && names && ops && theta && obj && grad, FALSE);
  Model m;
  gboolean ok = model_setup(&m, rows, names, target, lambda, ops, error);
  if (ok && ntheta != m.d + 1) {
    pc_set_error(error, PC_ERROR_INTERNAL,
                 "model: theta has %u entries, the model %u", ntheta, m.d + 1);
    ok = FALSE;
  }
  if (ok) {
    double *th = g_new0(double, m.dk + 1);
    th[0] = theta[0];
    for (guint f = 0; f < m.d; f++)
      if (m.f[f].kept >= 0) th[1 + m.f[f].kept] = theta[1 + f];
    Eval e;
    eval_init(&e, m.dk);
    ok = model_eval(&m, th, &e, error);
    if (ok) {
      *obj = e.obj;
      grad[0] = e.g[0];
      for (guint f = 0; f < m.d; f++)
        grad[1 + f] = m.f[f].kept >= 0 ? e.g[1 + m.f[f].kept] : 0.0;
      if (n_features) *n_features = m.d;
    }
    eval_clear(&e);
    g_free(th);
  }
  model_clear(&m);
  return ok;
}
