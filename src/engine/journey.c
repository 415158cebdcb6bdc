/* journey.c - journey assembly (pc_journey.h): per bucket of a batch, a
 * k-way merge over the shards' slices by customer id, the events of each
 * customer mapped to global ids, filtered by input.from/to and sorted by
 * the journey key, its customers-table row (revenue, segment id) found,
 * the scope of spec §12 applied; and the per-journey view of the modules.
 *
 * Owns PcBatch (cursors into the caller's slices). No MPI, no HDF5.
 * Invariant: a shard slice is sorted by (bucket, id) and its events by
 * (customer, journey key); global ids preserve name order, so a customer
 * present in one shard needs no sort, and one in several needs one sort of
 * its own events only.
 */
#include "pc_journey.h"

#include <stdlib.h>

typedef struct {
  const PcShardData *d;
  uint64_t cu, cu_end;   /* customer cursor in the slice */
  uint64_t ev, ev_end;   /* event cursor */
  uint64_t crm, crm_end; /* customers-table cursor */
  guint shard;
} Cursor;

struct PcBatch {
  const PcJourneyMaps *maps;
  size_t nb;
  Cursor *cur;           /* [nb][n_shards], the start of every bucket */
};

PcBatch *pc_batch_new(PcShardData *const *slices, const PcJourneyMaps *maps,
                      const uint32_t *buckets, size_t nb) {
  guint S = maps->n_shards;
  PcBatch *b = g_new0(PcBatch, 1);
  b->maps = maps;
  b->nb = nb;
  b->cur = g_new0(Cursor, nb * S + 1);
  for (guint s = 0; s < S; s++) {
    const PcShardData *d = slices[s];
    uint64_t cu = 0, ev = 0, crm = 0;
    for (size_t i = 0; i < nb; i++) {
      Cursor *c = &b->cur[i * S + s];
      *c = (Cursor){d, cu, cu + d->bucket_customers[buckets[i]], ev,
                    ev + d->bucket_events[buckets[i]], crm,
                    crm + d->bucket_crm[buckets[i]], s};
      cu = c->cu_end;
      ev = c->ev_end;
      crm = c->crm_end;
    }
  }
  return b;
}

void pc_batch_free(PcBatch *b) {
  if (!b) return;
  g_free(b->cur);
  g_free(b);
}

static const char *cur_id(const Cursor *c, uint32_t *len) {
  *len = (uint32_t)(c->d->id_offsets[c->cu + 1] - c->d->id_offsets[c->cu]);
  return (const char *)c->d->id_bytes + c->d->id_offsets[c->cu];
}

/* The smallest current customer id among the cursors, or NULL. */
static const char *min_id(const Cursor *cs, guint n, uint32_t *len) {
  const char *id = NULL;
  *len = 0;
  for (guint s = 0; s < n; s++) {
    if (cs[s].cu >= cs[s].cu_end) continue;
    uint32_t l;
    const char *x = cur_id(&cs[s], &l);
    if (!id || pc_bytes_cmp(x, l, id, *len) < 0) {
      id = x;
      *len = l;
    }
  }
  return id;
}

static gboolean at_id(const Cursor *c, const char *id, uint32_t len) {
  if (c->cu >= c->cu_end) return FALSE;
  uint32_t l;
  const char *x = cur_id(c, &l);
  return x == id || pc_bytes_cmp(x, l, id, len) == 0;
}

/* Appends the kept events of the cursor's current customer, mapped to
 * global ids, and advances the event cursor. Shard order = key order. The
 * rows are written in place (one resize per customer, not one append per
 * event), the time filter tested only when the job has one. */
static void take_events(const PcJourneyMaps *m, Cursor *c, GArray *out) {
  const PcShardData *d = c->d;
  const uint32_t *chm = m->ch_map[c->shard], *evm = m->ev_map[c->shard];
  uint64_t a = c->ev, e = a;
  while (e < c->ev_end && d->ev_customer[e] == c->cu) e++;
  guint n0 = out->len;
  g_array_set_size(out, n0 + (guint)(e - a));
  PcEvent *o = (PcEvent *)(void *)out->data + n0;
  guint k = 0;
  gboolean filter = m->has_from || m->has_to;
  int64_t from = m->has_from ? m->from_us : INT64_MIN;
  for (uint64_t i = a; i < e; i++) {
    int64_t ts = d->ev_ts[i];
    if (filter && (ts < from || (m->has_to && ts >= m->to_us))) continue;
    o[k++] = (PcEvent){ts, d->ev_value[i], evm[d->ev_event[i]], chm[d->ev_channel[i]]};
  }
  g_array_set_size(out, n0 + k);
  c->ev = e;
}

/* The customer's customers-table row among the cursors' (later shards of
 * the manifest win: a later batch updates a customer): its revenue, and
 * its segment bytes (*seg NULL when the slice has none). FALSE when the
 * customer has no row. */
static gboolean lookup_crm(Cursor *cs, guint n, const char *id, uint32_t len,
                           int64_t *rev, const char **seg, size_t *seg_len) {
  gboolean found = FALSE;
  for (guint s = 0; s < n; s++) {
    Cursor *c = &cs[s];
    const PcShardData *d = c->d;
    const uint64_t *o = d->crm_id_offsets;
    while (c->crm < c->crm_end) {
      int cmp = pc_bytes_cmp(d->crm_id_bytes + o[c->crm],
                             o[c->crm + 1] - o[c->crm], id, len);
      if (cmp > 0) break;
      if (cmp == 0) {
        *rev = d->crm_revenue[c->crm];
        const uint64_t *so = d->crm_seg_offsets;
        *seg = so ? (const char *)d->crm_seg_bytes + so[c->crm] : NULL;
        *seg_len = so ? so[c->crm + 1] - so[c->crm] : 0;
        found = TRUE;
        break;
      }
      c->crm++;
    }
  }
  return found;
}

/* Segment id of the bytes (spec §12: empty or absent = (unknown)). */
static uint32_t segment_id(const PcJourneyMaps *m, const char *seg,
                           size_t len) {
  if (!m->segments || !seg || !len) return m->segment_unknown;
  gint64 id = pc_dict_find_len(m->segments, seg, len);
  return id >= 0 ? (uint32_t)id : m->segment_unknown;
}

gboolean pc_journey_scope(const PcJourneyMaps *m, PcJourney *j) {
  if (m->segment_keep && !m->segment_keep[j->segment]) return FALSE;
  if (m->entry_event < 0) return TRUE;
  for (size_t i = 0; i < j->n; i++)
    if ((int64_t)j->ev[i].event == m->entry_event) {
      j->ev += i;
      j->n -= i;
      return TRUE;
    }
  return FALSE;
}

static int cmp_event(const void *a, const void *b) { return pc_event_cmp(a, b); }

void pc_batch_journeys(const PcBatch *b, size_t i, GArray *scratch,
                       PcJourneyFn fn, void *user) {
  guint S = b->maps->n_shards;
  g_autofree Cursor *cs = g_memdup2(b->cur + i * S, S * sizeof(Cursor));
  for (;;) {
    uint32_t len;
    const char *id = min_id(cs, S, &len);
    if (!id) return;
    g_array_set_size(scratch, 0);
    guint parts = 0;
    for (guint s = 0; s < S; s++)
      if (at_id(&cs[s], id, len)) {
        take_events(b->maps, &cs[s], scratch);
        parts++;
      }
    if (parts > 1)
      qsort(scratch->data, scratch->len, sizeof(PcEvent), cmp_event);
    PcJourney j = {id, len, pc_fnv1a64(id, len), (const PcEvent *)scratch->data,
                   scratch->len, 0, FALSE, 0};
    const char *seg = NULL;
    size_t seg_len = 0;
    j.has_revenue = lookup_crm(cs, S, id, len, &j.revenue, &seg, &seg_len);
    j.segment = segment_id(b->maps, j.has_revenue ? seg : NULL, seg_len);
    if (j.n && pc_journey_scope(b->maps, &j)) fn(&j, user);
    for (guint s = 0; s < S; s++)
      if (at_id(&cs[s], id, len)) cs[s].cu++;
  }
}

void pc_journey_view(PcJourneyView *v, const PcJourney *j,
                     const PcTarget *target, const PcTokenMap *tm,
                     gboolean has_crm, GArray *tok, GArray *ts) {
  g_array_set_size(tok, j->n);
  g_array_set_size(ts, j->n);
  uint32_t *tk = (uint32_t *)tok->data;
  int64_t *t = (int64_t *)ts->data;
  PcMoney revenue = 0;
  const PcEvent *ev = j->ev;
  if (tm->mode == PC_TOKEN_EVENT)
    for (size_t i = 0; i < j->n; i++) tk[i] = ev[i].event;
  else if (tm->mode == PC_TOKEN_CHANNEL)
    for (size_t i = 0; i < j->n; i++) tk[i] = ev[i].channel;
  else
    for (size_t i = 0; i < j->n; i++) tk[i] = tm->pair_token[(size_t)ev[i].channel * tm->E + ev[i].event];
  for (size_t i = 0; i < j->n; i++) {
    t[i] = ev[i].ts_us;
    if (!has_crm) revenue += ev[i].value;
  }
  v->j = j;
  v->y = pc_target_cut(target, j, &v->cut);
  v->tok = tk;
  v->ts = t;
  v->revenue = has_crm ? j->revenue : revenue;
  v->segment = j->segment;
}
