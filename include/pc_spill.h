/* pc_spill.h - spilling to disk when the tables that grow with distinct keys
 * outgrow their share of run.memory_per_rank (docs/architecture.md,
 * "Spilling"): the per-rank memory pool those tables share, the rank's
 * temporary directory and its run files, the first spill error, and the
 * figures of run.json (bytes and runs spilled).
 *
 * Owns the spill directory (made on the first run file, under
 * run.spill_dir or $TMPDIR or /tmp, registered with pc_signals so that a
 * signal removes it; removed by pc_spill_free on success and on failure)
 * and every file in it. Does not own what is written: callers (seqspill.c,
 * the percentile store) choose formats. No MPI, no HDF5.
 *
 * Invariants:
 *  - The pool only counts: a table reports its bytes (pc_spill_account)
 *    and asks whether it should spill (pc_spill_due); nothing here frees
 *    memory. Thread-safe (atomics for the pool, a mutex for files).
 *  - Errors are sticky and never thrown across a collective: a failed
 *    write or read records the first error here and the caller carries on
 *    with what it has, so every rank keeps making the same collective calls;
 *    the engine turns pc_spill_check into a collective failure at the end
 *    of each phase.
 *  - What spills is the exact content of a table, never a sample, so
 *    outputs are the same at any budget.
 */
#ifndef PC_SPILL_H
#define PC_SPILL_H

#include "pc_core.h"
#include "pc_signals.h"

typedef struct PcSpill PcSpill;
typedef struct PcSpillFile PcSpillFile;

/* What the engine gives the tables of one rank (bytes). */
typedef struct {
  uint64_t pool;    /* in-memory bytes of all spillable tables of the rank
                     * (every thread) before they spill; 0 = never spill */
  uint64_t reduce;  /* working set of one table's reduce: spilled tables are
                     * walked in partitions sized to it (0: partitions as
                     * small as they go, for tests) */
} PcSpillBudget;

/* A spill context for rank `rank`: files go to a directory made on first
 * use under parent (NULL or "": $TMPDIR, else /tmp). sig (may be NULL)
 * gets the directory registered for removal on a signal. Makes no file
 * yet; cannot fail. Caller frees with pc_spill_free(). */
PcSpill *pc_spill_new(const char *parent, int rank, PcSpillBudget budget,
                      PcSignals *sig);
/* Removes the directory and every file left in it (best effort: an error
 * is recorded, not returned). NULL is fine. */
void pc_spill_free(PcSpill *sp);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PcSpill, pc_spill_free)

/* ---- The pool ------------------------------------------------------------ */

/* *mine = what this table last reported; now = its bytes now. The pool
 * total moves by the difference and *mine becomes now (now = 0 when the
 * table is freed). sp may be NULL (then nothing is counted). */
void pc_spill_account(PcSpill *sp, size_t *mine, size_t now);
/* Whether a table holding `mine` bytes should spill now: the pool is over
 * its budget and this table holds at least an average share of it (so the
 * largest tables go first and tiny ones never write tiny runs). FALSE when
 * sp is NULL, the pool is 0, or a spill already failed. */
gboolean pc_spill_due(const PcSpill *sp, size_t mine);
/* The budget given at creation. */
PcSpillBudget pc_spill_budget(const PcSpill *sp);

/* ---- Run files ----------------------------------------------------------- */

/* A new empty file for about `expect` bytes (what names the table in the
 * file name, e.g. "variants"). Makes the directory on first use, and
 * checks that its file system has `expect` bytes free. NULL with
 * PC_ERROR_IO naming the directory (cannot create, not enough space). */
PcSpillFile *pc_spill_file_new(PcSpill *sp, const char *what, uint64_t expect,
                               GError **error);
/* Before the first file: FALSE with PC_ERROR_IO naming the spill
 * directory's parent when its file system has fewer than `expect` bytes
 * free (a first check of what a run is expected to spill). */
gboolean pc_spill_check_space(PcSpill *sp, uint64_t expect, GError **error);
/* Appends len bytes (buffered). FALSE with PC_ERROR_IO naming the
 * directory; ENOSPC says that the disk is full. */
gboolean pc_spill_file_write(PcSpillFile *f, const void *buf, size_t len,
                             GError **error);
/* Flushes what is buffered; the file is complete (and readable). */
gboolean pc_spill_file_finish(PcSpillFile *f, GError **error);
/* Bytes in the file (after finish). */
uint64_t pc_spill_file_size(const PcSpillFile *f);
/* Reads len bytes at off (a finished file). The descriptor stays open
 * until pc_spill_file_release. FALSE with PC_ERROR_IO. */
gboolean pc_spill_file_read(PcSpillFile *f, uint64_t off, void *buf,
                            size_t len, GError **error);
void pc_spill_file_release(PcSpillFile *f);
/* Closes and deletes the file. NULL is fine; may follow pc_spill_free of
 * its PcSpill (the file is gone then). */
void pc_spill_file_free(PcSpillFile *f);

/* ---- Errors and figures -------------------------------------------------- */

/* Records e (taken) as the error of this rank's spill if it is the first;
 * later ones are dropped. */
void pc_spill_fail(PcSpill *sp, GError *e);
gboolean pc_spill_failed(const PcSpill *sp);
/* TRUE when no spill failed; else FALSE with a copy of the first error. */
gboolean pc_spill_check(const PcSpill *sp, GError **error);

/* Bytes written to run files and files made, since creation. */
uint64_t pc_spill_bytes(const PcSpill *sp);
uint64_t pc_spill_runs(const PcSpill *sp);

#endif
