/* funnel_level.c - the per-journey funnel kernels of spec §5 (pc_funnels.h):
 * the level of the default definition with its least conversion times, and
 * the level of a ClickHouse windowFunnel mode.
 *
 * Owns PcFunnelSpec and PcFunnelWork. Pure: arrays in, numbers out; no MPI,
 * no HDF5, no allocation per call beyond the amortized growth of the work.
 *
 * Keys. A step matches an event by its key: the event id (match = event) or
 * the pair channel, event (match = channel:event). An event has one key, so
 * it can serve exactly the steps of that key; two steps with the same key
 * ("a;b;a") are a repeated step. Keys are numbered by their first step.
 */
#include "pc_funnels.h"

#include <stdlib.h>

#define NONE INT64_MIN /* no chain */

struct PcFunnelWork {
  guint cap_steps;
  int64_t *best;     /* [cap_steps] latest chain start per level (default) */
  guint *lo;         /* [cap_steps + 1] two-pointer ends of one timestamp */
  guint *avail;      /* [cap_steps] events of the timestamp per key */
  guint *need;       /* [cap_steps] steps of the block per key */
  guint *key_of;     /* [cap_events] key of each event of the journey */
  size_t cap_events;
  struct Entry *ent; /* [cap_events] ClickHouse rows (modes) */
  struct Reach *reach; /* [cap_steps] (modes) */
};

/* ---- Specs and work ------------------------------------------------------ */

void pc_funnel_spec_init(PcFunnelSpec *f, guint n_steps, const int64_t *event,
                         const int64_t *chan, int64_t window_us, guint mode) {
  g_return_if_fail(n_steps >= 1 && window_us >= 0);
  f->n_steps = n_steps;
  f->step_event = g_memdup2(event, n_steps * sizeof *event);
  f->step_chan = chan ? g_memdup2(chan, n_steps * sizeof *chan) : NULL;
  f->key = g_new(guint, n_steps);
  f->window_us = window_us;
  f->mode = mode;
  f->next = g_new(int32_t, n_steps);
  f->n_by_event = 0;
  for (guint s = 0; s < n_steps; s++) {
    f->key[s] = s;
    f->next[s] = -1;
    for (guint r = 0; r < s; r++)
      if (event[s] == event[r] && (!chan || chan[s] == chan[r])) {
        f->key[s] = f->key[r];
        break;
      }
    if (event[s] >= 0) f->n_by_event = MAX(f->n_by_event, (size_t)event[s] + 1);
  }
  f->by_event = g_new(int32_t, MAX(f->n_by_event, (size_t)1));
  for (size_t e = 0; e < f->n_by_event; e++) f->by_event[e] = -1;
  for (guint s = n_steps; s-- > 0;) /* chains of the steps of one event id */
    if (event[s] >= 0) {
      f->next[s] = f->by_event[event[s]];
      f->by_event[event[s]] = (int32_t)s;
    }
}

void pc_funnel_spec_clear(PcFunnelSpec *f) {
  g_clear_pointer(&f->step_event, g_free);
  g_clear_pointer(&f->step_chan, g_free);
  g_clear_pointer(&f->key, g_free);
  g_clear_pointer(&f->by_event, g_free);
  g_clear_pointer(&f->next, g_free);
}

gboolean pc_funnel_spec_has_repeats(const PcFunnelSpec *f) {
  for (guint s = 0; s < f->n_steps; s++)
    if (f->key[s] != s) return TRUE;
  return FALSE;
}

/* ClickHouse rows of a mode: (timestamp, condition index), index 0 for an
 * event matching no step (kept only with strict_order). */
struct Entry {
  int64_t ts;
  guint idx;
};

/* What a mode knows of the chains that reached one step (see below). */
struct Reach {
  gboolean set;
  int64_t first_max;    /* latest start among them */
  int64_t last_ts;      /* timestamp of the most recent one */
  gboolean has_before;
  int64_t first_before; /* latest start among those before last_ts */
};

PcFunnelWork *pc_funnel_work_new(guint max_steps) {
  PcFunnelWork *w = g_new0(PcFunnelWork, 1);
  w->cap_steps = MAX(max_steps, 1u);
  w->best = g_new(int64_t, w->cap_steps);
  w->lo = g_new(guint, w->cap_steps + 1);
  w->avail = g_new0(guint, w->cap_steps);
  w->need = g_new0(guint, w->cap_steps);
  w->reach = g_new(struct Reach, w->cap_steps);
  return w;
}

void pc_funnel_work_free(PcFunnelWork *w) {
  if (!w) return;
  g_free(w->best);
  g_free(w->lo);
  g_free(w->avail);
  g_free(w->need);
  g_free(w->key_of);
  g_free(w->ent);
  g_free(w->reach);
  g_free(w);
}

static void work_reserve(PcFunnelWork *w, size_t n) {
  if (n <= w->cap_events) return;
  w->cap_events = MAX(n, 2 * w->cap_events);
  w->key_of = g_renew(guint, w->key_of, w->cap_events);
  w->ent = g_renew(struct Entry, w->ent, w->cap_events);
}

/* The key of e, or G_MAXUINT when it matches no step: O(1) with match =
 * event, the steps of e's event id with channel:event. */
static inline guint event_key(const PcFunnelSpec *f, const PcEvent *e) {
  if (e->event >= f->n_by_event) return G_MAXUINT;
  for (int32_t s = f->by_event[e->event]; s >= 0; s = f->next[s])
    if (!f->step_chan || f->step_chan[s] == (int64_t)e->channel) return f->key[s];
  return G_MAXUINT;
}

/* ---- The default definition ----------------------------------------------
 *
 * Claim 1 (blocks). Group the journey's events by timestamp, t_1 < t_2 < ...
 * In a chain e1..ek with non-decreasing timestamps, the steps served at one
 * timestamp are consecutive, so a chain is: a start group, then blocks of
 * consecutive steps (j, k] served at increasing timestamps, all within
 * [ts(e1), ts(e1) + W].
 *
 * Claim 2 (a block is a counting question). Steps (j, k] can be served by
 * distinct events of one group iff, for every key K, the steps of (j, k]
 * with key K are no more than the group's events with key K. The bipartite
 * graph "step - event it matches" is a disjoint union of complete bipartite
 * graphs, one per key (an event has one key), so Hall's condition reduces to
 * these counts. In particular (j', k] is servable when (j, k] is and
 * j <= j': lo(k), the least such j, is non-decreasing in k (two pointers).
 *
 * Claim 3 (one start per level is the whole state). Let B[j] be the latest
 * start ts(e1) of a chain serving steps 1..j at timestamps before the
 * current group t. A later start is at least as good for any extension
 * (the window test is t - ts(e1) <= W), and the prefix 1..j of a chain
 * reaching j + 1 has its start, so B is non-increasing in j. At group t the
 * chains serving step k at t have starts B[j] for j in [lo(k), k - 1], or t
 * itself when lo(k) = 0 (the chain starts here): the latest is
 * B[lo(k)] (or t), valid when within the window; B[k] becomes the max of
 * its old value and that. The same candidate is the latest start of a
 * chain whose step k is at t, so t - candidate, minimized over the groups,
 * is t_k, the least span of a chain reaching k. B is read before it is
 * written (k runs downwards), so blocks of one timestamp never chain.
 */

/* lo[k] for k = 1..n at one group (avail = its events per key); lo[k] = k:
 * no block ends at k here. need[] is all zero on entry and on return. */
static void block_starts(const PcFunnelSpec *f, PcFunnelWork *w) {
  guint lo = 0;
  for (guint k = 1; k <= f->n_steps; k++) {
    guint K = f->key[k - 1];
    w->need[K]++;
    while (w->need[K] > w->avail[K]) w->need[f->key[lo++]]--;
    w->lo[k] = lo;
  }
  for (guint j = lo; j < f->n_steps; j++) w->need[f->key[j]]--;
}

/* Claim 3 at the group of timestamp t. */
static void group_update(const PcFunnelSpec *f, PcFunnelWork *w, int64_t t,
                         int64_t *span_us) {
  block_starts(f, w);
  for (guint k = f->n_steps; k >= 1; k--) {
    guint lo = w->lo[k];
    if (lo == k) continue;
    int64_t start = lo == 0 ? t : w->best[lo - 1];
    if (start == NONE || t - start > f->window_us) continue;
    if (start > w->best[k - 1]) w->best[k - 1] = start;
    if (span_us) span_us[k - 1] = MIN(span_us[k - 1], t - start);
  }
}

guint pc_funnel_level(const PcFunnelSpec *f, const PcEvent *ev, size_t n,
                      PcFunnelWork *w, int64_t *span_us) {
  g_return_val_if_fail(f->n_steps <= w->cap_steps, 0);
  for (guint s = 0; s < f->n_steps; s++) {
    w->best[s] = NONE;
    if (span_us) span_us[s] = INT64_MAX;
  }
  work_reserve(w, n);
  /* No chain exists before the first group with an event of step 1's key
   * (every block that starts a chain holds step 1): such groups change
   * nothing and are only scanned for their keys. */
  gboolean started = FALSE;
  for (size_t i = 0, j; i < n; i = j) {
    gboolean any = FALSE;
    for (j = i; j < n && ev[j].ts_us == ev[i].ts_us; j++) {
      guint K = w->key_of[j] = event_key(f, &ev[j]);
      if (K != G_MAXUINT) w->avail[K]++, any = TRUE;
    }
    started = started || (any && w->avail[f->key[0]] > 0);
    if (started && any) group_update(f, w, ev[i].ts_us, span_us);
    for (size_t x = i; x < j; x++)
      if (w->key_of[x] != G_MAXUINT) w->avail[w->key_of[x]] = 0;
  }
  guint level = 0;
  while (level < f->n_steps && w->best[level] != NONE) level++;
  return level;
}

/* ---- ClickHouse modes ------------------------------------------------------
 *
 * ClickHouse turns the journey into rows (ts, j) for every step j an event
 * matches (distinct steps: at most one), and (ts, 0) for an event matching
 * none when strict_order is set; it sorts them by (ts, j) and scans them
 * once, keeping per step whether a chain reached it and when. Its rules, in
 * the order it applies them to a row (ts, j):
 *   j = 0:   strict_order: stop once step 1 has been seen, else skip;
 *   j = 1:   a chain starts at ts (step 1 reached);
 *   strict_deduplication and step j already reached: stop;
 *   strict_order, step 1 seen and step j - 1 not reached: stop, or with
 *            allow_reentry skip the row;
 *   otherwise, if a chain that reached step j - 1 extends to this row, step
 *   j is reached with that chain's start; all steps reached: stop.
 * "Stop" returns the number of steps reached (they are always a prefix).
 * A chain extends when ts - start <= W and, with strict_increase, it reached
 * step j - 1 at a timestamp before ts. Without strict_once ClickHouse keeps
 * only the most recent chain per step; with it, every chain. Both are exact
 * with struct Reach: the starts written to a step never decrease without
 * strict_once (each write copies the latest start of the step before, by
 * induction), so the latest is also the best for the window; with
 * strict_once and strict_increase the best chain that reached the step
 * before ts is the latest start among those written before the step's last
 * timestamp (all writes of one timestamp share it), and without
 * strict_increase simply the latest start. With distinct steps the
 * "event used once" bookkeeping of strict_once never fires.
 */

static int cmp_entry(const void *a, const void *b) {
  const struct Entry *x = a, *y = b;
  if (x->ts != y->ts) return x->ts < y->ts ? -1 : 1;
  return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* The rows in ClickHouse order; returns how many. Journey order is by
 * timestamp already: only runs of one timestamp are sorted, by step. */
static size_t mode_rows(const PcFunnelSpec *f, const PcEvent *ev, size_t n,
                        PcFunnelWork *w) {
  size_t m = 0;
  for (size_t i = 0; i < n; i++) {
    guint K = event_key(f, &ev[i]);
    if (K == G_MAXUINT && !(f->mode & PC_FUNNEL_STRICT_ORDER)) continue;
    w->ent[m++] = (struct Entry){ev[i].ts_us, K == G_MAXUINT ? 0 : K + 1};
  }
  for (size_t i = 0, j; i < m; i = j) {
    for (j = i + 1; j < m && w->ent[j].ts == w->ent[i].ts; j++) {}
    if (j - i > 1) qsort(w->ent + i, j - i, sizeof *w->ent, cmp_entry);
  }
  return m;
}

/* The start of the best chain at step r that extends to a row at ts. */
static gboolean reach_start(const struct Reach *r, const PcFunnelSpec *f,
                            int64_t ts, int64_t *start) {
  if (!r->set) return FALSE;
  int64_t s = r->first_max;
  if ((f->mode & PC_FUNNEL_STRICT_INCREASE) && r->last_ts >= ts) {
    if (!(f->mode & PC_FUNNEL_STRICT_ONCE) || !r->has_before) return FALSE;
    s = r->first_before;
  }
  if (ts - s > f->window_us) return FALSE;
  *start = s;
  return TRUE;
}

static void reach_write(struct Reach *r, int64_t start, int64_t ts) {
  if (!r->set) {
    *r = (struct Reach){TRUE, start, ts, FALSE, 0};
    return;
  }
  if (ts != r->last_ts) {
    r->first_before = r->first_max;
    r->has_before = TRUE;
    r->last_ts = ts;
  }
  r->first_max = MAX(r->first_max, start);
}

guint pc_funnel_mode_level(const PcFunnelSpec *f, const PcEvent *ev, size_t n,
                           PcFunnelWork *w) {
  g_return_val_if_fail(f->n_steps <= w->cap_steps && f->mode != 0, 0);
  work_reserve(w, n);
  size_t m = mode_rows(f, ev, n, w);
  guint level = 0, mode = f->mode;
  gboolean started = FALSE;
  for (guint s = 0; s < f->n_steps; s++) w->reach[s].set = FALSE;
  for (size_t i = 0; i < m; i++) {
    int64_t ts = w->ent[i].ts, start;
    guint j = w->ent[i].idx;
    if (j == 0) {
      if (started) break;
      continue;
    }
    if (j == 1) {
      reach_write(&w->reach[0], ts, ts);
      level = MAX(level, 1u);
      started = TRUE;
      continue;
    }
    if ((mode & PC_FUNNEL_STRICT_DEDUPLICATION) && w->reach[j - 1].set) break;
    if ((mode & PC_FUNNEL_STRICT_ORDER) && started && !w->reach[j - 2].set) {
      if (mode & PC_FUNNEL_ALLOW_REENTRY) continue;
      break;
    }
    if (!reach_start(&w->reach[j - 2], f, ts, &start)) continue;
    reach_write(&w->reach[j - 1], start, ts);
    level = MAX(level, j);
    if (j == f->n_steps) break;
  }
  return level;
}
