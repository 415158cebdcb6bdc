/* diff_page.c - DIR/report.html of `parcours diff` (pc_diff_render,
 * pc_diff.h): one self-contained page of the largest changes between two
 * runs: the summary, the funnel steps whose conversion moved most (with
 * the z test), the drivers whose lift moved most, NPS, attribution,
 * segments, the variants that entered or left the top, and the tables and
 * job settings found on one side only.
 *
 * Owns which rows the page shows and in what order (largest absolute
 * delta first, ties in table order). Reuses the report's page helpers
 * (page.c: head, CSS, cells, bars, chips, escaping). Pure: diff tables in,
 * a string out; no file, no MPI, no HDF5.
 *
 * Invariants: every number in a table cell is the text of a diff table
 * (itself the text csv/ wrote); every string goes through pc_html_esc*;
 * every list is capped (TOP_ and MAX_ of report_int.h, DIFF_TOP below).
 */
#include "pc_diff.h"
#include "report_int.h"

#include <math.h>
#include <stdlib.h>

#define DIFF_TOP 20     /* rows of the "largest changes" tables */
#define VARIANTS_TOP 20 /* "the top": variants of rank <= this */

typedef gboolean (*DiffSection)(GString *h, const PcDiffPage *in);

static const PcTable *table_of(const PcDiffPage *in, const char *name) {
  for (guint i = 0; in->tables && i < in->tables->len; i++)
    if (!strcmp(pc_table_name(g_ptr_array_index(in->tables, i)), name))
      return g_ptr_array_index(in->tables, i);
  return NULL;
}

/* A cell as a number: NAN when empty or not a number. */
static double num(const PcTable *t, guint r, const char *col) {
  const char *s = pc_cell_s(t, r, col);
  char *end = NULL;
  double v = *s ? g_ascii_strtod(s, &end) : NAN;
  return end && !*end ? v : NAN;
}

typedef struct {
  guint row;
  double key;
} Ranked;

static int cmp_ranked(const void *a, const void *b) {
  const Ranked *x = a, *y = b;
  if (x->key != y->key) return x->key > y->key ? -1 : 1;
  return x->row < y->row ? -1 : x->row > y->row;
}

/* Rows of t with a finite delta in col (and, with skip_step1, not step 1),
 * by |delta| desc then row; at most max. *n (OUT) rows. Caller g_free()s. */
static Ranked *largest(const PcTable *t, const char *col, gboolean skip_step1,
                       guint max, guint *n) {
  Ranked *r = g_new0(Ranked, pc_table_nrows(t) + 1);
  guint k = 0;
  for (guint i = 0; i < pc_table_nrows(t); i++) {
    double d = num(t, i, col);
    if (!isfinite(d) || (skip_step1 && !strcmp(pc_cell_s(t, i, "step"), "1"))) continue;
    r[k++] = (Ranked){i, fabs(d)};
  }
  qsort(r, k, sizeof *r, cmp_ranked);
  *n = MIN(k, max);
  return r;
}

/* <td>s of col_prev, col_cur, col_delta. */
static void tds3(GString *h, const PcTable *t, guint r, const char *col) {
  static const char *const w[] = {"prev", "cur", "delta"};
  for (guint i = 0; i < 3; i++) {
    g_autofree char *c = g_strdup_printf("%s_%s", col, w[i]);
    pc_html_td(h, NULL, pc_cell_s(t, r, c));
  }
}

static void td_text(GString *h, const char *s) {
  g_string_append(h, "<td>");
  pc_html_esc_max(h, s, 80);
  g_string_append(h, "</td>");
}

/* ---- sections ---------------------------------------------------------------------- */

static gboolean sec_overview(GString *h, const PcDiffPage *in) {
  const PcTable *t = table_of(in, "summary_diff");
  if (!t) return FALSE;
  g_string_append(h, "<p class=\"lede\">summary.csv of both runs: the current value, and the previous one with the change.</p><div class=\"kpis\">");
  for (guint r = 0; r < pc_table_nrows(t); r++) {
    g_autofree char *hint = g_strdup_printf("was %s, change %s", *pc_cell_s(t, r, "value_prev") ? pc_cell_s(t, r, "value_prev") : "\xe2\x80\x93",
                                            *pc_cell_s(t, r, "value_delta") ? pc_cell_s(t, r, "value_delta") : "\xe2\x80\x93");
    const char *cur = pc_cell_s(t, r, "value_cur");
    pc_html_kpi(h, pc_cell_s(t, r, "key"), NULL, *cur ? cur : "\xe2\x80\x93", hint);
  }
  g_string_append(h, "</div>");
  return TRUE;
}

static gboolean sec_funnels(GString *h, const PcDiffPage *in) {
  static const char *const cols[] = {"funnel", "split", "#step", "token", "#customers now", "#conv_first before",
                                     "#now", "#change", "", "#z", "#p_value", NULL};
  const PcTable *t = table_of(in, "funnels_diff");
  guint n;
  if (!t) return FALSE;
  g_autofree Ranked *r = largest(t, "conv_first_delta", TRUE, DIFF_TOP, &n);
  g_string_append(h, "<p class=\"lede\">The funnel steps whose conversion from step 1 moved most, with the two-proportion z test "
                     "(pooled proportion, two-sided p-value). Every row is in csv/funnels_diff.csv.</p>");
  pc_html_thead(h, cols);
  for (guint i = 0; i < n; i++) {
    guint row = r[i].row;
    g_string_append(h, "<tr>");
    td_text(h, pc_cell_s(t, row, "funnel"));
    td_text(h, pc_cell_s(t, row, "split"));
    pc_html_td(h, NULL, pc_cell_s(t, row, "step"));
    td_text(h, pc_cell_s(t, row, "token"));
    pc_html_td(h, NULL, pc_cell_s(t, row, "customers_cur"));
    tds3(h, t, row, "conv_first");
    g_string_append(h, "<td>");
    pc_html_div_bar(h, num(t, row, "conv_first_delta"));
    g_string_append(h, "</td>");
    pc_html_td(h, NULL, pc_cell_s(t, row, "z"));
    pc_html_td(h, NULL, pc_cell_s(t, row, "p_value"));
    g_string_append(h, "</tr>");
  }
  pc_html_tfoot(h);
  if (!n) pc_html_note(h, "No step 2 or later is present in both runs.");
  return TRUE;
}

/* The drivers table name, by |lift_delta|. */
static void drivers_table(GString *h, const PcTable *t, const char *first) {
  const char *cols[] = {first, "#lift before", "#now", "#change", "#rate_with before", "#now", "#change",
                        "#customers now", NULL};
  guint n;
  g_autofree Ranked *r = largest(t, "lift_delta", FALSE, DIFF_TOP, &n);
  pc_html_thead(h, cols);
  for (guint i = 0; i < n; i++) {
    g_string_append(h, "<tr>");
    td_text(h, pc_cell_s(t, r[i].row, first));
    tds3(h, t, r[i].row, "lift");
    tds3(h, t, r[i].row, "rate_with");
    pc_html_td(h, NULL, pc_cell_s(t, r[i].row, "customers_cur"));
    g_string_append(h, "</tr>");
  }
  pc_html_tfoot(h);
}

static gboolean sec_drivers(GString *h, const PcDiffPage *in) {
  const PcTable *t = table_of(in, "drivers_diff"), *c = table_of(in, "channel_drivers_diff");
  if (!t && !c) return FALSE;
  g_string_append(h, "<p class=\"lede\">The drivers of the outcome whose lift moved most (tokens, then channels).</p>");
  if (t) drivers_table(h, t, "token");
  if (c) {
    g_string_append(h, "<h3>Channels</h3>");
    drivers_table(h, c, "channel");
  }
  return TRUE;
}

/* All rows (capped), in table order, for small per-channel tables. */
static gboolean sec_rows(GString *h, const PcDiffPage *in, const char *name,
                         const char *first, const char *const *cmp,
                         const char *lede) {
  const PcTable *t = table_of(in, name);
  if (!t) return FALSE;
  g_autoptr(GPtrArray) cols = g_ptr_array_new_with_free_func(g_free);
  g_ptr_array_add(cols, g_strdup(first));
  for (guint k = 0; cmp[k]; k++) {
    g_ptr_array_add(cols, g_strdup_printf("#%s before", cmp[k]));
    g_ptr_array_add(cols, g_strdup("#now"));
    g_ptr_array_add(cols, g_strdup("#change"));
  }
  g_ptr_array_add(cols, NULL);
  g_string_append_printf(h, "<p class=\"lede\">%s</p>", lede);
  pc_html_thead(h, (const char *const *)cols->pdata);
  for (guint r = 0; r < pc_table_nrows(t) && r < MAX_ROWS; r++) {
    g_string_append(h, "<tr>");
    td_text(h, pc_cell_s(t, r, first));
    for (guint k = 0; cmp[k]; k++) tds3(h, t, r, cmp[k]);
    g_string_append(h, "</tr>");
  }
  pc_html_tfoot(h);
  return TRUE;
}

static gboolean sec_nps(GString *h, const PcDiffPage *in) {
  static const char *const cmp[] = {"responses", "nps", NULL};
  return sec_rows(h, in, "nps_diff", "channel", cmp, "NPS per channel of the fee waiver or contact before each response (spec §6).");
}

static gboolean sec_attribution(GString *h, const PcDiffPage *in) {
  static const char *const cmp[] = {"first_touch", "last_touch", "markov_share", NULL};
  return sec_rows(h, in, "attribution_diff", "channel", cmp, "Channel credit: first and last touch, and the Markov share (spec §8).");
}

static gboolean sec_segments(GString *h, const PcDiffPage *in) {
  static const char *const cmp[] = {"customers", "outcome_rate", "revenue", NULL};
  return sec_rows(h, in, "segments_diff", "segment", cmp, "Customers, outcome rate and revenue per segment (spec §12).");
}

static gboolean in_top(const PcTable *t, guint r, const char *col) {
  double v = num(t, r, col);
  return isfinite(v) && v <= VARIANTS_TOP;
}

/* Variants of rank <= VARIANTS_TOP on one side only; entering: in CUR's
 * top and not in PREV's. */
static guint variant_rows(GString *h, const PcTable *t, gboolean entering) {
  guint n = 0;
  for (guint r = 0; r < pc_table_nrows(t) && n < DIFF_TOP; r++) {
    if (in_top(t, r, entering ? "rank_cur" : "rank_prev") == in_top(t, r, entering ? "rank_prev" : "rank_cur"))
      continue;
    if (!in_top(t, r, entering ? "rank_cur" : "rank_prev")) continue;
    g_string_append_printf(h, "<tr><td>%s</td><td class=\"path\">", entering ? "in" : "out");
    pc_html_path_chips(h, pc_cell_s(t, r, "path"), PATH_TOKENS);
    g_string_append(h, "</td>");
    pc_html_td(h, NULL, pc_cell_s(t, r, "rank_prev"));
    pc_html_td(h, NULL, pc_cell_s(t, r, "rank_cur"));
    pc_html_td(h, NULL, pc_cell_s(t, r, "journeys_prev"));
    pc_html_td(h, NULL, pc_cell_s(t, r, "journeys_cur"));
    g_string_append(h, "</tr>");
    n++;
  }
  return n;
}

static gboolean sec_variants(GString *h, const PcDiffPage *in) {
  static const char *const cols[] = {"", "path", "#rank before", "#now", "#journeys before", "#now", NULL};
  const PcTable *t = table_of(in, "variants_diff");
  if (!t) return FALSE;
  g_string_append_printf(h, "<p class=\"lede\">Journey variants that moved into (in) or out of (out) the top %d. "
                            "An empty rank: the variant is not among that run's output.top_k.</p>", VARIANTS_TOP);
  pc_html_thead(h, cols);
  guint n = variant_rows(h, t, TRUE) + variant_rows(h, t, FALSE);
  pc_html_tfoot(h);
  if (!n) pc_html_note(h, "The same variants make the top %d in both runs.", VARIANTS_TOP);
  return TRUE;
}

static void name_list(GString *h, const char *what, GPtrArray *names) {
  g_string_append_printf(h, "<p><b>%s:</b> ", what);
  for (guint i = 0; i < names->len; i++) {
    if (i) g_string_append(h, ", ");
    pc_html_esc(h, g_ptr_array_index(names, i));
  }
  if (!names->len) g_string_append(h, "none");
  g_string_append(h, "</p>");
}

static gboolean sec_setup(GString *h, const PcDiffPage *in) {
  static const char *const cols[] = {"setting", "before", "now", NULL};
  g_string_append(h, "<p class=\"lede\">Tables written by one run only, and the job settings (run.json) that differ.</p>");
  name_list(h, "Tables only in the previous run", in->only_prev);
  name_list(h, "Tables only in the current run", in->only_cur);
  pc_html_thead_cls(h, cols, "narrow");
  for (guint i = 0; in->job && i + 2 < in->job->len && i / 3 < MAX_ROWS; i += 3) {
    g_string_append(h, "<tr>");
    for (guint k = 0; k < 3; k++) td_text(h, g_ptr_array_index(in->job, i + k));
    g_string_append(h, "</tr>");
  }
  pc_html_tfoot(h);
  return TRUE;
}

/* ---- the page ------------------------------------------------------------------------ */

static const struct {
  const char *id, *title;
  DiffSection render;
} sections[] = {
    {"overview", "Overview", sec_overview},
    {"funnels", "Funnel steps", sec_funnels},
    {"drivers", "Drivers", sec_drivers},
    {"nps", "NPS", sec_nps},
    {"attribution", "Attribution", sec_attribution},
    {"segments", "Segments", sec_segments},
    {"variants", "Top variants", sec_variants},
    {"setup", "Tables and settings", sec_setup},
};

char *pc_diff_render(const PcDiffPage *in) {
  g_return_val_if_fail(in != NULL, NULL);
  g_autoptr(GString) body = g_string_new(NULL);
  g_autoptr(GString) nav = g_string_new(NULL);
  for (guint i = 0; i < G_N_ELEMENTS(sections); i++) {
    gsize mark = body->len;
    g_string_append_printf(body, "<section id=\"%s\"><h2>%s</h2>", sections[i].id, sections[i].title);
    if (!sections[i].render(body, in)) {
      g_string_truncate(body, mark);
      continue;
    }
    g_string_append(body, "</section>\n");
    g_string_append_printf(nav, "<a href=\"#%s\">%s</a>", sections[i].id, sections[i].title);
  }
  GString *out = g_string_sized_new(body->len + 16384);
  pc_html_page_open(out, "parcours diff", "What changed since the previous run");
  g_string_append(out, "before: ");
  pc_html_esc_max(out, in->prev, 200);
  g_string_append(out, " \xc2\xb7 now: ");
  pc_html_esc_max(out, in->cur, 200);
  g_string_append_printf(out, "</p></div></header>\n<nav class=\"toc\"><div class=\"wrap\">%s</div></nav>\n<main class=\"wrap\">\n", nav->str);
  g_string_append_len(out, body->str, (gssize)body->len);
  g_string_append(out, "</main><footer class=\"wrap\">Every number in a table is a cell of DIR/csv/*_diff.csv, written as in csv/. "
                       "Written by parcours diff.</footer></body></html>\n");
  g_assert(out->len < PC_REPORT_MAX_BYTES);
  return g_string_free(out, FALSE);
}
