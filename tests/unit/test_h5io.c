/* test_h5io.c - src/h5io.c: a shard built by PcShardBuilder written and
 * read back (meta, prefix arrays, a non-contiguous bucket selection with
 * slice-relative customer indices), the refusals of foreign, truncated,
 * newer and inconsistent files, and results.h5 round trips and byte
 * identity. The only test that includes hdf5.h: it forges bad shards.
 *
 * Fixture (B = 4; buckets FNV-1a-64(id) mod 4, see test_shard.c):
 *   customers a e | b | ab | a!  (buckets 0 0 1 2 3)
 *   events per bucket 7 3 1 1; customers-table rows a q | b zz | - | -
 *   channels app email web; events buy cart click view.
 */
#include "pc_h5io.h"
#include "pc_test.h"

#include <glib/gstdio.h>
#include <hdf5.h>
#include <math.h>

/* ---- Helpers ------------------------------------------------------------------ */

typedef struct {
  const char *id;
  int64_t ts;
  const char *channel, *event;
  int64_t value;
} Row;

static const Row ROWS[] = {
    {"b", 200, "web", "view", 0},       {"a", 100, "web", "view", 0},
    {"a!", 50, "app", "click", 1500000}, {"a", 100, "app", "view", 0},
    {"a", 100, "web", "click", 0},      {"b", 100, "email", "buy", 2000000},
    {"a", 100, "web", "view", -5},      {"a", 100, "web", "view", 0},
    {"ab", 300, "web", "cart", 0},      {"a", 50, "email", "buy", 0},
    {"b", 200, "web", "view", 0},       {"e", -10, "app", "view", 7},
};

static PcShardData *fixture(void) {
  PcShardBuilder *b = pc_shard_builder_new(4);
  for (size_t i = 0; i < G_N_ELEMENTS(ROWS); i++) {
    const Row *r = &ROWS[i];
    pc_shard_builder_add_event(b, r->id, (uint32_t)strlen(r->id), r->ts,
                               r->channel, (uint32_t)strlen(r->channel),
                               r->event, (uint32_t)strlen(r->event), r->value);
  }
  pc_shard_builder_add_customer(b, "zz", 2, 0, "", 0);
  pc_shard_builder_add_customer(b, "b", 1, 5000000, "silver", 6);
  pc_shard_builder_add_customer(b, "a", 1, 1000000, "gold", 4);
  pc_shard_builder_add_customer(b, "q", 1, -250000, "bronze", 6);
  return pc_shard_builder_finish(b);
}

static char *make_tmp_dir(void) {
  pc_h5io_quiet();
  char *dir = g_dir_make_tmp("pc-test-h5io-XXXXXX", NULL);
  g_assert(dir);
  return dir;
}

static void rm_tmp_dir(const char *dir) {
  GDir *d = g_dir_open(dir, 0, NULL);
  const char *n;
  while (d && (n = g_dir_read_name(d))) {
    g_autofree char *p = g_build_filename(dir, n, NULL);
    g_unlink(p);
  }
  if (d) g_dir_close(d);
  g_rmdir(dir);
}

static guint count_entries(const char *dir) {
  GDir *d = g_dir_open(dir, 0, NULL);
  guint n = 0;
  while (d && g_dir_read_name(d)) n++;
  if (d) g_dir_close(d);
  return n;
}

/* Writes the fixture shard to dir/name; returns the path. */
static char *write_fixture(const char *dir, const char *name) {
  char *path = g_build_filename(dir, name, NULL);
  g_autoptr(PcShardData) s = fixture();
  GError *e = NULL;
  CU_ASSERT_TRUE(pc_h5io_write_shard(path, s, "{\"rows\":12}", &e));
  CU_ASSERT_PTR_NULL(e);
  g_clear_error(&e);
  return path;
}

static gboolean id_is(const guint8 *bytes, const uint64_t *off, uint64_t i,
                      const char *want) {
  size_t n = strlen(want);
  return off[i + 1] - off[i] == n && memcmp(bytes + off[i], want, n) == 0;
}

/* read_meta on path must fail with code; the message names the file and,
 * when needle is given, contains it. */
static void assert_meta_fails(const char *path, int code, const char *needle) {
  PcShardMeta *m = NULL;
  GError *e = NULL;
  CU_ASSERT_FALSE(pc_h5io_read_meta(path, &m, &e));
  CU_ASSERT_PTR_NULL(m);
  CU_ASSERT_PTR_NOT_NULL_FATAL(e);
  CU_ASSERT_EQUAL(e->domain, PC_ERROR);
  CU_ASSERT_EQUAL(e->code, code);
  CU_ASSERT_PTR_NOT_NULL(strstr(e->message, path));
  if (needle) CU_ASSERT_PTR_NOT_NULL(strstr(e->message, needle));
  g_error_free(e);
}

static void set_attr_u64(const char *path, const char *name, uint64_t v) {
  hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
  CU_ASSERT_FATAL(f >= 0);
  hid_t a = H5Aopen(f, name, H5P_DEFAULT);
  CU_ASSERT(a >= 0);
  CU_ASSERT(H5Awrite(a, H5T_NATIVE_UINT64, &v) >= 0);
  H5Aclose(a);
  H5Fclose(f);
}

static gboolean same_bytes(const char *p1, const char *p2) {
  g_autofree char *a = NULL, *b = NULL;
  gsize na = 0, nb = 0;
  if (!g_file_get_contents(p1, &a, &na, NULL)) return FALSE;
  if (!g_file_get_contents(p2, &b, &nb, NULL)) return FALSE;
  return na == nb && memcmp(a, b, na) == 0;
}

/* ---- Shard meta ------------------------------------------------------------------ */

/* Counts, dictionaries, pairs, bucket index and its prefix sums:
 *  ev_start   0 7 10 11 12       cust_start 0 2 3 4 5
 *  idb_start  0 2 3 5 7   ("a"+"e" = 2, "b" 1, "ab" 2, "a!" 2)
 *  crm_start  0 2 4 4 4          crmb_start 0 2 5 5 5 ("a"+"q", "b"+"zz") */
static void test_meta(void) {
  g_autofree char *dir = make_tmp_dir();
  g_autofree char *path = write_fixture(dir, "s.h5");
  g_autoptr(PcShardMeta) m = NULL;
  GError *e = NULL;
  CU_ASSERT_TRUE_FATAL(pc_h5io_read_meta(path, &m, &e));
  CU_ASSERT_STRING_EQUAL(m->path, path);
  CU_ASSERT_EQUAL(m->buckets, 4);
  CU_ASSERT_EQUAL(m->n_events, 12);
  CU_ASSERT_EQUAL(m->n_customers, 5);
  CU_ASSERT_EQUAL(m->n_crm, 4);
  CU_ASSERT_EQUAL_FATAL(m->channels->n, 3);
  CU_ASSERT_STRING_EQUAL(m->channels->names[0], "app");
  CU_ASSERT_STRING_EQUAL(m->channels->names[1], "email");
  CU_ASSERT_STRING_EQUAL(m->channels->names[2], "web");
  CU_ASSERT_EQUAL_FATAL(m->events->n, 4);
  CU_ASSERT_STRING_EQUAL(m->events->names[0], "buy");
  CU_ASSERT_STRING_EQUAL(m->events->names[1], "cart");
  CU_ASSERT_STRING_EQUAL(m->events->names[2], "click");
  CU_ASSERT_STRING_EQUAL(m->events->names[3], "view");
  const uint32_t pairs[] = {0, 2, 0, 3, 1, 0, 2, 1, 2, 2, 2, 3};
  CU_ASSERT_EQUAL_FATAL(m->n_pairs, 6);
  for (int i = 0; i < 12; i++) CU_ASSERT_EQUAL(m->pairs[i], pairs[i]);
  const uint64_t be[] = {7, 3, 1, 1}, bc[] = {2, 1, 1, 1}, br[] = {2, 2, 0, 0};
  for (int b = 0; b < 4; b++) {
    CU_ASSERT_EQUAL(m->bucket_events[b], be[b]);
    CU_ASSERT_EQUAL(m->bucket_customers[b], bc[b]);
    CU_ASSERT_EQUAL(m->bucket_crm[b], br[b]);
  }
  const uint64_t evs[] = {0, 7, 10, 11, 12}, cus[] = {0, 2, 3, 4, 5},
                 idb[] = {0, 2, 3, 5, 7}, crs[] = {0, 2, 4, 4, 4},
                 crb[] = {0, 2, 5, 5, 5};
  for (int b = 0; b < 5; b++) {
    CU_ASSERT_EQUAL(m->ev_start[b], evs[b]);
    CU_ASSERT_EQUAL(m->cust_start[b], cus[b]);
    CU_ASSERT_EQUAL(m->idb_start[b], idb[b]);
    CU_ASSERT_EQUAL(m->crm_start[b], crs[b]);
    CU_ASSERT_EQUAL(m->crmb_start[b], crb[b]);
  }
  CU_ASSERT_PTR_NOT_NULL_FATAL(m->ingest_json);
  CU_ASSERT_STRING_EQUAL(m->ingest_json, "{\"rows\":12}");
  rm_tmp_dir(dir);
}

/* Without batch_json there is no "ingest" attribute: NULL. */
static void test_meta_no_ingest(void) {
  g_autofree char *dir = make_tmp_dir();
  g_autofree char *path = g_build_filename(dir, "s.h5", NULL);
  g_autoptr(PcShardData) s = fixture();
  CU_ASSERT_TRUE_FATAL(pc_h5io_write_shard(path, s, NULL, NULL));
  g_autoptr(PcShardMeta) m = NULL;
  CU_ASSERT_TRUE_FATAL(pc_h5io_read_meta(path, &m, NULL));
  CU_ASSERT_PTR_NULL(m->ingest_json);
  rm_tmp_dir(dir);
}

/* ---- Reading buckets -------------------------------------------------------------- */

/* Buckets {1, 3} (not contiguous): customers b, a! (slice indices 0, 1);
 * events b: (100 email buy 2000000) (200 web view 0) x2, a!: (50 app click
 * 1500000) -> customer 0 0 0 1; customers-table rows of bucket 1: b, zz.
 * bytes_read adds 2+3 (id lengths + id bytes) + 4*28 (event columns) +
 * 2+3 (crm ids) + 2*8 (revenue) + 2*4+6 (segment lengths, "silver" and
 * "") = 152 to the 1000 it held. */
static void test_read_buckets_1_3(void) {
  g_autofree char *dir = make_tmp_dir();
  g_autofree char *path = write_fixture(dir, "s.h5");
  g_autoptr(PcShardMeta) m = NULL;
  CU_ASSERT_TRUE_FATAL(pc_h5io_read_meta(path, &m, NULL));
  const uint32_t sel[] = {1, 3};
  g_autoptr(PcShardData) s = NULL;
  uint64_t bytes = 1000;
  GError *e = NULL;
  CU_ASSERT_TRUE_FATAL(pc_h5io_read_buckets(m, sel, 2, &s, &bytes, &e));
  CU_ASSERT_EQUAL(s->buckets, 4);
  CU_ASSERT_EQUAL_FATAL(s->n_customers, 2);
  CU_ASSERT_TRUE(id_is(s->id_bytes, s->id_offsets, 0, "b"));
  CU_ASSERT_TRUE(id_is(s->id_bytes, s->id_offsets, 1, "a!"));
  CU_ASSERT_EQUAL_FATAL(s->n_events, 4);
  const uint32_t cu[] = {0, 0, 0, 1}, ch[] = {1, 2, 2, 0}, ev[] = {0, 3, 3, 2};
  const int64_t ts[] = {100, 200, 200, 50}, val[] = {2000000, 0, 0, 1500000};
  for (int i = 0; i < 4; i++) {
    CU_ASSERT_EQUAL(s->ev_customer[i], cu[i]);
    CU_ASSERT_EQUAL(s->ev_ts[i], ts[i]);
    CU_ASSERT_EQUAL(s->ev_channel[i], ch[i]);
    CU_ASSERT_EQUAL(s->ev_event[i], ev[i]);
    CU_ASSERT_EQUAL(s->ev_value[i], val[i]);
  }
  CU_ASSERT_EQUAL_FATAL(s->n_crm, 2);
  CU_ASSERT_TRUE(id_is(s->crm_id_bytes, s->crm_id_offsets, 0, "b"));
  CU_ASSERT_TRUE(id_is(s->crm_id_bytes, s->crm_id_offsets, 1, "zz"));
  CU_ASSERT_EQUAL(s->crm_revenue[0], 5000000);
  CU_ASSERT_EQUAL(s->crm_revenue[1], 0);
  CU_ASSERT_TRUE(id_is(s->crm_seg_bytes, s->crm_seg_offsets, 0, "silver"));
  CU_ASSERT_EQUAL(s->crm_seg_offsets[2], 6); /* "zz" has an empty segment */
  const uint64_t be[] = {0, 3, 0, 1}, bc[] = {0, 1, 0, 1}, br[] = {0, 2, 0, 0};
  for (int b = 0; b < 4; b++) {
    CU_ASSERT_EQUAL(s->bucket_events[b], be[b]);
    CU_ASSERT_EQUAL(s->bucket_customers[b], bc[b]);
    CU_ASSERT_EQUAL(s->bucket_crm[b], br[b]);
  }
  CU_ASSERT_EQUAL(bytes, 1152);
  rm_tmp_dir(dir);
}

/* Bucket {2} alone: customer "ab" as slice index 0 (shard index 3), one
 * event (300 web cart 0), no customers-table row. */
static void test_read_bucket_2(void) {
  g_autofree char *dir = make_tmp_dir();
  g_autofree char *path = write_fixture(dir, "s.h5");
  g_autoptr(PcShardMeta) m = NULL;
  CU_ASSERT_TRUE_FATAL(pc_h5io_read_meta(path, &m, NULL));
  const uint32_t sel[] = {2};
  g_autoptr(PcShardData) s = NULL;
  uint64_t bytes = 0;
  CU_ASSERT_TRUE_FATAL(pc_h5io_read_buckets(m, sel, 1, &s, &bytes, NULL));
  CU_ASSERT_EQUAL_FATAL(s->n_customers, 1);
  CU_ASSERT_TRUE(id_is(s->id_bytes, s->id_offsets, 0, "ab"));
  CU_ASSERT_EQUAL_FATAL(s->n_events, 1);
  CU_ASSERT_EQUAL(s->ev_customer[0], 0);
  CU_ASSERT_EQUAL(s->ev_ts[0], 300);
  CU_ASSERT_EQUAL(s->ev_channel[0], 2);
  CU_ASSERT_EQUAL(s->ev_event[0], 1);
  CU_ASSERT_EQUAL(s->n_crm, 0);
  rm_tmp_dir(dir);
}

/* All buckets {0,1,2,3} (ranges merge into one): the whole shard, equal to
 * what the builder produced. */
static void test_read_all_buckets(void) {
  g_autofree char *dir = make_tmp_dir();
  g_autofree char *path = write_fixture(dir, "s.h5");
  g_autoptr(PcShardData) want = fixture();
  g_autoptr(PcShardMeta) m = NULL;
  CU_ASSERT_TRUE_FATAL(pc_h5io_read_meta(path, &m, NULL));
  const uint32_t sel[] = {0, 1, 2, 3};
  g_autoptr(PcShardData) s = NULL;
  uint64_t bytes = 0;
  CU_ASSERT_TRUE_FATAL(pc_h5io_read_buckets(m, sel, 4, &s, &bytes, NULL));
  CU_ASSERT_EQUAL_FATAL(s->n_customers, 5);
  CU_ASSERT_EQUAL_FATAL(s->n_events, 12);
  CU_ASSERT_EQUAL_FATAL(s->n_crm, 4);
  CU_ASSERT_EQUAL(memcmp(s->id_offsets, want->id_offsets, 6 * 8), 0);
  CU_ASSERT_EQUAL(memcmp(s->id_bytes, want->id_bytes, 7), 0);
  CU_ASSERT_EQUAL(memcmp(s->ev_customer, want->ev_customer, 12 * 4), 0);
  CU_ASSERT_EQUAL(memcmp(s->ev_ts, want->ev_ts, 12 * 8), 0);
  CU_ASSERT_EQUAL(memcmp(s->ev_channel, want->ev_channel, 12 * 4), 0);
  CU_ASSERT_EQUAL(memcmp(s->ev_event, want->ev_event, 12 * 4), 0);
  CU_ASSERT_EQUAL(memcmp(s->ev_value, want->ev_value, 12 * 8), 0);
  CU_ASSERT_EQUAL(memcmp(s->crm_revenue, want->crm_revenue, 4 * 8), 0);
  CU_ASSERT_EQUAL(memcmp(s->crm_id_bytes, "aqbzz", 5), 0);
  rm_tmp_dir(dir);
}

/* No bucket selected: an empty slice, nothing read. */
static void test_read_no_bucket(void) {
  g_autofree char *dir = make_tmp_dir();
  g_autofree char *path = write_fixture(dir, "s.h5");
  g_autoptr(PcShardMeta) m = NULL;
  CU_ASSERT_TRUE_FATAL(pc_h5io_read_meta(path, &m, NULL));
  g_autoptr(PcShardData) s = NULL;
  uint64_t bytes = 0;
  CU_ASSERT_TRUE_FATAL(pc_h5io_read_buckets(m, NULL, 0, &s, &bytes, NULL));
  CU_ASSERT_EQUAL(s->n_customers, 0);
  CU_ASSERT_EQUAL(s->n_events, 0);
  CU_ASSERT_EQUAL(s->n_crm, 0);
  CU_ASSERT_EQUAL(bytes, 0);
  rm_tmp_dir(dir);
}

/* An empty shard (no rows) writes and reads back with zero counts. */
static void test_empty_shard(void) {
  g_autofree char *dir = make_tmp_dir();
  g_autofree char *path = g_build_filename(dir, "e.h5", NULL);
  g_autoptr(PcShardData) s = pc_shard_builder_finish(pc_shard_builder_new(2));
  CU_ASSERT_TRUE_FATAL(pc_h5io_write_shard(path, s, NULL, NULL));
  g_autoptr(PcShardMeta) m = NULL;
  GError *e = NULL;
  CU_ASSERT_TRUE_FATAL(pc_h5io_read_meta(path, &m, &e));
  CU_ASSERT_EQUAL(m->buckets, 2);
  CU_ASSERT_EQUAL(m->n_events, 0);
  CU_ASSERT_EQUAL(m->channels->n, 0);
  CU_ASSERT_EQUAL(m->n_pairs, 0);
  CU_ASSERT_EQUAL(m->ev_start[2], 0);
  rm_tmp_dir(dir);
}

/* The same shard written twice: the same bytes (no object times). */
static void test_shard_bytes_identical(void) {
  g_autofree char *dir = make_tmp_dir();
  g_autofree char *p1 = write_fixture(dir, "a.h5");
  g_autofree char *p2 = write_fixture(dir, "b.h5");
  CU_ASSERT_TRUE(same_bytes(p1, p2));
  rm_tmp_dir(dir);
}

/* ---- Refused shards ------------------------------------------------------------------ */

/* A missing file is PC_ERROR_IO. */
static void test_meta_missing_file(void) {
  g_autofree char *dir = make_tmp_dir();
  g_autofree char *path = g_build_filename(dir, "nope.h5", NULL);
  assert_meta_fails(path, PC_ERROR_IO, NULL);
  rm_tmp_dir(dir);
}

/* The first half of a good shard's bytes: PC_ERROR_FORMAT naming the file. */
static void test_meta_truncated(void) {
  g_autofree char *dir = make_tmp_dir();
  g_autofree char *path = write_fixture(dir, "s.h5");
  g_autofree char *half = g_build_filename(dir, "half.h5", NULL);
  g_autofree char *bytes = NULL;
  gsize n = 0;
  CU_ASSERT_TRUE_FATAL(g_file_get_contents(path, &bytes, &n, NULL));
  CU_ASSERT_FATAL(n > 1000);
  CU_ASSERT_TRUE_FATAL(g_file_set_contents(half, bytes, (gssize)(n / 2), NULL));
  assert_meta_fails(half, PC_ERROR_FORMAT, NULL);
  rm_tmp_dir(dir);
}

/* A CSV file and an empty file are not HDF5: PC_ERROR_FORMAT. */
static void test_meta_not_hdf5(void) {
  g_autofree char *dir = make_tmp_dir();
  g_autofree char *csv = g_build_filename(dir, "events.csv", NULL);
  g_autofree char *empty = g_build_filename(dir, "empty.h5", NULL);
  CU_ASSERT_TRUE_FATAL(g_file_set_contents(
      csv, "customer_id,timestamp,channel,event,value\nc1,1,web,view,\n", -1,
      NULL));
  CU_ASSERT_TRUE_FATAL(g_file_set_contents(empty, "", 0, NULL));
  assert_meta_fails(csv, PC_ERROR_FORMAT, "not an HDF5 file");
  assert_meta_fails(empty, PC_ERROR_FORMAT, NULL);
  rm_tmp_dir(dir);
}

/* A valid HDF5 file of someone else (no "format" attribute). */
static void test_meta_foreign_hdf5(void) {
  g_autofree char *dir = make_tmp_dir();
  g_autofree char *path = g_build_filename(dir, "other.h5", NULL);
  hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  CU_ASSERT_FATAL(f >= 0);
  hid_t g = H5Gcreate2(f, "data", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  H5Gclose(g);
  H5Fclose(f);
  assert_meta_fails(path, PC_ERROR_FORMAT, "not a parcours shard");
  rm_tmp_dir(dir);
}

/* format_version rewritten to 2: PC_ERROR_FORMAT saying "newer". */
static void test_meta_newer_version(void) {
  g_autofree char *dir = make_tmp_dir();
  g_autofree char *path = write_fixture(dir, "s.h5");
  set_attr_u64(path, "format_version", 2);
  assert_meta_fails(path, PC_ERROR_FORMAT, "newer");
  rm_tmp_dir(dir);
}

/* The "events" attribute says 13 while the index adds up to 12. */
static void test_meta_index_disagrees(void) {
  g_autofree char *dir = make_tmp_dir();
  g_autofree char *path = write_fixture(dir, "s.h5");
  set_attr_u64(path, "events", 13);
  assert_meta_fails(path, PC_ERROR_FORMAT, "disagree");
  rm_tmp_dir(dir);
}

/* Writing a shard into a missing directory: PC_ERROR_IO. */
static void test_write_shard_missing_dir(void) {
  g_autofree char *dir = make_tmp_dir();
  g_autofree char *path = g_build_filename(dir, "no", "s.h5", NULL);
  g_autoptr(PcShardData) s = fixture();
  GError *e = NULL;
  CU_ASSERT_FALSE(pc_h5io_write_shard(path, s, NULL, &e));
  CU_ASSERT_PTR_NOT_NULL_FATAL(e);
  CU_ASSERT_EQUAL(e->domain, PC_ERROR);
  CU_ASSERT_EQUAL(e->code, PC_ERROR_IO);
  g_error_free(e);
  rm_tmp_dir(dir);
}

/* ---- results.h5 ---------------------------------------------------------------------- */

static const char *const VCOLS[] = {"rank:int", "share:double",
                                    "value_sum:micros", "path:string"};

/* variants: (1, 0.25, 1.5, "view > buy"), (2, empty, -0.000001, empty),
 * (empty, 1/3, empty, "é > x"); summary: two columns, no rows. */
static GPtrArray *results_tables(void) {
  GPtrArray *ts = g_ptr_array_new_with_free_func((GDestroyNotify)pc_table_free);
  PcTable *v = pc_table_new("variants", VCOLS, 4);
  pc_table_add_row(v);
  pc_table_set_int(v, 0, 1);
  pc_table_set_double(v, 1, 0.25);
  pc_table_set_micros(v, 2, 1500000);
  pc_table_set_string(v, 3, "view > buy");
  pc_table_add_row(v);
  pc_table_set_int(v, 0, 2);
  pc_table_set_micros(v, 2, -1);
  pc_table_add_row(v);
  pc_table_set_double(v, 1, 1.0 / 3.0);
  pc_table_set_string(v, 3, "\xc3\xa9 > x");
  g_ptr_array_add(ts, v);
  const char *scols[] = {"key:string", "value:int"};
  g_ptr_array_add(ts, pc_table_new("summary", scols, 2));
  return ts;
}

/* Round trip of the values: ints, doubles (empty -> NaN, 1/3 bit-exact),
 * micros as their int64, strings (empty -> ""); empty ints come back as
 * INT64_MIN, the documented HDF5 form of an empty cell. */
static void test_results_round_trip(void) {
  g_autofree char *dir = make_tmp_dir();
  g_autofree char *path = g_build_filename(dir, "results.h5", NULL);
  g_autoptr(GPtrArray) ts = results_tables();
  GError *e = NULL;
  CU_ASSERT_TRUE_FATAL(pc_h5io_write_results(path, ts, &e));
  CU_ASSERT_EQUAL(count_entries(dir), 1); /* no results.h5.tmp left */
  g_autoptr(PcTable) t = NULL;
  CU_ASSERT_TRUE_FATAL(pc_h5io_read_table(path, "variants", &t, &e));
  CU_ASSERT_STRING_EQUAL(pc_table_name(t), "variants");
  CU_ASSERT_EQUAL_FATAL(pc_table_ncols(t), 4);
  CU_ASSERT_EQUAL_FATAL(pc_table_nrows(t), 3);
  CU_ASSERT_STRING_EQUAL(pc_table_col_name(t, 0), "rank");
  CU_ASSERT_STRING_EQUAL(pc_table_col_name(t, 1), "share");
  CU_ASSERT_STRING_EQUAL(pc_table_col_name(t, 2), "value_sum");
  CU_ASSERT_STRING_EQUAL(pc_table_col_name(t, 3), "path");
  CU_ASSERT_EQUAL(pc_table_col_type(t, 0), PC_COL_INT);
  CU_ASSERT_EQUAL(pc_table_col_type(t, 1), PC_COL_DOUBLE);
  CU_ASSERT_EQUAL(pc_table_col_type(t, 3), PC_COL_STRING);
  CU_ASSERT_EQUAL(pc_table_get_int(t, 0, 0), 1);
  CU_ASSERT_EQUAL(pc_table_get_double(t, 0, 1), 0.25);
  CU_ASSERT_EQUAL(pc_table_get_int(t, 0, 2), 1500000);
  CU_ASSERT_STRING_EQUAL(pc_table_get_string(t, 0, 3), "view > buy");
  CU_ASSERT_EQUAL(pc_table_get_int(t, 1, 0), 2);
  CU_ASSERT_TRUE(isnan(pc_table_get_double(t, 1, 1)));
  CU_ASSERT_EQUAL(pc_table_get_int(t, 1, 2), -1);
  CU_ASSERT_STRING_EQUAL(pc_table_get_string(t, 1, 3), "");
  CU_ASSERT_EQUAL(pc_table_get_int(t, 2, 0), INT64_MIN);
  CU_ASSERT_EQUAL(pc_table_get_double(t, 2, 1), 1.0 / 3.0);
  CU_ASSERT_EQUAL(pc_table_get_int(t, 2, 2), INT64_MIN);
  CU_ASSERT_STRING_EQUAL(pc_table_get_string(t, 2, 3), "\xc3\xa9 > x");
  g_autoptr(PcTable) s = NULL;
  CU_ASSERT_TRUE_FATAL(pc_h5io_read_table(path, "summary", &s, &e));
  CU_ASSERT_EQUAL(pc_table_ncols(s), 2);
  CU_ASSERT_EQUAL(pc_table_nrows(s), 0);
  CU_ASSERT_EQUAL(pc_table_col_type(s, 0), PC_COL_STRING);
  CU_ASSERT_EQUAL(pc_table_col_type(s, 1), PC_COL_INT);
  g_autoptr(GPtrArray) names = NULL;
  CU_ASSERT_TRUE_FATAL(pc_h5io_list_tables(path, &names, &e));
  CU_ASSERT_EQUAL_FATAL(names->len, 2); /* sorted bytewise */
  CU_ASSERT_STRING_EQUAL(g_ptr_array_index(names, 0), "summary");
  CU_ASSERT_STRING_EQUAL(g_ptr_array_index(names, 1), "variants");
  rm_tmp_dir(dir);
}

/* The distinct non-empty segments of the fixture's customers table, in
 * bytewise order ("zz" has an empty one); a store shard is no results
 * file for pc_h5io_list_tables. */
static void test_segments(void) {
  g_autofree char *dir = make_tmp_dir();
  g_autofree char *path = write_fixture(dir, "s.h5");
  g_autoptr(PcShardMeta) m = NULL;
  CU_ASSERT_TRUE_FATAL(pc_h5io_read_meta(path, &m, NULL));
  g_autoptr(PcDict) d = NULL;
  GError *e = NULL;
  CU_ASSERT_TRUE_FATAL(pc_h5io_read_segments(m, &d, &e));
  CU_ASSERT_EQUAL_FATAL(d->n, 3);
  CU_ASSERT_STRING_EQUAL(d->names[0], "bronze");
  CU_ASSERT_STRING_EQUAL(d->names[1], "gold");
  CU_ASSERT_STRING_EQUAL(d->names[2], "silver");
  GPtrArray *names = NULL;
  CU_ASSERT_FALSE(pc_h5io_list_tables(path, &names, &e));
  CU_ASSERT_EQUAL(e->code, PC_ERROR_FORMAT);
  g_clear_error(&e);
  rm_tmp_dir(dir);
}

/* The micros column type survives the round trip. pc_h5io.h promises
 * 'attributes "columns" per group' to carry it.
 * BUG (reported to the lead, src/h5io.c write_table/pc_h5io_read_table):
 * no "columns" attribute is written, and read_table maps every integer
 * member to "int", so value_sum comes back PC_COL_INT, not PC_COL_MICROS
 * (a CSV rendered from the read-back table prints 1500000, not 1.500000).
 * This case fails until that is fixed. */
static void test_results_micros_type(void) {
  g_autofree char *dir = make_tmp_dir();
  g_autofree char *path = g_build_filename(dir, "results.h5", NULL);
  g_autoptr(GPtrArray) ts = results_tables();
  CU_ASSERT_TRUE_FATAL(pc_h5io_write_results(path, ts, NULL));
  hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  CU_ASSERT_FATAL(f >= 0);
  hid_t g = H5Gopen2(f, "variants", H5P_DEFAULT);
  CU_ASSERT(g >= 0);
  CU_ASSERT(H5Aexists(g, "columns") > 0);
  H5Gclose(g);
  H5Fclose(f);
  g_autoptr(PcTable) t = NULL;
  CU_ASSERT_TRUE_FATAL(pc_h5io_read_table(path, "variants", &t, NULL));
  CU_ASSERT_EQUAL(pc_table_col_type(t, 2), PC_COL_MICROS);
  rm_tmp_dir(dir);
}

/* Money beyond int64 survives results.h5 exactly (it is stored as the
 * decimal text of the CSV cell, format 2); a store shard or a file that is
 * not a results file is refused by name. */
static void test_results_money_128(void) {
  g_autofree char *dir = make_tmp_dir();
  g_autofree char *path = g_build_filename(dir, "results.h5", NULL);
  g_autoptr(GPtrArray) ts = g_ptr_array_new_with_free_func((GDestroyNotify)pc_table_free);
  const char *cols[] = {"channel:string", "value_sum:micros"};
  PcTable *c = pc_table_new("channels", cols, 2);
  PcMoney big = (PcMoney)INT64_C(8999999999999999999) * 3;
  pc_table_add_row(c);
  pc_table_set_string(c, 0, "web");
  pc_table_set_micros(c, 1, big);
  pc_table_add_row(c);
  pc_table_set_string(c, 0, "app");
  g_ptr_array_add(ts, c);
  CU_ASSERT_TRUE_FATAL(pc_h5io_write_results(path, ts, NULL));
  g_autoptr(PcTable) t = NULL;
  CU_ASSERT_TRUE_FATAL(pc_h5io_read_table(path, "channels", &t, NULL));
  CU_ASSERT_EQUAL(pc_table_col_type(t, 1), PC_COL_MICROS);
  CU_ASSERT_TRUE(pc_table_get_micros(t, 0, 1) == big);
  CU_ASSERT_TRUE(pc_table_is_empty(t, 1, 1));
  g_autofree char *shard = g_build_filename(dir, "s.h5", NULL);
  g_autoptr(PcShardData) sd = fixture();
  CU_ASSERT_TRUE_FATAL(pc_h5io_write_shard(shard, sd, NULL, NULL));
  GError *e = NULL;
  g_autoptr(PcTable) u = NULL;
  CU_ASSERT_FALSE(pc_h5io_read_table(shard, "summary", &u, &e));
  CU_ASSERT_TRUE(g_error_matches(e, PC_ERROR, PC_ERROR_FORMAT));
  CU_ASSERT_PTR_NOT_NULL(e ? strstr(e->message, "not a parcours results file (format attribute \"parcours-store\")") : NULL);
  g_clear_error(&e);
  rm_tmp_dir(dir);
}

/* The same tables written twice: byte-identical files. */
static void test_results_bytes_identical(void) {
  g_autofree char *dir = make_tmp_dir();
  g_autofree char *p1 = g_build_filename(dir, "r1.h5", NULL);
  g_autofree char *p2 = g_build_filename(dir, "r2.h5", NULL);
  g_autoptr(GPtrArray) t1 = results_tables();
  g_autoptr(GPtrArray) t2 = results_tables();
  CU_ASSERT_TRUE_FATAL(pc_h5io_write_results(p1, t1, NULL));
  CU_ASSERT_TRUE_FATAL(pc_h5io_write_results(p2, t2, NULL));
  CU_ASSERT_TRUE(same_bytes(p1, p2));
  rm_tmp_dir(dir);
}

/* Missing directory: PC_ERROR_IO on write. Missing file: PC_ERROR_IO on
 * read; unknown table: PC_ERROR_FORMAT. */
static void test_results_errors(void) {
  g_autofree char *dir = make_tmp_dir();
  g_autofree char *bad = g_build_filename(dir, "no", "results.h5", NULL);
  g_autofree char *path = g_build_filename(dir, "results.h5", NULL);
  g_autoptr(GPtrArray) ts = results_tables();
  GError *e = NULL;
  CU_ASSERT_FALSE(pc_h5io_write_results(bad, ts, &e));
  CU_ASSERT_PTR_NOT_NULL_FATAL(e);
  CU_ASSERT_EQUAL(e->code, PC_ERROR_IO);
  g_clear_error(&e);
  PcTable *t = NULL;
  CU_ASSERT_FALSE(pc_h5io_read_table(path, "variants", &t, &e));
  CU_ASSERT_PTR_NOT_NULL_FATAL(e);
  CU_ASSERT_EQUAL(e->code, PC_ERROR_IO);
  g_clear_error(&e);
  CU_ASSERT_TRUE_FATAL(pc_h5io_write_results(path, ts, NULL));
  CU_ASSERT_FALSE(pc_h5io_read_table(path, "nope", &t, &e));
  CU_ASSERT_PTR_NULL(t);
  CU_ASSERT_PTR_NOT_NULL_FATAL(e);
  CU_ASSERT_EQUAL(e->domain, PC_ERROR);
  CU_ASSERT_EQUAL(e->code, PC_ERROR_FORMAT);
  g_clear_error(&e);
  rm_tmp_dir(dir);
}

PC_TEST_MAIN("h5io",
             {"/h5io/results_money_128", test_results_money_128},
             {"/h5io/meta", test_meta},
             {"/h5io/meta_no_ingest", test_meta_no_ingest},
             {"/h5io/read_buckets_1_3", test_read_buckets_1_3},
             {"/h5io/segments", test_segments},
             {"/h5io/read_bucket_2", test_read_bucket_2},
             {"/h5io/read_all_buckets", test_read_all_buckets},
             {"/h5io/read_no_bucket", test_read_no_bucket},
             {"/h5io/empty_shard", test_empty_shard},
             {"/h5io/shard_bytes_identical", test_shard_bytes_identical},
             {"/h5io/meta_missing_file", test_meta_missing_file},
             {"/h5io/meta_truncated", test_meta_truncated},
             {"/h5io/meta_not_hdf5", test_meta_not_hdf5},
             {"/h5io/meta_foreign_hdf5", test_meta_foreign_hdf5},
             {"/h5io/meta_newer_version", test_meta_newer_version},
             {"/h5io/meta_index_disagrees", test_meta_index_disagrees},
             {"/h5io/write_shard_missing_dir", test_write_shard_missing_dir},
             {"/h5io/results_round_trip", test_results_round_trip},
             {"/h5io/results_micros_type", test_results_micros_type},
             {"/h5io/results_bytes_identical", test_results_bytes_identical},
             {"/h5io/results_errors", test_results_errors})
