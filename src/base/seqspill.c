/* seqspill.c - the spilled runs of a sequence table (pc_seqspill.h).
 *
 * Owns PcSeqSpill: its runs (a PcSpillFile each, plus the byte offset where
 * each fine partition ends, 8 KiB a run) and the table's share of the pool.
 * Does not own the table nor the directory. No MPI, no HDF5.
 *
 * A run file is the byte form of pc_seqtab.h (uint32 len, tokens, K int64
 * counters; no header), fine partition after fine partition, so the
 * entries of any range of fine partitions are one contiguous byte range.
 * Invariant: runs[] holds only complete files (a failed write is dropped
 * and its error recorded in the PcSpill).
 */
#include "pc_seqspill.h"

typedef struct {
  PcSpillFile *f;
  uint64_t *end;      /* [PC_SEQTAB_PARTS] end offset of each fine partition */
} Run;

struct PcSeqSpill {
  PcSpill *sp;
  char *name;
  guint k;
  GPtrArray *runs;    /* Run * */
  size_t accounted;   /* the table's bytes as last reported to the pool */
};

static void run_free(gpointer p) {
  Run *r = p;
  pc_spill_file_free(r->f);
  g_free(r->end);
  g_free(r);
}

PcSeqSpill *pc_seqspill_new(PcSpill *sp, const char *name, guint k) {
  PcSeqSpill *s = g_new0(PcSeqSpill, 1);
  s->sp = sp;
  s->name = g_strdup(name);
  s->k = k;
  s->runs = g_ptr_array_new_with_free_func(run_free);
  return s;
}

void pc_seqspill_free(PcSeqSpill *s) {
  if (!s) return;
  pc_spill_account(s->sp, &s->accounted, 0);
  g_ptr_array_unref(s->runs);
  g_free(s->name);
  g_free(s);
}

void pc_seqspill_forget(PcSeqSpill *s) {
  if (s) pc_spill_account(s->sp, &s->accounted, 0);
}

static gboolean sink(const guint8 *buf, size_t len, void *data,
                     GError **error) {
  return pc_spill_file_write(data, buf, len, error);
}

gboolean pc_seqspill_write(PcSeqSpill *s, PcSeqTab *t, GError **error) {
  g_return_val_if_fail(pc_seqtab_k(t) == s->k, FALSE);
  if (!s->sp || !pc_seqtab_size(t)) return TRUE;
  Run *r = g_new0(Run, 1);
  r->end = g_new0(uint64_t, PC_SEQTAB_PARTS);
  /* the arena bounds the byte form from above */
  r->f = pc_spill_file_new(s->sp, s->name, pc_seqtab_memory_bytes(t), error);
  gboolean ok = r->f && pc_seqtab_write_parts(t, sink, r->f, r->end, error) &&
                pc_spill_file_finish(r->f, error);
  pc_seqtab_clear(t);
  pc_spill_account(s->sp, &s->accounted, pc_seqtab_memory_bytes(t));
  if (ok) g_ptr_array_add(s->runs, r);
  else run_free(r);
  return ok;
}

void pc_seqspill_maybe(PcSeqSpill *s, PcSeqTab *t) {
  if (!s || !s->sp) return;
  size_t now = pc_seqtab_memory_bytes(t);
  pc_spill_account(s->sp, &s->accounted, now);
  if (!pc_spill_due(s->sp, now)) return;
  if (pc_spill_failed(s->sp)) { /* the run fails anyway: stay bounded */
    pc_seqtab_clear(t);
    pc_spill_account(s->sp, &s->accounted, pc_seqtab_memory_bytes(t));
    return;
  }
  GError *e = NULL;
  if (!pc_seqspill_write(s, t, &e)) pc_spill_fail(s->sp, e);
}

void pc_seqspill_absorb(PcSeqSpill *dst, PcSeqSpill *src) {
  g_return_if_fail(dst->k == src->k && dst != src);
  gsize n = 0;
  gpointer *runs = g_ptr_array_steal(src->runs, &n); /* src keeps an empty array */
  for (gsize i = 0; i < n; i++) g_ptr_array_add(dst->runs, runs[i]);
  g_free(runs);
}

guint pc_seqspill_runs(const PcSeqSpill *s) { return s ? s->runs->len : 0; }

uint64_t pc_seqspill_bytes(const PcSeqSpill *s) {
  uint64_t b = 0;
  for (guint i = 0; s && i < s->runs->len; i++)
    b += pc_spill_file_size(((Run *)g_ptr_array_index(s->runs, i))->f);
  return b;
}

PcSpill *pc_seqspill_context(const PcSeqSpill *s) { return s ? s->sp : NULL; }

/* Byte range [*lo, *hi) of partition part of nparts in run r. */
static void part_range(const Run *r, guint part, guint nparts, uint64_t *lo,
                       uint64_t *hi) {
  guint w = PC_SEQTAB_PARTS / nparts, a = part * w;
  *lo = a ? r->end[a - 1] : 0;
  *hi = r->end[a + w - 1];
}

gboolean pc_seqspill_load(PcSeqSpill *s, guint part, guint nparts,
                          PcSeqTab *dst, GError **error) {
  g_return_val_if_fail(nparts >= 1 && nparts <= PC_SEQTAB_PARTS &&
                           (nparts & (nparts - 1)) == 0 && part < nparts,
                       FALSE);
  for (guint i = 0; i < s->runs->len; i++) {
    Run *r = g_ptr_array_index(s->runs, i);
    uint64_t lo, hi;
    part_range(r, part, nparts, &lo, &hi);
    if (hi == lo) continue;
    g_autofree guint8 *buf = g_malloc(hi - lo);
    gboolean ok = pc_spill_file_read(r->f, lo, buf, hi - lo, error) &&
                  pc_seqtab_merge_serialized(dst, buf, hi - lo, error);
    pc_spill_file_release(r->f);
    if (!ok) return FALSE;
  }
  return TRUE;
}
