/* pc_module.h - the lifecycle every analysis implements, and what the
 * engine hands it. An analysis is one file in src/analytics/ that fills a
 * static PcModule and one line in the module table (src/engine/modules.c);
 * the engine loops over the table and knows no analysis.
 *
 * Lifecycle (docs/architecture.md):
 *   create   once per thread of every rank, after the names are known;
 *   add      once per journey, on the thread that built it (no locking);
 *   merge    the other threads' instances into thread 0's, then freed;
 *   reduce   collective: every rank calls it on its merged instance, in
 *            module-table order, so a module may read the PcFacts that an
 *            earlier module published; combines ranks exactly (integers,
 *            fixed point, or keys merged on one owner) through env->ops;
 *   tables   rank 0 only, after every reduce: appends its §10 tables and
 *            summary.csv rows to a PcOutputs;
 *   destroy  every instance.
 * A module never calls MPI or HDF5 and does no file I/O: what it needs of
 * other ranks goes through PcCommOps, so CUnit tests drive it with
 * pc_commops_serial() or an in-process fake of several ranks.
 *
 * Determinism: add and merge must give the same reduced state for any split
 * of the journeys between threads and ranks, and tables must not depend on
 * a hash-table iteration order (sort by the spec's keys).
 */
#ifndef PC_MODULE_H
#define PC_MODULE_H

#include "pc_commops.h"
#include "pc_config.h"
#include "pc_core.h"
#include "pc_spill.h"
#include "pc_table.h"

#include <json-glib/json-glib.h>

/* One customer journey as every module sees it. */
typedef struct {
  const PcJourney *j;   /* kept events in §2 order, global ids */
  gboolean y;           /* the journey reaches a target event (§4) */
  size_t cut;           /* pre-target events: j->ev[0..cut); j->n when !y */
  const uint32_t *tok;  /* path token of every event (path.token), j->n */
  const int64_t *ts;    /* j->ev[i].ts_us as a plain array, j->n */
  PcMoney revenue;      /* §6: customers-table revenue, or when the store has
                         * no customers table the sum of the event values */
  uint32_t segment;     /* §12: id into pc_names_segments(env->names) */
} PcJourneyView;

/* Run-wide numbers that modules publish in reduce (on every rank) for the
 * modules after them in the table. */
typedef struct {
  uint64_t customers;              /* N: customers with a kept event */
  uint64_t customers_with_outcome; /* Y */
} PcFacts;

/* What a module may read; owned by the engine, valid for the whole run. */
typedef struct {
  const PcJobConfig *cfg;
  const PcNames *names;   /* kept flags are set before the first reduce */
  const PcDict *tokens;   /* names of the path tokens (path.token) */
  const PcTarget *target; /* n = 0: no target */
  gboolean has_crm;       /* the store has a customers table */
  const PcCommOps *ops;   /* the other ranks (reduce only) */
  PcFacts *facts;         /* written only by the module that owns a fact */
  PcSpill *spill;         /* where tables that grow with distinct keys spill
                           * past the rank's pool (NULL: never); a module
                           * reaches the disk only through it */
} PcModuleEnv;

/* Summary rows of summary.csv (spec §10), in their order. */
typedef enum {
  PC_SUMMARY_CUSTOMERS,
  PC_SUMMARY_EVENTS,
  PC_SUMMARY_JOURNEYS,
  PC_SUMMARY_CUSTOMERS_WITH_OUTCOME,
  PC_SUMMARY_CUSTOMERS_WITHOUT_REVENUE,
  PC_SUMMARY_NPS_INVALID,
  PC_SUMMARY_N
} PcSummaryKey;

/* The tables of a run, on rank 0: each module appends its own in the order
 * of spec §10; summary rows are collected apart and become the first table. */
typedef struct PcOutputs PcOutputs;

PcOutputs *pc_outputs_new(void);
void pc_outputs_free(PcOutputs *o);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PcOutputs, pc_outputs_free)
/* Takes ownership of t. */
void pc_outputs_add(PcOutputs *o, PcTable *t);
/* Sets one summary.csv row (a key set twice keeps the last value). */
void pc_outputs_summary(PcOutputs *o, PcSummaryKey key, uint64_t value);
/* Builds the summary table and returns every table, summary first; the
 * array owns them (free with g_ptr_array_unref). o keeps nothing. */
GPtrArray *pc_outputs_finish(PcOutputs *o);

typedef struct {
  const char *name; /* for messages and docs: "paths", "funnels", ... */
  /* Whether the job asks for this analysis (NULL: always). */
  gboolean (*enabled)(const PcJobConfig *cfg);
  /* A new, empty instance. NULL with *error on a configuration the module
   * cannot honour (e.g. a state that would not fit memory). */
  void *(*create)(const PcModuleEnv *env, GError **error);
  /* Folds one journey in. Cannot fail; may not allocate per call beyond
   * amortized growth of its own tables. */
  void (*add)(void *self, const PcJourneyView *jv);
  /* dst += src (same env). src is freed by the engine afterwards. */
  void (*merge)(void *dst, void *src);
  /* Collective. NULL: nothing to combine across ranks. */
  gboolean (*reduce)(void *self, const PcModuleEnv *env, GError **error);
  /* Rank 0, after every reduce: appends tables and summary rows. */
  gboolean (*tables)(void *self, const PcModuleEnv *env, PcOutputs *out,
                     GError **error);
  void (*destroy)(void *self);
  /* Optional, rank 0 after tables: adds members to run.json's top-level
   * object (diagnostics such as the model's iterations). */
  void (*describe)(void *self, JsonBuilder *b);
  /* Optional: the bytes this analysis needs on one rank with `threads`
   * instances and `customers` customers planned for the rank, for what does
   * not grow with distinct keys (counter arrays sized by the names, a
   * model's rows and d x d state): the fixed part of the rank's budget.
   * What grows with distinct keys does not belong here: it lives in
   * tables that spill through env->spill past the rank's table pool.
   * Called before create, so the engine can divide the budget, or refuse a
   * job before allocating (run.memory_per_rank, src/engine/memory.c). */
  uint64_t (*memory)(const PcModuleEnv *env, int threads, uint64_t customers);
} PcModule;

/* The module table, in output order (src/engine/modules.c). */
const PcModule *const *pc_modules_all(guint *n);

#endif
