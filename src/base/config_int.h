/* config_int.h - private to src/base/config*.c: the key tables of the job
 * file and the loader's state, shared by config.c (the passes over the
 * text), config_keys.c (the key tables and the typed setters) and
 * config_json.c (the effective configuration as JSON). Nothing else
 * includes it.
 */
#ifndef PC_CONFIG_INT_H
#define PC_CONFIG_INT_H

#include "pc_config.h"

#include <stddef.h>

#define FUNNEL_PREFIX "funnel."
#define FLOW_PREFIX "flow."
/* Durations are later turned into microseconds: keep s * 10^6 in int64. */
#define MAX_SECONDS (INT64_MAX / 1000000)

typedef enum {
  V_STRING, /* non-empty string, trimmed */
  V_EVENT,  /* one event name (spec §1 rules) */
  V_EVENTS, /* ';' list of event names -> char ** + guint count */
  V_STEPS,  /* ';' list, checked against match in finish() -> char ** + count */
  V_LIST,   /* ';' list of free text (segments) -> char ** + count */
  V_TIME,   /* timestamp of spec §1 -> int64 us + gboolean has_ */
  V_BOOL,   /* true | false */
  V_INT,    /* plain decimal in [min, max] -> field of 4 or 8 bytes */
  V_DOUBLE, /* finite decimal number in [dmin, dmax] (dmin open if asked) */
  V_BYTES,  /* decimal with optional K/M/G/T (1024-based) -> guint64 */
  V_CHOICE, /* one of choices[]; its index is stored in an int field */
  V_WORD,   /* one of choices[], stored as a string (char * field) */
  V_FLAGS   /* ';' list of choices[] -> guint with bit i for choices[i] */
} ValueKind;

typedef struct {
  const char *group; /* "funnel" ("flow") stands for every [funnel.NAME] ([flow.NAME]) */
  const char *key;
  ValueKind kind;
  size_t off;        /* field in PcJobConfig, PcFunnelConfig or PcFlowConfig */
  size_t size;       /* sizeof that field (V_INT) */
  size_t off2;       /* V_TIME: the has_ flag; V_EVENTS/V_STEPS: the count */
  int64_t min, max;  /* V_INT */
  double dmin, dmax; /* V_DOUBLE */
  gboolean dmin_open;
  const char *range; /* the range as written in messages and docs/jobs.md */
  const char *const *choices; /* V_CHOICE, V_WORD: NULL-terminated */
} KeySpec;

#define JF(f) \
  .off = offsetof(PcJobConfig, f), .size = sizeof(((PcJobConfig *)0)->f)
#define FF(f) \
  .off = offsetof(PcFunnelConfig, f), .size = sizeof(((PcFunnelConfig *)0)->f)
#define WF(f) \
  .off = offsetof(PcFlowConfig, f), .size = sizeof(((PcFlowConfig *)0)->f)

/* The key tables (config_keys.c); order = the order of docs/jobs.md. */
extern const KeySpec pc_cfg_job_keys[];
extern const guint pc_cfg_n_job_keys;
extern const KeySpec pc_cfg_funnel_keys[];
extern const guint pc_cfg_n_funnel_keys;
extern const KeySpec pc_cfg_flow_keys[];
extern const guint pc_cfg_n_flow_keys;
extern const char *const pc_cfg_known_groups[];

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
  GHashTable *flows;    /* NAME -> PcFlowConfig *, owned */
  GHashTable *lines;    /* the same ids -> line in the file (pass 1 only) */
} Loader;

typedef struct {
  char *group;
  char *key;
} Entry;


/* config_keys.c */
const KeySpec *pc_cfg_find_spec(const char *group, const char *key);
gboolean pc_cfg_group_is_known(const char *group);
gboolean pc_cfg_check_funnel_name(const char *name, const char **why);
gboolean pc_cfg_check_flow_name(const char *name, const char **why);
/* The NAME rule of a named group (funnel., flow.) when group is one, with
 * *why set on a bad NAME; TRUE for every other group. */
gboolean pc_cfg_check_named_group(const char *group, const char **why);
gboolean pc_cfg_check_name(const char *s, gboolean channel, const char **why);
gboolean pc_cfg_bad_value(const char *where, const char *value, const char *why,
                          GError **error);
/* Parses the value of group.key (from the file or an override) into the
 * configuration; where = the message prefix. */
gboolean pc_cfg_apply_key(Loader *ld, const char *group, const char *key,
                          const char *where, GError **error);

#endif
