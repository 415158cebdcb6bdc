/* model_sort.c - the large sorts of the model's report (model_report.c):
 * the test scores by customer id (bytewise, a proper prefix first) and by
 * score, descending. At 10^7 customers there are 2·10^6 test scores; qsort
 * with a memcmp comparator on rank 0 took about a second for each order.
 * Now each rank sorts its own test scores by id (an LSD radix sort on
 * 16-byte keys, 8 bits a pass, passes over digits equal in every key
 * skipped), rank 0 merges the ranks' runs (a natural merge sort: log2 P
 * sequential passes), and radix-sorts compact (score, y) keys for the ROC
 * curve, without going back to the records.
 *
 * Determinism: the id order is total (ids are unique; keys equal in all 16
 * bytes, i.e. ids longer than 16 bytes with a common prefix, are put in
 * order by a comparison sort on the whole id; the merge compares whole
 * ids), so it does not depend on the order of the input, i.e. on the
 * number of ranks. Equal scores may come out in any order: the ROC walk
 * treats a tie group as a whole. No MPI, no HDF5.
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

/* Natural merge sort by id: finds the ascending runs (one per rank after
 * the gather) and merges neighbours until one is left. */
void pc_model_merge_by_id(Scored *s, size_t n) {
  GArray *runs = g_array_new(FALSE, FALSE, sizeof(size_t)); /* run starts */
  for (size_t i = 0; i < n; i++)
    if (i == 0 || cmp_id(&s[i - 1], &s[i]) > 0) g_array_append_val(runs, i);
  g_array_append_val(runs, n);
  Scored *tmp = g_new(Scored, n ? n : 1);
  while (runs->len > 2) {
    guint w = 0;
    size_t *r = (size_t *)(void *)runs->data;
    for (guint k = 0; k + 1 < runs->len; k += 2) {
      size_t a = r[k], mid = r[k + 1], end = k + 2 < runs->len ? r[k + 2] : mid;
      size_t i = a, j = mid, o = a;
      while (i < mid && j < end) tmp[o++] = cmp_id(&s[j], &s[i]) < 0 ? s[j++] : s[i++];
      while (i < mid) tmp[o++] = s[i++];
      while (j < end) tmp[o++] = s[j++];
      memcpy(s + a, tmp + a, (end - a) * sizeof *s);
      r[w++] = a;
    }
    r[w++] = n;
    g_array_set_size(runs, w);
  }
  g_free(tmp);
  g_array_unref(runs);
}

void pc_model_scores_desc(const Scored *s, size_t n, double *score,
                          guint8 *y) {
  Key *a = g_new(Key, n ? n : 1), *tmp = g_new(Key, n ? n : 1);
  const guint64 sign = G_GUINT64_CONSTANT(1) << 63;
  for (size_t i = 0; i < n; i++) {
    guint64 b;
    memcpy(&b, &s[i].score, sizeof b);
    b = (b & sign) ? ~b : b | sign; /* ascending numeric order of the bits */
    a[i] = (Key){~b, 0, s[i].y};    /* complemented: descending */
  }
  const Key *k = radix_sort(a, tmp, n);
  for (size_t i = 0; i < n; i++) {
    guint64 b = ~k[i].k0;
    b = (b & sign) ? b & ~sign : ~b;
    memcpy(&score[i], &b, sizeof b);
    y[i] = (guint8)k[i].i;
  }
  g_free(a);
  g_free(tmp);
}
