/* pc_generate.h - the work of `parcours generate`: the synthetic world of
 * pc_synth.h written directly as a new store, one shard per rank, with its
 * truth file and optionally canonical CSV. The command (cmd_generate.c)
 * parses the options and calls the phases below in order; each is
 * collective and ends with pc_comm_agree().
 */
#ifndef PC_GENERATE_H
#define PC_GENERATE_H

#include "pc_comm.h"

/* ---- API ----------------------------------------------------------------- */

typedef struct {
  const char *out;     /* store directory to create */
  const char *csv;     /* also write canonical CSV to FILE (and
                        * FILE-customers.csv, FILE without .csv), or NULL */
  uint64_t customers;  /* N > 0 */
  uint64_t seed;
  uint64_t buckets;    /* B, 1..2^31 */
  guint month;         /* 0: the default range; else pc_synth_set_month */
  gboolean quiet;      /* no progress lines */
} PcGenerateOpts;

typedef struct PcGenerate PcGenerate;

/* A generation of o on the ranks of c; o must outlive it. Cannot fail.
 * Caller frees with pc_generate_free(). */
PcGenerate *pc_generate_new(PcComm *c, const PcGenerateOpts *o);
void pc_generate_free(PcGenerate *g);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PcGenerate, pc_generate_free)

/* 1. Rank 0 creates the staging directory STORE.tmp-PID (PC_ERROR_EXISTS
 *    when STORE exists); all learn its name. */
gboolean pc_generate_stage(PcGenerate *g, GError **error);
/* 2. Rank r makes customers [r*N/P, (r+1)*N/P) into its shard in the
 *    staging directory (and its part of the CSV files). Customer k is a
 *    pure function of (seed, k), so the events are the same for any P.
 *    PC_ERROR_IO; on failure the staging directory is removed. */
gboolean pc_generate_customers(PcGenerate *g, GError **error);
/* 3. Rank 0 writes the truth file, joins the CSV parts in rank order
 *    (byte-identical for any P) and commits the MANIFEST. PC_ERROR_IO; on
 *    failure the staging directory is removed. */
gboolean pc_generate_commit(PcGenerate *g, GError **error);

#endif
