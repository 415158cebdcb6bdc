/* sec_monthly.c - sections "segments" and "retention" of report.html
 * (report_int.h), drawn from segments.csv (spec §12) and retention.csv
 * (spec §13).
 *
 * Owns the segment table (outcome rate as a bar) and the retention heat
 * map: one SVG row per cohort, one cell per period offset, its shade the
 * rate (chart labels round; the exact numbers are in csv/retention.csv).
 * Reads no run.json. Pure, like every section.
 *
 * Invariants: cells of the segment table come from pc_cell_fmt; the heat
 * map shows at most MAX_COHORTS cohorts (the latest) and MAX_OFFSETS
 * offsets, so the page stays bounded whatever the table holds.
 */
#include "report_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define MAX_COHORTS 36 /* heat map rows: the latest cohorts */
#define MAX_OFFSETS 24 /* heat map columns */
#define HM_LABEL 190.0 /* px: cohort and size */
#define HM_CELL 52.0
#define HM_ROW 22.0
#define HM_HEAD 24.0

/* ---- segments ------------------------------------------------------------------------ */

gboolean pc_sec_segments(PcPage *p) {
  static const char *const cols[] = {"Segment", "#Customers", "#Events", "#With outcome", "Outcome rate", "",
                                     "#Revenue", "#Revenue at risk", NULL};
  const PcTable *t = pc_cell_table(p->in, "segments");
  if (!t) return FALSE;
  g_string_append(p->h, "<p class=\"lede\">Customers per segment of the customers table (<code>(unknown)</code>: no row "
                        "or an empty segment), their events, how many reach ");
  pc_html_target(p->h, p);
  g_string_append(p->h, ", and their revenue.</p>");
  pc_html_thead(p->h, cols);
  guint n = pc_table_nrows(t);
  for (guint r = 0; r < n && r < MAX_ROWS; r++) {
    g_autofree char *id = pc_html_id_of(pc_cell_s(t, r, "segment"));
    g_autofree char *pre = g_strdup_printf("segment-%s", id);
    g_string_append(p->h, "<tr><td>");
    pc_html_esc_max(p->h, pc_cell_s(t, r, "segment"), 63);
    g_string_append(p->h, "</td>");
    pc_cell_td(p->h, t, r, "customers", pre);
    pc_cell_td(p->h, t, r, "events", pre);
    pc_cell_td(p->h, t, r, "customers_with_outcome", pre);
    pc_cell_td(p->h, t, r, "outcome_rate", pre);
    g_string_append(p->h, "<td>");
    pc_html_bar(p->h, pc_cell_d(t, r, "outcome_rate"), "red");
    g_string_append(p->h, "</td>");
    pc_cell_td(p->h, t, r, "revenue", pre);
    pc_cell_td(p->h, t, r, "revenue_at_risk", pre);
    g_string_append(p->h, "</tr>");
  }
  pc_html_tfoot(p->h);
  if (n > MAX_ROWS) pc_html_note(p->h, "%u of %u segments shown; csv/segments.csv has all.", MAX_ROWS, n);
  return TRUE;
}

/* ---- retention ----------------------------------------------------------------------- */

/* Rows [first[k], first[k + 1]) of t are cohort k (rows come cohort by
 * cohort). Returns the number of cohorts; first has n + 1 entries. */
static guint cohorts(const PcTable *t, guint *first) {
  guint k = 0, n = pc_table_nrows(t);
  for (guint r = 0; r < n; r++)
    if (!r || strcmp(pc_cell_s(t, r, "cohort"), pc_cell_s(t, r - 1, "cohort"))) first[k++] = r;
  first[k] = n;
  return k;
}

static void heat_cell(GString *h, double x, double y, double rate) {
  char b[32];
  double a = isfinite(rate) ? 0.07 + 0.85 * CLAMP(rate, 0.0, 1.0) : 0;
  g_string_append_printf(h, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" rx=\"2\" "
                            "style=\"fill:rgba(44,110,155,%.2f)\"/>", x + 1, y + 1, HM_CELL - 2, HM_ROW - 2, a);
  g_string_append_printf(h, "<text x=\"%.1f\" y=\"%.1f\" class=\"ax\" text-anchor=\"middle\"%s>%s</text>",
                         x + HM_CELL / 2, y + HM_ROW / 2 + 4, a > 0.55 ? " style=\"fill:#fff\"" : "",
                         pc_html_pct(b, rate));
}

/* One SVG row: the cohort's date and size, then its offsets. */
static void heat_row(GString *h, const PcTable *t, guint a, guint b, double y) {
  char nb[32];
  g_string_append_printf(h, "<text x=\"0\" y=\"%.1f\" class=\"dl\" style=\"text-anchor:start\">", y + HM_ROW / 2 + 4);
  pc_html_esc_max(h, pc_cell_s(t, a, "cohort"), 24);
  g_string_append_printf(h, "</text><text x=\"%.1f\" y=\"%.1f\" class=\"dv\" text-anchor=\"end\">%s</text>",
                         HM_LABEL - 10, y + HM_ROW / 2 + 4, pc_html_short_num(nb, pc_cell_d(t, a, "customers")));
  for (guint r = a; r < b; r++) {
    int64_t j = pc_cell_i(t, r, "period");
    if (j < 0 || j >= MAX_OFFSETS) continue;
    heat_cell(h, HM_LABEL + (double)j * HM_CELL, y, pc_cell_d(t, r, "rate"));
  }
}

gboolean pc_sec_retention(PcPage *p) {
  const PcTable *t = pc_cell_table(p->in, "retention");
  if (!t) return FALSE;
  g_autofree guint *first = g_new(guint, pc_table_nrows(t) + 1);
  guint nc = cohorts(t, first), from = nc > MAX_COHORTS ? nc - MAX_COHORTS : 0;
  int64_t offs = 0;
  for (guint r = 0; r < pc_table_nrows(t); r++) offs = MAX(offs, pc_cell_i(t, r, "period") + 1);
  offs = MIN(offs, MAX_OFFSETS);
  g_string_append(p->h, "<p class=\"lede\">Cohorts of customers by the period of their first event, and the share of "
                        "each cohort active in each later period (offset 0 is the cohort's own period). A missing cell: "
                        "that period starts after the latest event of the run.</p>");
  if (!nc) {
    pc_html_note(p->h, "No customer in the run.");
    return TRUE;
  }
  double w = HM_LABEL + (double)offs * HM_CELL, hgt = HM_HEAD + (double)(nc - from) * HM_ROW;
  g_string_append_printf(p->h, "<figure class=\"fig\"><svg viewBox=\"0 0 %.0f %.0f\" style=\"max-width:%.0fpx\" "
                               "role=\"img\" aria-label=\"retention heat map\">", w, hgt, w);
  g_string_append_printf(p->h, "<text x=\"0\" y=\"16\" class=\"ph\">cohort</text><text x=\"%.1f\" y=\"16\" class=\"ph\" "
                               "text-anchor=\"end\">customers</text>", HM_LABEL - 10);
  for (int64_t j = 0; j < offs; j++)
    g_string_append_printf(p->h, "<text x=\"%.1f\" y=\"16\" class=\"ph\" text-anchor=\"middle\">%" G_GINT64_FORMAT "</text>",
                           HM_LABEL + ((double)j + 0.5) * HM_CELL, j);
  for (guint k = from; k < nc; k++)
    heat_row(p->h, t, first[k], first[k + 1], HM_HEAD + (double)(k - from) * HM_ROW);
  g_string_append(p->h, "</svg><figcaption>Rate = active / cohort customers, rounded; csv/retention.csv has the exact "
                        "figures.</figcaption></figure>");
  if (from) pc_html_note(p->h, "The latest %u of %u cohorts are shown.", MAX_COHORTS, nc);
  return TRUE;
}
