/* pc_modelfix.h - the model's CUnit fixtures, shared by test_model.c and
 * test_model_fit.c: hand-made customers over events A B C D and the target
 * T (channels app sms web), the fit run serially or on simulated ranks
 * (threads joined by a barrier, sums in rank order, as MPI's reductions of
 * integers give), and a bit-for-bit comparison of the tables. Header-only.
 */
#ifndef PC_MODELFIX_H
#define PC_MODELFIX_H

#include "pc_model.h"
#include "pc_table.h"
#include "pc_test.h"

#define SIM_MAX 8 /* simulated ranks at most */

/* Events A B C D and the target T; channels app sms web (ids = name order). */
enum { EV_A, EV_B, EV_C, EV_D, EV_T, N_EV };
enum { CH_APP, CH_SMS, CH_WEB, N_CH };

typedef struct {
  PcNames names;
  PcTarget target;
  uint32_t target_ev;
  GPtrArray *ids;    /* char * */
  GPtrArray *evs;    /* PcEvent[] */
  GArray *lens;      /* size_t */
} Fixture;

static inline void fixture_init(Fixture *f) {
  char *ev[] = {"A", "B", "C", "D", "T"}, *ch[] = {"app", "sms", "web"};
  memset(f, 0, sizeof *f);
  f->names.events = pc_dict_new_sorted(ev, N_EV);
  f->names.channels = pc_dict_new_sorted(ch, N_CH);
  f->target_ev = EV_T;
  f->target.n = 1;
  f->target.events = &f->target_ev;
  f->ids = g_ptr_array_new_with_free_func(g_free);
  f->evs = g_ptr_array_new_with_free_func(g_free);
  f->lens = g_array_new(FALSE, FALSE, sizeof(size_t));
}

static inline void fixture_clear(Fixture *f) {
  pc_dict_free(f->names.events);
  pc_dict_free(f->names.channels);
  g_ptr_array_unref(f->ids);
  g_ptr_array_unref(f->evs);
  g_array_unref(f->lens);
}

/* One customer: pairs (channel, event) in time order, 1 s apart. */
static inline void fixture_add(Fixture *f, const char *id, const guint *chs,
                        const guint *evs, size_t n) {
  PcEvent *e = g_new0(PcEvent, n ? n : 1);
  for (size_t i = 0; i < n; i++) {
    e[i].ts_us = (int64_t)(i + 1) * 1000000;
    e[i].channel = chs[i];
    e[i].event = evs[i];
  }
  g_ptr_array_add(f->ids, g_strdup(id));
  g_ptr_array_add(f->evs, e);
  g_array_append_val(f->lens, n);
}

static inline PcJourney fixture_journey(const Fixture *f, guint c) {
  PcJourney j = {0};
  j.id = f->ids->pdata[c];
  j.id_len = (uint32_t)strlen(j.id);
  j.id_hash = pc_fnv1a64(j.id, j.id_len);
  j.ev = f->evs->pdata[c];
  j.n = g_array_index(f->lens, size_t, c);
  return j;
}

/* Adds customer c to r, cut by the fixture's target. */
static inline void fixture_row(const Fixture *f, guint c, PcModelRows *r) {
  PcJourney j = fixture_journey(f, c);
  size_t cut;
  gboolean y = pc_target_cut(&f->target, &j, &cut);
  pc_model_rows_add(r, &j, y, cut);
}

static inline guint32 lcg(guint32 *s) {
  *s = *s * 1664525u + 1013904223u;
  return *s >> 8;
}

static inline PcJobConfig config(double lambda, guint64 top_n) {
  PcJobConfig cfg = {0};
  cfg.lambda = lambda;
  cfg.top_n = top_n;
  cfg.max_iter = 100;
  cfg.solver = "newton";
  return cfg;
}

static inline GPtrArray *tables_new(void) {
  return g_ptr_array_new_with_free_func((GDestroyNotify)pc_table_free);
}

static inline const PcTable *table_get(GPtrArray *t, const char *name) {
  for (guint i = 0; i < t->len; i++)
    if (!strcmp(pc_table_name(t->pdata[i]), name)) return t->pdata[i];
  return NULL;
}

/* Fits rows serially; returns the tables (CU asserts the fit succeeded). */
static inline GPtrArray *fit_serial(Fixture *f, PcModelRows *r, PcJobConfig *cfg,
                             PcModelInfo *info) {
  GPtrArray *t = tables_new();
  GError *err = NULL;
  gboolean ok = pc_model_fit(r, cfg, &f->names, &f->target,
                             pc_commops_serial(), t, info, &err);
  CU_ASSERT_TRUE_FATAL(ok);
  CU_ASSERT_PTR_NULL(err);
  return t;
}

/* Every cell equal, doubles bit for bit. */
static inline gboolean tables_identical(GPtrArray *a, GPtrArray *b) {
  if (a->len != b->len) return FALSE;
  for (guint i = 0; i < a->len; i++) {
    const PcTable *x = a->pdata[i], *y = b->pdata[i];
    if (strcmp(pc_table_name(x), pc_table_name(y)) ||
        pc_table_nrows(x) != pc_table_nrows(y) ||
        pc_table_ncols(x) != pc_table_ncols(y))
      return FALSE;
    for (guint r = 0; r < pc_table_nrows(x); r++)
      for (guint c = 0; c < pc_table_ncols(x); c++) {
        PcColType t = pc_table_col_type(x, c);
        if (t == PC_COL_STRING) {
          if (strcmp(pc_table_get_string(x, r, c), pc_table_get_string(y, r, c)))
            return FALSE;
        } else if (t == PC_COL_DOUBLE) {
          double u = pc_table_get_double(x, r, c), v = pc_table_get_double(y, r, c);
          if (memcmp(&u, &v, sizeof u)) return FALSE;
        } else if (pc_table_get_int(x, r, c) != pc_table_get_int(y, r, c)) {
          return FALSE;
        }
      }
  }
  return TRUE;
}

/* Simulated ranks: threads joined by a barrier, sums in rank order. */
typedef struct {
  GMutex mu;
  GCond cv;
  int size, arrived;
  guint gen;
  const void *slot[SIM_MAX];
  size_t len[SIM_MAX];
} SimWorld;

typedef struct {
  SimWorld *w;
  int rank;
  PcCommOps ops;
  PcModelRows *rows;
  Fixture *f;
  PcJobConfig *cfg;
  GPtrArray *tables;
  PcModelInfo info;
  gboolean ok;
} SimRank;

static inline void sim_barrier(SimWorld *w) {
  g_mutex_lock(&w->mu);
  guint gen = w->gen;
  if (++w->arrived == w->size) {
    w->arrived = 0;
    w->gen++;
    g_cond_broadcast(&w->cv);
  } else {
    while (gen == w->gen) g_cond_wait(&w->cv, &w->mu);
  }
  g_mutex_unlock(&w->mu);
}

static inline gboolean sim_sum_fix(void *ctx, PcFix *v, size_t n, GError **e) {
  (void)e;
  SimRank *r = ctx;
  r->w->slot[r->rank] = v;
  sim_barrier(r->w);
  PcFix *s = g_new0(PcFix, n ? n : 1);
  for (int k = 0; k < r->w->size; k++)
    for (size_t i = 0; i < n; i++) s[i] += ((const PcFix *)r->w->slot[k])[i];
  sim_barrier(r->w);
  memcpy(v, s, n * sizeof *v);
  g_free(s);
  return TRUE;
}

static inline gboolean sim_sum_i64(void *ctx, int64_t *v, size_t n, GError **e) {
  (void)e;
  SimRank *r = ctx;
  r->w->slot[r->rank] = v;
  sim_barrier(r->w);
  int64_t *s = g_new0(int64_t, n ? n : 1);
  for (int k = 0; k < r->w->size; k++)
    for (size_t i = 0; i < n; i++) s[i] += ((const int64_t *)r->w->slot[k])[i];
  sim_barrier(r->w);
  memcpy(v, s, n * sizeof *v);
  g_free(s);
  return TRUE;
}

static inline gboolean sim_gather(void *ctx, const void *mine, size_t len,
                           GByteArray **out, GError **e) {
  (void)e;
  SimRank *r = ctx;
  r->w->slot[r->rank] = mine;
  r->w->len[r->rank] = len;
  sim_barrier(r->w);
  *out = NULL;
  if (r->rank == 0) {
    *out = g_byte_array_new();
    for (int k = 0; k < r->w->size; k++)
      g_byte_array_append(*out, r->w->slot[k], r->w->len[k]);
  }
  sim_barrier(r->w);
  return TRUE;
}

static inline gboolean sim_bcast(void *ctx, void **buf, size_t *len, GError **e) {
  (void)e;
  SimRank *r = ctx;
  if (r->rank == 0) r->w->slot[0] = *buf, r->w->len[0] = *len;
  sim_barrier(r->w);
  if (r->rank != 0) {
    *len = r->w->len[0];
    *buf = g_memdup2(r->w->slot[0], *len);
  }
  sim_barrier(r->w);
  return TRUE;
}

static inline gpointer sim_run(gpointer data) {
  SimRank *r = data;
  GError *err = NULL;
  r->ok = pc_model_fit(r->rows, r->cfg, &r->f->names, &r->f->target, &r->ops,
                       r->tables, &r->info, &err);
  g_clear_error(&err);
  return NULL;
}

/* Fits f's customers on P simulated ranks, customer c on rank
 * (c * a + c / b) % P; asserts that every rank succeeded with rank 0's
 * iterations and gradient norm, and that only rank 0 has tables (5).
 * Returns rank 0's tables; its info in *info0 (pc_model_info_clear it). */
static inline GPtrArray *sim_fit(Fixture *f, PcJobConfig *cfg, int P, guint a,
                                 guint b, PcModelInfo *info0) {
  g_assert(P >= 1 && P <= SIM_MAX);
  SimWorld w = {0};
  g_mutex_init(&w.mu);
  g_cond_init(&w.cv);
  w.size = P;
  SimRank rk[SIM_MAX];
  GThread *th[SIM_MAX];
  for (int k = 0; k < P; k++) {
    rk[k] = (SimRank){.w = &w, .rank = k, .f = f, .cfg = cfg};
    rk[k].ops = (PcCommOps){&rk[k], k, P, sim_sum_fix, sim_sum_i64,
                            sim_gather, sim_bcast, NULL};
    rk[k].rows = pc_model_rows_new(&f->names, &f->target);
    rk[k].tables = tables_new();
  }
  for (guint c = 0; c < f->ids->len; c++) fixture_row(f, c, rk[(c * a + c / b) % (guint)P].rows);
  for (int k = 0; k < P; k++) th[k] = g_thread_new("rank", sim_run, &rk[k]);
  for (int k = 0; k < P; k++) g_thread_join(th[k]);
  for (int k = 0; k < P; k++) {
    CU_ASSERT_TRUE(rk[k].ok);
    CU_ASSERT_EQUAL(rk[k].info.iterations, rk[0].info.iterations);
    CU_ASSERT_EQUAL(rk[k].info.grad_norm, rk[0].info.grad_norm);
    CU_ASSERT_EQUAL(rk[k].tables->len, k == 0 ? 5u : 0u);
    pc_model_rows_free(rk[k].rows);
    if (k) {
      pc_model_info_clear(&rk[k].info);
      g_ptr_array_unref(rk[k].tables);
    }
  }
  g_mutex_clear(&w.mu);
  g_cond_clear(&w.cv);
  *info0 = rk[0].info;
  return rk[0].tables;
}

#endif
