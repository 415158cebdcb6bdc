/* shardbuild.c - PcShardBuilder: collects event rows and customers-table
 * rows in any order and produces a sorted PcShardData (pc_shard.h).
 *
 * Owns the interning of customer ids (open addressing on FNV-1a-64, bytes
 * compared on every hit, so two customers never merge on a hash collision)
 * and of channel/event names (first-seen ids, remapped to bytewise order at
 * the end). Invariant after finish: customers sorted by (bucket, id bytes),
 * events grouped by customer in that order and sorted by the journey key of
 * spec §2 (ts, event bytes, channel bytes, value), which makes the shard's
 * layout a function of its rows only, not of the order they arrived in.
 * Does not own where rows come from (ingest.c, generate.c) nor the file
 * (h5shard.c). No MPI, no HDF5.
 */
#include "pc_shard.h"

#include <stdlib.h>

typedef struct {
  GByteArray *bytes;   /* concatenated ids */
  GArray *offsets;     /* uint64, n + 1 */
  GArray *hashes;      /* uint64 */
  uint64_t *slots;     /* open addressing: index + 1, 0 = empty */
  uint64_t nslots;
} IdTable;

struct PcShardBuilder {
  uint64_t buckets;
  IdTable cust;
  GHashTable *channel_ids, *event_ids; /* name -> first-seen id + 1 */
  GPtrArray *channel_names, *event_names;
  GArray *ev_customer, *ev_ts, *ev_channel, *ev_event, *ev_value;
  /* last-name caches: consecutive rows mostly repeat names */
  uint32_t last_ch, last_ev;
  gboolean have_last;
  IdTable crm;
  GArray *crm_revenue;
  GByteArray *crm_seg;
  GArray *crm_seg_offsets;
};

static void idtab_init(IdTable *t) {
  t->bytes = g_byte_array_new();
  t->offsets = g_array_new(FALSE, FALSE, sizeof(uint64_t));
  uint64_t zero = 0;
  g_array_append_val(t->offsets, zero);
  t->hashes = g_array_new(FALSE, FALSE, sizeof(uint64_t));
  t->nslots = 1024;
  t->slots = g_new0(uint64_t, t->nslots);
}

static void idtab_clear(IdTable *t) {
  if (t->bytes) g_byte_array_unref(t->bytes);
  if (t->offsets) g_array_free(t->offsets, TRUE);
  if (t->hashes) g_array_free(t->hashes, TRUE);
  g_free(t->slots);
  memset(t, 0, sizeof *t);
}

static uint64_t idtab_n(const IdTable *t) { return t->hashes->len; }

static void idtab_grow(IdTable *t) {
  uint64_t n = t->nslots * 2;
  uint64_t *s = g_new0(uint64_t, n);
  const uint64_t *h = (const uint64_t *)t->hashes->data;
  for (uint64_t i = 0; i < idtab_n(t); i++) {
    uint64_t p = h[i] & (n - 1);
    while (s[p]) p = (p + 1) & (n - 1);
    s[p] = i + 1;
  }
  g_free(t->slots);
  t->slots = s;
  t->nslots = n;
}

/* Index of id, inserting it when new (*inserted = TRUE). */
static uint32_t idtab_intern(IdTable *t, const char *id, uint32_t len,
                             uint64_t h, gboolean *inserted) {
  const uint64_t *off = (const uint64_t *)t->offsets->data;
  uint64_t p = h & (t->nslots - 1);
  *inserted = FALSE;
  while (t->slots[p]) {
    uint64_t i = t->slots[p] - 1;
    if (g_array_index(t->hashes, uint64_t, i) == h &&
        off[i + 1] - off[i] == len &&
        memcmp(t->bytes->data + off[i], id, len) == 0)
      return (uint32_t)i;
    p = (p + 1) & (t->nslots - 1);
  }
  uint64_t i = idtab_n(t);
  g_byte_array_append(t->bytes, (const guint8 *)id, len);
  uint64_t end = t->bytes->len;
  g_array_append_val(t->offsets, end);
  g_array_append_val(t->hashes, h);
  t->slots[p] = i + 1;
  *inserted = TRUE;
  if (idtab_n(t) * 2 > t->nslots) idtab_grow(t);
  return (uint32_t)i;
}

PcShardBuilder *pc_shard_builder_new(uint64_t buckets) {
  PcShardBuilder *b = g_new0(PcShardBuilder, 1);
  b->buckets = buckets;
  idtab_init(&b->cust);
  idtab_init(&b->crm);
  b->channel_ids = g_hash_table_new(g_str_hash, g_str_equal);
  b->event_ids = g_hash_table_new(g_str_hash, g_str_equal);
  b->channel_names = g_ptr_array_new_with_free_func(g_free);
  b->event_names = g_ptr_array_new_with_free_func(g_free);
  b->ev_customer = g_array_new(FALSE, FALSE, sizeof(uint32_t));
  b->ev_ts = g_array_new(FALSE, FALSE, sizeof(int64_t));
  b->ev_channel = g_array_new(FALSE, FALSE, sizeof(uint32_t));
  b->ev_event = g_array_new(FALSE, FALSE, sizeof(uint32_t));
  b->ev_value = g_array_new(FALSE, FALSE, sizeof(int64_t));
  b->crm_revenue = g_array_new(FALSE, FALSE, sizeof(int64_t));
  b->crm_seg = g_byte_array_new();
  b->crm_seg_offsets = g_array_new(FALSE, FALSE, sizeof(uint64_t));
  uint64_t zero = 0;
  g_array_append_val(b->crm_seg_offsets, zero);
  return b;
}

void pc_shard_builder_free(PcShardBuilder *b) {
  if (!b) return;
  idtab_clear(&b->cust);
  idtab_clear(&b->crm);
  g_hash_table_destroy(b->channel_ids);
  g_hash_table_destroy(b->event_ids);
  g_ptr_array_unref(b->channel_names);
  g_ptr_array_unref(b->event_names);
  g_array_free(b->ev_customer, TRUE);
  g_array_free(b->ev_ts, TRUE);
  g_array_free(b->ev_channel, TRUE);
  g_array_free(b->ev_event, TRUE);
  g_array_free(b->ev_value, TRUE);
  g_array_free(b->crm_revenue, TRUE);
  g_byte_array_unref(b->crm_seg);
  g_array_free(b->crm_seg_offsets, TRUE);
  g_free(b);
}

/* First-seen id of a name; names is the id -> name list (owns strings). */
static uint32_t intern_name(GHashTable *ids, GPtrArray *names, const char *s,
                            uint32_t len) {
  char buf[PC_MAX_NAME_BYTES + 1];
  g_assert(len <= PC_MAX_NAME_BYTES);
  memcpy(buf, s, len);
  buf[len] = 0;
  gpointer v = g_hash_table_lookup(ids, buf);
  if (v) return GPOINTER_TO_UINT(v) - 1;
  char *copy = g_strdup(buf);
  g_ptr_array_add(names, copy);
  g_hash_table_insert(ids, copy, GUINT_TO_POINTER(names->len));
  return names->len - 1;
}

static gboolean name_is(GPtrArray *names, uint32_t id, const char *s,
                        uint32_t len) {
  const char *n = g_ptr_array_index(names, id);
  return strncmp(n, s, len) == 0 && n[len] == 0;
}

void pc_shard_builder_add_event(PcShardBuilder *b, const char *id,
                                uint32_t id_len, int64_t ts_us,
                                const char *channel, uint32_t channel_len,
                                const char *event, uint32_t event_len,
                                int64_t value) {
  gboolean ins;
  uint32_t c = idtab_intern(&b->cust, id, id_len, pc_fnv1a64(id, id_len), &ins);
  uint32_t ch, ev;
  if (b->have_last && name_is(b->channel_names, b->last_ch, channel, channel_len))
    ch = b->last_ch;
  else
    ch = intern_name(b->channel_ids, b->channel_names, channel, channel_len);
  if (b->have_last && name_is(b->event_names, b->last_ev, event, event_len))
    ev = b->last_ev;
  else
    ev = intern_name(b->event_ids, b->event_names, event, event_len);
  b->last_ch = ch;
  b->last_ev = ev;
  b->have_last = TRUE;
  g_array_append_val(b->ev_customer, c);
  g_array_append_val(b->ev_ts, ts_us);
  g_array_append_val(b->ev_channel, ch);
  g_array_append_val(b->ev_event, ev);
  g_array_append_val(b->ev_value, value);
}

gboolean pc_shard_builder_add_customer(PcShardBuilder *b, const char *id,
                                       uint32_t id_len, int64_t revenue,
                                       const char *seg, uint32_t seg_len) {
  gboolean ins;
  idtab_intern(&b->crm, id, id_len, pc_fnv1a64(id, id_len), &ins);
  if (!ins) return FALSE;
  g_array_append_val(b->crm_revenue, revenue);
  g_byte_array_append(b->crm_seg, (const guint8 *)seg, seg_len);
  uint64_t end = b->crm_seg->len;
  g_array_append_val(b->crm_seg_offsets, end);
  return TRUE;
}

uint64_t pc_shard_builder_events(const PcShardBuilder *b) {
  return b->ev_ts->len;
}

/* ---- finish: sorting ------------------------------------------------------- */

typedef struct {
  const guint8 *bytes;
  const uint64_t *off;
  const uint32_t *bucket;
} IdSortCtx;

static int cmp_ids(const void *pa, const void *pb, void *vctx) {
  const IdSortCtx *c = vctx;
  uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;
  if (c->bucket[a] != c->bucket[b]) return c->bucket[a] < c->bucket[b] ? -1 : 1;
  return pc_bytes_cmp(c->bytes + c->off[a], c->off[a + 1] - c->off[a],
                      c->bytes + c->off[b], c->off[b + 1] - c->off[b]);
}

/* Sorted order of an IdTable's entries by (bucket, bytes); fills bucket[]. */
static uint32_t *sorted_ids(const IdTable *t, uint64_t B, uint32_t **bucket_out) {
  uint64_t n = idtab_n(t);
  uint32_t *bucket = g_new(uint32_t, n ? n : 1);
  uint32_t *order = g_new(uint32_t, n ? n : 1);
  const uint64_t *h = (const uint64_t *)t->hashes->data;
  for (uint64_t i = 0; i < n; i++) {
    bucket[i] = (uint32_t)(h[i] % B);
    order[i] = (uint32_t)i;
  }
  IdSortCtx ctx = {t->bytes->data, (const uint64_t *)t->offsets->data, bucket};
  g_qsort_with_data(order, (gint)n, sizeof(uint32_t), cmp_ids, &ctx);
  *bucket_out = bucket;
  return order;
}

/* Copies ids in the given order into bytes/offsets arrays. */
static void copy_ids(const IdTable *t, const uint32_t *order, uint64_t n,
                     guint8 **bytes_out, uint64_t **off_out) {
  const uint64_t *off = (const uint64_t *)t->offsets->data;
  guint8 *bytes = g_malloc(t->bytes->len ? t->bytes->len : 1);
  uint64_t *o = g_new(uint64_t, n + 1);
  uint64_t w = 0;
  o[0] = 0;
  for (uint64_t k = 0; k < n; k++) {
    uint32_t i = order[k];
    uint64_t len = off[i + 1] - off[i];
    memcpy(bytes + w, t->bytes->data + off[i], len);
    w += len;
    o[k + 1] = w;
  }
  *bytes_out = bytes;
  *off_out = o;
}

/* old id -> new id after sorting the names bytewise. */
static uint32_t *sort_names(GPtrArray *names, PcDict **dict_out) {
  PcDict *d = pc_dict_new_sorted((char **)names->pdata, names->len);
  uint32_t *map = g_new(uint32_t, names->len ? names->len : 1);
  for (guint i = 0; i < names->len; i++)
    map[i] = (uint32_t)pc_dict_find(d, g_ptr_array_index(names, i));
  *dict_out = d;
  return map;
}

typedef struct {
  int64_t ts, value;
  uint32_t event, channel;
} Key;

static int cmp_key(const void *pa, const void *pb) {
  const Key *a = pa, *b = pb;
  if (a->ts != b->ts) return a->ts < b->ts ? -1 : 1;
  if (a->event != b->event) return a->event < b->event ? -1 : 1;
  if (a->channel != b->channel) return a->channel < b->channel ? -1 : 1;
  if (a->value != b->value) return a->value < b->value ? -1 : 1;
  return 0;
}

/* Events grouped by customer rank, each customer's sorted by the key. */
static void place_events(PcShardBuilder *b, PcShardData *s,
                         const uint32_t *rank, const uint32_t *chmap,
                         const uint32_t *evmap) {
  uint64_t n = b->ev_ts->len, nc = s->n_customers;
  uint64_t *start = g_new0(uint64_t, nc + 1);
  const uint32_t *cu = (const uint32_t *)b->ev_customer->data;
  for (uint64_t i = 0; i < n; i++) start[rank[cu[i]] + 1]++;
  for (uint64_t c = 0; c < nc; c++) start[c + 1] += start[c];
  Key *keys = g_new(Key, n ? n : 1);
  uint64_t *fill = g_memdup2(start, (nc + 1) * sizeof(uint64_t));
  for (uint64_t i = 0; i < n; i++) {
    uint64_t p = fill[rank[cu[i]]]++;
    keys[p].ts = g_array_index(b->ev_ts, int64_t, i);
    keys[p].value = g_array_index(b->ev_value, int64_t, i);
    keys[p].event = evmap[g_array_index(b->ev_event, uint32_t, i)];
    keys[p].channel = chmap[g_array_index(b->ev_channel, uint32_t, i)];
  }
  g_free(fill);
#pragma omp parallel for schedule(dynamic, 1024)
  for (uint64_t c = 0; c < nc; c++)
    qsort(keys + start[c], start[c + 1] - start[c], sizeof(Key), cmp_key);
  s->n_events = n;
  s->ev_customer = g_new(uint32_t, n ? n : 1);
  s->ev_ts = g_new(int64_t, n ? n : 1);
  s->ev_channel = g_new(uint32_t, n ? n : 1);
  s->ev_event = g_new(uint32_t, n ? n : 1);
  s->ev_value = g_new(int64_t, n ? n : 1);
  for (uint64_t c = 0; c < nc; c++)
    for (uint64_t p = start[c]; p < start[c + 1]; p++) {
      s->ev_customer[p] = (uint32_t)c;
      s->ev_ts[p] = keys[p].ts;
      s->ev_value[p] = keys[p].value;
      s->ev_event[p] = keys[p].event;
      s->ev_channel[p] = keys[p].channel;
    }
  g_free(keys);
  g_free(start);
}

/* Distinct (channel, event) pairs, sorted: a bitmap over C x E (names are
 * few: the dictionaries are bounded by the input's distinct names). */
static void collect_pairs(PcShardData *s) {
  uint64_t C = s->channels->n, E = s->events->n;
  uint64_t nbits = C * E;
  guint8 *bits = g_malloc0(nbits / 8 + 1);
  for (uint64_t i = 0; i < s->n_events; i++) {
    uint64_t k = (uint64_t)s->ev_channel[i] * E + s->ev_event[i];
    bits[k >> 3] |= (guint8)(1u << (k & 7));
  }
  uint64_t n = 0;
  for (uint64_t k = 0; k < nbits; k++) n += (bits[k >> 3] >> (k & 7)) & 1;
  s->n_pairs = n;
  s->pairs = g_new(uint32_t, 2 * (n ? n : 1));
  uint64_t w = 0;
  for (uint64_t k = 0; k < nbits; k++)
    if ((bits[k >> 3] >> (k & 7)) & 1) {
      s->pairs[2 * w] = (uint32_t)(k / E);
      s->pairs[2 * w + 1] = (uint32_t)(k % E);
      w++;
    }
  g_free(bits);
}

static void finish_crm(PcShardBuilder *b, PcShardData *s) {
  g_autofree uint32_t *bucket = NULL;
  uint64_t n = idtab_n(&b->crm);
  g_autofree uint32_t *order = sorted_ids(&b->crm, s->buckets, &bucket);
  s->n_crm = n;
  copy_ids(&b->crm, order, n, &s->crm_id_bytes, &s->crm_id_offsets);
  s->crm_revenue = g_new(int64_t, n ? n : 1);
  s->crm_seg_offsets = g_new(uint64_t, n + 1);
  s->crm_seg_bytes = g_malloc(b->crm_seg->len ? b->crm_seg->len : 1);
  s->bucket_crm = g_new0(uint64_t, s->buckets);
  const uint64_t *so = (const uint64_t *)b->crm_seg_offsets->data;
  uint64_t w = 0;
  s->crm_seg_offsets[0] = 0;
  for (uint64_t k = 0; k < n; k++) {
    uint32_t i = order[k];
    s->crm_revenue[k] = g_array_index(b->crm_revenue, int64_t, i);
    memcpy(s->crm_seg_bytes + w, b->crm_seg->data + so[i], so[i + 1] - so[i]);
    w += so[i + 1] - so[i];
    s->crm_seg_offsets[k + 1] = w;
    s->bucket_crm[bucket[i]]++;
  }
}

PcShardData *pc_shard_builder_finish(PcShardBuilder *b) {
  g_autoptr(PcShardBuilder) owned = b; /* consumed, whatever happens */
  g_autoptr(PcShardData) s = g_new0(PcShardData, 1);
  s->buckets = b->buckets;
  g_autofree uint32_t *chmap = sort_names(b->channel_names, &s->channels);
  g_autofree uint32_t *evmap = sort_names(b->event_names, &s->events);
  g_autofree uint32_t *bucket = NULL;
  uint64_t nc = idtab_n(&b->cust);
  g_autofree uint32_t *order = sorted_ids(&b->cust, b->buckets, &bucket);
  s->n_customers = nc;
  copy_ids(&b->cust, order, nc, &s->id_bytes, &s->id_offsets);
  g_autofree uint32_t *rank = g_new(uint32_t, nc ? nc : 1);
  for (uint64_t k = 0; k < nc; k++) rank[order[k]] = (uint32_t)k;
  place_events(b, s, rank, chmap, evmap);
  s->bucket_events = g_new0(uint64_t, s->buckets);
  s->bucket_customers = g_new0(uint64_t, s->buckets);
  for (uint64_t k = 0; k < nc; k++) s->bucket_customers[bucket[order[k]]]++;
  for (uint64_t i = 0; i < s->n_events; i++)
    s->bucket_events[bucket[order[s->ev_customer[i]]]]++;
  collect_pairs(s);
  finish_crm(b, s);
  return g_steal_pointer(&s);
}

void pc_shard_data_free(PcShardData *s) {
  if (!s) return;
  g_free(s->id_bytes);
  g_free(s->id_offsets);
  g_free(s->ev_customer);
  g_free(s->ev_ts);
  g_free(s->ev_channel);
  g_free(s->ev_event);
  g_free(s->ev_value);
  pc_dict_free(s->channels);
  pc_dict_free(s->events);
  g_free(s->pairs);
  g_free(s->bucket_events);
  g_free(s->bucket_customers);
  g_free(s->crm_id_bytes);
  g_free(s->crm_id_offsets);
  g_free(s->crm_revenue);
  g_free(s->crm_seg_bytes);
  g_free(s->crm_seg_offsets);
  g_free(s->bucket_crm);
  g_free(s);
}
