/* cmd_report.c - `parcours report OUTDIR`: redraws OUTDIR/report.html from
 * an existing output directory (for instance with run.json's timings,
 * which `parcours run` does not have yet when it draws the page).
 *
 * Owns the command line and the phases only: parse, rank 0 draws
 * (pc_run_report, src/report/), every rank agrees on the verdict, so every
 * rank exits with the same status (0 ok, 1 failure, 2 usage).
 */
#include "pc_cmd.h"
#include "pc_run.h"

#include <stdio.h>

int pc_cmd_report(PcComm *c, int argc, char **argv) {
  gboolean quiet = FALSE;
  g_auto(GStrv) rest = NULL;
  GOptionEntry entries[] = {
      {"quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "No progress line on stderr", NULL},
      {G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &rest, NULL, NULL},
      {NULL, 0, 0, 0, NULL, NULL, NULL}};
  int status;
  if (!pc_cmd_parse(c, "report", "OUTDIR",
                    "Writes OUTDIR/report.html from OUTDIR/results.h5, OUTDIR/run.json (optional) and the store's\n"
                    "ingest records (optional): one self-contained page, no network, no script.",
                    "`parcours run` writes the report itself; use this to redraw it, e.g. with run.json's timings.\n"
                    "Exit status 0 on success, 1 on failure, 2 on a usage error.",
                    entries, &argc, &argv, &status))
    return status;
  if (!rest || !rest[0] || rest[1]) {
    if (pc_comm_rank(c) == 0) fprintf(stderr, "parcours report: exactly one OUTDIR is required (see --help)\n");
    return 2;
  }
  g_autoptr(GError) e = NULL;
  gboolean ok = pc_comm_rank(c) != 0 || pc_run_report(rest[0], NULL, quiet, &e);
  if (!pc_comm_agree(c, ok, &e)) {
    pc_cmd_fail(c, "report", e);
    return 1;
  }
  return 0;
}
