/* test_seqtab.c - PcSeqTab: upsert, growth, merge, the byte form and its
 * owner partition, the fixed hash and the sequence order. */
#include "pc_seqtab.h"
#include "pc_test.h"

/* The hash is FNV-1a 64 of the little-endian token bytes, then fmix64. */
static uint64_t ref_hash(const uint32_t *seq, size_t len) {
  guint8 b[64];
  for (size_t i = 0; i < len; i++)
    for (int j = 0; j < 4; j++) b[4 * i + j] = (guint8)(seq[i] >> (8 * j));
  return pc_seqtab_hash_final(pc_fnv1a64(b, len * 4));
}

static void test_hash_fixed(void) {
  static const uint32_t s[3] = {1, 0x01020304u, 0xFFFFFFFEu};
  CU_ASSERT_EQUAL(pc_seqtab_hash(s, 3), ref_hash(s, 3));
  CU_ASSERT_EQUAL(pc_seqtab_hash(NULL, 0), ref_hash(NULL, 0));
  /* fmix64 of the FNV offset basis: a constant, whatever the platform */
  CU_ASSERT_EQUAL(pc_seqtab_hash(NULL, 0),
                  pc_seqtab_hash_final(UINT64_C(14695981039346656037)));
  CU_ASSERT_NOT_EQUAL(pc_seqtab_hash(s, 2), pc_seqtab_hash(s, 3));
}

static void test_upsert(void) {
  g_autoptr(PcSeqTab) t = pc_seqtab_new(2);
  static const uint32_t ab[2] = {1, 2}, a[1] = {1};
  int64_t *c = pc_seqtab_upsert(t, ab, 2);
  CU_ASSERT_EQUAL(c[0], 0); /* zero on insert */
  CU_ASSERT_EQUAL(c[1], 0);
  c[0] += 5;
  c[1] -= 2;
  pc_seqtab_upsert(t, a, 1)[0] = 7;
  pc_seqtab_upsert(t, NULL, 0)[1] = 9; /* the empty sequence is a key */
  CU_ASSERT_EQUAL(pc_seqtab_size(t), 3);
  c = pc_seqtab_upsert(t, ab, 2); /* found, not inserted */
  CU_ASSERT_EQUAL(pc_seqtab_size(t), 3);
  CU_ASSERT_EQUAL(c[0], 5);
  CU_ASSERT_EQUAL(c[1], -2);
  CU_ASSERT_EQUAL(pc_seqtab_lookup(t, a, 1)[0], 7);
  CU_ASSERT_EQUAL(pc_seqtab_lookup(t, NULL, 0)[1], 9);
  static const uint32_t ba[2] = {2, 1};
  CU_ASSERT_PTR_NULL(pc_seqtab_lookup(t, ba, 2));
  CU_ASSERT_PTR_NULL(pc_seqtab_lookup(t, ab + 1, 1)); /* {2} */
  CU_ASSERT_EQUAL(pc_seqtab_k(t), 2);
}

/* 200000 keys of lengths 0..5 force many slot and arena growths. */
static void test_grow(void) {
  g_autoptr(PcSeqTab) t = pc_seqtab_new(1);
  uint32_t s[5];
  for (uint32_t i = 0; i < 200000; i++) {
    size_t len = i % 6;
    for (size_t j = 0; j < len; j++) s[j] = i * 7 + (uint32_t)j;
    pc_seqtab_upsert_hashed(t, s, len, pc_seqtab_hash(s, len))[0] += i + 1;
  }
  /* keys of length 0 all coincide: 33334 of them (i % 6 == 0) */
  CU_ASSERT_EQUAL(pc_seqtab_size(t), 200000 - 33334 + 1);
  int ok = 1;
  for (uint32_t i = 1; i < 200000; i++) {
    size_t len = i % 6;
    if (!len) continue;
    for (size_t j = 0; j < len; j++) s[j] = i * 7 + (uint32_t)j;
    const int64_t *c = pc_seqtab_lookup(t, s, len);
    ok &= c && c[0] == (int64_t)i + 1;
  }
  CU_ASSERT(ok);
  /* Σ (i+1) over i = 0, 6, ..., 199998 = 33334 + 6 * (0+...+33333) */
  CU_ASSERT_EQUAL(pc_seqtab_lookup(t, NULL, 0)[0],
                  33334 + INT64_C(6) * 33333 * 33334 / 2);
  CU_ASSERT(pc_seqtab_memory_bytes(t) > 200000 * 12);
}

static void test_merge(void) {
  g_autoptr(PcSeqTab) a = pc_seqtab_new(2);
  g_autoptr(PcSeqTab) b = pc_seqtab_new(2);
  static const uint32_t x[2] = {3, 4}, y[1] = {4};
  int64_t *c = pc_seqtab_upsert(a, x, 2);
  c[0] = 1, c[1] = 10;
  c = pc_seqtab_upsert(b, x, 2);
  c[0] = 2, c[1] = 20;
  c = pc_seqtab_upsert(b, y, 1);
  c[0] = 5, c[1] = 50;
  pc_seqtab_merge(a, b);
  CU_ASSERT_EQUAL(pc_seqtab_size(a), 2);
  CU_ASSERT_EQUAL(pc_seqtab_lookup(a, x, 2)[0], 3);
  CU_ASSERT_EQUAL(pc_seqtab_lookup(a, x, 2)[1], 30);
  CU_ASSERT_EQUAL(pc_seqtab_lookup(a, y, 1)[1], 50);
  CU_ASSERT_EQUAL(pc_seqtab_lookup(b, x, 2)[0], 2); /* src unchanged */
}

static PcSeqTab *make_table(void) {
  PcSeqTab *t = pc_seqtab_new(3);
  uint32_t s[4];
  for (uint32_t i = 0; i < 1000; i++) {
    size_t len = i % 5;
    for (size_t j = 0; j < len; j++) s[j] = i + (uint32_t)j * 1000;
    int64_t *c = pc_seqtab_upsert(t, s, len);
    c[0] += i, c[1] += -(int64_t)i, c[2] += INT64_C(1) << 40;
  }
  return t;
}

/* Every entry goes to part hash % 3; the parts merged back give the table;
 * serialize_part writes the same bytes as serialize_parts. */
static void test_serialize_roundtrip(void) {
  g_autoptr(PcSeqTab) t = make_table();
  GByteArray *parts[3];
  for (int r = 0; r < 3; r++) parts[r] = g_byte_array_new();
  pc_seqtab_serialize_parts(t, 3, parts);
  g_autoptr(PcSeqTab) back = pc_seqtab_new(3);
  for (guint r = 0; r < 3; r++) {
    g_autoptr(PcSeqTab) one = pc_seqtab_new(3);
    GError *e = NULL;
    CU_ASSERT(pc_seqtab_merge_serialized(one, parts[r]->data, parts[r]->len, &e));
    CU_ASSERT_PTR_NULL(e);
    size_t n1;
    PcSeqEntry *v1 = pc_seqtab_entries(one, &n1);
    for (size_t i = 0; i < n1; i++)
      CU_ASSERT_EQUAL(pc_seqtab_hash(v1[i].seq, v1[i].len) % 3, r);
    g_free(v1);
    GByteArray *p1 = g_byte_array_new();
    pc_seqtab_serialize_part(t, r, 3, p1);
    CU_ASSERT_EQUAL(p1->len, parts[r]->len);
    CU_ASSERT(memcmp(p1->data, parts[r]->data, p1->len) == 0);
    g_byte_array_unref(p1);
    pc_seqtab_merge(back, one);
  }
  CU_ASSERT_EQUAL(pc_seqtab_size(back), pc_seqtab_size(t));
  size_t n;
  PcSeqEntry *v = pc_seqtab_entries(t, &n);
  CU_ASSERT_EQUAL(n, pc_seqtab_size(t));
  int ok = 1;
  for (size_t i = 0; i < n; i++) {
    const int64_t *c = pc_seqtab_lookup(back, v[i].seq, v[i].len);
    ok &= c && memcmp(c, v[i].c, 3 * sizeof *c) == 0;
  }
  CU_ASSERT(ok);
  g_free(v);
  for (int r = 0; r < 3; r++) g_byte_array_unref(parts[r]);
}

/* Merging a buffer twice doubles the counters; an entry's size is
 * 4 + 4 len + 8 k bytes. */
static void test_serialize_format(void) {
  g_autoptr(PcSeqTab) t = pc_seqtab_new(1);
  static const uint32_t s[2] = {7, 8};
  GByteArray *buf = g_byte_array_new();
  int64_t c = 21;
  pc_seqtab_serialize_entry(buf, s, 2, &c, 1);
  pc_seqtab_serialize_entry(buf, NULL, 0, &c, 1);
  CU_ASSERT_EQUAL(buf->len, (4 + 8 + 8) + (4 + 8));
  CU_ASSERT(pc_seqtab_merge_serialized(t, buf->data, buf->len, NULL));
  CU_ASSERT(pc_seqtab_merge_serialized(t, buf->data, buf->len, NULL));
  CU_ASSERT_EQUAL(pc_seqtab_lookup(t, s, 2)[0], 42);
  CU_ASSERT_EQUAL(pc_seqtab_lookup(t, NULL, 0)[0], 42);
  CU_ASSERT(pc_seqtab_merge_serialized(t, buf->data, 0, NULL)); /* empty */
  g_byte_array_unref(buf);
}

static void test_serialize_truncated(void) {
  g_autoptr(PcSeqTab) t = pc_seqtab_new(2);
  static const uint32_t s[3] = {1, 2, 3};
  int64_t c[2] = {1, 2};
  GByteArray *buf = g_byte_array_new();
  pc_seqtab_serialize_entry(buf, s, 3, c, 2);
  for (guint cut = 1; cut < buf->len; cut++) {
    g_autoptr(PcSeqTab) u = pc_seqtab_new(2);
    GError *e = NULL;
    CU_ASSERT_FALSE(pc_seqtab_merge_serialized(u, buf->data, cut, &e));
    CU_ASSERT(e && g_error_matches(e, PC_ERROR, PC_ERROR_FORMAT));
    g_clear_error(&e);
    CU_ASSERT_EQUAL(pc_seqtab_size(u), 0);
  }
  /* a length field that claims more tokens than the buffer holds */
  uint32_t huge = 0x7FFFFFFF;
  memcpy(buf->data, &huge, 4);
  GError *e = NULL;
  CU_ASSERT_FALSE(pc_seqtab_merge_serialized(t, buf->data, buf->len, &e));
  CU_ASSERT(e && g_error_matches(e, PC_ERROR, PC_ERROR_FORMAT));
  g_clear_error(&e);
  g_byte_array_unref(buf);
}

/* Local words: zero on insert, kept by their table, never merged or
 * serialized; foreach sees counters and local words. */
static void add_one(const uint32_t *seq, size_t len, int64_t *c, void *d) {
  c[0] += 100;
  *(int64_t *)d += (int64_t)len;
}

static void test_local_words(void) {
  g_autoptr(PcSeqTab) a = pc_seqtab_new_local(1, 1);
  g_autoptr(PcSeqTab) b = pc_seqtab_new_local(1, 1);
  static const uint32_t x[3] = {5, 6, 7};
  int64_t *c = pc_seqtab_upsert(a, x, 3);
  CU_ASSERT_EQUAL(c[1], 0);
  c[0] = 1, c[1] = 77;
  c = pc_seqtab_upsert(b, x, 3);
  c[0] = 2, c[1] = 88;
  pc_seqtab_merge(a, b);
  CU_ASSERT_EQUAL(pc_seqtab_lookup(a, x, 3)[0], 3);
  CU_ASSERT_EQUAL(pc_seqtab_lookup(a, x, 3)[1], 77);
  g_autoptr(PcSeqTab) e = pc_seqtab_new_local(1, 1);
  pc_seqtab_merge(e, b); /* inserted by a merge: local word 0 */
  CU_ASSERT_EQUAL(pc_seqtab_lookup(e, x, 3)[1], 0);
  GByteArray *buf = g_byte_array_new();
  pc_seqtab_serialize_parts(b, 1, &buf);
  CU_ASSERT_EQUAL(buf->len, 4 + 12 + 8); /* one counter, no local word */
  g_byte_array_unref(buf);
  int64_t lens = 0;
  pc_seqtab_upsert(a, x, 1);
  pc_seqtab_foreach(a, add_one, &lens);
  CU_ASSERT_EQUAL(lens, 4);
  CU_ASSERT_EQUAL(pc_seqtab_lookup(a, x, 3)[0], 103);
  CU_ASSERT_EQUAL(pc_seqtab_lookup(a, x, 1)[0], 100);
}

static void test_seq_cmp(void) {
  static const uint32_t a[3] = {1, 2, 3}, b[2] = {1, 3};
  CU_ASSERT(pc_seqtab_seq_cmp(a, 3, b, 2) < 0);  /* 2 < 3 at index 1 */
  CU_ASSERT(pc_seqtab_seq_cmp(a, 2, a, 3) < 0);  /* proper prefix first */
  CU_ASSERT(pc_seqtab_seq_cmp(a, 0, a, 1) < 0);  /* empty first */
  CU_ASSERT(pc_seqtab_seq_cmp(b, 2, b, 2) == 0);
  CU_ASSERT(pc_seqtab_seq_cmp(b, 2, a, 3) > 0);
}

PC_TEST_MAIN("seqtab", {"/seqtab/hash_fixed", test_hash_fixed},
             {"/seqtab/upsert", test_upsert}, {"/seqtab/grow", test_grow},
             {"/seqtab/merge", test_merge},
             {"/seqtab/serialize_roundtrip", test_serialize_roundtrip},
             {"/seqtab/serialize_format", test_serialize_format},
             {"/seqtab/serialize_truncated", test_serialize_truncated},
             {"/seqtab/local_words", test_local_words},
             {"/seqtab/seq_cmp", test_seq_cmp})
