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

char *pc_fmt_double(char *buf, double v) {
  if (isnan(v)) return strcpy(buf, "nan");
  if (isinf(v)) return strcpy(buf, v > 0 ? "inf" : "-inf");
  if (v == 0) return strcpy(buf, "0"); /* also -0 */
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

static void write_cell(FILE *f, const PcTable *t, guint row, guint col) {
  char buf[PC_MONEY_BYTES];
  if (pc_table_is_empty(t, row, col)) return;
  switch (t->col_types[col]) {
  case PC_COL_INT: fprintf(f, "%" PRId64, pc_table_get_int(t, row, col)); break;
  case PC_COL_MICROS: fputs(pc_fmt_micros(buf, pc_table_get_micros(t, row, col)), f); break;
  case PC_COL_DOUBLE: fputs(pc_fmt_double(buf, pc_table_get_double(t, row, col)), f); break;
  case PC_COL_STRING: fputs(pc_table_get_string(t, row, col), f); break;
  }
}

gboolean pc_table_write_csv(const PcTable *t, const char *path,
                            GError **error) {
  g_autofree char *tmp = g_strdup_printf("%s.tmp.%d", path, (int)getpid());
  FILE *f = fopen(tmp, "w");
  if (!f) {
    pc_set_error(error, PC_ERROR_IO, "%s: %s", tmp, g_strerror(errno));
    return FALSE;
  }
  for (guint c = 0; c < t->ncols; c++)
    fprintf(f, "%s%s", c ? "," : "", t->col_names[c]);
  fputc('\n', f);
  guint nrows = pc_table_nrows(t);
  for (guint r = 0; r < nrows; r++) {
    for (guint c = 0; c < t->ncols; c++) {
      if (c) fputc(',', f);
      write_cell(f, t, r, c);
    }
    fputc('\n', f);
  }
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
