/* model_report.c - what the fitted outcome model of spec §7 reports: test
 * scores, the ROC curve and AUC, the at-risk list (a top-n heap per rank,
 * merged on rank 0), the tables model, model_summary, roc, scores and
 * at_risk of spec §10, and the public entry pc_model_fit(). Outputs are
 * sorted by keys, never by arrival order. No MPI, no HDF5.
 */
#include "model_int.h"

/* ---- AUC and ROC ------------------------------------------------------------------ */

/* score[0..n) descending, with outcomes y. Walks the tie groups;
 * optionally appends the ROC rows. AUC·P·N counted in halves, as an exact
 * integer. */
static double roc_walk(const double *score, const guint8 *y, size_t n,
                       PcTable *roc) {
  uint64_t P = 0, Nn = 0;
  for (size_t i = 0; i < n; i++) {
    if (y[i]) P++;
    else Nn++;
  }
  uint64_t tp = 0, fp = 0, halves = 0;
  for (size_t i = 0; i < n;) {
    uint64_t pg = 0, ng = 0;
    size_t k = i;
    for (; k < n && score[k] == score[i]; k++) {
      if (y[k]) pg++;
      else ng++;
    }
    tp += pg;
    fp += ng;
    halves += 2 * pg * (Nn - fp) + pg * ng;
    if (roc) {
      pc_table_add_row(roc);
      pc_table_set_double(roc, 0, score[i]);
      pc_table_set_double(roc, 1, (double)fp / (double)Nn);
      pc_table_set_double(roc, 2, (double)tp / (double)P);
    }
    i = k;
  }
  if (P == 0 || Nn == 0) return NAN;
  return (double)halves / (2.0 * (double)P * (double)Nn);
}

/* ROC rows (roc may be NULL) and AUC of the scored records s[0..n). */
static double roc_of(const Scored *s, size_t n, PcTable *roc) {
  double *score = g_new(double, n ? n : 1);
  guint8 *y = g_new(guint8, n ? n : 1);
  pc_model_scores_desc(s, n, score, y);
  double auc = roc_walk(score, y, n, roc);
  g_free(score);
  g_free(y);
  return auc;
}

double pc_model_auc(const double *score, const guint8 *y, size_t n) {
  Scored *s = g_new0(Scored, n ? n : 1);
  for (size_t i = 0; i < n; i++) s[i].score = score[i], s[i].y = y[i] ? 1 : 0;
  double auc = roc_of(s, n, NULL);
  g_free(s);
  return auc;
}

/* ---- Scores, at-risk list, tables ------------------------------------------------- */

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

/* Final pass: every row's score. Test rows go to *test (records, sorted by
 * id here, so that rank 0 only merges the ranks' runs) and add their
 * log-loss to *test_loss; y = 0 rows compete for this rank's top_n. */
static void model_score(const Model *m, const double *theta, guint64 top_n,
                        GByteArray *test, PcFix *test_loss, GByteArray *risk) {
  const PcModelRows *r = m->rows;
  size_t n = r->rows->len;
  double *v = g_new(double, m->dk + 1), c;
  double *z = g_new(double, n ? n : 1);
  pc_model_linear(m, theta, v, &c);
#pragma omp parallel
  {
    RowBuf b;
    guint k;
    pc_model_rowbuf_init(&b, m->d);
#pragma omp for schedule(static)
    for (gint64 i = 0; i < (gint64)n; i++)
      z[i] = pc_model_row_z(m, pc_model_row_at(r, (size_t)i), &b, v, c, &k);
    pc_model_rowbuf_clear(&b);
  }
  size_t cap = (size_t)MIN(top_n, (guint64)n), hn = 0;
  Scored *heap = g_new(Scored, cap ? cap : 1);
  GArray *tests = g_array_new(FALSE, FALSE, sizeof(Scored));
  for (size_t i = 0; i < n; i++) {
    const Row *row = pc_model_row_at(r, i);
    Scored s = {(const char *)r->ids->data + row->id_off, row->id_len, row->y,
                pc_model_sigmoid(z[i])};
    if (row->test) {
      double loss, rr, q;
      pc_model_logistic_terms(z[i], row->y, &loss, &rr, &q);
      *test_loss += pc_model_fix(loss);
      g_array_append_val(tests, s);
    }
    if (!row->y) heap_offer(heap, &hn, cap, s);
  }
  pc_model_sort_by_id((Scored *)(void *)tests->data, tests->len);
  for (guint i = 0; i < tests->len; i++)
    record_put(test, &g_array_index(tests, Scored, i));
  for (size_t i = 0; i < hn; i++) record_put(risk, &heap[i]);
  g_array_unref(tests);
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
  pc_model_merge_by_id(s, n); /* the ranks' runs, each sorted by id */
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
  pc_model_sort_n(s, n, sizeof *s, cmp_risk);
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
  double auc = roc_of(t, ts->len, roc);
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

/* Newton's method, then the report; OUT: info (but grad_norms on failure).
 * Collective. */
static gboolean model_solve_report(const Model *m, const PcJobConfig *cfg,
                                   GPtrArray *tables, PcModelInfo *info,
                                   GError **error) {
  double *theta = g_new0(double, m->dk + 1);
  GArray *norms = g_array_new(FALSE, FALSE, sizeof(double));
  GPtrArray *mine = g_ptr_array_new_with_free_func((GDestroyNotify)pc_table_free);
  Eval e;
  pc_model_eval_init(&e, m->dk);
  gint64 t0 = g_get_monotonic_time();
  gboolean ok = pc_model_newton(m, cfg->max_iter, theta, &e, norms, info, error);
  gint64 t1 = g_get_monotonic_time();
  ok = ok && model_report(m, theta, &e, norms->len - 1, cfg->top_n, mine, error);
  info->solve_s = (double)(t1 - t0) / 1e6;
  info->report_s = (double)(g_get_monotonic_time() - t1) / 1e6;
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
  pc_model_eval_clear(&e);
  g_free(theta);
  return ok;
}

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
  PcModelInfo mine = {0};
  gint64 t0 = g_get_monotonic_time();
  Model m;
  gboolean ok = pc_model_setup(&m, rows, names, target, cfg->lambda, ops, error);
  mine.setup_s = (double)(g_get_monotonic_time() - t0) / 1e6;
  ok = ok && model_solve_report(&m, cfg, tables, &mine, error);
  if (ok) *info = mine;
  pc_model_clear(&m);
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
  gboolean ok = pc_model_setup(&m, rows, names, target, lambda, ops, error);
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
    pc_model_eval_init(&e, m.dk);
    ok = pc_model_eval(&m, th, FALSE, &e, error);
    if (ok) {
      *obj = e.obj;
      grad[0] = e.g[0];
      for (guint f = 0; f < m.d; f++)
        grad[1 + f] = m.f[f].kept >= 0 ? e.g[1 + m.f[f].kept] : 0.0;
      if (n_features) *n_features = m.d;
    }
    pc_model_eval_clear(&e);
    g_free(th);
  }
  pc_model_clear(&m);
  return ok;
}

