/* test_paths.c - path tables (spec §3) and preceding paths (spec §4) on
 * fixtures small enough to count by hand, and the determinism contract:
 * the same journeys split over instances, merge orders and (fake, threaded)
 * ranks give byte-identical CSV. */
#include "pc_fakeworld.h"
#include "pc_paths.h"
#include "pc_table.h"
#include "pc_test.h"

#include <glib/gstdio.h>

/* Tokens: ids in bytewise order of the names: "A" 0x41 < "B" 0x42 < "a"
 * 0x61; transitions add "$" 0x24 (first) and "^" 0x5E (between B and a). */
enum { A = 0, B = 1, a = 2 };
static const char *const fixture_names[] = {"A", "B", "a", "b", "c", "d"};

#define S INT64_C(1000000) /* one second in µs */

static PcDict *fixture_dict(void) {
  return pc_dict_new_sorted((char **)fixture_names, 6);
}

static PcJobConfig fixture_cfg(void) {
  PcJobConfig c;
  memset(&c, 0, sizeof c);
  c.top_k = 1000;
  c.unit = PC_UNIT_CUSTOMER;
  c.session_gap_s = 1800;
  c.collapse_repeats = FALSE;
  c.ngram_max = 3;
  c.depth = 8;
  c.min_support = 1;
  return c;
}

/* ---- helpers ---- */

typedef struct {
  GPtrArray *tables;
  uint64_t journeys;
} Out;

static void out_clear(Out *o) {
  if (o->tables) g_ptr_array_unref(o->tables);
  o->tables = NULL;
}

static Out reduce_serial(PcPaths *p) {
  g_autoptr(PcDict) d = fixture_dict();
  Out o = {g_ptr_array_new_with_free_func((GDestroyNotify)pc_table_free), 0};
  GError *e = NULL;
  CU_ASSERT(pc_paths_reduce(p, pc_commops_serial(), d, o.tables, &o.journeys,
                            &e));
  CU_ASSERT_PTR_NULL(e);
  g_clear_error(&e);
  return o;
}

static PcTable *find_table(const Out *o, const char *name) {
  for (guint i = 0; i < o->tables->len; i++)
    if (strcmp(pc_table_name(o->tables->pdata[i]), name) == 0)
      return o->tables->pdata[i];
  return NULL;
}

/* The CSV text of one table, through pc_table_write_csv in a temp dir. */
static char *csv_text(const PcTable *t) {
  g_autofree char *dir = g_dir_make_tmp("pc-paths-XXXXXX", NULL);
  g_autofree char *path = g_build_filename(dir, "t.csv", NULL);
  char *text = NULL;
  CU_ASSERT(pc_table_write_csv(t, path, NULL));
  CU_ASSERT(g_file_get_contents(path, &text, NULL, NULL));
  g_unlink(path);
  g_rmdir(dir);
  return text ? text : g_strdup("");
}

/* Every table's name and CSV, concatenated in output order. */
static char *all_csv(GPtrArray *tables) {
  GString *s = g_string_new(NULL);
  for (guint i = 0; i < tables->len; i++) {
    g_autofree char *t = csv_text(tables->pdata[i]);
    g_string_append_printf(s, "[%s]\n%s", pc_table_name(tables->pdata[i]), t);
  }
  return g_string_free(s, FALSE);
}

static void assert_csv(const Out *o, const char *name, const char *want) {
  PcTable *t = find_table(o, name);
  CU_ASSERT_PTR_NOT_NULL_FATAL(t);
  g_autofree char *got = csv_text(t);
  CU_ASSERT_STRING_EQUAL(got, want);
  if (strcmp(got, want) != 0) fprintf(stderr, "\n%s: got\n%s", name, got);
}

/* Fixture 1, five customer journeys (times in seconds):
 *   J1 A@0  B@10 a@30         y=1
 *   J2 A@0  B@5               y=0
 *   J3 A@0  B@1  A@2  B@3     y=1
 *   J4 a@0                    y=0
 *   J5 A@100 B@120            y=0 */
static void add_fixture1(PcPaths *p, int which) {
  static const uint32_t t1[] = {A, B, a}, t2[] = {A, B}, t3[] = {A, B, A, B},
                        t4[] = {a}, t5[] = {A, B};
  static const int64_t s1[] = {0, 10 * S, 30 * S}, s2[] = {0, 5 * S},
                       s3[] = {0, 1 * S, 2 * S, 3 * S}, s4[] = {0},
                       s5[] = {100 * S, 120 * S};
  if (which < 0 || which == 1) pc_paths_add(p, t1, s1, 3, TRUE);
  if (which < 0 || which == 2) pc_paths_add(p, t2, s2, 2, FALSE);
  if (which < 0 || which == 3) pc_paths_add(p, t3, s3, 4, TRUE);
  if (which < 0 || which == 4) pc_paths_add(p, t4, s4, 1, FALSE);
  if (which < 0 || which == 5) pc_paths_add(p, t5, s5, 2, FALSE);
}

/* Variants: A B x2 (J2, J5); A B a, A B A B, a x1 each; 5 journeys.
 * Ties at count 1 by sequence: A B A B < A B a (A < a at token 3) < a. */
static void test_variants(void) {
  PcJobConfig cfg = fixture_cfg();
  g_autoptr(PcPaths) p = pc_paths_new(&cfg);
  add_fixture1(p, -1);
  Out o = reduce_serial(p);
  CU_ASSERT_EQUAL(o.journeys, 5);
  CU_ASSERT_EQUAL(o.tables->len, 5);
  CU_ASSERT_STRING_EQUAL(pc_table_name(o.tables->pdata[0]), "variants");
  CU_ASSERT_STRING_EQUAL(pc_table_name(o.tables->pdata[1]), "ngrams");
  CU_ASSERT_STRING_EQUAL(pc_table_name(o.tables->pdata[2]), "transitions");
  CU_ASSERT_STRING_EQUAL(pc_table_name(o.tables->pdata[3]), "prefix_tree");
  CU_ASSERT_STRING_EQUAL(pc_table_name(o.tables->pdata[4]), "transition_gaps");
  PcTable *t = find_table(&o, "variants");
  CU_ASSERT_EQUAL(pc_table_nrows(t), 4);
  CU_ASSERT_EQUAL(pc_table_get_int(t, 0, 1), 2);
  CU_ASSERT_DOUBLE_EQUAL(pc_table_get_double(t, 0, 2), 0.4, 0);
  CU_ASSERT_EQUAL(pc_table_col_type(t, 2), PC_COL_DOUBLE);
  assert_csv(&o, "variants",
             "rank,journeys,share,length,path\n"
             "1,2,0.4,2,A > B\n"
             "2,1,0.2,4,A > B > A > B\n"
             "3,1,0.2,3,A > B > a\n"
             "4,1,0.2,1,a\n");
  out_clear(&o);
}

/* n = 1: A occ 1+1+2+1 = 5 in J1,J2,J3,J5 (4 customers: J3's two count
 * once); B the same (tie -> A first); a occ 2 (J1, J4).
 * n = 2: A B occ 5 (J3 twice), customers 4; B A (J3) and B a (J1) 1/1,
 * A < a so B > A first. n = 3: A B a (J1), A B A and B A B (J3), 1/1. */
static void test_ngrams(void) {
  PcJobConfig cfg = fixture_cfg();
  g_autoptr(PcPaths) p = pc_paths_new(&cfg);
  add_fixture1(p, -1);
  Out o = reduce_serial(p);
  assert_csv(&o, "ngrams",
             "n,rank,occurrences,customers,path\n"
             "1,1,5,4,A\n"
             "1,2,5,4,B\n"
             "1,3,2,2,a\n"
             "2,1,5,4,A > B\n"
             "2,2,1,1,B > A\n"
             "2,3,1,1,B > a\n"
             "3,1,1,1,A > B > A\n"
             "3,2,1,1,A > B > a\n"
             "3,3,1,1,B > A > B\n");
  out_clear(&o);
}

/* A -> B: J1 10 s, J2 5 s, J3 1 s + 1 s, J5 20 s: count 5, gaps 37 s,
 * mean 7.4, P = 5/5. B -> a 1 (20 s), B -> A 1 (1 s), B -> $ 3 (J2, J3,
 * J5): Σ = 5. ^ -> A 4, ^ -> a 1: Σ = 5. a -> $ 2 (J1, J4).
 * From by string: "A" < "B" < "^" < "a" (ids would put ^ last); inside
 * B: count desc ($ 3 first), then "A" < "a". ^/$ pairs: empty mean. */
static void test_transitions(void) {
  PcJobConfig cfg = fixture_cfg();
  g_autoptr(PcPaths) p = pc_paths_new(&cfg);
  add_fixture1(p, -1);
  Out o = reduce_serial(p);
  assert_csv(&o, "transitions",
             "from,to,count,probability,mean_gap_s\n"
             "A,B,5,1,7.4\n"
             "B,$,3,0.6,\n"
             "B,A,1,0.2,1\n"
             "B,a,1,0.2,20\n"
             "^,A,4,0.8,\n"
             "^,a,1,0.2,\n"
             "a,$,2,1,\n");
  PcTable *t = find_table(&o, "transitions");
  CU_ASSERT(pc_table_is_empty(t, 1, 4));
  CU_ASSERT_FALSE(pc_table_is_empty(t, 0, 4));
  CU_ASSERT_EQUAL(pc_table_col_type(t, 4), PC_COL_DOUBLE);
  /* Gaps, real pairs in transitions.csv order: A -> B 1, 1, 5, 10, 20 s:
   * ranks ceil(1.25) = 2, ceil(2.5) = 3, ceil(4.5) = 5; one gap each for
   * B -> A (1 s) and B -> a (20 s). */
  assert_csv(&o, "transition_gaps",
             "from,to,count,p25_s,median_s,p90_s\n"
             "A,B,5,1,5,20\n"
             "B,A,1,1,1,1\n"
             "B,a,1,20,20,20\n");
  out_clear(&o);
}

/* "$" (0x24) sorts before upper case in the to column on count ties:
 *   J1 A@0; J2 A@0 A@3 B@4 (no collapse)
 * A -> $ 1, A -> A 1 (3 s), A -> B 1 (1 s): Σ_A = 3; B -> $ 1; ^ -> A 2.
 * Ties in A's rows by string: "$" < "A" < "B". */
static void test_transitions_dollar_tie(void) {
  PcJobConfig cfg = fixture_cfg();
  g_autoptr(PcPaths) p = pc_paths_new(&cfg);
  static const uint32_t t1[] = {A}, t2[] = {A, A, B};
  static const int64_t s1[] = {0}, s2[] = {0, 3 * S, 4 * S};
  pc_paths_add(p, t1, s1, 1, FALSE);
  pc_paths_add(p, t2, s2, 3, FALSE);
  Out o = reduce_serial(p);
  /* A: Σ = 3 (-> $, -> A, -> B), ^: Σ = 2 */
  assert_csv(&o, "transitions",
             "from,to,count,probability,mean_gap_s\n"
             "A,$,1,0.333333333333,\n"
             "A,A,1,0.333333333333,3\n"
             "A,B,1,0.333333333333,1\n"
             "B,$,1,1,\n"
             "^,A,2,1,\n");
  out_clear(&o);
}

/* Prefixes: A reach 4 (J1 J2 J3 J5) end 0 target 2 (J1, J3); A B reach
 * 4 end 2 (J2, J5) target 2; A B A 1/0/1; A B A B 1/1/1; A B a 1/1/1;
 * a 1/1/0. Path order: A < A B < A B A < A B A B < A B a < a. */
static void test_prefix_tree(void) {
  PcJobConfig cfg = fixture_cfg();
  g_autoptr(PcPaths) p = pc_paths_new(&cfg);
  add_fixture1(p, -1);
  Out o = reduce_serial(p);
  assert_csv(&o, "prefix_tree",
             "depth,path,reach,end,target\n"
             "1,A,4,0,2\n"
             "2,A > B,4,2,2\n"
             "3,A > B > A,1,0,1\n"
             "4,A > B > A > B,1,1,1\n"
             "3,A > B > a,1,1,1\n"
             "1,a,1,1,0\n");
  out_clear(&o);
}

/* min_support = 2 keeps A and A B (reach 4); depth = 2 stops at length
 * 2, where end still means "journeys equal to p" (J2, J5 only). */
static void test_prefix_prune_depth(void) {
  PcJobConfig cfg = fixture_cfg();
  cfg.min_support = 2;
  g_autoptr(PcPaths) p = pc_paths_new(&cfg);
  add_fixture1(p, -1);
  Out o = reduce_serial(p);
  assert_csv(&o, "prefix_tree",
             "depth,path,reach,end,target\n"
             "1,A,4,0,2\n"
             "2,A > B,4,2,2\n");
  out_clear(&o);
  cfg = fixture_cfg();
  cfg.depth = 2;
  g_autoptr(PcPaths) q = pc_paths_new(&cfg);
  add_fixture1(q, -1);
  o = reduce_serial(q);
  assert_csv(&o, "prefix_tree",
             "depth,path,reach,end,target\n"
             "1,A,4,0,2\n"
             "2,A > B,4,2,2\n"
             "1,a,1,1,0\n");
  out_clear(&o);
}

/* Pruning happens after the merge: A B a has reach 1 in each of two
 * instances and 2 in total, so min_support = 2 keeps it. */
static void test_prefix_prune_after_merge(void) {
  PcJobConfig cfg = fixture_cfg();
  cfg.min_support = 2;
  g_autoptr(PcPaths) p = pc_paths_new(&cfg);
  g_autoptr(PcPaths) q = pc_paths_new(&cfg);
  add_fixture1(p, 1);
  add_fixture1(q, 1);
  pc_paths_merge(p, q);
  Out o = reduce_serial(p);
  assert_csv(&o, "prefix_tree",
             "depth,path,reach,end,target\n"
             "1,A,2,0,2\n"
             "2,A > B,2,0,2\n"
             "3,A > B > a,2,2,2\n");
  out_clear(&o);
}

/* top_k = 2: variants A B, then A B A B (beats A B a and a on sequence);
 * n-grams per n, table by n then rank. */
static void test_top_k(void) {
  PcJobConfig cfg = fixture_cfg();
  cfg.top_k = 2;
  g_autoptr(PcPaths) p = pc_paths_new(&cfg);
  add_fixture1(p, -1);
  Out o = reduce_serial(p);
  assert_csv(&o, "variants",
             "rank,journeys,share,length,path\n"
             "1,2,0.4,2,A > B\n"
             "2,1,0.2,4,A > B > A > B\n");
  assert_csv(&o, "ngrams",
             "n,rank,occurrences,customers,path\n"
             "1,1,5,4,A\n"
             "1,2,5,4,B\n"
             "2,1,5,4,A > B\n"
             "2,2,1,1,B > A\n"
             "3,1,1,1,A > B > A\n"
             "3,2,1,1,A > B > a\n");
  /* transitions and the prefix tree are not cut */
  CU_ASSERT_EQUAL(pc_table_nrows(find_table(&o, "transitions")), 7);
  CU_ASSERT_EQUAL(pc_table_nrows(find_table(&o, "prefix_tree")), 6);
  out_clear(&o);
}

/* Collapse: A@0 A@1 B@2 B@5 B@9 A@20 -> A@0 B@2 A@20 (each run keeps the
 * time of its first event): A -> B gap 2 s, B -> A gap 18 s; the variant
 * has length 3; n-gram A occurs twice in one journey (customers 1). */
static void test_collapse(void) {
  PcJobConfig cfg = fixture_cfg();
  cfg.collapse_repeats = TRUE;
  cfg.ngram_max = 1;
  g_autoptr(PcPaths) p = pc_paths_new(&cfg);
  static const uint32_t t[] = {A, A, B, B, B, A};
  static const int64_t s[] = {0, 1 * S, 2 * S, 5 * S, 9 * S, 20 * S};
  pc_paths_add(p, t, s, 6, FALSE);
  Out o = reduce_serial(p);
  assert_csv(&o, "variants",
             "rank,journeys,share,length,path\n"
             "1,1,1,3,A > B > A\n");
  assert_csv(&o, "ngrams",
             "n,rank,occurrences,customers,path\n"
             "1,1,2,1,A\n"
             "1,2,1,1,B\n");
  assert_csv(&o, "transitions",
             "from,to,count,probability,mean_gap_s\n"
             "A,$,1,0.5,\n"
             "A,B,1,0.5,2\n"
             "B,A,1,1,18\n"
             "^,A,1,1,\n");
  out_clear(&o);
}

/* Sessions, gap 10 s: A@0 B@10 (gap = 10: same session) | a@21 (gap 11:
 * new) A@31 (gap 10: same). Two journeys A B and a A, both y = 1. */
static void test_sessions(void) {
  PcJobConfig cfg = fixture_cfg();
  cfg.unit = PC_UNIT_SESSION;
  cfg.session_gap_s = 10;
  g_autoptr(PcPaths) p = pc_paths_new(&cfg);
  static const uint32_t t[] = {A, B, a, A};
  static const int64_t s[] = {0, 10 * S, 21 * S, 31 * S};
  pc_paths_add(p, t, s, 4, TRUE);
  Out o = reduce_serial(p);
  CU_ASSERT_EQUAL(o.journeys, 2);
  assert_csv(&o, "variants",
             "rank,journeys,share,length,path\n"
             "1,1,0.5,2,A > B\n"
             "2,1,0.5,2,a > A\n");
  assert_csv(&o, "transitions",
             "from,to,count,probability,mean_gap_s\n"
             "A,$,1,0.5,\n"
             "A,B,1,0.5,10\n"
             "B,$,1,1,\n"
             "^,A,1,0.5,\n"
             "^,a,1,0.5,\n"
             "a,A,1,1,10\n");
  assert_csv(&o, "prefix_tree",
             "depth,path,reach,end,target\n"
             "1,A,1,0,1\n"
             "2,A > B,1,1,1\n"
             "1,a,1,0,1\n"
             "2,a > A,1,1,1\n");
  out_clear(&o);
}

/* Sessions are cut on the events, then repeats collapse inside each:
 * A@0 A@5 | A@25 B@26 (gap 20 > 10) -> sessions "A A" and "A B" ->
 * "A" and "A B". (Collapsing first would give A@0 B@26: "A" | "B".) */
static void test_sessions_then_collapse(void) {
  PcJobConfig cfg = fixture_cfg();
  cfg.unit = PC_UNIT_SESSION;
  cfg.session_gap_s = 10;
  cfg.collapse_repeats = TRUE;
  g_autoptr(PcPaths) p = pc_paths_new(&cfg);
  static const uint32_t t[] = {A, A, A, B};
  static const int64_t s[] = {0, 5 * S, 25 * S, 26 * S};
  pc_paths_add(p, t, s, 4, FALSE);
  Out o = reduce_serial(p);
  CU_ASSERT_EQUAL(o.journeys, 2);
  assert_csv(&o, "variants",
             "rank,journeys,share,length,path\n"
             "1,1,0.5,1,A\n"
             "2,1,0.5,2,A > B\n");
  out_clear(&o);
}

/* Three journeys A@0 B@2^62 µs: the gap sum 3 * 2^62 passes INT64_MAX,
 * the mean stays exact (2^62 / 10^6 s), counted in one instance or three
 * merged. */
static void test_gap_sum_exceeds_int64(void) {
  PcJobConfig cfg = fixture_cfg();
  static const uint32_t t[] = {A, B};
  static const int64_t s[] = {0, INT64_C(1) << 62};
  double want = 4611686018427387904.0 / 1e6;
  for (int split = 1; split <= 3; split += 2) {
    PcPaths *p[3];
    for (int i = 0; i < split; i++) p[i] = pc_paths_new(&cfg);
    for (int j = 0; j < 3; j++) pc_paths_add(p[j % split], t, s, 2, FALSE);
    for (int i = 1; i < split; i++) pc_paths_merge(p[0], p[i]);
    Out o = reduce_serial(p[0]);
    PcTable *tr = find_table(&o, "transitions");
    CU_ASSERT_STRING_EQUAL(pc_table_get_string(tr, 0, 0), "A");
    CU_ASSERT_STRING_EQUAL(pc_table_get_string(tr, 0, 1), "B");
    CU_ASSERT_EQUAL(pc_table_get_int(tr, 0, 2), 3);
    CU_ASSERT(pc_table_get_double(tr, 0, 4) == want);
    out_clear(&o);
    for (int i = 0; i < split; i++) pc_paths_free(p[i]);
  }
}

/* ---- Preceding paths ---- */

static Out reduce_preceding_serial(PcPreceding *p, uint64_t y_total) {
  g_autoptr(PcDict) d = fixture_dict();
  Out o = {g_ptr_array_new_with_free_func((GDestroyNotify)pc_table_free), 0};
  GError *e = NULL;
  CU_ASSERT(pc_preceding_reduce(p, pc_commops_serial(), d, y_total, o.tables,
                                &e));
  CU_ASSERT_PTR_NULL(e);
  g_clear_error(&e);
  return o;
}

/* lookback 2; pre-target journeys A B a, a, (empty), A B a, B a, A:
 * last two: B a, a, (), B a, B a, A -> B a 3, then count 1 by sequence:
 * () first (a proper prefix of everything), then A, then a. Y = 6. */
static void test_preceding(void) {
  g_autoptr(PcPreceding) p = pc_preceding_new(2, 1000);
  static const uint32_t j1[] = {A, B, a}, j2[] = {a}, j5[] = {B, a},
                        j6[] = {A};
  pc_preceding_add(p, j1, 3);
  pc_preceding_add(p, j2, 1);
  pc_preceding_add(p, NULL, 0);
  pc_preceding_add(p, j1, 3);
  pc_preceding_add(p, j5, 2);
  pc_preceding_add(p, j6, 1);
  Out o = reduce_preceding_serial(p, 6);
  CU_ASSERT_EQUAL(o.tables->len, 1);
  assert_csv(&o, "preceding_paths",
             "rank,customers,share,path\n"
             "1,3,0.5,B > a\n"
             "2,1,0.166666666667,^\n"
             "3,1,0.166666666667,A\n"
             "4,1,0.166666666667,a\n");
  out_clear(&o);
}

/* top_k = 2 and a merge of two instances; lookback 0 makes every path
 * the empty one. */
static void test_preceding_top_k_merge(void) {
  g_autoptr(PcPreceding) p = pc_preceding_new(1, 2);
  g_autoptr(PcPreceding) q = pc_preceding_new(1, 2);
  static const uint32_t j[] = {A, B};
  pc_preceding_add(p, j, 2);     /* B */
  pc_preceding_add(q, j, 1);     /* A */
  pc_preceding_add(q, j + 1, 1); /* B */
  pc_preceding_add(q, NULL, 0);  /* () */
  pc_preceding_merge(p, q);
  Out o = reduce_preceding_serial(p, 4);
  assert_csv(&o, "preceding_paths",
             "rank,customers,share,path\n"
             "1,2,0.5,B\n"
             "2,1,0.25,^\n");
  out_clear(&o);
  g_autoptr(PcPreceding) z = pc_preceding_new(0, 10);
  pc_preceding_add(z, j, 2);
  pc_preceding_add(z, j, 1);
  o = reduce_preceding_serial(z, 2);
  assert_csv(&o, "preceding_paths", "rank,customers,share,path\n1,2,1,^\n");
  out_clear(&o);
}

/* ---- Determinism: a fake world of threaded ranks (pc_fakeworld.h) ---- */

/* Random journeys over tokens 0..5, fixed seed: the same list every run. */
typedef struct {
  uint32_t tok[12];
  int64_t ts[12];
  size_t n;
  gboolean y;
  uint32_t cut; /* pre-target length */
} Journey;

static Journey *random_journeys(size_t n) {
  GRand *g = g_rand_new_with_seed(20240611);
  Journey *v = g_new0(Journey, n);
  for (size_t i = 0; i < n; i++) {
    v[i].n = 1 + g_rand_int_range(g, 0, 12);
    int64_t ts = g_rand_int_range(g, 0, 1000) * S;
    for (size_t k = 0; k < v[i].n; k++) {
      v[i].tok[k] = g_rand_int_range(g, 0, 6 - (int)(i % 3)); /* skewed */
      ts += g_rand_int_range(g, 0, 3) * 7 * S + g_rand_int_range(g, 0, 999);
      v[i].ts[k] = ts;
    }
    v[i].y = g_rand_boolean(g);
    v[i].cut = v[i].y ? g_rand_int_range(g, 0, (gint32)v[i].n + 1) : 0;
  }
  g_rand_free(g);
  return v;
}

typedef struct {
  PcWorldRank r;
  const Journey *j;
  size_t nj;
  int instances;       /* PcPaths per rank, merged in reverse order */
  PcJobConfig cfg;
  uint64_t y_total;
  uint64_t journeys;   /* as reduced on this rank */
  char *csv;           /* rank 0 only */
  uint64_t pool;       /* > 0: the rank's tables spill past this many bytes */
  uint64_t spilled;    /* runs written by this rank */
} RankJob;

/* What one rank does: count its journeys (j % size == rank) over several
 * instances, merge them, reduce. */
static gpointer rank_main(gpointer data) {
  RankJob *job = data;
  PcWorld *w = job->r.w;
  PcCommOps ops = pc_world_ops(&job->r);
  PcPaths *p[4];
  PcPreceding *q[4];
  g_autofree char *dir = job->pool ? g_dir_make_tmp("pc-spill-XXXXXX", NULL) : NULL;
  /* reduce budget 0: the walk cuts the smallest partitions (many rounds) */
  PcSpill *sp = job->pool ? pc_spill_new(dir, job->r.rank, (PcSpillBudget){job->pool, 0}, NULL) : NULL;
  for (int i = 0; i < job->instances; i++) {
    p[i] = pc_paths_new(&job->cfg);
    q[i] = pc_preceding_new(3, job->cfg.top_k);
    pc_paths_set_spill(p[i], sp);
    pc_preceding_set_spill(q[i], sp);
  }
  for (size_t i = job->r.rank, c = 0; i < job->nj; i += w->size, c++) {
    const Journey *j = &job->j[i];
    pc_paths_add(p[c % job->instances], j->tok, j->ts, j->n, j->y);
    if (j->y) pc_preceding_add(q[c % job->instances], j->tok, j->cut);
  }
  for (int i = job->instances - 1; i > 0; i--) {
    pc_paths_merge(p[0], p[i]);
    pc_preceding_merge(q[0], q[i]);
  }
  g_autoptr(PcDict) d = fixture_dict();
  GPtrArray *tabs = g_ptr_array_new_with_free_func((GDestroyNotify)pc_table_free);
  uint64_t journeys = 0;
  gboolean ok = pc_paths_reduce(p[0], &ops, d, tabs, &journeys, NULL) &&
                pc_preceding_reduce(q[0], &ops, d, job->y_total, tabs, NULL);
  job->journeys = journeys;
  if (!ok) job->csv = g_strdup("reduce failed");
  else if (job->r.rank == 0) job->csv = all_csv(tabs);
  else if (tabs->len != 0) job->csv = g_strdup("non-root appended");
  g_ptr_array_unref(tabs);
  for (int i = 0; i < job->instances; i++) {
    pc_paths_free(p[i]);
    pc_preceding_free(q[i]);
  }
  job->spilled = pc_spill_runs(sp);
  if (sp && !pc_spill_check(sp, NULL)) job->csv = g_strdup("spill failed");
  pc_spill_free(sp);
  if (dir) CU_ASSERT_FALSE(g_file_test(dir, G_FILE_TEST_EXISTS) && g_rmdir(dir) != 0);
  return NULL;
}

static char *run_world_spill(int size, int instances, const Journey *j,
                             size_t nj, PcJobConfig cfg, uint64_t pool,
                             uint64_t *spilled) {
  PcWorld w;
  pc_world_init(&w, size);
  uint64_t y = 0;
  for (size_t i = 0; i < nj; i++) y += j[i].y;
  RankJob jobs[8];
  GThread *th[8];
  for (int r = 0; r < size; r++) {
    jobs[r] = (RankJob){{&w, r}, j, nj, instances, cfg, y, 0, NULL, pool, 0};
    th[r] = g_thread_new("rank", rank_main, &jobs[r]);
  }
  for (int r = 0; r < size; r++) g_thread_join(th[r]);
  for (int r = 0; spilled && r < size; r++) *spilled += jobs[r].spilled;
  /* every rank gets the total; whole customers: one journey each */
  if (cfg.unit == PC_UNIT_CUSTOMER) CU_ASSERT_EQUAL(jobs[0].journeys, nj);
  for (int r = 1; r < size; r++) {
    CU_ASSERT_EQUAL(jobs[r].journeys, jobs[0].journeys);
    CU_ASSERT_PTR_NULL(jobs[r].csv);
    g_free(jobs[r].csv);
  }
  pc_world_clear(&w);
  return jobs[0].csv;
}

static char *run_world(int size, int instances, const Journey *j, size_t nj,
                       PcJobConfig cfg) {
  return run_world_spill(size, instances, j, nj, cfg, 0, NULL);
}

/* 1 rank x 1 instance is the reference; 1x3, 2x1, 2x2, 3x2 and 5x1 must
 * give the same bytes. top_k = 4 and min_support = 3 make the top-k cut
 * and the after-merge pruning matter (keys spread over owners). */
static void test_determinism(void) {
  const size_t nj = 400;
  g_autofree Journey *j = random_journeys(nj);
  PcJobConfig cfg = fixture_cfg();
  cfg.top_k = 4;
  cfg.min_support = 3;
  cfg.ngram_max = 4;
  cfg.depth = 5;
  g_autofree char *ref = run_world(1, 1, j, nj, cfg);
  CU_ASSERT_PTR_NOT_NULL_FATAL(ref);
  CU_ASSERT(strstr(ref, "[variants]\nrank,journeys") != NULL);
  CU_ASSERT(strstr(ref, "[preceding_paths]\n") != NULL);
  CU_ASSERT(strstr(ref, "\n4,4,") != NULL); /* 4-grams present */
  static const int shape[][2] = {{1, 3}, {2, 1}, {2, 2}, {3, 2}, {5, 1}};
  for (size_t s = 0; s < G_N_ELEMENTS(shape); s++) {
    g_autofree char *got = run_world(shape[s][0], shape[s][1], j, nj, cfg);
    CU_ASSERT_PTR_NOT_NULL_FATAL(got);
    CU_ASSERT_STRING_EQUAL(got, ref);
  }
  /* with sessions and collapse too */
  cfg.unit = PC_UNIT_SESSION;
  cfg.session_gap_s = 10;
  cfg.collapse_repeats = TRUE;
  g_autofree char *ref2 = run_world(1, 1, j, nj, cfg);
  g_autofree char *got2 = run_world(3, 2, j, nj, cfg);
  CU_ASSERT_STRING_EQUAL(got2, ref2);
  CU_ASSERT_STRING_NOT_EQUAL(ref2, ref);
}

/* Spilling (pc_spill.h): with a pool of a few KiB every table writes runs
 * while counting and is walked in partitions at reduce, on every rank and
 * thread instance: the tables are the bytes of the in-memory run, at 1..3
 * ranks, and the spill directory is gone afterwards. */
static void test_spilled_equals_memory(void) {
  const size_t nj = 400;
  g_autofree Journey *j = random_journeys(nj);
  PcJobConfig cfg = fixture_cfg();
  cfg.top_k = 4;
  cfg.min_support = 3;
  cfg.ngram_max = 4;
  cfg.depth = 5;
  g_autofree char *ref = run_world(1, 1, j, nj, cfg);
  static const int shape[][2] = {{1, 1}, {1, 3}, {2, 2}, {3, 2}};
  static const uint64_t pool[] = {1, 4096, 1, 16384};
  for (size_t s = 0; s < G_N_ELEMENTS(shape); s++) {
    uint64_t runs = 0;
    g_autofree char *got = run_world_spill(shape[s][0], shape[s][1], j, nj, cfg, pool[s], &runs);
    CU_ASSERT_PTR_NOT_NULL_FATAL(got);
    CU_ASSERT_STRING_EQUAL(got, ref);
    CU_ASSERT(runs >= 8); /* it did spill: every table, many times */
  }
}

/* Serial ops, merge orders: instances merged 0<-1<-2 and 2<-0<-1. */
static void test_merge_order(void) {
  const size_t nj = 200;
  g_autofree Journey *j = random_journeys(nj);
  PcJobConfig cfg = fixture_cfg();
  char *text[2];
  for (int order = 0; order < 2; order++) {
    PcPaths *p[3];
    for (int i = 0; i < 3; i++) p[i] = pc_paths_new(&cfg);
    for (size_t i = 0; i < nj; i++)
      pc_paths_add(p[(i * 7) % 3], j[i].tok, j[i].ts, j[i].n, j[i].y);
    int dst = order ? 2 : 0;
    for (int k = 0; k < 3; k++)
      if (k != dst) pc_paths_merge(p[dst], p[k]);
    CU_ASSERT(pc_paths_memory_bytes(p[dst]) > 0);
    Out o = reduce_serial(p[dst]);
    CU_ASSERT_EQUAL(o.journeys, nj);
    text[order] = all_csv(o.tables);
    out_clear(&o);
    for (int i = 0; i < 3; i++) pc_paths_free(p[i]);
  }
  CU_ASSERT_STRING_EQUAL(text[0], text[1]);
  g_free(text[0]);
  g_free(text[1]);
}

/* Token ids below 256 are counted in dense arrays, larger ones in the hash
 * tables: the same journeys with ids shifted by 1000 (same names, through a
 * dictionary with 1000 names sorted before them) give the same tables. */
static char *count_with_offset(const Journey *j, size_t nj, uint32_t off) {
  GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
  for (uint32_t i = 0; i < off; i++) g_ptr_array_add(names, g_strdup_printf("a%04u", i));
  for (uint32_t i = 0; i < 6; i++) g_ptr_array_add(names, g_strdup_printf("n%03u", i));
  PcDict *d = pc_dict_new_sorted((char **)names->pdata, names->len);
  PcJobConfig cfg = fixture_cfg();
  PcPaths *p[2] = {pc_paths_new(&cfg), pc_paths_new(&cfg)};
  for (size_t i = 0; i < nj; i++) {
    uint32_t tok[16];
    for (size_t k = 0; k < j[i].n; k++) tok[k] = j[i].tok[k] + off;
    pc_paths_add(p[i % 2], tok, j[i].ts, j[i].n, j[i].y);
  }
  pc_paths_merge(p[0], p[1]);
  GPtrArray *tables = g_ptr_array_new_with_free_func((GDestroyNotify)pc_table_free);
  uint64_t journeys = 0;
  CU_ASSERT(pc_paths_reduce(p[0], pc_commops_serial(), d, tables, &journeys, NULL));
  char *text = all_csv(tables);
  g_ptr_array_unref(tables);
  pc_paths_free(p[0]);
  pc_paths_free(p[1]);
  pc_dict_free(d);
  g_ptr_array_unref(names);
  return text;
}

static void test_dense_equals_hashed(void) {
  const size_t nj = 300;
  g_autofree Journey *j = random_journeys(nj);
  g_autofree char *dense = count_with_offset(j, nj, 0);
  g_autofree char *hashed = count_with_offset(j, nj, 1000);
  CU_ASSERT_STRING_EQUAL(dense, hashed);
  CU_ASSERT_PTR_NOT_NULL(strstr(dense, "n000"));
}

PC_TEST_MAIN("paths", {"/paths/variants", test_variants},
             {"/paths/ngrams", test_ngrams},
             {"/paths/transitions", test_transitions},
             {"/paths/transitions_dollar_tie", test_transitions_dollar_tie},
             {"/paths/prefix_tree", test_prefix_tree},
             {"/paths/prefix_prune_depth", test_prefix_prune_depth},
             {"/paths/prefix_prune_after_merge", test_prefix_prune_after_merge},
             {"/paths/top_k", test_top_k}, {"/paths/collapse", test_collapse},
             {"/paths/sessions", test_sessions}, {"/paths/dense_equals_hashed", test_dense_equals_hashed},
             {"/paths/sessions_then_collapse", test_sessions_then_collapse},
             {"/paths/gap_sum_exceeds_int64", test_gap_sum_exceeds_int64},
             {"/paths/preceding", test_preceding},
             {"/paths/preceding_top_k_merge", test_preceding_top_k_merge},
             {"/paths/determinism_ranks", test_determinism},
             {"/paths/spilled_equals_memory", test_spilled_equals_memory},
             {"/paths/merge_order", test_merge_order})
