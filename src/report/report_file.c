/* report_file.c - pc_run_report() (pc_run.h): OUTDIR/results.h5,
 * OUTDIR/run.json and the store's batch records in, OUTDIR/report.html
 * out.
 *
 * Owns the report's file work: which tables are read (through
 * pc_h5io_read_table: no HDF5 call here) when the caller (`parcours
 * report`) has not the run's tables in memory, where the batch records are
 * found, and the atomic write of the page. Drawing is report.c's.
 *
 * Invariants: a missing table or run.json only drops sections; only a
 * results.h5 that is missing or cannot be opened, or a page that cannot be
 * written, is an error. The page is written to a temporary file in OUTDIR
 * and renamed (g_file_set_contents), so a reader never sees half a page.
 */
#include "pc_h5io.h"
#include "pc_run.h"
#include "pc_store.h"
#include "report_int.h"

#include <stdio.h>
#include <string.h>

/* Tables of results.h5 the page draws; ngrams and scores are written by a
 * run but not drawn, so they are not read. */
static const char *const table_names[] = {
    "summary", "variants", "prefix_tree", "transitions", "transition_gaps", "preceding_paths",
    "preceding_tokens", "funnels", "funnel_times", "drivers", "channel_drivers", "channels", "nps",
    "attribution", "model", "model_summary", "roc", "at_risk", "segments", "retention", "flows",
    "sequence_drivers", "time_to_target", "attribution_models"};

/* An absent table is skipped; a file that cannot be opened is an error. */
static gboolean read_tables(const char *h5, GPtrArray *tables, GError **error) {
  for (guint i = 0; i < G_N_ELEMENTS(table_names); i++) {
    PcTable *t = NULL;
    GError *e = NULL;
    if (pc_h5io_read_table(h5, table_names[i], &t, &e)) {
      g_ptr_array_add(tables, t);
    } else if (e->code == PC_ERROR_IO) {
      g_propagate_error(error, e);
      return FALSE;
    } else {
      g_error_free(e);
    }
  }
  return TRUE;
}

/* How many batches the run read: run.json's input.batches, else (a
 * run.json of an older parcours) the store's MANIFEST now; 0 when neither
 * is there. */
static guint batches_read(JsonNode *run, const char *store) {
  uint64_t n;
  if (pc_rjson_u64(pc_rjson_get(run, "input.batches"), &n) && n <= G_MAXUINT) return (guint)n;
  g_autoptr(PcStore) st = NULL;
  return store && pc_store_open(store, &st, NULL) ? st->batches : 0;
}

/* The batch records of the batches the run read (STORE/batch-NNNNNN.json,
 * N = 1..batches) when run.json's input.store names a directory readable
 * from here; else none. Records of batches the MANIFEST does not count (an
 * append in progress, or one that died) and of batches committed after the
 * run are not its input and are left out. Never fails. Caller frees the
 * array (it frees its strings). */
static GPtrArray *read_ingest(const char *run_json) {
  GPtrArray *recs = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(JsonNode) run = pc_rjson_parse(run_json);
  JsonNode *node = pc_rjson_get(run, "input.store");
  const char *store = node && JSON_NODE_HOLDS_VALUE(node) && json_node_get_value_type(node) == G_TYPE_STRING
                          ? json_node_get_string(node) : NULL;
  guint n = store ? batches_read(run, store) : 0;
  for (guint b = 1; b <= n; b++) {
    g_autofree char *path = pc_store_file_path(store, PC_STORE_FILE_BATCH_RECORD, b);
    char *text = NULL;
    if (g_file_get_contents(path, &text, NULL, NULL)) g_ptr_array_add(recs, text);
  }
  return recs;
}

/* The tables of dir/results.h5 the page draws; FALSE when the file is
 * missing or unreadable. Caller unrefs *out. */
static gboolean stored_tables(const char *dir, GPtrArray **out, GError **error) {
  g_autofree char *h5 = g_build_filename(dir, "results.h5", NULL);
  if (!g_file_test(h5, G_FILE_TEST_IS_REGULAR)) {
    pc_set_error(error, PC_ERROR_IO, "%s: no such file (is %s the output.dir of a run?)", h5, dir);
    return FALSE;
  }
  *out = g_ptr_array_new_with_free_func((GDestroyNotify)pc_table_free);
  return read_tables(h5, *out, error);
}

gboolean pc_run_report(const char *dir, GPtrArray *run_tables, gboolean quiet,
                       GError **error) {
  g_return_val_if_fail(dir != NULL, FALSE);
  g_autofree char *out = g_build_filename(dir, "report.html", NULL);
  /* the run's own tables, read as results.h5 holds them (cells.c reads
   * empty cells as a read-back would): no HDF5 round trip of 10^5-10^6
   * rows of variable-length strings */
  g_autoptr(GPtrArray) tables = run_tables ? g_ptr_array_ref(run_tables) : NULL;
  if (!tables && !stored_tables(dir, &tables, error)) return FALSE;
  g_autofree char *run_path = g_build_filename(dir, "run.json", NULL);
  g_autofree char *run_json = NULL;
  if (!g_file_get_contents(run_path, &run_json, NULL, NULL)) run_json = NULL;
  g_autoptr(GPtrArray) ingest = read_ingest(run_json);
  PcReportInput in = {tables, run_json, ingest};
  g_autofree char *html = pc_report_render(&in);
  GError *e = NULL;
  if (!g_file_set_contents(out, html, -1, &e)) {
    pc_set_error(error, PC_ERROR_IO, "%s: %s", out, e->message);
    g_error_free(e);
    return FALSE;
  }
  if (!quiet) fprintf(stderr, "parcours: report: report.html, %zu bytes\n", strlen(html));
  return TRUE;
}
