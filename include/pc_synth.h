/* pc_synth.h - the synthetic omnichannel world behind `parcours generate`:
 * customers, their journeys and the planted truth the analyses must find.
 *
 * Pure: no MPI, no HDF5, no files. The caller (the generate command) decides
 * which customers each rank or thread makes and where they are written.
 *
 * Invariants:
 *  - Customer k is a pure function of (seed, k, time range): the same on any
 *    rank, any thread, in any call order (a counter-based key per customer
 *    seeds a private xoshiro256** stream; nothing is shared).
 *  - A customer's events are strictly increasing in time and lie in
 *    [from_us, to_us); the churn event, when present, is the last one.
 *  - Channel and event ids index the bytewise-sorted name lists below, so
 *    they are the ids a PcDict built from those names would assign.
 *  - See docs/generate.md for the distributions and the planted numbers.
 */
#ifndef PC_SYNTH_H
#define PC_SYNTH_H

#include "pc_core.h"

#define PC_SYNTH_MAX_EVENTS 2002 /* events per customer, churn and planted ones included */
#define PC_SYNTH_DEFAULT_FROM_US INT64_C(1767225600000000) /* 2026-01-01T00:00:00Z */
#define PC_SYNTH_DEFAULT_TO_US INT64_C(1782864000000000)   /* 2026-07-01T00:00:00Z */
#define PC_SYNTH_MIN_RANGE_US INT64_C(86400000000)         /* one day */
#define PC_SYNTH_TARGET_EVENT "churn"
#define PC_SYNTH_NPS_EVENT "nps_response"
#define PC_SYNTH_MAX_MONTH 120     /* pc_synth_set_month: months 1..120 */

/* ---- API ----------------------------------------------------------------- */

typedef struct {
  int64_t ts_us;    /* microseconds since the epoch, UTC */
  int64_t value;    /* millionths: purchase amount, NPS score, else 0 */
  uint16_t channel; /* index into pc_synth_channels() */
  uint16_t event;   /* index into pc_synth_events() */
} PcSynthEvent;

typedef struct {
  char id[24];        /* customer id, "c" + zero-padded decimal k, NUL-terminated */
  uint32_t id_len;    /* bytes of id without the NUL */
  int64_t revenue;    /* monthly revenue, millionths (2 decimals) */
  const char *segment; /* static string: "business" or "consumer" */
  PcSynthEvent *ev;   /* events in time order; owned, g_realloc'ed here */
  size_t n, cap;      /* events, allocated slots */
} PcSynthCustomer;

typedef struct PcSynth PcSynth;

/* A world of n_customers customers drawn from seed, with the default time
 * range [PC_SYNTH_DEFAULT_FROM_US, PC_SYNTH_DEFAULT_TO_US). Cannot fail.
 * Caller frees with pc_synth_free(). */
PcSynth *pc_synth_new(uint64_t seed, uint64_t n_customers);
void pc_synth_free(PcSynth *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PcSynth, pc_synth_free)

/* Sets the time range [from_us, to_us) of all events. TRUE on success; FALSE
 * with PC_ERROR_CONFIG when to_us - from_us < PC_SYNTH_MIN_RANGE_US (s is then
 * unchanged). Call before generating: it changes every customer. */
gboolean pc_synth_set_range(PcSynth *s,
                            int64_t from_us, /* first allowed timestamp */
                            int64_t to_us,   /* exclusive end */
                            GError **error);

/* Makes s the world of calendar month `month` (1 = January 2026, 2 =
 * February 2026, ..., 1 <= month <= PC_SYNTH_MAX_MONTH): its time range is
 * that month, and from month 2 on the planted change of the monthly
 * workflow is on: the sms offer sign-up rate rises from 0.11 to 0.17
 * (docs/generate.md; truth.json "month"). Call before generating. */
void pc_synth_set_month(PcSynth *s, guint month);

/* The channel / event names, sorted bytewise, valid per spec §1. Static:
 * never freed. *n (OUT, may not be NULL) gets the count. Cannot fail. */
const char *const *pc_synth_channels(guint *n);
const char *const *pc_synth_events(guint *n);

/* Fills *out with customer k (0 <= k < n_customers). out must be zeroed or
 * a customer filled by an earlier call (its buffer is reused and grown with
 * g_realloc to PC_SYNTH_MAX_EVENTS slots once). No allocation otherwise.
 * Thread-safe: s is only read. Cannot fail. */
void pc_synth_customer(const PcSynth *s, uint64_t k, PcSynthCustomer *out);

/* The id of customer k alone (what pc_synth_customer writes into out->id),
 * without generating the customer: "c" and k in decimal, zero-padded to
 * one width for the whole world, so ids sort bytewise as k sorts. id must
 * hold 24 bytes; returns the length. Cannot fail. */
uint32_t pc_synth_id(const PcSynth *s, uint64_t k, char id[24]);

/* Frees out->ev and zeroes *c (reusable afterwards). */
void pc_synth_customer_clear(PcSynthCustomer *c);

/* The planted truth as a JSON document (UTF-8, LF, trailing newline); see
 * docs/generate.md for the keys. Caller g_free()s. Cannot fail. */
char *pc_synth_truth_json(const PcSynth *s);

#endif
