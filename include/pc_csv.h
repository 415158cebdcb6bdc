/* pc_csv.h - the canonical CSV of spec §1: row validation, timestamp and
 * value parsing, header checks, and a line reader over plain or gzip files
 * (or a byte range of a plain file, for parallel ingest).
 *
 * Pure parsing: no MPI, no HDF5. A row is validated completely or rejected
 * with exactly one reason (the first rule it breaks, in column order).
 */
#ifndef PC_CSV_H
#define PC_CSV_H

#include "pc_core.h"

typedef enum {
  PC_REJECT_NONE = 0,
  PC_REJECT_BLANK,          /* "blank_line": empty line (or only CR) */
  PC_REJECT_COLUMNS,        /* "column_count": not exactly 5 (customers: 3) fields */
  PC_REJECT_CUSTOMER_ID,    /* "bad_customer_id": empty, > 255 bytes, control byte or '>' */
  PC_REJECT_TIMESTAMP,      /* "bad_timestamp" */
  PC_REJECT_CHANNEL,        /* "bad_channel": empty, > 63, control, '>', ':', reserved */
  PC_REJECT_EVENT,          /* "bad_event": empty, > 63, control, '>', reserved */
  PC_REJECT_VALUE,          /* "bad_value" */
  PC_REJECT_REVENUE,        /* "bad_revenue" (customers table) */
  PC_REJECT_SEGMENT,        /* "bad_segment" (customers table: control byte) */
  PC_REJECT_DUPLICATE,      /* "duplicate_customer" (customers table; set by ingest) */
  PC_REJECT_N
} PcRejectReason;

/* Stable snake_case name of a reason (the strings above). Static storage. */
const char *pc_csv_reason_name(PcRejectReason r);

/* One event row; the pointers point into the parsed line. */
typedef struct {
  const char *id;
  uint32_t id_len;
  int64_t ts_us;
  const char *channel;
  uint32_t channel_len;
  const char *event;
  uint32_t event_len;
  int64_t value;      /* millionths; empty = 0 */
} PcCsvRow;

typedef struct {
  const char *id;
  uint32_t id_len;
  int64_t revenue;    /* millionths; empty = 0 */
  const char *segment;
  uint32_t segment_len;
} PcCustomerRow;

/* line: one line without its LF; a single trailing CR is ignored (CRLF).
 * Returns PC_REJECT_NONE and fills *out, or the reason. Never fails
 * otherwise; never reads outside line[0..len). */
PcRejectReason pc_csv_parse_event(const char *line, size_t len, PcCsvRow *out);
PcRejectReason pc_csv_parse_customer(const char *line, size_t len,
                                     PcCustomerRow *out);

/* Value of spec §1: [+-]?[0-9]+(\.[0-9]{1,6})?, |v| < 9e12, or empty (= 0). */
gboolean pc_csv_parse_value(const char *s, size_t len, int64_t *micros);

/* The rules of spec §1 for a stored string, which a shard reader applies
 * to what it reads: a customer id (1..255 bytes, no control byte, ',' or
 * '>'); a channel (channel TRUE: also no ':') or event name (1..63 bytes,
 * none of those bytes, not a reserved name). Cannot fail. */
gboolean pc_csv_id_ok(const char *s, size_t len);
gboolean pc_csv_name_ok(const char *s, size_t len, gboolean channel);

/* The header line (a UTF-8 BOM and a trailing CR allowed). customers:
 * "customer_id,revenue,segment", else "customer_id,timestamp,channel,event,value".
 * FALSE with PC_ERROR_FORMAT naming path and line 1. */
gboolean pc_csv_check_header(const char *line, size_t len, gboolean customers,
                             const char *path, GError **error);

/* ---- Line reader ----------------------------------------------------------- */

typedef struct PcLineReader PcLineReader;

/* Opens path (gzip detected by its magic bytes). For a plain file, reads the
 * lines that start in [start, end) (a line starts at 0 or after a LF; end =
 * UINT64_MAX reads to EOF); a gzip file must be read whole (start = 0).
 * first_line is the 1-based number of the first line returned (the caller
 * knows it from pc_csv_count_lines over the earlier ranges).
 * Caller frees with pc_line_reader_free(). NULL and PC_ERROR_IO on failure. */
PcLineReader *pc_line_reader_open(const char *path, uint64_t start,
                                  uint64_t end, uint64_t first_line,
                                  GError **error);
/* Next line without its LF (CR kept: the row parser ignores it). *line is
 * valid until the next call. FALSE at the end of the range or on error
 * (then *error is set, PC_ERROR_IO or PC_ERROR_FORMAT for a corrupt gzip
 * or bytes after its last member, see pc_rawread.h). */
gboolean pc_line_reader_next(PcLineReader *r, const char **line, size_t *len,
                             uint64_t *line_no, GError **error);
/* Bytes consumed so far (for progress). */
uint64_t pc_line_reader_offset(const PcLineReader *r);
/* Lines returned so far (0 after the whole file: it is empty). */
uint64_t pc_line_reader_lines(const PcLineReader *r);
void pc_line_reader_free(PcLineReader *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PcLineReader, pc_line_reader_free)

/* Number of lines that start in [start, end) of a plain file. */
gboolean pc_csv_count_lines(const char *path, uint64_t start, uint64_t end,
                            uint64_t *n, GError **error);

#endif
