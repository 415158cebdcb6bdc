/* sec_model.c - section "model" of report.html (report_int.h), drawn from
 * the model tables of spec §7: roc, model_summary, model and at_risk.
 *
 * Owns the ROC chart (thinned to about ROC_POINTS points: the curve is
 * monotone, so every k-th row and the last keep its shape at this size)
 * and the choice of coefficients shown (largest |coefficient| first, ties
 * by row; the intercept and dropped features left out).
 */
#include "report_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* ---- model ---------------------------------------------------------------------- */

static void roc_svg(PcPage *p, const PcTable *t, const PcTable *ms) {
  guint n = pc_table_nrows(t), step = MAX(1u, (n + ROC_POINTS - 1) / ROC_POINTS);
  double S = 300, m = 40;
  g_string_append_printf(p->h, "<figure class=\"fig roc\"><svg viewBox=\"0 0 %.0f %.0f\" role=\"img\" aria-label=\"ROC curve\">", S + m + 12, S + m + 8);
  for (int g = 0; g <= 4; g++) {
    double v = g / 4.0;
    g_string_append_printf(p->h, "<line class=\"grid\" x1=\"%.0f\" x2=\"%.0f\" y1=\"%.1f\" y2=\"%.1f\"/><line class=\"grid\" x1=\"%.1f\" x2=\"%.1f\" y1=\"8\" y2=\"%.0f\"/>"
                                 "<text class=\"ax\" x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">%.2f</text><text class=\"ax\" x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\">%.2f</text>",
                           m, m + S, 8 + S - S * v, 8 + S - S * v, m + S * v, m + S * v, 8 + S, m - 5, 12 + S - S * v, v,
                           m + S * v, S + 24, v);
  }
  g_string_append_printf(p->h, "<line class=\"base\" x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"8\"/>", m, 8 + S, m + S);
  GString *pts = g_string_new(NULL);
  g_string_append_printf(pts, "%.1f,%.1f", m, 8 + S);
  for (guint r = 0; r < n; r++) {
    if (r % step && r + 1 != n) continue;
    double f = pc_cell_d(t, r, "fpr"), tp = pc_cell_d(t, r, "tpr");
    if (isfinite(f) && isfinite(tp)) g_string_append_printf(pts, " %.1f,%.1f", m + S * f, 8 + S - S * tp);
  }
  g_string_append_printf(p->h, "<polygon class=\"auc\" points=\"%s %.1f,%.1f\"/><polyline class=\"rocl\" points=\"%s\"/>",
                         pts->str, m + S, 8 + S, pts->str);
  g_string_free(pts, TRUE);
  for (guint r = 0; ms && r < pc_table_nrows(ms); r++)
    if (!strcmp(pc_cell_s(ms, r, "key"), "test_auc") && isfinite(pc_cell_d(ms, r, "value")))
      g_string_append_printf(p->h, "<text class=\"aucl\" x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\">AUC %.3f</text>", m + S - 10,
                             S - 10, pc_cell_d(ms, r, "value"));
  g_string_append_printf(p->h, "<text class=\"ax\" x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\">false positive rate</text>"
                               "<text class=\"ax\" transform=\"translate(10 %.0f) rotate(-90)\" text-anchor=\"middle\">true positive rate</text></svg>"
                               "<figcaption>ROC curve on the test set (%u thresholds).</figcaption></figure>",
                         m + S / 2, S + 44, 8 + S / 2, n);
}

static void model_summary(PcPage *p, const PcTable *t) {
  g_string_append(p->h, "<div><div class=\"tw\"><table><tbody>");
  for (guint r = 0; r < pc_table_nrows(t) && r < MAX_ROWS; r++) {
    const char *key = pc_cell_s(t, r, "key");
    g_autofree char *kid = pc_html_id_of(key);
    g_autofree char *id = g_strdup_printf("model_summary-%s", kid);
    char buf[PC_MONEY_BYTES];
    g_string_append(p->h, "<tr><th>");
    pc_html_esc_max(p->h, key, 63);
    g_string_append(p->h, "</th>");
    pc_html_td(p->h, id, pc_cell_fmt(t, r, pc_cell_col(t, "value"), buf));
    g_string_append(p->h, "</tr>");
  }
  g_string_append(p->h, "</tbody></table></div></div>");
}

static gint cmp_abs_coef(gconstpointer a, gconstpointer b, gpointer data) {
  const PcTable *t = data;
  guint x = *(const guint *)a, y = *(const guint *)b;
  double cx = fabs(pc_cell_d(t, x, "coefficient")), cy = fabs(pc_cell_d(t, y, "coefficient"));
  if (cx != cy) return cx > cy ? -1 : 1;
  return x < y ? -1 : x > y;
}

static void model_coefs(PcPage *p, const PcTable *t) {
  static const char *const cols[] = {"Feature", "#Coefficient", "", NULL};
  g_autoptr(GArray) idx = g_array_new(FALSE, FALSE, sizeof(guint));
  for (guint r = 0; r < pc_table_nrows(t); r++) {
    double c = pc_cell_d(t, r, "coefficient");
    if (strcmp(pc_cell_s(t, r, "term"), "(intercept)") && pc_cell_i(t, r, "dropped") == 0 && isfinite(c) && c != 0)
      g_array_append_val(idx, r);
  }
  if (!idx->len) return;
  g_array_sort_with_data(idx, cmp_abs_coef, (gpointer)t);
  guint n = MIN(idx->len, TOP_COEFS);
  double top = fabs(pc_cell_d(t, g_array_index(idx, guint, 0), "coefficient"));
  g_string_append(p->h, "<h3>Strongest features</h3>");
  pc_html_thead_cls(p->h, cols, "narrow");
  for (guint k = 0; k < n; k++) {
    guint r = g_array_index(idx, guint, k);
    g_autofree char *tid = pc_html_id_of(pc_cell_s(t, r, "term"));
    g_autofree char *pre = g_strdup_printf("model-%s", tid);
    g_string_append(p->h, "<tr><td class=\"lbl\">");
    pc_html_esc_max(p->h, pc_cell_s(t, r, "term"), 80);
    g_string_append(p->h, "</td>");
    pc_cell_td(p->h, t, r, "coefficient", pre);
    g_string_append(p->h, "<td>");
    pc_html_div_bar(p->h, pc_cell_d(t, r, "coefficient") / top);
    g_string_append(p->h, "</td></tr>");
  }
  pc_html_tfoot(p->h);
  pc_html_note(p->h, "Coefficients on standardized features, largest |coefficient| first: red raises the odds of reaching the "
             "target, green lowers them.");
}

static void at_risk(PcPage *p, const PcTable *t) {
  static const char *const cols[] = {"#Rank", "Customer", "#Score", NULL};
  char buf[PC_MONEY_BYTES];
  snprintf(buf, sizeof buf, "%u", pc_table_nrows(t));
  g_string_append(p->h, "<h3>At-risk customers</h3><div class=\"kpis\">");
  pc_html_kpi(p->h, "On the at-risk list", "at_risk-count", buf, "not yet at the target, highest scores");
  g_string_append(p->h, "</div>");
  guint n = MIN(pc_table_nrows(t), TOP_AT_RISK);
  if (!n) return;
  pc_html_thead_cls(p->h, cols, "narrow");
  for (guint r = 0; r < n; r++) {
    g_autofree char *pre = pc_cell_row_prefix(t, r, "at_risk");
    g_string_append(p->h, "<tr>");
    pc_cell_td(p->h, t, r, "rank", NULL);
    g_string_append(p->h, "<td class=\"lbl\">");
    pc_html_esc_max(p->h, pc_cell_s(t, r, "customer_id"), 255);
    g_string_append(p->h, "</td>");
    pc_cell_td(p->h, t, r, "score", pre);
    g_string_append(p->h, "</tr>");
  }
  pc_html_tfoot(p->h);
  pc_html_note(p->h, "The top %u of %u; csv/at_risk.csv has the whole list.", n, pc_table_nrows(t));
}

gboolean pc_sec_model(PcPage *p) {
  const PcTable *ms = pc_cell_table(p->in, "model_summary"), *roc = pc_cell_table(p->in, "roc"),
                *m = pc_cell_table(p->in, "model"), *ar = pc_cell_table(p->in, "at_risk");
  if (!ms && !roc && !m && !ar) return FALSE;
  g_string_append(p->h, "<p class=\"lede\">A logistic regression of reaching the target on each customer's events "
                        "before it, scored on a held-out test set (one customer in five).</p>");
  if (roc || ms) {
    g_string_append(p->h, "<div class=\"grid2\">");
    if (roc) roc_svg(p, roc, ms);
    if (ms) model_summary(p, ms);
    g_string_append(p->h, "</div>");
  }
  if (m) model_coefs(p, m);
  if (ar) at_risk(p, ar);
  return TRUE;
}

