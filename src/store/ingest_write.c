/* ingest_write.c - the writing half of `parcours ingest` (pc_ingest.h,
 * state in ingest_int.h): the staging area and its free space, what a
 * signal removes, the merge of each rank's sorted rows into its shard
 * file, the commit, and the cleanup after a failure.
 *
 * Owns the order of a batch's writes: staging (and the runs' directory
 * tmp-bNNNNNN in it) before the first row is parsed; each rank's shard
 * merged from its sorted runs, chunk by chunk, then finished with the
 * batch record; the MANIFEST commit on rank 0 inside the signal lock.
 * Does not own the sort (shardsort.c), the shard file (h5stream.c) or the
 * store's files (store.c, storewriter.c). Reaches other ranks only through
 * pc_comm.h.
 *
 * Invariant: until the commit, everything this batch wrote is registered
 * with the signal watcher (a new store: STORE.tmp-PID; an append: each of
 * its files) and removed by pc_ingest_cleanup() on any failure; after it,
 * nothing is removed.
 */
#include "ingest_int.h"

#include "pc_fs.h"
#include "pc_progress.h"
#include "pc_runfile.h"
#include "pc_testhook.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <stdio.h>

#define SPILL_ROW_BYTES 48  /* a buffered event row (shardsort.c) */

static PcSignals *sig(const PcIngest *g) { return pc_comm_signals(g->comm); }

/* Names of the files of this batch in the staging directory: every rank's
 * shard, the batch record, the rejects file. */
static GPtrArray *batch_files(const PcIngest *g, gboolean shards_only) {
  GPtrArray *f = g_ptr_array_new_with_free_func(g_free);
  for (int r = 0; r < g->size; r++) g_ptr_array_add(f, pc_store_shard_name(g->batch, r));
  if (!shards_only) {
    g_ptr_array_add(f, pc_store_file_name(PC_STORE_FILE_BATCH_RECORD, g->batch));
    g_ptr_array_add(f, pc_store_file_name(PC_STORE_FILE_REJECTS, g->batch));
  }
  return f;
}

/* ---- 3. Staging ------------------------------------------------------------------ */

/* An append writes into the store itself: each of its files is registered. */
static void register_append(const PcIngest *g) {
  g_autoptr(GPtrArray) files = batch_files(g, FALSE);
  for (guint i = 0; i < files->len; i++) {
    g_autofree char *p = g_build_filename(g->staging, (char *)g_ptr_array_index(files, i), NULL);
    pc_signals_register(sig(g), p);
  }
  pc_signals_register(sig(g), g->spill);
}

/* Rank 0: about the inputs' size must be free where the runs and shards
 * go (rows beyond the sorters' memory are spilled once; shards take about
 * a fifth of the text), else the ingest would fail late. */
static gboolean check_space(const PcIngest *g, GError **error) {
  uint64_t text = 0; /* the inputs' text: a gzip file holds about GZIP_COST times its size */
  for (guint f = 0; f < g->paths->len; f++) text += g->sizes[2 * f] * (g->sizes[2 * f + 1] ? GZIP_COST : 1);
  /* a row of text is some 50 bytes, and 48 in the sort buffer */
  gboolean spills = text / 50 * SPILL_ROW_BYTES > (uint64_t)g->size * (g->sort_bytes / 2);
  uint64_t need = spills ? text : text / 4, have = pc_runfile_free_bytes(g->staging);
  if (need <= have) return TRUE;
  pc_set_error(error, PC_ERROR_IO, "%s: No space left on device: this ingest needs about %.1f MiB for its %sshards (about %s its inputs), the file system has %.1f MiB free; nothing was added", g->staging,
               need / 1048576.0, spills ? "sorted runs and " : "", spills ? "the size of" : "a quarter of", have / 1048576.0);
  return FALSE;
}

static gboolean stage_rank0(PcIngest *g, GError **error) {
  if (!pc_storewriter_stage(g->writer, error)) return FALSE;
  g->staging = g_strdup(pc_storewriter_staging(g->writer));
  g->spill = pc_store_file_path(g->staging, PC_STORE_FILE_RUNS, g->batch);
  if (g->o->append) register_append(g);
  else pc_signals_register(sig(g), g->staging);
  if (g_mkdir(g->spill, 0700) != 0) {
    pc_set_error(error, PC_ERROR_IO, "%s: %s", g->spill, g_strerror(errno));
    return FALSE;
  }
  return check_space(g, error);
}

gboolean pc_ingest_stage(PcIngest *g, GError **error) {
  pc_signals_phase(sig(g), "staging the batch");
  gboolean ok = g->rank != 0 || stage_rank0(g, error);
  if (!pc_comm_agree(g->comm, ok, error)) return FALSE;
  size_t len = g->rank == 0 ? strlen(g->staging) + 1 : 0;
  pc_comm_bcast_bytes(g->comm, (void **)&g->staging, &len);
  len = g->rank == 0 ? strlen(g->spill) + 1 : 0;
  pc_comm_bcast_bytes(g->comm, (void **)&g->spill, &len);
  pc_test_hook("ingest-staged");
  return TRUE;
}

/* ---- 5. The merge into the shard ------------------------------------------------- */

static gboolean sink_customer(void *ctx, uint32_t bucket, const char *id,
                              uint32_t id_len, const PcEvent *ev, size_t n,
                              GError **error) {
  return pc_h5io_writer_customer(((PcIngest *)ctx)->shard, bucket, id, id_len, ev, n, error);
}

static gboolean sink_crm(void *ctx, uint32_t bucket, const char *id,
                         uint32_t id_len, int64_t revenue, const char *seg,
                         uint32_t seg_len, GError **error) {
  return pc_h5io_writer_crm(((PcIngest *)ctx)->shard, bucket, id, id_len, revenue, seg, seg_len, error);
}

static void sink_duplicate(void *ctx, uint32_t file, uint64_t line,
                           const char *text, uint32_t len) {
  PcIngest *g = ctx;
  PcReject rj = pc_reject_make(file, line, PC_REJECT_DUPLICATE, text, len);
  g_array_append_val(g->rejects, rj);
}

static gboolean merge_shard(PcIngest *g, GError **error) {
  g_autoptr(PcDict) ch = NULL;
  g_autoptr(PcDict) ev = NULL;
  pc_shardsort_names(g->sort, &ch, &ev);
  g_autofree char *name = pc_store_shard_name(g->batch, g->rank);
  g_autofree char *path = g_build_filename(g->staging, name, NULL);
  PcShardSink sink = {g, sink_customer, sink_crm, sink_duplicate};
  return pc_h5io_writer_open(path, g->buckets, ch, ev, pc_shardsort_events(g->sort),
                             pc_shardsort_buckets_used(g->sort), &g->shard, error) &&
         pc_shardsort_merge(g->sort, &sink, error);
}

gboolean pc_ingest_write(PcIngest *g, GError **error) {
  g->t_phase[2] = pc_comm_wtime();
  pc_signals_phase(sig(g), "merging the sorted runs into the shards");
  gboolean ok = merge_shard(g, error);
  if (ok) pc_test_hook("ingest-merged");
  uint64_t mine = pc_shardsort_runs(g->sort);
  g->run_bytes = pc_shardsort_run_bytes(g->sort);
  g_clear_pointer(&g->sort, pc_shardsort_free); /* its runs leave the disk */
  if (!pc_comm_agree(g->comm, ok, error)) return FALSE;
  g_autofree uint64_t *all = g_new(uint64_t, g->size);
  pc_comm_allgather_u64(g->comm, mine, all);
  pc_comm_sum_u64(g->comm, &g->run_bytes, 1);
  g->runs[0] = UINT64_MAX, g->runs[1] = 0;
  for (int r = 0; r < g->size; r++) g->runs[0] = MIN(g->runs[0], all[r]), g->runs[1] = MAX(g->runs[1], all[r]);
  if (g->rank == 0) g_rmdir(g->spill); /* empty: the runs had no names */
  return TRUE;
}

/* ---- 7. Commit -------------------------------------------------------------------- */

/* Rank 0: the batch record file, then the MANIFEST (the commit point),
 * which a signal waits for. */
static gboolean commit(PcIngest *g, GPtrArray *files, GError **error) {
  g_autofree char *path = pc_store_file_path(g->staging, PC_STORE_FILE_BATCH_RECORD, g->batch);
  g_autoptr(GError) e = NULL;
  if (!g_file_set_contents(path, g->record, -1, &e)) {
    pc_set_error(error, PC_ERROR_IO, "%s: %s", path, e->message);
    return FALSE;
  }
  pc_signals_commit_begin(sig(g));
  gboolean ok = pc_storewriter_commit(g->writer, g->buckets, files, error);
  if (ok) pc_signals_commit_end(sig(g));
  else pc_signals_commit_abort(sig(g));
  return ok;
}

static void say_done(const PcIngest *g, uint64_t peak) {
  fprintf(stderr, "parcours: ingest: %s batch %u: %" G_GUINT64_FORMAT " events from %" G_GUINT64_FORMAT " data rows, %" G_GUINT64_FORMAT " rejected, %d shards, %.2f s\n", g->o->out, g->batch, g->totals[2], g->totals[0], g->totals[1], g->size, pc_comm_wtime() - g->t0);
  const double *t = g->t_phase;
  fprintf(stderr, "parcours: ingest: phases: hashing %.1f s, parsing and sorting %.1f s, merging into the shards and rejects %.1f s, finishing and commit %.1f s\n", t[1] - t[0], t[2] - t[1], t[3] - t[2], pc_comm_wtime() - t[3]);
  uint64_t m = g->o->memory ? g->o->memory : PC_INGEST_DEFAULT_MEMORY;
  fprintf(stderr, "parcours: ingest: memory: %.1f MiB per rank (--memory), sorted runs spilled: %" G_GUINT64_FORMAT " to %" G_GUINT64_FORMAT " a rank (%.1f MiB of events in all), peak RSS %.1f MiB (the largest rank)\n", m / 1048576.0, g->runs[0], g->runs[1], g->run_bytes / 1048576.0, peak / 1048576.0);
}

gboolean pc_ingest_commit(PcIngest *g, GError **error) {
  g->t_phase[3] = pc_comm_wtime();
  pc_signals_phase(sig(g), "finishing the shards");
  gboolean ok = pc_h5io_writer_finish(g->shard, g->record, error);
  if (ok) pc_test_hook("ingest-after-shards");
  if (!pc_comm_agree(g->comm, ok, error)) return FALSE;
  uint64_t peak = pc_peak_rss_bytes();
  pc_comm_max_u64(g->comm, &peak, 1);
  pc_signals_phase(sig(g), "committing the batch");
  if (g->rank == 0) {
    g_autoptr(GPtrArray) files = batch_files(g, TRUE);
    ok = commit(g, files, error);
    if (ok && !g->o->quiet) say_done(g, peak);
  }
  g->done = pc_comm_agree(g->comm, ok, error);
  return g->done;
}

void pc_ingest_cleanup(PcIngest *g) {
  if (g->rank != 0 || !g->staging) return;
  g_autoptr(GError) e = NULL;
  if (g->spill && !pc_fs_remove_tree(g->spill, &e)) fprintf(stderr, "parcours: warning: %s\n", e->message);
  if (g->keep_rejects) return; /* the message names the rejects file */
  g_autoptr(GPtrArray) files = batch_files(g, FALSE);
  pc_storewriter_abandon(g->writer, files);
}
