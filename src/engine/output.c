/* output.c - the epilog of a run (pc_engine_write): rank 0 writes csv/,
 * results.h5, report.html and run.json into OUT.tmp-PID, which replaces
 * output.dir by rename only when everything is written (spec §9), after
 * every rank's figures (phases, events, bytes, peak memory) are gathered.
 *
 * The output directory itself (lock, marker, staging, commit) is
 * pc_outdir.h's. HDF5 through pc_h5io.h,
 * other ranks through pc_comm.h, JSON through json-glib.
 */
#include "engine_int.h"
#include "pc_fs.h"
#include "pc_h5io.h"
#include "pc_json.h"
#include "pc_testhook.h"

#include <errno.h>
#include <stdio.h>

/* Every rank's figures, on every rank. */
typedef struct {
  double *phase;            /* [rank * PC_T_N + timer] */
  double *reduce;           /* [rank * modules + module] */
  uint64_t *events, *bytes, *sent, *rss;
  uint64_t *mem;            /* [rank * MEM_N + figure] */
} Figures;

/* The budget's division and the spill, per rank (run.json "memory"). */
enum { MEM_BUDGET, MEM_TABLES, MEM_REDUCE, MEM_BATCH, MEM_SPILL_BYTES, MEM_SPILL_RUNS, MEM_N };
static const char *const mem_names[MEM_N] = {
    "budget_bytes", "tables_bytes", "reduce_bytes", "batch_events",
    "spilled_bytes", "spill_runs"};

static void figures_clear(Figures *f) {
  g_free(f->phase);
  g_free(f->reduce);
  g_free(f->events);
  g_free(f->bytes);
  g_free(f->sent);
  g_free(f->rss);
  g_free(f->mem);
}

/* Collective. */
static void gather_figures(PcEngine *e, Figures *f) {
  int P = e->size;
  guint M = pc_modset_count(e->mods);
  f->phase = g_new(double, (size_t)P * PC_T_N);
  f->reduce = g_new0(double, (size_t)P * M + 1);
  g_autofree double *v = g_new(double, P);
  for (int k = 0; k < PC_T_N; k++) {
    pc_comm_allgather_double(e->comm, e->t.acc[k], v);
    for (int q = 0; q < P; q++) f->phase[q * PC_T_N + k] = v[q];
  }
  for (guint m = 0; m < M; m++) {
    pc_comm_allgather_double(e->comm, pc_modset_reduce_seconds(e->mods, m), v);
    for (int q = 0; q < P; q++) f->reduce[(size_t)q * M + m] = v[q];
  }
  f->events = g_new(uint64_t, P);
  f->bytes = g_new(uint64_t, P);
  f->sent = g_new(uint64_t, P);
  f->rss = g_new(uint64_t, P);
  pc_comm_allgather_u64(e->comm, pc_comm_bytes_sent(e->comm), f->sent);
  pc_comm_allgather_u64(e->comm, e->my_events, f->events);
  pc_comm_allgather_u64(e->comm, e->bytes_read, f->bytes);
  pc_comm_allgather_u64(e->comm, pc_peak_rss_bytes(), f->rss);
  uint64_t mine[MEM_N] = {e->mem.budget, e->mem.tables, e->mem.reduce,
                          e->mem.batch_events, pc_spill_bytes(e->spill),
                          pc_spill_runs(e->spill)};
  f->mem = g_new(uint64_t, (size_t)P * MEM_N);
  g_autofree uint64_t *u = g_new(uint64_t, P);
  for (int k = 0; k < MEM_N; k++) {
    pc_comm_allgather_u64(e->comm, mine[k], u);
    for (int q = 0; q < P; q++) f->mem[q * MEM_N + k] = u[q];
  }
}

static void json_u64_array(JsonBuilder *b, const char *name,
                           const uint64_t *v, int n) {
  json_builder_set_member_name(b, name);
  json_builder_begin_array(b);
  for (int i = 0; i < n; i++) json_builder_add_int_value(b, (int64_t)v[i]);
  json_builder_end_array(b);
}

/* "memory": {figure: [per rank]} */
static void json_memory(const PcEngine *e, const Figures *f, JsonBuilder *b) {
  json_builder_set_member_name(b, "memory");
  json_builder_begin_object(b);
  g_autofree uint64_t *v = g_new(uint64_t, e->size);
  for (int k = 0; k < MEM_N; k++) {
    for (int q = 0; q < e->size; q++) v[q] = f->mem[q * MEM_N + k];
    json_u64_array(b, mem_names[k], v, e->size);
  }
  json_builder_end_object(b);
}

static double max_of(const double *v, int n, size_t stride, size_t at) {
  double mx = 0;
  for (int q = 0; q < n; q++) mx = MAX(mx, v[q * stride + at]);
  return mx;
}


/* The part of run.json that is the same at any scale: the job and input. */
static void json_job(const PcEngine *e, JsonBuilder *b) {
  json_builder_set_member_name(b, "job");
  pc_config_describe(e->cfg, b);
  json_builder_set_member_name(b, "input");
  json_builder_begin_object(b);
  pc_json_member_string(b, "store", e->cfg->store);
  pc_json_member_uint(b, "shards", e->src->n_shards);
  pc_json_member_uint(b, "buckets", e->src->buckets);
  pc_json_member_uint(b, "batches", e->batches); /* the report's batch records */
  json_builder_end_object(b);
}

static void json_plan(const PcEngine *e, JsonBuilder *b) {
  const PcPlan *p = e->plan;
  json_builder_set_member_name(b, "plan");
  json_builder_begin_object(b);
  pc_json_member_string(b, "strategy", pc_plan_strategy_name(p->strategy));
  pc_json_member_double(b, "alpha", p->alpha);
  pc_json_member_uint(b, "buckets", e->src->buckets);
  pc_json_member_double(b, "imbalance_cost", p->imbalance_cost);
  pc_json_member_double(b, "imbalance_events", p->imbalance_events);
  json_u64_array(b, "rank_events", p->rank_events, e->size);
  json_u64_array(b, "rank_customers", p->rank_customers, e->size);
  json_u64_array(b, "rank_buckets", p->rank_buckets, e->size);
  json_builder_end_object(b);
}

/* phases (max over ranks), phases_per_rank, reduce_per_module (max). */
static void json_phases(const PcEngine *e, const Figures *f, JsonBuilder *b) {
  int P = e->size;
  guint M = pc_modset_count(e->mods);
  json_builder_set_member_name(b, "phases");
  json_builder_begin_object(b);
  for (int k = 0; k < PC_T_N; k++)
    pc_json_member_double(b, pc_timer_name(k), max_of(f->phase, P, PC_T_N, k));
  json_builder_end_object(b);
  json_builder_set_member_name(b, "phases_per_rank");
  json_builder_begin_object(b);
  for (int k = 0; k < PC_T_N; k++) {
    json_builder_set_member_name(b, pc_timer_name(k));
    json_builder_begin_array(b);
    for (int q = 0; q < P; q++) json_builder_add_double_value(b, f->phase[q * PC_T_N + k]);
    json_builder_end_array(b);
  }
  json_builder_end_object(b);
  json_builder_set_member_name(b, "reduce_per_module");
  json_builder_begin_object(b);
  for (guint m = 0; m < M; m++)
    pc_json_member_double(b, pc_modset_name(e->mods, m), max_of(f->reduce, P, M, m));
  json_builder_end_object(b);
}

/* The whole run.json (rank 0). */
static char *run_json(PcEngine *e, const Figures *f) {
  int P = e->size;
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_job(e, b);
  pc_json_member_int(b, "ranks", P);
  pc_json_member_int(b, "threads", e->threads);
  json_plan(e, b);
  json_phases(e, f, b);
  double wall = max_of(f->phase, P, PC_T_N, PC_T_TOTAL);
  uint64_t tot = 0;
  for (int q = 0; q < P; q++) tot += f->events[q];
  pc_json_member_double(b, "wall_s", wall);
  pc_json_member_uint(b, "events", tot);
  pc_json_member_double(b, "events_per_s", wall > 0 ? tot / wall : 0);
  json_u64_array(b, "events_per_rank", f->events, P);
  json_u64_array(b, "bytes_read_per_rank", f->bytes, P);
  json_u64_array(b, "bytes_exchanged_per_rank", f->sent, P);
  json_u64_array(b, "peak_rss_bytes", f->rss, P);
  json_memory(e, f, b);
  pc_modset_describe(e->mods, b);
  json_builder_end_object(b);
  return pc_json_text(b, TRUE);
}

static gboolean write_csvs(PcEngine *e, const char *dir, GError **error) {
  g_autofree char *csv = g_build_filename(dir, "csv", NULL);
  if (g_mkdir_with_parents(csv, 0755) != 0) {
    pc_set_error(error, PC_ERROR_IO, "%s: %s", csv, g_strerror(errno));
    return FALSE;
  }
  for (guint i = 0; i < e->tables->len; i++) {
    PcTable *t = g_ptr_array_index(e->tables, i);
    g_autofree char *name = g_strdup_printf("%s.csv", pc_table_name(t));
    g_autofree char *path = g_build_filename(csv, name, NULL);
    if (!pc_table_write_csv(t, path, error)) return FALSE;
  }
  return TRUE;
}

static gboolean write_text(const char *dir, const char *name, const char *text,
                           GError **error) {
  g_autofree char *path = g_build_filename(dir, name, NULL);
  return pc_fs_write_atomic(path, text, strlen(text), error);
}

/* report.html from the tables and the job only: a run.json without timings
 * is in place while the report is drawn (the full one replaces it), so the
 * page is the same bytes for any P, threads and strategy. */
static gboolean write_report(PcEngine *e, const char *staging, GError **error) {
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_job(e, b);
  json_builder_end_object(b);
  g_autofree char *json = pc_json_text(b, TRUE);
  return write_text(staging, "run.json", json, error) &&
         e->report(staging, e->tables, e->quiet, error);
}

/* csv/ and report.html, on a thread of their own. */
typedef struct {
  PcEngine *e;
  const char *staging;
  gboolean ok;
  GError *error;
} TextJob;

static gpointer write_text_outputs(gpointer p) {
  TextJob *j = p;
  PcEngine *e = j->e;
  j->ok = write_csvs(e, j->staging, &j->error) &&
          (!e->cfg->report || !e->report || write_report(e, j->staging, &j->error));
  return NULL;
}

/* Rank 0: everything but run.json into staging (made with its marker).
 * results.h5 is written on this thread (every HDF5 call stays on it) while
 * a second thread writes csv/ and draws the report from the tables in
 * memory (no HDF5, no MPI there): the variable-length strings of
 * results.h5 cost as much as the other two together. An error of csv/ or
 * the report is reported first, as when they were written first. */
static gboolean write_tables(PcEngine *e, const char *staging, GError **error) {
  if (!pc_outdir_stage(e->outdir, error)) return FALSE;
  g_autofree char *h5 = g_build_filename(staging, "results.h5", NULL);
  TextJob j = {e, staging, TRUE, NULL};
  GThread *t = g_thread_new("pc-outputs", write_text_outputs, &j);
  GError *h5_error = NULL;
  gboolean ok = pc_h5io_write_results(h5, e->tables, &h5_error);
  g_thread_join(t);
  if (!j.ok) {
    g_propagate_error(error, j.error);
    g_clear_error(&h5_error);
    return FALSE;
  }
  if (!ok) g_propagate_error(error, h5_error);
  return ok;
}

static void closing_line(PcEngine *e, const Figures *f) {
  if (e->quiet) return;
  double wall = max_of(f->phase, e->size, PC_T_N, PC_T_TOTAL);
  uint64_t tot = 0;
  for (int q = 0; q < e->size; q++) tot += f->events[q];
  fprintf(stderr, "parcours: run: %" G_GUINT64_FORMAT " events, %" G_GUINT64_FORMAT " customers in %.2f s (%.2fM events/s) -> %s\n", tot, e->facts.customers, wall, wall > 0 ? tot / wall / 1e6 : 0, e->cfg->dir);
}

gboolean pc_engine_write(PcEngine *e, GError **error) {
  pc_signals_phase(pc_comm_signals(e->comm), "writing the outputs");
  pc_timer_start(&e->t, PC_T_WRITE);
  gboolean ok = TRUE;
  const char *staging = e->rank == 0 ? pc_outdir_staging(e->outdir) : NULL;
  if (e->rank == 0) ok = write_tables(e, staging, error);
  if (ok) pc_test_hook("run-outputs-staged");
  pc_comm_quiet_barrier(e->comm); /* the others sleep while rank 0 writes */
  pc_timer_stop(&e->t, PC_T_WRITE);
  pc_timer_stop(&e->t, PC_T_TOTAL);
  Figures f = {0};
  gather_figures(e, &f);
  if (e->rank == 0 && ok) {
    g_autofree char *json = run_json(e, &f);
    ok = write_text(staging, "run.json", json, error) &&
         pc_outdir_commit(e->outdir, error);
    if (ok) closing_line(e, &f);
  }
  if (e->rank == 0 && !ok) pc_outdir_abandon(e->outdir);
  figures_clear(&f);
  return pc_comm_agree(e->comm, ok, error);
}
