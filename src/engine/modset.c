/* modset.c - the module loop (pc_modset.h): every enabled analysis of the
 * module table, an instance per thread, driven through create, add, merge,
 * reduce, tables and describe in table order.
 *
 * Owns the instances. Knows no analysis: everything goes through the
 * PcModule function pointers. No MPI, no HDF5.
 */
#include "pc_modset.h"

typedef struct {
  const PcModule *m;
  void **inst;         /* [threads]; after merge only inst[0] */
  double reduce_s;
} Slot;

struct PcModSet {
  const PcModuleEnv *env;
  int threads;
  Slot *slot;
  guint n;
  gboolean merged;
};

static void slot_clear(Slot *sl, int threads) {
  for (int t = 0; sl->inst && t < threads; t++)
    if (sl->inst[t]) sl->m->destroy(sl->inst[t]);
  g_free(sl->inst);
}

void pc_modset_free(PcModSet *s) {
  if (!s) return;
  for (guint i = 0; i < s->n; i++) slot_clear(&s->slot[i], s->threads);
  g_free(s->slot);
  g_free(s);
}

PcModSet *pc_modset_new(const PcModuleEnv *env, int threads, GError **error) {
  g_return_val_if_fail(env && threads >= 1, NULL);
  guint nall;
  const PcModule *const *all = pc_modules_all(&nall);
  g_autoptr(PcModSet) s = g_new0(PcModSet, 1);
  s->env = env;
  s->threads = threads;
  s->slot = g_new0(Slot, nall);
  for (guint k = 0; k < nall; k++) {
    const PcModule *m = all[k];
    if (m->enabled && !m->enabled(env->cfg)) continue;
    Slot *sl = &s->slot[s->n++];
    sl->m = m;
    sl->inst = g_new0(void *, threads);
    for (int t = 0; t < threads; t++)
      if (!(sl->inst[t] = m->create(env, error))) return NULL;
  }
  return g_steal_pointer(&s);
}

uint64_t pc_modset_memory(const PcModuleEnv *env, int threads,
                          uint64_t customers, const char **largest) {
  guint nall;
  const PcModule *const *all = pc_modules_all(&nall);
  uint64_t total = 0, most = 0;
  if (largest) *largest = NULL;
  for (guint k = 0; k < nall; k++) {
    const PcModule *m = all[k];
    if ((m->enabled && !m->enabled(env->cfg)) || !m->memory) continue;
    uint64_t b = m->memory(env, threads, customers);
    total += b;
    if (b > most && largest) most = b, *largest = m->name;
  }
  return total;
}

void pc_modset_add(PcModSet *s, int t, const PcJourneyView *jv) {
  for (guint i = 0; i < s->n; i++) s->slot[i].m->add(s->slot[i].inst[t], jv);
}

void pc_modset_merge_threads(PcModSet *s) {
  g_return_if_fail(!s->merged);
  s->merged = TRUE;
  for (guint i = 0; i < s->n; i++) {
    Slot *sl = &s->slot[i];
    for (int t = 1; t < s->threads; t++) {
      sl->m->merge(sl->inst[0], sl->inst[t]);
      sl->m->destroy(sl->inst[t]);
      sl->inst[t] = NULL;
    }
  }
}

guint pc_modset_count(const PcModSet *s) { return s->n; }

const char *pc_modset_name(const PcModSet *s, guint i) {
  g_return_val_if_fail(i < s->n, NULL);
  return s->slot[i].m->name;
}

gboolean pc_modset_reduce_one(PcModSet *s, guint i, GError **error) {
  g_return_val_if_fail(s->merged && i < s->n, FALSE);
  Slot *sl = &s->slot[i];
  if (!sl->m->reduce) return TRUE;
  gint64 t0 = g_get_monotonic_time();
  gboolean ok = sl->m->reduce(sl->inst[0], s->env, error);
  sl->reduce_s = (double)(g_get_monotonic_time() - t0) / 1e6;
  return ok;
}

double pc_modset_reduce_seconds(const PcModSet *s, guint i) {
  g_return_val_if_fail(i < s->n, 0);
  return s->slot[i].reduce_s;
}

gboolean pc_modset_tables(PcModSet *s, PcOutputs *out, GError **error) {
  for (guint i = 0; i < s->n; i++)
    if (!s->slot[i].m->tables(s->slot[i].inst[0], s->env, out, error))
      return FALSE;
  return TRUE;
}

void pc_modset_describe(PcModSet *s, JsonBuilder *b) {
  for (guint i = 0; i < s->n; i++)
    if (s->slot[i].m->describe) s->slot[i].m->describe(s->slot[i].inst[0], b);
}

GPtrArray *pc_modset_run_serial(PcModSet *s, GError **error) {
  pc_modset_merge_threads(s);
  for (guint i = 0; i < s->n; i++)
    if (!pc_modset_reduce_one(s, i, error)) return NULL;
  g_autoptr(PcOutputs) out = pc_outputs_new();
  if (!pc_modset_tables(s, out, error)) return NULL;
  return pc_outputs_finish(out);
}
