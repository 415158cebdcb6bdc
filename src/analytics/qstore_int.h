/* qstore_int.h - private to src/analytics/quantile*.c and qstore.c: the
 * value store under the exact percentiles (pc_quantile.h). It is the seam
 * where values may later spill to disk: the selection reads the store only
 * through qstore_count and qstore_count_le, after qstore_seal, so a store
 * that keeps sorted runs on disk can replace this one without touching the
 * selection.
 *
 * This store: one array of values per key (open addressing on the key),
 * 8 bytes per value plus the doubling slack of its array while adding, 8
 * bytes per value once sealed (each array sorted in place and trimmed),
 * plus about 40 bytes per distinct key.
 */
#ifndef PC_QSTORE_INT_H
#define PC_QSTORE_INT_H

#include "pc_core.h"

typedef struct QStore QStore;

QStore *qstore_new(void);
void qstore_free(QStore *s);
/* Before seal. Cannot fail (aborts on out of memory, as GLib does). */
void qstore_append(QStore *s, uint64_t key, int64_t value);
/* dst gets src's values; src is left empty. Both before seal. */
void qstore_absorb(QStore *dst, QStore *src);
/* Sorts by (key, value); the store is read-only afterwards. Idempotent. */
void qstore_seal(QStore *s);
/* After seal: values under key, and those <= v. */
uint64_t qstore_count(const QStore *s, uint64_t key);
uint64_t qstore_count_le(const QStore *s, uint64_t key, int64_t v);
/* Values held (before or after seal). */
uint64_t qstore_values(const QStore *s);
size_t qstore_memory_bytes(const QStore *s);

#endif
