/* test_batch.c - the batch record and the rejects file (src/store/batch.c):
 * the record's exact compact JSON on a hand-made batch, valid JSON for file
 * names with non-ASCII, control and invalid UTF-8 bytes, the generated
 * record, and the rejects file's exact text.
 */
#include "pc_batch.h"
#include "pc_test.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

/* ---- Helpers ----------------------------------------------------------------- */

static GPtrArray *inputs(const char *a, const char *b) {
  GPtrArray *p = g_ptr_array_new();
  g_ptr_array_add(p, (char *)a);
  if (b) g_ptr_array_add(p, (char *)b);
  return p;
}

/* Parses text as JSON: NULL when it is not valid JSON. */
static JsonParser *parse(const char *text) {
  JsonParser *p = json_parser_new();
  if (!json_parser_load_from_data(p, text, -1, NULL)) g_clear_object(&p);
  return p;
}

static const char *input_path(JsonParser *p, guint i) {
  JsonObject *root = json_node_get_object(json_parser_get_root(p));
  JsonArray *in = json_object_get_array_member(root, "inputs");
  return json_object_get_string_member(json_array_get_object_element(in, i), "path");
}

/* ---- The record ----------------------------------------------------------------- */

/* Two inputs, three rejects of two reasons: every key, exact text. */
static void test_record_exact(void) {
  g_autoptr(GPtrArray) in = inputs("data/a.csv", "data/crm.csv");
  PcBatchRecord r = {2, 4096, 3, in, 1, 10, {0}, "rejects-b000002.tsv", NULL, NULL};
  r.by_reason[PC_REJECT_BLANK] = 1;
  r.by_reason[PC_REJECT_VALUE] = 2;
  g_autofree char *j = pc_batch_record_json(&r);
  CU_ASSERT_STRING_EQUAL(j, "{\"batch\":2,\"buckets\":4096,\"ranks\":3,\"inputs\":["
                            "{\"path\":\"data/a.csv\",\"kind\":\"events\"},"
                            "{\"path\":\"data/crm.csv\",\"kind\":\"customers\"}],"
                            "\"rows\":10,\"accepted\":7,\"rejected\":3,"
                            "\"rejected_by_reason\":{\"blank_line\":1,\"bad_value\":2},"
                            "\"rejects_file\":\"rejects-b000002.tsv\"}");
}

/* No reject: an empty object, accepted = rows. */
static void test_record_no_rejects(void) {
  g_autoptr(GPtrArray) in = inputs("x.csv", NULL);
  PcBatchRecord r = {1, 8, 1, in, 1, 5, {0}, "rejects-b000001.tsv", NULL, NULL};
  g_autofree char *j = pc_batch_record_json(&r);
  CU_ASSERT_STRING_EQUAL(j, "{\"batch\":1,\"buckets\":8,\"ranks\":1,\"inputs\":["
                            "{\"path\":\"x.csv\",\"kind\":\"events\"}],"
                            "\"rows\":5,\"accepted\":5,\"rejected\":0,"
                            "\"rejected_by_reason\":{},\"rejects_file\":\"rejects-b000001.tsv\"}");
}

/* Quotes, backslashes, control bytes and UTF-8 come back as they were. */
static void test_record_escapes(void) {
  const char *name = "d\xC3\xA9j\xC3\xA0/\"q\"\\t\x01\x1F\ttab\nnl.csv";
  g_autoptr(GPtrArray) in = inputs(name, NULL);
  PcBatchRecord r = {1, 8, 1, in, 1, 0, {0}, "rejects-b000001.tsv", NULL, NULL};
  g_autofree char *j = pc_batch_record_json(&r);
  CU_ASSERT_TRUE(g_utf8_validate(j, -1, NULL));
  CU_ASSERT_PTR_NULL(strchr(j, '\n')); /* control bytes escaped */
  CU_ASSERT_PTR_NULL(strchr(j, '\x01'));
  g_autoptr(JsonParser) p = parse(j);
  CU_ASSERT_PTR_NOT_NULL_FATAL(p);
  CU_ASSERT_STRING_EQUAL(input_path(p, 0), name);
}

/* Bytes that are not UTF-8 become U+FFFD: still valid JSON. */
static void test_record_invalid_utf8(void) {
  g_autoptr(GPtrArray) in = inputs("a\xFF\xFE" "b.csv", "ok.csv");
  PcBatchRecord r = {1, 8, 1, in, 1, 0, {0}, "rejects-b000001.tsv", NULL, NULL};
  g_autofree char *j = pc_batch_record_json(&r);
  CU_ASSERT_TRUE(g_utf8_validate(j, -1, NULL));
  g_autoptr(JsonParser) p = parse(j);
  CU_ASSERT_PTR_NOT_NULL_FATAL(p);
  CU_ASSERT_STRING_EQUAL(input_path(p, 0), "a\xEF\xBF\xBD\xEF\xBF\xBD" "b.csv");
  CU_ASSERT_STRING_EQUAL(input_path(p, 1), "ok.csv");
}

static void test_generated(void) {
  g_autofree char *j = pc_batch_generated_json(1);
  CU_ASSERT_STRING_EQUAL(j, "{\"batch\":1,\"generated\":true}");
}

/* ---- Rejects --------------------------------------------------------------------- */

static void test_reject_order(void) {
  PcReject a = {0, 9, PC_REJECT_BLANK, NULL, 0, 0}, b = {0, 10, PC_REJECT_BLANK, NULL, 0, 0},
           c = {1, 2, PC_REJECT_BLANK, NULL, 0, 0};
  CU_ASSERT_TRUE(pc_reject_cmp(&a, &b) < 0);
  CU_ASSERT_TRUE(pc_reject_cmp(&b, &c) < 0);
  CU_ASSERT_TRUE(pc_reject_cmp(&c, &a) > 0);
  CU_ASSERT_EQUAL(pc_reject_cmp(&a, &a), 0);
}

/* The file's exact text and the counts per reason. */
static void test_rejects_file(void) {
  g_autofree char *dir = g_dir_make_tmp("pc-test-batch-XXXXXX", NULL);
  g_autofree char *path = g_build_filename(dir, "rejects-b000001.tsv", NULL);
  g_autoptr(GPtrArray) in = inputs("a.csv", "c.csv");
  g_autoptr(GArray) rj = g_array_new(FALSE, FALSE, sizeof(PcReject));
  g_array_set_clear_func(rj, (GDestroyNotify)pc_reject_clear);
  PcReject r1 = pc_reject_make(0, 3, PC_REJECT_VALUE, "c1,0,web,buy,x", 14);
  PcReject r2 = pc_reject_make(1, 2, PC_REJECT_DUPLICATE, "c1,5,gold", 9);
  g_array_append_val(rj, r1);
  g_array_append_val(rj, r2);
  uint64_t by[PC_REJECT_N] = {0};
  CU_ASSERT_TRUE_FATAL(pc_batch_write_rejects(path, rj, in, by, NULL));
  g_autofree char *text = NULL;
  CU_ASSERT_TRUE_FATAL(g_file_get_contents(path, &text, NULL, NULL));
  CU_ASSERT_STRING_EQUAL(text, "file\tline\treason\ttext\n"
                               "a.csv\t3\tbad_value\tc1,0,web,buy,x\n"
                               "c.csv\t2\tduplicate_customer\tc1,5,gold\n");
  CU_ASSERT_EQUAL(by[PC_REJECT_VALUE], 1);
  CU_ASSERT_EQUAL(by[PC_REJECT_DUPLICATE], 1);
  CU_ASSERT_EQUAL(by[PC_REJECT_BLANK], 0);
  g_unlink(path);
  g_rmdir(dir);
}

/* Any byte of a rejected line stays on its one TSV line: NUL, TAB, CR,
 * ESC and DEL escaped, backslash doubled, the rest after a NUL kept; the
 * input's path escaped too. A line over 4096 bytes keeps 4096 and says
 * how many more there were. */
static void test_rejects_escaped(void) {
  g_autofree char *dir = g_dir_make_tmp("pc-test-batch-XXXXXX", NULL);
  g_autofree char *path = g_build_filename(dir, "rejects-b000001.tsv", NULL);
  g_autoptr(GPtrArray) in = inputs("a\tb.csv", NULL);
  g_autoptr(GArray) rj = g_array_new(FALSE, FALSE, sizeof(PcReject));
  g_array_set_clear_func(rj, (GDestroyNotify)pc_reject_clear);
  static const char line[] = "c1,w\0b,\tx\\y\r\x1b\x7f,\xc3\xa9";
  PcReject r1 = pc_reject_make(0, 3, PC_REJECT_CHANNEL, line, sizeof line - 1);
  g_array_append_val(rj, r1);
  GString *big = g_string_new(NULL);
  for (int i = 0; i < 5000; i++) g_string_append_c(big, (char)('a' + i % 26));
  PcReject r2 = pc_reject_make(0, 4, PC_REJECT_COLUMNS, big->str, big->len);
  g_array_append_val(rj, r2);
  uint64_t by[PC_REJECT_N] = {0};
  CU_ASSERT_TRUE_FATAL(pc_batch_write_rejects(path, rj, in, by, NULL));
  g_autofree char *text = NULL;
  CU_ASSERT_TRUE_FATAL(g_file_get_contents(path, &text, NULL, NULL));
  GString *want = g_string_new("file\tline\treason\ttext\n"
                               "a\\tb.csv\t3\tbad_channel\tc1,w\\0b,\\tx\\\\y\\r\\x1B\\x7F,\xc3\xa9\n"
                               "a\\tb.csv\t4\tcolumn_count\t");
  g_string_append_len(want, big->str, 4096);
  g_string_append(want, "\\...[904 more bytes]\n");
  CU_ASSERT_STRING_EQUAL(text, want->str);
  g_string_free(want, TRUE);
  g_string_free(big, TRUE);
  g_unlink(path);
  g_rmdir(dir);
}

/* A directory that does not exist: PC_ERROR_IO. */
static void test_rejects_file_error(void) {
  g_autoptr(GPtrArray) in = inputs("a.csv", NULL);
  g_autoptr(GArray) rj = g_array_new(FALSE, FALSE, sizeof(PcReject));
  uint64_t by[PC_REJECT_N] = {0};
  GError *e = NULL;
  CU_ASSERT_FALSE(pc_batch_write_rejects("/nonexistent-dir/r.tsv", rj, in, by, &e));
  CU_ASSERT_PTR_NOT_NULL_FATAL(e);
  CU_ASSERT_EQUAL(e->domain, PC_ERROR);
  CU_ASSERT_EQUAL(e->code, PC_ERROR_IO);
  g_error_free(e);
}

PC_TEST_MAIN("batch",
             {"/batch/record_exact", test_record_exact},
             {"/batch/record_no_rejects", test_record_no_rejects},
             {"/batch/record_escapes", test_record_escapes},
             {"/batch/record_invalid_utf8", test_record_invalid_utf8},
             {"/batch/generated", test_generated},
             {"/batch/reject_order", test_reject_order},
             {"/batch/rejects_file", test_rejects_file},
             {"/batch/rejects_escaped", test_rejects_escaped},
             {"/batch/rejects_file_error", test_rejects_file_error})
