/* h5shard.c - a shard file of the event store (docs/format.md, pc_h5io.h):
 * writing a PcShardData, and reading the metadata a rank plans with
 * (attributes, dictionaries, bucket index) as a PcShardMeta.
 *
 * Owns the shard layout: names and types of the attributes and datasets,
 * the chunking of the columns, and every check a reader makes before it
 * uses a row (format and version, index totals against dataset lengths,
 * sorted distinct dictionaries, pairs inside the dictionaries). Does not
 * own the rows of a bucket range (h5slice.c), the store directory
 * (store.c) or the batch record it stores verbatim (batch.c).
 *
 * Invariant: the same PcShardData and record give the same bytes (object
 * time tracking off, the file image written by h5io.c).
 */
#include "h5io_int.h"

#include <errno.h>
#include <unistd.h>

/* ---- Writing ----------------------------------------------------------------- */

/* Event columns are chunked about one bucket's rows per chunk (a power of
 * two in [4 Ki, 64 Ki]): a rank then decompresses mostly its own buckets'
 * rows, whatever the plan interleaves, instead of every chunk of the shard. */
static hsize_t event_chunk(const PcShardData *s) {
  uint64_t used = 0;
  for (uint64_t b = 0; b < s->buckets; b++) used += s->bucket_events[b] > 0;
  uint64_t per = used ? s->n_events / used : 0;
  hsize_t c = 4096;
  while (c < per && c < PC_H5_CHUNK_ELEMS) c *= 2;
  return c;
}

/* A dataset of strings: the dictionary (variable-length strings, one per
 * name) or the batch record (one fixed-length string, at least 1 byte:
 * HDF5 has no empty fixed string, so "" is written as " "). */
static gboolean write_strings(hid_t loc, const char *name, hid_t type,
                              hid_t space, const void *data, gboolean any,
                              const char *file, GError **error) {
  hid_t ds = type < 0 || space < 0 ? -1 : pc_h5_dataset_create(loc, name, type, space);
  herr_t st = ds < 0 ? -1 : (any ? H5Dwrite(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) : 0);
  pc_h5_close(ds);
  pc_h5_close(space);
  pc_h5_close(type);
  if (st < 0) {
    pc_set_error(error, PC_ERROR_IO, "%s: cannot write %s", file, name);
    return FALSE;
  }
  return TRUE;
}

static gboolean write_dict(hid_t loc, const char *name, const PcDict *d,
                           const char *file, GError **error) {
  hsize_t n = d->n;
  return write_strings(loc, name, pc_h5_string_type(0), H5Screate_simple(1, &n, NULL),
                       d->names, n > 0, file, error);
}

static gboolean write_record(hid_t loc, const char *name, const char *s,
                             const char *file, GError **error) {
  size_t n = strlen(s);
  return write_strings(loc, name, pc_h5_string_type(n ? n : 1), H5Screate(H5S_SCALAR),
                       n ? s : " ", TRUE, file, error);
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
  hid_t g = pc_h5_group_create(f, "events");
  gboolean ok = g >= 0 &&
      pc_h5_write_1d(g, "customer", H5T_NATIVE_UINT32, s->ev_customer, s->n_events, ch, file, error) &&
      pc_h5_write_1d(g, "ts", H5T_NATIVE_INT64, s->ev_ts, s->n_events, ch, file, error) &&
      pc_h5_write_1d(g, "channel", H5T_NATIVE_UINT32, s->ev_channel, s->n_events, ch, file, error) &&
      pc_h5_write_1d(g, "event", H5T_NATIVE_UINT32, s->ev_event, s->n_events, ch, file, error) &&
      pc_h5_write_1d(g, "value", H5T_NATIVE_INT64, s->ev_value, s->n_events, ch, file, error);
  pc_h5_close(g);
  if (g < 0) pc_set_error(error, PC_ERROR_IO, "%s: cannot create /events", file);
  return ok;
}

static gboolean write_customers(hid_t f, const PcShardData *s,
                                const char *file, GError **error) {
  g_autofree uint8_t *len = id_lengths(s->id_offsets, s->n_customers);
  hid_t g = pc_h5_group_create(f, "customers");
  gboolean ok = g >= 0 &&
      pc_h5_write_1d(g, "id_len", H5T_NATIVE_UINT8, len, s->n_customers, PC_H5_CHUNK_ELEMS, file, error) &&
      pc_h5_write_1d(g, "id_bytes", H5T_NATIVE_UINT8, s->id_bytes, s->id_offsets[s->n_customers], PC_H5_CHUNK_ELEMS, file, error);
  pc_h5_close(g);
  return ok;
}

static gboolean write_crm(hid_t f, const PcShardData *s, const char *file,
                          GError **error) {
  uint64_t n = s->n_crm;
  g_autofree uint8_t *len = id_lengths(s->crm_id_offsets, n);
  g_autofree uint32_t *seglen = g_new(uint32_t, n ? n : 1);
  for (uint64_t i = 0; i < n; i++)
    seglen[i] = (uint32_t)(s->crm_seg_offsets[i + 1] - s->crm_seg_offsets[i]);
  hid_t g = pc_h5_group_create(f, "crm");
  gboolean ok = g >= 0 &&
      pc_h5_write_1d(g, "id_len", H5T_NATIVE_UINT8, len, n, PC_H5_CHUNK_ELEMS, file, error) &&
      pc_h5_write_1d(g, "id_bytes", H5T_NATIVE_UINT8, s->crm_id_bytes, s->crm_id_offsets[n], PC_H5_CHUNK_ELEMS, file, error) &&
      pc_h5_write_1d(g, "revenue", H5T_NATIVE_INT64, s->crm_revenue, n, PC_H5_CHUNK_ELEMS, file, error) &&
      pc_h5_write_1d(g, "segment_len", H5T_NATIVE_UINT32, seglen, n, PC_H5_CHUNK_ELEMS, file, error) &&
      pc_h5_write_1d(g, "segment_bytes", H5T_NATIVE_UINT8, s->crm_seg_bytes, s->crm_seg_offsets[n], PC_H5_CHUNK_ELEMS, file, error);
  pc_h5_close(g);
  return ok;
}

static gboolean write_index(hid_t f, const PcShardData *s, const char *file,
                            GError **error) {
  uint64_t B = s->buckets;
  g_autofree uint64_t *idb = bucket_bytes(s->id_offsets, s->bucket_customers, B);
  g_autofree uint64_t *crmb = bucket_bytes(s->crm_id_offsets, s->bucket_crm, B);
  g_autofree uint64_t *segb = bucket_bytes(s->crm_seg_offsets, s->bucket_crm, B);
  hid_t g = pc_h5_group_create(f, "index");
  gboolean ok = g >= 0 &&
      pc_h5_write_1d(g, "events", H5T_NATIVE_UINT64, s->bucket_events, B, PC_H5_CHUNK_ELEMS, file, error) &&
      pc_h5_write_1d(g, "customers", H5T_NATIVE_UINT64, s->bucket_customers, B, PC_H5_CHUNK_ELEMS, file, error) &&
      pc_h5_write_1d(g, "id_bytes", H5T_NATIVE_UINT64, idb, B, PC_H5_CHUNK_ELEMS, file, error) &&
      pc_h5_write_1d(g, "crm", H5T_NATIVE_UINT64, s->bucket_crm, B, PC_H5_CHUNK_ELEMS, file, error) &&
      pc_h5_write_1d(g, "crm_id_bytes", H5T_NATIVE_UINT64, crmb, B, PC_H5_CHUNK_ELEMS, file, error) &&
      pc_h5_write_1d(g, "crm_segment_bytes", H5T_NATIVE_UINT64, segb, B, PC_H5_CHUNK_ELEMS, file, error);
  pc_h5_close(g);
  return ok;
}

static gboolean write_dicts(hid_t f, const PcShardData *s, const char *file,
                            GError **error) {
  hid_t g = pc_h5_group_create(f, "dict");
  gboolean ok = g >= 0 && write_dict(g, "channels", s->channels, file, error) &&
                write_dict(g, "events", s->events, file, error) &&
                pc_h5_write_1d(g, "pairs", H5T_NATIVE_UINT32, s->pairs, 2 * s->n_pairs, PC_H5_CHUNK_ELEMS, file, error);
  pc_h5_close(g);
  return ok;
}

gboolean pc_h5io_write_shard(const char *path, const PcShardData *s,
                             const char *batch_json, GError **error) {
  hid_t f = pc_h5_create_in_memory(path);
  if (f < 0) {
    pc_set_error(error, PC_ERROR_IO, "%s: cannot create shard file", path);
    return FALSE;
  }
  gboolean ok = pc_h5_write_attr_str(f, "format", PC_STORE_FORMAT) &&
                pc_h5_write_attr_u64(f, "format_version", PC_STORE_VERSION) &&
                pc_h5_write_attr_u64(f, "buckets", s->buckets) &&
                pc_h5_write_attr_u64(f, "events", s->n_events) &&
                pc_h5_write_attr_u64(f, "customers", s->n_customers) &&
                pc_h5_write_attr_u64(f, "crm_rows", s->n_crm);
  if (!ok) pc_set_error(error, PC_ERROR_IO, "%s: cannot write attributes", path);
  ok = ok && write_dicts(f, s, path, error) && write_index(f, s, path, error) &&
       write_customers(f, s, path, error) && write_events(f, s, path, error) &&
       write_crm(f, s, path, error) &&
       (!batch_json || write_record(f, "ingest", batch_json, path, error));
  return pc_h5_close_to_disk(f, ok, path, error);
}

/* ---- Reading the metadata ---------------------------------------------------- */

static gboolean read_dict(hid_t loc, const char *name, PcDict **out,
                          const char *file, GError **error) {
  int64_t n = pc_h5_ds_len(loc, name);
  if (n < 0) {
    pc_set_error(error, PC_ERROR_FORMAT, "%s: dictionary %s missing", file, name);
    return FALSE;
  }
  hid_t t = pc_h5_string_type(0);
  g_autofree char **names = g_new0(char *, n + 1);
  hid_t d = t < 0 ? -1 : H5Dopen2(loc, name, H5P_DEFAULT);
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
    pc_h5_close(sp);
  }
  pc_h5_close(d);
  pc_h5_close(t);
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
  g_free(m->crms_start);
  g_free(m->ingest_json);
  g_free(m);
}

static gboolean check_header(hid_t f, PcShardMeta *m, GError **error) {
  g_autofree char *fmt = pc_h5_read_attr_str(f, "format");
  uint64_t ver = 0;
  if (!fmt || strcmp(fmt, PC_STORE_FORMAT) != 0) {
    pc_set_error(error, PC_ERROR_FORMAT, "%s: not a parcours shard (attribute format is not \"%s\")", m->path, PC_STORE_FORMAT);
    return FALSE;
  }
  if (!pc_h5_read_attr_u64(f, "format_version", &ver, m->path, error)) return FALSE;
  if (ver != PC_STORE_VERSION) {
    pc_set_error(error, PC_ERROR_FORMAT, "%s: shard format version %" G_GUINT64_FORMAT " is not supported by this parcours (it reads version %d)%s", m->path, ver, PC_STORE_VERSION, ver > PC_STORE_VERSION ? ": written by a newer parcours" : "");
    return FALSE;
  }
  return pc_h5_read_attr_u64(f, "buckets", &m->buckets, m->path, error) &&
         pc_h5_read_attr_u64(f, "events", &m->n_events, m->path, error) &&
         pc_h5_read_attr_u64(f, "customers", &m->n_customers, m->path, error) &&
         pc_h5_read_attr_u64(f, "crm_rows", &m->n_crm, m->path, error);
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
    {"crm/id_bytes", m->crmb_start[B]}, {"crm/revenue", m->crm_start[B]},
    {"crm/segment_len", m->crm_start[B]}, {"crm/segment_bytes", m->crms_start[B]}};
  if (m->ev_start[B] != m->n_events || m->cust_start[B] != m->n_customers || m->crm_start[B] != m->n_crm) {
    pc_set_error(error, PC_ERROR_FORMAT, "%s: bucket index totals disagree with the shard's event/customer counts", m->path);
    return FALSE;
  }
  for (size_t i = 0; i < G_N_ELEMENTS(chk); i++)
    if (pc_h5_ds_len(f, chk[i].ds) != (int64_t)chk[i].want) {
      pc_set_error(error, PC_ERROR_FORMAT, "%s: dataset %s has %" G_GINT64_FORMAT " elements but the bucket index says %" G_GUINT64_FORMAT, m->path, chk[i].ds, pc_h5_ds_len(f, chk[i].ds), chk[i].want);
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
  int64_t have = pc_h5_ds_len(f, "index/events");
  if (have != (int64_t)B) {
    pc_set_error(error, PC_ERROR_FORMAT, "%s: dataset index/events has %" G_GINT64_FORMAT " elements, the attribute buckets says %" G_GUINT64_FORMAT, m->path, have, B);
    return FALSE;
  }
  g_autofree uint64_t *idb = g_new(uint64_t, B);
  g_autofree uint64_t *crmb = g_new(uint64_t, B);
  g_autofree uint64_t *crms = g_new(uint64_t, B);
  m->bucket_events = g_new(uint64_t, B);
  m->bucket_customers = g_new(uint64_t, B);
  m->bucket_crm = g_new(uint64_t, B);
  if (!pc_h5_read_all(f, "index/events", H5T_NATIVE_UINT64, m->bucket_events, B, m->path, error) ||
      !pc_h5_read_all(f, "index/customers", H5T_NATIVE_UINT64, m->bucket_customers, B, m->path, error) ||
      !pc_h5_read_all(f, "index/id_bytes", H5T_NATIVE_UINT64, idb, B, m->path, error) ||
      !pc_h5_read_all(f, "index/crm", H5T_NATIVE_UINT64, m->bucket_crm, B, m->path, error) ||
      !pc_h5_read_all(f, "index/crm_id_bytes", H5T_NATIVE_UINT64, crmb, B, m->path, error) ||
      !pc_h5_read_all(f, "index/crm_segment_bytes", H5T_NATIVE_UINT64, crms, B, m->path, error))
    return FALSE;
  m->ev_start = prefix(m->bucket_events, B);
  m->cust_start = prefix(m->bucket_customers, B);
  m->idb_start = prefix(idb, B);
  m->crm_start = prefix(m->bucket_crm, B);
  m->crmb_start = prefix(crmb, B);
  m->crms_start = prefix(crms, B);
  return check_index(f, m, error);
}

static char *read_scalar_string(hid_t f, const char *name) {
  if (H5Lexists(f, name, H5P_DEFAULT) <= 0) return NULL;
  hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
  hid_t t = d < 0 ? -1 : H5Dget_type(d);
  char *out = NULL;
  if (t >= 0 && H5Tget_class(t) == H5T_STRING && H5Tis_variable_str(t) == 0) {
    size_t n = H5Tget_size(t);
    out = g_malloc0(n + 1);
    if (H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, out) < 0) g_clear_pointer(&out, g_free);
  }
  pc_h5_close(t);
  pc_h5_close(d);
  return out;
}

/* The (channel, event) pairs, each inside the dictionaries. */
static gboolean read_pairs(hid_t f, PcShardMeta *m, GError **error) {
  int64_t np = pc_h5_ds_len(f, "dict/pairs");
  if (np < 0 || np % 2) {
    pc_set_error(error, PC_ERROR_FORMAT, "%s: dataset dict/pairs missing or odd", m->path);
    return FALSE;
  }
  m->n_pairs = (uint64_t)np / 2;
  m->pairs = g_new(uint32_t, 2 * m->n_pairs + 1);
  if (!pc_h5_read_all(f, "dict/pairs", H5T_NATIVE_UINT32, m->pairs, (uint64_t)np, m->path, error))
    return FALSE;
  for (uint64_t i = 0; i < m->n_pairs; i++)
    if (m->pairs[2 * i] >= m->channels->n || m->pairs[2 * i + 1] >= m->events->n) {
      pc_set_error(error, PC_ERROR_FORMAT, "%s: dict/pairs refers to a name outside the dictionaries", m->path);
      return FALSE;
    }
  return TRUE;
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
  ok = ok && read_pairs(f, m, error);
  if (ok) m->ingest_json = read_scalar_string(f, "ingest");
  pc_h5_close(f);
  if (ok) *out = g_steal_pointer(&m);
  return ok;
}

