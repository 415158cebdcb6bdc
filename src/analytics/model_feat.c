/* model_feat.c - the features of the outcome model of spec §7: the feature
 * list, the walk that turns a compact row into its nonzero (feature, x)
 * pairs, the training mean and population sd of every feature, the choice
 * of dropped (constant) features, and the scale of the fit's integer sums.
 *
 * Why the bytes never depend on ranks, threads or the row split: counts and
 * min/max of raw values are integers; the sums of x and (x - mean)² are
 * PcFix sums (each customer's addend truncated to 2^-64, then integer
 * addition, then ops->sum_fix), which are order-free. No MPI, no HDF5:
 * other ranks through PcCommOps only.
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
  m->n_ch = names->channels ? names->channels->n : 0;
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
  return m->f[f].kind == FEAT_CHANNELS ? (double)raw : pc_model_log1p(m, raw);
}

void pc_model_rowbuf_init(RowBuf *b, guint d) {
  b->ks = g_new(guint, d);
  b->xs = g_new(double, d);
}

void pc_model_rowbuf_clear(RowBuf *b) {
  g_free(b->ks);
  g_free(b->xs);
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

/* The facts of the training rows, global after std_count(): cnt holds
 * n_train, n_test, n_pos, the nonzero count of every feature, and the
 * histogram of every feature's raw values below H (hist[f·H + v]); lo/hi
 * the min/max of nonzero raw values; fx the PcFix sums: [0, d) x over the
 * raw values ≥ H (rare: ≥ 1024 events of a kind), [d, 2d) x over the
 * customers with y = 1, [2d, 2d + G) the Gram matrix Σ x_f·x_g (f ≤ g, in
 * units of 2^-gram_scale, from int64 partials). A histogram is exact and
 * merges by integer addition, and the moments then follow from it in value
 * order. The Gram matrix and the sums over y = 1 give the first Newton
 * evaluation without a pass of its own (model_fit.c). */
typedef struct {
  guint d, H;
  size_t G;                  /* d(d+1)/2 */
  int64_t *cnt, *nnz, *hist; /* nnz, hist point into cnt */
  int64_t *lo, *hi;
  PcFix *fx;
  GArray *big;               /* Pair (feature, raw) of this rank's raw values ≥ H */
  int64_t *gpart;            /* the Gram's partial sums */
  double gunit;              /* 2^gram_scale */
  guint rows;                /* rows in gpart */
} StdFacts;

/* Zeroed facts of the sizes of proto (d, H, G, gunit). */
static void facts_alloc(StdFacts *t, const StdFacts *proto) {
  guint d = proto->d;
  *t = (StdFacts){.d = d, .H = proto->H, .G = proto->G, .gunit = proto->gunit};
  t->cnt = g_new0(int64_t, 3 + d + (size_t)d * t->H);
  t->nnz = t->cnt + 3;
  t->hist = t->nnz + d;
  t->lo = g_new(int64_t, d);
  t->hi = g_new(int64_t, d);
  t->fx = g_new0(PcFix, 2 * d + t->G);
  t->gpart = g_new0(int64_t, t->G);
  t->big = g_array_new(FALSE, FALSE, sizeof(Pair));
  for (guint f = 0; f < d; f++) t->lo[f] = INT64_MAX, t->hi[f] = INT64_MIN;
}

/* The sizes, the Gram's layout and its scale: set before the pass, from a
 * bound on x known to every rank: ln(1 + 2^32) for a count or a length,
 * the number of channel names for channels. Products below
 * 2^(62 - PC_MODEL_FLUSH_LOG2), as in model_fit.c. */
static void facts_init(StdFacts *t, Model *m) {
  guint d = m->d;
  m->tri_d = g_new(size_t, d);
  for (guint f = 0; f < d; f++) /* (f, g ≥ f) at tri_d[f] + g */
    m->tri_d[f] = (size_t)f * d - (size_t)f * (f + 1) / 2;
  double xb = MAX(log1p(4294967295.0), (double)m->n_ch);
  int e;
  frexp(xb * xb, &e); /* xb² < 2^e */
  m->gram_scale = 62 - PC_MODEL_FLUSH_LOG2 - e;
  StdFacts proto = {.d = d, .G = (size_t)d * (d + 1) / 2,
                    .H = CLAMP(PC_MODEL_HIST_CELLS / d, 2u, (guint)PC_MODEL_LOGTAB),
                    .gunit = ldexp(1.0, m->gram_scale)};
  facts_alloc(t, &proto);
}

/* Adds a thread's facts into t (integers: order-free). */
static void facts_merge(StdFacts *t, const StdFacts *o) {
  guint d = t->d;
  for (size_t k = 0; k < 3 + d + (size_t)d * t->H; k++) t->cnt[k] += o->cnt[k];
  for (guint f = 0; f < d; f++) {
    t->lo[f] = MIN(t->lo[f], o->lo[f]);
    t->hi[f] = MAX(t->hi[f], o->hi[f]);
  }
  for (size_t k = 0; k < 2 * d + t->G; k++) t->fx[k] += o->fx[k];
  g_array_append_vals(t->big, o->big->data, o->big->len);
}

static void facts_clear(StdFacts *t) {
  g_free(t->cnt);
  g_free(t->lo);
  g_free(t->hi);
  g_free(t->fx);
  g_free(t->gpart);
  g_array_unref(t->big);
}

static void gram_flush(StdFacts *t) {
  PcFix *g = t->fx + 2 * (size_t)t->d;
  for (size_t k = 0; k < t->G; k++) {
    g[k] += t->gpart[k];
    t->gpart[k] = 0;
  }
  t->rows = 0;
}

/* One training row (its n nonzero features fi, raw; xs: scratch) into the
 * facts. */
static void facts_row(const Model *m, StdFacts *t, const Row *row,
                      const guint *fi, const guint32 *raw, double *xs,
                      guint n) {
  PcFix *pos = t->fx + t->d;
  t->cnt[2] += row->y;
  for (guint k = 0; k < n; k++) {
    guint f = fi[k];
    t->nnz[f]++;
    t->lo[f] = MIN(t->lo[f], (int64_t)raw[k]);
    t->hi[f] = MAX(t->hi[f], (int64_t)raw[k]);
    xs[k] = feature_x(m, f, raw[k]);
    if (raw[k] < t->H) {
      t->hist[(size_t)f * t->H + raw[k]]++;
    } else {
      t->fx[f] += pc_model_fix(xs[k]);
      g_array_append_val(t->big, ((Pair){f, raw[k]}));
    }
    if (row->y) pos[f] += pc_model_fix(xs[k]);
  }
  for (guint a = 0; a < n; a++) { /* fi ascending: f ≤ g */
    int64_t *g = t->gpart + m->tri_d[fi[a]];
    double xa = xs[a] * t->gunit;
#pragma GCC unroll 4
    for (guint b = a; b < n; b++) g[fi[b]] += (int64_t)(xa * xs[b]);
  }
  if (++t->rows == 1u << PC_MODEL_FLUSH_LOG2) gram_flush(t);
}

/* The pass over the rows (OpenMP threads, each with its own facts, merged
 * as integers), then the global sums (collective). */
static gboolean std_count(Model *m, StdFacts *t, GError **error) {
  const PcModelRows *r = m->rows;
  guint d = m->d;
  const gint64 nrows = r->rows->len;
#pragma omp parallel
  {
    StdFacts mine;
    facts_alloc(&mine, t);
    guint *fi = g_new(guint, d);
    guint32 *raw = g_new(guint32, d);
    double *xs = g_new(double, d);
#pragma omp for schedule(static)
    for (gint64 i = 0; i < nrows; i++) {
      const Row *row = pc_model_row_at(r, (size_t)i);
      mine.cnt[row->test ? 1 : 0]++;
      if (row->test) continue;
      guint n = row_features(m, r, row, fi, raw);
      facts_row(m, &mine, row, fi, raw, xs, n);
    }
    gram_flush(&mine);
#pragma omp critical(pc_model_facts)
    facts_merge(t, &mine);
    facts_clear(&mine);
    g_free(fi);
    g_free(raw);
    g_free(xs);
  }
  if (!m->ops->sum_i64(m->ops->ctx, t->cnt, 3 + d + (size_t)d * t->H, error))
    return FALSE;
  m->n_train = t->cnt[0];
  m->n_test = t->cnt[1];
  m->n_pos = t->cnt[2];
  return minmax_allreduce(m, t->lo, t->hi, d, error) &&
         m->ops->sum_fix(m->ops->ctx, t->fx, 2 * d + t->G, error);
}

/* Σ(x - mean)² over the raw values ≥ H into t->fx[0, d), from this rank's
 * list of them (collective: a sum over ranks, also when no rank has any). */
static gboolean std_big_squares(Model *m, StdFacts *t, GError **error) {
  memset(t->fx, 0, m->d * sizeof *t->fx); /* [0, d) only */
  for (guint i = 0; i < t->big->len; i++) {
    const Pair *p = &g_array_index(t->big, Pair, i); /* (feature, raw) */
    double dx = feature_x(m, p->ev, p->count) - m->f[p->ev].mean;
    t->fx[p->ev] += pc_model_fix(dx * dx);
  }
  return m->ops->sum_fix(m->ops->ctx, t->fx, m->d, error);
}

/* Training mean (power 1) or Σ(x - mean)² (power 2) of feature f from its
 * histogram, in value order, plus the PcFix part over large values. */
static double std_moment(const Model *m, const StdFacts *t, guint f,
                         int power) {
  const int64_t *h = t->hist + (size_t)f * t->H;
  double s = 0, mu = m->f[f].mean;
  for (guint v = 1; v < t->H; v++) {
    if (!h[v]) continue;
    double x = feature_x(m, f, v);
    s += (double)h[v] * (power == 1 ? x : (x - mu) * (x - mu));
  }
  return s + pc_fix_to_double(t->fx[f]);
}

/* The scales of the fit's int64 partial sums (model_fit.c), from xmax,
 * the largest x of a kept feature, taken from the global integer maxima so
 * that every rank derives the same (x ≤ ln(1 + 2^32) but for channels).
 * Hessian: every addend is at most max(1, xmax)² (q·x·x ≤ xmax²/4,
 * q·x ≤ xmax/4, q ≤ 1/4), so with 2^scale ≤ 2^(62 - PC_MODEL_FLUSH_LOG2) /
 * that bound, 2^PC_MODEL_FLUSH_LOG2 scaled addends fit an int64 (with 20
 * channels a resolution of 2^-41 a product). Gradient: |r·x| ≤ max(1, xmax)
 * < 2^e, and gscale = 62 - PC_MODEL_FLUSH_LOG2 - e bounds its high part
 * the same way; the low part is below 2^(64 - gscale) ≤ 2^46. */
static void std_scale(Model *m, const int64_t *hi) {
  double xmax = 1;
  for (guint f = 0; f < m->d; f++)
    if (m->f[f].kept >= 0)
      xmax = MAX(xmax, feature_x(m, f, (guint32)hi[f]));
  int e;
  frexp(xmax * xmax, &e); /* xmax² < 2^e */
  m->scale = 62 - PC_MODEL_FLUSH_LOG2 - e;
  m->unit = ldexp(1.0, m->scale);
  m->unit_inv = ldexp(1.0, 64 - m->scale);
  frexp(xmax, &e); /* xmax < 2^e */
  m->gscale = 62 - PC_MODEL_FLUSH_LOG2 - e;
  m->gunit = ldexp(1.0, m->gscale);
  m->gfrac_unit = ldexp(1.0, 64 - m->gscale);
  m->tri_base = g_new(size_t, m->dk + 1);
  for (guint k = 0; k < m->dk; k++) /* tri(k, l) = tri_base[k] + l */
    m->tri_base[k] = (size_t)k * m->dk - (size_t)k * (k + 1) / 2;
}

/* Drops the constant features (exact test on the integer raw values),
 * numbers the kept ones and copies their mean and sd. */
static void std_keep(Model *m, const int64_t *nnz, const int64_t *lo,
                     const int64_t *hi) {
  m->dk = 0;
  for (guint f = 0; f < m->d; f++) {
    Feature *F = &m->f[f];
    F->dropped = nnz[f] == 0 || (nnz[f] == m->n_train && lo[f] == hi[f]) ||
                 !(F->sd > 0);
    F->kept = F->dropped ? -1 : (gint)m->dk++;
  }
  m->mean_k = g_new(double, m->dk + 1);
  m->sd_k = g_new(double, m->dk + 1);
  m->ev_k = g_new(gint, m->n_ev + 1);
  for (guint e = 0; e < m->n_ev; e++)
    m->ev_k[e] = m->ev_feat[e] >= 0 ? m->f[m->ev_feat[e]].kept : -1;
  m->k_chan = m->f[0].kept;      /* "channels" first, "length" last */
  m->k_len = m->f[m->d - 1].kept;
  for (guint f = 0; f < m->d; f++)
    if (m->f[f].kept >= 0) {
      m->mean_k[m->f[f].kept] = m->f[f].mean;
      m->sd_k[m->f[f].kept] = m->f[f].sd;
    }
  std_scale(m, hi);
}

/* Training mean and population sd of every feature, dropped features,
 * scale of the sums. */
static gboolean model_standardize(Model *m, GError **error) {
  guint d = m->d;
  StdFacts t;
  facts_init(&t, m);
  gboolean ok = std_count(m, &t, error);
  if (ok && m->n_train == 0) {
    pc_set_error(error, PC_ERROR_CONVERGE, "model: no training customer");
    ok = FALSE;
  }
  m->sx = g_new0(double, d);
  for (guint f = 0; ok && f < d; f++) {
    m->sx[f] = std_moment(m, &t, f, 1);
    m->f[f].mean = m->sx[f] / (double)m->n_train;
  }
  ok = ok && std_big_squares(m, &t, error);
  for (guint f = 0; ok && f < d; f++) {
    Feature *F = &m->f[f];
    double zeros = (double)(m->n_train - t.nnz[f]);
    F->sd = sqrt((std_moment(m, &t, f, 2) + zeros * F->mean * F->mean) /
                 (double)m->n_train);
  }
  if (ok) std_keep(m, t.nnz, t.lo, t.hi);
  m->start_fx = g_steal_pointer(&t.fx); /* for the first evaluation */
  facts_clear(&t);
  return ok;
}

gboolean pc_model_setup(Model *m, const PcModelRows *rows,
                        const PcNames *names, const PcTarget *target,
                        double lambda, const PcCommOps *ops, GError **error) {
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
  g_free(m->ev_k);
  g_free(m->mean_k);
  g_free(m->sd_k);
  g_free(m->tri_base);
  g_free(m->tri_d);
  g_free(m->sx);
  g_free(m->start_fx);
  memset(m, 0, sizeof *m);
}
