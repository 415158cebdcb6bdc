/* sec_flows.c - section "flows" of report.html (report_int.h), drawn from
 * flows.csv (spec §15): per anchor event, a Sankey centred on the anchor,
 * what customers did before it on the left and after it on the right, and
 * the most common paths of every flow.
 *
 * Owns the centred layout: for an anchor, the first flow (by name) with
 * direction "before" and the first with "after" (run.json's job.flow says
 * which; without run.json a flow whose paths include "^" is a "before"
 * flow). Nodes are outward prefixes of the listed paths (the top k of
 * flows.csv, so thinner paths may be missing), weighted by customers; per
 * column the FLOW_PER_COL heaviest children of drawn nodes with at least
 * 1% of the anchor's customers, FLOW_DEPTH columns a side (so labels
 * fit). Heights are customers on one scale, so bands add up; ties break by
 * path, so the chart depends on the table only.
 * Does not own the page frame (report.c) nor the cells (cells.c).
 */
#include "report_int.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

#define FL_W 1300.0
#define FL_TOP 8.0
#define FL_PLOT_H 380.0
#define FL_GAP 8.0
#define FL_NODE_W 10.0
#define FL_SIDE (FL_W / 2 - 170) /* centre to the outermost column; labels beyond */

typedef struct {
  char *key;          /* side, then the outward prefix, owned */
  char *label;        /* the prefix's outermost token, owned */
  int side, depth, parent; /* side -1 before, +1 after; parent index */
  double w, wy;       /* customers, of them with the outcome */
  gboolean shown;
  guint rank;
  double y, h;        /* layout: top, height */
  double off[2];      /* band offsets used on the left and right edges */
} FNode;

typedef struct {
  GArray *nodes;      /* FNode; 0 = the anchor */
  GHashTable *idx;    /* key -> index + 1 */
  double total;       /* customers with the anchor */
  int depth[2];       /* columns drawn before / after */
  gboolean has_rate;
} Flow;

#define FN(f, i) (&g_array_index((f)->nodes, FNode, (i)))

/* The node of key (created with its label and parent when new). */
static int flow_node(Flow *f, const char *key, const char *label, int side,
                     int depth, int parent) {
  gpointer v = g_hash_table_lookup(f->idx, key);
  if (v) return GPOINTER_TO_INT(v) - 1;
  FNode n = {g_strdup(key), g_strdup(label), side, depth, parent, 0, 0, FALSE, 0, 0, 0, {0, 0}};
  g_array_append_val(f->nodes, n);
  g_hash_table_insert(f->idx, n.key, GINT_TO_POINTER((int)f->nodes->len));
  return (int)f->nodes->len - 1;
}

/* Adds rows [a, b) of a flow on one side: each path's outward prefixes. */
static void flow_load(Flow *f, const PcTable *t, guint a, guint b, int side) {
  for (guint r = a; r < b; r++) {
    double c = pc_cell_d(t, r, "customers"), rate = pc_cell_d(t, r, "outcome_rate");
    double share = pc_cell_d(t, r, "share");
    if (r == a && share > 0) f->total = MAX(f->total, round(c / share));
    if (isfinite(rate)) f->has_rate = TRUE;
    g_auto(GStrv) tok = g_strsplit(pc_cell_s(t, r, "path"), " > ", -1);
    guint n = g_strv_length(tok);
    g_autoptr(GString) key = g_string_new(side < 0 ? "<" : ">");
    int parent = 0;
    for (guint d = 1; d <= MIN(n, (guint)FLOW_DEPTH); d++) {
      const char *t1 = tok[side < 0 ? n - d : d - 1];
      g_string_append_printf(key, "\x1f%s", t1);
      int i = flow_node(f, key->str, t1, side, (int)d, parent);
      FNode *nd = FN(f, i);
      nd->w += c;
      nd->wy += isfinite(rate) ? c * rate : 0;
      parent = i;
    }
  }
}

static gint cmp_weight(gconstpointer a, gconstpointer b, gpointer data) {
  const FNode *x = &g_array_index((GArray *)data, FNode, *(const int *)a);
  const FNode *y = &g_array_index((GArray *)data, FNode, *(const int *)b);
  if (x->w != y->w) return x->w > y->w ? -1 : 1;
  return strcmp(x->key, y->key);
}

/* Column order: by the parent's place, then weight desc. */
static gint cmp_place(gconstpointer a, gconstpointer b, gpointer data) {
  const FNode *x = &g_array_index((GArray *)data, FNode, *(const int *)a);
  const FNode *y = &g_array_index((GArray *)data, FNode, *(const int *)b);
  guint px = g_array_index((GArray *)data, FNode, x->parent).rank;
  guint py = g_array_index((GArray *)data, FNode, y->parent).rank;
  if (px != py) return px < py ? -1 : 1;
  return cmp_weight(a, b, data);
}

/* Picks column (side, d): the heaviest children of drawn nodes. */
static GArray *flow_pick(Flow *f, int side, int d) {
  GArray *col = g_array_new(FALSE, FALSE, sizeof(int));
  for (guint i = 1; i < f->nodes->len; i++) {
    FNode *n = FN(f, i);
    if (n->side == side && n->depth == d && FN(f, n->parent)->shown) g_array_append_val(col, i);
  }
  g_array_sort_with_data(col, cmp_weight, f->nodes);
  guint keep = 0;
  while (keep < col->len && keep < FLOW_PER_COL &&
         FN(f, g_array_index(col, int, keep))->w * 100 >= f->total)
    keep++;
  g_array_set_size(col, keep);
  g_array_sort_with_data(col, cmp_place, f->nodes);
  for (guint k = 0; k < col->len; k++) {
    FN(f, g_array_index(col, int, k))->shown = TRUE;
    FN(f, g_array_index(col, int, k))->rank = k;
  }
  return col;
}

static double flow_x(const Flow *f, int side, int d) {
  double c = FL_W / 2 - FL_NODE_W / 2;
  int n = MAX(f->depth[side > 0], 1);
  return c + side * d * FL_SIDE / n;
}

/* Heights on one scale: the anchor is every customer with it. Returns
 * the scale (px per customer). */
static double flow_layout(Flow *f, GArray **cols, guint ncols, double *hmax) {
  guint maxn = 1;
  for (guint c = 0; c < ncols; c++) maxn = MAX(maxn, cols[c]->len);
  double scale = (FL_PLOT_H - (maxn - 1) * FL_GAP) / f->total;
  FNode *a = FN(f, 0);
  a->y = FL_TOP, a->h = MAX(f->total * scale, 1.0);
  *hmax = a->y + a->h;
  for (guint c = 0; c < ncols; c++) {
    double y = FL_TOP;
    for (guint k = 0; k < cols[c]->len; k++) {
      FNode *n = FN(f, g_array_index(cols[c], int, k));
      n->y = y, n->h = MAX(n->w * scale, 1.0);
      y += n->h + FL_GAP;
    }
    *hmax = MAX(*hmax, y);
  }
  return scale;
}

static void band(GString *h, double x0, double y0, double x1, double y1, double w,
                 const char *cls) {
  double xm = (x0 + x1) / 2;
  g_string_append_printf(h, "<path class=\"%s\" d=\"M%.1f %.1fC%.1f %.1f %.1f %.1f %.1f %.1fL%.1f %.1fC%.1f %.1f %.1f %.1f %.1f %.1fZ\"/>",
                         cls, x0, y0, xm, y0, xm, y1, x1, y1, x1, y1 + w, xm, y1 + w, xm, y0 + w, x0, y0 + w);
}

/* The band between a drawn node and its parent, in the reading direction:
 * before-side bands run from the node to its parent's left edge, after-side
 * from the parent's right edge to the node; children stack on that edge. */
static void flow_link(Flow *f, GString *h, int i, double scale) {
  FNode *n = FN(f, i), *p = FN(f, n->parent);
  int e = n->side > 0;
  double w = n->w * scale, wy = n->wy * scale, py = p->y + p->off[e];
  p->off[e] += w;
  double xn = flow_x(f, n->side, n->depth), xp = flow_x(f, p->side, p->depth);
  double x0 = n->side < 0 ? xn + FL_NODE_W : xp + FL_NODE_W, x1 = n->side < 0 ? xp : xn;
  double y0 = n->side < 0 ? n->y : py, y1 = n->side < 0 ? py : n->y;
  g_string_append(h, "<g>");
  band(h, x0, y0, x1, y1, w, "lk");
  if (wy > 0.05) band(h, x0, y0 + w - wy, x1, y1 + w - wy, wy, "lt");
  g_string_append_printf(h, "<title>%.0f customers", n->w);
  if (f->has_rate) g_string_append_printf(h, ", %.0f reach the target", n->wy);
  g_string_append(h, "</title></g>");
}

static void flow_label(GString *h, const FNode *n) {
  if (!strcmp(n->label, "$")) g_string_append(h, "journey end");
  else if (!strcmp(n->label, "^")) g_string_append(h, "journey start");
  else pc_html_esc_max(h, n->label, LABEL_BYTES);
}

static void flow_nodes(Flow *f, GString *h, const char *anchor) {
  for (guint i = 0; i < f->nodes->len; i++) {
    const FNode *n = FN(f, i);
    if (!n->shown) continue;
    double x = flow_x(f, n->side, n->depth);
    g_string_append_printf(h, "<g><rect class=\"nd%s\" x=\"%.1f\" y=\"%.1f\" width=\"%.0f\" height=\"%.1f\" rx=\"2\"/><title>",
                           i ? "" : " ns", x, n->y, FL_NODE_W, n->h);
    if (i) flow_label(h, n);
    else pc_html_esc_max(h, anchor, 63);
    g_string_append_printf(h, "\n%.0f customers</title>", n->w);
    if (n->h >= 13) {
      double tx = n->side < 0 ? x - 5 : x + FL_NODE_W + 5;
      g_string_append_printf(h, "<text class=\"sl\" x=\"%.1f\" y=\"%.1f\"%s><tspan class=\"slt\">", tx,
                             n->y + MIN(n->h / 2, 16.0) + 4, n->side < 0 ? " text-anchor=\"end\"" : "");
      if (i) flow_label(h, n);
      else pc_html_esc_max(h, anchor, LABEL_BYTES);
      g_string_append_printf(h, "</tspan> %.0f</text>", n->w);
    }
  }
}

/* Draws the centred chart of one anchor from its before and after rows. */
static void flow_chart(PcPage *p, const PcTable *t, const char *anchor,
                       const guint *before, const guint *after) {
  Flow f = {g_array_new(FALSE, TRUE, sizeof(FNode)), g_hash_table_new(g_str_hash, g_str_equal), 0, {0, 0}, FALSE};
  flow_node(&f, "", anchor, 0, 0, -1);
  FN(&f, 0)->shown = TRUE;
  if (before) flow_load(&f, t, before[0], before[1], -1);
  if (after) flow_load(&f, t, after[0], after[1], +1);
  FN(&f, 0)->w = f.total;
  GArray *cols[2 * FLOW_DEPTH];
  guint nc = 0;
  for (int s = -1; s <= 1; s += 2)
    for (int d = 1; f.total > 0 && d <= FLOW_DEPTH; d++) {
      GArray *c = flow_pick(&f, s, d);
      if (!c->len) {
        g_array_free(c, TRUE);
        break;
      }
      cols[nc++] = c;
      f.depth[s > 0] = d;
    }
  if (nc) {
    double hmax, scale = flow_layout(&f, cols, nc, &hmax);
    g_string_append_printf(p->h, "<figure class=\"fig scroll-fig\"><svg class=\"sankey\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" aria-label=\"Paths before and after an event\">", FL_W, hmax + 4);
    for (guint c = 0; c < nc; c++)
      for (guint k = 0; k < cols[c]->len; k++) flow_link(&f, p->h, g_array_index(cols[c], int, k), scale);
    flow_nodes(&f, p->h, anchor);
    g_string_append(p->h, "</svg></figure>");
  }
  for (guint c = 0; c < nc; c++) g_array_free(cols[c], TRUE);
  for (guint i = 0; i < f.nodes->len; i++) {
    g_free(FN(&f, i)->key);
    g_free(FN(&f, i)->label);
  }
  g_array_free(f.nodes, TRUE);
  g_hash_table_unref(f.idx);
}

/* ---- flows by name ----------------------------------------------------------- */

typedef struct {
  const char *name, *anchor;
  gboolean before;
  guint a, b;   /* rows */
  gboolean drawn;
} FlowRows;

/* Direction and anchor of a flow from run.json, else from its paths. */
static void flow_meta(PcPage *p, const PcTable *t, FlowRows *fr) {
  JsonNode *j = pc_rjson_member(pc_rjson_get(p->run, "job.flow"), fr->name);
  g_autofree char *dir = pc_rjson_text(pc_rjson_member(j, "direction"), NULL);
  g_autofree char *anchor = pc_rjson_text(pc_rjson_member(j, "anchor"), NULL);
  fr->anchor = anchor ? g_intern_string(anchor) : fr->name;
  if (dir) {
    fr->before = !strcmp(dir, "before");
    return;
  }
  for (guint r = fr->a; r < fr->b; r++)
    if (!strcmp(pc_cell_s(t, r, "path"), "^")) fr->before = TRUE;
}

static void flow_table(PcPage *p, const PcTable *t, const FlowRows *fr) {
  static const char *const cols[] = {"#Rank", "#Customers", "#Share", "", "#Outcome rate", "Path", NULL};
  guint n = MIN(fr->b - fr->a, TOP_FLOWS);
  g_string_append(p->h, "<h4>");
  pc_html_esc_max(p->h, fr->name, 63);
  g_string_append_printf(p->h, ": %s ", fr->before ? "the events before" : "the events after");
  pc_html_esc_max(p->h, fr->anchor, 63);
  g_string_append(p->h, "</h4>");
  pc_html_thead(p->h, cols);
  g_autofree char *fid = pc_html_id_of(fr->name);
  for (guint r = fr->a; r < fr->a + n; r++) {
    g_autofree char *pre = g_strdup_printf("flow-%s-%u", fid, r - fr->a + 1);
    const char *path = pc_cell_s(t, r, "path");
    g_string_append(p->h, "<tr>");
    pc_cell_td(p->h, t, r, "rank", NULL);
    pc_cell_td(p->h, t, r, "customers", pre);
    pc_cell_td(p->h, t, r, "share", pre);
    g_string_append(p->h, "<td>");
    pc_html_bar_pct(p->h, pc_cell_d(t, r, "share"), pc_cell_d(t, r, "share"), "");
    g_string_append(p->h, "</td>");
    if (p->target) {
      pc_cell_td(p->h, t, r, "outcome_rate", pre);
    } else { /* no target: csv/ leaves it empty, results.h5 has nan */
      g_autofree char *id = g_strdup_printf("%s-outcome_rate", pre);
      pc_html_td(p->h, id, "");
    }
    g_string_append(p->h, "<td class=\"path\">");
    if (!strcmp(path, "$")) g_string_append(p->h, "<span class=\"tok start\">journey end</span>");
    else pc_html_path_chips(p->h, path, PATH_TOKENS);
    g_string_append(p->h, "</td></tr>");
  }
  pc_html_tfoot(p->h);
}

/* The runs of rows per flow (flows.csv is in flow name order). */
static GArray *flow_runs(PcPage *p, const PcTable *t) {
  GArray *runs = g_array_new(FALSE, TRUE, sizeof(FlowRows));
  guint nr = pc_table_nrows(t);
  for (guint a = 0; a < nr && runs->len < MAX_FUNNELS;) {
    guint b = a + 1;
    while (b < nr && !strcmp(pc_cell_s(t, b, "flow"), pc_cell_s(t, a, "flow"))) b++;
    FlowRows fr = {pc_cell_s(t, a, "flow"), NULL, FALSE, a, b, FALSE};
    flow_meta(p, t, &fr);
    g_array_append_val(runs, fr);
    a = b;
  }
  return runs;
}

/* One chart per anchor: its first before flow and first after flow. */
static void flow_charts(PcPage *p, const PcTable *t, GArray *runs) {
  for (guint i = 0; i < runs->len; i++) {
    FlowRows *fi = &g_array_index(runs, FlowRows, i);
    if (fi->drawn) continue;
    const guint *side[2] = {NULL, NULL};
    guint rows[2][2];
    for (guint j = i; j < runs->len; j++) {
      FlowRows *fj = &g_array_index(runs, FlowRows, j);
      if (fj->drawn || fj->anchor != fi->anchor || side[!fj->before]) continue;
      rows[!fj->before][0] = fj->a, rows[!fj->before][1] = fj->b;
      side[!fj->before] = rows[!fj->before];
      fj->drawn = TRUE;
    }
    g_string_append(p->h, "<h3>Around ");
    pc_html_esc_max(p->h, fi->anchor, 63);
    g_string_append(p->h, "</h3>");
    flow_chart(p, t, fi->anchor, side[0], side[1]);
  }
}

gboolean pc_sec_flows(PcPage *p) {
  const PcTable *t = pc_cell_table(p->in, "flows");
  if (!t) return FALSE;
  g_string_append(p->h, "<p class=\"lede\">What customers do right before and right after an event (the anchor, at its "
                        "first occurrence in each journey). The chart is centred on the anchor: paths before it on the "
                        "left, after it on the right; a band's width is the number of customers on that path");
  if (pc_table_nrows(t) && isfinite(pc_cell_d(t, 0, "outcome_rate"))) {
    g_string_append(p->h, ", its red part those who reach ");
    pc_html_target(p->h, p);
  }
  g_string_append(p->h, ".</p>");
  g_autoptr(GArray) runs = flow_runs(p, t);
  flow_charts(p, t, runs);
  for (guint i = 0; i < runs->len; i++) flow_table(p, t, &g_array_index(runs, FlowRows, i));
  pc_html_note(p->h, "The charts draw the paths listed in csv/flows.csv (the most common per flow); the tables show the first %u of each.",
               TOP_FLOWS);
  return TRUE;
}
