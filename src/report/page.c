/* page.c - the HTML of report.html that is not a section: escaping and
 * ids, chart labels, bars, token chips, KPI cards, table frames, the
 * inline CSS and the page head (report_int.h).
 *
 * Owns how things look; owns no figure: callers pass text already
 * formatted (pc_cell_fmt) or fractions to draw. No file, no JSON.
 *
 * Invariants: every string from data is escaped here (pc_report_escape:
 * & < > " ' and control bytes); ids keep [A-Za-z0-9._-] and write any other
 * byte as ~XX, so an id never needs escaping. Chart labels round (12.3%,
 * 34.5k); table cells never do (they come from pc_cell_fmt).
 */
#include "report_int.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ---- escaping and ids ------------------------------------------------------ */

void pc_report_escape(GString *out, const char *s, gssize len) {
  if (!s) return;
  gsize n = len < 0 ? strlen(s) : (gsize)len;
  for (gsize i = 0; i < n; i++) {
    unsigned char ch = (unsigned char)s[i];
    switch (ch) {
    case '&': g_string_append(out, "&amp;"); break;
    case '<': g_string_append(out, "&lt;"); break;
    case '>': g_string_append(out, "&gt;"); break;
    case '"': g_string_append(out, "&quot;"); break;
    case '\'': g_string_append(out, "&#39;"); break;
    default:
      if (ch < 0x20 || ch == 0x7f) g_string_append(out, "\xef\xbf\xbd");
      else g_string_append_c(out, (char)ch);
    }
  }
}

void pc_html_esc(GString *h, const char *s) { pc_report_escape(h, s, -1); }

void pc_html_esc_max(GString *h, const char *s, gsize max) {
  gsize n = strlen(s);
  if (n <= max) {
    pc_report_escape(h, s, (gssize)n);
    return;
  }
  while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80) max--;
  pc_report_escape(h, s, (gssize)max);
  g_string_append(h, "\xe2\x80\xa6");
}

/* Distinct names give distinct ids, and an id needs no escaping in HTML,
 * in a shell or in getElementById. */
void pc_html_id_part(GString *out, const char *s) {
  for (; *s; s++) {
    unsigned char ch = (unsigned char)*s;
    if (g_ascii_isalnum(ch) || ch == '-' || ch == '_' || ch == '.') g_string_append_c(out, (char)ch);
    else g_string_append_printf(out, "~%02x", ch);
  }
}

char *pc_html_id_of(const char *s) {
  GString *g = g_string_new(NULL);
  pc_html_id_part(g, s);
  return g_string_free(g, FALSE);
}

/* ---- chart labels and bars ---------------------------------------------------- */

char *pc_html_pct(char *buf, double frac) {
  if (!isfinite(frac)) return strcpy(buf, "\xe2\x80\x93");
  snprintf(buf, 32, "%.1f%%", 100 * frac);
  return buf;
}

char *pc_html_short_num(char *buf, double v) {
  double a = fabs(v);
  if (!isfinite(v)) return strcpy(buf, isnan(v) ? "nan" : (v > 0 ? "inf" : "-inf"));
  if (a >= 1e9) snprintf(buf, 32, "%.1fG", v / 1e9);
  else if (a >= 1e6) snprintf(buf, 32, "%.1fM", v / 1e6);
  else if (a >= 1e4) snprintf(buf, 32, "%.1fk", v / 1e3);
  else snprintf(buf, 32, "%.0f", v);
  return buf;
}

void pc_html_bar(GString *h, double frac, const char *cls) {
  if (!isfinite(frac) || frac < 0) frac = isinf(frac) && frac > 0 ? 1 : 0;
  g_string_append_printf(h, "<span class=\"bar %s\"><i style=\"width:%.1f%%\"></i></span>", cls,
                         100 * MIN(frac, 1.0));
}

void pc_html_bar_pct(GString *h, double frac, double label, const char *cls) {
  char b[32];
  pc_html_bar(h, frac, cls);
  g_string_append_printf(h, "<span class=\"bp\">%s</span>", pc_html_pct(b, label));
}

void pc_html_div_bar(GString *h, double v) {
  if (!isfinite(v)) v = 0;
  v = CLAMP(v, -1.0, 1.0);
  g_string_append_printf(h, "<span class=\"div\"><span class=\"neg\"><i style=\"width:%.1f%%\"></i></span>"
                            "<span class=\"pos\"><i style=\"width:%.1f%%\"></i></span></span>",
                         v < 0 ? -100 * v : 0, v > 0 ? 100 * v : 0);
}

void pc_html_path_chips(GString *h, const char *path, guint max) {
  if (!*path || !strcmp(path, "^")) {
    g_string_append(h, "<span class=\"tok start\">journey start</span>");
    return;
  }
  g_auto(GStrv) tok = g_strsplit(path, " > ", (gint)max + 1);
  guint n = g_strv_length(tok), rest = 0;
  if (n > max) {
    rest = 1;
    for (const char *q = tok[max]; (q = strstr(q, " > ")); q += 3) rest++;
    n = max;
  }
  for (guint i = 0; i < n; i++) {
    if (i) g_string_append(h, "<span class=\"arr\">\xe2\x80\xba</span>");
    g_string_append(h, "<span class=\"tok\">");
    pc_html_esc_max(h, tok[i], 63);
    g_string_append(h, "</span>");
  }
  if (rest) g_string_append_printf(h, "<span class=\"more\">+%u more</span>", rest);
}

/* ---- cells, tables, cards ------------------------------------------------------- */

void pc_html_td(GString *h, const char *id, const char *text) {
  g_string_append_printf(h, "<td class=\"num%s\"", *text ? "" : " na");
  if (id) {
    g_string_append(h, " id=\"");
    pc_html_esc(h, id);
    g_string_append_c(h, '"');
  }
  g_string_append_c(h, '>');
  pc_html_esc(h, text);
  g_string_append(h, "</td>");
}

void pc_html_thead_cls(GString *h, const char *const *cols, const char *cls) {
  g_string_append_printf(h, "<div class=\"tw%s%s\"><table><thead><tr>", *cls ? " " : "", cls);
  for (; *cols; cols++) {
    gboolean num = (*cols)[0] == '#';
    g_string_append_printf(h, "<th%s>%s</th>", num ? " class=\"num\"" : "", *cols + (num ? 1 : 0));
  }
  g_string_append(h, "</tr></thead><tbody>");
}

void pc_html_thead(GString *h, const char *const *cols) { pc_html_thead_cls(h, cols, ""); }

void pc_html_tfoot(GString *h) { g_string_append(h, "</tbody></table></div>"); }

void pc_html_note(GString *h, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  g_autofree char *s = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  g_string_append_printf(h, "<p class=\"note\">%s</p>", s);
}

void pc_html_kpi(GString *h, const char *label, const char *id, const char *value, const char *hint) {
  g_string_append(h, "<div class=\"kpi\"><div class=\"k\">");
  pc_html_esc(h, label);
  g_string_append(h, "</div><div class=\"v\"");
  if (id) {
    g_string_append(h, " id=\"");
    pc_html_esc(h, id);
    g_string_append_c(h, '"');
  }
  g_string_append_c(h, '>');
  pc_html_esc(h, value);
  g_string_append(h, "</div>");
  if (hint) {
    g_string_append(h, "<div class=\"n\">");
    pc_html_esc(h, hint);
    g_string_append(h, "</div>");
  }
  g_string_append(h, "</div>");
}

void pc_html_target(GString *h, const PcPage *p) {
  g_string_append(h, "<b>");
  pc_html_esc(h, p->target ? p->target : "the target");
  g_string_append(h, "</b>");
}

/* ---- the page head ------------------------------------------------------------------ */

/* Print: no navigation bar, no scroll boxes, sections kept together;
 * phones: one column, tables and wide charts scroll sideways. */
static const char CSS[] =
    ":root{--ink:#1d2733;--muted:#5f6b7a;--line:#e3e7ec;--bg:#f4f6f8;--card:#fff;--blue:#2c6e9b;--red:#c8553d;--teal:#2a9d8f;--grey:#a7b1bc}"
    "*{box-sizing:border-box}"
    "html{-webkit-text-size-adjust:100%}"
    "body{margin:0;font:15px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,'Helvetica Neue',Arial,sans-serif;color:var(--ink);background:var(--bg)}"
    ".wrap{max-width:1180px;margin:0 auto;padding:0 24px}"
    "header.top{background:#1d2733;color:#fff;padding:30px 0 24px}"
    "header.top h1{font-size:26px;margin:0 0 4px;font-weight:650;letter-spacing:-.01em}"
    "header.top .sub{color:#b9c3cd;font-size:14px;margin:0}"
    "header.top .brand{color:#8fb8d8;font-size:12px;letter-spacing:.12em;text-transform:uppercase;margin:0 0 6px}"
    "nav.toc{position:sticky;top:0;z-index:5;background:rgba(255,255,255,.96);border-bottom:1px solid var(--line)}"
    "nav.toc .wrap{display:flex;gap:2px;overflow-x:auto;white-space:nowrap}"
    "nav.toc a{display:inline-block;padding:11px 12px;color:var(--muted);text-decoration:none;font-size:14px;border-bottom:2px solid transparent}"
    "nav.toc a:hover{color:var(--ink);border-bottom-color:var(--blue)}"
    "section{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:22px 26px 24px;margin:22px 0;scroll-margin-top:52px}"
    "h2{font-size:20px;margin:0 0 6px;letter-spacing:-.01em}"
    "h3{font-size:15px;margin:26px 0 10px}"
    "h4{font-size:13px;margin:16px 0 8px;color:var(--muted);font-weight:600}"
    ".lede{color:var(--muted);margin:0 0 18px;font-size:14px;max-width:85ch}"
    ".note,.legend,figcaption{color:var(--muted);font-size:12.5px;margin:8px 0 0}.legend{margin-bottom:14px}"
    ".tw.narrow{max-width:720px}.kpis+.tw{margin-top:12px}"
    ".kpis{display:grid;grid-template-columns:repeat(auto-fill,minmax(170px,1fr));gap:12px}"
    ".kpi{border:1px solid var(--line);border-radius:8px;padding:12px 14px;background:#fafbfc}"
    ".kpi .k{font-size:11.5px;text-transform:uppercase;letter-spacing:.06em;color:var(--muted)}"
    ".kpi .v{font-size:24px;font-weight:600;font-variant-numeric:tabular-nums;margin-top:2px;overflow-wrap:anywhere}"
    ".kpi .n{font-size:12px;color:var(--muted)}"
    ".tw{overflow-x:auto;-webkit-overflow-scrolling:touch;border:1px solid var(--line);border-radius:8px;max-width:100%}"
    "table{border-collapse:collapse;width:100%;font-size:13px}"
    ".bp{display:inline-block;min-width:46px;margin-left:8px;font-size:12px;color:var(--muted);text-align:right;font-variant-numeric:tabular-nums}"
    "th,td{padding:6px 9px;text-align:left;border-bottom:1px solid var(--line);white-space:nowrap;vertical-align:middle}"
    "th{font-size:11.5px;font-weight:600;color:var(--muted);background:#f8f9fb;text-transform:uppercase;letter-spacing:.04em}"
    "tbody th{text-transform:none;font-size:13px;letter-spacing:0;color:var(--ink);font-weight:500}"
    "tbody tr:last-child td,tbody tr:last-child th{border-bottom:0}"
    "tbody tr:hover td{background:#f7fafc}"
    "td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}"
    "td.na::after{content:'\\2013';color:var(--grey)}"
    "tr.total td{font-weight:600;background:#f8f9fb}"
    "td.path{white-space:normal;min-width:300px}"
    ".tok{display:inline-block;background:#eaf1f7;color:#1f4e70;border-radius:4px;padding:1px 7px;margin:2px 0;font-size:12.5px}"
    ".tok.start{background:#eef0f2;color:var(--muted)}"
    ".arr{color:var(--grey);margin:0 4px}"
    ".more{color:var(--muted);font-size:12px;margin-left:6px}"
    ".bar{display:inline-block;width:110px;height:8px;background:#edf0f3;border-radius:4px;overflow:hidden;vertical-align:middle}"
    ".bar i{display:block;height:100%;background:var(--blue);border-radius:4px}"
    ".bar.red i{background:var(--red)}.bar.dark i{background:var(--ink)}"
    ".bar.wide{width:100%;min-width:140px;height:14px}"
    "td.fb{width:38%}"
    ".div{display:inline-flex;width:150px;height:8px;vertical-align:middle}"
    ".div>span{flex:1;display:flex;background:#edf0f3}"
    ".div>.neg{justify-content:flex-end;border-right:1px solid var(--muted);border-radius:4px 0 0 4px}"
    ".div>.pos{border-radius:0 4px 4px 0}"
    ".div .neg i{background:var(--teal)}.div .pos i{background:var(--red)}"
    "#channels .div .neg i{background:var(--red)}#channels .div .pos i{background:var(--teal)}"
    ".mix{display:inline-flex;width:120px;height:8px;border-radius:4px;overflow:hidden;vertical-align:middle;background:#edf0f3}"
    ".mix i{display:block;height:100%}.mix .md{background:var(--red)}.mix .mp{background:#c9d1d9}.mix .mr{background:var(--teal)}"
    "td.heat{color:var(--ink)}"
    ".grid2{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1fr);gap:24px;align-items:start}"
    ".funnel+.funnel{margin-top:8px;border-top:1px solid var(--line)}"
    "figure{margin:0}"
    ".fig svg{display:block;width:100%;height:auto}"
    ".scroll-fig{overflow-x:auto}.scroll-fig svg{min-width:760px}"
    ".roc svg{max-width:420px}"
    ".sw{display:inline-block;width:10px;height:10px;border-radius:2px;margin:0 5px 0 12px;vertical-align:-1px}"
    ".legend .sw:first-child{margin-left:0}"
    "svg text{font-family:inherit;fill:var(--ink)}"
    ".lk{fill:#9db4c8;opacity:.5}.lk.lo{fill:#c9d1d9}.lt{fill:var(--red);opacity:.6}"
    "g:hover>.lk{opacity:.8}"
    ".nd{fill:#2c4a63}.nd.ns{fill:var(--ink)}.nd.no{fill:#aab4be}"
    ".sl{font-size:12px;paint-order:stroke;stroke:#fff;stroke-width:3px;stroke-linejoin:round}"
    ".slt{font-weight:600}.sls{fill:var(--red);font-size:11px}"
    ".ph{font-size:12px;font-weight:600;fill:var(--muted)}"
    ".dl{font-size:12.5px;text-anchor:end}.dv{font-size:11.5px;fill:var(--muted)}"
    ".bl-up{fill:var(--red)}.bl-down{fill:var(--teal)}.br{fill:var(--blue)}.zebra{fill:#f7f9fa}"
    ".base{stroke:var(--muted);stroke-dasharray:4 3;stroke-width:1}"
    ".grid{stroke:#e8ecf0;stroke-width:1}.ax{font-size:11px;fill:var(--muted)}"
    ".aucl{font-size:20px;font-weight:600;fill:var(--blue)}.auc{fill:var(--blue);opacity:.08}.rocl{fill:none;stroke:var(--blue);stroke-width:2.5;stroke-linejoin:round}"
    "footer{color:var(--muted);font-size:12.5px;padding:6px 0 40px}"
    "@media (max-width:860px){.grid2{grid-template-columns:minmax(0,1fr)}}"
    "@media (max-width:600px){.wrap{padding:0 10px}section{padding:16px 14px;border-radius:8px;margin:14px 0}"
    "header.top{padding:20px 0 16px}header.top h1{font-size:21px}.kpis{grid-template-columns:repeat(2,minmax(0,1fr));gap:8px}"
    ".kpi .v{font-size:19px}th,td{padding:6px 8px}}"
    "@media print{body{background:#fff;font-size:11.5px}nav.toc{display:none}"
    "header.top{background:#fff;color:#000;padding:0 0 8px;border-bottom:2px solid #000}header.top .sub,header.top .brand{color:#444}"
    "section{border:0;border-radius:0;padding:0;margin:18px 0}h2{border-bottom:1px solid #ccc;padding-bottom:4px}"
    "figure,tr,.kpi{break-inside:avoid}h2,h3,h4{break-after:avoid}"
    ".tw,.scroll-fig{overflow:visible;border:0}.scroll-fig svg{min-width:0}td.path{min-width:0}"
    "*{-webkit-print-color-adjust:exact;print-color-adjust:exact}tbody tr:hover td{background:none}}";

void pc_html_page_open(GString *out, const char *title, const char *h1) {
  g_string_append(out, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                       "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
                       "<meta name=\"generator\" content=\"parcours\"><title>");
  pc_html_esc(out, title);
  g_string_append(out, "</title><style>");
  g_string_append(out, CSS);
  g_string_append(out, "</style></head><body><header class=\"top\"><div class=\"wrap\"><p class=\"brand\">parcours</p><h1>");
  pc_html_esc(out, h1);
  g_string_append(out, "</h1><p class=\"sub\">");
}

void pc_html_head(GString *out, const PcPage *p) {
  pc_html_page_open(out, "parcours report", "Customer journey report");
  const PcTable *s = pc_cell_table(p->in, "summary");
  for (guint r = 0; s && r < pc_table_nrows(s); r++)
    if (!strcmp(pc_cell_s(s, r, "key"), "customers") || !strcmp(pc_cell_s(s, r, "key"), "events")) {
      char buf[PC_MONEY_BYTES];
      g_string_append_printf(out, "%s %s \xc2\xb7 ", pc_cell_fmt(s, r, pc_cell_col(s, "value"), buf),
                             pc_cell_s(s, r, "key"));
    }
  if (p->target) {
    g_string_append(out, "target: ");
    pc_html_esc(out, p->target);
  } else {
    g_string_append(out, "no target configured");
  }
  g_string_append(out, "</p></div></header>\n");
}

/* The totals of the share bars (1 for a bar that is a share already) and
 * the largest value drawn; 0 when there is nothing to draw. */
static double share_scale(const PcTable *t, const PcShareBar *bars, guint nb,
                          guint n, double *sum) {
  double top = 0;
  for (guint m = 0; m < nb; m++) {
    sum[m] = bars[m].share ? 0 : 1;
    for (guint r = 0; bars[m].share && r < pc_table_nrows(t); r++)
      sum[m] += isfinite(pc_cell_d(t, r, bars[m].col)) ? pc_cell_d(t, r, bars[m].col) : 0;
  }
  for (guint r = 0; r < n; r++)
    for (guint m = 0; m < nb; m++) {
      double v = pc_cell_d(t, r, bars[m].col) / sum[m];
      if (isfinite(v)) top = MAX(top, v);
    }
  return n && top > 0 ? ceil(top * 10) / 10 : 0;
}

static void share_group(GString *h, const PcTable *t, guint r,
                        const PcShareBar *bars, guint nb, const double *sum,
                        double gx, double bw, double top) {
  const double y0 = 14, ph = 190;
  for (guint m = 0; m < nb; m++) {
    double v = pc_cell_d(t, r, bars[m].col) / sum[m], bh = isfinite(v) ? ph * MAX(v, 0.0) / top : 0;
    char b[32];
    g_string_append_printf(h, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"><title>%s: %s</title></rect>",
                           gx + m * bw, y0 + ph - bh, bw - 2, bh, bars[m].color, bars[m].name, pc_html_pct(b, v));
  }
}

void pc_html_share_bars(GString *h, const PcTable *t, const PcShareBar *bars,
                        guint nb, double bar_w, const char *heading,
                        const char *aria, const char *legend_tail) {
  guint n = MIN(pc_table_nrows(t), MAX_BARS);
  double sum[8], W = 1000, H = 250, x0 = 46, y0 = 14, ph = 190;
  g_assert(nb <= G_N_ELEMENTS(sum));
  double top = share_scale(t, bars, nb, n, sum);
  if (top <= 0) return;
  if (heading) g_string_append(h, heading);
  g_string_append_printf(h, "<figure class=\"fig scroll-fig\"><svg viewBox=\"0 0 %.0f %.0f\" role=\"img\" aria-label=\"%s\">", W, H, aria);
  for (int g = 0; g <= 4; g++) {
    double y = y0 + ph - ph * g / 4.0;
    char b[32];
    g_string_append_printf(h, "<line class=\"grid\" x1=\"%.0f\" x2=\"%.0f\" y1=\"%.1f\" y2=\"%.1f\"/><text class=\"ax\" x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">%s</text>",
                           x0, W, y, y, x0 - 6, y + 4, pc_html_pct(b, top * g / 4));
  }
  double gw = (W - x0) / n, bw = MIN(gw * 0.8 / nb, bar_w);
  for (guint r = 0; r < n; r++) {
    share_group(h, t, r, bars, nb, sum, x0 + r * gw + (gw - nb * bw) / 2, bw, top);
    g_string_append_printf(h, "<text class=\"ax\" x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\">", x0 + r * gw + gw / 2, y0 + ph + 18);
    pc_html_esc_max(h, pc_cell_s(t, r, "channel"), (gsize)MAX(gw / 7, 4));
    g_string_append(h, "</text>");
  }
  g_string_append(h, "</svg></figure><p class=\"legend\">");
  for (guint m = 0; m < nb; m++)
    g_string_append_printf(h, "<span class=\"sw\" style=\"background:%s\"></span>%s", bars[m].color, bars[m].name);
  g_string_append(h, legend_tail);
  g_string_append(h, "</p>");
}
