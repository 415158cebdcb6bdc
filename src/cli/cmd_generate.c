/* cmd_generate.c - `parcours generate`: the options, and the order of the
 * phases of a generation. The work (each rank its customers into its
 * shard, the truth file, --csv) is src/synth/generate.c (pc_generate.h);
 * the world is src/synth.
 *
 * Owns the command line only: what it accepts, its usage errors (status 2)
 * and the exit status. Every phase is collective and agrees on failure.
 */
#include "pc_cmd.h"
#include "pc_config.h"
#include "pc_generate.h"
#include "pc_synth.h"

#include <stdio.h>

/* The phases in order; nothing is visible before the last commits. */
static gboolean generate(PcComm *c, const PcGenerateOpts *o, GError **error) {
  g_autoptr(PcGenerate) g = pc_generate_new(c, o);
  return pc_generate_stage(g, error) &&     /* STORE.tmp-PID */
         pc_generate_customers(g, error) && /* every rank its shard (and CSV part) */
         pc_generate_commit(g, error);      /* truth, CSV, MANIFEST */
}

int pc_cmd_generate(PcComm *c, int argc, char **argv) {
  g_autofree char *out = NULL, *csv = NULL, *memory = NULL;
  gint64 customers = 0, seed = 1, buckets = 4096, month = 0;
  gboolean quiet = FALSE;
  GOptionEntry entries[] = {
      {"output", 'o', 0, G_OPTION_ARG_FILENAME, &out, "Store directory to create", "STORE"},
      {"customers", 'n', 0, G_OPTION_ARG_INT64, &customers, "Number of customers (about 10 events each)", "N"},
      {"seed", 0, 0, G_OPTION_ARG_INT64, &seed, "Seed of the world, 0 or more (default 1); same seed -> same events for any P", "S"},
      {"csv", 0, 0, G_OPTION_ARG_FILENAME, &csv, "Also write the events as canonical CSV to FILE, and the customers table to FILE-customers.csv (FILE without .csv)", "FILE"},
      {"buckets", 0, 0, G_OPTION_ARG_INT64, &buckets, "Bucket count B of the store, 1..1048576 (default 4096)", "B"},
      {"month", 0, 0, G_OPTION_ARG_INT64, &month, "Generate calendar month K only (1 = 2026-01); from month 2 on the sms offer sign-up rate is 0.17 instead of 0.11 (docs/generate.md)", "K"},
      {"memory", 0, 0, G_OPTION_ARG_STRING, &memory, "Memory per rank (default 1G): bounds the list of customers of a bucket range (8 bytes each); customers are written as they are made. SIZE as run.memory_per_rank: 512M, 512MiB, 2G (at least 256K)", "SIZE"},
      {"quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "No progress lines", NULL},
      {NULL, 0, 0, 0, NULL, NULL, NULL}};
  int status;
  if (!pc_cmd_parse(c, "generate", "-o STORE --customers N",
                    "Writes a seeded synthetic omnichannel world (docs/generate.md) as a store, one shard per rank (the\n"
                    "customers of the buckets it owns, written as they are made), with the customers table and\n"
                    "STORE/truth.json, the planted effects.",
                    NULL, entries, &argc, &argv, &status))
    return status;
  guint64 mem = PC_GENERATE_DEFAULT_MEMORY;
  gboolean mem_ok = !memory || (pc_config_parse_size(memory, &mem) && mem >= PC_GENERATE_MIN_MEMORY);
  if (!out || customers <= 0 || seed < 0 || buckets <= 0 || buckets > (gint64)PC_MAX_BUCKETS ||
      month < 0 || month > PC_SYNTH_MAX_MONTH || !mem_ok || argc != 1) {
    if (pc_comm_rank(c) == 0) fprintf(stderr, "parcours generate: -o STORE and --customers N > 0 are required, --seed S >= 0, --buckets 1..%" G_GUINT64_FORMAT " (2^20), --month 1..%d, --memory SIZE of at least 256K (512M, 512MiB, 2G), no other argument (see --help)\n", PC_MAX_BUCKETS, PC_SYNTH_MAX_MONTH);
    return 2;
  }
  PcGenerateOpts o = {.out = out, .csv = csv, .customers = (uint64_t)customers, .seed = (uint64_t)seed,
                      .buckets = (uint64_t)buckets, .month = (guint)month, .quiet = quiet, .memory = mem};
  g_autoptr(GError) e = NULL;
  if (!generate(c, &o, &e)) {
    pc_cmd_fail(c, "generate", e);
    return 1;
  }
  return 0;
}
