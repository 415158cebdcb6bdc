/* paths_tables.c - the collective reduce of the path tables of spec §3 and
 * their layouts of spec §10 (variants, ngrams, transitions, prefix_tree,
 * transition_gaps).
 *
 * Owns nothing across calls; works on a PcPaths (paths_int.h). Invariants:
 * each key is merged on exactly one owner (hash % ranks); prefix pruning by
 * min_support and per-owner top-k happen only after that merge; rank 0
 * takes the global top-k of the union of the owners' top-k, which contains
 * it (pc_seqreduce.h, also when a table spilled and is walked in
 * partitions). No MPI or HDF5 call.
 */
#include "paths_int.h"
#include "pc_seqreduce.h"

#include <stdlib.h>

static PcTable *table_variants(const PcSeqTab *g, guint64 k, int64_t journeys,
                               const PcDict *d) {
  return pc_seqred_table_ranked("variants", "journeys", TRUE, g, k, journeys, d);
}

static PcTable *table_ngrams(const PcSeqTab *g, guint maxn, guint64 k,
                             const PcDict *d) {
  static const char *const cols[] = {"n:int", "rank:int", "occurrences:int",
                                     "customers:int", "path:string"};
  PcTable *t = pc_table_new("ngrams", cols, 5);
  GString *s = g_string_new(NULL);
  size_t n, *start = g_new(size_t, maxn + 2);
  PcSeqEntry *v = pc_seqtab_entries(g, &n);
  pc_seqred_group_by_len(v, n, maxn, start);
  for (guint l = 1; l <= maxn; l++) {
    PcSeqEntry *run = v + start[l];
    size_t m = pc_seqred_select_top(run, start[l + 1] - start[l], k, pc_seqred_cmp_count2);
    for (size_t i = 0; i < m; i++) {
      pc_table_add_row(t);
      pc_table_set_int(t, 0, l);
      pc_table_set_int(t, 1, (int64_t)i + 1);
      pc_table_set_int(t, 2, run[i].c[0]);
      pc_table_set_int(t, 3, run[i].c[1]);
      pc_seqred_set_path(t, 4, d, run[i].seq, run[i].len, s);
    }
  }
  g_free(start);
  g_free(v);
  g_string_free(s, TRUE);
  return t;
}

typedef struct {
  const char *from, *to;
  PcSeqEntry e;
} TransRow;

/* from asc, count desc, to asc; by the strings: "^" (0x5E) and "$" (0x24)
 * do not sort where their ids would. */
static int cmp_trans(const void *pa, const void *pb) {
  const TransRow *a = pa, *b = pb;
  int c = strcmp(a->from, b->from);
  if (!c && a->e.c[0] != b->e.c[0]) c = a->e.c[0] > b->e.c[0] ? -1 : 1;
  return c ? c : strcmp(a->to, b->to);
}

/* Exact µs sum / (count * 10^6), one rounding of the 128-bit sum. */
static double mean_gap_s(const int64_t *c) {
  unsigned __int128 sum = ((unsigned __int128)(uint64_t)c[1] << 32) +
                          (uint64_t)c[2];
  return (double)sum / ((double)c[0] * 1e6);
}

static void add_trans_row(PcTable *t, const TransRow *r, int64_t total) {
  pc_table_add_row(t);
  pc_table_set_string(t, 0, r->from);
  pc_table_set_string(t, 1, r->to);
  pc_table_set_int(t, 2, r->e.c[0]);
  pc_table_set_double(t, 3, (double)r->e.c[0] / (double)total);
  if (r->e.seq[0] != PC_TOKEN_START && r->e.seq[1] != PC_TOKEN_END)
    pc_table_set_double(t, 4, mean_gap_s(r->e.c));
}

/* Also appends the key GAP_KEY(a, b) of every real pair to keys, in the
 * order of the table (transition_gaps.csv follows it). */
static PcTable *table_transitions(const PcSeqTab *g, const PcDict *d,
                                  GArray *keys) {
  static const char *const cols[] = {"from:string", "to:string", "count:int",
                                     "probability:double",
                                     "mean_gap_s:double"};
  PcTable *t = pc_table_new("transitions", cols, 5);
  size_t n;
  PcSeqEntry *v = pc_seqtab_entries(g, &n);
  TransRow *r = g_new(TransRow, n ? n : 1);
  for (size_t i = 0; i < n; i++) {
    r[i].e = v[i];
    r[i].from = pc_seqred_token_name(d, r[i].e.seq[0]);
    r[i].to = pc_seqred_token_name(d, r[i].e.seq[1]);
  }
  qsort(r, n, sizeof *r, cmp_trans);
  for (size_t i = 0, j; i < n; i = j) {
    int64_t total = 0; /* Σ_b count(a -> b), $ included */
    for (j = i; j < n && r[j].e.seq[0] == r[i].e.seq[0]; j++)
      total += r[j].e.c[0];
    for (size_t x = i; x < j; x++) {
      add_trans_row(t, &r[x], total);
      const uint32_t *k = r[x].e.seq;
      if (k[0] != PC_TOKEN_START && k[1] != PC_TOKEN_END) {
        uint64_t key = GAP_KEY(k[0], k[1]);
        g_array_append_val(keys, key);
      }
    }
  }
  g_free(v);
  g_free(r);
  return t;
}

static PcTable *table_prefix(const PcSeqTab *g, const PcDict *d) {
  static const char *const cols[] = {"depth:int", "path:string", "reach:int",
                                     "end:int", "target:int"};
  PcTable *t = pc_table_new("prefix_tree", cols, 5);
  GString *s = g_string_new(NULL);
  size_t n;
  PcSeqEntry *v = pc_seqtab_entries(g, &n);
  qsort(v, n, sizeof *v, pc_seqred_cmp_path);
  for (size_t i = 0; i < n; i++) {
    pc_table_add_row(t);
    pc_table_set_int(t, 0, (int64_t)v[i].len);
    pc_seqred_set_path(t, 1, d, v[i].seq, v[i].len, s);
    for (guint c = 0; c < 3; c++) pc_table_set_int(t, 2 + c, v[i].c[c]);
  }
  g_free(v);
  g_string_free(s, TRUE);
  return t;
}

/* transition_gaps.csv: count and percentiles (µs -> s) of every real pair
 * of keys, which are in transitions.csv order. */
static PcTable *table_gaps(const uint64_t *keys, size_t nk, const int64_t *n,
                           const int64_t *q, const PcDict *d) {
  static const char *const cols[] = {"from:string", "to:string", "count:int",
                                     "p25_s:double", "median_s:double",
                                     "p90_s:double"};
  PcTable *t = pc_table_new("transition_gaps", cols, 6);
  for (size_t i = 0; i < nk; i++) {
    pc_table_add_row(t);
    pc_table_set_string(t, 0, pc_seqred_token_name(d, (uint32_t)(keys[i] >> 32)));
    pc_table_set_string(t, 1, pc_seqred_token_name(d, (uint32_t)keys[i]));
    pc_table_set_int(t, 2, n[i]);
    for (guint p = 0; p < 3 && n[i] > 0; p++)
      pc_table_set_double(t, 3 + p, (double)q[3 * i + p] / 1e6);
  }
  return t;
}

/* Collective: rank 0 broadcasts the real pairs of transitions.csv (keys,
 * rank 0 only), every rank takes part in the exact selection of their gap
 * percentiles, rank 0 gets the table. */
static gboolean reduce_gaps(PcPaths *p, const PcCommOps *ops,
                            const PcDict *tokens, GArray *keys, PcTable **out,
                            GError **error) {
  static const guint pct[3] = {25, 50, 90};
  void *buf = ops->rank == 0 ? keys->data : NULL;
  size_t len = ops->rank == 0 ? keys->len * sizeof(uint64_t) : 0;
  *out = NULL;
  if (!ops->bcast(ops->ctx, &buf, &len, error)) return FALSE;
  size_t nk = len / sizeof(uint64_t);
  g_autofree uint64_t *mine = ops->rank == 0 ? NULL : buf;
  g_autofree int64_t *n = g_new(int64_t, nk + 1);
  g_autofree int64_t *q = g_new(int64_t, 3 * nk + 1);
  gboolean ok = pc_quantile_select(p->gaps, ops, buf, nk, pct, 3, n, q, error);
  pc_quantile_release(p->gaps);
  if (!ok) return FALSE;
  if (ops->rank == 0) *out = table_gaps(buf, nk, n, q, tokens);
  return TRUE;
}

/* ---- Reduce ---- */

typedef struct {
  PcPaths *p;
  int which;   /* 0 variants, 1 ngrams, 2 transitions, 3 prefix */
} Select;

/* The owner's candidates of one table (pc_seqreduce.h: they compose). */
static GByteArray *select_table(PcSeqTab *t, void *data) {
  const Select *s = data;
  const PcPaths *p = s->p;
  if (s->which == 0) return pc_seqred_candidates_top(t, p->top_k, pc_seqred_cmp_count);
  if (s->which == 1)
    return pc_seqred_candidates_top_per_len(t, p->ngram_max, p->top_k, pc_seqred_cmp_count2);
  if (s->which == 2) {
    pc_paths_normalize_gaps(t);
    return pc_seqred_candidates_min(t, 0);
  }
  return pc_seqred_candidates_min(t, p->min_support); /* after the merge */
}

/* Table `which` reduced (its memory freed on every rank afterwards); on
 * rank 0 *out = the output table. */
static gboolean reduce_one(PcPaths *p, int which, const PcCommOps *ops,
                           const PcDict *tokens, int64_t journeys,
                           GArray *gap_keys, PcTable **out, GError **error) {
  PcSeqTab **tabs[4] = PATHS_TABLES(p);
  Select s = {p, which};
  PcSeqTab *g = NULL;
  *out = NULL;
  gboolean ok = pc_seqred_reduce(tabs[which], p->runs[which], select_table, &s,
                                 ops, &g, error);
  pc_seqtab_clear(*tabs[which]);
  pc_seqspill_forget(p->runs[which]);
  if (!ok || !g) return ok;
  if (which == 0) *out = table_variants(g, p->top_k, journeys, tokens);
  else if (which == 1) *out = table_ngrams(g, p->ngram_max, p->top_k, tokens);
  else if (which == 2) *out = table_transitions(g, tokens, gap_keys);
  else *out = table_prefix(g, tokens);
  pc_seqtab_free(g);
  return TRUE;
}

gboolean pc_paths_reduce(PcPaths *p, const PcCommOps *ops,
                         const PcDict *tokens, GPtrArray *tables,
                         uint64_t *journeys, GError **error) {
  g_return_val_if_fail(!p->reduced, FALSE);
  g_return_val_if_fail(error == NULL || *error == NULL, FALSE);
  pc_paths_flush_dense(p);
  p->reduced = TRUE;
  int64_t total = p->journeys;
  if (!ops->sum_i64(ops->ctx, &total, 1, error)) return FALSE;
  *journeys = (uint64_t)total;
  PcTable *out[5] = {NULL, NULL, NULL, NULL, NULL};
  g_autoptr(GArray) gap_keys = g_array_new(FALSE, FALSE, sizeof(uint64_t));
  gboolean ok = TRUE;
  for (int w = 0; w < 4 && ok; w++)
    ok = reduce_one(p, w, ops, tokens, total, gap_keys, &out[w], error);
  if (ok) ok = reduce_gaps(p, ops, tokens, gap_keys, &out[4], error);
  for (int w = 0; w < 5; w++) {
    if (ok && out[w]) g_ptr_array_add(tables, out[w]);
    else pc_table_free(out[w]);
  }
  return ok;
}
