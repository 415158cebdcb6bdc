/* memory.c - the memory budget of a run on this rank, divided before
 * anything big is allocated (docs/jobs.md, run.memory_per_rank):
 *
 *   budget  run.memory_per_rank, else 3/4 of this node's memory shared by
 *           its ranks;
 *   fixed   the process itself (BASE_BYTES), the bucket index of every
 *           shard, the names, and what the modules declare
 *           (PcModule.memory: counter arrays, the model's rows);
 *   reserve a quarter of what `fixed` leaves: during the scan, one
 *           batch's read buffers (partition.batch_events is lowered to
 *           fit); at reduce, when the batches are gone, the working set of
 *           one table's reduce (a partition of a spilled table, the
 *           exchange buffers, a percentile store read back);
 *   tables  the other three quarters (run.table_memory overrides it): the
 *           pool of the tables that grow with distinct keys, every
 *           thread's, past which they spill (pc_spill.h).
 * Rank 0 also holds the output tables and builds results.h5 in memory at
 * write (docs/architecture.md, "Spilling", gives the bound).
 *
 * A job whose fixed part leaves less than MIN_WORK_BYTES is refused with the
 * parts named, instead of dying in malloc. Owns nothing. No MPI (reads Open
 * MPI's and Slurm's environment for the number of ranks on this node).
 */
#include "engine_int.h"

#include <unistd.h>

/* Bytes of one shard's metadata per bucket: three counts and five prefix
 * sums of uint64, as pc_h5io_read_meta keeps them. */
#define META_BYTES_PER_BUCKET 64
#define BASE_BYTES (UINT64_C(48) << 20)     /* MPI, HDF5, GLib, the binary */
#define MIN_WORK_BYTES (UINT64_C(32) << 20) /* scan + tables + reduce, at least */

/* Ranks sharing this node's memory (mpirun or srun tell; else 1). */
static uint64_t local_ranks(void) {
  const char *v = g_getenv("OMPI_COMM_WORLD_LOCAL_SIZE");
  if (!v) v = g_getenv("SLURM_NTASKS_PER_NODE");
  guint64 n = v ? g_ascii_strtoull(v, NULL, 10) : 1;
  return n ? n : 1;
}

/* The budget and whether the job set it (run.memory_per_rank). */
static uint64_t budget(const PcJobConfig *cfg, gboolean *set) {
  *set = cfg->memory_per_rank > 0;
  if (*set) return cfg->memory_per_rank;
  long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
  if (pages <= 0 || page <= 0) return UINT64_MAX / 2;
  return (uint64_t)pages * (uint64_t)page / local_ranks() / 4 * 3;
}

static gboolean refuse(const PcEngine *e, uint64_t need, uint64_t have,
                       gboolean set, const char *what, GError **error) {
  pc_set_error(error, PC_ERROR_MEMORY, "rank %d would need about %.1f MiB (%s), more than %s = %.1f MiB: use more ranks or nodes%s", e->rank, need / 1048576.0, what, set ? "run.memory_per_rank" : "this node's memory per rank", have / 1048576.0, set ? ", or raise run.memory_per_rank" : "");
  return FALSE;
}

gboolean pc_engine_check_metas(const PcEngine *e, uint64_t buckets,
                               guint shards, GError **error) {
  gboolean set;
  uint64_t have = budget(e->cfg, &set);
  uint64_t need = buckets * shards * META_BYTES_PER_BUCKET;
  if (need <= have) return TRUE;
  g_autofree char *what = g_strdup_printf("the bucket index of %u shards x %" G_GUINT64_FORMAT " buckets", shards, buckets);
  return refuse(e, need, have, set, what, error);
}

/* Names of the dictionaries, with their index entries. */
static uint64_t names_bytes(const PcSource *s) {
  uint64_t b = 0;
  const PcDict *d[3] = {s->names.channels, s->names.events, s->pair_tokens};
  for (int k = 0; k < 3; k++)
    for (guint i = 0; d[k] && i < d[k]->n; i++) b += strlen(d[k]->names[i]) + 24;
  return b * (1 + s->n_shards); /* the shards' own dictionaries too */
}

/* Read buffers of a batch of `batch` events of rank r: per event the
 * slice (28 bytes of columns) and the journey copy (24); per customer its
 * id and journey header (48). */
static uint64_t batch_bytes(const PcPlan *p, int r, uint64_t batch) {
  uint64_t ev = MAX(p->rank_events[r], 1), held = MIN(ev, batch);
  return held * 52 + p->rank_customers[r] * 48 * held / ev;
}

/* The fixed part of the run on this rank; *mods and *largest: the modules'. */
static uint64_t fixed_bytes(const PcEngine *e, uint64_t *mods, const char **largest) {
  *mods = pc_modset_memory(&e->env, e->threads, e->plan->rank_customers[e->rank], largest);
  return BASE_BYTES + e->src->n_shards * e->src->buckets * META_BYTES_PER_BUCKET +
         names_bytes(e->src) + *mods;
}

/* The largest batch (events, >= 1) whose buffers fit `bytes`, at most
 * partition.batch_events. */
static uint64_t batch_fitting(const PcEngine *e, uint64_t bytes) {
  uint64_t want = e->cfg->batch_events, per = MAX(batch_bytes(e->plan, e->rank, want) / MAX(want, 1), 1);
  return CLAMP(bytes / per, 1, want);
}

gboolean pc_engine_budget(PcEngine *e, GError **error) {
  gboolean set;
  uint64_t have = budget(e->cfg, &set), mods;
  const char *largest = NULL;
  uint64_t fixed = fixed_bytes(e, &mods, &largest);
  if (fixed + MIN_WORK_BYTES > have) {
    g_autofree char *what = g_strdup_printf("analyses %.1f MiB, the largest %s; reading and tables at least %.1f MiB; bucket index, names and the process %.1f MiB", mods / 1048576.0, largest ? largest : "-", MIN_WORK_BYTES / 1048576.0, (fixed - mods) / 1048576.0);
    return refuse(e, fixed + MIN_WORK_BYTES, have, set, what, error);
  }
  PcRunMemory *m = &e->mem;
  uint64_t work = have - fixed;
  m->budget = have;
  m->fixed = fixed;
  m->reduce = work / 4;
  m->batch_events = batch_fitting(e, m->reduce);
  m->scan = batch_bytes(e->plan, e->rank, m->batch_events);
  m->tables = e->cfg->table_memory ? e->cfg->table_memory : work - m->reduce;
  return TRUE;
}
