/* config.c - the job file of spec §11 (docs/jobs.md) parsed into a
 * PcJobConfig, and the --set overrides.
 *
 * Owns PcJobConfig and PcFunnelConfig. Does not open the store or the output
 * directory, and makes no MPI or HDF5 calls: every rank parses the same text
 * and so builds the same struct.
 *
 * How a job is read:
 *  1. scan_text() walks the raw text line by line the way GKeyFile does, and
 *     rejects, with the line number, what GKeyFile would accept silently or
 *     report without a line: syntax errors, duplicate groups (GKeyFile merges
 *     them), duplicate keys (GKeyFile keeps the last), unknown groups/keys.
 *  2. GKeyFile loads the text; values (escapes, ';' lists) come from it.
 *  3. Every key of the file, in file order, then every override, in command
 *     line order, is parsed by the same typed setter (the KeySpec tables), so
 *     an override is validated exactly like the file and the last one wins.
 *  4. finish() checks what needs the whole job: required keys, funnel steps
 *     against their match mode, a funnel mode against its steps (§5),
 *     input.from < input.to; sorts the funnels and the flows.
 * Every failure is PC_ERROR_CONFIG (PC_ERROR_IO when the file cannot be read)
 * and its message starts with where: "JOB:LINE: [group] key" for the file,
 * "JOB: --set group.key" for an override.
 *
 * Invariants of a loaded PcJobConfig: store and dir non-empty; funnels and
 * flows sorted bytewise by name with unique names, every flow with an
 * anchor; every list non-empty with trimmed, non-empty items; target_events == NULL iff n_target_events == 0.
 * The key tables and setters are in config_keys.c, the JSON form in
 * config_json.c.
 */
#include "config_int.h"

#include <errno.h>
#include <stdlib.h>

/* ---- private prototypes -------------------------------------------------- */

static PcJobConfig *config_new(void);
static void funnel_free(gpointer p);
static void flow_free(gpointer p);
static void entry_free(gpointer p);
static gboolean scan_text(Loader *ld, const char *text, GPtrArray *entries,
                          GError **error);
static gboolean apply_override(Loader *ld, const char *ov, GError **error);
static gboolean finish(Loader *ld, GError **error);

/* ---- Construction -------------------------------------------------------- */

/* The defaults of spec §11 / docs/jobs.md. Cannot fail. */
static PcJobConfig *config_new(void) {
  PcJobConfig *c = g_new0(PcJobConfig, 1);
  c->top_k = 1000;
  c->strategy = PC_STRATEGY_BALANCED;
  c->cost_alpha = 1.0;
  c->batch_events = 4000000;
  c->token = PC_TOKEN_EVENT;
  c->unit = PC_UNIT_CUSTOMER;
  c->session_gap_s = 1800;
  c->ngram_max = 3;
  c->depth = 8;
  c->min_support = 1;
  c->lookback = 5;
  c->sequence_max = 3;
  c->sequence_min_customers = 10;
  c->attribution = TRUE;
  c->half_life_s = 604800;
  c->markov_order = 1;
  c->model = TRUE;
  c->lambda = 1e-3;
  c->top_n = 1000;
  c->max_iter = 100;
  c->solver = g_strdup("newton");
  c->report = TRUE;
  c->retention_periods = 12;
  return c;
}

static void funnel_clear(PcFunnelConfig *f) {
  g_free(f->name);
  g_strfreev(f->steps);
}

static void funnel_free(gpointer p) {
  if (!p) return;
  funnel_clear(p);
  g_free(p);
}

static void flow_clear(PcFlowConfig *f) {
  g_free(f->name);
  g_free(f->anchor);
}

static void flow_free(gpointer p) {
  if (!p) return;
  flow_clear(p);
  g_free(p);
}

void pc_config_free(PcJobConfig *c) {
  if (!c) return;
  g_free(c->job_path);
  g_free(c->store);
  g_free(c->dir);
  g_strfreev(c->target_events);
  for (guint i = 0; i < c->n_funnels; i++) funnel_clear(&c->funnels[i]);
  g_free(c->funnels);
  for (guint i = 0; i < c->n_flows; i++) flow_clear(&c->flows[i]);
  g_free(c->flows);
  g_free(c->nps_event);
  g_free(c->solver);
  g_strfreev(c->scope_segments);
  g_free(c->entry_event);
  g_free(c->return_event);
  g_free(c->spill_dir);
  g_free(c);
}

static void entry_free(gpointer p) {
  Entry *e = p;
  g_free(e->group);
  g_free(e->key);
  g_free(e);
}

/* ---- Pass 1: the text, line by line -------------------------------------- */

/* Mirrors GKeyFile: leading blanks skipped; '#' or nothing = comment;
 * "[name]" + blanks = group; "key = value" with a key before '='. */
typedef enum { LINE_COMMENT, LINE_GROUP, LINE_KEY, LINE_BAD } LineKind;

static LineKind classify_line(const char *s, char **name) {
  while (g_ascii_isspace(*s)) s++;
  if (*s == '#' || *s == '\0') return LINE_COMMENT;
  if (*s == '[') {
    const char *close = strchr(s, ']');
    if (!close) return LINE_BAD;
    const char *p = close + 1;
    while (*p == ' ' || *p == '\t') p++;
    if (*p) return LINE_BAD;
    *name = g_strndup(s + 1, (gsize)(close - s - 1));
    return LINE_GROUP;
  }
  const char *eq = strchr(s, '=');
  if (!eq || eq == s) return LINE_BAD;
  const char *end = eq;
  while (end > s && g_ascii_isspace(end[-1])) end--;
  *name = g_strndup(s, (gsize)(end - s));
  return LINE_KEY;
}

/* Records the group header; *current = its name (owned by ld->where). */
static gboolean scan_group(Loader *ld, char *name, guint line,
                           const char **current, GError **error) {
  g_autofree char *owned = name;
  const char *why = NULL;
  if (!*name || strchr(name, '['))
    why = "invalid group name";
  else if (strcmp(name, "funnel") == 0)
    why = "unknown group (funnel groups are named [funnel.NAME])";
  else if (strcmp(name, "flow") == 0)
    why = "unknown group (flow groups are named [flow.NAME])";
  else if (!pc_cfg_group_is_known(name))
    why = "unknown group";
  else
    pc_cfg_check_named_group(name, &why);
  for (const char *p = name; !why && *p; p++)
    if (g_ascii_iscntrl(*p)) why = "invalid group name";
  if (why) {
    g_autofree char *esc = g_strescape(name, NULL);
    pc_set_error(error, PC_ERROR_CONFIG, "%s:%u: [%s]: %s", ld->path, line, esc,
                 why);
    return FALSE;
  }
  guint first = GPOINTER_TO_UINT(g_hash_table_lookup(ld->lines, name));
  if (first) {
    pc_set_error(error, PC_ERROR_CONFIG,
                 "%s:%u: [%s]: duplicate group (first at line %u)", ld->path,
                 line, name, first);
    return FALSE;
  }
  *current = name;
  g_hash_table_insert(ld->lines, g_strdup(name), GUINT_TO_POINTER(line));
  g_hash_table_insert(ld->where, g_steal_pointer(&owned),
                      g_strdup_printf("%s:%u: [%s]", ld->path, line, name));
  return TRUE;
}

static gboolean scan_key(Loader *ld, const char *group, char *key, guint line,
                         GPtrArray *entries, GError **error) {
  g_autofree char *owned = key;
  g_autofree char *esc = g_strescape(key, NULL);
  if (!group) {
    pc_set_error(error, PC_ERROR_CONFIG, "%s:%u: %s: key outside of any group",
                 ld->path, line, esc);
    return FALSE;
  }
  if (!pc_cfg_find_spec(group, key)) {
    pc_set_error(error, PC_ERROR_CONFIG, "%s:%u: [%s] %s: unknown key", ld->path,
                 line, group, esc);
    return FALSE;
  }
  g_autofree char *id = g_strconcat(group, "\n", key, NULL);
  guint first = GPOINTER_TO_UINT(g_hash_table_lookup(ld->lines, id));
  if (first) {
    pc_set_error(error, PC_ERROR_CONFIG,
                 "%s:%u: [%s] %s: duplicate key (first at line %u)", ld->path,
                 line, group, key, first);
    return FALSE;
  }
  g_hash_table_insert(ld->lines, g_strdup(id), GUINT_TO_POINTER(line));
  g_hash_table_insert(ld->where, g_steal_pointer(&id),
                      g_strdup_printf("%s:%u: [%s] %s", ld->path, line, group, key));
  Entry *e = g_new0(Entry, 1);
  e->group = g_strdup(group);
  e->key = g_steal_pointer(&owned);
  g_ptr_array_add(entries, e);
  return TRUE;
}

/* Fills ld->where and entries (file order). FALSE with the first bad line. */
static gboolean scan_text(Loader *ld, const char *text, GPtrArray *entries,
                          GError **error) {
  g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
  const char *group = NULL; /* points into ld->where keys */
  for (guint i = 0; lines[i]; i++) {
    guint line = i + 1;
    char *name = NULL;
    g_strchomp(lines[i]); /* CR of CRLF, trailing blanks: GKeyFile drops them */
    switch (classify_line(lines[i], &name)) {
      case LINE_COMMENT:
        break;
      case LINE_GROUP:
        if (!scan_group(ld, name, line, &group, error)) return FALSE;
        break;
      case LINE_KEY:
        if (!scan_key(ld, group, name, line, entries, error)) return FALSE;
        break;
      case LINE_BAD: {
        g_autofree char *esc = g_strescape(lines[i], NULL);
        pc_set_error(error, PC_ERROR_CONFIG,
                     "%s:%u: \"%s\" is not a [group], key = value or # comment",
                     ld->path, line, esc);
        return FALSE;
      }
    }
  }
  return TRUE;
}

/* ---- Overrides ----------------------------------------------------------- */

static gboolean bad_override(Loader *ld, const char *ov, const char *why,
                             GError **error) {
  g_autofree char *esc = g_strescape(ov, NULL);
  pc_set_error(error, PC_ERROR_CONFIG, "%s: --set %s: %s", ld->path, esc, why);
  return FALSE;
}

/* Splits "group.key=value" at the first '=' and the last '.' before it. */
static gboolean split_override(Loader *ld, const char *ov, char **group,
                               char **key, char **value, GError **error) {
  const char *eq = strchr(ov, '=');
  if (!eq) return bad_override(ld, ov, "expected group.key=value", error);
  g_autofree char *left = g_strstrip(g_strndup(ov, (gsize)(eq - ov)));
  const char *dot = strrchr(left, '.');
  if (!dot || dot == left || !dot[1])
    return bad_override(ld, ov, "expected group.key=value", error);
  if (strpbrk(eq + 1, "\r\n"))
    return bad_override(ld, ov, "the value contains a line break", error);
  *group = g_strndup(left, (gsize)(dot - left));
  *key = g_strdup(dot + 1);
  *value = g_strdup(eq + 1);
  return TRUE;
}

static gboolean apply_override(Loader *ld, const char *ov, GError **error) {
  g_autofree char *group = NULL, *key = NULL, *value = NULL;
  if (!split_override(ld, ov, &group, &key, &value, error)) return FALSE;
  const char *why = NULL;
  if (!pc_cfg_group_is_known(group)) {
    g_autofree char *w = g_strdup_printf("unknown group [%s]", group);
    return bad_override(ld, ov, w, error);
  }
  if (!pc_cfg_check_named_group(group, &why))
    return bad_override(ld, ov, why, error);
  if (!pc_cfg_find_spec(group, key)) {
    g_autofree char *w = g_strdup_printf("unknown key %s in [%s]", key, group);
    return bad_override(ld, ov, w, error);
  }
  g_autofree char *where =
      g_strdup_printf("%s: --set %s.%s", ld->path, group, key);
  if (!g_hash_table_contains(ld->where, group))
    g_hash_table_insert(ld->where, g_strdup(group), g_strdup(where));
  g_hash_table_insert(ld->where, g_strconcat(group, "\n", key, NULL),
                      g_strdup(where));
  g_key_file_set_value(ld->kf, group, key, value);
  return pc_cfg_apply_key(ld, group, key, where, error);
}

/* ---- Pass 4: the whole job ----------------------------------------------- */

static gboolean require_key(Loader *ld, const char *group, const char *key,
                            GError **error) {
  g_autofree char *id = g_strconcat(group, "\n", key, NULL);
  if (g_hash_table_contains(ld->where, id)) return TRUE;
  const char *gw = g_hash_table_lookup(ld->where, group);
  if (gw)
    pc_set_error(error, PC_ERROR_CONFIG, "%s: missing required key %s", gw, key);
  else
    pc_set_error(error, PC_ERROR_CONFIG,
                 "%s: missing required group [%s] (key %s)", ld->path, group, key);
  return FALSE;
}

/* With match = channel:event a step is CHANNEL:EVENT (exactly one ':'). */
static gboolean check_step(const PcFunnelConfig *f, const char *step,
                           const char *where, GError **error) {
  const char *why = NULL;
  const char *colon = strchr(step, ':');
  if (!f->match_channel_event) {
    if (pc_cfg_check_name(step, FALSE, &why)) return TRUE;
    g_autofree char *w = g_strdup_printf("is not an event name: it %s", why);
    return pc_cfg_bad_value(where, step, w, error);
  }
  if (!colon || strchr(colon + 1, ':'))
    return pc_cfg_bad_value(where, step,
                     "must contain exactly one ':' (match = channel:event)", error);
  g_autofree char *ch = g_strndup(step, (gsize)(colon - step));
  if (!pc_cfg_check_name(ch, TRUE, &why) || !pc_cfg_check_name(colon + 1, FALSE, &why)) {
    g_autofree char *w = g_strdup_printf("is not CHANNEL:EVENT: a part %s", why);
    return pc_cfg_bad_value(where, step, w, error);
  }
  return TRUE;
}

/* Spec §5: a funnel with a mode has distinct steps (ClickHouse would let
 * one event serve two equal conditions), and allow_reentry needs
 * strict_order (ClickHouse refuses it alone). Both errors name the funnel. */
static gboolean check_mode(Loader *ld, const PcFunnelConfig *f,
                           const char *group, GError **error) {
  if (!f->mode) return TRUE;
  g_autofree char *id = g_strconcat(group, "\nmode", NULL);
  const char *where = g_hash_table_lookup(ld->where, id);
  if ((f->mode & PC_FUNNEL_ALLOW_REENTRY) && !(f->mode & PC_FUNNEL_STRICT_ORDER)) {
    pc_set_error(error, PC_ERROR_CONFIG,
                 "%s: funnel %s: allow_reentry needs strict_order", where, f->name);
    return FALSE;
  }
  for (guint i = 0; i < f->n_steps; i++)
    for (guint j = 0; j < i; j++)
      if (!strcmp(f->steps[i], f->steps[j])) {
        pc_set_error(error, PC_ERROR_CONFIG,
                     "%s: funnel %s: a mode needs distinct steps (step %u repeats step %u, \"%s\")",
                     where, f->name, i + 1, j + 1, f->steps[i]);
        return FALSE;
      }
  return TRUE;
}

static gboolean finish_funnel(Loader *ld, const PcFunnelConfig *f,
                              GError **error) {
  g_autofree char *group = g_strconcat(FUNNEL_PREFIX, f->name, NULL);
  if (!require_key(ld, group, "steps", error) ||
      !require_key(ld, group, "window", error))
    return FALSE;
  g_autofree char *id = g_strconcat(group, "\nsteps", NULL);
  const char *where = g_hash_table_lookup(ld->where, id);
  for (guint i = 0; i < f->n_steps; i++)
    if (!check_step(f, f->steps[i], where, error)) return FALSE;
  return check_mode(ld, f, group, error);
}

static int funnel_cmp(const void *a, const void *b) {
  return strcmp(((const PcFunnelConfig *)a)->name,
                ((const PcFunnelConfig *)b)->name);
}

/* Moves the funnels into cfg, sorted bytewise by name (strcmp compares
 * unsigned bytes): output order must not depend on hash order. */
static gboolean finish_funnels(Loader *ld, GError **error) {
  PcJobConfig *c = ld->cfg;
  guint n = g_hash_table_size(ld->funnels);
  c->funnels = g_new0(PcFunnelConfig, n ? n : 1);
  GHashTableIter it;
  gpointer v;
  g_hash_table_iter_init(&it, ld->funnels);
  while (g_hash_table_iter_next(&it, NULL, &v)) {
    g_hash_table_iter_steal(&it);
    c->funnels[c->n_funnels++] = *(PcFunnelConfig *)v;
    g_free(v);
  }
  qsort(c->funnels, c->n_funnels, sizeof *c->funnels, funnel_cmp);
  for (guint i = 0; i < c->n_funnels; i++)
    if (!finish_funnel(ld, &c->funnels[i], error)) return FALSE;
  if (c->n_funnels == 0) g_clear_pointer(&c->funnels, g_free);
  return TRUE;
}

static int flow_cmp(const void *a, const void *b) {
  return strcmp(((const PcFlowConfig *)a)->name, ((const PcFlowConfig *)b)->name);
}

/* Moves the flows into cfg, sorted bytewise by name (flows.csv order, spec
 * §15); each needs its anchor. */
static gboolean finish_flows(Loader *ld, GError **error) {
  PcJobConfig *c = ld->cfg;
  guint n = g_hash_table_size(ld->flows);
  c->flows = g_new0(PcFlowConfig, n ? n : 1);
  GHashTableIter it;
  gpointer v;
  g_hash_table_iter_init(&it, ld->flows);
  while (g_hash_table_iter_next(&it, NULL, &v)) {
    g_hash_table_iter_steal(&it);
    c->flows[c->n_flows++] = *(PcFlowConfig *)v;
    g_free(v);
  }
  qsort(c->flows, c->n_flows, sizeof *c->flows, flow_cmp);
  for (guint i = 0; i < c->n_flows; i++) {
    g_autofree char *group = g_strconcat(FLOW_PREFIX, c->flows[i].name, NULL);
    if (!require_key(ld, group, "anchor", error)) return FALSE;
  }
  if (c->n_flows == 0) g_clear_pointer(&c->flows, g_free);
  return TRUE;
}

static gboolean finish(Loader *ld, GError **error) {
  PcJobConfig *c = ld->cfg;
  if (!require_key(ld, "input", "store", error) ||
      !require_key(ld, "output", "dir", error))
    return FALSE;
  if (g_hash_table_contains(ld->where, "target") &&
      !require_key(ld, "target", "event", error))
    return FALSE;
  c->retention = g_hash_table_contains(ld->where, "retention");
  if (c->retention && !require_key(ld, "retention", "period", error))
    return FALSE;
  if (c->has_from && c->has_to && c->from_us >= c->to_us) {
    const char *where = g_hash_table_lookup(ld->where, "input\nto");
    pc_set_error(error, PC_ERROR_CONFIG,
                 "%s: must be later than input.from (events kept: from <= ts < to)",
                 where);
    return FALSE;
  }
  return finish_funnels(ld, error) && finish_flows(ld, error);
}

/* ---- Loading ------------------------------------------------------------- */

static gboolean load_all(Loader *ld, const char *text, char **overrides,
                         GError **error) {
  g_autoptr(GPtrArray) entries = g_ptr_array_new_with_free_func(entry_free);
  g_autoptr(GError) e = NULL;
  if (!scan_text(ld, text, entries, error)) return FALSE;
  /* After scan_text GKeyFile should accept the text; if it still does not,
   * its own message (without a line) is the best we have. */
  if (!g_key_file_load_from_data(ld->kf, text, (gsize)-1, G_KEY_FILE_NONE, &e)) {
    pc_set_error(error, PC_ERROR_CONFIG, "%s: %s", ld->path, e->message);
    return FALSE;
  }
  for (guint i = 0; i < entries->len; i++) {
    const Entry *en = g_ptr_array_index(entries, i);
    g_autofree char *id = g_strconcat(en->group, "\n", en->key, NULL);
    const char *where = g_hash_table_lookup(ld->where, id);
    if (!pc_cfg_apply_key(ld, en->group, en->key, where, error)) return FALSE;
  }
  for (guint i = 0; overrides && overrides[i]; i++)
    if (!apply_override(ld, overrides[i], error)) return FALSE;
  return finish(ld, error);
}

gboolean pc_config_load_data(const char *text, const char *path,
                             char **overrides, PcJobConfig **out,
                             GError **error) {
  g_return_val_if_fail(text != NULL && out != NULL, FALSE);
  g_return_val_if_fail(error == NULL || *error == NULL, FALSE);
  g_autoptr(GKeyFile) kf = g_key_file_new();
  g_autoptr(GHashTable) where =
      g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
  g_autoptr(GHashTable) funnels =
      g_hash_table_new_full(g_str_hash, g_str_equal, NULL, funnel_free);
  g_autoptr(GHashTable) flows =
      g_hash_table_new_full(g_str_hash, g_str_equal, NULL, flow_free);
  g_autoptr(GHashTable) lines =
      g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(PcJobConfig) cfg = config_new();
  cfg->job_path = g_strdup(path);
  Loader ld = {.path = path ? path : "(job)", .kf = kf, .cfg = cfg,
               .where = where, .funnels = funnels, .flows = flows,
               .lines = lines};
  /* A UTF-8 byte order mark (editors on Windows write one) is not part of
   * the first group name; GKeyFile would say '"\357\273\277[input]" is
   * not a group'. */
  if (g_str_has_prefix(text, "\xEF\xBB\xBF")) text += 3;
  if (!load_all(&ld, text, overrides, error)) return FALSE;
  *out = g_steal_pointer(&cfg);
  return TRUE;
}

gboolean pc_config_load(const char *path, char **overrides, PcJobConfig **out,
                        GError **error) {
  g_return_val_if_fail(path != NULL && out != NULL, FALSE);
  g_autofree char *text = NULL;
  gsize len = 0;
  g_autoptr(GError) e = NULL;
  if (!g_file_get_contents(path, &text, &len, &e)) {
    pc_set_error(error, PC_ERROR_IO, "%s: cannot read the job file: %s", path,
                 e->message);
    return FALSE;
  }
  size_t nul = strlen(text);
  if (nul != len) {
    guint line = 1;
    for (size_t i = 0; i < nul; i++) line += text[i] == '\n';
    pc_set_error(error, PC_ERROR_CONFIG, "%s:%u: contains a NUL byte", path, line);
    return FALSE;
  }
  return pc_config_load_data(text, path, overrides, out, error);
}

