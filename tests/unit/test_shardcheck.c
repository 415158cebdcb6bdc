/* test_shardcheck.c - the row checks of a shard slice (src/store/shardcheck.c)
 * on a hand-made shard of one bucket: customers "a" (web:view at t=10,
 * app:buy at t=20) and "b" (web:view at t=30), customers-table row "a".
 * The slice is read back intact, then one value at a time is damaged in
 * memory and the exact message checked.
 * Ids: channels app=0 web=1; events buy=0 view=1; pairs (0,0) (1,1).
 */
#include "pc_h5io.h"
#include "pc_shardcheck.h"
#include "pc_test.h"
#include "pc_time.h"

#include <glib/gstdio.h>

static char *dir, *path;
static PcShardMeta *meta;

/* The shard of the head comment, with B buckets, written and its meta read. */
static void setup(uint64_t B) {
  dir = g_dir_make_tmp("pc-test-shardcheck-XXXXXX", NULL);
  path = g_build_filename(dir, "s.h5", NULL);
  g_autoptr(PcShardBuilder) b = pc_shard_builder_new(B);
  pc_shard_builder_add_event(b, "a", 1, 10, "web", 3, "view", 4, 0);
  pc_shard_builder_add_event(b, "a", 1, 20, "app", 3, "buy", 3, 5000000);
  pc_shard_builder_add_event(b, "b", 1, 30, "web", 3, "view", 4, 0);
  pc_shard_builder_add_customer(b, "a", 1, 7000000, "gold", 4);
  g_autoptr(PcShardData) s = pc_shard_builder_finish(g_steal_pointer(&b));
  g_assert(pc_h5io_write_shard(path, s, NULL, NULL));
  g_assert(pc_h5io_read_meta(path, &meta, NULL));
}

static void teardown(void) {
  pc_shard_meta_free(meta);
  g_unlink(path);
  g_rmdir(dir);
  g_free(path);
  g_free(dir);
}

/* The slice of every bucket, read (and so checked) intact. */
static PcShardData *slice(uint32_t **bs, size_t *n) {
  *n = meta->buckets;
  *bs = g_new(uint32_t, *n);
  for (size_t i = 0; i < *n; i++) (*bs)[i] = (uint32_t)i;
  PcShardData *s = NULL;
  uint64_t bytes = 0;
  GError *e = NULL;
  CU_ASSERT_TRUE(pc_h5io_read_buckets(meta, *bs, *n, &s, &bytes, &e));
  CU_ASSERT_PTR_NULL(e);
  g_clear_error(&e);
  return s;
}

/* pc_shardcheck_slice on s fails with "SHARD: " + tail. */
static void expect(const PcShardData *s, const uint32_t *bs, size_t n, const char *tail) {
  GError *e = NULL;
  CU_ASSERT_FALSE(pc_shardcheck_slice(meta, bs, n, s, &e));
  CU_ASSERT_TRUE(g_error_matches(e, PC_ERROR, PC_ERROR_FORMAT));
  g_autofree char *want = g_strdup_printf("%s: %s", path, tail);
  CU_ASSERT_STRING_EQUAL(e ? e->message : "", want);
  g_clear_error(&e);
}

/* One value of the intact slice changed by body, then checked. */
#define CASE(name, body, tail)                              \
  static void name(void) {                                  \
    setup(1);                                               \
    g_autofree uint32_t *bs = NULL;                         \
    size_t n;                                               \
    g_autoptr(PcShardData) s = slice(&bs, &n);              \
    CU_ASSERT_TRUE(pc_shardcheck_slice(meta, bs, n, s, NULL)); \
    body;                                                   \
    expect(s, bs, n, tail);                                 \
    teardown();                                             \
  }

CASE(test_channel, s->ev_channel[2] = 2, "dataset events/channel: element 2 is 2, beyond the 2 names of dict/channels")
CASE(test_event, s->ev_event[0] = 7, "dataset events/event: element 0 is 7, beyond the 2 names of dict/events")
CASE(test_pair, s->ev_event[2] = 0, "dataset events/event: element 2 with events/channel forms the pair (1, 0), which dict/pairs does not list")
CASE(test_ts_high, s->ev_ts[1] = PC_TIME_US_MAX + 1, "dataset events/ts: element 1 is 253402387140000000, outside the timestamps of spec §1 (years 0000..9999)")
CASE(test_ts_low, s->ev_ts[0] = PC_TIME_US_MIN - 1, "dataset events/ts: element 0 is -62167305540000001, outside the timestamps of spec §1 (years 0000..9999)")
CASE(test_value, s->ev_value[1] = -PC_VALUE_LIMIT_MICROS, "dataset events/value: element 1 is -9000000000000000000 millionths, outside |value| < 9e12")
CASE(test_order, s->ev_ts[1] = 5, "dataset events/ts: element 1 breaks the journey order of its customer (timestamp, event, channel, value)")
CASE(test_grouping, s->ev_customer[1] = 1; s->ev_customer[2] = 0, "dataset events/customer: element 2 skips a customer or goes back: every customer of the bucket has events, grouped in customer order")
CASE(test_last_customer, s->ev_customer[2] = 0, "dataset events/customer: element 2 ends the bucket before its last customer, which then has no event")
CASE(test_id_bytes, s->id_bytes[1] = ',', "dataset customers/id_bytes: element 1 starts an id that is not a customer id of spec §1 (a control byte, ',' or '>')")
CASE(test_id_order, s->id_bytes[1] = 'a', "dataset customers/id_bytes: element 1 starts an id that repeats or comes before the previous one of bucket 0")
CASE(test_revenue, s->crm_revenue[0] = PC_VALUE_LIMIT_MICROS, "dataset crm/revenue: element 0 is 9000000000000000000 millionths, outside |revenue| < 9e12")

/* The upper timestamp bound itself is a valid timestamp (9999-12-31T23:59:59.999999-23:59). */
static void test_ts_bounds(void) {
  setup(1);
  g_autofree uint32_t *bs = NULL;
  size_t n;
  g_autoptr(PcShardData) s = slice(&bs, &n);
  s->ev_ts[0] = PC_TIME_US_MIN;
  s->ev_ts[1] = s->ev_ts[2] = PC_TIME_US_MAX;
  CU_ASSERT_TRUE(pc_shardcheck_slice(meta, bs, n, s, NULL));
  teardown();
}

/* With 4 buckets, "a" and "b" hash to their buckets; an id changed to one
 * of another bucket is refused naming the bucket it is filed under. */
static void test_wrong_bucket(void) {
  setup(4);
  g_autofree uint32_t *bs = NULL;
  size_t n;
  g_autoptr(PcShardData) s = slice(&bs, &n);
  char *first = (char *)s->id_bytes; /* customer 0 of the slice, one byte */
  uint32_t filed = pc_bucket_of(first, 1, 4);
  char other = 'c';
  while (pc_bucket_of(&other, 1, 4) == filed) other++;
  *first = other;
  g_autofree char *want = g_strdup_printf("%s: dataset customers/id_bytes: element 0 starts an id that is not of bucket %u, where the index files it", path, filed);
  GError *e = NULL;
  CU_ASSERT_FALSE(pc_shardcheck_slice(meta, bs, n, s, &e));
  CU_ASSERT_STRING_EQUAL(e ? e->message : "", want);
  g_clear_error(&e);
  teardown();
}

PC_TEST_MAIN("shardcheck",
             {"/shardcheck/channel", test_channel}, {"/shardcheck/event", test_event},
             {"/shardcheck/pair", test_pair}, {"/shardcheck/ts_high", test_ts_high},
             {"/shardcheck/ts_low", test_ts_low}, {"/shardcheck/ts_bounds", test_ts_bounds},
             {"/shardcheck/value", test_value}, {"/shardcheck/order", test_order},
             {"/shardcheck/grouping", test_grouping}, {"/shardcheck/last_customer", test_last_customer},
             {"/shardcheck/id_bytes", test_id_bytes}, {"/shardcheck/id_order", test_id_order},
             {"/shardcheck/revenue", test_revenue}, {"/shardcheck/wrong_bucket", test_wrong_bucket})
