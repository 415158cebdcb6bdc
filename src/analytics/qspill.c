/* qspill.c - QDisk (qstore_int.h): the values of a percentile store that
 * spilled to disk, as sorted runs while adding and as one merged, sorted
 * file once sealed, counted through fences kept in memory.
 *
 * Owns its run files (through PcSpill, pc_spill.h), their key indexes, the
 * sealed file's index, fences and block cache. Does not own the values in
 * memory (qstore.c). No MPI, no HDF5.
 *
 * A store whose runs fit half the reduce budget is read back into memory
 * at seal instead (no second write).
 *
 * Invariants: a run and the sealed file (or memory) hold, per key, its values in
 * ascending order as plain int64 (host order), keys ascending, so a key's
 * values are one contiguous range; the sealed file holds exactly the
 * multiset union of the runs (a k-way merge), so counts are the ones the
 * in-memory store would give. fence[j] of a key is its value at position
 * j * QDISK_FENCE: values before that position are <= it, so count_le(v)
 * reads only the block after the last fence <= v.
 *
 * Memory: 24 bytes a key a run; sealed: 32 bytes a key, 8 bytes every
 * QDISK_FENCE values (1/64 of the data), a cache of CACHE_SLOTS blocks
 * (1 MiB), and while merging one read buffer per run.
 */
#include "qstore_int.h"

#include <stdlib.h>

#define CACHE_SLOTS 256       /* blocks of QDISK_FENCE values cached */
#define MERGE_OUT 8192        /* values written at once by the merge */

typedef struct {
  uint64_t key, first, n;   /* first: index of its first value in the file */
} KeyAt;

typedef struct {
  PcSpillFile *f;
  KeyAt *at;
  size_t nk;
} VRun;

typedef struct {
  uint64_t tag;             /* first value index of the block + 1; 0 = empty */
  int64_t v[QDISK_FENCE];
} Block;

struct QDisk {
  PcSpill *sp;
  const char *name;
  GPtrArray *runs;          /* VRun * */
  PcSpillFile *f;           /* sealed into a file, or */
  int64_t *mem;             /* sealed into memory (small enough) */
  KeyAt *at;
  size_t nk;
  uint64_t *fence_at;       /* [nk] first fence of each key in fence[] */
  GArray *fence;            /* int64 */
  Block *cache;             /* [CACHE_SLOTS], on first count_le */
};

static void vrun_free(gpointer p) {
  VRun *r = p;
  pc_spill_file_free(r->f);
  g_free(r->at);
  g_free(r);
}

QDisk *qdisk_new(PcSpill *sp, const char *name) {
  QDisk *d = g_new0(QDisk, 1);
  d->sp = sp;
  d->name = name;
  d->runs = g_ptr_array_new_with_free_func(vrun_free);
  d->fence = g_array_new(FALSE, FALSE, sizeof(int64_t));
  return d;
}

void qdisk_free(QDisk *d) {
  if (!d) return;
  g_ptr_array_unref(d->runs);
  pc_spill_file_free(d->f);
  g_free(d->mem);
  g_free(d->at);
  g_free(d->fence_at);
  g_array_unref(d->fence);
  g_free(d->cache);
  g_free(d);
}

gboolean qdisk_write_run(QDisk *d, size_t nk, const uint64_t *keys,
                         int64_t *const *vals, const size_t *n, GError **error) {
  uint64_t total = 0;
  for (size_t i = 0; i < nk; i++) total += n[i];
  VRun *r = g_new0(VRun, 1);
  r->at = g_new(KeyAt, nk ? nk : 1);
  r->nk = nk;
  r->f = pc_spill_file_new(d->sp, d->name, total * 8, error);
  gboolean ok = r->f != NULL;
  for (size_t i = 0, first = 0; ok && i < nk; first += n[i++]) {
    r->at[i] = (KeyAt){keys[i], first, n[i]};
    ok = pc_spill_file_write(r->f, vals[i], n[i] * 8, error);
  }
  ok = ok && pc_spill_file_finish(r->f, error);
  if (ok) g_ptr_array_add(d->runs, r);
  else vrun_free(r);
  return ok;
}

void qdisk_absorb(QDisk *dst, QDisk *src) {
  gsize n = 0;
  gpointer *runs = g_ptr_array_steal(src->runs, &n); /* src keeps an empty array */
  for (gsize i = 0; i < n; i++) g_ptr_array_add(dst->runs, runs[i]);
  g_free(runs);
}

guint qdisk_runs(const QDisk *d) { return d ? d->runs->len : 0; }

size_t qdisk_memory_bytes(const QDisk *d) {
  size_t b = sizeof *d + d->nk * (sizeof(KeyAt) + 8) + d->fence->len * 8;
  for (guint i = 0; i < d->runs->len; i++)
    b += ((VRun *)g_ptr_array_index(d->runs, i))->nk * sizeof(KeyAt);
  if (d->mem && d->nk) b += (d->at[d->nk - 1].first + d->at[d->nk - 1].n) * 8;
  return b + (d->cache ? CACHE_SLOTS * sizeof(Block) : 0);
}

/* ---- The merge at seal ------------------------------------------------------ */

/* One key's values in one run, read through a buffer. */
typedef struct {
  VRun *r;
  uint64_t pos, end;        /* value indexes in r's file */
  int64_t *buf;
  size_t at, len, cap;
} Seg;

static gboolean seg_fill(Seg *s, GError **error) {
  s->at = 0;
  s->len = s->r ? (size_t)MIN((uint64_t)s->cap, s->end - s->pos) : 0;
  if (!s->len) return TRUE;
  gboolean ok = pc_spill_file_read(s->r->f, s->pos * 8, s->buf, s->len * 8, error);
  s->pos += s->len;
  return ok;
}

/* Min-heap of segments on their current value. */
static void heap_down(Seg **h, size_t n, size_t i) {
  for (;;) {
    size_t l = 2 * i + 1, r = l + 1, m = i;
    if (l < n && h[l]->buf[h[l]->at] < h[m]->buf[h[m]->at]) m = l;
    if (r < n && h[r]->buf[h[r]->at] < h[m]->buf[h[m]->at]) m = r;
    if (m == i) return;
    Seg *t = h[i];
    h[i] = h[m];
    h[m] = t;
    i = m;
  }
}

/* Appends out[0..n) to the sealed values (file or memory) at *written. */
static gboolean emit(QDisk *d, const int64_t *out, size_t n, uint64_t *written,
                     GError **error) {
  if (d->mem) memcpy(d->mem + *written, out, n * 8);
  else if (!pc_spill_file_write(d->f, out, n * 8, error)) return FALSE;
  *written += n;
  return TRUE;
}

/* Merges the segments of one key into the sealed values, recording its
 * fences; *written counts the values sealed so far. */
static gboolean merge_key(QDisk *d, Seg **h, size_t nh, int64_t *out,
                          uint64_t *written, GError **error) {
  size_t no = 0;
  uint64_t pos = 0;
  for (size_t i = nh / 2; i-- > 0;) heap_down(h, nh, i);
  while (nh > 0) {
    Seg *s = h[0];
    int64_t v = s->buf[s->at++];
    if (pos++ % QDISK_FENCE == 0) g_array_append_val(d->fence, v);
    out[no++] = v;
    if (no == MERGE_OUT) {
      if (!emit(d, out, no, written, error)) return FALSE;
      no = 0;
    }
    if (s->at == s->len && !seg_fill(s, error)) return FALSE;
    if (s->len == 0) h[0] = h[--nh];
    heap_down(h, nh, 0);
  }
  return emit(d, out, no, written, error);
}

typedef struct {
  uint64_t key;
  guint run;
  size_t i;                 /* index in that run's at[] */
} KeyRef;

static int cmp_ref(const void *a, const void *b) {
  const KeyRef *x = a, *y = b;
  if (x->key != y->key) return x->key < y->key ? -1 : 1;
  return x->run < y->run ? -1 : x->run > y->run;
}

/* Every (key, run) of the runs and of mem (run index runs->len), by key. */
static KeyRef *key_refs(const QDisk *d, const QMemRun *mem, size_t *n) {
  guint nr = d->runs->len;
  size_t m = mem->nk;
  for (guint r = 0; r < nr; r++) m += ((VRun *)g_ptr_array_index(d->runs, r))->nk;
  KeyRef *v = g_new(KeyRef, m ? m : 1);
  m = 0;
  for (guint r = 0; r < nr; r++) {
    VRun *run = g_ptr_array_index(d->runs, r);
    for (size_t i = 0; i < run->nk; i++) v[m++] = (KeyRef){run->at[i].key, r, i};
  }
  for (size_t i = 0; i < mem->nk; i++) v[m++] = (KeyRef){mem->keys[i], nr, i};
  qsort(v, m, sizeof *v, cmp_ref);
  *n = m;
  return v;
}

/* Read buffer per run: a quarter of the reduce budget over the runs,
 * 256 to 8192 values each. */
static size_t buf_values(const QDisk *d) {
  uint64_t b = pc_spill_budget(d->sp).reduce / 4 / (8 * MAX(d->runs->len, 1u));
  return (size_t)CLAMP(b, 256, 8192);
}

/* The segment of ref: a run's key read through buf, or mem's array. */
static gboolean seg_open(QDisk *d, const QMemRun *mem, const KeyRef *ref,
                         Seg *s, int64_t *buf, size_t cap, GError **error) {
  if (ref->run == d->runs->len) {
    *s = (Seg){NULL, 0, 0, mem->vals[ref->i], 0, mem->n[ref->i], 0};
    return TRUE;
  }
  VRun *r = g_ptr_array_index(d->runs, ref->run);
  const KeyAt *a = &r->at[ref->i];
  *s = (Seg){r, a->first, a->first + a->n, buf, 0, 0, cap};
  return seg_fill(s, error);
}

static gboolean merge_all(QDisk *d, const QMemRun *mem, const KeyRef *ref,
                          size_t nref, GError **error) {
  size_t cap = buf_values(d), nr = d->runs->len + 1;
  g_autofree Seg *seg = g_new0(Seg, nr);
  g_autofree Seg **h = g_new(Seg *, nr);
  g_autofree int64_t *bufs = g_new(int64_t, cap * nr);
  g_autofree int64_t *out = g_new(int64_t, MERGE_OUT);
  uint64_t written = 0;
  gboolean ok = TRUE;
  for (size_t i = 0, j; ok && i < nref; i = j) {
    size_t nh = 0;
    for (j = i; j < nref && ref[j].key == ref[i].key; j++) {
      Seg *s = &seg[j - i];
      ok = ok && seg_open(d, mem, &ref[j], s, bufs + (j - i) * cap, cap, error);
      if (ok && s->len) h[nh++] = s;
    }
    d->at[d->nk] = (KeyAt){ref[i].key, written, 0};
    d->fence_at[d->nk] = d->fence->len;
    ok = ok && merge_key(d, h, nh, out, &written, error);
    d->at[d->nk].n = written - d->at[d->nk].first;
    d->nk++;
  }
  return ok;
}

gboolean qdisk_seal(QDisk *d, const QMemRun *mem, uint64_t mem_limit,
                    GError **error) {
  size_t nref;
  g_autofree KeyRef *ref = key_refs(d, mem, &nref);
  uint64_t total = 0;
  for (size_t i = 0; i < mem->nk; i++) total += mem->n[i] * 8;
  for (guint r = 0; r < d->runs->len; r++)
    total += pc_spill_file_size(((VRun *)g_ptr_array_index(d->runs, r))->f);
  d->at = g_new(KeyAt, nref ? nref : 1);
  d->fence_at = g_new(uint64_t, nref ? nref : 1);
  gboolean ok;
  if (total <= mem_limit) { /* read back: no second write */
    d->mem = g_malloc(total + 8);
    ok = merge_all(d, mem, ref, nref, error);
  } else {
    d->f = pc_spill_file_new(d->sp, d->name, total, error);
    ok = d->f && merge_all(d, mem, ref, nref, error) &&
         pc_spill_file_finish(d->f, error);
  }
  g_ptr_array_set_size(d->runs, 0); /* the runs are merged: deleted */
  if (!ok) d->nk = 0;
  return ok;
}

/* ---- Counting (sealed) -------------------------------------------------------- */

static const KeyAt *find_key(const QDisk *d, uint64_t key, size_t *idx) {
  size_t a = 0, b = d->nk;
  while (a < b) {
    size_t m = a + (b - a) / 2;
    if (d->at[m].key < key) a = m + 1;
    else b = m;
  }
  *idx = a;
  return a < d->nk && d->at[a].key == key ? &d->at[a] : NULL;
}

uint64_t qdisk_count(const QDisk *d, uint64_t key) {
  size_t i;
  const KeyAt *a = find_key(d, key, &i);
  return a ? a->n : 0;
}

/* The block of `len` values starting at value index `first`, cached. */
static const int64_t *block(QDisk *d, uint64_t first, size_t len) {
  if (!d->cache) d->cache = g_new0(Block, CACHE_SLOTS);
  Block *b = &d->cache[(first / QDISK_FENCE) % CACHE_SLOTS];
  if (b->tag == first + 1) return b->v;
  GError *e = NULL;
  if (!pc_spill_file_read(d->f, first * 8, b->v, len * 8, &e)) {
    pc_spill_fail(d->sp, e);
    b->tag = 0;
    return NULL;
  }
  b->tag = first + 1;
  return b->v;
}

/* The number of x[0..n) <= v (x ascending). */
static size_t upper_bound(const int64_t *x, size_t n, int64_t v) {
  size_t p = 0, q = n;
  while (p < q) {
    size_t m = p + (q - p) / 2;
    if (x[m] <= v) p = m + 1;
    else q = m;
  }
  return p;
}

uint64_t qdisk_count_le(QDisk *d, uint64_t key, int64_t v) {
  size_t i;
  const KeyAt *a = find_key(d, key, &i);
  if (!a || a->n == 0) return 0;
  if (d->mem) return upper_bound(d->mem + a->first, (size_t)a->n, v);
  const int64_t *f = &g_array_index(d->fence, int64_t, d->fence_at[i]);
  size_t nb = (size_t)((a->n + QDISK_FENCE - 1) / QDISK_FENCE), lo = 0, hi = nb;
  while (lo < hi) { /* first fence > v */
    size_t m = lo + (hi - lo) / 2;
    if (f[m] <= v) lo = m + 1;
    else hi = m;
  }
  if (lo == 0) return 0; /* the least value is > v */
  uint64_t start = (uint64_t)(lo - 1) * QDISK_FENCE;
  size_t len = (size_t)MIN((uint64_t)QDISK_FENCE, a->n - start);
  const int64_t *x = block(d, a->first + start, len);
  return x ? start + upper_bound(x, len, v) : 0;
}
