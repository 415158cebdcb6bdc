/* paths_int.h - private to src/analytics/paths*.c: the state of PcPaths
 * shared by the counting side (paths.c) and the reduce/table side
 * (paths_tables.c). Nothing outside those two files includes it.
 */
#ifndef PC_PATHS_INT_H
#define PC_PATHS_INT_H

#include "pc_paths.h"
#include "pc_quantile.h"
#include "pc_seqspill.h"
#include "pc_seqtab.h"

#define GAP_LO_MASK UINT64_C(0xFFFFFFFF) /* gap_lo keeps the low 32 bits */
#define DENSE 256u  /* token ids below it are counted in plain arrays */
#define TR_N (DENSE + 2) /* transition rows/cols: tokens, ^ (DENSE), $ (DENSE+1) */
/* The key of the gaps of the real pair (a, b) in PcPaths.gaps. */
#define GAP_KEY(a, b) (((uint64_t)(a) << 32) | (uint32_t)(b))

struct PcPaths {
  gboolean by_session;
  uint64_t gap_us;      /* session cut: gap > gap_us */
  gboolean collapse;
  guint ngram_max, depth;
  guint64 min_support, top_k;
  PcSeqTab *variants, *ngrams, *trans, *prefix;
  PcSeqSpill *runs[4];  /* their spilled runs, same order (pc_seqspill.h) */
  PcQuantile *gaps;     /* every real transition's gap (µs) under GAP_KEY */
  int64_t journeys;
  uint64_t serial;      /* journeys counted here; n-gram stamps = it */
  /* Dense counters for small token ids (< DENSE): 1-grams, 2-grams and
   * transitions skip the hash table; flush_dense() moves them into the
   * tables before any merge or reduce, so the tables are as if counted
   * there. Allocated on first use. */
  int64_t *uni;         /* DENSE x [occ, customers, stamp] */
  int64_t *bi;          /* DENSE^2 x [occ, customers, stamp] */
  int64_t *tr;          /* (DENSE+2)^2 x [count, gap_hi, gap_lo] */
  uint32_t *tok;        /* scratch for collapse */
  int64_t *ts;
  size_t scratch_cap;
  gboolean reduced;
};

/* Moves the dense counters into the tables (adding), then zeroes them;
 * restores gap_lo < 2^32 in the transitions. Before any merge or reduce. */
void pc_paths_flush_dense(PcPaths *p);
/* The tables in the order of runs[]: variants, ngrams, trans, prefix. */
#define PATHS_TABLES(p) {&(p)->variants, &(p)->ngrams, &(p)->trans, &(p)->prefix}

/* Restores gap_lo < 2^32 after counters were added wholesale. */
void pc_paths_normalize_gaps(PcSeqTab *t);

#endif
