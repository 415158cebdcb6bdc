/* h5results.c - results.h5, a run's tables in HDF5 (docs/format.md,
 * pc_h5io.h): writing every PcTable as a group with a compound dataset and
 * its "columns" attribute, reading one back (report, diff, tests) and
 * listing the tables of a file (diff).
 *
 * Owns the mapping of PcTable column types to HDF5 (int64, double,
 * variable-length string; money (micros) is the exact decimal text of the
 * CSV cell, a variable-length string marked ":micros" in "columns": a
 * PcMoney sum may not fit any HDF5 integer type a reader knows).
 * Does not own the tables' contents (analytics) nor the output directory
 * (cmd_run.c renames it into place).
 *
 * Invariant: the same tables give the same bytes (object time tracking off,
 * the in-memory image written by h5io.c, then path.tmp renamed to path).
 */
#include "h5io_int.h"

#include <errno.h>
#include <stdio.h>
#include <unistd.h>

/* ---- Writing ------------------------------------------------------------------- */

static const char *const col_type_names[] = {"int", "double", "micros", "string"};

/* The compound type of a table: 8 bytes per column (int64, double or a
 * variable-length string pointer). Caller closes. */
static hid_t table_type(const PcTable *t, hid_t vstr) {
  guint nc = pc_table_ncols(t);
  hid_t ct = H5Tcreate(H5T_COMPOUND, 8 * (size_t)nc);
  herr_t st = ct < 0 ? -1 : 0;
  for (guint c = 0; st >= 0 && c < nc; c++) {
    hid_t mt = H5T_NATIVE_INT64;
    PcColType ty = pc_table_col_type(t, c);
    if (ty == PC_COL_DOUBLE) mt = H5T_NATIVE_DOUBLE;
    if (ty == PC_COL_STRING || ty == PC_COL_MICROS) mt = vstr;
    st = H5Tinsert(ct, pc_table_col_name(t, c), 8 * (size_t)c, mt);
  }
  if (st < 0) pc_h5_close(ct);
  return st < 0 ? -1 : ct;
}

/* The text of a money cell ("" when empty), kept alive in keep. */
static const char *money_text(const PcTable *t, guint r, guint c,
                              GPtrArray *keep) {
  if (pc_table_is_empty(t, r, c)) return "";
  char buf[PC_MONEY_BYTES];
  char *s = g_strdup(pc_fmt_micros(buf, pc_table_get_micros(t, r, c)));
  g_ptr_array_add(keep, s);
  return s;
}

/* The rows as compound records, 8 bytes a cell. Strings point into t or
 * into keep (money text). Caller g_free()s. */
static guint64 *table_rows(const PcTable *t, GPtrArray *keep) {
  guint nc = pc_table_ncols(t), nr = pc_table_nrows(t);
  guint64 *buf = g_new0(guint64, (size_t)nr * nc + 1);
  for (guint r = 0; r < nr; r++)
    for (guint c = 0; c < nc; c++) {
      void *cellp = &buf[(size_t)r * nc + c];
      switch (pc_table_col_type(t, c)) {
      case PC_COL_INT: *(int64_t *)cellp = pc_table_get_int(t, r, c); break;
      case PC_COL_MICROS: *(const char **)cellp = money_text(t, r, c, keep); break;
      case PC_COL_DOUBLE: *(double *)cellp = pc_table_get_double(t, r, c); break;
      case PC_COL_STRING: *(const char **)cellp = pc_table_get_string(t, r, c); break;
      }
    }
  return buf;
}

/* "name:int|double|micros|string,...": lets a reader tell money
 * (millionths) from plain integers. Caller g_free()s. */
static char *table_columns(const PcTable *t) {
  GString *cols = g_string_new(NULL);
  for (guint c = 0; c < pc_table_ncols(t); c++)
    g_string_append_printf(cols, "%s%s:%s", c ? "," : "", pc_table_col_name(t, c), col_type_names[pc_table_col_type(t, c)]);
  return g_string_free(cols, FALSE);
}

static gboolean write_table(hid_t f, const PcTable *t, const char *file,
                            GError **error) {
  hsize_t nr = pc_table_nrows(t);
  hid_t vstr = pc_h5_string_type(0);
  hid_t ct = vstr < 0 ? -1 : table_type(t, vstr);
  g_autoptr(GPtrArray) keep = g_ptr_array_new_with_free_func(g_free);
  g_autofree guint64 *buf = table_rows(t, keep);
  g_autofree char *cols = table_columns(t);
  hid_t g = ct < 0 ? -1 : pc_h5_group_create(f, pc_table_name(t));
  gboolean ok = g >= 0 && pc_h5_write_attr_str(g, "columns", cols);
  hid_t sp = ok ? H5Screate_simple(1, &nr, NULL) : -1;
  hid_t d = sp < 0 ? -1 : pc_h5_dataset_create(g, "table", ct, sp);
  ok = d >= 0 && (nr == 0 || H5Dwrite(d, ct, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0);
  pc_h5_close(d);
  pc_h5_close(sp);
  pc_h5_close(g);
  pc_h5_close(ct);
  pc_h5_close(vstr);
  if (!ok) pc_set_error(error, PC_ERROR_IO, "%s: cannot write table %s (disk full?)", file, pc_table_name(t));
  return ok;
}

gboolean pc_h5io_write_results(const char *path, GPtrArray *tables,
                               GError **error) {
  g_autofree char *tmp = g_strdup_printf("%s.tmp", path);
  hid_t f = pc_h5_create_in_memory(tmp);
  if (f < 0) {
    pc_set_error(error, PC_ERROR_IO, "%s: cannot create", tmp);
    return FALSE;
  }
  gboolean ok = pc_h5_write_attr_str(f, "format", "parcours-results") &&
                pc_h5_write_attr_u64(f, "format_version", 2);
  if (!ok) pc_set_error(error, PC_ERROR_IO, "%s: cannot write attributes", tmp);
  for (guint i = 0; ok && i < tables->len; i++)
    ok = write_table(f, g_ptr_array_index(tables, i), tmp, error);
  ok = pc_h5_close_to_disk(f, ok, tmp, error);
  if (ok && rename(tmp, path) != 0) {
    pc_set_error(error, PC_ERROR_IO, "%s: %s", path, g_strerror(errno));
    ok = FALSE;
  }
  if (!ok) unlink(tmp);
  return ok;
}

/* ---- Reading -------------------------------------------------------------------- */

/* What a stored table looks like: its columns as "name:type" (types from
 * the member classes, micros from the "columns" attribute) and the memory
 * type to read it with. */
typedef struct {
  GPtrArray *cols; /* "name:type" strings */
  hid_t mt;        /* compound, 8 bytes a member; closed by the caller */
  int nc;
  gboolean *text;  /* [nc]: the member is a string (money as text) */
} TableShape;

static gboolean read_shape(hid_t f, const char *name, hid_t d, hid_t vstr,
                           TableShape *sh) {
  hid_t ft = H5Dget_type(d);
  hid_t grp = H5Gopen2(f, name, H5P_DEFAULT);
  g_autofree char *types = grp >= 0 ? pc_h5_read_attr_str(grp, "columns") : NULL;
  pc_h5_close(grp);
  g_auto(GStrv) typev = types ? g_strsplit(types, ",", -1) : NULL;
  sh->nc = ft < 0 ? -1 : H5Tget_nmembers(ft);
  sh->text = g_new0(gboolean, MAX(sh->nc, 1));
  sh->mt = sh->nc < 0 ? -1 : H5Tcreate(H5T_COMPOUND, 8 * (size_t)MAX(sh->nc, 1));
  herr_t st = sh->mt < 0 ? -1 : 0;
  for (int c = 0; st >= 0 && c < sh->nc; c++) {
    char *cn = H5Tget_member_name(ft, c);
    H5T_class_t cl = H5Tget_member_class(ft, c);
    const char *ty = cl == H5T_FLOAT ? "double" : cl == H5T_STRING ? "string" : "int";
    /* money: text (since results format 2) or int64 millionths (format 1) */
    if ((cl == H5T_INTEGER || cl == H5T_STRING) && typev && (guint)c < g_strv_length(typev) && g_str_has_suffix(typev[c], ":micros")) ty = "micros";
    sh->text[c] = cl == H5T_STRING;
    g_ptr_array_add(sh->cols, g_strdup_printf("%s:%s", cn, ty));
    st = H5Tinsert(sh->mt, cn, 8 * (size_t)c, cl == H5T_FLOAT ? H5T_NATIVE_DOUBLE : cl == H5T_STRING ? vstr : H5T_NATIVE_INT64);
    H5free_memory(cn);
  }
  pc_h5_close(ft);
  return st >= 0;
}

/* A money cell: text, or int64 millionths in files of format 1. */
static void set_money(PcTable *t, int c, const void *cp, gboolean text) {
  PcMoney m;
  if (!text) pc_table_set_micros(t, c, *(const int64_t *)cp);
  else if (*(char *const *)cp && pc_parse_micros(*(char *const *)cp, &m))
    pc_table_set_micros(t, c, m);
}

/* The records of buf (n rows of sh) as a new PcTable. */
static PcTable *table_from_rows(const char *name, const TableShape *sh,
                                const guint64 *buf, hsize_t n) {
  PcTable *t = pc_table_new(name, (const char *const *)sh->cols->pdata, (guint)sh->nc);
  for (hsize_t r = 0; r < n; r++) {
    pc_table_add_row(t);
    for (int c = 0; c < sh->nc; c++) {
      const void *cp = &buf[r * sh->nc + c];
      PcColType ty = pc_table_col_type(t, c);
      if (ty == PC_COL_DOUBLE) pc_table_set_double(t, c, *(const double *)cp);
      else if (ty == PC_COL_STRING) pc_table_set_string(t, c, *(char *const *)cp ? *(char *const *)cp : "");
      else if (ty == PC_COL_MICROS) set_money(t, c, cp, sh->text[c]);
      else pc_table_set_int(t, c, *(const int64_t *)cp);
    }
  }
  return t;
}

/* Reads dataset d (table name) into *out. */
static gboolean read_rows(hid_t f, const char *name, hid_t d, PcTable **out) {
  TableShape sh = {g_ptr_array_new_with_free_func(g_free), -1, 0, NULL};
  hid_t vstr = pc_h5_string_type(0);
  hid_t sp = H5Dget_space(d);
  hsize_t n = 0;
  gboolean ok = vstr >= 0 && sp >= 0 && read_shape(f, name, d, vstr, &sh) &&
                H5Sget_simple_extent_dims(sp, &n, NULL) >= 0;
  g_autofree guint64 *buf = ok ? g_new0(guint64, (size_t)n * sh.nc + 1) : NULL;
  ok = ok && (n == 0 || H5Dread(d, sh.mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0);
  if (ok) *out = table_from_rows(name, &sh, buf, n);
  if (ok && n) H5Dvlen_reclaim(sh.mt, sp, H5P_DEFAULT, buf);
  pc_h5_close(sp);
  pc_h5_close(sh.mt);
  pc_h5_close(vstr);
  g_ptr_array_unref(sh.cols);
  g_free(sh.text);
  return ok;
}

/* A results file of a format this code reads (1: money as int64; 2: money
 * as text); anything else, a store shard included, is refused by name. */
static gboolean check_results(hid_t f, const char *path, GError **error) {
  g_autofree char *fmt = pc_h5_read_attr_str(f, "format");
  uint64_t v = 0;
  if (!fmt || strcmp(fmt, "parcours-results") != 0) {
    pc_set_error(error, PC_ERROR_FORMAT, "%s: not a parcours results file (format attribute %s%s%s)", path, fmt ? "\"" : "", fmt ? fmt : "missing", fmt ? "\"" : "");
    return FALSE;
  }
  if (!pc_h5_read_attr_u64(f, "format_version", &v, path, NULL) || v < 1 || v > 2) {
    pc_set_error(error, PC_ERROR_FORMAT, "%s: results format version %" G_GUINT64_FORMAT " is not one this parcours reads (1, 2)", path, v);
    return FALSE;
  }
  return TRUE;
}

gboolean pc_h5io_read_table(const char *path, const char *name, PcTable **out,
                            GError **error) {
  hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  if (f < 0) {
    pc_set_error(error, PC_ERROR_IO, "%s: cannot open", path);
    return FALSE;
  }
  if (!check_results(f, path, error)) {
    pc_h5_close(f);
    return FALSE;
  }
  g_autofree char *dname = g_strdup_printf("%s/table", name);
  hid_t d = H5Lexists(f, name, H5P_DEFAULT) > 0 ? H5Dopen2(f, dname, H5P_DEFAULT) : -1;
  if (d < 0) {
    pc_h5_close(f);
    pc_set_error(error, PC_ERROR_FORMAT, "%s: no table %s", path, name);
    return FALSE;
  }
  gboolean ok = read_rows(f, name, d, out);
  pc_h5_close(d);
  pc_h5_close(f);
  if (!ok) pc_set_error(error, PC_ERROR_FORMAT, "%s: cannot read table %s", path, name);
  return ok;
}

/* A member of the root is a table when it holds a "table" dataset. */
static herr_t add_group(hid_t loc, const char *name, const H5L_info_t *info,
                        void *user) {
  g_autofree char *ds = g_strdup_printf("%s/table", name);
  if (H5Lexists(loc, name, H5P_DEFAULT) > 0 && H5Lexists(loc, ds, H5P_DEFAULT) > 0)
    g_ptr_array_add(user, g_strdup(name));
  return 0;
}

static gint cmp_strp(gconstpointer a, gconstpointer b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

gboolean pc_h5io_list_tables(const char *path, GPtrArray **out,
                             GError **error) {
  hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  if (f < 0) {
    pc_set_error(error, PC_ERROR_IO, "%s: cannot open", path);
    return FALSE;
  }
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
  gboolean ok = check_results(f, path, error);
  if (ok && H5Literate(f, H5_INDEX_NAME, H5_ITER_NATIVE, NULL, add_group, names) < 0) {
    pc_set_error(error, PC_ERROR_FORMAT, "%s: cannot list its tables", path);
    ok = FALSE;
  }
  pc_h5_close(f);
  if (!ok) return FALSE;
  g_ptr_array_sort(names, cmp_strp);
  *out = g_steal_pointer(&names);
  return TRUE;
}
