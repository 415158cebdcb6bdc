/* source.c - what a run reads, resolved (pc_source.h): shard metadata,
 * global name spaces, id maps, path tokens, target, and the job's names
 * checked against the store.
 *
 * Owns PcSource. Reads shard metadata through pc_h5io.h; no MPI.
 * Invariant: global ids are indices into bytewise-sorted dictionaries, so
 * every order of the spec on names is an order on ids.
 */
#include "pc_source.h"

void pc_source_free(PcSource *s) {
  if (!s) return;
  for (guint i = 0; i < s->n_shards; i++) {
    if (s->ch_map) g_free(s->ch_map[i]);
    if (s->ev_map) g_free(s->ev_map[i]);
  }
  g_free(s->ch_map);
  g_free(s->ev_map);
  pc_store_meta_free(s->store);
  pc_dict_free(s->names.channels);
  pc_dict_free(s->names.events);
  g_free(s->names.channel_kept);
  g_free(s->names.event_kept);
  pc_dict_free(s->names.segments);
  g_free(s->segment_keep);
  pc_dict_free(s->pair_tokens);
  g_free(s->pair_token);
  g_free(s->target.events);
  g_free(s);
}

static PcDict *union_dict(const PcSource *s, gboolean channels) {
  g_autoptr(GPtrArray) all = g_ptr_array_new();
  for (guint i = 0; i < s->n_shards; i++) {
    PcDict *d = channels ? s->meta[i]->channels : s->meta[i]->events;
    for (guint k = 0; k < d->n; k++) g_ptr_array_add(all, d->names[k]);
  }
  return pc_dict_new_sorted((char **)all->pdata, all->len);
}

static uint32_t *local_map(const PcDict *local, const PcDict *global) {
  uint32_t *m = g_new(uint32_t, local->n + 1);
  for (guint i = 0; i < local->n; i++)
    m[i] = (uint32_t)pc_dict_find(global, local->names[i]);
  return m;
}

/* Token ids of path.token = channel:event: the "c:e" strings of every pair
 * in any shard, sorted bytewise. */
static gboolean build_pair_tokens(PcSource *s, GError **error) {
  uint64_t C = s->names.channels->n, E = s->names.events->n;
  if (C * E > (UINT64_C(1) << 28)) {
    pc_set_error(error, PC_ERROR_INTERNAL, "%" G_GUINT64_FORMAT " channels x %" G_GUINT64_FORMAT " events is too many for path.token = channel:event", C, E);
    return FALSE;
  }
  g_autoptr(GPtrArray) strs = g_ptr_array_new_with_free_func(g_free);
  g_autofree guint8 *seen = g_malloc0(C * E + 1);
  for (guint i = 0; i < s->n_shards; i++)
    for (uint64_t p = 0; p < s->meta[i]->n_pairs; p++) {
      uint64_t c = s->ch_map[i][s->meta[i]->pairs[2 * p]];
      uint64_t e = s->ev_map[i][s->meta[i]->pairs[2 * p + 1]];
      if (seen[c * E + e]) continue;
      seen[c * E + e] = 1;
      g_ptr_array_add(strs, g_strdup_printf("%s:%s", s->names.channels->names[c], s->names.events->names[e]));
    }
  s->pair_tokens = pc_dict_new_sorted((char **)strs->pdata, strs->len);
  s->pair_token = g_new0(uint32_t, C * E + 1);
  for (uint64_t k = 0; k < C * E; k++)
    if (seen[k]) {
      g_autofree char *p = g_strdup_printf("%s:%s", s->names.channels->names[k / E], s->names.events->names[k % E]);
      s->pair_token[k] = (uint32_t)pc_dict_find(s->pair_tokens, p);
    }
  return TRUE;
}

static gboolean build_names(PcSource *s, const PcJobConfig *cfg,
                            GError **error) {
  s->names.channels = union_dict(s, TRUE);
  s->names.events = union_dict(s, FALSE);
  s->ch_map = g_new0(uint32_t *, s->n_shards + 1);
  s->ev_map = g_new0(uint32_t *, s->n_shards + 1);
  for (guint i = 0; i < s->n_shards; i++) {
    s->ch_map[i] = local_map(s->meta[i]->channels, s->names.channels);
    s->ev_map[i] = local_map(s->meta[i]->events, s->names.events);
  }
  s->maps = (PcJourneyMaps){.n_shards = s->n_shards, .ch_map = s->ch_map,
                            .ev_map = s->ev_map, .has_from = cfg->has_from,
                            .has_to = cfg->has_to, .from_us = cfg->from_us,
                            .to_us = cfg->to_us, .entry_event = -1};
  if (cfg->entry_event) s->maps.entry_event = pc_dict_find(s->names.events, cfg->entry_event);
  s->token_map = (PcTokenMap){cfg->token, NULL, s->names.events->n};
  if (cfg->token != PC_TOKEN_CHANNEL_EVENT) return TRUE;
  if (!build_pair_tokens(s, error)) return FALSE;
  s->token_map.pair_token = s->pair_token;
  return TRUE;
}

static gint cmp_u32(gconstpointer a, gconstpointer b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return x < y ? -1 : x > y;
}

static void build_target(PcSource *s, const PcJobConfig *cfg) {
  GArray *ids = g_array_new(FALSE, FALSE, sizeof(uint32_t));
  for (guint i = 0; i < cfg->n_target_events; i++) {
    gint64 id = pc_dict_find(s->names.events, cfg->target_events[i]);
    if (id >= 0) g_array_append_val(ids, (uint32_t){(uint32_t)id});
  }
  /* ascending for the binary search of pc_target_cut (ids are distinct) */
  g_array_sort(ids, cmp_u32);
  s->target.n = ids->len;
  s->target.events = (uint32_t *)g_array_free(ids, FALSE);
}

/* A target, funnel step, NPS, entry or return event or flow anchor that
 * names nothing in the store is almost always a typo in the job: say so
 * before reading any data. */
static gboolean check_name(const PcJobConfig *cfg, const PcDict *d,
                           const char *name, const char *where,
                           const char *what, GError **error) {
  if (pc_dict_find(d, name) >= 0) return TRUE;
  pc_set_error(error, PC_ERROR_CONFIG, "%s: %s: \"%s\" is not %s of the store %s (a typo?)", cfg->job_path, where, name, what, cfg->store);
  return FALSE;
}

static gboolean check_step(const PcSource *s, const PcJobConfig *cfg,
                           const PcFunnelConfig *fc, const char *st,
                           const char *where, GError **error) {
  const char *colon = strchr(st, ':');
  if (!fc->match_channel_event || !colon)
    return check_name(cfg, s->names.events, st, where, "an event", error);
  g_autofree char *ch = g_strndup(st, colon - st);
  return check_name(cfg, s->names.channels, ch, where, "a channel", error) &&
         check_name(cfg, s->names.events, colon + 1, where, "an event", error);
}

static gboolean check_job_names(const PcSource *s, const PcJobConfig *cfg,
                                GError **error) {
  const PcDict *ev = s->names.events;
  for (guint i = 0; i < cfg->n_target_events; i++)
    if (!check_name(cfg, ev, cfg->target_events[i], "[target] event", "an event", error)) return FALSE;
  if (cfg->nps_event && !check_name(cfg, ev, cfg->nps_event, "[kpi] nps_event", "an event", error)) return FALSE;
  if (cfg->entry_event && !check_name(cfg, ev, cfg->entry_event, "[scope] entry_event", "an event", error)) return FALSE;
  if (cfg->return_event && !check_name(cfg, ev, cfg->return_event, "[retention] return_event", "an event", error)) return FALSE;
  for (guint f = 0; f < cfg->n_funnels; f++) {
    const PcFunnelConfig *fc = &cfg->funnels[f];
    g_autofree char *where = g_strdup_printf("[funnel.%s] steps", fc->name);
    for (guint k = 0; k < fc->n_steps; k++)
      if (!check_step(s, cfg, fc, fc->steps[k], where, error)) return FALSE;
  }
  for (guint f = 0; f < cfg->n_flows; f++) {
    g_autofree char *where = g_strdup_printf("[flow.%s] anchor", cfg->flows[f].name);
    if (!check_name(cfg, ev, cfg->flows[f].anchor, where, "an event", error)) return FALSE;
  }
  return TRUE;
}

gboolean pc_source_open(GPtrArray *shard_paths, uint64_t buckets,
                        const PcJobConfig *cfg, PcSource **out,
                        GError **error) {
  g_autoptr(PcSource) s = g_new0(PcSource, 1);
  if (!pc_store_open_meta_paths(cfg->store, shard_paths, buckets, &s->store, error))
    return FALSE;
  s->n_shards = s->store->n;
  s->meta = s->store->meta;
  s->buckets = s->store->buckets;
  s->has_crm = s->store->has_crm;
  if (!build_names(s, cfg, error) || !check_job_names(s, cfg, error))
    return FALSE;
  build_target(s, cfg);
  *out = g_steal_pointer(&s);
  return TRUE;
}

const PcDict *pc_source_tokens(const PcSource *s, PcTokenMode mode) {
  if (mode == PC_TOKEN_EVENT) return s->names.events;
  if (mode == PC_TOKEN_CHANNEL) return s->names.channels;
  return s->pair_tokens;
}

gboolean pc_source_set_kept(PcSource *s, const uint64_t *ev_count,
                            const uint64_t *ch_count, const PcJobConfig *cfg,
                            GError **error) {
  guint E = s->names.events->n, C = s->names.channels->n;
  s->names.event_kept = g_new0(guint8, E + 1);
  s->names.channel_kept = g_new0(guint8, C + 1);
  for (guint k = 0; k < E; k++) s->names.event_kept[k] = ev_count[k] > 0;
  for (guint k = 0; k < C; k++) s->names.channel_kept[k] = ch_count[k] > 0;
  /* input.from and input.to, and the scope, may leave no target event */
  if (!s->target.n) return TRUE;
  for (guint i = 0; i < s->target.n; i++)
    if (s->names.event_kept[s->target.events[i]]) return TRUE;
  pc_set_error(error, PC_ERROR_CONFIG, "%s: [target] event: no target event occurs between input.from and input.to%s", cfg->job_path,
               cfg->scope_segments || cfg->entry_event ? " in the [scope] (segments, from the entry event on)" : "");
  return FALSE;
}

/* "a, b, c" of the first names of d, for a message. Caller g_free()s. */
static char *some_names(const PcDict *d) {
  GString *g = g_string_new(NULL);
  for (guint i = 0; i < d->n && i < 12; i++)
    g_string_append_printf(g, "%s%s", i ? ", " : "", d->names[i]);
  if (d->n > 12) g_string_append_printf(g, ", ... (%u in all)", d->n);
  return g_string_free(g, FALSE);
}

gboolean pc_source_set_segments(PcSource *s, PcDict *segments,
                                const PcJobConfig *cfg, GError **error) {
  s->names.segments = segments;
  gint64 unknown = pc_dict_find(segments, PC_SEGMENT_UNKNOWN);
  g_return_val_if_fail(unknown >= 0, FALSE);
  s->maps.segments = segments;
  s->maps.segment_unknown = (uint32_t)unknown;
  if (!cfg->scope_segments) return TRUE;
  s->segment_keep = g_new0(guint8, segments->n);
  s->maps.segment_keep = s->segment_keep;
  for (guint i = 0; i < cfg->n_scope_segments; i++) {
    gint64 id = pc_dict_find(segments, cfg->scope_segments[i]);
    if (id >= 0) {
      s->segment_keep[id] = 1;
      continue;
    }
    g_autofree char *list = some_names(segments);
    pc_set_error(error, PC_ERROR_CONFIG, "%s: [scope] segments: \"%s\" is not a segment of the store %s (a typo? its segments: %s)", cfg->job_path, cfg->scope_segments[i], cfg->store, list);
    return FALSE;
  }
  return TRUE;
}
