/* test_batchid.c - the identity of a batch (src/store/batchid.c): an
 * input's content digest and rows (plain and gzip alike), the batch key's
 * exact text, two inputs of one content, and the search of a store's
 * committed batch records (the same key; an events file already there).
 */
#include "pc_batchid.h"
#include "pc_test.h"

#include <glib/gstdio.h>
#include <zlib.h>

/* ---- Helpers ----------------------------------------------------------------- */

static char *tmp_dir(void) {
  char *d = g_dir_make_tmp("pc-test-batchid-XXXXXX", NULL);
  g_assert(d);
  return d;
}

static char *put(const char *dir, const char *name, const char *text, gboolean gz) {
  char *p = g_build_filename(dir, name, NULL);
  if (!gz) {
    g_assert(g_file_set_contents(p, text, -1, NULL));
    return p;
  }
  gzFile f = gzopen(p, "wb");
  g_assert(f);
  if (*text) g_assert(gzwrite(f, text, (unsigned)strlen(text)) > 0);
  gzclose(f);
  return p;
}

static void rm_dir(const char *dir) {
  GDir *d = g_dir_open(dir, 0, NULL);
  for (const char *n; d && (n = g_dir_read_name(d));) {
    g_autofree char *p = g_build_filename(dir, n, NULL);
    g_unlink(p);
  }
  if (d) g_dir_close(d);
  g_rmdir(dir);
}

static PcInputId id_of(const char *hex_char, uint64_t rows) {
  PcInputId id = {{0}, 10, rows, 0};
  memset(id.sha256, hex_char[0], 64);
  return id;
}

/* ---- Inputs ------------------------------------------------------------------- */

/* "h\na\nb" (no final LF): 2 data rows, 5 bytes, the SHA-256 of those
 * bytes; the same content gzip-compressed has the same identity. */
static void test_input_plain_and_gzip(void) {
  g_autofree char *d = tmp_dir();
  g_autofree char *p = put(d, "a.csv", "h\na\nb", FALSE), *z = put(d, "a.csv.gz", "h\na\nb", TRUE);
  g_autofree char *want = g_compute_checksum_for_string(G_CHECKSUM_SHA256, "h\na\nb", -1);
  PcInputId a, b;
  CU_ASSERT_TRUE_FATAL(pc_batchid_input(p, &a, NULL));
  CU_ASSERT_TRUE_FATAL(pc_batchid_input(z, &b, NULL));
  CU_ASSERT_STRING_EQUAL(a.sha256, want);
  CU_ASSERT_EQUAL(a.rows, 2);
  CU_ASSERT_EQUAL(a.bytes, 5);
  CU_ASSERT_STRING_EQUAL(b.sha256, want);
  CU_ASSERT_EQUAL(b.rows, 2);
  g_autofree char *q = put(d, "b.csv", "h\na\n", FALSE), *h = put(d, "h.csv", "h\n", FALSE);
  CU_ASSERT_TRUE(pc_batchid_input(q, &a, NULL));
  CU_ASSERT_EQUAL(a.rows, 1);
  CU_ASSERT_TRUE(pc_batchid_input(h, &a, NULL));
  CU_ASSERT_EQUAL(a.rows, 0);
  rm_dir(d);
}

/* No byte at all, plain or gzip: the same error, PC_ERROR_FORMAT. */
static void test_input_empty(void) {
  g_autofree char *d = tmp_dir();
  g_autofree char *p = put(d, "e.csv", "", FALSE), *z = put(d, "e.csv.gz", "", TRUE);
  const char *files[] = {p, z};
  for (int i = 0; i < 2; i++) {
    PcInputId a;
    GError *e = NULL;
    CU_ASSERT_FALSE(pc_batchid_input(files[i], &a, &e));
    CU_ASSERT_TRUE(g_error_matches(e, PC_ERROR, PC_ERROR_FORMAT));
    g_autofree char *want = g_strdup_printf("%s: empty file: the header line is missing", files[i]);
    CU_ASSERT_STRING_EQUAL(e ? e->message : "", want);
    g_clear_error(&e);
  }
  rm_dir(d);
}

/* ---- The key ------------------------------------------------------------------- */

/* Events digests sorted, then the customers digest, behind B. */
static void test_key_text(void) {
  PcInputId ids[3] = {id_of("b", 1), id_of("a", 1), id_of("c", 1)};
  GString *t = g_string_new("parcours-batch 1\nbuckets 8\nevents ");
  g_string_append_printf(t, "%s\nevents %s\ncustomers %s\n", ids[1].sha256, ids[0].sha256, ids[2].sha256);
  g_autofree char *want = g_compute_checksum_for_string(G_CHECKSUM_SHA256, t->str, -1);
  g_string_free(t, TRUE);
  g_autofree char *k = pc_batchid_key(ids, 2, 3, 8);
  CU_ASSERT_STRING_EQUAL(k, want);
  PcInputId swapped[3] = {ids[1], ids[0], ids[2]};
  g_autofree char *k2 = pc_batchid_key(swapped, 2, 3, 8);
  CU_ASSERT_STRING_EQUAL(k2, want);
  g_autofree char *k3 = pc_batchid_key(ids, 2, 3, 16);
  CU_ASSERT_STRING_NOT_EQUAL(k3, want);
  g_autofree char *k4 = pc_batchid_key(ids, 3, 3, 8); /* c as events, not customers */
  CU_ASSERT_STRING_NOT_EQUAL(k4, want);
}

/* Two inputs of one content with rows: refused naming both; without rows
 * (a header alone): nothing to double. */
static void test_check_inputs(void) {
  g_autoptr(GPtrArray) paths = g_ptr_array_new();
  g_ptr_array_add(paths, "a.csv");
  g_ptr_array_add(paths, "b.csv");
  PcInputId ids[2] = {id_of("a", 3), id_of("a", 3)};
  GError *e = NULL;
  CU_ASSERT_FALSE(pc_batchid_check_inputs(paths, ids, &e));
  CU_ASSERT_TRUE(g_error_matches(e, PC_ERROR, PC_ERROR_CONFIG));
  g_autofree char *want = g_strdup_printf("b.csv has the same content as a.csv (sha256 %s): its rows would be added twice; give it once", ids[0].sha256);
  CU_ASSERT_STRING_EQUAL(e ? e->message : "", want);
  g_clear_error(&e);
  ids[0].rows = ids[1].rows = 0;
  CU_ASSERT_TRUE(pc_batchid_check_inputs(paths, ids, NULL));
}

/* ---- Committed batches ----------------------------------------------------------- */

/* A store of 3 batches: 1 has key K and events "a" (5 rows) and customers
 * "c"; 2 has no record (generated); 3's record is not JSON (a warning,
 * skipped). The same key: committed 1. Another key with customers "c"
 * again: nothing committed, no error. With events "a": refused. */
static void test_find(void) {
  g_autofree char *d = tmp_dir();
  g_autofree char *m = put(d, "MANIFEST", "parcours-store 1\nbuckets 8\nbatches 3\nshard b000001-r00000.h5\n", FALSE);
  PcInputId a = id_of("a", 5), c = id_of("c", 2), n = id_of("e", 4);
  g_autofree char *rec = g_strdup_printf("{\"batch\":1,\"inputs\":[{\"path\":\"jan.csv\",\"kind\":\"events\",\"rows\":5,"
                                         "\"rejected\":0,\"sha256\":\"%s\"},{\"path\":\"crm.csv\",\"kind\":\"customers\","
                                         "\"rows\":2,\"rejected\":0,\"sha256\":\"%s\"}],\"key\":\"K\"}", a.sha256, c.sha256);
  g_autofree char *r1 = put(d, "batch-000001.json", rec, FALSE), *r3 = put(d, "batch-000003.json", "{\"batch\":", FALSE);
  g_autoptr(PcStore) st = NULL;
  CU_ASSERT_TRUE_FATAL(pc_store_open(d, &st, NULL));
  g_autoptr(GPtrArray) paths = g_ptr_array_new();
  g_ptr_array_add(paths, "feb.csv");
  g_ptr_array_add(paths, "crm2.csv");
  PcInputId ids[2] = {n, c};
  guint k = 99;
  CU_ASSERT_TRUE(pc_batchid_find(st, "K", paths, 1, ids, &k, NULL));
  CU_ASSERT_EQUAL(k, 1);
  CU_ASSERT_TRUE(pc_batchid_find(st, "L", paths, 1, ids, &k, NULL));
  CU_ASSERT_EQUAL(k, 0);
  ids[0] = a;
  GError *e = NULL;
  CU_ASSERT_FALSE(pc_batchid_find(st, "L", paths, 1, ids, &k, &e));
  CU_ASSERT_TRUE(g_error_matches(e, PC_ERROR, PC_ERROR_CONFIG));
  g_autofree char *want = g_strdup_printf("feb.csv: its 5 rows are already in batch 1 of %s (as jan.csv, sha256 %s); adding them again would count them twice: nothing was done", d, a.sha256);
  CU_ASSERT_STRING_EQUAL(e ? e->message : "", want);
  g_clear_error(&e);
  rm_dir(d);
}

PC_TEST_MAIN("batchid",
             {"/batchid/input_plain_and_gzip", test_input_plain_and_gzip},
             {"/batchid/input_empty", test_input_empty},
             {"/batchid/key_text", test_key_text},
             {"/batchid/check_inputs", test_check_inputs},
             {"/batchid/find", test_find})
