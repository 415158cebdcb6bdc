/* engine_int.h - private to src/engine/engine.c and output.c: the run
 * context of one `parcours run` on one rank (the only mutable state of a
 * run: STYLE.md "no hidden state"). */
#ifndef PC_ENGINE_INT_H
#define PC_ENGINE_INT_H

#include "pc_progress.h"
#include "pc_engine.h"
#include "pc_modset.h"
#include "pc_outdir.h"
#include "pc_plan.h"
#include "pc_source.h"
#include "pc_timer.h"

/* The division of this rank's memory budget (memory.c), bytes. */
typedef struct {
  uint64_t budget, fixed, scan, tables, reduce;
  uint64_t batch_events;    /* partition.batch_events, lowered to fit scan */
} PcRunMemory;

/* Per OpenMP thread: kept-event counts per global id and scratch arrays. */
typedef struct {
  uint64_t *ev_count, *ch_count;
  GArray *ev, *tok, *ts;    /* PcEvent, uint32_t, int64_t */
} Worker;

struct PcEngine {
  PcComm *comm;
  const PcCommOps *ops;
  int rank, size, threads;
  const PcJobConfig *cfg;
  gboolean quiet, force;
  PcReportFn report;        /* draws report.html, or NULL */
  PcOutDir *outdir;         /* rank 0: output.dir, locked from check to commit */
  PcTimers t;
  PcSource *src;
  guint batches;          /* rank 0: the MANIFEST's batches this run reads */
  PcPlan *plan;
  PcFacts facts;
  PcModuleEnv env;
  PcModSet *mods;
  Worker *w;
  GPtrArray *tables;        /* rank 0 after reduce: summary first */
  uint64_t bytes_read, my_events;
  PcRunMemory mem;
  PcSpill *spill;           /* the tables' pool and spill files (pc_spill.h) */
};

/* memory.c: FALSE with PC_ERROR_MEMORY when the run cannot fit this
 * rank's budget (run.memory_per_rank, else 3/4 of the node's memory per
 * rank). */
gboolean pc_engine_check_metas(const PcEngine *e, uint64_t buckets,
                               guint shards, GError **error);
/* Divides the budget (e->mem) once the plan, names and modules' env are
 * known; FALSE with PC_ERROR_MEMORY when the fixed part leaves too little. */
gboolean pc_engine_budget(PcEngine *e, GError **error);

#endif
