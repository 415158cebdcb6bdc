/* pc_fs.h - file-system helpers: removing a directory tree without a
 * shell, writing a file atomically, an exclusive writer lock naming its
 * holder. No MPI, no HDF5.
 */
#ifndef PC_FS_H
#define PC_FS_H

#include "pc_core.h"

/* Removes path and, if it is a directory, everything under it, without
 * following symbolic links (a link is removed, never its target). A
 * missing path is success. FALSE with PC_ERROR_IO naming the first entry
 * that could not be removed. */
gboolean pc_fs_remove_tree(const char *path, GError **error);

/* Writes len bytes to path through path.tmp-PID, fsync, rename: readers
 * see the old file or the whole new one. FALSE with PC_ERROR_IO. */
gboolean pc_fs_write_atomic(const char *path, const void *data, size_t len,
                            GError **error);

/* Takes an exclusive flock on path (created 0644 if absent) and writes
 * "PID N on host H" into it for whoever finds it held. wait_s > 0 retries
 * for up to that many seconds. Returns the descriptor: closing it (or the
 * death of the process, kill -9 included) releases the lock; the file
 * stays. -1 on failure: PC_ERROR_BUSY when another process holds it
 * (*holder, if not NULL, gets its text, "PID N on host H" or "unknown";
 * caller g_free()s), PC_ERROR_IO when it cannot be created or the file
 * system does not lock (the message says which). */
int pc_fs_lock(const char *path, double wait_s, char **holder, GError **error);

#endif
