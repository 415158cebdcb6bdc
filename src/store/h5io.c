/* h5io.c - the HDF5 helpers the store's h5io files share (h5io_int.h):
 * closing ids, in-memory files written out by our own write(), datasets,
 * attributes, and pc_h5io_quiet().
 *
 * Owns no file format: shards are h5shard.c and h5slice.c, results.h5 is
 * h5results.c. Only these four files include hdf5.h.
 *
 * Why in memory: when the disk fills, HDF5 1.10 reports the failure only at
 * H5Fclose, leaves a half-closed file id behind and crashes later in
 * H5_term_library (at MPI_Finalize). In memory, nothing of HDF5 can fail
 * for lack of disk; our own write() reports ENOSPC cleanly. The image is
 * the same bytes the sec2 driver would have written.
 */
#include "h5io_int.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#define CORE_INCREMENT_BYTES ((size_t)16 << 20)

void pc_h5io_quiet(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }

void pc_h5_close(hid_t id) {
  if (id < 0) return;
  switch (H5Iget_type(id)) {
  case H5I_FILE: H5Fclose(id); break;
  case H5I_GROUP: H5Gclose(id); break;
  case H5I_DATASET: H5Dclose(id); break;
  case H5I_DATASPACE: H5Sclose(id); break;
  case H5I_DATATYPE: H5Tclose(id); break;
  case H5I_ATTR: H5Aclose(id); break;
  case H5I_GENPROP_LST: H5Pclose(id); break;
  default: break;
  }
}

/* ---- Writing ---------------------------------------------------------------- */

hid_t pc_h5_create_in_memory(const char *path) {
  hid_t fcpl = H5Pcreate(H5P_FILE_CREATE);
  hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  hid_t f = -1;
  if (fcpl >= 0 && fapl >= 0 && H5Pset_obj_track_times(fcpl, 0) >= 0 &&
      H5Pset_fapl_core(fapl, CORE_INCREMENT_BYTES, 0) >= 0)
    f = H5Fcreate(path, H5F_ACC_TRUNC, fcpl, fapl);
  pc_h5_close(fapl);
  pc_h5_close(fcpl);
  return f;
}

/* Writes all of buf to path (created or truncated) and fsyncs it. FALSE
 * with PC_ERROR_IO naming path and the reason (e.g. no space left); the
 * partial file is removed. */
static gboolean write_file(const char *path, const void *buf, size_t n,
                           GError **error) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  int err = fd < 0 ? errno : 0;
  for (size_t at = 0; !err && at < n;) {
    ssize_t w = write(fd, (const char *)buf + at, n - at);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) err = w < 0 ? errno : ENOSPC;
    else at += (size_t)w;
  }
  if (!err && fsync(fd) != 0) err = errno;
  if (fd >= 0 && close(fd) != 0 && !err) err = errno;
  if (err) {
    if (fd >= 0) unlink(path);
    pc_set_error(error, PC_ERROR_IO, "%s: cannot write: %s", path, g_strerror(err));
    return FALSE;
  }
  return TRUE;
}

gboolean pc_h5_close_to_disk(hid_t f, gboolean ok, const char *path,
                             GError **error) {
  g_autofree void *img = NULL;
  ssize_t n = -1;
  if (ok && H5Fflush(f, H5F_SCOPE_GLOBAL) >= 0 && (n = H5Fget_file_image(f, NULL, 0)) > 0) {
    img = g_malloc((size_t)n);
    if (H5Fget_file_image(f, img, (size_t)n) != n) n = -1;
  }
  if (ok && n <= 0) {
    pc_set_error(error, PC_ERROR_IO, "%s: cannot build the HDF5 image in memory", path);
    ok = FALSE;
  }
  if (H5Fclose(f) < 0 && ok) {
    pc_set_error(error, PC_ERROR_IO, "%s: cannot close the in-memory HDF5 file", path);
    ok = FALSE;
  }
  return ok && write_file(path, img, (size_t)n, error);
}

hid_t pc_h5_group_create(hid_t loc, const char *name) {
  hid_t gcpl = H5Pcreate(H5P_GROUP_CREATE);
  hid_t g = -1;
  if (gcpl >= 0 && H5Pset_obj_track_times(gcpl, 0) >= 0)
    g = H5Gcreate2(loc, name, H5P_DEFAULT, gcpl, H5P_DEFAULT);
  pc_h5_close(gcpl);
  return g;
}

/* Dataset creation properties: no time stamps; chunked and compressed
 * when there is data (HDF5 refuses chunks on an empty extent). */
static hid_t column_dcpl(hsize_t n, hsize_t chunk) {
  hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
  if (dcpl < 0 || H5Pset_obj_track_times(dcpl, 0) < 0) {
    pc_h5_close(dcpl);
    return -1;
  }
  if (n == 0) return dcpl;
  chunk = n < chunk ? n : chunk;
  if (H5Pset_chunk(dcpl, 1, &chunk) < 0 || H5Pset_shuffle(dcpl) < 0 ||
      H5Pset_deflate(dcpl, 1) < 0) {
    pc_h5_close(dcpl);
    return -1;
  }
  return dcpl;
}

gboolean pc_h5_write_1d(hid_t loc, const char *name, hid_t type,
                        const void *data, hsize_t n, hsize_t chunk,
                        const char *file, GError **error) {
  hid_t dcpl = column_dcpl(n, chunk);
  hid_t space = H5Screate_simple(1, &n, NULL);
  hid_t d = dcpl < 0 || space < 0 ? -1 : H5Dcreate2(loc, name, type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  herr_t st = d < 0 ? -1 : (n ? H5Dwrite(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) : 0);
  pc_h5_close(d);
  pc_h5_close(space);
  pc_h5_close(dcpl);
  if (st < 0) {
    pc_set_error(error, PC_ERROR_IO, "%s: cannot write dataset %s", file, name);
    return FALSE;
  }
  return TRUE;
}

hid_t pc_h5_dataset_create(hid_t loc, const char *name, hid_t type,
                           hid_t space) {
  hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
  hid_t d = -1;
  if (dcpl >= 0 && H5Pset_obj_track_times(dcpl, 0) >= 0)
    d = H5Dcreate2(loc, name, type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  pc_h5_close(dcpl);
  return d;
}

hid_t pc_h5_string_type(size_t n) {
  hid_t t = H5Tcopy(H5T_C_S1);
  if (t >= 0 && H5Tset_size(t, n ? n : H5T_VARIABLE) < 0) {
    pc_h5_close(t);
    return -1;
  }
  return t;
}

gboolean pc_h5_write_attr_u64(hid_t loc, const char *name, uint64_t v) {
  hid_t space = H5Screate(H5S_SCALAR);
  hid_t a = space < 0 ? -1 : H5Acreate2(loc, name, H5T_STD_U64LE, space, H5P_DEFAULT, H5P_DEFAULT);
  herr_t st = a < 0 ? -1 : H5Awrite(a, H5T_NATIVE_UINT64, &v);
  pc_h5_close(a);
  pc_h5_close(space);
  return st >= 0;
}

gboolean pc_h5_write_attr_str(hid_t loc, const char *name, const char *v) {
  hid_t t = pc_h5_string_type(strlen(v));
  hid_t space = H5Screate(H5S_SCALAR);
  hid_t a = t < 0 || space < 0 ? -1 : H5Acreate2(loc, name, t, space, H5P_DEFAULT, H5P_DEFAULT);
  herr_t st = a < 0 ? -1 : H5Awrite(a, t, v);
  pc_h5_close(a);
  pc_h5_close(space);
  pc_h5_close(t);
  return st >= 0;
}

/* ---- Reading ----------------------------------------------------------------- */

/* "int32", "uint8", "float32", "variable-length string", ... for messages. */
static char *type_name(hid_t t) {
  size_t sz = H5Tget_size(t);
  switch (H5Tget_class(t)) {
  case H5T_INTEGER: return g_strdup_printf("%sint%zu", H5Tget_sign(t) == H5T_SGN_NONE ? "u" : "", 8 * sz);
  case H5T_FLOAT: return g_strdup_printf("float%zu", 8 * sz);
  case H5T_STRING: return H5Tis_variable_str(t) > 0 ? g_strdup("variable-length string") : g_strdup_printf("string of %zu bytes", sz);
  case H5T_COMPOUND: return g_strdup("compound");
  default: return g_strdup("another type");
  }
}

static gboolean same_type(hid_t have, hid_t want) {
  H5T_class_t c = H5Tget_class(want);
  if (H5Tget_class(have) != c) return FALSE;
  if (c == H5T_STRING) return (H5Tis_variable_str(have) > 0) == (H5Tis_variable_str(want) > 0);
  if (H5Tget_size(have) != H5Tget_size(want)) return FALSE;
  return c != H5T_INTEGER || H5Tget_sign(have) == H5Tget_sign(want);
}

/* The dataset's dimensions and type, once it is known to exist. */
static gboolean check_shape_type(hid_t d, const char *name, hid_t want,
                                 hsize_t *n, const char *file, GError **error) {
  hid_t sp = H5Dget_space(d), t = H5Dget_type(d);
  int rank = sp < 0 ? -1 : H5Sget_simple_extent_ndims(sp);
  gboolean ok = rank == 1 && H5Sget_simple_extent_dims(sp, n, NULL) == 1;
  if (!ok)
    pc_set_error(error, PC_ERROR_FORMAT, "%s: dataset %s has %d dimensions, not 1", file, name, rank);
  if (ok && (t < 0 || !same_type(t, want))) {
    g_autofree char *h = t < 0 ? g_strdup("unreadable") : type_name(t), *w = type_name(want);
    pc_set_error(error, PC_ERROR_FORMAT, "%s: dataset %s is %s, not %s as parcours writes it (a foreign or damaged shard: nothing is converted)", file, name, h, w);
    ok = FALSE;
  }
  pc_h5_close(t);
  pc_h5_close(sp);
  return ok;
}

gboolean pc_h5_read_attr_u64(hid_t loc, const char *name, uint64_t *v,
                             const char *file, GError **error) {
  hid_t a = H5Aexists(loc, name) > 0 ? H5Aopen(loc, name, H5P_DEFAULT) : -1;
  hid_t t = a < 0 ? -1 : H5Aget_type(a);
  if (t >= 0 && (H5Tget_class(t) != H5T_INTEGER || H5Tget_sign(t) != H5T_SGN_NONE)) {
    g_autofree char *h = type_name(t);
    pc_set_error(error, PC_ERROR_FORMAT, "%s: attribute %s is %s, not uint64 as parcours writes it (a foreign or damaged shard)", file, name, h);
    pc_h5_close(t);
    pc_h5_close(a);
    return FALSE;
  }
  herr_t st = t < 0 ? -1 : H5Aread(a, H5T_NATIVE_UINT64, v);
  pc_h5_close(t);
  pc_h5_close(a);
  if (st < 0) {
    pc_set_error(error, PC_ERROR_FORMAT, "%s: not a parcours shard: attribute %s missing or unreadable", file, name);
    return FALSE;
  }
  return TRUE;
}

char *pc_h5_read_attr_str(hid_t loc, const char *name) {
  if (H5Aexists(loc, name) <= 0) return NULL;
  hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
  hid_t t = a < 0 ? -1 : H5Aget_type(a);
  char *out = NULL;
  if (t >= 0 && H5Tget_class(t) == H5T_STRING && H5Tis_variable_str(t) == 0) {
    size_t n = H5Tget_size(t);
    out = g_malloc0(n + 1);
    if (H5Aread(a, t, out) < 0) g_clear_pointer(&out, g_free);
  }
  pc_h5_close(t);
  pc_h5_close(a);
  return out;
}

int64_t pc_h5_ds_len(hid_t loc, const char *name) {
  if (H5Lexists(loc, name, H5P_DEFAULT) <= 0) return -1;
  hid_t d = H5Dopen2(loc, name, H5P_DEFAULT);
  hid_t sp = d < 0 ? -1 : H5Dget_space(d);
  hsize_t n = 0;
  int rank = sp < 0 ? -1 : H5Sget_simple_extent_ndims(sp);
  if (rank == 1 && H5Sget_simple_extent_dims(sp, &n, NULL) < 0) rank = -1;
  pc_h5_close(sp);
  pc_h5_close(d);
  return rank == 1 ? (int64_t)n : -1;
}

/* Whether the first n elements of 1-D dataset d (type size bytes) were
 * ever written: chunked, every chunk they span is allocated; contiguous,
 * the storage holds them. A damaged index or header can stretch a
 * dataset's extent over chunks never stored; HDF5 would read them as fill
 * values (or the claim would exhaust memory), so it is refused here. */
static gboolean check_stored(hid_t d, const char *name, uint64_t n,
                             const char *file, GError **error) {
  if (n == 0) return TRUE;
  hid_t dcpl = H5Dget_create_plist(d), t = H5Dget_type(d);
  size_t size = t < 0 ? 0 : H5Tget_size(t);
  H5D_layout_t lay = dcpl < 0 ? H5D_LAYOUT_ERROR : H5Pget_layout(dcpl);
  hsize_t chunk = 0, have = 0, stored = 0;
  gboolean ok = TRUE;
  if (lay == H5D_CHUNKED) {
    /* HDF5 1.10 refuses H5S_ALL here: the allocated chunks of the whole
     * dataspace */
    hid_t sp = H5Dget_space(d);
    ok = sp >= 0 && H5Pget_chunk(dcpl, 1, &chunk) == 1 && chunk > 0 &&
         H5Dget_num_chunks(d, sp, &have) >= 0;
    pc_h5_close(sp);
    stored = ok ? (have > G_MAXUINT64 / chunk ? G_MAXUINT64 : have * chunk) : 0;
  } else if (lay == H5D_CONTIGUOUS) {
    stored = size ? H5Dget_storage_size(d) / size : 0;
  } else {
    stored = n; /* compact: the data live in the header */
  }
  pc_h5_close(t);
  pc_h5_close(dcpl);
  if (ok && stored >= n) return TRUE;
  pc_set_error(error, PC_ERROR_FORMAT, "%s: dataset %s: %" G_GUINT64_FORMAT " elements claimed, only %" G_GUINT64_FORMAT " stored (the rest was never written)", file, name, n, (guint64)stored);
  return FALSE;
}

gboolean pc_h5_check_ds(hid_t loc, const char *name, hid_t want,
                        int64_t want_len, const char *why_len,
                        const char *file, GError **error) {
  /* a group or a missing link of the path both fail H5Dopen2 */
  hid_t d = H5Lexists(loc, name, H5P_DEFAULT) > 0 ? H5Dopen2(loc, name, H5P_DEFAULT) : -1;
  if (d < 0) {
    pc_set_error(error, PC_ERROR_FORMAT, "%s: dataset %s is missing", file, name);
    return FALSE;
  }
  hsize_t n = 0;
  gboolean ok = check_shape_type(d, name, want, &n, file, error);
  if (ok && want_len >= 0 && (int64_t)n != want_len) {
    pc_set_error(error, PC_ERROR_FORMAT, "%s: dataset %s has %" G_GUINT64_FORMAT " elements, %s says %" G_GINT64_FORMAT, file, name, (guint64)n, why_len, want_len);
    ok = FALSE;
  }
  if (ok && want_len >= 0) ok = check_stored(d, name, (uint64_t)want_len, file, error);
  pc_h5_close(d);
  return ok;
}

gboolean pc_h5_read_all(hid_t loc, const char *name, hid_t type, void *buf,
                        uint64_t n, const char *file, GError **error) {
  int64_t have = pc_h5_ds_len(loc, name);
  if (have != (int64_t)n) {
    pc_set_error(error, PC_ERROR_FORMAT, "%s: dataset %s has %" G_GINT64_FORMAT " elements, the index says %" G_GUINT64_FORMAT, file, name, have, n);
    return FALSE;
  }
  if (n == 0) return TRUE;
  /* through the column reader (h5chunk.c), so a column is decoded the same
   * way whether a run reads all of it or a slice */
  hsize_t start = 0, count = n;
  PcH5Ranges r = {&start, &count, 1, n};
  PcH5Col *c = pc_h5_col_open(loc, name, type, file, NULL);
  gboolean ok = c && pc_h5_col_read(c, &r, buf, NULL, NULL);
  pc_h5_col_close(c);
  if (!ok) {
    pc_set_error(error, PC_ERROR_FORMAT, "%s: cannot read dataset %s (truncated or corrupt file?)", file, name);
    return FALSE;
  }
  return TRUE;
}
