/* table.c - PcTable: output tables in memory and their CSV form (spec §10).
 * Owns cells and formatting. No MPI, no HDF5 (h5io.c reads tables through
 * the getters). Invariant: every row has ncols cells; a cell is empty until
 * set.
 *
 * Storage is by column, because rank 0 holds every output table at once
 * (prefix_tree.csv has a row per kept node): a column is a plain array of
 * int64, double, PcMoney or string pointers, strings live in one
 * GStringChunk (no allocation per cell), and one byte per cell says
 * whether it is set. A prefix-tree row takes about 45 bytes plus its path.
 */
#include "pc_table.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <unistd.h>

struct PcTable {
  char *name;
  guint ncols, nrows;
  char **col_names;
  PcColType *col_types;
  GArray **col;        /* [ncols] values (int64, double, PcMoney, char *) */
  GArray *set;         /* guint8 per cell, row-major */
  GStringChunk *text;  /* every string cell */
};

static PcColType parse_type(const char *t) {
  if (!strcmp(t, "int")) return PC_COL_INT;
  if (!strcmp(t, "double")) return PC_COL_DOUBLE;
  if (!strcmp(t, "micros")) return PC_COL_MICROS;
  g_assert(!strcmp(t, "string"));
  return PC_COL_STRING;
}

static size_t col_size(PcColType t) {
  return t == PC_COL_MICROS ? sizeof(PcMoney) : 8;
}

PcTable *pc_table_new(const char *name, const char *const *cols,
                      guint ncols) {
  PcTable *t = g_new0(PcTable, 1);
  t->name = g_strdup(name);
  t->ncols = ncols;
  t->col_names = g_new0(char *, ncols + 1);
  t->col_types = g_new0(PcColType, ncols);
  t->col = g_new0(GArray *, ncols + 1);
  for (guint i = 0; i < ncols; i++) {
    const char *colon = strchr(cols[i], ':');
    g_assert(colon);
    t->col_names[i] = g_strndup(cols[i], colon - cols[i]);
    t->col_types[i] = parse_type(colon + 1);
    t->col[i] = g_array_new(FALSE, TRUE, (guint)col_size(t->col_types[i]));
  }
  t->set = g_array_new(FALSE, TRUE, 1);
  t->text = g_string_chunk_new(4096);
  return t;
}

void pc_table_free(PcTable *t) {
  if (!t) return;
  for (guint i = 0; i < t->ncols; i++) g_array_free(t->col[i], TRUE);
  g_free(t->col);
  g_array_free(t->set, TRUE);
  g_string_chunk_free(t->text);
  g_strfreev(t->col_names);
  g_free(t->col_types);
  g_free(t->name);
  g_free(t);
}

guint pc_table_add_row(PcTable *t) {
  for (guint i = 0; i < t->ncols; i++) g_array_set_size(t->col[i], t->nrows + 1);
  g_array_set_size(t->set, t->set->len + t->ncols);
  return t->nrows++;
}

/* The value slot of col in the last row, marked set. */
static void *last_cell(PcTable *t, guint col, PcColType want) {
  g_assert(col < t->ncols && t->nrows > 0);
  g_assert(t->col_types[col] == want);
  t->set->data[(size_t)(t->nrows - 1) * t->ncols + col] = 1;
  return t->col[col]->data + (size_t)(t->nrows - 1) * col_size(want);
}

void pc_table_set_int(PcTable *t, guint col, int64_t v) {
  memcpy(last_cell(t, col, PC_COL_INT), &v, sizeof v);
}
void pc_table_set_micros(PcTable *t, guint col, PcMoney v) {
  memcpy(last_cell(t, col, PC_COL_MICROS), &v, sizeof v);
}
void pc_table_set_double(PcTable *t, guint col, double v) {
  memcpy(last_cell(t, col, PC_COL_DOUBLE), &v, sizeof v);
}
void pc_table_set_string(PcTable *t, guint col, const char *s) {
  pc_table_set_string_len(t, col, s, strlen(s));
}
/* A string set twice keeps its first copy in the chunk until the table is
 * freed (rare: cells are set once). */
void pc_table_set_string_len(PcTable *t, guint col, const char *s, size_t n) {
  const char *p = g_string_chunk_insert_len(t->text, s, (gssize)n);
  memcpy(last_cell(t, col, PC_COL_STRING), &p, sizeof p);
}

const char *pc_table_name(const PcTable *t) { return t->name; }
guint pc_table_ncols(const PcTable *t) { return t->ncols; }
guint pc_table_nrows(const PcTable *t) { return t->nrows; }
const char *pc_table_col_name(const PcTable *t, guint c) {
  return t->col_names[c];
}
PcColType pc_table_col_type(const PcTable *t, guint c) {
  return t->col_types[c];
}

/* The value slot of (row, col), or NULL when the cell is empty. */
static const void *cell(const PcTable *t, guint row, guint col) {
  g_assert(row < t->nrows && col < t->ncols);
  if (!t->set->data[(size_t)row * t->ncols + col]) return NULL;
  return t->col[col]->data + (size_t)row * col_size(t->col_types[col]);
}
gboolean pc_table_is_empty(const PcTable *t, guint row, guint col) {
  return !cell(t, row, col);
}
static PcMoney money_at(const void *p) {
  PcMoney m;
  memcpy(&m, p, sizeof m);
  return m;
}
gboolean pc_table_is_stored_empty(const PcTable *t, guint row, guint col) {
  return !cell(t, row, col) && t->col_types[col] == PC_COL_MICROS;
}
int64_t pc_table_get_int(const PcTable *t, guint row, guint col) {
  const void *c = cell(t, row, col);
  if (!c) return INT64_MIN;
  if (t->col_types[col] == PC_COL_INT) return *(const int64_t *)c;
  /* a money cell read as int64 millionths: only when it fits */
  PcMoney m = money_at(c);
  g_assert(t->col_types[col] == PC_COL_MICROS && m > INT64_MIN && m <= INT64_MAX);
  return (int64_t)m;
}
PcMoney pc_table_get_micros(const PcTable *t, guint row, guint col) {
  g_assert(t->col_types[col] == PC_COL_MICROS);
  const void *c = cell(t, row, col);
  return c ? money_at(c) : 0;
}
double pc_table_get_double(const PcTable *t, guint row, guint col) {
  const void *c = cell(t, row, col);
  return c ? *(const double *)c : NAN;
}
const char *pc_table_get_string(const PcTable *t, guint row, guint col) {
  const void *c = cell(t, row, col);
  return c ? *(const char *const *)c : "";
}

/* ---- %.12g without printf ----
 * printf's %.12g costs ~300 instructions a value, the largest part of
 * writing tables of scores and ROC points. The same text is computed here
 * exactly: the 12 significant digits are the value times a power of ten,
 * rounded to nearest with ties to even (glibc's rule) in 128-bit integer
 * arithmetic on the double's exact binary value. Values whose arithmetic
 * would not fit 128 bits (about |v| < 1e-11 or >= 1e27, subnormals) go to
 * snprintf. test_table compares both on millions of values. */

typedef unsigned __int128 U128;

static U128 pow10_u128(int k) { /* 0 <= k <= 38 */
  U128 p = 1;
  while (k--) p *= 10;
  return p;
}

/* round(num / den), ties to even; den > 0. */
static U128 div_round(U128 num, U128 den) {
  U128 q = num / den, r = num % den;
  if (r > den - r || (r == den - r && (q & 1))) q++;
  return q;
}

/* N = round(m * 2^e * 10^k) when it fits 128-bit arithmetic: TRUE. */
static gboolean scaled(uint64_t m, int e, int k, U128 *n) {
  U128 num = m, den = 1;
  if (k >= 0) {
    if (k > 22) return FALSE; /* m * 10^k < 2^53 * 2^74 */
    num *= pow10_u128(k);
  } else {
    if (-k > 38) return FALSE;
    den = pow10_u128(-k);
  }
  if (e >= 0) {
    if (e > 126 || (num >> (127 - e)) != 0) return FALSE;
    num <<= e;
  } else {
    if (-e > 126 || (den >> (126 + e)) != 0) return FALSE;
    den <<= -e;
  }
  *n = div_round(num, den);
  return TRUE;
}

/* The 12 digits of |v| (N, 10^11 <= N < 10^12) and the decimal exponent X
 * of the rounded value; FALSE when not computable here. */
static gboolean digits12(double v, uint64_t *n_out, int *x_out) {
  uint64_t bits;
  memcpy(&bits, &v, 8);
  int be = (int)((bits >> 52) & 0x7ff);
  if (be == 0 || be == 0x7ff) return FALSE; /* subnormal, inf, nan */
  uint64_t m = (bits & ((UINT64_C(1) << 52) - 1)) | (UINT64_C(1) << 52);
  int e = be - 1075; /* |v| = m * 2^e, 2^52 <= m < 2^53 */
  int d = (int)floor((double)(e + 52) * 0.30102999566398120); /* <= log10|v| */
  const U128 lo = (U128)100000000000ULL, hi = (U128)1000000000000ULL;
  for (int tries = 0; tries < 3; tries++) {
    U128 n;
    if (!scaled(m, e, 11 - d, &n)) return FALSE;
    if (n < lo) d--;
    else if (n > hi) d++;
    else {
      if (n == hi) { /* rounded up to the next power of ten */
        n = lo;
        d++;
      }
      *n_out = (uint64_t)n;
      *x_out = d;
      return TRUE;
    }
  }
  return FALSE;
}

/* %.12g of digits N (12 of them) and exponent X, sign given. */
static char *fmt_g12(char *buf, gboolean neg, uint64_t n, int x) {
  char dg[12];
  for (int i = 11; i >= 0; i--, n /= 10) dg[i] = (char)('0' + n % 10);
  int nd = 12;
  while (nd > 1 && dg[nd - 1] == '0') nd--; /* %g drops trailing zeros */
  char *p = buf;
  if (neg) *p++ = '-';
  if (x < -4 || x >= 12) {
    *p++ = dg[0];
    if (nd > 1) *p++ = '.';
    for (int i = 1; i < nd; i++) *p++ = dg[i];
    sprintf(p, "e%c%02d", x < 0 ? '-' : '+', x < 0 ? -x : x);
    return buf;
  }
  if (x < 0) {
    *p++ = '0';
    *p++ = '.';
    for (int i = -1; i > x; i--) *p++ = '0';
    for (int i = 0; i < nd; i++) *p++ = dg[i];
  } else {
    for (int i = 0; i <= x; i++) *p++ = dg[i];
    if (nd > x + 1) *p++ = '.';
    for (int i = x + 1; i < nd; i++) *p++ = dg[i];
  }
  *p = 0;
  return buf;
}

char *pc_fmt_double(char *buf, double v) {
  if (isnan(v)) return strcpy(buf, "nan");
  if (isinf(v)) return strcpy(buf, v > 0 ? "inf" : "-inf");
  if (v == 0) return strcpy(buf, "0"); /* also -0 */
  uint64_t n;
  int x;
  if (digits12(v, &n, &x)) return fmt_g12(buf, v < 0, n, x);
  snprintf(buf, 32, "%.12g", v);
  return buf;
}

char *pc_fmt_micros(char *buf, PcMoney v) {
  /* Unsigned magnitude: the most negative PcMoney has no positive twin. */
  unsigned __int128 u = v < 0 ? (unsigned __int128)0 - (unsigned __int128)v
                              : (unsigned __int128)v;
  char digits[48];
  int n = 0;
  unsigned __int128 whole = u / 1000000;
  do { /* the integer part, least significant digit first */
    digits[n++] = (char)('0' + (int)(whole % 10));
    whole /= 10;
  } while (whole);
  char *p = buf;
  if (v < 0) *p++ = '-';
  while (n) *p++ = digits[--n];
  snprintf(p, 9, ".%06u", (unsigned)(u % 1000000));
  return buf;
}

gboolean pc_parse_micros(const char *s, PcMoney *out) {
  gboolean neg = *s == '-';
  const char *p = s + neg, *dot = strchr(p, '.');
  if (!dot || dot == p || dot - p > 33 || strlen(dot + 1) != 6) return FALSE;
  /* every PcMoney (33 digits before the point at most), nothing beyond:
   * |value| <= 2^127 - 1, or 2^127 for a negative one */
  const unsigned __int128 lim = ((unsigned __int128)1 << 127) - (neg ? 0 : 1);
  unsigned __int128 u = 0;
  for (const char *q = p; *q; q++) {
    if (q == dot) continue;
    if (*q < '0' || *q > '9') return FALSE;
    unsigned d = (unsigned)(*q - '0');
    if (u > (lim - d) / 10) return FALSE;
    u = u * 10 + d;
  }
  *out = neg ? (PcMoney)(0 - u) : (PcMoney)u;
  return TRUE;
}

/* The CSV text is built in a buffer flushed in large writes: per-cell
 * stdio calls (fprintf of every integer, fputc of every comma) were most of
 * the cost of writing a 10^6-row table. */
#define CSV_BUF_BYTES ((size_t)1 << 20)

typedef struct {
  FILE *f;
  char *buf;
  size_t n;
} CsvOut;

static void out_flush(CsvOut *o) {
  if (o->n) fwrite(o->buf, 1, o->n, o->f);
  o->n = 0;
}

static void out_bytes(CsvOut *o, const char *s, size_t n) {
  if (o->n + n > CSV_BUF_BYTES) {
    out_flush(o);
    if (n > CSV_BUF_BYTES) {
      fwrite(s, 1, n, o->f);
      return;
    }
  }
  memcpy(o->buf + o->n, s, n);
  o->n += n;
}

/* Decimal text of v into buf (at least 21 bytes); returns its length. */
static size_t fmt_i64(char *buf, int64_t v) {
  char tmp[24];
  size_t n = 0, k = 0;
  uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
  do {
    tmp[n++] = (char)('0' + u % 10);
    u /= 10;
  } while (u);
  if (v < 0) buf[k++] = '-';
  while (n) buf[k++] = tmp[--n];
  return k;
}

static void write_cell(CsvOut *o, const PcTable *t, guint row, guint col) {
  char buf[PC_MONEY_BYTES];
  if (pc_table_is_empty(t, row, col)) return;
  switch (t->col_types[col]) {
  case PC_COL_INT: out_bytes(o, buf, fmt_i64(buf, pc_table_get_int(t, row, col))); break;
  case PC_COL_MICROS: out_bytes(o, buf, strlen(pc_fmt_micros(buf, pc_table_get_micros(t, row, col)))); break;
  case PC_COL_DOUBLE: out_bytes(o, buf, strlen(pc_fmt_double(buf, pc_table_get_double(t, row, col)))); break;
  case PC_COL_STRING: {
    const char *v = pc_table_get_string(t, row, col);
    out_bytes(o, v, strlen(v));
    break;
  }
  }
}

static void write_rows(FILE *f, const PcTable *t) {
  CsvOut o = {f, g_malloc(CSV_BUF_BYTES), 0};
  for (guint c = 0; c < t->ncols; c++) {
    if (c) out_bytes(&o, ",", 1);
    out_bytes(&o, t->col_names[c], strlen(t->col_names[c]));
  }
  out_bytes(&o, "\n", 1);
  guint nrows = pc_table_nrows(t);
  for (guint r = 0; r < nrows; r++) {
    for (guint c = 0; c < t->ncols; c++) {
      if (c) out_bytes(&o, ",", 1);
      write_cell(&o, t, r, c);
    }
    out_bytes(&o, "\n", 1);
  }
  out_flush(&o);
  g_free(o.buf);
}

gboolean pc_table_write_csv(const PcTable *t, const char *path,
                            GError **error) {
  g_autofree char *tmp = g_strdup_printf("%s.tmp.%d", path, (int)getpid());
  FILE *f = fopen(tmp, "w");
  if (!f) {
    pc_set_error(error, PC_ERROR_IO, "%s: %s", tmp, g_strerror(errno));
    return FALSE;
  }
  write_rows(f, t);
  gboolean ok = !ferror(f) && fflush(f) == 0 && fsync(fileno(f)) == 0;
  int err = errno;
  if (fclose(f) != 0 && ok) {
    ok = FALSE;
    err = errno;
  }
  if (!ok || rename(tmp, path) != 0) {
    if (ok) err = errno;
    unlink(tmp);
    pc_set_error(error, PC_ERROR_IO, "%s: write failed: %s", path,
                 g_strerror(err));
    return FALSE;
  }
  return TRUE;
}
