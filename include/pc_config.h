/* pc_config.h - the job file (spec §11, docs/jobs.md) as a typed struct.
 *
 * Owns PcJobConfig. Parsing is GKeyFile; every group and key is known, an
 * unknown one is an error naming the key and its line in the file. No MPI:
 * every rank parses the same file, so every rank gets the same struct.
 */
#ifndef PC_CONFIG_H
#define PC_CONFIG_H

#include "pc_core.h"
#include "pc_time.h"

#include <json-glib/json-glib.h>

typedef enum { PC_TOKEN_EVENT, PC_TOKEN_CHANNEL, PC_TOKEN_CHANNEL_EVENT } PcTokenMode;
typedef enum { PC_UNIT_CUSTOMER, PC_UNIT_SESSION } PcUnit;
typedef enum { PC_STRATEGY_BALANCED, PC_STRATEGY_HASH, PC_STRATEGY_RANGE } PcStrategy;
/* funnel.split: the rows besides (all) (spec §5, §12); the order of the
 * choices in config_keys.c */
typedef enum { PC_SPLIT_NONE, PC_SPLIT_CHANNEL, PC_SPLIT_SEGMENT } PcFunnelSplit;

/* funnel.mode: the ClickHouse windowFunnel options of spec §5, as bits in
 * the order of pc_config_funnel_modes. 0 = the default definition. */
typedef enum {
  PC_FUNNEL_STRICT_ORDER = 1u << 0,
  PC_FUNNEL_STRICT_DEDUPLICATION = 1u << 1,
  PC_FUNNEL_STRICT_INCREASE = 1u << 2,
  PC_FUNNEL_STRICT_ONCE = 1u << 3,
  PC_FUNNEL_ALLOW_REENTRY = 1u << 4,
} PcFunnelMode;

/* The option names, bit i = 1 << i; NULL-terminated. */
extern const char *const pc_config_funnel_modes[];

typedef struct {
  char *name;          /* NAME of [funnel.NAME] */
  char **steps;        /* n_steps strings, trimmed */
  guint n_steps;
  int64_t window_s;    /* required, >= 0 */
  gboolean match_channel_event; /* match = channel:event */
  PcFunnelSplit split;          /* split = none (default), channel, segment */
  guint mode;          /* PcFunnelMode bits; 0 = default definition */
} PcFunnelConfig;

typedef struct {
  char *name;          /* NAME of [flow.NAME] */
  char *anchor;        /* required: an event name (spec §15) */
  gboolean before;     /* direction = before (default after) */
  guint steps;         /* default 5, 1..16 */
} PcFlowConfig;

typedef struct {
  char *job_path;            /* the job file as given */
  /* [input] */
  char *store;               /* required */
  gboolean has_from, has_to;
  int64_t from_us, to_us;    /* keep from <= ts < to */
  double max_reject_fraction;/* ingest only; default 0 */
  /* [scope] (spec §12) */
  char **scope_segments;     /* NULL: every segment; else n_scope_segments */
  guint n_scope_segments;
  char *entry_event;         /* NULL: journeys start at their first event */
  /* [output] */
  char *dir;                 /* required */
  guint64 top_k;             /* default 1000 */
  /* [partition] */
  PcStrategy strategy;       /* default balanced */
  double cost_alpha;         /* cost(bucket) = events + alpha*customers; default 1 */
  guint64 batch_events;      /* events read per batch per rank; default 4000000 */
  /* [path] */
  PcTokenMode token;         /* default event */
  gboolean collapse_repeats; /* default false */
  PcUnit unit;               /* default customer */
  int64_t session_gap_s;     /* default 1800 */
  guint ngram_max;           /* default 3, 1..16 */
  guint depth;               /* default 8, 1..64 */
  guint64 min_support;       /* default 1 */
  /* [target] */
  char **target_events;      /* NULL when no [target]; n_target_events > 0 */
  guint n_target_events;
  guint lookback;            /* default 5 */
  guint sequence_max;        /* §16 n-grams n = 2..sequence_max; default 3, 2..8 */
  guint64 sequence_min_customers; /* §16 support floor; default 10, >= 1 */
  /* [funnel.NAME] groups, sorted by name bytewise */
  PcFunnelConfig *funnels;
  guint n_funnels;
  /* [flow.NAME] groups, sorted by name bytewise (spec §15) */
  PcFlowConfig *flows;
  guint n_flows;
  /* [kpi] */
  char *nps_event;           /* NULL: no NPS */
  /* [retention] (spec §13) */
  gboolean retention;        /* the job has a [retention] group */
  PcPeriod retention_period; /* required with [retention] */
  guint retention_periods;   /* default 12, 1..1000 */
  char *return_event;        /* NULL: any event */
  /* [attribution] */
  gboolean attribution;      /* default true (needs a target) */
  double half_life_s;        /* §18 time decay H, seconds; default 604800, > 0 */
  guint markov_order;        /* §18 Markov order k; default 1, 1..4 */
  /* [model] */
  gboolean model;            /* default true (needs a target) */
  double lambda;             /* default 1e-3 */
  guint64 top_n;             /* default 1000 */
  guint max_iter;            /* default 100 */
  char *solver;              /* "newton" (default) */
  /* [report] */
  gboolean report;           /* default true */
  /* [run] */
  guint64 memory_per_rank;   /* bytes; 0 = 3/4 of the node's memory per rank */
  char *spill_dir;           /* where tables spill; NULL = $TMPDIR or /tmp */
  guint64 table_memory;      /* bytes of the tables' pool; 0 = from the budget */
} PcJobConfig;

/* Parses the job file at path, then applies the overrides ("group.key=value",
 * NULL-terminated, may be NULL). FALSE with PC_ERROR_CONFIG naming file, line
 * and key on any unknown group/key, bad type or out-of-range value.
 * Caller frees *out with pc_config_free(). */
gboolean pc_config_load(const char *path, char **overrides, PcJobConfig **out,
                        GError **error);
void pc_config_free(PcJobConfig *c);
/* Same parse on an in-memory text (tests); path is used in messages. */
gboolean pc_config_load_data(const char *text, const char *path,
                             char **overrides, PcJobConfig **out,
                             GError **error);
/* The effective configuration as one JSON object value added to b (the
 * "job" of run.json): every group and key of docs/jobs.md with its value. */
void pc_config_describe(const PcJobConfig *c, JsonBuilder *b);
/* The same as compact JSON text. Caller g_free()s. */
char *pc_config_to_json(const PcJobConfig *c);
/* A size as run.memory_per_rank takes it (decimal bytes, optional K, M, G
 * or T, 1024-based), also spelt KiB, MiB, GiB, TiB (command-line options
 * such as --memory 512MiB). FALSE when s is not one or is 2^64 or more. */
gboolean pc_config_parse_size(const char *s, guint64 *out);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PcJobConfig, pc_config_free)

#endif
