/* qstore_int.h - private to src/analytics/quantile.c, qstore.c and
 * qspill.c: the value store under the exact percentiles (pc_quantile.h).
 * The selection reads the store only through qstore_count and
 * qstore_count_le, after qstore_seal, so where the values are (memory or
 * disk) is the store's business.
 *
 * QStore (qstore.c): one array of values per key (open addressing on the
 * key), 8 bytes per value plus the doubling slack of its array while
 * adding, 8 bytes per value once sealed (each array sorted in place and
 * trimmed), plus about 40 bytes per distinct key. With a PcSpill, past the
 * rank's pool the arrays are sorted and written as a run (QDisk, qspill.c)
 * and the store starts empty; at seal the runs and what is left in memory
 * are merged into one sorted file, read back through an index of fences.
 */
#ifndef PC_QSTORE_INT_H
#define PC_QSTORE_INT_H

#include "pc_core.h"

typedef struct QStore QStore;

#include "pc_spill.h"

QStore *qstore_new(void);
/* Lets the store spill through sp (NULL: never); name is a static string
 * for file names. Before any append. */
void qstore_set_spill(QStore *s, PcSpill *sp, const char *name);
void qstore_free(QStore *s);
/* Before seal. Cannot fail (aborts on out of memory, as GLib does). */
void qstore_append(QStore *s, uint64_t key, int64_t value);
/* dst gets src's values; src is left empty. Both before seal. */
void qstore_absorb(QStore *dst, QStore *src);
/* Sorts by (key, value); the store is read-only afterwards. Idempotent.
 * A spilled store merges its runs into one file here (I/O errors go to the
 * PcSpill; counts are then 0). */
void qstore_seal(QStore *s);
/* After seal: values under key, and those <= v. */
uint64_t qstore_count(const QStore *s, uint64_t key);
uint64_t qstore_count_le(const QStore *s, uint64_t key, int64_t v);
/* Values held (before or after seal). */
uint64_t qstore_values(const QStore *s);
size_t qstore_memory_bytes(const QStore *s);

/* ---- QDisk (qspill.c): the spilled values of one store ---------------------
 * Runs: each the values of some keys, every key's values ascending, keys
 * ascending, written as plain int64 with an index in memory (key, first
 * value, count: 24 bytes a key a run). Sealed: one file, the merge of
 * every run, with every QDISK_FENCE-th value of each key in memory, so
 * count_le reads one block of QDISK_FENCE values (cached). */

#define QDISK_FENCE 512 /* values per block: 4 KiB */

typedef struct QDisk QDisk;

QDisk *qdisk_new(PcSpill *sp, const char *name);
void qdisk_free(QDisk *d);
/* Writes one run: keys[0..nk) ascending, vals[i][0..n[i]) ascending. FALSE
 * with PC_ERROR_IO. */
gboolean qdisk_write_run(QDisk *d, size_t nk, const uint64_t *keys,
                         int64_t *const *vals, const size_t *n, GError **error);
/* dst takes src's runs. */
void qdisk_absorb(QDisk *dst, QDisk *src);
guint qdisk_runs(const QDisk *d);
/* What a store still holds in memory at seal: nk keys ascending, each
 * with its values ascending. */
typedef struct {
  size_t nk;
  const uint64_t *keys;
  int64_t *const *vals;
  const size_t *n;
} QMemRun;

/* Merges every run and mem into the sealed values (runs deleted; mem only
 * read): in memory when they take at most mem_limit bytes, else into one
 * file. FALSE with PC_ERROR_IO. */
gboolean qdisk_seal(QDisk *d, const QMemRun *mem, uint64_t mem_limit,
                    GError **error);
/* After qdisk_seal. count_le records a read error in the PcSpill and
 * answers 0. */
uint64_t qdisk_count(const QDisk *d, uint64_t key);
uint64_t qdisk_count_le(QDisk *d, uint64_t key, int64_t v);
size_t qdisk_memory_bytes(const QDisk *d);

#endif
