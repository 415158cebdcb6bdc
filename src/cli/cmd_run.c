/* run.c - `parcours run JOB.ini`: the product's main job.
 *
 * Prolog: every rank parses the job; rank 0 opens the store's MANIFEST,
 * plans the partition of customer buckets from the bucket index and
 * broadcasts it; every rank reads every shard's dictionaries and merges them
 * into global, bytewise-sorted name spaces (so ids compare like names).
 * Main loop: a rank reads its buckets in batches (hyperslab unions of each
 * shard), and OpenMP threads build the journeys of one bucket at a time
 * (customers in id order, events in journey-key order) and feed them to
 * thread-private accumulators. Epilog: accumulators are merged
 * (integers exactly, fixed point for floats), reduced across ranks, and
 * rank 0 writes results.h5, csv/ and run.json into a staging directory
 * that is renamed to output.dir only when everything is written.
 *
 * The only collective calls are through pc_comm.h / PcCommOps; the only
 * file format calls through pc_h5io.h.
 */
#include "pc_cmd.h"
#include "pc_config.h"
#include "pc_h5io.h"
#include "pc_model.h"
#include "pc_outcome.h"
#include "pc_paths.h"
#include "pc_plan.h"
#include "pc_run.h"
#include "pc_store.h"
#include "pc_timer.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

typedef struct {
  PcPaths *paths;
  PcPreceding *prec;
  PcOutcome *outcome;
  PcModelRows *model;
  uint64_t *ev_count, *ch_count; /* kept events per global id */
  GArray *ev, *tok, *ts, *pre;   /* scratch: PcEvent, uint32, int64, uint32 */
  GArray *ids;                   /* scratch: shard cursors */
} Worker;

typedef struct {
  PcComm *comm;
  const PcCommOps *ops;
  int rank, size;
  PcJobConfig *cfg;
  gboolean quiet, force;
  GPtrArray *shards;      /* paths */
  PcShardMeta **meta;
  guint n_shards;
  uint64_t buckets;
  PcNames names;
  uint32_t **ch_map, **ev_map;
  PcDict *tokens;         /* owned only in channel:event mode */
  uint32_t *pair_token;   /* channel:event: [ch * E + ev] */
  PcTarget target;
  PcPlan *plan;
  gboolean has_crm;
  int threads;
  Worker *w;
  PcTimers t;
  uint64_t bytes_read, my_events, my_customers;
  GPtrArray *tables;
  PcModelInfo model_info;
  uint64_t journeys;
  PcOutcomeSummary sum;
} Run;

/* ---- prolog ------------------------------------------------------------------ */

static gboolean check_output(Run *r, GError **error) {
  gboolean ok = TRUE;
  if (r->rank == 0 && g_file_test(r->cfg->dir, G_FILE_TEST_EXISTS) && !r->force) {
    pc_set_error(error, PC_ERROR_EXISTS, "output directory %s already exists (use --force to replace it atomically)", r->cfg->dir);
    ok = FALSE;
  }
  return pc_comm_agree(r->comm, ok, error);
}

static gboolean open_store(Run *r, GError **error) {
  g_autoptr(PcStore) st = NULL;
  g_autoptr(GString) list = g_string_new(NULL);
  gboolean ok = TRUE;
  if (r->rank == 0 && (ok = pc_store_open(r->cfg->store, &st, error)))
    for (guint i = 0; i < st->shards->len; i++)
      g_string_append_printf(list, "%s\n", (char *)g_ptr_array_index(st->shards, i));
  if (!pc_comm_agree(r->comm, ok, error)) return FALSE;
  void *buf = list->str;
  size_t len = list->len + 1;
  pc_comm_bcast_bytes(r->comm, &buf, &len);
  g_auto(GStrv) paths = g_strsplit(buf, "\n", -1);
  if (r->rank != 0) g_free(buf);
  r->shards = g_ptr_array_new_with_free_func(g_free);
  for (guint i = 0; paths[i] && *paths[i]; i++) g_ptr_array_add(r->shards, g_strdup(paths[i]));
  r->n_shards = r->shards->len;
  r->meta = g_new0(PcShardMeta *, r->n_shards);
  ok = TRUE;
  for (guint i = 0; i < r->n_shards && ok; i++) {
    ok = pc_h5io_read_meta(g_ptr_array_index(r->shards, i), &r->meta[i], error);
    if (ok && i && r->meta[i]->buckets != r->meta[0]->buckets) {
      pc_set_error(error, PC_ERROR_FORMAT, "%s: %" G_GUINT64_FORMAT " buckets, but %s has %" G_GUINT64_FORMAT, r->meta[i]->path, r->meta[i]->buckets, r->meta[0]->path, r->meta[0]->buckets);
      ok = FALSE;
    }
    if (ok) r->has_crm |= r->meta[i]->n_crm > 0;
  }
  if (!pc_comm_agree(r->comm, ok, error)) return FALSE;
  r->buckets = r->meta[0]->buckets;
  return TRUE;
}

static PcDict *union_dict(Run *r, gboolean channels) {
  g_autoptr(GPtrArray) all = g_ptr_array_new();
  for (guint s = 0; s < r->n_shards; s++) {
    PcDict *d = channels ? r->meta[s]->channels : r->meta[s]->events;
    for (guint i = 0; i < d->n; i++) g_ptr_array_add(all, d->names[i]);
  }
  return pc_dict_new_sorted((char **)all->pdata, all->len);
}

static uint32_t *local_map(const PcDict *local, const PcDict *global) {
  uint32_t *m = g_new(uint32_t, local->n + 1);
  for (guint i = 0; i < local->n; i++) m[i] = (uint32_t)pc_dict_find(global, local->names[i]);
  return m;
}

/* Token ids of path.token = channel:event: the "c:e" strings of every pair
 * in any shard, sorted bytewise. */
static gboolean build_pair_tokens(Run *r, GError **error) {
  uint64_t C = r->names.channels->n, E = r->names.events->n;
  if (C * E > (UINT64_C(1) << 28)) {
    pc_set_error(error, PC_ERROR_INTERNAL, "%" G_GUINT64_FORMAT " channels x %" G_GUINT64_FORMAT " events is too many for path.token = channel:event", C, E);
    return FALSE;
  }
  g_autoptr(GPtrArray) strs = g_ptr_array_new_with_free_func(g_free);
  guint8 *seen = g_malloc0(C * E + 1);
  for (guint s = 0; s < r->n_shards; s++)
    for (uint64_t p = 0; p < r->meta[s]->n_pairs; p++) {
      uint64_t c = r->ch_map[s][r->meta[s]->pairs[2 * p]], e = r->ev_map[s][r->meta[s]->pairs[2 * p + 1]];
      if (seen[c * E + e]) continue;
      seen[c * E + e] = 1;
      g_ptr_array_add(strs, g_strdup_printf("%s:%s", r->names.channels->names[c], r->names.events->names[e]));
    }
  r->tokens = pc_dict_new_sorted((char **)strs->pdata, strs->len);
  r->pair_token = g_new0(uint32_t, C * E + 1);
  for (uint64_t k = 0; k < C * E; k++)
    if (seen[k]) {
      g_autofree char *s = g_strdup_printf("%s:%s", r->names.channels->names[k / E], r->names.events->names[k % E]);
      r->pair_token[k] = (uint32_t)pc_dict_find(r->tokens, s);
    }
  g_free(seen);
  return TRUE;
}

static gboolean build_names(Run *r, GError **error) {
  r->names.channels = union_dict(r, TRUE);
  r->names.events = union_dict(r, FALSE);
  r->ch_map = g_new0(uint32_t *, r->n_shards);
  r->ev_map = g_new0(uint32_t *, r->n_shards);
  for (guint s = 0; s < r->n_shards; s++) {
    r->ch_map[s] = local_map(r->meta[s]->channels, r->names.channels);
    r->ev_map[s] = local_map(r->meta[s]->events, r->names.events);
  }
  if (r->cfg->token == PC_TOKEN_CHANNEL_EVENT) return build_pair_tokens(r, error);
  return TRUE;
}

static const PcDict *token_dict(const Run *r) {
  if (r->cfg->token == PC_TOKEN_EVENT) return r->names.events;
  if (r->cfg->token == PC_TOKEN_CHANNEL) return r->names.channels;
  return r->tokens;
}

static gint cmp_u32(gconstpointer a, gconstpointer b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return x < y ? -1 : x > y;
}

static void build_target(Run *r) {
  GArray *ids = g_array_new(FALSE, FALSE, sizeof(uint32_t));
  for (guint i = 0; i < r->cfg->n_target_events; i++) {
    gint64 id = pc_dict_find(r->names.events, r->cfg->target_events[i]);
    if (id >= 0) g_array_append_val(ids, (uint32_t){(uint32_t)id});
  }
  /* ascending for the binary search of pc_target_cut (ids are distinct) */
  g_array_sort(ids, cmp_u32);
  r->target.n = ids->len;
  r->target.events = (uint32_t *)g_array_free(ids, FALSE);
}

/* A target, funnel step or NPS event that names nothing in the store is
 * almost always a typo in the job: say so before reading any data. */
static gboolean check_name(Run *r, const PcDict *d, const char *name,
                           const char *where, const char *what,
                           GError **error) {
  if (pc_dict_find(d, name) >= 0) return TRUE;
  pc_set_error(error, PC_ERROR_CONFIG, "%s: %s: \"%s\" is not %s of the store %s (a typo?)", r->cfg->job_path, where, name, what, r->cfg->store);
  return FALSE;
}

static gboolean check_job_names(Run *r, GError **error) {
  for (guint i = 0; i < r->cfg->n_target_events; i++)
    if (!check_name(r, r->names.events, r->cfg->target_events[i], "[target] event", "an event", error)) return FALSE;
  if (r->cfg->nps_event && !check_name(r, r->names.events, r->cfg->nps_event, "[kpi] nps_event", "an event", error)) return FALSE;
  for (guint f = 0; f < r->cfg->n_funnels; f++) {
    const PcFunnelConfig *fc = &r->cfg->funnels[f];
    g_autofree char *where = g_strdup_printf("[funnel.%s] steps", fc->name);
    for (guint k = 0; k < fc->n_steps; k++) {
      const char *st = fc->steps[k], *colon = strchr(st, ':');
      if (!fc->match_channel_event || !colon) {
        if (!check_name(r, r->names.events, st, where, "an event", error)) return FALSE;
        continue;
      }
      g_autofree char *ch = g_strndup(st, colon - st);
      if (!check_name(r, r->names.channels, ch, where, "a channel", error) ||
          !check_name(r, r->names.events, colon + 1, where, "an event", error))
        return FALSE;
    }
  }
  return TRUE;
}

/* After the read: the target must occur among the kept events (input.from
 * and input.to may leave none). */
static gboolean check_target_kept(Run *r, GError **error) {
  if (!r->target.n) return TRUE;
  for (guint i = 0; i < r->target.n; i++)
    if (r->names.event_kept[r->target.events[i]]) return TRUE;
  pc_set_error(error, PC_ERROR_CONFIG, "%s: [target] event: no target event occurs between input.from and input.to", r->cfg->job_path);
  return FALSE;
}

static gboolean make_plan(Run *r, GError **error) {
  uint64_t B = r->buckets;
  g_autofree uint64_t *ev = g_new0(uint64_t, B), *cu = g_new0(uint64_t, B);
  for (guint s = 0; s < r->n_shards; s++)
    for (uint64_t b = 0; b < B; b++) {
      ev[b] += r->meta[s]->bucket_events[b];
      cu[b] += r->meta[s]->bucket_customers[b];
    }
  /* rank 0 plans; the owner array is broadcast so that every rank follows
   * exactly rank 0's plan */
  r->plan = pc_plan_build(ev, cu, B, r->size, r->cfg->strategy, r->cfg->cost_alpha);
  void *own = r->plan->owner;
  size_t len = B * sizeof(uint32_t);
  pc_comm_bcast_bytes(r->comm, &own, &len);
  if (r->rank != 0) {
    g_free(r->plan->owner);
    r->plan->owner = own;
  }
  pc_progress(r->comm, r->quiet, "run: plan %s over %d ranks, %" G_GUINT64_FORMAT " buckets: imbalance %.3f (cost), %.3f (events)",
              pc_plan_strategy_name(r->cfg->strategy), r->size, B, r->plan->imbalance_cost, r->plan->imbalance_events);
  gboolean ok = TRUE;
  if (r->cfg->memory_per_rank) {
    uint64_t need = pc_plan_memory_estimate(r->plan, r->rank, r->cfg->batch_events);
    if (need > r->cfg->memory_per_rank) {
      pc_set_error(error, PC_ERROR_MEMORY, "the plan needs about %.1f MiB on rank %d, more than run.memory_per_rank = %.1f MiB: use more ranks (or a smaller partition.batch_events)", need / 1048576.0, r->rank, r->cfg->memory_per_rank / 1048576.0);
      ok = FALSE;
    }
  }
  return pc_comm_agree(r->comm, ok, error);
}

/* ---- workers ------------------------------------------------------------------- */

static gboolean workers_new(Run *r, GError **error) {
  r->threads = omp_get_max_threads();
  r->w = g_new0(Worker, r->threads);
  for (int i = 0; i < r->threads; i++) {
    Worker *w = &r->w[i];
    w->paths = pc_paths_new(r->cfg);
    if (r->target.n || r->cfg->n_target_events) w->prec = pc_preceding_new(r->cfg->lookback, r->cfg->top_k);
    w->outcome = pc_outcome_new(r->cfg, &r->names, &r->target, error);
    if (!w->outcome) return FALSE;
    if (r->cfg->n_target_events && r->cfg->model) w->model = pc_model_rows_new(&r->names, &r->target);
    w->ev_count = g_new0(uint64_t, r->names.events->n + 1);
    w->ch_count = g_new0(uint64_t, r->names.channels->n + 1);
    w->ev = g_array_new(FALSE, FALSE, sizeof(PcEvent));
    w->tok = g_array_new(FALSE, FALSE, sizeof(uint32_t));
    w->ts = g_array_new(FALSE, FALSE, sizeof(int64_t));
    w->pre = g_array_new(FALSE, FALSE, sizeof(uint32_t));
    w->ids = g_array_new(FALSE, FALSE, sizeof(uint64_t));
  }
  return TRUE;
}

static void worker_clear(Worker *w) {
  pc_paths_free(w->paths);
  pc_preceding_free(w->prec);
  pc_outcome_free(w->outcome);
  pc_model_rows_free(w->model);
  g_free(w->ev_count);
  g_free(w->ch_count);
  g_array_free(w->ev, TRUE);
  g_array_free(w->tok, TRUE);
  g_array_free(w->ts, TRUE);
  g_array_free(w->pre, TRUE);
  g_array_free(w->ids, TRUE);
}

/* ---- journeys of one bucket ------------------------------------------------------- */

typedef struct {
  const PcShardData *d;
  uint64_t cu, cu_end;  /* customer cursor in the slice */
  uint64_t ev, ev_end;  /* event cursor */
  uint64_t crm, crm_end;
  guint shard;
} Cursor;

static const char *cur_id(const Cursor *c, uint32_t *len) {
  *len = (uint32_t)(c->d->id_offsets[c->cu + 1] - c->d->id_offsets[c->cu]);
  return (const char *)c->d->id_bytes + c->d->id_offsets[c->cu];
}

static void feed(Run *r, Worker *w, PcJourney *j) {
  size_t cut;
  gboolean y = pc_target_cut(&r->target, j, &cut);
  g_array_set_size(w->tok, j->n);
  g_array_set_size(w->ts, j->n);
  uint32_t *tok = (uint32_t *)w->tok->data;
  int64_t *ts = (int64_t *)w->ts->data;
  uint64_t E = r->names.events->n;
  for (size_t i = 0; i < j->n; i++) {
    const PcEvent *e = &j->ev[i];
    tok[i] = r->cfg->token == PC_TOKEN_EVENT ? e->event
             : r->cfg->token == PC_TOKEN_CHANNEL ? e->channel
                                                 : r->pair_token[e->channel * E + e->event];
    ts[i] = e->ts_us;
    w->ev_count[e->event]++;
    w->ch_count[e->channel]++;
  }
  pc_paths_add(w->paths, tok, ts, j->n, y);
  if (w->prec && y) {
    g_array_set_size(w->pre, cut);
    for (size_t i = 0; i < cut; i++) g_array_index(w->pre, uint32_t, i) = j->ev[i].event;
    pc_preceding_add(w->prec, (const uint32_t *)w->pre->data, cut);
  }
  pc_outcome_add(w->outcome, j, y, cut, r->has_crm);
  if (w->model) pc_model_rows_add(w->model, j, y, cut);
}

/* Appends the kept events of the cursor's current customer, mapped to
 * global ids, and advances the event cursor. Shard order = key order. */
static void take_events(Run *r, Worker *w, Cursor *c) {
  const PcShardData *d = c->d;
  const uint32_t *chm = r->ch_map[c->shard], *evm = r->ev_map[c->shard];
  const PcJobConfig *cfg = r->cfg;
  while (c->ev < c->ev_end && d->ev_customer[c->ev] == c->cu) {
    int64_t ts = d->ev_ts[c->ev];
    if ((!cfg->has_from || ts >= cfg->from_us) && (!cfg->has_to || ts < cfg->to_us)) {
      PcEvent e = {ts, d->ev_value[c->ev], evm[d->ev_event[c->ev]], chm[d->ev_channel[c->ev]]};
      g_array_append_val(w->ev, e);
    }
    c->ev++;
  }
}

/* Revenue from the customers table rows of the cursors (later shards of the
 * manifest win: a later batch updates a customer's revenue). */
static gboolean lookup_revenue(Cursor *cs, guint n, const char *id,
                               uint32_t len, int64_t *rev) {
  gboolean found = FALSE;
  for (guint s = 0; s < n; s++) {
    Cursor *c = &cs[s];
    const PcShardData *d = c->d;
    while (c->crm < c->crm_end) {
      const uint64_t *o = d->crm_id_offsets;
      int cmp = pc_bytes_cmp(d->crm_id_bytes + o[c->crm], o[c->crm + 1] - o[c->crm], id, len);
      if (cmp > 0) break;
      if (cmp == 0) {
        *rev = d->crm_revenue[c->crm];
        found = TRUE;
        break;
      }
      c->crm++;
    }
  }
  return found;
}

static int cmp_event(const void *a, const void *b) { return pc_event_cmp(a, b); }

static void process_bucket(Run *r, Worker *w, Cursor *cs, guint n) {
  for (;;) {
    /* the smallest customer id among the shards */
    const char *id = NULL;
    uint32_t len = 0;
    for (guint s = 0; s < n; s++) {
      if (cs[s].cu >= cs[s].cu_end) continue;
      uint32_t l;
      const char *x = cur_id(&cs[s], &l);
      if (!id || pc_bytes_cmp(x, l, id, len) < 0) {
        id = x;
        len = l;
      }
    }
    if (!id) return;
    g_array_set_size(w->ev, 0);
    guint parts = 0;
    for (guint s = 0; s < n; s++) {
      uint32_t l;
      if (cs[s].cu >= cs[s].cu_end) continue;
      const char *x = cur_id(&cs[s], &l);
      if (pc_bytes_cmp(x, l, id, len) != 0) continue;
      take_events(r, w, &cs[s]);
      parts++;
    }
    if (parts > 1) qsort(w->ev->data, w->ev->len, sizeof(PcEvent), cmp_event);
    PcJourney j = {id, len, pc_fnv1a64(id, len), (const PcEvent *)w->ev->data, w->ev->len, 0, FALSE};
    j.has_revenue = lookup_revenue(cs, n, id, len, &j.revenue);
    if (j.n) feed(r, w, &j);
    for (guint s = 0; s < n; s++) {
      uint32_t l;
      if (cs[s].cu >= cs[s].cu_end) continue;
      const char *x = cur_id(&cs[s], &l);
      if (x == id || pc_bytes_cmp(x, l, id, len) == 0) cs[s].cu++;
    }
  }
}

/* ---- main loop ------------------------------------------------------------------- */

static gboolean read_batch(Run *r, const uint32_t *b, size_t nb,
                           PcShardData **slices, GError **error) {
  for (guint s = 0; s < r->n_shards; s++)
    if (!pc_h5io_read_buckets(r->meta[s], b, nb, &slices[s], &r->bytes_read, error)) return FALSE;
  return TRUE;
}

static void build_batch(Run *r, const uint32_t *b, size_t nb,
                        PcShardData **slices) {
  guint S = r->n_shards;
  /* per (bucket, shard) offsets inside the slices */
  g_autofree Cursor *cur = g_new0(Cursor, nb * S + 1);
  for (guint s = 0; s < S; s++) {
    uint64_t cu = 0, ev = 0, crm = 0;
    for (size_t i = 0; i < nb; i++) {
      const PcShardData *d = slices[s];
      Cursor *c = &cur[i * S + s];
      *c = (Cursor){d, cu, cu + d->bucket_customers[b[i]], ev, ev + d->bucket_events[b[i]], crm, crm + d->bucket_crm[b[i]], s};
      cu = c->cu_end;
      ev = c->ev_end;
      crm = c->crm_end;
    }
  }
#pragma omp parallel for schedule(dynamic, 1)
  for (size_t i = 0; i < nb; i++) process_bucket(r, &r->w[omp_get_thread_num()], &cur[i * S], S);
}

static gboolean main_loop(Run *r, GError **error) {
  size_t nb;
  g_autofree uint32_t *mine = pc_plan_buckets_of(r->plan, r->rank, &nb);
  g_autofree PcShardData **slices = g_new0(PcShardData *, r->n_shards);
  uint64_t done = 0, total = r->plan->rank_events[r->rank];
  double t0 = pc_comm_wtime(), last = t0;
  gboolean ok = TRUE;
  for (size_t i = 0; i < nb && ok;) {
    size_t j = i;
    uint64_t ev = 0;
    while (j < nb && (j == i || ev < r->cfg->batch_events)) {
      for (guint s = 0; s < r->n_shards; s++) ev += r->meta[s]->bucket_events[mine[j]];
      j++;
    }
    pc_timer_start(&r->t, PC_T_READ);
    ok = read_batch(r, mine + i, j - i, slices, error);
    pc_timer_stop(&r->t, PC_T_READ);
    if (ok) {
      pc_timer_start(&r->t, PC_T_BUILD);
      build_batch(r, mine + i, j - i, slices);
      pc_timer_stop(&r->t, PC_T_BUILD);
    }
    for (guint s = 0; s < r->n_shards; s++) g_clear_pointer(&slices[s], pc_shard_data_free);
    done += ev;
    i = j;
    double now = pc_comm_wtime();
    if (r->rank == 0 && !r->quiet && now - last > 2) {
      fprintf(stderr, "parcours: run: rank 0 read+built %.0f%% of its events (%.2fM events/s)\n", total ? 100.0 * done / total : 100.0, done / (now - t0) / 1e6);
      last = now;
    }
  }
  r->my_events = done;
  return pc_comm_agree(r->comm, ok, error);
}

/* ---- epilog: merge and reduce --------------------------------------------------- */

static void merge_workers(Run *r) {
  Worker *w0 = &r->w[0];
  for (int i = 1; i < r->threads; i++) {
    Worker *w = &r->w[i];
    pc_paths_merge(w0->paths, w->paths);
    if (w0->prec) pc_preceding_merge(w0->prec, w->prec);
    pc_outcome_merge(w0->outcome, w->outcome);
    if (w0->model) pc_model_rows_append(w0->model, w->model);
    for (guint k = 0; k < r->names.events->n; k++) w0->ev_count[k] += w->ev_count[k];
    for (guint k = 0; k < r->names.channels->n; k++) w0->ch_count[k] += w->ch_count[k];
  }
}

static void kept_names(Run *r) {
  guint E = r->names.events->n, C = r->names.channels->n;
  pc_comm_sum_u64(r->comm, r->w[0].ev_count, E);
  pc_comm_sum_u64(r->comm, r->w[0].ch_count, C);
  r->names.event_kept = g_new0(guint8, E + 1);
  r->names.channel_kept = g_new0(guint8, C + 1);
  for (guint k = 0; k < E; k++) r->names.event_kept[k] = r->w[0].ev_count[k] > 0;
  for (guint k = 0; k < C; k++) r->names.channel_kept[k] = r->w[0].ch_count[k] > 0;
}

static gboolean reduce_all(Run *r, GError **error) {
  Worker *w = &r->w[0];
  merge_workers(r);
  kept_names(r);
  if (!check_target_kept(r, error)) return FALSE; /* same verdict on every rank */
  pc_timer_start(&r->t, PC_T_REDUCE_PATHS);
  gboolean ok = pc_paths_reduce(w->paths, r->ops, token_dict(r), r->tables, &r->journeys, error);
  pc_timer_stop(&r->t, PC_T_REDUCE_PATHS);
  if (!pc_comm_agree(r->comm, ok, error)) return FALSE;
  pc_timer_start(&r->t, PC_T_REDUCE_OUTCOMES);
  size_t len;
  int64_t *state = pc_outcome_state(w->outcome, &len);
  r->ops->sum_i64(r->ops->ctx, state, len, error);
  ok = TRUE;
  g_autoptr(GPtrArray) otables = g_ptr_array_new();
  if (r->rank == 0) ok = pc_outcome_tables(w->outcome, &r->names, otables, &r->sum, error);
  if (!pc_comm_agree(r->comm, ok, error)) return FALSE;
  uint64_t y = r->sum.customers_with_outcome;
  pc_comm_bcast_u64(r->comm, &y, 1);
  if (w->prec) {
    ok = pc_preceding_reduce(w->prec, r->ops, r->names.events, y, r->tables, error);
    if (!pc_comm_agree(r->comm, ok, error)) return FALSE;
  }
  for (guint i = 0; i < otables->len; i++) g_ptr_array_add(r->tables, g_ptr_array_index(otables, i));
  pc_timer_stop(&r->t, PC_T_REDUCE_OUTCOMES);
  if (w->model) {
    pc_timer_start(&r->t, PC_T_MODEL);
    pc_progress(r->comm, r->quiet, "run: fitting the outcome model");
    ok = pc_model_fit(w->model, r->cfg, &r->names, &r->target, r->ops, r->tables, &r->model_info, error);
    pc_timer_stop(&r->t, PC_T_MODEL);
    if (!pc_comm_agree(r->comm, ok, error)) return FALSE;
  }
  return TRUE;
}

/* ---- outputs ------------------------------------------------------------------- */

static PcTable *summary_table(Run *r) {
  const char *cols[] = {"key:string", "value:int"};
  PcTable *t = pc_table_new("summary", cols, 2);
  struct { const char *k; uint64_t v; } rows[] = {
      {"customers", r->sum.customers}, {"events", r->sum.events}, {"journeys", r->journeys},
      {"customers_with_outcome", r->sum.customers_with_outcome},
      {"customers_without_revenue", r->sum.customers_without_revenue},
      {"nps_invalid", r->sum.nps_invalid}};
  for (guint i = 0; i < G_N_ELEMENTS(rows); i++) {
    if (i == 5 && !r->cfg->nps_event) break;
    pc_table_add_row(t);
    pc_table_set_string(t, 0, rows[i].k);
    pc_table_set_int(t, 1, (int64_t)rows[i].v);
  }
  return t;
}

/* Tables in the fixed order of spec §10 (results.h5 group order). */
static void order_tables(Run *r) {
  static const char *order[] = {"summary", "variants", "ngrams", "transitions", "prefix_tree",
                                "preceding_paths", "preceding_tokens", "funnels", "drivers",
                                "channel_drivers", "channels", "nps", "attribution", "model",
                                "model_summary", "roc", "scores", "at_risk"};
  GPtrArray *sorted = g_ptr_array_new_with_free_func((GDestroyNotify)pc_table_free);
  for (guint k = 0; k < G_N_ELEMENTS(order); k++)
    for (guint i = 0; i < r->tables->len; i++) {
      PcTable *t = g_ptr_array_index(r->tables, i);
      if (t && !strcmp(pc_table_name(t), order[k])) {
        g_ptr_array_add(sorted, t);
        r->tables->pdata[i] = NULL;
      }
    }
  for (guint i = 0; i < r->tables->len; i++)
    if (r->tables->pdata[i]) g_ptr_array_add(sorted, r->tables->pdata[i]);
  g_ptr_array_set_free_func(r->tables, NULL);
  g_ptr_array_unref(r->tables);
  r->tables = sorted;
}

static gboolean write_csvs(Run *r, const char *dir, GError **error) {
  g_autofree char *csv = g_build_filename(dir, "csv", NULL);
  if (g_mkdir_with_parents(csv, 0755) != 0) {
    pc_set_error(error, PC_ERROR_IO, "%s: %s", csv, g_strerror(errno));
    return FALSE;
  }
  for (guint i = 0; i < r->tables->len; i++) {
    PcTable *t = g_ptr_array_index(r->tables, i);
    g_autofree char *name = g_strdup_printf("%s.csv", pc_table_name(t));
    g_autofree char *path = g_build_filename(csv, name, NULL);
    if (!pc_table_write_csv(t, path, error)) return FALSE;
  }
  return TRUE;
}

/* fmt: "%.6f" for seconds, "%.6e" for gradient norms (far below 1e-6) */
static void json_array_d(GString *s, const char *key, const double *v, int n,
                         const char *fmt) {
  g_string_append_printf(s, "\"%s\":[", key);
  for (int i = 0; i < n; i++) {
    if (i) g_string_append_c(s, ',');
    g_string_append_printf(s, fmt, v[i]);
  }
  g_string_append(s, "]");
}
static void json_array_u(GString *s, const char *key, const uint64_t *v, int n) {
  g_string_append_printf(s, "\"%s\":[", key);
  for (int i = 0; i < n; i++) g_string_append_printf(s, "%s%" G_GUINT64_FORMAT, i ? "," : "", v[i]);
  g_string_append(s, "]");
}

/* Collective: per-rank figures gathered everywhere; rank 0 gets the text. */
static char *run_json(Run *r, double *phase_all, uint64_t *ev_all,
                      uint64_t *bytes_all, uint64_t *sent_all,
                      uint64_t *rss_all) {
  int P = r->size;
  GString *s = g_string_new("{\n");
  g_autofree char *job = pc_config_to_json(r->cfg);
  g_string_append_printf(s, "\"job\":%s,\n", job);
  g_autofree char *store = g_strescape(r->cfg->store, NULL);
  g_string_append_printf(s, "\"input\":{\"store\":\"%s\",\"shards\":%u,\"buckets\":%" G_GUINT64_FORMAT "},\n", store, r->n_shards, r->buckets);
  g_string_append_printf(s, "\"ranks\":%d,\"threads\":%d,\n", P, r->threads);
  g_string_append_printf(s, "\"plan\":{\"strategy\":\"%s\",\"alpha\":%g,\"buckets\":%" G_GUINT64_FORMAT ",\"imbalance_cost\":%.6f,\"imbalance_events\":%.6f,",
                         pc_plan_strategy_name(r->plan->strategy), r->plan->alpha, r->buckets, r->plan->imbalance_cost, r->plan->imbalance_events);
  json_array_u(s, "rank_events", r->plan->rank_events, P);
  g_string_append(s, ",");
  json_array_u(s, "rank_customers", r->plan->rank_customers, P);
  g_string_append(s, ",");
  json_array_u(s, "rank_buckets", r->plan->rank_buckets, P);
  g_string_append(s, "},\n\"phases\":{");
  for (int k = 0; k < PC_T_N; k++) {
    double mx = 0;
    for (int q = 0; q < P; q++) mx = MAX(mx, phase_all[q * PC_T_N + k]);
    g_string_append_printf(s, "%s\"%s\":%.6f", k ? "," : "", pc_timer_name(k), mx);
  }
  g_string_append(s, "},\n\"phases_per_rank\":{");
  for (int k = 0; k < PC_T_N; k++) {
    g_autofree double *v = g_new(double, P);
    for (int q = 0; q < P; q++) v[q] = phase_all[q * PC_T_N + k];
    if (k) g_string_append(s, ",");
    json_array_d(s, pc_timer_name(k), v, P, "%.6f");
  }
  g_string_append(s, "},\n");
  double wall = 0;
  uint64_t tot = 0;
  for (int q = 0; q < P; q++) {
    wall = MAX(wall, phase_all[q * PC_T_N + PC_T_TOTAL]);
    tot += ev_all[q];
  }
  g_string_append_printf(s, "\"wall_s\":%.6f,\"events\":%" G_GUINT64_FORMAT ",\"events_per_s\":%.1f,\n", wall, tot, wall > 0 ? tot / wall : 0);
  json_array_u(s, "events_per_rank", ev_all, P);
  g_string_append(s, ",\n");
  json_array_u(s, "bytes_read_per_rank", bytes_all, P);
  g_string_append(s, ",\n");
  json_array_u(s, "bytes_exchanged_per_rank", sent_all, P);
  g_string_append(s, ",\n");
  json_array_u(s, "peak_rss_bytes", rss_all, P);
  g_string_append(s, ",\n\"model\":");
  if (r->model_info.grad_norms) {
    g_string_append_printf(s, "{\"iterations\":%u,\"grad_norm\":%.6e,", r->model_info.iterations, r->model_info.grad_norm);
    json_array_d(s, "grad_norms", r->model_info.grad_norms, (int)r->model_info.iterations + 1, "%.6e");
    g_string_append(s, "}");
  } else {
    g_string_append(s, "null");
  }
  g_string_append(s, "\n}\n");
  return g_string_free(s, FALSE);
}

static gboolean commit_output(const char *dir, const char *staging,
                              GError **error) {
  g_autofree char *old = g_strdup_printf("%s.old-%d", dir, (int)getpid());
  gboolean had = g_file_test(dir, G_FILE_TEST_EXISTS);
  if (had && rename(dir, old) != 0) {
    pc_set_error(error, PC_ERROR_IO, "cannot move the old %s aside: %s", dir, g_strerror(errno));
    return FALSE;
  }
  if (rename(staging, dir) != 0) {
    int err = errno;
    if (had) rename(old, dir);
    pc_set_error(error, PC_ERROR_IO, "cannot rename %s to %s: %s", staging, dir, g_strerror(err));
    return FALSE;
  }
  if (had) {
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", old);
    if (system(cmd) != 0) fprintf(stderr, "parcours: warning: could not remove %s\n", old);
  }
  return TRUE;
}

static void remove_tree(const char *dir) {
  g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", dir);
  if (system(cmd) != 0) fprintf(stderr, "parcours: warning: could not remove %s\n", dir);
}

/* report.html from the tables and the job only: a run.json without timings
 * is in place while the report is drawn (the full one replaces it), so the
 * page is the same bytes for any P, threads and strategy. */
static gboolean write_report(Run *r, const char *staging, GError **error) {
  g_autofree char *job = pc_config_to_json(r->cfg);
  g_autofree char *store = g_strescape(r->cfg->store, NULL);
  g_autofree char *json = g_strdup_printf("{\"job\":%s,\"input\":{\"store\":\"%s\",\"shards\":%u,\"buckets\":%" G_GUINT64_FORMAT "}}\n", job, store, r->n_shards, r->buckets);
  g_autofree char *path = g_build_filename(staging, "run.json", NULL);
  if (!g_file_set_contents(path, json, -1, NULL)) {
    pc_set_error(error, PC_ERROR_IO, "%s: cannot write", path);
    return FALSE;
  }
  return pc_run_report(staging, r->quiet, error);
}

static gboolean write_outputs(Run *r, GError **error) {
  pc_timer_start(&r->t, PC_T_WRITE);
  gboolean ok = TRUE;
  g_autofree char *staging = g_strdup_printf("%s.tmp-%d", r->cfg->dir, (int)getpid());
  if (r->rank == 0) {
    g_ptr_array_insert(r->tables, 0, summary_table(r));
    order_tables(r);
    ok = g_mkdir_with_parents(staging, 0755) == 0;
    if (!ok) pc_set_error(error, PC_ERROR_IO, "%s: %s", staging, g_strerror(errno));
    g_autofree char *h5 = g_build_filename(staging, "results.h5", NULL);
    ok = ok && write_csvs(r, staging, error) && pc_h5io_write_results(h5, r->tables, error);
    if (ok && r->cfg->report) ok = write_report(r, staging, error);
    if (!ok && g_file_test(staging, G_FILE_TEST_EXISTS)) remove_tree(staging);
  }
  pc_timer_stop(&r->t, PC_T_WRITE);
  pc_timer_stop(&r->t, PC_T_TOTAL);
  int P = r->size;
  g_autofree double *ph = g_new(double, (size_t)P * PC_T_N);
  for (int k = 0; k < PC_T_N; k++) {
    g_autofree double *v = g_new(double, P);
    pc_comm_allgather_double(r->comm, r->t.acc[k], v);
    for (int q = 0; q < P; q++) ph[q * PC_T_N + k] = v[q];
  }
  g_autofree uint64_t *ev = g_new(uint64_t, P), *by = g_new(uint64_t, P), *rss = g_new(uint64_t, P), *sent = g_new(uint64_t, P);
  pc_comm_allgather_u64(r->comm, pc_comm_bytes_sent(r->comm), sent);
  pc_comm_allgather_u64(r->comm, r->my_events, ev);
  pc_comm_allgather_u64(r->comm, r->bytes_read, by);
  pc_comm_allgather_u64(r->comm, pc_peak_rss_bytes(), rss);
  if (r->rank == 0 && ok) {
    g_autofree char *json = run_json(r, ph, ev, by, sent, rss);
    g_autofree char *path = g_build_filename(staging, "run.json", NULL);
    GError *e = NULL;
    ok = g_file_set_contents(path, json, -1, &e);
    if (!ok) {
      pc_set_error(error, PC_ERROR_IO, "%s", e->message);
      g_error_free(e);
    }
    ok = ok && commit_output(r->cfg->dir, staging, error);
    if (!ok) remove_tree(staging);
    if (ok && !r->quiet) {
      double wall = 0;
      uint64_t tot = 0;
      for (int q = 0; q < P; q++) {
        wall = MAX(wall, ph[q * PC_T_N + PC_T_TOTAL]);
        tot += ev[q];
      }
      fprintf(stderr, "parcours: run: %" G_GUINT64_FORMAT " events, %" G_GUINT64_FORMAT " customers in %.2f s (%.2fM events/s) -> %s\n", tot, r->sum.customers, wall, wall > 0 ? tot / wall / 1e6 : 0, r->cfg->dir);
    }
  }
  return pc_comm_agree(r->comm, ok, error);
}

/* ---- the command ----------------------------------------------------------------- */

static void run_clear(Run *r) {
  for (int i = 0; r->w && i < r->threads; i++) worker_clear(&r->w[i]);
  g_free(r->w);
  for (guint s = 0; s < r->n_shards; s++) {
    pc_shard_meta_free(r->meta[s]);
    g_free(r->ch_map ? r->ch_map[s] : NULL);
    g_free(r->ev_map ? r->ev_map[s] : NULL);
  }
  g_free(r->meta);
  g_free(r->ch_map);
  g_free(r->ev_map);
  if (r->shards) g_ptr_array_unref(r->shards);
  pc_dict_free(r->names.channels);
  pc_dict_free(r->names.events);
  g_free(r->names.channel_kept);
  g_free(r->names.event_kept);
  pc_dict_free(r->tokens);
  g_free(r->pair_token);
  g_free(r->target.events);
  pc_plan_free(r->plan);
  if (r->tables) g_ptr_array_unref(r->tables);
  pc_model_info_clear(&r->model_info);
  pc_config_free(r->cfg);
}

static gboolean run(Run *r, GError **error) {
  pc_timer_start(&r->t, PC_T_TOTAL);
  pc_timer_start(&r->t, PC_T_PLAN);
  if (!check_output(r, error) || !open_store(r, error)) return FALSE;
  gboolean ok = build_names(r, error) && check_job_names(r, error);
  if (!pc_comm_agree(r->comm, ok, error)) return FALSE;
  build_target(r);
  if (!make_plan(r, error)) return FALSE;
  pc_timer_stop(&r->t, PC_T_PLAN);
  ok = workers_new(r, error);
  if (!pc_comm_agree(r->comm, ok, error)) return FALSE;
  r->tables = g_ptr_array_new_with_free_func((GDestroyNotify)pc_table_free);
  return main_loop(r, error) && reduce_all(r, error) && write_outputs(r, error);
}

int pc_cmd_run(PcComm *c, int argc, char **argv) {
  g_auto(GStrv) sets = NULL;
  gboolean quiet = FALSE, force = FALSE;
  GOptionEntry entries[] = {
      {"set", 's', 0, G_OPTION_ARG_STRING_ARRAY, &sets, "Override a job-file setting (repeatable), e.g. --set partition.strategy=hash --set funnel.offer.window=86400", "GROUP.KEY=VALUE"},
      {"quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "No progress lines on stderr (errors are still printed)", NULL},
      {"force", 'f', 0, G_OPTION_ARG_NONE, &force, "Replace an existing output directory (atomically: the old one stays until the new one is complete)", NULL},
      {NULL, 0, 0, 0, NULL, NULL, NULL}};
  int status;
  if (!pc_cmd_parse(c, "run", "JOB.ini",
                    "Runs a job file (docs/jobs.md): reads the store's buckets planned for this rank, builds journeys with\n"
                    "OpenMP threads, computes the path tables, outcome analytics and model of the spec, and writes\n"
                    "output.dir/{results.h5,csv/,run.json,report.html} atomically.",
                    "Every output except run.json is byte-identical for any number of ranks, threads and partition strategy.",
                    entries, &argc, &argv, &status))
    return status;
  if (argc != 2) {
    if (pc_comm_rank(c) == 0) fprintf(stderr, "parcours run: exactly one JOB.ini is required (see --help)\n");
    return 2;
  }
  g_autoptr(GError) e = NULL;
  Run r = {0};
  r.comm = c;
  r.ops = pc_comm_ops(c);
  r.rank = pc_comm_rank(c);
  r.size = pc_comm_size(c);
  r.quiet = quiet;
  r.force = force;
  gboolean ok = pc_config_load(argv[1], sets, &r.cfg, &e);
  int rc = 0;
  if (!pc_comm_agree(c, ok, &e) || !run(&r, &e)) {
    pc_cmd_fail(c, "run", e);
    rc = 1;
  }
  run_clear(&r);
  return rc;
}
