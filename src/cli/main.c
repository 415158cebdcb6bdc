/* main.c - bin/parcours: MPI start, subcommand dispatch (spec §11), exit
 * status. Every subcommand runs alone or under mpirun -np P. */
#include "pc_cmd.h"
#include "pc_h5io.h"

#include <malloc.h>
#include <stdio.h>
#include <sys/resource.h>

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

/* Resident memory should follow live bytes (run.memory_per_rank is a
 * budget): a fixed mmap threshold stops glibc from raising it after each
 * large free, which would keep freed batch buffers and tables in the heap.
 * Under an address-space limit (ulimit -v) the malloc arenas of the other
 * threads (MPI's, OpenMP's), 64 MiB of address space each, are capped. */
static void malloc_tuning(void) {
  struct rlimit rl;
  mallopt(M_MMAP_THRESHOLD, 256 << 10);
  if (getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
    mallopt(M_ARENA_MAX, 1);
}

int main(int argc, char **argv) {
  malloc_tuning(); /* before any thread */
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
