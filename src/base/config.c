/* config.c - the job file of spec §11 (docs/jobs.md) parsed into a
 * PcJobConfig, the --set overrides, and the effective configuration as JSON.
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
 *     against their match mode, input.from < input.to; sorts the funnels.
 * Every failure is PC_ERROR_CONFIG (PC_ERROR_IO when the file cannot be read)
 * and its message starts with where: "JOB:LINE: [group] key" for the file,
 * "JOB: --set group.key" for an override.
 *
 * Invariants of a loaded PcJobConfig: store and dir non-empty; funnels sorted
 * bytewise by name with unique names; every list non-empty with trimmed,
 * non-empty items; target_events == NULL iff n_target_events == 0.
 */
#include "pc_config.h"
#include "pc_csv.h"
#include "pc_json.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>

/* Setters write enum and gboolean fields through an int; these hold on every
 * ABI we build for, and the build fails loudly where they would not. */
_Static_assert(sizeof(PcTokenMode) == sizeof(int), "enum size");
_Static_assert(sizeof(PcUnit) == sizeof(int), "enum size");
_Static_assert(sizeof(PcStrategy) == sizeof(int), "enum size");
_Static_assert(sizeof(gboolean) == sizeof(int), "gboolean size");

#define FUNNEL_PREFIX "funnel."
/* Durations are later turned into microseconds: keep s * 10^6 in int64. */
#define MAX_SECONDS (INT64_MAX / 1000000)

/* ---- Key tables ---------------------------------------------------------- */

typedef enum {
  V_STRING, /* non-empty string, trimmed */
  V_EVENT,  /* one event name (spec §1 rules) */
  V_EVENTS, /* ';' list of event names -> char ** + guint count */
  V_STEPS,  /* ';' list, checked against match in finish() -> char ** + count */
  V_TIME,   /* timestamp of spec §1 -> int64 us + gboolean has_ */
  V_BOOL,   /* true | false */
  V_INT,    /* plain decimal in [min, max] -> field of 4 or 8 bytes */
  V_DOUBLE, /* finite decimal number in [dmin, dmax] (dmin open if asked) */
  V_BYTES,  /* decimal with optional K/M/G/T (1024-based) -> guint64 */
  V_CHOICE, /* one of choices[]; its index is stored in an int field */
  V_WORD    /* one of choices[], stored as a string (char * field) */
} ValueKind;

typedef struct {
  const char *group; /* "funnel" stands for every [funnel.NAME] */
  const char *key;
  ValueKind kind;
  size_t off;        /* field in PcJobConfig, or PcFunnelConfig for funnel */
  size_t size;       /* sizeof that field (V_INT) */
  size_t off2;       /* V_TIME: the has_ flag; V_EVENTS/V_STEPS: the count */
  int64_t min, max;  /* V_INT */
  double dmin, dmax; /* V_DOUBLE */
  gboolean dmin_open;
  const char *range; /* the range as written in messages and docs/jobs.md */
  const char *const *choices; /* V_CHOICE, V_WORD: NULL-terminated */
} KeySpec;

static const char *const token_choices[] = {"event", "channel", "channel:event",
                                            NULL};
static const char *const unit_choices[] = {"customer", "session", NULL};
static const char *const strategy_choices[] = {"balanced", "hash", "range",
                                               NULL};
static const char *const solver_choices[] = {"newton", NULL};
static const char *const match_choices[] = {"event", "channel:event", NULL};
static const char *const split_choices[] = {"none", "channel", NULL};

#define JF(f) \
  .off = offsetof(PcJobConfig, f), .size = sizeof(((PcJobConfig *)0)->f)
#define FF(f) \
  .off = offsetof(PcFunnelConfig, f), .size = sizeof(((PcFunnelConfig *)0)->f)

/* Order = the order of docs/jobs.md. Defaults live in config_new(). */
static const KeySpec job_keys[] = {
  {"input", "store", V_STRING, JF(store)},
  {"input", "from", V_TIME, JF(from_us), .off2 = offsetof(PcJobConfig, has_from)},
  {"input", "to", V_TIME, JF(to_us), .off2 = offsetof(PcJobConfig, has_to)},
  {"input", "max_reject_fraction", V_DOUBLE, JF(max_reject_fraction),
   .dmin = 0, .dmax = 1, .range = "0..1"},
  {"output", "dir", V_STRING, JF(dir)},
  {"output", "top_k", V_INT, JF(top_k), .min = 1, .max = INT64_MAX, .range = ">= 1"},
  {"partition", "strategy", V_CHOICE, JF(strategy), .choices = strategy_choices},
  {"partition", "alpha", V_DOUBLE, JF(cost_alpha), .dmin = 0, .dmax = HUGE_VAL,
   .range = ">= 0"},
  {"partition", "batch_events", V_INT, JF(batch_events), .min = 1000,
   .max = INT64_MAX, .range = ">= 1000"},
  {"path", "token", V_CHOICE, JF(token), .choices = token_choices},
  {"path", "collapse_repeats", V_BOOL, JF(collapse_repeats)},
  {"path", "unit", V_CHOICE, JF(unit), .choices = unit_choices},
  {"path", "session_gap", V_INT, JF(session_gap_s), .min = 0, .max = MAX_SECONDS,
   .range = "0..9223372036854"},
  {"path", "ngram_max", V_INT, JF(ngram_max), .min = 1, .max = 16, .range = "1..16"},
  {"path", "depth", V_INT, JF(depth), .min = 1, .max = 64, .range = "1..64"},
  {"path", "min_support", V_INT, JF(min_support), .min = 1, .max = INT64_MAX,
   .range = ">= 1"},
  {"target", "event", V_EVENTS, JF(target_events),
   .off2 = offsetof(PcJobConfig, n_target_events)},
  {"target", "lookback", V_INT, JF(lookback), .min = 1, .max = 64, .range = "1..64"},
  {"kpi", "nps_event", V_EVENT, JF(nps_event)},
  {"attribution", "enabled", V_BOOL, JF(attribution)},
  {"model", "enabled", V_BOOL, JF(model)},
  {"model", "lambda", V_DOUBLE, JF(lambda), .dmin = 0, .dmax = HUGE_VAL,
   .dmin_open = TRUE, .range = "> 0"},
  {"model", "top_n", V_INT, JF(top_n), .min = 0, .max = INT64_MAX, .range = ">= 0"},
  {"model", "max_iter", V_INT, JF(max_iter), .min = 1, .max = 10000,
   .range = "1..10000"},
  {"model", "solver", V_WORD, JF(solver),
   .choices = solver_choices},
  {"report", "enabled", V_BOOL, JF(report)},
  {"run", "memory_per_rank", V_BYTES, JF(memory_per_rank)},
};

static const KeySpec funnel_keys[] = {
  {"funnel", "steps", V_STEPS, FF(steps), .off2 = offsetof(PcFunnelConfig, n_steps)},
  {"funnel", "window", V_INT, FF(window_s), .min = 0, .max = MAX_SECONDS,
   .range = "0..9223372036854"},
  {"funnel", "match", V_CHOICE, FF(match_channel_event), .choices = match_choices},
  {"funnel", "split", V_CHOICE, FF(split_channel), .choices = split_choices},
};

/* Groups (all optional) in the order of docs/jobs.md; [funnel.NAME] apart. */
static const char *const known_groups[] = {
  "input", "output", "partition", "path", "target", "kpi", "attribution",
  "model", "report", "run", NULL};

/* ---- Loader state -------------------------------------------------------- */

typedef struct {
  const char *path;     /* the job file, for messages */
  GKeyFile *kf;
  PcJobConfig *cfg;     /* being filled */
  /* "group" -> where the group first appeared, "group\nkey" -> where the key
   * was last set: the message prefix "JOB:LINE: [group] key" or
   * "JOB: --set group.key". Presence here = the group/key was given. Owned. */
  GHashTable *where;
  GHashTable *funnels;  /* NAME -> PcFunnelConfig *, owned */
  GHashTable *lines;    /* the same ids -> line in the file (pass 1 only) */
} Loader;

typedef struct {
  char *group;
  char *key;
} Entry;

/* ---- private prototypes -------------------------------------------------- */

static PcJobConfig *config_new(void);
static void funnel_free(gpointer p);
static void entry_free(gpointer p);
static const KeySpec *find_spec(const char *group, const char *key);
static gboolean group_is_known(const char *group);
static gboolean check_funnel_name(const char *name, const char **why);
static gboolean check_name(const char *s, gboolean channel, const char **why);
static gboolean scan_text(Loader *ld, const char *text, GPtrArray *entries,
                          GError **error);
static gboolean apply_key(Loader *ld, const char *group, const char *key,
                          const char *where, GError **error);
static gboolean apply_override(Loader *ld, const char *ov, GError **error);
static gboolean finish(Loader *ld, GError **error);

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

/* ---- Names --------------------------------------------------------------- */

/* Spec §1: 1..63 bytes, no control byte, ',' or '>', not a reserved name; a
 * channel has no ':'. *why says what is wrong (static string). */
static gboolean check_name(const char *s, gboolean channel, const char **why) {
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

/* NAME of [funnel.NAME]: it is written in funnels.csv and must survive the
 * --set syntax, so no spaces, control bytes, , > [ ] = ; and at most 63 bytes. */
static gboolean check_funnel_name(const char *name, const char **why) {
  size_t n = strlen(name);
  if (n == 0) return (*why = "funnel NAME is empty", FALSE);
  if (n > PC_MAX_NAME_BYTES)
    return (*why = "funnel NAME is longer than 63 bytes", FALSE);
  for (const unsigned char *p = (const unsigned char *)name; *p; p++)
    if (*p <= 0x20 || strchr(",>[]=;", *p))
      return (*why = "funnel NAME contains a space, a control byte or one "
                     "of , > [ ] = ;",
              FALSE);
  return TRUE;
}

static gboolean group_is_known(const char *group) {
  return g_strv_contains(known_groups, group) ||
         g_str_has_prefix(group, FUNNEL_PREFIX);
}

static const KeySpec *find_spec(const char *group, const char *key) {
  gboolean funnel = g_str_has_prefix(group, FUNNEL_PREFIX);
  const KeySpec *t = funnel ? funnel_keys : job_keys;
  size_t n = funnel ? G_N_ELEMENTS(funnel_keys) : G_N_ELEMENTS(job_keys);
  for (size_t i = 0; i < n; i++)
    if ((funnel || strcmp(t[i].group, group) == 0) && strcmp(t[i].key, key) == 0)
      return &t[i];
  return NULL;
}

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
  c->attribution = TRUE;
  c->model = TRUE;
  c->lambda = 1e-3;
  c->top_n = 1000;
  c->max_iter = 100;
  c->solver = g_strdup("newton");
  c->report = TRUE;
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

void pc_config_free(PcJobConfig *c) {
  if (!c) return;
  g_free(c->job_path);
  g_free(c->store);
  g_free(c->dir);
  g_strfreev(c->target_events);
  for (guint i = 0; i < c->n_funnels; i++) funnel_clear(&c->funnels[i]);
  g_free(c->funnels);
  g_free(c->nps_event);
  g_free(c->solver);
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
  else if (!group_is_known(name))
    why = "unknown group";
  else if (g_str_has_prefix(name, FUNNEL_PREFIX))
    check_funnel_name(name + strlen(FUNNEL_PREFIX), &why);
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
  if (!find_spec(group, key)) {
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

/* ---- Pass 3: typed values (pass 2 is GKeyFile, in load_all) ------------- */

static gboolean bad_value(const char *where, const char *value, const char *why,
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
    return bad_value(where, v, "is not a plain decimal integer", error);
  if (overflow || x < ks->min || x > ks->max) {
    why = g_strdup_printf("is out of range (%s)", ks->range);
    return bad_value(where, v, why, error);
  }
  set_int_field(field, ks->size, x);
  return TRUE;
}

static gboolean set_double(const KeySpec *ks, void *field, const char *v,
                           const char *where, GError **error) {
  double x = 0;
  g_autofree char *why = NULL;
  if (!parse_double(v, &x)) return bad_value(where, v, "is not a number", error);
  if (x < ks->dmin || (ks->dmin_open && x == ks->dmin) || x > ks->dmax) {
    why = g_strdup_printf("is out of range (%s)", ks->range);
    return bad_value(where, v, why, error);
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
  else return bad_value(where, v, "is not a boolean (true or false)", error);
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
  return bad_value(where, v, why, error);
}

static gboolean set_time(const KeySpec *ks, void *base, const char *v,
                         const char *where, GError **error) {
  int64_t us = 0;
  gboolean yes = TRUE;
  if (!pc_csv_parse_timestamp(v, strlen(v), &us))
    return bad_value(where, v,
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
    return bad_value(where, v,
                     "is not a size (decimal bytes, optional K, M, G or T suffix)",
                     error);
  if (overflow) return bad_value(where, v, "is out of range (< 2^64 bytes)", error);
  memcpy(field, &x, sizeof x);
  return TRUE;
}

static gboolean set_string(const KeySpec *ks, void *field, const char *v,
                           const char *where, GError **error) {
  const char *why = NULL;
  if (!*v) return bad_value(where, v, "is empty", error);
  if (ks->kind == V_EVENT && !check_name(v, FALSE, &why)) {
    g_autofree char *w = g_strdup_printf("is not an event name: it %s", why);
    return bad_value(where, v, w, error);
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
    return bad_value(where, raw, "has an empty item (trailing ';')", error);
  if (len == 0) return bad_value(where, raw, "is an empty list", error);
  for (gsize i = 0; i < len; i++)
    if (!*g_strstrip(items[i]))
      return bad_value(where, raw, "has an empty item", error);
  *n = (guint)len;
  *out = g_steal_pointer(&items);
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
    if (check_name(items[i], FALSE, &why)) continue;
    g_autofree char *w = g_strdup_printf("is not an event name: it %s", why);
    return bad_value(where, items[i], w, error);
  }
  char ***field = (char ***)(void *)((char *)base + ks->off);
  g_strfreev(*field);
  *field = g_steal_pointer(&items);
  memcpy((char *)base + ks->off2, &n, sizeof n);
  return TRUE;
}

/* The funnel of [funnel.NAME], created with its defaults on first use. */
static PcFunnelConfig *funnel_get(Loader *ld, const char *group) {
  const char *name = group + strlen(FUNNEL_PREFIX);
  PcFunnelConfig *f = g_hash_table_lookup(ld->funnels, name);
  if (!f) {
    f = g_new0(PcFunnelConfig, 1);
    f->name = g_strdup(name);
    g_hash_table_insert(ld->funnels, f->name, f);
  }
  return f;
}

/* Parses the value GKeyFile holds for group/key into the struct. The key is
 * known (scan_text or apply_override checked it). */
static gboolean apply_key(Loader *ld, const char *group, const char *key,
                          const char *where, GError **error) {
  const KeySpec *ks = find_spec(group, key);
  g_assert(ks);
  void *base = ld->cfg;
  if (g_str_has_prefix(group, FUNNEL_PREFIX)) base = funnel_get(ld, group);
  if (ks->kind == V_EVENTS || ks->kind == V_STEPS)
    return set_list(ld, ks, base, group, key, where, error);
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
  if (!group_is_known(group)) {
    g_autofree char *w = g_strdup_printf("unknown group [%s]", group);
    return bad_override(ld, ov, w, error);
  }
  if (g_str_has_prefix(group, FUNNEL_PREFIX) &&
      !check_funnel_name(group + strlen(FUNNEL_PREFIX), &why))
    return bad_override(ld, ov, why, error);
  if (!find_spec(group, key)) {
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
  return apply_key(ld, group, key, where, error);
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
    if (check_name(step, FALSE, &why)) return TRUE;
    g_autofree char *w = g_strdup_printf("is not an event name: it %s", why);
    return bad_value(where, step, w, error);
  }
  if (!colon || strchr(colon + 1, ':'))
    return bad_value(where, step,
                     "must contain exactly one ':' (match = channel:event)", error);
  g_autofree char *ch = g_strndup(step, (gsize)(colon - step));
  if (!check_name(ch, TRUE, &why) || !check_name(colon + 1, FALSE, &why)) {
    g_autofree char *w = g_strdup_printf("is not CHANNEL:EVENT: a part %s", why);
    return bad_value(where, step, w, error);
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
  return TRUE;
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

static gboolean finish(Loader *ld, GError **error) {
  PcJobConfig *c = ld->cfg;
  if (!require_key(ld, "input", "store", error) ||
      !require_key(ld, "output", "dir", error))
    return FALSE;
  if (g_hash_table_contains(ld->where, "target") &&
      !require_key(ld, "target", "event", error))
    return FALSE;
  if (c->has_from && c->has_to && c->from_us >= c->to_us) {
    const char *where = g_hash_table_lookup(ld->where, "input\nto");
    pc_set_error(error, PC_ERROR_CONFIG,
                 "%s: must be later than input.from (events kept: from <= ts < to)",
                 where);
    return FALSE;
  }
  return finish_funnels(ld, error);
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
    if (!apply_key(ld, en->group, en->key, where, error)) return FALSE;
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
  g_autoptr(GHashTable) lines =
      g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(PcJobConfig) cfg = config_new();
  cfg->job_path = g_strdup(path);
  Loader ld = {.path = path ? path : "(job)", .kf = kf, .cfg = cfg,
               .where = where, .funnels = funnels, .lines = lines};
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

/* ---- JSON ---------------------------------------------------------------- */

/* Days since 1970-01-01 -> proleptic Gregorian y/m/d (H. Hinnant's
 * civil_from_days), exact for every int64 day count we can get. */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d) {
  z += 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  unsigned doe = (unsigned)(z - era * 146097);
  unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

/* ISO-8601 UTC, "YYYY-MM-DDTHH:MM:SSZ" with ".ffffff" only when non-zero. */
static void json_time(JsonBuilder *b, int64_t us) {
  int64_t sec = us / 1000000, frac = us % 1000000;
  if (frac < 0) frac += 1000000, sec--;
  int64_t days = sec / 86400, tod = sec % 86400;
  if (tod < 0) tod += 86400, days--;
  int64_t y;
  unsigned m, d;
  civil_from_days(days, &y, &m, &d);
  g_autofree char *hms = g_strdup_printf(
      "%04" G_GINT64_FORMAT "-%02u-%02uT%02u:%02u:%02u", y, m, d,
      (unsigned)(tod / 3600), (unsigned)(tod / 60 % 60), (unsigned)(tod % 60));
  g_autofree char *s = frac ? g_strdup_printf("%s.%06uZ", hms, (unsigned)frac)
                            : g_strconcat(hms, "Z", NULL);
  json_builder_add_string_value(b, s);
}

static void json_strv(JsonBuilder *b, char **v, guint n) {
  json_builder_begin_array(b);
  for (guint i = 0; i < n; i++) pc_json_add_string(b, v[i]);
  json_builder_end_array(b);
}

/* The value of one key, read from its field exactly as the setters wrote
 * it (base: the PcJobConfig or the PcFunnelConfig). */
static void json_value(JsonBuilder *b, const KeySpec *ks, const void *base) {
  const char *f = (const char *)base + ks->off;
  switch (ks->kind) {
  case V_STRING: case V_EVENT: case V_WORD:
    pc_json_add_string(b, *(char *const *)f);
    break;
  case V_EVENTS: case V_STEPS:
    json_strv(b, *(char **const *)f, *(const guint *)((const char *)base + ks->off2));
    break;
  case V_TIME:
    if (*(const gboolean *)((const char *)base + ks->off2)) json_time(b, *(const int64_t *)f);
    else json_builder_add_null_value(b);
    break;
  case V_BOOL:
    json_builder_add_boolean_value(b, *(const gboolean *)f);
    break;
  case V_INT:
    json_builder_add_int_value(b, ks->size == 4 ? (int64_t)*(const guint32 *)f : *(const int64_t *)f);
    break;
  case V_DOUBLE:
    json_builder_add_double_value(b, *(const double *)f);
    break;
  case V_BYTES:
    json_builder_add_int_value(b, (int64_t)*(const guint64 *)f);
    break;
  case V_CHOICE:
    json_builder_add_string_value(b, ks->choices[*(const int *)f]);
    break;
  }
}

/* Every key of group (in table order) as members of the current object. */
static void json_keys(JsonBuilder *b, const KeySpec *keys, guint n,
                      const char *group, const void *base) {
  for (guint i = 0; i < n; i++) {
    if (strcmp(keys[i].group, group) != 0) continue;
    json_builder_set_member_name(b, keys[i].key);
    json_value(b, &keys[i], base);
  }
}

/* "funnel": {NAME: {...}} in name order, mirroring [funnel.NAME]. */
static void json_funnels(JsonBuilder *b, const PcJobConfig *c) {
  json_builder_set_member_name(b, "funnel");
  json_builder_begin_object(b);
  for (guint i = 0; i < c->n_funnels; i++) {
    json_builder_set_member_name(b, c->funnels[i].name);
    json_builder_begin_object(b);
    json_keys(b, funnel_keys, G_N_ELEMENTS(funnel_keys), "funnel", &c->funnels[i]);
    json_builder_end_object(b);
  }
  json_builder_end_object(b);
}

/* Groups in the order of docs/jobs.md ([target] is null without a target;
 * the funnels follow it); every key with its effective value. */
void pc_config_describe(const PcJobConfig *c, JsonBuilder *b) {
  json_builder_begin_object(b);
  pc_json_member_string(b, "job", c->job_path);
  for (guint g = 0; known_groups[g]; g++) {
    const char *group = known_groups[g];
    json_builder_set_member_name(b, group);
    if (!strcmp(group, "target") && !c->n_target_events) {
      json_builder_add_null_value(b);
    } else {
      json_builder_begin_object(b);
      json_keys(b, job_keys, G_N_ELEMENTS(job_keys), group, c);
      json_builder_end_object(b);
    }
    if (!strcmp(group, "target")) json_funnels(b, c);
  }
  json_builder_end_object(b);
}

char *pc_config_to_json(const PcJobConfig *c) {
  g_return_val_if_fail(c != NULL, NULL);
  g_autoptr(JsonBuilder) b = json_builder_new();
  pc_config_describe(c, b);
  return pc_json_text(b, FALSE);
}
