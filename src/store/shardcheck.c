/* shardcheck.c - every row of a shard slice checked before use
 * (pc_shardcheck.h). The metadata (types, lengths, index, dictionaries) is
 * checked when it is read (h5shard.c); this is the rest: the values.
 *
 * Owns the rules a stored row must keep, which are the rules ingest
 * enforced when it wrote the row (csv.c, spec §1) plus the order of
 * docs/format.md. Does not read files. No MPI, no HDF5.
 *
 * Why every row: a wrong id in events/channel once made inspect crash and
 * run write altered tables with exit 0. A check per value costs a few
 * comparisons next to the decompression that produced it: the events of a
 * bucket go through one tight loop that only says whether every rule
 * holds, and the rule-by-rule checks run again only to name a failure.
 */
#include "pc_shardcheck.h"
#include "pc_csv.h"
#include "pc_time.h"

/* Where a slice row lies in the file's datasets. */
typedef struct {
  const PcShardMeta *m;
  const PcShardData *s;
  GError **error;
} Ctx;

static gboolean bad(Ctx *c, const char *ds, uint64_t k, const char *fmt, ...)
    G_GNUC_PRINTF(4, 5);

static gboolean bad(Ctx *c, const char *ds, uint64_t k, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  g_autofree char *why = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  pc_set_error(c->error, PC_ERROR_FORMAT, "%s: dataset %s: element %" G_GUINT64_FORMAT " %s", c->m->path, ds, k, why);
  return FALSE;
}

/* The ids rows [r0, r0 + nr) of a slice (offsets off), filed under
 * bucket b, whose first is element k0 of DIR/id_len in the file. */
static gboolean check_ids(Ctx *c, const char *dir, const guint8 *bytes,
                          const uint64_t *off, uint64_t r0, uint64_t nr,
                          uint32_t b, uint64_t k0) {
  char lname[32], bname[32]; /* "customers/id_bytes", "crm/id_len" */
  g_snprintf(lname, sizeof lname, "%s/id_len", dir);
  g_snprintf(bname, sizeof bname, "%s/id_bytes", dir);
  for (uint64_t i = r0; i < r0 + nr; i++) {
    const char *id = (const char *)bytes + off[i];
    uint64_t len = off[i + 1] - off[i];
    if (len == 0) return bad(c, lname, k0 + i - r0, "is 0: an id has 1..255 bytes");
    if (!pc_csv_id_ok(id, len)) return bad(c, bname, off[i], "starts an id that is not a customer id of spec §1 (a control byte, ',' or '>')");
    if (pc_bucket_of(id, len, c->m->buckets) != b) return bad(c, bname, off[i], "starts an id that is not of bucket %u, where the index files it", b);
    if (i > r0 && pc_bytes_cmp((const char *)bytes + off[i - 1], off[i] - off[i - 1], id, len) >= 0)
      return bad(c, bname, off[i], "starts an id that repeats or comes before the previous one of bucket %u", b);
  }
  return TRUE;
}

static int cmp_pair(const void *a, const void *b) {
  const uint32_t *x = a, *y = b;
  if (x[0] != y[0]) return x[0] < y[0] ? -1 : 1;
  return x[1] < y[1] ? -1 : x[1] > y[1];
}

/* Event e (element k of the file) alone: ids, pair, timestamp, value. */
static gboolean check_event(Ctx *c, uint64_t e, uint64_t k) {
  const PcShardData *s = c->s;
  const PcShardMeta *m = c->m;
  uint32_t pair[2] = {s->ev_channel[e], s->ev_event[e]};
  if (pair[0] >= m->channels->n) return bad(c, "events/channel", k, "is %u, beyond the %u names of dict/channels", pair[0], m->channels->n);
  if (pair[1] >= m->events->n) return bad(c, "events/event", k, "is %u, beyond the %u names of dict/events", pair[1], m->events->n);
  if (!bsearch(pair, m->pairs, m->n_pairs, 2 * sizeof(uint32_t), cmp_pair))
    return bad(c, "events/event", k, "with events/channel forms the pair (%u, %u), which dict/pairs does not list", pair[0], pair[1]);
  if (s->ev_ts[e] < PC_TIME_US_MIN || s->ev_ts[e] > PC_TIME_US_MAX)
    return bad(c, "events/ts", k, "is %" G_GINT64_FORMAT ", outside the timestamps of spec §1 (years 0000..9999)", s->ev_ts[e]);
  if (s->ev_value[e] <= -PC_VALUE_LIMIT_MICROS || s->ev_value[e] >= PC_VALUE_LIMIT_MICROS)
    return bad(c, "events/value", k, "is %" G_GINT64_FORMAT " millionths, outside |value| < 9e12", s->ev_value[e]);
  return TRUE;
}

/* Event e after event e - 1 of the same customer: the journey key order. */
static gboolean in_order(const PcShardData *s, uint64_t e) {
  if (s->ev_ts[e - 1] != s->ev_ts[e]) return s->ev_ts[e - 1] < s->ev_ts[e];
  if (s->ev_event[e - 1] != s->ev_event[e]) return s->ev_event[e - 1] < s->ev_event[e];
  if (s->ev_channel[e - 1] != s->ev_channel[e]) return s->ev_channel[e - 1] < s->ev_channel[e];
  return s->ev_value[e - 1] <= s->ev_value[e];
}

/* The ne events of one bucket from slice event e0 (file element k0): each
 * customer of [c0, c0 + nc) has its events together, in order. */
static gboolean check_bucket_events(Ctx *c, uint64_t e0, uint64_t ne,
                                    uint64_t c0, uint64_t nc, uint64_t k0) {
  const PcShardData *s = c->s;
  for (uint64_t i = 0; i < ne; i++) {
    uint64_t e = e0 + i, cu = s->ev_customer[e];
    uint64_t prev = i ? s->ev_customer[e - 1] : c0;
    if (i == 0 && cu != c0)
      return bad(c, "events/customer", k0, "is not the first customer of its bucket, which then has no event");
    if (cu != prev && cu != prev + 1)
      return bad(c, "events/customer", k0 + i, "skips a customer or goes back: every customer of the bucket has events, grouped in customer order");
    if (!check_event(c, e, k0 + i)) return FALSE;
    if (i && cu == prev && !in_order(s, e))
      return bad(c, "events/ts", k0 + i, "breaks the journey order of its customer (timestamp, event, channel, value)");
  }
  if (ne && s->ev_customer[e0 + ne - 1] != c0 + nc - 1)
    return bad(c, "events/customer", k0 + ne - 1, "ends the bucket before its last customer, which then has no event");
  return TRUE;
}

/* The same rules as check_bucket_events, in one tight loop that only
 * answers whether they all hold (pair_ok: [channel * E + event] of the
 * pairs dict/pairs lists, or NULL for a binary search); a FALSE is
 * explained by check_bucket_events. The per-event binary search and the
 * per-rule calls cost as much as inflating the columns. */
static gboolean bucket_events_ok(const Ctx *c, const guint8 *pair_ok,
                                 uint64_t e0, uint64_t ne, uint64_t c0,
                                 uint64_t nc) {
  const PcShardData *s = c->s;
  uint32_t C = c->m->channels->n, E = c->m->events->n;
  if (!ne) return TRUE;
  if (s->ev_customer[e0] != c0 || s->ev_customer[e0 + ne - 1] != c0 + nc - 1) return FALSE;
  for (uint64_t e = e0; e < e0 + ne; e++) {
    uint32_t ch = s->ev_channel[e], ev = s->ev_event[e];
    if (ch >= C || ev >= E || !pair_ok || !pair_ok[(size_t)ch * E + ev]) return FALSE;
    if (s->ev_ts[e] < PC_TIME_US_MIN || s->ev_ts[e] > PC_TIME_US_MAX ||
        s->ev_value[e] <= -PC_VALUE_LIMIT_MICROS || s->ev_value[e] >= PC_VALUE_LIMIT_MICROS)
      return FALSE;
    if (e == e0) continue;
    uint32_t d = s->ev_customer[e] - s->ev_customer[e - 1];
    if (d > 1 || (d == 0 && !in_order(s, e))) return FALSE;
  }
  return TRUE;
}

/* [channel * E + event]: 1 for the pairs of dict/pairs; NULL when the
 * dictionaries are too large for a table (the binary search then). */
static guint8 *pair_table(const PcShardMeta *m) {
  size_t C = m->channels->n, E = m->events->n;
  if (C * E > ((size_t)1 << 24)) return NULL;
  guint8 *t = g_malloc0(C * E + 1);
  for (uint64_t i = 0; i < m->n_pairs; i++)
    if (m->pairs[2 * i] < C && m->pairs[2 * i + 1] < E) t[m->pairs[2 * i] * E + m->pairs[2 * i + 1]] = 1;
  return t;
}

static gboolean check_crm(Ctx *c, uint64_t r0, uint64_t nr, uint32_t b) {
  const PcShardData *s = c->s;
  uint64_t k0 = c->m->crm_start[b];
  if (!check_ids(c, "crm", s->crm_id_bytes, s->crm_id_offsets, r0, nr, b, k0)) return FALSE;
  for (uint64_t i = r0; i < r0 + nr; i++)
    if (s->crm_revenue[i] <= -PC_VALUE_LIMIT_MICROS || s->crm_revenue[i] >= PC_VALUE_LIMIT_MICROS)
      return bad(c, "crm/revenue", k0 + i - r0, "is %" G_GINT64_FORMAT " millionths, outside |revenue| < 9e12", s->crm_revenue[i]);
  return TRUE;
}

gboolean pc_shardcheck_slice(const PcShardMeta *m, const uint32_t *buckets,
                             size_t n, const PcShardData *s, GError **error) {
  Ctx c = {m, s, error};
  uint64_t e = 0, cu = 0, r = 0;
  g_autofree guint8 *pair_ok = pair_table(m);
  for (size_t i = 0; i < n; i++) {
    uint32_t b = buckets[i];
    uint64_t ne = m->bucket_events[b], nc = m->bucket_customers[b], nr = m->bucket_crm[b];
    if (!check_ids(&c, "customers", s->id_bytes, s->id_offsets, cu, nc, b, m->cust_start[b]) ||
        (!bucket_events_ok(&c, pair_ok, e, ne, cu, nc) && !check_bucket_events(&c, e, ne, cu, nc, m->ev_start[b])) ||
        !check_crm(&c, r, nr, b))
      return FALSE;
    e += ne;
    cu += nc;
    r += nr;
  }
  return TRUE;
}
