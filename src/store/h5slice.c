/* h5slice.c - the rows of a set of buckets of one shard
 * (pc_h5io_read_buckets, pc_h5io.h): the element ranges of the buckets in
 * every dataset, read through h5chunk.c, so a rank decompresses only the
 * chunks that hold its buckets;
 * and the distinct segments of a shard's customers table
 * (pc_h5io_read_segments, for the run's segment dictionary).
 *
 * Owns the bucket-range arithmetic over the prefix sums of PcShardMeta and
 * the checks a slice makes on its rows (id and segment lengths against the
 * index, every event's customer inside its bucket). Does not own the layout (h5shard.c)
 * nor which buckets a rank reads (plan.c).
 *
 * Invariant: the slice keeps the shard's (bucket, id) order; customer
 * indices are rebased to the slice, so event k's customer is the
 * ev_customer[k]-th id of the slice.
 */
#include "h5io_int.h"
#include "pc_shardcheck.h"

/* Element ranges of the selected buckets in one prefix-sum array,
 * neighbours merged. */
typedef PcH5Ranges Ranges;

static void ranges_init(Ranges *r, const uint64_t *pre, const uint32_t *b,
                        size_t n) {
  r->start = g_new(hsize_t, n + 1);
  r->count = g_new(hsize_t, n + 1);
  r->nr = 0;
  r->total = 0;
  for (size_t i = 0; i < n; i++) {
    hsize_t s = pre[b[i]], c = pre[b[i] + 1] - pre[b[i]];
    r->total += c;
    if (!c) continue;
    if (r->nr && r->start[r->nr - 1] + r->count[r->nr - 1] == s) {
      r->count[r->nr - 1] += c;
    } else {
      r->start[r->nr] = s;
      r->count[r->nr] = c;
      r->nr++;
    }
  }
}

static void ranges_clear(Ranges *r) {
  g_free(r->start);
  g_free(r->count);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Ranges, ranges_clear)

/* A buffer for n elements of size bytes, or NULL with PC_ERROR_MEMORY
 * naming the dataset: a damaged index may claim more rows than memory
 * holds, which must be an error, not an abort. */
static void *try_rows(uint64_t n, size_t size, const char *file,
                      const char *name, GError **error) {
  void *p = n < G_MAXSIZE / size - 1 ? g_try_malloc((n + 1) * size) : NULL;
  if (!p)
    pc_set_error(error, PC_ERROR_MEMORY, "%s: dataset %s: cannot hold the %" G_GUINT64_FORMAT " elements the bucket index claims for the buckets read", file, name, n);
  return p;
}

/* Reads the ranges of a 1-D dataset into buf (contiguous, in range order):
 * its chunks decoded by h5chunk.c. */
static gboolean read_ranges(hid_t f, const char *name, hid_t type, void *buf,
                            const Ranges *r, const char *file,
                            GError **error) {
  if (r->total == 0) return TRUE;
  PcH5Col *c = pc_h5_col_open(f, name, type, file, error);
  gboolean ok = c && pc_h5_col_read(c, r, buf, error);
  pc_h5_col_close(c);
  return ok;
}

/* The ids of the selected buckets from DIR/id_len and DIR/id_bytes (DIR =
 * customers or crm): *bytes_out and *off_out (nrows + 1), both g_free'd
 * by the caller (through PcShardData). FALSE when a read fails or the
 * lengths disagree with the index's byte counts. */
static gboolean read_ids(hid_t f, const char *dir, const PcShardMeta *m,
                         const uint64_t *rows_pre, const uint64_t *bytes_pre,
                         const uint32_t *b, size_t n, guint8 **bytes_out,
                         uint64_t **off_out, uint64_t *nrows,
                         uint64_t *bytes_read, GError **error) {
  g_auto(Ranges) rr = {0};
  g_auto(Ranges) rb = {0};
  ranges_init(&rr, rows_pre, b, n);
  ranges_init(&rb, bytes_pre, b, n);
  g_autofree char *lname = g_strdup_printf("%s/id_len", dir);
  g_autofree char *bname = g_strdup_printf("%s/id_bytes", dir);
  g_autofree uint8_t *len = try_rows(rr.total, 1, m->path, lname, error);
  g_autofree guint8 *bytes = len ? try_rows(rb.total, 1, m->path, bname, error) : NULL;
  if (!bytes || !read_ranges(f, lname, H5T_NATIVE_UINT8, len, &rr, m->path, error) ||
      !read_ranges(f, bname, H5T_NATIVE_UINT8, bytes, &rb, m->path, error))
    return FALSE;
  *bytes_read += rr.total + rb.total;
  g_autofree uint64_t *off = try_rows(rr.total, sizeof(uint64_t), m->path, lname, error);
  if (!off) return FALSE;
  off[0] = 0;
  for (hsize_t i = 0; i < rr.total; i++) off[i + 1] = off[i] + len[i];
  if (off[rr.total] != rb.total) {
    pc_set_error(error, PC_ERROR_FORMAT, "%s: dataset %s: the id lengths of the buckets read add up to %" G_GUINT64_FORMAT " bytes, the bucket index says %" G_GUINT64_FORMAT, m->path, lname, off[rr.total], (uint64_t)rb.total);
    return FALSE;
  }
  *nrows = rr.total;
  *off_out = g_steal_pointer(&off);
  *bytes_out = g_steal_pointer(&bytes);
  return TRUE;
}

static gboolean read_event_cols(hid_t f, const PcShardMeta *m,
                                const uint32_t *b, size_t n, PcShardData *s,
                                uint64_t *bytes_read, GError **error) {
  g_auto(Ranges) r = {0};
  ranges_init(&r, m->ev_start, b, n);
  s->n_events = r.total;
  const char *f_ = m->path;
  if (!(s->ev_customer = try_rows(r.total, 4, f_, "events/customer", error)) ||
      !(s->ev_ts = try_rows(r.total, 8, f_, "events/ts", error)) ||
      !(s->ev_channel = try_rows(r.total, 4, f_, "events/channel", error)) ||
      !(s->ev_event = try_rows(r.total, 4, f_, "events/event", error)) ||
      !(s->ev_value = try_rows(r.total, 8, f_, "events/value", error)))
    return FALSE;
  *bytes_read += r.total * 28; /* 4 + 8 + 4 + 4 + 8 bytes per event */
  return read_ranges(f, "events/customer", H5T_NATIVE_UINT32, s->ev_customer, &r, m->path, error) &&
         read_ranges(f, "events/ts", H5T_NATIVE_INT64, s->ev_ts, &r, m->path, error) &&
         read_ranges(f, "events/channel", H5T_NATIVE_UINT32, s->ev_channel, &r, m->path, error) &&
         read_ranges(f, "events/event", H5T_NATIVE_UINT32, s->ev_event, &r, m->path, error) &&
         read_ranges(f, "events/value", H5T_NATIVE_INT64, s->ev_value, &r, m->path, error);
}

/* Shard customer indices -> slice indices, checking every reference: an
 * event's customer lies in its bucket, customers never go back. */
static gboolean rebase_customers(const PcShardMeta *m, const uint32_t *b,
                                 size_t n, PcShardData *s, GError **error) {
  uint64_t e = 0, c = 0;
  for (size_t i = 0; i < n; i++) {
    uint64_t ne = m->bucket_events[b[i]], nc = m->bucket_customers[b[i]];
    uint64_t base = m->cust_start[b[i]];
    for (uint64_t k = 0; k < ne; k++, e++) {
      uint64_t ci = s->ev_customer[e];
      if (ci < base || ci >= base + nc || (k && ci < s->ev_customer[e - 1] + base - c)) {
        pc_set_error(error, PC_ERROR_FORMAT, "%s: dataset events/customer: element %" G_GUINT64_FORMAT " (bucket %u) refers to customer %" G_GUINT64_FORMAT " outside the bucket (index disagrees with data)", m->path, m->ev_start[b[i]] + k, b[i], ci);
        return FALSE;
      }
      s->ev_customer[e] = (uint32_t)(ci - base + c);
    }
    c += nc;
  }
  return TRUE;
}

/* Segment lengths -> offsets (n + 1), checked against the byte count. */
static uint64_t *seg_offsets(const uint32_t *len, uint64_t n, uint64_t bytes,
                             const char *file, GError **error) {
  uint64_t *off = g_new(uint64_t, n + 1);
  off[0] = 0;
  for (uint64_t i = 0; i < n; i++) off[i + 1] = off[i] + len[i];
  if (off[n] == bytes) return off;
  pc_set_error(error, PC_ERROR_FORMAT, "%s: crm/segment_len disagrees with the segment bytes of the bucket index", file);
  g_free(off);
  return NULL;
}

/* The segments of the customers-table rows of the selected buckets (the
 * rows read_crm reads, in the same order). */
static gboolean read_segs(hid_t f, const PcShardMeta *m, const uint32_t *b,
                          size_t n, PcShardData *s, uint64_t *bytes_read,
                          GError **error) {
  g_auto(Ranges) rr = {0};
  g_auto(Ranges) rb = {0};
  ranges_init(&rr, m->crm_start, b, n);
  ranges_init(&rb, m->crms_start, b, n);
  g_autofree uint32_t *len = g_new(uint32_t, rr.total + 1);
  s->crm_seg_bytes = g_malloc(rb.total + 1);
  if (!read_ranges(f, "crm/segment_len", H5T_NATIVE_UINT32, len, &rr, m->path, error) ||
      !read_ranges(f, "crm/segment_bytes", H5T_NATIVE_UINT8, s->crm_seg_bytes, &rb, m->path, error))
    return FALSE;
  *bytes_read += rr.total * 4 + rb.total;
  s->crm_seg_offsets = seg_offsets(len, rr.total, rb.total, m->path, error);
  return s->crm_seg_offsets != NULL;
}

static gboolean read_crm(hid_t f, const PcShardMeta *m, const uint32_t *b,
                         size_t n, PcShardData *s, uint64_t *bytes_read,
                         GError **error) {
  if (!read_ids(f, "crm", m, m->crm_start, m->crmb_start, b, n, &s->crm_id_bytes,
                &s->crm_id_offsets, &s->n_crm, bytes_read, error))
    return FALSE;
  g_auto(Ranges) r = {0};
  ranges_init(&r, m->crm_start, b, n);
  if (!(s->crm_revenue = try_rows(r.total, 8, m->path, "crm/revenue", error))) return FALSE;
  *bytes_read += r.total * 8;
  return read_ranges(f, "crm/revenue", H5T_NATIVE_INT64, s->crm_revenue, &r, m->path, error) &&
         read_segs(f, m, b, n, s, bytes_read, error);
}

/* The bucket index of the slice: the shard's counts on the selected
 * buckets, 0 elsewhere. */
static void slice_index(const PcShardMeta *m, const uint32_t *buckets,
                        size_t n, PcShardData *s) {
  s->bucket_events = g_new0(uint64_t, m->buckets);
  s->bucket_customers = g_new0(uint64_t, m->buckets);
  s->bucket_crm = g_new0(uint64_t, m->buckets);
  for (size_t i = 0; i < n; i++) {
    s->bucket_events[buckets[i]] = m->bucket_events[buckets[i]];
    s->bucket_customers[buckets[i]] = m->bucket_customers[buckets[i]];
    s->bucket_crm[buckets[i]] = m->bucket_crm[buckets[i]];
  }
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
  gboolean ok = read_ids(f, "customers", m, m->cust_start, m->idb_start, buckets, n,
                         &s->id_bytes, &s->id_offsets, &s->n_customers, bytes_read, error) &&
                read_event_cols(f, m, buckets, n, s, bytes_read, error) &&
                rebase_customers(m, buckets, n, s, error) &&
                read_crm(f, m, buckets, n, s, bytes_read, error);
  pc_h5_close(f);
  if (!ok || !pc_shardcheck_slice(m, buckets, n, s, error)) return FALSE;
  slice_index(m, buckets, n, s);
  *out = g_steal_pointer(&s);
  return TRUE;
}

gboolean pc_h5io_read_segments(const PcShardMeta *m, PcDict **out,
                               GError **error) {
  uint64_t n = m->crm_start[m->buckets], nb = m->crms_start[m->buckets];
  g_autofree uint32_t *len = g_new(uint32_t, n + 1);
  g_autofree guint8 *bytes = g_malloc(nb + 1);
  hid_t f = H5Fopen(m->path, H5F_ACC_RDONLY, H5P_DEFAULT);
  if (f < 0) {
    pc_set_error(error, PC_ERROR_FORMAT, "%s: cannot open as HDF5", m->path);
    return FALSE;
  }
  gboolean ok = pc_h5_read_all(f, "crm/segment_len", H5T_NATIVE_UINT32, len, n, m->path, error) &&
                pc_h5_read_all(f, "crm/segment_bytes", H5T_NATIVE_UINT8, bytes, nb, m->path, error);
  pc_h5_close(f);
  g_autofree uint64_t *off = ok ? seg_offsets(len, n, nb, m->path, error) : NULL;
  if (!off) return FALSE;
  /* distinct first (a table of millions of rows has a handful of names):
   * a row is copied only when its name is new */
  g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GString) name = g_string_new(NULL);
  for (uint64_t i = 0; i < n; i++) {
    if (off[i + 1] == off[i]) continue;
    g_string_truncate(name, 0);
    g_string_append_len(name, (const char *)bytes + off[i], (gssize)(off[i + 1] - off[i]));
    if (!g_hash_table_contains(seen, name->str)) g_hash_table_add(seen, g_strdup(name->str));
  }
  guint k = 0;
  g_autofree char **names = (char **)g_hash_table_get_keys_as_array(seen, &k);
  *out = pc_dict_new_sorted(names, k);
  return TRUE;
}
