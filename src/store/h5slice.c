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

/* ---- Buffers kept from one batch to the next ----
 * A run reads a shard batch after batch; fresh column buffers of every
 * batch cost a page fault and a page zeroing per 4 KiB (40% of a read's
 * CPU at 10^8 events, in the kernel), so a PcSliceBufs keeps them: a slice
 * takes its buffers from it, pc_h5io_slice_release gives them back. */
enum {
  B_ID_LEN, B_ID_BYTES, B_ID_OFF, B_EV_CUST, B_EV_TS, B_EV_CH, B_EV_EV, B_EV_VAL,
  B_CRM_LEN, B_CRM_BYTES, B_CRM_OFF, B_CRM_REV, B_SEG_LEN, B_SEG_BYTES, B_SEG_OFF,
  B_IDX_EV, B_IDX_CU, B_IDX_CRM, B_N
};

struct PcSliceBufs {
  void *free_[B_N];   /* a buffer not lent, or NULL */
  void *lent[B_N];    /* the buffer lent to the current slice */
  size_t cap[B_N];    /* bytes of free_[k] or lent[k] */
  PcH5Scratch chunks; /* raw chunks of one column read (h5chunk.c) */
};

PcSliceBufs *pc_h5io_slice_bufs_new(void) { return g_new0(PcSliceBufs, 1); }

void pc_h5io_slice_bufs_free(PcSliceBufs *b) {
  if (!b) return;
  for (int k = 0; k < B_N; k++) g_free(b->free_[k]);
  g_free(b->chunks.p);
  g_free(b);
}

/* A buffer of at least bytes for slot k: the kept one when large enough. */
static void *bufs_take(PcSliceBufs *b, int k, size_t bytes) {
  if (!b) return g_try_malloc(bytes);
  if (b->free_[k] && b->cap[k] >= bytes) {
    b->lent[k] = g_steal_pointer(&b->free_[k]);
    return b->lent[k];
  }
  g_clear_pointer(&b->free_[k], g_free);
  b->lent[k] = g_try_malloc(bytes);
  b->cap[k] = b->lent[k] ? bytes : 0;
  return b->lent[k];
}

/* p (taken from slot k) back to b; NULL when p is not b's (freed then). */
static void bufs_give(PcSliceBufs *b, int k, void *p) {
  if (!p) return;
  if (b && b->lent[k] == p && !b->free_[k]) {
    b->free_[k] = p;
    b->lent[k] = NULL;
  } else {
    g_free(p);
  }
}

/* A scratch buffer of slot k that goes back at once (taken and given
 * within one read). */
static void scratch_give(PcSliceBufs *b, int k, void *p) { bufs_give(b, k, p); }

void pc_h5io_slice_release(PcSliceBufs *b, PcShardData *s) {
  if (!s) return;
  void **field[] = {NULL, (void **)&s->id_bytes, (void **)&s->id_offsets, (void **)&s->ev_customer,
                    (void **)&s->ev_ts, (void **)&s->ev_channel, (void **)&s->ev_event,
                    (void **)&s->ev_value, NULL, (void **)&s->crm_id_bytes, (void **)&s->crm_id_offsets,
                    (void **)&s->crm_revenue, NULL, (void **)&s->crm_seg_bytes, (void **)&s->crm_seg_offsets,
                    (void **)&s->bucket_events, (void **)&s->bucket_customers, (void **)&s->bucket_crm};
  G_STATIC_ASSERT(G_N_ELEMENTS(field) == B_N);
  for (int k = 0; k < B_N; k++)
    if (field[k]) bufs_give(b, k, g_steal_pointer(field[k]));
  pc_shard_data_free(s);
}

/* ---- Reading a slice ---- */

/* What every read of one slice shares. */
typedef struct {
  hid_t f;
  const PcShardMeta *m;
  const uint32_t *b;
  size_t n;
  PcSliceBufs *bufs;
  uint64_t *bytes_read;
} Rd;

/* A buffer for n elements of size bytes (slot k), or NULL with
 * PC_ERROR_MEMORY naming the dataset: a damaged index may claim more rows
 * than memory holds, which must be an error, not an abort. */
static void *try_rows(Rd *rd, int k, uint64_t n, size_t size, const char *name,
                      GError **error) {
  void *p = n < G_MAXSIZE / size - 1 ? bufs_take(rd->bufs, k, (n + 1) * size) : NULL;
  if (!p)
    pc_set_error(error, PC_ERROR_MEMORY, "%s: dataset %s: cannot hold the %" G_GUINT64_FORMAT " elements the bucket index claims for the buckets read", rd->m->path, name, n);
  return p;
}

/* Reads the ranges of a 1-D dataset into buf (contiguous, in range order):
 * its chunks decoded by h5chunk.c. */
static gboolean read_ranges(Rd *rd, const char *name, hid_t type, void *buf,
                            const Ranges *r, GError **error) {
  if (r->total == 0) return TRUE;
  PcH5Col *c = pc_h5_col_open(rd->f, name, type, rd->m->path, error);
  gboolean ok = c && pc_h5_col_read(c, r, buf, rd->bufs ? &rd->bufs->chunks : NULL, error);
  pc_h5_col_close(c);
  return ok;
}

/* The ids of the selected buckets from DIR/id_len and DIR/id_bytes (DIR =
 * customers or crm; slots k0 = lengths, k0 + 1 bytes, k0 + 2 offsets):
 * *bytes_out and *off_out (nrows + 1), freed with the PcShardData. FALSE
 * when a read fails or the lengths disagree with the index's byte counts. */
static gboolean read_ids(Rd *rd, const char *dir, int k0, const uint64_t *rows_pre,
                         const uint64_t *bytes_pre, guint8 **bytes_out,
                         uint64_t **off_out, uint64_t *nrows, GError **error) {
  g_auto(Ranges) rr = {0};
  g_auto(Ranges) rb = {0};
  ranges_init(&rr, rows_pre, rd->b, rd->n);
  ranges_init(&rb, bytes_pre, rd->b, rd->n);
  g_autofree char *lname = g_strdup_printf("%s/id_len", dir);
  g_autofree char *bname = g_strdup_printf("%s/id_bytes", dir);
  uint8_t *len = try_rows(rd, k0, rr.total, 1, lname, error);
  *bytes_out = len ? try_rows(rd, k0 + 1, rb.total, 1, bname, error) : NULL;
  *off_out = *bytes_out ? try_rows(rd, k0 + 2, rr.total, sizeof(uint64_t), lname, error) : NULL;
  gboolean ok = *off_out && read_ranges(rd, lname, H5T_NATIVE_UINT8, len, &rr, error) &&
                read_ranges(rd, bname, H5T_NATIVE_UINT8, *bytes_out, &rb, error);
  if (ok) {
    *rd->bytes_read += rr.total + rb.total;
    uint64_t *off = *off_out;
    off[0] = 0;
    for (hsize_t i = 0; i < rr.total; i++) off[i + 1] = off[i] + len[i];
    *nrows = rr.total;
    if (off[rr.total] != rb.total) {
      pc_set_error(error, PC_ERROR_FORMAT, "%s: dataset %s: the id lengths of the buckets read add up to %" G_GUINT64_FORMAT " bytes, the bucket index says %" G_GUINT64_FORMAT, rd->m->path, lname, off[rr.total], (uint64_t)rb.total);
      ok = FALSE;
    }
  }
  scratch_give(rd->bufs, k0, len);
  return ok;
}

static gboolean read_event_cols(Rd *rd, PcShardData *s, GError **error) {
  g_auto(Ranges) r = {0};
  ranges_init(&r, rd->m->ev_start, rd->b, rd->n);
  s->n_events = r.total;
  if (!(s->ev_customer = try_rows(rd, B_EV_CUST, r.total, 4, "events/customer", error)) ||
      !(s->ev_ts = try_rows(rd, B_EV_TS, r.total, 8, "events/ts", error)) ||
      !(s->ev_channel = try_rows(rd, B_EV_CH, r.total, 4, "events/channel", error)) ||
      !(s->ev_event = try_rows(rd, B_EV_EV, r.total, 4, "events/event", error)) ||
      !(s->ev_value = try_rows(rd, B_EV_VAL, r.total, 8, "events/value", error)))
    return FALSE;
  *rd->bytes_read += r.total * 28; /* 4 + 8 + 4 + 4 + 8 bytes per event */
  return read_ranges(rd, "events/customer", H5T_NATIVE_UINT32, s->ev_customer, &r, error) &&
         read_ranges(rd, "events/ts", H5T_NATIVE_INT64, s->ev_ts, &r, error) &&
         read_ranges(rd, "events/channel", H5T_NATIVE_UINT32, s->ev_channel, &r, error) &&
         read_ranges(rd, "events/event", H5T_NATIVE_UINT32, s->ev_event, &r, error) &&
         read_ranges(rd, "events/value", H5T_NATIVE_INT64, s->ev_value, &r, error);
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

/* Segment lengths -> offsets in off (n + 1), checked against the byte
 * count. */
static gboolean seg_offsets(const uint32_t *len, uint64_t n, uint64_t bytes,
                            uint64_t *off, const char *file, GError **error) {
  off[0] = 0;
  for (uint64_t i = 0; i < n; i++) off[i + 1] = off[i] + len[i];
  if (off[n] == bytes) return TRUE;
  pc_set_error(error, PC_ERROR_FORMAT, "%s: crm/segment_len disagrees with the segment bytes of the bucket index", file);
  return FALSE;
}

/* The segments of the customers-table rows of the selected buckets (the
 * rows read_crm reads, in the same order). */
static gboolean read_segs(Rd *rd, PcShardData *s, GError **error) {
  g_auto(Ranges) rr = {0};
  g_auto(Ranges) rb = {0};
  ranges_init(&rr, rd->m->crm_start, rd->b, rd->n);
  ranges_init(&rb, rd->m->crms_start, rd->b, rd->n);
  uint32_t *len = try_rows(rd, B_SEG_LEN, rr.total, 4, "crm/segment_len", error);
  s->crm_seg_bytes = len ? try_rows(rd, B_SEG_BYTES, rb.total, 1, "crm/segment_bytes", error) : NULL;
  s->crm_seg_offsets = s->crm_seg_bytes ? try_rows(rd, B_SEG_OFF, rr.total, 8, "crm/segment_len", error) : NULL;
  gboolean ok = s->crm_seg_offsets &&
                read_ranges(rd, "crm/segment_len", H5T_NATIVE_UINT32, len, &rr, error) &&
                read_ranges(rd, "crm/segment_bytes", H5T_NATIVE_UINT8, s->crm_seg_bytes, &rb, error) &&
                seg_offsets(len, rr.total, rb.total, s->crm_seg_offsets, rd->m->path, error);
  if (ok) *rd->bytes_read += rr.total * 4 + rb.total;
  scratch_give(rd->bufs, B_SEG_LEN, len);
  return ok;
}

static gboolean read_crm(Rd *rd, PcShardData *s, GError **error) {
  const PcShardMeta *m = rd->m;
  if (!read_ids(rd, "crm", B_CRM_LEN, m->crm_start, m->crmb_start, &s->crm_id_bytes,
                &s->crm_id_offsets, &s->n_crm, error))
    return FALSE;
  g_auto(Ranges) r = {0};
  ranges_init(&r, m->crm_start, rd->b, rd->n);
  if (!(s->crm_revenue = try_rows(rd, B_CRM_REV, r.total, 8, "crm/revenue", error))) return FALSE;
  *rd->bytes_read += r.total * 8;
  return read_ranges(rd, "crm/revenue", H5T_NATIVE_INT64, s->crm_revenue, &r, error) &&
         read_segs(rd, s, error);
}

/* The bucket index of the slice: the shard's counts on the selected
 * buckets, 0 elsewhere. */
static void slice_index(Rd *rd, PcShardData *s) {
  const PcShardMeta *m = rd->m;
  size_t bytes = m->buckets * sizeof(uint64_t);
  s->bucket_events = bufs_take(rd->bufs, B_IDX_EV, bytes);
  s->bucket_customers = bufs_take(rd->bufs, B_IDX_CU, bytes);
  s->bucket_crm = bufs_take(rd->bufs, B_IDX_CRM, bytes);
  if (!s->bucket_events || !s->bucket_customers || !s->bucket_crm) g_error("out of memory");
  memset(s->bucket_events, 0, bytes);
  memset(s->bucket_customers, 0, bytes);
  memset(s->bucket_crm, 0, bytes);
  for (size_t i = 0; i < rd->n; i++) {
    uint32_t b = rd->b[i];
    s->bucket_events[b] = m->bucket_events[b];
    s->bucket_customers[b] = m->bucket_customers[b];
    s->bucket_crm[b] = m->bucket_crm[b];
  }
}

gboolean pc_h5io_read_buckets_into(const PcShardMeta *m, const uint32_t *buckets,
                                   size_t n, PcSliceBufs *bufs, PcShardData **out,
                                   uint64_t *bytes_read, GError **error) {
  PcShardData *s = g_new0(PcShardData, 1);
  s->buckets = m->buckets;
  Rd rd = {H5Fopen(m->path, H5F_ACC_RDONLY, H5P_DEFAULT), m, buckets, n, bufs, bytes_read};
  if (rd.f < 0) {
    pc_set_error(error, PC_ERROR_FORMAT, "%s: cannot open as HDF5", m->path);
    g_free(s);
    return FALSE;
  }
  gboolean ok = read_ids(&rd, "customers", B_ID_LEN, m->cust_start, m->idb_start, &s->id_bytes,
                         &s->id_offsets, &s->n_customers, error) &&
                read_event_cols(&rd, s, error) && rebase_customers(m, buckets, n, s, error) &&
                read_crm(&rd, s, error);
  pc_h5_close(rd.f);
  ok = ok && pc_shardcheck_slice(m, buckets, n, s, error);
  if (ok) slice_index(&rd, s);
  if (!ok) {
    pc_h5io_slice_release(bufs, s);
    return FALSE;
  }
  *out = s;
  return TRUE;
}

gboolean pc_h5io_read_buckets(const PcShardMeta *m, const uint32_t *buckets,
                              size_t n, PcShardData **out,
                              uint64_t *bytes_read, GError **error) {
  return pc_h5io_read_buckets_into(m, buckets, n, NULL, out, bytes_read, error);
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
  g_autofree uint64_t *off = g_new(uint64_t, n + 1);
  if (!ok || !seg_offsets(len, n, nb, off, m->path, error)) return FALSE;
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
