/* pc_funnels.h - funnels of spec §5 as the "funnels" analysis module
 * (funnels.c), and the pure per-journey kernels (funnel_level.c) exposed for
 * tests and the ClickHouse conformance check: the level of the §5 default
 * definition with its least conversion times, and the level of a ClickHouse
 * windowFunnel mode. No MPI, no HDF5.
 */
#ifndef PC_FUNNELS_H
#define PC_FUNNELS_H

#include "pc_config.h" /* PcFunnelMode: the windowFunnel options */
#include "pc_core.h"

/* One funnel as the kernels see it. A step matches an event when the
 * event id equals step_event[s] and, with step_chan, the channel id equals
 * step_chan[s]; a negative id never matches. Every event therefore matches
 * the steps of exactly one key (event, or channel and event), or none: the
 * kernels rely on it. Owned: pc_funnel_spec_init / _clear. */
typedef struct {
  guint n_steps;        /* >= 1 */
  int64_t *step_event;  /* [n_steps] */
  int64_t *step_chan;   /* [n_steps], or NULL for match = event */
  guint *key;           /* [n_steps]: the first step with the same key */
  /* lookup of an event's key: by_event[e] = the first step of event id e
   * (or -1), next[s] = the next step of the same event id (or -1): a
   * channel:event key is found among the steps of its event only */
  int32_t *by_event;    /* [n_by_event] */
  size_t n_by_event;    /* 1 + the largest step event id, 0 when none */
  int32_t *next;        /* [n_steps] */
  int64_t window_us;    /* >= 0 */
  guint mode;           /* PcFunnelMode bits (pc_config.h); 0 = default */
} PcFunnelSpec;

/* Copies the steps (chan may be NULL) and numbers their keys. */
void pc_funnel_spec_init(PcFunnelSpec *f, guint n_steps, const int64_t *event,
                         const int64_t *chan, int64_t window_us, guint mode);
void pc_funnel_spec_clear(PcFunnelSpec *f);
/* TRUE when two steps have the same key (a mode needs distinct steps). */
gboolean pc_funnel_spec_has_repeats(const PcFunnelSpec *f);

/* Scratch of one thread for funnels of up to max_steps steps; grows with
 * the journeys it sees. Cannot fail; free with pc_funnel_work_free. */
typedef struct PcFunnelWork PcFunnelWork;
PcFunnelWork *pc_funnel_work_new(guint max_steps);
void pc_funnel_work_free(PcFunnelWork *w);

/* The level of spec §5's default definition for one journey: the largest k
 * such that distinct events e1..ek exist with ej matching step j,
 * ts(e1) <= ... <= ts(ek) and ts(ek) - ts(e1) <= window (events of equal
 * timestamp in any order; f->mode is ignored).
 *   ev, n:   the journey, ts non-decreasing (any order within a timestamp).
 *   span_us: NULL, or n_steps int64 (OUT): for k = 1..level, span_us[k-1] =
 *            the least ts(ek) - ts(e1) over those chains that reach step k
 *            (t_k of §5); INT64_MAX for k > level.
 * O(n * n_steps). Cannot fail. */
guint pc_funnel_level(const PcFunnelSpec *f, const PcEvent *ev, size_t n,
                      PcFunnelWork *w, int64_t *span_us);

/* The level of ClickHouse windowFunnel(window, mode...)(ts, cond1..condn)
 * over the journey, one row per event, condj = "the event matches step j"
 * (spec §5, modes). Needs f->mode != 0 and distinct steps (the config
 * refuses other funnels); ALLOW_REENTRY needs STRICT_ORDER. Cannot fail.
 * O(n log n) worst case (ties are sorted by step), O(n) without ties. */
guint pc_funnel_mode_level(const PcFunnelSpec *f, const PcEvent *ev, size_t n,
                           PcFunnelWork *w);

#endif
