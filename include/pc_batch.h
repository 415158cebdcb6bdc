/* pc_batch.h - what a batch of the store records about itself: the rows
 * ingest rejected (the rejects file) and the batch record, a JSON object
 * kept as STORE/batch-NNNNNN.json and as the "/ingest" dataset of every
 * shard of the batch (docs/format.md).
 *
 * Pure formatting and one file write: no MPI, no HDF5. The names of the
 * files come from the store module (pc_store_file_path).
 */
#ifndef PC_BATCH_H
#define PC_BATCH_H

#include "pc_csv.h"

#define PC_BATCH_REJECT_TEXT_BYTES 4096 /* a rejected line is kept up to this */

/* ---- API ----------------------------------------------------------------- */

/* One rejected row. */
typedef struct {
  guint file;            /* index into the batch's inputs */
  uint64_t line;         /* 1-based line number in that file */
  PcRejectReason reason;
  char *text;            /* the line's first len bytes (any bytes, NUL too), owned */
  uint32_t len;          /* bytes in text: min(full_len, PC_BATCH_REJECT_TEXT_BYTES) */
  uint32_t full_len;     /* bytes of the whole line (< 16 MiB) */
} PcReject;

/* A reject of the line's bytes [0, full_len): keeps at most
 * PC_BATCH_REJECT_TEXT_BYTES of them. Cannot fail. */
PcReject pc_reject_make(guint file, uint64_t line, PcRejectReason reason,
                        const char *text, size_t full_len);

/* Frees r->text (the struct itself is the caller's, e.g. in a GArray). */
void pc_reject_clear(PcReject *r);
/* (file, line) order: the order of the rejects file. */
int pc_reject_cmp(const void *a, const void *b);

/* What a batch knows of one of its inputs: the identity of its content and
 * its rows (pc_batchid.h computes the first three, ingest the rejects). */
typedef struct {
  char sha256[65];              /* hex SHA-256 of the content (gzip: decompressed) */
  uint64_t bytes;               /* content bytes */
  uint64_t rows;                /* data rows: lines after the header */
  uint64_t rejected;            /* rows of it rejected */
} PcInputId;

/* What ingest says about a batch. */
typedef struct {
  guint batch;                  /* 1 = the store's first */
  uint64_t buckets;             /* B */
  int ranks;                    /* ranks that ingested it */
  GPtrArray *inputs;            /* paths: events files, then the customers file */
  guint n_event_files;          /* inputs[0..n) are events files */
  uint64_t rows;                /* data rows read (headers excluded) */
  uint64_t by_reason[PC_REJECT_N]; /* rejected rows per reason */
  const char *rejects_file;     /* file name of the rejects file in the store */
  const PcInputId *ids;         /* per input (inputs->len), or NULL */
  const char *key;              /* the batch key (pc_batchid_key), or NULL */
} PcBatchRecord;

/* The batch record as compact JSON (no newline), built with json-glib:
 *   {"batch":1,"buckets":4096,"ranks":2,"inputs":[{"path":"a.csv",
 *    "kind":"events","rows":N,"rejected":N,"sha256":"..."},...],
 *    "key":"...","rows":N,"accepted":N,"rejected":N,"event_rows":N,
 *    "event_rejected":N,"customer_rows":N,"customer_rejected":N,
 *    "rejected_by_reason":{"bad_value":1,...},"rejects_file":"..."}
 * Without ids: no per-input figures, no key and no event_/customer_ keys
 * (the record of parcours before batch checksums). rows, accepted and
 * rejected count both tables; event_ and customer_ keys each one.
 * Reasons with no row are left out, the others in PcRejectReason order.
 * A path that is not valid UTF-8 is written with each invalid byte
 * replaced by U+FFFD (JSON text is UTF-8); control bytes are escaped, so
 * the text is always valid JSON. Caller g_free()s. Cannot fail. */
char *pc_batch_record_json(const PcBatchRecord *r);

/* The record of a generated batch: {"batch":B,"generated":true}. Caller
 * g_free()s. Cannot fail. */
char *pc_batch_generated_json(guint batch);

/* Writes the rejects file at path: the header "file\tline\treason\ttext"
 * then one line per reject, in the order given (sorted by the caller with
 * pc_reject_cmp), file as the input's path. Path and text are escaped so
 * that every reject is one TSV line whatever its bytes: backslash as \\,
 * TAB \t, LF \n, CR \r, NUL \0, other bytes < 0x20 and 0x7F as \xHH; a
 * text cut at PC_BATCH_REJECT_TEXT_BYTES ends with the marker
 * "\...[N more bytes]" (a backslash and a dot: no escape makes it).
 * Adds each reject to by_reason[reason] (IN/OUT). FALSE with PC_ERROR_IO
 * naming path. */
gboolean pc_batch_write_rejects(const char *path, const GArray *rejects,
                                GPtrArray *inputs,
                                uint64_t by_reason[PC_REJECT_N],
                                GError **error);

#endif
