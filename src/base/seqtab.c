/* seqtab.c - PcSeqTab: open-addressing hash table from token sequences to K
 * int64 counters, and its packed byte form (pc_seqtab.h).
 *
 * Owns the table and copies of its keys. No MPI, no HDF5, no global state.
 *
 * Layout (memory and cache misses per key matter: tens of millions of keys
 * per rank, several lookups per event):
 *  - arena (uint64 words): one record per entry, appended in insertion
 *    order: uint32 len, uint32 tokens[len], padding to a word, K int64
 *    counters, L local words. A record is ceil((1+len)/2) + K + L words; a
 *    trigram with K = 2 takes 32 bytes.
 *  - slots: linear probing, power-of-two capacity, load <= 0.7; a slot is
 *    tag (24 low bits of the hash) << 40 | (record offset + 1), 0 = empty.
 *    A lookup reads one slot line and one record line; the tag rejects most
 *    foreign records without reading them.
 * The hash is not stored: it is recomputed from the record when the slots
 * grow or entries are serialized (cheaper than 8 bytes per key).
 * The slot position uses the hash's HIGH bits: on an owner rank all keys
 * share hash % P, i.e. the low bits when P is a power of two.
 */
#include "pc_seqtab.h"

#include <stdlib.h>

#define SEQTAB_MIN_BITS 4           /* 16 slots */
#define SEQTAB_OFF_BITS 40          /* record offset + 1, in words */
#define SEQTAB_OFF_MASK ((UINT64_C(1) << SEQTAB_OFF_BITS) - 1)
#define SEQTAB_TAG_MASK UINT64_C(0xFFFFFF) /* 64 - SEQTAB_OFF_BITS bits */

struct PcSeqTab {
  guint k, nlocal;
  size_t n;             /* entries */
  uint64_t *arena;
  size_t arena_len, arena_cap; /* in words */
  uint64_t *slots;
  guint slot_bits;      /* capacity = 1 << slot_bits */
};

/* ---- private prototypes ---- */
static size_t slot_of(const PcSeqTab *t, uint64_t h);
static size_t rec_words(const PcSeqTab *t, size_t len);
static gboolean rec_equals(const uint64_t *rec, const uint32_t *seq,
                           size_t len);
static void grow_slots(PcSeqTab *t);
static size_t append_record(PcSeqTab *t, const uint32_t *seq, size_t len);

static inline uint32_t rec_len(const uint64_t *rec) {
  return ((const uint32_t *)rec)[0];
}
static inline const uint32_t *rec_seq(const uint64_t *rec) {
  return (const uint32_t *)rec + 1;
}
static inline size_t rec_head_words(size_t len) { return (len + 2) / 2; }
static inline int64_t *rec_counts(uint64_t *rec) {
  return (int64_t *)(rec + rec_head_words(rec_len(rec)));
}

uint64_t pc_seqtab_hash(const uint32_t *seq, size_t len) {
  uint64_t h = PC_SEQTAB_HASH_INIT;
  for (size_t i = 0; i < len; i++) h = pc_seqtab_hash_step(h, seq[i]);
  return pc_seqtab_hash_final(h);
}

PcSeqTab *pc_seqtab_new_local(guint k, guint nlocal) {
  g_return_val_if_fail(k >= 1 && k <= PC_SEQTAB_MAX_K && nlocal <= 1, NULL);
  PcSeqTab *t = g_new0(PcSeqTab, 1);
  t->k = k;
  t->nlocal = nlocal;
  t->slot_bits = SEQTAB_MIN_BITS;
  t->slots = g_new0(uint64_t, (size_t)1 << SEQTAB_MIN_BITS);
  return t;
}

PcSeqTab *pc_seqtab_new(guint k) { return pc_seqtab_new_local(k, 0); }

void pc_seqtab_free(PcSeqTab *t) {
  if (!t) return;
  g_free(t->arena);
  g_free(t->slots);
  g_free(t);
}

guint pc_seqtab_k(const PcSeqTab *t) { return t->k; }
size_t pc_seqtab_size(const PcSeqTab *t) { return t->n; }

static size_t slot_of(const PcSeqTab *t, uint64_t h) {
  return (size_t)(h >> (64 - t->slot_bits));
}

static size_t rec_words(const PcSeqTab *t, size_t len) {
  return rec_head_words(len) + t->k + t->nlocal;
}

static gboolean rec_equals(const uint64_t *rec, const uint32_t *seq,
                           size_t len) {
  return rec_len(rec) == len &&
         (len == 0 || memcmp(rec_seq(rec), seq, len * 4) == 0);
}

/* Doubles the slot array and reinserts every record (hashes recomputed,
 * records walked in arena order). */
static void grow_slots(PcSeqTab *t) {
  g_free(t->slots);
  t->slot_bits++;
  size_t mask = ((size_t)1 << t->slot_bits) - 1;
  t->slots = g_new0(uint64_t, mask + 1);
  for (size_t o = 0; o < t->arena_len;) {
    const uint64_t *rec = t->arena + o;
    uint64_t h = pc_seqtab_hash(rec_seq(rec), rec_len(rec));
    size_t s = slot_of(t, h);
    while (t->slots[s]) s = (s + 1) & mask;
    t->slots[s] = ((h & SEQTAB_TAG_MASK) << SEQTAB_OFF_BITS) | (o + 1);
    o += rec_words(t, rec_len(rec));
  }
}

/* Appends a zeroed record for seq; returns its offset in words. */
static size_t append_record(PcSeqTab *t, const uint32_t *seq, size_t len) {
  g_assert(len <= UINT32_MAX);
  size_t w = rec_words(t, len);
  if (t->arena_len + w > t->arena_cap) {
    size_t c = t->arena_cap ? t->arena_cap * 2 : 64;
    while (c < t->arena_len + w) c *= 2;
    t->arena = g_renew(uint64_t, t->arena, c);
    t->arena_cap = c;
  }
  size_t o = t->arena_len;
  g_assert(o + 1 < SEQTAB_OFF_MASK);
  uint64_t *rec = t->arena + o;
  memset(rec, 0, w * 8); /* counters, locals and the padding half-word */
  ((uint32_t *)rec)[0] = (uint32_t)len;
  if (len) memcpy((uint32_t *)rec + 1, seq, len * 4);
  t->arena_len += w;
  t->n++;
  return o;
}

int64_t *pc_seqtab_upsert_hashed(PcSeqTab *t, const uint32_t *seq,
                                 size_t len, uint64_t hash) {
  /* grow first so the probe below ends at a free slot we can use */
  if ((t->n + 1) * 10 > ((size_t)7 << t->slot_bits)) grow_slots(t);
  size_t mask = ((size_t)1 << t->slot_bits) - 1;
  uint64_t tag = hash & SEQTAB_TAG_MASK;
  size_t s = slot_of(t, hash);
  for (uint64_t v; (v = t->slots[s]) != 0; s = (s + 1) & mask) {
    if ((v >> SEQTAB_OFF_BITS) != tag) continue;
    uint64_t *rec = t->arena + ((v & SEQTAB_OFF_MASK) - 1);
    if (rec_equals(rec, seq, len)) return rec_counts(rec);
  }
  size_t o = append_record(t, seq, len);
  t->slots[s] = (tag << SEQTAB_OFF_BITS) | (o + 1);
  return rec_counts(t->arena + o);
}

int64_t *pc_seqtab_upsert(PcSeqTab *t, const uint32_t *seq, size_t len) {
  return pc_seqtab_upsert_hashed(t, seq, len, pc_seqtab_hash(seq, len));
}

void pc_seqtab_prefetch_slot(const PcSeqTab *t, uint64_t hash) {
  __builtin_prefetch(&t->slots[slot_of(t, hash)]);
}

void pc_seqtab_prefetch_record(const PcSeqTab *t, uint64_t hash) {
  uint64_t v = t->slots[slot_of(t, hash)];
  if (v && (v >> SEQTAB_OFF_BITS) == (hash & SEQTAB_TAG_MASK))
    __builtin_prefetch(t->arena + ((v & SEQTAB_OFF_MASK) - 1));
}

const int64_t *pc_seqtab_lookup(const PcSeqTab *t, const uint32_t *seq,
                                size_t len) {
  uint64_t h = pc_seqtab_hash(seq, len), tag = h & SEQTAB_TAG_MASK;
  size_t mask = ((size_t)1 << t->slot_bits) - 1;
  for (size_t s = slot_of(t, h); t->slots[s]; s = (s + 1) & mask) {
    uint64_t v = t->slots[s];
    uint64_t *rec = t->arena + ((v & SEQTAB_OFF_MASK) - 1);
    if ((v >> SEQTAB_OFF_BITS) == tag && rec_equals(rec, seq, len))
      return rec_counts(rec);
  }
  return NULL;
}

void pc_seqtab_foreach(PcSeqTab *t, PcSeqTabFunc fn, void *data) {
  for (size_t o = 0; o < t->arena_len;) {
    uint64_t *rec = t->arena + o;
    size_t len = rec_len(rec);
    fn(rec_seq(rec), len, rec_counts(rec), data);
    o += rec_words(t, len);
  }
}

/* Batches of 64 source records: hash, prefetch, then add (see paths.c). */
void pc_seqtab_merge(PcSeqTab *dst, const PcSeqTab *src) {
  g_return_if_fail(dst->k == src->k && dst != src);
  uint64_t *rec[64], h[64];
  for (size_t o = 0; o < src->arena_len;) {
    int m = 0;
    for (; m < 64 && o < src->arena_len; m++) {
      rec[m] = src->arena + o;
      h[m] = pc_seqtab_hash(rec_seq(rec[m]), rec_len(rec[m]));
      pc_seqtab_prefetch_slot(dst, h[m]);
      o += rec_words(src, rec_len(rec[m]));
    }
    for (int i = 0; i < m; i++) pc_seqtab_prefetch_record(dst, h[i]);
    for (int i = 0; i < m; i++) {
      int64_t *d = pc_seqtab_upsert_hashed(dst, rec_seq(rec[i]),
                                           rec_len(rec[i]), h[i]);
      const int64_t *c = rec_counts(rec[i]);
      for (guint j = 0; j < dst->k; j++) d[j] += c[j];
    }
  }
}

PcSeqEntry *pc_seqtab_entries(const PcSeqTab *t, size_t *n) {
  PcSeqEntry *v = g_new(PcSeqEntry, t->n ? t->n : 1);
  size_t i = 0;
  for (size_t o = 0; o < t->arena_len; i++) {
    uint64_t *rec = t->arena + o;
    v[i].seq = rec_seq(rec);
    v[i].len = rec_len(rec);
    v[i].c = rec_counts(rec);
    o += rec_words(t, v[i].len);
  }
  g_assert(i == t->n);
  *n = t->n;
  return v;
}

/* ---- Byte form ---- */

void pc_seqtab_serialize_entry(GByteArray *buf, const uint32_t *seq,
                               size_t len, const int64_t *c, guint k) {
  size_t at = buf->len, need = 4 + len * 4 + (size_t)k * 8;
  uint32_t l32 = (uint32_t)len;
  g_byte_array_set_size(buf, (guint)(at + need));
  memcpy(buf->data + at, &l32, 4);
  if (len) memcpy(buf->data + at + 4, seq, len * 4);
  memcpy(buf->data + at + 4 + len * 4, c, (size_t)k * 8);
}

void pc_seqtab_serialize_part(const PcSeqTab *t, guint part, guint nparts,
                              GByteArray *buf) {
  g_return_if_fail(nparts > 0 && part < nparts);
  for (size_t o = 0; o < t->arena_len;) {
    uint64_t *rec = t->arena + o;
    size_t len = rec_len(rec);
    if (pc_seqtab_hash(rec_seq(rec), len) % nparts == part)
      pc_seqtab_serialize_entry(buf, rec_seq(rec), len, rec_counts(rec), t->k);
    o += rec_words(t, len);
  }
}

void pc_seqtab_serialize_parts(const PcSeqTab *t, guint nparts,
                               GByteArray **bufs) {
  g_return_if_fail(nparts > 0);
  for (size_t o = 0; o < t->arena_len;) {
    uint64_t *rec = t->arena + o;
    size_t len = rec_len(rec);
    guint part = (guint)(pc_seqtab_hash(rec_seq(rec), len) % nparts);
    pc_seqtab_serialize_entry(bufs[part], rec_seq(rec), len, rec_counts(rec),
                              t->k);
    o += rec_words(t, len);
  }
}

#define MERGE_BATCH 64 /* entries parsed, hashed and prefetched together */

typedef struct {
  size_t at;       /* entry offset in the buffer */
  uint32_t n;      /* tokens */
  size_t tok;      /* where its tokens start in the scratch */
  uint64_t h;
} Parsed;

/* Parses up to MERGE_BATCH entries from buf[*at..len) into p, copying
 * tokens (maybe unaligned in buf) to *seq. Returns how many, or -1 when
 * the entry at *at is truncated (then *at points at it). */
static int parse_batch(const guint8 *buf, size_t len, size_t cb, size_t *at,
                       Parsed *p, uint32_t **seq, size_t *seq_cap) {
  int m = 0;
  size_t used = 0;
  while (m < MERGE_BATCH && *at < len) {
    uint32_t n;
    if (len - *at < 4) return -1;
    memcpy(&n, buf + *at, 4);
    if ((len - *at - 4) / 4 < n || len - *at - 4 - (size_t)n * 4 < cb)
      return -1;
    if (used + n > *seq_cap) {
      *seq_cap = 2 * (used + n);
      *seq = g_renew(uint32_t, *seq, *seq_cap);
    }
    if (n) memcpy(*seq + used, buf + *at + 4, (size_t)n * 4);
    p[m] = (Parsed){*at, n, used, 0};
    used += n;
    *at += 4 + (size_t)n * 4 + cb;
    m++;
  }
  return m;
}

gboolean pc_seqtab_merge_serialized(PcSeqTab *dst, const guint8 *buf,
                                    size_t len, GError **error) {
  size_t at = 0, cb = (size_t)dst->k * 8, seq_cap = 0;
  uint32_t *seq = NULL;
  Parsed p[MERGE_BATCH];
  int m;
  while ((m = parse_batch(buf, len, cb, &at, p, &seq, &seq_cap)) > 0) {
    for (int i = 0; i < m; i++) {
      p[i].h = pc_seqtab_hash(seq + p[i].tok, p[i].n);
      pc_seqtab_prefetch_slot(dst, p[i].h);
    }
    for (int i = 0; i < m; i++) pc_seqtab_prefetch_record(dst, p[i].h);
    for (int i = 0; i < m; i++) {
      int64_t *d = pc_seqtab_upsert_hashed(dst, seq + p[i].tok, p[i].n, p[i].h);
      const guint8 *c = buf + p[i].at + 4 + (size_t)p[i].n * 4;
      for (guint j = 0; j < dst->k; j++) {
        int64_t v;
        memcpy(&v, c + 8 * j, 8);
        d[j] += v;
      }
    }
  }
  g_free(seq);
  if (m == 0) return TRUE;
  pc_set_error(error, PC_ERROR_FORMAT,
               "seqtab: truncated entry at byte %zu of %zu", at, len);
  return FALSE;
}

/* ---- Partitioned writing (spill runs) ---- */

void pc_seqtab_clear(PcSeqTab *t) {
  g_clear_pointer(&t->arena, g_free);
  t->arena_len = t->arena_cap = 0;
  t->n = 0;
  g_free(t->slots);
  t->slot_bits = SEQTAB_MIN_BITS;
  t->slots = g_new0(uint64_t, (size_t)1 << SEQTAB_MIN_BITS);
}

/* Record offsets of t ordered by fine partition (counting sort, stable);
 * part_end[p] = bytes of the byte form up to the end of partition p. */
static uint64_t *order_by_part(const PcSeqTab *t, uint64_t *part_end) {
  g_autofree size_t *at = g_new0(size_t, PC_SEQTAB_PARTS + 1);
  memset(part_end, 0, PC_SEQTAB_PARTS * sizeof *part_end);
  for (size_t o = 0; o < t->arena_len;) {
    const uint64_t *rec = t->arena + o;
    guint p = pc_seqtab_part(pc_seqtab_hash(rec_seq(rec), rec_len(rec)));
    at[p + 1]++;
    part_end[p] += 4 + 4 * (uint64_t)rec_len(rec) + 8 * (uint64_t)t->k;
    o += rec_words(t, rec_len(rec));
  }
  for (guint p = 1; p <= PC_SEQTAB_PARTS; p++) at[p] += at[p - 1];
  for (guint p = 1; p < PC_SEQTAB_PARTS; p++) part_end[p] += part_end[p - 1];
  uint64_t *order = g_new(uint64_t, t->n ? t->n : 1);
  for (size_t o = 0; o < t->arena_len;) {
    const uint64_t *rec = t->arena + o;
    order[at[pc_seqtab_part(pc_seqtab_hash(rec_seq(rec), rec_len(rec)))]++] = o;
    o += rec_words(t, rec_len(rec));
  }
  return order;
}

void pc_seqtab_merge_parts(PcSeqTab *dst, const PcSeqTab *src, guint a,
                           guint b) {
  g_return_if_fail(dst->k == src->k && dst != src);
  for (size_t o = 0; o < src->arena_len;) {
    uint64_t *rec = src->arena + o;
    uint64_t h = pc_seqtab_hash(rec_seq(rec), rec_len(rec));
    guint p = pc_seqtab_part(h);
    if (p >= a && p < b) {
      int64_t *d = pc_seqtab_upsert_hashed(dst, rec_seq(rec), rec_len(rec), h);
      const int64_t *c = rec_counts(rec);
      for (guint j = 0; j < dst->k; j++) d[j] += c[j];
    }
    o += rec_words(src, rec_len(rec));
  }
}

#define WRITE_CHUNK (1u << 20) /* bytes handed to the sink at once */

gboolean pc_seqtab_write_parts(const PcSeqTab *t, PcSeqTabSink sink,
                               void *data, uint64_t *part_end, GError **error) {
  g_autofree uint64_t *order = order_by_part(t, part_end);
  g_autoptr(GByteArray) chunk = g_byte_array_sized_new(WRITE_CHUNK + 4096);
  for (size_t i = 0; i < t->n; i++) {
    uint64_t *rec = t->arena + order[i];
    pc_seqtab_serialize_entry(chunk, rec_seq(rec), rec_len(rec),
                              rec_counts(rec), t->k);
    if (chunk->len >= WRITE_CHUNK) {
      if (!sink(chunk->data, chunk->len, data, error)) return FALSE;
      g_byte_array_set_size(chunk, 0);
    }
  }
  return !chunk->len || sink(chunk->data, chunk->len, data, error);
}

size_t pc_seqtab_memory_bytes(const PcSeqTab *t) {
  return sizeof *t + t->arena_cap * 8 + ((size_t)8 << t->slot_bits);
}

int pc_seqtab_seq_cmp(const uint32_t *a, size_t na, const uint32_t *b,
                      size_t nb) {
  size_t m = na < nb ? na : nb;
  for (size_t i = 0; i < m; i++)
    if (a[i] != b[i]) return a[i] < b[i] ? -1 : 1;
  return na < nb ? -1 : (na > nb ? 1 : 0);
}
