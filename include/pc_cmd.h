/* pc_cmd.h - the subcommands of bin/parcours (spec §11). Each takes the
 * arguments after its name, runs collectively on every rank, and returns
 * the process exit status (0 success, 1 failure, 2 usage). */
#ifndef PC_CMD_H
#define PC_CMD_H

#include "pc_comm.h"
#include "pc_progress.h"

int pc_cmd_ingest(PcComm *c, int argc, char **argv);
int pc_cmd_generate(PcComm *c, int argc, char **argv);
int pc_cmd_inspect(PcComm *c, int argc, char **argv);
int pc_cmd_plan(PcComm *c, int argc, char **argv);
int pc_cmd_run(PcComm *c, int argc, char **argv);
int pc_cmd_report(PcComm *c, int argc, char **argv);
int pc_cmd_diff(PcComm *c, int argc, char **argv);

/* Parses GOption entries for a subcommand; on error prints it (rank 0) and
 * returns FALSE with *status = 2; --help prints and returns FALSE, 0. */
gboolean pc_cmd_parse(PcComm *c, const char *name, const char *params,
                      const char *summary, const char *description,
                      GOptionEntry *entries, int *argc, char ***argv,
                      int *status);
/* rank 0 prints "parcours CMD: message" on stderr. */
void pc_cmd_fail(PcComm *c, const char *cmd, const GError *e);

#endif
