/* report_int.h - private declarations shared by the files of src/report/.
 * Not an interface: nothing outside src/report/ includes it (the public
 * interface is include/pc_report.h and include/pc_run.h).
 *
 * The files and what they own:
 *   report.c        the table of sections and pc_report_render()
 *   page.c          HTML: escaping, ids, bars, chips, cards, table frames,
 *                   chart labels, the CSS and the page head
 *   cells.c         table cells as csv/ writes them (pc_cell_*)
 *   rjson.c         run.json and batch records through json-glib (pc_rjson_*)
 *   sec_summary.c   section "summary"
 *   sec_paths.c     sections "journeys" (Sankey, variants), "transitions"
 *                   (counts and gap percentiles) and "preceding"
 *   sec_outcome.c   sections "funnels", "drivers" and "channels"
 *   sec_flows.c     section "flows" (the Sankey centred on an anchor)
 *   sec_deeper.c    sections "sequences", "time_to_target" and
 *                   "attribution_models"
 *   sec_model.c     section "model"
 *   sec_run.c       sections "run" and "quality" (run.json, batch records)
 *   report_file.c   pc_run_report(): results.h5 + run.json -> report.html
 *   sec_monthly.c   sections "segments" and "retention"
 *   diff.c, diff_table.c, diff_page.c  `parcours diff` (pc_diff.h): the
 *                   two directories and DIR; one table compared; the page
 *
 * Invariants every section keeps: a table cell is written by
 * pc_cell_fmt() (the CSV rules of spec §10); every string from a table or
 * a JSON file goes through pc_html_esc*(); every list is capped by one of
 * the TOP_ and MAX_ constants below, so the page stays under
 * PC_REPORT_MAX_BYTES.
 */
#ifndef PC_REPORT_INT_H
#define PC_REPORT_INT_H

#include "pc_report.h"

#include <json-glib/json-glib.h>

#define TOP_VARIANTS 20   /* rows of variants shown */
#define TOP_TRANSITIONS 20 /* rows of transitions shown (by count) */
#define TOP_PRECEDING 10  /* rows of preceding paths shown */
#define TOP_TOKENS 15     /* rows of preceding tokens shown */
#define TOP_DRIVERS 30    /* rows of the drivers tables */
#define CHART_DRIVERS 15  /* bars of the drivers chart */
#define TOP_COEFS 15      /* model coefficients by |coef| */
#define TOP_AT_RISK 10    /* at-risk customers listed */
#define MAX_ROWS 64       /* channels, NPS, attribution rows, ranks */
#define MAX_BARS 16       /* channels in the attribution chart */
#define MAX_FUNNELS 12    /* funnels drawn; csv/ has all */
#define MAX_STEPS 24      /* steps per funnel drawn */
#define MAX_SPLITS 24     /* channels per funnel split table */
#define PATH_TOKENS 10    /* tokens of a path shown before "+N more" */
#define LABEL_BYTES 24    /* chart labels are cut to this many bytes */
#define ROC_POINTS 400    /* the ROC polyline is thinned to about this */
#define SANKEY_DEPTH 5    /* prefix-tree depths drawn */
#define SANKEY_PER_COL 6  /* paths per depth, the rest is "other" */
#define FLOW_PER_COL 6    /* flow chart: nodes per column (the rest not drawn) */
#define FLOW_DEPTH 3      /* flow chart: columns on each side of the anchor */
#define TOP_FLOWS 10      /* rows of each flow's table */
#define TOP_TTT 20        /* tokens of the time-to-target chart and table */
#define JSON_MAX_DEPTH 64 /* nesting accepted in run.json and batch records */

/* ---- the page being drawn ------------------------------------------------- */

/* One per pc_report_render(); sections append to h. */
typedef struct {
  const PcReportInput *in;
  GString *h;     /* the sections, in page order */
  JsonNode *run;  /* run.json's root, owned; NULL when absent or unreadable */
  char *target;   /* "churn" or "a or b", owned; NULL without a target */
} PcPage;

/* A section draws its body (lede, tables, charts) after the <h2> that
 * report.c writes, and returns FALSE when it has nothing to show (its
 * tables are absent): report.c then drops whatever it appended, and the
 * section has neither a <section> nor a link in the navigation bar. */
typedef gboolean (*PcSectionFn)(PcPage *p);

gboolean pc_sec_summary(PcPage *p);   /* sec_summary.c */
gboolean pc_sec_journeys(PcPage *p);  /* sec_paths.c */
gboolean pc_sec_transitions(PcPage *p); /* sec_paths.c */
gboolean pc_sec_preceding(PcPage *p); /* sec_paths.c */
gboolean pc_sec_funnels(PcPage *p);   /* sec_outcome.c */
gboolean pc_sec_drivers(PcPage *p);   /* sec_outcome.c */
gboolean pc_sec_channels(PcPage *p);  /* sec_outcome.c */
gboolean pc_sec_flows(PcPage *p);     /* sec_flows.c */
gboolean pc_sec_sequences(PcPage *p); /* sec_deeper.c */
gboolean pc_sec_time_to_target(PcPage *p);     /* sec_deeper.c */
gboolean pc_sec_attribution_models(PcPage *p); /* sec_deeper.c */
gboolean pc_sec_model(PcPage *p);     /* sec_model.c */
gboolean pc_sec_segments(PcPage *p);  /* sec_monthly.c */
gboolean pc_sec_retention(PcPage *p); /* sec_monthly.c */
gboolean pc_sec_run(PcPage *p);       /* sec_run.c */
gboolean pc_sec_quality(PcPage *p);   /* sec_run.c */

/* ---- page.c: HTML --------------------------------------------------------- */

/* s escaped (pc_report_escape); s may be NULL. */
void pc_html_esc(GString *h, const char *s);
/* At most max bytes of s (cut on a UTF-8 boundary) escaped, then "…". */
void pc_html_esc_max(GString *h, const char *s, gsize max);
/* s as an id fragment: [A-Za-z0-9._-] kept, any other byte ~XX. */
void pc_html_id_part(GString *out, const char *s);
/* The same as a new string; caller g_free()s. */
char *pc_html_id_of(const char *s);
/* Chart label "12.3%" of a fraction, "–" when not finite. buf: 32 bytes;
 * returns buf. */
char *pc_html_pct(char *buf, double frac);

/* One bar of a share chart: column col of a table, drawn as its share of
 * the column's total over all rows (share) or as it is (a share already). */
typedef struct {
  const char *col, *name, *color;
  gboolean share;
} PcShareBar;
/* A grouped bar chart: one group per row of t (the first MAX_BARS), bar m
 * = bars[m]; bars at most bar_w wide; the y axis in percent up to the
 * largest bar rounded up to 10 %; a legend of the bars, then legend_tail;
 * heading (HTML, may be NULL) before the figure. Nothing at all when t is
 * empty or every value is 0. */
void pc_html_share_bars(GString *h, const PcTable *t, const PcShareBar *bars,
                        guint nb, double bar_w, const char *heading,
                        const char *aria, const char *legend_tail);
/* Chart label 812, 34.5k, 1.2M, 3.0G; nan, inf. buf: 32 bytes; returns buf. */
char *pc_html_short_num(char *buf, double v);
/* A horizontal bar of frac (clamped to 0..1; inf fills). cls: extra class
 * or "". */
void pc_html_bar(GString *h, double frac, const char *cls);
/* A bar of frac with the percentage label of label beside it. */
void pc_html_bar_pct(GString *h, double frac, double label, const char *cls);
/* A bar centred on 0 for v in [-1, 1]; not finite draws none. */
void pc_html_div_bar(GString *h, double v);
/* A path "a > b > c" as token chips: the first max, then "+N more". */
void pc_html_path_chips(GString *h, const char *path, guint max);
/* <td class="num" id="ID">text</td> (id may be NULL); an empty text gets
 * class "na". */
void pc_html_td(GString *h, const char *id, const char *text);
/* A table frame: cols NULL-terminated, a leading '#' right-aligns the
 * column; cls: extra class of the scroll box or "". */
void pc_html_thead_cls(GString *h, const char *const *cols, const char *cls);
void pc_html_thead(GString *h, const char *const *cols);
void pc_html_tfoot(GString *h);
/* <p class="note">…</p>; the text is not escaped (callers print numbers
 * and literals only). */
void pc_html_note(GString *h, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
/* A KPI card; id and hint may be NULL; all text is escaped. */
void pc_html_kpi(GString *h, const char *label, const char *id, const char *value, const char *hint);
/* The target's name in bold, or "the target". */
void pc_html_target(GString *h, const PcPage *p);
/* <!DOCTYPE …> to the end of the header: CSS, title, the summary line. */
void pc_html_head(GString *out, const PcPage *p);
/* <!DOCTYPE …>, the CSS, and the header up to its open sub line <p
 * class="sub">: the caller writes that line and closes with
 * "</p></div></header>". title and h1 are escaped. */
void pc_html_page_open(GString *out, const char *title, const char *h1);

/* ---- cells.c: table cells --------------------------------------------------- */

/* The table called name in in->tables, or NULL. */
const PcTable *pc_cell_table(const PcReportInput *in, const char *name);
/* Index of the column called name, or -1. */
gint pc_cell_col(const PcTable *t, const char *name);
/* The cell as csv/ writes it; "" when empty or out of range (t may be
 * NULL, col -1). Returns buf, a string of t, or a static "". buf: 32 bytes. */
const char *pc_cell_fmt(const PcTable *t, guint row, gint col, char *buf);
/* A string cell, "" when the column is absent or not a string. */
const char *pc_cell_s(const PcTable *t, guint row, const char *col);
/* A number for drawing (money in units); NAN when empty or absent. */
double pc_cell_d(const PcTable *t, guint row, const char *col);
/* An integer; 0 when empty or absent (a double is truncated). */
int64_t pc_cell_i(const PcTable *t, guint row, const char *col);
/* The cell of column col as a <td>, id "PREFIX-col" unless prefix is NULL. */
void pc_cell_td(GString *h, const PcTable *t, guint row, const char *col, const char *prefix);
/* Rows 0..n-1 of t as <tr>: column label (escaped, at most 63 bytes) in a
 * "lbl" cell, then the cells of the nnum columns num, ids "NAME-R-col"
 * (R 1-based): the body of a per-channel (or per-label) table. */
void pc_cell_label_rows(GString *h, const PcTable *t, guint n, const char *label,
                        const char *const *num, guint nnum, const char *name);
/* Row id prefix "NAME-R": R from the rank column, else the 1-based row.
 * Caller g_free()s. */
char *pc_cell_row_prefix(const PcTable *t, guint row, const char *name);

/* ---- rjson.c: JSON through json-glib ----------------------------------------- */

/* The root of text, or NULL when text is NULL, empty, not JSON, or nests
 * deeper than JSON_MAX_DEPTH. Caller json_node_unref()s. */
JsonNode *pc_rjson_parse(const char *text);
/* The member called name (taken whole, dots included) of an object node;
 * NULL when node is NULL, not an object, or has no such member. Borrowed. */
JsonNode *pc_rjson_member(JsonNode *node, const char *name);
/* The node at a dotted path of members ("plan.imbalance_cost"); for fixed
 * paths only (names from data may contain dots: use pc_rjson_member).
 * NULL as pc_rjson_member. Borrowed. */
JsonNode *pc_rjson_get(JsonNode *node, const char *path);
/* The array, object of node; NULL when node is NULL or another type. */
JsonArray *pc_rjson_array(JsonNode *node);
JsonObject *pc_rjson_object(JsonNode *node);
/* TRUE and *v when node is a JSON number (integer or not). */
gboolean pc_rjson_number(JsonNode *node, double *v);
/* TRUE and *v when node is a JSON integer >= 0. */
gboolean pc_rjson_u64(JsonNode *node, uint64_t *v);
/* A scalar as text: a string as is, an integer in decimal (as written), a
 * boolean true/false, another number by dfmt (a printf format of one
 * double; NULL: the shortest text that reads back the same). NULL for
 * null, containers and NULL. Caller g_free()s. */
char *pc_rjson_text(JsonNode *node, const char *dfmt);

#endif
