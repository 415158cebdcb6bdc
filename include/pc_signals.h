/* pc_signals.h - what happens when an operator (Ctrl-C), mpirun or Slurm
 * (scancel: SIGTERM) stops a command: every rank stops within moments,
 * rank 0 says what was interrupted, the temporary files and directories the
 * command registered are removed, nothing under a final name changes, and
 * the process exits with 128 + the signal number.
 *
 * How: SIGTERM, SIGINT and SIGHUP are blocked in every thread (the mask is
 * set before MPI and OpenMP start their threads, which inherit it) and one
 * watcher thread waits for them with sigwait(): it runs ordinary code, not
 * a signal handler, so it may take locks and remove trees. A commit (the
 * rename that makes results final) holds the lock, so a signal lands either
 * before it (nothing final changes) or after it (the results were complete;
 * the message says so). No MPI calls here.
 */
#ifndef PC_SIGNALS_H
#define PC_SIGNALS_H

#include "pc_core.h"

typedef struct PcSignals PcSignals;

/* Blocks the signals in the calling thread (call it first in main, before
 * any other thread exists) and starts the watcher. NULL if the watcher
 * cannot start (the signals then keep their default action). */
PcSignals *pc_signals_start(void);

/* The command being run and this process's rank (for the message; rank 0
 * prints). Copies cmd. */
void pc_signals_set_command(PcSignals *s, const char *cmd, int rank);
/* What the command is doing now, e.g. "reading and building journeys"
 * (a static string or one that outlives the phase). */
void pc_signals_phase(PcSignals *s, const char *phase);

/* A path (file or directory tree) to remove if a signal comes; unregister
 * it once it was renamed to its final name or removed. Copies path. */
void pc_signals_register(PcSignals *s, const char *path);
void pc_signals_unregister(PcSignals *s, const char *path);

/* Brackets a commit (renames that make results final): a signal waits for
 * it, and after commit_end the registered paths are no longer removed. */
void pc_signals_commit_begin(PcSignals *s);
void pc_signals_commit_end(PcSignals *s);
/* Ends a commit that failed (nothing became final): paths stay registered. */
void pc_signals_commit_abort(PcSignals *s);

#endif
