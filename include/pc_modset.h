/* pc_modset.h - the enabled analysis modules of one run on one rank: an
 * instance per module per thread, and the lifecycle of pc_module.h driven
 * in module-table order. This is the whole "module loop" of the engine.
 *
 * Pure: no MPI (reduce is collective through env->ops), no HDF5, no files,
 * so CUnit tests run every analysis over hand-made journeys with
 * pc_commops_serial().
 */
#ifndef PC_MODSET_H
#define PC_MODSET_H

#include "pc_module.h"

typedef struct PcModSet PcModSet;

/* Creates every module of pc_modules_all() that env->cfg enables, threads
 * instances each. env must outlive the set. NULL with *error when a module
 * refuses its configuration. Caller frees with pc_modset_free(). */
PcModSet *pc_modset_new(const PcModuleEnv *env, int threads, GError **error);
void pc_modset_free(PcModSet *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PcModSet, pc_modset_free)

/* The memory the enabled modules declare (PcModule.memory) for `threads`
 * instances and `customers` planned customers; *largest (may be NULL) gets
 * the name of the module that needs the most. Creates nothing. */
uint64_t pc_modset_memory(const PcModuleEnv *env, int threads,
                          uint64_t customers, const char **largest);

/* Hands one journey to every module's instance of thread t. */
void pc_modset_add(PcModSet *s, int t, const PcJourneyView *jv);

/* Merges every module's thread instances into thread 0's (then frees them).
 * Call once, after the last add. */
void pc_modset_merge_threads(PcModSet *s);

/* Enabled modules, and the name of the i-th. */
guint pc_modset_count(const PcModSet *s);
const char *pc_modset_name(const PcModSet *s, guint i);

/* Collective: reduce of the i-th module (in table order; call i = 0, 1, …
 * on every rank). Records its wall seconds. */
gboolean pc_modset_reduce_one(PcModSet *s, guint i, GError **error);
double pc_modset_reduce_seconds(const PcModSet *s, guint i);

/* Rank 0, after every reduce: every module's tables into out, in order. */
gboolean pc_modset_tables(PcModSet *s, PcOutputs *out, GError **error);

/* Rank 0: every module's run.json members (PcModule.describe). */
void pc_modset_describe(PcModSet *s, JsonBuilder *b);

/* Serial shorthand for tests and tools: merge threads, reduce every module
 * (env->ops must be serial), tables into a new PcOutputs, finished: every
 * table, summary first. NULL with *error. */
GPtrArray *pc_modset_run_serial(PcModSet *s, GError **error);

#endif
