/* pc_time.h - timestamps of spec §1: the one parser of the input forms and
 * the one ISO-8601 formatter every output uses (CSV of generate, inspect,
 * truth.json; the job JSON of config.c is to follow).
 *
 * Pure: no allocation, no locale, no time zone database, no GDateTime (it
 * refuses years outside 1..9999). Timestamps are int64 microseconds since
 * 1970-01-01T00:00:00Z on the proleptic Gregorian calendar, without leap
 * seconds.
 */
#ifndef PC_TIME_H
#define PC_TIME_H

#include "pc_core.h"

/* ---- API ----------------------------------------------------------------- */

/* Bytes a formatted timestamp needs, NUL included: the longest is
 * "-292277-01-01T00:00:00.000000Z" plus room to spare. */
#define PC_TIME_ISO_BYTES 40

/* Span of ISO years 0000..9999 in epoch seconds (date -u -d ... +%s):
 * 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z. Epoch input is held to it. */
#define PC_TIME_EPOCH_MIN_S INT64_C(-62167219200)
#define PC_TIME_EPOCH_MAX_S INT64_C(253402300799)
/* What a parsed timestamp can be in microseconds UTC: the span above widened
 * by the largest offset (23:59), the last second's microseconds included.
 * A store holds nothing outside it; readers refuse a shard that does. */
#define PC_TIME_US_MIN ((PC_TIME_EPOCH_MIN_S - 86340) * INT64_C(1000000))
#define PC_TIME_US_MAX ((PC_TIME_EPOCH_MAX_S + 86340) * INT64_C(1000000) + 999999)

typedef enum {
  PC_TIME_FRAC_AUTO,   /* ".ffffff" only when the microseconds are non-zero */
  PC_TIME_FRAC_MICROS  /* always ".ffffff" (six digits) */
} PcTimeFrac;

/* Timestamp of spec §1: ISO-8601 YYYY-MM-DDTHH:MM:SS[.f{1,6}](Z|+HH:MM|-HH:MM)
 * (upper-case T and Z, years 0000..9999, no leap second) or integer epoch
 * seconds -?[0-9]+ within the same years. TRUE and *us (OUT) on success;
 * FALSE and *us untouched otherwise. Never reads outside s[0..len). */
gboolean pc_time_parse(const char *s, size_t len, int64_t *us);

/* An optional ".f{1,6}" at s[0..len) as millionths, right-padded ('.5' is
 * 500000): the six-digit fraction of both a timestamp and a value (spec
 * §1). *used = bytes taken (0 when there is no '.'). FALSE on a '.' without
 * digits or a seventh digit. */
gboolean pc_parse_fraction6(const char *s, size_t len, int64_t *us,
                            size_t *used);

/* Formats us as ISO-8601 UTC "YYYY-MM-DDTHH:MM:SS[.ffffff]Z" into buf and
 * returns buf. Cannot fail: every int64 is a date. Years use astronomical
 * numbering (year 0 = 1 BC): 0000..9999 take four digits, a negative year
 * is "-" and at least four digits (-0001 = 2 BC), a year above 9999 is "+"
 * and its digits (ISO 8601 expanded form), e.g. "+10000-01-01T00:00:00Z".
 * Microseconds before the epoch count forward from the second before:
 * -1 us is 1969-12-31T23:59:59.999999Z. */
char *pc_time_format_iso(int64_t us,          /* microseconds since the epoch */
                         PcTimeFrac frac,     /* when to write the fraction */
                         char buf[PC_TIME_ISO_BYTES]); /* OUT */

/* ---- API: calendar periods (spec §13) ------------------------------------ */

/* Periods of UTC time: a day, a week starting Monday 00:00 UTC, a calendar
 * month. */
typedef enum { PC_PERIOD_DAY, PC_PERIOD_WEEK, PC_PERIOD_MONTH } PcPeriod;

/* Index of the period that holds us: days since 1970-01-01, weeks since
 * the week of Monday 1969-12-29, months since 1970-01 (negative before).
 * Consecutive periods have consecutive indices. Cannot fail. */
int64_t pc_time_period_of(int64_t us, PcPeriod p);
/* The first microsecond of period index i (inverse of pc_time_period_of:
 * pc_time_period_of(pc_time_period_start(i, p), p) == i). For the indices
 * of timestamps of spec §1 and a few thousand periods beyond. */
int64_t pc_time_period_start(int64_t i, PcPeriod p);
/* The UTC date of us as "YYYY-MM-DD" (years as pc_time_format_iso writes
 * them) into buf; returns buf. Cannot fail. */
char *pc_time_format_date(int64_t us, char buf[PC_TIME_ISO_BYTES]);

#endif
