/* cmd_ingest.c - `parcours ingest`: the options, and the order of the
 * phases of an ingest. The work (input split, parsing rounds, exchange by
 * bucket owner, rejects, commit) is src/store/ingest.c (pc_ingest.h).
 *
 * Owns the command line only: what it accepts, its usage errors (status 2)
 * and the exit status. Every phase is collective and agrees on failure, so
 * every rank returns the same status.
 */
#include "pc_cmd.h"
#include "pc_config.h"
#include "pc_ingest.h"

#include <stdio.h>

/* The phases in order; each ends with every rank agreeing. Nothing is
 * visible to readers until the last one commits the MANIFEST. */
static gboolean ingest(PcComm *c, const PcIngestOpts *o, GError **error) {
  g_autoptr(PcIngest) g = pc_ingest_new(c, o);
  if (!pc_ingest_open(g, error) ||    /* target store (lock), input sizes, pieces */
      !pc_ingest_identify(g, error))  /* digests, key (now only for an existing new store) */
    return FALSE;
  if (pc_ingest_committed(g)) return TRUE; /* a retry of a committed batch */
  if (!pc_ingest_stage(g, error) ||   /* staging, runs' directory, free space */
      !pc_ingest_parse(g, error))     /* rounds: parse, send to bucket owner, sort; digests */
    return FALSE;
  if (pc_ingest_committed(g)) return TRUE; /* found when the digests were complete */
  return pc_ingest_write(g, error) &&   /* sorted runs merged into each shard */
         pc_ingest_rejects(g, error) && /* rejects file, batch record, share */
         pc_ingest_commit(g, error);    /* shards finished, then MANIFEST */
}

/* What is wrong with the command line, or NULL. Caller g_free()s. */
static char *usage_error(const char *out, char **inputs, gint64 buckets,
                         double max_reject, double lock_wait,
                         const char *memory, guint64 *mem_bytes) {
  if (!out || !inputs || !inputs[0]) return g_strdup("-o STORE and at least one INPUT are required");
  for (char **p = inputs; *p; p++)
    if (!**p) return g_strdup("an INPUT is an empty name");
  if (buckets == 0 || buckets < -1) return g_strdup_printf("--buckets %" G_GINT64_FORMAT ": B must be 1..%" G_GUINT64_FORMAT, buckets, PC_MAX_BUCKETS);
  if (buckets > (gint64)PC_MAX_BUCKETS)
    return g_strdup_printf("--buckets %" G_GINT64_FORMAT ": more than %" G_GUINT64_FORMAT " (2^20), the most a store may have: every reader keeps about 90 bytes per bucket and shard (%.1f GiB per shard at this B)", buckets, PC_MAX_BUCKETS, buckets * 90.0 / (1 << 30));
  if (max_reject < 0 || max_reject > 1) return g_strdup_printf("--max-reject-fraction %g: F must be 0..1", max_reject);
  if (lock_wait < 0) return g_strdup_printf("--lock-timeout %g: S must be 0 or more seconds", lock_wait);
  if (memory && (!pc_config_parse_size(memory, mem_bytes) || *mem_bytes < PC_INGEST_MIN_MEMORY))
    return g_strdup_printf("--memory %s: SIZE must be a size of at least 256K (bytes with an optional K, M, G or T, 1024-based, or KiB ... TiB: 512M, 512MiB, 2G)", memory);
  return NULL;
}

int pc_cmd_ingest(PcComm *c, int argc, char **argv) {
  g_autofree char *out = NULL, *customers = NULL, *memory = NULL;
  g_auto(GStrv) inputs = NULL;
  gboolean append = FALSE, quiet = FALSE;
  gint64 buckets = -1; /* not given: 4096, or the store's for --append */
  double max_reject = 0, lock_wait = 0;
  GOptionEntry entries[] = {
      {"output", 'o', 0, G_OPTION_ARG_FILENAME, &out, "Store directory to create (or to extend with --append)", "STORE"},
      {"append", 0, 0, G_OPTION_ARG_NONE, &append, "Add these inputs as a new batch of shards to an existing store (same bucket count); readers see the old or the new history, never a mix", NULL},
      {"customers", 0, 0, G_OPTION_ARG_FILENAME, &customers, "Customers table CSV (customer_id,revenue,segment; plain or gzip)", "FILE"},
      {"buckets", 0, 0, G_OPTION_ARG_INT64, &buckets, "Number of customer buckets B of a new store, 1..1048576 (default 4096); customer -> FNV-1a-64(id) mod B", "B"},
      {"max-reject-fraction", 0, 0, G_OPTION_ARG_DOUBLE, &max_reject, "Fail (adding nothing) when rejected rows / data rows exceeds F (default 0: any rejected row fails)", "F"},
      {"lock-timeout", 0, 0, G_OPTION_ARG_DOUBLE, &lock_wait, "With --append, wait up to S seconds for another command writing the store to finish (default 0: fail at once, naming it)", "S"},
      {"memory", 0, 0, G_OPTION_ARG_STRING, &memory, "Memory per rank for the rows being parsed, exchanged and sorted (default 1G); beyond it, sorted runs are spilled to STORE's staging directory and merged into the shards. SIZE as run.memory_per_rank: 512M, 512MiB, 2G (at least 256K)", "SIZE"},
      {"quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "No progress lines on stderr", NULL},
      {G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &inputs, NULL, "INPUT..."},
      {NULL, 0, 0, 0, NULL, NULL, NULL}};
  int status;
  if (!pc_cmd_parse(c, "ingest", "-o STORE",
                    "Validates canonical event CSV files (spec §1; plain or .gz) and writes them as a batch of HDF5 shards,\n"
                    "one per rank, grouped by customer bucket, in --memory per rank whatever their size (docs/format.md).\n"
                    "Rejected rows go to STORE/rejects-bNNNNNN.tsv (file, line, reason, text) and are counted by reason.",
                    "Run under mpirun -np P to parse and write in parallel. Exit status 0 on success.",
                    entries, &argc, &argv, &status))
    return status;
  guint64 mem_bytes = 0;
  g_autofree char *why = usage_error(out, inputs, buckets, max_reject, lock_wait, memory, &mem_bytes);
  if (why) {
    if (pc_comm_rank(c) == 0) fprintf(stderr, "parcours ingest: %s\n(see parcours ingest --help)\n", why);
    return 2;
  }
  PcIngestOpts o = {out, inputs, customers, append, buckets < 0 ? 0 : (uint64_t)buckets, max_reject, quiet, lock_wait, mem_bytes};
  g_autoptr(GError) e = NULL;
  if (!ingest(c, &o, &e)) {
    pc_cmd_fail(c, "ingest", e);
    return 1;
  }
  return 0;
}
