/* test_table.c - PcTable of src/table.c: the number formats of spec §10
 * (%.12g doubles, -0 -> 0, inf/nan literals, exactly 6 decimals for
 * millionths), cell getters and the CSV file, compared as whole text.
 * Temporary files live in a g_dir_make_tmp directory, removed at the end.
 */
#include "pc_table.h"
#include "pc_test.h"

#include <stdio.h>

#include <errno.h>
#include <glib/gstdio.h>
#include <math.h>

/* ---- Helpers ------------------------------------------------------------ */

static char *make_tmp_dir(void) {
  char *dir = g_dir_make_tmp("pc-test-table-XXXXXX", NULL);
  g_assert(dir);
  return dir;
}

/* Removes the files of dir (one level), then dir. */
static void rm_tmp_dir(const char *dir) {
  GDir *d = g_dir_open(dir, 0, NULL);
  const char *n;
  while (d && (n = g_dir_read_name(d))) {
    g_autofree char *p = g_build_filename(dir, n, NULL);
    g_unlink(p);
  }
  if (d) g_dir_close(d);
  g_rmdir(dir);
}

/* Number of entries of dir. */
static guint count_entries(const char *dir) {
  GDir *d = g_dir_open(dir, 0, NULL);
  guint n = 0;
  while (d && g_dir_read_name(d)) n++;
  if (d) g_dir_close(d);
  return n;
}

static char *slurp(const char *path) {
  char *text = NULL;
  if (!g_file_get_contents(path, &text, NULL, NULL)) return NULL;
  return text;
}

static const char *const COLS4[] = {"rank:int", "share:double",
                                    "value_sum:micros", "path:string"};

/* ---- pc_fmt_double --------------------------------------------------------- */

static const char *fd(char *buf, double v) { return pc_fmt_double(buf, v); }

/* %.12g: 0.1 -> "0.1"; 1/3 -> 12 significant digits "0.333333333333";
 * 2.5 -> "2.5"; 100 -> "100"; -7.25 -> "-7.25". */
static void test_fmt_double_plain(void) {
  char b[PC_MONEY_BYTES];
  CU_ASSERT_STRING_EQUAL(fd(b, 0.1), "0.1");
  CU_ASSERT_STRING_EQUAL(fd(b, 1.0 / 3.0), "0.333333333333");
  CU_ASSERT_STRING_EQUAL(fd(b, 2.0 / 3.0), "0.666666666667"); /* rounded */
  CU_ASSERT_STRING_EQUAL(fd(b, 2.5), "2.5");
  CU_ASSERT_STRING_EQUAL(fd(b, 100.0), "100");
  CU_ASSERT_STRING_EQUAL(fd(b, -7.25), "-7.25");
  CU_ASSERT_STRING_EQUAL(fd(b, 1.0), "1");
}

/* Zero of either sign is "0"; nan/inf are the literals of §10. */
static void test_fmt_double_special(void) {
  char b[PC_MONEY_BYTES];
  CU_ASSERT_STRING_EQUAL(fd(b, 0.0), "0");
  CU_ASSERT_STRING_EQUAL(fd(b, -0.0), "0");
  CU_ASSERT_STRING_EQUAL(fd(b, NAN), "nan");
  CU_ASSERT_STRING_EQUAL(fd(b, -NAN), "nan");
  CU_ASSERT_STRING_EQUAL(fd(b, INFINITY), "inf");
  CU_ASSERT_STRING_EQUAL(fd(b, -INFINITY), "-inf");
}

/* Exponent form of %.12g: 1e21 -> "1e+21"; 123456789012345 has 15 digits,
 * more than 12, so "1.23456789012e+14" (the 13th digit 3 rounds down);
 * 1e-5 -> "1e-05" (exponent < -4); 123456789012 (12 digits) stays
 * "123456789012"; DBL_MAX -> "1.79769313486e+308". */
static void test_fmt_double_exponent(void) {
  char b[PC_MONEY_BYTES];
  CU_ASSERT_STRING_EQUAL(fd(b, 1e21), "1e+21");
  CU_ASSERT_STRING_EQUAL(fd(b, 123456789012345.0), "1.23456789012e+14");
  CU_ASSERT_STRING_EQUAL(fd(b, 1e-5), "1e-05");
  CU_ASSERT_STRING_EQUAL(fd(b, 0.0001), "0.0001");
  CU_ASSERT_STRING_EQUAL(fd(b, 123456789012.0), "123456789012");
  CU_ASSERT_STRING_EQUAL(fd(b, -1.7976931348623157e308),
                         "-1.79769313486e+308");
  CU_ASSERT_STRING_EQUAL(fd(b, 5e-324), "4.94065645841e-324");
}

/* pc_fmt_double computes %.12g itself (12 digits of the exact binary
 * value, ties to even): equal to glibc's snprintf on 3 million values:
 * random bit patterns (every exponent), random decimals k / 10^j as tables
 * hold them (shares, rates, probabilities), integers, exact ties at the
 * 13th digit (1234567890125 -> ...012e+12, ...135 -> ...014e+12), and the
 * neighbours of powers of ten, where the exponent and the rounding carry
 * change. xorshift64 with a fixed seed: the same values every run. */
static uint64_t xs_state = 88172645463325252ULL;
static uint64_t xs(void) {
  xs_state ^= xs_state << 13;
  xs_state ^= xs_state >> 7;
  xs_state ^= xs_state << 17;
  return xs_state;
}

static int fmt_mismatches(double v) {
  char a[PC_MONEY_BYTES], b[64];
  if (isnan(v) || isinf(v) || v == 0) return 0;
  pc_fmt_double(a, v);
  snprintf(b, sizeof b, "%.12g", v);
  if (strcmp(a, b) == 0) return 0;
  fprintf(stderr, "fmt_double(%a): %s, printf %s\n", v, a, b);
  return 1;
}

static void test_fmt_double_like_printf(void) {
  int bad = 0;
  for (int i = 0; i < 1000000 && bad < 10; i++) {
    uint64_t u = xs();
    double v;
    memcpy(&v, &u, 8);
    bad += fmt_mismatches(v);
    bad += fmt_mismatches((double)(int64_t)(xs() % 2000000000001ULL) / (double)pow(10, (int)(xs() % 20)));
    bad += fmt_mismatches((double)(xs() >> (xs() % 64)));
  }
  for (int64_t t = 1234567890105; t < 1234567890200; t += 10) bad += fmt_mismatches((double)t);
  for (int j = -30; j <= 40 && bad < 10; j++) {
    double p = pow(10, j);
    double x = p;
    for (int k = 0; k < 1000; k++) x = nextafter(x, 0);
    for (int k = 0; k < 2000; k++, x = nextafter(x, INFINITY)) bad += fmt_mismatches(x) + fmt_mismatches(-x);
    bad += fmt_mismatches(p * 0.9999999999995) + fmt_mismatches(p * 0.99999999999949) + fmt_mismatches(p * 0.99999999999951);
  }
  CU_ASSERT_EQUAL(bad, 0);
}

/* The returned pointer is buf. */
static void test_fmt_returns_buf(void) {
  char b[PC_MONEY_BYTES];
  CU_ASSERT_PTR_EQUAL(pc_fmt_double(b, 0.5), b);
  CU_ASSERT_PTR_EQUAL(pc_fmt_double(b, NAN), b);
  CU_ASSERT_PTR_EQUAL(pc_fmt_micros(b, 1), b);
}

/* ---- pc_fmt_micros ---------------------------------------------------------- */

/* millionths: 0 -> "0.000000"; -1 -> "-0.000001" (sign kept although the
 * integer part is 0); 1500000 -> "1.500000"; 999999 -> "0.999999";
 * -1500000 -> "-1.500000"; 12 -> "0.000012". */
static void test_fmt_micros(void) {
  char b[PC_MONEY_BYTES];
  CU_ASSERT_STRING_EQUAL(pc_fmt_micros(b, 0), "0.000000");
  CU_ASSERT_STRING_EQUAL(pc_fmt_micros(b, -1), "-0.000001");
  CU_ASSERT_STRING_EQUAL(pc_fmt_micros(b, 1500000), "1.500000");
  CU_ASSERT_STRING_EQUAL(pc_fmt_micros(b, 999999), "0.999999");
  CU_ASSERT_STRING_EQUAL(pc_fmt_micros(b, 1000000), "1.000000");
  CU_ASSERT_STRING_EQUAL(pc_fmt_micros(b, -1500000), "-1.500000");
  CU_ASSERT_STRING_EQUAL(pc_fmt_micros(b, 12), "0.000012");
}

/* The ends of int64: INT64_MIN = -9223372036854775808 -> integer part
 * 9223372036854, fraction 775808 (its negation would overflow int64);
 * INT64_MAX = 9223372036854775807. Both fit the 32-byte buffer (22 chars). */
static void test_fmt_micros_extremes(void) {
  char b[PC_MONEY_BYTES];
  CU_ASSERT_STRING_EQUAL(pc_fmt_micros(b, INT64_MIN), "-9223372036854.775808");
  CU_ASSERT_STRING_EQUAL(pc_fmt_micros(b, INT64_MAX), "9223372036854.775807");
  CU_ASSERT_STRING_EQUAL(pc_fmt_micros(b, INT64_MIN + 1),
                         "-9223372036854.775807");
}

/* ---- Cells ------------------------------------------------------------------- */

/* Columns parsed from "name:type"; name and counts as given. */
/* Beyond int64 (spec §10: sums exact whatever their size): three values of
 * 8999999999999.999999 = 26999999999999.999997; 10^9 of them =
 * 8999999999999999999000.000000 - 10^9 millionths = ...999999999.000000
 * (computed: 8999999999999999999 * 10^9 millionths); the most negative
 * PcMoney -2^127 = -170141183460469231731687303715884.105728. Every text
 * parses back to the same value; malformed texts and values beyond the
 * 128-bit range are refused. */
static void test_fmt_micros_128(void) {
  char b[PC_MONEY_BYTES];
  PcMoney v = (PcMoney)INT64_C(8999999999999999999) * 3, back = 0;
  CU_ASSERT_STRING_EQUAL(pc_fmt_micros(b, v), "26999999999999.999997");
  CU_ASSERT_TRUE(pc_parse_micros(b, &back));
  CU_ASSERT_TRUE(back == v);
  v = (PcMoney)INT64_C(8999999999999999999) * 1000000000;
  CU_ASSERT_STRING_EQUAL(pc_fmt_micros(b, v), "8999999999999999999000.000000");
  CU_ASSERT_STRING_EQUAL(pc_fmt_micros(b, -v), "-8999999999999999999000.000000");
  PcMoney most = (PcMoney)(((unsigned __int128)1) << 127); /* wraps to -2^127 */
  CU_ASSERT_STRING_EQUAL(pc_fmt_micros(b, most), "-170141183460469231731687303715884.105728");
  CU_ASSERT_TRUE(strlen(b) < PC_MONEY_BYTES);
  CU_ASSERT_TRUE(pc_parse_micros("-0.000001", &back) && back == -1);
  CU_ASSERT_FALSE(pc_parse_micros("1.5", &back));
  CU_ASSERT_FALSE(pc_parse_micros(".500000", &back));
  CU_ASSERT_FALSE(pc_parse_micros("1e3.000000", &back));
  CU_ASSERT_FALSE(pc_parse_micros("", &back));
  /* every text pc_fmt_micros writes parses back, the extremes included;
   * one millionth beyond them is refused */
  CU_ASSERT_TRUE(pc_parse_micros("-170141183460469231731687303715884.105728", &back) && back == most);
  PcMoney largest = (PcMoney)((((unsigned __int128)1) << 127) - 1);
  CU_ASSERT_TRUE(pc_parse_micros("170141183460469231731687303715884.105727", &back) && back == largest);
  CU_ASSERT_TRUE(pc_parse_micros("123456789012345678901234567890123.000000", &back));
  CU_ASSERT_FALSE(pc_parse_micros("170141183460469231731687303715884.105728", &back));
  CU_ASSERT_FALSE(pc_parse_micros("-170141183460469231731687303715884.105729", &back));
  CU_ASSERT_FALSE(pc_parse_micros("1234567890123456789012345678901234.000000", &back));
}

static void test_table_columns(void) {
  g_autoptr(PcTable) t = pc_table_new("variants", COLS4, 4);
  CU_ASSERT_STRING_EQUAL(pc_table_name(t), "variants");
  CU_ASSERT_EQUAL(pc_table_ncols(t), 4);
  CU_ASSERT_EQUAL(pc_table_nrows(t), 0);
  CU_ASSERT_STRING_EQUAL(pc_table_col_name(t, 0), "rank");
  CU_ASSERT_STRING_EQUAL(pc_table_col_name(t, 3), "path");
  CU_ASSERT_EQUAL(pc_table_col_type(t, 0), PC_COL_INT);
  CU_ASSERT_EQUAL(pc_table_col_type(t, 1), PC_COL_DOUBLE);
  CU_ASSERT_EQUAL(pc_table_col_type(t, 2), PC_COL_MICROS);
  CU_ASSERT_EQUAL(pc_table_col_type(t, 3), PC_COL_STRING);
}

/* A new row is empty; getters of empty cells return INT64_MIN, NaN and "". */
static void test_table_cells(void) {
  g_autoptr(PcTable) t = pc_table_new("t", COLS4, 4);
  CU_ASSERT_EQUAL(pc_table_add_row(t), 0);
  CU_ASSERT_EQUAL(pc_table_add_row(t), 1);
  CU_ASSERT_EQUAL(pc_table_nrows(t), 2);
  pc_table_set_int(t, 0, 7);
  pc_table_set_double(t, 1, 0.25);
  pc_table_set_micros(t, 2, -3);
  pc_table_set_string(t, 3, "a > b");
  for (guint c = 0; c < 4; c++) {
    CU_ASSERT_TRUE(pc_table_is_empty(t, 0, c));
    CU_ASSERT_FALSE(pc_table_is_empty(t, 1, c));
  }
  CU_ASSERT_EQUAL(pc_table_get_int(t, 0, 0), INT64_MIN);
  CU_ASSERT_TRUE(isnan(pc_table_get_double(t, 0, 1)));
  CU_ASSERT_EQUAL(pc_table_get_int(t, 0, 2), INT64_MIN);
  CU_ASSERT_STRING_EQUAL(pc_table_get_string(t, 0, 3), "");
  CU_ASSERT_EQUAL(pc_table_get_int(t, 1, 0), 7);
  CU_ASSERT_EQUAL(pc_table_get_double(t, 1, 1), 0.25);
  CU_ASSERT_EQUAL(pc_table_get_int(t, 1, 2), -3);
  CU_ASSERT_STRING_EQUAL(pc_table_get_string(t, 1, 3), "a > b");
}

/* Setting a string twice keeps the last; set_string_len copies n bytes. */
static void test_table_string_set_twice(void) {
  g_autoptr(PcTable) t = pc_table_new("t", COLS4, 4);
  pc_table_add_row(t);
  pc_table_set_string(t, 3, "first");
  pc_table_set_string(t, 3, "second");
  CU_ASSERT_STRING_EQUAL(pc_table_get_string(t, 0, 3), "second");
  pc_table_set_string_len(t, 3, "web>app", 3);
  CU_ASSERT_STRING_EQUAL(pc_table_get_string(t, 0, 3), "web");
}

/* ---- CSV --------------------------------------------------------------------- */

/* Header from the column names; LF line ends; ints decimal, doubles %.12g,
 * micros 6 decimals, strings as is (no quoting even with spaces and '>');
 * unset cells empty. Row 2 is all empty: ",,," (3 commas for 4 cells). */
static void test_csv_whole_text(void) {
  g_autofree char *dir = make_tmp_dir();
  g_autofree char *path = g_build_filename(dir, "variants.csv", NULL);
  g_autoptr(PcTable) t = pc_table_new("variants", COLS4, 4);
  pc_table_add_row(t);
  pc_table_set_int(t, 0, 1);
  pc_table_set_double(t, 1, 1.0 / 3.0);
  pc_table_set_micros(t, 2, 1500000);
  pc_table_set_string(t, 3, "view > cart > buy");
  pc_table_add_row(t);
  pc_table_set_int(t, 0, -42);
  pc_table_set_double(t, 1, -0.0);
  pc_table_set_micros(t, 2, -1);
  pc_table_add_row(t);
  pc_table_add_row(t);
  pc_table_set_double(t, 1, NAN);
  pc_table_set_string(t, 3, "x y");
  GError *e = NULL;
  CU_ASSERT_TRUE(pc_table_write_csv(t, path, &e));
  CU_ASSERT_PTR_NULL(e);
  g_autofree char *text = slurp(path);
  CU_ASSERT_PTR_NOT_NULL_FATAL(text);
  CU_ASSERT_STRING_EQUAL(text,
                         "rank,share,value_sum,path\n"
                         "1,0.333333333333,1.500000,view > cart > buy\n"
                         "-42,0,-0.000001,\n"
                         ",,,\n"
                         ",nan,,x y\n");
  rm_tmp_dir(dir);
}

/* No rows: only the header line. */
static void test_csv_header_only(void) {
  g_autofree char *dir = make_tmp_dir();
  g_autofree char *path = g_build_filename(dir, "empty.csv", NULL);
  const char *cols[] = {"key:string", "value:int"};
  g_autoptr(PcTable) t = pc_table_new("empty", cols, 2);
  CU_ASSERT_TRUE(pc_table_write_csv(t, path, NULL));
  g_autofree char *text = slurp(path);
  CU_ASSERT_PTR_NOT_NULL_FATAL(text);
  CU_ASSERT_STRING_EQUAL(text, "key,value\n");
  rm_tmp_dir(dir);
}

/* The write goes through a temporary name: afterwards the directory holds
 * exactly the one file; a second write replaces it whole. */
static void test_csv_atomic_no_tmp_left(void) {
  g_autofree char *dir = make_tmp_dir();
  g_autofree char *path = g_build_filename(dir, "summary.csv", NULL);
  const char *cols[] = {"key:string", "value:int"};
  g_autoptr(PcTable) t = pc_table_new("summary", cols, 2);
  pc_table_add_row(t);
  pc_table_set_string(t, 0, "customers");
  pc_table_set_int(t, 1, 5);
  CU_ASSERT_TRUE(pc_table_write_csv(t, path, NULL));
  CU_ASSERT_EQUAL(count_entries(dir), 1);
  g_autoptr(PcTable) t2 = pc_table_new("summary", cols, 2);
  CU_ASSERT_TRUE(pc_table_write_csv(t2, path, NULL));
  CU_ASSERT_EQUAL(count_entries(dir), 1);
  g_autofree char *text = slurp(path);
  CU_ASSERT_PTR_NOT_NULL_FATAL(text);
  CU_ASSERT_STRING_EQUAL(text, "key,value\n");
  rm_tmp_dir(dir);
}

/* Into a directory that does not exist: FALSE, PC_ERROR_IO, nothing made. */
static void test_csv_missing_dir(void) {
  g_autofree char *dir = make_tmp_dir();
  g_autofree char *path = g_build_filename(dir, "nope", "x.csv", NULL);
  const char *cols[] = {"a:int"};
  g_autoptr(PcTable) t = pc_table_new("x", cols, 1);
  GError *e = NULL;
  CU_ASSERT_FALSE(pc_table_write_csv(t, path, &e));
  CU_ASSERT_PTR_NOT_NULL_FATAL(e);
  CU_ASSERT_EQUAL(e->domain, PC_ERROR);
  CU_ASSERT_EQUAL(e->code, PC_ERROR_IO);
  g_error_free(e);
  CU_ASSERT_EQUAL(count_entries(dir), 0);
  CU_ASSERT_FALSE(pc_table_write_csv(t, path, NULL)); /* NULL error is fine */
  rm_tmp_dir(dir);
}

PC_TEST_MAIN("table",
             {"/table/fmt_micros_128", test_fmt_micros_128},
             {"/table/fmt_double_plain", test_fmt_double_plain},
             {"/table/fmt_double_special", test_fmt_double_special},
             {"/table/fmt_double_exponent", test_fmt_double_exponent},
             {"/table/fmt_double_like_printf", test_fmt_double_like_printf},
             {"/table/fmt_returns_buf", test_fmt_returns_buf},
             {"/table/fmt_micros", test_fmt_micros},
             {"/table/fmt_micros_extremes", test_fmt_micros_extremes},
             {"/table/columns", test_table_columns},
             {"/table/cells", test_table_cells},
             {"/table/string_set_twice", test_table_string_set_twice},
             {"/table/csv_whole_text", test_csv_whole_text},
             {"/table/csv_header_only", test_csv_header_only},
             {"/table/csv_atomic_no_tmp_left", test_csv_atomic_no_tmp_left},
             {"/table/csv_missing_dir", test_csv_missing_dir})
