/* test_model.c - CUnit cases for model.c (spec §7): hashing and fixed point,
 * AUC with ties, the objective against finite differences, dropping of
 * constant features, the optimum against an independent gradient-descent
 * fit, the tables' orders, errors, and bit-identical results for any split
 * of rows between instances and any number of (simulated) ranks. */
#include "pc_modelfix.h"

#include <math.h>
#include <stdio.h>

/* ---- Fixtures ---------------------------------------------------------------- */

/* n customers of 1..8 events over A..D and three channels; T follows with
 * a probability that grows with A and falls with C: signal plus noise, not
 * separable. */
static void fixture_synthetic(Fixture *f, guint n) {
  guint32 s = 12345;
  for (guint c = 0; c < n; c++) {
    guint ch[10], ev[10], len = 1 + lcg(&s) % 8, na = 0, nc = 0;
    for (guint i = 0; i < len; i++) {
      ev[i] = lcg(&s) % 4;
      ch[i] = lcg(&s) % 3;
      na += ev[i] == EV_A;
      nc += ev[i] == EV_C;
    }
    int score = 2 * (int)na - 2 * (int)nc + (int)(lcg(&s) % 7) - 3;
    if (score > 0) ch[len] = CH_WEB, ev[len++] = EV_T;
    char id[16];
    g_snprintf(id, sizeof id, "c%03u", (c * 37) % n);
    fixture_add(f, id, ch, ev, len);
  }
}

/* ---- Hashing, fixed point, AUC --------------------------------------------------- */

static void test_fnv1a64(void) {
  CU_ASSERT_EQUAL(pc_fnv1a64("", 0), UINT64_C(0xcbf29ce484222325));
  CU_ASSERT_EQUAL(pc_fnv1a64("a", 1), UINT64_C(0xaf63dc4c8601ec8c));
  CU_ASSERT_EQUAL(pc_fnv1a64("foobar", 6), UINT64_C(0x85944171f73967e8));
}

static void test_fix_roundtrip(void) {
  /* |x| >= 2^-11: all 53 mantissa bits fit in 64 fractional bits, exact. */
  const double xs[] = {0.0, 1.0, -1.0, 0.5, 0.1, -2.75, 0.001, 123456.789,
                       -9.87654321e12, 4.0e18};
  for (size_t i = 0; i < G_N_ELEMENTS(xs); i++)
    CU_ASSERT_EQUAL(pc_fix_to_double(pc_fix_from_double(xs[i])), xs[i]);
  /* Smaller: rounded to the nearest 2^-64, the same way every time. */
  const double small[] = {1e-6, -3.0e-19, 1e-25};
  for (size_t i = 0; i < G_N_ELEMENTS(small); i++)
    CU_ASSERT_DOUBLE_EQUAL(pc_fix_to_double(pc_fix_from_double(small[i])),
                           small[i], ldexp(1, -65));
  CU_ASSERT(pc_fix_from_double(1e-25) == 0);
  /* Exactly 2^64 * x for these: integer sums of them are exact. */
  CU_ASSERT(pc_fix_from_double(1.0) == ((PcFix)1 << 64));
  CU_ASSERT(pc_fix_from_double(-0.25) == -((PcFix)1 << 62));
  /* Sum order cannot matter: forward and backward sums are equal bits,
   * while the same double sums differ. */
  const double v[] = {1e16, 1.0, -1e16, 0.1, 0.2, 0.3};
  PcFix fw = 0, bw = 0;
  double dfw = 0, dbw = 0;
  for (size_t i = 0; i < G_N_ELEMENTS(v); i++) {
    fw += pc_fix_from_double(v[i]);
    bw += pc_fix_from_double(v[G_N_ELEMENTS(v) - 1 - i]);
    dfw += v[i];
    dbw += v[G_N_ELEMENTS(v) - 1 - i];
  }
  CU_ASSERT(fw == bw);
  CU_ASSERT(dfw != dbw);
  CU_ASSERT_DOUBLE_EQUAL(pc_fix_to_double(fw), 1.6, 1e-15);
}

static void test_auc_ties(void) {
  /* Positives 0.9, 0.8, 0.3; negatives 0.8, 0.3, 0.1. Wins over the 9
   * pairs: 0.9 -> 3; 0.8 -> 2 + 1/2; 0.3 -> 1 + 1/2: 7/9. */
  const double s[] = {0.3, 0.8, 0.1, 0.9, 0.3, 0.8};
  const guint8 y[] = {1, 0, 0, 1, 0, 1};
  CU_ASSERT_DOUBLE_EQUAL(pc_model_auc(s, y, 6), 7.0 / 9.0, 1e-15);
  /* All tied: 1/2. Perfect: 1. Reversed: 0. */
  const double t[] = {0.5, 0.5, 0.5, 0.5};
  const guint8 ty[] = {1, 0, 1, 0};
  CU_ASSERT_EQUAL(pc_model_auc(t, ty, 4), 0.5);
  const double p[] = {0.9, 0.2, 0.8, 0.1};
  const guint8 py[] = {1, 0, 1, 0}, ny[] = {0, 1, 0, 1};
  CU_ASSERT_EQUAL(pc_model_auc(p, py, 4), 1.0);
  CU_ASSERT_EQUAL(pc_model_auc(p, ny, 4), 0.0);
  /* No negatives, no positives, nothing: nan. */
  const guint8 ones[] = {1, 1, 1, 1}, zeros[] = {0, 0, 0, 0};
  CU_ASSERT_TRUE(isnan(pc_model_auc(p, ones, 4)));
  CU_ASSERT_TRUE(isnan(pc_model_auc(p, zeros, 4)));
  CU_ASSERT_TRUE(isnan(pc_model_auc(NULL, NULL, 0)));
}

/* ---- Objective ------------------------------------------------------------------- */

/* The gradient of pc_model_objective against central differences. */
static void test_loss_gradient_fd(void) {
  Fixture f;
  fixture_init(&f);
  fixture_synthetic(&f, 200);
  PcModelRows *r = pc_model_rows_new(&f.names, &f.target);
  for (guint c = 0; c < f.ids->len; c++) fixture_row(&f, c, r);
  /* channels, event:A..D, length */
  double th[7] = {-0.3, 0.4, 0.7, -0.2, -0.9, 0.1, 0.25}, g[7], gh[7], obj;
  guint d = 0;
  GError *err = NULL;
  CU_ASSERT_TRUE_FATAL(pc_model_objective(r, &f.names, &f.target, 0.01,
                                          pc_commops_serial(), th, 7, &obj, g,
                                          &d, &err));
  CU_ASSERT_EQUAL(d, 6);
  CU_ASSERT_TRUE(obj > 0 && obj < 2);
  const double h = 1e-5;
  for (guint i = 0; i < 7; i++) {
    double tp[7], tm[7], op, om;
    memcpy(tp, th, sizeof th);
    memcpy(tm, th, sizeof th);
    tp[i] += h;
    tm[i] -= h;
    CU_ASSERT_TRUE_FATAL(pc_model_objective(r, &f.names, &f.target, 0.01,
                                            pc_commops_serial(), tp, 7, &op,
                                            gh, NULL, &err));
    CU_ASSERT_TRUE_FATAL(pc_model_objective(r, &f.names, &f.target, 0.01,
                                            pc_commops_serial(), tm, 7, &om,
                                            gh, NULL, &err));
    CU_ASSERT_DOUBLE_EQUAL(g[i], (op - om) / (2 * h), 1e-8);
  }
  /* Wrong length: an error, not a crash. */
  CU_ASSERT_FALSE(pc_model_objective(r, &f.names, &f.target, 0.01,
                                     pc_commops_serial(), th, 6, &obj, g, NULL,
                                     &err));
  CU_ASSERT_PTR_NOT_NULL(err);
  g_clear_error(&err);
  pc_model_rows_free(r);
  fixture_clear(&f);
}

/* Independent fit for test_optimum: dense features recomputed from the
 * journeys, standardized in long double, plain gradient descent with step
 * 1/L until the gradient is below 1e-13. */
static void independent_fit(const double *X, const int *y, int n, int d,
                            double lambda, double *theta) {
  long double mu[8] = {0}, sd[8] = {0};
  int nt = 0;
  for (int i = 0; i < n; i++) nt++;
  for (int j = 0; j < d; j++) {
    for (int i = 0; i < n; i++) mu[j] += X[i * d + j];
    mu[j] /= nt;
    for (int i = 0; i < n; i++) sd[j] += (X[i * d + j] - mu[j]) * (X[i * d + j] - mu[j]);
    sd[j] = sqrtl(sd[j] / nt);
  }
  double *Z = g_new(double, (size_t)n * d);
  for (int i = 0; i < n; i++)
    for (int j = 0; j < d; j++) Z[i * d + j] = (double)((X[i * d + j] - mu[j]) / sd[j]);
  double L = 0.25 * (1 + d) + lambda; /* ≥ the largest Hessian eigenvalue */
  for (int j = 0; j <= d; j++) theta[j] = 0;
  for (int it = 0; it < 2000000; it++) {
    long double g[8] = {0};
    for (int i = 0; i < n; i++) {
      double z = theta[0];
      for (int j = 0; j < d; j++) z += theta[1 + j] * Z[i * d + j];
      double r = 1 / (1 + exp(-z)) - y[i];
      g[0] += r;
      for (int j = 0; j < d; j++) g[1 + j] += r * Z[i * d + j];
    }
    double gmax = 0;
    for (int j = 0; j <= d; j++) {
      g[j] = g[j] / n + (j ? lambda * theta[j] : 0);
      gmax = fmax(gmax, fabs((double)g[j]));
    }
    if (gmax < 1e-13) break;
    for (int j = 0; j <= d; j++) theta[j] -= (double)(g[j] / L);
  }
  g_free(Z);
}

/* 40 training customers on one channel (channels constant, dropped) with
 * events A and B; the fit's coefficients equal an independent fit's. */
static void test_optimum(void) {
  Fixture f;
  fixture_init(&f);
  guint32 s = 777;
  double X[40 * 3];
  int Y[40], n = 0;
  for (guint c = 0; n < 40; c++) {
    char id[16];
    g_snprintf(id, sizeof id, "u%u", c);
    if (pc_fnv1a64(id, strlen(id)) % 5 == 0) continue; /* training only */
    guint a = lcg(&s) % 4, b = lcg(&s) % 3, ch[12], ev[12], len = 0;
    for (guint i = 0; i < a; i++) ch[len] = CH_WEB, ev[len++] = EV_A;
    for (guint i = 0; i < b; i++) ch[len] = CH_WEB, ev[len++] = EV_B;
    if (len == 0) ch[len] = CH_WEB, ev[len++] = EV_D; /* keep channels = 1 */
    int y = (int)a - (int)b + (int)(lcg(&s) % 5) - 2 > 0;
    if (y) ch[len] = CH_WEB, ev[len++] = EV_T;
    fixture_add(&f, id, ch, ev, len);
    size_t pre = len - (size_t)y;
    X[n * 3 + 0] = log1p(a);
    X[n * 3 + 1] = log1p(b);
    X[n * 3 + 2] = log1p((double)pre);
    Y[n++] = y;
  }
  /* Event D occurs in some journeys: a 4th feature of the fit; give the
   * independent fit the same column. */
  double X4[40 * 4];
  for (int i = 0; i < n; i++) {
    PcJourney j = fixture_journey(&f, i);
    double dcount = j.ev[0].event == EV_D ? 1 : 0;
    X4[i * 4 + 0] = X[i * 3 + 0];
    X4[i * 4 + 1] = X[i * 3 + 1];
    X4[i * 4 + 2] = log1p(dcount);
    X4[i * 4 + 3] = X[i * 3 + 2];
  }
  double want[5];
  independent_fit(X4, Y, n, 4, 0.05, want);

  PcModelRows *r = pc_model_rows_new(&f.names, &f.target);
  for (int c = 0; c < n; c++) fixture_row(&f, c, r);
  PcJobConfig cfg = config(0.05, 10);
  PcModelInfo info = {0};
  GPtrArray *t = fit_serial(&f, r, &cfg, &info);
  const PcTable *m = table_get(t, "model");
  CU_ASSERT_PTR_NOT_NULL_FATAL(m);
  /* (intercept), channels, event:A, event:B, event:C, event:D, length */
  CU_ASSERT_EQUAL_FATAL(pc_table_nrows(m), 7);
  const char *terms[] = {"(intercept)", "channels", "event:A", "event:B",
                         "event:C", "event:D", "length"};
  const int dropped[] = {0, 1, 0, 0, 1, 0, 0};
  const int map[] = {0, -1, 1, 2, -1, 3, 4}; /* into want */
  for (guint i = 0; i < 7; i++) {
    CU_ASSERT_STRING_EQUAL(pc_table_get_string(m, i, 0), terms[i]);
    CU_ASSERT_EQUAL(pc_table_get_int(m, i, 2), dropped[i]);
    double got = pc_table_get_double(m, i, 1);
    if (map[i] < 0) {
      CU_ASSERT_EQUAL(got, 0.0);
    } else {
      CU_ASSERT_DOUBLE_EQUAL(got, want[map[i]], 1e-8);
    }
  }
  CU_ASSERT_TRUE(info.grad_norm < 1e-9);
  CU_ASSERT_EQUAL(info.grad_norms[info.iterations], info.grad_norm);
  CU_ASSERT_TRUE(info.iterations >= 1);
  const PcTable *sum = table_get(t, "model_summary");
  CU_ASSERT_EQUAL(pc_table_get_double(sum, 0, 1), 40.0); /* n_train */
  CU_ASSERT_EQUAL(pc_table_get_double(sum, 1, 1), 0.0);  /* n_test */
  CU_ASSERT_EQUAL(pc_table_get_double(sum, 2, 1), 6.0);  /* features */
  CU_ASSERT_TRUE(isnan(pc_table_get_double(sum, 6, 1))); /* test_logloss */
  CU_ASSERT_TRUE(isnan(pc_table_get_double(sum, 7, 1))); /* test_auc */
  CU_ASSERT_EQUAL(pc_table_nrows(table_get(t, "roc")), 0);
  pc_model_info_clear(&info);
  g_ptr_array_unref(t);
  pc_model_rows_free(r);
  fixture_clear(&f);
}

/* A column constant over the training rows is dropped (coefficient 0,
 * gradient 0), even when it is not constant over the test rows. */
static void test_constant_dropped(void) {
  Fixture f;
  fixture_init(&f);
  guint32 s = 99;
  for (guint c = 0; c < 60; c++) {
    char id[16];
    g_snprintf(id, sizeof id, "k%u", c);
    gboolean test = pc_fnv1a64(id, strlen(id)) % 5 == 0;
    guint ch[8], ev[8], len = 0, a = lcg(&s) % 3;
    ch[len] = CH_APP, ev[len++] = EV_C; /* C once: constant in training */
    if (test) ch[len] = CH_APP, ev[len++] = EV_C; /* twice in test */
    for (guint i = 0; i < a; i++) ch[len] = CH_APP, ev[len++] = EV_A;
    if (lcg(&s) % 3 == 0) ch[len] = CH_APP, ev[len++] = EV_B;
    if ((int)a + (int)(lcg(&s) % 3) > 2) ch[len] = CH_SMS, ev[len++] = EV_T;
    fixture_add(&f, id, ch, ev, len);
  }
  PcModelRows *r = pc_model_rows_new(&f.names, &f.target);
  for (guint c = 0; c < f.ids->len; c++) fixture_row(&f, c, r);
  PcJobConfig cfg = config(1e-3, 5);
  PcModelInfo info = {0};
  GPtrArray *t = fit_serial(&f, r, &cfg, &info);
  const PcTable *m = table_get(t, "model");
  /* channels: always 1 (app) before T -> dropped; event:C dropped;
   * event:D never occurs -> dropped. */
  const char *terms[] = {"(intercept)", "channels", "event:A", "event:B",
                         "event:C", "event:D", "length"};
  const int dropped[] = {0, 1, 0, 0, 1, 1, 0};
  CU_ASSERT_EQUAL_FATAL(pc_table_nrows(m), 7);
  for (guint i = 0; i < 7; i++) {
    CU_ASSERT_STRING_EQUAL(pc_table_get_string(m, i, 0), terms[i]);
    CU_ASSERT_EQUAL(pc_table_get_int(m, i, 2), dropped[i]);
    if (dropped[i]) {
      CU_ASSERT_EQUAL(pc_table_get_double(m, i, 1), 0.0);
    } else {
      CU_ASSERT_NOT_EQUAL(pc_table_get_double(m, i, 1), 0.0);
    }
  }
  double th[7] = {0.1, 5, 0.2, 0.3, 7, 9, 0.4}, g[7], obj, th2[7];
  memcpy(th2, th, sizeof th);
  th2[1] = th2[4] = th2[5] = 0; /* dropped values are ignored */
  double obj2, g2[7];
  GError *err = NULL;
  CU_ASSERT_TRUE(pc_model_objective(r, &f.names, &f.target, 1e-3,
                                    pc_commops_serial(), th, 7, &obj, g, NULL,
                                    &err));
  CU_ASSERT_TRUE(pc_model_objective(r, &f.names, &f.target, 1e-3,
                                    pc_commops_serial(), th2, 7, &obj2, g2,
                                    NULL, &err));
  CU_ASSERT_EQUAL(obj, obj2);
  CU_ASSERT_EQUAL(g[1], 0.0);
  CU_ASSERT_EQUAL(g[4], 0.0);
  CU_ASSERT_EQUAL(g[5], 0.0);
  pc_model_info_clear(&info);
  g_ptr_array_unref(t);
  pc_model_rows_free(r);
  fixture_clear(&f);
}

/* ---- Tables ------------------------------------------------------------------------ */

/* Orders of scores (id asc), roc (threshold desc, distinct), at_risk (score
 * desc, id asc, y = 0 only, top_n rows, train and test customers). */
static void test_table_orders(void) {
  Fixture f;
  fixture_init(&f);
  fixture_synthetic(&f, 300);
  PcModelRows *r = pc_model_rows_new(&f.names, &f.target);
  for (guint c = 0; c < f.ids->len; c++) fixture_row(&f, c, r);
  PcJobConfig cfg = config(1e-3, 25);
  PcModelInfo info = {0};
  GPtrArray *t = fit_serial(&f, r, &cfg, &info);
  const char *names[] = {"model", "model_summary", "roc", "scores", "at_risk"};
  CU_ASSERT_EQUAL_FATAL(t->len, 5);
  for (guint i = 0; i < 5; i++)
    CU_ASSERT_STRING_EQUAL(pc_table_name(t->pdata[i]), names[i]);
  const PcTable *sc = table_get(t, "scores"), *roc = table_get(t, "roc"),
                *ar = table_get(t, "at_risk");
  guint ns = pc_table_nrows(sc), n_test = 0, n_pos = 0;
  for (guint c = 0; c < f.ids->len; c++) {
    const char *id = f.ids->pdata[c];
    n_test += pc_fnv1a64(id, strlen(id)) % 5 == 0;
  }
  CU_ASSERT_EQUAL(ns, n_test);
  for (guint i = 0; i < ns; i++) {
    if (i) {
      CU_ASSERT_TRUE(strcmp(pc_table_get_string(sc, i - 1, 0),
                            pc_table_get_string(sc, i, 0)) < 0);
    }
    n_pos += pc_table_get_int(sc, i, 2) == 1;
    double p = pc_table_get_double(sc, i, 1);
    CU_ASSERT_TRUE(p > 0 && p < 1);
  }
  CU_ASSERT_TRUE(n_pos > 0 && n_pos < ns);
  guint nr = pc_table_nrows(roc);
  CU_ASSERT_TRUE(nr >= 1 && nr <= ns);
  for (guint i = 1; i < nr; i++) {
    CU_ASSERT_TRUE(pc_table_get_double(roc, i - 1, 0) > pc_table_get_double(roc, i, 0));
    CU_ASSERT_TRUE(pc_table_get_double(roc, i - 1, 1) <= pc_table_get_double(roc, i, 1));
    CU_ASSERT_TRUE(pc_table_get_double(roc, i - 1, 2) <= pc_table_get_double(roc, i, 2));
  }
  CU_ASSERT_EQUAL(pc_table_get_double(roc, nr - 1, 1), 1.0);
  CU_ASSERT_EQUAL(pc_table_get_double(roc, nr - 1, 2), 1.0);
  CU_ASSERT_EQUAL_FATAL(pc_table_nrows(ar), 25);
  gboolean has_train = FALSE;
  for (guint i = 0; i < 25; i++) {
    CU_ASSERT_EQUAL(pc_table_get_int(ar, i, 0), i + 1);
    const char *id = pc_table_get_string(ar, i, 1);
    has_train |= pc_fnv1a64(id, strlen(id)) % 5 != 0;
    if (!i) continue;
    double a = pc_table_get_double(ar, i - 1, 2), b = pc_table_get_double(ar, i, 2);
    CU_ASSERT_TRUE(a > b || (a == b && strcmp(pc_table_get_string(ar, i - 1, 1), id) < 0));
  }
  CU_ASSERT_TRUE(has_train);
  /* Synthetic journeys repeat: tied scores must have occurred. */
  gboolean tie = FALSE;
  for (guint i = 1; i < 25; i++)
    tie |= pc_table_get_double(ar, i - 1, 2) == pc_table_get_double(ar, i, 2);
  CU_ASSERT_TRUE(tie);
  pc_model_info_clear(&info);
  g_ptr_array_unref(t);
  pc_model_rows_free(r);
  fixture_clear(&f);
}

/* ---- Determinism ---------------------------------------------------------------- */

static void test_split_invariance(void) {
  Fixture f;
  fixture_init(&f);
  fixture_synthetic(&f, 400);
  PcJobConfig cfg = config(1e-3, 50);
  PcModelRows *one = pc_model_rows_new(&f.names, &f.target);
  for (guint c = 0; c < f.ids->len; c++) fixture_row(&f, c, one);
  PcModelInfo i1 = {0}, i2 = {0};
  GPtrArray *t1 = fit_serial(&f, one, &cfg, &i1);

  /* Two instances by a different rule, appended the other way round. */
  PcModelRows *a = pc_model_rows_new(&f.names, &f.target);
  PcModelRows *b = pc_model_rows_new(&f.names, &f.target);
  for (guint c = f.ids->len; c-- > 0;) fixture_row(&f, c, c % 3 ? a : b);
  pc_model_rows_append(b, a);
  CU_ASSERT_EQUAL(pc_model_rows_count(a), 0);
  CU_ASSERT_EQUAL(pc_model_rows_count(b), f.ids->len);
  GPtrArray *t2 = fit_serial(&f, b, &cfg, &i2);
  CU_ASSERT_TRUE(tables_identical(t1, t2));
  CU_ASSERT_EQUAL(i1.iterations, i2.iterations);
  CU_ASSERT_EQUAL(memcmp(i1.grad_norms, i2.grad_norms,
                         (i1.iterations + 1) * sizeof(double)), 0);
  pc_model_info_clear(&i1);
  pc_model_info_clear(&i2);
  g_ptr_array_unref(t1);
  g_ptr_array_unref(t2);
  pc_model_rows_free(one);
  pc_model_rows_free(a);
  pc_model_rows_free(b);
  fixture_clear(&f);
}

/* 1 rank (serial ops) and 3 simulated ranks, rows dealt by a different
 * rule: rank 0's tables are identical bit for bit; other ranks get none. */
static void test_rank_invariance(void) {
  Fixture f;
  fixture_init(&f);
  fixture_synthetic(&f, 500);
  PcJobConfig cfg = config(1e-3, 40);
  PcModelRows *one = pc_model_rows_new(&f.names, &f.target);
  for (guint c = 0; c < f.ids->len; c++) fixture_row(&f, c, one);
  PcModelInfo i1 = {0};
  GPtrArray *t1 = fit_serial(&f, one, &cfg, &i1);

  PcModelInfo i3 = {0};
  GPtrArray *t3 = sim_fit(&f, &cfg, 3, 7, 5, &i3);
  CU_ASSERT_EQUAL(i3.iterations, i1.iterations);
  CU_ASSERT_EQUAL(i3.grad_norm, i1.grad_norm);
  CU_ASSERT_TRUE(tables_identical(t1, t3));
  pc_model_info_clear(&i3);
  g_ptr_array_unref(t3);
  pc_model_info_clear(&i1);
  g_ptr_array_unref(t1);
  pc_model_rows_free(one);
  fixture_clear(&f);
}

/* ---- Errors -------------------------------------------------------------------------- */

static void test_errors(void) {
  Fixture f;
  fixture_init(&f);
  fixture_synthetic(&f, 100);
  PcModelRows *r = pc_model_rows_new(&f.names, &f.target);
  for (guint c = 0; c < f.ids->len; c++) fixture_row(&f, c, r);
  GPtrArray *t = tables_new();
  PcModelInfo info = {0};
  GError *err = NULL;
  PcJobConfig cfg = config(1e-3, 10);
  cfg.max_iter = 1;
  CU_ASSERT_FALSE(pc_model_fit(r, &cfg, &f.names, &f.target,
                               pc_commops_serial(), t, &info, &err));
  CU_ASSERT_TRUE(g_error_matches(err, PC_ERROR, PC_ERROR_CONVERGE));
  CU_ASSERT_EQUAL(t->len, 0);
  CU_ASSERT_PTR_NULL(info.grad_norms);
  g_clear_error(&err);
  cfg = config(1e-3, 10);
  cfg.solver = "lbfgs";
  CU_ASSERT_FALSE(pc_model_fit(r, &cfg, &f.names, &f.target,
                               pc_commops_serial(), t, &info, &err));
  CU_ASSERT_TRUE(g_error_matches(err, PC_ERROR, PC_ERROR_CONFIG));
  g_clear_error(&err);
  /* No rows at all: no training customer. */
  PcModelRows *empty = pc_model_rows_new(&f.names, &f.target);
  cfg = config(1e-3, 10);
  CU_ASSERT_FALSE(pc_model_fit(empty, &cfg, &f.names, &f.target,
                               pc_commops_serial(), t, &info, &err));
  CU_ASSERT_TRUE(g_error_matches(err, PC_ERROR, PC_ERROR_CONVERGE));
  CU_ASSERT_EQUAL(t->len, 0);
  g_clear_error(&err);
  pc_model_rows_free(empty);
  g_ptr_array_unref(t);
  pc_model_rows_free(r);
  fixture_clear(&f);
}

/* Separable data: the penalty keeps the optimum finite, Newton converges. */
static void test_separable(void) {
  Fixture f;
  fixture_init(&f);
  for (guint c = 0; c < 50; c++) {
    char id[16];
    g_snprintf(id, sizeof id, "s%u", c);
    guint ch[3] = {CH_WEB, CH_WEB, CH_WEB}, ev[3] = {EV_B, EV_A, EV_T};
    gboolean y = c % 2;
    guint len = y ? 3 : 1; /* y = 1 iff A before T: perfectly separated */
    fixture_add(&f, id, ch, ev, len);
  }
  PcModelRows *r = pc_model_rows_new(&f.names, &f.target);
  for (guint c = 0; c < f.ids->len; c++) fixture_row(&f, c, r);
  PcJobConfig cfg = config(1e-3, 10);
  PcModelInfo info = {0};
  GPtrArray *t = fit_serial(&f, r, &cfg, &info);
  CU_ASSERT_TRUE(info.grad_norm < 1e-9);
  const PcTable *sum = table_get(t, "model_summary");
  CU_ASSERT_TRUE(pc_table_get_double(sum, 5, 1) < 0.05); /* train_logloss */
  pc_model_info_clear(&info);
  g_ptr_array_unref(t);
  pc_model_rows_free(r);
  fixture_clear(&f);
}

PC_TEST_MAIN("model", {"/model/fnv1a64", test_fnv1a64},
             {"/model/fix_roundtrip", test_fix_roundtrip},
             {"/model/auc_ties", test_auc_ties},
             {"/model/loss_gradient_fd", test_loss_gradient_fd},
             {"/model/optimum", test_optimum},
             {"/model/constant_dropped", test_constant_dropped},
             {"/model/table_orders", test_table_orders},
             {"/model/split_invariance", test_split_invariance},
             {"/model/rank_invariance", test_rank_invariance},
             {"/model/errors", test_errors},
             {"/model/separable", test_separable})
