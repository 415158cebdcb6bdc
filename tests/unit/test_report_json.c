/* test_report_json.c - report.html (src/report/) from run.json and the
 * store's batch records: a store path with an accent, corrupt run.json
 * (truncated, not JSON, too deep, wrong types: only the run section goes),
 * figures printed as run.json writes them, and every string and number
 * from JSON escaped in the page. */
#include "pc_h5io.h"
#include "pc_report.h"
#include "pc_run.h"
#include "pc_test.h"

#include <glib/gstdio.h>
#include <stdio.h>

/* run.json as `parcours run` writes it (cmd_run.c run_json()), shortened. */
static const char RUN_FULL[] =
    "{\n\"job\":{\"job\":\"small.ini\",\"input\":{\"store\":\"st\",\"from\":null},\"target\":{\"event\":[\"churn\"],"
    "\"lookback\":5},\"funnel\":{\"buy\":{\"steps\":[\"visit\",\"buy\"],\"window\":600,\"match\":\"event\"}},"
    "\"model\":{\"enabled\":false,\"lambda\":0.001}},\n"
    "\"input\":{\"store\":\"st\",\"shards\":1,\"buckets\":4096},\n\"ranks\":2,\"threads\":2,\n"
    "\"plan\":{\"strategy\":\"balanced\",\"alpha\":1,\"buckets\":4096,\"imbalance_cost\":1.000000,"
    "\"imbalance_events\":1.142857,\"rank_events\":[8,6],\"rank_customers\":[3,2],\"rank_buckets\":[2048,2048]},\n"
    "\"phases\":{\"plan\":0.003682,\"read\":0.000759,\"total\":0.049863},\n"
    "\"phases_per_rank\":{\"plan\":[0.003682,0.001],\"total\":[0.049863,0.04]},\n"
    "\"wall_s\":0.049863,\"events\":14,\"events_per_s\":280.8,\n\"events_per_rank\":[8,6],\n"
    "\"bytes_read_per_rank\":[230,180],\n\"peak_rss_bytes\":[46419968,40000000],\n"
    "\"model\":{\"iterations\":2,\"grad_norm\":1.234000e-09,\"grad_norms\":[1.0e-01,1.234000e-09]}\n}";

/* ---- helpers ------------------------------------------------------------- */

static PcTable *summary(void) {
  static const char *const cols[] = {"key:string", "value:int"};
  PcTable *t = pc_table_new("summary", cols, 2);
  pc_table_add_row(t);
  pc_table_set_string(t, 0, "customers");
  pc_table_set_int(t, 1, 5);
  return t;
}

/* One "(all)" row at step 1 for each funnel name. */
static PcTable *funnels(const char *const *names, guint n) {
  static const char *const cols[] = {"funnel:string", "split:string", "step:int", "token:string",
                                     "customers:int", "conv_prev:double", "conv_first:double", "drop_off:int"};
  PcTable *t = pc_table_new("funnels", cols, 8);
  for (guint i = 0; i < n; i++) {
    pc_table_add_row(t);
    pc_table_set_string(t, 0, names[i]);
    pc_table_set_string(t, 1, "(all)");
    pc_table_set_int(t, 2, 1);
    pc_table_set_string(t, 3, "visit");
    pc_table_set_int(t, 4, 5);
    pc_table_set_double(t, 6, 1.0);
  }
  return t;
}

static GPtrArray *tables_new(void) {
  GPtrArray *t = g_ptr_array_new_with_free_func((GDestroyNotify)pc_table_free);
  g_ptr_array_add(t, summary());
  return t;
}

static char *render(GPtrArray *tables, const char *run_json, GPtrArray *ingest) {
  PcReportInput in = {tables, run_json, ingest};
  return pc_report_render(&in);
}

static gboolean has(const char *html, const char *needle) { return strstr(html, needle) != NULL; }

/* The page of run_json has the summary but no run section. */
static gboolean run_dropped(GPtrArray *t, const char *run_json) {
  g_autofree char *html = render(t, run_json, NULL);
  return has(html, "<section id=\"summary\">") && !has(html, "<section id=\"run\">") && !has(html, "href=\"#run\"");
}

static void write_file(const char *dir, const char *name, const char *text) {
  g_autofree char *path = g_build_filename(dir, name, NULL);
  CU_ASSERT_TRUE(g_file_set_contents(path, text, -1, NULL));
}

static void remove_tree(const char *dir) {
  GDir *d = g_dir_open(dir, 0, NULL);
  for (const char *n; d && (n = g_dir_read_name(d));) {
    g_autofree char *f = g_build_filename(dir, n, NULL);
    if (g_file_test(f, G_FILE_TEST_IS_DIR)) remove_tree(f);
    else g_remove(f);
  }
  if (d) g_dir_close(d);
  g_rmdir(dir);
}

static char *report_of(const char *dir) {
  g_autoptr(GError) e = NULL;
  CU_ASSERT_TRUE(pc_run_report(dir, NULL, TRUE, &e));
  g_autofree char *out = g_build_filename(dir, "report.html", NULL);
  char *html = NULL;
  CU_ASSERT_TRUE(g_file_get_contents(out, &html, NULL, NULL));
  return html ? html : g_strdup("");
}

/* ---- cases ------------------------------------------------------------------ */

/* A store called st-é: run.json names it in UTF-8 or with \u00e9, and
 * either way the report finds its batch records and sums them. */
static void test_store_non_ascii(void) {
  pc_h5io_quiet();
  g_autofree char *dir = g_dir_make_tmp("pc-report-json-XXXXXX", NULL);
  g_autofree char *store = g_build_filename(dir, "st-\xc3\xa9", NULL);
  CU_ASSERT_EQUAL(g_mkdir(store, 0755), 0);
  write_file(store, "batch-000001.json", "{\"batch\":1,\"rows\":10,\"accepted\":8,\"rejected\":2,"
                                         "\"rejected_by_reason\":{\"bad time\":2},\"rejects_file\":\"r\"}");
  write_file(store, "batch-000002.json", "{\"batch\":2,\"rows\":5,\"accepted\":4,\"rejected\":1,"
                                         "\"rejected_by_reason\":{\"<empty id>\":1,\"bad time\":0}}");
  g_autoptr(GPtrArray) t = tables_new();
  g_autofree char *h5 = g_build_filename(dir, "results.h5", NULL);
  CU_ASSERT_TRUE(pc_h5io_write_results(h5, t, NULL));
  /* batch 3 is not the run's (an append in progress, or committed after
   * it read the store): its record is left out */
  write_file(store, "batch-000003.json", "{\"batch\":3,\"rows\":100,\"accepted\":100,\"rejected\":0}");
  g_autofree char *run = g_strdup_printf("{\"input\":{\"store\":\"%s/st-\xc3\xa9\",\"batches\":2},\"ranks\":1,\"wall_s\":0.25}", dir);
  write_file(dir, "run.json", run);
  g_autofree char *html = report_of(dir);
  CU_ASSERT_TRUE(has(html, "<section id=\"quality\">"));
  CU_ASSERT_TRUE(has(html, "<div class=\"k\">Batches</div><div class=\"v\">2</div>"));
  CU_ASSERT_TRUE(has(html, "id=\"ingest-rows\">15<"));
  CU_ASSERT_TRUE(has(html, "id=\"ingest-accepted\">12<"));
  CU_ASSERT_TRUE(has(html, "id=\"ingest-rejected\">3</div><div class=\"n\">20.0% of rows<"));
  CU_ASSERT_TRUE(has(html, "id=\"ingest-rejected-bad~20time\">2<"));
  CU_ASSERT_TRUE(has(html, "<td class=\"lbl\">&lt;empty id&gt;</td><td class=\"num\" id=\"ingest-rejected-~3cempty~20id~3e\">1<"));
  CU_ASSERT_TRUE(has(html, "bad~20time") && strstr(html, "bad~20time") < strstr(html, "~3cempty"));
  CU_ASSERT_TRUE(has(html, "id=\"run-wall_s\">0.250000 s<"));
  g_autofree char *escaped = g_strdup_printf("{\"input\":{\"store\":\"%s/st-\\u00e9\",\"batches\":2},\"ranks\":1,\"wall_s\":0.25}", dir);
  write_file(dir, "run.json", escaped);
  g_autofree char *html2 = report_of(dir);
  CU_ASSERT_STRING_EQUAL(html2, html);
  remove_tree(dir);
}

/* Every proper prefix of run.json drops the run section; the whole file
 * draws it. */
static void test_truncated(void) {
  g_autoptr(GPtrArray) t = tables_new();
  static const char *const names[] = {"buy"};
  g_ptr_array_add(t, funnels(names, 1));
  g_autofree char *full = render(t, RUN_FULL, NULL);
  CU_ASSERT_TRUE(has(full, "<section id=\"run\">"));
  CU_ASSERT_TRUE(has(full, "id=\"run-plan.imbalance_events\">1.142857<"));
  CU_ASSERT_TRUE(has(full, "All steps within 600 s of the first."));
  guint kept = 0;
  for (gsize len = 0; len < sizeof RUN_FULL - 1; len++) {
    g_autofree char *cut = g_strndup(RUN_FULL, len);
    if (!run_dropped(t, cut)) kept++;
  }
  CU_ASSERT_EQUAL(kept, 0);
}

/* Not JSON, or JSON that json-glib would take but the report refuses:
 * comments, single quotes, a second value, nesting over 64. */
static void test_not_json(void) {
  g_autoptr(GPtrArray) t = tables_new();
  static const char *const bad[] = {
      "", "   ", "not json", "{\"wall_s\":1} x", "{\"wall_s\":1}{\"wall_s\":2}", "{\"wall_s\":1,}",
      "/* c */ {\"wall_s\":1}", "{\"wall_s\":1} // c", "{'wall_s':1}", "{\"wall_s\":1]", "{\"wall_s\":1}}",
      "{\"wall_s\":\"1", "\xff\xfe{\"wall_s\":1}", "{\"wall_s\":\"\xff\"}", "[]", "null", "5", "\"wall_s\""};
  for (guint i = 0; i < G_N_ELEMENTS(bad); i++) CU_ASSERT_TRUE(run_dropped(t, bad[i]));
  CU_ASSERT_TRUE(run_dropped(t, NULL));
  /* nesting: 64 levels are read, 65 are not, a million never recurse */
  GString *s = g_string_new("{\"wall_s\":1,\"x\":");
  for (int i = 0; i < 63; i++) g_string_append_c(s, '[');
  for (int i = 0; i < 63; i++) g_string_append_c(s, ']');
  g_string_append_c(s, '}');
  CU_ASSERT_FALSE(run_dropped(t, s->str));
  g_string_insert_c(s, 17, '[');
  g_string_insert_c(s, s->len - 1, ']');
  CU_ASSERT_TRUE(run_dropped(t, s->str));
  g_string_truncate(s, 0);
  for (int i = 0; i < 1000000; i++) g_string_append(s, "[{\"a\":");
  CU_ASSERT_TRUE(run_dropped(t, s->str));
  /* brackets and escaped quotes inside strings are not nesting */
  g_string_assign(s, "{\"wall_s\":1,\"x\":\"a\\\"");
  for (int i = 0; i < 100; i++) g_string_append(s, "[{");
  g_string_append(s, "\"}");
  CU_ASSERT_FALSE(run_dropped(t, s->str));
  g_string_free(s, TRUE);
}

/* Members of the wrong type drop their card, row or cell; a wall_s that is
 * not a number drops the run section. */
static void test_wrong_types(void) {
  g_autoptr(GPtrArray) t = tables_new();
  CU_ASSERT_TRUE(run_dropped(t, "{\"wall_s\":\"1.5\",\"ranks\":2}"));
  CU_ASSERT_TRUE(run_dropped(t, "{\"wall_s\":null}"));
  CU_ASSERT_TRUE(run_dropped(t, "{\"run\":{\"wall_s\":1}}"));
  g_autofree char *html = render(t, "{\"job\":{\"target\":{\"event\":\"churn\"},\"funnel\":[1]},\"wall_s\":1.5,"
                                    "\"ranks\":{\"a\":1},\"threads\":[4],\"plan\":5,\"phases\":[1,2],"
                                    "\"events_per_s\":\"fast\",\"peak_rss_bytes\":\"x\"}", NULL);
  CU_ASSERT_TRUE(has(html, "<section id=\"run\">"));
  CU_ASSERT_TRUE(has(html, "id=\"run-wall_s\">1.500000 s<"));
  CU_ASSERT_TRUE(has(html, "id=\"run-events_per_s\">fast<"));
  CU_ASSERT_FALSE(has(html, "id=\"run-ranks\""));
  CU_ASSERT_FALSE(has(html, "id=\"run-threads\""));
  CU_ASSERT_FALSE(has(html, "id=\"run-plan.strategy\""));
  CU_ASSERT_TRUE(has(html, "<h3>Time per phase (slowest rank)</h3><div class=\"tw\"><table><tbody></tbody>"));
  CU_ASSERT_FALSE(has(html, "<h3>Per rank</h3>"));
  CU_ASSERT_TRUE(has(html, "no target configured"));
  g_autofree char *ranks = render(t, "{\"wall_s\":2,\"events_per_rank\":[{\"a\":1},\"7\",true],"
                                     "\"peak_rss_bytes\":[1048576,\"x\",2097152]}", NULL);
  CU_ASSERT_TRUE(has(ranks, "id=\"run-wall_s\">2 s<"));
  CU_ASSERT_TRUE(has(ranks, "<tr><td class=\"num\">0</td><td class=\"num na\"></td><td class=\"num na\"></td>"
                            "<td class=\"num na\"></td><td class=\"num na\"></td><td class=\"num\">1.0 MiB</td>"));
  CU_ASSERT_TRUE(has(ranks, "<tr><td class=\"num\">1</td><td class=\"num\">7</td>"));
  CU_ASSERT_TRUE(has(ranks, "<td class=\"num\">0.0 MiB</td>"));
  CU_ASSERT_TRUE(has(ranks, "<tr><td class=\"num\">2</td><td class=\"num\">true</td>"));
  CU_ASSERT_TRUE(has(ranks, "<td class=\"num\">2.0 MiB</td>"));
  /* batch records: a corrupt one counts as a batch and adds nothing */
  g_autoptr(GPtrArray) recs = g_ptr_array_new();
  g_ptr_array_add(recs, "{\"rows\":4,\"accepted\":\"3\",\"rejected\":-1,\"rejected_by_reason\":{\"x\":\"1\",\"y\":2}}");
  g_ptr_array_add(recs, "{\"rows\":");
  g_autofree char *q = render(t, NULL, recs);
  CU_ASSERT_TRUE(has(q, "<div class=\"k\">Batches</div><div class=\"v\">2</div>"));
  CU_ASSERT_TRUE(has(q, "id=\"ingest-rows\">4<"));
  CU_ASSERT_TRUE(has(q, "id=\"ingest-accepted\">0<"));
  CU_ASSERT_TRUE(has(q, "id=\"ingest-rejected\">0<"));
  CU_ASSERT_FALSE(has(q, "id=\"ingest-rejected-x\""));
  CU_ASSERT_TRUE(has(q, "id=\"ingest-rejected-y\">2<"));
}

/* run.json of an older parcours (no input.batches): the batches the
 * store's MANIFEST counts; a record of a batch it does not count (left by
 * an append that died) is not read. */
static void test_batches_from_manifest(void) {
  pc_h5io_quiet();
  g_autofree char *dir = g_dir_make_tmp("pc-report-json-XXXXXX", NULL);
  g_autofree char *store = g_build_filename(dir, "st", NULL);
  CU_ASSERT_EQUAL(g_mkdir(store, 0755), 0);
  write_file(store, "MANIFEST", "parcours-store 1\nbuckets 8\nbatches 1\nshard b000001-r00000.h5\n");
  write_file(store, "batch-000001.json", "{\"batch\":1,\"rows\":10,\"accepted\":10,\"rejected\":0}");
  write_file(store, "batch-000002.json", "{\"batch\":2,\"rows\":99,\"accepted\":99,\"rejected\":0}");
  g_autoptr(GPtrArray) t = tables_new();
  g_autofree char *h5 = g_build_filename(dir, "results.h5", NULL);
  CU_ASSERT_TRUE(pc_h5io_write_results(h5, t, NULL));
  g_autofree char *run = g_strdup_printf("{\"input\":{\"store\":\"%s\"}}", store);
  write_file(dir, "run.json", run);
  g_autofree char *html = report_of(dir);
  CU_ASSERT_TRUE(has(html, "<div class=\"k\">Batches</div><div class=\"v\">1</div>"));
  CU_ASSERT_TRUE(has(html, "id=\"ingest-rows\">10<"));
}

/* Records that keep the two tables apart: the card counts event rows as
 * data rows and the customers table apart (it once added both: 15 "data
 * rows" for 10 events); an old record beside them counts as events. */
static void test_quality_events_apart(void) {
  g_autoptr(GPtrArray) t = tables_new();
  g_autoptr(GPtrArray) recs = g_ptr_array_new();
  g_ptr_array_add(recs, "{\"rows\":15,\"accepted\":12,\"rejected\":3,\"event_rows\":10,\"event_rejected\":2,"
                        "\"customer_rows\":5,\"customer_rejected\":1,\"rejected_by_reason\":{\"bad_value\":2,\"duplicate_customer\":1}}");
  g_autofree char *q = render(t, NULL, recs);
  CU_ASSERT_TRUE(has(q, "<div class=\"k\">Event rows</div><div class=\"v\" id=\"ingest-rows\">10<"));
  CU_ASSERT_TRUE(has(q, "id=\"ingest-accepted\">8<"));
  CU_ASSERT_TRUE(has(q, "id=\"ingest-rejected\">2</div><div class=\"n\">20.0% of rows<"));
  CU_ASSERT_TRUE(has(q, "<div class=\"k\">Customers-table rows</div><div class=\"v\" id=\"ingest-customer-rows\">5</div><div class=\"n\">1 rejected<"));
  CU_ASSERT_TRUE(has(q, "id=\"ingest-rejected-duplicate_customer\">1<"));
  g_ptr_array_add(recs, "{\"rows\":4,\"accepted\":3,\"rejected\":1,\"rejected_by_reason\":{\"bad_value\":1}}");
  g_autofree char *q2 = render(t, NULL, recs);
  CU_ASSERT_TRUE(has(q2, "id=\"ingest-rows\">14<"));
  CU_ASSERT_TRUE(has(q2, "id=\"ingest-accepted\">11<"));
  CU_ASSERT_TRUE(has(q2, "id=\"ingest-rejected\">3<"));
  g_autoptr(GPtrArray) none = g_ptr_array_new();
  g_ptr_array_add(none, "{\"event_rows\":3,\"event_rejected\":0,\"customer_rows\":0,\"customer_rejected\":0,\"rejected_by_reason\":{}}");
  g_autofree char *q3 = render(t, NULL, none);
  CU_ASSERT_FALSE(has(q3, "ingest-customer-rows"));
}

/* Strings from run.json and batch records are escaped; numbers print as
 * run.json's writer prints them; a funnel name with a dot is one name. */
static void test_escaped(void) {
  g_autoptr(GPtrArray) t = tables_new();
  static const char *const names[] = {"a.b", "x<y"};
  g_ptr_array_add(t, funnels(names, 2));
  const char *run = "{\"job\":{\"target\":{\"event\":[\"<script>\",\"a&b\"]},"
                    "\"funnel\":{\"x<y\":{\"window\":\"<600>\"},\"a.b\":{\"window\":86400}}},"
                    "\"wall_s\":0.1234567,\"ranks\":12345678901,\"events_per_s\":1234.56,"
                    "\"plan\":{\"strategy\":\"<b>&\\\"'\",\"imbalance_cost\":1.25},\"phases\":{\"read\":0.5,\"total\":2}}";
  g_autoptr(GPtrArray) recs = g_ptr_array_new();
  g_ptr_array_add(recs, "{\"rows\":4,\"accepted\":3,\"rejected\":1,\"rejected_by_reason\":{\"<b>\":1}}");
  g_autofree char *html = render(t, run, recs);
  CU_ASSERT_FALSE(has(html, "<script"));
  CU_ASSERT_FALSE(has(html, "<b>&\"'"));
  CU_ASSERT_TRUE(has(html, "target: &lt;script&gt; or a&amp;b</p>"));
  CU_ASSERT_TRUE(has(html, "id=\"run-plan.strategy\">&lt;b&gt;&amp;&quot;&#39;<"));
  CU_ASSERT_TRUE(has(html, "id=\"run-ranks\">12345678901<"));
  CU_ASSERT_TRUE(has(html, "id=\"run-wall_s\">0.123457 s<"));
  CU_ASSERT_TRUE(has(html, "id=\"run-events_per_s\">1234.6<"));
  CU_ASSERT_TRUE(has(html, "id=\"run-plan.imbalance_cost\">1.250000<"));
  CU_ASSERT_TRUE(has(html, "<tr><th>read</th><td><span class=\"bar \"><i style=\"width:25.0%\"></i></span></td>"
                           "<td class=\"num\">0.500000 s</td></tr>"));
  CU_ASSERT_TRUE(has(html, "<tr><th>total</th><td><span class=\"bar dark\"><i style=\"width:100.0%\"></i></span></td>"
                           "<td class=\"num\">2 s</td></tr>"));
  CU_ASSERT_TRUE(has(html, "<h3>x&lt;y</h3><p class=\"note\">All steps within &lt;600&gt; s of the first.</p>"));
  CU_ASSERT_TRUE(has(html, "<h3>a.b</h3><p class=\"note\">All steps within 86400 s (1 day) of the first.</p>"));
  CU_ASSERT_TRUE(has(html, "<td class=\"lbl\">&lt;b&gt;</td><td class=\"num\" id=\"ingest-rejected-~3cb~3e\">1<"));
}

PC_TEST_MAIN("report_json", {"/report_json/store_non_ascii", test_store_non_ascii},
             {"/report_json/truncated", test_truncated}, {"/report_json/not_json", test_not_json},
             {"/report_json/wrong_types", test_wrong_types}, {"/report_json/escaped", test_escaped},
             {"/report_json/quality_events_apart", test_quality_events_apart},
             {"/report_json/batches_from_manifest", test_batches_from_manifest})
