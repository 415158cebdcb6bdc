/* pc_seqreduce.h - the distributed side of tables keyed by token sequences
 * (PcSeqTab): the exact merge of every key on one owner rank, candidate
 * selection on the owners, the gather to rank 0, the total orders of spec
 * §3/§4 and the path cell. Shared by the path tables, preceding paths and
 * every later analysis that counts sequences (flows, sequence drivers).
 *
 * No MPI, no HDF5: the ranks are reached through PcCommOps. Every order
 * here is total on distinct keys (sequence asc breaks all ties), so what is
 * emitted never depends on insertion or hash order.
 */
#ifndef PC_SEQREDUCE_H
#define PC_SEQREDUCE_H

#include "pc_commops.h"
#include "pc_seqspill.h"
#include "pc_seqtab.h"
#include "pc_table.h"

/* qsort comparator on PcSeqEntry. */
typedef int (*PcSeqCmp)(const void *, const void *);

/* c[0] desc, then sequence asc (variants, preceding paths). */
int pc_seqred_cmp_count(const void *a, const void *b);
/* c[0] desc, c[1] desc, then sequence asc (n-grams of one n). */
int pc_seqred_cmp_count2(const void *a, const void *b);
/* sequence asc (prefix tree). */
int pc_seqred_cmp_path(const void *a, const void *b);

/* Moves the best min(n, k) entries of v to v[0..), sorted best first, and
 * returns how many. O(n log k). */
size_t pc_seqred_select_top(PcSeqEntry *v, size_t n, guint64 k, PcSeqCmp cmp);

/* Sorts v by key length (stable counting sort); start[len]..start[len+1]
 * is the run of length len for len 0..maxlen (start: maxlen + 2 entries).
 * Every length must be <= maxlen. */
void pc_seqred_group_by_len(PcSeqEntry *v, size_t n, guint maxlen,
                            size_t *start);

/* Collective. Replaces *t by this rank's owned share (owner =
 * pc_seqtab_hash(key) % ranks) of the union of every rank's *t, counters
 * added. The local table is freed before the exchange, so the peak is the
 * send buffers plus what arrives. FALSE with *error from ops or
 * PC_ERROR_FORMAT on a corrupt buffer. */
gboolean pc_seqred_exchange(PcSeqTab **t, const PcCommOps *ops,
                            GError **error);

/* Collective. Gathers every rank's candidate entries (k counters each); on
 * rank 0 *out = their table (owners' keys are disjoint), elsewhere NULL.
 * Caller frees *out. */
gboolean pc_seqred_gather(const GByteArray *mine, guint k,
                          const PcCommOps *ops, PcSeqTab **out,
                          GError **error);

/* Candidates of an owned table: its top k by cmp, serialized. */
GByteArray *pc_seqred_candidates_top(const PcSeqTab *t, guint64 k,
                                     PcSeqCmp cmp);
/* Candidates: the top k of each key length 1..maxlen by cmp. */
GByteArray *pc_seqred_candidates_top_per_len(const PcSeqTab *t, guint maxlen,
                                             guint64 k, PcSeqCmp cmp);
/* Candidates: every entry whose first counter is >= min. */
GByteArray *pc_seqred_candidates_min(const PcSeqTab *t, guint64 min);

/* ---- The whole reduce of a table, in memory or walked in partitions ------ */

/* What an owner keeps of its merged keys for rank 0, serialized (k
 * counters each): the candidates_* shapes above, or a module's own. It may
 * normalise the counters of owned. It must compose: applied to the union
 * of its outputs on disjoint key sets it gives what it gives on the union
 * of the inputs (top k by a total order, entries over a floor), because a
 * table walked in partitions is selected partition by partition and the
 * kept candidates are selected again as they accumulate. */
typedef GByteArray *(*PcSeqSelectFn)(PcSeqTab *owned, void *data);

/* Collective. The whole reduce of a table whose counts are *t plus the
 * runs it spilled (runs may be NULL: never spills): every key merged on its
 * owner, the owners' candidates (select) on rank 0 in *out (NULL
 * elsewhere; caller frees). When no rank spilled this table and none holds
 * more of it than a quarter of its reduce budget: exchange *t to the
 * owners, select, gather. Otherwise the ranks walk the same number of
 * partitions (a power of two, so that each rank's largest partition fits
 * pc_spill_budget().reduce / 6): gather the partition from the runs (disk)
 * and from *t (memory), exchange it, select, free it; candidates are
 * selected again as they accumulate and sent to rank 0 whenever some rank
 * holds more than a quarter of its reduce budget of them. So a rank other
 * than 0 holds one partition at a time besides *t and its candidates.
 * Every key is merged whole on its owner before select sees it, in both
 * cases. Spill I/O errors go to the PcSpill (the walk goes on with what it
 * has, so the collective calls stay in step); FALSE with *error from ops. */
gboolean pc_seqred_reduce(PcSeqTab **t, PcSeqSpill *runs, PcSeqSelectFn select,
                          void *data, const PcCommOps *ops, PcSeqTab **out,
                          GError **error);

/* Name of a token: "^" for PC_TOKEN_START, "$" for PC_TOKEN_END, else
 * d->names[id]. */
const char *pc_seqred_token_name(const PcDict *d, uint32_t id);
/* Sets cell col of t's last row to the tokens of seq joined by " > "; the
 * empty sequence is "^". s is scratch. */
void pc_seqred_set_path(PcTable *t, guint col, const PcDict *d,
                        const uint32_t *seq, size_t len, GString *s);

/* The table "rank, <count_col>, share [, length], path" of the top k
 * entries of g by c[0] desc then sequence asc; share = c[0] / total.
 * Variants (with length) and preceding paths share this shape. */
PcTable *pc_seqred_table_ranked(const char *name, const char *count_col,
                                gboolean with_length, const PcSeqTab *g,
                                guint64 k, int64_t total, const PcDict *d);

#endif
