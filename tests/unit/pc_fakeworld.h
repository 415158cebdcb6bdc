/* pc_fakeworld.h - a fake world of ranks for CUnit tests: each rank is a
 * thread with its own PcCommOps, and the collectives (sum_i64, gather,
 * bcast, exchange) meet at a barrier, as MPI ranks would. Header-only, for
 * tests/unit/test_*.c that check that a reduce gives the same bytes at any
 * number of ranks.
 *
 * Use: pc_world_init(&w, size); per rank thread, PcWorldRank r = {&w, k}
 * and ops = pc_world_ops(&r); pc_world_clear(&w) after the joins.
 */
#ifndef PC_FAKEWORLD_H
#define PC_FAKEWORLD_H

#include "pc_commops.h"

#define PC_WORLD_MAX 8

typedef struct {
  int size;
  GMutex m;
  GCond c;
  int waiting, gen;
  int64_t *i64[PC_WORLD_MAX];
  GByteArray **send[PC_WORLD_MAX];
  const void *mine[PC_WORLD_MAX];
  size_t len[PC_WORLD_MAX];
} PcWorld;

typedef struct {
  PcWorld *w;
  int rank;
} PcWorldRank;

static inline void pc_world_init(PcWorld *w, int size) {
  g_assert(size >= 1 && size <= PC_WORLD_MAX);
  memset(w, 0, sizeof *w);
  w->size = size;
  g_mutex_init(&w->m);
  g_cond_init(&w->c);
}

static inline void pc_world_clear(PcWorld *w) {
  g_mutex_clear(&w->m);
  g_cond_clear(&w->c);
}

static inline void pc_world_barrier(PcWorld *w) {
  g_mutex_lock(&w->m);
  int gen = w->gen;
  if (++w->waiting == w->size) {
    w->waiting = 0;
    w->gen++;
    g_cond_broadcast(&w->c);
  } else
    while (gen == w->gen) g_cond_wait(&w->c, &w->m);
  g_mutex_unlock(&w->m);
}

static inline gboolean pc_world_sum_i64(void *ctx, int64_t *v, size_t n,
                                        GError **e) {
  PcWorldRank *r = ctx;
  int64_t *tmp = g_new0(int64_t, n ? n : 1);
  r->w->i64[r->rank] = v;
  pc_world_barrier(r->w);
  for (int k = 0; k < r->w->size; k++)
    for (size_t i = 0; i < n; i++) tmp[i] += r->w->i64[k][i];
  pc_world_barrier(r->w);
  memcpy(v, tmp, n * sizeof *v);
  g_free(tmp);
  return TRUE;
}

static inline gboolean pc_world_exchange(void *ctx, GByteArray **send,
                                         GByteArray **recv, GError **e) {
  PcWorldRank *r = ctx;
  r->w->send[r->rank] = send;
  pc_world_barrier(r->w);
  *recv = g_byte_array_new();
  for (int k = 0; k < r->w->size; k++) {
    GByteArray *b = r->w->send[k][r->rank];
    g_byte_array_append(*recv, b->data, b->len);
  }
  pc_world_barrier(r->w);
  return TRUE;
}

static inline gboolean pc_world_gather(void *ctx, const void *mine, size_t len,
                                       GByteArray **out, GError **e) {
  PcWorldRank *r = ctx;
  r->w->mine[r->rank] = mine;
  r->w->len[r->rank] = len;
  pc_world_barrier(r->w);
  *out = NULL;
  if (r->rank == 0) {
    *out = g_byte_array_new();
    for (int k = 0; k < r->w->size; k++)
      g_byte_array_append(*out, r->w->mine[k], r->w->len[k]);
  }
  pc_world_barrier(r->w);
  return TRUE;
}

/* Rank 0's buffer to every rank; other ranks get a g_malloc'ed copy. */
static inline gboolean pc_world_bcast(void *ctx, void **buf, size_t *len,
                                      GError **e) {
  PcWorldRank *r = ctx;
  if (r->rank == 0) {
    r->w->mine[0] = *buf;
    r->w->len[0] = *len;
  }
  pc_world_barrier(r->w);
  if (r->rank != 0) {
    *len = r->w->len[0];
    *buf = g_memdup2(r->w->mine[0], *len ? *len : 1);
  }
  pc_world_barrier(r->w);
  return TRUE;
}

static inline PcCommOps pc_world_ops(PcWorldRank *r) {
  PcCommOps ops = {r,          r->rank,          r->w->size,     NULL,
                   pc_world_sum_i64, pc_world_gather, pc_world_bcast, pc_world_exchange};
  return ops;
}

#endif
