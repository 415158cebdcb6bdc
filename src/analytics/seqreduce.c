/* seqreduce.c - the distributed side of sequence-keyed tables
 * (pc_seqreduce.h): owner exchange, candidate selection, gather to rank 0,
 * the partition walk of tables that spilled (runs read back through
 * pc_seqspill.h), the total orders of spec §3/§4 and the ranked-table
 * layout.
 *
 * Owns no state. No MPI, HDF5 or file call (PcCommOps, PcSeqSpill).
 * Invariants: rank 0's global top k is contained in the union of every
 * owner's top k, because each key lives on exactly one owner after the
 * exchange; so gathering the owners' top k is exact, never a sample. A walk
 * partitions keys, never a key's counts: a partition holds every run's and
 * the memory's entries of its keys, exchanged whole, so select sees final
 * counts, as in memory. Every rank makes the same collective calls in the
 * same order (the number of partitions and every flush are agreed).
 */
#include "pc_seqreduce.h"

#include <stdlib.h>

/* ---- Orders ---------------------------------------------------------------- */

static int cmp_seq(const PcSeqEntry *a, const PcSeqEntry *b) {
  return pc_seqtab_seq_cmp(a->seq, a->len, b->seq, b->len);
}

static int cmp_i64_desc(int64_t a, int64_t b) {
  return a > b ? -1 : (a < b ? 1 : 0);
}

int pc_seqred_cmp_count(const void *pa, const void *pb) {
  const PcSeqEntry *a = pa, *b = pb;
  int c = cmp_i64_desc(a->c[0], b->c[0]);
  return c ? c : cmp_seq(a, b);
}

int pc_seqred_cmp_count2(const void *pa, const void *pb) {
  const PcSeqEntry *a = pa, *b = pb;
  int c = cmp_i64_desc(a->c[0], b->c[0]);
  if (!c) c = cmp_i64_desc(a->c[1], b->c[1]);
  return c ? c : cmp_seq(a, b);
}

int pc_seqred_cmp_path(const void *pa, const void *pb) {
  return cmp_seq(pa, pb);
}

/* ---- Top k ----------------------------------------------------------------- */

static void swap_entries(PcSeqEntry *a, PcSeqEntry *b) {
  PcSeqEntry t = *a;
  *a = *b;
  *b = t;
}

/* Heap on v[0..k) whose root is the worst kept entry (largest by cmp). */
static void sift_down(PcSeqEntry *v, size_t k, size_t i, PcSeqCmp cmp) {
  for (;;) {
    size_t l = 2 * i + 1, r = l + 1, w = i;
    if (l < k && cmp(&v[l], &v[w]) > 0) w = l;
    if (r < k && cmp(&v[r], &v[w]) > 0) w = r;
    if (w == i) return;
    swap_entries(&v[i], &v[w]);
    i = w;
  }
}

/* O(n log k): owners may hold tens of millions of keys. */
size_t pc_seqred_select_top(PcSeqEntry *v, size_t n, guint64 k,
                            PcSeqCmp cmp) {
  if (k >= n) {
    qsort(v, n, sizeof *v, cmp);
    return n;
  }
  if (k == 0) return 0;
  for (size_t i = k / 2; i-- > 0;) sift_down(v, k, i, cmp);
  for (size_t i = k; i < n; i++)
    if (cmp(&v[i], &v[0]) < 0) {
      v[0] = v[i];
      sift_down(v, k, 0, cmp);
    }
  qsort(v, k, sizeof *v, cmp);
  return k;
}

void pc_seqred_group_by_len(PcSeqEntry *v, size_t n, guint maxlen,
                            size_t *start) {
  g_autofree PcSeqEntry *tmp = g_new(PcSeqEntry, n ? n : 1);
  g_autofree size_t *at = g_new0(size_t, maxlen + 2);
  for (size_t i = 0; i < n; i++) {
    g_assert(v[i].len <= maxlen);
    at[v[i].len + 1]++;
  }
  for (guint l = 0; l <= maxlen; l++) at[l + 1] += at[l];
  memcpy(start, at, (maxlen + 2) * sizeof *start);
  for (size_t i = 0; i < n; i++) tmp[at[v[i].len]++] = v[i];
  memcpy(v, tmp, n * sizeof *v);
}

/* ---- Collective steps ------------------------------------------------------ */

gboolean pc_seqred_exchange(PcSeqTab **t, const PcCommOps *ops,
                            GError **error) {
  guint np = (guint)ops->size, k = pc_seqtab_k(*t);
  if (np == 1) return TRUE; /* already the one owner's share */
  GByteArray **send = g_new(GByteArray *, np);
  for (guint r = 0; r < np; r++) send[r] = g_byte_array_new();
  pc_seqtab_serialize_parts(*t, np, send);
  pc_seqtab_free(*t);
  *t = pc_seqtab_new(k);
  GByteArray *recv = NULL;
  gboolean ok = ops->exchange(ops->ctx, send, &recv, error);
  for (guint r = 0; r < np; r++) g_byte_array_unref(send[r]);
  g_free(send);
  if (ok) ok = pc_seqtab_merge_serialized(*t, recv->data, recv->len, error);
  if (recv) g_byte_array_unref(recv);
  return ok;
}

gboolean pc_seqred_gather(const GByteArray *mine, guint k,
                          const PcCommOps *ops, PcSeqTab **out,
                          GError **error) {
  GByteArray *all = NULL;
  *out = NULL;
  if (!ops->gather(ops->ctx, mine->data, mine->len, &all, error)) return FALSE;
  if (!all) return TRUE;
  g_autoptr(PcSeqTab) t = pc_seqtab_new(k);
  gboolean ok = pc_seqtab_merge_serialized(t, all->data, all->len, error);
  g_byte_array_unref(all);
  if (ok) *out = g_steal_pointer(&t);
  return ok;
}

static void serialize_entries(GByteArray *buf, const PcSeqEntry *v, size_t n,
                              guint k) {
  for (size_t i = 0; i < n; i++)
    pc_seqtab_serialize_entry(buf, v[i].seq, v[i].len, v[i].c, k);
}

GByteArray *pc_seqred_candidates_top(const PcSeqTab *t, guint64 k,
                                     PcSeqCmp cmp) {
  size_t n;
  g_autofree PcSeqEntry *v = pc_seqtab_entries(t, &n);
  GByteArray *buf = g_byte_array_new();
  serialize_entries(buf, v, pc_seqred_select_top(v, n, k, cmp),
                    pc_seqtab_k(t));
  return buf;
}

GByteArray *pc_seqred_candidates_top_per_len(const PcSeqTab *t, guint maxlen,
                                             guint64 k, PcSeqCmp cmp) {
  size_t n;
  g_autofree size_t *start = g_new(size_t, maxlen + 2);
  g_autofree PcSeqEntry *v = pc_seqtab_entries(t, &n);
  GByteArray *buf = g_byte_array_new();
  pc_seqred_group_by_len(v, n, maxlen, start);
  for (guint l = 1; l <= maxlen; l++) {
    PcSeqEntry *run = v + start[l];
    size_t m = pc_seqred_select_top(run, start[l + 1] - start[l], k, cmp);
    serialize_entries(buf, run, m, pc_seqtab_k(t));
  }
  return buf;
}

GByteArray *pc_seqred_candidates_min(const PcSeqTab *t, guint64 min) {
  GByteArray *buf = g_byte_array_new();
  size_t n;
  g_autofree PcSeqEntry *v = pc_seqtab_entries(t, &n);
  for (size_t i = 0; i < n; i++)
    if ((uint64_t)v[i].c[0] >= min)
      pc_seqtab_serialize_entry(buf, v[i].seq, v[i].len, v[i].c,
                                pc_seqtab_k(t));
  return buf;
}

/* ---- The partition walk ---------------------------------------------------- */

#define PART_MIN_BYTES (64u << 10) /* a partition of less is not worth a round */
#define CARRY_MIN_BYTES (1u << 20) /* candidates re-selected past this */

/* Collective: the number of partitions of the walk, the same on every
 * rank: enough for the rank with the most bytes (runs and table). */
static gboolean agree_parts(const PcSeqTab *t, const PcSeqSpill *runs,
                            const PcCommOps *ops, guint *nparts,
                            GError **error) {
  PcSpill *sp = pc_seqspill_context(runs);
  uint64_t reduce = sp ? pc_spill_budget(sp).reduce : 0;
  uint64_t bytes = pc_seqspill_bytes(runs) + pc_seqtab_memory_bytes(t);
  /* reduce budget 0 (tests): one fine partition a round */
  uint64_t target = reduce ? MAX(reduce / 6, (uint64_t)PART_MIN_BYTES) : 1;
  g_autofree int64_t *need = g_new0(int64_t, ops->size);
  need[ops->rank] = (int64_t)((bytes + target - 1) / target);
  if (!ops->sum_i64(ops->ctx, need, (size_t)ops->size, error)) return FALSE;
  int64_t most = 1;
  for (int r = 0; r < ops->size; r++) most = MAX(most, need[r]);
  for (*nparts = 1; *nparts < (guint)most && *nparts < PC_SEQTAB_PARTS;) *nparts *= 2;
  return TRUE;
}

/* Candidates past *limit bytes are selected again (the select composes),
 * so they stay about the size of one selection. */
static void carry(GByteArray **cand, guint k, PcSeqSelectFn select,
                  void *data, size_t *limit) {
  if ((*cand)->len <= *limit) return;
  g_autoptr(PcSeqTab) c = pc_seqtab_new(k);
  gboolean ok = pc_seqtab_merge_serialized(c, (*cand)->data, (*cand)->len, NULL);
  g_assert(ok); /* our own bytes */
  g_byte_array_unref(*cand);
  *cand = select(c, data);
  *limit = MAX(*limit, 2 * (size_t)(*cand)->len);
}

/* Partition p of nparts: its entries from the runs (disk) and from the
 * table in memory, merged. A failed read is recorded in the PcSpill and
 * the partition counted without the runs (the run fails at the check). */
static PcSeqTab *load_part(const PcSeqTab *t, PcSeqSpill *runs, guint p,
                           guint nparts) {
  guint w = PC_SEQTAB_PARTS / nparts;
  PcSeqTab *pt = pc_seqtab_new(pc_seqtab_k(t));
  GError *e = NULL;
  if (runs && !pc_seqspill_load(runs, p, nparts, pt, &e)) {
    pc_spill_fail(pc_seqspill_context(runs), e);
    pc_seqtab_clear(pt);
  }
  pc_seqtab_merge_parts(pt, t, p * w, (p + 1) * w);
  return pt;
}

/* Collective: sends every rank's candidates to rank 0, which adds them to
 * *out (made on the first call; keys of two calls are disjoint: they come
 * from different partitions); cand is emptied. */
static gboolean flush(GByteArray *cand, guint k, const PcCommOps *ops,
                      PcSeqTab **out, GError **error) {
  PcSeqTab *g = NULL;
  if (!pc_seqred_gather(cand, k, ops, &g, error)) return FALSE;
  g_byte_array_set_size(cand, 0);
  if (g && *out) {
    pc_seqtab_merge(*out, g);
    pc_seqtab_free(g);
  } else if (g) {
    *out = g;
  }
  return TRUE;
}

/* Collective: whether some rank holds more candidates than `limit` bytes
 * (those that every select keeps, e.g. prefix nodes over the floor, do not
 * shrink when selected again: they go to rank 0 before the walk ends). */
static gboolean agree_flush(const GByteArray *cand, uint64_t limit,
                            const PcCommOps *ops, gboolean *yes,
                            GError **error) {
  int64_t big = cand->len > limit;
  if (!ops->sum_i64(ops->ctx, &big, 1, error)) return FALSE;
  *yes = big > 0;
  return TRUE;
}

static gboolean walk(PcSeqTab **t, PcSeqSpill *runs, PcSeqSelectFn select,
                     void *data, const PcCommOps *ops, PcSeqTab **out,
                     GError **error) {
  guint k = pc_seqtab_k(*t), nparts;
  if (!agree_parts(*t, runs, ops, &nparts, error)) return FALSE;
  PcSpill *sp = pc_seqspill_context(runs);
  uint64_t reduce = sp ? pc_spill_budget(sp).reduce : 0;
  /* reduce budget 0 (tests): to rank 0 after every partition */
  uint64_t flush_at = reduce ? MAX(reduce / 4, (uint64_t)CARRY_MIN_BYTES) : 0;
  size_t limit = CARRY_MIN_BYTES;
  g_autoptr(GByteArray) cand = g_byte_array_new();
  gboolean ok = TRUE, yes;
  for (guint p = 0; p < nparts && ok; p++) {
    PcSeqTab *pt = load_part(*t, runs, p, nparts);
    ok = pc_seqred_exchange(&pt, ops, error);
    if (ok) {
      GByteArray *c = select(pt, data);
      g_byte_array_append(cand, c->data, c->len);
      g_byte_array_unref(c);
      carry(&cand, k, select, data, &limit);
    }
    pc_seqtab_free(pt);
    ok = ok && agree_flush(cand, flush_at, ops, &yes, error) &&
         (!yes || flush(cand, k, ops, out, error));
  }
  return ok && flush(cand, k, ops, out, error);
}

/* Collective: whether the table is walked in partitions: some rank
 * spilled it, or holds more of it than a quarter of its reduce budget (the
 * in-memory exchange needs about 3.5 times the table: send buffers, what
 * arrives, the merged table). */
static gboolean agree_walk(const PcSeqTab *t, const PcSeqSpill *runs,
                           const PcCommOps *ops, gboolean *walk,
                           GError **error) {
  PcSpill *sp = pc_seqspill_context(runs);
  int64_t big = sp && pc_seqtab_memory_bytes(t) > pc_spill_budget(sp).reduce / 4;
  int64_t v[2] = {pc_seqspill_runs(runs), big};
  if (!ops->sum_i64(ops->ctx, v, 2, error)) return FALSE;
  *walk = v[0] > 0 || v[1] > 0;
  return TRUE;
}

gboolean pc_seqred_reduce(PcSeqTab **t, PcSeqSpill *runs, PcSeqSelectFn select,
                          void *data, const PcCommOps *ops, PcSeqTab **out,
                          GError **error) {
  gboolean w;
  *out = NULL;
  if (!agree_walk(*t, runs, ops, &w, error)) return FALSE;
  if (w) return walk(t, runs, select, data, ops, out, error);
  if (!pc_seqred_exchange(t, ops, error)) return FALSE;
  g_autoptr(GByteArray) cand = select(*t, data);
  return pc_seqred_gather(cand, pc_seqtab_k(*t), ops, out, error);
}

/* ---- Output cells (rank 0) -------------------------------------------------- */

const char *pc_seqred_token_name(const PcDict *d, uint32_t id) {
  if (id == PC_TOKEN_START) return "^";
  if (id == PC_TOKEN_END) return "$";
  g_assert(id < d->n);
  return d->names[id];
}

void pc_seqred_set_path(PcTable *t, guint col, const PcDict *d,
                        const uint32_t *seq, size_t len, GString *s) {
  g_string_truncate(s, 0);
  if (len == 0) g_string_append(s, "^");
  for (size_t i = 0; i < len; i++) {
    if (i) g_string_append(s, " > ");
    g_string_append(s, pc_seqred_token_name(d, seq[i]));
  }
  pc_table_set_string_len(t, col, s->str, s->len);
}

PcTable *pc_seqred_table_ranked(const char *name, const char *count_col,
                                gboolean with_length, const PcSeqTab *g,
                                guint64 k, int64_t total, const PcDict *d) {
  g_autofree char *cc = g_strdup_printf("%s:int", count_col);
  const char *cols[] = {"rank:int", cc, "share:double", "length:int",
                        "path:string"};
  if (!with_length) cols[3] = cols[4];
  guint nc = with_length ? 5 : 4;
  PcTable *t = pc_table_new(name, cols, nc);
  g_autoptr(GString) s = g_string_new(NULL);
  size_t n;
  g_autofree PcSeqEntry *v = pc_seqtab_entries(g, &n);
  size_t m = pc_seqred_select_top(v, n, k, pc_seqred_cmp_count);
  for (size_t i = 0; i < m; i++) {
    pc_table_add_row(t);
    pc_table_set_int(t, 0, (int64_t)i + 1);
    pc_table_set_int(t, 1, v[i].c[0]);
    pc_table_set_double(t, 2, (double)v[i].c[0] / (double)total);
    if (with_length) pc_table_set_int(t, 3, (int64_t)v[i].len);
    pc_seqred_set_path(t, nc - 1, d, v[i].seq, v[i].len, s);
  }
  return t;
}
