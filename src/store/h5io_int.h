/* h5io_int.h - private to the h5io files of src/store (h5io.c, h5shard.c,
 * h5slice.c, h5results.c): the HDF5 helpers they share. These four files
 * are the only ones that include hdf5.h; nothing outside src/store includes
 * this header.
 *
 * Conventions every helper keeps: a hid_t < 0 means "not opened" and
 * pc_h5_close() ignores it, so cleanup runs in reverse order of opening on
 * every path; every failure that a caller reports is a GError naming the
 * file and the object (PC_ERROR_IO for writing, PC_ERROR_FORMAT for a shard
 * or table that cannot be read as written).
 */
#ifndef PC_H5IO_INT_H
#define PC_H5IO_INT_H

#include "pc_h5io.h"

#include <hdf5.h>

#define PC_H5_CHUNK_ELEMS 65536 /* elements per chunk of a 1-D column */

/* Closes any HDF5 id by its type; id < 0 is ignored. Cannot fail. */
void pc_h5_close(hid_t id);

/* ---- Writing ---------------------------------------------------------------- */

/* A new file built in memory (core driver, no backing store), object time
 * tracking off. Returns the file id or < 0. Write it out with
 * pc_h5_close_to_disk(). */
hid_t pc_h5_create_in_memory(const char *path);
/* Closes the in-memory file f; when ok, first writes its image to path
 * (fsync'ed; a partial file is removed). Returns ok && the image was
 * written; on failure *error names path (PC_ERROR_IO). */
gboolean pc_h5_close_to_disk(hid_t f, gboolean ok, const char *path,
                             GError **error);
/* A group without time stamps; < 0 on failure. Caller closes. */
hid_t pc_h5_group_create(hid_t loc, const char *name);
/* A 1-D dataset of n elements of type, chunked by chunk (at most n) with
 * shuffle + deflate(1); contiguous when empty. FALSE with PC_ERROR_IO
 * naming file and name. */
gboolean pc_h5_write_1d(hid_t loc, const char *name, hid_t type,
                        const void *data, hsize_t n, hsize_t chunk,
                        const char *file, GError **error);
/* A dataset of type over space without time stamps, default layout; < 0
 * on failure. Caller closes. */
hid_t pc_h5_dataset_create(hid_t loc, const char *name, hid_t type,
                           hid_t space);
/* A C string type: fixed length n bytes, or variable length when n = 0.
 * < 0 on failure. Caller closes. */
hid_t pc_h5_string_type(size_t n);
/* Scalar attributes; FALSE when HDF5 fails (the caller names the file). */
gboolean pc_h5_write_attr_u64(hid_t loc, const char *name, uint64_t v);
gboolean pc_h5_write_attr_str(hid_t loc, const char *name, const char *v);

/* ---- Reading ---------------------------------------------------------------- */

/* A uint64 attribute; FALSE with PC_ERROR_FORMAT ("not a parcours shard:
 * attribute NAME missing or unreadable") naming file. */
gboolean pc_h5_read_attr_u64(hid_t loc, const char *name, uint64_t *v,
                             const char *file, GError **error);
/* A fixed-length string attribute, or NULL when absent or of another type.
 * Caller g_free()s. */
char *pc_h5_read_attr_str(hid_t loc, const char *name);
/* Number of elements of a 1-D dataset, or -1 when absent or not 1-D. */
int64_t pc_h5_ds_len(hid_t loc, const char *name);
/* A 1-D dataset of want's type: the same class, size and (integers) sign
 * as the native type want, or for a string type the same variable or
 * fixed kind; want_len >= 0: exactly that many elements. FALSE with
 * PC_ERROR_FORMAT naming file and dataset: "dataset NAME is missing",
 * "... has 2 dimensions, not 1", "... is float32, not int64 (...)",
 * "... has N elements, ...". HDF5 would convert another type silently. */
gboolean pc_h5_check_ds(hid_t loc, const char *name, hid_t want,
                        int64_t want_len, const char *why_len,
                        const char *file, GError **error);
/* Reads all n elements of a 1-D dataset; FALSE with PC_ERROR_FORMAT when
 * its length is not n or the read fails. */
gboolean pc_h5_read_all(hid_t loc, const char *name, hid_t type, void *buf,
                        uint64_t n, const char *file, GError **error);

/* ---- Columns (h5chunk.c) ------------------------------------------------------ */
/* Element ranges of a 1-D dataset, ascending and disjoint:
 * [start[i], start[i] + count[i]), total elements in all. */
typedef struct {
  hsize_t *start, *count;
  size_t nr;
  hsize_t total;
} PcH5Ranges;
/* A buffer a caller keeps for pc_h5_col_read's raw chunks across reads. */
typedef struct {
  guint8 *p;
  size_t cap;
} PcH5Scratch;
/* A 1-D dataset open for reading ranges, as mem_type (its type already
 * checked by the caller). NULL with PC_ERROR_FORMAT naming file and name
 * when it cannot be opened. Close with pc_h5_col_close(). */
typedef struct PcH5Col PcH5Col;
PcH5Col *pc_h5_col_open(hid_t f, const char *name, hid_t mem_type,
                        const char *file, GError **error);
void pc_h5_col_close(PcH5Col *c);
/* The elements of r into buf, in range order (r->total elements). Chunks
 * of the store's layout are fetched raw and decoded on the caller's OpenMP
 * threads, any other layout through H5Dread; every HDF5 call is on the
 * calling thread. scratch (may be NULL) holds the raw chunks and grows;
 * kept by the caller, it spares the pages of a fresh buffer per read.
 * FALSE with PC_ERROR_FORMAT ("cannot read NAME (truncated
 * or corrupt file?)") when a chunk cannot be read or decoded. */
gboolean pc_h5_col_read(PcH5Col *c, const PcH5Ranges *r, void *buf,
                        PcH5Scratch *scratch, GError **error);

#endif
