/* pc_seqtab.h - a hash table from a token sequence (uint32_t[0..len)) to K
 * int64 counters (K fixed per table, 1..PC_SEQTAB_MAX_K), and its byte form
 * for the all-to-all exchange and the gather of path tables.
 *
 * Owns PcSeqTab and its keys: each entry is one record in a single arena
 * (length, tokens, counters; no allocation per key), so a lookup costs one
 * slot read and one record read. No MPI, no HDF5.
 *
 * Invariants:
 *  - pc_seqtab_hash() is a fixed function of the token values (FNV-1a 64 over
 *    the little-endian bytes of each token, then a 64-bit finaliser), never
 *    of pointers or insertion order: the owner of a key in a P-way
 *    partition is pc_seqtab_hash(seq) % P on every rank and every platform.
 *  - Counters only ever add (merge, merge_serialized), so merging the same
 *    entries in any order gives the same table contents. Iteration order
 *    is insertion order: sort before emitting.
 *  - A table may carry L "local" int64 words per entry after the K
 *    counters (scratch of the owner, e.g. a journey stamp): zero on insert,
 *    never added by merges, never serialized.
 *  - Pointers into the table (counters, entry views) stay valid only until
 *    the next insertion.
 */
#ifndef PC_SEQTAB_H
#define PC_SEQTAB_H

#include "pc_core.h"

#define PC_SEQTAB_MAX_K 5 /* counters per key (sequence drivers: n, a, 3 money limbs) */

typedef struct PcSeqTab PcSeqTab;

/* A view of one entry; valid until the table is next modified. */
typedef struct {
  const uint32_t *seq;  /* len tokens (not owned) */
  size_t len;
  const int64_t *c;     /* K counters (not owned) */
} PcSeqEntry;

/* ---- Hash (incremental, so prefixes and n-grams hash in one pass) ------- */

#define PC_SEQTAB_HASH_INIT UINT64_C(14695981039346656037) /* FNV offset */

static inline uint64_t pc_seqtab_hash_step(uint64_t h, uint32_t tok) {
  for (int b = 0; b < 4; b++) { /* little-endian bytes, any host */
    h ^= (tok >> (8 * b)) & 0xFFu;
    h *= UINT64_C(1099511628211);
  }
  return h;
}

/* murmur3 fmix64: FNV's low bits are weak and owner = hash % P uses them. */
static inline uint64_t pc_seqtab_hash_final(uint64_t h) {
  h ^= h >> 33;
  h *= UINT64_C(0xff51afd7ed558ccd);
  h ^= h >> 33;
  h *= UINT64_C(0xc4ceb9fe1a85ec53);
  h ^= h >> 33;
  return h;
}

/* The key hash: final(step(...step(INIT, seq[0])..., seq[len-1])). */
uint64_t pc_seqtab_hash(const uint32_t *seq, size_t len);

/* ---- API ------------------------------------------------------------------ */

/* An empty table with k counters per key (1..PC_SEQTAB_MAX_K). Cannot fail
 * (aborts on out-of-memory like GLib). Caller frees with pc_seqtab_free(). */
PcSeqTab *pc_seqtab_new(guint k);
/* Same with nlocal (0..1) local words per entry after the counters. */
PcSeqTab *pc_seqtab_new_local(guint k, guint nlocal);
void pc_seqtab_free(PcSeqTab *t);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PcSeqTab, pc_seqtab_free)

guint pc_seqtab_k(const PcSeqTab *t);
size_t pc_seqtab_size(const PcSeqTab *t); /* number of keys */

/* The K counters of seq (len may be 0), then its local words, inserted
 * zero-initialised when absent. Valid until the next insertion. */
int64_t *pc_seqtab_upsert(PcSeqTab *t, const uint32_t *seq, size_t len);
/* Same with a precomputed hash (which must equal pc_seqtab_hash(seq, len)). */
int64_t *pc_seqtab_upsert_hashed(PcSeqTab *t, const uint32_t *seq,
                                 size_t len, uint64_t hash);
/* Hints for batches of upserts (no effect on contents): prefetch_slot
 * starts loading the home slot of hash; prefetch_record, issued later,
 * reads that slot and starts loading the record it points to. */
void pc_seqtab_prefetch_slot(const PcSeqTab *t, uint64_t hash);
void pc_seqtab_prefetch_record(const PcSeqTab *t, uint64_t hash);
/* Counters of seq, or NULL when absent. */
const int64_t *pc_seqtab_lookup(const PcSeqTab *t, const uint32_t *seq,
                                size_t len);

/* Adds every counter of src into dst (same k). */
void pc_seqtab_merge(PcSeqTab *dst, const PcSeqTab *src);

/* All entries, in insertion order: sort before emitting. *n gets the
 * count. Caller g_free()s the array (not the views' data). */
PcSeqEntry *pc_seqtab_entries(const PcSeqTab *t, size_t *n);
/* Calls fn on every entry in insertion order with its mutable counters
 * (and local words). fn must not insert into t. */
typedef void (*PcSeqTabFunc)(const uint32_t *seq, size_t len, int64_t *c,
                             void *data);
void pc_seqtab_foreach(PcSeqTab *t, PcSeqTabFunc fn, void *data);

/* ---- Byte form ------------------------------------------------------------
 * An entry is: uint32 len, len uint32 tokens, K int64 counters, in host byte
 * order (all ranks of a job run on one architecture), packed, no header:
 * buffers from several ranks concatenate into a valid buffer. */

/* Appends one entry with k counters to buf. */
void pc_seqtab_serialize_entry(GByteArray *buf, const uint32_t *seq,
                               size_t len, const int64_t *c, guint k);
/* Appends the entries whose owner (pc_seqtab_hash(seq) % nparts) is part. */
void pc_seqtab_serialize_part(const PcSeqTab *t, guint part, guint nparts,
                              GByteArray *buf);
/* Appends every entry to bufs[owner] (nparts buffers) in one pass. */
void pc_seqtab_serialize_parts(const PcSeqTab *t, guint nparts,
                               GByteArray **bufs);
/* Adds the entries of buf[0..len) (dst's k counters each) into dst. FALSE
 * with PC_ERROR_FORMAT when the buffer is truncated; dst then holds some
 * of the entries before the bad one (discard it). */
gboolean pc_seqtab_merge_serialized(PcSeqTab *dst, const guint8 *buf,
                                    size_t len, GError **error);

/* ---- Partitions for spilling (pc_seqspill.h) -------------------------------
 * A table that spills is written as runs cut into PC_SEQTAB_PARTS fine
 * partitions by bits of a re-mix of the key hash, so a partition holds the
 * keys of every owner rank (hash % P) in proportion; the reduce walks a
 * power-of-two number of partitions, each a range of fine ones. */

#define PC_SEQTAB_PART_BITS 10
#define PC_SEQTAB_PARTS (1u << PC_SEQTAB_PART_BITS)

static inline guint pc_seqtab_part(uint64_t hash) {
  return (guint)(pc_seqtab_hash_final(hash ^ UINT64_C(0x9e3779b97f4a7c15)) >>
                 (64 - PC_SEQTAB_PART_BITS));
}

/* Empties t (same k and local words) and releases its memory. */
void pc_seqtab_clear(PcSeqTab *t);

/* Adds into dst (same k) the entries of src whose fine partition is in
 * [a, b) (one pass over src). */
void pc_seqtab_merge_parts(PcSeqTab *dst, const PcSeqTab *src, guint a,
                           guint b);

/* Receives the byte form in chunks. FALSE with *error stops the writer. */
typedef gboolean (*PcSeqTabSink)(const guint8 *buf, size_t len, void *data,
                                 GError **error);
/* Writes every entry of t in the byte form, fine partition by fine
 * partition (insertion order within one), through sink in chunks of about
 * 1 MiB; part_end[p] (PC_SEQTAB_PARTS entries) gets the byte offset where
 * fine partition p ends. Needs 8 bytes per entry besides the chunk. FALSE
 * with the sink's error. */
gboolean pc_seqtab_write_parts(const PcSeqTab *t, PcSeqTabSink sink,
                               void *data, uint64_t *part_end, GError **error);

/* Bytes allocated by the table (capacities, not just sizes). */
size_t pc_seqtab_memory_bytes(const PcSeqTab *t);

/* Token-by-token order of two sequences, a proper prefix first. Token ids
 * compare like their strings (spec §2), so this is spec §3's sequence order
 * for sequences of real tokens. */
int pc_seqtab_seq_cmp(const uint32_t *a, size_t na, const uint32_t *b,
                      size_t nb);

#endif
