/* sec_deeper.c - sections "sequences", "time_to_target" and
 * "attribution_models" of report.html (report_int.h), drawn from
 * sequence_drivers.csv (spec §16), time_to_target.csv (§17) and
 * attribution_models.csv (§18).
 *
 * Owns the sequence lift chart, the time-to-target range chart (25th to
 * 90th percentile with the median, on a log time axis; tokens chosen by
 * customers, ordered by median) and the chart of each attribution model's
 * shares. Reads from run.json only the Markov order and the half-life,
 * shown when present. Does not own the page frame (report.c) nor the
 * cells (cells.c).
 */
#include "report_int.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* ---- sequences --------------------------------------------------------------------- */

#define SQ_W 1000.0
#define SQ_ROW 24.0
#define SQ_LABEL 330.0
#define SQ_BAR_W 560.0

/* Lift of the top sequences as bars from 0, with the line of lift 1. */
static void sequences_chart(PcPage *p, const PcTable *t) {
  guint n = MIN(pc_table_nrows(t), CHART_DRIVERS);
  double top = 34, h = top + n * SQ_ROW + 8, ml = 1;
  if (!n) return;
  for (guint r = 0; r < n; r++)
    if (isfinite(pc_cell_d(t, r, "lift"))) ml = MAX(ml, pc_cell_d(t, r, "lift"));
  ml *= 1.08;
  g_string_append_printf(p->h, "<figure class=\"fig scroll-fig\"><svg viewBox=\"0 0 %.0f %.0f\" role=\"img\" aria-label=\"Lift of the top sequences\">"
                               "<text class=\"ph\" x=\"%.0f\" y=\"16\">Lift (rate with the sequence / overall rate)</text>",
                         SQ_W, h, SQ_LABEL + 10);
  for (guint r = 0; r < n; r += 2)
    g_string_append_printf(p->h, "<rect class=\"zebra\" x=\"0\" y=\"%.1f\" width=\"%.0f\" height=\"%.0f\"/>", top + r * SQ_ROW, SQ_W, SQ_ROW);
  double bx = SQ_LABEL + 10 + SQ_BAR_W / ml;
  g_string_append_printf(p->h, "<line class=\"base\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.0f\" y2=\"%.1f\"/>", bx, bx, top - 6, h - 4);
  for (guint r = 0; r < n; r++) {
    double y = top + r * SQ_ROW, l = pc_cell_d(t, r, "lift");
    double w = isnan(l) ? 0 : isinf(l) ? SQ_BAR_W : SQ_BAR_W * l / ml;
    char b[32];
    g_string_append_printf(p->h, "<text class=\"dl\" x=\"%.0f\" y=\"%.1f\">", SQ_LABEL, y + 16);
    pc_html_esc_max(p->h, pc_cell_s(t, r, "path"), 2 * LABEL_BYTES);
    if (isinf(l)) strcpy(b, "inf");
    else if (isnan(l)) strcpy(b, "nan");
    else snprintf(b, sizeof b, "\xc3\x97%.2f", l);
    g_string_append_printf(p->h, "</text><rect class=\"%s\" x=\"%.0f\" y=\"%.1f\" width=\"%.1f\" height=\"16\" rx=\"2\"/>"
                                 "<text class=\"dv\" x=\"%.1f\" y=\"%.1f\">%s</text>",
                           l >= 1 ? "bl-up" : "bl-down", SQ_LABEL + 10, y + 4, w, SQ_LABEL + 15 + w, y + 16, b);
  }
  g_string_append(p->h, "</svg></figure>");
}

static void sequences_table(PcPage *p, const PcTable *t) {
  static const char *const num[] = {"customers", "customers_with_outcome", "rate_with", "lift", "risk_ratio", "chi2",
                                    "coverage", "revenue_at_risk"};
  static const char *const cols[] = {"#Rank", "#n", "Sequence", "#Customers", "#With outcome", "#Rate with", "#Lift",
                                     "#Risk ratio", "#Chi\xc2\xb2", "#Coverage", "#Revenue at risk", NULL};
  guint n = MIN(pc_table_nrows(t), TOP_DRIVERS);
  pc_html_thead(p->h, cols);
  for (guint r = 0; r < n; r++) {
    g_autofree char *pre = g_strdup_printf("sequence_drivers-%u", r + 1);
    g_string_append_printf(p->h, "<tr><td class=\"num\">%u</td>", r + 1);
    pc_cell_td(p->h, t, r, "n", NULL);
    g_string_append(p->h, "<td class=\"path\">");
    pc_html_path_chips(p->h, pc_cell_s(t, r, "path"), PATH_TOKENS);
    g_string_append(p->h, "</td>");
    for (guint c = 0; c < G_N_ELEMENTS(num); c++) pc_cell_td(p->h, t, r, num[c], pre);
    g_string_append(p->h, "</tr>");
  }
  pc_html_tfoot(p->h);
  if (pc_table_nrows(t) > n)
    pc_html_note(p->h, "The first %u of %u rows by chi\xc2\xb2; csv/sequence_drivers.csv has all.", n, pc_table_nrows(t));
}

gboolean pc_sec_sequences(PcPage *p) {
  const PcTable *t = pc_cell_table(p->in, "sequence_drivers");
  if (!t) return FALSE;
  g_string_append(p->h, "<p class=\"lede\">Runs of consecutive events seen before ");
  pc_html_target(p->h, p);
  g_string_append(p->h, ", ranked by the strength of their association (chi\xc2\xb2), like the drivers above but for "
                        "sequences: a sequence can matter more than each of its events alone.</p>");
  if (!pc_table_nrows(t)) {
    pc_html_note(p->h, "No sequence reaches target.sequence_min_customers customers.");
    return TRUE;
  }
  sequences_chart(p, t);
  sequences_table(p, t);
  return TRUE;
}

/* ---- time to the target ------------------------------------------------------------ */

#define TT_W 1000.0
#define TT_ROW 22.0
#define TT_LABEL 200.0
#define TT_X0 210.0
#define TT_X1 980.0

/* "45 s", "12 min", "3.4 h", "2.1 d", "7 d": a chart label. buf: 32 bytes. */
static char *human_time(char *buf, double s) {
  static const struct { double unit; const char *name; } u[] = {
      {86400, "d"}, {3600, "h"}, {60, "min"}, {1, "s"}};
  guint i = 0;
  while (i + 1 < G_N_ELEMENTS(u) && s < u[i].unit) i++;
  double v = s / u[i].unit;
  snprintf(buf, 32, v == floor(v) || v >= 10 ? "%.0f %s" : "%.1f %s", v, u[i].name);
  return buf;
}

typedef struct {
  guint row;
  double c, med;
} TtRow;

static gint cmp_customers(gconstpointer a, gconstpointer b) {
  const TtRow *x = a, *y = b;
  if (x->c != y->c) return x->c > y->c ? -1 : 1;
  return x->row < y->row ? -1 : (x->row > y->row);
}

static gint cmp_median(gconstpointer a, gconstpointer b) {
  const TtRow *x = a, *y = b;
  if (x->med != y->med) return x->med < y->med ? -1 : 1;
  return x->row < y->row ? -1 : (x->row > y->row);
}

/* The log axis: lo..hi in log10 seconds (a value under 1 s sits at 1 s). */
typedef struct {
  double lo, hi;
} TtAxis;

static double tt_x(double s, const TtAxis *ax) {
  double l = log10(MAX(s, 1.0));
  return TT_X0 + (TT_X1 - TT_X0) * (l - ax->lo) / (ax->hi - ax->lo);
}

static const double tt_ticks[] = {1, 10, 60, 600, 3600, 21600, 86400, 604800, 2592000, 31536000};

static void tt_axis(GString *h, const TtAxis *ax, double y0, double y1) {
  const double *ticks = tt_ticks;
  char b[32];
  for (guint i = 0; i < G_N_ELEMENTS(tt_ticks); i++) {
    double l = log10(ticks[i]);
    if (l < ax->lo || l > ax->hi) continue;
    double x = tt_x(ticks[i], ax);
    g_string_append_printf(h, "<line class=\"grid\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%.0f\" y2=\"%.1f\"/>"
                              "<text class=\"ax\" x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\">%s</text>",
                           x, x, y0, y1, x, y0 - 4, human_time(b, ticks[i]));
  }
}

/* The chosen rows: "^" and the tokens with the most customers, by median;
 * the axis spans their 25th to 90th percentiles (at least a minute), from
 * the tick at or below the least. */
static GArray *tt_rows(const PcTable *t, TtAxis *ax) {
  GArray *v = g_array_new(FALSE, FALSE, sizeof(TtRow));
  for (guint r = 0; r < pc_table_nrows(t); r++) {
    TtRow x = {r, pc_cell_d(t, r, "customers"), pc_cell_d(t, r, "median_s")};
    if (!isfinite(x.med) || !isfinite(pc_cell_d(t, r, "p90_s"))) continue;
    g_array_append_val(v, x);
  }
  g_array_sort(v, cmp_customers);
  g_array_set_size(v, MIN(v->len, (guint)TOP_TTT));
  g_array_sort(v, cmp_median);
  double lo = INFINITY, hi = 60;
  for (guint k = 0; k < v->len; k++) {
    guint r = g_array_index(v, TtRow, k).row;
    lo = MIN(lo, pc_cell_d(t, r, "p25_s"));
    hi = MAX(hi, pc_cell_d(t, r, "p90_s"));
  }
  double tick = 1;
  for (guint i = 0; i < G_N_ELEMENTS(tt_ticks) && tt_ticks[i] <= MIN(lo, hi / 60); i++) tick = tt_ticks[i];
  ax->lo = log10(tick);
  ax->hi = ceil(log10(hi) * 2) / 2 + 0.1;
  return v;
}

static void tt_chart(PcPage *p, const PcTable *t) {
  TtAxis ax;
  g_autoptr(GArray) v = tt_rows(t, &ax);
  if (!v->len) return;
  double top = 30, h = top + v->len * TT_ROW + 6;
  g_string_append_printf(p->h, "<figure class=\"fig scroll-fig\"><svg viewBox=\"0 0 %.0f %.0f\" role=\"img\" aria-label=\"Time from an event to the target\">", TT_W, h);
  tt_axis(p->h, &ax, top - 14, h - 4);
  for (guint k = 0; k < v->len; k++) {
    const TtRow *x = &g_array_index(v, TtRow, k);
    double y = top + k * TT_ROW, a = tt_x(pc_cell_d(t, x->row, "p25_s"), &ax);
    double b = tt_x(pc_cell_d(t, x->row, "p90_s"), &ax), m = tt_x(x->med, &ax);
    const char *tok = pc_cell_s(t, x->row, "token");
    char hb[32];
    g_string_append_printf(p->h, "<g><text class=\"dl\" x=\"%.0f\" y=\"%.1f\">", TT_LABEL, y + 15);
    pc_html_esc_max(p->h, strcmp(tok, "^") ? tok : "journey start", LABEL_BYTES);
    g_string_append_printf(p->h, "</text><rect fill=\"#e0a458\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"12\" rx=\"2\"/>"
                                 "<rect class=\"nd\" x=\"%.1f\" y=\"%.1f\" width=\"3\" height=\"18\"/>"
                                 "<title>median %s</title></g>",
                           a, y + 6, MAX(b - a, 1.0), m - 1.5, y + 3, human_time(hb, x->med));
  }
  g_string_append(p->h, "</svg></figure><p class=\"legend\"><span class=\"sw\" style=\"background:#e0a458\"></span>"
                        "25th to 90th percentile<span class=\"sw\" style=\"background:#2c4a63\"></span>median (log time axis).</p>");
}

static void tt_table(PcPage *p, const PcTable *t) {
  static const char *const num[] = {"customers", "p25_s", "median_s", "p90_s"};
  static const char *const cols[] = {"Event", "#Customers", "#25th pct (s)", "#Median (s)", "#90th pct (s)", NULL};
  guint n = MIN(pc_table_nrows(t), MAX_ROWS);
  pc_html_thead_cls(p->h, cols, "narrow");
  for (guint r = 0; r < n; r++) {
    g_autofree char *pre = g_strdup_printf("time_to_target-%u", r + 1);
    const char *tok = pc_cell_s(t, r, "token");
    g_string_append(p->h, "<tr><td>");
    if (!strcmp(tok, "^")) g_string_append(p->h, "<span class=\"tok start\">journey start</span>");
    else pc_html_esc_max(p->h, tok, 63);
    g_string_append(p->h, "</td>");
    for (guint c = 0; c < G_N_ELEMENTS(num); c++) {
      g_autofree char *id = g_strdup_printf("%s-%s", pre, num[c]);
      /* results.h5 holds an empty cell as nan: no customer, no percentile */
      if (c && pc_cell_i(t, r, "customers") == 0) pc_html_td(p->h, id, "");
      else pc_cell_td(p->h, t, r, num[c], pre);
    }
    g_string_append(p->h, "</tr>");
  }
  pc_html_tfoot(p->h);
  if (pc_table_nrows(t) > n)
    pc_html_note(p->h, "The first %u of %u rows; csv/time_to_target.csv has all.", n, pc_table_nrows(t));
}

gboolean pc_sec_time_to_target(PcPage *p) {
  const PcTable *t = pc_cell_table(p->in, "time_to_target");
  if (!t) return FALSE;
  g_string_append(p->h, "<p class=\"lede\">How long before ");
  pc_html_target(p->h, p);
  g_string_append(p->h, " customers first had each event: from their first such event to their first target event, over the "
                        "customers who reach it (journey start: from their first event).</p>");
  tt_chart(p, t);
  tt_table(p, t);
  return TRUE;
}

/* ---- attribution models ------------------------------------------------------------ */

/* Each model's credit as a share of that model's total, side by side. */
static void am_chart(PcPage *p, const PcTable *t) {
  static const PcShareBar bars[3] = {{"position_based", "Position based", "#7fb0d6", TRUE},
                                     {"time_decay", "Time decay", "#e0a458", TRUE},
                                     {"markov_share", "Markov", "#c8553d", FALSE}};
  pc_html_share_bars(p->h, t, bars, 3, 30, NULL, "Attribution model shares by channel",
                     ". Each channel's credit over that model's total (Markov: its removal-effect share).");
}

static void am_table(PcPage *p, const PcTable *t) {
  static const char *const num[] = {"position_based", "time_decay", "markov_removal_effect", "markov_share",
                                    "markov_conversions"};
  static const char *const cols[] = {"Channel", "#Position based", "#Time decay", "#Markov removal effect",
                                     "#Markov share", "#Markov conversions", NULL};
  guint n = MIN(pc_table_nrows(t), MAX_ROWS);
  pc_html_thead(p->h, cols);
  pc_cell_label_rows(p->h, t, n, "channel", num, G_N_ELEMENTS(num), "attribution_models");
  pc_html_tfoot(p->h);
}

gboolean pc_sec_attribution_models(PcPage *p) {
  const PcTable *t = pc_cell_table(p->in, "attribution_models");
  if (!t) return FALSE;
  g_autofree char *k = pc_rjson_text(pc_rjson_get(p->run, "job.attribution.markov_order"), NULL);
  g_autofree char *hl = pc_rjson_text(pc_rjson_get(p->run, "job.attribution.half_life"), "%.12g");
  g_string_append(p->h, "<p class=\"lede\">Three more ways to credit channels for ");
  pc_html_target(p->h, p);
  g_string_append(p->h, ": position based (40% to the first touch, 40% to the last, 20% shared by the touches between), "
                        "time decay (a touch's weight halves every half-life before the target");
  if (hl) {
    g_string_append(p->h, ", here ");
    pc_html_esc(p->h, hl);
    g_string_append(p->h, " s");
  }
  g_string_append(p->h, ") and a Markov chain whose states are the last ");
  pc_html_esc(p->h, k ? k : "k");
  g_string_append(p->h, " channels of the path (removal effect: the share of conversions lost without the channel).</p>");
  am_chart(p, t);
  am_table(p, t);
  return TRUE;
}
