/* cmd_run.c - `parcours run JOB.ini`: the options and the order of the
 * phases of the main job. The work is the engine's (pc_engine.h): open the
 * store and plan, scan the planned buckets into journeys for every analysis
 * module, reduce across threads and ranks, write output.dir atomically.
 */
#include "pc_cmd.h"
#include "pc_config.h"
#include "pc_engine.h"
#include "pc_run.h"

#include <stdio.h>

static const char SUMMARY[] =
    "Runs a job file (docs/jobs.md): reads the store's buckets planned for this rank, builds journeys with\n"
    "OpenMP threads, computes the path tables, outcome analytics and model of the spec, and writes\n"
    "output.dir/{results.h5,csv/,run.json,report.html} atomically.";

static gboolean run(PcEngine *e, gboolean force, GError **error) {
  return pc_engine_check_output(e, force, error) &&
         pc_engine_open(e, error) && pc_engine_scan(e, error) &&
         pc_engine_reduce(e, error) && pc_engine_write(e, error);
}

int pc_cmd_run(PcComm *c, int argc, char **argv) {
  g_auto(GStrv) sets = NULL;
  gboolean quiet = FALSE, force = FALSE;
  GOptionEntry entries[] = {
      {"set", 's', 0, G_OPTION_ARG_FILENAME_ARRAY, &sets, "Override a job-file setting (repeatable; bytes taken as given, so paths need not be UTF-8), e.g. --set partition.strategy=hash --set funnel.offer.window=86400", "GROUP.KEY=VALUE"},
      {"quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "No progress lines on stderr (errors are still printed)", NULL},
      {"force", 'f', 0, G_OPTION_ARG_NONE, &force, "Replace an existing output directory (atomically: the old one stays until the new one is complete)", NULL},
      {NULL, 0, 0, 0, NULL, NULL, NULL}};
  int status;
  if (!pc_cmd_parse(c, "run", "JOB.ini", SUMMARY,
                    "Every output except run.json is byte-identical for any number of ranks, threads and partition strategy.",
                    entries, &argc, &argv, &status))
    return status;
  if (argc != 2) {
    if (pc_comm_rank(c) == 0) fprintf(stderr, "parcours run: exactly one JOB.ini is required (see --help)\n");
    return 2;
  }
  g_autoptr(GError) err = NULL;
  g_autoptr(PcJobConfig) cfg = NULL;
  gboolean ok = pc_config_load(argv[1], sets, &cfg, &err);
  if (pc_comm_agree(c, ok, &err)) {
    g_autoptr(PcEngine) e = pc_engine_new(c, cfg, quiet);
    pc_engine_set_report(e, pc_run_report);
    ok = run(e, force, &err);
  } else {
    ok = FALSE;
  }
  if (!ok) pc_cmd_fail(c, "run", err);
  return ok ? 0 : 1;
}
