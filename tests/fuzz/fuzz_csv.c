/* fuzz_csv.c - libFuzzer harness for the row parsers of src/csv.c.
 *
 * The first input byte picks the parser (events row, customers row,
 * timestamp, value, header); the rest is the line. The parsers promise never
 * to read outside line[0..len) (pc_csv.h), so the line is copied into a heap
 * buffer of exactly len bytes: ASan then catches any read past its end. On
 * success the harness checks what the contract says about the result.
 */
#include "pc_csv.h"
#include "pc_time.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* 0000-01-01T00:00:00Z and 9999-12-31T23:59:59.999999Z, with ±23:59 of zone */
#define TS_MIN_US (INT64_C(-62167219200) * 1000000 - INT64_C(86400) * 1000000)
#define TS_MAX_US (INT64_C(253402300800) * 1000000 + INT64_C(86400) * 1000000)
#define VALUE_LIMIT_US INT64_C(9000000000000000000)

static void check_string(const char *s, uint32_t n, const char *line,
                         size_t len, uint32_t max) {
  if (n == 0 || n > max || s < line || s + n > line + len) abort();
  for (uint32_t i = 0; i < n; i++)
    if ((unsigned char)s[i] < 0x20 || s[i] == ',' || s[i] == '>') abort();
}

static void check_event(const char *line, size_t len) {
  PcCsvRow row;
  if (pc_csv_parse_event(line, len, &row) != PC_REJECT_NONE) return;
  check_string(row.id, row.id_len, line, len, 255);
  check_string(row.channel, row.channel_len, line, len, 63);
  check_string(row.event, row.event_len, line, len, 63);
  if (memchr(row.channel, ':', row.channel_len)) abort();
  if (row.ts_us < TS_MIN_US || row.ts_us > TS_MAX_US) abort();
  if (row.value <= -VALUE_LIMIT_US || row.value >= VALUE_LIMIT_US) abort();
}

static void check_customer(const char *line, size_t len) {
  PcCustomerRow row;
  if (pc_csv_parse_customer(line, len, &row) != PC_REJECT_NONE) return;
  check_string(row.id, row.id_len, line, len, 255);
  if (row.segment_len && (row.segment < line || row.segment + row.segment_len > line + len)) abort();
  if (row.revenue <= -VALUE_LIMIT_US || row.revenue >= VALUE_LIMIT_US) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0) return 0;
  size_t len = size - 1;
  char *line = malloc(len ? len : 1);
  memcpy(line, data + 1, len);
  int64_t v;
  switch (data[0] % 5) {
  case 0: check_event(line, len); break;
  case 1: check_customer(line, len); break;
  case 2:
    if (pc_time_parse(line, len, &v) && (v < TS_MIN_US || v > TS_MAX_US)) abort();
    break;
  case 3:
    if (pc_csv_parse_value(line, len, &v) && (v <= -VALUE_LIMIT_US || v >= VALUE_LIMIT_US)) abort();
    break;
  case 4: {
    GError *e = NULL;
    if (!pc_csv_check_header(line, len, data[0] & 8, "fuzz.csv", &e)) g_error_free(e);
    break;
  }
  }
  free(line);
  return 0;
}
