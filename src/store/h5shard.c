/* h5shard.c - a shard file of the event store (docs/format.md, pc_h5io.h):
 * reading the metadata a rank plans with (attributes, dictionaries, bucket
 * index) as a PcShardMeta.
 *
 * Owns every check a reader makes before it uses a row (format and
 * version, index totals against dataset lengths, sorted distinct
 * dictionaries, pairs inside the dictionaries). Does not own writing a
 * shard (h5stream.c, which owns the layout of the datasets), the rows of a
 * bucket range (h5slice.c), the store directory (store.c) or the batch
 * record (batch.c).
 */
#include "h5io_int.h"
#include "pc_csv.h"

#include <errno.h>
#include <unistd.h>

/* ---- Reading the metadata ---------------------------------------------------- */

/* Entry i of a dictionary: non-empty, at most 63 bytes, after entry i - 1
 * bytewise, and a name spec §1 allows (ids must compare like names, and
 * outputs print names unquoted). */
static gboolean dict_entry_ok(char **names, int64_t i, gboolean channels,
                              const char *file, const char *name,
                              GError **error) {
  size_t len = names[i] ? strlen(names[i]) : 0;
  if (len == 0 || len > PC_MAX_NAME_BYTES || (i > 0 && strcmp(names[i - 1], names[i]) >= 0)) {
    pc_set_error(error, PC_ERROR_FORMAT, "%s: dictionary %s: entry %" G_GINT64_FORMAT " is empty, too long, duplicate or out of order", file, name, i);
    return FALSE;
  }
  if (!pc_csv_name_ok(names[i], len, channels)) {
    g_autofree char *esc = g_strescape(names[i], NULL);
    pc_set_error(error, PC_ERROR_FORMAT, "%s: dictionary %s: entry %" G_GINT64_FORMAT " \"%s\" is not %s name of spec §1 (a control byte, ',', '>'%s or a reserved name)", file, name, i, esc, channels ? "a channel" : "an event", channels ? ", ':'" : "");
    return FALSE;
  }
  return TRUE;
}

static gboolean read_dict(hid_t loc, const char *name, PcDict **out,
                          const char *file, GError **error) {
  hid_t t = pc_h5_string_type(0);
  if (!pc_h5_check_ds(loc, name, t, -1, NULL, file, error)) {
    pc_h5_close(t);
    return FALSE;
  }
  int64_t n = pc_h5_ds_len(loc, name);
  g_autofree char **names = g_new0(char *, n + 1);
  hid_t d = t < 0 ? -1 : H5Dopen2(loc, name, H5P_DEFAULT);
  herr_t st = d < 0 ? -1 : (n ? H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, names) : 0);
  gboolean ok = st >= 0;
  for (int64_t i = 0; ok && i < n; i++)
    ok = dict_entry_ok(names, i, g_str_has_suffix(name, "channels"), file, name, error);
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

/* Prefix sums of the B counts of dataset ds into *out; FALSE naming it
 * when they pass 2^63 (a damaged index whose sums wrap could otherwise
 * add up to the right totals). */
static gboolean prefix(const uint64_t *c, uint64_t B, const char *ds,
                       const char *file, uint64_t **out, GError **error) {
  g_autofree uint64_t *p = g_new(uint64_t, B + 1);
  p[0] = 0;
  for (uint64_t b = 0; b < B; b++) {
    if (c[b] > (UINT64_C(1) << 63) - p[b]) {
      pc_set_error(error, PC_ERROR_FORMAT, "%s: dataset %s: buckets 0..%" G_GUINT64_FORMAT " add up to more than 2^63", file, ds, b);
      return FALSE;
    }
    p[b + 1] = p[b] + c[b];
  }
  *out = g_steal_pointer(&p);
  return TRUE;
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

/* One bucket's counts must be possible: every customer has an event and
 * 1..255 id bytes, every customers-table row 1..255 id bytes. */
static gboolean check_bucket(const PcShardMeta *m, uint64_t b,
                             const uint64_t *idb, const uint64_t *crmb,
                             GError **error) {
  uint64_t e = m->bucket_events[b], c = m->bucket_customers[b], r = m->bucket_crm[b];
  if (c > e || (c == 0) != (e == 0)) {
    pc_set_error(error, PC_ERROR_FORMAT, "%s: datasets index/events and index/customers disagree at bucket %" G_GUINT64_FORMAT ": %" G_GUINT64_FORMAT " events, %" G_GUINT64_FORMAT " customers (each customer has at least one event)", m->path, b, e, c);
    return FALSE;
  }
  if (idb[b] < c || idb[b] > c * PC_MAX_ID_BYTES) {
    pc_set_error(error, PC_ERROR_FORMAT, "%s: datasets index/customers and index/id_bytes disagree at bucket %" G_GUINT64_FORMAT ": %" G_GUINT64_FORMAT " id bytes for %" G_GUINT64_FORMAT " customers (each id has 1..255 bytes)", m->path, b, idb[b], c);
    return FALSE;
  }
  if (crmb[b] < r || crmb[b] > r * PC_MAX_ID_BYTES) {
    pc_set_error(error, PC_ERROR_FORMAT, "%s: datasets index/crm and index/crm_id_bytes disagree at bucket %" G_GUINT64_FORMAT ": %" G_GUINT64_FORMAT " id bytes for %" G_GUINT64_FORMAT " rows (each id has 1..255 bytes)", m->path, b, crmb[b], r);
    return FALSE;
  }
  return TRUE;
}

/* Sums of index/NAME against the attribute that counts the same rows. */
static gboolean check_total(const PcShardMeta *m, const char *ds,
                            uint64_t sum, const char *attr, uint64_t want,
                            GError **error) {
  if (sum == want) return TRUE;
  pc_set_error(error, PC_ERROR_FORMAT, "%s: bucket index totals disagree with the shard's counts: dataset %s adds up to %" G_GUINT64_FORMAT ", the attribute %s says %" G_GUINT64_FORMAT, m->path, ds, sum, attr, want);
  return FALSE;
}

/* Every data dataset: its type, and its length from the attributes and
 * the index (segb: the sum of index/crm_segment_bytes). */
static gboolean check_datasets(hid_t f, const PcShardMeta *m, uint64_t segb,
                               GError **error) {
  uint64_t B = m->buckets, E = m->n_events, C = m->n_customers, R = m->n_crm;
  hid_t u8 = H5T_NATIVE_UINT8, u32 = H5T_NATIVE_UINT32, i64 = H5T_NATIVE_INT64;
  struct { const char *ds; hid_t t; uint64_t n; const char *why; } chk[] = {
    {"customers/id_len", u8, C, "the attribute customers"},
    {"customers/id_bytes", u8, m->idb_start[B], "index/id_bytes"},
    {"events/customer", u32, E, "the attribute events"}, {"events/ts", i64, E, "the attribute events"},
    {"events/channel", u32, E, "the attribute events"}, {"events/event", u32, E, "the attribute events"},
    {"events/value", i64, E, "the attribute events"}, {"crm/id_len", u8, R, "the attribute crm_rows"},
    {"crm/id_bytes", u8, m->crmb_start[B], "index/crm_id_bytes"}, {"crm/revenue", i64, R, "the attribute crm_rows"},
    {"crm/segment_len", u32, R, "the attribute crm_rows"}, {"crm/segment_bytes", u8, segb, "index/crm_segment_bytes"}};
  for (size_t i = 0; i < G_N_ELEMENTS(chk); i++)
    if (!pc_h5_check_ds(f, chk[i].ds, chk[i].t, (int64_t)chk[i].n, chk[i].why, m->path, error)) return FALSE;
  if (C > G_MAXUINT32) {
    pc_set_error(error, PC_ERROR_FORMAT, "%s: attribute customers is %" G_GUINT64_FORMAT ", more than events/customer (uint32) can refer to", m->path, C);
    return FALSE;
  }
  return TRUE;
}

/* The index must be possible bucket by bucket and add up to the
 * attributes, and every dataset must have the type and length they
 * imply: a shard whose index disagrees with its data is refused before
 * anyone reads a wrong row. */
static gboolean check_index(hid_t f, PcShardMeta *m, const uint64_t *idb,
                            const uint64_t *crmb, const uint64_t *segb,
                            GError **error) {
  uint64_t B = m->buckets;
  const char *fp = m->path;
  if (!prefix(m->bucket_events, B, "index/events", fp, &m->ev_start, error) ||
      !prefix(m->bucket_customers, B, "index/customers", fp, &m->cust_start, error) ||
      !prefix(idb, B, "index/id_bytes", fp, &m->idb_start, error) ||
      !prefix(m->bucket_crm, B, "index/crm", fp, &m->crm_start, error) ||
      !prefix(crmb, B, "index/crm_id_bytes", fp, &m->crmb_start, error) ||
      !prefix(segb, B, "index/crm_segment_bytes", fp, &m->crms_start, error))
    return FALSE;
  for (uint64_t b = 0; b < B; b++)
    if (!check_bucket(m, b, idb, crmb, error)) return FALSE;
  return check_total(m, "index/events", m->ev_start[B], "events", m->n_events, error) &&
         check_total(m, "index/customers", m->cust_start[B], "customers", m->n_customers, error) &&
         check_total(m, "index/crm", m->crm_start[B], "crm_rows", m->n_crm, error) &&
         check_datasets(f, m, m->crms_start[B], error);
}

/* The six index datasets: uint64, B elements each, checked before any is
 * read (HDF5 would convert another type) or anything of size B allocated
 * beyond them. */
static gboolean check_index_types(hid_t f, const PcShardMeta *m,
                                  GError **error) {
  static const char *const ds[] = {"index/events", "index/customers", "index/id_bytes",
                                   "index/crm", "index/crm_id_bytes", "index/crm_segment_bytes"};
  if (m->buckets == 0 || m->buckets > PC_MAX_BUCKETS) {
    pc_set_error(error, PC_ERROR_FORMAT, "%s: attribute buckets is %" G_GUINT64_FORMAT ", outside 1..%" G_GUINT64_FORMAT, m->path, m->buckets, PC_MAX_BUCKETS);
    return FALSE;
  }
  for (size_t i = 0; i < G_N_ELEMENTS(ds); i++)
    if (!pc_h5_check_ds(f, ds[i], H5T_NATIVE_UINT64, (int64_t)m->buckets, "the attribute buckets", m->path, error))
      return FALSE;
  return TRUE;
}

static gboolean read_index(hid_t f, PcShardMeta *m, GError **error) {
  uint64_t B = m->buckets;
  if (!check_index_types(f, m, error)) return FALSE;
  g_autofree uint64_t *idb = g_new(uint64_t, B);
  g_autofree uint64_t *crmb = g_new(uint64_t, B);
  g_autofree uint64_t *segb = g_new(uint64_t, B);
  m->bucket_events = g_new(uint64_t, B);
  m->bucket_customers = g_new(uint64_t, B);
  m->bucket_crm = g_new(uint64_t, B);
  if (!pc_h5_read_all(f, "index/events", H5T_NATIVE_UINT64, m->bucket_events, B, m->path, error) ||
      !pc_h5_read_all(f, "index/customers", H5T_NATIVE_UINT64, m->bucket_customers, B, m->path, error) ||
      !pc_h5_read_all(f, "index/id_bytes", H5T_NATIVE_UINT64, idb, B, m->path, error) ||
      !pc_h5_read_all(f, "index/crm", H5T_NATIVE_UINT64, m->bucket_crm, B, m->path, error) ||
      !pc_h5_read_all(f, "index/crm_id_bytes", H5T_NATIVE_UINT64, crmb, B, m->path, error) ||
      !pc_h5_read_all(f, "index/crm_segment_bytes", H5T_NATIVE_UINT64, segb, B, m->path, error))
    return FALSE;
  return check_index(f, m, idb, crmb, segb, error);
}

/* The batch record /ingest (optional: NULL without error when absent):
 * a scalar fixed-length string, else PC_ERROR_FORMAT naming it. */
static gboolean read_record(hid_t f, const char *file, char **out,
                            GError **error) {
  if (H5Lexists(f, "ingest", H5P_DEFAULT) <= 0) return TRUE;
  hid_t d = H5Dopen2(f, "ingest", H5P_DEFAULT);
  hid_t t = d < 0 ? -1 : H5Dget_type(d), sp = d < 0 ? -1 : H5Dget_space(d);
  gboolean ok = t >= 0 && sp >= 0 && H5Tget_class(t) == H5T_STRING && H5Tis_variable_str(t) == 0 &&
                H5Sget_simple_extent_type(sp) == H5S_SCALAR;
  if (ok) {
    *out = g_malloc0(H5Tget_size(t) + 1);
    ok = H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, *out) >= 0;
  }
  pc_h5_close(sp);
  pc_h5_close(t);
  pc_h5_close(d);
  if (!ok) pc_set_error(error, PC_ERROR_FORMAT, "%s: dataset ingest is not the batch record parcours writes (a scalar string)", file);
  return ok;
}

/* The (channel, event) pairs, each inside the dictionaries. */
static gboolean read_pairs(hid_t f, PcShardMeta *m, GError **error) {
  if (!pc_h5_check_ds(f, "dict/pairs", H5T_NATIVE_UINT32, -1, NULL, m->path, error)) return FALSE;
  int64_t np = pc_h5_ds_len(f, "dict/pairs");
  if (np % 2) {
    pc_set_error(error, PC_ERROR_FORMAT, "%s: dataset dict/pairs has %" G_GINT64_FORMAT " elements, not (channel, event) pairs", m->path, np);
    return FALSE;
  }
  m->n_pairs = (uint64_t)np / 2;
  m->pairs = g_new(uint32_t, 2 * m->n_pairs + 1);
  if (!pc_h5_read_all(f, "dict/pairs", H5T_NATIVE_UINT32, m->pairs, (uint64_t)np, m->path, error))
    return FALSE;
  for (uint64_t i = 0; i < m->n_pairs; i++) {
    const uint32_t *p = &m->pairs[2 * i];
    if (p[0] >= m->channels->n || p[1] >= m->events->n) {
      pc_set_error(error, PC_ERROR_FORMAT, "%s: dataset dict/pairs: pair %" G_GUINT64_FORMAT " refers to a name outside the dictionaries", m->path, i);
      return FALSE;
    }
    if (i && (p[-2] > p[0] || (p[-2] == p[0] && p[-1] >= p[1]))) {
      pc_set_error(error, PC_ERROR_FORMAT, "%s: dataset dict/pairs: pair %" G_GUINT64_FORMAT " is a duplicate or out of order", m->path, i);
      return FALSE;
    }
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
  ok = ok && read_pairs(f, m, error) && read_record(f, path, &m->ingest_json, error);
  pc_h5_close(f);
  if (ok) *out = g_steal_pointer(&m);
  return ok;
}

