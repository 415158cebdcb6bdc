/* cells.c - the cells of results.h5's tables as the report reads them
 * (report_int.h): found by table and column name, formatted exactly as
 * csv/ writes them (spec §10), or as numbers for drawing.
 *
 * Owns the one rule that keeps the page and csv/ equal byte for byte:
 * pc_cell_fmt(). Owns no HTML beyond the <td> of a cell (pc_cell_td).
 * Every accessor tolerates an absent column or table (empty text, NAN, 0),
 * so a section never needs to check a column before it reads it.
 */
#include "report_int.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

const PcTable *pc_cell_table(const PcReportInput *in, const char *name) {
  for (guint i = 0; in->tables && i < in->tables->len; i++) {
    const PcTable *t = g_ptr_array_index(in->tables, i);
    if (!strcmp(pc_table_name(t), name)) return t;
  }
  return NULL;
}

gint pc_cell_col(const PcTable *t, const char *name) {
  for (guint c = 0; c < pc_table_ncols(t); c++)
    if (!strcmp(pc_table_col_name(t, c), name)) return (gint)c;
  return -1;
}

/* results.h5 keeps no column types beyond int/double/string, so money
 * columns read back as int millionths: they are known by name (§10). */
static gboolean col_micros(const PcTable *t, gint c) {
  const char *n = pc_table_col_name(t, (guint)c);
  PcColType ty = pc_table_col_type(t, (guint)c);
  return ty == PC_COL_MICROS ||
         (ty == PC_COL_INT && (!strcmp(n, "value_sum") || !strcmp(n, "revenue_at_risk")));
}

/* results.h5 writes an empty integer as INT64_MIN. */
const char *pc_cell_fmt(const PcTable *t, guint row, gint col, char *buf) {
  if (!t || col < 0 || row >= pc_table_nrows(t) || pc_table_is_empty(t, row, (guint)col)) return "";
  switch (pc_table_col_type(t, (guint)col)) {
  case PC_COL_STRING: return pc_table_get_string(t, row, (guint)col);
  case PC_COL_DOUBLE: return pc_fmt_double(buf, pc_table_get_double(t, row, (guint)col));
  default: break;
  }
  int64_t v = pc_table_get_int(t, row, (guint)col);
  if (v == INT64_MIN) return "";
  if (col_micros(t, col)) return pc_fmt_micros(buf, v);
  snprintf(buf, 32, "%" PRId64, v);
  return buf;
}

const char *pc_cell_s(const PcTable *t, guint row, const char *col) {
  static const char empty[] = "";
  gint c = pc_cell_col(t, col);
  if (c < 0 || pc_table_col_type(t, (guint)c) != PC_COL_STRING) return empty;
  return pc_table_get_string(t, row, (guint)c);
}

double pc_cell_d(const PcTable *t, guint row, const char *col) {
  gint c = pc_cell_col(t, col);
  if (c < 0 || pc_table_is_empty(t, row, (guint)c)) return NAN;
  PcColType ty = pc_table_col_type(t, (guint)c);
  if (ty == PC_COL_STRING) return NAN;
  if (ty == PC_COL_DOUBLE) return pc_table_get_double(t, row, (guint)c);
  int64_t v = pc_table_get_int(t, row, (guint)c);
  if (v == INT64_MIN) return NAN;
  return col_micros(t, c) ? (double)v / 1e6 : (double)v;
}

int64_t pc_cell_i(const PcTable *t, guint row, const char *col) {
  gint c = pc_cell_col(t, col);
  if (c < 0 || pc_table_is_empty(t, row, (guint)c) || pc_table_col_type(t, (guint)c) == PC_COL_STRING)
    return 0;
  if (pc_table_col_type(t, (guint)c) == PC_COL_DOUBLE) return (int64_t)pc_table_get_double(t, row, (guint)c);
  int64_t v = pc_table_get_int(t, row, (guint)c);
  return v == INT64_MIN ? 0 : v;
}

void pc_cell_td(GString *h, const PcTable *t, guint row, const char *col, const char *prefix) {
  char buf[32];
  g_autofree char *id = prefix ? g_strdup_printf("%s-%s", prefix, col) : NULL;
  pc_html_td(h, id, pc_cell_fmt(t, row, pc_cell_col(t, col), buf));
}

char *pc_cell_row_prefix(const PcTable *t, guint row, const char *name) {
  char buf[32];
  const char *r = pc_cell_fmt(t, row, pc_cell_col(t, "rank"), buf);
  if (*r) return g_strdup_printf("%s-%s", name, r);
  return g_strdup_printf("%s-%u", name, row + 1);
}
