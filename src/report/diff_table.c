/* diff_table.c - one table of `parcours diff` (pc_diff.h, spec §14): the
 * tables as the text of their cells, which columns are keys and which are
 * compared, the union of the keys, exact deltas and the two-proportion z
 * test of funnel conversion.
 *
 * Owns the comparison rules: the key and compared columns of every table
 * spec §14 names (specs[] below) and the kind of every compared column
 * (integer, double, money). Does not own reading or writing files (diff.c)
 * nor the page (diff_page.c). Pure: no file, no MPI, no HDF5.
 *
 * Invariants: a delta is computed from the two printed cells only, so a
 * table read from results.h5 and the same table read from csv/ give the
 * same bytes; integers and money are exact (128-bit), a double delta is
 * cur - prev of the two printed values, printed by the §10 rule.
 */
#include "pc_diff.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#define CELL_BYTES 64 /* a formatted number: PC_MONEY_BYTES and "%.12g" fit */
#define KEY_SEP "\x1f" /* joins key cells: no cell holds a control byte (§1) */

typedef enum { K_INT, K_DOUBLE, K_MONEY } Kind;

typedef struct {
  const char *col;
  Kind kind;
} Cmp;

typedef struct {
  const char *table;
  const char *keys[4];  /* NULL-terminated when fewer */
  Cmp cmp[7];           /* col NULL-terminated when fewer */
  gboolean ztest;       /* funnels: z and p_value of conv_first */
} Spec;

#define DRIVER_COLS {{"customers", K_INT}, {"rate_with", K_DOUBLE}, {"lift", K_DOUBLE}, \
                     {"revenue_at_risk", K_MONEY}}

/* Spec §14: what is compared, and its kind as the tables of §10 print it. */
static const Spec specs[] = {
    {"summary", {"key"}, {{"value", K_INT}}, FALSE},
    {"variants", {"path"}, {{"journeys", K_INT}, {"share", K_DOUBLE}, {"rank", K_INT}}, FALSE},
    {"funnels", {"funnel", "split", "step", "token"},
     {{"customers", K_INT}, {"conv_first", K_DOUBLE}}, TRUE},
    {"drivers", {"token"}, DRIVER_COLS, FALSE},
    {"channel_drivers", {"channel"}, DRIVER_COLS, FALSE},
    {"channels", {"channel"},
     {{"events", K_INT}, {"customers", K_INT}, {"outcome_rate", K_DOUBLE}, {"value_sum", K_MONEY}},
     FALSE},
    {"nps", {"channel"}, {{"responses", K_INT}, {"nps", K_DOUBLE}}, FALSE},
    {"attribution", {"channel"},
     {{"first_touch", K_INT}, {"last_touch", K_INT}, {"linear", K_DOUBLE},
      {"markov_removal_effect", K_DOUBLE}, {"markov_share", K_DOUBLE},
      {"markov_conversions", K_DOUBLE}},
     FALSE},
    {"segments", {"segment"},
     {{"customers", K_INT}, {"events", K_INT}, {"customers_with_outcome", K_INT},
      {"outcome_rate", K_DOUBLE}, {"revenue", K_MONEY}, {"revenue_at_risk", K_MONEY}},
     FALSE},
};

/* ---- text tables ------------------------------------------------------------ */

void pc_text_table_free(PcTextTable *t) {
  if (!t) return;
  g_free(t->name);
  g_ptr_array_unref(t->cols);
  g_ptr_array_unref(t->rows);
  g_free(t);
}

static PcTextTable *text_table_new(const char *name) {
  PcTextTable *t = g_new0(PcTextTable, 1);
  t->name = g_strdup(name);
  t->cols = g_ptr_array_new_with_free_func(g_free);
  t->rows = g_ptr_array_new_with_free_func((GDestroyNotify)g_strfreev);
  return t;
}

/* A cell as csv/ writes it (an empty integer is INT64_MIN in results.h5). */
static char *cell_text(const PcTable *t, guint r, guint c) {
  char buf[CELL_BYTES];
  if (pc_table_is_empty(t, r, c)) return g_strdup("");
  switch (pc_table_col_type(t, c)) {
  case PC_COL_STRING: return g_strdup(pc_table_get_string(t, r, c));
  case PC_COL_DOUBLE: return g_strdup(pc_fmt_double(buf, pc_table_get_double(t, r, c)));
  case PC_COL_MICROS: return g_strdup(pc_fmt_micros(buf, pc_table_get_micros(t, r, c)));
  case PC_COL_INT: break;
  }
  int64_t v = pc_table_get_int(t, r, c);
  return v == INT64_MIN ? g_strdup("") : g_strdup_printf("%" G_GINT64_FORMAT, v);
}

PcTextTable *pc_text_table_from(const PcTable *t) {
  PcTextTable *x = text_table_new(pc_table_name(t));
  guint nc = pc_table_ncols(t);
  for (guint c = 0; c < nc; c++) g_ptr_array_add(x->cols, g_strdup(pc_table_col_name(t, c)));
  for (guint r = 0; r < pc_table_nrows(t); r++) {
    char **row = g_new0(char *, nc + 1);
    for (guint c = 0; c < nc; c++) row[c] = cell_text(t, r, c);
    g_ptr_array_add(x->rows, row);
  }
  return x;
}

gboolean pc_text_table_parse(const char *name, const char *text,
                             PcTextTable **out, GError **error) {
  g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
  guint n = g_strv_length(lines);
  if (n && !*lines[n - 1]) n--; /* the final LF */
  if (!n || !*lines[0]) {
    pc_set_error(error, PC_ERROR_FORMAT, "%s.csv: no header line", name);
    return FALSE;
  }
  g_autoptr(PcTextTable) t = text_table_new(name);
  g_auto(GStrv) head = g_strsplit(lines[0], ",", -1);
  guint nc = g_strv_length(head);
  for (guint c = 0; c < nc; c++) g_ptr_array_add(t->cols, g_strdup(head[c]));
  for (guint i = 1; i < n; i++) {
    char **row = g_strsplit(lines[i], ",", -1);
    if (g_strv_length(row) != nc) {
      g_strfreev(row);
      pc_set_error(error, PC_ERROR_FORMAT, "%s.csv: line %u has %u fields, the header %u", name, i + 1, g_strv_length(row), nc);
      return FALSE;
    }
    g_ptr_array_add(t->rows, row);
  }
  *out = g_steal_pointer(&t);
  return TRUE;
}

/* ---- the comparison -------------------------------------------------------------- */

static const Spec *spec_of(const char *name) {
  for (guint i = 0; i < G_N_ELEMENTS(specs); i++)
    if (!strcmp(specs[i].table, name)) return &specs[i];
  return NULL;
}

gboolean pc_diff_compares(const char *name) { return spec_of(name) != NULL; }

static gint col_of(const PcTextTable *t, const char *name) {
  for (guint c = 0; c < t->cols->len; c++)
    if (!strcmp(g_ptr_array_index(t->cols, c), name)) return (gint)c;
  return -1;
}

/* Cell (row r, column called name) of t, "" when t, the row or the column
 * is absent. */
static const char *cell(const PcTextTable *t, gint r, const char *name) {
  gint c = t && r >= 0 ? col_of(t, name) : -1;
  return c < 0 ? "" : ((char **)g_ptr_array_index(t->rows, (guint)r))[c];
}

static char *key_of(const Spec *s, const PcTextTable *t, guint r) {
  GString *k = g_string_new(NULL);
  for (guint i = 0; i < G_N_ELEMENTS(s->keys) && s->keys[i]; i++)
    g_string_append_printf(k, "%s%s", i ? KEY_SEP : "", cell(t, (gint)r, s->keys[i]));
  return g_string_free(k, FALSE);
}

/* key -> first row + 1 of t. */
static GHashTable *index_rows(const Spec *s, const PcTextTable *t) {
  GHashTable *h = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  for (guint r = 0; t && r < t->rows->len; r++) {
    char *k = key_of(s, t, r);
    if (g_hash_table_contains(h, k)) g_free(k);
    else g_hash_table_insert(h, k, GUINT_TO_POINTER(r + 1));
  }
  return h;
}

static gboolean parse_i64(const char *s, int64_t *v) {
  return *s && g_ascii_string_to_signed(s, 10, INT64_MIN, INT64_MAX, v, NULL);
}

/* A double of §10 text: a number, inf, -inf or nan. */
static gboolean parse_double(const char *s, double *v) {
  char *end = NULL;
  if (!*s) return FALSE;
  *v = g_ascii_strtod(s, &end);
  return *end == 0;
}

/* Decimal text of a 128-bit integer. buf: CELL_BYTES. */
static const char *fmt_i128(char *buf, __int128 v) {
  char tmp[48];
  int n = 0;
  unsigned __int128 u = v < 0 ? -(unsigned __int128)v : (unsigned __int128)v;
  do tmp[n++] = (char)('0' + (int)(u % 10)); while ((u /= 10) > 0);
  int k = 0;
  if (v < 0) buf[k++] = '-';
  while (n) buf[k++] = tmp[--n];
  buf[k] = 0;
  return buf;
}

/* cur - prev of two cells of kind k, "" when either is empty or not a
 * number. buf: CELL_BYTES. */
static const char *delta(Kind k, const char *prev, const char *cur, char *buf) {
  int64_t a, b;
  PcMoney x, y;
  double u, v;
  if (k == K_INT && parse_i64(prev, &a) && parse_i64(cur, &b))
    return fmt_i128(buf, (__int128)b - a);
  if (k == K_MONEY && pc_parse_micros(prev, &x) && pc_parse_micros(cur, &y))
    return pc_fmt_micros(buf, y - x);
  if (k == K_DOUBLE && parse_double(prev, &u) && parse_double(cur, &v))
    return pc_fmt_double(buf, v - u);
  return "";
}

void pc_diff_ztest(int64_t x1, int64_t n1, int64_t x2, int64_t n2, double *z,
                   double *p_value) {
  *z = *p_value = NAN;
  if (n1 <= 0 || n2 <= 0) return;
  double pool = (double)(x1 + x2) / (double)(n1 + n2);
  double var = pool * (1 - pool) * (1.0 / (double)n1 + 1.0 / (double)n2);
  if (!(var > 0)) return;
  *z = ((double)x2 / (double)n2 - (double)x1 / (double)n1) / sqrt(var);
  *p_value = erfc(fabs(*z) / sqrt(2.0));
}

/* Customers at step 1 of (funnel, split) in t, by "funnel\x1fsplit". */
static GHashTable *funnel_bases(const PcTextTable *t) {
  GHashTable *h = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  for (guint r = 0; t && r < t->rows->len; r++) {
    int64_t n;
    if (strcmp(cell(t, (gint)r, "step"), "1") || !parse_i64(cell(t, (gint)r, "customers"), &n)) continue;
    char *k = g_strconcat(cell(t, (gint)r, "funnel"), KEY_SEP, cell(t, (gint)r, "split"), NULL);
    g_hash_table_replace(h, k, g_memdup2(&n, sizeof n));
  }
  return h;
}

/* The step-1 customers of row r's (funnel, split) in t, or -1. */
static int64_t base_of(GHashTable *bases, const PcTextTable *t, gint r) {
  g_autofree char *k = g_strconcat(cell(t, r, "funnel"), KEY_SEP, cell(t, r, "split"), NULL);
  const int64_t *n = g_hash_table_lookup(bases, k);
  return n ? *n : -1;
}

/* z and p_value cells of a funnel row present on both sides (rp, rc):
 * nan on step 1; from the exact counts, not the printed conv_first. */
static void ztest_cells(PcTable *out, guint col, const PcTextTable *p, gint rp,
                        const PcTextTable *c, gint rc, GHashTable *bp,
                        GHashTable *bc) {
  char buf[CELL_BYTES];
  int64_t x1, x2;
  double z = NAN, pv = NAN;
  if (rp < 0 || rc < 0) return;
  if (strcmp(cell(c, rc, "step"), "1") && parse_i64(cell(p, rp, "customers"), &x1) &&
      parse_i64(cell(c, rc, "customers"), &x2))
    pc_diff_ztest(x1, base_of(bp, p, rp), x2, base_of(bc, c, rc), &z, &pv);
  pc_table_set_string(out, col, pc_fmt_double(buf, z));
  pc_table_set_string(out, col + 1, pc_fmt_double(buf, pv));
}

/* The output table's columns, all strings. */
static PcTable *diff_new(const Spec *s) {
  g_autoptr(GPtrArray) cols = g_ptr_array_new_with_free_func(g_free);
  for (guint i = 0; i < G_N_ELEMENTS(s->keys) && s->keys[i]; i++)
    g_ptr_array_add(cols, g_strdup_printf("%s:string", s->keys[i]));
  for (guint i = 0; i < G_N_ELEMENTS(s->cmp) && s->cmp[i].col; i++)
    for (guint w = 0; w < 3; w++)
      g_ptr_array_add(cols, g_strdup_printf("%s_%s:string", s->cmp[i].col,
                                            (const char *[]){"prev", "cur", "delta"}[w]));
  if (s->ztest) {
    g_ptr_array_add(cols, g_strdup("z:string"));
    g_ptr_array_add(cols, g_strdup("p_value:string"));
  }
  g_autofree char *name = g_strdup_printf("%s_diff", s->table);
  return pc_table_new(name, (const char *const *)cols->pdata, cols->len);
}

typedef struct {
  const Spec *s;
  const PcTextTable *p, *c;
  GHashTable *bp, *bc;  /* funnels: step-1 customers per side */
} Pair;

/* One output row of the rows rp (PREV) and rc (CUR), -1 when absent. */
static void diff_row(PcTable *out, const Pair *x, gint rp, gint rc) {
  char buf[CELL_BYTES];
  guint col = 0;
  pc_table_add_row(out);
  for (guint i = 0; i < G_N_ELEMENTS(x->s->keys) && x->s->keys[i]; i++)
    pc_table_set_string(out, col++, rc >= 0 ? cell(x->c, rc, x->s->keys[i]) : cell(x->p, rp, x->s->keys[i]));
  for (guint i = 0; i < G_N_ELEMENTS(x->s->cmp) && x->s->cmp[i].col; i++) {
    const char *a = cell(x->p, rp, x->s->cmp[i].col), *b = cell(x->c, rc, x->s->cmp[i].col);
    pc_table_set_string(out, col++, a);
    pc_table_set_string(out, col++, b);
    pc_table_set_string(out, col++, delta(x->s->cmp[i].kind, a, b, buf));
  }
  if (x->s->ztest) ztest_cells(out, col, x->p, rp, x->c, rc, x->bp, x->bc);
}

PcTable *pc_diff_table(const PcTextTable *prev, const PcTextTable *cur) {
  const Spec *s = spec_of(cur ? cur->name : prev->name);
  if (!s) return NULL;
  Pair x = {s, prev, cur, s->ztest ? funnel_bases(prev) : NULL, s->ztest ? funnel_bases(cur) : NULL};
  g_autoptr(GHashTable) ip = index_rows(s, prev), ic = index_rows(s, cur);
  PcTable *out = diff_new(s);
  for (guint r = 0; cur && r < cur->rows->len; r++) {
    g_autofree char *k = key_of(s, cur, r);
    diff_row(out, &x, (gint)GPOINTER_TO_UINT(g_hash_table_lookup(ip, k)) - 1, (gint)r);
  }
  for (guint r = 0; prev && r < prev->rows->len; r++) {
    g_autofree char *k = key_of(s, prev, r);
    if (!g_hash_table_contains(ic, k) && GPOINTER_TO_UINT(g_hash_table_lookup(ip, k)) == r + 1)
      diff_row(out, &x, (gint)r, -1);
  }
  if (x.bp) g_hash_table_unref(x.bp);
  if (x.bc) g_hash_table_unref(x.bc);
  return out;
}
