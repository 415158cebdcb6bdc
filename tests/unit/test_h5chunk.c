/* test_h5chunk.c - src/store/h5chunk.c through pc_h5io_read_buckets: the
 * chunks parcours decodes itself (raw chunk read, libdeflate, SSE2
 * unshuffle) give exactly the rows HDF5's own H5Dread gives, for every
 * layout a shard column may have: the store's (shuffle + deflate), chunks of
 * odd sizes so that ranges start and end inside chunks, deflate only,
 * shuffle only, no filter, and the layouts read through H5Dread (contiguous,
 * fletcher32, big-endian, a chunk never written), chunks stored with a
 * filter skipped (HDF5's filter mask), LZ4 chunks (filter 32004) read
 * without its plugin; and a corrupt chunk is an error naming the dataset.
 *
 * Fixture: 300 customers "c000".."c299" of 1..40 events each (6 130
 * events), B = 16, written by pc_h5io_write_shard; a case rewrites some
 * event columns with another layout (HDF5 calls here: a test may forge
 * files) and compares the slice of a bucket selection with the rows read
 * by H5Dread of the same dataset.
 */
#include "pc_h5io.h"
#include "pc_test.h"

#include <glib/gstdio.h>
#include <hdf5.h>
#include <lz4.h>

#define NCUST 300
#define B16 16

static PcShardData *fixture(void) {
  static const char *const ch[] = {"app", "email", "web"};
  static const char *const ev[] = {"buy", "cart", "click", "view"};
  PcShardBuilder *b = pc_shard_builder_new(B16);
  for (int c = 0; c < NCUST; c++) {
    char id[16];
    snprintf(id, sizeof id, "c%03d", c % 1000);
    for (int k = 0; k < 1 + (c * 7) % 40; k++) {
      const char *cn = ch[(c + k) % 3], *en = ev[(c * k) % 4];
      pc_shard_builder_add_event(b, id, 4, 1000000LL * (c + 13 * k), cn, (uint32_t)strlen(cn), en,
                                 (uint32_t)strlen(en), (int64_t)((c * 31 + k * 17) % 997) * 1000 - 300000);
    }
  }
  return pc_shard_builder_finish(b);
}

static char *write_fixture(char **dir) {
  pc_h5io_quiet();
  *dir = g_dir_make_tmp("pc-test-h5chunk-XXXXXX", NULL);
  g_assert(*dir);
  char *path = g_build_filename(*dir, "s.h5", NULL);
  g_autoptr(PcShardData) s = fixture();
  CU_ASSERT_TRUE_FATAL(pc_h5io_write_shard(path, s, NULL, NULL));
  return path;
}

static void rm_dir(char *dir, char *path) {
  g_unlink(path);
  g_rmdir(dir);
  g_free(path);
  g_free(dir);
}

/* A layout to rewrite a dataset with. */
typedef struct {
  hsize_t chunk;        /* 0: contiguous */
  gboolean shuffle, deflate, fletcher;
  gboolean big_endian;
  hsize_t written;      /* elements written (0: all): the rest is never stored */
} Layout;

/* Replaces dataset name (n elements of native type t) by one of layout l
 * holding the same values. */
static void rewrite(const char *path, const char *name, hid_t t, const Layout *l) {
  hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
  hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
  hid_t sp = H5Dget_space(d);
  hsize_t n = 0;
  H5Sget_simple_extent_dims(sp, &n, NULL);
  size_t es = H5Tget_size(t);
  g_autofree guint8 *buf = g_malloc(n * es);
  CU_ASSERT_FATAL(H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0);
  H5Dclose(d);
  CU_ASSERT_FATAL(H5Ldelete(f, name, H5P_DEFAULT) >= 0);
  hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
  if (l->chunk) H5Pset_chunk(dcpl, 1, &l->chunk);
  if (l->fletcher) H5Pset_fletcher32(dcpl);
  if (l->shuffle) H5Pset_shuffle(dcpl);
  if (l->deflate) H5Pset_deflate(dcpl, 1);
  hid_t ft = H5Tcopy(t);
  if (l->big_endian) H5Tset_order(ft, H5T_ORDER_BE);
  /* fixed extent: the store's datasets are extendible, which a contiguous
   * layout cannot be */
  H5Sclose(sp);
  sp = H5Screate_simple(1, &n, NULL);
  d = H5Dcreate2(f, name, ft, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  CU_ASSERT_FATAL(d >= 0);
  hsize_t w = l->written ? l->written : n, zero = 0;
  hid_t fs = H5Scopy(sp), ms = H5Screate_simple(1, &w, NULL);
  H5Sselect_hyperslab(fs, H5S_SELECT_SET, &zero, NULL, &w, NULL);
  CU_ASSERT_FATAL(H5Dwrite(d, t, ms, fs, H5P_DEFAULT, buf) >= 0);
  H5Sclose(ms);
  H5Sclose(fs);
  H5Tclose(ft);
  H5Pclose(dcpl);
  H5Dclose(d);
  H5Sclose(sp);
  H5Fclose(f);
}

/* Every row of dataset name for the selected buckets, read with H5Dread
 * (the reference) and gathered in bucket order. */
static guint8 *reference(const char *path, const char *name, hid_t t,
                         const PcShardMeta *m, const uint32_t *sel, size_t n) {
  hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
  size_t es = H5Tget_size(t);
  g_autofree guint8 *all = g_malloc(m->n_events * es + 1);
  CU_ASSERT(H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, all) >= 0);
  H5Dclose(d);
  H5Fclose(f);
  guint8 *out = g_malloc(m->n_events * es + 1), *o = out;
  for (size_t i = 0; i < n; i++) {
    uint64_t a = m->ev_start[sel[i]], e = m->ev_start[sel[i] + 1];
    memcpy(o, all + a * es, (e - a) * es);
    o += (e - a) * es;
  }
  return out;
}

static const uint32_t SEL_ODD[] = {1, 3, 4, 5, 9, 14, 15};

/* The slice of sel compared, column by column, with H5Dread's rows. */
static void check_slice(const char *path, const uint32_t *sel, size_t n) {
  g_autoptr(PcShardMeta) m = NULL;
  CU_ASSERT_TRUE_FATAL(pc_h5io_read_meta(path, &m, NULL));
  g_autoptr(PcShardData) s = NULL;
  uint64_t bytes = 0;
  GError *e = NULL;
  CU_ASSERT_TRUE_FATAL(pc_h5io_read_buckets(m, sel, n, &s, &bytes, &e));
  g_autofree guint8 *ts = reference(path, "events/ts", H5T_NATIVE_INT64, m, sel, n);
  g_autofree guint8 *val = reference(path, "events/value", H5T_NATIVE_INT64, m, sel, n);
  g_autofree guint8 *ch = reference(path, "events/channel", H5T_NATIVE_UINT32, m, sel, n);
  g_autofree guint8 *ev = reference(path, "events/event", H5T_NATIVE_UINT32, m, sel, n);
  CU_ASSERT_TRUE(s->n_events > 0);
  CU_ASSERT_EQUAL(memcmp(s->ev_ts, ts, s->n_events * 8), 0);
  CU_ASSERT_EQUAL(memcmp(s->ev_value, val, s->n_events * 8), 0);
  CU_ASSERT_EQUAL(memcmp(s->ev_channel, ch, s->n_events * 4), 0);
  CU_ASSERT_EQUAL(memcmp(s->ev_event, ev, s->n_events * 4), 0);
}

/* Rewrites ts (int64), value (int64), channel and event (uint32) with l,
 * then checks all buckets and a scattered selection. */
static void check_layout(const Layout *l) {
  char *dir = NULL;
  char *path = write_fixture(&dir);
  rewrite(path, "events/ts", H5T_NATIVE_INT64, l);
  rewrite(path, "events/value", H5T_NATIVE_INT64, l);
  rewrite(path, "events/channel", H5T_NATIVE_UINT32, l);
  rewrite(path, "events/event", H5T_NATIVE_UINT32, l);
  uint32_t all[B16];
  for (uint32_t b = 0; b < B16; b++) all[b] = b;
  check_slice(path, all, B16);
  check_slice(path, SEL_ODD, G_N_ELEMENTS(SEL_ODD));
  check_slice(path, SEL_ODD + 3, 1);
  rm_dir(dir, path);
}

/* The store's own layout as written (chunks of 4096 over 6 090 events). */
static void test_store_layout(void) {
  char *dir = NULL;
  char *path = write_fixture(&dir);
  uint32_t all[B16];
  for (uint32_t b = 0; b < B16; b++) all[b] = b;
  check_slice(path, all, B16);
  check_slice(path, SEL_ODD, G_N_ELEMENTS(SEL_ODD));
  rm_dir(dir, path);
}

static void test_shuffle_deflate_odd_chunks(void) {
  const hsize_t sizes[] = {1, 7, 17, 100, 1000};
  for (size_t i = 0; i < G_N_ELEMENTS(sizes); i++)
    check_layout(&(Layout){sizes[i], TRUE, TRUE, FALSE, FALSE, 0});
}
static void test_deflate_only(void) { check_layout(&(Layout){33, FALSE, TRUE, FALSE, FALSE, 0}); }
static void test_shuffle_only(void) { check_layout(&(Layout){33, TRUE, FALSE, FALSE, FALSE, 0}); }
static void test_no_filter(void) { check_layout(&(Layout){50, FALSE, FALSE, FALSE, FALSE, 0}); }
static void test_contiguous(void) { check_layout(&(Layout){0, FALSE, FALSE, FALSE, FALSE, 0}); }
static void test_fletcher32(void) { check_layout(&(Layout){64, TRUE, TRUE, TRUE, FALSE, 0}); }
static void test_big_endian(void) { check_layout(&(Layout){64, TRUE, TRUE, FALSE, TRUE, 0}); }
/* Only the first 500 elements stored: H5Dread would give the chunks
 * after them as the fill value, silently; the shard is refused when its
 * index is read, naming the dataset and what was stored. */
static void test_chunk_never_written(void) {
  char *dir = NULL;
  char *path = write_fixture(&dir);
  Layout l = {64, TRUE, TRUE, FALSE, FALSE, 500};
  rewrite(path, "events/value", H5T_NATIVE_INT64, &l);
  g_autoptr(PcShardMeta) m = NULL;
  GError *e = NULL;
  CU_ASSERT_FALSE(pc_h5io_read_meta(path, &m, &e));
  CU_ASSERT_PTR_NOT_NULL_FATAL(e);
  CU_ASSERT_EQUAL(e->code, PC_ERROR_FORMAT);
  g_autofree char *want = g_strdup_printf("%s: dataset events/value: %" G_GUINT64_FORMAT " elements claimed, only 512 stored (the rest was never written)", path, (guint64)6130);
  CU_ASSERT_STRING_EQUAL(e->message, want);
  g_error_free(e);
  rm_dir(dir, path);
}

/* Chunks stored with filters skipped (HDF5's filter mask: bit 1 deflate,
 * bits 0 and 1 both), as a writer does when a filter fails on a chunk:
 * chunk 2 of events/ts shuffled but not deflated, chunk 3 plain. */
static void test_filters_skipped(void) {
  char *dir = NULL;
  char *path = write_fixture(&dir);
  Layout l = {64, TRUE, TRUE, FALSE, FALSE, 0};
  rewrite(path, "events/ts", H5T_NATIVE_INT64, &l);
  hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
  hid_t d = H5Dopen2(f, "events/ts", H5P_DEFAULT);
  for (hsize_t k = 2; k <= 3; k++) {
    int64_t v[64];
    guint8 sh[64 * 8];
    hsize_t off = k * 64, n = 64;
    hid_t fs = H5Dget_space(d), ms = H5Screate_simple(1, &n, NULL);
    H5Sselect_hyperslab(fs, H5S_SELECT_SET, &off, NULL, &n, NULL);
    CU_ASSERT_FATAL(H5Dread(d, H5T_NATIVE_INT64, ms, fs, H5P_DEFAULT, v) >= 0);
    H5Sclose(ms);
    H5Sclose(fs);
    for (int i = 0; i < 64; i++)
      for (int j = 0; j < 8; j++) sh[j * 64 + i] = ((const guint8 *)&v[i])[j];
    CU_ASSERT_FATAL(H5Dwrite_chunk(d, H5P_DEFAULT, k == 2 ? 2 : 3, &off, sizeof sh, k == 2 ? (void *)sh : (void *)v) >= 0);
  }
  H5Dclose(d);
  H5Fclose(f);
  uint32_t all[B16];
  for (uint32_t b = 0; b < B16; b++) all[b] = b;
  check_slice(path, all, B16);
  check_slice(path, SEL_ODD, G_N_ELEMENTS(SEL_ODD));
  rm_dir(dir, path);
}

/* events/ts stored as HDF5's LZ4 filter (32004, H5Zlz4.c's format: the
 * original size and the block size big endian, then each block's stored
 * size and bytes, raw when LZ4 does not shrink it) after shuffle: chunks
 * written raw with H5Dwrite_chunk (no plugin here), LZ4-compressed chunks
 * and raw-stored blocks alternating; read back without the plugin. */
static void put_be(guint8 *p, uint64_t v, int n) {
  for (int i = n - 1; i >= 0; i--, v >>= 8) p[i] = (guint8)v;
}

static void test_lz4_chunks(void) {
  char *dir = NULL;
  char *path = write_fixture(&dir);
  hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
  hid_t d = H5Dopen2(f, "events/ts", H5P_DEFAULT);
  hid_t sp = H5Dget_space(d);
  hsize_t n = 0, C = 64;
  H5Sget_simple_extent_dims(sp, &n, NULL);
  g_autofree int64_t *v = g_new0(int64_t, n + C);
  CU_ASSERT_FATAL(H5Dread(d, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0);
  H5Dclose(d);
  H5Ldelete(f, "events/ts", H5P_DEFAULT);
  hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
  H5Pset_chunk(dcpl, 1, &C);
  H5Pset_shuffle(dcpl);
  CU_ASSERT_FATAL(H5Pset_filter(dcpl, 32004, H5Z_FLAG_OPTIONAL, 0, NULL) >= 0);
  d = H5Dcreate2(f, "events/ts", H5T_NATIVE_INT64, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
  CU_ASSERT_FATAL(d >= 0);
  for (hsize_t k = 0; k * C < n; k++) {
    guint8 sh[64 * 8], out[16 + LZ4_COMPRESSBOUND(64 * 8)];
    for (hsize_t i = 0; i < C; i++)
      for (int j = 0; j < 8; j++) sh[j * C + i] = ((const guint8 *)&v[k * C + i])[j];
    put_be(out, sizeof sh, 8);
    put_be(out + 8, sizeof sh, 4);
    int z = k % 2 ? 0 : LZ4_compress_default((const char *)sh, (char *)out + 16, sizeof sh, LZ4_COMPRESSBOUND(sizeof sh));
    if (z <= 0 || z >= (int)sizeof sh) { /* raw block */
      z = sizeof sh;
      memcpy(out + 16, sh, sizeof sh);
    }
    put_be(out + 12, (uint64_t)z, 4);
    hsize_t off = k * C;
    CU_ASSERT_FATAL(H5Dwrite_chunk(d, H5P_DEFAULT, 0, &off, 16 + (size_t)z, out) >= 0);
  }
  H5Pclose(dcpl);
  H5Dclose(d);
  H5Sclose(sp);
  H5Fclose(f);
  g_autoptr(PcShardMeta) m = NULL;
  CU_ASSERT_TRUE_FATAL(pc_h5io_read_meta(path, &m, NULL));
  g_autoptr(PcShardData) s = NULL;
  uint64_t bytes = 0;
  uint32_t all[B16];
  for (uint32_t b = 0; b < B16; b++) all[b] = b;
  CU_ASSERT_TRUE_FATAL(pc_h5io_read_buckets(m, all, B16, &s, &bytes, NULL));
  CU_ASSERT_EQUAL_FATAL(s->n_events, n);
  CU_ASSERT_EQUAL(memcmp(s->ev_ts, v, n * 8), 0);
  rm_dir(dir, path);
}

/* A chunk whose bytes are damaged: the read fails naming the dataset. */
static void test_corrupt_chunk(void) {
  char *dir = NULL;
  char *path = write_fixture(&dir);
  hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
  hid_t d = H5Dopen2(f, "events/ts", H5P_DEFAULT);
  hsize_t off = 0;
  haddr_t addr = 0;
  hsize_t size = 0;
  unsigned mask = 0;
  CU_ASSERT_FATAL(H5Dget_chunk_info_by_coord(d, &off, &mask, &addr, &size) >= 0);
  H5Dclose(d);
  H5Fclose(f);
  FILE *fp = fopen(path, "r+b");
  CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
  fseek(fp, (long)(addr + size / 2), SEEK_SET);
  fwrite("\xff\x00\xff\x13\x77\x01", 1, 6, fp);
  fclose(fp);
  g_autoptr(PcShardMeta) m = NULL;
  CU_ASSERT_TRUE_FATAL(pc_h5io_read_meta(path, &m, NULL));
  g_autoptr(PcShardData) s = NULL;
  uint64_t bytes = 0;
  GError *e = NULL;
  uint32_t all[B16];
  for (uint32_t b = 0; b < B16; b++) all[b] = b;
  CU_ASSERT_FALSE(pc_h5io_read_buckets(m, all, B16, &s, &bytes, &e));
  CU_ASSERT_PTR_NOT_NULL_FATAL(e);
  CU_ASSERT_EQUAL(e->code, PC_ERROR_FORMAT);
  CU_ASSERT_PTR_NOT_NULL(strstr(e->message, "cannot read events/ts"));
  CU_ASSERT_PTR_NOT_NULL(strstr(e->message, path));
  g_error_free(e);
  rm_dir(dir, path);
}

PC_TEST_MAIN("h5chunk",
             {"/h5chunk/store_layout", test_store_layout},
             {"/h5chunk/shuffle_deflate_odd_chunks", test_shuffle_deflate_odd_chunks},
             {"/h5chunk/deflate_only", test_deflate_only},
             {"/h5chunk/shuffle_only", test_shuffle_only},
             {"/h5chunk/no_filter", test_no_filter},
             {"/h5chunk/contiguous", test_contiguous},
             {"/h5chunk/fletcher32", test_fletcher32},
             {"/h5chunk/big_endian", test_big_endian},
             {"/h5chunk/chunk_never_written", test_chunk_never_written},
             {"/h5chunk/filters_skipped", test_filters_skipped},
             {"/h5chunk/lz4_chunks", test_lz4_chunks},
             {"/h5chunk/corrupt_chunk", test_corrupt_chunk})
