/* config_keys.c - the keys of the job file (docs/jobs.md): one table entry
 * per key with its kind, field and range, the small parsers, name rules,
 * and the typed setters that write a value into PcJobConfig (pass 3 of
 * config.c). Adding a key = one line in a table (+ a field + docs).
 * No MPI, no HDF5.
 */
#include "config_int.h"
#include "pc_time.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>

/* Setters write enum and gboolean fields through an int; these hold on every
 * ABI we build for, and the build fails loudly where they would not. */
_Static_assert(sizeof(PcTokenMode) == sizeof(int), "enum size");
_Static_assert(sizeof(PcUnit) == sizeof(int), "enum size");
_Static_assert(sizeof(PcStrategy) == sizeof(int), "enum size");
_Static_assert(sizeof(PcFunnelSplit) == sizeof(int), "enum size");
_Static_assert(sizeof(PcPeriod) == sizeof(int), "enum size");
_Static_assert(sizeof(gboolean) == sizeof(int), "gboolean size");

/* ---- Key tables ---------------------------------------------------------- */


const char *const pc_cfg_token_choices[] = {"event", "channel", "channel:event",
                                            NULL};
const char *const pc_cfg_unit_choices[] = {"customer", "session", NULL};
const char *const pc_cfg_strategy_choices[] = {"balanced", "hash", "range",
                                               NULL};
const char *const pc_cfg_solver_choices[] = {"newton", NULL};
const char *const pc_cfg_match_choices[] = {"event", "channel:event", NULL};
const char *const pc_cfg_split_choices[] = {"none", "channel", "segment", NULL};
const char *const pc_cfg_period_choices[] = {"day", "week", "month", NULL};
const char *const pc_cfg_direction_choices[] = {"after", "before", NULL};
/* Bit i of PcFunnelMode is the i-th name (ClickHouse's spellings). */
const char *const pc_config_funnel_modes[] = {
    "strict_order", "strict_deduplication", "strict_increase", "strict_once",
    "allow_reentry", NULL};


/* Order = the order of docs/jobs.md. Defaults live in config_new(). */
const KeySpec pc_cfg_job_keys[] = {
  {"input", "store", V_STRING, JF(store)},
  {"input", "from", V_TIME, JF(from_us), .off2 = offsetof(PcJobConfig, has_from)},
  {"input", "to", V_TIME, JF(to_us), .off2 = offsetof(PcJobConfig, has_to)},
  {"input", "max_reject_fraction", V_DOUBLE, JF(max_reject_fraction),
   .dmin = 0, .dmax = 1, .range = "0..1"},
  {"scope", "segments", V_LIST, JF(scope_segments),
   .off2 = offsetof(PcJobConfig, n_scope_segments)},
  {"scope", "entry_event", V_EVENT, JF(entry_event)},
  {"output", "dir", V_STRING, JF(dir)},
  {"output", "top_k", V_INT, JF(top_k), .min = 1, .max = INT64_MAX, .range = ">= 1"},
  {"partition", "strategy", V_CHOICE, JF(strategy), .choices = pc_cfg_strategy_choices},
  {"partition", "alpha", V_DOUBLE, JF(cost_alpha), .dmin = 0, .dmax = HUGE_VAL,
   .range = ">= 0"},
  {"partition", "batch_events", V_INT, JF(batch_events), .min = 1000,
   .max = INT64_MAX, .range = ">= 1000"},
  {"path", "token", V_CHOICE, JF(token), .choices = pc_cfg_token_choices},
  {"path", "collapse_repeats", V_BOOL, JF(collapse_repeats)},
  {"path", "unit", V_CHOICE, JF(unit), .choices = pc_cfg_unit_choices},
  {"path", "session_gap", V_INT, JF(session_gap_s), .min = 0, .max = MAX_SECONDS,
   .range = "0..9223372036854"},
  {"path", "ngram_max", V_INT, JF(ngram_max), .min = 1, .max = 16, .range = "1..16"},
  {"path", "depth", V_INT, JF(depth), .min = 1, .max = 64, .range = "1..64"},
  {"path", "min_support", V_INT, JF(min_support), .min = 1, .max = INT64_MAX,
   .range = ">= 1"},
  {"target", "event", V_EVENTS, JF(target_events),
   .off2 = offsetof(PcJobConfig, n_target_events)},
  {"target", "lookback", V_INT, JF(lookback), .min = 1, .max = 64, .range = "1..64"},
  {"target", "sequence_max", V_INT, JF(sequence_max), .min = 2, .max = 8, .range = "2..8"},
  {"target", "sequence_min_customers", V_INT, JF(sequence_min_customers), .min = 1,
   .max = INT64_MAX, .range = ">= 1"},
  {"kpi", "nps_event", V_EVENT, JF(nps_event)},
  {"retention", "period", V_CHOICE, JF(retention_period), .choices = pc_cfg_period_choices},
  {"retention", "periods", V_INT, JF(retention_periods), .min = 1, .max = 1000,
   .range = "1..1000"},
  {"retention", "return_event", V_EVENT, JF(return_event)},
  {"attribution", "enabled", V_BOOL, JF(attribution)},
  {"attribution", "half_life", V_DOUBLE, JF(half_life_s), .dmin = 0, .dmax = HUGE_VAL,
   .dmin_open = TRUE, .range = "> 0"},
  {"attribution", "markov_order", V_INT, JF(markov_order), .min = 1, .max = 4,
   .range = "1..4"},
  {"model", "enabled", V_BOOL, JF(model)},
  {"model", "lambda", V_DOUBLE, JF(lambda), .dmin = 0, .dmax = HUGE_VAL,
   .dmin_open = TRUE, .range = "> 0"},
  {"model", "top_n", V_INT, JF(top_n), .min = 0, .max = INT64_MAX, .range = ">= 0"},
  {"model", "max_iter", V_INT, JF(max_iter), .min = 1, .max = 10000,
   .range = "1..10000"},
  {"model", "solver", V_WORD, JF(solver),
   .choices = pc_cfg_solver_choices},
  {"report", "enabled", V_BOOL, JF(report)},
  {"run", "memory_per_rank", V_BYTES, JF(memory_per_rank)},
  {"run", "spill_dir", V_STRING, JF(spill_dir)},
  {"run", "table_memory", V_BYTES, JF(table_memory)},
};

const KeySpec pc_cfg_funnel_keys[] = {
  {"funnel", "steps", V_STEPS, FF(steps), .off2 = offsetof(PcFunnelConfig, n_steps)},
  {"funnel", "window", V_INT, FF(window_s), .min = 0, .max = MAX_SECONDS,
   .range = "0..9223372036854"},
  {"funnel", "match", V_CHOICE, FF(match_channel_event), .choices = pc_cfg_match_choices},
  {"funnel", "split", V_CHOICE, FF(split), .choices = pc_cfg_split_choices},
  {"funnel", "mode", V_FLAGS, FF(mode), .choices = pc_config_funnel_modes},
};

const KeySpec pc_cfg_flow_keys[] = {
  {"flow", "anchor", V_EVENT, WF(anchor)},
  {"flow", "direction", V_CHOICE, WF(before), .choices = pc_cfg_direction_choices},
  {"flow", "steps", V_INT, WF(steps), .min = 1, .max = 16, .range = "1..16"},
};

/* Groups (all optional) in the order of docs/jobs.md; [funnel.NAME] and
 * [flow.NAME] apart. */
const char *const pc_cfg_known_groups[] = {
  "input", "scope", "output", "partition", "path", "target", "kpi",
  "retention", "attribution", "model", "report", "run", NULL};

const guint pc_cfg_n_job_keys = G_N_ELEMENTS(pc_cfg_job_keys);
const guint pc_cfg_n_funnel_keys = G_N_ELEMENTS(pc_cfg_funnel_keys);
const guint pc_cfg_n_flow_keys = G_N_ELEMENTS(pc_cfg_flow_keys);

/* ---- Small parsers (no GError: callers word the message) ----------------- */

/* [-]?[0-9]+ without overflow. The '-' is read only so that "-5" gets an
 * out-of-range message rather than a type error. */
static gboolean parse_int(const char *s, int64_t *out, gboolean *overflow) {
  gboolean neg = (*s == '-');
  const char *p = s + neg;
  uint64_t v = 0;
  *overflow = FALSE;
  if (!g_ascii_isdigit(*p)) return FALSE;
  for (; g_ascii_isdigit(*p); p++) {
    unsigned d = (unsigned)(*p - '0');
    if (v > ((uint64_t)INT64_MAX - d) / 10) *overflow = TRUE;
    else v = v * 10 + d;
  }
  if (*p) return FALSE;
  *out = neg ? -(int64_t)v : (int64_t)v;
  return TRUE;
}

/* A finite decimal number ("0.5", "1e-3", "2"); no hex, inf or nan, which
 * strtod alone would take. */
static gboolean parse_double(const char *s, double *out) {
  if (!*s || strspn(s, "0123456789.eE+-") != strlen(s)) return FALSE;
  char *end = NULL;
  errno = 0;
  double v = g_ascii_strtod(s, &end);
  if (*end || errno == ERANGE || !isfinite(v)) return FALSE;
  *out = v;
  return TRUE;
}

/* Digits with an optional K, M, G or T (either case), 1024-based. */
static gboolean parse_bytes(const char *s, guint64 *out, gboolean *overflow) {
  static const char suffixes[] = "KMGT";
  size_t n = strlen(s);
  unsigned shift = 0;
  const char *sfx = n ? strchr(suffixes, g_ascii_toupper(s[n - 1])) : NULL;
  if (n && sfx && *sfx) {
    shift = 10u * (unsigned)(sfx - suffixes + 1);
    n--;
  }
  g_autofree char *digits = g_strndup(s, n);
  int64_t v = 0;
  if (*digits == '-' || !parse_int(digits, &v, overflow)) return FALSE;
  if (*overflow || (uint64_t)v > (UINT64_MAX >> shift)) {
    *overflow = TRUE;
    return TRUE;
  }
  *out = (guint64)v << shift;
  return TRUE;
}

gboolean pc_config_parse_size(const char *s, guint64 *out) {
  size_t n = strlen(s);
  g_autofree char *t = g_strdup(s);
  if (n > 3 && g_ascii_strcasecmp(t + n - 2, "iB") == 0 && strchr("KMGTkmgt", t[n - 3])) t[n - 2] = 0;
  gboolean overflow = FALSE;
  return parse_bytes(t, out, &overflow) && !overflow;
}

/* ---- Names --------------------------------------------------------------- */

/* Spec §1: 1..63 bytes, no control byte, ',' or '>', not a reserved name; a
 * channel has no ':'. *why says what is wrong (static string). */
gboolean pc_cfg_check_name(const char *s, gboolean channel, const char **why) {
  static const char *const reserved[] = {"^", "$", "(all)", "(unknown)", NULL};
  size_t n = strlen(s);
  if (n == 0) return (*why = "is empty", FALSE);
  if (n > PC_MAX_NAME_BYTES) return (*why = "is longer than 63 bytes", FALSE);
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p < 0x20) return (*why = "contains a control character", FALSE);
    if (*p == ',' || *p == '>') return (*why = "contains ',' or '>'", FALSE);
    if (channel && *p == ':') return (*why = "contains ':'", FALSE);
  }
  if (g_strv_contains(reserved, s)) return (*why = "is a reserved name", FALSE);
  return TRUE;
}

/* NAME of [funnel.NAME] or [flow.NAME]: it is written in funnels.csv or
 * flows.csv and must survive the --set syntax, so no spaces, control bytes,
 * , > [ ] = ; and at most 63 bytes. why[0..2]: the messages (empty, too
 * long, a bad byte). */
static gboolean check_group_name(const char *name, const char *const *msg,
                                 const char **why) {
  size_t n = strlen(name);
  if (n == 0) return (*why = msg[0], FALSE);
  if (n > PC_MAX_NAME_BYTES) return (*why = msg[1], FALSE);
  for (const unsigned char *p = (const unsigned char *)name; *p; p++)
    if (*p <= 0x20 || strchr(",>[]=;", *p)) return (*why = msg[2], FALSE);
  return TRUE;
}

gboolean pc_cfg_check_funnel_name(const char *name, const char **why) {
  static const char *const msg[] = {
      "funnel NAME is empty", "funnel NAME is longer than 63 bytes",
      "funnel NAME contains a space, a control byte or one of , > [ ] = ;"};
  return check_group_name(name, msg, why);
}

gboolean pc_cfg_check_flow_name(const char *name, const char **why) {
  static const char *const msg[] = {
      "flow NAME is empty", "flow NAME is longer than 63 bytes",
      "flow NAME contains a space, a control byte or one of , > [ ] = ;"};
  return check_group_name(name, msg, why);
}

gboolean pc_cfg_check_named_group(const char *group, const char **why) {
  if (g_str_has_prefix(group, FUNNEL_PREFIX))
    return pc_cfg_check_funnel_name(group + strlen(FUNNEL_PREFIX), why);
  if (g_str_has_prefix(group, FLOW_PREFIX))
    return pc_cfg_check_flow_name(group + strlen(FLOW_PREFIX), why);
  return TRUE;
}

gboolean pc_cfg_group_is_known(const char *group) {
  return g_strv_contains(pc_cfg_known_groups, group) ||
         g_str_has_prefix(group, FUNNEL_PREFIX) ||
         g_str_has_prefix(group, FLOW_PREFIX);
}

const KeySpec *pc_cfg_find_spec(const char *group, const char *key) {
  gboolean funnel = g_str_has_prefix(group, FUNNEL_PREFIX);
  gboolean flow = g_str_has_prefix(group, FLOW_PREFIX);
  const KeySpec *t = funnel ? pc_cfg_funnel_keys : flow ? pc_cfg_flow_keys : pc_cfg_job_keys;
  size_t n = funnel ? G_N_ELEMENTS(pc_cfg_funnel_keys)
             : flow ? G_N_ELEMENTS(pc_cfg_flow_keys) : G_N_ELEMENTS(pc_cfg_job_keys);
  for (size_t i = 0; i < n; i++)
    if ((funnel || flow || strcmp(t[i].group, group) == 0) && strcmp(t[i].key, key) == 0)
      return &t[i];
  return NULL;
}


/* ---- Pass 3: typed values (pass 2 is GKeyFile, in load_all) ------------- */

gboolean pc_cfg_bad_value(const char *where, const char *value, const char *why,
                          GError **error) {
  g_autofree char *esc = g_strescape(value, NULL);
  pc_set_error(error, PC_ERROR_CONFIG, "%s: \"%s\" %s", where, esc, why);
  return FALSE;
}

static void set_int_field(void *field, size_t size, int64_t v) {
  if (size == sizeof(guint)) {
    guint u = (guint)v;
    memcpy(field, &u, sizeof u);
  } else {
    g_assert(size == sizeof(int64_t));
    memcpy(field, &v, sizeof v);
  }
}

static gboolean set_int(const KeySpec *ks, void *field, const char *v,
                        const char *where, GError **error) {
  int64_t x = 0;
  gboolean overflow = FALSE;
  g_autofree char *why = NULL;
  if (!parse_int(v, &x, &overflow))
    return pc_cfg_bad_value(where, v, "is not a plain decimal integer", error);
  if (overflow || x < ks->min || x > ks->max) {
    why = g_strdup_printf("is out of range (%s)", ks->range);
    return pc_cfg_bad_value(where, v, why, error);
  }
  set_int_field(field, ks->size, x);
  return TRUE;
}

static gboolean set_double(const KeySpec *ks, void *field, const char *v,
                           const char *where, GError **error) {
  double x = 0;
  g_autofree char *why = NULL;
  if (!parse_double(v, &x)) return pc_cfg_bad_value(where, v, "is not a number", error);
  if (x < ks->dmin || (ks->dmin_open && x == ks->dmin) || x > ks->dmax) {
    why = g_strdup_printf("is out of range (%s)", ks->range);
    return pc_cfg_bad_value(where, v, why, error);
  }
  memcpy(field, &x, sizeof x);
  return TRUE;
}

/* Only the two spellings GKeyFile writes; "1", "yes", "True" are errors. */
static gboolean set_bool(void *field, const char *v, const char *where,
                         GError **error) {
  gboolean b;
  if (strcmp(v, "true") == 0) b = TRUE;
  else if (strcmp(v, "false") == 0) b = FALSE;
  else return pc_cfg_bad_value(where, v, "is not a boolean (true or false)", error);
  memcpy(field, &b, sizeof b);
  return TRUE;
}

static gboolean set_choice(const KeySpec *ks, void *field, const char *v,
                           const char *where, GError **error) {
  for (int i = 0; ks->choices[i]; i++) {
    if (strcmp(v, ks->choices[i]) != 0) continue;
    if (ks->kind == V_WORD) {
      g_free(*(char **)field);
      *(char **)field = g_strdup(v);
    } else {
      memcpy(field, &i, sizeof i);
    }
    return TRUE;
  }
  g_autofree char *list = g_strjoinv(", ", (char **)ks->choices);
  g_autofree char *why = g_strdup_printf("is not one of: %s", list);
  return pc_cfg_bad_value(where, v, why, error);
}

static gboolean set_time(const KeySpec *ks, void *base, const char *v,
                         const char *where, GError **error) {
  int64_t us = 0;
  gboolean yes = TRUE;
  if (!pc_time_parse(v, strlen(v), &us))
    return pc_cfg_bad_value(where, v,
                     "is not a timestamp (YYYY-MM-DDTHH:MM:SS[.ffffff] with Z "
                     "or +HH:MM/-HH:MM, or integer epoch seconds)",
                     error);
  memcpy((char *)base + ks->off, &us, sizeof us);
  memcpy((char *)base + ks->off2, &yes, sizeof yes);
  return TRUE;
}

static gboolean set_bytes(void *field, const char *v, const char *where,
                          GError **error) {
  guint64 x = 0;
  gboolean overflow = FALSE;
  if (!parse_bytes(v, &x, &overflow))
    return pc_cfg_bad_value(where, v,
                     "is not a size (decimal bytes, optional K, M, G or T suffix)",
                     error);
  if (overflow) return pc_cfg_bad_value(where, v, "is out of range (< 2^64 bytes)", error);
  memcpy(field, &x, sizeof x);
  return TRUE;
}

static gboolean set_string(const KeySpec *ks, void *field, const char *v,
                           const char *where, GError **error) {
  const char *why = NULL;
  if (!*v) return pc_cfg_bad_value(where, v, "is empty", error);
  if (ks->kind == V_EVENT && !pc_cfg_check_name(v, FALSE, &why)) {
    g_autofree char *w = g_strdup_printf("is not an event name: it %s", why);
    return pc_cfg_bad_value(where, v, w, error);
  }
  g_free(*(char **)field);
  *(char **)field = g_strdup(v);
  return TRUE;
}

/* A ';' list from GKeyFile ("\;" escapes a ';'), items trimmed. GKeyFile
 * drops one trailing ';' silently; we call it an empty item, like ";;". */
static gboolean read_list(Loader *ld, const char *group, const char *key,
                          const char *where, GStrv *out, guint *n,
                          GError **error) {
  g_autoptr(GError) e = NULL;
  g_autofree char *raw = g_key_file_get_value(ld->kf, group, key, NULL);
  gsize len = 0;
  g_auto(GStrv) items = g_key_file_get_string_list(ld->kf, group, key, &len, &e);
  if (!items) {
    pc_set_error(error, PC_ERROR_CONFIG, "%s: %s", where, e->message);
    return FALSE;
  }
  g_strchomp(raw);
  size_t rl = strlen(raw), bs = 0;
  while (bs + 1 < rl && raw[rl - 2 - bs] == '\\') bs++;
  if (rl && raw[rl - 1] == ';' && bs % 2 == 0)
    return pc_cfg_bad_value(where, raw, "has an empty item (trailing ';')", error);
  if (len == 0) return pc_cfg_bad_value(where, raw, "is an empty list", error);
  for (gsize i = 0; i < len; i++)
    if (!*g_strstrip(items[i]))
      return pc_cfg_bad_value(where, raw, "has an empty item", error);
  *n = (guint)len;
  *out = g_steal_pointer(&items);
  return TRUE;
}

/* A ';' list of options (any order, repeats allowed, as ClickHouse takes
 * them) -> the OR of their bits. */
static gboolean set_flags(Loader *ld, const KeySpec *ks, void *base,
                          const char *group, const char *key,
                          const char *where, GError **error) {
  g_auto(GStrv) items = NULL;
  guint n = 0, bits = 0;
  if (!read_list(ld, group, key, where, &items, &n, error)) return FALSE;
  for (guint i = 0; i < n; i++) {
    int c = 0;
    while (ks->choices[c] && strcmp(items[i], ks->choices[c]) != 0) c++;
    if (!ks->choices[c]) {
      g_autofree char *list = g_strjoinv(", ", (char **)ks->choices);
      g_autofree char *why = g_strdup_printf("is not one of: %s", list);
      return pc_cfg_bad_value(where, items[i], why, error);
    }
    bits |= 1u << c;
  }
  memcpy((char *)base + ks->off, &bits, sizeof bits);
  return TRUE;
}

static gboolean set_list(Loader *ld, const KeySpec *ks, void *base,
                         const char *group, const char *key, const char *where,
                         GError **error) {
  g_auto(GStrv) items = NULL;
  guint n = 0;
  if (!read_list(ld, group, key, where, &items, &n, error)) return FALSE;
  for (guint i = 0; ks->kind == V_EVENTS && i < n; i++) {
    const char *why = NULL;
    if (pc_cfg_check_name(items[i], FALSE, &why)) continue;
    g_autofree char *w = g_strdup_printf("is not an event name: it %s", why);
    return pc_cfg_bad_value(where, items[i], w, error);
  }
  char ***field = (char ***)(void *)((char *)base + ks->off);
  g_strfreev(*field);
  *field = g_steal_pointer(&items);
  memcpy((char *)base + ks->off2, &n, sizeof n);
  return TRUE;
}

/* The funnel of [funnel.NAME], created with its defaults on first use. */
PcFunnelConfig *pc_cfg_funnel_get(Loader *ld, const char *group) {
  const char *name = group + strlen(FUNNEL_PREFIX);
  PcFunnelConfig *f = g_hash_table_lookup(ld->funnels, name);
  if (!f) {
    f = g_new0(PcFunnelConfig, 1);
    f->name = g_strdup(name);
    g_hash_table_insert(ld->funnels, f->name, f);
  }
  return f;
}

/* The flow of [flow.NAME], created with its defaults on first use. */
static PcFlowConfig *flow_get(Loader *ld, const char *group) {
  const char *name = group + strlen(FLOW_PREFIX);
  PcFlowConfig *f = g_hash_table_lookup(ld->flows, name);
  if (!f) {
    f = g_new0(PcFlowConfig, 1);
    f->name = g_strdup(name);
    f->steps = 5;
    g_hash_table_insert(ld->flows, f->name, f);
  }
  return f;
}

/* Parses the value GKeyFile holds for group/key into the struct. The key is
 * known (scan_text or apply_override checked it). */
gboolean pc_cfg_apply_key(Loader *ld, const char *group, const char *key,
                          const char *where, GError **error) {
  const KeySpec *ks = pc_cfg_find_spec(group, key);
  g_assert(ks);
  void *base = ld->cfg;
  if (g_str_has_prefix(group, FUNNEL_PREFIX)) base = pc_cfg_funnel_get(ld, group);
  if (g_str_has_prefix(group, FLOW_PREFIX)) base = flow_get(ld, group);
  if (ks->kind == V_EVENTS || ks->kind == V_STEPS || ks->kind == V_LIST)
    return set_list(ld, ks, base, group, key, where, error);
  if (ks->kind == V_FLAGS)
    return set_flags(ld, ks, base, group, key, where, error);
  g_autoptr(GError) e = NULL;
  g_autofree char *v = g_key_file_get_string(ld->kf, group, key, &e);
  if (!v) {
    pc_set_error(error, PC_ERROR_CONFIG, "%s: %s", where, e->message);
    return FALSE;
  }
  g_strstrip(v);
  void *field = (char *)base + ks->off;
  switch (ks->kind) {
    case V_STRING:
    case V_EVENT: return set_string(ks, field, v, where, error);
    case V_TIME: return set_time(ks, base, v, where, error);
    case V_BOOL: return set_bool(field, v, where, error);
    case V_INT: return set_int(ks, field, v, where, error);
    case V_DOUBLE: return set_double(ks, field, v, where, error);
    case V_BYTES: return set_bytes(field, v, where, error);
    case V_CHOICE:
    case V_WORD: return set_choice(ks, field, v, where, error);
    default: g_assert_not_reached();
  }
  return FALSE;
}

