/* pc_shardcheck.h - the rows of a shard slice checked before anyone uses
 * them (docs/format.md, "What a reader checks"): a damaged or foreign
 * shard is refused naming the file, the dataset and the element, never
 * read as altered numbers, never a crash. Pure: arrays in, a verdict out;
 * no MPI, no HDF5 (h5slice.c reads the slice, then calls this).
 */
#ifndef PC_SHARDCHECK_H
#define PC_SHARDCHECK_H

#include "pc_h5io.h"

/* ---- API ----------------------------------------------------------------- */

/* Checks the slice s of the shard m, read for buckets[0..n) (ascending,
 * distinct), whose customer indices are already relative to the slice:
 *  customers/id_len, crm/id_len  1..255;
 *  customers/id_bytes, crm/id_bytes  ids of spec §1, each in the bucket it
 *    is filed under (FNV-1a-64 mod B), strictly ascending in a bucket;
 *  events/customer  inside its bucket, grouped, every customer of the
 *    bucket with at least one event;
 *  events/channel, events/event  ids inside dict/channels, dict/events,
 *    and each (channel, event) pair listed in dict/pairs;
 *  events/ts  inside the span a timestamp of spec §1 can have;
 *  events/value, crm/revenue  |v| < 9e12 (in millionths);
 *  events of a customer  sorted by the journey key (ts, event, channel,
 *    value).
 * FALSE with PC_ERROR_FORMAT "SHARD: dataset NAME: element K ...: WHY"
 * (K counts from the start of the dataset in the file). */
gboolean pc_shardcheck_slice(const PcShardMeta *m, const uint32_t *buckets,
                             size_t n, const PcShardData *s, GError **error);

#endif
