/* pc_generate.h - the work of `parcours generate`: the synthetic world of
 * pc_synth.h written directly as a new store, one shard per rank, with its
 * truth file and optionally canonical CSV. The command (cmd_generate.c)
 * parses the options and calls the phases below in order; each is
 * collective and ends with pc_comm_agree().
 */
#ifndef PC_GENERATE_H
#define PC_GENERATE_H

#include "pc_comm.h"

#define PC_GENERATE_DEFAULT_MEMORY ((uint64_t)1 << 30) /* --memory: 1 GiB per rank */
#define PC_GENERATE_MIN_MEMORY ((uint64_t)256 << 10)   /* --memory: at least 256 KiB */

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
  uint64_t memory;     /* bytes per rank (--memory): bounds a bucket range's list */
} PcGenerateOpts;

typedef struct PcGenerate PcGenerate;

/* A generation of o on the ranks of c; o must outlive it. Cannot fail.
 * Caller frees with pc_generate_free(). */
PcGenerate *pc_generate_new(PcComm *c, const PcGenerateOpts *o);
void pc_generate_free(PcGenerate *g);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PcGenerate, pc_generate_free)

/* 1. Rank 0 creates the staging directory STORE.tmp-PID (PC_ERROR_EXISTS
 *    when STORE exists) and registers it with the signal watcher; all
 *    learn its name. From here on a failure, a signal or pc_generate_free()
 *    before the commit removes it. */
gboolean pc_generate_stage(PcGenerate *g, GError **error);
/* 2. Rank r makes the customers of the buckets it owns (b*P/B = r) into
 *    its shard, bucket range by bucket range (memory bounds a range's
 *    customer list), written as made (pc_h5io.h's stream writer); with
 *    --csv, then its part [r*N/P, (r+1)*N/P) of the CSV files. Customer k
 *    is a pure function of (seed, k), so the store's rows are the same for
 *    any P and budget. PC_ERROR_IO. */
gboolean pc_generate_customers(PcGenerate *g, GError **error);
/* 3. Rank 0 writes the truth file, joins the CSV parts in rank order
 *    (byte-identical for any P) and commits the MANIFEST inside the signal
 *    lock. PC_ERROR_IO. Unless quiet, says what was written and how many
 *    bucket ranges the budget took. */
gboolean pc_generate_commit(PcGenerate *g, GError **error);

#endif
