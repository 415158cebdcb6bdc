/* csv.c - the canonical CSV of spec §1: row validation, value parsing,
 * header checks, and the line reader (plain files, byte ranges of plain
 * files, gzip files read whole through pc_rawread.h). Timestamps are parsed by time.c
 * (pc_time.h), the one parser the job file uses too.
 *
 * Owns: the reject rules of the event and customers tables and the bytes of
 * the lines it hands out. Does not own: counting rejects, writing the rejects
 * file, duplicate customers (ingest does those). No MPI, no HDF5.
 *
 * Invariants:
 *  - A row is parsed in one pass over its bytes with no allocation; the
 *    reason returned is the first rule broken: blank line, column count,
 *    then the columns left to right.
 *  - The parsers never read outside line[0..len).
 *  - A line starts at offset 0 or right after a LF. A reader over [start, end)
 *    returns exactly the lines that start in [start, end), each whole, so
 *    consecutive ranges of one file return every line exactly once;
 *    pc_csv_count_lines counts with the same definition, which is what makes
 *    the caller's first_line numbers right.
 *  - Timestamps are int64 microseconds UTC (pc_time_parse: years
 *    0000..9999, epoch seconds held to the same span).
 *
 * Choices where spec §1 is silent (docs/input.md lists them for users):
 * epoch seconds take no '+'; '"' is an ordinary byte; reserved names apply to
 * channel and event only; a segment may hold any byte but a control byte.
 */
#include "pc_csv.h"
#include "pc_rawread.h"
#include "pc_time.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#define PC_CSV_BLOCK_BYTES ((size_t)4 << 20)     /* one read(); 4 MiB */
#define PC_CSV_MAX_LINE_BYTES ((size_t)16 << 20) /* a valid row is < 1 KiB */
#define PC_CSV_MICROS INT64_C(1000000)
#define PC_CSV_VALUE_INT_LIMIT INT64_C(9000000000000) /* 9e12 */

static const char event_header[] = "customer_id,timestamp,channel,event,value";
static const char customer_header[] = "customer_id,revenue,segment";

/* ---- Reasons --------------------------------------------------------------- */

static const char *const reason_names[PC_REJECT_N] = {
    [PC_REJECT_NONE] = "none",
    [PC_REJECT_BLANK] = "blank_line",
    [PC_REJECT_COLUMNS] = "column_count",
    [PC_REJECT_CUSTOMER_ID] = "bad_customer_id",
    [PC_REJECT_TIMESTAMP] = "bad_timestamp",
    [PC_REJECT_CHANNEL] = "bad_channel",
    [PC_REJECT_EVENT] = "bad_event",
    [PC_REJECT_VALUE] = "bad_value",
    [PC_REJECT_REVENUE] = "bad_revenue",
    [PC_REJECT_SEGMENT] = "bad_segment",
    [PC_REJECT_DUPLICATE] = "duplicate_customer",
};

/* Cannot fail: an out-of-range reason reads "unknown". */
const char *pc_csv_reason_name(PcRejectReason r) {
  if ((unsigned)r >= PC_REJECT_N) return "unknown";
  return reason_names[r];
}

/* ---- Values ---------------------------------------------------------------- */

/* [+-]?[0-9]+(\.[0-9]{1,6})?, |v| < 9e12, or empty (= 0). FALSE (and *micros
 * untouched) otherwise. The integer part is bounded while it is read, so a
 * long run of digits cannot overflow. */
gboolean pc_csv_parse_value(const char *s, size_t len, int64_t *micros) {
  size_t i = 0;
  if (len == 0) {
    *micros = 0;
    return TRUE;
  }
  gboolean neg = s[0] == '-';
  if (s[0] == '-' || s[0] == '+') i = 1;
  size_t first = i;
  int64_t ip = 0;
  for (; i < len && (unsigned)((unsigned char)s[i] - '0') <= 9; i++) {
    ip = ip * 10 + (s[i] - '0');
    if (ip >= PC_CSV_VALUE_INT_LIMIT) return FALSE;
  }
  if (i == first) return FALSE; /* no integer digit: ".5", "+", "" after sign */
  int64_t frac;
  size_t used;
  if (!pc_parse_fraction6(s + i, len - i, &frac, &used)) return FALSE;
  if (i + used != len) return FALSE; /* "5.", "1e3", trailing bytes */
  int64_t v = ip * PC_CSV_MICROS + frac;
  *micros = neg ? -v : v;
  return TRUE;
}

/* ---- Rows ------------------------------------------------------------------ */

/* Length without one trailing CR (CRLF line ends). */
static size_t strip_cr(const char *line, size_t len) {
  return len > 0 && line[len - 1] == '\r' ? len - 1 : len;
}

/* Splits line[0..len) at commas into exactly n fields; FALSE when the comma
 * count is not n - 1. memchr keeps this at memory speed. */
static gboolean split_fields(const char *line, size_t len, const char **f,
                             size_t *flen, int n) {
  const char *p = line, *end = line + len;
  for (int k = 0; k < n - 1; k++) {
    const char *c = memchr(p, ',', (size_t)(end - p));
    if (!c) return FALSE;
    f[k] = p;
    flen[k] = (size_t)(c - p);
    p = c + 1;
  }
  if (memchr(p, ',', (size_t)(end - p))) return FALSE;
  f[n - 1] = p;
  flen[n - 1] = (size_t)(end - p);
  return TRUE;
}

/* 1..max bytes, none a control byte (< 0x20) or '>', nor ':' unless colon. */
static gboolean string_ok(const char *s, size_t len, size_t max,
                          gboolean colon) {
  if (len == 0 || len > max) return FALSE;
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c < 0x20 || c == '>' || (c == ':' && !colon)) return FALSE;
  }
  return TRUE;
}

/* The names of spec §1 that outputs use for themselves. */
static gboolean name_reserved(const char *s, size_t len) {
  switch (len) {
  case 1:
    return s[0] == '^' || s[0] == '$';
  case 5:
    return memcmp(s, "(all)", 5) == 0;
  case 9:
    return memcmp(s, "(unknown)", 9) == 0;
  default:
    return FALSE;
  }
}

static gboolean name_ok(const char *s, size_t len, gboolean colon) {
  return string_ok(s, len, PC_MAX_NAME_BYTES, colon) && !name_reserved(s, len);
}

gboolean pc_csv_id_ok(const char *s, size_t len) {
  return string_ok(s, len, PC_MAX_ID_BYTES, TRUE) && !memchr(s, ',', len);
}

gboolean pc_csv_name_ok(const char *s, size_t len, gboolean channel) {
  return name_ok(s, len, !channel) && !memchr(s, ',', len);
}

/* Cannot fail beyond the reason returned; *out is filled only on NONE. */
PcRejectReason pc_csv_parse_event(const char *line, size_t len,
                                  PcCsvRow *out) {
  const char *f[5];
  size_t fl[5];
  int64_t ts, value;
  len = strip_cr(line, len);
  if (len == 0) return PC_REJECT_BLANK;
  if (!split_fields(line, len, f, fl, 5)) return PC_REJECT_COLUMNS;
  if (!string_ok(f[0], fl[0], PC_MAX_ID_BYTES, TRUE))
    return PC_REJECT_CUSTOMER_ID;
  if (!pc_time_parse(f[1], fl[1], &ts)) return PC_REJECT_TIMESTAMP;
  if (!name_ok(f[2], fl[2], FALSE)) return PC_REJECT_CHANNEL;
  if (!name_ok(f[3], fl[3], TRUE)) return PC_REJECT_EVENT;
  if (!pc_csv_parse_value(f[4], fl[4], &value)) return PC_REJECT_VALUE;
  *out = (PcCsvRow){f[0], (uint32_t)fl[0], ts,    f[2], (uint32_t)fl[2],
                    f[3], (uint32_t)fl[3], value};
  return PC_REJECT_NONE;
}

/* A segment is free text: any bytes but control bytes (commas split it). */
static gboolean segment_ok(const char *s, size_t len) {
  for (size_t i = 0; i < len; i++)
    if ((unsigned char)s[i] < 0x20) return FALSE;
  return TRUE;
}

PcRejectReason pc_csv_parse_customer(const char *line, size_t len,
                                     PcCustomerRow *out) {
  const char *f[3];
  size_t fl[3];
  int64_t revenue;
  len = strip_cr(line, len);
  if (len == 0) return PC_REJECT_BLANK;
  if (!split_fields(line, len, f, fl, 3)) return PC_REJECT_COLUMNS;
  if (!string_ok(f[0], fl[0], PC_MAX_ID_BYTES, TRUE))
    return PC_REJECT_CUSTOMER_ID;
  if (!pc_csv_parse_value(f[1], fl[1], &revenue)) return PC_REJECT_REVENUE;
  if (!segment_ok(f[2], fl[2])) return PC_REJECT_SEGMENT;
  *out = (PcCustomerRow){f[0], (uint32_t)fl[0], revenue, f[2],
                         (uint32_t)fl[2]};
  return PC_REJECT_NONE;
}

/* ---- Header ---------------------------------------------------------------- */

/* TRUE when the line is the expected header, after an optional UTF-8 BOM and
 * before an optional CR. Else FALSE, PC_ERROR_FORMAT "PATH:1: ...". */
gboolean pc_csv_check_header(const char *line, size_t len, gboolean customers,
                             const char *path, GError **error) {
  const char *want = customers ? customer_header : event_header;
  size_t wlen = strlen(want);
  if (len >= 3 && memcmp(line, "\xEF\xBB\xBF", 3) == 0) {
    line += 3;
    len -= 3;
  }
  len = strip_cr(line, len);
  if (len == wlen && memcmp(line, want, wlen) == 0) return TRUE;
  pc_set_error(error, PC_ERROR_FORMAT,
               "%s:1: bad header line: expected \"%s\" (%s table)", path, want,
               customers ? "customers" : "events");
  return FALSE;
}

/* ---- Line reader ----------------------------------------------------------- */

/* buf[pos..fill) holds bytes not yet returned; buf[0] is at content
 * offset base (uncompressed offset for gzip). */
struct PcLineReader {
  char *path;
  PcRawRead *raw;     /* the file's bytes (pc_rawread.h) */
  char *buf;
  size_t cap, pos, fill;
  uint64_t base;
  uint64_t start, end;
  uint64_t line_no;   /* number of the next line returned */
  uint64_t returned;  /* lines returned so far */
  gboolean skip;      /* still skipping the line that straddles start */
  gboolean eof, done;
};

/* Reads up to n bytes at buf[fill]; 0 at EOF. -1 with *error set. */
static ssize_t read_some(PcLineReader *r, size_t n, GError **error) {
  return pc_rawread_read(r->raw, r->buf + r->fill, n, error);
}

/* Makes room after fill: drops returned bytes, then grows up to the line
 * limit. FALSE with PC_ERROR_FORMAT when one line outgrows it. */
static gboolean make_room(PcLineReader *r, GError **error) {
  if (r->pos > 0) {
    memmove(r->buf, r->buf + r->pos, r->fill - r->pos);
    r->base += r->pos;
    r->fill -= r->pos;
    r->pos = 0;
  }
  if (r->fill < r->cap) return TRUE;
  if (r->cap >= PC_CSV_MAX_LINE_BYTES + 1) {
    pc_set_error(error, PC_ERROR_FORMAT,
                 "%s:%" G_GUINT64_FORMAT ": line longer than %zu bytes",
                 r->path, r->line_no, PC_CSV_MAX_LINE_BYTES);
    return FALSE;
  }
  r->cap = MIN(r->cap * 2, PC_CSV_MAX_LINE_BYTES + 1);
  r->buf = g_realloc(r->buf, r->cap);
  return TRUE;
}

/* One more block into the buffer; sets eof. FALSE on error. */
static gboolean fill_more(PcLineReader *r, GError **error) {
  if (!make_room(r, error)) return FALSE;
  size_t want = MIN(r->cap - r->fill, PC_CSV_BLOCK_BYTES);
  ssize_t got = read_some(r, want, error);
  if (got < 0) return FALSE;
  if (got == 0) r->eof = TRUE;
  r->fill += (size_t)got;
  return TRUE;
}

/* Skips through the first LF at or after start - 1: the line that holds
 * byte start - 1 began before start and belongs to the previous range. */
static gboolean skip_partial(PcLineReader *r, GError **error) {
  while (r->skip) {
    const char *lf = memchr(r->buf + r->pos, '\n', r->fill - r->pos);
    if (lf) {
      r->pos = (size_t)(lf - r->buf) + 1;
      r->skip = FALSE;
      break;
    }
    r->pos = r->fill; /* no line ends here: discard, do not grow */
    if (r->eof) {
      r->skip = FALSE;
      break;
    }
    if (!fill_more(r, error)) return FALSE;
  }
  return TRUE;
}

/* NULL with PC_ERROR_IO when the file cannot be opened or sought.
 * Caller frees with pc_line_reader_free(). */
PcLineReader *pc_line_reader_open(const char *path, uint64_t start,
                                  uint64_t end, uint64_t first_line,
                                  GError **error) {
  /* a plain range starts one byte early: the line holding byte start - 1
   * began before start and belongs to the previous range */
  uint64_t from = start ? start - 1 : 0;
  PcRawRead *raw = pc_rawread_open(path, from, error);
  if (!raw) return NULL;
  if (pc_rawread_is_gzip(raw) && start != 0) {
    pc_set_error(error, PC_ERROR_INTERNAL, "%s: a gzip file is read whole, not from byte %" G_GUINT64_FORMAT, path, start);
    pc_rawread_close(raw);
    return NULL;
  }
  PcLineReader *r = g_new0(PcLineReader, 1);
  r->path = g_strdup(path);
  r->raw = raw;
  r->start = start;
  r->end = pc_rawread_is_gzip(raw) ? UINT64_MAX : end; /* gzip: whole file */
  r->base = from;
  r->skip = start != 0;
  r->line_no = first_line;
  r->cap = PC_CSV_BLOCK_BYTES;
  r->buf = g_malloc(r->cap);
  return r;
}

/* Hands out buf[pos..pos+len) and steps past its LF (if any). */
static void take_line(PcLineReader *r, size_t len, gboolean lf,
                      const char **line, size_t *out_len, uint64_t *line_no) {
  *line = r->buf + r->pos;
  *out_len = len;
  *line_no = r->line_no++;
  r->returned++;
  r->pos += len + (lf ? 1 : 0);
}

/* FALSE at the end of the range (no error) or on error (*error set). */
gboolean pc_line_reader_next(PcLineReader *r, const char **line, size_t *len,
                             uint64_t *line_no, GError **error) {
  if (r->done) return FALSE;
  if (r->skip && !skip_partial(r, error)) return FALSE;
  for (;;) {
    if (r->pos == r->fill && r->eof) break;
    if (r->base + r->pos >= r->end) break; /* next line starts past the range */
    const char *lf = memchr(r->buf + r->pos, '\n', r->fill - r->pos);
    if (lf) {
      take_line(r, (size_t)(lf - (r->buf + r->pos)), TRUE, line, len, line_no);
      return TRUE;
    }
    if (r->eof) { /* last line of the file, no LF */
      take_line(r, r->fill - r->pos, FALSE, line, len, line_no);
      return TRUE;
    }
    if (!fill_more(r, error)) return FALSE;
  }
  r->done = TRUE;
  return FALSE;
}

/* Plain: bytes of the range consumed (through the last line returned).
 * Gzip: compressed bytes read from the file, comparable to its size. */
uint64_t pc_line_reader_offset(const PcLineReader *r) {
  if (pc_rawread_is_gzip(r->raw)) return pc_rawread_offset(r->raw);
  uint64_t at = r->base + r->pos;
  return at > r->start ? at - r->start : 0;
}

uint64_t pc_line_reader_lines(const PcLineReader *r) { return r->returned; }

void pc_line_reader_free(PcLineReader *r) {
  if (!r) return;
  pc_rawread_close(r->raw);
  g_free(r->buf);
  g_free(r->path);
  g_free(r);
}

/* ---- Whole-file helpers ---------------------------------------------------- */

/* LFs in [from, to) of fd, read in blocks into buf (PC_CSV_BLOCK_BYTES). */
static gboolean count_lf(int fd, const char *path, uint64_t from, uint64_t to,
                         char *buf, uint64_t *n, GError **error) {
  uint64_t at = from;
  *n = 0;
  while (at < to) {
    size_t want = (size_t)MIN(to - at, (uint64_t)PC_CSV_BLOCK_BYTES);
    ssize_t got = pread(fd, buf, want, (off_t)at);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) {
      pc_set_error(error, PC_ERROR_IO, "%s: read error at byte %" G_GUINT64_FORMAT
                   ": %s", path, at, got < 0 ? g_strerror(errno) : "short file");
      return FALSE;
    }
    for (const char *p = buf, *e = buf + got;
         (p = memchr(p, '\n', (size_t)(e - p))) != NULL; p++)
      (*n)++;
    at += (size_t)got;
  }
  return TRUE;
}

/* A line starts at p < size when p == 0 or byte p - 1 is a LF, so the lines
 * starting in [start, E) are (start == 0) plus the LFs in [start - 1, E - 1),
 * E = min(end, size). Same definition as the reader. */
gboolean pc_csv_count_lines(const char *path, uint64_t start, uint64_t end,
                            uint64_t *n, GError **error) {
  struct stat st;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0 || fstat(fd, &st) < 0) {
    pc_set_error(error, PC_ERROR_IO, "%s: cannot open: %s", path,
                 g_strerror(errno));
    if (fd >= 0) close(fd);
    return FALSE;
  }
  uint64_t e = MIN(end, (uint64_t)st.st_size);
  uint64_t lf = 0;
  gboolean ok = TRUE;
  if (start < e) {
    char *buf = g_malloc(PC_CSV_BLOCK_BYTES);
    uint64_t from = start == 0 ? 0 : start - 1;
    ok = count_lf(fd, path, from, e - 1, buf, &lf, error);
    g_free(buf);
    lf += start == 0;
  }
  close(fd);
  if (ok) *n = lf;
  return ok;
}
