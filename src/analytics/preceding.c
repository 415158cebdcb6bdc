/* preceding.c - what precedes the target (spec §4): the preceding paths
 * (the last `target.lookback` events before a customer's first target
 * event, counted per sequence) and the preceding tokens (customers with a
 * token among those events). The "preceding" analysis module.
 *
 * Owns PcPreceding and the module's token counters. No MPI, no HDF5:
 * preceding paths merge on owner ranks like the path tables
 * (pc_seqreduce.h); token counts are an int64 array summed exactly.
 * Invariant: a customer counts once per token however often the token
 * occurs among its lookback events (journey stamps, never reset).
 */
#include "pc_module.h"
#include "pc_paths.h"
#include "pc_seqreduce.h"
#include "pc_stats.h"

#include <stdlib.h>

struct PcPreceding {
  guint lookback;
  guint64 top_k;
  PcSeqTab *t;          /* [customers] */
  PcSeqSpill *runs;     /* t's spilled runs */
  gboolean reduced;
};

PcPreceding *pc_preceding_new(guint lookback, guint64 top_k) {
  PcPreceding *p = g_new0(PcPreceding, 1);
  p->lookback = lookback;
  p->top_k = top_k;
  p->t = pc_seqtab_new(1);
  p->runs = pc_seqspill_new(NULL, "preceding", 1);
  return p;
}

void pc_preceding_set_spill(PcPreceding *p, PcSpill *sp) {
  g_return_if_fail(pc_seqtab_size(p->t) == 0 && !p->reduced);
  pc_seqspill_free(p->runs);
  p->runs = pc_seqspill_new(sp, "preceding", 1);
}

void pc_preceding_free(PcPreceding *p) {
  if (!p) return;
  pc_seqtab_free(p->t);
  pc_seqspill_free(p->runs);
  g_free(p);
}

void pc_preceding_add(PcPreceding *p, const uint32_t *pre, size_t len) {
  g_return_if_fail(!p->reduced);
  pc_seqspill_maybe(p->runs, p->t); /* a journey boundary */
  size_t m = MIN(len, (size_t)p->lookback);
  pc_seqtab_upsert(p->t, m ? pre + (len - m) : NULL, m)[0]++;
}

void pc_preceding_merge(PcPreceding *dst, PcPreceding *src) {
  g_return_if_fail(!dst->reduced && !src->reduced && dst != src);
  pc_seqtab_merge(dst->t, src->t);
  pc_seqspill_absorb(dst->runs, src->runs);
  pc_seqspill_maybe(dst->runs, dst->t);
}

/* The owner's candidates: its top k (pc_seqreduce.h). */
static GByteArray *select_top(PcSeqTab *t, void *data) {
  const PcPreceding *p = data;
  return pc_seqred_candidates_top(t, p->top_k, pc_seqred_cmp_count);
}

gboolean pc_preceding_reduce(PcPreceding *p, const PcCommOps *ops,
                             const PcDict *events, uint64_t y_total,
                             GPtrArray *tables, GError **error) {
  g_return_val_if_fail(!p->reduced, FALSE);
  g_return_val_if_fail(error == NULL || *error == NULL, FALSE);
  p->reduced = TRUE;
  g_autoptr(PcSeqTab) g = NULL;
  gboolean ok = pc_seqred_reduce(&p->t, p->runs, select_top, p, ops, &g, error);
  pc_seqtab_clear(p->t);
  pc_seqspill_forget(p->runs);
  if (!ok) return FALSE;
  if (g)
    g_ptr_array_add(tables, pc_seqred_table_ranked("preceding_paths",
                                                   "customers", FALSE, g,
                                                   p->top_k, (int64_t)y_total,
                                                   events));
  return TRUE;
}

/* ---- The "preceding" module ---- */

typedef struct {
  PcPreceding *paths;
  guint E;
  int64_t *tokens;      /* [E] customers with the event among lookback */
  uint64_t *stamp;      /* [E] last journey that counted the event */
  uint64_t serial;
  GArray *pre;          /* scratch: event ids of the pre-target journey */
  GPtrArray *tables;    /* rank 0 after reduce */
} Preceding;

static gboolean preceding_enabled(const PcJobConfig *cfg) {
  return cfg->n_target_events > 0;
}

static void *preceding_create(const PcModuleEnv *env, GError **error) {
  Preceding *m = g_new0(Preceding, 1);
  m->paths = pc_preceding_new(env->cfg->lookback, env->cfg->top_k);
  pc_preceding_set_spill(m->paths, env->spill);
  m->E = env->names->events->n;
  m->tokens = g_new0(int64_t, m->E + 1);
  m->stamp = g_new0(uint64_t, m->E + 1);
  m->pre = g_array_new(FALSE, FALSE, sizeof(uint32_t));
  m->tables = g_ptr_array_new_with_free_func((GDestroyNotify)pc_table_free);
  return m;
}

static void preceding_add(void *self, const PcJourneyView *jv) {
  Preceding *m = self;
  if (!jv->y) return;
  const PcJourney *j = jv->j;
  g_array_set_size(m->pre, jv->cut);
  for (size_t i = 0; i < jv->cut; i++)
    g_array_index(m->pre, uint32_t, i) = j->ev[i].event;
  pc_preceding_add(m->paths, (const uint32_t *)m->pre->data, jv->cut);
  uint64_t s = ++m->serial;
  size_t look = m->paths->lookback;
  for (size_t i = jv->cut > look ? jv->cut - look : 0; i < jv->cut; i++) {
    uint32_t e = j->ev[i].event;
    if (m->stamp[e] == s) continue;
    m->stamp[e] = s;
    m->tokens[e]++;
  }
}

static void preceding_merge(void *dst, void *src) {
  Preceding *d = dst, *s = src;
  pc_preceding_merge(d->paths, s->paths);
  pc_stats_add_i64(d->tokens, s->tokens, d->E);
}

static gboolean preceding_reduce(void *self, const PcModuleEnv *env,
                                 GError **error) {
  Preceding *m = self;
  return pc_preceding_reduce(m->paths, env->ops, env->names->events,
                             env->facts->customers_with_outcome, m->tables,
                             error) &&
         env->ops->sum_i64(env->ops->ctx, m->tokens, m->E, error);
}

/* token,customers,share: customers desc, then token asc (id order). */
static PcTable *table_tokens(const Preceding *m, const PcDict *events,
                             uint64_t y_total) {
  static const char *const cols[] = {"token:string", "customers:int",
                                     "share:double"};
  PcTable *t = pc_table_new("preceding_tokens", cols, 3);
  g_autofree PcStatsRow *rows = g_new0(PcStatsRow, m->E + 1);
  guint nr = 0;
  for (guint e = 0; e < m->E; e++)
    if (m->tokens[e] > 0) rows[nr++] = (PcStatsRow){e, m->tokens[e], 0};
  qsort(rows, nr, sizeof *rows, pc_stats_cmp_key_desc);
  for (guint r = 0; r < nr; r++) {
    pc_table_add_row(t);
    pc_table_set_string(t, 0, events->names[rows[r].id]);
    pc_table_set_int(t, 1, rows[r].key);
    pc_table_set_double(t, 2, pc_stats_ratio((double)rows[r].key,
                                             (double)y_total));
  }
  return t;
}

static gboolean preceding_tables(void *self, const PcModuleEnv *env,
                                 PcOutputs *out, GError **error) {
  Preceding *m = self;
  for (guint i = 0; i < m->tables->len; i++)
    pc_outputs_add(out, g_ptr_array_index(m->tables, i));
  g_ptr_array_set_free_func(m->tables, NULL);
  g_ptr_array_set_size(m->tables, 0);
  pc_outputs_add(out, table_tokens(m, env->names->events,
                                   env->facts->customers_with_outcome));
  return TRUE;
}

static void preceding_destroy(void *self) {
  Preceding *m = self;
  if (!m) return;
  pc_preceding_free(m->paths);
  g_free(m->tokens);
  g_free(m->stamp);
  g_array_free(m->pre, TRUE);
  g_ptr_array_unref(m->tables);
  g_free(m);
}

/* Per thread: token counts and stamps per event name. */
static uint64_t preceding_memory(const PcModuleEnv *env, int threads,
                                 uint64_t customers) {
  return (uint64_t)threads * 16 * ((uint64_t)env->names->events->n + 1);
}

const PcModule pc_module_preceding = {
    .name = "preceding",
    .enabled = preceding_enabled,
    .create = preceding_create,
    .add = preceding_add,
    .merge = preceding_merge,
    .reduce = preceding_reduce,
    .tables = preceding_tables,
    .destroy = preceding_destroy,
    .memory = preceding_memory,
};
