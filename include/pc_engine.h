/* pc_engine.h - the run of a job (`parcours run`), as the phases the
 * command calls in order: open (store, names, plan), scan (read batches of
 * buckets, assemble journeys, feed the modules), reduce (the module loop
 * across threads and ranks), write (tables, results.h5, report, run.json,
 * atomically). Every phase is collective and ends agreed: on failure every
 * rank returns FALSE with the lowest failing rank's message.
 *
 * The engine knows no analysis (they are modules, pc_module.h); it owns the
 * run context: config, communicator, timers, the source and the plan.
 */
#ifndef PC_ENGINE_H
#define PC_ENGINE_H

#include "pc_comm.h"
#include "pc_config.h"

typedef struct PcEngine PcEngine;

/* cfg and comm must outlive the engine. Cannot fail. */
PcEngine *pc_engine_new(PcComm *comm, const PcJobConfig *cfg, gboolean quiet);
void pc_engine_free(PcEngine *e);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PcEngine, pc_engine_free)

/* What draws report.html into a finished output directory (the report
 * layer's pc_run_report); the engine calls it with the run's tables when
 * report.enabled, after csv/ and results.h5 and before run.json. NULL: no
 * report. */
typedef gboolean (*PcReportFn)(const char *dir, GPtrArray *tables, gboolean quiet,
                             GError **error);
void pc_engine_set_report(PcEngine *e, PcReportFn fn);

/* Refuses an existing output.dir unless force (checked again at commit). */
gboolean pc_engine_check_output(PcEngine *e, gboolean force, GError **error);
/* Rank 0 reads the MANIFEST and broadcasts the shard list; every rank reads
 * the metadata and builds the names; rank 0 plans and broadcasts the plan;
 * the memory estimate is checked against run.memory_per_rank. */
gboolean pc_engine_open(PcEngine *e, GError **error);
/* Reads this rank's buckets in batches and feeds every journey to every
 * module on OpenMP threads. */
gboolean pc_engine_scan(PcEngine *e, GError **error);
/* Merges threads, sets the kept names, then reduces every module in table
 * order and builds the tables on rank 0. */
gboolean pc_engine_reduce(PcEngine *e, GError **error);
/* Writes output.dir atomically (output.c) and prints the closing line. */
gboolean pc_engine_write(PcEngine *e, GError **error);

#endif
