/* sec_paths.c - sections "journeys", "transitions" and "preceding" of
 * report.html (report_int.h), drawn from the path tables of spec §3-§4:
 * prefix_tree (the Sankey flow from the journey start), variants,
 * transitions with transition_gaps, preceding_paths and preceding_tokens.
 *
 * Owns the Sankey layout: which prefix-tree nodes are shown (the
 * SANKEY_PER_COL largest children of shown nodes, each at least 1% of all
 * journeys), the "other paths" node per column, and the geometry. Heights
 * and band widths are reach on one scale for the whole chart, so bands add
 * up. Ties in reach break by path, so the chart depends on the table only.
 */
#include "report_int.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

/* ---- journeys: the prefix-tree flow ------------------------------------------- */

typedef struct {
  const char *path, *label; /* borrowed from the table */
  int depth, parent;        /* parent: node index, -1 none */
  int64_t reach, end, target;
  gboolean shown, other;
  guint rank;               /* position in its column */
  double y, h, out, in;     /* layout, px */
} SNode;

typedef struct {
  int from, to;
  int64_t reach, target;
} SLink;

typedef struct {
  GArray *nodes;  /* SNode; 0 = journey start */
  GArray *links;  /* SLink, drawing order */
  GArray *col[SANKEY_DEPTH + 1]; /* node indices per depth, top to bottom */
  int64_t total;
  gboolean has_target;
  int depth;      /* deepest column drawn */
} Sankey;

/* Sankey geometry, in px of the SVG viewBox (the figure scales to the page) */
#define SK_W 1100.0
#define SK_LEFT 12.0
#define SK_RIGHT 190.0
#define SK_TOP 8.0
#define SK_PLOT_H 430.0
#define SK_GAP 10.0
#define SK_NODE_W 10.0

static void sankey_clear(Sankey *s) {
  g_array_free(s->nodes, TRUE);
  g_array_free(s->links, TRUE);
  for (int d = 0; d <= SANKEY_DEPTH; d++)
    if (s->col[d]) g_array_free(s->col[d], TRUE);
}

#define SN(s, i) (&g_array_index((s)->nodes, SNode, (i)))

/* Nodes of depth 1..SANKEY_DEPTH with their parents (path asc puts every
 * parent before its children, but we look parents up by path anyway). */
static void sankey_load(Sankey *s, const PcTable *t) {
  SNode start = {"", "Start", 0, -1, 0, 0, 0, TRUE, FALSE, 0, 0, 0, 0, 0};
  g_array_append_val(s->nodes, start);
  g_autoptr(GHashTable) idx = g_hash_table_new(g_str_hash, g_str_equal);
  for (guint r = 0; r < pc_table_nrows(t); r++) {
    int64_t d = pc_cell_i(t, r, "depth");
    if (d < 1 || d > SANKEY_DEPTH) continue;
    const char *path = pc_cell_s(t, r, "path"), *last = g_strrstr(path, " > ");
    SNode n = {path, last ? last + 3 : path, (int)d, -1, pc_cell_i(t, r, "reach"), pc_cell_i(t, r, "end"),
               pc_cell_i(t, r, "target"), FALSE, FALSE, 0, 0, 0, 0, 0};
    if (d == 1) n.parent = 0;
    if (last) {
      g_autofree char *up = g_strndup(path, (gsize)(last - path));
      gpointer v = g_hash_table_lookup(idx, up);
      n.parent = v ? GPOINTER_TO_INT(v) - 1 : -1;
    }
    if (d == 1) {
      s->total += n.reach;
      SN(s, 0)->target += n.target;
    }
    if (n.target > 0) s->has_target = TRUE;
    g_array_append_val(s->nodes, n);
    g_hash_table_insert(idx, (gpointer)path, GINT_TO_POINTER((int)s->nodes->len));
  }
  SN(s, 0)->reach = s->total;
}

static gint cmp_reach(gconstpointer a, gconstpointer b, gpointer data) {
  const SNode *x = &g_array_index((GArray *)data, SNode, *(const int *)a);
  const SNode *y = &g_array_index((GArray *)data, SNode, *(const int *)b);
  if (x->reach != y->reach) return x->reach > y->reach ? -1 : 1;
  return strcmp(x->path, y->path);
}

/* Column order: by the parent's place, then reach desc, so bands from one
 * parent stay together and never cross. */
static gint cmp_column(gconstpointer a, gconstpointer b, gpointer data) {
  const SNode *x = &g_array_index((GArray *)data, SNode, *(const int *)a);
  const SNode *y = &g_array_index((GArray *)data, SNode, *(const int *)b);
  guint px = g_array_index((GArray *)data, SNode, x->parent).rank;
  guint py = g_array_index((GArray *)data, SNode, y->parent).rank;
  if (px != py) return px < py ? -1 : 1;
  return cmp_reach(a, b, data);
}

/* Column d: the SANKEY_PER_COL largest children of shown nodes (at least
 * 1% of all journeys each: thinner bands are noise at this size), then one "other paths" node taking the rest
 * of the flow out of the shown parents. */
static void sankey_pick(Sankey *s, int d) {
  g_autoptr(GArray) cand = g_array_new(FALSE, FALSE, sizeof(int));
  for (guint i = 1; i < s->nodes->len; i++) {
    SNode *n = SN(s, i);
    if (n->depth == d && n->parent >= 0 && SN(s, n->parent)->shown && !SN(s, n->parent)->other)
      g_array_append_val(cand, i);
  }
  g_array_sort_with_data(cand, cmp_reach, s->nodes);
  GArray *col = s->col[d] = g_array_new(FALSE, FALSE, sizeof(int));
  g_autofree int64_t *rest = g_new0(int64_t, 2 * (gsize)s->nodes->len);
  gboolean any_rest = FALSE;
  for (guint k = 0; k < cand->len; k++) {
    int i = g_array_index(cand, int, k);
    SNode *n = SN(s, i);
    if (k < SANKEY_PER_COL && n->reach * 100 >= s->total && n->reach > 0) {
      n->shown = TRUE;
      g_array_append_val(col, i);
    } else if (n->reach > 0) {
      rest[2 * n->parent] += n->reach, rest[2 * n->parent + 1] += n->target;
      any_rest = TRUE;
    }
  }
  g_array_sort_with_data(col, cmp_column, s->nodes);
  for (guint k = 0; k < col->len; k++) {
    SNode *n = SN(s, g_array_index(col, int, k));
    n->rank = k;
    SLink l = {n->parent, g_array_index(col, int, k), n->reach, n->target};
    g_array_append_val(s->links, l);
  }
  if (!any_rest) return;
  SNode o = {"", "other paths", d, -1, 0, 0, 0, TRUE, TRUE, col->len, 0, 0, 0, 0};
  int oi = (int)s->nodes->len;
  GArray *prev = s->col[d - 1];
  for (guint k = 0; k < prev->len; k++) {
    int pi = g_array_index(prev, int, k);
    if (!rest[2 * pi]) continue;
    SLink l = {pi, oi, rest[2 * pi], rest[2 * pi + 1]};
    g_array_append_val(s->links, l);
    o.reach += l.reach, o.target += l.target;
  }
  g_array_append_val(s->nodes, o);
  g_array_append_val(col, oi);
}

/* Heights proportional to reach on one scale for every column. */
static double sankey_layout(Sankey *s) {
  guint maxn = 1;
  for (int d = 0; d <= s->depth; d++) maxn = MAX(maxn, s->col[d]->len);
  double scale = (SK_PLOT_H - (maxn - 1) * SK_GAP) / (double)s->total;
  for (int d = 0; d <= s->depth; d++) {
    double y = SK_TOP;
    for (guint k = 0; k < s->col[d]->len; k++) {
      SNode *n = SN(s, g_array_index(s->col[d], int, k));
      n->y = y;
      n->h = MAX(n->reach * scale, 1.0);
      y += n->h + SK_GAP;
    }
  }
  return scale;
}

static double sankey_x(const Sankey *s, int d) {
  return SK_LEFT + d * (SK_W - SK_LEFT - SK_RIGHT - SK_NODE_W) / MAX(s->depth, 1);
}

static void band(GString *h, double x0, double y0, double x1, double y1, double w, const char *cls) {
  double xm = (x0 + x1) / 2;
  g_string_append_printf(h, "<path class=\"%s\" d=\"M%.1f %.1fC%.1f %.1f %.1f %.1f %.1f %.1fL%.1f %.1fC%.1f %.1f %.1f %.1f %.1f %.1fZ\"/>",
                         cls, x0, y0, xm, y0, xm, y1, x1, y1, x1, y1 + w, xm, y1 + w, xm, y0 + w, x0, y0 + w);
}

static void sankey_links(Sankey *s, GString *h, double scale) {
  for (guint k = 0; k < s->links->len; k++) {
    SLink *l = &g_array_index(s->links, SLink, k);
    SNode *a = SN(s, l->from), *b = SN(s, l->to);
    double w = l->reach * scale, wt = l->target * scale;
    double x0 = sankey_x(s, a->depth) + SK_NODE_W, x1 = sankey_x(s, b->depth);
    double y0 = a->y + a->out, y1 = b->y + b->in;
    a->out += w, b->in += w;
    g_string_append(h, "<g>");
    band(h, x0, y0, x1, y1, w, b->other ? "lk lo" : "lk");
    if (wt > 0.05) band(h, x0, y0 + w - wt, x1, y1 + w - wt, wt, "lt");
    g_string_append_printf(h, "<title>%" PRId64 " journeys", l->reach);
    if (s->has_target) g_string_append_printf(h, ", %" PRId64 " reach the target", l->target);
    g_string_append(h, "</title></g>");
  }
}

static void sankey_node(Sankey *s, GString *h, const SNode *n) {
  double x = sankey_x(s, n->depth);
  char pb[32];
  g_string_append_printf(h, "<g><rect class=\"%s\" x=\"%.1f\" y=\"%.1f\" width=\"%.0f\" height=\"%.1f\" rx=\"2\"/><title>",
                         n->depth == 0 ? "nd ns" : n->other ? "nd no" : "nd", x, n->y, SK_NODE_W, n->h);
  pc_html_esc_max(h, n->depth == 0 ? "journey start" : n->other ? "other paths" : n->path, 1024);
  g_string_append_printf(h, "\nreach %" PRId64, n->reach);
  if (!n->other && n->depth) g_string_append_printf(h, ", end here %" PRId64, n->end);
  if (s->has_target) g_string_append_printf(h, ", reach the target %" PRId64, n->target);
  g_string_append(h, "</title>");
  if (n->h >= 13) {
    double ty = n->y + MIN(n->h / 2, 16.0) + 4;
    g_string_append_printf(h, "<text class=\"sl\" x=\"%.1f\" y=\"%.1f\"><tspan class=\"slt\">", x + SK_NODE_W + 5, ty);
    pc_html_esc_max(h, n->label, LABEL_BYTES);
    g_string_append_printf(h, "</tspan> %" PRId64 "</text>", n->reach);
    if (s->has_target && n->h >= 34 && n->reach > 0)
      g_string_append_printf(h, "<text class=\"sl sls\" x=\"%.1f\" y=\"%.1f\">%s to target</text>", x + SK_NODE_W + 5,
                             ty + 15, pc_html_pct(pb, (double)n->target / (double)n->reach));
  }
  g_string_append(h, "</g>");
}

static void sankey_svg(PcPage *p, Sankey *s) {
  double scale = sankey_layout(s), hmax = 0;
  for (guint i = 0; i < s->nodes->len; i++)
    if (SN(s, i)->shown) hmax = MAX(hmax, SN(s, i)->y + SN(s, i)->h);
  GString *h = p->h;
  g_string_append_printf(h, "<figure class=\"fig scroll-fig\"><svg class=\"sankey\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" aria-label=\"Flow of journeys from their start\">",
                         SK_W, hmax + SK_TOP + 4);
  sankey_links(s, h, scale);
  for (int d = 0; d <= s->depth; d++)
    for (guint k = 0; k < s->col[d]->len; k++) sankey_node(s, h, SN(s, g_array_index(s->col[d], int, k)));
  g_string_append(h, "</svg></figure><p class=\"legend\"><span class=\"sw\" style=\"background:#9db4c8\"></span>journeys (band width = reach)");
  if (s->has_target) {
    g_string_append(h, "<span class=\"sw\" style=\"background:#c8553d\"></span>of them, customers who reach ");
    pc_html_target(h, p);
  }
  g_string_append_printf(h, "<span class=\"sw\" style=\"background:#c9d1d9\"></span>other paths. Columns are steps 1 to %d from the journey start; hover a band for its counts.</p>",
                         s->depth);
}

/* Journeys in the named (not "other") nodes of column d. A column where
 * they are under a tenth of all journeys is mostly unlabeled slivers, and
 * the flow stops before it. */
static int64_t sankey_named(Sankey *s, int d) {
  int64_t sum = 0;
  for (guint k = 0; k < s->col[d]->len; k++)
    if (!SN(s, g_array_index(s->col[d], int, k))->other) sum += SN(s, g_array_index(s->col[d], int, k))->reach;
  return sum;
}

static void sankey_draw(PcPage *p, const PcTable *t) {
  Sankey s = {g_array_new(FALSE, TRUE, sizeof(SNode)), g_array_new(FALSE, FALSE, sizeof(SLink)), {NULL}, 0, FALSE, 0};
  sankey_load(&s, t);
  s.col[0] = g_array_new(FALSE, FALSE, sizeof(int));
  int zero = 0;
  g_array_append_val(s.col[0], zero);
  for (int d = 1; s.total > 0 && d <= SANKEY_DEPTH; d++) {
    guint nlinks = s.links->len;
    sankey_pick(&s, d);
    if (!s.col[d]->len || (d > 2 && sankey_named(&s, d) * 10 < s.total)) {
      g_array_set_size(s.links, nlinks);
      break;
    }
    s.depth = d;
  }
  if (s.depth > 0) {
    g_string_append(p->h, "<h3>Flow from the journey start</h3>");
    sankey_svg(p, &s);
  }
  sankey_clear(&s);
}

/* ---- journeys: variants --------------------------------------------------------- */

static void variants_table(PcPage *p, const PcTable *t) {
  static const char *const cols[] = {"#Rank", "#Journeys", "#Share", "", "#Length", "Path", NULL};
  guint n = MIN(pc_table_nrows(t), TOP_VARIANTS);
  double top = n ? pc_cell_d(t, 0, "share") : 0;
  g_string_append(p->h, "<h3>Most common journeys</h3>");
  pc_html_thead(p->h, cols);
  for (guint r = 0; r < n; r++) {
    g_autofree char *pre = pc_cell_row_prefix(t, r, "variants");
    g_string_append(p->h, "<tr>");
    pc_cell_td(p->h, t, r, "rank", NULL);
    pc_cell_td(p->h, t, r, "journeys", pre);
    pc_cell_td(p->h, t, r, "share", pre);
    g_string_append(p->h, "<td>");
    pc_html_bar_pct(p->h, top > 0 ? pc_cell_d(t, r, "share") / top : 0, pc_cell_d(t, r, "share"), "");
    g_string_append(p->h, "</td>");
    pc_cell_td(p->h, t, r, "length", pre);
    g_string_append(p->h, "<td class=\"path\">");
    pc_html_path_chips(p->h, pc_cell_s(t, r, "path"), PATH_TOKENS);
    g_string_append(p->h, "</td></tr>");
  }
  pc_html_tfoot(p->h);
  pc_html_note(p->h, "The %u most common of %u variants listed in csv/variants.csv (whole journeys, sorted by count).",
               n, pc_table_nrows(t));
}

gboolean pc_sec_journeys(PcPage *p) {
  const PcTable *tree = pc_cell_table(p->in, "prefix_tree"), *var = pc_cell_table(p->in, "variants");
  if (!tree && !var) return FALSE;
  g_string_append(p->h, "<p class=\"lede\">How journeys begin and which whole journeys are most common. In the flow, "
                        "each column is one step further from the first event; a band's width is the number of journeys "
                        "that take that path.</p>");
  if (tree) sankey_draw(p, tree);
  if (var) variants_table(p, var);
  return TRUE;
}

/* ---- transitions: the commonest steps with their gaps -------------------------------- */

typedef struct {
  guint row;   /* in transitions */
  gint gap;    /* in transition_gaps, -1 none */
  int64_t count;
} TransPick;

/* count desc, then table order: a total order, so the page depends on the
 * tables only. */
static int cmp_pick(const void *a, const void *b) {
  const TransPick *x = a, *y = b;
  if (x->count != y->count) return x->count > y->count ? -1 : 1;
  return x->row < y->row ? -1 : x->row > y->row;
}

/* The real pairs of transitions with their row in transition_gaps, which
 * lists them in the same order (a merge walk, names checked). */
static GArray *trans_picks(const PcTable *t, const PcTable *g) {
  GArray *v = g_array_new(FALSE, FALSE, sizeof(TransPick));
  guint gr = 0, gn = g ? pc_table_nrows(g) : 0;
  for (guint r = 0; r < pc_table_nrows(t); r++) {
    const char *from = pc_cell_s(t, r, "from"), *to = pc_cell_s(t, r, "to");
    if (!strcmp(from, "^") || !strcmp(to, "$")) continue;
    TransPick pk = {r, -1, pc_cell_i(t, r, "count")};
    if (gr < gn && !strcmp(pc_cell_s(g, gr, "from"), from) && !strcmp(pc_cell_s(g, gr, "to"), to)) pk.gap = (gint)gr++;
    g_array_append_val(v, pk);
  }
  g_array_sort(v, cmp_pick);
  return v;
}

gboolean pc_sec_transitions(PcPage *p) {
  static const char *const cols[] = {"From", "To", "#Count", "#Probability", "#Mean (s)", "#Median (s)",
                                     "#p90 (s)", NULL};
  const PcTable *t = pc_cell_table(p->in, "transitions"), *g = pc_cell_table(p->in, "transition_gaps");
  if (!t) return FALSE;
  g_autoptr(GArray) v = trans_picks(t, g);
  guint n = MIN(v->len, TOP_TRANSITIONS);
  g_string_append(p->h, "<p class=\"lede\">The most common moves from one event to the next, and how long customers take: "
                        "the mean hides a long tail that the median and the 90th percentile show.</p>");
  pc_html_thead(p->h, cols);
  for (guint i = 0; i < n; i++) {
    TransPick *pk = &g_array_index(v, TransPick, i);
    g_autofree char *pre = g_strdup_printf("transitions-%u", i + 1);
    g_string_append(p->h, "<tr><td class=\"lbl\">");
    pc_html_esc_max(p->h, pc_cell_s(t, pk->row, "from"), 40);
    g_string_append(p->h, "</td><td class=\"lbl\">");
    pc_html_esc_max(p->h, pc_cell_s(t, pk->row, "to"), 40);
    g_string_append(p->h, "</td>");
    pc_cell_td(p->h, t, pk->row, "count", pre);
    pc_cell_td(p->h, t, pk->row, "probability", pre);
    pc_cell_td(p->h, t, pk->row, "mean_gap_s", pre);
    if (pk->gap >= 0) {
      pc_cell_td(p->h, g, (guint)pk->gap, "median_s", pre);
      pc_cell_td(p->h, g, (guint)pk->gap, "p90_s", pre);
    } else {
      g_string_append(p->h, "<td class=\"num na\"></td><td class=\"num na\"></td>");
    }
    g_string_append(p->h, "</tr>");
  }
  pc_html_tfoot(p->h);
  pc_html_note(p->h, "The %u most common of %u transitions between events (journey start and end left out); "
               "csv/transitions.csv and csv/transition_gaps.csv have all.", n, v->len);
  return TRUE;
}

/* ---- before the outcome ------------------------------------------------------------ */

static void preceding_paths(PcPage *p, const PcTable *t) {
  static const char *const cols[] = {"#Rank", "#Customers", "#Share", "", "Last events before the target", NULL};
  guint n = MIN(pc_table_nrows(t), TOP_PRECEDING);
  double top = n ? pc_cell_d(t, 0, "share") : 0;
  g_string_append(p->h, "<h3>Paths into the target</h3>");
  pc_html_thead(p->h, cols);
  for (guint r = 0; r < n; r++) {
    g_autofree char *pre = pc_cell_row_prefix(t, r, "preceding_paths");
    g_string_append(p->h, "<tr>");
    pc_cell_td(p->h, t, r, "rank", NULL);
    pc_cell_td(p->h, t, r, "customers", pre);
    pc_cell_td(p->h, t, r, "share", pre);
    g_string_append(p->h, "<td>");
    pc_html_bar_pct(p->h, top > 0 ? pc_cell_d(t, r, "share") / top : 0, pc_cell_d(t, r, "share"), "red");
    g_string_append(p->h, "</td><td class=\"path\">");
    pc_html_path_chips(p->h, pc_cell_s(t, r, "path"), PATH_TOKENS);
    g_string_append(p->h, "</td></tr>");
  }
  pc_html_tfoot(p->h);
}

static void preceding_tokens(PcPage *p, const PcTable *t) {
  static const char *const cols[] = {"Event", "#Customers", "#Share", "", NULL};
  guint n = MIN(pc_table_nrows(t), TOP_TOKENS);
  g_string_append(p->h, "<h3>Events seen shortly before it</h3>");
  pc_html_thead_cls(p->h, cols, "narrow");
  for (guint r = 0; r < n; r++) {
    g_autofree char *pre = g_strdup_printf("preceding_tokens-%u", r + 1);
    g_string_append(p->h, "<tr><td>");
    pc_html_esc_max(p->h, pc_cell_s(t, r, "token"), 63);
    g_string_append(p->h, "</td>");
    pc_cell_td(p->h, t, r, "customers", pre);
    pc_cell_td(p->h, t, r, "share", pre);
    g_string_append(p->h, "<td>");
    pc_html_bar_pct(p->h, pc_cell_d(t, r, "share"), pc_cell_d(t, r, "share"), "red");
    g_string_append(p->h, "</td></tr>");
  }
  pc_html_tfoot(p->h);
}

gboolean pc_sec_preceding(PcPage *p) {
  const PcTable *pp = pc_cell_table(p->in, "preceding_paths"), *pt = pc_cell_table(p->in, "preceding_tokens");
  if (!pp && !pt) return FALSE;
  g_string_append(p->h, "<p class=\"lede\">The last events of customers who reach ");
  pc_html_target(p->h, p);
  g_string_append(p->h, ", before they do (the lookback window). Share is of all customers who reach it.</p>");
  if (pp) preceding_paths(p, pp);
  if (pt) preceding_tokens(p, pt);
  return TRUE;
}

