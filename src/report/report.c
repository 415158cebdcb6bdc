/* report.c - report.html (pc_report.h): one self-contained page drawn from
 * a run's tables, plus `parcours report OUTDIR` (pc_cmd.h) and the run's
 * hook pc_run_report() (pc_run.h).
 *
 * Owns the page: its sections, charts (inline SVG), styles (inline CSS) and
 * the small flat reader of run.json and of the store's batch records. Owns
 * no analytics: every figure comes from a table of results.h5 or from
 * run.json. No script, nothing fetched: the page opens from a file, offline.
 *
 * Invariants:
 *  - A table cell the page shows is the value formatted by the CSV rules of
 *    spec §10 (pc_fmt_double, pc_fmt_micros, decimal integers), so the page
 *    and csv/ agree byte for byte; rounded figures appear only in charts.
 *  - Every string from a table or a JSON file goes through
 *    pc_report_escape(); ids are built from [A-Za-z0-9._-] and ~XX escapes.
 *  - Rows shown are capped (TOP_* and MAX_* below), so the page stays under
 *    PC_REPORT_MAX_BYTES whatever the size of the tables.
 *  - The page contains no time, directory or process id: rendered from the
 *    same tables it has the same bytes (run.json's timings aside).
 */
#include "pc_cmd.h"
#include "pc_h5io.h"
#include "pc_report.h"
#include "pc_run.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#define TOP_VARIANTS 20   /* rows of variants shown */
#define TOP_PRECEDING 10  /* rows of preceding paths shown */
#define TOP_TOKENS 15     /* rows of preceding tokens shown */
#define TOP_DRIVERS 30    /* rows of the drivers tables */
#define CHART_DRIVERS 15  /* bars of the drivers chart */
#define TOP_COEFS 15      /* model coefficients by |coef| */
#define TOP_AT_RISK 10    /* at-risk customers listed */
#define MAX_ROWS 64       /* channels, NPS, attribution rows, ranks */
#define MAX_BARS 16       /* channels in the attribution chart */
#define MAX_FUNNELS 12
#define MAX_STEPS 24
#define MAX_SPLITS 24
#define PATH_TOKENS 10    /* tokens of a path shown before "+N more" */
#define LABEL_BYTES 24    /* chart labels are cut to this many bytes */
#define ROC_POINTS 400    /* the ROC polyline is thinned to about this */
#define SANKEY_DEPTH 5    /* prefix-tree depths drawn */
#define SANKEY_PER_COL 6  /* paths per depth, the rest is "other" */
#define JSON_MAX_DEPTH 64 /* nesting accepted in run.json */

/* ---- private prototypes -------------------------------------------------- */

typedef struct Json Json;
static Json *json_parse(const char *text);
static void json_free(Json *j);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Json, json_free)

/* ---- run.json: a flat reader ----------------------------------------------- */

/* A JSON document flattened to path -> scalar text: "plan.imbalance_cost",
 * "peak_rss_bytes.3", "peak_rss_bytes.#" (array length); strings unescaped,
 * numbers as written. Enough for the figures the page shows, no library. */
struct Json {
  GHashTable *vals; /* path -> text, both owned */
  GPtrArray *order; /* paths in document order, borrowed from vals */
};

typedef struct {
  const char *p, *end;
  int depth;
} JCur;

static void json_free(Json *j) {
  if (!j) return;
  g_ptr_array_unref(j->order);
  g_hash_table_unref(j->vals);
  g_free(j);
}

static void j_ws(JCur *c) {
  while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
    c->p++;
}

static gboolean j_hex4(JCur *c, gunichar *u) {
  if (c->end - c->p < 4) return FALSE;
  *u = 0;
  for (int i = 0; i < 4; i++) {
    int d = g_ascii_xdigit_value(c->p[i]);
    if (d < 0) return FALSE;
    *u = *u * 16 + (gunichar)d;
  }
  c->p += 4;
  return TRUE;
}

/* The string at c->p (its opening quote) appended to out, unescaped. */
static gboolean j_string(JCur *c, GString *out) {
  static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
  if (c->p >= c->end || *c->p != '"') return FALSE;
  for (c->p++; c->p < c->end && *c->p != '"';) {
    char ch = *c->p++;
    if (ch != '\\') {
      g_string_append_c(out, ch);
      continue;
    }
    if (c->p >= c->end) return FALSE;
    ch = *c->p++;
    const char *k = ch ? strchr(from, ch) : NULL;
    gunichar u, lo;
    if (k) {
      g_string_append_c(out, to[k - from]);
      continue;
    }
    if (ch != 'u' || !j_hex4(c, &u)) return FALSE;
    if (u >= 0xD800 && u < 0xDC00 && c->end - c->p >= 6 && c->p[0] == '\\' && c->p[1] == 'u') {
      c->p += 2;
      if (!j_hex4(c, &lo) || lo < 0xDC00 || lo > 0xDFFF) return FALSE;
      u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
    }
    g_string_append_unichar(out, u);
  }
  if (c->p >= c->end) return FALSE;
  c->p++;
  return TRUE;
}

/* Takes text. A repeated key keeps its first place and its last value. */
static void j_put(Json *j, const char *path, char *text) {
  gboolean seen = g_hash_table_contains(j->vals, path);
  char *key = g_strdup(path);
  g_hash_table_insert(j->vals, key, text);
  if (!seen) g_ptr_array_add(j->order, key);
}

static gboolean j_value(JCur *c, Json *j, GString *path);

static gboolean j_container(JCur *c, Json *j, GString *path, gboolean object) {
  char close = object ? '}' : ']';
  gsize base = path->len;
  guint n = 0;
  c->p++;
  if (++c->depth > JSON_MAX_DEPTH) return FALSE;
  j_ws(c);
  gboolean more = !(c->p < c->end && *c->p == close);
  if (!more) c->p++;
  while (more) {
    g_string_truncate(path, base);
    if (base) g_string_append_c(path, '.');
    if (object) {
      j_ws(c);
      if (!j_string(c, path)) return FALSE;
      j_ws(c);
      if (c->p >= c->end || *c->p++ != ':') return FALSE;
    } else {
      g_string_append_printf(path, "%u", n);
    }
    if (!j_value(c, j, path)) return FALSE;
    n++;
    j_ws(c);
    if (c->p >= c->end) return FALSE;
    char ch = *c->p++;
    if (ch != ',' && ch != close) return FALSE;
    more = ch == ',';
  }
  g_string_truncate(path, base);
  if (!object) {
    g_string_append(path, base ? ".#" : "#");
    j_put(j, path->str, g_strdup_printf("%u", n));
    g_string_truncate(path, base);
  }
  c->depth--;
  return TRUE;
}

static gboolean j_value(JCur *c, Json *j, GString *path) {
  j_ws(c);
  if (c->p >= c->end) return FALSE;
  if (*c->p == '{' || *c->p == '[') return j_container(c, j, path, *c->p == '{');
  if (*c->p == '"') {
    GString *s = g_string_new(NULL);
    if (!j_string(c, s)) {
      g_string_free(s, TRUE);
      return FALSE;
    }
    j_put(j, path->str, g_string_free(s, FALSE));
    return TRUE;
  }
  const char *s = c->p;
  while (c->p < c->end && (g_ascii_isalnum(*c->p) || *c->p == '+' || *c->p == '-' || *c->p == '.'))
    c->p++;
  if (c->p == s) return FALSE;
  j_put(j, path->str, g_strndup(s, (gsize)(c->p - s)));
  return TRUE;
}

/* NULL when text is NULL or not one well-formed JSON value. */
static Json *json_parse(const char *text) {
  if (!text) return NULL;
  Json *j = g_new0(Json, 1);
  j->vals = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  j->order = g_ptr_array_new();
  JCur c = {text, text + strlen(text), 0};
  g_autoptr(GString) path = g_string_new(NULL);
  gboolean ok = j_value(&c, j, path);
  j_ws(&c);
  if (!ok || c.p != c.end) {
    json_free(j);
    return NULL;
  }
  return j;
}

static const char *j_get(const Json *j, const char *path) {
  return j ? g_hash_table_lookup(j->vals, path) : NULL;
}

static gboolean j_double(const Json *j, const char *path, double *v) {
  const char *s = j_get(j, path);
  char *e = NULL;
  if (!s) return FALSE;
  *v = g_ascii_strtod(s, &e);
  return e != s && *e == '\0';
}

static guint j_len(const Json *j, const char *array) {
  g_autofree char *k = g_strdup_printf("%s.#", array);
  const char *s = j_get(j, k);
  return s ? (guint)g_ascii_strtoull(s, NULL, 10) : 0;
}

static const char *j_item(const Json *j, const char *array, guint i) {
  g_autofree char *k = g_strdup_printf("%s.%u", array, i);
  return j_get(j, k);
}

/* ---- HTML helpers ------------------------------------------------------------ */

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

static void esc(GString *h, const char *s) { pc_report_escape(h, s, -1); }

/* At most max bytes of s (cut on a UTF-8 boundary), then an ellipsis. */
static void esc_max(GString *h, const char *s, gsize max) {
  gsize n = strlen(s);
  if (n <= max) {
    pc_report_escape(h, s, (gssize)n);
    return;
  }
  while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80) max--;
  pc_report_escape(h, s, (gssize)max);
  g_string_append(h, "\xe2\x80\xa6");
}

/* An id fragment: ASCII letters, digits, '-', '_' and '.' kept, any other
 * byte ~XX (hex), so distinct names give distinct ids and an id needs no
 * escaping in HTML, in a shell or in getElementById. */
static void id_part(GString *out, const char *s) {
  for (; *s; s++) {
    unsigned char ch = (unsigned char)*s;
    if (g_ascii_isalnum(ch) || ch == '-' || ch == '_' || ch == '.') g_string_append_c(out, (char)ch);
    else g_string_append_printf(out, "~%02x", ch);
  }
}

static char *id_of(const char *s) {
  GString *g = g_string_new(NULL);
  id_part(g, s);
  return g_string_free(g, FALSE);
}

/* Chart label of a fraction: "12.3%". buf: 32 bytes. */
static char *pct(char *buf, double frac) {
  if (!isfinite(frac)) return strcpy(buf, "\xe2\x80\x93");
  snprintf(buf, 32, "%.1f%%", 100 * frac);
  return buf;
}

/* Chart label of an amount: 812, 34.5k, 1.2M. buf: 32 bytes. */
static char *short_num(char *buf, double v) {
  double a = fabs(v);
  if (!isfinite(v)) return strcpy(buf, isnan(v) ? "nan" : (v > 0 ? "inf" : "-inf"));
  if (a >= 1e9) snprintf(buf, 32, "%.1fG", v / 1e9);
  else if (a >= 1e6) snprintf(buf, 32, "%.1fM", v / 1e6);
  else if (a >= 1e4) snprintf(buf, 32, "%.1fk", v / 1e3);
  else snprintf(buf, 32, "%.0f", v);
  return buf;
}

/* A horizontal bar of frac (clamped to 0..1). cls: extra class or "". */
static void bar(GString *h, double frac, const char *cls) {
  if (!isfinite(frac) || frac < 0) frac = isinf(frac) && frac > 0 ? 1 : 0;
  g_string_append_printf(h, "<span class=\"bar %s\"><i style=\"width:%.1f%%\"></i></span>", cls,
                         100 * MIN(frac, 1.0));
}

/* A bar of frac with the rounded percentage of label beside it. */
static void bar_pct(GString *h, double frac, double label, const char *cls) {
  char b[32];
  bar(h, frac, cls);
  g_string_append_printf(h, "<span class=\"bp\">%s</span>", pct(b, label));
}

/* A bar centred on 0 for v in [-1, 1]: negative to the left. */
static void div_bar(GString *h, double v) {
  if (!isfinite(v)) v = 0;
  v = CLAMP(v, -1.0, 1.0);
  g_string_append_printf(h, "<span class=\"div\"><span class=\"neg\"><i style=\"width:%.1f%%\"></i></span>"
                            "<span class=\"pos\"><i style=\"width:%.1f%%\"></i></span></span>",
                         v < 0 ? -100 * v : 0, v > 0 ? 100 * v : 0);
}

/* A path "a > b > c" as token chips; the first max tokens, then "+N more". */
static void path_chips(GString *h, const char *path, guint max) {
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
    esc_max(h, tok[i], 63);
    g_string_append(h, "</span>");
  }
  if (rest) g_string_append_printf(h, "<span class=\"more\">+%u more</span>", rest);
}

/* ---- tables ---------------------------------------------------------------------- */

static const PcTable *find_table(const PcReportInput *in, const char *name) {
  for (guint i = 0; in->tables && i < in->tables->len; i++) {
    const PcTable *t = g_ptr_array_index(in->tables, i);
    if (!strcmp(pc_table_name(t), name)) return t;
  }
  return NULL;
}

static gint col_of(const PcTable *t, const char *name) {
  for (guint c = 0; c < pc_table_ncols(t); c++)
    if (!strcmp(pc_table_col_name(t, c), name)) return (gint)c;
  return -1;
}

/* results.h5 keeps no column types beyond int/double/string, so money
 * columns read back as int millionths: they are known by name (§10). */
static gboolean col_micros(const PcTable *t, gint c) {
  const char *n = pc_table_col_name(t, (guint)c);
  PcColType ty = pc_table_col_type(t, (guint)c);
  return ty == PC_COL_MICROS ||
         (ty == PC_COL_INT && (!strcmp(n, "value_sum") || !strcmp(n, "revenue_at_risk")));
}

/* The cell as csv/ writes it; "" when empty (results.h5 writes an empty
 * integer as INT64_MIN). buf: 32 bytes. */
static const char *fmt_cell(const PcTable *t, guint row, gint col, char *buf) {
  if (!t || col < 0 || row >= pc_table_nrows(t) || pc_table_is_empty(t, row, (guint)col)) return "";
  switch (pc_table_col_type(t, (guint)col)) {
  case PC_COL_STRING: return pc_table_get_string(t, row, (guint)col);
  case PC_COL_DOUBLE: return pc_fmt_double(buf, pc_table_get_double(t, row, (guint)col));
  default: break;
  }
  int64_t v = pc_table_get_int(t, row, (guint)col);
  if (v == INT64_MIN) return "";
  if (col_micros(t, col)) return pc_fmt_micros(buf, v);
  snprintf(buf, 32, "%" PRId64, v);
  return buf;
}

static const char *cell_s(const PcTable *t, guint row, const char *col) {
  static const char empty[] = "";
  gint c = col_of(t, col);
  if (c < 0 || pc_table_col_type(t, (guint)c) != PC_COL_STRING) return empty;
  return pc_table_get_string(t, row, (guint)c);
}

/* The cell as a number for drawing (money in units); NAN when empty. */
static double cell_d(const PcTable *t, guint row, const char *col) {
  gint c = col_of(t, col);
  if (c < 0 || pc_table_is_empty(t, row, (guint)c)) return NAN;
  PcColType ty = pc_table_col_type(t, (guint)c);
  if (ty == PC_COL_STRING) return NAN;
  if (ty == PC_COL_DOUBLE) return pc_table_get_double(t, row, (guint)c);
  int64_t v = pc_table_get_int(t, row, (guint)c);
  if (v == INT64_MIN) return NAN;
  return col_micros(t, c) ? (double)v / 1e6 : (double)v;
}

static int64_t cell_i(const PcTable *t, guint row, const char *col) {
  gint c = col_of(t, col);
  if (c < 0 || pc_table_is_empty(t, row, (guint)c) || pc_table_col_type(t, (guint)c) == PC_COL_STRING)
    return 0;
  if (pc_table_col_type(t, (guint)c) == PC_COL_DOUBLE) return (int64_t)pc_table_get_double(t, row, (guint)c);
  int64_t v = pc_table_get_int(t, row, (guint)c);
  return v == INT64_MIN ? 0 : v;
}

/* <td class="num" id="ID">text</td>; an empty cell gets class "na". */
static void td_text(GString *h, const char *id, const char *text) {
  g_string_append_printf(h, "<td class=\"num%s\"", *text ? "" : " na");
  if (id) {
    g_string_append(h, " id=\"");
    esc(h, id);
    g_string_append_c(h, '"');
  }
  g_string_append_c(h, '>');
  esc(h, text);
  g_string_append(h, "</td>");
}

/* The cell of column col, with id "PREFIX-col" when prefix is not NULL. */
static void td_col(GString *h, const PcTable *t, guint row, const char *col, const char *prefix) {
  char buf[32];
  g_autofree char *id = prefix ? g_strdup_printf("%s-%s", prefix, col) : NULL;
  td_text(h, id, fmt_cell(t, row, col_of(t, col), buf));
}

/* Row id prefix "NAME-R": R from the rank column, else the 1-based row. */
static char *row_prefix(const PcTable *t, guint row, const char *name) {
  char buf[32];
  const char *r = fmt_cell(t, row, col_of(t, "rank"), buf);
  if (*r) return g_strdup_printf("%s-%s", name, r);
  return g_strdup_printf("%s-%u", name, row + 1);
}

static void thead_cls(GString *h, const char *const *cols, const char *cls) {
  g_string_append_printf(h, "<div class=\"tw%s%s\"><table><thead><tr>", *cls ? " " : "", cls);
  for (; *cols; cols++) {
    gboolean num = (*cols)[0] == '#';
    g_string_append_printf(h, "<th%s>%s</th>", num ? " class=\"num\"" : "", *cols + (num ? 1 : 0));
  }
  g_string_append(h, "</tr></thead><tbody>");
}

static void thead(GString *h, const char *const *cols) { thead_cls(h, cols, ""); }

static void tfoot(GString *h) { g_string_append(h, "</tbody></table></div>"); }

/* ---- the page ----------------------------------------------------------------- */

typedef struct {
  const PcReportInput *in;
  GString *h;   /* the sections, in page order */
  GString *nav; /* one link per section */
  Json *run;    /* run.json, or NULL */
  char *target; /* "churn" or "a or b"; NULL without a target */
} Page;

static void section_open(Page *p, const char *id, const char *title, const char *lede) {
  g_string_append_printf(p->nav, "<a href=\"#%s\">%s</a>", id, title);
  g_string_append_printf(p->h, "<section id=\"%s\"><h2>%s</h2>", id, title);
  if (lede) g_string_append_printf(p->h, "<p class=\"lede\">%s</p>", lede);
}

static void section_close(Page *p) { g_string_append(p->h, "</section>\n"); }

static void note(GString *h, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static void note(GString *h, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  g_autofree char *s = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  g_string_append_printf(h, "<p class=\"note\">%s</p>", s);
}

/* The target name(s) from run.json's job, or NULL. */
static char *target_name(const Json *run) {
  guint n = j_len(run, "job.target.event");
  if (!n) return NULL;
  GString *s = g_string_new(NULL);
  for (guint i = 0; i < n; i++) {
    const char *e = j_item(run, "job.target.event", i);
    if (i) g_string_append(s, i + 1 == n ? " or " : ", ");
    g_string_append(s, e ? e : "?");
  }
  return g_string_free(s, FALSE);
}

static void target_html(GString *h, const Page *p) {
  g_string_append(h, "<b>");
  esc(h, p->target ? p->target : "the target");
  g_string_append(h, "</b>");
}

/* ---- summary ------------------------------------------------------------------- */

static const struct {
  const char *key, *label, *hint;
} summary_keys[] = {
    {"customers", "Customers", "with at least one kept event"},
    {"events", "Events", "kept in the time window"},
    {"journeys", "Journeys", "per customer, or per session"},
    {"customers_with_outcome", "Reached the target", NULL},
    {"customers_without_revenue", "Without revenue", "absent from the customers table"},
    {"nps_invalid", "Invalid NPS responses", "not an integer 0..10; excluded"},
};

static void kpi_card(Page *p, const char *label, const char *id, const char *value, const char *hint) {
  g_string_append(p->h, "<div class=\"kpi\"><div class=\"k\">");
  esc(p->h, label);
  g_string_append(p->h, "</div><div class=\"v\"");
  if (id) {
    g_string_append(p->h, " id=\"");
    esc(p->h, id);
    g_string_append_c(p->h, '"');
  }
  g_string_append_c(p->h, '>');
  esc(p->h, value);
  g_string_append(p->h, "</div>");
  if (hint) {
    g_string_append(p->h, "<div class=\"n\">");
    esc(p->h, hint);
    g_string_append(p->h, "</div>");
  }
  g_string_append(p->h, "</div>");
}

static void section_summary(Page *p) {
  const PcTable *t = find_table(p->in, "summary");
  if (!t) return;
  section_open(p, "summary", "Summary", NULL);
  g_string_append(p->h, "<div class=\"kpis\">");
  int64_t customers = 0;
  for (guint r = 0; r < pc_table_nrows(t); r++)
    if (!strcmp(cell_s(t, r, "key"), "customers")) customers = cell_i(t, r, "value");
  for (guint r = 0; r < pc_table_nrows(t) && r < MAX_ROWS; r++) {
    const char *key = cell_s(t, r, "key"), *label = key, *hint = NULL;
    char buf[32], hb[96], pb[32];
    for (guint k = 0; k < G_N_ELEMENTS(summary_keys); k++)
      if (!strcmp(key, summary_keys[k].key)) {
        label = summary_keys[k].label;
        hint = summary_keys[k].hint;
      }
    if (!strcmp(key, "customers_with_outcome") && customers > 0) {
      snprintf(hb, sizeof hb, "%s of customers", pct(pb, (double)cell_i(t, r, "value") / (double)customers));
      hint = hb;
    }
    g_autofree char *id = g_strdup_printf("summary-%s", key);
    g_autofree char *sid = id_of(id);
    kpi_card(p, label, sid, fmt_cell(t, r, col_of(t, "value"), buf), hint);
  }
  g_string_append(p->h, "</div>");
  section_close(p);
}

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
    int64_t d = cell_i(t, r, "depth");
    if (d < 1 || d > SANKEY_DEPTH) continue;
    const char *path = cell_s(t, r, "path"), *last = g_strrstr(path, " > ");
    SNode n = {path, last ? last + 3 : path, (int)d, -1, cell_i(t, r, "reach"), cell_i(t, r, "end"),
               cell_i(t, r, "target"), FALSE, FALSE, 0, 0, 0, 0, 0};
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
  esc_max(h, n->depth == 0 ? "journey start" : n->other ? "other paths" : n->path, 1024);
  g_string_append_printf(h, "\nreach %" PRId64, n->reach);
  if (!n->other && n->depth) g_string_append_printf(h, ", end here %" PRId64, n->end);
  if (s->has_target) g_string_append_printf(h, ", reach the target %" PRId64, n->target);
  g_string_append(h, "</title>");
  if (n->h >= 13) {
    double ty = n->y + MIN(n->h / 2, 16.0) + 4;
    g_string_append_printf(h, "<text class=\"sl\" x=\"%.1f\" y=\"%.1f\"><tspan class=\"slt\">", x + SK_NODE_W + 5, ty);
    esc_max(h, n->label, LABEL_BYTES);
    g_string_append_printf(h, "</tspan> %" PRId64 "</text>", n->reach);
    if (s->has_target && n->h >= 34 && n->reach > 0)
      g_string_append_printf(h, "<text class=\"sl sls\" x=\"%.1f\" y=\"%.1f\">%s to target</text>", x + SK_NODE_W + 5,
                             ty + 15, pct(pb, (double)n->target / (double)n->reach));
  }
  g_string_append(h, "</g>");
}

static void sankey_svg(Page *p, Sankey *s) {
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
    target_html(h, p);
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

static void sankey_draw(Page *p, const PcTable *t) {
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

static void variants_table(Page *p, const PcTable *t) {
  static const char *const cols[] = {"#Rank", "#Journeys", "#Share", "", "#Length", "Path", NULL};
  guint n = MIN(pc_table_nrows(t), TOP_VARIANTS);
  double top = n ? cell_d(t, 0, "share") : 0;
  g_string_append(p->h, "<h3>Most common journeys</h3>");
  thead(p->h, cols);
  for (guint r = 0; r < n; r++) {
    g_autofree char *pre = row_prefix(t, r, "variants");
    g_string_append(p->h, "<tr>");
    td_col(p->h, t, r, "rank", NULL);
    td_col(p->h, t, r, "journeys", pre);
    td_col(p->h, t, r, "share", pre);
    g_string_append(p->h, "<td>");
    bar_pct(p->h, top > 0 ? cell_d(t, r, "share") / top : 0, cell_d(t, r, "share"), "");
    g_string_append(p->h, "</td>");
    td_col(p->h, t, r, "length", pre);
    g_string_append(p->h, "<td class=\"path\">");
    path_chips(p->h, cell_s(t, r, "path"), PATH_TOKENS);
    g_string_append(p->h, "</td></tr>");
  }
  tfoot(p->h);
  note(p->h, "The %u most common of %u variants listed in csv/variants.csv (whole journeys, sorted by count).", n,
       pc_table_nrows(t));
}

static void section_journeys(Page *p) {
  const PcTable *tree = find_table(p->in, "prefix_tree"), *var = find_table(p->in, "variants");
  if (!tree && !var) return;
  section_open(p, "journeys", "Journeys",
               "How journeys begin and which whole journeys are most common. In the flow, each column is one step "
               "further from the first event; a band's width is the number of journeys that take that path.");
  if (tree) sankey_draw(p, tree);
  if (var) variants_table(p, var);
  section_close(p);
}

/* ---- before the outcome ------------------------------------------------------------ */

static void preceding_paths(Page *p, const PcTable *t) {
  static const char *const cols[] = {"#Rank", "#Customers", "#Share", "", "Last events before the target", NULL};
  guint n = MIN(pc_table_nrows(t), TOP_PRECEDING);
  double top = n ? cell_d(t, 0, "share") : 0;
  g_string_append(p->h, "<h3>Paths into the target</h3>");
  thead(p->h, cols);
  for (guint r = 0; r < n; r++) {
    g_autofree char *pre = row_prefix(t, r, "preceding_paths");
    g_string_append(p->h, "<tr>");
    td_col(p->h, t, r, "rank", NULL);
    td_col(p->h, t, r, "customers", pre);
    td_col(p->h, t, r, "share", pre);
    g_string_append(p->h, "<td>");
    bar_pct(p->h, top > 0 ? cell_d(t, r, "share") / top : 0, cell_d(t, r, "share"), "red");
    g_string_append(p->h, "</td><td class=\"path\">");
    path_chips(p->h, cell_s(t, r, "path"), PATH_TOKENS);
    g_string_append(p->h, "</td></tr>");
  }
  tfoot(p->h);
}

static void preceding_tokens(Page *p, const PcTable *t) {
  static const char *const cols[] = {"Event", "#Customers", "#Share", "", NULL};
  guint n = MIN(pc_table_nrows(t), TOP_TOKENS);
  g_string_append(p->h, "<h3>Events seen shortly before it</h3>");
  thead_cls(p->h, cols, "narrow");
  for (guint r = 0; r < n; r++) {
    g_autofree char *pre = g_strdup_printf("preceding_tokens-%u", r + 1);
    g_string_append(p->h, "<tr><td>");
    esc_max(p->h, cell_s(t, r, "token"), 63);
    g_string_append(p->h, "</td>");
    td_col(p->h, t, r, "customers", pre);
    td_col(p->h, t, r, "share", pre);
    g_string_append(p->h, "<td>");
    bar_pct(p->h, cell_d(t, r, "share"), cell_d(t, r, "share"), "red");
    g_string_append(p->h, "</td></tr>");
  }
  tfoot(p->h);
}

static void section_preceding(Page *p) {
  const PcTable *pp = find_table(p->in, "preceding_paths"), *pt = find_table(p->in, "preceding_tokens");
  if (!pp && !pt) return;
  section_open(p, "preceding", "Before the outcome", NULL);
  g_string_append(p->h, "<p class=\"lede\">The last events of customers who reach ");
  target_html(p->h, p);
  g_string_append(p->h, ", before they do (the lookback window). Share is of all customers who reach it.</p>");
  if (pp) preceding_paths(p, pp);
  if (pt) preceding_tokens(p, pt);
  section_close(p);
}

/* ---- funnels ----------------------------------------------------------------------- */

static gboolean is_all(const char *split) { return !strcmp(split, "(all)"); }

/* The (all) rows of funnel rows [a, b) as bars and exact figures. */
static void funnel_steps(Page *p, const PcTable *t, guint a, guint b, const char *fid) {
  static const char *const cols[] = {"#Step", "Event", "", "#Customers", "#Conv. from previous", "#Conv. from step 1", "#Drop-off", NULL};
  double first = NAN;
  thead(p->h, cols);
  for (guint r = a, k = 0; r < b && k < MAX_STEPS; r++) {
    if (!is_all(cell_s(t, r, "split"))) continue;
    char buf[32];
    const char *step = fmt_cell(t, r, col_of(t, "step"), buf);
    g_autofree char *pre = g_strdup_printf("funnel-%s-all-step-%s", fid, step);
    double c = cell_d(t, r, "customers");
    if (k++ == 0) first = c;
    g_string_append_printf(p->h, "<tr><td class=\"num\">%s</td><td>", step);
    esc_max(p->h, cell_s(t, r, "token"), 130);
    g_string_append(p->h, "</td><td class=\"fb\">");
    bar_pct(p->h, first > 0 ? c / first : 0, first > 0 ? c / first : NAN, "wide");
    g_string_append(p->h, "</td>");
    td_col(p->h, t, r, "customers", pre);
    /* step 1 has no previous step: csv/ leaves it empty, results.h5 has nan */
    if (cell_i(t, r, "step") == 1) {
      g_autofree char *id = g_strdup_printf("%s-conv_prev", pre);
      td_text(p->h, id, "");
    } else {
      td_col(p->h, t, r, "conv_prev", pre);
    }
    td_col(p->h, t, r, "conv_first", pre);
    td_col(p->h, t, r, "drop_off", pre);
    g_string_append(p->h, "</tr>");
  }
  tfoot(p->h);
}

/* Customers per (channel, step), shaded by conversion from step 1. */
static void funnel_splits(Page *p, const PcTable *t, guint a, guint b, const char *fid) {
  g_autoptr(GPtrArray) splits = g_ptr_array_new();
  guint steps = 0;
  for (guint r = a; r < b; r++) {
    const char *sp = cell_s(t, r, "split");
    if (is_all(sp)) steps = MAX(steps, (guint)MIN(cell_i(t, r, "step"), MAX_STEPS));
    else if (!splits->len || strcmp(g_ptr_array_index(splits, splits->len - 1), sp))
      g_ptr_array_add(splits, (gpointer)sp);
  }
  if (!splits->len) return;
  g_string_append(p->h, "<h4>By channel of the first step</h4><div class=\"tw\"><table><thead><tr><th>Channel</th>");
  for (guint k = 1; k <= steps; k++) g_string_append_printf(p->h, "<th class=\"num\">Step %u</th>", k);
  g_string_append(p->h, "</tr></thead><tbody>");
  for (guint r = a, row = 0; r < b; r++) {
    const char *sp = cell_s(t, r, "split");
    int64_t k = cell_i(t, r, "step");
    if (is_all(sp) || k < 1 || k > (int64_t)steps) continue;
    if (k == 1) {
      if (row++ >= MAX_SPLITS) break;
      g_string_append(p->h, row > 1 ? "</tr><tr><td>" : "<tr><td>");
      esc_max(p->h, sp, 63);
      g_string_append(p->h, "</td>");
    }
    char buf[32], cb[32];
    g_autofree char *sid = id_of(sp);
    double cf = cell_d(t, r, "conv_first");
    g_string_append_printf(p->h, "<td class=\"num heat\" style=\"background:rgba(44,110,155,%.2f)\" title=\"from step 1: %s\" id=\"funnel-%s-ch-%s-step-%" PRId64 "-customers\">%s</td>",
                           isfinite(cf) ? 0.06 + 0.5 * CLAMP(cf, 0.0, 1.0) : 0.0,
                           fmt_cell(t, r, col_of(t, "conv_first"), cb), fid, sid, k,
                           fmt_cell(t, r, col_of(t, "customers"), buf));
  }
  g_string_append(p->h, "</tr>");
  tfoot(p->h);
  if (splits->len > MAX_SPLITS) note(p->h, "%u of %u channels shown.", MAX_SPLITS, splits->len);
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

static void funnel_block(Page *p, const PcTable *t, guint a, guint b) {
  const char *name = cell_s(t, a, "funnel");
  g_autofree char *fid = id_of(name);
  g_autofree char *wkey = g_strdup_printf("job.funnel.%s.window", name);
  const char *win = j_get(p->run, wkey);
  g_string_append(p->h, "<div class=\"funnel\"><h3>");
  esc_max(p->h, name, 130);
  g_string_append(p->h, "</h3>");
  if (win) {
    char hb[64];
    g_string_append(p->h, "<p class=\"note\">All steps within ");
    esc(p->h, win);
    g_string_append_printf(p->h, " s%s of the first.</p>", human_span(hb, g_ascii_strtoull(win, NULL, 10)));
  }
  funnel_steps(p, t, a, b, fid);
  funnel_splits(p, t, a, b, fid);
  g_string_append(p->h, "</div>");
}

static void section_funnels(Page *p) {
  const PcTable *t = find_table(p->in, "funnels");
  if (!t) return;
  section_open(p, "funnels", "Funnels",
               "Customers reaching each step in order within the funnel's window; conversion from the previous "
               "step and from step 1, and how many stopped at the step before.");
  guint nr = pc_table_nrows(t), shown = 0, a = 0;
  while (a < nr && shown < MAX_FUNNELS) {
    guint b = a + 1;
    while (b < nr && !strcmp(cell_s(t, b, "funnel"), cell_s(t, a, "funnel"))) b++;
    funnel_block(p, t, a, b);
    shown++;
    a = b;
  }
  if (a < nr) note(p->h, "The first %u funnels are shown; csv/funnels.csv has all.", MAX_FUNNELS);
  section_close(p);
}

/* ---- drivers ------------------------------------------------------------------------- */

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
    double l = cell_d(t, r, "lift"), v = cell_d(t, r, "revenue_at_risk");
    if (isfinite(l)) *max_lift = MAX(*max_lift, l);
    if (isfinite(v)) *max_rev = MAX(*max_rev, v);
  }
  *max_lift *= 1.08;
}

static void driver_bar(GString *h, const PcTable *t, guint r, double y, double max_lift, double max_rev) {
  char b1[32];
  double l = cell_d(t, r, "lift"), v = cell_d(t, r, "revenue_at_risk");
  double lw = isnan(l) ? 0 : isinf(l) ? DV_LIFT_W : DV_LIFT_W * l / max_lift;
  g_string_append_printf(h, "<text class=\"dl\" x=\"%.0f\" y=\"%.1f\">", DV_LABEL - 8, y + 16);
  esc_max(h, cell_s(t, r, "token"), LABEL_BYTES);
  g_string_append_printf(h, "</text><rect class=\"%s\" x=\"%.0f\" y=\"%.1f\" width=\"%.1f\" height=\"16\" rx=\"2\"/>",
                         l >= 1 ? "bl-up" : "bl-down", DV_LIFT_X, y + 4, lw);
  if (isinf(l)) strcpy(b1, "inf");
  else if (isnan(l)) strcpy(b1, "nan");
  else snprintf(b1, sizeof b1, "\xc3\x97%.2f", l);
  g_string_append_printf(h, "<text class=\"dv\" x=\"%.1f\" y=\"%.1f\">%s</text>", DV_LIFT_X + MIN(lw, DV_LIFT_W) + 5, y + 16, b1);
  double rw = max_rev > 0 && isfinite(v) ? DV_REV_W * v / max_rev : 0;
  g_string_append_printf(h, "<rect class=\"br\" x=\"%.0f\" y=\"%.1f\" width=\"%.1f\" height=\"16\" rx=\"2\"/>"
                            "<text class=\"dv\" x=\"%.1f\" y=\"%.1f\">%s</text>",
                         DV_REV_X, y + 4, MAX(rw, 0.0), DV_REV_X + MAX(rw, 0.0) + 5, y + 16, short_num(b1, v));
}

static void drivers_chart(Page *p, const PcTable *t) {
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

static void drivers_table(Page *p, const PcTable *t, const char *name, const char *first) {
  static const char *const num[] = {"customers", "customers_with_outcome", "rate_with", "rate_without", "lift",
                                    "risk_ratio", "chi2", "coverage", "revenue_at_risk"};
  const char *cols[] = {"#Rank", !strcmp(first, "token") ? "Event" : "Channel", "#Customers", "#With outcome",
                        "#Rate with", "#Rate without", "#Lift", "#Risk ratio", "#Chi\xc2\xb2", "#Coverage",
                        "#Revenue at risk", NULL};
  guint n = MIN(pc_table_nrows(t), TOP_DRIVERS);
  thead(p->h, cols);
  for (guint r = 0; r < n; r++) {
    g_autofree char *pre = g_strdup_printf("%s-%u", name, r + 1);
    g_string_append_printf(p->h, "<tr><td class=\"num\">%u</td><td class=\"lbl\">", r + 1);
    esc_max(p->h, cell_s(t, r, first), 63);
    g_string_append(p->h, "</td>");
    for (guint c = 0; c < G_N_ELEMENTS(num); c++) td_col(p->h, t, r, num[c], pre);
    g_string_append(p->h, "</tr>");
  }
  tfoot(p->h);
  if (pc_table_nrows(t) > n) note(p->h, "The first %u of %u rows by chi\xc2\xb2; csv/%s.csv has all.", n, pc_table_nrows(t), name);
}

static void section_drivers(Page *p) {
  const PcTable *d = find_table(p->in, "drivers"), *c = find_table(p->in, "channel_drivers");
  if (!d && !c) return;
  section_open(p, "drivers", "Drivers of the outcome", NULL);
  g_string_append(p->h, "<p class=\"lede\">Events (and channels) seen before ");
  target_html(p->h, p);
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
  section_close(p);
}

/* ---- channels ---------------------------------------------------------------------- */

static void channels_table(Page *p, const PcTable *t) {
  static const char *const cols[] = {"Channel", "#Events", "#Customers", "", "#Customers before target", "#Outcome rate",
                                     "#Value sum", "#Value mean", NULL};
  guint n = MIN(pc_table_nrows(t), MAX_ROWS);
  double top = 0;
  for (guint r = 0; r < n; r++) top = MAX(top, cell_d(t, r, "customers"));
  g_string_append(p->h, "<h3>Channel KPIs</h3>");
  thead(p->h, cols);
  for (guint r = 0; r < n; r++) {
    g_autofree char *pre = g_strdup_printf("channels-%u", r + 1);
    g_string_append(p->h, "<tr><td class=\"lbl\">");
    esc_max(p->h, cell_s(t, r, "channel"), 63);
    g_string_append(p->h, "</td>");
    td_col(p->h, t, r, "events", pre);
    td_col(p->h, t, r, "customers", pre);
    g_string_append(p->h, "<td>");
    bar(p->h, top > 0 ? cell_d(t, r, "customers") / top : 0, "");
    g_string_append(p->h, "</td>");
    td_col(p->h, t, r, "customers_pre", pre);
    td_col(p->h, t, r, "outcome_rate", pre);
    td_col(p->h, t, r, "value_sum", pre);
    td_col(p->h, t, r, "value_mean", pre);
    g_string_append(p->h, "</tr>");
  }
  tfoot(p->h);
}

static void nps_mix(GString *h, const PcTable *t, guint r) {
  double n = cell_d(t, r, "responses");
  if (!(n > 0)) return;
  g_string_append_printf(h, "<span class=\"mix\"><i class=\"md\" style=\"width:%.1f%%\"></i><i class=\"mp\" style=\"width:%.1f%%\"></i>"
                            "<i class=\"mr\" style=\"width:%.1f%%\"></i></span>",
                         100 * cell_d(t, r, "detractors") / n, 100 * cell_d(t, r, "passives") / n,
                         100 * cell_d(t, r, "promoters") / n);
}

static void nps_table(Page *p, const PcTable *t) {
  static const char *const cols[] = {"Channel", "#Responses", "#Promoters", "#Passives", "#Detractors", "#NPS", "", "Mix", NULL};
  guint n = MIN(pc_table_nrows(t), MAX_ROWS);
  g_string_append(p->h, "<h3>NPS by channel</h3>");
  thead(p->h, cols);
  for (guint r = 0; r < n; r++) {
    g_autofree char *pre = g_strdup_printf("nps-%u", r + 1);
    const char *ch = cell_s(t, r, "channel");
    g_string_append_printf(p->h, "<tr%s><td class=\"lbl\">", is_all(ch) ? " class=\"total\"" : "");
    esc_max(p->h, ch, 63);
    g_string_append(p->h, "</td>");
    td_col(p->h, t, r, "responses", pre);
    td_col(p->h, t, r, "promoters", pre);
    td_col(p->h, t, r, "passives", pre);
    td_col(p->h, t, r, "detractors", pre);
    td_col(p->h, t, r, "nps", pre);
    g_string_append(p->h, "<td>");
    div_bar(p->h, cell_d(t, r, "nps") / 100);
    g_string_append(p->h, "</td><td>");
    nps_mix(p->h, t, r);
    g_string_append(p->h, "</td></tr>");
  }
  tfoot(p->h);
  g_string_append(p->h, "<p class=\"legend\">NPS from \xe2\x88\x92" "100 to 100. Mix:<span class=\"sw\" style=\"background:#c8553d\"></span>detractors (0\xe2\x80\x93" "6)"
                        "<span class=\"sw\" style=\"background:#c9d1d9\"></span>passives (7\xe2\x80\x93" "8)"
                        "<span class=\"sw\" style=\"background:#2a9d8f\"></span>promoters (9\xe2\x80\x93" "10). A response counts for the channel of the customer's previous event.</p>");
}

static const char *const attr_cols[4] = {"first_touch", "last_touch", "linear", "markov_share"};
static const char *const attr_names[4] = {"First touch", "Last touch", "Linear", "Markov"};
static const char *const attr_colors[4] = {"#2c6e9b", "#7fb0d6", "#e0a458", "#c8553d"};

/* Each model's credit as a share of that model's total, side by side. */
static void attribution_chart(Page *p, const PcTable *t) {
  guint n = MIN(pc_table_nrows(t), MAX_BARS);
  double sum[4] = {0}, top = 0, W = 1000, H = 250, x0 = 46, y0 = 14, ph = 190;
  for (guint r = 0; r < pc_table_nrows(t); r++)
    for (int m = 0; m < 3; m++) sum[m] += isfinite(cell_d(t, r, attr_cols[m])) ? cell_d(t, r, attr_cols[m]) : 0;
  sum[3] = 1;
  for (guint r = 0; r < n; r++)
    for (int m = 0; m < 4; m++) {
      double v = cell_d(t, r, attr_cols[m]) / sum[m];
      if (isfinite(v)) top = MAX(top, v);
    }
  if (!n || top <= 0) return;
  top = ceil(top * 10) / 10;
  g_string_append_printf(p->h, "<h3>Attribution: share of conversions credited</h3><figure class=\"fig scroll-fig\"><svg viewBox=\"0 0 %.0f %.0f\" role=\"img\" aria-label=\"Attribution shares by channel\">", W, H);
  for (int g = 0; g <= 4; g++) {
    double y = y0 + ph - ph * g / 4.0;
    char b[32];
    g_string_append_printf(p->h, "<line class=\"grid\" x1=\"%.0f\" x2=\"%.0f\" y1=\"%.1f\" y2=\"%.1f\"/><text class=\"ax\" x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">%s</text>",
                           x0, W, y, y, x0 - 6, y + 4, pct(b, top * g / 4));
  }
  double gw = (W - x0) / n, bw = MIN(gw * 0.8 / 4, 28.0);
  for (guint r = 0; r < n; r++) {
    double gx = x0 + r * gw + (gw - 4 * bw) / 2;
    for (int m = 0; m < 4; m++) {
      double v = cell_d(t, r, attr_cols[m]) / sum[m], bh = isfinite(v) ? ph * MAX(v, 0.0) / top : 0;
      char b[32];
      g_string_append_printf(p->h, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"><title>%s: %s</title></rect>",
                             gx + m * bw, y0 + ph - bh, bw - 2, bh, attr_colors[m], attr_names[m], pct(b, v));
    }
    g_string_append_printf(p->h, "<text class=\"ax\" x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\">", x0 + r * gw + gw / 2, y0 + ph + 18);
    esc_max(p->h, cell_s(t, r, "channel"), (gsize)MAX(gw / 7, 4));
    g_string_append(p->h, "</text>");
  }
  g_string_append(p->h, "</svg></figure><p class=\"legend\">");
  for (int m = 0; m < 4; m++)
    g_string_append_printf(p->h, "<span class=\"sw\" style=\"background:%s\"></span>%s", attr_colors[m], attr_names[m]);
  g_string_append(p->h, ". First, last touch and linear: each channel's credit over all credit; Markov: removal-effect share.</p>");
}

static void attribution_table(Page *p, const PcTable *t) {
  static const char *const num[] = {"first_touch", "last_touch", "linear", "markov_removal_effect", "markov_share",
                                    "markov_conversions"};
  static const char *const cols[] = {"Channel", "#First touch", "#Last touch", "#Linear", "#Markov removal effect",
                                     "#Markov share", "#Markov conversions", NULL};
  guint n = MIN(pc_table_nrows(t), MAX_ROWS);
  thead(p->h, cols);
  for (guint r = 0; r < n; r++) {
    g_autofree char *pre = g_strdup_printf("attribution-%u", r + 1);
    g_string_append(p->h, "<tr><td class=\"lbl\">");
    esc_max(p->h, cell_s(t, r, "channel"), 63);
    g_string_append(p->h, "</td>");
    for (guint c = 0; c < G_N_ELEMENTS(num); c++) td_col(p->h, t, r, num[c], pre);
    g_string_append(p->h, "</tr>");
  }
  tfoot(p->h);
}

static void section_channels(Page *p) {
  const PcTable *ch = find_table(p->in, "channels"), *nps = find_table(p->in, "nps"),
                *at = find_table(p->in, "attribution");
  if (!ch && !nps && !at) return;
  section_open(p, "channels", "Channels", "Volume and value per channel, customer sentiment, and the credit each channel gets for the outcome.");
  if (ch) channels_table(p, ch);
  if (nps) nps_table(p, nps);
  if (at) {
    attribution_chart(p, at);
    attribution_table(p, at);
  }
  section_close(p);
}

/* ---- model ---------------------------------------------------------------------- */

static void roc_svg(Page *p, const PcTable *t, const PcTable *ms) {
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
    double f = cell_d(t, r, "fpr"), tp = cell_d(t, r, "tpr");
    if (isfinite(f) && isfinite(tp)) g_string_append_printf(pts, " %.1f,%.1f", m + S * f, 8 + S - S * tp);
  }
  g_string_append_printf(p->h, "<polygon class=\"auc\" points=\"%s %.1f,%.1f\"/><polyline class=\"rocl\" points=\"%s\"/>",
                         pts->str, m + S, 8 + S, pts->str);
  g_string_free(pts, TRUE);
  for (guint r = 0; ms && r < pc_table_nrows(ms); r++)
    if (!strcmp(cell_s(ms, r, "key"), "test_auc") && isfinite(cell_d(ms, r, "value")))
      g_string_append_printf(p->h, "<text class=\"aucl\" x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\">AUC %.3f</text>", m + S - 10,
                             S - 10, cell_d(ms, r, "value"));
  g_string_append_printf(p->h, "<text class=\"ax\" x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\">false positive rate</text>"
                               "<text class=\"ax\" transform=\"translate(10 %.0f) rotate(-90)\" text-anchor=\"middle\">true positive rate</text></svg>"
                               "<figcaption>ROC curve on the test set (%u thresholds).</figcaption></figure>",
                         m + S / 2, S + 44, 8 + S / 2, n);
}

static void model_summary(Page *p, const PcTable *t) {
  g_string_append(p->h, "<div><div class=\"tw\"><table><tbody>");
  for (guint r = 0; r < pc_table_nrows(t) && r < MAX_ROWS; r++) {
    const char *key = cell_s(t, r, "key");
    g_autofree char *kid = id_of(key);
    g_autofree char *id = g_strdup_printf("model_summary-%s", kid);
    char buf[32];
    g_string_append(p->h, "<tr><th>");
    esc_max(p->h, key, 63);
    g_string_append(p->h, "</th>");
    td_text(p->h, id, fmt_cell(t, r, col_of(t, "value"), buf));
    g_string_append(p->h, "</tr>");
  }
  g_string_append(p->h, "</tbody></table></div></div>");
}

static gint cmp_abs_coef(gconstpointer a, gconstpointer b, gpointer data) {
  const PcTable *t = data;
  guint x = *(const guint *)a, y = *(const guint *)b;
  double cx = fabs(cell_d(t, x, "coefficient")), cy = fabs(cell_d(t, y, "coefficient"));
  if (cx != cy) return cx > cy ? -1 : 1;
  return x < y ? -1 : x > y;
}

static void model_coefs(Page *p, const PcTable *t) {
  static const char *const cols[] = {"Feature", "#Coefficient", "", NULL};
  g_autoptr(GArray) idx = g_array_new(FALSE, FALSE, sizeof(guint));
  for (guint r = 0; r < pc_table_nrows(t); r++) {
    double c = cell_d(t, r, "coefficient");
    if (strcmp(cell_s(t, r, "term"), "(intercept)") && cell_i(t, r, "dropped") == 0 && isfinite(c) && c != 0)
      g_array_append_val(idx, r);
  }
  if (!idx->len) return;
  g_array_sort_with_data(idx, cmp_abs_coef, (gpointer)t);
  guint n = MIN(idx->len, TOP_COEFS);
  double top = fabs(cell_d(t, g_array_index(idx, guint, 0), "coefficient"));
  g_string_append(p->h, "<h3>Strongest features</h3>");
  thead_cls(p->h, cols, "narrow");
  for (guint k = 0; k < n; k++) {
    guint r = g_array_index(idx, guint, k);
    g_autofree char *tid = id_of(cell_s(t, r, "term"));
    g_autofree char *pre = g_strdup_printf("model-%s", tid);
    g_string_append(p->h, "<tr><td class=\"lbl\">");
    esc_max(p->h, cell_s(t, r, "term"), 80);
    g_string_append(p->h, "</td>");
    td_col(p->h, t, r, "coefficient", pre);
    g_string_append(p->h, "<td>");
    div_bar(p->h, cell_d(t, r, "coefficient") / top);
    g_string_append(p->h, "</td></tr>");
  }
  tfoot(p->h);
  note(p->h, "Coefficients on standardized features, largest |coefficient| first: red raises the odds of reaching the "
             "target, green lowers them.");
}

static void at_risk(Page *p, const PcTable *t) {
  static const char *const cols[] = {"#Rank", "Customer", "#Score", NULL};
  char buf[32];
  snprintf(buf, sizeof buf, "%u", pc_table_nrows(t));
  g_string_append(p->h, "<h3>At-risk customers</h3><div class=\"kpis\">");
  kpi_card(p, "On the at-risk list", "at_risk-count", buf, "not yet at the target, highest scores");
  g_string_append(p->h, "</div>");
  guint n = MIN(pc_table_nrows(t), TOP_AT_RISK);
  if (!n) return;
  thead_cls(p->h, cols, "narrow");
  for (guint r = 0; r < n; r++) {
    g_autofree char *pre = row_prefix(t, r, "at_risk");
    g_string_append(p->h, "<tr>");
    td_col(p->h, t, r, "rank", NULL);
    g_string_append(p->h, "<td class=\"lbl\">");
    esc_max(p->h, cell_s(t, r, "customer_id"), 255);
    g_string_append(p->h, "</td>");
    td_col(p->h, t, r, "score", pre);
    g_string_append(p->h, "</tr>");
  }
  tfoot(p->h);
  note(p->h, "The top %u of %u; csv/at_risk.csv has the whole list.", n, pc_table_nrows(t));
}

static void section_model(Page *p) {
  const PcTable *ms = find_table(p->in, "model_summary"), *roc = find_table(p->in, "roc"),
                *m = find_table(p->in, "model"), *ar = find_table(p->in, "at_risk");
  if (!ms && !roc && !m && !ar) return;
  section_open(p, "model", "Outcome model",
               "A logistic regression of reaching the target on each customer's events before it, scored on a held-out "
               "test set (one customer in five).");
  if (roc || ms) {
    g_string_append(p->h, "<div class=\"grid2\">");
    if (roc) roc_svg(p, roc, ms);
    if (ms) model_summary(p, ms);
    g_string_append(p->h, "</div>");
  }
  if (m) model_coefs(p, m);
  if (ar) at_risk(p, ar);
  section_close(p);
}

/* ---- run facts and data quality ------------------------------------------------------ */

static void run_card(Page *p, const char *label, const char *key, const char *unit) {
  const char *v = j_get(p->run, key);
  if (!v) return;
  g_autofree char *id = g_strdup_printf("run-%s", key);
  g_autofree char *sid = id_of(id);
  g_autofree char *text = g_strdup_printf("%s%s", v, unit);
  kpi_card(p, label, sid, text, NULL);
}

static void run_phases(Page *p) {
  double total = 0, v;
  if (!j_double(p->run, "phases.total", &total) || total <= 0) {
    total = 0;
    for (guint i = 0; i < p->run->order->len; i++) {
      const char *k = g_ptr_array_index(p->run->order, i);
      if (g_str_has_prefix(k, "phases.") && j_double(p->run, k, &v)) total = MAX(total, v);
    }
  }
  g_string_append(p->h, "<div><h3>Time per phase (slowest rank)</h3><div class=\"tw\"><table><tbody>");
  for (guint i = 0; i < p->run->order->len && i < 4 * MAX_ROWS; i++) {
    const char *k = g_ptr_array_index(p->run->order, i);
    if (!g_str_has_prefix(k, "phases.") || strchr(k + 7, '.') || !j_double(p->run, k, &v)) continue;
    g_string_append(p->h, "<tr><th>");
    esc_max(p->h, k + 7, 63);
    g_string_append(p->h, "</th><td>");
    bar(p->h, total > 0 ? v / total : 0, strcmp(k, "phases.total") ? "" : "dark");
    g_string_append(p->h, "</td><td class=\"num\">");
    esc(p->h, j_get(p->run, k));
    g_string_append(p->h, " s</td></tr>");
  }
  g_string_append(p->h, "</tbody></table></div></div>");
}

static void run_ranks(Page *p) {
  static const char *const cols[] = {"#Rank", "#Events", "#Customers", "#Buckets", "#Bytes read", "#Peak RSS", "", NULL};
  static const char *const arr[] = {"events_per_rank", "plan.rank_customers", "plan.rank_buckets", "bytes_read_per_rank"};
  guint P = j_len(p->run, "peak_rss_bytes"), n = MIN(P, MAX_ROWS);
  double top = 0, v;
  for (guint r = 0; r < P; r++) {
    g_autofree char *k = g_strdup_printf("peak_rss_bytes.%u", r);
    if (j_double(p->run, k, &v)) top = MAX(top, v);
  }
  if (!n) return;
  g_string_append(p->h, "<div><h3>Per rank</h3>");
  thead(p->h, cols);
  for (guint r = 0; r < n; r++) {
    g_string_append_printf(p->h, "<tr><td class=\"num\">%u</td>", r);
    for (guint a = 0; a < G_N_ELEMENTS(arr); a++) {
      const char *s = j_item(p->run, arr[a], r);
      td_text(p->h, NULL, s ? s : "");
    }
    g_autofree char *k = g_strdup_printf("peak_rss_bytes.%u", r);
    v = 0;
    j_double(p->run, k, &v);
    g_string_append_printf(p->h, "<td class=\"num\">%.1f MiB</td><td>", v / 1048576.0);
    bar(p->h, top > 0 ? v / top : 0, "");
    g_string_append(p->h, "</td></tr>");
  }
  tfoot(p->h);
  if (P > n) note(p->h, "The first %u of %u ranks; run.json has all.", n, P);
  g_string_append(p->h, "</div>");
}

static void section_run(Page *p) {
  double wall;
  /* the report written by `parcours run` sees only the job part of
   * run.json (no timings), so that report.html is identical at any scale */
  if (!p->run || !j_double(p->run, "wall_s", &wall)) return;
  section_open(p, "run", "Run", "How the work was spread and how long it took (from run.json; timings vary between runs, results do not).");
  g_string_append(p->h, "<div class=\"kpis\">");
  run_card(p, "Ranks", "ranks", "");
  run_card(p, "Threads per rank", "threads", "");
  run_card(p, "Partition strategy", "plan.strategy", "");
  run_card(p, "Plan imbalance (cost)", "plan.imbalance_cost", "");
  run_card(p, "Plan imbalance (events)", "plan.imbalance_events", "");
  run_card(p, "Wall time", "wall_s", " s");
  run_card(p, "Events per second", "events_per_s", "");
  g_string_append(p->h, "</div><div class=\"grid2\">");
  run_phases(p);
  run_ranks(p);
  g_string_append(p->h, "</div>");
  section_close(p);
}

/* Sums of the batch records: rows, accepted, rejected and per reason
 * (reasons in order of first appearance). */
static void quality_sum(const GPtrArray *recs, uint64_t tot[3], GPtrArray *reasons, GHashTable *by) {
  static const char *const keys[3] = {"rows", "accepted", "rejected"};
  for (guint b = 0; b < recs->len; b++) {
    g_autoptr(Json) j = json_parse(g_ptr_array_index(recs, b));
    if (!j) continue;
    for (int k = 0; k < 3; k++)
      if (j_get(j, keys[k])) tot[k] += g_ascii_strtoull(j_get(j, keys[k]), NULL, 10);
    for (guint i = 0; i < j->order->len; i++) {
      const char *k = g_ptr_array_index(j->order, i);
      if (!g_str_has_prefix(k, "rejected_by_reason.")) continue;
      const char *reason = k + 19;
      gpointer old = g_hash_table_lookup(by, reason);
      if (!old) g_ptr_array_add(reasons, g_strdup(reason));
      uint64_t *v = old ? old : g_new0(uint64_t, 1);
      *v += g_ascii_strtoull(j_get(j, k), NULL, 10);
      if (!old) g_hash_table_insert(by, g_ptr_array_index(reasons, reasons->len - 1), v);
    }
  }
}

static void quality_reasons(Page *p, GPtrArray *reasons, GHashTable *by, uint64_t rejected) {
  char pb[32];
  static const char *const cols[] = {"Reason", "#Rows", "", NULL};
  g_string_append(p->h, "<h3>Rejected rows by reason</h3>");
  thead_cls(p->h, cols, "narrow");
  for (guint i = 0; i < reasons->len && i < MAX_ROWS; i++) {
    const char *r = g_ptr_array_index(reasons, i);
    uint64_t v = *(uint64_t *)g_hash_table_lookup(by, r);
    g_autofree char *rid = id_of(r);
    g_autofree char *id = g_strdup_printf("ingest-rejected-%s", rid);
    snprintf(pb, 32, "%" PRIu64, v);
    g_string_append(p->h, "<tr><td class=\"lbl\">");
    esc_max(p->h, r, 63);
    g_string_append(p->h, "</td>");
    td_text(p->h, id, pb);
    g_string_append(p->h, "<td>");
    bar(p->h, rejected ? (double)v / (double)rejected : 0, "red");
    g_string_append(p->h, "</td></tr>");
  }
  tfoot(p->h);
}

static void section_quality(Page *p) {
  const GPtrArray *recs = p->in->ingest_json;
  if (!recs || !recs->len) return;
  uint64_t tot[3] = {0, 0, 0};
  g_autoptr(GPtrArray) reasons = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GHashTable) by = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);
  quality_sum(recs, tot, reasons, by);
  section_open(p, "quality", "Data quality", "Rows read by ingest into the store this run used, summed over its batches. Rejected rows are listed with file, line and reason in the store's rejects files.");
  char b[3][32], pb[32], hb[64];
  for (int k = 0; k < 3; k++) snprintf(b[k], 32, "%" PRIu64, tot[k]);
  snprintf(hb, sizeof hb, "%s of rows", pct(pb, tot[0] ? (double)tot[2] / (double)tot[0] : 0));
  g_string_append(p->h, "<div class=\"kpis\">");
  snprintf(pb, sizeof pb, "%u", recs->len);
  kpi_card(p, "Batches", NULL, pb, NULL);
  kpi_card(p, "Data rows", "ingest-rows", b[0], NULL);
  kpi_card(p, "Accepted", "ingest-accepted", b[1], NULL);
  kpi_card(p, "Rejected", "ingest-rejected", b[2], hb);
  g_string_append(p->h, "</div>");
  if (reasons->len) quality_reasons(p, reasons, by, tot[2]);
  section_close(p);
}

/* ---- page frame ------------------------------------------------------------------ */

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

static void page_head(GString *out, const Page *p) {
  g_string_append(out, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                       "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
                       "<meta name=\"generator\" content=\"parcours\"><title>parcours report</title><style>");
  g_string_append(out, CSS);
  g_string_append(out, "</style></head><body><header class=\"top\"><div class=\"wrap\"><p class=\"brand\">parcours</p>"
                       "<h1>Customer journey report</h1><p class=\"sub\">");
  const PcTable *s = find_table(p->in, "summary");
  for (guint r = 0; s && r < pc_table_nrows(s); r++)
    if (!strcmp(cell_s(s, r, "key"), "customers") || !strcmp(cell_s(s, r, "key"), "events")) {
      char buf[32];
      g_string_append_printf(out, "%s %s \xc2\xb7 ", fmt_cell(s, r, col_of(s, "value"), buf), cell_s(s, r, "key"));
    }
  if (p->target) {
    g_string_append(out, "target: ");
    esc(out, p->target);
  } else {
    g_string_append(out, "no target configured");
  }
  g_string_append(out, "</p></div></header>\n");
}

char *pc_report_render(const PcReportInput *in) {
  g_return_val_if_fail(in != NULL, NULL);
  Page p = {in, g_string_new(NULL), g_string_new(NULL), json_parse(in->run_json), NULL};
  p.target = target_name(p.run);
  section_summary(&p);
  section_journeys(&p);
  section_preceding(&p);
  section_funnels(&p);
  section_drivers(&p);
  section_channels(&p);
  section_model(&p);
  section_run(&p);
  section_quality(&p);
  GString *out = g_string_sized_new(p.h->len + sizeof CSS + 4096);
  page_head(out, &p);
  g_string_append_printf(out, "<nav class=\"toc\"><div class=\"wrap\">%s</div></nav>\n<main class=\"wrap\">\n", p.nav->str);
  g_string_append_len(out, p.h->str, (gssize)p.h->len);
  if (!p.h->len) g_string_append(out, "<section><h2>No results</h2><p class=\"lede\">results.h5 holds none of the tables this report draws.</p></section>");
  g_string_append(out, "</main><footer class=\"wrap\">Every number in a table is the value of results.h5, written as in csv/. "
                       "Charts round for reading. Written by parcours report.</footer></body></html>\n");
  g_string_free(p.h, TRUE);
  g_string_free(p.nav, TRUE);
  json_free(p.run);
  g_free(p.target);
  g_assert(out->len < PC_REPORT_MAX_BYTES);
  return g_string_free(out, FALSE);
}

/* ---- files ---------------------------------------------------------------------- */

static const char *const table_names[] = {
    "summary", "variants", "ngrams", "transitions", "prefix_tree", "preceding_paths", "preceding_tokens",
    "funnels", "drivers", "channel_drivers", "channels", "nps", "attribution", "model", "model_summary",
    "roc", "scores", "at_risk"};

/* Tables of results.h5 the page draws (ngrams, transitions and scores are
 * not drawn: they are not read). A table that is absent is skipped; a
 * file that cannot be opened is an error. */
static gboolean read_tables(const char *h5, GPtrArray *tables, GError **error) {
  for (guint i = 0; i < G_N_ELEMENTS(table_names); i++) {
    const char *name = table_names[i];
    if (!strcmp(name, "ngrams") || !strcmp(name, "transitions") || !strcmp(name, "scores")) continue;
    PcTable *t = NULL;
    GError *e = NULL;
    if (pc_h5io_read_table(h5, name, &t, &e)) {
      g_ptr_array_add(tables, t);
    } else if (e->code == PC_ERROR_IO) {
      g_propagate_error(error, e);
      return FALSE;
    } else {
      g_error_free(e);
    }
  }
  return TRUE;
}

/* g_ptr_array_sort passes pointers to the elements. */
static gint cmp_name(gconstpointer a, gconstpointer b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The store's batch records (STORE/batch-NNNNNN.json, name order) when
 * run.json names a store that is readable from here; else empty. */
static GPtrArray *read_ingest(const char *run_json) {
  GPtrArray *recs = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(Json) j = json_parse(run_json);
  const char *store = j_get(j, "input.store");
  GDir *d = store ? g_dir_open(store, 0, NULL) : NULL;
  if (!d) return recs;
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
  for (const char *n; (n = g_dir_read_name(d));)
    if (g_str_has_prefix(n, "batch-") && g_str_has_suffix(n, ".json")) g_ptr_array_add(names, g_strdup(n));
  g_dir_close(d);
  g_ptr_array_sort(names, cmp_name);
  for (guint i = 0; i < names->len; i++) {
    g_autofree char *path = g_build_filename(store, g_ptr_array_index(names, i), NULL);
    char *text = NULL;
    if (g_file_get_contents(path, &text, NULL, NULL)) g_ptr_array_add(recs, text);
  }
  return recs;
}

gboolean pc_run_report(const char *dir, gboolean quiet, GError **error) {
  g_return_val_if_fail(dir != NULL, FALSE);
  g_autofree char *h5 = g_build_filename(dir, "results.h5", NULL);
  g_autofree char *out = g_build_filename(dir, "report.html", NULL);
  if (!g_file_test(h5, G_FILE_TEST_IS_REGULAR)) {
    pc_set_error(error, PC_ERROR_IO, "%s: no such file (is %s the output.dir of a run?)", h5, dir);
    return FALSE;
  }
  g_autoptr(GPtrArray) tables = g_ptr_array_new_with_free_func((GDestroyNotify)pc_table_free);
  if (!read_tables(h5, tables, error)) return FALSE;
  g_autofree char *run_path = g_build_filename(dir, "run.json", NULL);
  g_autofree char *run_json = NULL;
  if (!g_file_get_contents(run_path, &run_json, NULL, NULL)) run_json = NULL;
  g_autoptr(GPtrArray) ingest = read_ingest(run_json);
  PcReportInput in = {tables, run_json, ingest};
  g_autofree char *html = pc_report_render(&in);
  GError *e = NULL;
  /* g_file_set_contents writes a temporary file in dir and renames it */
  if (!g_file_set_contents(out, html, -1, &e)) {
    pc_set_error(error, PC_ERROR_IO, "%s: %s", out, e->message);
    g_error_free(e);
    return FALSE;
  }
  if (!quiet) fprintf(stderr, "parcours: report: report.html, %zu bytes\n", strlen(html));
  return TRUE;
}

/* ---- the command ------------------------------------------------------------------ */

int pc_cmd_report(PcComm *c, int argc, char **argv) {
  gboolean quiet = FALSE;
  char **rest = NULL;
  GOptionEntry entries[] = {
      {"quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "No progress line on stderr", NULL},
      {G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &rest, NULL, NULL},
      {NULL, 0, 0, 0, NULL, NULL, NULL}};
  int status;
  if (!pc_cmd_parse(c, "report", "OUTDIR",
                    "Writes OUTDIR/report.html from OUTDIR/results.h5, OUTDIR/run.json (optional) and the store's\n"
                    "ingest records (optional): one self-contained page, no network, no script.",
                    "`parcours run` writes the report itself; use this to redraw it, e.g. with run.json's timings.\n"
                    "Exit status 0 on success, 1 on failure, 2 on a usage error.",
                    entries, &argc, &argv, &status)) {
    g_strfreev(rest);
    return status;
  }
  if (!rest || !rest[0] || rest[1]) {
    if (pc_comm_rank(c) == 0) fprintf(stderr, "parcours report: exactly one OUTDIR is required (see --help)\n");
    g_strfreev(rest);
    return 2;
  }
  g_autoptr(GError) e = NULL;
  gboolean ok = pc_comm_rank(c) != 0 || pc_run_report(rest[0], quiet, &e);
  int rc = 0;
  if (!pc_comm_agree(c, ok, &e)) {
    pc_cmd_fail(c, "report", e);
    rc = 1;
  }
  g_strfreev(rest);
  return rc;
}
