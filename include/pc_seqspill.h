/* pc_seqspill.h - the spilled runs of one sequence table (PcSeqTab): when
 * the rank's table pool (pc_spill.h) is over budget, a table writes its
 * entries as a run file ordered by fine partition (pc_seqtab_part) and
 * starts empty; at reduce, the entries of a range of fine partitions are
 * read back from every run and merged (pc_seqred_reduce walks them).
 *
 * Owns the run files of one table instance (one per thread while counting,
 * moved into thread 0's by absorb) and the accounting of that table in the
 * pool. Does not own the table itself nor the directory (PcSpill). No
 * MPI, no HDF5.
 *
 * Invariants:
 *  - The runs plus the table hold exactly the counts added to the table:
 *    a run is the table's content at the time it spilled, counters and
 *    keys, never a sample; local words are not written (they are scratch
 *    of the counting instance, as in the byte form).
 *  - A table spills only when its owner calls pc_seqspill_maybe, i.e. at
 *    a journey boundary, so per-journey stamps (count once per journey)
 *    never see a journey split across two runs.
 *  - Errors go to the PcSpill (sticky, pc_spill.h); the table is emptied
 *    anyway so memory stays bounded, and the run fails at the next check.
 */
#ifndef PC_SEQSPILL_H
#define PC_SEQSPILL_H

#include "pc_seqtab.h"
#include "pc_spill.h"

typedef struct PcSeqSpill PcSeqSpill;

/* Runs of a table named `name` (in file names and messages) with k
 * counters. sp may be NULL: the table never spills. Cannot fail. Free with
 * pc_seqspill_free (deletes its files). */
PcSeqSpill *pc_seqspill_new(PcSpill *sp, const char *name, guint k);
void pc_seqspill_free(PcSeqSpill *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PcSeqSpill, pc_seqspill_free)

/* At a journey boundary (or after a merge): reports t's bytes to the pool
 * and, when the pool says so (pc_spill_due), writes t as a run and empties
 * it. Cannot fail (see the invariants). */
void pc_seqspill_maybe(PcSeqSpill *s, PcSeqTab *t);
/* Writes t as a run now (when t is not empty) and empties it. FALSE with
 * PC_ERROR_IO (t is emptied all the same). */
gboolean pc_seqspill_write(PcSeqSpill *s, PcSeqTab *t, GError **error);
/* Reports that the table t was freed or emptied by its owner. */
void pc_seqspill_forget(PcSeqSpill *s);

/* dst takes src's runs (same k); src keeps none. */
void pc_seqspill_absorb(PcSeqSpill *dst, PcSeqSpill *src);

/* Runs written, and their bytes. */
guint pc_seqspill_runs(const PcSeqSpill *s);
uint64_t pc_seqspill_bytes(const PcSeqSpill *s);
/* The spill context (NULL when the table never spills). */
PcSpill *pc_seqspill_context(const PcSeqSpill *s);

/* Adds into dst (same k) the entries of every run in partition `part` of
 * `nparts` (a power of two <= PC_SEQTAB_PARTS): fine partitions
 * [part * w, (part + 1) * w), w = PC_SEQTAB_PARTS / nparts. FALSE with
 * PC_ERROR_IO or PC_ERROR_FORMAT. */
gboolean pc_seqspill_load(PcSeqSpill *s, guint part, guint nparts,
                          PcSeqTab *dst, GError **error);

#endif
