/* test_time.c - timestamps (src/base/time.c): the parser of spec §1, every
 * rule with a case that passes and one that is rejected, and the ISO
 * formatter on exact strings, years 0, negative and above 9999 included.
 *
 * Expected timestamps were computed with `date -u -d ISO +%s` (seconds) and
 * multiplied by 10^6 by hand; the comment next to each says which.
 */
#include "pc_test.h"
#include "pc_time.h"

/* ---- Helpers ----------------------------------------------------------- */

#define US INT64_C(1000000)

static gboolean ts(const char *s, int64_t *us) {
  return pc_time_parse(s, strlen(s), us);
}

static gboolean ts_bad(const char *s) {
  int64_t us = 42;
  return !ts(s, &us) && us == 42; /* rejected, output untouched */
}

/* The formatted text of us (static buffer: one call per assert). */
static const char *iso(int64_t us, PcTimeFrac frac) {
  static char buf[PC_TIME_ISO_BYTES];
  return pc_time_format_iso(us, frac, buf);
}

/* ---- Parsing ------------------------------------------------------------------ */

static void test_ts_iso_z(void) {
  int64_t us;
  CU_ASSERT_TRUE(ts("2024-03-01T12:34:56Z", &us));
  CU_ASSERT_EQUAL(us, 1709296496 * US); /* date -u -d 2024-03-01T12:34:56Z */
  CU_ASSERT_TRUE(ts("1970-01-01T00:00:00Z", &us));
  CU_ASSERT_EQUAL(us, 0);
  CU_ASSERT_TRUE(ts("1969-12-31T23:59:59Z", &us));
  CU_ASSERT_EQUAL(us, -1 * US); /* one second before the epoch */
}

static void test_ts_lower_case(void) {
  CU_ASSERT_TRUE(ts_bad("2024-03-01t12:34:56Z"));
  CU_ASSERT_TRUE(ts_bad("2024-03-01T12:34:56z"));
  CU_ASSERT_TRUE(ts_bad("2024-03-01 12:34:56Z")); /* space for T */
}

static void test_ts_shape(void) {
  CU_ASSERT_TRUE(ts_bad("2024-03-01T12:34Z"));      /* missing seconds */
  CU_ASSERT_TRUE(ts_bad("2024-03-01T12:34:56"));    /* no zone */
  CU_ASSERT_TRUE(ts_bad("2024-3-01T12:34:56Z"));    /* one-digit month */
  CU_ASSERT_TRUE(ts_bad("2024-03-01T12:34:56Z "));  /* trailing byte */
  CU_ASSERT_TRUE(ts_bad(" 2024-03-01T12:34:56Z"));  /* leading byte */
  CU_ASSERT_TRUE(ts_bad("2024-03-01T12:34:56ZZ"));
  CU_ASSERT_TRUE(ts_bad("2024-03-01"));
  CU_ASSERT_TRUE(ts_bad("2024/03/01T12:34:56Z"));
  CU_ASSERT_TRUE(ts_bad(""));
}

static void test_ts_fraction(void) {
  int64_t us;
  CU_ASSERT_TRUE(ts("2024-03-01T12:34:56.5Z", &us));
  CU_ASSERT_EQUAL(us, 1709296496 * US + 500000); /* '.5' padded to 500000 */
  CU_ASSERT_TRUE(ts("2024-03-01T12:34:56.000001Z", &us));
  CU_ASSERT_EQUAL(us, 1709296496 * US + 1);
  CU_ASSERT_TRUE(ts("2024-03-01T12:34:56.123456Z", &us));
  CU_ASSERT_EQUAL(us, 1709296496 * US + 123456);
  CU_ASSERT_TRUE(ts("2024-03-01T12:34:56.05+00:00", &us));
  CU_ASSERT_EQUAL(us, 1709296496 * US + 50000); /* '.05' = 50000 us */
  CU_ASSERT_TRUE(ts("1969-12-31T23:59:59.5Z", &us));
  CU_ASSERT_EQUAL(us, -500000); /* -1 s + 0.5 s */
}

static void test_ts_fraction_bad(void) {
  CU_ASSERT_TRUE(ts_bad("2024-03-01T12:34:56.1234567Z")); /* 7 digits */
  CU_ASSERT_TRUE(ts_bad("2024-03-01T12:34:56.Z"));        /* no digit */
  CU_ASSERT_TRUE(ts_bad("2024-03-01T12:34:56,5Z"));
}

static void test_ts_offsets(void) {
  int64_t us;
  CU_ASSERT_TRUE(ts("2024-03-01T12:34:56+02:00", &us));
  CU_ASSERT_EQUAL(us, 1709289296 * US); /* = 2024-03-01T10:34:56Z */
  CU_ASSERT_TRUE(ts("2024-03-01T12:34:56-02:30", &us));
  CU_ASSERT_EQUAL(us, 1709305496 * US); /* = 2024-03-01T15:04:56Z */
  CU_ASSERT_TRUE(ts("2024-03-01T12:34:56+23:59", &us));
  CU_ASSERT_EQUAL(us, 1709210156 * US); /* = 2024-02-29T12:35:56Z */
  CU_ASSERT_TRUE(ts("2024-03-01T12:34:56-23:59", &us));
  CU_ASSERT_EQUAL(us, 1709382836 * US); /* = 2024-03-02T12:33:56Z */
  CU_ASSERT_TRUE(ts("2024-03-01T12:34:56-00:00", &us));
  CU_ASSERT_EQUAL(us, 1709296496 * US);
}

static void test_ts_offsets_bad(void) {
  CU_ASSERT_TRUE(ts_bad("2024-03-01T12:34:56+24:00")); /* hours > 23 */
  CU_ASSERT_TRUE(ts_bad("2024-03-01T12:34:56+01:60")); /* minutes > 59 */
  CU_ASSERT_TRUE(ts_bad("2024-03-01T12:34:56+0200"));
  CU_ASSERT_TRUE(ts_bad("2024-03-01T12:34:56+02"));
  CU_ASSERT_TRUE(ts_bad("2024-03-01T12:34:56+02:00Z"));
  CU_ASSERT_TRUE(ts_bad("2024-03-01T12:34:56 02:00"));
}

static void test_ts_leap_second(void) {
  int64_t us;
  CU_ASSERT_TRUE(ts("2024-12-31T23:59:59Z", &us));
  CU_ASSERT_EQUAL(us, 1735689599 * US); /* date -u -d 2024-12-31T23:59:59Z */
  CU_ASSERT_TRUE(ts_bad("2016-12-31T23:59:60Z"));
}

static void test_ts_calendar(void) {
  int64_t us;
  CU_ASSERT_TRUE(ts("2024-02-29T00:00:00Z", &us));
  CU_ASSERT_EQUAL(us, 1709164800 * US); /* date -u -d 2024-02-29 */
  CU_ASSERT_TRUE(ts("2000-02-29T00:00:00Z", &us)); /* 400-year leap */
  CU_ASSERT_EQUAL(us, 951782400 * US);
  CU_ASSERT_TRUE(ts("1900-03-01T00:00:00Z", &us));
  CU_ASSERT_EQUAL(us, -2203891200 * US);
  CU_ASSERT_TRUE(ts_bad("2023-02-29T00:00:00Z")); /* not a leap year */
  CU_ASSERT_TRUE(ts_bad("1900-02-29T00:00:00Z")); /* century, not leap */
  CU_ASSERT_TRUE(ts_bad("2024-04-31T00:00:00Z"));
  CU_ASSERT_TRUE(ts_bad("2024-13-01T00:00:00Z"));
  CU_ASSERT_TRUE(ts_bad("2024-00-01T00:00:00Z"));
  CU_ASSERT_TRUE(ts_bad("2024-01-00T00:00:00Z"));
  CU_ASSERT_TRUE(ts_bad("2024-01-01T24:00:00Z"));
  CU_ASSERT_TRUE(ts_bad("2024-01-01T00:60:00Z"));
}

static void test_ts_year_span(void) {
  int64_t us;
  CU_ASSERT_TRUE(ts("0000-01-01T00:00:00Z", &us));
  CU_ASSERT_EQUAL(us, INT64_C(-62167219200) * US); /* date -u -d 0000-01-01 */
  CU_ASSERT_TRUE(ts("9999-12-31T23:59:59.999999Z", &us));
  CU_ASSERT_EQUAL(us, INT64_C(253402300799) * US + 999999);
}

static void test_ts_epoch(void) {
  int64_t us;
  CU_ASSERT_TRUE(ts("1709296496", &us));
  CU_ASSERT_EQUAL(us, 1709296496 * US);
  CU_ASSERT_TRUE(ts("0", &us));
  CU_ASSERT_EQUAL(us, 0);
  CU_ASSERT_TRUE(ts("0042", &us)); /* leading zeros are digits */
  CU_ASSERT_EQUAL(us, 42 * US);
  CU_ASSERT_TRUE(ts("2024", &us)); /* a year alone is epoch seconds */
  CU_ASSERT_EQUAL(us, 2024 * US);
}

static void test_ts_epoch_negative(void) {
  int64_t us;
  CU_ASSERT_TRUE(ts("-86400", &us));
  CU_ASSERT_EQUAL(us, -86400 * US); /* 1969-12-31T00:00:00Z */
  CU_ASSERT_TRUE(ts("-0", &us));
  CU_ASSERT_EQUAL(us, 0);
}

static void test_ts_epoch_bad(void) {
  CU_ASSERT_TRUE(ts_bad("+1709296496")); /* our choice: no '+' */
  CU_ASSERT_TRUE(ts_bad("-"));
  CU_ASSERT_TRUE(ts_bad("1709296496.5")); /* epoch is whole seconds */
  CU_ASSERT_TRUE(ts_bad("17e8"));
  CU_ASSERT_TRUE(ts_bad(" 17"));
  CU_ASSERT_TRUE(ts_bad("--5"));
}

static void test_ts_epoch_span(void) {
  int64_t us;
  /* Bounds = 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z (date -u). */
  CU_ASSERT_TRUE(ts("253402300799", &us));
  CU_ASSERT_EQUAL(us, INT64_C(253402300799) * US);
  CU_ASSERT_TRUE(ts("-62167219200", &us));
  CU_ASSERT_EQUAL(us, INT64_C(-62167219200) * US);
  CU_ASSERT_TRUE(ts_bad("253402300800"));
  CU_ASSERT_TRUE(ts_bad("-62167219201"));
  CU_ASSERT_TRUE(ts_bad("99999999999999999999999999")); /* no overflow */
}

/* ---- Formatting ---------------------------------------------------------------- */

static void test_fmt_epoch(void) {
  CU_ASSERT_STRING_EQUAL(iso(0, PC_TIME_FRAC_AUTO), "1970-01-01T00:00:00Z");
  CU_ASSERT_STRING_EQUAL(iso(0, PC_TIME_FRAC_MICROS), "1970-01-01T00:00:00.000000Z");
  CU_ASSERT_STRING_EQUAL(iso(1709296496 * US, PC_TIME_FRAC_AUTO), "2024-03-01T12:34:56Z");
}

/* The fraction: written when non-zero (AUTO) or always (MICROS), 6 digits. */
static void test_fmt_fraction(void) {
  CU_ASSERT_STRING_EQUAL(iso(1709296496 * US + 500000, PC_TIME_FRAC_AUTO), "2024-03-01T12:34:56.500000Z");
  CU_ASSERT_STRING_EQUAL(iso(1709296496 * US + 1, PC_TIME_FRAC_AUTO), "2024-03-01T12:34:56.000001Z");
  CU_ASSERT_STRING_EQUAL(iso(1709296496 * US + 123456, PC_TIME_FRAC_MICROS), "2024-03-01T12:34:56.123456Z");
}

/* Before the epoch the fraction counts forward from the earlier second. */
static void test_fmt_before_epoch(void) {
  CU_ASSERT_STRING_EQUAL(iso(-1, PC_TIME_FRAC_AUTO), "1969-12-31T23:59:59.999999Z");
  CU_ASSERT_STRING_EQUAL(iso(-500000, PC_TIME_FRAC_AUTO), "1969-12-31T23:59:59.500000Z");
  CU_ASSERT_STRING_EQUAL(iso(-86400 * US, PC_TIME_FRAC_AUTO), "1969-12-31T00:00:00Z");
  CU_ASSERT_STRING_EQUAL(iso(INT64_C(-2203891200) * US, PC_TIME_FRAC_AUTO), "1900-03-01T00:00:00Z");
}

static void test_fmt_calendar(void) {
  CU_ASSERT_STRING_EQUAL(iso(1709164800 * US, PC_TIME_FRAC_AUTO), "2024-02-29T00:00:00Z");
  CU_ASSERT_STRING_EQUAL(iso(951782400 * US, PC_TIME_FRAC_AUTO), "2000-02-29T00:00:00Z");
  CU_ASSERT_STRING_EQUAL(iso(1735689599 * US, PC_TIME_FRAC_AUTO), "2024-12-31T23:59:59Z");
}

/* The ends of spec §1's span: year 0 (GDateTime refuses it) and 9999. */
static void test_fmt_year_span(void) {
  CU_ASSERT_STRING_EQUAL(iso(INT64_C(-62167219200) * US, PC_TIME_FRAC_AUTO), "0000-01-01T00:00:00Z");
  CU_ASSERT_STRING_EQUAL(iso(INT64_C(-62167219200) * US, PC_TIME_FRAC_MICROS), "0000-01-01T00:00:00.000000Z");
  CU_ASSERT_STRING_EQUAL(iso(INT64_C(253402300799) * US + 999999, PC_TIME_FRAC_AUTO), "9999-12-31T23:59:59.999999Z");
  /* year 0 is a leap year (divisible by 400) */
  CU_ASSERT_STRING_EQUAL(iso(INT64_C(-62162121600) * US, PC_TIME_FRAC_AUTO), "0000-02-29T00:00:00Z");
}

/* Astronomical years: -0001 is the year before 0000; "+" above 9999. */
static void test_fmt_years_outside(void) {
  CU_ASSERT_STRING_EQUAL(iso(INT64_C(-62167219200) * US - 1, PC_TIME_FRAC_AUTO), "-0001-12-31T23:59:59.999999Z");
  CU_ASSERT_STRING_EQUAL(iso(INT64_C(-62198755200) * US, PC_TIME_FRAC_AUTO), "-0001-01-01T00:00:00Z");
  CU_ASSERT_STRING_EQUAL(iso(INT64_C(253402300800) * US, PC_TIME_FRAC_AUTO), "+10000-01-01T00:00:00Z");
  CU_ASSERT_STRING_EQUAL(iso(INT64_MAX, PC_TIME_FRAC_AUTO), "+294247-01-10T04:00:54.775807Z");
  CU_ASSERT_STRING_EQUAL(iso(INT64_MIN, PC_TIME_FRAC_AUTO), "-290308-12-21T19:59:05.224192Z");
}

/* What the parser reads, the formatter writes back (UTC, 'Z'). */
static void test_fmt_round_trip(void) {
  const char *in[] = {"0000-01-01T00:00:00.000000Z", "1969-12-31T23:59:59.999999Z",
                      "2026-01-01T00:00:00.000000Z", "9999-12-31T23:59:59.999999Z"};
  for (size_t i = 0; i < G_N_ELEMENTS(in); i++) {
    int64_t us;
    CU_ASSERT_TRUE_FATAL(ts(in[i], &us));
    CU_ASSERT_STRING_EQUAL(iso(us, PC_TIME_FRAC_MICROS), in[i]);
  }
}

PC_TEST_MAIN("time",
             {"/time/ts_iso_z", test_ts_iso_z},
             {"/time/ts_lower_case", test_ts_lower_case},
             {"/time/ts_shape", test_ts_shape},
             {"/time/ts_fraction", test_ts_fraction},
             {"/time/ts_fraction_bad", test_ts_fraction_bad},
             {"/time/ts_offsets", test_ts_offsets},
             {"/time/ts_offsets_bad", test_ts_offsets_bad},
             {"/time/ts_leap_second", test_ts_leap_second},
             {"/time/ts_calendar", test_ts_calendar},
             {"/time/ts_year_span", test_ts_year_span},
             {"/time/ts_epoch", test_ts_epoch},
             {"/time/ts_epoch_negative", test_ts_epoch_negative},
             {"/time/ts_epoch_bad", test_ts_epoch_bad},
             {"/time/ts_epoch_span", test_ts_epoch_span},
             {"/time/fmt_epoch", test_fmt_epoch},
             {"/time/fmt_fraction", test_fmt_fraction},
             {"/time/fmt_before_epoch", test_fmt_before_epoch},
             {"/time/fmt_calendar", test_fmt_calendar},
             {"/time/fmt_year_span", test_fmt_year_span},
             {"/time/fmt_years_outside", test_fmt_years_outside},
             {"/time/fmt_round_trip", test_fmt_round_trip})
