/* sec_outcome.c - sections "funnels", "drivers" and "channels" of
 * report.html (report_int.h), drawn from the outcome tables of spec §5,
 * §6 and §8: funnels, funnel_times, drivers, channel_drivers, channels,
 * nps and attribution.
 *
 * Owns the funnel blocks (a chart of the steps of split "(all)" with
 * drop-off and median time from step 1, the exact figures, then customers
 * per channel and step), the drivers chart (lift and revenue at risk) and
 * the attribution chart (each model's credit over that model's total).
 * Reads two things from run.json: a funnel's window and mode, shown when
 * present.
 */
#include "report_int.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* ---- funnels ----------------------------------------------------------------------- */

static gboolean is_all(const char *split) { return !strcmp(split, "(all)"); }

/* ---- funnel chart: bars per step, drop-off, median time ------------------------ */

/* funnel chart geometry, in px of the SVG viewBox */
#define FC_W 1000.0
#define FC_ROW 28.0
#define FC_TOP 24.0
#define FC_LABEL 190.0
#define FC_BAR_X 200.0
#define FC_BAR_W 380.0
#define FC_DROP_X 700.0
#define FC_TIME_X 840.0

/* The funnel_times row of (funnel, split, step), or -1. Rows follow
 * funnels.csv, so a scan from the start is enough for the few shown. */
static gint time_row(const PcTable *tt, const char *funnel, const char *split, int64_t step) {
  for (guint r = 0; tt && r < pc_table_nrows(tt); r++)
    if (pc_cell_i(tt, r, "step") == step && !strcmp(pc_cell_s(tt, r, "funnel"), funnel) &&
        !strcmp(pc_cell_s(tt, r, "split"), split))
      return (gint)r;
  return -1;
}

/* A duration for reading: "45 s", "12.5 min", "3.2 h", "2.1 d"; "–" when
 * not a number. buf: 32 bytes. */
static const char *human_duration(char *buf, double s) {
  if (!isfinite(s)) snprintf(buf, 32, "\xe2\x80\x93");
  else if (s < 60) snprintf(buf, 32, "%.3g s", s);
  else if (s < 3600) snprintf(buf, 32, "%.1f min", s / 60);
  else if (s < 86400) snprintf(buf, 32, "%.1f h", s / 3600);
  else snprintf(buf, 32, "%.1f d", s / 86400);
  return buf;
}

/* One step's row of the chart: label, bar, customers and share of step 1,
 * then (step >= 2) the drop-off since the step before and the median t_k. */
static void chart_step(PcPage *p, const PcTable *t, guint r, double y, double first, double prev,
                       const PcTable *tt) {
  char b1[32], b2[32];
  double c = pc_cell_d(t, r, "customers"), w = first > 0 ? FC_BAR_W * c / first : 0;
  int64_t k = pc_cell_i(t, r, "step");
  g_string_append_printf(p->h, "<text class=\"dl\" x=\"%.0f\" y=\"%.1f\">%" PRId64 ". ", FC_LABEL, y + 17, k);
  pc_html_esc_max(p->h, pc_cell_s(t, r, "token"), LABEL_BYTES);
  g_string_append_printf(p->h, "</text><rect class=\"br\" x=\"%.0f\" y=\"%.1f\" width=\"%.1f\" height=\"18\" rx=\"2\"/>"
                               "<text class=\"dv\" x=\"%.1f\" y=\"%.1f\">%s \xc2\xb7 %s</text>",
                         FC_BAR_X, y + 4, w, FC_BAR_X + w + 6, y + 17, pc_html_short_num(b1, c),
                         pc_html_pct(b2, first > 0 ? c / first : NAN));
  if (k < 2) return;
  double drop = pc_cell_d(t, r, "drop_off");
  g_string_append_printf(p->h, "<text class=\"dv\" x=\"%.0f\" y=\"%.1f\">\xe2\x88\x92%s (%s)</text>", FC_DROP_X,
                         y + 17, pc_html_short_num(b1, drop), pc_html_pct(b2, prev > 0 ? drop / prev : NAN));
  gint tr = time_row(tt, pc_cell_s(t, r, "funnel"), "(all)", k);
  g_string_append_printf(p->h, "<text class=\"dv\" x=\"%.0f\" y=\"%.1f\">%s</text>", FC_TIME_X, y + 17,
                         human_duration(b1, tr >= 0 ? pc_cell_d(tt, (guint)tr, "median_s") : NAN));
}

/* The steps of split "(all)" of funnel rows [a, b) as a chart. */
static void funnel_chart(PcPage *p, const PcTable *t, guint a, guint b, const PcTable *tt) {
  guint n = 0;
  for (guint r = a; r < b; r++) n += is_all(pc_cell_s(t, r, "split")) && n < MAX_STEPS;
  if (!n) return;
  double h = FC_TOP + n * FC_ROW + 6, first = NAN, prev = NAN;
  g_string_append_printf(p->h, "<figure class=\"fig scroll-fig\"><svg viewBox=\"0 0 %.0f %.0f\" role=\"img\" aria-label=\"Funnel steps\">"
                               "<text class=\"ph\" x=\"%.0f\" y=\"14\">Customers reaching the step (share of step 1)</text>"
                               "<text class=\"ph\" x=\"%.0f\" y=\"14\">Drop-off</text><text class=\"ph\" x=\"%.0f\" y=\"14\">Median time</text>",
                         FC_W, h, FC_BAR_X, FC_DROP_X, FC_TIME_X);
  for (guint r = a, k = 0; r < b && k < n; r++) {
    if (!is_all(pc_cell_s(t, r, "split"))) continue;
    double c = pc_cell_d(t, r, "customers");
    if (k == 0) first = c;
    if (k % 2 == 0)
      g_string_append_printf(p->h, "<rect class=\"zebra\" x=\"0\" y=\"%.1f\" width=\"%.0f\" height=\"%.0f\"/>", FC_TOP + k * FC_ROW, FC_W, FC_ROW);
    chart_step(p, t, r, FC_TOP + k++ * FC_ROW, first, prev, tt);
    prev = c;
  }
  g_string_append(p->h, "</svg></figure>");
}


/* The (all) rows of funnel rows [a, b) as bars and exact figures, with
 * the median t_k of funnel_times (tt, may be NULL). */
static void funnel_steps(PcPage *p, const PcTable *t, guint a, guint b, const char *fid, const PcTable *tt) {
  static const char *const cols[] = {"#Step", "Event", "", "#Customers", "#Conv. from previous", "#Conv. from step 1", "#Drop-off",
                                     "#Median t (s)", NULL};
  double first = NAN;
  pc_html_thead(p->h, cols);
  for (guint r = a, k = 0; r < b && k < MAX_STEPS; r++) {
    if (!is_all(pc_cell_s(t, r, "split"))) continue;
    char buf[PC_MONEY_BYTES];
    const char *step = pc_cell_fmt(t, r, pc_cell_col(t, "step"), buf);
    g_autofree char *pre = g_strdup_printf("funnel-%s-all-step-%s", fid, step);
    double c = pc_cell_d(t, r, "customers");
    if (k++ == 0) first = c;
    g_string_append_printf(p->h, "<tr><td class=\"num\">%s</td><td>", step);
    pc_html_esc_max(p->h, pc_cell_s(t, r, "token"), 130);
    g_string_append(p->h, "</td><td class=\"fb\">");
    pc_html_bar_pct(p->h, first > 0 ? c / first : 0, first > 0 ? c / first : NAN, "wide");
    g_string_append(p->h, "</td>");
    pc_cell_td(p->h, t, r, "customers", pre);
    /* step 1 has no previous step: csv/ leaves it empty, results.h5 has nan */
    if (pc_cell_i(t, r, "step") == 1) {
      g_autofree char *id = g_strdup_printf("%s-conv_prev", pre);
      pc_html_td(p->h, id, "");
    } else {
      pc_cell_td(p->h, t, r, "conv_prev", pre);
    }
    pc_cell_td(p->h, t, r, "conv_first", pre);
    pc_cell_td(p->h, t, r, "drop_off", pre);
    gint tr = time_row(tt, pc_cell_s(t, r, "funnel"), "(all)", pc_cell_i(t, r, "step"));
    if (tr >= 0) pc_cell_td(p->h, tt, (guint)tr, "median_s", pre);
    else g_string_append(p->h, "<td class=\"num na\"></td>");
    g_string_append(p->h, "</tr>");
  }
  pc_html_tfoot(p->h);
}

/* Customers per (channel, step), shaded by conversion from step 1. */
static void funnel_splits(PcPage *p, const PcTable *t, guint a, guint b, const char *fid) {
  g_autoptr(GPtrArray) splits = g_ptr_array_new();
  guint steps = 0;
  for (guint r = a; r < b; r++) {
    const char *sp = pc_cell_s(t, r, "split");
    if (is_all(sp)) steps = MAX(steps, (guint)MIN(pc_cell_i(t, r, "step"), MAX_STEPS));
    else if (!splits->len || strcmp(g_ptr_array_index(splits, splits->len - 1), sp))
      g_ptr_array_add(splits, (gpointer)sp);
  }
  if (!splits->len) return;
  /* split = segment (spec §12) names segments, split = channel channels */
  JsonNode *sn = pc_rjson_member(pc_rjson_member(pc_rjson_get(p->run, "job.funnel"), pc_cell_s(t, a, "funnel")), "split");
  g_autofree char *split = pc_rjson_text(sn, NULL);
  gboolean seg = split && !strcmp(split, "segment");
  g_string_append_printf(p->h, "<h4>%s</h4><div class=\"tw\"><table><thead><tr><th>%s</th>",
                         seg ? "By segment of the customer" : "By channel of the first step", seg ? "Segment" : "Channel");
  for (guint k = 1; k <= steps; k++) g_string_append_printf(p->h, "<th class=\"num\">Step %u</th>", k);
  g_string_append(p->h, "</tr></thead><tbody>");
  for (guint r = a, row = 0; r < b; r++) {
    const char *sp = pc_cell_s(t, r, "split");
    int64_t k = pc_cell_i(t, r, "step");
    if (is_all(sp) || k < 1 || k > (int64_t)steps) continue;
    if (k == 1) {
      if (row++ >= MAX_SPLITS) break;
      g_string_append(p->h, row > 1 ? "</tr><tr><td>" : "<tr><td>");
      pc_html_esc_max(p->h, sp, 63);
      g_string_append(p->h, "</td>");
    }
    char buf[PC_MONEY_BYTES], cb[PC_MONEY_BYTES];
    g_autofree char *sid = pc_html_id_of(sp);
    double cf = pc_cell_d(t, r, "conv_first");
    g_string_append_printf(p->h, "<td class=\"num heat\" style=\"background:rgba(44,110,155,%.2f)\" title=\"from step 1: %s\" id=\"funnel-%s-ch-%s-step-%" PRId64 "-customers\">%s</td>",
                           isfinite(cf) ? 0.06 + 0.5 * CLAMP(cf, 0.0, 1.0) : 0.0,
                           pc_cell_fmt(t, r, pc_cell_col(t, "conv_first"), cb), fid, sid, k,
                           pc_cell_fmt(t, r, pc_cell_col(t, "customers"), buf));
  }
  g_string_append(p->h, "</tr>");
  pc_html_tfoot(p->h);
  if (splits->len > MAX_SPLITS) pc_html_note(p->h, "%u of %u channels shown.", MAX_SPLITS, splits->len);
}

/* " (7 days)" for a span in whole days or hours, else "". buf: 64 bytes. */
static char *human_span(char *buf, uint64_t s) {
  buf[0] = '\0';
  if (s >= 86400 && s % 86400 == 0)
    snprintf(buf, 64, " (%" PRIu64 " day%s)", s / 86400, s == 86400 ? "" : "s");
  else if (s >= 3600 && s % 3600 == 0)
    snprintf(buf, 64, " (%" PRIu64 " hour%s)", s / 3600, s == 3600 ? "" : "s");
  return buf;
}

/* "Mode: strict_order, strict_increase." for a funnel with a mode. */
static void funnel_mode_note(PcPage *p, JsonNode *funnel) {
  JsonArray *m = pc_rjson_array(pc_rjson_member(funnel, "mode"));
  guint n = m ? json_array_get_length(m) : 0;
  if (!n) return;
  g_string_append(p->h, "<p class=\"note\">Level of ClickHouse windowFunnel with mode ");
  for (guint i = 0; i < n; i++) {
    g_autofree char *s = pc_rjson_text(json_array_get_element(m, i), NULL);
    if (i) g_string_append(p->h, ", ");
    pc_html_esc(p->h, s ? s : "?");
  }
  g_string_append(p->h, "; times from the default chains.</p>");
}

static void funnel_block(PcPage *p, const PcTable *t, guint a, guint b, const PcTable *tt) {
  const char *name = pc_cell_s(t, a, "funnel");
  g_autofree char *fid = pc_html_id_of(name);
  /* the name is taken whole: a funnel called "a.b" is member "a.b" */
  JsonNode *fnode = pc_rjson_member(pc_rjson_get(p->run, "job.funnel"), name);
  JsonNode *wnode = pc_rjson_member(fnode, "window");
  g_autofree char *win = pc_rjson_text(wnode, NULL);
  g_string_append(p->h, "<div class=\"funnel\"><h3>");
  pc_html_esc_max(p->h, name, 130);
  g_string_append(p->h, "</h3>");
  if (win) {
    char hb[64];
    uint64_t s = 0;
    pc_rjson_u64(wnode, &s);
    g_string_append(p->h, "<p class=\"note\">All steps within ");
    pc_html_esc(p->h, win);
    g_string_append_printf(p->h, " s%s of the first.</p>", human_span(hb, s));
  }
  funnel_mode_note(p, fnode);
  funnel_chart(p, t, a, b, tt);
  funnel_steps(p, t, a, b, fid, tt);
  funnel_splits(p, t, a, b, fid);
  g_string_append(p->h, "</div>");
}

gboolean pc_sec_funnels(PcPage *p) {
  const PcTable *t = pc_cell_table(p->in, "funnels"), *tt = pc_cell_table(p->in, "funnel_times");
  if (!t) return FALSE;
  g_string_append(p->h, "<p class=\"lede\">Customers reaching each step in order within the funnel's window; conversion "
                        "from the previous step and from step 1, how many stopped at the step before, and the median "
                        "time from step 1 to the step (the shortest way each customer got there).</p>");
  guint nr = pc_table_nrows(t), shown = 0, a = 0;
  while (a < nr && shown < MAX_FUNNELS) {
    guint b = a + 1;
    while (b < nr && !strcmp(pc_cell_s(t, b, "funnel"), pc_cell_s(t, a, "funnel"))) b++;
    funnel_block(p, t, a, b, tt);
    shown++;
    a = b;
  }
  if (a < nr) pc_html_note(p->h, "The first %u funnels are shown; csv/funnels.csv has all.", MAX_FUNNELS);
  return TRUE;
}

/* ---- drivers ------------------------------------------------------------------------- */

/* drivers chart geometry, in px of the SVG viewBox */
#define DV_W 1000.0
#define DV_ROW 24.0
#define DV_LABEL 190.0
#define DV_LIFT_X 200.0
#define DV_LIFT_W 330.0
#define DV_REV_X 640.0
#define DV_REV_W 280.0

static void drivers_scale(const PcTable *t, guint n, double *max_lift, double *max_rev) {
  *max_lift = 1, *max_rev = 0;
  for (guint r = 0; r < n; r++) {
    double l = pc_cell_d(t, r, "lift"), v = pc_cell_d(t, r, "revenue_at_risk");
    if (isfinite(l)) *max_lift = MAX(*max_lift, l);
    if (isfinite(v)) *max_rev = MAX(*max_rev, v);
  }
  *max_lift *= 1.08;
}

static void driver_bar(GString *h, const PcTable *t, guint r, double y, double max_lift, double max_rev) {
  char b1[32];
  double l = pc_cell_d(t, r, "lift"), v = pc_cell_d(t, r, "revenue_at_risk");
  double lw = isnan(l) ? 0 : isinf(l) ? DV_LIFT_W : DV_LIFT_W * l / max_lift;
  g_string_append_printf(h, "<text class=\"dl\" x=\"%.0f\" y=\"%.1f\">", DV_LABEL - 8, y + 16);
  pc_html_esc_max(h, pc_cell_s(t, r, "token"), LABEL_BYTES);
  g_string_append_printf(h, "</text><rect class=\"%s\" x=\"%.0f\" y=\"%.1f\" width=\"%.1f\" height=\"16\" rx=\"2\"/>",
                         l >= 1 ? "bl-up" : "bl-down", DV_LIFT_X, y + 4, lw);
  if (isinf(l)) strcpy(b1, "inf");
  else if (isnan(l)) strcpy(b1, "nan");
  else snprintf(b1, sizeof b1, "\xc3\x97%.2f", l);
  g_string_append_printf(h, "<text class=\"dv\" x=\"%.1f\" y=\"%.1f\">%s</text>", DV_LIFT_X + MIN(lw, DV_LIFT_W) + 5, y + 16, b1);
  double rw = max_rev > 0 && isfinite(v) ? DV_REV_W * v / max_rev : 0;
  g_string_append_printf(h, "<rect class=\"br\" x=\"%.0f\" y=\"%.1f\" width=\"%.1f\" height=\"16\" rx=\"2\"/>"
                            "<text class=\"dv\" x=\"%.1f\" y=\"%.1f\">%s</text>",
                         DV_REV_X, y + 4, MAX(rw, 0.0), DV_REV_X + MAX(rw, 0.0) + 5, y + 16, pc_html_short_num(b1, v));
}

static void drivers_chart(PcPage *p, const PcTable *t) {
  guint n = MIN(pc_table_nrows(t), CHART_DRIVERS);
  double ml, mr, top = 34, h = top + n * DV_ROW + 8;
  if (!n) return;
  drivers_scale(t, n, &ml, &mr);
  double bx = DV_LIFT_X + DV_LIFT_W / ml;
  g_string_append_printf(p->h, "<figure class=\"fig scroll-fig\"><svg viewBox=\"0 0 %.0f %.0f\" role=\"img\" aria-label=\"Lift and revenue at risk of the top drivers\">", DV_W, h);
  g_string_append_printf(p->h, "<text class=\"ph\" x=\"%.0f\" y=\"16\">Lift (rate with the event / overall rate)</text>"
                               "<text class=\"ph\" x=\"%.0f\" y=\"16\">Revenue at risk</text>",
                         DV_LIFT_X, DV_REV_X);
  for (guint r = 0; r < n; r += 2)
    g_string_append_printf(p->h, "<rect class=\"zebra\" x=\"0\" y=\"%.1f\" width=\"%.0f\" height=\"%.0f\"/>", top + r * DV_ROW, DV_W, DV_ROW);
  g_string_append_printf(p->h, "<line class=\"base\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.0f\" y2=\"%.1f\"/>"
                               "<text class=\"dv\" x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\">\xc3\x97" "1</text>",
                         bx, bx, top - 6, h - 4, bx, top - 9);
  for (guint r = 0; r < n; r++) driver_bar(p->h, t, r, top + r * DV_ROW, ml, mr);
  g_string_append(p->h, "</svg></figure>");
}

static void drivers_table(PcPage *p, const PcTable *t, const char *name, const char *first) {
  static const char *const num[] = {"customers", "customers_with_outcome", "rate_with", "rate_without", "lift",
                                    "risk_ratio", "chi2", "coverage", "revenue_at_risk"};
  const char *cols[] = {"#Rank", !strcmp(first, "token") ? "Event" : "Channel", "#Customers", "#With outcome",
                        "#Rate with", "#Rate without", "#Lift", "#Risk ratio", "#Chi\xc2\xb2", "#Coverage",
                        "#Revenue at risk", NULL};
  guint n = MIN(pc_table_nrows(t), TOP_DRIVERS);
  pc_html_thead(p->h, cols);
  for (guint r = 0; r < n; r++) {
    g_autofree char *pre = g_strdup_printf("%s-%u", name, r + 1);
    g_string_append_printf(p->h, "<tr><td class=\"num\">%u</td><td class=\"lbl\">", r + 1);
    pc_html_esc_max(p->h, pc_cell_s(t, r, first), 63);
    g_string_append(p->h, "</td>");
    for (guint c = 0; c < G_N_ELEMENTS(num); c++) pc_cell_td(p->h, t, r, num[c], pre);
    g_string_append(p->h, "</tr>");
  }
  pc_html_tfoot(p->h);
  if (pc_table_nrows(t) > n) pc_html_note(p->h, "The first %u of %u rows by chi\xc2\xb2; csv/%s.csv has all.", n, pc_table_nrows(t), name);
}

gboolean pc_sec_drivers(PcPage *p) {
  const PcTable *d = pc_cell_table(p->in, "drivers"), *c = pc_cell_table(p->in, "channel_drivers");
  if (!d && !c) return FALSE;
  g_string_append(p->h, "<p class=\"lede\">Events (and channels) seen before ");
  pc_html_target(p->h, p);
  g_string_append(p->h, ", ranked by the strength of their association (chi\xc2\xb2). Lift above 1: customers with the event "
                        "reach the target more often than average. Revenue at risk: revenue of those customers who did.</p>");
  if (d) {
    drivers_chart(p, d);
    drivers_table(p, d, "drivers", "token");
  }
  if (c) {
    g_string_append(p->h, "<h3>By channel</h3>");
    drivers_table(p, c, "channel_drivers", "channel");
  }
  return TRUE;
}

/* ---- channels ---------------------------------------------------------------------- */

static void channels_table(PcPage *p, const PcTable *t) {
  static const char *const cols[] = {"Channel", "#Events", "#Customers", "", "#Customers before target", "#Outcome rate",
                                     "#Value sum", "#Value mean", NULL};
  guint n = MIN(pc_table_nrows(t), MAX_ROWS);
  double top = 0;
  for (guint r = 0; r < n; r++) top = MAX(top, pc_cell_d(t, r, "customers"));
  g_string_append(p->h, "<h3>Channel KPIs</h3>");
  pc_html_thead(p->h, cols);
  for (guint r = 0; r < n; r++) {
    g_autofree char *pre = g_strdup_printf("channels-%u", r + 1);
    g_string_append(p->h, "<tr><td class=\"lbl\">");
    pc_html_esc_max(p->h, pc_cell_s(t, r, "channel"), 63);
    g_string_append(p->h, "</td>");
    pc_cell_td(p->h, t, r, "events", pre);
    pc_cell_td(p->h, t, r, "customers", pre);
    g_string_append(p->h, "<td>");
    pc_html_bar(p->h, top > 0 ? pc_cell_d(t, r, "customers") / top : 0, "");
    g_string_append(p->h, "</td>");
    pc_cell_td(p->h, t, r, "customers_pre", pre);
    pc_cell_td(p->h, t, r, "outcome_rate", pre);
    pc_cell_td(p->h, t, r, "value_sum", pre);
    pc_cell_td(p->h, t, r, "value_mean", pre);
    g_string_append(p->h, "</tr>");
  }
  pc_html_tfoot(p->h);
}

static void nps_mix(GString *h, const PcTable *t, guint r) {
  double n = pc_cell_d(t, r, "responses");
  if (!(n > 0)) return;
  g_string_append_printf(h, "<span class=\"mix\"><i class=\"md\" style=\"width:%.1f%%\"></i><i class=\"mp\" style=\"width:%.1f%%\"></i>"
                            "<i class=\"mr\" style=\"width:%.1f%%\"></i></span>",
                         100 * pc_cell_d(t, r, "detractors") / n, 100 * pc_cell_d(t, r, "passives") / n,
                         100 * pc_cell_d(t, r, "promoters") / n);
}

static void nps_table(PcPage *p, const PcTable *t) {
  static const char *const cols[] = {"Channel", "#Responses", "#Promoters", "#Passives", "#Detractors", "#NPS", "", "Mix", NULL};
  guint n = MIN(pc_table_nrows(t), MAX_ROWS);
  g_string_append(p->h, "<h3>NPS by channel</h3>");
  pc_html_thead(p->h, cols);
  for (guint r = 0; r < n; r++) {
    g_autofree char *pre = g_strdup_printf("nps-%u", r + 1);
    const char *ch = pc_cell_s(t, r, "channel");
    g_string_append_printf(p->h, "<tr%s><td class=\"lbl\">", is_all(ch) ? " class=\"total\"" : "");
    pc_html_esc_max(p->h, ch, 63);
    g_string_append(p->h, "</td>");
    pc_cell_td(p->h, t, r, "responses", pre);
    pc_cell_td(p->h, t, r, "promoters", pre);
    pc_cell_td(p->h, t, r, "passives", pre);
    pc_cell_td(p->h, t, r, "detractors", pre);
    pc_cell_td(p->h, t, r, "nps", pre);
    g_string_append(p->h, "<td>");
    pc_html_div_bar(p->h, pc_cell_d(t, r, "nps") / 100);
    g_string_append(p->h, "</td><td>");
    nps_mix(p->h, t, r);
    g_string_append(p->h, "</td></tr>");
  }
  pc_html_tfoot(p->h);
  g_string_append(p->h, "<p class=\"legend\">NPS from \xe2\x88\x92" "100 to 100. Mix:<span class=\"sw\" style=\"background:#c8553d\"></span>detractors (0\xe2\x80\x93" "6)"
                        "<span class=\"sw\" style=\"background:#c9d1d9\"></span>passives (7\xe2\x80\x93" "8)"
                        "<span class=\"sw\" style=\"background:#2a9d8f\"></span>promoters (9\xe2\x80\x93" "10). A response counts for the channel of the customer's previous event.</p>");
}

/* Each model's credit as a share of that model's total, side by side. */
static void attribution_chart(PcPage *p, const PcTable *t) {
  static const PcShareBar bars[4] = {{"first_touch", "First touch", "#2c6e9b", TRUE},
                                     {"last_touch", "Last touch", "#7fb0d6", TRUE},
                                     {"linear", "Linear", "#e0a458", TRUE},
                                     {"markov_share", "Markov", "#c8553d", FALSE}};
  pc_html_share_bars(p->h, t, bars, 4, 28, "<h3>Attribution: share of conversions credited</h3>",
                     "Attribution shares by channel",
                     ". First, last touch and linear: each channel's credit over all credit; Markov: removal-effect share.");
}

static void attribution_table(PcPage *p, const PcTable *t) {
  static const char *const num[] = {"first_touch", "last_touch", "linear", "markov_removal_effect", "markov_share",
                                    "markov_conversions"};
  static const char *const cols[] = {"Channel", "#First touch", "#Last touch", "#Linear", "#Markov removal effect",
                                     "#Markov share", "#Markov conversions", NULL};
  guint n = MIN(pc_table_nrows(t), MAX_ROWS);
  pc_html_thead(p->h, cols);
  pc_cell_label_rows(p->h, t, n, "channel", num, G_N_ELEMENTS(num), "attribution");
  pc_html_tfoot(p->h);
}

gboolean pc_sec_channels(PcPage *p) {
  const PcTable *ch = pc_cell_table(p->in, "channels"), *nps = pc_cell_table(p->in, "nps"),
                *at = pc_cell_table(p->in, "attribution");
  if (!ch && !nps && !at) return FALSE;
  g_string_append(p->h, "<p class=\"lede\">Volume and value per channel, customer sentiment, and the credit each "
                        "channel gets for the outcome.</p>");
  if (ch) channels_table(p, ch);
  if (nps) nps_table(p, nps);
  if (at) {
    attribution_chart(p, at);
    attribution_table(p, at);
  }
  return TRUE;
}

