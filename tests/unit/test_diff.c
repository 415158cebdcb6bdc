/* test_diff.c - CUnit cases for one table of `parcours diff` (spec §14;
 * src/report/diff_table.c) and its page (diff_page.c): the z test worked
 * by hand, rows on one side only, exact money deltas at the 128-bit limit,
 * the same bytes from results.h5 cells and from csv/ text, variants keyed
 * by path, and what the page shows. */
#include "pc_diff.h"
#include "pc_report.h"
#include "pc_test.h"

#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <unistd.h>

static PcTextTable *parse(const char *name, const char *csv) {
  PcTextTable *t = NULL;
  GError *e = NULL;
  gboolean ok = pc_text_table_parse(name, csv, &t, &e);
  if (!ok) fprintf(stderr, "\n%s\n", e->message);
  CU_ASSERT_TRUE_FATAL(ok);
  return t;
}

/* The CSV bytes of a table, as diff writes DIR/csv/. */
static char *csv_of(const PcTable *t) {
  char *path = NULL, *text = NULL;
  int fd = g_file_open_tmp("pc-diff-XXXXXX.csv", &path, NULL);
  if (fd >= 0) close(fd);
  if (path && pc_table_write_csv(t, path, NULL)) g_file_get_contents(path, &text, NULL, NULL);
  if (path) g_unlink(path);
  g_free(path);
  return text;
}

static char *diff_csv(const char *name, const char *prev, const char *cur) {
  g_autoptr(PcTextTable) p = parse(name, prev);
  g_autoptr(PcTextTable) c = parse(name, cur);
  g_autoptr(PcTable) d = pc_diff_table(p, c);
  CU_ASSERT_PTR_NOT_NULL_FATAL(d);
  return csv_of(d);
}

/* 30 of 100 converted before, 45 of 100 now. Pooled p = 75/200 = 0.375;
 * variance 0.375 * 0.625 * (1/100 + 1/100) = 0.0046875, sd 0.0684653;
 * z = (0.45 - 0.30) / 0.0684653 = 2.19089; two-sided p = erfc(z / sqrt 2)
 * = 0.0284597. 12 of 40 against 5 of 50: pooled 17/90, z = -2.40869,
 * p = 0.0160100. */
static void test_ztest_by_hand(void) {
  double z, p;
  pc_diff_ztest(30, 100, 45, 100, &z, &p);
  CU_ASSERT_DOUBLE_EQUAL(z, 2.19089023002, 1e-10);
  CU_ASSERT_DOUBLE_EQUAL(p, 0.0284597369163, 1e-12);
  pc_diff_ztest(12, 40, 5, 50, &z, &p);
  CU_ASSERT_DOUBLE_EQUAL(z, -2.40868693771, 1e-10);
  CU_ASSERT_DOUBLE_EQUAL(p, 0.0160100247411, 1e-12);
  pc_diff_ztest(0, 10, 0, 20, &z, &p); /* pooled variance 0 */
  CU_ASSERT_TRUE(isnan(z) && isnan(p));
  pc_diff_ztest(10, 10, 20, 20, &z, &p);
  CU_ASSERT_TRUE(isnan(z) && isnan(p));
  pc_diff_ztest(0, 0, 3, 5, &z, &p); /* an empty side */
  CU_ASSERT_TRUE(isnan(z) && isnan(p));
}

/* Funnel f: split web only before, app only now. Rows: CUR's in its order,
 * then PREV's own; empty cells for the missing side, z and p_value empty
 * there, nan on step 1; (all) step 2 is the hand case above. */
static void test_funnels_one_side(void) {
  g_autofree char *csv = diff_csv("funnels",
      "funnel,split,step,token,customers,conv_prev,conv_first,drop_off\n"
      "f,(all),1,a,100,,1,\nf,(all),2,b,30,0.3,0.3,70\n"
      "f,web,1,a,40,,1,\nf,web,2,b,12,0.3,0.3,28\n",
      "funnel,split,step,token,customers,conv_prev,conv_first,drop_off\n"
      "f,(all),1,a,100,,1,\nf,(all),2,b,45,0.45,0.45,55\n"
      "f,app,1,a,50,,1,\nf,app,2,b,5,0.1,0.1,45\n");
  CU_ASSERT_STRING_EQUAL(csv,
      "funnel,split,step,token,customers_prev,customers_cur,customers_delta,"
      "conv_first_prev,conv_first_cur,conv_first_delta,z,p_value\n"
      "f,(all),1,a,100,100,0,1,1,0,nan,nan\n"
      "f,(all),2,b,30,45,15,0.3,0.45,0.15,2.19089023002,0.0284597369163\n"
      "f,app,1,a,,50,,,1,,,\n"
      "f,app,2,b,,5,,,0.1,,,\n"
      "f,web,1,a,40,,,1,,,,\n"
      "f,web,2,b,12,,,0.3,,,,\n");
}

/* Money at the 128-bit limit (2^127 - 1 millionths) and signs; a double
 * nan propagates; an integer delta never wraps. */
static void test_segments_exact(void) {
  g_autofree char *csv = diff_csv("segments",
      "segment,customers,events,customers_with_outcome,outcome_rate,revenue,revenue_at_risk\n"
      "gold,9223372036854775807,1,0,nan,170141183460469231731687303715884.105727,-1.500000\n",
      "segment,customers,events,customers_with_outcome,outcome_rate,revenue,revenue_at_risk\n"
      "gold,-9223372036854775807,2,1,0.5,0.000001,2.250000\n");
  CU_ASSERT_STRING_EQUAL(csv,
      "segment,customers_prev,customers_cur,customers_delta,events_prev,events_cur,events_delta,"
      "customers_with_outcome_prev,customers_with_outcome_cur,customers_with_outcome_delta,"
      "outcome_rate_prev,outcome_rate_cur,outcome_rate_delta,revenue_prev,revenue_cur,revenue_delta,"
      "revenue_at_risk_prev,revenue_at_risk_cur,revenue_at_risk_delta\n"
      "gold,9223372036854775807,-9223372036854775807,-18446744073709551614,1,2,1,0,1,1,nan,0.5,nan,"
      "170141183460469231731687303715884.105727,0.000001,-170141183460469231731687303715884.105726,"
      "-1.500000,2.250000,3.750000\n");
}

/* channels as a typed table (what results.h5 gives) and as its csv/ text
 * give the same diff bytes. */
static void test_same_from_h5_and_csv(void) {
  static const char *const cols[] = {"channel:string", "events:int", "customers:int", "customers_pre:int",
                                     "outcome_rate:double", "value_sum:micros", "value_mean:double"};
  g_autoptr(PcTable) t = pc_table_new("channels", cols, 7);
  pc_table_add_row(t);
  pc_table_set_string(t, 0, "web");
  pc_table_set_int(t, 1, 10);
  pc_table_set_int(t, 2, 4);
  pc_table_set_int(t, 3, 3);
  pc_table_set_double(t, 4, 1.0 / 3.0);
  pc_table_set_micros(t, 5, (PcMoney)1234567);
  pc_table_set_double(t, 6, 0.1234567);
  g_autofree char *text = csv_of(t);
  g_autoptr(PcTextTable) typed = pc_text_table_from(t);
  g_autoptr(PcTextTable) parsed = parse("channels", text);
  g_autoptr(PcTextTable) cur = parse("channels",
      "channel,events,customers,customers_pre,outcome_rate,value_sum,value_mean\n"
      "web,12,5,3,0.25,2.000000,0.1\n");
  g_autoptr(PcTable) a = pc_diff_table(typed, cur);
  g_autoptr(PcTable) b = pc_diff_table(parsed, cur);
  g_autofree char *ca = csv_of(a), *cb = csv_of(b);
  CU_ASSERT_STRING_EQUAL(ca, cb);
  CU_ASSERT_STRING_EQUAL(ca,
      "channel,events_prev,events_cur,events_delta,customers_prev,customers_cur,customers_delta,"
      "outcome_rate_prev,outcome_rate_cur,outcome_rate_delta,value_sum_prev,value_sum_cur,value_sum_delta\n"
      "web,10,12,2,4,5,1,0.333333333333,0.25,-0.083333333333,1.234567,2.000000,0.765433\n");
}

/* Variants are keyed by path (their rank is compared); retention is not
 * compared (pc_diff_table gives NULL). */
static void test_variants_and_uncompared(void) {
  g_autofree char *csv = diff_csv("variants",
      "rank,journeys,share,length,path\n1,5,0.5,2,a > b\n2,3,0.3,1,a\n",
      "rank,journeys,share,length,path\n1,4,0.4,1,a\n2,4,0.4,2,a > b\n3,2,0.2,1,c\n");
  CU_ASSERT_STRING_EQUAL(csv,
      "path,journeys_prev,journeys_cur,journeys_delta,share_prev,share_cur,share_delta,"
      "rank_prev,rank_cur,rank_delta\n"
      "a,3,4,1,0.3,0.4,0.1,2,1,-1\n"
      "a > b,5,4,-1,0.5,0.4,-0.1,1,2,1\n"
      "c,,2,,,0.2,,,3,\n");
  CU_ASSERT_FALSE(pc_diff_compares("retention"));
  CU_ASSERT_TRUE(pc_diff_compares("segments"));
  g_autoptr(PcTextTable) r = parse("retention", "cohort,period,customers,active,rate\n");
  CU_ASSERT_PTR_NULL(pc_diff_table(r, r));
}

static void test_parse_errors(void) {
  PcTextTable *t = NULL;
  GError *e = NULL;
  CU_ASSERT_FALSE(pc_text_table_parse("x", "a,b\n1,2,3\n", &t, &e));
  CU_ASSERT_EQUAL(e->code, PC_ERROR_FORMAT);
  CU_ASSERT_PTR_NOT_NULL(strstr(e->message, "x.csv: line 2"));
  g_clear_error(&e);
  CU_ASSERT_FALSE(pc_text_table_parse("x", "", &t, &e));
  CU_ASSERT_EQUAL(e->code, PC_ERROR_FORMAT);
  g_clear_error(&e);
  CU_ASSERT_PTR_NULL(t);
}

/* The page: the funnel step with the largest change first, escaped names,
 * the one-sided tables and settings, no script, a section only for the
 * tables present. */
static void test_page(void) {
  g_autoptr(PcTextTable) p = parse("funnels",
      "funnel,split,step,token,customers,conv_prev,conv_first,drop_off\n"
      "f,(all),1,a,100,,1,\nf,(all),2,b,30,0.3,0.3,70\nf,<x>,1,a,10,,1,\nf,<x>,2,b,1,0.1,0.1,9\n");
  g_autoptr(PcTextTable) c = parse("funnels",
      "funnel,split,step,token,customers,conv_prev,conv_first,drop_off\n"
      "f,(all),1,a,100,,1,\nf,(all),2,b,45,0.45,0.45,55\nf,<x>,1,a,10,,1,\nf,<x>,2,b,2,0.2,0.2,8\n");
  g_autoptr(GPtrArray) tables = g_ptr_array_new_with_free_func((GDestroyNotify)pc_table_free);
  g_ptr_array_add(tables, pc_diff_table(p, c));
  g_autoptr(GPtrArray) op = g_ptr_array_new(), oc = g_ptr_array_new(), job = g_ptr_array_new();
  g_ptr_array_add(oc, "retention");
  g_ptr_array_add(job, "input.from");
  g_ptr_array_add(job, "\"2024-05-01T00:00:00Z\"");
  g_ptr_array_add(job, "\"2024-06-01T00:00:00Z\"");
  PcDiffPage in = {"out/2024-05", "out/2024-06", tables, op, oc, job};
  g_autofree char *html = pc_diff_render(&in);
  CU_ASSERT_PTR_NOT_NULL(strstr(html, "<section id=\"funnels\">"));
  CU_ASSERT_PTR_NULL(strstr(html, "<section id=\"drivers\">"));
  CU_ASSERT_PTR_NULL(strstr(html, "<script"));
  CU_ASSERT_PTR_NULL(strstr(html, "<x>"));
  const char *big = strstr(html, "0.0284597369163"), *small = strstr(html, "&lt;x&gt;</td><td class=\"num\">2<");
  CU_ASSERT_TRUE(big && small && big < small); /* (all) moved 0.15, <x> 0.1 */
  CU_ASSERT_PTR_NOT_NULL(strstr(html, "Tables only in the current run:</b> retention"));
  CU_ASSERT_PTR_NOT_NULL(strstr(html, "input.from"));
  CU_ASSERT_TRUE(strlen(html) < PC_REPORT_MAX_BYTES);
}

PC_TEST_MAIN("diff",
             {"/diff/ztest_by_hand", test_ztest_by_hand},
             {"/diff/funnels_one_side", test_funnels_one_side},
             {"/diff/segments_exact", test_segments_exact},
             {"/diff/same_from_h5_and_csv", test_same_from_h5_and_csv},
             {"/diff/variants_and_uncompared", test_variants_and_uncompared},
             {"/diff/parse_errors", test_parse_errors},
             {"/diff/page", test_page})
