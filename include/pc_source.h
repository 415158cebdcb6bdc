/* pc_source.h - what a run reads, resolved: the store's shard metadata
 * (dictionaries and bucket index), the run's global name spaces (the
 * bytewise-sorted union of the shard dictionaries, so ids compare like
 * names), the shard-to-global id maps, the path-token dictionary, the
 * target, and the job's names checked against the store.
 *
 * Every rank builds the same PcSource from the same shard list (rank 0 reads
 * the MANIFEST; the engine broadcasts the list). Reads through the HDF5
 * layer (pc_h5io.h); no MPI here.
 */
#ifndef PC_SOURCE_H
#define PC_SOURCE_H

#include "pc_config.h"
#include "pc_h5io.h"
#include "pc_journey.h"
#include "pc_store.h"

typedef struct {
  PcStoreMeta *store;       /* the shards' metadata (pc_store.h) */
  guint n_shards;           /* = store->n */
  PcShardMeta **meta;       /* = store->meta, [n_shards] */
  uint64_t buckets;         /* B, the same in every shard */
  gboolean has_crm;         /* some shard has a customers table */
  PcNames names;            /* kept flags: pc_source_set_kept() */
  uint32_t **ch_map, **ev_map; /* [shard][local id] -> global id */
  PcDict *pair_tokens;      /* path.token = channel:event only */
  uint32_t *pair_token;     /* channel:event: [channel * E + event] */
  PcTarget target;          /* target.event ids present in the store */
  guint8 *segment_keep;     /* [segment id] of scope.segments, or NULL */
  PcJourneyMaps maps;       /* views of the maps and the time filter */
  PcTokenMap token_map;
} PcSource;

/* Reads every shard's metadata, checks that each has buckets (the
 * MANIFEST's B; 0: the first shard's), builds the
 * names, maps and target, and checks the job's target, funnel steps and
 * NPS event against the names (a name of nothing is a typo: an error before
 * reading any data). FALSE with *error naming the file, or the job key.
 * Caller frees *out with pc_source_free(). */
gboolean pc_source_open(GPtrArray *shard_paths, uint64_t buckets,
                        const PcJobConfig *cfg, PcSource **out,
                        GError **error);
void pc_source_free(PcSource *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PcSource, pc_source_free)

/* The dictionary of the path tokens of cfg->token. */
const PcDict *pc_source_tokens(const PcSource *s, PcTokenMode mode);

/* Takes segments (the run's segment dictionary: every rank must pass the
 * same, holding PC_SEGMENT_UNKNOWN) as names.segments, and resolves
 * scope.segments against it into the journey maps. FALSE with
 * PC_ERROR_CONFIG naming the job and the segment when one is not a
 * segment of the store (segments is still taken). */
gboolean pc_source_set_segments(PcSource *s, PcDict *segments,
                                const PcJobConfig *cfg, GError **error);

/* Sets names.event_kept / channel_kept from the kept-event counts per
 * global id (summed over ranks), then checks that a target event, if any,
 * is among the kept events. FALSE with PC_ERROR_CONFIG otherwise. */
gboolean pc_source_set_kept(PcSource *s, const uint64_t *ev_count,
                            const uint64_t *ch_count, const PcJobConfig *cfg,
                            GError **error);

#endif
