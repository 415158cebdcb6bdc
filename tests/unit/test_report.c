/* test_report.c - report.html (src/report.c): escaping, numbers equal to
 * the table cells, sections present exactly when their tables are, the
 * size bound, run.json, and the file round trip through results.h5. */
#include "pc_h5io.h"
#include "pc_report.h"
#include "pc_run.h"
#include "pc_test.h"

#include <glib/gstdio.h>
#include <math.h>

/* n rows; the first 50 have path long_path, the others "a > b". */
static PcTable *variants(guint n, const char *long_path) {
  static const char *const cols[] = {"rank:int", "journeys:int", "share:double", "length:int", "path:string"};
  PcTable *t = pc_table_new("variants", cols, 5);
  for (guint i = 0; i < n; i++) {
    pc_table_add_row(t);
    pc_table_set_int(t, 0, i + 1);
    pc_table_set_int(t, 1, 1000 - i);
    pc_table_set_double(t, 2, (1000.0 - i) / 3000.0);
    pc_table_set_int(t, 3, 3);
    pc_table_set_string(t, 4, i < 50 ? long_path : "a > b");
  }
  return t;
}

static PcTable *summary(void) {
  static const char *const cols[] = {"key:string", "value:int"};
  PcTable *t = pc_table_new("summary", cols, 2);
  pc_table_add_row(t);
  pc_table_set_string(t, 0, "customers");
  pc_table_set_int(t, 1, 3000);
  pc_table_add_row(t);
  pc_table_set_string(t, 0, "customers_with_outcome");
  pc_table_set_int(t, 1, 202);
  return t;
}

static PcTable *drivers(void) {
  static const char *const cols[] = {"token:string", "customers:int", "customers_with_outcome:int",
                                     "rate_with:double", "rate_without:double", "lift:double",
                                     "risk_ratio:double", "chi2:double", "coverage:double",
                                     "revenue_at_risk:micros"};
  PcTable *t = pc_table_new("drivers", cols, 10);
  double lift[3] = {1.0 / 7.0, INFINITY, NAN};
  for (int i = 0; i < 3; i++) {
    pc_table_add_row(t);
    pc_table_set_string(t, 0, i ? "a&b" : "<b>\"x\"'");
    pc_table_set_int(t, 1, 10 + i);
    pc_table_set_int(t, 2, 3);
    for (int c = 3; c < 9; c++) pc_table_set_double(t, (guint)c, c == 5 ? lift[i] : -0.0);
    pc_table_set_micros(t, 9, INT64_C(-1500000));
  }
  return t;
}

static PcTable *funnels(void) {
  static const char *const cols[] = {"funnel:string", "split:string", "step:int", "token:string",
                                     "customers:int", "conv_prev:double", "conv_first:double", "drop_off:int"};
  PcTable *t = pc_table_new("funnels", cols, 8);
  const char *split[3] = {"(all)", "(all)", "web"};
  for (int i = 0; i < 3; i++) {
    pc_table_add_row(t);
    pc_table_set_string(t, 0, "buy now");
    pc_table_set_string(t, 1, split[i]);
    pc_table_set_int(t, 2, i == 1 ? 2 : 1);
    pc_table_set_string(t, 3, i == 1 ? "pay" : "visit");
    pc_table_set_int(t, 4, i == 1 ? 40 : 100);
    if (i == 1) {
      pc_table_set_double(t, 5, 0.4);
      pc_table_set_int(t, 7, 60);
    }
    pc_table_set_double(t, 6, i == 1 ? 0.4 : 1.0);
  }
  return t;
}

static char *render(GPtrArray *tables, const char *run_json) {
  PcReportInput in = {tables, run_json, NULL};
  return pc_report_render(&in);
}

static GPtrArray *tables_new(void) {
  return g_ptr_array_new_with_free_func((GDestroyNotify)pc_table_free);
}

static void test_escape(void) {
  g_autoptr(GString) s = g_string_new(NULL);
  pc_report_escape(s, "<a href=\"x\">&'\x01", -1);
  CU_ASSERT_STRING_EQUAL(s->str, "&lt;a href=&quot;x&quot;&gt;&amp;&#39;\xef\xbf\xbd");
  g_string_truncate(s, 0);
  pc_report_escape(s, "ab<cd", 3);
  CU_ASSERT_STRING_EQUAL(s->str, "ab&lt;");
}

static void test_escape_in_page(void) {
  g_autoptr(GPtrArray) t = tables_new();
  g_ptr_array_add(t, variants(2, "<script>alert(1)</script> > a&b"));
  g_ptr_array_add(t, drivers());
  g_autofree char *html = render(t, NULL);
  CU_ASSERT_PTR_NULL(strstr(html, "<script"));
  CU_ASSERT_PTR_NOT_NULL(strstr(html, "&lt;script&gt;alert(1)&lt;/script&gt;"));
  CU_ASSERT_PTR_NOT_NULL(strstr(html, "<span class=\"tok\">a&amp;b</span>"));
  CU_ASSERT_PTR_NOT_NULL(strstr(html, "&lt;b&gt;&quot;x&quot;&#39;"));
  CU_ASSERT_PTR_NULL(strstr(html, "http://"));
  CU_ASSERT_PTR_NULL(strstr(html, "https://"));
}

static void test_numbers(void) {
  g_autoptr(GPtrArray) t = tables_new();
  g_ptr_array_add(t, summary());
  g_ptr_array_add(t, variants(3, "a > b > c"));
  g_ptr_array_add(t, drivers());
  g_ptr_array_add(t, funnels());
  g_autofree char *html = render(t, NULL);
  CU_ASSERT_PTR_NOT_NULL(strstr(html, "id=\"summary-customers\">3000<"));
  CU_ASSERT_PTR_NOT_NULL(strstr(html, "id=\"variants-1-journeys\">1000<"));
  CU_ASSERT_PTR_NOT_NULL(strstr(html, "id=\"variants-1-share\">0.333333333333<"));
  CU_ASSERT_PTR_NOT_NULL(strstr(html, "id=\"variants-2-share\">0.333<"));
  CU_ASSERT_PTR_NOT_NULL(strstr(html, "id=\"drivers-1-lift\">0.142857142857<"));
  CU_ASSERT_PTR_NOT_NULL(strstr(html, "id=\"drivers-2-lift\">inf<"));
  CU_ASSERT_PTR_NOT_NULL(strstr(html, "id=\"drivers-3-lift\">nan<"));
  CU_ASSERT_PTR_NOT_NULL(strstr(html, "id=\"drivers-1-chi2\">0<"));
  CU_ASSERT_PTR_NOT_NULL(strstr(html, "id=\"drivers-1-revenue_at_risk\">-1.500000<"));
  CU_ASSERT_PTR_NOT_NULL(strstr(html, "id=\"funnel-buy~20now-all-step-1-customers\">100<"));
  CU_ASSERT_PTR_NOT_NULL(strstr(html, "id=\"funnel-buy~20now-all-step-1-conv_prev\"></td>"));
  CU_ASSERT_PTR_NOT_NULL(strstr(html, "id=\"funnel-buy~20now-all-step-2-conv_prev\">0.4<"));
  CU_ASSERT_PTR_NOT_NULL(strstr(html, "id=\"funnel-buy~20now-all-step-2-drop_off\">60<"));
  CU_ASSERT_PTR_NOT_NULL(strstr(html, "id=\"funnel-buy~20now-ch-web-step-1-customers\">100<"));
}

static void test_absent(void) {
  g_autoptr(GPtrArray) t = tables_new();
  g_ptr_array_add(t, summary());
  g_autofree char *html = render(t, NULL);
  CU_ASSERT_PTR_NOT_NULL(strstr(html, "<section id=\"summary\">"));
  static const char *const absent[] = {"journeys", "preceding", "funnels", "drivers", "channels", "model", "run", "quality"};
  for (guint i = 0; i < G_N_ELEMENTS(absent); i++) {
    g_autofree char *sec = g_strdup_printf("<section id=\"%s\">", absent[i]);
    g_autofree char *nav = g_strdup_printf("href=\"#%s\"", absent[i]);
    CU_ASSERT_PTR_NULL(strstr(html, sec));
    CU_ASSERT_PTR_NULL(strstr(html, nav));
  }
  g_ptr_array_add(t, drivers());
  g_autofree char *with = render(t, NULL);
  CU_ASSERT_PTR_NOT_NULL(strstr(with, "<section id=\"drivers\">"));
  CU_ASSERT_PTR_NULL(strstr(with, "<section id=\"funnels\">"));
}

/* Huge tables: every list is capped, so the page stays small. */
static void test_size_bound(void) {
  g_autoptr(GPtrArray) t = tables_new();
  GString *path = g_string_new("x");
  for (int i = 0; i < 2000; i++) g_string_append(path, " > <&token_with_a_long_name_of_sixty_three_bytes_for_this_test>");
  g_ptr_array_add(t, variants(20000, path->str));
  g_string_free(path, TRUE);
  static const char *const rc[] = {"threshold:double", "fpr:double", "tpr:double"};
  PcTable *roc = pc_table_new("roc", rc, 3);
  for (int i = 0; i < 200000; i++) {
    pc_table_add_row(roc);
    pc_table_set_double(roc, 0, 1 - i / 2e5);
    pc_table_set_double(roc, 1, i / 2e5);
    pc_table_set_double(roc, 2, sqrt(i / 2e5));
  }
  g_ptr_array_add(t, roc);
  static const char *const pc[] = {"depth:int", "path:string", "reach:int", "end:int", "target:int"};
  PcTable *tree = pc_table_new("prefix_tree", pc, 5);
  for (int i = 0; i < 50000; i++) {
    char p[64];
    snprintf(p, sizeof p, "t%d", i);
    pc_table_add_row(tree);
    pc_table_set_int(tree, 0, 1);
    pc_table_set_string(tree, 1, p);
    pc_table_set_int(tree, 2, 100 + i % 7);
    pc_table_set_int(tree, 3, 1);
    pc_table_set_int(tree, 4, i % 3);
  }
  g_ptr_array_add(t, tree);
  g_autofree char *html = render(t, NULL);
  CU_ASSERT(strlen(html) < PC_REPORT_MAX_BYTES);
  CU_ASSERT_PTR_NOT_NULL(strstr(html, "id=\"variants-20-journeys\">981<"));
  CU_ASSERT_PTR_NULL(strstr(html, "id=\"variants-21-journeys\""));
}

/* run.json as `parcours run` leaves it while drawing: the job only, no
 * timings: no run section, so the page does not depend on the scale. */
static void test_run_json_job_only(void) {
  g_autoptr(GPtrArray) t = tables_new();
  g_ptr_array_add(t, summary());
  g_autofree char *html = render(t, "{\"job\":{\"target\":{\"event\":[\"churn\"]}},\"input\":{\"store\":\"s\"}}");
  CU_ASSERT_PTR_NULL(strstr(html, "<section id=\"run\">"));
  CU_ASSERT_PTR_NOT_NULL(strstr(html, "churn"));
}

static void test_run_json(void) {
  g_autoptr(GPtrArray) t = tables_new();
  g_ptr_array_add(t, summary());
  const char *run = "{\"job\":{\"target\":{\"event\":[\"churn\",\"le\\u00e9<ve\"],\"lookback\":5}},"
                    "\"ranks\":2,\"threads\":4,\"plan\":{\"strategy\":\"balanced\",\"imbalance_cost\":1.000000,"
                    "\"rank_events\":[5,6]},\"phases\":{\"read\":0.5,\"total\":1.25},"
                    "\"wall_s\":1.25,\"peak_rss_bytes\":[1048576,2097152],\"model\":null}";
  g_autofree char *html = render(t, run);
  CU_ASSERT_PTR_NOT_NULL(strstr(html, "<section id=\"run\">"));
  CU_ASSERT_PTR_NOT_NULL(strstr(html, "id=\"run-ranks\">2<"));
  CU_ASSERT_PTR_NOT_NULL(strstr(html, "id=\"run-plan.imbalance_cost\">1.000000<"));
  CU_ASSERT_PTR_NOT_NULL(strstr(html, "target: churn or le\xc3\xa9&lt;ve"));
  CU_ASSERT_PTR_NOT_NULL(strstr(html, "2.0 MiB"));
  static const char *const bad[] = {"{\"ranks\":2", "[1,2,,]", "{\"a\":\"\\x\"}", "", "{} x"};
  for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_autofree char *b = render(t, bad[i]);
    CU_ASSERT_PTR_NULL(strstr(b, "<section id=\"run\">"));
  }
}

/* results.h5 -> report.html: the page shows what results.h5 holds, also
 * for a money column that results.h5 stores as plain integers. */
static void test_file_round_trip(void) {
  pc_h5io_quiet();
  g_autofree char *dir = g_dir_make_tmp("pc-report-XXXXXX", NULL);
  g_autoptr(GPtrArray) t = tables_new();
  g_ptr_array_add(t, summary());
  g_ptr_array_add(t, variants(3, "a > b"));
  g_ptr_array_add(t, drivers());
  g_ptr_array_add(t, funnels());
  g_autofree char *h5 = g_build_filename(dir, "results.h5", NULL);
  CU_ASSERT_TRUE(pc_h5io_write_results(h5, t, NULL));
  g_autoptr(GError) e = NULL;
  CU_ASSERT_TRUE(pc_run_report(dir, NULL, TRUE, &e));
  g_autofree char *out = g_build_filename(dir, "report.html", NULL);
  g_autofree char *html = NULL;
  CU_ASSERT_TRUE(g_file_get_contents(out, &html, NULL, NULL));
  CU_ASSERT_PTR_NOT_NULL(html && strstr(html, "id=\"variants-1-share\">0.333333333333<"));
  CU_ASSERT_PTR_NOT_NULL(html && strstr(html, "id=\"drivers-1-revenue_at_risk\">-1.500000<"));
  CU_ASSERT_PTR_NOT_NULL(html && strstr(html, "id=\"drivers-1-chi2\">0<"));
  CU_ASSERT_PTR_NOT_NULL(html && strstr(html, "id=\"funnel-buy~20now-all-step-1-conv_prev\"></td>"));
  CU_ASSERT_PTR_NOT_NULL(html && strstr(html, "id=\"funnel-buy~20now-all-step-1-drop_off\"></td>"));
  CU_ASSERT_PTR_NULL(html ? strstr(html, "<section id=\"model\">") : NULL);
  /* nothing but results.h5 and report.html: no temporary left behind */
  GDir *d = g_dir_open(dir, 0, NULL);
  guint files = 0;
  for (const char *n; (n = g_dir_read_name(d)); files++) {
    g_autofree char *f = g_build_filename(dir, n, NULL);
    g_remove(f);
  }
  g_dir_close(d);
  CU_ASSERT_EQUAL(files, 2);
  g_rmdir(dir);
  /* no results.h5: an I/O error, no page */
  g_autoptr(GError) e2 = NULL;
  CU_ASSERT_FALSE(pc_run_report("/nonexistent/pc-report", NULL, TRUE, &e2));
  CU_ASSERT_TRUE(g_error_matches(e2, PC_ERROR, PC_ERROR_IO));
}


/* segments.csv and retention.csv (spec §12, §13): the segment section with
 * the cells as csv/ writes them and names escaped; the heat map with one
 * cell per retention row, cohorts as row labels; neither section without
 * its table. 40 cohorts: only the latest 36 are drawn. */
static void test_monthly_sections(void) {
  static const char *const sc[] = {"segment:string", "customers:int", "events:int", "customers_with_outcome:int",
                                   "outcome_rate:double", "revenue:micros", "revenue_at_risk:micros"};
  static const char *const rc[] = {"cohort:string", "period:int", "customers:int", "active:int", "rate:double"};
  g_autoptr(GPtrArray) tables = g_ptr_array_new_with_free_func((GDestroyNotify)pc_table_free);
  PcTable *s = pc_table_new("segments", sc, 7);
  pc_table_add_row(s);
  pc_table_set_string(s, 0, "<gold>");
  pc_table_set_int(s, 1, 3);
  pc_table_set_int(s, 2, 9);
  pc_table_set_int(s, 3, 1);
  pc_table_set_double(s, 4, 1.0 / 3.0);
  pc_table_set_micros(s, 5, 10250000);
  pc_table_set_micros(s, 6, 0);
  g_ptr_array_add(tables, s);
  PcReportInput in = {tables, NULL, NULL};
  g_autofree char *h1 = pc_report_render(&in);
  CU_ASSERT_PTR_NOT_NULL(strstr(h1, "<section id=\"segments\">"));
  CU_ASSERT_PTR_NULL(strstr(h1, "<section id=\"retention\">"));
  CU_ASSERT_PTR_NOT_NULL(strstr(h1, "&lt;gold&gt;"));
  CU_ASSERT_PTR_NOT_NULL(strstr(h1, ">0.333333333333</td>"));
  CU_ASSERT_PTR_NOT_NULL(strstr(h1, ">10.250000</td>"));
  PcTable *r = pc_table_new("retention", rc, 5);
  for (int c = 0; c < 40; c++)
    for (int j = 0; j < 2; j++) {
      g_autofree char *date = g_strdup_printf("20%02d-01-01", c);
      pc_table_add_row(r);
      pc_table_set_string(r, 0, date);
      pc_table_set_int(r, 1, j);
      pc_table_set_int(r, 2, 4);
      pc_table_set_int(r, 3, j ? 1 : 4);
      pc_table_set_double(r, 4, j ? 0.25 : 1);
    }
  g_ptr_array_add(tables, r);
  g_autofree char *h2 = pc_report_render(&in);
  const char *sec = strstr(h2, "<section id=\"retention\">");
  CU_ASSERT_PTR_NOT_NULL_FATAL(sec);
  guint rects = 0;
  for (const char *q = sec; (q = strstr(q, "<rect")); q++) rects++;
  CU_ASSERT_EQUAL(rects, 36 * 2);
  CU_ASSERT_PTR_NULL(strstr(sec, ">2003-01-01<"));
  CU_ASSERT_PTR_NOT_NULL(strstr(sec, ">2004-01-01<"));
  CU_ASSERT_PTR_NOT_NULL(strstr(sec, ">25.0%<"));
  CU_ASSERT_PTR_NOT_NULL(strstr(sec, "The latest 36 of 40 cohorts are shown."));
}

/* flows.csv rows: a before flow and an after flow on one anchor. */
static PcTable *flows(guint n_after) {
  static const char *const cols[] = {"flow:string", "rank:int", "customers:int", "share:double",
                                     "outcome_rate:double", "path:string"};
  PcTable *t = pc_table_new("flows", cols, 6);
  const char *after[] = {"<agent> > churn", "$", "pay"};
  const char *before[] = {"visit", "^", "visit > bill"};
  for (guint i = 0; i < n_after + 3; i++) {
    gboolean a = i < n_after;
    guint k = a ? i : i - n_after;
    pc_table_add_row(t);
    pc_table_set_string(t, 0, a ? "a issue" : "b_issue");
    pc_table_set_int(t, 1, k + 1);
    pc_table_set_int(t, 2, k < 3 ? 40 - 10 * k : 1);
    pc_table_set_double(t, 3, (k < 3 ? 40 - 10 * k : 1) / 100.0);
    pc_table_set_double(t, 4, 0.5);
    if (a && k >= 3) {
      char path[32];
      snprintf(path, sizeof path, "p%u > q", k);
      pc_table_set_string(t, 5, path);
    } else {
      pc_table_set_string(t, 5, a ? after[k] : before[k]);
    }
  }
  return t;
}

static PcTable *one_row(const char *name, const char *const *cols, guint nc, const char *first,
                        const double *v) {
  PcTable *t = pc_table_new(name, cols, nc);
  pc_table_add_row(t);
  pc_table_set_string(t, 0, first);
  for (guint c = 1; c < nc; c++) {
    if (strstr(cols[c], ":int")) pc_table_set_int(t, c, (int64_t)v[c - 1]);
    else if (strstr(cols[c], ":micros")) pc_table_set_micros(t, c, (PcMoney)v[c - 1]);
    else pc_table_set_double(t, c, v[c - 1]);
  }
  return t;
}

/* The §15-§18 sections: a centred flow chart per anchor (directions from
 * run.json), tables with ids, "$" as journey end; sequence drivers, time to
 * the target (an empty percentile stays empty) and attribution models. */
static void test_deeper_sections(void) {
  g_autoptr(GPtrArray) t = tables_new();
  g_ptr_array_add(t, summary());
  g_ptr_array_add(t, flows(3));
  static const char *const sc[] = {"path:string", "n:int", "customers:int", "customers_with_outcome:int",
                                   "rate_with:double", "rate_without:double", "lift:double", "risk_ratio:double",
                                   "chi2:double", "coverage:double", "revenue_at_risk:micros"};
  const double sv[] = {2, 50, 40, 0.8, 0.1, 4, 8, 123.5, 0.2, 2500000};
  g_ptr_array_add(t, one_row("sequence_drivers", sc, 11, "ivr_failure > call_agent", sv));
  static const char *const tc[] = {"token:string", "customers:int", "p25_s:double", "median_s:double", "p90_s:double"};
  const double tv[] = {7, 3600, 86400, 604800};
  g_ptr_array_add(t, one_row("time_to_target", tc, 5, "^", tv));
  static const char *const ac[] = {"channel:string", "position_based:double", "time_decay:double",
                                   "markov_removal_effect:double", "markov_share:double", "markov_conversions:double"};
  const double av[] = {1.5, 2.25, 0.5, 1, 202};
  g_ptr_array_add(t, one_row("attribution_models", ac, 6, "web", av));
  const char *run = "{\"job\":{\"target\":{\"event\":[\"churn\"]},\"attribution\":{\"markov_order\":2,"
                    "\"half_life\":604800.0},\"flow\":{\"a issue\":{\"anchor\":\"issue\",\"direction\":\"after\"},"
                    "\"b_issue\":{\"anchor\":\"issue\",\"direction\":\"before\"}}}}";
  g_autofree char *html = render(t, run);
  static const char *const want[] = {
      "<section id=\"flows\">", "<h3>Around issue</h3>", "class=\"sankey\"", "journey end",
      "&lt;agent&gt;", "id=\"flow-a~20issue-1-customers\">40<", "id=\"flow-b_issue-3-share\">0.2<",
      "<section id=\"sequences\">", "id=\"sequence_drivers-1-chi2\">123.5<",
      "id=\"sequence_drivers-1-revenue_at_risk\">2.500000<", "<section id=\"time_to_target\">",
      "id=\"time_to_target-1-median_s\">86400<", "<section id=\"attribution_models\">",
      "id=\"attribution_models-1-time_decay\">2.25<", "last 2 channels", "604800 s"};
  for (guint i = 0; i < G_N_ELEMENTS(want); i++) {
    gboolean has = strstr(html, want[i]) != NULL;
    if (!has) fprintf(stderr, "\nmissing: %s\n", want[i]);
    CU_ASSERT_TRUE(has);
  }
  /* one chart for both flows of the anchor */
  CU_ASSERT_PTR_NULL(strstr(strstr(html, "<h3>Around issue</h3>") + 1, "<h3>Around issue</h3>"));
}

/* Without run.json the flow whose paths hold "^" is the before flow, and
 * a flow of 20000 paths keeps the page small. */
static void test_flows_without_run_json(void) {
  g_autoptr(GPtrArray) t = tables_new();
  g_ptr_array_add(t, flows(20000));
  g_autofree char *html = render(t, NULL);
  CU_ASSERT(strlen(html) < 200000);
  CU_ASSERT_PTR_NOT_NULL(strstr(html, "b_issue: the events before"));
  CU_ASSERT_PTR_NOT_NULL(strstr(html, "a issue: the events after"));
  CU_ASSERT_PTR_NOT_NULL(strstr(html, "id=\"flow-a~20issue-10-customers\">1<"));
  CU_ASSERT_PTR_NULL(strstr(html, "id=\"flow-a~20issue-11-customers\""));
}

PC_TEST_MAIN("report", {"/report/monthly_sections", test_monthly_sections}, {"/report/escape", test_escape}, {"/report/escape_in_page", test_escape_in_page},
             {"/report/numbers", test_numbers}, {"/report/absent", test_absent},
             {"/report/size_bound", test_size_bound}, {"/report/run_json", test_run_json}, {"/report/run_json_job_only", test_run_json_job_only},
             {"/report/file_round_trip", test_file_round_trip},
             {"/report/deeper_sections", test_deeper_sections},
             {"/report/flows_without_run_json", test_flows_without_run_json})
