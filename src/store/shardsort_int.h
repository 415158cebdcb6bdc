/* shardsort_int.h - private to shardsort.c (events, names, the sorter) and
 * shardsort_crm.c (the customers table): the sorter's state, the records
 * its buffers hold, the 16-byte id keys and the heap the merges share.
 * Nothing else includes it.
 *
 * Invariant: an id's key words compare like its first 16 bytes (ids hold
 * no NUL byte, so the zero padding puts a shorter id first); two ids with
 * equal key words and both at most 16 bytes long are equal.
 */
#ifndef PC_SHARDSORT_INT_H
#define PC_SHARDSORT_INT_H

#include "pc_shardsort.h"

#include "pc_runfile.h"

#define SORT_WRITE_BUF_BYTES ((size_t)1 << 20)   /* a run file's write buffer */
#define SORT_MIN_READ_BUF_BYTES ((size_t)16 << 10) /* a run's read buffer, at least */
#define SORT_MAX_READ_BUF_BYTES ((size_t)4 << 20)  /* ... and at most */
#define SORT_ID_KEY_BYTES 16

/* Names in first-seen order; a name's first-seen id never changes, its
 * rank among the names (its id in the shard) is decided at the end. */
typedef struct {
  GPtrArray *names;    /* char *, NUL-terminated, owned */
  GArray *lens;        /* uint8 */
  GArray *hashes;      /* uint64 */
  uint32_t *slots;     /* open addressing: first-seen id + 1, 0 empty */
  uint32_t nslots;
} NameTab;

/* A buffered event row (48 bytes). */
typedef struct {
  uint64_t k0, k1;     /* id key words */
  int64_t ts, value;
  uint32_t ev, ch;     /* first-seen name ids */
  uint32_t bl;         /* bucket | id_len << 24 */
  uint32_t tail;       /* offset of id bytes 16.. in the tail area */
} EvRec;

/* A buffered customers-table row: the line itself is in the text area. */
typedef struct {
  uint64_t k0, k1;
  uint64_t line;
  uint64_t text;       /* offset of the line in the text area */
  uint32_t bl;         /* bucket | id_len << 24 */
  uint32_t file;
  uint32_t len;        /* bytes of the line */
} CrmRec;

struct PcShardSort {
  uint64_t buckets;
  char *dir;
  size_t ev_cap_bytes, crm_cap_bytes, merge_bytes;
  NameTab chan, evn;
  EvRec *ev;           /* the event buffer */
  size_t ev_n, ev_alloc;
  guint8 *tails;       /* id bytes beyond 16 of buffered events */
  size_t tail_n, tail_alloc;
  uint32_t bmin, bmax; /* buckets seen in the event buffer */
  guint8 *used;        /* B: 1 where a bucket has an event */
  uint64_t events, used_n;
  GPtrArray *ev_runs;  /* PcRunFile, read back by the merge */
  CrmRec *crm;         /* the customers-table buffer */
  size_t crm_n, crm_alloc;
  guint8 *text;
  size_t text_n, text_alloc;
  GPtrArray *crm_runs;
  guint runs;          /* spilled, both kinds */
  uint64_t run_bytes;  /* bytes of the runs spilled */
};

static inline uint32_t rec_bucket(uint32_t bl) { return bl & 0xFFFFFF; }
static inline uint32_t rec_len(uint32_t bl) { return bl >> 24; }

/* The two key words of an id. */
static inline void id_key(const char *id, uint32_t len, uint64_t *k0,
                          uint64_t *k1) {
  guint8 b[SORT_ID_KEY_BYTES] = {0};
  memcpy(b, id, MIN(len, (uint32_t)SORT_ID_KEY_BYTES));
  uint64_t x, y;
  memcpy(&x, b, 8);
  memcpy(&y, b + 8, 8);
  *k0 = GUINT64_FROM_BE(x);
  *k1 = GUINT64_FROM_BE(y);
}

/* Grows *buf (of *alloc elements of size) to hold need, doubling. */
static inline void sort_reserve(void **buf, size_t *alloc, size_t need,
                                size_t size) {
  if (need <= *alloc) return;
  size_t n = MAX(*alloc * 2, MAX(need, (size_t)1024));
  *buf = g_realloc(*buf, n * size);
  *alloc = n;
}

/* A binary min-heap of merge sources under cmp. */
typedef int (*HeapCmp)(const void *a, const void *b);
void pc_sortheap_down(void **h, size_t n, size_t i, HeapCmp cmp);
void pc_sortheap_make(void **h, size_t n, HeapCmp cmp);

/* The read buffer each of n runs gets from the merge memory. */
size_t pc_shardsort_read_buf(const PcShardSort *s, size_t n);
/* How many runs one merge pass reads at once. */
size_t pc_shardsort_fan_in(const PcShardSort *s);

/* shardsort.c: rank[first-seen id] = the name's rank among all names now
 * known; *dict (if not NULL) gets the sorted dictionary. Caller g_free()s. */
uint32_t *pc_shardsort_ranks(const NameTab *t, PcDict **dict);
/* Sorts the event buffer: buckets, then (id, journey key) by the ranks of
 * the names now known. */
void pc_shardsort_sort_buffer(PcShardSort *s);
/* The customer starting at record i of the sorted buffer: its id, its
 * events (first-seen ids) into *ev (grown); returns the index after it. */
size_t pc_shardsort_customer(const PcShardSort *s, size_t i, char *id,
                             PcEvent **ev, size_t *cap, size_t *n);
/* Frees the event buffer (after the merge, before the customers table's). */
void pc_shardsort_clear_events(PcShardSort *s);

/* shardsort_merge.c: one customer (events in journey order, first-seen
 * ids) appended to run f; scratch (grown) holds the encoding. */
gboolean pc_shardsort_run_put(PcRunFile *f, uint32_t bucket, const char *id,
                              uint32_t len, const PcEvent *ev, size_t n,
                              GByteArray *scratch, GError **error);

/* shardsort_crm.c: the customers table's buffer, spill and merge. */
gboolean pc_shardsort_crm_merge(PcShardSort *s, const PcShardSink *sink,
                                GError **error);
void pc_shardsort_crm_clear(PcShardSort *s);

#endif
