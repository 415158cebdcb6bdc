/* diff.c - the work of `parcours diff PREV CUR -o DIR` (pc_diff_run,
 * pc_diff.h, spec §14): the two output directories read, every compared
 * table both have written as DIR/csv/<table>_diff.csv, DIR/diff.json
 * (tables on one side only, differing job settings) and DIR/report.html.
 *
 * Owns the file work of the diff: which source a directory offers
 * (results.h5 through pc_h5io.h, else csv/), the job settings of run.json
 * flattened to dotted keys, diff.json (json-glib), and the output
 * directory through pc_outdir.h (lock, DIR.tmp-PID, marker, rename). The
 * comparison is diff_table.c's, the page diff_page.c's. No MPI: rank 0.
 *
 * Invariants: DIR is never PREV or CUR, never inside either nor holding
 * either; nothing appears under DIR unless every file was written; the
 * outputs depend only on the tables and run.json "job" objects of the two
 * sides (no time, no process id).
 */
#include "pc_diff.h"
#include "pc_fs.h"
#include "pc_h5io.h"
#include "pc_json.h"
#include "pc_outdir.h"

#include <errno.h>
#include <stdio.h>

/* One side of the diff. */
typedef struct {
  const char *dir;    /* as given */
  char *h5;           /* DIR/results.h5, or NULL: csv/ is the source */
  char *csv;          /* DIR/csv */
  GPtrArray *tables;  /* table names, sorted bytewise */
  JsonNode *job;      /* run.json's "job", or NULL */
} Side;

static void side_clear(Side *s) {
  g_free(s->h5);
  g_free(s->csv);
  if (s->tables) g_ptr_array_unref(s->tables);
  if (s->job) json_node_unref(s->job);
}

static gint cmp_strp(gconstpointer a, gconstpointer b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The stems of DIR/csv/ *.csv, sorted. */
static gboolean list_csv(const char *csv, GPtrArray **out, GError **error) {
  GError *e = NULL;
  GDir *d = g_dir_open(csv, 0, &e);
  if (!d) {
    pc_set_error(error, PC_ERROR_IO, "%s: %s", csv, e->message);
    g_error_free(e);
    return FALSE;
  }
  *out = g_ptr_array_new_with_free_func(g_free);
  for (const char *n; (n = g_dir_read_name(d));)
    if (g_str_has_suffix(n, ".csv")) g_ptr_array_add(*out, g_strndup(n, strlen(n) - 4));
  g_dir_close(d);
  g_ptr_array_sort(*out, cmp_strp);
  return TRUE;
}

/* run.json's "job" object, or NULL when run.json is absent or unreadable
 * (the diff then lists no settings). */
static JsonNode *read_job(const char *dir) {
  g_autofree char *path = g_build_filename(dir, "run.json", NULL);
  g_autoptr(JsonParser) p = json_parser_new();
  if (!json_parser_load_from_file(p, path, NULL)) return NULL;
  JsonNode *root = json_parser_get_root(p);
  if (!root || !JSON_NODE_HOLDS_OBJECT(root)) return NULL;
  JsonNode *job = json_object_get_member(json_node_get_object(root), "job");
  return job ? json_node_copy(job) : NULL;
}

static gboolean side_open(Side *s, const char *dir, GError **error) {
  s->dir = dir;
  g_autofree char *h5 = g_build_filename(dir, "results.h5", NULL);
  s->csv = g_build_filename(dir, "csv", NULL);
  if (g_file_test(h5, G_FILE_TEST_IS_REGULAR)) {
    if (!pc_h5io_list_tables(h5, &s->tables, error)) return FALSE;
    s->h5 = g_steal_pointer(&h5);
  } else if (g_file_test(s->csv, G_FILE_TEST_IS_DIR)) {
    if (!list_csv(s->csv, &s->tables, error)) return FALSE;
  } else {
    pc_set_error(error, PC_ERROR_IO, "%s is not an output directory of parcours run (neither results.h5 nor csv/ in it)", dir);
    return FALSE;
  }
  s->job = read_job(dir);
  return TRUE;
}

static gboolean side_has(const Side *s, const char *name) {
  for (guint i = 0; i < s->tables->len; i++)
    if (!strcmp(g_ptr_array_index(s->tables, i), name)) return TRUE;
  return FALSE;
}

static gboolean side_read(const Side *s, const char *name, PcTextTable **out,
                          GError **error) {
  if (s->h5) {
    g_autoptr(PcTable) t = NULL;
    if (!pc_h5io_read_table(s->h5, name, &t, error)) return FALSE;
    *out = pc_text_table_from(t);
    return TRUE;
  }
  g_autofree char *path = g_strdup_printf("%s/%s.csv", s->csv, name);
  g_autofree char *text = NULL;
  GError *e = NULL;
  if (!g_file_get_contents(path, &text, NULL, &e)) {
    pc_set_error(error, PC_ERROR_IO, "%s: %s", path, e->message);
    g_error_free(e);
    return FALSE;
  }
  return pc_text_table_parse(name, text, out, error);
}

/* ---- job settings ---------------------------------------------------------------- */

/* The leaves of an object node as (dotted key, compact JSON) pairs, in
 * member order; arrays and scalars are leaves. */
static void flatten(JsonNode *n, const char *prefix, GPtrArray *keys,
                    GHashTable *val) {
  if (!n || !JSON_NODE_HOLDS_OBJECT(n) || (*prefix && !json_object_get_size(json_node_get_object(n)))) {
    if (!*prefix) return;
    g_ptr_array_add(keys, g_strdup(prefix));
    g_hash_table_replace(val, g_strdup(prefix), json_to_string(n, FALSE));
    return;
  }
  JsonObject *o = json_node_get_object(n);
  g_autoptr(GList) members = json_object_get_members(o);
  for (GList *m = members; m; m = m->next) {
    g_autofree char *k = *prefix ? g_strdup_printf("%s.%s", prefix, (char *)m->data) : g_strdup(m->data);
    flatten(json_object_get_member(o, m->data), k, keys, val);
  }
}

/* (key, prev, cur) triples of the settings that differ: CUR's keys in its
 * order, then the keys only PREV has; "" for a side without the key. */
static GPtrArray *job_differences(JsonNode *prev, JsonNode *cur) {
  GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GPtrArray) kp = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GPtrArray) kc = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GHashTable) vp = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr(GHashTable) vc = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  flatten(prev, "", kp, vp);
  flatten(cur, "", kc, vc);
  for (guint pass = 0; pass < 2; pass++) {
    GPtrArray *keys = pass ? kp : kc;
    for (guint i = 0; i < keys->len; i++) {
      const char *k = g_ptr_array_index(keys, i);
      const char *a = g_hash_table_lookup(vp, k), *b = g_hash_table_lookup(vc, k);
      if ((pass && b) || (a && b && !strcmp(a, b))) continue;
      g_ptr_array_add(out, g_strdup(k));
      g_ptr_array_add(out, g_strdup(a ? a : ""));
      g_ptr_array_add(out, g_strdup(b ? b : ""));
    }
  }
  return out;
}

/* ---- the diff ------------------------------------------------------------------------ */

typedef struct {
  Side p, c;
  GPtrArray *diffs;        /* PcTable *: <table>_diff, in table name order */
  GPtrArray *only_prev, *only_cur, *not_compared; /* char * table names */
  GPtrArray *job;          /* (key, prev, cur) triples */
} Diff;

static void diff_clear(Diff *d) {
  side_clear(&d->p);
  side_clear(&d->c);
  g_ptr_array_unref(d->diffs);
  g_ptr_array_unref(d->only_prev);
  g_ptr_array_unref(d->only_cur);
  g_ptr_array_unref(d->not_compared);
  if (d->job) g_ptr_array_unref(d->job);
}

/* Every table CUR has: compared with PREV's, or listed apart. */
static gboolean compare_tables(Diff *d, GError **error) {
  for (guint i = 0; i < d->c.tables->len; i++) {
    const char *name = g_ptr_array_index(d->c.tables, i);
    if (!side_has(&d->p, name)) {
      g_ptr_array_add(d->only_cur, g_strdup(name));
      continue;
    }
    if (!pc_diff_compares(name)) {
      g_ptr_array_add(d->not_compared, g_strdup(name));
      continue;
    }
    g_autoptr(PcTextTable) a = NULL;
    g_autoptr(PcTextTable) b = NULL;
    if (!side_read(&d->p, name, &a, error) || !side_read(&d->c, name, &b, error)) return FALSE;
    g_ptr_array_add(d->diffs, pc_diff_table(a, b));
  }
  for (guint i = 0; i < d->p.tables->len; i++)
    if (!side_has(&d->c, g_ptr_array_index(d->p.tables, i)))
      g_ptr_array_add(d->only_prev, g_strdup(g_ptr_array_index(d->p.tables, i)));
  d->job = job_differences(d->p.job, d->c.job);
  return TRUE;
}

static void json_names(JsonBuilder *b, const char *member, GPtrArray *names) {
  json_builder_set_member_name(b, member);
  json_builder_begin_array(b);
  for (guint i = 0; i < names->len; i++) pc_json_add_string(b, g_ptr_array_index(names, i));
  json_builder_end_array(b);
}

/* Rows of a diff table whose first compared column is empty on one side
 * (a row of that side only: the first compared column of every table of
 * spec §14 is never empty). *prev_only, *cur_only (OUT). */
static void one_sided(const PcTable *t, guint first, uint64_t *prev_only,
                      uint64_t *cur_only) {
  *prev_only = *cur_only = 0;
  for (guint r = 0; r < pc_table_nrows(t); r++) {
    *cur_only += !*pc_table_get_string(t, r, first);
    *prev_only += !*pc_table_get_string(t, r, first + 1);
  }
}

static void json_tables(JsonBuilder *b, const Diff *d) {
  json_builder_set_member_name(b, "tables");
  json_builder_begin_array(b);
  for (guint i = 0; i < d->diffs->len; i++) {
    const PcTable *t = g_ptr_array_index(d->diffs, i);
    guint first = 0;
    while (!g_str_has_suffix(pc_table_col_name(t, first), "_prev")) first++;
    uint64_t po, co;
    one_sided(t, first, &po, &co);
    json_builder_begin_object(b);
    g_autofree char *file = g_strdup_printf("csv/%s.csv", pc_table_name(t));
    g_autofree char *table = g_strndup(pc_table_name(t), strlen(pc_table_name(t)) - 5);
    pc_json_member_string(b, "table", table);
    pc_json_member_string(b, "file", file);
    pc_json_member_uint(b, "rows", pc_table_nrows(t));
    pc_json_member_uint(b, "rows_prev_only", po);
    pc_json_member_uint(b, "rows_cur_only", co);
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
}

/* "job": whether each side has run.json, and the differing settings with
 * their JSON values (null for a side without the key). */
static void json_job(JsonBuilder *b, const Diff *d) {
  json_builder_set_member_name(b, "job");
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "prev_run_json");
  json_builder_add_boolean_value(b, d->p.job != NULL);
  json_builder_set_member_name(b, "cur_run_json");
  json_builder_add_boolean_value(b, d->c.job != NULL);
  json_builder_set_member_name(b, "differences");
  json_builder_begin_array(b);
  for (guint i = 0; i + 2 < d->job->len; i += 3) {
    json_builder_begin_object(b);
    pc_json_member_string(b, "key", g_ptr_array_index(d->job, i));
    for (guint s = 1; s <= 2; s++) {
      const char *v = g_ptr_array_index(d->job, i + s);
      json_builder_set_member_name(b, s == 1 ? "prev" : "cur");
      json_builder_add_value(b, *v ? json_from_string(v, NULL) : json_node_new(JSON_NODE_NULL));
    }
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
  json_builder_end_object(b);
}

static char *diff_json(const Diff *d) {
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  pc_json_member_string(b, "prev", d->p.dir);
  pc_json_member_string(b, "cur", d->c.dir);
  json_builder_set_member_name(b, "source");
  json_builder_begin_object(b);
  pc_json_member_string(b, "prev", d->p.h5 ? "results.h5" : "csv");
  pc_json_member_string(b, "cur", d->c.h5 ? "results.h5" : "csv");
  json_builder_end_object(b);
  json_tables(b, d);
  json_names(b, "only_prev", d->only_prev);
  json_names(b, "only_cur", d->only_cur);
  json_names(b, "not_compared", d->not_compared);
  json_job(b, d);
  json_builder_end_object(b);
  return pc_json_text(b, TRUE);
}

static gboolean write_text(const char *dir, const char *name, const char *text,
                           GError **error) {
  g_autofree char *path = g_build_filename(dir, name, NULL);
  return pc_fs_write_atomic(path, text, strlen(text), error);
}

/* csv/, diff.json and report.html into the staging directory. */
static gboolean write_outputs(const Diff *d, const char *dir, GError **error) {
  g_autofree char *csv = g_build_filename(dir, "csv", NULL);
  if (g_mkdir_with_parents(csv, 0755) != 0) {
    pc_set_error(error, PC_ERROR_IO, "%s: %s", csv, g_strerror(errno));
    return FALSE;
  }
  for (guint i = 0; i < d->diffs->len; i++) {
    const PcTable *t = g_ptr_array_index(d->diffs, i);
    g_autofree char *path = g_strdup_printf("%s/%s.csv", csv, pc_table_name(t));
    if (!pc_table_write_csv(t, path, error)) return FALSE;
  }
  g_autofree char *json = diff_json(d);
  PcDiffPage page = {d->p.dir, d->c.dir, d->diffs, d->only_prev, d->only_cur, d->job};
  g_autofree char *html = pc_diff_render(&page);
  return write_text(dir, "diff.json", json, error) && write_text(dir, "report.html", html, error);
}

/* DIR locked and staged, apart from both inputs. */
static gboolean open_out(const PcDiffOpts *o, PcOutDir **out, GError **error) {
  return pc_outdir_check_apart(o->out, o->prev, "PREV", error) &&
         pc_outdir_check_apart(o->out, o->cur, "CUR", error) &&
         pc_outdir_open(o->out, o->cur, o->force, o->sig, out, error) && pc_outdir_stage(*out, error);
}

gboolean pc_diff_run(const PcDiffOpts *o, GError **error) {
  g_return_val_if_fail(o && o->prev && o->cur && o->out, FALSE);
  Diff d = {.diffs = g_ptr_array_new_with_free_func((GDestroyNotify)pc_table_free),
            .only_prev = g_ptr_array_new_with_free_func(g_free),
            .only_cur = g_ptr_array_new_with_free_func(g_free),
            .not_compared = g_ptr_array_new_with_free_func(g_free)};
  g_autoptr(PcOutDir) od = NULL;
  gboolean ok = side_open(&d.p, o->prev, error) && side_open(&d.c, o->cur, error) &&
                open_out(o, &od, error) && compare_tables(&d, error) &&
                write_outputs(&d, pc_outdir_staging(od), error) && pc_outdir_commit(od, error);
  if (!ok && od) pc_outdir_abandon(od);
  if (ok && !o->quiet)
    fprintf(stderr, "parcours: diff: %u tables compared, %u only in PREV, %u only in CUR, %u settings differ -> %s\n",
            d.diffs->len, d.only_prev->len, d.only_cur->len, d.job->len / 3, o->out);
  diff_clear(&d);
  return ok;
}
