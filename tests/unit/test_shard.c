/* test_shard.c - PcShardBuilder of src/shardbuild.c: where journey order
 * and its ties are decided. Rows go in scrambled; the shard must come out
 * with customers sorted by (bucket, id bytes), events grouped by customer
 * and sorted by (ts, event bytes, channel bytes, value), names sorted and
 * remapped, duplicates kept, and the same bytes for any insertion order.
 *
 * Buckets are FNV-1a-64(id) mod B, recomputed here by ref_fnv (written
 * from the published constants, not pc_fnv1a64). For B = 4:
 *   "a" 0xaf63dc4c8601ec8c -> 0    "e" 0xaf63d84c8601e5c0 -> 0
 *   "b" 0xaf63df4c8601f1a5 -> 1    "ab" 0x089c4407b545986a -> 2
 *   "a!" 0x089c0307b54529f7 -> 3   "q" 0xaf63ec4c860207bc -> 0
 *   "zz" 0x08f74e07b5925515 -> 1
 * (low hex digit mod 4: c->0, 0->0, 5->1, a->2, 7->3, c->0, 5->1).
 */
#include "pc_shard.h"
#include "pc_test.h"

/* ---- Fixture --------------------------------------------------------------- */

typedef struct {
  const char *id;
  int64_t ts;
  const char *channel, *event;
  int64_t value;
} Row;

/* Scrambled rows. First-seen name ids (web 0, app 1, email 2; view 0,
 * click 1, buy 2, cart 3) differ from the bytewise ids the shard must use
 * (app 0, email 1, web 2; buy 0, cart 1, click 2, view 3). */
static const Row ROWS[] = {
    {"b", 200, "web", "view", 0},
    {"a", 100, "web", "view", 0},
    {"a!", 50, "app", "click", 1500000},
    {"a", 100, "app", "view", 0},
    {"a", 100, "web", "click", 0},
    {"b", 100, "email", "buy", 2000000},
    {"a", 100, "web", "view", -5},
    {"a", 100, "web", "view", 0}, /* duplicate of row 1: kept */
    {"ab", 300, "web", "cart", 0},
    {"a", 50, "email", "buy", 0},
    {"b", 200, "web", "view", 0}, /* duplicate of row 0: kept */
    {"e", -10, "app", "view", 7},
};
#define NROWS G_N_ELEMENTS(ROWS)

typedef struct {
  const char *id;
  int64_t revenue;
  const char *seg;
} Crm;

static const Crm CRM[] = {
    {"zz", 0, ""},
    {"b", 5000000, "silver"},
    {"a", 1000000, "gold"},
    {"q", -250000, "bronze"},
};
#define NCRM G_N_ELEMENTS(CRM)

static uint64_t ref_fnv(const char *s, size_t n) {
  uint64_t h = UINT64_C(0xcbf29ce484222325);
  for (size_t i = 0; i < n; i++) {
    h ^= (unsigned char)s[i];
    h *= UINT64_C(0x100000001b3);
  }
  return h;
}

static void add_row(PcShardBuilder *b, const Row *r) {
  pc_shard_builder_add_event(b, r->id, (uint32_t)strlen(r->id), r->ts,
                             r->channel, (uint32_t)strlen(r->channel),
                             r->event, (uint32_t)strlen(r->event), r->value);
}

static gboolean add_crm(PcShardBuilder *b, const Crm *c) {
  return pc_shard_builder_add_customer(b, c->id, (uint32_t)strlen(c->id),
                                       c->revenue, c->seg,
                                       (uint32_t)strlen(c->seg));
}

/* order[k]: index of the k-th row to add; crm_rev: customers table backward. */
static PcShardData *build(const size_t *order, gboolean crm_rev) {
  PcShardBuilder *b = pc_shard_builder_new(4);
  for (size_t k = 0; k < NROWS; k++) add_row(b, &ROWS[order ? order[k] : k]);
  for (size_t k = 0; k < NCRM; k++)
    CU_ASSERT_TRUE(add_crm(b, &CRM[crm_rev ? NCRM - 1 - k : k]));
  return pc_shard_builder_finish(b);
}

static gboolean id_is(const guint8 *bytes, const uint64_t *off, uint64_t i,
                      const char *want) {
  size_t n = strlen(want);
  return off[i + 1] - off[i] == n && memcmp(bytes + off[i], want, n) == 0;
}

/* ---- Customers ------------------------------------------------------------- */

/* Sorted by (bucket, id): bucket 0 {a, e}, 1 {b}, 2 {ab}, 3 {a!}:
 * a e b ab a!, offsets 0 1 2 3 5 7. */
static void test_customers_sorted(void) {
  g_autoptr(PcShardData) s = build(NULL, FALSE);
  CU_ASSERT_EQUAL(s->buckets, 4);
  CU_ASSERT_EQUAL_FATAL(s->n_customers, 5);
  const uint64_t off[] = {0, 1, 2, 3, 5, 7};
  for (int i = 0; i < 6; i++) CU_ASSERT_EQUAL(s->id_offsets[i], off[i]);
  CU_ASSERT_EQUAL(memcmp(s->id_bytes, "aebaba!", 7), 0);
  CU_ASSERT_TRUE(id_is(s->id_bytes, s->id_offsets, 0, "a"));
  CU_ASSERT_TRUE(id_is(s->id_bytes, s->id_offsets, 3, "ab"));
  CU_ASSERT_TRUE(id_is(s->id_bytes, s->id_offsets, 4, "a!"));
}

/* One bucket: pure bytewise order, a proper prefix first, 'Z' before 'a',
 * bytes >= 0x80 last: Z a a! ab b é. */
static void test_customers_bytewise_one_bucket(void) {
  const char *ids[] = {"b", "a", "a!", "ab", "\xc3\xa9", "Z"};
  PcShardBuilder *b = pc_shard_builder_new(1);
  for (size_t i = 0; i < G_N_ELEMENTS(ids); i++)
    pc_shard_builder_add_event(b, ids[i], (uint32_t)strlen(ids[i]), 1, "web",
                               3, "view", 4, 0);
  g_autoptr(PcShardData) s = pc_shard_builder_finish(b);
  const char *want[] = {"Z", "a", "a!", "ab", "b", "\xc3\xa9"};
  CU_ASSERT_EQUAL_FATAL(s->n_customers, 6);
  for (int i = 0; i < 6; i++)
    CU_ASSERT_TRUE(id_is(s->id_bytes, s->id_offsets, i, want[i]));
  CU_ASSERT_EQUAL(s->bucket_customers[0], 6);
  CU_ASSERT_EQUAL(s->bucket_events[0], 6);
}

/* ---- Events ------------------------------------------------------------------ */

/* Expected (customer, ts, channel, event, value) with the sorted ids
 * app 0 email 1 web 2; buy 0 cart 1 click 2 view 3:
 *  a: 50 email buy | 100 web click (click < view beats app < web) |
 *     100 app view | 100 web view -5 | 100 web view 0 | 100 web view 0
 *  e: -10 app view 7
 *  b: 100 email buy 2000000 | 200 web view 0 | 200 web view 0
 *  ab: 300 web cart    a!: 50 app click 1500000 */
static const struct {
  uint32_t cust;
  int64_t ts;
  uint32_t ch, ev;
  int64_t value;
} WANT_EV[] = {
    {0, 50, 1, 0, 0},   {0, 100, 2, 2, 0},       {0, 100, 0, 3, 0},
    {0, 100, 2, 3, -5}, {0, 100, 2, 3, 0},       {0, 100, 2, 3, 0},
    {1, -10, 0, 3, 7},  {2, 100, 1, 0, 2000000}, {2, 200, 2, 3, 0},
    {2, 200, 2, 3, 0},  {3, 300, 2, 1, 0},       {4, 50, 0, 2, 1500000},
};

static void assert_events(const PcShardData *s) {
  CU_ASSERT_EQUAL_FATAL(s->n_events, G_N_ELEMENTS(WANT_EV));
  for (size_t i = 0; i < G_N_ELEMENTS(WANT_EV); i++) {
    CU_ASSERT_EQUAL(s->ev_customer[i], WANT_EV[i].cust);
    CU_ASSERT_EQUAL(s->ev_ts[i], WANT_EV[i].ts);
    CU_ASSERT_EQUAL(s->ev_channel[i], WANT_EV[i].ch);
    CU_ASSERT_EQUAL(s->ev_event[i], WANT_EV[i].ev);
    CU_ASSERT_EQUAL(s->ev_value[i], WANT_EV[i].value);
  }
}

/* All 12 rows, grouped and in journey-key order, duplicates kept. */
static void test_events_sorted(void) {
  g_autoptr(PcShardData) s = build(NULL, FALSE);
  assert_events(s);
}

/* Ties at one timestamp, names chosen so that first-seen order, channel
 * order and event order all disagree. One customer, ts 5 everywhere:
 *   rows: (ch "b", ev "y", 1) (ch "a", ev "y", 1) (ch "a", ev "x", 9)
 *         (ch "a", ev "y", 0) (ch "a", ev "x!", 0)
 * events sorted x 0, x! 1, y 2 ("x" a proper prefix of "x!");
 * channels a 0, b 1. Key order: (x,a,9) (x!,a,0) (y,a,0) (y,a,1) (y,b,1). */
static void test_events_ties(void) {
  PcShardBuilder *b = pc_shard_builder_new(1);
  pc_shard_builder_add_event(b, "c", 1, 5, "b", 1, "y", 1, 1);
  pc_shard_builder_add_event(b, "c", 1, 5, "a", 1, "y", 1, 1);
  pc_shard_builder_add_event(b, "c", 1, 5, "a", 1, "x", 1, 9);
  pc_shard_builder_add_event(b, "c", 1, 5, "a", 1, "y", 1, 0);
  pc_shard_builder_add_event(b, "c", 1, 5, "a", 1, "x!", 2, 0);
  g_autoptr(PcShardData) s = pc_shard_builder_finish(b);
  const uint32_t ev[] = {0, 1, 2, 2, 2}, ch[] = {0, 0, 0, 0, 1};
  const int64_t val[] = {9, 0, 0, 1, 1};
  CU_ASSERT_EQUAL_FATAL(s->n_events, 5);
  for (int i = 0; i < 5; i++) {
    CU_ASSERT_EQUAL(s->ev_event[i], ev[i]);
    CU_ASSERT_EQUAL(s->ev_channel[i], ch[i]);
    CU_ASSERT_EQUAL(s->ev_value[i], val[i]);
    CU_ASSERT_EQUAL(s->ev_ts[i], 5);
  }
  CU_ASSERT_STRING_EQUAL(s->events->names[0], "x");
  CU_ASSERT_STRING_EQUAL(s->events->names[1], "x!");
}

/* ---- Dictionaries and pairs ---------------------------------------------------- */

/* Sorted, duplicate-free: channels app email web; events buy cart click view. */
static void test_dictionaries(void) {
  g_autoptr(PcShardData) s = build(NULL, FALSE);
  CU_ASSERT_EQUAL_FATAL(s->channels->n, 3);
  CU_ASSERT_STRING_EQUAL(s->channels->names[0], "app");
  CU_ASSERT_STRING_EQUAL(s->channels->names[1], "email");
  CU_ASSERT_STRING_EQUAL(s->channels->names[2], "web");
  CU_ASSERT_EQUAL_FATAL(s->events->n, 4);
  CU_ASSERT_STRING_EQUAL(s->events->names[0], "buy");
  CU_ASSERT_STRING_EQUAL(s->events->names[1], "cart");
  CU_ASSERT_STRING_EQUAL(s->events->names[2], "click");
  CU_ASSERT_STRING_EQUAL(s->events->names[3], "view");
}

/* Distinct (channel, event) pairs present, sorted: app-click (0,2),
 * app-view (0,3), email-buy (1,0), web-cart (2,1), web-click (2,2),
 * web-view (2,3). */
static void test_pairs(void) {
  g_autoptr(PcShardData) s = build(NULL, FALSE);
  const uint32_t want[] = {0, 2, 0, 3, 1, 0, 2, 1, 2, 2, 2, 3};
  CU_ASSERT_EQUAL_FATAL(s->n_pairs, 6);
  for (int i = 0; i < 12; i++) CU_ASSERT_EQUAL(s->pairs[i], want[i]);
}

/* Names are bytes with a length, not C strings; the last-name cache must
 * not take "we" for "web" nor "web" for "we". "webapp"+0 len 3 = "web",
 * "webapp"+3 len 3 = "app", then "we" (a prefix of the cached "web"), then
 * "web" again. Channels: app we web. */
static void test_names_not_nul_terminated(void) {
  const char *buf = "webapp";
  PcShardBuilder *b = pc_shard_builder_new(1);
  pc_shard_builder_add_event(b, "xyz", 1, 1, buf, 3, "viewing", 4, 0);
  pc_shard_builder_add_event(b, "xyz", 1, 2, buf + 3, 3, "view", 4, 0);
  pc_shard_builder_add_event(b, "xyz", 1, 3, "web", 2, "vie", 3, 0);
  pc_shard_builder_add_event(b, "xyz", 1, 4, "web", 3, "view", 4, 0);
  g_autoptr(PcShardData) s = pc_shard_builder_finish(b);
  CU_ASSERT_EQUAL_FATAL(s->channels->n, 3);
  CU_ASSERT_STRING_EQUAL(s->channels->names[0], "app");
  CU_ASSERT_STRING_EQUAL(s->channels->names[1], "we");
  CU_ASSERT_STRING_EQUAL(s->channels->names[2], "web");
  CU_ASSERT_EQUAL_FATAL(s->events->n, 2); /* vie view */
  CU_ASSERT_STRING_EQUAL(s->events->names[0], "vie");
  CU_ASSERT_STRING_EQUAL(s->events->names[1], "view");
  /* ts 1..4 -> channels web app we web, events view view vie view */
  const uint32_t ch[] = {2, 0, 1, 2}, ev[] = {1, 1, 0, 1};
  CU_ASSERT_EQUAL_FATAL(s->n_customers, 1);
  CU_ASSERT_TRUE(id_is(s->id_bytes, s->id_offsets, 0, "x"));
  for (int i = 0; i < 4; i++) {
    CU_ASSERT_EQUAL(s->ev_channel[i], ch[i]);
    CU_ASSERT_EQUAL(s->ev_event[i], ev[i]);
  }
}

/* ---- Bucket index -------------------------------------------------------------- */

/* Counts recomputed from ref_fnv: customers 2 1 1 1, events 7 3 1 1
 * (a 6 + e 1 | b 3 | ab 1 | a! 1). */
static void test_bucket_counts(void) {
  g_autoptr(PcShardData) s = build(NULL, FALSE);
  uint64_t ev[4] = {0}, cu[4] = {0};
  for (uint64_t c = 0; c < s->n_customers; c++) {
    const char *id = (const char *)s->id_bytes + s->id_offsets[c];
    size_t n = s->id_offsets[c + 1] - s->id_offsets[c];
    cu[ref_fnv(id, n) % 4]++;
  }
  for (size_t i = 0; i < NROWS; i++)
    ev[ref_fnv(ROWS[i].id, strlen(ROWS[i].id)) % 4]++;
  for (int k = 0; k < 4; k++) {
    CU_ASSERT_EQUAL(s->bucket_customers[k], cu[k]);
    CU_ASSERT_EQUAL(s->bucket_events[k], ev[k]);
  }
  const uint64_t want_cu[] = {2, 1, 1, 1}, want_ev[] = {7, 3, 1, 1};
  for (int k = 0; k < 4; k++) {
    CU_ASSERT_EQUAL(s->bucket_customers[k], want_cu[k]);
    CU_ASSERT_EQUAL(s->bucket_events[k], want_ev[k]);
  }
  /* and the header's helper agrees with the reference */
  CU_ASSERT_EQUAL(pc_bucket_of("a!", 2, 4), ref_fnv("a!", 2) % 4);
  CU_ASSERT_EQUAL(pc_bucket_of("a!", 2, 4), 3);
}

/* ---- Customers table --------------------------------------------------------- */

/* Sorted by (bucket, id): bucket 0 {a, q}, bucket 1 {b, zz}: a q b zz;
 * revenue 1000000 -250000 5000000 0; segments gold bronze silver "";
 * bucket_crm 2 2 0 0. "zz" has no event and still counts. */
static void test_crm_rows(void) {
  g_autoptr(PcShardData) s = build(NULL, FALSE);
  CU_ASSERT_EQUAL_FATAL(s->n_crm, 4);
  const char *ids[] = {"a", "q", "b", "zz"};
  const int64_t rev[] = {1000000, -250000, 5000000, 0};
  const uint64_t seg_off[] = {0, 4, 10, 16, 16};
  for (int i = 0; i < 4; i++) {
    CU_ASSERT_TRUE(id_is(s->crm_id_bytes, s->crm_id_offsets, i, ids[i]));
    CU_ASSERT_EQUAL(s->crm_revenue[i], rev[i]);
  }
  for (int i = 0; i < 5; i++) CU_ASSERT_EQUAL(s->crm_seg_offsets[i], seg_off[i]);
  CU_ASSERT_EQUAL(memcmp(s->crm_seg_bytes, "goldbronzesilver", 16), 0);
  const uint64_t bc[] = {2, 2, 0, 0};
  for (int k = 0; k < 4; k++) CU_ASSERT_EQUAL(s->bucket_crm[k], bc[k]);
}

/* A repeated customers-table id is refused (FALSE) and not added. */
static void test_crm_duplicate_refused(void) {
  PcShardBuilder *b = pc_shard_builder_new(4);
  CU_ASSERT_TRUE(pc_shard_builder_add_customer(b, "a", 1, 1000000, "gold", 4));
  CU_ASSERT_FALSE(pc_shard_builder_add_customer(b, "a", 1, 7, "x", 1));
  CU_ASSERT_TRUE(pc_shard_builder_add_customer(b, "a!", 2, 2, "", 0));
  CU_ASSERT_FALSE(pc_shard_builder_add_customer(b, "a!", 2, 3, "y", 1));
  g_autoptr(PcShardData) s = pc_shard_builder_finish(b);
  CU_ASSERT_EQUAL_FATAL(s->n_crm, 2); /* a (bucket 0), a! (bucket 3) */
  CU_ASSERT_TRUE(id_is(s->crm_id_bytes, s->crm_id_offsets, 0, "a"));
  CU_ASSERT_EQUAL(s->crm_revenue[0], 1000000); /* the first row stays */
  CU_ASSERT_EQUAL(s->crm_revenue[1], 2);
  CU_ASSERT_EQUAL(s->crm_seg_offsets[2], 4);    /* "gold" + "" */
  CU_ASSERT_EQUAL(s->n_customers, 0);           /* no events: no customers */
}

/* ---- Order independence and edges ---------------------------------------------- */

static void assert_same_shard(const PcShardData *x, const PcShardData *y) {
  CU_ASSERT_EQUAL_FATAL(x->n_customers, y->n_customers);
  CU_ASSERT_EQUAL_FATAL(x->n_events, y->n_events);
  CU_ASSERT_EQUAL_FATAL(x->n_crm, y->n_crm);
  CU_ASSERT_EQUAL_FATAL(x->n_pairs, y->n_pairs);
  uint64_t nc = x->n_customers, ne = x->n_events, nr = x->n_crm;
  CU_ASSERT_EQUAL(memcmp(x->id_offsets, y->id_offsets, (nc + 1) * 8), 0);
  CU_ASSERT_EQUAL(memcmp(x->id_bytes, y->id_bytes, x->id_offsets[nc]), 0);
  CU_ASSERT_EQUAL(memcmp(x->ev_customer, y->ev_customer, ne * 4), 0);
  CU_ASSERT_EQUAL(memcmp(x->ev_ts, y->ev_ts, ne * 8), 0);
  CU_ASSERT_EQUAL(memcmp(x->ev_channel, y->ev_channel, ne * 4), 0);
  CU_ASSERT_EQUAL(memcmp(x->ev_event, y->ev_event, ne * 4), 0);
  CU_ASSERT_EQUAL(memcmp(x->ev_value, y->ev_value, ne * 8), 0);
  CU_ASSERT_EQUAL(memcmp(x->pairs, y->pairs, x->n_pairs * 8), 0);
  CU_ASSERT_EQUAL(memcmp(x->bucket_events, y->bucket_events, 4 * 8), 0);
  CU_ASSERT_EQUAL(memcmp(x->bucket_customers, y->bucket_customers, 4 * 8), 0);
  CU_ASSERT_EQUAL(memcmp(x->bucket_crm, y->bucket_crm, 4 * 8), 0);
  CU_ASSERT_EQUAL(memcmp(x->crm_revenue, y->crm_revenue, nr * 8), 0);
  CU_ASSERT_EQUAL(memcmp(x->crm_seg_offsets, y->crm_seg_offsets, (nr + 1) * 8), 0);
  CU_ASSERT_EQUAL(memcmp(x->crm_id_bytes, y->crm_id_bytes, x->crm_id_offsets[nr]), 0);
  CU_ASSERT_EQUAL(memcmp(x->crm_seg_bytes, y->crm_seg_bytes, x->crm_seg_offsets[nr]), 0);
  CU_ASSERT_EQUAL_FATAL(x->channels->n, y->channels->n);
  CU_ASSERT_EQUAL_FATAL(x->events->n, y->events->n);
  for (guint i = 0; i < x->channels->n; i++)
    CU_ASSERT_STRING_EQUAL(x->channels->names[i], y->channels->names[i]);
  for (guint i = 0; i < x->events->n; i++)
    CU_ASSERT_STRING_EQUAL(x->events->names[i], y->events->names[i]);
}

/* Rows backward (names and ids are first seen in another order: app/view
 * from "e" first) and in a stride-5 order, customers table backward: the
 * same shard, byte for byte, and the expected events. */
static void test_insertion_order_free(void) {
  size_t rev[NROWS], stride[NROWS];
  for (size_t k = 0; k < NROWS; k++) {
    rev[k] = NROWS - 1 - k;
    stride[k] = k * 5 % NROWS; /* 5 and 12 coprime: a permutation */
  }
  g_autoptr(PcShardData) a = build(NULL, FALSE);
  g_autoptr(PcShardData) b = build(rev, TRUE);
  g_autoptr(PcShardData) c = build(stride, FALSE);
  assert_same_shard(a, b);
  assert_same_shard(a, c);
  assert_events(b);
  assert_events(c);
}

/* The builder counts rows as they come. */
static void test_builder_events_count(void) {
  PcShardBuilder *b = pc_shard_builder_new(4);
  CU_ASSERT_EQUAL(pc_shard_builder_events(b), 0);
  for (size_t k = 0; k < NROWS; k++) add_row(b, &ROWS[k]);
  CU_ASSERT_EQUAL(pc_shard_builder_events(b), 12);
  pc_shard_builder_free(b); /* freeing without finish is allowed */
}

/* No rows at all: an empty, well-formed shard. */
static void test_empty_builder(void) {
  g_autoptr(PcShardData) s = pc_shard_builder_finish(pc_shard_builder_new(3));
  CU_ASSERT_EQUAL(s->buckets, 3);
  CU_ASSERT_EQUAL(s->n_customers, 0);
  CU_ASSERT_EQUAL(s->n_events, 0);
  CU_ASSERT_EQUAL(s->n_crm, 0);
  CU_ASSERT_EQUAL(s->n_pairs, 0);
  CU_ASSERT_EQUAL(s->channels->n, 0);
  CU_ASSERT_EQUAL(s->events->n, 0);
  CU_ASSERT_EQUAL(s->id_offsets[0], 0);
  CU_ASSERT_EQUAL(s->crm_id_offsets[0], 0);
  for (int k = 0; k < 3; k++) {
    CU_ASSERT_EQUAL(s->bucket_events[k], 0);
    CU_ASSERT_EQUAL(s->bucket_customers[k], 0);
    CU_ASSERT_EQUAL(s->bucket_crm[k], 0);
  }
}

PC_TEST_MAIN("shard",
             {"/shard/customers_sorted", test_customers_sorted},
             {"/shard/customers_bytewise_one_bucket", test_customers_bytewise_one_bucket},
             {"/shard/events_sorted", test_events_sorted},
             {"/shard/events_ties", test_events_ties},
             {"/shard/dictionaries", test_dictionaries},
             {"/shard/pairs", test_pairs},
             {"/shard/names_not_nul_terminated", test_names_not_nul_terminated},
             {"/shard/bucket_counts", test_bucket_counts},
             {"/shard/crm_rows", test_crm_rows},
             {"/shard/crm_duplicate_refused", test_crm_duplicate_refused},
             {"/shard/insertion_order_free", test_insertion_order_free},
             {"/shard/builder_events_count", test_builder_events_count},
             {"/shard/empty_builder", test_empty_builder})
