/* h5io.c - the only module that includes hdf5.h: event-store shards and
 * results.h5 (pc_h5io.h, docs/format.md).
 *
 * Every hid_t is closed in reverse order of opening on every path; every
 * status is checked and turned into a GError naming file and object.
 * Shard columns are chunked (64 Ki elements) with shuffle + deflate(1);
 * per-bucket counts let a reader select exactly its buckets with hyperslab
 * unions, so a rank reads only its own rows.
 */
#include "pc_h5io.h"

#include <errno.h>
#include <fcntl.h>
#include <hdf5.h>
#include <math.h>
#include <unistd.h>

#define CHUNK_ELEMS 65536

void pc_h5io_quiet(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }

static void close_id(hid_t id) {
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

/* ---- writing ---------------------------------------------------------------- */

/* Files are built in memory (core driver, no backing store) and written out
 * by close_to_disk(). Why: when the disk fills, HDF5 1.10 reports the
 * failure only at H5Fclose, leaves a half-closed file id behind, and
 * crashes later in H5_term_library (at MPI_Finalize). In memory, nothing of
 * HDF5 can fail for lack of disk; our own write() reports ENOSPC cleanly.
 * The image is the same bytes the sec2 driver would have written. */
#define CORE_INCREMENT_BYTES ((size_t)16 << 20)

static hid_t create_in_memory(const char *path) {
  hid_t fcpl = H5Pcreate(H5P_FILE_CREATE);
  hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  H5Pset_obj_track_times(fcpl, 0);
  H5Pset_fapl_core(fapl, CORE_INCREMENT_BYTES, 0);
  hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, fcpl, fapl);
  close_id(fapl);
  close_id(fcpl);
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

/* Closes the in-memory file f; when ok, first writes its image to path.
 * Returns ok && the image was written. */
static gboolean close_to_disk(hid_t f, gboolean ok, const char *path,
                              GError **error) {
  void *img = NULL;
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
  ok = ok && write_file(path, img, (size_t)n, error);
  g_free(img);
  return ok;
}

static hid_t group_create(hid_t loc, const char *name) {
  hid_t gcpl = H5Pcreate(H5P_GROUP_CREATE);
  H5Pset_obj_track_times(gcpl, 0);
  hid_t g = H5Gcreate2(loc, name, H5P_DEFAULT, gcpl, H5P_DEFAULT);
  H5Pclose(gcpl);
  return g;
}

static gboolean write_1d_chunk(hid_t loc, const char *name, hid_t type,
                               const void *data, hsize_t n, hsize_t chunk,
                               const char *file, GError **error) {
  hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
  H5Pset_obj_track_times(dcpl, 0);
  if (n > 0) {
    chunk = n < chunk ? n : chunk;
    H5Pset_chunk(dcpl, 1, &chunk);
    H5Pset_shuffle(dcpl);
    H5Pset_deflate(dcpl, 1);
  }
  hid_t space = H5Screate_simple(1, &n, NULL);
  hid_t d = H5Dcreate2(loc, name, type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  herr_t st = d < 0 ? -1 : (n ? H5Dwrite(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) : 0);
  close_id(d);
  close_id(space);
  close_id(dcpl);
  if (st < 0) {
    pc_set_error(error, PC_ERROR_IO, "%s: cannot write dataset %s", file, name);
    return FALSE;
  }
  return TRUE;
}

static gboolean write_1d(hid_t loc, const char *name, hid_t type,
                         const void *data, hsize_t n, const char *file,
                         GError **error) {
  return write_1d_chunk(loc, name, type, data, n, CHUNK_ELEMS, file, error);
}

/* Event columns are chunked about one bucket's rows per chunk (a power of
 * two in [4 Ki, 64 Ki]): a rank then decompresses mostly its own buckets'
 * rows, whatever the plan interleaves, instead of every chunk of the shard. */
static hsize_t event_chunk(const PcShardData *s) {
  uint64_t used = 0;
  for (uint64_t b = 0; b < s->buckets; b++) used += s->bucket_events[b] > 0;
  uint64_t per = used ? s->n_events / used : 0;
  hsize_t c = 4096;
  while (c < per && c < CHUNK_ELEMS) c *= 2;
  return c;
}

static gboolean write_dict(hid_t loc, const char *name, const PcDict *d,
                           const char *file, GError **error) {
  hid_t t = H5Tcopy(H5T_C_S1);
  H5Tset_size(t, H5T_VARIABLE);
  hsize_t n = d->n;
  hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
  H5Pset_obj_track_times(dcpl, 0);
  hid_t space = H5Screate_simple(1, &n, NULL);
  hid_t ds = H5Dcreate2(loc, name, t, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  herr_t st = ds < 0 ? -1 : (n ? H5Dwrite(ds, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, d->names) : 0);
  close_id(ds);
  close_id(space);
  close_id(dcpl);
  close_id(t);
  if (st < 0) {
    pc_set_error(error, PC_ERROR_IO, "%s: cannot write dictionary %s", file, name);
    return FALSE;
  }
  return TRUE;
}

static gboolean write_string(hid_t loc, const char *name, const char *s,
                             const char *file, GError **error) {
  hid_t t = H5Tcopy(H5T_C_S1);
  H5Tset_size(t, strlen(s) ? strlen(s) : 1);
  hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
  H5Pset_obj_track_times(dcpl, 0);
  hid_t space = H5Screate(H5S_SCALAR);
  hid_t ds = H5Dcreate2(loc, name, t, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  herr_t st = ds < 0 ? -1 : H5Dwrite(ds, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, strlen(s) ? s : " ");
  close_id(ds);
  close_id(space);
  close_id(dcpl);
  close_id(t);
  if (st < 0) {
    pc_set_error(error, PC_ERROR_IO, "%s: cannot write %s", file, name);
    return FALSE;
  }
  return TRUE;
}

static gboolean write_attr_u64(hid_t loc, const char *name, uint64_t v) {
  hid_t space = H5Screate(H5S_SCALAR);
  hid_t a = H5Acreate2(loc, name, H5T_STD_U64LE, space, H5P_DEFAULT, H5P_DEFAULT);
  herr_t st = a < 0 ? -1 : H5Awrite(a, H5T_NATIVE_UINT64, &v);
  close_id(a);
  close_id(space);
  return st >= 0;
}

static gboolean write_attr_str(hid_t loc, const char *name, const char *v) {
  hid_t t = H5Tcopy(H5T_C_S1);
  H5Tset_size(t, strlen(v));
  hid_t space = H5Screate(H5S_SCALAR);
  hid_t a = H5Acreate2(loc, name, t, space, H5P_DEFAULT, H5P_DEFAULT);
  herr_t st = a < 0 ? -1 : H5Awrite(a, t, v);
  close_id(a);
  close_id(space);
  close_id(t);
  return st >= 0;
}

static uint8_t *id_lengths(const uint64_t *off, uint64_t n) {
  uint8_t *len = g_new(uint8_t, n ? n : 1);
  for (uint64_t i = 0; i < n; i++) len[i] = (uint8_t)(off[i + 1] - off[i]);
  return len;
}

/* Per-bucket byte counts of ids, from per-bucket row counts. */
static uint64_t *bucket_bytes(const uint64_t *off, const uint64_t *rows,
                              uint64_t B) {
  uint64_t *out = g_new0(uint64_t, B);
  uint64_t r = 0;
  for (uint64_t b = 0; b < B; b++) {
    out[b] = off[r + rows[b]] - off[r];
    r += rows[b];
  }
  return out;
}

static gboolean write_events(hid_t f, const PcShardData *s, const char *file,
                             GError **error) {
  hsize_t ch = event_chunk(s);
  hid_t g = group_create(f, "events");
  gboolean ok = g >= 0 &&
      write_1d_chunk(g, "customer", H5T_NATIVE_UINT32, s->ev_customer, s->n_events, ch, file, error) &&
      write_1d_chunk(g, "ts", H5T_NATIVE_INT64, s->ev_ts, s->n_events, ch, file, error) &&
      write_1d_chunk(g, "channel", H5T_NATIVE_UINT32, s->ev_channel, s->n_events, ch, file, error) &&
      write_1d_chunk(g, "event", H5T_NATIVE_UINT32, s->ev_event, s->n_events, ch, file, error) &&
      write_1d_chunk(g, "value", H5T_NATIVE_INT64, s->ev_value, s->n_events, ch, file, error);
  close_id(g);
  if (g < 0) pc_set_error(error, PC_ERROR_IO, "%s: cannot create /events", file);
  return ok;
}

static gboolean write_customers(hid_t f, const PcShardData *s,
                                const char *file, GError **error) {
  g_autofree uint8_t *len = id_lengths(s->id_offsets, s->n_customers);
  hid_t g = group_create(f, "customers");
  gboolean ok = g >= 0 &&
      write_1d(g, "id_len", H5T_NATIVE_UINT8, len, s->n_customers, file, error) &&
      write_1d(g, "id_bytes", H5T_NATIVE_UINT8, s->id_bytes, s->id_offsets[s->n_customers], file, error);
  close_id(g);
  return ok;
}

static gboolean write_crm(hid_t f, const PcShardData *s, const char *file,
                          GError **error) {
  uint64_t n = s->n_crm;
  g_autofree uint8_t *len = id_lengths(s->crm_id_offsets, n);
  g_autofree uint32_t *seglen = g_new(uint32_t, n ? n : 1);
  for (uint64_t i = 0; i < n; i++)
    seglen[i] = (uint32_t)(s->crm_seg_offsets[i + 1] - s->crm_seg_offsets[i]);
  hid_t g = group_create(f, "crm");
  gboolean ok = g >= 0 &&
      write_1d(g, "id_len", H5T_NATIVE_UINT8, len, n, file, error) &&
      write_1d(g, "id_bytes", H5T_NATIVE_UINT8, s->crm_id_bytes, s->crm_id_offsets[n], file, error) &&
      write_1d(g, "revenue", H5T_NATIVE_INT64, s->crm_revenue, n, file, error) &&
      write_1d(g, "segment_len", H5T_NATIVE_UINT32, seglen, n, file, error) &&
      write_1d(g, "segment_bytes", H5T_NATIVE_UINT8, s->crm_seg_bytes, s->crm_seg_offsets[n], file, error);
  close_id(g);
  return ok;
}

static gboolean write_index(hid_t f, const PcShardData *s, const char *file,
                            GError **error) {
  uint64_t B = s->buckets;
  g_autofree uint64_t *idb = bucket_bytes(s->id_offsets, s->bucket_customers, B);
  g_autofree uint64_t *crmb = bucket_bytes(s->crm_id_offsets, s->bucket_crm, B);
  g_autofree uint64_t *segb = bucket_bytes(s->crm_seg_offsets, s->bucket_crm, B);
  hid_t g = group_create(f, "index");
  gboolean ok = g >= 0 &&
      write_1d(g, "events", H5T_NATIVE_UINT64, s->bucket_events, B, file, error) &&
      write_1d(g, "customers", H5T_NATIVE_UINT64, s->bucket_customers, B, file, error) &&
      write_1d(g, "id_bytes", H5T_NATIVE_UINT64, idb, B, file, error) &&
      write_1d(g, "crm", H5T_NATIVE_UINT64, s->bucket_crm, B, file, error) &&
      write_1d(g, "crm_id_bytes", H5T_NATIVE_UINT64, crmb, B, file, error) &&
      write_1d(g, "crm_segment_bytes", H5T_NATIVE_UINT64, segb, B, file, error);
  close_id(g);
  return ok;
}

static gboolean write_dicts(hid_t f, const PcShardData *s, const char *file,
                            GError **error) {
  hid_t g = group_create(f, "dict");
  gboolean ok = g >= 0 && write_dict(g, "channels", s->channels, file, error) &&
                write_dict(g, "events", s->events, file, error) &&
                write_1d(g, "pairs", H5T_NATIVE_UINT32, s->pairs, 2 * s->n_pairs, file, error);
  close_id(g);
  return ok;
}

gboolean pc_h5io_write_shard(const char *path, const PcShardData *s,
                             const char *batch_json, GError **error) {
  hid_t f = create_in_memory(path);
  if (f < 0) {
    pc_set_error(error, PC_ERROR_IO, "%s: cannot create shard file", path);
    return FALSE;
  }
  gboolean ok = write_attr_str(f, "format", PC_STORE_FORMAT) &&
                write_attr_u64(f, "format_version", PC_STORE_VERSION) &&
                write_attr_u64(f, "buckets", s->buckets) &&
                write_attr_u64(f, "events", s->n_events) &&
                write_attr_u64(f, "customers", s->n_customers) &&
                write_attr_u64(f, "crm_rows", s->n_crm);
  if (!ok) pc_set_error(error, PC_ERROR_IO, "%s: cannot write attributes", path);
  ok = ok && write_dicts(f, s, path, error) && write_index(f, s, path, error) &&
       write_customers(f, s, path, error) && write_events(f, s, path, error) &&
       write_crm(f, s, path, error) &&
       (!batch_json || write_string(f, "ingest", batch_json, path, error));
  return close_to_disk(f, ok, path, error);
}

/* ---- reading ----------------------------------------------------------------- */

static gboolean read_attr_u64(hid_t loc, const char *name, uint64_t *v,
                              const char *file, GError **error) {
  hid_t a = H5Aexists(loc, name) > 0 ? H5Aopen(loc, name, H5P_DEFAULT) : -1;
  herr_t st = a < 0 ? -1 : H5Aread(a, H5T_NATIVE_UINT64, v);
  close_id(a);
  if (st < 0) {
    pc_set_error(error, PC_ERROR_FORMAT, "%s: not a parcours shard: attribute %s missing or unreadable", file, name);
    return FALSE;
  }
  return TRUE;
}

static char *read_attr_str(hid_t loc, const char *name) {
  if (H5Aexists(loc, name) <= 0) return NULL;
  hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
  hid_t t = a < 0 ? -1 : H5Aget_type(a);
  char *out = NULL;
  if (t >= 0 && H5Tget_class(t) == H5T_STRING && !H5Tis_variable_str(t)) {
    size_t n = H5Tget_size(t);
    out = g_malloc0(n + 1);
    if (H5Aread(a, t, out) < 0) g_clear_pointer(&out, g_free);
  }
  close_id(t);
  close_id(a);
  return out;
}

/* Number of elements of a 1-D dataset, or -1. */
static int64_t ds_len(hid_t loc, const char *name) {
  if (H5Lexists(loc, name, H5P_DEFAULT) <= 0) return -1;
  hid_t d = H5Dopen2(loc, name, H5P_DEFAULT);
  hid_t sp = d < 0 ? -1 : H5Dget_space(d);
  hsize_t n = 0;
  int rank = sp < 0 ? -1 : H5Sget_simple_extent_ndims(sp);
  if (rank == 1) H5Sget_simple_extent_dims(sp, &n, NULL);
  close_id(sp);
  close_id(d);
  return rank == 1 ? (int64_t)n : -1;
}

static gboolean read_all(hid_t loc, const char *name, hid_t type, void *buf,
                         uint64_t n, const char *file, GError **error) {
  int64_t have = ds_len(loc, name);
  if (have != (int64_t)n) {
    pc_set_error(error, PC_ERROR_FORMAT, "%s: dataset %s has %" G_GINT64_FORMAT " elements, the index says %" G_GUINT64_FORMAT, file, name, have, n);
    return FALSE;
  }
  if (n == 0) return TRUE;
  hid_t d = H5Dopen2(loc, name, H5P_DEFAULT);
  herr_t st = d < 0 ? -1 : H5Dread(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
  close_id(d);
  if (st < 0) {
    pc_set_error(error, PC_ERROR_FORMAT, "%s: cannot read dataset %s (truncated or corrupt file?)", file, name);
    return FALSE;
  }
  return TRUE;
}

static gboolean read_dict(hid_t loc, const char *name, PcDict **out,
                          const char *file, GError **error) {
  int64_t n = ds_len(loc, name);
  if (n < 0) {
    pc_set_error(error, PC_ERROR_FORMAT, "%s: dictionary %s missing", file, name);
    return FALSE;
  }
  hid_t t = H5Tcopy(H5T_C_S1);
  H5Tset_size(t, H5T_VARIABLE);
  char **names = g_new0(char *, n + 1);
  hid_t d = H5Dopen2(loc, name, H5P_DEFAULT);
  herr_t st = d < 0 ? -1 : (n ? H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, names) : 0);
  gboolean ok = st >= 0;
  for (int64_t i = 0; ok && i < n; i++) {
    size_t len = names[i] ? strlen(names[i]) : 0;
    if (len == 0 || len > PC_MAX_NAME_BYTES || (i > 0 && strcmp(names[i - 1], names[i]) >= 0)) {
      pc_set_error(error, PC_ERROR_FORMAT, "%s: dictionary %s: entry %" G_GINT64_FORMAT " is empty, too long, duplicate or out of order", file, name, i);
      ok = FALSE;
    }
  }
  if (ok) *out = pc_dict_new_sorted(names, (guint)n);
  else if (st < 0) pc_set_error(error, PC_ERROR_FORMAT, "%s: cannot read dictionary %s", file, name);
  if (st >= 0 && n) {
    hid_t sp = H5Dget_space(d);
    H5Dvlen_reclaim(t, sp, H5P_DEFAULT, names);
    close_id(sp);
  }
  g_free(names);
  close_id(d);
  close_id(t);
  return ok;
}

static uint64_t *prefix(const uint64_t *c, uint64_t B) {
  uint64_t *p = g_new(uint64_t, B + 1);
  p[0] = 0;
  for (uint64_t b = 0; b < B; b++) p[b + 1] = p[b] + c[b];
  return p;
}

void pc_shard_meta_free(PcShardMeta *m) {
  if (!m) return;
  g_free(m->path);
  pc_dict_free(m->channels);
  pc_dict_free(m->events);
  g_free(m->pairs);
  g_free(m->bucket_events);
  g_free(m->bucket_customers);
  g_free(m->bucket_crm);
  g_free(m->ev_start);
  g_free(m->cust_start);
  g_free(m->idb_start);
  g_free(m->crm_start);
  g_free(m->crmb_start);
  g_free(m->ingest_json);
  g_free(m);
}

static gboolean check_header(hid_t f, PcShardMeta *m, GError **error) {
  g_autofree char *fmt = read_attr_str(f, "format");
  uint64_t ver = 0;
  if (!fmt || strcmp(fmt, PC_STORE_FORMAT) != 0) {
    pc_set_error(error, PC_ERROR_FORMAT, "%s: not a parcours shard (attribute format is not \"%s\")", m->path, PC_STORE_FORMAT);
    return FALSE;
  }
  if (!read_attr_u64(f, "format_version", &ver, m->path, error)) return FALSE;
  if (ver != PC_STORE_VERSION) {
    pc_set_error(error, PC_ERROR_FORMAT, "%s: shard format version %" G_GUINT64_FORMAT " is not supported by this parcours (it reads version %d)%s", m->path, ver, PC_STORE_VERSION, ver > PC_STORE_VERSION ? ": written by a newer parcours" : "");
    return FALSE;
  }
  return read_attr_u64(f, "buckets", &m->buckets, m->path, error) &&
         read_attr_u64(f, "events", &m->n_events, m->path, error) &&
         read_attr_u64(f, "customers", &m->n_customers, m->path, error) &&
         read_attr_u64(f, "crm_rows", &m->n_crm, m->path, error);
}

/* The index must add up to the datasets' lengths: a shard whose index
 * disagrees with its data is refused before anyone reads a wrong row. */
static gboolean check_index(hid_t f, PcShardMeta *m, GError **error) {
  uint64_t B = m->buckets;
  struct { const char *ds; uint64_t want; } chk[] = {
    {"events/ts", m->ev_start[B]}, {"events/customer", m->ev_start[B]},
    {"events/channel", m->ev_start[B]}, {"events/event", m->ev_start[B]},
    {"events/value", m->ev_start[B]}, {"customers/id_len", m->cust_start[B]},
    {"customers/id_bytes", m->idb_start[B]}, {"crm/id_len", m->crm_start[B]},
    {"crm/id_bytes", m->crmb_start[B]}, {"crm/revenue", m->crm_start[B]}};
  if (m->ev_start[B] != m->n_events || m->cust_start[B] != m->n_customers || m->crm_start[B] != m->n_crm) {
    pc_set_error(error, PC_ERROR_FORMAT, "%s: bucket index totals disagree with the shard's event/customer counts", m->path);
    return FALSE;
  }
  for (size_t i = 0; i < G_N_ELEMENTS(chk); i++)
    if (ds_len(f, chk[i].ds) != (int64_t)chk[i].want) {
      pc_set_error(error, PC_ERROR_FORMAT, "%s: dataset %s has %" G_GINT64_FORMAT " elements but the bucket index says %" G_GUINT64_FORMAT, m->path, chk[i].ds, ds_len(f, chk[i].ds), chk[i].want);
      return FALSE;
    }
  return TRUE;
}

static gboolean read_index(hid_t f, PcShardMeta *m, GError **error) {
  uint64_t B = m->buckets;
  if (B == 0 || B > (UINT64_C(1) << 31)) {
    pc_set_error(error, PC_ERROR_FORMAT, "%s: bucket count %" G_GUINT64_FORMAT " out of range", m->path, B);
    return FALSE;
  }
  /* check before allocating: a damaged buckets attribute must not make us
   * allocate 5 x 8 x 2^31 bytes */
  int64_t have = ds_len(f, "index/events");
  if (have != (int64_t)B) {
    pc_set_error(error, PC_ERROR_FORMAT, "%s: dataset index/events has %" G_GINT64_FORMAT " elements, the attribute buckets says %" G_GUINT64_FORMAT, m->path, have, B);
    return FALSE;
  }
  g_autofree uint64_t *idb = g_new(uint64_t, B);
  g_autofree uint64_t *crmb = g_new(uint64_t, B);
  m->bucket_events = g_new(uint64_t, B);
  m->bucket_customers = g_new(uint64_t, B);
  m->bucket_crm = g_new(uint64_t, B);
  if (!read_all(f, "index/events", H5T_NATIVE_UINT64, m->bucket_events, B, m->path, error) ||
      !read_all(f, "index/customers", H5T_NATIVE_UINT64, m->bucket_customers, B, m->path, error) ||
      !read_all(f, "index/id_bytes", H5T_NATIVE_UINT64, idb, B, m->path, error) ||
      !read_all(f, "index/crm", H5T_NATIVE_UINT64, m->bucket_crm, B, m->path, error) ||
      !read_all(f, "index/crm_id_bytes", H5T_NATIVE_UINT64, crmb, B, m->path, error))
    return FALSE;
  m->ev_start = prefix(m->bucket_events, B);
  m->cust_start = prefix(m->bucket_customers, B);
  m->idb_start = prefix(idb, B);
  m->crm_start = prefix(m->bucket_crm, B);
  m->crmb_start = prefix(crmb, B);
  return check_index(f, m, error);
}

static char *read_scalar_string(hid_t f, const char *name) {
  if (H5Lexists(f, name, H5P_DEFAULT) <= 0) return NULL;
  hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
  hid_t t = d < 0 ? -1 : H5Dget_type(d);
  char *out = NULL;
  if (t >= 0 && H5Tget_class(t) == H5T_STRING && !H5Tis_variable_str(t)) {
    size_t n = H5Tget_size(t);
    out = g_malloc0(n + 1);
    if (H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, out) < 0) g_clear_pointer(&out, g_free);
  }
  close_id(t);
  close_id(d);
  return out;
}

gboolean pc_h5io_read_meta(const char *path, PcShardMeta **out,
                           GError **error) {
  g_autoptr(PcShardMeta) m = g_new0(PcShardMeta, 1);
  m->path = g_strdup(path);
  if (access(path, R_OK) != 0) {
    pc_set_error(error, PC_ERROR_IO, "%s: %s", path, g_strerror(errno));
    return FALSE;
  }
  if (H5Fis_hdf5(path) <= 0) {
    pc_set_error(error, PC_ERROR_FORMAT, "%s: not an HDF5 file (foreign or truncated)", path);
    return FALSE;
  }
  hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  if (f < 0) {
    pc_set_error(error, PC_ERROR_FORMAT, "%s: cannot open as HDF5 (truncated or corrupt file?)", path);
    return FALSE;
  }
  gboolean ok = check_header(f, m, error) && read_index(f, m, error) &&
                read_dict(f, "dict/channels", &m->channels, path, error) &&
                read_dict(f, "dict/events", &m->events, path, error);
  if (ok) {
    int64_t np = ds_len(f, "dict/pairs");
    m->n_pairs = np > 0 ? (uint64_t)np / 2 : 0;
    m->pairs = g_new(uint32_t, 2 * m->n_pairs + 1);
    ok = np >= 0 && np % 2 == 0 && read_all(f, "dict/pairs", H5T_NATIVE_UINT32, m->pairs, (uint64_t)np, path, error);
    if (np < 0 || np % 2) pc_set_error(error, PC_ERROR_FORMAT, "%s: dataset dict/pairs missing or odd", path);
    for (uint64_t i = 0; ok && i < m->n_pairs; i++)
      if (m->pairs[2 * i] >= m->channels->n || m->pairs[2 * i + 1] >= m->events->n) {
        pc_set_error(error, PC_ERROR_FORMAT, "%s: dict/pairs refers to a name outside the dictionaries", path);
        ok = FALSE;
      }
    m->ingest_json = read_scalar_string(f, "ingest");
  }
  H5Fclose(f);
  if (ok) *out = g_steal_pointer(&m);
  return ok;
}

/* Reads the union of [start[i], start[i]+count[i]) of a 1-D dataset into
 * buf (contiguous, in range order). */
static gboolean read_ranges(hid_t f, const char *name, hid_t type, void *buf,
                            const hsize_t *start, const hsize_t *count,
                            size_t nr, hsize_t total, const char *file,
                            GError **error) {
  if (total == 0) return TRUE;
  hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
  hid_t fs = d < 0 ? -1 : H5Dget_space(d);
  herr_t st = fs < 0 ? -1 : H5Sselect_none(fs);
  for (size_t i = 0; st >= 0 && i < nr; i++)
    if (count[i]) st = H5Sselect_hyperslab(fs, H5S_SELECT_OR, &start[i], NULL, &count[i], NULL);
  hid_t ms = H5Screate_simple(1, &total, NULL);
  if (st >= 0) st = H5Dread(d, type, ms, fs, H5P_DEFAULT, buf);
  close_id(ms);
  close_id(fs);
  close_id(d);
  if (st < 0) {
    pc_set_error(error, PC_ERROR_FORMAT, "%s: cannot read %s (truncated or corrupt file?)", file, name);
    return FALSE;
  }
  return TRUE;
}

/* Ranges of a per-bucket prefix array for the selected buckets, merging
 * neighbours. Returns the number of ranges; *total the element count. */
static size_t make_ranges(const uint64_t *pre, const uint32_t *b, size_t n,
                          hsize_t *start, hsize_t *count, hsize_t *total) {
  size_t nr = 0;
  *total = 0;
  for (size_t i = 0; i < n; i++) {
    hsize_t s = pre[b[i]], c = pre[b[i] + 1] - pre[b[i]];
    *total += c;
    if (!c) continue;
    if (nr && start[nr - 1] + count[nr - 1] == s) count[nr - 1] += c;
    else { start[nr] = s; count[nr] = c; nr++; }
  }
  return nr;
}

typedef struct { hsize_t *start, *count; size_t nr; hsize_t total; } Ranges;

static void ranges_init(Ranges *r, const uint64_t *pre, const uint32_t *b, size_t n) {
  r->start = g_new(hsize_t, n + 1);
  r->count = g_new(hsize_t, n + 1);
  r->nr = make_ranges(pre, b, n, r->start, r->count, &r->total);
}
static void ranges_clear(Ranges *r) { g_free(r->start); g_free(r->count); }

static guint8 *read_ids(hid_t f, const char *dir, const PcShardMeta *m,
                        const uint64_t *rows_pre, const uint64_t *bytes_pre,
                        const uint32_t *b, size_t n, uint64_t **off_out,
                        uint64_t *nrows, uint64_t *bytes_read, GError **error) {
  Ranges rr, rb;
  ranges_init(&rr, rows_pre, b, n);
  ranges_init(&rb, bytes_pre, b, n);
  g_autofree char *lname = g_strdup_printf("%s/id_len", dir);
  g_autofree char *bname = g_strdup_printf("%s/id_bytes", dir);
  g_autofree uint8_t *len = g_new(uint8_t, rr.total + 1);
  guint8 *bytes = g_malloc(rb.total + 1);
  gboolean ok = read_ranges(f, lname, H5T_NATIVE_UINT8, len, rr.start, rr.count, rr.nr, rr.total, m->path, error) &&
                read_ranges(f, bname, H5T_NATIVE_UINT8, bytes, rb.start, rb.count, rb.nr, rb.total, m->path, error);
  uint64_t *off = g_new(uint64_t, rr.total + 1);
  off[0] = 0;
  for (hsize_t i = 0; ok && i < rr.total; i++) off[i + 1] = off[i] + len[i];
  if (ok && off[rr.total] != rb.total) {
    pc_set_error(error, PC_ERROR_FORMAT, "%s: %s: id lengths disagree with the id bytes of the bucket index", m->path, dir);
    ok = FALSE;
  }
  *nrows = rr.total;
  *bytes_read += rr.total + rb.total;
  ranges_clear(&rr);
  ranges_clear(&rb);
  if (!ok) {
    g_free(off);
    g_free(bytes);
    return NULL;
  }
  *off_out = off;
  return bytes;
}

static gboolean read_event_cols(hid_t f, const PcShardMeta *m,
                                const uint32_t *b, size_t n, PcShardData *s,
                                uint64_t *bytes_read, GError **error) {
  Ranges r;
  ranges_init(&r, m->ev_start, b, n);
  s->n_events = r.total;
  s->ev_customer = g_new(uint32_t, r.total + 1);
  s->ev_ts = g_new(int64_t, r.total + 1);
  s->ev_channel = g_new(uint32_t, r.total + 1);
  s->ev_event = g_new(uint32_t, r.total + 1);
  s->ev_value = g_new(int64_t, r.total + 1);
  gboolean ok =
      read_ranges(f, "events/customer", H5T_NATIVE_UINT32, s->ev_customer, r.start, r.count, r.nr, r.total, m->path, error) &&
      read_ranges(f, "events/ts", H5T_NATIVE_INT64, s->ev_ts, r.start, r.count, r.nr, r.total, m->path, error) &&
      read_ranges(f, "events/channel", H5T_NATIVE_UINT32, s->ev_channel, r.start, r.count, r.nr, r.total, m->path, error) &&
      read_ranges(f, "events/event", H5T_NATIVE_UINT32, s->ev_event, r.start, r.count, r.nr, r.total, m->path, error) &&
      read_ranges(f, "events/value", H5T_NATIVE_INT64, s->ev_value, r.start, r.count, r.nr, r.total, m->path, error);
  *bytes_read += r.total * 28;
  ranges_clear(&r);
  return ok;
}

/* Shard customer indices -> slice indices, checking every reference. */
static gboolean rebase_customers(const PcShardMeta *m, const uint32_t *b,
                                 size_t n, PcShardData *s, GError **error) {
  uint64_t e = 0, c = 0;
  for (size_t i = 0; i < n; i++) {
    uint64_t ne = m->bucket_events[b[i]], nc = m->bucket_customers[b[i]];
    uint64_t base = m->cust_start[b[i]];
    for (uint64_t k = 0; k < ne; k++, e++) {
      uint64_t ci = s->ev_customer[e];
      if (ci < base || ci >= base + nc || (k && ci < s->ev_customer[e - 1] + base - c)) {
        pc_set_error(error, PC_ERROR_FORMAT, "%s: event %" G_GUINT64_FORMAT " of bucket %u refers to customer %" G_GUINT64_FORMAT " outside the bucket (index disagrees with data)", m->path, m->ev_start[b[i]] + k, b[i], ci);
        return FALSE;
      }
      s->ev_customer[e] = (uint32_t)(ci - base + c);
    }
    c += nc;
  }
  return TRUE;
}

static gboolean read_crm(hid_t f, const PcShardMeta *m, const uint32_t *b,
                         size_t n, PcShardData *s, uint64_t *bytes_read,
                         GError **error) {
  uint64_t nrows = 0;
  s->crm_id_bytes = read_ids(f, "crm", m, m->crm_start, m->crmb_start, b, n,
                             &s->crm_id_offsets, &nrows, bytes_read, error);
  if (!s->crm_id_bytes) return FALSE;
  s->n_crm = nrows;
  Ranges r;
  ranges_init(&r, m->crm_start, b, n);
  s->crm_revenue = g_new(int64_t, r.total + 1);
  gboolean ok = read_ranges(f, "crm/revenue", H5T_NATIVE_INT64, s->crm_revenue, r.start, r.count, r.nr, r.total, m->path, error);
  *bytes_read += r.total * 8;
  ranges_clear(&r);
  return ok;
}

gboolean pc_h5io_read_buckets(const PcShardMeta *m, const uint32_t *buckets,
                              size_t n, PcShardData **out,
                              uint64_t *bytes_read, GError **error) {
  g_autoptr(PcShardData) s = g_new0(PcShardData, 1);
  s->buckets = m->buckets;
  hid_t f = H5Fopen(m->path, H5F_ACC_RDONLY, H5P_DEFAULT);
  if (f < 0) {
    pc_set_error(error, PC_ERROR_FORMAT, "%s: cannot open as HDF5", m->path);
    return FALSE;
  }
  uint64_t nc = 0;
  s->id_bytes = read_ids(f, "customers", m, m->cust_start, m->idb_start, buckets, n, &s->id_offsets, &nc, bytes_read, error);
  gboolean ok = s->id_bytes != NULL;
  s->n_customers = nc;
  ok = ok && read_event_cols(f, m, buckets, n, s, bytes_read, error) &&
       rebase_customers(m, buckets, n, s, error) &&
       read_crm(f, m, buckets, n, s, bytes_read, error);
  H5Fclose(f);
  if (!ok) return FALSE;
  s->bucket_events = g_new0(uint64_t, m->buckets);
  s->bucket_customers = g_new0(uint64_t, m->buckets);
  s->bucket_crm = g_new0(uint64_t, m->buckets);
  for (size_t i = 0; i < n; i++) {
    s->bucket_events[buckets[i]] = m->bucket_events[buckets[i]];
    s->bucket_customers[buckets[i]] = m->bucket_customers[buckets[i]];
    s->bucket_crm[buckets[i]] = m->bucket_crm[buckets[i]];
  }
  *out = g_steal_pointer(&s);
  return TRUE;
}

/* ---- results.h5 ------------------------------------------------------------------ */

static hid_t table_type(const PcTable *t, hid_t vstr) {
  guint nc = pc_table_ncols(t);
  hid_t ct = H5Tcreate(H5T_COMPOUND, 8 * (size_t)nc);
  for (guint c = 0; c < nc; c++) {
    hid_t mt = H5T_NATIVE_INT64;
    if (pc_table_col_type(t, c) == PC_COL_DOUBLE) mt = H5T_NATIVE_DOUBLE;
    if (pc_table_col_type(t, c) == PC_COL_STRING) mt = vstr;
    H5Tinsert(ct, pc_table_col_name(t, c), 8 * (size_t)c, mt);
  }
  return ct;
}

static gboolean write_table(hid_t f, const PcTable *t, const char *file,
                            GError **error) {
  guint nc = pc_table_ncols(t), nr = pc_table_nrows(t);
  hid_t vstr = H5Tcopy(H5T_C_S1);
  H5Tset_size(vstr, H5T_VARIABLE);
  hid_t ct = table_type(t, vstr);
  g_autofree guint64 *buf = g_new0(guint64, (size_t)nr * nc + 1);
  for (guint r = 0; r < nr; r++)
    for (guint c = 0; c < nc; c++) {
      void *cellp = &buf[(size_t)r * nc + c];
      switch (pc_table_col_type(t, c)) {
      case PC_COL_INT:
      case PC_COL_MICROS: *(int64_t *)cellp = pc_table_get_int(t, r, c); break;
      case PC_COL_DOUBLE: *(double *)cellp = pc_table_get_double(t, r, c); break;
      case PC_COL_STRING: *(const char **)cellp = pc_table_get_string(t, r, c); break;
      }
    }
  hid_t g = group_create(f, pc_table_name(t));
  /* column types ("name:int|double|micros|string") so a reader can tell
   * money (millionths) from plain integers */
  GString *cols = g_string_new(NULL);
  static const char *const tn[] = {"int", "double", "micros", "string"};
  for (guint c = 0; c < nc; c++)
    g_string_append_printf(cols, "%s%s:%s", c ? "," : "", pc_table_col_name(t, c), tn[pc_table_col_type(t, c)]);
  if (g >= 0) write_attr_str(g, "columns", cols->str);
  g_string_free(cols, TRUE);
  hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
  H5Pset_obj_track_times(dcpl, 0);
  hsize_t n = nr;
  hid_t sp = H5Screate_simple(1, &n, NULL);
  hid_t d = g < 0 ? -1 : H5Dcreate2(g, "table", ct, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  herr_t st = d < 0 ? -1 : (nr ? H5Dwrite(d, ct, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) : 0);
  close_id(d);
  close_id(sp);
  close_id(dcpl);
  close_id(g);
  close_id(ct);
  close_id(vstr);
  if (st < 0) {
    pc_set_error(error, PC_ERROR_IO, "%s: cannot write table %s (disk full?)", file, pc_table_name(t));
    return FALSE;
  }
  return TRUE;
}

gboolean pc_h5io_write_results(const char *path, GPtrArray *tables,
                               GError **error) {
  g_autofree char *tmp = g_strdup_printf("%s.tmp", path);
  hid_t f = create_in_memory(tmp);
  if (f < 0) {
    pc_set_error(error, PC_ERROR_IO, "%s: cannot create", tmp);
    return FALSE;
  }
  gboolean ok = write_attr_str(f, "format", "parcours-results") &&
                write_attr_u64(f, "format_version", 1);
  for (guint i = 0; ok && i < tables->len; i++)
    ok = write_table(f, g_ptr_array_index(tables, i), tmp, error);
  ok = close_to_disk(f, ok, tmp, error);
  if (ok && rename(tmp, path) != 0) {
    pc_set_error(error, PC_ERROR_IO, "%s: %s", path, g_strerror(errno));
    ok = FALSE;
  }
  if (!ok) unlink(tmp);
  return ok;
}

gboolean pc_h5io_read_table(const char *path, const char *name, PcTable **out,
                            GError **error) {
  hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  if (f < 0) {
    pc_set_error(error, PC_ERROR_IO, "%s: cannot open", path);
    return FALSE;
  }
  g_autofree char *dname = g_strdup_printf("%s/table", name);
  hid_t d = H5Lexists(f, name, H5P_DEFAULT) > 0 ? H5Dopen2(f, dname, H5P_DEFAULT) : -1;
  if (d < 0) {
    H5Fclose(f);
    pc_set_error(error, PC_ERROR_FORMAT, "%s: no table %s", path, name);
    return FALSE;
  }
  hid_t ft = H5Dget_type(d);
  int nc = H5Tget_nmembers(ft);
  hid_t vstr = H5Tcopy(H5T_C_S1);
  H5Tset_size(vstr, H5T_VARIABLE);
  g_autoptr(GPtrArray) cols = g_ptr_array_new_with_free_func(g_free);
  hid_t grp = H5Gopen2(f, name, H5P_DEFAULT);
  g_autofree char *types = grp >= 0 ? read_attr_str(grp, "columns") : NULL;
  close_id(grp);
  g_auto(GStrv) typev = types ? g_strsplit(types, ",", -1) : NULL;
  hid_t mt = H5Tcreate(H5T_COMPOUND, 8 * (size_t)nc);
  for (int c = 0; c < nc; c++) {
    char *cn = H5Tget_member_name(ft, c);
    H5T_class_t cl = H5Tget_member_class(ft, c);
    const char *ty = cl == H5T_FLOAT ? "double" : cl == H5T_STRING ? "string" : "int";
    if (cl == H5T_INTEGER && typev && (guint)c < g_strv_length(typev) && g_str_has_suffix(typev[c], ":micros")) ty = "micros";
    g_ptr_array_add(cols, g_strdup_printf("%s:%s", cn, ty));
    H5Tinsert(mt, cn, 8 * (size_t)c, cl == H5T_FLOAT ? H5T_NATIVE_DOUBLE : cl == H5T_STRING ? vstr : H5T_NATIVE_INT64);
    H5free_memory(cn);
  }
  hid_t sp = H5Dget_space(d);
  hsize_t n = 0;
  H5Sget_simple_extent_dims(sp, &n, NULL);
  g_autofree guint64 *buf = g_new0(guint64, (size_t)n * nc + 1);
  herr_t st = n ? H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) : 0;
  PcTable *t = pc_table_new(name, (const char *const *)cols->pdata, (guint)nc);
  for (hsize_t r = 0; st >= 0 && r < n; r++) {
    pc_table_add_row(t);
    for (int c = 0; c < nc; c++) {
      void *cp = &buf[r * nc + c];
      PcColType ty = pc_table_col_type(t, c);
      if (ty == PC_COL_DOUBLE) pc_table_set_double(t, c, *(double *)cp);
      else if (ty == PC_COL_STRING) pc_table_set_string(t, c, *(char **)cp ? *(char **)cp : "");
      else if (ty == PC_COL_MICROS) pc_table_set_micros(t, c, *(int64_t *)cp);
      else pc_table_set_int(t, c, *(int64_t *)cp);
    }
  }
  if (st >= 0 && n) H5Dvlen_reclaim(mt, sp, H5P_DEFAULT, buf);
  close_id(sp);
  close_id(mt);
  close_id(vstr);
  close_id(ft);
  close_id(d);
  H5Fclose(f);
  if (st < 0) {
    pc_table_free(t);
    pc_set_error(error, PC_ERROR_FORMAT, "%s: cannot read table %s", path, name);
    return FALSE;
  }
  *out = t;
  return TRUE;
}
