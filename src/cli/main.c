/* main.c - bin/parcours: MPI start, subcommand dispatch (spec §11), exit
 * status. Every subcommand runs alone or under mpirun -np P. */
#include "pc_cmd.h"
#include "pc_h5io.h"

#include <stdio.h>

static const struct {
  const char *name;
  int (*fn)(PcComm *, int, char **);
  const char *what;
} commands[] = {
    {"ingest", pc_cmd_ingest, "validate canonical CSV and write it as a store batch"},
    {"generate", pc_cmd_generate, "write a seeded synthetic omnichannel world as a store"},
    {"inspect", pc_cmd_inspect, "show a store: format, shards, counts, names, bucket balance"},
    {"plan", pc_cmd_plan, "show the partition plan for P ranks from the bucket index"},
    {"run", pc_cmd_run, "run a job file: journeys, path tables, outcomes, model, outputs"},
    {"report", pc_cmd_report, "write OUTDIR/report.html from a run's results"},
    {"diff", pc_cmd_diff, "compare two runs' outputs: deltas, z tests, diff.json, report.html"},
};

static void usage(FILE *f) {
  fputs("Usage: parcours COMMAND [OPTION...]   (alone or under mpirun -np P)\n\nCommands:\n", f);
  for (size_t i = 0; i < G_N_ELEMENTS(commands); i++)
    fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].what);
  fputs("\n'parcours COMMAND --help' explains every option of a command.\n"
        "Documentation: docs/ (architecture.md, format.md, jobs.md).\n", f);
}

int main(int argc, char **argv) {
  /* first: the signal mask must be set before MPI or OpenMP start threads */
  PcSignals *sig = pc_signals_start();
  PcComm *c = pc_comm_init(&argc, &argv, sig);
  pc_h5io_quiet();
  int rc = 2;
  if (argc < 2) {
    if (pc_comm_rank(c) == 0) usage(stderr);
  } else if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
    if (pc_comm_rank(c) == 0) usage(stdout);
    rc = 0;
  } else {
    size_t i = 0;
    while (i < G_N_ELEMENTS(commands) && strcmp(commands[i].name, argv[1])) i++;
    if (i < G_N_ELEMENTS(commands)) {
      pc_signals_set_command(sig, argv[1], pc_comm_rank(c));
      /* GOption prints argv[0] in usage lines: "parcours run" */
      g_autofree char *name = g_strdup_printf("parcours %s", argv[1]);
      char *saved = argv[1];
      argv[1] = name;
      rc = commands[i].fn(c, argc - 1, argv + 1);
      argv[1] = saved;
    } else if (pc_comm_rank(c) == 0) {
      fprintf(stderr, "parcours: unknown command '%s'\n\n", argv[1]);
      usage(stderr);
    }
  }
  pc_comm_finalize(c);
  return rc;
}
