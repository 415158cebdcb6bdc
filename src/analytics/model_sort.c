/* model_sort.c - the two large sorts of the model's report (model_report.c):
 * the gathered test scores by customer id (bytewise, a proper prefix first)
 * and by score, descending. At 10^7 customers rank 0 sorts 2·10^6 test
 * scores; qsort with a memcmp comparator took about a second for each
 * order. Here both are LSD radix sorts on 16-byte keys (8 bits a pass,
 * passes over digits equal in every key skipped), linear in n.
 *
 * Determinism: the id order is total (ids are unique; keys equal in all 16
 * bytes, i.e. ids longer than 16 bytes with a common prefix, are put in
 * order by a comparison sort on the whole id), so it does not depend on the
 * order of the input, i.e. on the number of ranks. Equal scores may come
 * out in any order: the ROC walk treats a tie group as a whole.
 * No MPI, no HDF5.
 */
#include "model_int.h"

typedef struct {
  guint64 k0, k1; /* compared as unsigned, k0 first */
  size_t i;       /* index into the records */
} Key;

/* Digit d (0 = least significant) of the 128-bit key (k0, k1). */
static inline guint key_digit(const Key *k, guint d) {
  guint64 w = d < 8 ? k->k1 : k->k0;
  return (guint)(w >> (8 * (d & 7)) & 255);
}

/* Stable LSD radix sort of a[0..n) by (k0, k1); tmp holds n keys. Returns
 * the array that holds the result (a or tmp). */
static Key *radix_sort(Key *a, Key *tmp, size_t n) {
  size_t (*cnt)[256] = g_malloc0(16 * sizeof *cnt);
  for (size_t i = 0; i < n; i++) {
    guint64 k0 = a[i].k0, k1 = a[i].k1;
    for (guint d = 0; d < 8; d++) {
      cnt[d][k1 >> (8 * d) & 255]++;
      cnt[8 + d][k0 >> (8 * d) & 255]++;
    }
  }
  for (guint d = 0; n > 0 && d < 16; d++) {
    size_t *c = cnt[d], sum = 0;
    if (c[key_digit(&a[0], d)] == n) continue; /* one value: nothing moves */
    for (guint b = 0; b < 256; b++) {
      size_t t = c[b];
      c[b] = sum;
      sum += t;
    }
    guint sh = 8 * (d & 7);
    if (d < 8)
      for (size_t i = 0; i < n; i++) tmp[c[a[i].k1 >> sh & 255]++] = a[i];
    else
      for (size_t i = 0; i < n; i++) tmp[c[a[i].k0 >> sh & 255]++] = a[i];
    Key *t = a;
    a = tmp;
    tmp = t;
  }
  g_free(cnt);
  return a;
}

/* Up to 8 bytes from p[0..n) as a big-endian integer, zero-padded: the
 * bytewise order of the bytes, a proper prefix first (an id has no zero
 * byte, spec §1). */
static guint64 be_prefix(const guint8 *p, size_t n) {
  guint64 k = 0;
  if (n >= 8) {
    memcpy(&k, p, 8);
    return GUINT64_FROM_BE(k);
  }
  for (size_t i = 0; i < 8; i++) k = k << 8 | (i < n ? p[i] : 0u);
  return k;
}

/* s[0..n) permuted into the order of sorted keys. */
static void apply_order(Scored *s, const Key *sorted, size_t n) {
  Scored *out = g_new(Scored, n ? n : 1);
  for (size_t j = 0; j < n; j++) out[j] = s[sorted[j].i];
  memcpy(s, out, n * sizeof *s);
  g_free(out);
}

static int cmp_id(const void *a, const void *b) {
  const Scored *x = a, *y = b;
  return pc_bytes_cmp(x->id, x->id_len, y->id, y->id_len);
}

void pc_model_sort_by_id(Scored *s, size_t n) {
  Key *a = g_new(Key, n ? n : 1), *tmp = g_new(Key, n ? n : 1);
  for (size_t i = 0; i < n; i++) {
    const guint8 *id = (const guint8 *)s[i].id;
    size_t len = s[i].id_len;
    a[i].k0 = be_prefix(id, MIN(len, 8));
    a[i].k1 = be_prefix(id + MIN(len, 8), len > 8 ? len - 8 : 0);
    a[i].i = i;
  }
  Key *k = radix_sort(a, tmp, n);
  apply_order(s, k, n);
  for (size_t i = 0, j; i < n; i = j) { /* equal 16-byte prefixes */
    for (j = i + 1; j < n && k[j].k0 == k[i].k0 && k[j].k1 == k[i].k1; j++) {}
    if (j - i > 1) qsort(s + i, j - i, sizeof *s, cmp_id);
  }
  g_free(a);
  g_free(tmp);
}

void pc_model_sort_by_score(Scored *s, size_t n) {
  Key *a = g_new(Key, n ? n : 1), *tmp = g_new(Key, n ? n : 1);
  for (size_t i = 0; i < n; i++) {
    guint64 b;
    memcpy(&b, &s[i].score, sizeof b);
    /* ascending numeric order of the bits, then complemented: descending */
    b = (b >> 63) ? ~b : b | (G_GUINT64_CONSTANT(1) << 63);
    a[i].k0 = ~b;
    a[i].k1 = 0;
    a[i].i = i;
  }
  apply_order(s, radix_sort(a, tmp, n), n);
  g_free(a);
  g_free(tmp);
}
