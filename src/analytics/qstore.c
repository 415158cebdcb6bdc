/* qstore.c - the in-memory value store of the exact percentiles
 * (qstore_int.h): (key, value) pairs appended per thread, merged by
 * concatenation, sorted once at seal and compacted to the sorted values
 * with an index of key runs.
 *
 * Owns QStore. No MPI, no HDF5. Invariant after seal: vals[kstart[i] ..
 * kstart[i + 1]) are the values of keys[i] in ascending order, keys[]
 * strictly ascending, kstart[nkeys] = n.
 */
#include "qstore_int.h"

#include <stdlib.h>

typedef struct {
  uint64_t key;
  int64_t value;
} Pair;

struct QStore {
  Pair *pairs;          /* before seal: [n] of cap */
  size_t n, cap;
  gboolean sealed;
  int64_t *vals;        /* after seal: [n], the compacted pairs buffer */
  uint64_t *keys;       /* after seal: [nkeys] */
  size_t *kstart;       /* after seal: [nkeys + 1] */
  size_t nkeys;
};

QStore *qstore_new(void) { return g_new0(QStore, 1); }

void qstore_free(QStore *s) {
  if (!s) return;
  g_free(s->pairs);
  g_free(s->vals);
  g_free(s->keys);
  g_free(s->kstart);
  g_free(s);
}

static void reserve(QStore *s, size_t n) {
  if (n <= s->cap) return;
  s->cap = MAX(n, MAX(2 * s->cap, (size_t)64));
  s->pairs = g_renew(Pair, s->pairs, s->cap);
}

void qstore_append(QStore *s, uint64_t key, int64_t value) {
  g_return_if_fail(!s->sealed);
  if (s->n == s->cap) reserve(s, s->n + 1);
  s->pairs[s->n++] = (Pair){key, value};
}

void qstore_absorb(QStore *dst, QStore *src) {
  g_return_if_fail(!dst->sealed && !src->sealed && dst != src);
  if (!src->n) return;
  if (!dst->n) { /* take the buffer whole */
    g_free(dst->pairs);
    dst->pairs = g_steal_pointer(&src->pairs);
    dst->n = src->n;
    dst->cap = src->cap;
  } else {
    reserve(dst, dst->n + src->n);
    memcpy(dst->pairs + dst->n, src->pairs, src->n * sizeof *src->pairs);
    dst->n += src->n;
    g_clear_pointer(&src->pairs, g_free);
  }
  src->n = src->cap = 0;
}

static int cmp_pair(const void *a, const void *b) {
  const Pair *x = a, *y = b;
  if (x->key != y->key) return x->key < y->key ? -1 : 1;
  return x->value < y->value ? -1 : x->value > y->value;
}

/* Pair i (bytes 16i..16i+15) is read before value i is written at bytes
 * 8i..8i+7, which no unread pair occupies: the compaction is in place. */
void qstore_seal(QStore *s) {
  if (s->sealed) return;
  s->sealed = TRUE;
  qsort(s->pairs, s->n, sizeof *s->pairs, cmp_pair);
  size_t nk = 0;
  for (size_t i = 0; i < s->n; i++)
    nk += i == 0 || s->pairs[i].key != s->pairs[i - 1].key;
  s->keys = g_new(uint64_t, nk ? nk : 1);
  s->kstart = g_new(size_t, nk + 1);
  char *vals = (char *)s->pairs;
  for (size_t i = 0, k = 0; i < s->n; i++) {
    Pair p = s->pairs[i];
    if (i == 0 || p.key != s->keys[k - 1]) {
      s->keys[k] = p.key;
      s->kstart[k++] = i;
    }
    memcpy(vals + i * sizeof(int64_t), &p.value, sizeof p.value);
  }
  s->nkeys = nk;
  s->kstart[nk] = s->n;
  s->vals = s->n ? g_realloc(s->pairs, s->n * sizeof(int64_t)) : NULL;
  if (!s->n) g_free(s->pairs);
  s->pairs = NULL;
  s->cap = 0;
}

/* Index of key in keys[], or -1. */
static gssize find_key(const QStore *s, uint64_t key) {
  size_t a = 0, b = s->nkeys;
  while (a < b) {
    size_t m = a + (b - a) / 2;
    if (s->keys[m] < key) a = m + 1;
    else b = m;
  }
  return a < s->nkeys && s->keys[a] == key ? (gssize)a : -1;
}

uint64_t qstore_count(const QStore *s, uint64_t key) {
  g_return_val_if_fail(s->sealed, 0);
  gssize k = find_key(s, key);
  return k < 0 ? 0 : s->kstart[k + 1] - s->kstart[k];
}

uint64_t qstore_count_le(const QStore *s, uint64_t key, int64_t v) {
  g_return_val_if_fail(s->sealed, 0);
  gssize k = find_key(s, key);
  if (k < 0) return 0;
  size_t a = s->kstart[k], b = s->kstart[k + 1], lo = a;
  while (a < b) { /* first value > v */
    size_t m = a + (b - a) / 2;
    if (s->vals[m] <= v) a = m + 1;
    else b = m;
  }
  return a - lo;
}

uint64_t qstore_values(const QStore *s) { return s->n; }

size_t qstore_memory_bytes(const QStore *s) {
  if (!s->sealed) return sizeof *s + s->cap * sizeof(Pair);
  return sizeof *s + s->n * sizeof(int64_t) +
         s->nkeys * (sizeof(uint64_t) + sizeof(size_t)) + sizeof(size_t);
}
