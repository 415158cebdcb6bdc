/* pc_core.h - the types every parcours module shares: errors, events,
 * journeys and name dictionaries.
 *
 * Owns nothing at run time; it is the vocabulary. No MPI, no HDF5 here:
 * analytics modules include only this header (and GLib), so they link into
 * CUnit tests without either library.
 *
 * Invariants the rest of the code relies on:
 *  - Channel and event ids are global and assigned in bytewise (memcmp)
 *    order of the names, so comparing ids compares names (spec §2).
 *  - A PcJourney's events are sorted by (ts_us, event, channel, value).
 *  - Money and values are int64 millionths (spec §1).
 */
#ifndef PC_CORE_H
#define PC_CORE_H

#include <glib.h>
#include <stdint.h>
#include <stddef.h>
#include <string.h>

/* ---- Errors ------------------------------------------------------------ */

#define PC_ERROR (pc_error_quark())
GQuark pc_error_quark(void);

typedef enum {
  PC_ERROR_IO,        /* a file could not be read or written */
  PC_ERROR_FORMAT,    /* an input file (CSV, HDF5 store) breaks its format */
  PC_ERROR_CONFIG,    /* job file or command line */
  PC_ERROR_REJECTS,   /* too many rejected rows */
  PC_ERROR_MEMORY,    /* the plan does not fit --memory-per-rank */
  PC_ERROR_CONVERGE,  /* the model fit did not converge */
  PC_ERROR_COMM,      /* another rank failed */
  PC_ERROR_EXISTS,    /* output exists and --force was not given */
  PC_ERROR_INTERNAL,
  PC_ERROR_BUSY       /* another process holds the writer lock */
} PcErrorCode;

/* ---- Limits (spec §1) ---------------------------------------------------- */

#define PC_MAX_ID_BYTES 255    /* customer_id */
#define PC_MAX_NAME_BYTES 63   /* channel, event */
#define PC_VALUE_LIMIT_MICROS INT64_C(9000000000000000000) /* |value| < 9e12 */
/* Buckets of a store: each shard and each reader keeps about 90 bytes per
 * bucket per shard, so B = 10^8 made a 3-event run need 15 GB. 2^20 is
 * 256 times the default and still costs under 100 MiB per shard. */
#define PC_MAX_BUCKETS (UINT64_C(1) << 20)

/* Special token ids used in path tables: journey start and end. They sort
 * after every real token id (ids are < 2^31). Their names are "^" and "$". */
#define PC_TOKEN_START UINT32_C(0xFFFFFFFE)
#define PC_TOKEN_END UINT32_C(0xFFFFFFFF)

/* Money and sums of values: an exact integer count of millionths, 128 bits
 * wide. A single value fits int64 (|v| < 9e18 millionths, spec §1); a sum
 * of 10^9 of them does not (9e27), which is why every sum of values or
 * money is a PcMoney (spec §10: exact whatever the size, never wrapped). Its
 * range (1.7e38) is beyond any sum of int64 values a run can add up. */
typedef __int128 PcMoney;

/* ---- Events and journeys ------------------------------------------------- */

typedef struct {
  int64_t ts_us;     /* microseconds since 1970-01-01T00:00:00Z */
  int64_t value;     /* millionths; empty input value = 0 */
  uint32_t event;    /* global event-name id (bytewise order) */
  uint32_t channel;  /* global channel id (bytewise order) */
} PcEvent;

/* One customer's kept events, sorted by the journey key of spec §2. The
 * journey does not own its pointers: they point into a bucket buffer. */
typedef struct {
  const char *id;       /* customer_id bytes, not NUL-terminated */
  uint32_t id_len;
  uint64_t id_hash;     /* pc_fnv1a64(id, id_len) */
  const PcEvent *ev;
  size_t n;
  int64_t revenue;      /* millionths, from the customers table */
  gboolean has_revenue; /* FALSE: customer absent from the customers table */
  uint32_t segment;     /* id into PcNames.segments (spec §12) */
} PcJourney;

/* Journey key order of spec §2; ids compare like the names they stand for. */
static inline int pc_event_cmp(const PcEvent *a, const PcEvent *b) {
  if (a->ts_us != b->ts_us) return a->ts_us < b->ts_us ? -1 : 1;
  if (a->event != b->event) return a->event < b->event ? -1 : 1;
  if (a->channel != b->channel) return a->channel < b->channel ? -1 : 1;
  if (a->value != b->value) return a->value < b->value ? -1 : 1;
  return 0;
}

/* ---- Dictionaries -------------------------------------------------------- */

/* A sorted, duplicate-free list of names; id = index. Owns its strings. */
typedef struct {
  guint n;
  char **names;   /* NUL-terminated; names contain no NUL (spec §1) */
} PcDict;

PcDict *pc_dict_new_sorted(char **names, guint n); /* copies, sorts, dedups */
void pc_dict_free(PcDict *d);
/* Index of name, or -1. Binary search, bytewise. */
gint64 pc_dict_find(const PcDict *d, const char *name);
/* The same for len bytes that need not be NUL-terminated. */
gint64 pc_dict_find_len(const PcDict *d, const void *name, size_t len);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PcDict, pc_dict_free)

/* The run's name spaces: channels and events of the kept input, both sorted
 * bytewise. Token ids of path.token=channel:event are a third dictionary. */
typedef struct {
  PcDict *channels;
  PcDict *events;
  /* After the read pass: 1 where the name has at least one kept event
   * (input.from/to applied). Names of the store with no kept event exist in
   * the dictionaries (ids stay stable) but are not "of the kept input":
   * tables and model features skip them. NULL = all kept. */
  guint8 *channel_kept;
  guint8 *event_kept;
  /* Segments of the customers table (spec §12), bytewise sorted, always
   * holding PC_SEGMENT_UNKNOWN; NULL stands for that one name alone (no
   * customers table, or a hand-made PcNames): see pc_names_segments(). */
  PcDict *segments;
} PcNames;

/* The segment of a customer absent from the customers table, of an empty
 * segment field, and of every customer without a customers table. */
#define PC_SEGMENT_UNKNOWN "(unknown)"

/* nm->segments, or a static dictionary of PC_SEGMENT_UNKNOWN alone when it
 * is NULL. Never NULL; never freed by the caller. */
const PcDict *pc_names_segments(const PcNames *nm);

/* The outcome of spec §4: target event ids (sorted), and per journey y and the
 * cut (index of the first target event, or n when y = 0). */
typedef struct {
  guint n;            /* 0 = no target configured */
  uint32_t *events;   /* sorted event ids */
} PcTarget;

/* y = 1 when the journey has a target event; *cut = index of the first one
 * (the pre-target journey is ev[0..cut)), or j->n when y = 0. */
gboolean pc_target_cut(const PcTarget *t, const PcJourney *j, size_t *cut);

/* ---- Hashing --------------------------------------------------------------- */

/* FNV-1a 64-bit of the bytes (offset basis 14695981039346656037,
 * prime 1099511628211). Used for buckets (mod B) and the model split. */
static inline uint64_t pc_fnv1a64(const void *data, size_t len) {
  const unsigned char *p = data;
  uint64_t h = UINT64_C(14695981039346656037);
  for (size_t i = 0; i < len; i++) {
    h ^= p[i];
    h *= UINT64_C(1099511628211);
  }
  return h;
}

/* ---- Error helpers ---------------------------------------------------------- */

/* Sets *error (if error != NULL) with domain PC_ERROR and the formatted
 * message. The source file and line of the call are recorded: with
 * PARCOURS_DEBUG set in the environment, the message ends with
 * " [src/…/file.c:LINE]", so a user's report points at the code. */
void pc_set_error_at(GError **error, PcErrorCode code, const char *file,
                     int line, const char *fmt, ...) G_GNUC_PRINTF(5, 6);
#define pc_set_error(err, code, ...) \
  pc_set_error_at((err), (code), __FILE__, __LINE__, __VA_ARGS__)

/* Bytewise compare of two byte strings, a proper prefix first. */
static inline int pc_bytes_cmp(const void *a, size_t na, const void *b,
                               size_t nb) {
  size_t m = na < nb ? na : nb;
  int c = m ? memcmp(a, b, m) : 0;
  if (c) return c;
  return na < nb ? -1 : (na > nb ? 1 : 0);
}

#endif
