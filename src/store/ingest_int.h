/* ingest_int.h - private to src/store/ingest.c and ingest_parse.c: the
 * state of an ingest (struct PcIngest), the pieces of input a rank reads,
 * and the wire records rows travel in between ranks. Nothing outside
 * those two files includes it.
 *
 * Invariant: every field marked "rank 0" is NULL or unused elsewhere;
 * every other field has the same value on every rank after the phase that
 * sets it.
 */
#ifndef PC_INGEST_INT_H
#define PC_INGEST_INT_H

#include "pc_ingest.h"

#include "pc_batch.h"
#include "pc_batchid.h"
#include "pc_h5io.h"
#include "pc_shard.h"
#include "pc_shardsort.h"
#include "pc_storewriter.h"

#define ROUND_MAX_BYTES ((size_t)64 << 20) /* rows parsed per exchange round, at most */
#define ROUND_MIN_BYTES ((size_t)64 << 10) /* ... and at least */
#define ROW_OVERHEAD_BYTES 24          /* per-row allowance in a round's bytes */
#define GZIP_COST 4                    /* a gzip byte costs about 4 plain ones */
#define HASH_COST 0.1  /* hashing a byte costs about a tenth of parsing it: hashing ranks parse less */
#define LINE_PIECE_SHIFT 40 /* while parsing, a line is piece << 40 | its line in the piece */
#define BASE_MEMORY_BYTES ((size_t)48 << 20) /* the process itself: MPI, HDF5, buffers */

/* A contiguous part of one input, read by one rank. */
typedef struct {
  guint file;
  uint64_t start, end;   /* byte range; end = UINT64_MAX: whole gzip file */
  int rank;
  uint64_t first_line;   /* 1-based number of its first line */
  gboolean customers;    /* a customers-table file */
} Piece;

struct PcIngest {
  PcComm *comm;
  const PcCommOps *ops;
  int rank, size;
  const PcIngestOpts *o;
  uint64_t buckets;
  guint batch;
  PcStoreWriter *writer;  /* rank 0: lock, staging, commit (pc_storewriter.h) */
  gboolean exists;        /* rank 0: a new store's directory exists already */
  PcInputId *ids;         /* per input: digest, rows (all ranks), rejected (rank 0) */
  char *key;              /* rank 0: the batch key (pc_batchid.h) */
  guint committed;        /* these inputs are already batch N (0: not) */
  GPtrArray *paths;       /* all inputs: events files, then the customers file */
  guint n_event_files;
  uint64_t *sizes;        /* 2 per input: bytes, is gzip */
  GArray *pieces;         /* Piece, in (file, start) order */
  PcBatchHash *hash;      /* the input this rank is hashing (inputs f % P == rank) */
  guint hash_next;        /* that input, or the next one */
  uint64_t *hash_words;   /* what this rank hashed: digests, rows, the pieces' LFs */
  uint64_t hash_load, hash_done, parse_load; /* file bytes this rank hashes, has hashed, parses */
  gboolean identified;    /* digests known (then first_line of every piece too) */
  GArray *rejects;        /* PcReject, found on this rank */
  uint64_t data_rows;     /* non-header lines read by this rank */
  uint64_t bytes_done, bytes_total;
  double t0;
  double t_phase[4];      /* rank 0: when identify, parse, write, commit began */
  size_t round_bytes;     /* rows parsed per exchange round (from the budget) */
  size_t sort_bytes;      /* the sorter's share of the budget */
  PcShardSort *sort;      /* rows this rank owns, sorted in bounded memory */
  PcShardWriter *shard;   /* this rank's shard: open from write to commit */
  char *staging;          /* where this batch is written */
  char *spill;            /* STAGING/tmp-bNNNNNN: the sorted runs (anonymous files) */
  char *record;           /* the batch record (JSON) */
  uint64_t totals[3];     /* data rows, rejected, events: all ranks */
  uint64_t runs[2];       /* sorted runs spilled: the fewest and the most on a rank */
  uint64_t run_bytes;     /* bytes of the event runs spilled: all ranks */
  gboolean done;          /* committed: nothing to clean up */
  gboolean keep_rejects;  /* failed on the reject share: the rejects file stays */
};


/* ingest_parse.c: the pieces (which rank reads which bytes of which
 * input), from the inputs' sizes alone; a rank that hashes parses less
 * (HASH_COST), so that ranks end together. Sets hash_load, parse_load. */
void pc_ingest_pieces(PcIngest *g);

/* ingest.c: the end of 1b (pc_ingest.h): the rest of this rank's inputs
 * hashed, every rank's digests and line numbers gathered, the batch
 * identified on rank 0 (committed already?). Collective. */
gboolean pc_ingest_identify_finish(PcIngest *g, GError **error);

/* ingest.c: hashes this rank's inputs until fraction (0..1) of their bytes
 * are done (1: all). Not collective. FALSE with pc_rawread's errors. */
gboolean pc_ingest_hash_some(PcIngest *g, double fraction, GError **error);

/* ingest_write.c: after a failure (or a free before the commit), removes
 * what this batch wrote: rank 0 removes the runs' directory, the batch's
 * files (a new store: STORE.tmp-PID whole, unless the reject share failed
 * it: then only its rejects file stays). Cannot fail. */
void pc_ingest_cleanup(PcIngest *g);

/* ---- Wire records: how rows cross ranks ----------------------------------------- */

/* An accepted event row: the header, then id, channel and event bytes.
 * The sender computed the bucket (it chose the owner by it). */
typedef struct __attribute__((packed)) {
  int64_t ts_us;
  int64_t value;
  uint32_t bucket;
  uint8_t id_len, channel_len, event_len;
} WireEvent;

/* A line kept whole (customers-table rows, rejects): the header, then
 * len bytes of text. Customers rows keep file and line because duplicates
 * are decided on the owner in (file, line) order and rejected with text. */
typedef struct __attribute__((packed)) {
  uint32_t file;
  uint64_t line;
  uint32_t reason;        /* PcRejectReason; PC_REJECT_NONE for a customer */
  uint32_t len;           /* bytes that follow */
  uint32_t full_len;      /* bytes of the whole line (a reject keeps len of them) */
} WireLine;

/* One growth of the array, then plain copies: this runs once per row. */
static inline void wire_put_event(GByteArray *out, uint32_t bucket, const PcCsvRow *r) {
  WireEvent h = {r->ts_us, r->value, bucket, (uint8_t)r->id_len, (uint8_t)r->channel_len, (uint8_t)r->event_len};
  guint at = out->len;
  g_byte_array_set_size(out, at + (guint)sizeof h + r->id_len + r->channel_len + r->event_len);
  guint8 *p = out->data + at;
  memcpy(p, &h, sizeof h);
  memcpy(p += sizeof h, r->id, r->id_len);
  memcpy(p += r->id_len, r->channel, r->channel_len);
  memcpy(p + r->channel_len, r->event, r->event_len);
}

/* The event at *p (advanced past it); strings point into the buffer. */
static inline void wire_take_event(const guint8 **p, uint32_t *bucket, PcCsvRow *r) {
  WireEvent h;
  memcpy(&h, *p, sizeof h);
  const char *s = (const char *)*p + sizeof h;
  *bucket = h.bucket;
  *r = (PcCsvRow){s, h.id_len, h.ts_us, s + h.id_len, h.channel_len,
                  s + h.id_len + h.channel_len, h.event_len, h.value};
  *p += sizeof h + h.id_len + h.channel_len + h.event_len;
}

static inline void wire_put_line(GByteArray *out, guint file, uint64_t line,
                          PcRejectReason reason, const char *text,
                          uint32_t len, uint32_t full_len) {
  WireLine h = {file, line, (uint32_t)reason, len, full_len};
  g_byte_array_append(out, (const guint8 *)&h, sizeof h);
  g_byte_array_append(out, (const guint8 *)text, len);
}

/* The line at *p (advanced past it); *text points into the buffer. */
static inline void wire_take_line(const guint8 **p, WireLine *h, const char **text) {
  memcpy(h, *p, sizeof *h);
  *text = (const char *)*p + sizeof *h;
  *p += sizeof *h + h->len;
}

#endif
