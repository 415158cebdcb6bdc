/* pc_outdir.h - the output directory of a run, made safe for a monthly
 * production job: parcours only ever replaces a directory it wrote itself
 * (a marker file in every output directory), never the store, "/", a
 * parent of the store or a directory inside it, never a plain file or a
 * symbolic link; one writer at a time (an exclusive lock file beside the
 * directory, naming its holder); replacement by rename, never by a shell.
 * File-system work of rank 0 only; no MPI, no HDF5.
 */
#ifndef PC_OUTDIR_H
#define PC_OUTDIR_H

#include "pc_core.h"
#include "pc_signals.h"

#define PC_OUTDIR_MARKER ".parcours-output" /* in every output directory */

typedef struct PcOutDir PcOutDir;

/* Takes the writer lock DIR.lock (flock, released by the kernel if the
 * process dies; the file stays) and checks that DIR may be written:
 * absent, or (force) a directory holding the marker. store: the input
 * store, which DIR may not be, contain or lie inside. FALSE with
 * PC_ERROR_EXISTS (exists, no --force), PC_ERROR_CONFIG (not ours, the
 * store, a file, a link) or PC_ERROR_IO (lock held: the message names the
 * holder's PID; cannot create the lock). sig (may be NULL): the staging
 * directory is registered there for removal on a signal, and the commit is
 * bracketed so that a signal never lands half-way. Caller frees with
 * pc_outdir_close(), which releases the lock. */
gboolean pc_outdir_open(const char *dir, const char *store, gboolean force,
                        PcSignals *sig, PcOutDir **out, GError **error);
void pc_outdir_close(PcOutDir *o);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PcOutDir, pc_outdir_close)

/* FALSE with PC_ERROR_CONFIG when dir is other, lies inside it or holds it
 * (canonical paths; what names other in the message, e.g. "PREV"), or is
 * "/"; PC_ERROR_IO when dir's parent does not exist. For commands whose
 * output must stay apart from more inputs than the store (diff). */
gboolean pc_outdir_check_apart(const char *dir, const char *other,
                               const char *what, GError **error);

/* The staging directory DIR.tmp-PID, created empty with the marker. */
gboolean pc_outdir_stage(PcOutDir *o, GError **error);
const char *pc_outdir_staging(const PcOutDir *o);

/* Replaces DIR by the staging directory: checks DIR again (it may have
 * changed since open), moves it aside, renames staging in, removes the old
 * tree. On failure nothing under DIR changes. */
gboolean pc_outdir_commit(PcOutDir *o, GError **error);

/* Removes the staging directory (after a failure), best effort, quietly. */
void pc_outdir_abandon(PcOutDir *o);

#endif
