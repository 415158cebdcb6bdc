/* pc_fs.h - file-system helpers: removing a directory tree without a
 * shell, writing a file atomically. No MPI, no HDF5.
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

#endif
