/* test_core.c - the shared vocabulary of src/core.c: sorted dictionaries
 * (bytewise, a proper prefix first), the target cut of spec §4, FNV-1a-64,
 * the PcFix fixed point of exact sums and the serial PcCommOps.
 *
 * Expected values are worked out by hand in the comment next to each
 * assert; FNV vectors are the published ones of the FNV reference.
 */
#include "pc_commops.h"
#include "pc_core.h"
#include "pc_test.h"

#include <math.h>

/* ---- Dictionaries -------------------------------------------------------- */

/* Bytewise order: 'Z' 0x5A < 'a' 0x61; "a" is a proper prefix of "a!" and
 * "ab" so it comes first; '!' 0x21 < 'b' 0x62 so "a!" < "ab"; "\xc3\xa9"
 * (é in UTF-8) starts with 0xC3 >= 0x80, after every ASCII name. Duplicates
 * "a" and "b" collapse: 8 inputs, 6 names. */
static void test_dict_sorted_dedup(void) {
  char *in[] = {"b", "ab", "a!", "a", "\xc3\xa9", "Z", "a", "b"};
  g_autoptr(PcDict) d = pc_dict_new_sorted(in, G_N_ELEMENTS(in));
  CU_ASSERT_EQUAL(d->n, 6);
  CU_ASSERT_STRING_EQUAL(d->names[0], "Z");
  CU_ASSERT_STRING_EQUAL(d->names[1], "a");
  CU_ASSERT_STRING_EQUAL(d->names[2], "a!");
  CU_ASSERT_STRING_EQUAL(d->names[3], "ab");
  CU_ASSERT_STRING_EQUAL(d->names[4], "b");
  CU_ASSERT_STRING_EQUAL(d->names[5], "\xc3\xa9");
  CU_ASSERT_PTR_NULL(d->names[6]); /* NULL-terminated after dedup */
}

/* The dictionary copies: the caller's strings are not kept. */
static void test_dict_copies(void) {
  char buf[] = "x";
  char *in[] = {buf};
  g_autoptr(PcDict) d = pc_dict_new_sorted(in, 1);
  buf[0] = 'y';
  CU_ASSERT_EQUAL(d->n, 1);
  CU_ASSERT_STRING_EQUAL(d->names[0], "x");
  CU_ASSERT_PTR_NOT_EQUAL(d->names[0], buf);
}

/* All equal -> one name; no input -> empty dictionary, names[0] NULL. */
static void test_dict_all_equal_and_empty(void) {
  char *same[] = {"web", "web", "web"};
  g_autoptr(PcDict) d = pc_dict_new_sorted(same, 3);
  CU_ASSERT_EQUAL(d->n, 1);
  CU_ASSERT_STRING_EQUAL(d->names[0], "web");
  g_autoptr(PcDict) e = pc_dict_new_sorted(NULL, 0);
  CU_ASSERT_EQUAL(e->n, 0);
  CU_ASSERT_PTR_NULL(e->names[0]);
  CU_ASSERT_EQUAL(pc_dict_find(e, "web"), -1);
}

/* Sorted: Z=0 a=1 a!=2 ab=3 b=4 é=5. Misses: "aa" would sit between "a!"
 * and "ab", "" before everything, "c" between "b" and "é", "é!" last. */
static void test_dict_find(void) {
  char *in[] = {"b", "ab", "a!", "a", "\xc3\xa9", "Z"};
  g_autoptr(PcDict) d = pc_dict_new_sorted(in, G_N_ELEMENTS(in));
  CU_ASSERT_EQUAL(pc_dict_find(d, "Z"), 0);
  CU_ASSERT_EQUAL(pc_dict_find(d, "a"), 1);
  CU_ASSERT_EQUAL(pc_dict_find(d, "a!"), 2);
  CU_ASSERT_EQUAL(pc_dict_find(d, "ab"), 3);
  CU_ASSERT_EQUAL(pc_dict_find(d, "b"), 4);
  CU_ASSERT_EQUAL(pc_dict_find(d, "\xc3\xa9"), 5);
  CU_ASSERT_EQUAL(pc_dict_find(d, "aa"), -1);
  CU_ASSERT_EQUAL(pc_dict_find(d, ""), -1);
  CU_ASSERT_EQUAL(pc_dict_find(d, "c"), -1);
  CU_ASSERT_EQUAL(pc_dict_find(d, "\xc3\xa9!"), -1);
  CU_ASSERT_EQUAL(pc_dict_find(d, "A"), -1); /* case matters */
}

/* pc_bytes_cmp: memcmp order, a proper prefix first, empty smallest. */
static void test_bytes_cmp(void) {
  CU_ASSERT(pc_bytes_cmp("a", 1, "a!", 2) < 0);
  CU_ASSERT(pc_bytes_cmp("a!", 2, "ab", 2) < 0);
  CU_ASSERT(pc_bytes_cmp("ab", 2, "b", 1) < 0);
  CU_ASSERT(pc_bytes_cmp("z", 1, "\x80", 1) < 0); /* unsigned bytes */
  CU_ASSERT(pc_bytes_cmp("", 0, "a", 1) < 0);
  CU_ASSERT_EQUAL(pc_bytes_cmp("", 0, "", 0), 0);
  CU_ASSERT_EQUAL(pc_bytes_cmp("ab", 2, "abc", 2), 0); /* lengths rule */
  CU_ASSERT(pc_bytes_cmp("b", 1, "ab", 2) > 0);
}

/* pc_event_cmp: ts first, then event id, channel id, value. */
static void test_event_cmp(void) {
  PcEvent a = {100, 0, 2, 2}, b = a;
  CU_ASSERT_EQUAL(pc_event_cmp(&a, &b), 0);
  b.ts_us = 99; /* earlier ts wins over everything else */
  b.event = 9;
  CU_ASSERT_EQUAL(pc_event_cmp(&b, &a), -1);
  b = a;
  b.event = 1; /* same ts: lower event id first, even with a higher channel */
  b.channel = 7;
  CU_ASSERT_EQUAL(pc_event_cmp(&b, &a), -1);
  b = a;
  b.channel = 1;
  b.value = 5;
  CU_ASSERT_EQUAL(pc_event_cmp(&b, &a), -1);
  b = a;
  b.value = -1;
  CU_ASSERT_EQUAL(pc_event_cmp(&b, &a), -1);
  CU_ASSERT_EQUAL(pc_event_cmp(&a, &b), 1);
}

/* ---- Target cut ------------------------------------------------------------ */

static PcJourney journey(const PcEvent *ev, size_t n) {
  PcJourney j = {"c", 1, 0, ev, n, 0, FALSE, 0};
  return j;
}

/* Targets {2, 5}; events 1,5,2,5: the first target is index 1. */
static void test_target_first_wins(void) {
  uint32_t tev[] = {2, 5};
  PcTarget t = {2, tev};
  PcEvent ev[] = {{1, 0, 1, 0}, {2, 0, 5, 0}, {3, 0, 2, 0}, {4, 0, 5, 0}};
  PcJourney j = journey(ev, 4);
  size_t cut = 99;
  CU_ASSERT_TRUE(pc_target_cut(&t, &j, &cut));
  CU_ASSERT_EQUAL(cut, 1);
}

/* A target at index 0: y = 1 with an empty pre-target journey. */
static void test_target_at_start(void) {
  uint32_t tev[] = {0};
  PcTarget t = {1, tev};
  PcEvent ev[] = {{1, 0, 0, 0}, {2, 0, 3, 0}};
  PcJourney j = journey(ev, 2);
  size_t cut = 99;
  CU_ASSERT_TRUE(pc_target_cut(&t, &j, &cut));
  CU_ASSERT_EQUAL(cut, 0);
}

/* Targets configured but none in the journey: y = 0, cut = n = 3. */
static void test_target_absent(void) {
  uint32_t tev[] = {2, 5};
  PcTarget t = {2, tev};
  PcEvent ev[] = {{1, 0, 1, 0}, {2, 0, 3, 0}, {3, 0, 4, 0}};
  PcJourney j = journey(ev, 3);
  size_t cut = 99;
  CU_ASSERT_FALSE(pc_target_cut(&t, &j, &cut));
  CU_ASSERT_EQUAL(cut, 3);
}

/* No target configured (n = 0, or NULL): y = 0, cut = n = 2, even though
 * the journey holds event 2. */
static void test_target_none_configured(void) {
  PcTarget t = {0, NULL};
  PcEvent ev[] = {{1, 0, 2, 0}, {2, 0, 2, 0}};
  PcJourney j = journey(ev, 2);
  size_t cut = 99;
  CU_ASSERT_FALSE(pc_target_cut(&t, &j, &cut));
  CU_ASSERT_EQUAL(cut, 2);
  cut = 99;
  CU_ASSERT_FALSE(pc_target_cut(NULL, &j, &cut));
  CU_ASSERT_EQUAL(cut, 2);
}

/* Empty journey: y = 0, cut = 0. */
static void test_target_empty_journey(void) {
  uint32_t tev[] = {2};
  PcTarget t = {1, tev};
  PcJourney j = journey(NULL, 0);
  size_t cut = 99;
  CU_ASSERT_FALSE(pc_target_cut(&t, &j, &cut));
  CU_ASSERT_EQUAL(cut, 0);
}

/* ---- FNV-1a-64 --------------------------------------------------------------- */

/* Published test vectors of FNV-1a 64. */
static void test_fnv_vectors(void) {
  CU_ASSERT_EQUAL(pc_fnv1a64("", 0), UINT64_C(0xcbf29ce484222325));
  CU_ASSERT_EQUAL(pc_fnv1a64("a", 1), UINT64_C(0xaf63dc4c8601ec8c));
  CU_ASSERT_EQUAL(pc_fnv1a64("foobar", 6), UINT64_C(0x85944171f73967e8));
  /* Only len bytes count: "ab" of "abc" is FNV("ab") = 0x089c4407b545986a. */
  CU_ASSERT_EQUAL(pc_fnv1a64("abc", 2), UINT64_C(0x089c4407b545986a));
}

/* Bytes >= 0x80 are taken unsigned: "\xc3\xa9" = 0x0ac21707b7181e01
 * (the same computation in Python on b'\xc3\xa9'). */
static void test_fnv_high_bytes(void) {
  CU_ASSERT_EQUAL(pc_fnv1a64("\xc3\xa9", 2), UINT64_C(0x0ac21707b7181e01));
}

/* ---- PcFix ------------------------------------------------------------------- */

#define FIX_ONE ((PcFix)1 << 64)

/* value * 2^64: 1 -> 2^64, -1 -> -2^64, 0.5 -> 2^63, 2^-64 -> 1, 0 -> 0,
 * 3.25 -> 3 * 2^64 + 2^62. */
static void test_fix_exact_values(void) {
  CU_ASSERT(pc_fix_from_double(0.0) == 0);
  CU_ASSERT(pc_fix_from_double(-0.0) == 0);
  CU_ASSERT(pc_fix_from_double(1.0) == FIX_ONE);
  CU_ASSERT(pc_fix_from_double(-1.0) == -FIX_ONE);
  CU_ASSERT(pc_fix_from_double(0.5) == ((PcFix)1 << 63));
  CU_ASSERT(pc_fix_from_double(0x1p-64) == 1);
  CU_ASSERT(pc_fix_from_double(-0x1p-64) == -1);
  CU_ASSERT(pc_fix_from_double(3.25) == 3 * FIX_ONE + ((PcFix)1 << 62));
  CU_ASSERT(pc_fix_from_double(0x1p61) == ((PcFix)1 << 125));
}

/* Below the last fractional bit: 2^-65 is half a unit and rounds away from
 * zero to 1 (-1 for the negative); 2^-66 is a quarter unit and rounds to 0;
 * 1.5 * 2^-64 rounds (half away) to 2. */
static void test_fix_rounding(void) {
  CU_ASSERT(pc_fix_from_double(0x1p-65) == 1);
  CU_ASSERT(pc_fix_from_double(-0x1p-65) == -1);
  CU_ASSERT(pc_fix_from_double(0x1p-66) == 0);
  CU_ASSERT(pc_fix_from_double(0x1.8p-64) == 2);
}

/* Every double whose last mantissa bit is >= 2^-64 is held exactly, so
 * to_double(from_double(x)) == x: 0.1 (last bit 2^-56), 1e-3 (2^-62),
 * -123456.789 (2^-36), 1e15, 2^61. */
static void test_fix_round_trip(void) {
  const double xs[] = {0.0, 1.0, -1.0, 0.1, -0.1, 1e-3, -123456.789,
                       1e15, 0x1p61, -0x1p61, 3.25, 0x1p-64};
  for (size_t i = 0; i < G_N_ELEMENTS(xs); i++)
    CU_ASSERT_EQUAL(pc_fix_to_double(pc_fix_from_double(xs[i])), xs[i]);
  CU_ASSERT_EQUAL(pc_fix_to_double(FIX_ONE + 1), 1.0); /* 1 + 2^-64 -> 1 */
  CU_ASSERT_EQUAL(pc_fix_to_double(-3 * FIX_ONE), -3.0);
}

/* The case where doubles fail: (1e16 + 1) - 1e16 = 0 in double (the ulp at
 * 1e16 is 2, 1e16 + 1 ties to even 1e16), (1e16 - 1e16) + 1 = 1. In fixed
 * point both orders give exactly 1.0. */
static void test_fix_sum_small_order_free(void) {
  volatile double big = 1e16, one = 1.0;
  CU_ASSERT_EQUAL((big + one) - big, 0.0);
  CU_ASSERT_EQUAL((big - big) + one, 1.0);
  PcFix a = pc_fix_from_double(1e16) + pc_fix_from_double(1.0) +
            pc_fix_from_double(-1e16);
  PcFix b = pc_fix_from_double(1e16) + pc_fix_from_double(-1e16) +
            pc_fix_from_double(1.0);
  CU_ASSERT(a == FIX_ONE);
  CU_ASSERT(b == FIX_ONE);
  CU_ASSERT_EQUAL(pc_fix_to_double(a), 1.0);
}

/* 10007 doubles of magnitudes 1e-6 .. 1e9 and both signs (a fixed LCG):
 * summed forward, backward and in the stride-7919 order (7919 and 10007
 * are coprime, so every index once) -> the same 128 bits. */
#define N_MANY 10007
static void test_fix_sum_many_order_free(void) {
  g_autofree double *x = g_new(double, N_MANY);
  uint64_t s = 12345;
  for (int i = 0; i < N_MANY; i++) {
    s = s * UINT64_C(6364136223846793005) + UINT64_C(1442695040888963407);
    double u = (double)(s >> 11) / 0x1p53 - 0.5;
    x[i] = u * pow(10.0, (double)((s >> 3) % 16) - 6.0);
  }
  PcFix fwd = 0, bwd = 0, str = 0;
  for (int i = 0; i < N_MANY; i++) fwd += pc_fix_from_double(x[i]);
  for (int i = N_MANY - 1; i >= 0; i--) bwd += pc_fix_from_double(x[i]);
  for (int k = 0; k < N_MANY; k++)
    str += pc_fix_from_double(x[(size_t)k * 7919 % N_MANY]);
  CU_ASSERT_EQUAL(memcmp(&fwd, &bwd, sizeof fwd), 0);
  CU_ASSERT_EQUAL(memcmp(&fwd, &str, sizeof fwd), 0);
  CU_ASSERT(fwd != 0);
}

/* ---- Serial PcCommOps --------------------------------------------------------- */

/* One rank: rank 0 of 1; sums leave values as they are. */
static void test_serial_sums(void) {
  const PcCommOps *ops = pc_commops_serial();
  CU_ASSERT_EQUAL(ops->rank, 0);
  CU_ASSERT_EQUAL(ops->size, 1);
  CU_ASSERT_PTR_EQUAL(ops, pc_commops_serial()); /* static storage */
  PcFix f[2] = {FIX_ONE, -7};
  int64_t v[3] = {1, -2, INT64_MAX};
  CU_ASSERT_TRUE(ops->sum_fix(ops->ctx, f, 2, NULL));
  CU_ASSERT_TRUE(ops->sum_i64(ops->ctx, v, 3, NULL));
  CU_ASSERT(f[0] == FIX_ONE && f[1] == -7);
  CU_ASSERT_EQUAL(v[0], 1);
  CU_ASSERT_EQUAL(v[1], -2);
  CU_ASSERT_EQUAL(v[2], INT64_MAX);
}

/* gather: rank 0 gets a copy of its own 5 bytes. */
static void test_serial_gather(void) {
  const PcCommOps *ops = pc_commops_serial();
  GByteArray *out = NULL;
  CU_ASSERT_TRUE(ops->gather(ops->ctx, "hello", 5, &out, NULL));
  CU_ASSERT_PTR_NOT_NULL_FATAL(out);
  CU_ASSERT_EQUAL(out->len, 5);
  CU_ASSERT_EQUAL(memcmp(out->data, "hello", 5), 0);
  g_byte_array_unref(out);
}

/* bcast: the root's buffer stays as is; exchange: send[0] comes back. */
static void test_serial_bcast_exchange(void) {
  const PcCommOps *ops = pc_commops_serial();
  char data[] = "abc";
  void *buf = data;
  size_t len = 3;
  CU_ASSERT_TRUE(ops->bcast(ops->ctx, &buf, &len, NULL));
  CU_ASSERT_PTR_EQUAL(buf, data);
  CU_ASSERT_EQUAL(len, 3);
  GByteArray *send[1] = {g_byte_array_new()};
  g_byte_array_append(send[0], (const guint8 *)"xyz!", 4);
  GByteArray *recv = NULL;
  CU_ASSERT_TRUE(ops->exchange(ops->ctx, send, &recv, NULL));
  CU_ASSERT_PTR_NOT_NULL_FATAL(recv);
  CU_ASSERT_EQUAL(recv->len, 4);
  CU_ASSERT_EQUAL(memcmp(recv->data, "xyz!", 4), 0);
  CU_ASSERT_PTR_NOT_EQUAL(recv, send[0]);
  g_byte_array_unref(recv);
  g_byte_array_unref(send[0]);
}

/* exchange of an empty buffer gives an empty, non-NULL array. */
static void test_serial_exchange_empty(void) {
  const PcCommOps *ops = pc_commops_serial();
  GByteArray *send[1] = {g_byte_array_new()};
  GByteArray *recv = NULL;
  CU_ASSERT_TRUE(ops->exchange(ops->ctx, send, &recv, NULL));
  CU_ASSERT_PTR_NOT_NULL_FATAL(recv);
  CU_ASSERT_EQUAL(recv->len, 0);
  g_byte_array_unref(recv);
  g_byte_array_unref(send[0]);
}

/* ---- Errors ------------------------------------------------------------------ */

/* Domain PC_ERROR, the given code, the formatted message; NULL is allowed. */
static void test_set_error(void) {
  GError *e = NULL;
  pc_set_error(&e, PC_ERROR_FORMAT, "%s:%d: bad", "f.csv", 3);
  CU_ASSERT_PTR_NOT_NULL_FATAL(e);
  CU_ASSERT_EQUAL(e->domain, PC_ERROR);
  CU_ASSERT_EQUAL(e->code, PC_ERROR_FORMAT);
  CU_ASSERT_STRING_EQUAL(e->message, "f.csv:3: bad");
  g_error_free(e);
  pc_set_error(NULL, PC_ERROR_IO, "ignored %d", 1); /* must not crash */
}

/* pc_set_error keeps the message as written; with PARCOURS_DEBUG it ends
 * with the file and line of the call (this file, the line below). */
static void test_error_location(void) {
  GError *e = NULL;
  g_unsetenv("PARCOURS_DEBUG");
  pc_set_error(&e, PC_ERROR_IO, "x %d", 7);
  CU_ASSERT_TRUE(g_error_matches(e, PC_ERROR, PC_ERROR_IO));
  CU_ASSERT_STRING_EQUAL(e->message, "x 7");
  g_clear_error(&e);
  g_setenv("PARCOURS_DEBUG", "1", TRUE);
  int line = __LINE__ + 1;
  pc_set_error(&e, PC_ERROR_FORMAT, "y");
  g_autofree char *want = g_strdup_printf("y [%s:%d]", __FILE__, line);
  CU_ASSERT_STRING_EQUAL(e->message, want);
  g_clear_error(&e);
  g_unsetenv("PARCOURS_DEBUG");
  pc_set_error(NULL, PC_ERROR_IO, "ignored"); /* NULL error: no effect */
}

PC_TEST_MAIN("core",
             {"/core/error_location", test_error_location},
             {"/core/dict_sorted_dedup", test_dict_sorted_dedup},
             {"/core/dict_copies", test_dict_copies},
             {"/core/dict_all_equal_and_empty", test_dict_all_equal_and_empty},
             {"/core/dict_find", test_dict_find},
             {"/core/bytes_cmp", test_bytes_cmp},
             {"/core/event_cmp", test_event_cmp},
             {"/core/target_first_wins", test_target_first_wins},
             {"/core/target_at_start", test_target_at_start},
             {"/core/target_absent", test_target_absent},
             {"/core/target_none_configured", test_target_none_configured},
             {"/core/target_empty_journey", test_target_empty_journey},
             {"/core/fnv_vectors", test_fnv_vectors},
             {"/core/fnv_high_bytes", test_fnv_high_bytes},
             {"/core/fix_exact_values", test_fix_exact_values},
             {"/core/fix_rounding", test_fix_rounding},
             {"/core/fix_round_trip", test_fix_round_trip},
             {"/core/fix_sum_small_order_free", test_fix_sum_small_order_free},
             {"/core/fix_sum_many_order_free", test_fix_sum_many_order_free},
             {"/core/serial_sums", test_serial_sums},
             {"/core/serial_gather", test_serial_gather},
             {"/core/serial_bcast_exchange", test_serial_bcast_exchange},
             {"/core/serial_exchange_empty", test_serial_exchange_empty},
             {"/core/set_error", test_set_error})
