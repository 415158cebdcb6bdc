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

/* results.h5 marks money columns ":micros" in its "columns" attribute, so
 * they come back as PC_COL_MICROS; an empty integer is INT64_MIN. Cells are
 * read as results.h5 gives them back (pc_table_is_stored_empty): the run
 * draws the page from its tables in memory, `parcours report` from the
 * file, and both pages are the same bytes. */
const char *pc_cell_fmt(const PcTable *t, guint row, gint col, char *buf) {
  if (!t || col < 0 || row >= pc_table_nrows(t) || pc_table_is_stored_empty(t, row, (guint)col)) return "";
  switch (pc_table_col_type(t, (guint)col)) {
  case PC_COL_STRING: return pc_table_get_string(t, row, (guint)col);
  case PC_COL_DOUBLE: return pc_fmt_double(buf, pc_table_get_double(t, row, (guint)col));
  case PC_COL_MICROS: return pc_fmt_micros(buf, pc_table_get_micros(t, row, (guint)col));
  case PC_COL_INT: break;
  }
  int64_t v = pc_table_get_int(t, row, (guint)col);
  if (v == INT64_MIN) return "";
  snprintf(buf, PC_MONEY_BYTES, "%" PRId64, v);
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
  if (c < 0 || pc_table_is_stored_empty(t, row, (guint)c)) return NAN;
  PcColType ty = pc_table_col_type(t, (guint)c);
  if (ty == PC_COL_STRING) return NAN;
  if (ty == PC_COL_DOUBLE) return pc_table_get_double(t, row, (guint)c);
  if (ty == PC_COL_MICROS) return (double)pc_table_get_micros(t, row, (guint)c) / 1e6;
  int64_t v = pc_table_get_int(t, row, (guint)c);
  return v == INT64_MIN ? NAN : (double)v;
}

int64_t pc_cell_i(const PcTable *t, guint row, const char *col) {
  gint c = pc_cell_col(t, col);
  if (c < 0 || pc_table_is_stored_empty(t, row, (guint)c) || pc_table_col_type(t, (guint)c) == PC_COL_STRING)
    return 0;
  if (pc_table_col_type(t, (guint)c) == PC_COL_DOUBLE) return (int64_t)pc_table_get_double(t, row, (guint)c);
  if (pc_table_col_type(t, (guint)c) == PC_COL_MICROS) { /* millionths, clamped */
    PcMoney m = pc_table_get_micros(t, row, (guint)c);
    return m > INT64_MAX ? INT64_MAX : m < -INT64_MAX ? -INT64_MAX : (int64_t)m;
  }
  int64_t v = pc_table_get_int(t, row, (guint)c);
  return v == INT64_MIN ? 0 : v;
}

void pc_cell_td(GString *h, const PcTable *t, guint row, const char *col, const char *prefix) {
  char buf[PC_MONEY_BYTES];
  g_autofree char *id = prefix ? g_strdup_printf("%s-%s", prefix, col) : NULL;
  pc_html_td(h, id, pc_cell_fmt(t, row, pc_cell_col(t, col), buf));
}

void pc_cell_label_rows(GString *h, const PcTable *t, guint n, const char *label,
                        const char *const *num, guint nnum, const char *name) {
  for (guint r = 0; r < n; r++) {
    g_autofree char *pre = g_strdup_printf("%s-%u", name, r + 1);
    g_string_append(h, "<tr><td class=\"lbl\">");
    pc_html_esc_max(h, pc_cell_s(t, r, label), 63);
    g_string_append(h, "</td>");
    for (guint c = 0; c < nnum; c++) pc_cell_td(h, t, r, num[c], pre);
    g_string_append(h, "</tr>");
  }
}

char *pc_cell_row_prefix(const PcTable *t, guint row, const char *name) {
  char buf[PC_MONEY_BYTES];
  const char *r = pc_cell_fmt(t, row, pc_cell_col(t, "rank"), buf);
  if (*r) return g_strdup_printf("%s-%s", name, r);
  return g_strdup_printf("%s-%u", name, row + 1);
}
