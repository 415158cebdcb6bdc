/* pc_comm.h - the only door to MPI. Wrappers are named for what they do;
 * every other module sees ranks through this header or through PcCommOps.
 *
 * Failure is collective: a phase ends with pc_comm_agree(), which tells
 * every rank whether any rank failed and carries the lowest failing rank's
 * message to all, so rank 0 prints one clear message and all exit non-zero.
 */
#ifndef PC_COMM_H
#define PC_COMM_H

#include "pc_commops.h"
#include "pc_signals.h"

typedef struct PcComm PcComm;

/* MPI_Init_thread (funneled). Works without mpirun (singleton, P = 1).
 * sig: the process's signal watcher (pc_signals_start(), may be NULL),
 * kept for the commands (pc_comm_signals). */
PcComm *pc_comm_init(int *argc, char ***argv, PcSignals *sig);
PcSignals *pc_comm_signals(const PcComm *c);
void pc_comm_finalize(PcComm *c);
int pc_comm_rank(const PcComm *c);
int pc_comm_size(const PcComm *c);
/* Bytes this rank has sent to other ranks in exchanges and gathers. */
uint64_t pc_comm_bytes_sent(const PcComm *c);
const PcCommOps *pc_comm_ops(PcComm *c);
double pc_comm_wtime(void);

/* Collective. ok: this rank's status; *error (this rank's error, or NULL).
 * Returns TRUE when every rank was ok. Otherwise FALSE, and on every rank
 * *error holds "rank R: <message>" of the lowest failing rank R (replacing
 * the local one, with its code). */
gboolean pc_comm_agree(PcComm *c, gboolean ok, GError **error);

/* Collective: a barrier during which this rank sleeps (an MPI_Ibarrier
 * tested for 50 us, then between naps of 20..200 us) instead of spinning
 * in MPI, for the waits on rank 0 working alone (the tables, the outputs).
 * Every collective of comm.c begins the same way (comm.c: "Waiting
 * without spinning"): Open MPI busy-polls in a blocking collective, so an
 * idle rank held a core that rank 0's threads, or another job, could use. */
void pc_comm_quiet_barrier(PcComm *c);

/* Collective helpers on unsigned 64-bit integers (exact). */
void pc_comm_sum_u64(PcComm *c, uint64_t *v, size_t n);
void pc_comm_max_u64(PcComm *c, uint64_t *v, size_t n);
/* all[r] = v of rank r, on every rank (all has size entries). */
void pc_comm_allgather_u64(PcComm *c, uint64_t v, uint64_t *all);
void pc_comm_allgather_double(PcComm *c, double v, double *all);
/* Rank 0's bytes to everyone: *buf g_malloc'ed on other ranks. */
void pc_comm_bcast_bytes(PcComm *c, void **buf, size_t *len);
void pc_comm_bcast_u64(PcComm *c, uint64_t *v, size_t n);

#endif
