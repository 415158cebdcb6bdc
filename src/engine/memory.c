/* memory.c - how much memory a run will need on this rank, estimated from
 * the MANIFEST, the plan, the names and the modules' declarations before
 * anything big is allocated, and checked against a budget: run.memory_per_rank
 * when set, else this node's physical memory shared by its ranks. A job that
 * cannot fit is refused with the parts named, instead of dying in malloc.
 *
 * Owns nothing. No MPI (reads Open MPI's and Slurm's environment for the
 * number of ranks on this node).
 */
#include "engine_int.h"

#include <unistd.h>

/* Bytes of one shard's metadata per bucket: three counts and five prefix
 * sums of uint64, as pc_h5io_read_meta keeps them. */
#define META_BYTES_PER_BUCKET 64

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
  if (pages <= 0 || page <= 0) return UINT64_MAX;
  return (uint64_t)pages * (uint64_t)page / local_ranks();
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

gboolean pc_engine_check_run(const PcEngine *e, GError **error) {
  gboolean set;
  uint64_t have = budget(e->cfg, &set);
  uint64_t customers = e->plan->rank_customers[e->rank];
  const char *largest = NULL;
  uint64_t mods = pc_modset_memory(&e->env, e->threads, customers, &largest);
  uint64_t fixed = e->src->n_shards * e->src->buckets * META_BYTES_PER_BUCKET +
                   names_bytes(e->src) + mods;
  /* what grows with the rank's events is an explicit budget's business */
  uint64_t scan = set ? pc_plan_memory_estimate(e->plan, e->rank, e->cfg->batch_events, e->src->n_shards) : 0;
  if (fixed + scan <= have) return TRUE;
  g_autofree char *what = g_strdup_printf("analyses %.1f MiB, the largest %s; reading %.1f MiB; bucket index and names %.1f MiB", mods / 1048576.0, largest ? largest : "-", scan / 1048576.0, (fixed - mods) / 1048576.0);
  return refuse(e, fixed + scan, have, set, what, error);
}
