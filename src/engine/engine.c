/* engine.c - the run of a job (pc_engine.h): open, scan, reduce, write.
 *
 * Prolog: rank 0 reads the MANIFEST and broadcasts the shard list; every
 * rank resolves the source (source.c); the ranks agree on the segment
 * dictionary (each reads some shards' customers tables); rank 0 plans (plan.c) and broadcasts
 * the owner of every bucket. Main loop: a rank reads its buckets in batches
 * (hyperslab unions of each shard, pc_h5io.h), and OpenMP threads assemble
 * the journeys of one bucket at a time (journey.c) and hand each to every
 * module (modset.c). Epilog: threads merged, kept names agreed, every
 * module reduced in table order, tables built on rank 0, outputs written
 * (output.c). Collective calls go through pc_comm.h / PcCommOps only.
 */
#include "engine_int.h"
#include "pc_h5io.h"
#include "pc_journey.h"
#include "pc_store.h"
#include "pc_testhook.h"

#include <omp.h>
#include <stdio.h>

PcEngine *pc_engine_new(PcComm *comm, const PcJobConfig *cfg, gboolean quiet) {
  PcEngine *e = g_new0(PcEngine, 1);
  e->comm = comm;
  e->ops = pc_comm_ops(comm);
  e->rank = pc_comm_rank(comm);
  e->size = pc_comm_size(comm);
  e->cfg = cfg;
  e->quiet = quiet;
  e->threads = omp_get_max_threads();
  pc_timer_start(&e->t, PC_T_TOTAL);
  return e;
}

static void worker_clear(Worker *w) {
  g_free(w->ev_count);
  g_free(w->ch_count);
  if (w->ev) g_array_unref(w->ev);
  if (w->tok) g_array_unref(w->tok);
  if (w->ts) g_array_unref(w->ts);
}

void pc_engine_free(PcEngine *e) {
  if (!e) return;
  for (int i = 0; e->w && i < e->threads; i++) worker_clear(&e->w[i]);
  g_free(e->w);
  pc_modset_free(e->mods); /* before the spill: its tables hold run files */
  pc_spill_free(e->spill);
  pc_source_free(e->src);
  pc_plan_free(e->plan);
  pc_outdir_close(e->outdir);
  if (e->tables) g_ptr_array_unref(e->tables);
  g_free(e);
}

/* ---- open ---- */

/* Rank 0's MANIFEST, as the shard list every rank uses (readers of a store
 * being appended to must all see the same history) and its bucket count,
 * which every shard must have. Paths travel NUL-separated: a store path
 * may hold any byte but NUL. */
static gboolean shard_list(PcEngine *e, GPtrArray **out, uint64_t *buckets,
                           GError **error) {
  g_autoptr(PcStore) st = NULL;
  g_autoptr(GByteArray) list = g_byte_array_new();
  gboolean ok = TRUE;
  *buckets = 0;
  if (e->rank == 0 && (ok = pc_store_open(e->cfg->store, &st, error))) {
    *buckets = st->buckets;
    e->batches = st->batches;
    for (guint i = 0; i < st->shards->len; i++) {
      const char *p = g_ptr_array_index(st->shards, i);
      g_byte_array_append(list, (const guint8 *)p, strlen(p) + 1);
    }
  }
  if (!pc_comm_agree(e->comm, ok, error)) return FALSE;
  pc_comm_bcast_u64(e->comm, buckets, 1);
  void *buf = list->data;
  size_t len = list->len;
  pc_comm_bcast_bytes(e->comm, &buf, &len);
  *out = g_ptr_array_new_with_free_func(g_free);
  for (size_t at = 0; at < len; at += strlen((char *)buf + at) + 1)
    g_ptr_array_add(*out, g_strdup((char *)buf + at));
  if (e->rank != 0) g_free(buf);
  return TRUE;
}

static gboolean make_plan(PcEngine *e, GError **error) {
  uint64_t B = e->src->buckets;
  g_autofree uint64_t *ev = g_new0(uint64_t, B), *cu = g_new0(uint64_t, B);
  for (guint s = 0; s < e->src->n_shards; s++)
    for (uint64_t b = 0; b < B; b++) {
      ev[b] += e->src->meta[s]->bucket_events[b];
      cu[b] += e->src->meta[s]->bucket_customers[b];
    }
  /* every rank follows exactly rank 0's plan: its owner array is broadcast */
  e->plan = pc_plan_build(ev, cu, B, e->size, e->cfg->strategy, e->cfg->cost_alpha);
  void *own = e->plan->owner;
  size_t len = B * sizeof(uint32_t);
  pc_comm_bcast_bytes(e->comm, &own, &len);
  if (e->rank != 0) {
    g_free(e->plan->owner);
    e->plan->owner = own;
  }
  pc_progress(e->comm, e->quiet, "run: plan %s over %d ranks, %" G_GUINT64_FORMAT " buckets: imbalance %.3f (cost), %.3f (events)",
              pc_plan_strategy_name(e->cfg->strategy), e->size, B, e->plan->imbalance_cost, e->plan->imbalance_events);
  return TRUE;
}

/* The tables' pool and the spill directory of this rank, from the budget
 * (memory.c); a first check that the spill's file system can hold what
 * the run is expected to spill (ENOSPC later is still a clear error). */
static gboolean spill_new(PcEngine *e, GError **error) {
  PcSpillBudget b = {e->mem.tables, e->mem.reduce};
  const char *dir = e->cfg->spill_dir;
  if (dir && *dir && !g_file_test(dir, G_FILE_TEST_IS_DIR)) {
    pc_set_error(error, PC_ERROR_CONFIG, "%s: [run] spill_dir: %s is not a directory", e->cfg->job_path ? e->cfg->job_path : "job", dir);
    return FALSE;
  }
  e->spill = pc_spill_new(e->cfg->spill_dir, e->rank, b, pc_comm_signals(e->comm));
  e->env.spill = e->spill;
  /* the key tables' planning figure: 16 bytes an event (plan.c) */
  uint64_t expect = e->plan->rank_events[e->rank] * 16;
  return expect <= b.pool || pc_spill_check_space(e->spill, expect - b.pool, error);
}

static gboolean workers_new(PcEngine *e, GError **error) {
  e->env = (PcModuleEnv){e->cfg, &e->src->names,
                         pc_source_tokens(e->src, e->cfg->token),
                         &e->src->target, e->src->has_crm, e->ops, &e->facts,
                         NULL};
  if (!pc_engine_budget(e, error) || !spill_new(e, error)) return FALSE;
  if (!(e->mods = pc_modset_new(&e->env, e->threads, error))) return FALSE;
  e->w = g_new0(Worker, e->threads);
  for (int i = 0; i < e->threads; i++) {
    Worker *w = &e->w[i];
    w->ev_count = g_new0(uint64_t, e->src->names.events->n + 1);
    w->ch_count = g_new0(uint64_t, e->src->names.channels->n + 1);
    w->ev = g_array_new(FALSE, FALSE, sizeof(PcEvent));
    w->tok = g_array_new(FALSE, FALSE, sizeof(uint32_t));
    w->ts = g_array_new(FALSE, FALSE, sizeof(int64_t));
  }
  return TRUE;
}

/* NUL-terminated names of d appended to out. */
static void append_names(GByteArray *out, const PcDict *d) {
  for (guint i = 0; i < d->n; i++)
    g_byte_array_append(out, (const guint8 *)d->names[i], strlen(d->names[i]) + 1);
}

/* The NUL-terminated names of buf[0..len) and PC_SEGMENT_UNKNOWN, as a
 * sorted dictionary. */
static PcDict *names_dict(const char *buf, size_t len) {
  g_autoptr(GPtrArray) all = g_ptr_array_new();
  g_ptr_array_add(all, (char *)PC_SEGMENT_UNKNOWN);
  for (size_t at = 0; at < len; at += strlen(buf + at) + 1)
    g_ptr_array_add(all, (char *)buf + at);
  return pc_dict_new_sorted((char **)all->pdata, all->len);
}

/* The segment dictionary of the run (spec §12), the same on every rank:
 * rank r reads the customers tables of shards r, r + P, ...; rank 0 takes
 * the union and broadcasts it. Without a customers table: (unknown). */
static gboolean agree_segments(PcEngine *e, GError **error) {
  g_autoptr(GByteArray) mine = g_byte_array_new();
  g_autoptr(GByteArray) all = NULL;
  gboolean ok = TRUE;
  for (guint s = (guint)e->rank; ok && e->src->has_crm && s < e->src->n_shards; s += (guint)e->size) {
    g_autoptr(PcDict) d = NULL;
    if (!e->src->meta[s]->n_crm) continue;
    if ((ok = pc_h5io_read_segments(e->src->meta[s], &d, error))) append_names(mine, d);
  }
  if (!pc_comm_agree(e->comm, ok, error)) return FALSE;
  ok = e->ops->gather(e->ops->ctx, mine->data, mine->len, &all, error);
  if (!pc_comm_agree(e->comm, ok, error)) return FALSE;
  g_autoptr(GByteArray) list = g_byte_array_new();
  if (e->rank == 0) {
    g_autoptr(PcDict) u = names_dict((const char *)all->data, all->len);
    append_names(list, u);
  }
  void *buf = list->data;
  size_t len = list->len;
  pc_comm_bcast_bytes(e->comm, &buf, &len);
  PcDict *segs = names_dict(buf, len);
  if (e->rank != 0) g_free(buf);
  ok = pc_source_set_segments(e->src, segs, e->cfg, error);
  return pc_comm_agree(e->comm, ok, error);
}

gboolean pc_engine_open(PcEngine *e, GError **error) {
  pc_signals_phase(pc_comm_signals(e->comm), "opening the store and planning");
  pc_timer_start(&e->t, PC_T_PLAN);
  g_autoptr(GPtrArray) shards = NULL;
  uint64_t buckets;
  if (!shard_list(e, &shards, &buckets, error)) return FALSE;
  gboolean ok = pc_engine_check_metas(e, buckets, shards->len, error) &&
                pc_source_open(shards, buckets, e->cfg, &e->src, error);
  if (!pc_comm_agree(e->comm, ok, error)) return FALSE;
  if (!agree_segments(e, error)) return FALSE;
  ok = make_plan(e, error);
  if (!pc_comm_agree(e->comm, ok, error)) return FALSE;
  pc_timer_stop(&e->t, PC_T_PLAN);
  ok = workers_new(e, error);
  return pc_comm_agree(e->comm, ok, error);
}

/* ---- scan ---- */

typedef struct {
  PcEngine *e;
  int thread;
} Feed;

static void feed(const PcJourney *j, void *user) {
  Feed *f = user;
  PcEngine *e = f->e;
  Worker *w = &e->w[f->thread];
  for (size_t i = 0; i < j->n; i++) {
    w->ev_count[j->ev[i].event]++;
    w->ch_count[j->ev[i].channel]++;
  }
  PcJourneyView v;
  pc_journey_view(&v, j, &e->src->target, &e->src->token_map,
                  e->src->has_crm, w->tok, w->ts);
  pc_modset_add(e->mods, f->thread, &v);
}

static void build_batch(PcEngine *e, PcShardData **slices,
                        const uint32_t *b, size_t nb) {
  g_autoptr(PcBatch) batch = pc_batch_new(slices, &e->src->maps, b, nb);
#pragma omp parallel for schedule(dynamic, 1)
  for (size_t i = 0; i < nb; i++) {
    Feed f = {e, omp_get_thread_num()};
    pc_batch_journeys(batch, i, e->w[f.thread].ev, feed, &f);
  }
}

/* bufs[s]: shard s's buffers, kept from batch to batch. */
static gboolean read_batch(PcEngine *e, const uint32_t *b, size_t nb,
                           PcSliceBufs **bufs, PcShardData **slices,
                           GError **error) {
  for (guint s = 0; s < e->src->n_shards; s++)
    if (!pc_h5io_read_buckets_into(e->src->meta[s], b, nb, bufs[s], &slices[s],
                                   &e->bytes_read, error))
      return FALSE;
  return TRUE;
}

/* The end of the batch starting at mine[i]: at least one bucket, then
 * buckets while the batch holds fewer than batch_events events. */
static size_t batch_end(const PcEngine *e, const uint32_t *mine, size_t nb,
                        size_t i, uint64_t *events) {
  size_t j = i;
  *events = 0;
  while (j < nb && (j == i || *events < e->mem.batch_events)) {
    for (guint s = 0; s < e->src->n_shards; s++)
      *events += e->src->meta[s]->bucket_events[mine[j]];
    j++;
  }
  return j;
}

static void progress(PcEngine *e, uint64_t done, double t0, double *last) {
  double now = pc_comm_wtime();
  if (e->rank != 0 || e->quiet || now - *last <= 2) return;
  uint64_t total = e->plan->rank_events[e->rank];
  fprintf(stderr, "parcours: run: rank 0 read+built %.0f%% of its events (%.2fM events/s)\n", total ? 100.0 * done / total : 100.0, done / (now - t0) / 1e6);
  *last = now;
}

gboolean pc_engine_scan(PcEngine *e, GError **error) {
  pc_signals_phase(pc_comm_signals(e->comm), "reading the store and building journeys");
  size_t nb;
  g_autofree uint32_t *mine = pc_plan_buckets_of(e->plan, e->rank, &nb);
  guint S = e->src->n_shards;
  g_autofree PcShardData **slices = g_new0(PcShardData *, S + 1);
  g_autofree PcSliceBufs **bufs = g_new0(PcSliceBufs *, S + 1);
  for (guint s = 0; s < S; s++) bufs[s] = pc_h5io_slice_bufs_new();
  double t0 = pc_comm_wtime(), last = t0;
  gboolean ok = TRUE;
  for (size_t i = 0; i < nb && ok;) {
    uint64_t ev;
    size_t j = batch_end(e, mine, nb, i, &ev);
    pc_timer_start(&e->t, PC_T_READ);
    ok = read_batch(e, mine + i, j - i, bufs, slices, error);
    pc_timer_stop(&e->t, PC_T_READ);
    if (ok) {
      pc_timer_start(&e->t, PC_T_BUILD);
      build_batch(e, slices, mine + i, j - i);
      pc_timer_stop(&e->t, PC_T_BUILD);
      if (i == 0) pc_test_hook("run-batch");
    }
    for (guint s = 0; s < S; s++) {
      pc_h5io_slice_release(bufs[s], slices[s]);
      slices[s] = NULL;
    }
    if (ok) ok = pc_spill_check(e->spill, error); /* a spill failed: stop */
    e->my_events += ev;
    i = j;
    progress(e, e->my_events, t0, &last);
  }
  for (guint s = 0; s < S; s++) pc_h5io_slice_bufs_free(bufs[s]);
  return pc_comm_agree(e->comm, ok, error);
}

/* ---- reduce ---- */

/* Kept names: counts per global id summed over threads and ranks. */
static gboolean agree_kept(PcEngine *e, GError **error) {
  guint E = e->src->names.events->n, C = e->src->names.channels->n;
  Worker *w0 = &e->w[0];
  for (int i = 1; i < e->threads; i++) {
    for (guint k = 0; k < E; k++) w0->ev_count[k] += e->w[i].ev_count[k];
    for (guint k = 0; k < C; k++) w0->ch_count[k] += e->w[i].ch_count[k];
  }
  pc_comm_sum_u64(e->comm, w0->ev_count, E);
  pc_comm_sum_u64(e->comm, w0->ch_count, C);
  return pc_source_set_kept(e->src, w0->ev_count, w0->ch_count, e->cfg, error);
}

gboolean pc_engine_reduce(PcEngine *e, GError **error) {
  pc_signals_phase(pc_comm_signals(e->comm), "reducing the analyses across ranks");
  pc_timer_start(&e->t, PC_T_REDUCE);
  pc_modset_merge_threads(e->mods);
  if (!pc_comm_agree(e->comm, pc_spill_check(e->spill, error), error)) return FALSE;
  if (!agree_kept(e, error)) return FALSE; /* the same verdict on every rank */
  for (guint i = 0; i < pc_modset_count(e->mods); i++) {
    pc_progress(e->comm, e->quiet, "run: reduce %s", pc_modset_name(e->mods, i));
    /* spill I/O errors are sticky (pc_spill.h): checked once the module's
     * collective calls are over */
    gboolean ok = pc_modset_reduce_one(e->mods, i, error) &&
                  pc_spill_check(e->spill, error);
    if (!pc_comm_agree(e->comm, ok, error)) return FALSE;
  }
  gboolean ok = TRUE;
  if (e->rank == 0) {
    g_autoptr(PcOutputs) out = pc_outputs_new();
    ok = pc_modset_tables(e->mods, out, error);
    if (ok) e->tables = pc_outputs_finish(out);
  }
  pc_comm_quiet_barrier(e->comm); /* the others sleep while rank 0 builds tables */
  pc_timer_stop(&e->t, PC_T_REDUCE);
  return pc_comm_agree(e->comm, ok, error);
}

/* Rank 0 locks output.dir for the whole run and checks that it may be
 * written (pc_outdir.h): the check is repeated at commit. */
gboolean pc_engine_check_output(PcEngine *e, gboolean force, GError **error) {
  gboolean ok = TRUE;
  e->force = force;
  if (e->rank == 0)
    ok = pc_outdir_open(e->cfg->dir, e->cfg->store, force,
                        pc_comm_signals(e->comm), &e->outdir, error);
  return pc_comm_agree(e->comm, ok, error);
}

void pc_engine_set_report(PcEngine *e, PcReportFn fn) { e->report = fn; }
