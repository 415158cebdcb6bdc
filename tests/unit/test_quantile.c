/* test_quantile.c - CUnit cases for the exact percentiles (pc_quantile.h,
 * src/analytics/quantile.c and qstore.c): the nearest rank at its edges
 * (n = 1, 2, 10, 11), extreme and repeated values, keys absent here or
 * everywhere, thread merges, and the same answers on 1..5 fake ranks (each
 * a thread with its own PcCommOps, pc_fakeworld.h) as a plain sort. */
#include "pc_fakeworld.h"
#include "pc_quantile.h"
#include "pc_test.h"

#include <stdlib.h>

static const guint pct3[3] = {25, 50, 90};

/* Serial selection of keys[0..nk) at pct3; n[] and v[] (3 per key) out. */
static void select_serial(PcQuantile *q, const uint64_t *keys, size_t nk,
                          int64_t *n, int64_t *v) {
  GError *e = NULL;
  CU_ASSERT_TRUE(pc_quantile_select(q, pc_commops_serial(), keys, nk, pct3, 3, n, v, &e));
  CU_ASSERT_PTR_NULL(e);
}

/* ceil(q n / 100): n = 1 -> 1, 1, 1; n = 2 -> 1, 1, 2; n = 10 -> 3, 5,
 * 9; n = 11 -> 3, 6, 10; 0 -> 0. */
static void test_rank_edges(void) {
  static const uint64_t n[] = {1, 2, 10, 11, 100, 0};
  static const uint64_t want[][3] = {{1, 1, 1}, {1, 1, 2}, {3, 5, 9}, {3, 6, 10}, {25, 50, 90}, {0, 0, 0}};
  for (size_t i = 0; i < G_N_ELEMENTS(n); i++)
    for (int p = 0; p < 3; p++) CU_ASSERT_EQUAL(pc_quantile_rank(n[i], pct3[p]), want[i][p]);
  CU_ASSERT_EQUAL(pc_quantile_rank(7, 100), 7);
  CU_ASSERT_EQUAL(pc_quantile_rank(7, 1), 1);
}

/* Key k holds the values 10, 20, ..., 10 n_k (added in reverse): the
 * percentile of rank r is 10 r. Keys: n = 1, 2, 10, 11; key 99 is empty. */
static void test_values_at_ranks(void) {
  g_autoptr(PcQuantile) q = pc_quantile_new();
  static const int ns[] = {1, 2, 10, 11};
  for (int k = 0; k < 4; k++)
    for (int i = ns[k]; i >= 1; i--) pc_quantile_add(q, (uint64_t)k, 10 * i);
  CU_ASSERT_EQUAL(pc_quantile_values(q), 24);
  uint64_t keys[] = {0, 1, 2, 3, 99};
  int64_t n[5], v[15];
  select_serial(q, keys, 5, n, v);
  static const int64_t want[4][3] = {{10, 10, 10}, {10, 10, 20}, {30, 50, 90}, {30, 60, 100}};
  for (int k = 0; k < 4; k++) {
    CU_ASSERT_EQUAL(n[k], ns[k]);
    for (int p = 0; p < 3; p++) CU_ASSERT_EQUAL(v[3 * k + p], want[k][p]);
  }
  CU_ASSERT_EQUAL(n[4], 0);
  CU_ASSERT_EQUAL(v[12], 0);
}

/* The whole int64 range, negatives, and repeats: {MIN, -5, -5, 0, MAX}:
 * ranks 2, 3, 5 -> -5, -5, MAX; a key of four INT64_MIN. */
static void test_extremes(void) {
  g_autoptr(PcQuantile) q = pc_quantile_new();
  int64_t vals[] = {INT64_MAX, -5, INT64_MIN, 0, -5};
  for (int i = 0; i < 5; i++) pc_quantile_add(q, 7, vals[i]);
  for (int i = 0; i < 4; i++) pc_quantile_add(q, UINT64_MAX, INT64_MIN);
  pc_quantile_add(q, 3, 1); /* not asked for: ignored */
  uint64_t keys[] = {UINT64_MAX, 7};
  int64_t n[2], v[6];
  select_serial(q, keys, 2, n, v);
  CU_ASSERT_EQUAL(n[0], 4);
  CU_ASSERT_EQUAL(v[0], INT64_MIN);
  CU_ASSERT_EQUAL(v[2], INT64_MIN);
  CU_ASSERT_EQUAL(n[1], 5);
  CU_ASSERT_EQUAL(v[3], -5);
  CU_ASSERT_EQUAL(v[4], -5);
  CU_ASSERT_EQUAL(v[5], INT64_MAX);
}

/* Thread instances merged in any order hold the same values. */
static void test_merge(void) {
  PcQuantile *t[3] = {pc_quantile_new(), pc_quantile_new(), pc_quantile_new()};
  for (int i = 0; i < 300; i++) pc_quantile_add(t[i % 3], (uint64_t)(i % 4), (i * 7919) % 1000);
  pc_quantile_merge(t[2], t[0]);
  pc_quantile_merge(t[2], t[1]);
  pc_quantile_merge(t[2], t[1]); /* empty now: nothing moves */
  CU_ASSERT_EQUAL(pc_quantile_values(t[0]), 0);
  CU_ASSERT_EQUAL(pc_quantile_values(t[2]), 300);
  CU_ASSERT(pc_quantile_memory_bytes(t[2]) >= 300 * 8);
  uint64_t keys[] = {0, 1, 2, 3};
  int64_t n[4], v[12];
  select_serial(t[2], keys, 4, n, v);
  CU_ASSERT(pc_quantile_memory_bytes(t[2]) < 300 * 8 + 1024); /* sealed: 8 B/value */
  for (int k = 0; k < 4; k++) CU_ASSERT_EQUAL(n[k], 75);
  for (int i = 0; i < 3; i++) pc_quantile_free(t[i]);
}

/* Large keys sort in place: 200 000 values (random, sorted, reversed,
 * all equal, organ pipe) against qsort, every rank r = 1..n checked at a
 * few percentiles through pc_quantile_rank's inverse. */
static int cmp_i64(const void *a, const void *b);
static void test_large_keys(void) {
  enum { N = 200000 };
  GRand *g = g_rand_new_with_seed(7);
  int64_t *ref[5];
  g_autoptr(PcQuantile) q = pc_quantile_new();
  for (int k = 0; k < 5; k++) {
    ref[k] = g_new(int64_t, N);
    for (int i = 0; i < N; i++) {
      int64_t x = k == 0 ? (int64_t)(((uint64_t)g_rand_int(g) << 32) ^ g_rand_int(g))
                : k == 1 ? i : k == 2 ? N - i : k == 3 ? 5 : (i < N / 2 ? i : N - i);
      ref[k][i] = x;
      pc_quantile_add(q, (uint64_t)k, x);
    }
    qsort(ref[k], N, sizeof *ref[k], cmp_i64);
  }
  static const guint pcts[] = {1, 25, 50, 90, 99, 100};
  uint64_t keys[] = {0, 1, 2, 3, 4};
  int64_t n[5], v[30];
  GError *e = NULL;
  CU_ASSERT_TRUE(pc_quantile_select(q, pc_commops_serial(), keys, 5, pcts, 6, n, v, &e));
  for (int k = 0; k < 5; k++) {
    CU_ASSERT_EQUAL(n[k], N);
    for (int p = 0; p < 6; p++) CU_ASSERT_EQUAL(v[6 * k + p], ref[k][pc_quantile_rank(N, pcts[p]) - 1]);
    g_free(ref[k]);
  }
  g_rand_free(g);
}

/* ---- ranks ------------------------------------------------------------------ */

#define NKEYS 40

typedef struct {
  PcWorldRank r;
  const int64_t *val;
  const uint64_t *key;
  size_t n;
  int64_t cnt[NKEYS], out[3 * NKEYS];
  gboolean ok;
} RankJob;

/* Value i goes to rank (i * 2654435761) % size, on one of two threads. */
static gpointer rank_main(gpointer data) {
  RankJob *job = data;
  PcCommOps ops = pc_world_ops(&job->r);
  PcQuantile *th[2] = {pc_quantile_new(), pc_quantile_new()};
  for (size_t i = 0; i < job->n; i++)
    if ((i * 2654435761u) % (uint64_t)ops.size == (uint64_t)ops.rank)
      pc_quantile_add(th[i % 2], job->key[i], job->val[i]);
  pc_quantile_merge(th[1], th[0]);
  uint64_t keys[NKEYS];
  for (int k = 0; k < NKEYS; k++) keys[k] = (uint64_t)k * 1000003u;
  job->ok = pc_quantile_select(th[1], &ops, keys, NKEYS, pct3, 3, job->cnt, job->out, NULL);
  pc_quantile_free(th[0]);
  pc_quantile_free(th[1]);
  return NULL;
}

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return x < y ? -1 : x > y;
}

/* 5000 values over 40 keys (key k has about k^2 values, key 0 none), wide
 * and narrow ranges, on 1..5 ranks: every rank gets the answer of a sort. */
static void test_ranks(void) {
  GRand *g = g_rand_new_with_seed(99);
  size_t n = 0;
  int64_t *val = g_new(int64_t, 6000);
  uint64_t *key = g_new(uint64_t, 6000);
  for (int k = 1; k < NKEYS && n < 5000; k++)
    for (int i = 0; i < k * k / 4 + 1 && n < 5000; i++, n++) {
      key[n] = (uint64_t)k * 1000003u;
      val[n] = k % 3 == 0 ? (int64_t)g_rand_int_range(g, -3, 4) /* many repeats */
                          : (int64_t)(((uint64_t)g_rand_int(g) << 32) ^ g_rand_int(g));
    }
  for (int size = 1; size <= 5; size++) {
    PcWorld w;
    pc_world_init(&w, size);
    RankJob jobs[5];
    GThread *t[5];
    for (int r = 0; r < size; r++) {
      jobs[r] = (RankJob){{&w, r}, val, key, n, {0}, {0}, FALSE};
      t[r] = g_thread_new("rank", rank_main, &jobs[r]);
    }
    for (int r = 0; r < size; r++) g_thread_join(t[r]);
    pc_world_clear(&w);
    for (int k = 0; k < NKEYS; k++) {
      int64_t *mine = g_new(int64_t, n + 1);
      size_t m = 0;
      for (size_t i = 0; i < n; i++)
        if (key[i] == (uint64_t)k * 1000003u) mine[m++] = val[i];
      qsort(mine, m, sizeof *mine, cmp_i64);
      for (int r = 0; r < size; r++) {
        CU_ASSERT_TRUE(jobs[r].ok);
        CU_ASSERT_EQUAL(jobs[r].cnt[k], (int64_t)m);
        for (int p = 0; p < 3 && m; p++)
          CU_ASSERT_EQUAL(jobs[r].out[3 * k + p], mine[pc_quantile_rank(m, pct3[p]) - 1]);
      }
      g_free(mine);
    }
  }
  g_free(val);
  g_free(key);
  g_rand_free(g);
}

/* Arrays long enough for the radix sort (4096 values and more): every
 * percentile 1..100 equals the plain sort's nearest rank. Key 0: 50,000
 * values of every kind (negatives, the extremes, repeats, microsecond gaps);
 * key 1: 4096 values that share their six high bytes; key 2: 5000 equal
 * values (every byte pass skipped); key 3: 4095 (the quicksort). */
static void test_long_arrays(void) {
  g_autoptr(PcQuantile) q = pc_quantile_new();
  static const size_t len[4] = {50000, 4096, 5000, 4095};
  int64_t *ref[4];
  uint64_t x = 88172645463325252ULL;
  for (int k = 0; k < 4; k++) {
    ref[k] = g_new(int64_t, len[k]);
    for (size_t i = 0; i < len[k]; i++) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      int64_t v;
      switch (k) {
      case 0:
        v = i % 97 == 0 ? INT64_MIN : i % 89 == 0 ? INT64_MAX : i % 5 == 0 ? -(int64_t)(x % 1000) :
            i % 3 == 0 ? (int64_t)(x % 50) : (int64_t)(x % 86400000000ULL);
        break;
      case 1: v = 0x123456780000LL + (int64_t)(x % 65536); break;
      case 2: v = -42; break;
      default: v = (int64_t)x; break;
      }
      ref[k][i] = v;
      pc_quantile_add(q, (uint64_t)k, v);
    }
    qsort(ref[k], len[k], sizeof(int64_t), cmp_i64);
  }
  guint pct[100];
  for (guint p = 0; p < 100; p++) pct[p] = p + 1;
  uint64_t keys[4] = {0, 1, 2, 3};
  int64_t n[4], v[400];
  GError *e = NULL;
  CU_ASSERT_TRUE_FATAL(pc_quantile_select(q, pc_commops_serial(), keys, 4, pct, 100, n, v, &e));
  for (int k = 0; k < 4; k++) {
    CU_ASSERT_EQUAL(n[k], (int64_t)len[k]);
    for (guint p = 1; p <= 100; p++) {
      size_t rank = (p * len[k] + 99) / 100; /* ceil(p n / 100) */
      CU_ASSERT_EQUAL(v[100 * k + p - 1], ref[k][rank - 1]);
    }
    g_free(ref[k]);
  }
}

PC_TEST_MAIN("quantile",
             {"/quantile/long_arrays", test_long_arrays},
             {"/quantile/rank_edges", test_rank_edges},
             {"/quantile/values_at_ranks", test_values_at_ranks},
             {"/quantile/extremes", test_extremes},
             {"/quantile/merge", test_merge},
             {"/quantile/large_keys", test_large_keys},
             {"/quantile/ranks", test_ranks})
