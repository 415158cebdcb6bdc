/* time.c - the timestamp parser of spec §1, the one ISO-8601 formatter and
 * the calendar periods of spec §13 (day, Monday-week, month; pc_time.h).
 *
 * Owns the calendar arithmetic: H. Hinnant's days_from_civil and
 * civil_from_days (proleptic Gregorian, exact for every int64 day count, no
 * tables, no loops). Does not own what a timestamp column means (csv.c,
 * config.c) nor any output layout around the text. No allocation, no MPI,
 * no HDF5, no locale.
 *
 * Invariants:
 *  - parse accepts exactly spec §1 (years 0000..9999, offsets up to 23:59,
 *    1..6 fraction digits, epoch seconds within the same years), so any
 *    parsed value and any difference of two fits int64 with room.
 *  - format(parse(s)) is s in UTC for every ISO input with a 'Z' zone when
 *    the fraction is written with the same digits (PC_TIME_FRAC_MICROS and
 *    six digits, or PC_TIME_FRAC_AUTO and none).
 */
#include "pc_time.h"

#include <stdio.h>

#define MICROS INT64_C(1000000)
#define DAY_S INT64_C(86400)

/* ---- Calendar ------------------------------------------------------------- */

static gboolean is_leap(int y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m) {
  static const int dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : dm[m - 1];
}

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static int64_t days_from_civil(int64_t y, int m, int d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

/* Inverse of days_from_civil for any int64 day count we can get from an
 * int64 of microseconds (|days| < 2^37). */
static void civil_from_days(int64_t z, int64_t *y, int *m, int *d) {
  z += 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  *d = (int)(doy - (153 * mp + 2) / 5 + 1);
  *m = (int)(mp < 10 ? mp + 3 : mp - 9);
  *y = yoe + era * 400 + (*m <= 2);
}

/* ---- Parsing -------------------------------------------------------------- */

/* Value of two ASCII digits, or -1. */
static int digits2(const char *s) {
  unsigned a = (unsigned char)s[0] - '0', b = (unsigned char)s[1] - '0';
  if (a > 9 || b > 9) return -1;
  return (int)(a * 10 + b);
}

/* "YYYY-MM-DD" at s (10 bytes available): days since the epoch. */
static gboolean parse_date(const char *s, int64_t *days) {
  int yh = digits2(s), yl = digits2(s + 2), m = digits2(s + 5),
      d = digits2(s + 8);
  if (yh < 0 || yl < 0 || m < 1 || m > 12 || d < 1) return FALSE;
  if (s[4] != '-' || s[7] != '-') return FALSE;
  int y = yh * 100 + yl;
  if (d > days_in_month(y, m)) return FALSE;
  *days = days_from_civil(y, m, d);
  return TRUE;
}

/* "HH:MM:SS" at s (8 bytes available): seconds of the day. No leap second. */
static gboolean parse_clock(const char *s, int64_t *secs) {
  int h = digits2(s), mi = digits2(s + 3), se = digits2(s + 6);
  if (h < 0 || h > 23 || mi < 0 || mi > 59 || se < 0 || se > 59) return FALSE;
  if (s[2] != ':' || s[5] != ':') return FALSE;
  *secs = h * 3600 + mi * 60 + se;
  return TRUE;
}

gboolean pc_parse_fraction6(const char *s, size_t len, int64_t *us,
                            size_t *used) {
  *us = 0;
  *used = 0;
  if (len == 0 || s[0] != '.') return TRUE;
  size_t i = 1;
  int64_t v = 0, scale = MICROS;
  while (i < len && (unsigned)((unsigned char)s[i] - '0') <= 9) {
    if (i > 6) return FALSE; /* a 7th digit */
    v = v * 10 + (s[i] - '0');
    scale /= 10;
    i++;
  }
  if (i == 1) return FALSE; /* '.' without digits */
  *us = v * scale;
  *used = i;
  return TRUE;
}

/* The zone at s[0..len), all of what is left: "Z" or "+HH:MM"/"-HH:MM" up to
 * 23:59. *offset_s is what to subtract from local time to get UTC. */
static gboolean parse_zone(const char *s, size_t len, int64_t *offset_s) {
  if (len == 1 && s[0] == 'Z') {
    *offset_s = 0;
    return TRUE;
  }
  if (len != 6 || (s[0] != '+' && s[0] != '-') || s[3] != ':') return FALSE;
  int h = digits2(s + 1), m = digits2(s + 4);
  if (h < 0 || h > 23 || m < 0 || m > 59) return FALSE;
  *offset_s = (h * 3600 + m * 60) * (s[0] == '-' ? -1 : 1);
  return TRUE;
}

/* YYYY-MM-DDTHH:MM:SS[.f{1,6}](Z|±HH:MM), exact upper-case letters. */
static gboolean parse_iso(const char *s, size_t len, int64_t *us) {
  int64_t days, secs, frac, off;
  size_t used;
  if (len < 20 || s[10] != 'T') return FALSE;
  if (!parse_date(s, &days) || !parse_clock(s + 11, &secs)) return FALSE;
  if (!pc_parse_fraction6(s + 19, len - 19, &frac, &used)) return FALSE;
  if (!parse_zone(s + 19 + used, len - 19 - used, &off)) return FALSE;
  *us = (days * DAY_S + secs - off) * MICROS + frac;
  return TRUE;
}

/* -?[0-9]+ seconds within years 0000..9999 (so no int64 overflow, here or in
 * later differences of timestamps). Leading zeros are allowed; no '+'. */
static gboolean parse_epoch(const char *s, size_t len, int64_t *us) {
  size_t i = 0;
  gboolean neg = len > 0 && s[0] == '-';
  if (neg) i = 1;
  if (i == len) return FALSE;
  int64_t v = 0;
  for (; i < len; i++) {
    unsigned d = (unsigned char)s[i] - '0';
    if (d > 9) return FALSE;
    v = v * 10 + d;
    if (v > PC_TIME_EPOCH_MAX_S) return FALSE; /* beyond both bounds */
  }
  if (neg) v = -v;
  if (v < PC_TIME_EPOCH_MIN_S || v > PC_TIME_EPOCH_MAX_S) return FALSE;
  *us = v * MICROS;
  return TRUE;
}

gboolean pc_time_parse(const char *s, size_t len, int64_t *us) {
  /* Byte 4 is '-' only in the ISO form: epoch "-1234" has it at byte 0. */
  if (len > 4 && s[4] == '-') return parse_iso(s, len, us);
  return parse_epoch(s, len, us);
}

/* ---- Formatting ----------------------------------------------------------- */

/* Floor division and its non-negative remainder (C division truncates). */
static int64_t floor_div(int64_t a, int64_t b, int64_t *rem) {
  int64_t q = a / b, r = a % b;
  if (r < 0) {
    r += b;
    q--;
  }
  *rem = r;
  return q;
}

char *pc_time_format_iso(int64_t us, PcTimeFrac frac,
                         char buf[PC_TIME_ISO_BYTES]) {
  int64_t f, tod, y;
  int m, d;
  int64_t days = floor_div(floor_div(us, MICROS, &f), DAY_S, &tod);
  civil_from_days(days, &y, &m, &d);
  /* "%04" pads the magnitude only: the sign goes in front by hand so that
   * -1 reads "-0001", not "-001" */
  const char *sign = y < 0 ? "-" : y > 9999 ? "+" : "";
  int n = snprintf(buf, PC_TIME_ISO_BYTES, "%s%04" G_GINT64_FORMAT "-%02d-%02dT%02d:%02d:%02d",
                   sign, y < 0 ? -y : y, m, d, (int)(tod / 3600),
                   (int)(tod / 60 % 60), (int)(tod % 60));
  if (frac == PC_TIME_FRAC_MICROS || f != 0)
    n += snprintf(buf + n, PC_TIME_ISO_BYTES - (size_t)n, ".%06d", (int)f);
  g_strlcpy(buf + n, "Z", PC_TIME_ISO_BYTES - (size_t)n);
  return buf;
}

/* ---- Calendar periods ------------------------------------------------------ */

/* 1970-01-01 was a Thursday: day d lies in the Monday-week floor((d+3)/7),
 * which starts on day 7w - 3. */
int64_t pc_time_period_of(int64_t us, PcPeriod p) {
  int64_t r, y;
  int m, d;
  int64_t days = floor_div(us, DAY_S * MICROS, &r);
  if (p == PC_PERIOD_DAY) return days;
  if (p == PC_PERIOD_WEEK) return floor_div(days + 3, 7, &r);
  civil_from_days(days, &y, &m, &d);
  return (y - 1970) * 12 + (m - 1);
}

int64_t pc_time_period_start(int64_t i, PcPeriod p) {
  int64_t r;
  if (p == PC_PERIOD_DAY) return i * DAY_S * MICROS;
  if (p == PC_PERIOD_WEEK) return (7 * i - 3) * DAY_S * MICROS;
  int64_t y = 1970 + floor_div(i, 12, &r);
  return days_from_civil(y, (int)r + 1, 1) * DAY_S * MICROS;
}

char *pc_time_format_date(int64_t us, char buf[PC_TIME_ISO_BYTES]) {
  pc_time_format_iso(us, PC_TIME_FRAC_AUTO, buf);
  *strchr(buf, 'T') = 0;
  return buf;
}
