/* model_int.h - private to src/analytics/model*.c: the rows, the fit's
 * state and the functions the four files share (model_rows.c: rows and the
 * module; model_feat.c: features, row walk, standardization; model_fit.c:
 * objective, gradient, Hessian, Newton; model_report.c: scores, ROC/AUC,
 * tables and pc_model_fit). Nothing else includes it.
 */
#ifndef PC_MODEL_INT_H
#define PC_MODEL_INT_H

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
#define PC_MODEL_HIST_CELLS (1u << 16) /* histogram cells of the standardization (all features) */
#define PC_MODEL_RIDGE_TRIES 30      /* Cholesky retries with a growing ridge */
#define PC_MODEL_FLUSH_LOG2 12       /* rows per int64 partial sum: 2^12 (bits of headroom in the scale) */

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
  guint n_ev, n_ch;  /* event names, channel names */
  gint *ev_feat;    /* event id -> feature index, -1 when not a feature */
  gint *ev_k;       /* event id -> kept feature index, -1 when none */
  gint k_chan, k_len; /* kept index of channels, of length; -1 when dropped */
  guint dk;         /* kept features */
  double *mean_k, *sd_k; /* per kept feature */
  int64_t n_train, n_test, n_pos; /* n_pos: training customers with y = 1 */
  int scale;        /* the Hessian's sums count units of 2^-scale (model_feat.c) */
  double unit;      /* 2^scale */
  double unit_inv;  /* 2^(64 - scale): pc_fix_to_double() of a sum -> value */
  int gscale;       /* split of the gradient's addends (model_fit.c) */
  double gunit, gfrac_unit; /* 2^gscale, 2^(64 - gscale) */
  size_t *tri_base; /* Hessian upper triangle: entry (k, l ≥ k) at tri_base[k] + l */
  /* From the setup pass, for the first evaluation (model_fit.c), per feature
   * f in name order (dropped ones included): sx[f] = Σx; start_fx[d + f] =
   * Σx over y = 1 (PcFix), start_fx[2d + tri_d[f] + g] = Σ x_f·x_g (g ≥ f,
   * units of 2^-gram_scale). */
  double *sx;
  PcFix *start_fx;
  size_t *tri_d;
  int gram_scale;
  double logtab[PC_MODEL_LOGTAB];
} Model;

/* The objective and its derivatives at one point, standardized space:
 * index 0 is the intercept, 1 + k the k-th kept feature. */
typedef struct {
  gboolean valid;   /* FALSE: some |z| > PC_MODEL_Z_LIMIT (objective = inf) */
  double obj;       /* penalized objective */
  double loss;      /* unpenalized mean training log-loss */
  double *g;        /* 1 + dk */
  double *h;        /* (1 + dk)², row-major, full; valid when has_h */
  gboolean has_h;
  double gnorm;     /* ‖g‖∞ */
} Eval;

/* One test customer's score, or one at-risk candidate. */
typedef struct {
  const char *id;
  guint8 id_len;
  guint8 y;
  double score;
} Scored;

/* One row's nonzero kept features: kept index (ascending), raw x. */
typedef struct {
  guint *ks;
  double *xs;
} RowBuf;

/* x as PcFix (units of 2^-64), truncated toward zero: a pure function of
 * x, so sums of it are order-free. Two float-to-int conversions for
 * |x| < 2^31 instead of pc_fix_from_double()'s frexp/ldexp (rounded, for
 * larger x): it is on the path of every customer of every evaluation. */
static inline PcFix pc_model_fix(double x) {
  if (!(fabs(x) < 0x1p31)) return pc_fix_from_double(x);
  double t = x * 0x1p32;             /* exact */
  int64_t hi = (int64_t)t;           /* |t| < 2^63 */
  double frac = t - (double)hi;      /* exact: t's fraction, sign of t */
  /* hi·2^32 as a shift of the unsigned bits: a multiply would be a
   * 128-bit one */
  return (PcFix)((unsigned __int128)(PcFix)hi << 32) +
         (int64_t)(frac * 0x1p32);
}

/* qsort, tolerating n = 0 with base NULL. */
void pc_model_sort_n(void *base, size_t n, size_t size,
                     int (*cmp)(const void *, const void *));

static inline const Row *pc_model_row_at(const PcModelRows *r, size_t i) {
  return &g_array_index(r->rows, Row, i);
}

static inline double pc_model_log1p(const Model *m, guint32 c) {
  return c < PC_MODEL_LOGTAB ? m->logtab[c] : log1p((double)c);
}

/* The row's nonzero kept features into b (in kept order: channels, events
 * by id = by name, length) and z = c + Σ v·x, the standardized linear
 * predictor on raw x (pc_model_linear()); *n gets how many. The fit's
 * inner loop: one table lookup per stored pair. */
static inline double pc_model_row_z(const Model *m, const Row *row, RowBuf *b,
                                    const double *v, double c, guint *n) {
  guint w = 0;
  guint *ks = b->ks;
  double *xs = b->xs, z = c, x;
  gint k;
  if (row->nchan && (k = m->k_chan) >= 0) {
    ks[w] = (guint)k, xs[w++] = x = (double)row->nchan;
    z += v[k] * x;
  }
  const Pair *p = &g_array_index(m->rows->pairs, Pair, row->pair_off);
  for (guint32 i = 0; i < row->npairs; i++) {
    if (p[i].ev >= m->n_ev || (k = m->ev_k[p[i].ev]) < 0) continue;
    ks[w] = (guint)k, xs[w++] = x = pc_model_log1p(m, p[i].count);
    z += v[k] * x;
  }
  if (row->length && (k = m->k_len) >= 0) {
    ks[w] = (guint)k, xs[w++] = x = pc_model_log1p(m, row->length);
    z += v[k] * x;
  }
  *n = w;
  return z;
}

/* model_feat.c */
gboolean pc_model_setup(Model *m, const PcModelRows *rows,
                        const PcNames *names, const PcTarget *target,
                        double lambda, const PcCommOps *ops, GError **error);
void pc_model_clear(Model *m);
void pc_model_linear(const Model *m, const double *theta, double *v,
                     double *c);
void pc_model_rowbuf_init(RowBuf *b, guint d);
void pc_model_rowbuf_clear(RowBuf *b);

/* model_sort.c: s[0..n) by id (bytewise, a proper prefix first): a radix
 * sort, or a merge of ascending runs (fast when there are few); OUT:
 * score[0..n) and y[0..n), the scores and outcomes of s by score
 * descending (ties in no particular order). */
void pc_model_sort_by_id(Scored *s, size_t n);
void pc_model_merge_by_id(Scored *s, size_t n);
void pc_model_scores_desc(const Scored *s, size_t n, double *score,
                          guint8 *y);

/* model_fit.c */
double pc_model_sigmoid(double z);
void pc_model_logistic_terms(double z, int y, double *loss, double *r,
                             double *q);
void pc_model_eval_init(Eval *e, guint dk);
void pc_model_eval_clear(Eval *e);
gboolean pc_model_eval(const Model *m, const double *theta, gboolean hess,
                       Eval *e, GError **error);
void pc_model_eval_start(const Model *m, const double *theta, Eval *e);
gboolean pc_model_newton(const Model *m, guint max_iter, double *theta,
                         Eval *e, GArray *norms, PcModelInfo *info,
                         GError **error);

#endif
