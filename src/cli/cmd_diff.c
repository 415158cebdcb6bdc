/* cmd_diff.c - `parcours diff PREV CUR -o DIR` (spec §14): what changed
 * between two runs, e.g. last month's output directory and this month's.
 *
 * Owns the command line and the phases only: parse, rank 0 compares and
 * writes DIR (pc_diff_run, src/report/diff.c), every rank agrees on the
 * verdict, so every rank exits with the same status (0 ok, 1 failure, 2
 * usage) and the command runs under mpirun like every other.
 */
#include "pc_cmd.h"
#include "pc_diff.h"

#include <stdio.h>

int pc_cmd_diff(PcComm *c, int argc, char **argv) {
  g_autofree char *out = NULL;
  gboolean quiet = FALSE, force = FALSE;
  g_auto(GStrv) rest = NULL;
  GOptionEntry entries[] = {
      {"output", 'o', 0, G_OPTION_ARG_FILENAME, &out, "Directory to write (csv/, diff.json, report.html)", "DIR"},
      {"force", 0, 0, G_OPTION_ARG_NONE, &force, "Replace DIR when parcours wrote it", NULL},
      {"quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "No progress line on stderr", NULL},
      {G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &rest, NULL, NULL},
      {NULL, 0, 0, 0, NULL, NULL, NULL}};
  int status;
  if (!pc_cmd_parse(c, "diff", "PREV CUR -o DIR",
                    "Compares two output directories of `parcours run` (results.h5, else csv/): DIR/csv/<table>_diff.csv\n"
                    "with <col>_prev, <col>_cur and <col>_delta per compared number (funnels with a z test),\n"
                    "DIR/diff.json (tables on one side only, differing job settings) and DIR/report.html.",
                    "DIR is written as DIR.tmp-PID and renamed; it may not be PREV or CUR, nor lie inside or hold them.\n"
                    "Exit status 0 on success, 1 on failure, 2 on a usage error.",
                    entries, &argc, &argv, &status))
    return status;
  if (!out || !rest || !rest[0] || !rest[1] || rest[2]) {
    if (pc_comm_rank(c) == 0) fprintf(stderr, "parcours diff: PREV, CUR and -o DIR are required (see --help)\n");
    return 2;
  }
  PcDiffOpts o = {rest[0], rest[1], out, force, quiet, pc_comm_signals(c)};
  g_autoptr(GError) e = NULL;
  gboolean ok = pc_comm_rank(c) != 0 || pc_diff_run(&o, &e);
  if (!pc_comm_agree(c, ok, &e)) {
    pc_cmd_fail(c, "diff", e);
    return 1;
  }
  return 0;
}
