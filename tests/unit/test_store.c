/* test_store.c - the store directory of src/store.c: MANIFEST parsing and
 * its errors, staging of a new store or an append, commit (MANIFEST text
 * compared whole) and abandon. Everything happens under a g_dir_make_tmp
 * directory that each case removes.
 */
#include "pc_shard.h"
#include "pc_store.h"
#include "pc_storewriter.h"
#include "pc_test.h"

#include <glib/gstdio.h>
#include <unistd.h>

/* ---- Helpers ---------------------------------------------------------------- */

static char *make_tmp_dir(void) {
  char *dir = g_dir_make_tmp("pc-test-store-XXXXXX", NULL);
  g_assert(dir);
  return dir;
}

/* Removes dir and everything under it (two levels are enough here). */
static void rm_tree(const char *dir) {
  GDir *d = g_dir_open(dir, 0, NULL);
  const char *n;
  while (d && (n = g_dir_read_name(d))) {
    g_autofree char *p = g_build_filename(dir, n, NULL);
    if (g_file_test(p, G_FILE_TEST_IS_DIR)) rm_tree(p);
    else g_unlink(p);
  }
  if (d) g_dir_close(d);
  g_rmdir(dir);
}

static void put(const char *dir, const char *name, const char *text) {
  g_autofree char *p = g_build_filename(dir, name, NULL);
  g_assert(g_file_set_contents(p, text, -1, NULL));
}

static gboolean exists(const char *dir, const char *name) {
  g_autofree char *p = g_build_filename(dir, name, NULL);
  return g_file_test(p, G_FILE_TEST_EXISTS);
}

static char *slurp(const char *dir, const char *name) {
  g_autofree char *p = g_build_filename(dir, name, NULL);
  char *text = NULL;
  if (!g_file_get_contents(p, &text, NULL, NULL)) return NULL;
  return text;
}

static guint count_entries(const char *dir) {
  GDir *d = g_dir_open(dir, 0, NULL);
  guint n = 0;
  while (d && g_dir_read_name(d)) n++;
  if (d) g_dir_close(d);
  return n;
}

static GPtrArray *names(const char *a, const char *b) {
  GPtrArray *p = g_ptr_array_new_with_free_func(g_free);
  if (a) g_ptr_array_add(p, g_strdup(a));
  if (b) g_ptr_array_add(p, g_strdup(b));
  return p;
}

/* Opens dir expecting failure with code. */
static void assert_open_fails(const char *dir, int code) {
  PcStore *s = NULL;
  GError *e = NULL;
  CU_ASSERT_FALSE(pc_store_open(dir, &s, &e));
  CU_ASSERT_PTR_NULL(s);
  CU_ASSERT_PTR_NOT_NULL_FATAL(e);
  CU_ASSERT_EQUAL(e->domain, PC_ERROR);
  CU_ASSERT_EQUAL(e->code, code);
  g_error_free(e);
}

/* ---- Opening ---------------------------------------------------------------- */

/* A directory that does not exist, and one without MANIFEST: PC_ERROR_IO. */
static void test_open_missing(void) {
  g_autofree char *tmp = make_tmp_dir();
  g_autofree char *nope = g_build_filename(tmp, "nope", NULL);
  assert_open_fails(nope, PC_ERROR_IO);
  assert_open_fails(tmp, PC_ERROR_IO); /* exists, no MANIFEST */
  rm_tree(tmp);
}

/* First line must be exactly "parcours-store 1": a newer version, another
 * word, or an empty file are PC_ERROR_FORMAT. */
static void test_open_bad_first_line(void) {
  g_autofree char *tmp = make_tmp_dir();
  put(tmp, "MANIFEST", "parcours-store 2\nbuckets 4\nbatches 1\nshard a.h5\n");
  assert_open_fails(tmp, PC_ERROR_FORMAT);
  put(tmp, "MANIFEST", "hello\nbuckets 4\nbatches 1\nshard a.h5\n");
  assert_open_fails(tmp, PC_ERROR_FORMAT);
  put(tmp, "MANIFEST", "");
  assert_open_fails(tmp, PC_ERROR_FORMAT);
  rm_tree(tmp);
}

/* An unknown line, a shard name with '/', buckets 0, no buckets line and
 * no shard line are PC_ERROR_FORMAT. */
static void test_open_bad_body(void) {
  g_autofree char *tmp = make_tmp_dir();
  put(tmp, "MANIFEST", "parcours-store 1\nbuckets 4\nbatches 1\nshard a.h5\nfoo bar\n");
  assert_open_fails(tmp, PC_ERROR_FORMAT);
  put(tmp, "MANIFEST", "parcours-store 1\nbuckets 4\nbatches 1\nshard ../a.h5\n");
  assert_open_fails(tmp, PC_ERROR_FORMAT);
  put(tmp, "MANIFEST", "parcours-store 1\nbuckets 0\nbatches 1\nshard a.h5\n");
  assert_open_fails(tmp, PC_ERROR_FORMAT);
  put(tmp, "MANIFEST", "parcours-store 1\nbatches 1\nshard a.h5\n");
  assert_open_fails(tmp, PC_ERROR_FORMAT);
  put(tmp, "MANIFEST", "parcours-store 1\nbuckets 4\nbatches 1\n");
  assert_open_fails(tmp, PC_ERROR_FORMAT);
  rm_tree(tmp);
}

/* Opens a MANIFEST of text expecting PC_ERROR_FORMAT with message
 * "DIR/MANIFEST" + tail. */
static void assert_manifest_error(const char *text, const char *tail) {
  g_autofree char *tmp = make_tmp_dir();
  put(tmp, "MANIFEST", text);
  PcStore *s = NULL;
  GError *e = NULL;
  CU_ASSERT_FALSE(pc_store_open(tmp, &s, &e));
  CU_ASSERT_TRUE(g_error_matches(e, PC_ERROR, PC_ERROR_FORMAT));
  g_autofree char *want = g_strdup_printf("%s/MANIFEST%s", tmp, tail);
  CU_ASSERT_STRING_EQUAL(e ? e->message : "", want);
  g_clear_error(&e);
  rm_tree(tmp);
}

/* The class "a MANIFEST that would make a reader count rows twice or a
 * writer overwrite a shard": each case named with its line. */
static void test_open_manifest_rules(void) {
  assert_manifest_error("parcours-store 1\nbuckets 4\nbatches 1\nshard a.h5\nshard b.h5\nshard a.h5\n",
                        ":6: shard a.h5 is listed twice (first at line 4): its rows would be counted twice");
  assert_manifest_error("parcours-store 1\nbuckets 4\nshard a.h5\n", ": no batches line");
  assert_manifest_error("parcours-store 1\nbuckets 4\nbatches 1\nbuckets 4\nshard a.h5\n", ":4: a second buckets line");
  assert_manifest_error("parcours-store 1\nbuckets 4\nbatches 1\nbatches 2\nshard a.h5\n", ":4: a second batches line");
  assert_manifest_error("parcours-store 1\nbuckets 2000000\nbatches 1\nshard a.h5\n", ":2: buckets must be 1..1048576, not \"2000000\"");
  assert_manifest_error("parcours-store 1\nbuckets 4\nbatches 0\nshard a.h5\n", ":3: batches must be 1..4294967295, not \"0\"");
  assert_manifest_error("parcours-store 1\nbuckets 4\nbatches 1\nshard ..\n", ":4: unexpected line \"shard ..\"");
  assert_manifest_error("parcours-store 1\nbuckets 4\nbatches 1\nshard b000001-r00000.h5\nshard b000002-r00000.h5\n",
                        ": shard b000002-r00000.h5 is of batch 2, but the MANIFEST counts 1 batches");
}

/* A good MANIFEST: buckets 16, batches 2, shards in manifest order, full
 * paths STORE/FILE; an empty line is allowed. */
static void test_open_ok(void) {
  g_autofree char *tmp = make_tmp_dir();
  put(tmp, "MANIFEST",
      "parcours-store 1\nbuckets 16\nbatches 2\nshard b000001-r00000.h5\n\n"
      "shard b000002-r00000.h5\n");
  g_autoptr(PcStore) s = NULL;
  GError *e = NULL;
  CU_ASSERT_TRUE_FATAL(pc_store_open(tmp, &s, &e));
  CU_ASSERT_PTR_NULL(e);
  CU_ASSERT_STRING_EQUAL(s->dir, tmp);
  CU_ASSERT_EQUAL(s->buckets, 16);
  CU_ASSERT_EQUAL(s->batches, 2);
  CU_ASSERT_EQUAL_FATAL(s->files->len, 2);
  CU_ASSERT_EQUAL_FATAL(s->shards->len, 2);
  CU_ASSERT_STRING_EQUAL(g_ptr_array_index(s->files, 0), "b000001-r00000.h5");
  CU_ASSERT_STRING_EQUAL(g_ptr_array_index(s->files, 1), "b000002-r00000.h5");
  g_autofree char *p1 = g_build_filename(tmp, "b000002-r00000.h5", NULL);
  CU_ASSERT_STRING_EQUAL(g_ptr_array_index(s->shards, 1), p1);
  rm_tree(tmp);
}

/* ---- Names and staging -------------------------------------------------------- */

/* b + 6-digit batch, r + 5-digit rank. */
static void test_shard_name(void) {
  g_autofree char *a = pc_store_shard_name(1, 0);
  g_autofree char *b = pc_store_shard_name(3, 12);
  g_autofree char *c = pc_store_shard_name(123456, 99999);
  CU_ASSERT_STRING_EQUAL(a, "b000001-r00000.h5");
  CU_ASSERT_STRING_EQUAL(b, "b000003-r00012.h5");
  CU_ASSERT_STRING_EQUAL(c, "b123456-r99999.h5");
}

/* A writer, expected to open. */
static PcStoreWriter *writer(const char *dir, gboolean append) {
  PcStoreWriter *w = NULL;
  GError *e = NULL;
  CU_ASSERT_TRUE(pc_storewriter_open(dir, append, 0, &w, &e));
  CU_ASSERT_PTR_NULL(e);
  g_clear_error(&e);
  return w;
}

/* New store: nothing until stage, then STORE.tmp-PID, STORE not yet. */
static void test_staging_new(void) {
  g_autofree char *tmp = make_tmp_dir();
  g_autofree char *store = g_build_filename(tmp, "store", NULL);
  g_autoptr(PcStoreWriter) w = writer(store, FALSE);
  CU_ASSERT_PTR_NOT_NULL_FATAL(w);
  CU_ASSERT_EQUAL(count_entries(tmp), 0);
  CU_ASSERT_PTR_NULL(pc_storewriter_store(w));
  CU_ASSERT_EQUAL(pc_storewriter_batch(w), 1);
  GError *e = NULL;
  CU_ASSERT_TRUE_FATAL(pc_storewriter_stage(w, &e));
  g_autofree char *want = g_strdup_printf("%s.tmp-%d", store, (int)getpid());
  CU_ASSERT_STRING_EQUAL(pc_storewriter_staging(w), want);
  CU_ASSERT_TRUE(g_file_test(want, G_FILE_TEST_IS_DIR));
  CU_ASSERT_FALSE(g_file_test(store, G_FILE_TEST_EXISTS));
  rm_tree(tmp);
}

/* New store over an existing path (a directory, a dangling link):
 * PC_ERROR_EXISTS, nothing created. Append: the store itself is the
 * staging directory, batch = batches + 1, and STORE/LOCK exists. */
static void test_staging_exists_and_append(void) {
  g_autofree char *tmp = make_tmp_dir();
  GError *e = NULL;
  PcStoreWriter *w = NULL;
  CU_ASSERT_FALSE(pc_storewriter_open(tmp, FALSE, 0, &w, &e));
  CU_ASSERT_PTR_NULL(w);
  CU_ASSERT_TRUE(g_error_matches(e, PC_ERROR, PC_ERROR_EXISTS));
  g_clear_error(&e);
  g_autofree char *link = g_build_filename(tmp, "dangling", NULL);
  g_assert(symlink("/nonexistent/x", link) == 0);
  CU_ASSERT_FALSE(pc_storewriter_open(link, FALSE, 0, &w, &e));
  CU_ASSERT_TRUE(g_error_matches(e, PC_ERROR, PC_ERROR_EXISTS));
  g_clear_error(&e);
  g_unlink(link);
  CU_ASSERT_EQUAL(count_entries(tmp), 0);
  put(tmp, "MANIFEST", "parcours-store 1\nbuckets 8\nbatches 3\nshard b000001-r00000.h5\n");
  g_autoptr(PcStoreWriter) a = writer(tmp, TRUE);
  CU_ASSERT_PTR_NOT_NULL_FATAL(a);
  CU_ASSERT_EQUAL(pc_storewriter_batch(a), 4);
  CU_ASSERT_TRUE_FATAL(pc_storewriter_stage(a, NULL));
  CU_ASSERT_STRING_EQUAL(pc_storewriter_staging(a), tmp);
  CU_ASSERT_TRUE(exists(tmp, "LOCK"));
  rm_tree(tmp);
}

/* Append to a directory that is not a store: the error of pc_store_open,
 * and no LOCK file is created there. */
static void test_append_not_a_store(void) {
  g_autofree char *tmp = make_tmp_dir();
  PcStoreWriter *w = NULL;
  GError *e = NULL;
  CU_ASSERT_FALSE(pc_storewriter_open(tmp, TRUE, 0, &w, &e));
  CU_ASSERT_TRUE(g_error_matches(e, PC_ERROR, PC_ERROR_IO));
  g_clear_error(&e);
  CU_ASSERT_EQUAL(count_entries(tmp), 0);
  rm_tree(tmp);
}

/* Two appenders: the second fails at once with PC_ERROR_BUSY naming the
 * holder's PID and the lock; with a wait it still fails while the first
 * holds the lock; once the first is freed it opens. */
static void test_lock_busy(void) {
  g_autofree char *tmp = make_tmp_dir();
  put(tmp, "MANIFEST", "parcours-store 1\nbuckets 8\nbatches 1\nshard b000001-r00000.h5\n");
  PcStoreWriter *first = writer(tmp, TRUE);
  CU_ASSERT_PTR_NOT_NULL_FATAL(first);
  PcStoreWriter *w = NULL;
  GError *e = NULL;
  CU_ASSERT_FALSE(pc_storewriter_open(tmp, TRUE, 0, &w, &e));
  CU_ASSERT_TRUE(g_error_matches(e, PC_ERROR, PC_ERROR_BUSY));
  char host[256] = "unknown";
  gethostname(host, sizeof host - 1);
  g_autofree char *want = g_strdup_printf("%s: another parcours command (PID %d on host %s) is writing this store (it holds %s/LOCK); nothing was done: run again when it has finished, or pass --lock-timeout SECONDS to wait for it", tmp, (int)getpid(), host, tmp);
  CU_ASSERT_STRING_EQUAL(e ? e->message : "", want);
  g_clear_error(&e);
  gint64 t0 = g_get_monotonic_time();
  CU_ASSERT_FALSE(pc_storewriter_open(tmp, TRUE, 0.3, &w, &e));
  CU_ASSERT_TRUE(g_get_monotonic_time() - t0 >= 300000);
  CU_ASSERT_TRUE(g_error_matches(e, PC_ERROR, PC_ERROR_BUSY));
  g_clear_error(&e);
  pc_storewriter_free(first);
  CU_ASSERT_TRUE(pc_storewriter_open(tmp, TRUE, 0, &w, &e));
  pc_storewriter_free(w);
  rm_tree(tmp);
}

/* What a dead append left (shards, record and rejects of batch 2, which
 * the MANIFEST does not count, and MANIFEST.tmp) goes when the next
 * writer holds the lock; batch 1's files and other files stay. */
static void test_leftovers_removed(void) {
  g_autofree char *tmp = make_tmp_dir();
  put(tmp, "MANIFEST", "parcours-store 1\nbuckets 8\nbatches 1\nshard b000001-r00000.h5\n");
  const char *keep[] = {"b000001-r00000.h5", "batch-000001.json", "rejects-b000001.tsv", "truth.json", "notes.txt"};
  const char *gone[] = {"b000002-r00000.h5", "b000002-r00007.h5", "batch-000002.json", "rejects-b000002.tsv", "MANIFEST.tmp"};
  for (guint i = 0; i < G_N_ELEMENTS(keep); i++) put(tmp, keep[i], "k");
  for (guint i = 0; i < G_N_ELEMENTS(gone); i++) put(tmp, gone[i], "g");
  g_autoptr(PcStoreWriter) w = writer(tmp, TRUE);
  for (guint i = 0; i < G_N_ELEMENTS(keep); i++) CU_ASSERT_TRUE(exists(tmp, keep[i]));
  for (guint i = 0; i < G_N_ELEMENTS(gone); i++) CU_ASSERT_FALSE(exists(tmp, gone[i]));
  rm_tree(tmp);
}

/* ---- Commit ------------------------------------------------------------------- */

/* A new store: staging renamed to STORE, MANIFEST exactly
 *   parcours-store 1 / buckets 8 / batches 1 / two shard lines,
 * no MANIFEST.tmp left, and it opens. */
static void test_commit_new(void) {
  g_autofree char *tmp = make_tmp_dir();
  g_autofree char *store = g_build_filename(tmp, "store", NULL);
  g_autoptr(PcStoreWriter) w = writer(store, FALSE);
  CU_ASSERT_TRUE_FATAL(pc_storewriter_stage(w, NULL));
  const char *st = pc_storewriter_staging(w);
  put(st, "b000001-r00000.h5", "x");
  put(st, "b000001-r00001.h5", "y");
  g_autoptr(GPtrArray) files = names("b000001-r00000.h5", "b000001-r00001.h5");
  GError *e = NULL;
  CU_ASSERT_TRUE_FATAL(pc_storewriter_commit(w, 8, files, &e));
  CU_ASSERT_PTR_NULL(e);
  CU_ASSERT_FALSE(g_file_test(st, G_FILE_TEST_EXISTS));
  g_autofree char *m = slurp(store, "MANIFEST");
  CU_ASSERT_PTR_NOT_NULL_FATAL(m);
  CU_ASSERT_STRING_EQUAL(m, "parcours-store 1\nbuckets 8\nbatches 1\n"
                            "shard b000001-r00000.h5\n"
                            "shard b000001-r00001.h5\n");
  CU_ASSERT_FALSE(exists(store, "MANIFEST.tmp"));
  CU_ASSERT_EQUAL(count_entries(store), 3); /* MANIFEST + 2 shards */
  g_autoptr(PcStore) s = NULL;
  CU_ASSERT_TRUE(pc_store_open(store, &s, NULL));
  rm_tree(tmp);
}

/* Another command created STORE (even an empty directory) while this one
 * ran: the commit fails with PC_ERROR_EXISTS and replaces nothing. */
static void test_commit_new_raced(void) {
  g_autofree char *tmp = make_tmp_dir();
  g_autofree char *store = g_build_filename(tmp, "store", NULL);
  g_autoptr(PcStoreWriter) w = writer(store, FALSE);
  CU_ASSERT_TRUE_FATAL(pc_storewriter_stage(w, NULL));
  put(pc_storewriter_staging(w), "b000001-r00000.h5", "x");
  g_assert(g_mkdir(store, 0755) == 0);
  g_autoptr(GPtrArray) files = names("b000001-r00000.h5", NULL);
  GError *e = NULL;
  CU_ASSERT_FALSE(pc_storewriter_commit(w, 8, files, &e));
  CU_ASSERT_TRUE(g_error_matches(e, PC_ERROR, PC_ERROR_EXISTS));
  g_autofree char *want = g_strdup_printf("%s: already exists: another command created it while this one ran; nothing was written (remove it, or use --append)", store);
  CU_ASSERT_STRING_EQUAL(e ? e->message : "", want);
  g_clear_error(&e);
  CU_ASSERT_EQUAL(count_entries(store), 0);
  pc_storewriter_abandon(w, files);
  CU_ASSERT_EQUAL(count_entries(tmp), 1); /* only the other's STORE */
  rm_tree(tmp);
}

/* Append to a store of batch 1 (two shards): MANIFEST lists the old shards
 * first, then the new one, batches 1 -> 2; reopened: 3 shards. */
static void test_commit_append(void) {
  g_autofree char *tmp = make_tmp_dir();
  put(tmp, "MANIFEST", "parcours-store 1\nbuckets 8\nbatches 1\n"
                       "shard b000001-r00000.h5\nshard b000001-r00001.h5\n");
  g_autoptr(PcStoreWriter) w = writer(tmp, TRUE);
  CU_ASSERT_TRUE_FATAL(pc_storewriter_stage(w, NULL));
  put(tmp, "b000002-r00000.h5", "z");
  g_autoptr(GPtrArray) files = names("b000002-r00000.h5", NULL);
  GError *e = NULL;
  CU_ASSERT_TRUE_FATAL(pc_storewriter_commit(w, 8, files, &e));
  g_autofree char *m = slurp(tmp, "MANIFEST");
  CU_ASSERT_PTR_NOT_NULL_FATAL(m);
  CU_ASSERT_STRING_EQUAL(m, "parcours-store 1\nbuckets 8\nbatches 2\n"
                            "shard b000001-r00000.h5\n"
                            "shard b000001-r00001.h5\n"
                            "shard b000002-r00000.h5\n");
  CU_ASSERT_FALSE(exists(tmp, "MANIFEST.tmp"));
  g_autoptr(PcStore) now = NULL;
  CU_ASSERT_TRUE_FATAL(pc_store_open(tmp, &now, NULL));
  CU_ASSERT_EQUAL(now->batches, 2);
  CU_ASSERT_EQUAL(now->shards->len, 3);
  rm_tree(tmp);
}

/* A staging directory that vanished: the MANIFEST cannot be written,
 * PC_ERROR_IO, and STORE is not created. */
static void test_commit_fails(void) {
  g_autofree char *tmp = make_tmp_dir();
  g_autofree char *store = g_build_filename(tmp, "store", NULL);
  g_autoptr(PcStoreWriter) w = writer(store, FALSE);
  CU_ASSERT_TRUE_FATAL(pc_storewriter_stage(w, NULL));
  g_rmdir(pc_storewriter_staging(w));
  g_autoptr(GPtrArray) files = names("b000001-r00000.h5", NULL);
  GError *e = NULL;
  CU_ASSERT_FALSE(pc_storewriter_commit(w, 8, files, &e));
  CU_ASSERT_PTR_NOT_NULL_FATAL(e);
  CU_ASSERT_EQUAL(e->domain, PC_ERROR);
  CU_ASSERT_EQUAL(e->code, PC_ERROR_IO);
  g_error_free(e);
  CU_ASSERT_FALSE(g_file_test(store, G_FILE_TEST_EXISTS));
  rm_tree(tmp);
}

/* ---- Abandon ------------------------------------------------------------------ */

/* A failed new store: its shards, MANIFEST and staging directory go. */
static void test_abandon_new(void) {
  g_autofree char *tmp = make_tmp_dir();
  g_autofree char *store = g_build_filename(tmp, "store", NULL);
  g_autoptr(PcStoreWriter) w = writer(store, FALSE);
  CU_ASSERT_TRUE_FATAL(pc_storewriter_stage(w, NULL));
  const char *st = pc_storewriter_staging(w);
  put(st, "b000001-r00000.h5", "x");
  put(st, "b000001-r00001.h5", "y");
  put(st, "MANIFEST", "parcours-store 1\n");
  g_autoptr(GPtrArray) files = names("b000001-r00000.h5", "b000001-r00001.h5");
  pc_storewriter_abandon(w, files);
  CU_ASSERT_FALSE(g_file_test(st, G_FILE_TEST_EXISTS));
  CU_ASSERT_FALSE(g_file_test(store, G_FILE_TEST_EXISTS));
  CU_ASSERT_EQUAL(count_entries(tmp), 0);
  rm_tree(tmp);
}

/* A failed append: only the new batch's files go; MANIFEST, LOCK and the
 * old shard stay, and the store still opens as before (batches 1). */
static void test_abandon_append(void) {
  g_autofree char *tmp = make_tmp_dir();
  put(tmp, "MANIFEST", "parcours-store 1\nbuckets 8\nbatches 1\n"
                       "shard b000001-r00000.h5\n");
  put(tmp, "b000001-r00000.h5", "old");
  g_autoptr(PcStoreWriter) w = writer(tmp, TRUE);
  CU_ASSERT_TRUE_FATAL(pc_storewriter_stage(w, NULL));
  put(tmp, "b000002-r00000.h5", "new");
  put(tmp, "b000002-r00001.h5", "new");
  g_autoptr(GPtrArray) files = names("b000002-r00000.h5", "b000002-r00001.h5");
  pc_storewriter_abandon(w, files);
  CU_ASSERT_TRUE(exists(tmp, "MANIFEST"));
  CU_ASSERT_TRUE(exists(tmp, "b000001-r00000.h5"));
  CU_ASSERT_FALSE(exists(tmp, "b000002-r00000.h5"));
  CU_ASSERT_FALSE(exists(tmp, "b000002-r00001.h5"));
  CU_ASSERT_EQUAL(count_entries(tmp), 3);
  g_autoptr(PcStore) s = NULL;
  CU_ASSERT_TRUE_FATAL(pc_store_open(tmp, &s, NULL));
  CU_ASSERT_EQUAL(s->batches, 1);
  rm_tree(tmp);
}

/* Abandon with no file list (failure before any shard) still removes a new
 * store's empty staging directory. */
static void test_abandon_no_files(void) {
  g_autofree char *tmp = make_tmp_dir();
  g_autofree char *store = g_build_filename(tmp, "store", NULL);
  g_autoptr(PcStoreWriter) w = writer(store, FALSE);
  CU_ASSERT_TRUE_FATAL(pc_storewriter_stage(w, NULL));
  pc_storewriter_abandon(w, NULL);
  CU_ASSERT_FALSE(g_file_test(pc_storewriter_staging(w), G_FILE_TEST_EXISTS));
  rm_tree(tmp);
}

/* Which names are files of a batch, and of which. */
static void test_name_batch(void) {
  guint b = 0;
  CU_ASSERT_TRUE(pc_store_name_batch("b000012-r00003.h5", &b));
  CU_ASSERT_EQUAL(b, 12);
  CU_ASSERT_TRUE(pc_store_name_batch("batch-000007.json", &b));
  CU_ASSERT_EQUAL(b, 7);
  CU_ASSERT_TRUE(pc_store_name_batch("rejects-b000009.tsv", &b));
  CU_ASSERT_EQUAL(b, 9);
  const char *no[] = {"MANIFEST", "LOCK", "truth.json", "b00001-r00003.h5", "b000012-r0003.h5",
                      "b000012-r00003.h5x", "batch-00007.json", "batch-000007.json.tmp", "xb000012-r00003.h5"};
  for (guint i = 0; i < G_N_ELEMENTS(no); i++) CU_ASSERT_FALSE(pc_store_name_batch(no[i], &b));
}

/* ---- File names ------------------------------------------------------------------ */

static void test_file_names(void) {
  g_autofree char *b = pc_store_file_name(PC_STORE_FILE_BATCH_RECORD, 12);
  g_autofree char *r = pc_store_file_name(PC_STORE_FILE_REJECTS, 1);
  g_autofree char *t = pc_store_file_name(PC_STORE_FILE_TRUTH, 7);
  g_autofree char *p = pc_store_file_path("st", PC_STORE_FILE_REJECTS, 3);
  CU_ASSERT_STRING_EQUAL(b, "batch-000012.json");
  CU_ASSERT_STRING_EQUAL(r, "rejects-b000001.tsv");
  CU_ASSERT_STRING_EQUAL(t, "truth.json");
  CU_ASSERT_STRING_EQUAL(p, "st/rejects-b000003.tsv");
}

/* ---- Opening with the shards' metadata ------------------------------------------- */

/* A shard of B buckets with events of customers "a" and "b" (crm: with a
 * customers-table row for "a") at dir/name. */
static void put_shard(const char *dir, const char *name, uint64_t B,
                      gboolean crm) {
  g_autoptr(PcShardBuilder) b = pc_shard_builder_new(B);
  pc_shard_builder_add_event(b, "a", 1, 10, "web", 3, "visit", 5, 0);
  pc_shard_builder_add_event(b, "b", 1, 20, "app", 3, "buy", 3, 1000000);
  if (crm) pc_shard_builder_add_customer(b, "a", 1, 5000000, "gold", 4);
  g_autoptr(PcShardData) s = pc_shard_builder_finish(g_steal_pointer(&b));
  g_autofree char *path = g_build_filename(dir, name, NULL);
  g_assert(pc_h5io_write_shard(path, s, NULL, NULL));
}

/* Two shards of 4 buckets listed by a MANIFEST of 4: everything in order. */
static void test_open_meta_ok(void) {
  g_autofree char *dir = make_tmp_dir();
  put_shard(dir, "b000001-r00000.h5", 4, FALSE);
  put_shard(dir, "b000002-r00000.h5", 4, TRUE);
  put(dir, "MANIFEST", "parcours-store 1\nbuckets 4\nbatches 2\nshard b000001-r00000.h5\nshard b000002-r00000.h5\n");
  g_autoptr(PcStoreMeta) m = NULL;
  GError *e = NULL;
  CU_ASSERT_TRUE_FATAL(pc_store_open_meta(dir, &m, &e));
  CU_ASSERT_PTR_NULL(e);
  CU_ASSERT_EQUAL(m->n, 2);
  CU_ASSERT_EQUAL(m->buckets, 4);
  CU_ASSERT_TRUE(m->has_crm);
  CU_ASSERT_EQUAL(m->store->batches, 2);
  CU_ASSERT_EQUAL(m->paths->len, 2);
  CU_ASSERT_STRING_EQUAL(m->meta[1]->path, g_ptr_array_index(m->paths, 1));
  CU_ASSERT_TRUE(g_str_has_suffix(g_ptr_array_index(m->paths, 1), "b000002-r00000.h5"));
  CU_ASSERT_EQUAL(m->meta[0]->n_events, 2);
  CU_ASSERT_EQUAL(m->meta[1]->n_crm, 1);
  rm_tree(dir);
}

/* The second shard has 8 buckets, the MANIFEST says 4: the error names it. */
static void test_open_meta_buckets_disagree(void) {
  g_autofree char *dir = make_tmp_dir();
  put_shard(dir, "b000001-r00000.h5", 4, FALSE);
  put_shard(dir, "b000001-r00001.h5", 8, FALSE);
  put(dir, "MANIFEST", "parcours-store 1\nbuckets 4\nbatches 1\nshard b000001-r00000.h5\nshard b000001-r00001.h5\n");
  PcStoreMeta *m = NULL;
  GError *e = NULL;
  CU_ASSERT_FALSE(pc_store_open_meta(dir, &m, &e));
  CU_ASSERT_PTR_NULL(m);
  CU_ASSERT_PTR_NOT_NULL_FATAL(e);
  CU_ASSERT_EQUAL(e->code, PC_ERROR_FORMAT);
  g_autofree char *want = g_strdup_printf("%s/b000001-r00001.h5: 8 buckets, the MANIFEST says 4", dir);
  CU_ASSERT_STRING_EQUAL(e->message, want);
  g_error_free(e);
  rm_tree(dir);
}

/* From a list of paths without MANIFEST: B from the first shard; a shard
 * that disagrees is named with the first; an empty list and a missing
 * shard fail. */
static void test_open_meta_paths(void) {
  g_autofree char *dir = make_tmp_dir();
  put_shard(dir, "s0.h5", 4, FALSE);
  put_shard(dir, "s1.h5", 2, FALSE);
  g_autofree char *p0 = g_build_filename(dir, "s0.h5", NULL);
  g_autofree char *p1 = g_build_filename(dir, "s1.h5", NULL);
  g_autoptr(GPtrArray) one = names(p0, NULL), two = names(p0, p1), none = names(NULL, NULL);
  g_autoptr(PcStoreMeta) m = NULL;
  CU_ASSERT_TRUE_FATAL(pc_store_open_meta_paths(dir, one, 0, &m, NULL));
  CU_ASSERT_PTR_NULL(m->store);
  CU_ASSERT_EQUAL(m->buckets, 4);
  CU_ASSERT_FALSE(m->has_crm);
  GError *e = NULL;
  PcStoreMeta *bad = NULL;
  CU_ASSERT_FALSE(pc_store_open_meta_paths(dir, two, 0, &bad, &e));
  CU_ASSERT_PTR_NOT_NULL_FATAL(e);
  g_autofree char *want = g_strdup_printf("%s: 2 buckets, but %s has 4", p1, p0);
  CU_ASSERT_STRING_EQUAL(e->message, want);
  g_clear_error(&e);
  CU_ASSERT_FALSE(pc_store_open_meta_paths(dir, none, 0, &bad, &e));
  CU_ASSERT_EQUAL(e->code, PC_ERROR_FORMAT);
  g_clear_error(&e);
  g_autofree char *gone = g_build_filename(dir, "gone.h5", NULL);
  g_autoptr(GPtrArray) missing = names(p0, gone);
  CU_ASSERT_FALSE(pc_store_open_meta_paths(dir, missing, 4, &bad, &e));
  CU_ASSERT_EQUAL(e->code, PC_ERROR_IO);
  g_clear_error(&e);
  CU_ASSERT_PTR_NULL(bad);
  rm_tree(dir);
}

PC_TEST_MAIN("store",
             {"/store/open_missing", test_open_missing},
             {"/store/open_bad_first_line", test_open_bad_first_line},
             {"/store/open_bad_body", test_open_bad_body},
             {"/store/open_ok", test_open_ok},
             {"/store/open_manifest_rules", test_open_manifest_rules},
             {"/store/name_batch", test_name_batch},
             {"/store/append_not_a_store", test_append_not_a_store},
             {"/store/lock_busy", test_lock_busy},
             {"/store/leftovers_removed", test_leftovers_removed},
             {"/store/commit_new_raced", test_commit_new_raced},
             {"/store/shard_name", test_shard_name},
             {"/store/staging_new", test_staging_new},
             {"/store/staging_exists_and_append", test_staging_exists_and_append},
             {"/store/commit_new", test_commit_new},
             {"/store/commit_append", test_commit_append},
             {"/store/commit_fails", test_commit_fails},
             {"/store/abandon_new", test_abandon_new},
             {"/store/abandon_append", test_abandon_append},
             {"/store/abandon_no_files", test_abandon_no_files},
             {"/store/file_names", test_file_names},
             {"/store/open_meta_ok", test_open_meta_ok},
             {"/store/open_meta_buckets_disagree", test_open_meta_buckets_disagree},
             {"/store/open_meta_paths", test_open_meta_paths})
