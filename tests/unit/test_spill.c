/* test_spill.c - CUnit cases for spilling (pc_spill.h, pc_seqspill.h, the
 * spilled percentile store): the directory made on first use and removed
 * with everything in it, files written and read back byte for byte, the
 * pool's verdicts, the space check and the first error kept; a sequence
 * table spilled in runs and read back partition by partition equals the
 * table counted in memory, entry for entry, for 1, 4 and 1024 partitions;
 * percentiles of a store that spilled (sealed into a file or read back
 * into memory) equal those of the store in memory, on 1..3 fake ranks. */
#include "pc_fakeworld.h"
#include "pc_quantile.h"
#include "pc_seqspill.h"
#include "pc_test.h"

#include <glib/gstdio.h>

/* An empty temporary directory to spill under; caller removes it. */
static char *tmp_parent(void) {
  char *d = g_dir_make_tmp("pc-spill-test-XXXXXX", NULL);
  CU_ASSERT_PTR_NOT_NULL_FATAL(d);
  return d;
}

/* Entries directly under dir. */
static guint entries_in(const char *dir) {
  GDir *d = g_dir_open(dir, 0, NULL);
  guint n = 0;
  while (d && g_dir_read_name(d)) n++;
  if (d) g_dir_close(d);
  return n;
}

/* ---- the facility ------------------------------------------------------------ */

/* Nothing on disk before the first file; bytes written in small and large
 * pieces read back at any offset; the figures count them; free removes the
 * directory and its files. */
static void test_files(void) {
  g_autofree char *parent = tmp_parent();
  PcSpill *sp = pc_spill_new(parent, 3, (PcSpillBudget){1000, 0}, NULL);
  CU_ASSERT_EQUAL(entries_in(parent), 0);
  GError *e = NULL;
  PcSpillFile *f = pc_spill_file_new(sp, "t", 10, &e);
  CU_ASSERT_PTR_NOT_NULL_FATAL(f);
  CU_ASSERT_EQUAL(entries_in(parent), 1); /* parcours-spill-r3-XXXXXX */
  size_t big = 300 << 10; /* larger than the write buffer */
  g_autofree guint8 *data = g_malloc(big + 7);
  for (size_t i = 0; i < big + 7; i++) data[i] = (guint8)(i * 31 + 7);
  CU_ASSERT(pc_spill_file_write(f, data, 7, &e));
  CU_ASSERT(pc_spill_file_write(f, data + 7, big, &e));
  CU_ASSERT(pc_spill_file_finish(f, &e));
  CU_ASSERT_EQUAL(pc_spill_file_size(f), big + 7);
  CU_ASSERT_EQUAL(pc_spill_bytes(sp), big + 7);
  CU_ASSERT_EQUAL(pc_spill_runs(sp), 1);
  guint8 back[100];
  CU_ASSERT(pc_spill_file_read(f, 5, back, 100, &e));
  CU_ASSERT(memcmp(back, data + 5, 100) == 0);
  CU_ASSERT(pc_spill_file_read(f, big - 93, back, 100, &e));
  CU_ASSERT(memcmp(back, data + big - 93, 100) == 0);
  CU_ASSERT_PTR_NULL(e);
  pc_spill_file_free(f);
  PcSpillFile *left = pc_spill_file_new(sp, "u", 1, &e);
  CU_ASSERT_PTR_NOT_NULL(left);
  pc_spill_free(sp); /* removes the file left in the directory */
  CU_ASSERT_EQUAL(entries_in(parent), 0);
  pc_spill_file_free(left);
  g_rmdir(parent);
}

/* Over the pool, a table holding at least the average share spills, a
 * smaller one does not; below the pool nothing does. */
static void test_pool(void) {
  PcSpill *sp = pc_spill_new("/nonexistent", 0, (PcSpillBudget){64 << 10, 0}, NULL);
  size_t a = 0, b = 0, c = 0;
  pc_spill_account(sp, &a, 40 << 10);
  pc_spill_account(sp, &b, 20 << 10);
  CU_ASSERT_FALSE(pc_spill_due(sp, 40 << 10)); /* 60 KiB of 64 */
  pc_spill_account(sp, &b, 30 << 10);
  pc_spill_account(sp, &c, 10 << 10);
  CU_ASSERT_EQUAL(b, 30 << 10);
  CU_ASSERT_TRUE(pc_spill_due(sp, 40 << 10)); /* 80 KiB, average 26.7 */
  CU_ASSERT_TRUE(pc_spill_due(sp, 30 << 10));
  CU_ASSERT_FALSE(pc_spill_due(sp, 10 << 10));
  pc_spill_account(sp, &a, 0);
  CU_ASSERT_FALSE(pc_spill_due(sp, 30 << 10)); /* 40 KiB */
  CU_ASSERT_FALSE(pc_spill_due(NULL, 1 << 30));
  pc_spill_account(sp, &b, 0);
  pc_spill_account(sp, &c, 0);
  pc_spill_free(sp);
  PcSpill *none = pc_spill_new(NULL, 0, (PcSpillBudget){0, 0}, NULL);
  size_t x = 0;
  pc_spill_account(none, &x, 1 << 30);
  CU_ASSERT_FALSE(pc_spill_due(none, 1 << 30)); /* pool 0: never */
  pc_spill_account(none, &x, 0);
  pc_spill_free(none);
}

/* Not enough space: PC_ERROR_IO naming the directory; the first error is
 * the one kept. */
static void test_space_and_errors(void) {
  g_autofree char *parent = tmp_parent();
  PcSpill *sp = pc_spill_new(parent, 1, (PcSpillBudget){1, 0}, NULL);
  GError *e = NULL;
  CU_ASSERT_FALSE(pc_spill_check_space(sp, UINT64_MAX / 2, &e));
  CU_ASSERT(g_error_matches(e, PC_ERROR, PC_ERROR_IO));
  CU_ASSERT_PTR_NOT_NULL(e && strstr(e->message, parent));
  g_clear_error(&e);
  CU_ASSERT_PTR_NULL(pc_spill_file_new(sp, "t", UINT64_MAX / 2, &e));
  CU_ASSERT(g_error_matches(e, PC_ERROR, PC_ERROR_IO));
  CU_ASSERT_PTR_NOT_NULL(e && strstr(e->message, "parcours-spill-r1-"));
  CU_ASSERT_TRUE(pc_spill_check(sp, NULL));
  pc_spill_fail(sp, e);
  pc_spill_fail(sp, g_error_new_literal(PC_ERROR, PC_ERROR_IO, "second"));
  CU_ASSERT_TRUE(pc_spill_failed(sp));
  GError *got = NULL;
  CU_ASSERT_FALSE(pc_spill_check(sp, &got));
  CU_ASSERT_PTR_NOT_NULL(got && strstr(got->message, "no space left on device for a spill"));
  g_clear_error(&got);
  pc_spill_free(sp);
  CU_ASSERT_EQUAL(entries_in(parent), 0);
  g_rmdir(parent);
}

/* ---- sequence tables ----------------------------------------------------------- */

/* Key i: tokens of length 1 + i % 5 from a hash of i; counters (1, i). */
static void add_keys(PcSeqTab *t, PcSeqTab *ref, guint from, guint to) {
  for (guint i = from; i < to; i++) {
    uint32_t seq[5];
    size_t len = 1 + (i % 97) % 5;
    for (size_t k = 0; k < len; k++) seq[k] = (uint32_t)((i % 97) * 7 + k * 3);
    int64_t *c = pc_seqtab_upsert(t, seq, len), *r = pc_seqtab_upsert(ref, seq, len);
    c[0] += 1, c[1] += i;
    r[0] += 1, r[1] += i;
  }
}

/* a and b hold the same keys with the same counters. */
static void assert_same(const PcSeqTab *a, const PcSeqTab *b) {
  CU_ASSERT_EQUAL_FATAL(pc_seqtab_size(a), pc_seqtab_size(b));
  size_t n;
  g_autofree PcSeqEntry *v = pc_seqtab_entries(a, &n);
  for (size_t i = 0; i < n; i++) {
    const int64_t *c = pc_seqtab_lookup(b, v[i].seq, v[i].len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT(c[0] == v[i].c[0] && c[1] == v[i].c[1]);
  }
}

/* Two runs (overlapping keys), an absorbed instance's run and a rest in
 * memory: partitions of runs + memory, for nparts 1, 4 and 1024, are
 * disjoint and their union is the table counted in memory. */
static void test_seqtab_runs(void) {
  g_autofree char *parent = tmp_parent();
  PcSpill *sp = pc_spill_new(parent, 0, (PcSpillBudget){1, 0}, NULL);
  g_autoptr(PcSeqTab) t = pc_seqtab_new(2), u = pc_seqtab_new(2), ref = pc_seqtab_new(2);
  PcSeqSpill *s = pc_seqspill_new(sp, "t", 2), *s2 = pc_seqspill_new(sp, "u", 2);
  GError *e = NULL;
  add_keys(t, ref, 0, 3000);
  CU_ASSERT(pc_seqspill_write(s, t, &e));
  CU_ASSERT_EQUAL(pc_seqtab_size(t), 0);
  add_keys(t, ref, 2000, 5000);
  pc_seqspill_maybe(s, t); /* pool of 1 byte: spills */
  CU_ASSERT_EQUAL(pc_seqspill_runs(s), 2);
  add_keys(u, ref, 4000, 4500);
  CU_ASSERT(pc_seqspill_write(s2, u, &e));
  pc_seqspill_absorb(s, s2);
  CU_ASSERT_EQUAL(pc_seqspill_runs(s), 3);
  CU_ASSERT_EQUAL(pc_seqspill_runs(s2), 0);
  add_keys(t, ref, 100, 200); /* stays in memory */
  static const guint parts[] = {1, 4, 1024};
  for (size_t x = 0; x < G_N_ELEMENTS(parts); x++) {
    g_autoptr(PcSeqTab) all = pc_seqtab_new(2);
    size_t total = 0;
    for (guint p = 0; p < parts[x]; p++) {
      g_autoptr(PcSeqTab) pt = pc_seqtab_new(2);
      guint w = PC_SEQTAB_PARTS / parts[x];
      CU_ASSERT(pc_seqspill_load(s, p, parts[x], pt, &e));
      pc_seqtab_merge_parts(pt, t, p * w, (p + 1) * w);
      total += pc_seqtab_size(pt);
      pc_seqtab_merge(all, pt);
    }
    CU_ASSERT_EQUAL(total, pc_seqtab_size(ref)); /* disjoint partitions */
    assert_same(all, ref);
  }
  CU_ASSERT_PTR_NULL(e);
  pc_seqspill_free(s);
  pc_seqspill_free(s2);
  CU_ASSERT(pc_spill_check(sp, NULL));
  pc_spill_free(sp);
  g_rmdir(parent);
}

/* ---- percentiles ---------------------------------------------------------------- */

static const guint pcts[] = {1, 25, 50, 90, 100};
#define NK 12

/* Value i of the fixed list goes to key i % NK (key 5 gets none). */
static void fill(PcQuantile *q, guint part, guint nparts, guint n) {
  GRand *g = g_rand_new_with_seed(7);
  for (guint i = 0; i < n; i++) {
    int64_t v = (int64_t)(((uint64_t)g_rand_int(g) << 32) ^ g_rand_int(g));
    if (i % 3 == 0) v = g_rand_int_range(g, -4, 5); /* repeats */
    if (i % NK != 5 && i % nparts == part) pc_quantile_add(q, (uint64_t)(i % NK) * 977, v);
  }
  g_rand_free(g);
}

static void select_keys(PcQuantile *q, const PcCommOps *ops, int64_t *n,
                        int64_t *v) {
  uint64_t keys[NK + 1];
  for (int k = 0; k <= NK; k++) keys[k] = (uint64_t)k * 977; /* NK: absent */
  CU_ASSERT(pc_quantile_select(q, ops, keys, NK + 1, pcts, 5, n, v, NULL));
}

typedef struct {
  PcWorldRank r;
  uint64_t reduce;      /* PcSpill reduce budget: 0 sealed into a file */
  int64_t n[NK + 1], v[5 * (NK + 1)];
  uint64_t runs;
} QJob;

/* One rank: two instances that spill (pool of 1 byte), merged, selected. */
static gpointer q_rank(gpointer data) {
  QJob *job = data;
  PcCommOps ops = pc_world_ops(&job->r);
  g_autofree char *parent = tmp_parent();
  PcSpill *sp = pc_spill_new(parent, job->r.rank, (PcSpillBudget){1, job->reduce}, NULL);
  PcQuantile *q[2] = {pc_quantile_new(), pc_quantile_new()};
  for (int i = 0; i < 2; i++) pc_quantile_set_spill(q[i], sp, "q");
  guint np = (guint)job->r.w->size * 2;
  for (guint i = 0; i < 2; i++) fill(q[i], (guint)job->r.rank * 2 + i, np, 20000);
  pc_quantile_merge(q[0], q[1]);
  select_keys(q[0], &ops, job->n, job->v);
  pc_quantile_release(q[0]);
  job->runs = pc_spill_runs(sp);
  CU_ASSERT(pc_spill_check(sp, NULL));
  for (int i = 0; i < 2; i++) pc_quantile_free(q[i]);
  pc_spill_free(sp);
  g_rmdir(parent);
  return NULL;
}

/* The reference in memory, then 1..3 ranks spilling, sealed into a file
 * (reduce budget 0) or read back into memory (a large one). */
static void test_quantile_spilled(void) {
  g_autoptr(PcQuantile) ref = pc_quantile_new();
  fill(ref, 0, 1, 20000);
  int64_t rn[NK + 1], rv[5 * (NK + 1)];
  select_keys(ref, pc_commops_serial(), rn, rv);
  CU_ASSERT_EQUAL(rn[5], 0);
  CU_ASSERT_EQUAL(rn[0], 1667);
  for (int size = 1; size <= 3; size++)
    for (int mode = 0; mode < 2; mode++) {
      PcWorld w;
      pc_world_init(&w, size);
      QJob jobs[3];
      GThread *th[3];
      for (int r = 0; r < size; r++) {
        jobs[r] = (QJob){.r = {&w, r}, .reduce = mode ? UINT64_C(1) << 30 : 0};
        th[r] = g_thread_new("rank", q_rank, &jobs[r]);
      }
      for (int r = 0; r < size; r++) g_thread_join(th[r]);
      pc_world_clear(&w);
      for (int r = 0; r < size; r++) {
        CU_ASSERT(jobs[r].runs >= 2); /* both instances spilled */
        CU_ASSERT(memcmp(jobs[r].n, rn, sizeof rn) == 0);
        CU_ASSERT(memcmp(jobs[r].v, rv, sizeof rv) == 0);
      }
    }
}

PC_TEST_MAIN("spill", {"/spill/files", test_files}, {"/spill/pool", test_pool},
             {"/spill/space_and_errors", test_space_and_errors},
             {"/spill/seqtab_runs", test_seqtab_runs},
             {"/spill/quantile_spilled", test_quantile_spilled})
