/* test_csv.c - the CSV rules of spec §1 (src/store/csv.c): every rule with
 * a case that passes and one that is rejected, the header check, and the
 * line reader over plain files, byte ranges and gzip files. The timestamp
 * grammar is tested in test_time.c (src/base/time.c parses it).
 */
#include "pc_csv.h"
#include "pc_rawread.h"
#include "pc_test.h"

#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

/* ---- Helpers ----------------------------------------------------------- */

#define US INT64_C(1000000)

static PcRejectReason ev(const char *line) {
  PcCsvRow row;
  return pc_csv_parse_event(line, strlen(line), &row);
}

static PcRejectReason cu(const char *line) {
  PcCustomerRow row;
  return pc_csv_parse_customer(line, strlen(line), &row);
}

static gboolean val(const char *s, int64_t *v) {
  return pc_csv_parse_value(s, strlen(s), v);
}

static gboolean val_bad(const char *s) {
  int64_t v;
  return !val(s, &v);
}

/* An event row "ID,1700000000,CH,EV,1" with the given fields. */
static PcRejectReason ev3(const char *id, const char *ch, const char *evn) {
  char *line = g_strdup_printf("%s,1700000000,%s,%s,1", id, ch, evn);
  PcRejectReason r = ev(line);
  g_free(line);
  return r;
}

static PcRejectReason ev_value(const char *value) {
  char *line = g_strdup_printf("c1,1700000000,web,click,%s", value);
  PcRejectReason r = ev(line);
  g_free(line);
  return r;
}

static char *write_tmp(const char *data, size_t len) {
  char *path = NULL;
  int fd = g_file_open_tmp("pc-csv-XXXXXX", &path, NULL);
  g_assert(fd >= 0);
  g_assert(write(fd, data, len) == (ssize_t)len);
  close(fd);
  return path;
}

static char *write_gz(const char *data, size_t len) {
  char *path = write_tmp("", 0);
  gzFile gz = gzopen(path, "wb");
  g_assert(gz && gzwrite(gz, data, (unsigned)len) == (int)len);
  gzclose(gz);
  return path;
}

/* Reads [start, end) from first_line; appends "NO|TEXT\n" per line to out.
 * Returns FALSE (and the error) when the reader failed. */
static gboolean read_range(const char *path, uint64_t start, uint64_t end,
                           uint64_t first_line, GString *out, GError **error) {
  PcLineReader *r = pc_line_reader_open(path, start, end, first_line, error);
  if (!r) return FALSE;
  const char *line;
  size_t len;
  uint64_t no;
  while (pc_line_reader_next(r, &line, &len, &no, error)) {
    g_string_append_printf(out, "%" G_GUINT64_FORMAT "|", no);
    g_string_append_len(out, line, (gssize)len);
    g_string_append_c(out, '\n');
  }
  gboolean ok = !(error && *error);
  pc_line_reader_free(r);
  return ok;
}

static uint64_t count(const char *path, uint64_t start, uint64_t end) {
  uint64_t n = 999;
  CU_ASSERT_TRUE(pc_csv_count_lines(path, start, end, &n, NULL));
  return n;
}

/* ---- Reasons and whole rows ----------------------------------------------- */

static void test_reason_names(void) {
  CU_ASSERT_STRING_EQUAL(pc_csv_reason_name(PC_REJECT_BLANK), "blank_line");
  CU_ASSERT_STRING_EQUAL(pc_csv_reason_name(PC_REJECT_COLUMNS), "column_count");
  CU_ASSERT_STRING_EQUAL(pc_csv_reason_name(PC_REJECT_CUSTOMER_ID),
                         "bad_customer_id");
  CU_ASSERT_STRING_EQUAL(pc_csv_reason_name(PC_REJECT_TIMESTAMP), "bad_timestamp");
  CU_ASSERT_STRING_EQUAL(pc_csv_reason_name(PC_REJECT_CHANNEL), "bad_channel");
  CU_ASSERT_STRING_EQUAL(pc_csv_reason_name(PC_REJECT_EVENT), "bad_event");
  CU_ASSERT_STRING_EQUAL(pc_csv_reason_name(PC_REJECT_VALUE), "bad_value");
  CU_ASSERT_STRING_EQUAL(pc_csv_reason_name(PC_REJECT_REVENUE), "bad_revenue");
  CU_ASSERT_STRING_EQUAL(pc_csv_reason_name(PC_REJECT_SEGMENT), "bad_segment");
  CU_ASSERT_STRING_EQUAL(pc_csv_reason_name(PC_REJECT_DUPLICATE),
                         "duplicate_customer");
  CU_ASSERT_STRING_EQUAL(pc_csv_reason_name(PC_REJECT_N), "unknown");
}

static void test_event_ok(void) {
  const char *line = "cust-1,2024-03-01T12:34:56Z,web,add_to_cart,19.99";
  PcCsvRow r;
  CU_ASSERT_EQUAL(pc_csv_parse_event(line, strlen(line), &r), PC_REJECT_NONE);
  CU_ASSERT_EQUAL(r.id_len, 6);
  CU_ASSERT_EQUAL(memcmp(r.id, "cust-1", 6), 0);
  CU_ASSERT_EQUAL(r.ts_us, 1709296496 * US); /* date -u -d ... +%s */
  CU_ASSERT_EQUAL(r.channel_len, 3);
  CU_ASSERT_EQUAL(memcmp(r.channel, "web", 3), 0);
  CU_ASSERT_EQUAL(r.event_len, 11);
  CU_ASSERT_EQUAL(memcmp(r.event, "add_to_cart", 11), 0);
  CU_ASSERT_EQUAL(r.value, 19990000); /* 19.99 * 10^6 */
  CU_ASSERT_PTR_EQUAL(r.id, line);     /* points into the line */
}

static void test_event_value_empty(void) {
  const char *line = "c1,0,app,open,";
  PcCsvRow r;
  CU_ASSERT_EQUAL(pc_csv_parse_event(line, strlen(line), &r), PC_REJECT_NONE);
  CU_ASSERT_EQUAL(r.value, 0);
  CU_ASSERT_EQUAL(r.ts_us, 0);
}

static void test_first_rule_wins(void) {
  /* Bad id and bad timestamp: the id is the first column. */
  CU_ASSERT_EQUAL(ev("c\t1,nope,web,x,1"), PC_REJECT_CUSTOMER_ID);
  CU_ASSERT_EQUAL(ev("c1,nope,:,^,x"), PC_REJECT_TIMESTAMP);
  CU_ASSERT_EQUAL(ev("c1,0,:,^,x"), PC_REJECT_CHANNEL);
  CU_ASSERT_EQUAL(ev("c1,0,web,^,x"), PC_REJECT_EVENT);
  CU_ASSERT_EQUAL(ev("c1,0,web,buy,x"), PC_REJECT_VALUE);
  /* Column count comes before every column. */
  CU_ASSERT_EQUAL(ev(",nope,:,^"), PC_REJECT_COLUMNS);
}

/* ---- Values ---------------------------------------------------------------- */

static void test_value_ok(void) {
  int64_t v;
  CU_ASSERT_TRUE(val("+1.5", &v));
  CU_ASSERT_EQUAL(v, 1500000);
  CU_ASSERT_TRUE(val("-0.000001", &v));
  CU_ASSERT_EQUAL(v, -1);
  CU_ASSERT_TRUE(val("12.345678", &v));
  CU_ASSERT_EQUAL(v, 12345678);
  CU_ASSERT_TRUE(val("7", &v));
  CU_ASSERT_EQUAL(v, 7000000);
  CU_ASSERT_TRUE(val("-0", &v));
  CU_ASSERT_EQUAL(v, 0);
  CU_ASSERT_TRUE(val("", &v));
  CU_ASSERT_EQUAL(v, 0);
  CU_ASSERT_TRUE(val("000000000000000000000003.1", &v)); /* leading zeros */
  CU_ASSERT_EQUAL(v, 3100000);
  CU_ASSERT_EQUAL(ev_value("+1.5"), PC_REJECT_NONE);
  CU_ASSERT_EQUAL(ev_value("-0.000001"), PC_REJECT_NONE);
}

static void test_value_syntax_bad(void) {
  CU_ASSERT_TRUE(val_bad("1.1234567")); /* 7 decimals */
  CU_ASSERT_TRUE(val_bad(".5"));
  CU_ASSERT_TRUE(val_bad("5."));
  CU_ASSERT_TRUE(val_bad("1e3"));
  CU_ASSERT_TRUE(val_bad("+"));
  CU_ASSERT_TRUE(val_bad("-"));
  CU_ASSERT_TRUE(val_bad("--1"));
  CU_ASSERT_TRUE(val_bad(" 1"));
  CU_ASSERT_TRUE(val_bad("1,5"));
  CU_ASSERT_TRUE(val_bad("nan"));
  CU_ASSERT_EQUAL(ev_value("1.1234567"), PC_REJECT_VALUE);
  CU_ASSERT_EQUAL(ev_value(".5"), PC_REJECT_VALUE);
  CU_ASSERT_EQUAL(ev_value("5."), PC_REJECT_VALUE);
  CU_ASSERT_EQUAL(ev_value("1e3"), PC_REJECT_VALUE);
}

static void test_value_limit(void) {
  int64_t v;
  /* Largest |value| < 9e12 with 6 decimals: 8999999999999.999999. */
  CU_ASSERT_TRUE(val("8999999999999.999999", &v));
  CU_ASSERT_EQUAL(v, INT64_C(8999999999999999999));
  CU_ASSERT_TRUE(val("-8999999999999.999999", &v));
  CU_ASSERT_EQUAL(v, INT64_C(-8999999999999999999));
  CU_ASSERT_TRUE(val_bad("9000000000000"));
  CU_ASSERT_TRUE(val_bad("-9000000000000"));
  CU_ASSERT_TRUE(val_bad("9000000000000.000001"));
  CU_ASSERT_TRUE(val_bad("123456789012345678901234567890")); /* no overflow */
  CU_ASSERT_EQUAL(ev_value("9000000000000"), PC_REJECT_VALUE);
}

/* ---- Strings --------------------------------------------------------------- */

static void test_id_length(void) {
  char *id255 = g_strnfill(255, 'a'), *id256 = g_strnfill(256, 'a');
  CU_ASSERT_EQUAL(ev3(id255, "web", "x"), PC_REJECT_NONE);
  CU_ASSERT_EQUAL(ev3(id256, "web", "x"), PC_REJECT_CUSTOMER_ID);
  CU_ASSERT_EQUAL(ev3("", "web", "x"), PC_REJECT_CUSTOMER_ID);
  CU_ASSERT_EQUAL(ev3("a", "web", "x"), PC_REJECT_NONE);
  g_free(id255);
  g_free(id256);
}

static void test_id_bytes(void) {
  CU_ASSERT_EQUAL(ev3("a:b", "web", "x"), PC_REJECT_NONE); /* ':' allowed */
  CU_ASSERT_EQUAL(ev3("^", "web", "x"), PC_REJECT_NONE);   /* not reserved */
  CU_ASSERT_EQUAL(ev3("(all)", "web", "x"), PC_REJECT_NONE);
  CU_ASSERT_EQUAL(ev3("\"q\"", "web", "x"), PC_REJECT_NONE); /* quotes: bytes */
  CU_ASSERT_EQUAL(ev3("caf\xc3\xa9\x7f", "web", "x"), PC_REJECT_NONE);
  CU_ASSERT_EQUAL(ev3("a>b", "web", "x"), PC_REJECT_CUSTOMER_ID);
  CU_ASSERT_EQUAL(ev3("a\tb", "web", "x"), PC_REJECT_CUSTOMER_ID);
  CU_ASSERT_EQUAL(ev3("a\x01" "b", "web", "x"), PC_REJECT_CUSTOMER_ID);
}

static void test_id_bom_on_data_line(void) {
  const char *line = "\xEF\xBB\xBF" "c1,0,web,x,";
  PcCsvRow r;
  CU_ASSERT_EQUAL(pc_csv_parse_event(line, strlen(line), &r), PC_REJECT_NONE);
  CU_ASSERT_EQUAL(r.id_len, 5); /* 3 BOM bytes + "c1" */
  CU_ASSERT_EQUAL(memcmp(r.id, "\xEF\xBB\xBF" "c1", 5), 0);
}

static void test_name_length(void) {
  char *n63 = g_strnfill(63, 'n'), *n64 = g_strnfill(64, 'n');
  CU_ASSERT_EQUAL(ev3("c", n63, "x"), PC_REJECT_NONE);
  CU_ASSERT_EQUAL(ev3("c", n64, "x"), PC_REJECT_CHANNEL);
  CU_ASSERT_EQUAL(ev3("c", "web", n63), PC_REJECT_NONE);
  CU_ASSERT_EQUAL(ev3("c", "web", n64), PC_REJECT_EVENT);
  CU_ASSERT_EQUAL(ev3("c", "", "x"), PC_REJECT_CHANNEL);
  CU_ASSERT_EQUAL(ev3("c", "web", ""), PC_REJECT_EVENT);
  g_free(n63);
  g_free(n64);
}

static void test_colon(void) {
  CU_ASSERT_EQUAL(ev3("c", "we:b", "x"), PC_REJECT_CHANNEL);
  CU_ASSERT_EQUAL(ev3("c", "web", "order:paid"), PC_REJECT_NONE);
  CU_ASSERT_EQUAL(ev3("c", "web", ":"), PC_REJECT_NONE);
}

static void test_gt(void) {
  CU_ASSERT_EQUAL(ev3("c", "a>b", "x"), PC_REJECT_CHANNEL);
  CU_ASSERT_EQUAL(ev3("c", "web", "a>b"), PC_REJECT_EVENT);
  CU_ASSERT_EQUAL(ev3("c", "web", ">"), PC_REJECT_EVENT);
  CU_ASSERT_EQUAL(ev3("c", "a<b", "a<b"), PC_REJECT_NONE);
}

static void test_control_bytes(void) {
  CU_ASSERT_EQUAL(ev3("c", "we\tb", "x"), PC_REJECT_CHANNEL);
  CU_ASSERT_EQUAL(ev3("c", "we\x01" "b", "x"), PC_REJECT_CHANNEL);
  CU_ASSERT_EQUAL(ev3("c", "web", "x\ty"), PC_REJECT_EVENT);
  CU_ASSERT_EQUAL(ev3("c", "web", "x\x1fy"), PC_REJECT_EVENT);
  CU_ASSERT_EQUAL(ev3("c", "we b", "x y"), PC_REJECT_NONE); /* 0x20 is fine */
  CU_ASSERT_EQUAL(ev3("c", "web\x7f", "x"), PC_REJECT_NONE); /* DEL >= 0x20 */
}

static void test_reserved_channel(void) {
  CU_ASSERT_EQUAL(ev3("c", "^", "x"), PC_REJECT_CHANNEL);
  CU_ASSERT_EQUAL(ev3("c", "$", "x"), PC_REJECT_CHANNEL);
  CU_ASSERT_EQUAL(ev3("c", "(all)", "x"), PC_REJECT_CHANNEL);
  CU_ASSERT_EQUAL(ev3("c", "(unknown)", "x"), PC_REJECT_CHANNEL);
  CU_ASSERT_EQUAL(ev3("c", "^^", "x"), PC_REJECT_NONE);
  CU_ASSERT_EQUAL(ev3("c", "$1", "x"), PC_REJECT_NONE);
  CU_ASSERT_EQUAL(ev3("c", "(ALL)", "x"), PC_REJECT_NONE);
  CU_ASSERT_EQUAL(ev3("c", "(unknown", "x"), PC_REJECT_NONE);
}

static void test_reserved_event(void) {
  CU_ASSERT_EQUAL(ev3("c", "web", "^"), PC_REJECT_EVENT);
  CU_ASSERT_EQUAL(ev3("c", "web", "$"), PC_REJECT_EVENT);
  CU_ASSERT_EQUAL(ev3("c", "web", "(all)"), PC_REJECT_EVENT);
  CU_ASSERT_EQUAL(ev3("c", "web", "(unknown)"), PC_REJECT_EVENT);
  CU_ASSERT_EQUAL(ev3("c", "web", "(all)x"), PC_REJECT_NONE);
  CU_ASSERT_EQUAL(ev3("c", "web", "x$"), PC_REJECT_NONE);
}

/* ---- Line shape ------------------------------------------------------------ */

static void test_columns(void) {
  CU_ASSERT_EQUAL(ev("c1,0,web,x"), PC_REJECT_COLUMNS);      /* 4 fields */
  CU_ASSERT_EQUAL(ev("c1,0,web,x,1,2"), PC_REJECT_COLUMNS);  /* 6 fields */
  CU_ASSERT_EQUAL(ev("c1,0,web,x,1,"), PC_REJECT_COLUMNS);   /* trailing comma */
  CU_ASSERT_EQUAL(ev("c1"), PC_REJECT_COLUMNS);
  CU_ASSERT_EQUAL(ev(",,,,"), PC_REJECT_CUSTOMER_ID);        /* 5 empty fields */
}

static void test_quotes(void) {
  /* '"' is an ordinary byte: no quoting, so the comma splits. */
  CU_ASSERT_EQUAL(ev("c1,0,web,\"a,b\",1"), PC_REJECT_COLUMNS);
  const char *line = "c1,0,web,\"buy\",1";
  PcCsvRow r;
  CU_ASSERT_EQUAL(pc_csv_parse_event(line, strlen(line), &r), PC_REJECT_NONE);
  CU_ASSERT_EQUAL(r.event_len, 5);
  CU_ASSERT_EQUAL(memcmp(r.event, "\"buy\"", 5), 0);
}

static void test_crlf(void) {
  const char *line = "c1,0,web,x,2.5\r";
  PcCsvRow r;
  CU_ASSERT_EQUAL(pc_csv_parse_event(line, strlen(line), &r), PC_REJECT_NONE);
  CU_ASSERT_EQUAL(r.value, 2500000);
  const char *line2 = "c1,0,web,x,\r"; /* empty value before the CR */
  CU_ASSERT_EQUAL(pc_csv_parse_event(line2, strlen(line2), &r), PC_REJECT_NONE);
  CU_ASSERT_EQUAL(r.value, 0);
  CU_ASSERT_EQUAL(r.event_len, 1);
}

static void test_cr_inside(void) {
  CU_ASSERT_EQUAL(ev("c\r1,0,web,x,1"), PC_REJECT_CUSTOMER_ID);
  CU_ASSERT_EQUAL(ev("c1,0\r,web,x,1"), PC_REJECT_TIMESTAMP);
  CU_ASSERT_EQUAL(ev("c1,0,w\reb,x,1"), PC_REJECT_CHANNEL);
  CU_ASSERT_EQUAL(ev("c1,0,web,x\r,1"), PC_REJECT_EVENT);
  CU_ASSERT_EQUAL(ev("c1,0,web,x,1\r2"), PC_REJECT_VALUE);
  CU_ASSERT_EQUAL(ev("c1,0,web,x,1\r\r"), PC_REJECT_VALUE); /* one CR only */
}

static void test_blank(void) {
  CU_ASSERT_EQUAL(ev(""), PC_REJECT_BLANK);
  CU_ASSERT_EQUAL(ev("\r"), PC_REJECT_BLANK);
  CU_ASSERT_EQUAL(ev(" "), PC_REJECT_COLUMNS); /* a space is not blank */
  CU_ASSERT_EQUAL(cu(""), PC_REJECT_BLANK);
  CU_ASSERT_EQUAL(cu("\r"), PC_REJECT_BLANK);
}

static void test_bounds(void) {
  /* The parser reads only line[0..len): the rest of the buffer is junk. */
  const char buf[] = "c1,0,web,x,1.5ZZZ";
  PcCsvRow r;
  CU_ASSERT_EQUAL(pc_csv_parse_event(buf, 14, &r), PC_REJECT_NONE);
  CU_ASSERT_EQUAL(r.value, 1500000);
  CU_ASSERT_EQUAL(pc_csv_parse_event(buf, 11, &r), PC_REJECT_NONE);
  CU_ASSERT_EQUAL(r.value, 0);
}

/* ---- Header ---------------------------------------------------------------- */

static void test_header_ok(void) {
  const char *h = "customer_id,timestamp,channel,event,value";
  const char *bom = "\xEF\xBB\xBF" "customer_id,timestamp,channel,event,value\r";
  CU_ASSERT_TRUE(pc_csv_check_header(h, strlen(h), FALSE, "in.csv", NULL));
  CU_ASSERT_TRUE(pc_csv_check_header(bom, strlen(bom), FALSE, "in.csv", NULL));
  const char *c = "\xEF\xBB\xBF" "customer_id,revenue,segment\r";
  CU_ASSERT_TRUE(pc_csv_check_header(c, strlen(c), TRUE, "cust.csv", NULL));
}

static void test_header_bad(void) {
  const char *bad[] = {
      "customer_id,timestamp,channel,event",
      "customer_id,timestamp,channel,event,value,extra",
      "Customer_id,timestamp,channel,event,value",
      "customer_id,channel,timestamp,event,value",
      "customer_id, timestamp,channel,event,value",
      "customer_id,timestamp,channel,event,value\r\r",
      "\xEF\xBB\xBF\xEF\xBB\xBF" "customer_id,timestamp,channel,event,value",
      "",
      "customer_id,revenue,segment",
  };
  for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
    GError *err = NULL;
    CU_ASSERT_FALSE(
        pc_csv_check_header(bad[i], strlen(bad[i]), FALSE, "in.csv", &err));
    CU_ASSERT_TRUE(g_error_matches(err, PC_ERROR, PC_ERROR_FORMAT));
    CU_ASSERT_TRUE(err && g_str_has_prefix(err->message, "in.csv:1:"));
    g_clear_error(&err);
  }
  GError *err = NULL;
  const char *h = "customer_id,timestamp,channel,event,value";
  CU_ASSERT_FALSE(pc_csv_check_header(h, strlen(h), TRUE, "c.csv", &err));
  CU_ASSERT_TRUE(g_error_matches(err, PC_ERROR, PC_ERROR_FORMAT));
  g_clear_error(&err);
}

/* ---- Customers table -------------------------------------------------------- */

static void test_customer_ok(void) {
  const char *line = "c1,12.5,gold\r";
  PcCustomerRow r;
  CU_ASSERT_EQUAL(pc_csv_parse_customer(line, strlen(line), &r), PC_REJECT_NONE);
  CU_ASSERT_EQUAL(r.id_len, 2);
  CU_ASSERT_EQUAL(memcmp(r.id, "c1", 2), 0);
  CU_ASSERT_EQUAL(r.revenue, 12500000); /* 12.5 * 10^6 */
  CU_ASSERT_EQUAL(r.segment_len, 4);
  CU_ASSERT_EQUAL(memcmp(r.segment, "gold", 4), 0);
}

static void test_customer_empty_fields(void) {
  const char *line = "c1,,";
  PcCustomerRow r;
  CU_ASSERT_EQUAL(pc_csv_parse_customer(line, strlen(line), &r), PC_REJECT_NONE);
  CU_ASSERT_EQUAL(r.revenue, 0); /* empty revenue = 0 */
  CU_ASSERT_EQUAL(r.segment_len, 0);
  const char *neg = "c:2,-3.000001,free text: a > b";
  CU_ASSERT_EQUAL(pc_csv_parse_customer(neg, strlen(neg), &r), PC_REJECT_NONE);
  CU_ASSERT_EQUAL(r.revenue, -3000001);
  CU_ASSERT_EQUAL(r.segment_len, 16); /* "free text: a > b" */
}

static void test_customer_bad(void) {
  CU_ASSERT_EQUAL(cu("c1,abc,gold"), PC_REJECT_REVENUE);
  CU_ASSERT_EQUAL(cu("c1,1.1234567,gold"), PC_REJECT_REVENUE);
  CU_ASSERT_EQUAL(cu("c1,.5,gold"), PC_REJECT_REVENUE);
  CU_ASSERT_EQUAL(cu("c1,9000000000000,gold"), PC_REJECT_REVENUE);
  CU_ASSERT_EQUAL(cu("c1,1,go\tld"), PC_REJECT_SEGMENT);
  CU_ASSERT_EQUAL(cu("c1,1,gold\r\r"), PC_REJECT_SEGMENT);
  CU_ASSERT_EQUAL(cu(",1,gold"), PC_REJECT_CUSTOMER_ID);
  CU_ASSERT_EQUAL(cu("c>1,1,gold"), PC_REJECT_CUSTOMER_ID);
  CU_ASSERT_EQUAL(cu("c1,1"), PC_REJECT_COLUMNS);
  CU_ASSERT_EQUAL(cu("c1,1,gold,x"), PC_REJECT_COLUMNS);
}

/* ---- Line reader ------------------------------------------------------------ */

/* Offsets: "h\n" 0-1, "ab\n" 2-4, "\n" 5, "c\r\n" 6-8, "long line here\n"
 * 9-23, "last" 24-27 (no final LF); size 28; lines start at 0,2,5,6,9,24. */
static const char sample[] = "h\nab\n\nc\r\nlong line here\nlast";
static const char sample_lines[] =
    "1|h\n2|ab\n3|\n4|c\r\n5|long line here\n6|last\n";

static void test_reader_plain(void) {
  char *path = write_tmp(sample, strlen(sample));
  GString *got = g_string_new(NULL);
  CU_ASSERT_TRUE(read_range(path, 0, UINT64_MAX, 1, got, NULL));
  CU_ASSERT_STRING_EQUAL(got->str, sample_lines);
  unlink(path);
  g_free(path);
  g_string_free(got, TRUE);
}

static void test_reader_trailing_newline(void) {
  char *path = write_tmp("a\nb\n", 4);
  GString *got = g_string_new(NULL);
  CU_ASSERT_TRUE(read_range(path, 0, UINT64_MAX, 1, got, NULL));
  CU_ASSERT_STRING_EQUAL(got->str, "1|a\n2|b\n"); /* no empty 3rd line */
  CU_ASSERT_EQUAL(count(path, 0, UINT64_MAX), 2);
  unlink(path);
  g_free(path);
  g_string_free(got, TRUE);
}

static void test_reader_empty_file(void) {
  char *path = write_tmp("", 0);
  GString *got = g_string_new(NULL);
  CU_ASSERT_TRUE(read_range(path, 0, UINT64_MAX, 1, got, NULL));
  CU_ASSERT_STRING_EQUAL(got->str, "");
  CU_ASSERT_EQUAL(count(path, 0, UINT64_MAX), 0);
  unlink(path);
  g_free(path);
  g_string_free(got, TRUE);
}

static void test_count_lines(void) {
  char *path = write_tmp(sample, strlen(sample));
  CU_ASSERT_EQUAL(count(path, 0, UINT64_MAX), 6);
  CU_ASSERT_EQUAL(count(path, 0, 3), 2);   /* starts 0, 2 */
  CU_ASSERT_EQUAL(count(path, 3, 10), 3);  /* starts 5, 6, 9 */
  CU_ASSERT_EQUAL(count(path, 10, 28), 1); /* start 24 */
  CU_ASSERT_EQUAL(count(path, 5, 6), 1);   /* start 5 */
  CU_ASSERT_EQUAL(count(path, 25, 99), 0);
  CU_ASSERT_EQUAL(count(path, 28, 99), 0); /* at EOF */
  CU_ASSERT_EQUAL(count(path, 0, 0), 0);
  unlink(path);
  g_free(path);
}

static void test_reader_three_ranges(void) {
  /* Cut at 3 (inside "ab") and 10 (inside "long line here"). First lines
   * from pc_csv_count_lines: 1, 1 + 2 = 3, 3 + 3 = 6. */
  char *path = write_tmp(sample, strlen(sample));
  GString *a = g_string_new(NULL), *b = g_string_new(NULL),
          *c = g_string_new(NULL);
  CU_ASSERT_TRUE(read_range(path, 0, 3, 1, a, NULL));
  CU_ASSERT_TRUE(read_range(path, 3, 10, 1 + count(path, 0, 3), b, NULL));
  CU_ASSERT_TRUE(read_range(path, 10, UINT64_MAX, 1 + count(path, 0, 10), c,
                            NULL));
  CU_ASSERT_STRING_EQUAL(a->str, "1|h\n2|ab\n");
  CU_ASSERT_STRING_EQUAL(b->str, "3|\n4|c\r\n5|long line here\n");
  CU_ASSERT_STRING_EQUAL(c->str, "6|last\n");
  unlink(path);
  g_free(path);
  g_string_free(a, TRUE);
  g_string_free(b, TRUE);
  g_string_free(c, TRUE);
}

/* Every pair of cut points 0 <= x <= y <= size: the three ranges together
 * give every line once, in order, with its number. */
static void test_reader_all_cuts(void) {
  char *path = write_tmp(sample, strlen(sample));
  uint64_t size = strlen(sample);
  int bad = 0;
  for (uint64_t x = 0; x <= size; x++)
    for (uint64_t y = x; y <= size + 1; y++) {
      GString *got = g_string_new(NULL);
      uint64_t cut[4] = {0, x, y, UINT64_MAX};
      for (int k = 0; k < 3; k++)
        read_range(path, cut[k], cut[k + 1], 1 + count(path, 0, cut[k]), got,
                   NULL);
      bad += strcmp(got->str, sample_lines) != 0;
      g_string_free(got, TRUE);
    }
  CU_ASSERT_EQUAL(bad, 0);
  unlink(path);
  g_free(path);
}

/* Lines longer than one 4 MiB block, and block edges inside lines, over
 * three ranges: each of the 3 lines comes back whole, once. */
static void test_reader_big_lines(void) {
  size_t n1 = (size_t)5 << 20, n2 = (size_t)3 << 20, n3 = 10;
  GString *data = g_string_sized_new(n1 + n2 + n3 + 3);
  g_string_append_len(data, "", 0);
  for (size_t i = 0; i < n1; i++) g_string_append_c(data, 'a');
  g_string_append_c(data, '\n');
  for (size_t i = 0; i < n2; i++) g_string_append_c(data, 'b');
  g_string_append_c(data, '\n');
  g_string_append(data, "cccccccccc\n");
  char *path = write_tmp(data->str, data->len);
  uint64_t cut[4] = {0, 100, n1 + 2, UINT64_MAX}; /* 2nd range: line 2 only */
  size_t want_len[3] = {n1, n2, n3};
  for (int k = 0; k < 3; k++) {
    uint64_t first = 1 + count(path, 0, cut[k]);
    PcLineReader *r = pc_line_reader_open(path, cut[k], cut[k + 1], first, NULL);
    const char *line;
    size_t len;
    uint64_t no;
    CU_ASSERT_TRUE(pc_line_reader_next(r, &line, &len, &no, NULL));
    CU_ASSERT_EQUAL(no, (uint64_t)k + 1);
    CU_ASSERT_EQUAL(len, want_len[k]);
    CU_ASSERT_EQUAL(line[len - 1], "abc"[k]);
    CU_ASSERT_FALSE(pc_line_reader_next(r, &line, &len, &no, NULL));
    pc_line_reader_free(r);
  }
  unlink(path);
  g_free(path);
  g_string_free(data, TRUE);
}

static void test_reader_line_too_long(void) {
  size_t n = ((size_t)16 << 20) + 1; /* limit is 16 MiB per line */
  char *data = g_malloc(n + 1);
  memset(data, 'x', n);
  data[n] = '\n';
  char *path = write_tmp(data, n + 1);
  GError *err = NULL;
  GString *got = g_string_new(NULL);
  CU_ASSERT_FALSE(read_range(path, 0, UINT64_MAX, 1, got, &err));
  CU_ASSERT_TRUE(g_error_matches(err, PC_ERROR, PC_ERROR_FORMAT));
  g_clear_error(&err);
  unlink(path);
  g_free(path);
  g_free(data);
  g_string_free(got, TRUE);
}

static void test_reader_offset(void) {
  char *path = write_tmp(sample, strlen(sample));
  PcLineReader *r = pc_line_reader_open(path, 3, UINT64_MAX, 3, NULL);
  const char *line;
  size_t len;
  uint64_t no;
  CU_ASSERT_EQUAL(pc_line_reader_offset(r), 0);
  CU_ASSERT_TRUE(pc_line_reader_next(r, &line, &len, &no, NULL));
  CU_ASSERT_EQUAL(pc_line_reader_offset(r), 3); /* through byte 5: 6 - 3 */
  while (pc_line_reader_next(r, &line, &len, &no, NULL)) {
  }
  CU_ASSERT_EQUAL(pc_line_reader_offset(r), 25); /* 28 - 3 */
  pc_line_reader_free(r);
  unlink(path);
  g_free(path);
}

static void test_reader_missing(void) {
  GError *err = NULL;
  CU_ASSERT_PTR_NULL(
      pc_line_reader_open("/nonexistent/pc.csv", 0, UINT64_MAX, 1, &err));
  CU_ASSERT_TRUE(g_error_matches(err, PC_ERROR, PC_ERROR_IO));
  g_clear_error(&err);
  uint64_t n;
  CU_ASSERT_FALSE(pc_csv_count_lines("/nonexistent/pc.csv", 0, 9, &n, &err));
  CU_ASSERT_TRUE(g_error_matches(err, PC_ERROR, PC_ERROR_IO));
  g_clear_error(&err);
}

static void test_reader_gzip(void) {
  char *path = write_gz(sample, strlen(sample));
  CU_ASSERT_TRUE(pc_rawread_probe_gzip(path, NULL));
  GString *got = g_string_new(NULL);
  CU_ASSERT_TRUE(read_range(path, 0, UINT64_MAX, 1, got, NULL));
  CU_ASSERT_STRING_EQUAL(got->str, sample_lines);
  unlink(path);
  g_free(path);
  g_string_free(got, TRUE);
}

static void test_reader_gzip_end_ignored(void) {
  /* A gzip file is read whole whatever end says. */
  char *path = write_gz(sample, strlen(sample));
  GString *got = g_string_new(NULL);
  CU_ASSERT_TRUE(read_range(path, 0, 5, 1, got, NULL));
  CU_ASSERT_STRING_EQUAL(got->str, sample_lines);
  GError *err = NULL;
  CU_ASSERT_PTR_NULL(pc_line_reader_open(path, 1, UINT64_MAX, 1, &err));
  CU_ASSERT_TRUE(g_error_matches(err, PC_ERROR, PC_ERROR_INTERNAL));
  g_clear_error(&err);
  unlink(path);
  g_free(path);
  g_string_free(got, TRUE);
}

static void test_reader_gzip_corrupt(void) {
  /* 20000 distinct lines compress to many KB; keep only the first half. */
  GString *data = g_string_new(NULL);
  for (int i = 0; i < 20000; i++)
    g_string_append_printf(data, "c%d,%d,web,x,%d\n", i * 7919, i * 31, i);
  char *path = write_gz(data->str, data->len);
  gchar *gz = NULL;
  gsize gzlen = 0;
  g_assert(g_file_get_contents(path, &gz, &gzlen, NULL));
  g_assert(g_file_set_contents(path, gz, (gssize)(gzlen / 2), NULL));
  GError *err = NULL;
  GString *got = g_string_new(NULL);
  CU_ASSERT_FALSE(read_range(path, 0, UINT64_MAX, 1, got, &err));
  CU_ASSERT_TRUE(g_error_matches(err, PC_ERROR, PC_ERROR_FORMAT));
  g_clear_error(&err);
  unlink(path);
  g_free(path);
  g_free(gz);
  g_string_free(data, TRUE);
  g_string_free(got, TRUE);
}

/* Appends the gzip member of data to the file at path. */
static void append_gz(const char *path, const char *data, size_t len) {
  char *m = write_gz(data, len);
  gchar *bytes = NULL, *old = NULL;
  gsize n = 0, on = 0;
  g_assert(g_file_get_contents(m, &bytes, &n, NULL));
  g_assert(g_file_get_contents(path, &old, &on, NULL));
  GString *all = g_string_new_len(old, (gssize)on);
  g_string_append_len(all, bytes, (gssize)n);
  g_assert(g_file_set_contents(path, all->str, (gssize)all->len, NULL));
  g_string_free(all, TRUE);
  unlink(m);
  g_free(m);
  g_free(bytes);
  g_free(old);
}

/* Two members (gzip a >> x.gz; gzip b >> x.gz) are read whole: both halves,
 * line numbers running on; an empty member in between changes nothing. */
static void test_reader_gzip_members(void) {
  char *path = write_gz("h\na\n", 4);
  append_gz(path, "", 0);
  append_gz(path, "b\nc", 3);
  GString *got = g_string_new(NULL);
  CU_ASSERT_TRUE(read_range(path, 0, UINT64_MAX, 1, got, NULL));
  CU_ASSERT_STRING_EQUAL(got->str, "1|h\n2|a\n3|b\n4|c\n");
  unlink(path);
  g_free(path);
  g_string_free(got, TRUE);
}

/* Plain rows appended to a .gz are an error naming the file and the byte
 * where the non-gzip data starts (the compressed size of the member). */
static void test_reader_gzip_trailing(void) {
  char *path = write_gz("h\na\n", 4);
  struct stat st;
  g_assert(stat(path, &st) == 0);
  FILE *f = fopen(path, "ab");
  fputs("c2,2024-03-01T12:00:00Z,web,view,\n", f);
  fclose(f);
  GString *got = g_string_new(NULL);
  GError *err = NULL;
  CU_ASSERT_FALSE(read_range(path, 0, UINT64_MAX, 1, got, &err));
  CU_ASSERT_TRUE(g_error_matches(err, PC_ERROR, PC_ERROR_FORMAT));
  g_autofree char *want = g_strdup_printf("%s: bytes after the end of the gzip data at byte %lld are not gzip data (rows appended to a compressed file?): compress the whole file, or give the rows as a separate input", path, (long long)st.st_size);
  CU_ASSERT_STRING_EQUAL(err ? err->message : "", want);
  g_clear_error(&err);
  /* one stray byte (not even a magic number) is refused the same way */
  g_assert(truncate(path, st.st_size + 1) == 0);
  g_string_truncate(got, 0);
  CU_ASSERT_FALSE(read_range(path, 0, UINT64_MAX, 1, got, &err));
  CU_ASSERT_TRUE(g_error_matches(err, PC_ERROR, PC_ERROR_FORMAT));
  g_clear_error(&err);
  unlink(path);
  g_free(path);
  g_string_free(got, TRUE);
}

/* A gzip file of nothing gives no line at all, as an empty plain file. */
static void test_reader_gzip_empty(void) {
  char *path = write_gz("", 0);
  PcLineReader *r = pc_line_reader_open(path, 0, UINT64_MAX, 1, NULL);
  CU_ASSERT_PTR_NOT_NULL_FATAL(r);
  const char *line;
  size_t len;
  uint64_t no;
  GError *err = NULL;
  CU_ASSERT_FALSE(pc_line_reader_next(r, &line, &len, &no, &err));
  CU_ASSERT_PTR_NULL(err);
  CU_ASSERT_EQUAL(pc_line_reader_lines(r), 0);
  pc_line_reader_free(r);
  unlink(path);
  g_free(path);
}

static void test_is_gzip(void) {
  char *plain = write_tmp("\x1f", 1); /* one magic byte is not enough */
  CU_ASSERT_FALSE(pc_rawread_probe_gzip(plain, NULL));
  unlink(plain);
  g_free(plain);
  plain = write_tmp(sample, strlen(sample));
  GError *err = NULL;
  CU_ASSERT_FALSE(pc_rawread_probe_gzip(plain, &err));
  CU_ASSERT_PTR_NULL(err);
  unlink(plain);
  g_free(plain);
  CU_ASSERT_FALSE(pc_rawread_probe_gzip("/nonexistent/pc.csv.gz", &err));
  CU_ASSERT_TRUE(g_error_matches(err, PC_ERROR, PC_ERROR_IO));
  g_clear_error(&err);
}

PC_TEST_MAIN("csv",
             {"/csv/reason_names", test_reason_names},
             {"/csv/reader_gzip_members", test_reader_gzip_members},
             {"/csv/reader_gzip_trailing", test_reader_gzip_trailing},
             {"/csv/reader_gzip_empty", test_reader_gzip_empty},
             {"/csv/event_ok", test_event_ok},
             {"/csv/event_value_empty", test_event_value_empty},
             {"/csv/first_rule_wins", test_first_rule_wins},
             {"/csv/value_ok", test_value_ok},
             {"/csv/value_syntax_bad", test_value_syntax_bad},
             {"/csv/value_limit", test_value_limit},
             {"/csv/id_length", test_id_length},
             {"/csv/id_bytes", test_id_bytes},
             {"/csv/id_bom_on_data_line", test_id_bom_on_data_line},
             {"/csv/name_length", test_name_length},
             {"/csv/colon", test_colon},
             {"/csv/gt", test_gt},
             {"/csv/control_bytes", test_control_bytes},
             {"/csv/reserved_channel", test_reserved_channel},
             {"/csv/reserved_event", test_reserved_event},
             {"/csv/columns", test_columns},
             {"/csv/quotes", test_quotes},
             {"/csv/crlf", test_crlf},
             {"/csv/cr_inside", test_cr_inside},
             {"/csv/blank", test_blank},
             {"/csv/bounds", test_bounds},
             {"/csv/header_ok", test_header_ok},
             {"/csv/header_bad", test_header_bad},
             {"/csv/customer_ok", test_customer_ok},
             {"/csv/customer_empty_fields", test_customer_empty_fields},
             {"/csv/customer_bad", test_customer_bad},
             {"/csv/reader_plain", test_reader_plain},
             {"/csv/reader_trailing_newline", test_reader_trailing_newline},
             {"/csv/reader_empty_file", test_reader_empty_file},
             {"/csv/count_lines", test_count_lines},
             {"/csv/reader_three_ranges", test_reader_three_ranges},
             {"/csv/reader_all_cuts", test_reader_all_cuts},
             {"/csv/reader_big_lines", test_reader_big_lines},
             {"/csv/reader_line_too_long", test_reader_line_too_long},
             {"/csv/reader_offset", test_reader_offset},
             {"/csv/reader_missing", test_reader_missing},
             {"/csv/reader_gzip", test_reader_gzip},
             {"/csv/reader_gzip_end_ignored", test_reader_gzip_end_ignored},
             {"/csv/reader_gzip_corrupt", test_reader_gzip_corrupt},
             {"/csv/is_gzip", test_is_gzip})
