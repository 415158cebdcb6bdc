/* model_rows.c - the rows of the outcome model of spec §7 (PcModelRows:
 * one compact row per customer: id bytes, y, split, pre-target length,
 * distinct channels, sparse (event id, count) pairs; they never leave their
 * rank) and the "model" analysis module that feeds and fits them.
 *
 * Owns PcModelRows. No MPI, no HDF5. The fit and the tables are in
 * model_fit.c and model_report.c (docs/model.md).
 */
#include "model_int.h"
#include "pc_module.h"

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
void pc_model_sort_n(void *base, size_t n, size_t size,
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

/* s[0..n) ascending: insertion sort at journey sizes, qsort beyond. glibc's
 * qsort (a merge sort through a comparison callback) was three quarters of
 * this module's cost on journeys of ten events. */
static void sort_u32(guint32 *s, size_t n) {
  if (n > 48) {
    qsort(s, n, sizeof *s, cmp_u32);
    return;
  }
  for (size_t i = 1; i < n; i++) {
    guint32 v = s[i];
    size_t k = i;
    for (; k && s[k - 1] > v; k--) s[k] = s[k - 1];
    s[k] = v;
  }
}

/* Distinct channels of ev[0..cut): a bit mask when every id is below 64
 * (dictionaries of channels are small), else sorted runs in s. */
static guint32 distinct_channels(const PcEvent *ev, size_t cut, guint32 *s) {
  guint64 mask = 0;
  size_t i = 0;
  for (; i < cut && ev[i].channel < 64; i++) mask |= G_GUINT64_CONSTANT(1) << ev[i].channel;
  if (i == cut) return (guint32)__builtin_popcountll(mask);
  for (i = 0; i < cut; i++) s[i] = ev[i].channel;
  sort_u32(s, cut);
  return rows_runs(s, cut, NULL);
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
  sort_u32(s, cut);
  row.npairs = rows_runs(s, cut, r->pairs);
  row.nchan = distinct_channels(j->ev, cut, s);
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


/* ---- The "model" module (pc_module.h) ---- */

typedef struct {
  PcModelRows *rows;
  GPtrArray *tables;   /* rank 0 after the fit */
  PcModelInfo info;
} ModelModule;

static gboolean model_enabled(const PcJobConfig *cfg) {
  return cfg->n_target_events > 0 && cfg->model;
}

static void *model_create(const PcModuleEnv *env, GError **error) {
  ModelModule *m = g_new0(ModelModule, 1);
  m->rows = pc_model_rows_new(env->names, env->target);
  m->tables = g_ptr_array_new_with_free_func((GDestroyNotify)pc_table_free);
  return m;
}

static void model_add(void *self, const PcJourneyView *jv) {
  pc_model_rows_add(((ModelModule *)self)->rows, jv->j, jv->y, jv->cut);
}

static void model_merge(void *dst, void *src) {
  pc_model_rows_append(((ModelModule *)dst)->rows, ((ModelModule *)src)->rows);
}

static gboolean model_reduce(void *self, const PcModuleEnv *env,
                             GError **error) {
  ModelModule *m = self;
  return pc_model_fit(m->rows, env->cfg, env->names, env->target, env->ops,
                      m->tables, &m->info, error);
}

static gboolean model_tables(void *self, const PcModuleEnv *env,
                             PcOutputs *out, GError **error) {
  ModelModule *m = self;
  for (guint i = 0; i < m->tables->len; i++)
    pc_outputs_add(out, g_ptr_array_index(m->tables, i));
  g_ptr_array_set_free_func(m->tables, NULL);
  g_ptr_array_set_size(m->tables, 0);
  return TRUE;
}

/* run.json "model": iterations and the gradient norm of every iterate. */
static void model_describe(void *self, JsonBuilder *b) {
  ModelModule *m = self;
  if (!m->info.grad_norms) return;
  json_builder_set_member_name(b, "model");
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "iterations");
  json_builder_add_int_value(b, m->info.iterations);
  json_builder_set_member_name(b, "grad_norm");
  json_builder_add_double_value(b, m->info.grad_norm);
  json_builder_set_member_name(b, "grad_norms");
  json_builder_begin_array(b);
  for (guint i = 0; i <= m->info.iterations; i++)
    json_builder_add_double_value(b, m->info.grad_norms[i]);
  json_builder_end_array(b);
  const char *keys[] = {"passes", "hessians"};
  guint counts[] = {m->info.passes, m->info.hessians};
  for (guint i = 0; i < G_N_ELEMENTS(keys); i++) {
    json_builder_set_member_name(b, keys[i]);
    json_builder_add_int_value(b, counts[i]);
  }
  const char *tkeys[] = {"setup_s", "solve_s", "report_s"};
  double times[] = {m->info.setup_s, m->info.solve_s, m->info.report_s};
  for (guint i = 0; i < G_N_ELEMENTS(tkeys); i++) {
    json_builder_set_member_name(b, tkeys[i]);
    json_builder_add_double_value(b, times[i]);
  }
  json_builder_end_object(b);
}

static void model_destroy(void *self) {
  ModelModule *m = self;
  if (!m) return;
  pc_model_rows_free(m->rows);
  g_ptr_array_unref(m->tables);
  pc_model_info_clear(&m->info);
  g_free(m);
}

/* The rows (about 64 bytes a customer with its event counts) and the fit:
 * per thread the accumulators of the d(d+1)/2 Hessian terms (16-byte fixed
 * point), on every rank the d x d Hessian, its factor and a trial copy,
 * with d = event names + 2. */
static uint64_t model_memory(const PcModuleEnv *env, int threads,
                             uint64_t customers) {
  uint64_t d = (uint64_t)env->names->events->n + 3;
  return customers * 64 + (uint64_t)threads * 16 * (d * (d + 1) / 2 + 4 * d) +
         3 * 8 * d * d;
}

const PcModule pc_module_model = {
    .name = "model",
    .enabled = model_enabled,
    .create = model_create,
    .add = model_add,
    .merge = model_merge,
    .reduce = model_reduce,
    .tables = model_tables,
    .destroy = model_destroy,
    .describe = model_describe,
    .memory = model_memory,
};
