/* qstore.c - the value store of the exact percentiles (qstore_int.h): one
 * growable array of values per key, found through an open-addressing
 * table, merged across threads by moving or appending arrays, each sorted
 * once at seal; past the rank's pool, sorted and spilled as a run (QDisk,
 * qspill.c), the store starting empty.
 *
 * Owns QStore and its QDisk. No MPI, no HDF5. Invariants: every key has
 * exactly one array in memory; the values of the store are those arrays
 * plus the disk's runs, exactly; after seal, either nothing spilled and
 * runs[] is sorted by key, each run's values ascending and trimmed, the
 * hash table gone, or everything is in the disk's sealed file.
 *
 * Memory: 8 bytes per value plus the doubling slack of its run (at most as
 * much again) while adding, 8 bytes per value once sealed; 32 bytes per key
 * for its run and 8 for its slot (4 after seal).
 */
#include "qstore_int.h"

#include <stdlib.h>
#include <string.h>

#define MIN_SLOTS 16
#define SMALL_SORT 16   /* runs this short are insertion-sorted */
#define CHECK_EVERY 1024 /* appends between two looks at the pool */

typedef struct {
  uint64_t key;
  int64_t *v;
  size_t n, cap;
} Run;

struct QStore {
  Run *runs;
  size_t nruns, cap_runs;
  uint32_t *slot;   /* 1 + index in runs, 0 = empty; before seal only */
  size_t nslots;    /* a power of two, at most half full */
  size_t last;      /* run of the last append: keys often repeat */
  uint64_t values;    /* added, in memory or spilled */
  size_t vbytes;      /* capacity of the value arrays, bytes */
  gboolean sealed;
  PcSpill *sp;        /* NULL: never spills */
  QDisk *disk;        /* with sp */
  size_t accounted;   /* bytes as last reported to the pool */
  guint tick;
  gboolean on_disk;   /* sealed into the disk's file */
};

/* ---- private prototypes ---- */
static Run *run_of(QStore *s, uint64_t key);
static void sort_i64(int64_t *a, size_t n, int depth);

QStore *qstore_new(void) { return g_new0(QStore, 1); }

void qstore_set_spill(QStore *s, PcSpill *sp, const char *name) {
  g_return_if_fail(s->values == 0 && !s->disk);
  if (!sp) return;
  s->sp = sp;
  s->disk = qdisk_new(sp, name);
}

void qstore_free(QStore *s) {
  if (!s) return;
  pc_spill_account(s->sp, &s->accounted, 0);
  qdisk_free(s->disk);
  for (size_t i = 0; i < s->nruns; i++) g_free(s->runs[i].v);
  g_free(s->runs);
  g_free(s->slot);
  g_free(s);
}

static uint64_t mix(uint64_t x) { /* splitmix64 finalizer */
  x ^= x >> 30;
  x *= UINT64_C(0xbf58476d1ce4e5b9);
  x ^= x >> 27;
  x *= UINT64_C(0x94d049bb133111eb);
  return x ^ (x >> 31);
}

static void rehash(QStore *s, size_t nslots) {
  g_free(s->slot);
  s->nslots = nslots;
  s->slot = g_new0(uint32_t, nslots);
  for (size_t i = 0; i < s->nruns; i++) {
    size_t h = mix(s->runs[i].key) & (nslots - 1);
    while (s->slot[h]) h = (h + 1) & (nslots - 1);
    s->slot[h] = (uint32_t)(i + 1);
  }
}

/* The run of key, created empty when new. */
static Run *run_of(QStore *s, uint64_t key) {
  if (s->last < s->nruns && s->runs[s->last].key == key) return &s->runs[s->last];
  if (2 * (s->nruns + 1) > s->nslots) rehash(s, MAX(2 * s->nslots, (size_t)MIN_SLOTS));
  size_t h = mix(key) & (s->nslots - 1);
  for (; s->slot[h]; h = (h + 1) & (s->nslots - 1))
    if (s->runs[s->slot[h] - 1].key == key) return &s->runs[s->last = s->slot[h] - 1];
  g_assert(s->nruns < UINT32_MAX);
  if (s->nruns == s->cap_runs) {
    s->cap_runs = MAX(2 * s->cap_runs, (size_t)8);
    s->runs = g_renew(Run, s->runs, s->cap_runs);
  }
  s->runs[s->nruns] = (Run){key, NULL, 0, 0};
  s->slot[h] = (uint32_t)(s->nruns + 1);
  return &s->runs[s->last = s->nruns++];
}

static void run_reserve(QStore *s, Run *r, size_t n) {
  if (n <= r->cap) return;
  size_t cap = MAX(n, MAX(2 * r->cap, (size_t)4));
  s->vbytes += (cap - r->cap) * sizeof *r->v;
  r->cap = cap;
  r->v = g_renew(int64_t, r->v, r->cap);
}

/* Bytes of the arrays, runs and slots in memory (not the disk's). */
static size_t mem_bytes(const QStore *s) {
  return sizeof *s + s->cap_runs * sizeof(Run) + s->nslots * sizeof(uint32_t) +
         s->vbytes;
}

/* Frees every array and the table: the store holds nothing in memory. */
static void drop_memory(QStore *s) {
  for (size_t i = 0; i < s->nruns; i++) g_free(s->runs[i].v);
  g_clear_pointer(&s->runs, g_free);
  g_clear_pointer(&s->slot, g_free);
  s->nruns = s->cap_runs = s->nslots = s->last = s->vbytes = 0;
}

static int cmp_run(const void *a, const void *b);

/* Sorts every array and the keys: what is in memory as a QMemRun (arrays
 * of mr, which the caller g_free()s). */
static void sort_memory(QStore *s, QMemRun *mr) {
  qsort(s->runs, s->nruns, sizeof *s->runs, cmp_run);
  uint64_t *keys = g_new(uint64_t, s->nruns + 1);
  int64_t **vals = g_new(int64_t *, s->nruns + 1);
  size_t *n = g_new(size_t, s->nruns + 1);
  for (size_t i = 0; i < s->nruns; i++) {
    Run *r = &s->runs[i];
    sort_i64(r->v, r->n, 2 * g_bit_storage(r->n));
    keys[i] = r->key, vals[i] = r->v, n[i] = r->n;
  }
  *mr = (QMemRun){s->nruns, keys, vals, n};
}

static void mem_run_clear(QMemRun *mr) {
  g_free((gpointer)mr->keys);
  g_free((gpointer)mr->vals);
  g_free((gpointer)mr->n);
}

/* Writes what is in memory as one run and empties the memory. FALSE with
 * PC_ERROR_IO (the memory is emptied all the same). */
static gboolean spill(QStore *s, GError **error) {
  if (!s->nruns) return TRUE;
  QMemRun mr;
  sort_memory(s, &mr);
  gboolean ok = qdisk_write_run(s->disk, mr.nk, mr.keys, mr.vals, mr.n, error);
  mem_run_clear(&mr);
  drop_memory(s);
  pc_spill_account(s->sp, &s->accounted, mem_bytes(s));
  return ok;
}

/* Reports the bytes to the pool and spills when it says so. */
static void maybe_spill(QStore *s) {
  s->tick = 0;
  size_t now = mem_bytes(s);
  pc_spill_account(s->sp, &s->accounted, now);
  if (!pc_spill_due(s->sp, now)) return;
  GError *e = NULL;
  if (pc_spill_failed(s->sp)) { /* the run fails anyway: stay bounded */
    drop_memory(s);
    pc_spill_account(s->sp, &s->accounted, mem_bytes(s));
  } else if (!spill(s, &e)) {
    pc_spill_fail(s->sp, e);
  }
}

void qstore_append(QStore *s, uint64_t key, int64_t value) {
  g_return_if_fail(!s->sealed);
  Run *r = run_of(s, key);
  if (r->n == r->cap) run_reserve(s, r, r->n + 1);
  r->v[r->n++] = value;
  s->values++;
  if (s->disk && ++s->tick >= CHECK_EVERY) maybe_spill(s);
}

void qstore_absorb(QStore *dst, QStore *src) {
  g_return_if_fail(!dst->sealed && !src->sealed && dst != src);
  for (size_t i = 0; i < src->nruns; i++) {
    Run *from = &src->runs[i], *to = run_of(dst, from->key);
    if (!to->n) { /* take the array whole */
      dst->vbytes += (from->cap - to->cap) * sizeof *to->v;
      g_free(to->v);
      *to = *from;
    } else {
      run_reserve(dst, to, to->n + from->n);
      memcpy(to->v + to->n, from->v, from->n * sizeof *from->v);
      to->n += from->n;
      g_free(from->v);
    }
    from->v = NULL;
  }
  dst->values += src->values;
  src->nruns = 0;
  src->values = 0;
  src->last = 0;
  g_clear_pointer(&src->slot, g_free);
  src->nslots = 0;
  src->vbytes = 0;
  if (dst->disk && src->disk) qdisk_absorb(dst->disk, src->disk);
  pc_spill_account(src->sp, &src->accounted, mem_bytes(src));
  if (dst->disk) maybe_spill(dst);
}

static int cmp_run(const void *a, const void *b) {
  uint64_t x = ((const Run *)a)->key, y = ((const Run *)b)->key;
  return x < y ? -1 : x > y;
}

/* Seal of a store that spilled: its runs and what is in memory merged
 * (qdisk_seal), the memory then freed. */
static void seal_disk(QStore *s) {
  GError *e = NULL;
  QMemRun mr;
  s->on_disk = TRUE;
  sort_memory(s, &mr);
  if (!qdisk_seal(s->disk, &mr, pc_spill_budget(s->sp).reduce / 2, &e))
    pc_spill_fail(s->sp, e);
  mem_run_clear(&mr);
  drop_memory(s);
  pc_spill_account(s->sp, &s->accounted, mem_bytes(s) + qdisk_memory_bytes(s->disk));
}

void qstore_seal(QStore *s) {
  if (s->sealed) return;
  s->sealed = TRUE;
  if (qdisk_runs(s->disk) > 0) {
    seal_disk(s);
    return;
  }
  for (size_t i = 0; i < s->nruns; i++) {
    Run *r = &s->runs[i];
    sort_i64(r->v, r->n, 2 * g_bit_storage(r->n));
    if (r->cap > r->n) {
      s->vbytes -= (r->cap - r->n) * sizeof *r->v;
      r->v = g_renew(int64_t, r->v, r->n), r->cap = r->n;
    }
  }
  qsort(s->runs, s->nruns, sizeof *s->runs, cmp_run);
  g_clear_pointer(&s->slot, g_free);
  s->nslots = 0;
}

/* The sealed run of key, or NULL. */
static const Run *find_run(const QStore *s, uint64_t key) {
  size_t a = 0, b = s->nruns;
  while (a < b) {
    size_t m = a + (b - a) / 2;
    if (s->runs[m].key < key) a = m + 1;
    else b = m;
  }
  return a < s->nruns && s->runs[a].key == key ? &s->runs[a] : NULL;
}

uint64_t qstore_count(const QStore *s, uint64_t key) {
  g_return_val_if_fail(s->sealed, 0);
  if (s->on_disk) return qdisk_count(s->disk, key);
  const Run *r = find_run(s, key);
  return r ? r->n : 0;
}

uint64_t qstore_count_le(const QStore *s, uint64_t key, int64_t v) {
  g_return_val_if_fail(s->sealed, 0);
  if (s->on_disk) return qdisk_count_le(s->disk, key, v); /* its cache moves */
  const Run *r = find_run(s, key);
  if (!r) return 0;
  size_t a = 0, b = r->n;
  while (a < b) { /* first value > v */
    size_t m = a + (b - a) / 2;
    if (r->v[m] <= v) a = m + 1;
    else b = m;
  }
  return a;
}

uint64_t qstore_values(const QStore *s) { return s->values; }

size_t qstore_memory_bytes(const QStore *s) {
  return mem_bytes(s) + (s->disk ? qdisk_memory_bytes(s->disk) : 0);
}

/* ---- sorting int64 in place ---------------------------------------------
 * Introsort: quicksort on the median of three, insertion sort for short
 * runs, heapsort when the depth budget is spent (O(n log n) worst case).
 * No comparator call and no extra memory, unlike qsort. */

static void insertion_i64(int64_t *a, size_t n) {
  for (size_t i = 1; i < n; i++) {
    int64_t x = a[i];
    size_t j = i;
    for (; j > 0 && a[j - 1] > x; j--) a[j] = a[j - 1];
    a[j] = x;
  }
}

static void sift_down(int64_t *a, size_t root, size_t n) {
  for (size_t c; (c = 2 * root + 1) < n; root = c) {
    if (c + 1 < n && a[c + 1] > a[c]) c++;
    if (a[root] >= a[c]) return;
    int64_t t = a[root];
    a[root] = a[c];
    a[c] = t;
  }
}

static void heapsort_i64(int64_t *a, size_t n) {
  for (size_t i = n / 2; i-- > 0;) sift_down(a, i, n);
  for (size_t end = n; end-- > 1;) {
    int64_t t = a[0];
    a[0] = a[end];
    a[end] = t;
    sift_down(a, 0, end);
  }
}

/* Hoare partition around a[0] (the median of three, moved there): returns
 * j with a[0..j] <= p <= a[j+1..n), 0 <= j < n - 1. */
static size_t partition_i64(int64_t *a, size_t n) {
  size_t m = n / 2;
  if (a[m] < a[0]) { int64_t t = a[m]; a[m] = a[0]; a[0] = t; }
  if (a[n - 1] < a[0]) { int64_t t = a[n - 1]; a[n - 1] = a[0]; a[0] = t; }
  if (a[n - 1] < a[m]) { int64_t t = a[n - 1]; a[n - 1] = a[m]; a[m] = t; }
  int64_t t = a[0];
  a[0] = a[m];
  a[m] = t;
  int64_t p = a[0];
  size_t i = (size_t)-1, j = n;
  for (;;) {
    do i++; while (a[i] < p);
    do j--; while (a[j] > p);
    if (i >= j) return j;
    t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
}

/* LSD radix sort of a[0..n) by bytes of the value with its sign bit
 * flipped (so that unsigned byte order is signed order), skipping the
 * bytes all values share (a gap in microseconds has 3 to 5 that differ):
 * the values' order, the same bytes as any other sort's. tmp holds n. */
static void radix_i64(int64_t *a, size_t n, int64_t *tmp) {
  size_t count[8][256] = {{0}};
  for (size_t i = 0; i < n; i++) {
    uint64_t u = (uint64_t)a[i] ^ (UINT64_C(1) << 63);
    for (int b = 0; b < 8; b++) count[b][(u >> (8 * b)) & 0xff]++;
  }
  int64_t *src = a, *dst = tmp;
  for (int b = 0; b < 8; b++) {
    size_t *c = count[b], at = 0;
    gboolean one = FALSE;
    for (int d = 0; d < 256 && !one; d++) one = c[d] == n;
    if (one) continue; /* every value has the same byte here */
    for (int d = 0; d < 256; d++) {
      size_t k = c[d];
      c[d] = at;
      at += k;
    }
    for (size_t i = 0; i < n; i++) {
      uint64_t u = (uint64_t)src[i] ^ (UINT64_C(1) << 63);
      dst[c[(u >> (8 * b)) & 0xff]++] = src[i];
    }
    int64_t *t = src;
    src = dst;
    dst = t;
  }
  if (src != a) memcpy(a, src, n * sizeof *a);
}

#define RADIX_MIN 4096 /* below, the quicksort's fewer passes win */

static void sort_i64(int64_t *a, size_t n, int depth) {
  if (n >= RADIX_MIN) {
    int64_t *tmp = g_try_new(int64_t, n);
    if (tmp) {
      radix_i64(a, n, tmp);
      g_free(tmp);
      return;
    }
  }
  while (n > SMALL_SORT) {
    if (depth-- <= 0) {
      heapsort_i64(a, n);
      return;
    }
    size_t j = partition_i64(a, n) + 1; /* [0, j) and [j, n) */
    if (j < n - j) { /* recurse into the smaller side, loop on the larger */
      sort_i64(a, j, depth);
      a += j;
      n -= j;
    } else {
      sort_i64(a + j, n - j, depth);
      n = j;
    }
  }
  insertion_i64(a, n);
}
