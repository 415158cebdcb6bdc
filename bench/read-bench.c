/* read-bench.c - the read phase of `parcours run` alone, against the
 * physical limit (docs/bench.md, "Read").
 *
 *   bin/read-bench STORE [RANKS [RANK [BATCH_EVENTS]]]
 *
 * Plans the store's buckets over RANKS ranks (default 1) with the balanced
 * strategy, as rank 0 of a run would, and reads RANK's buckets (default 0)
 * in batches of BATCH_EVENTS events (default 4000000) through
 * pc_h5io_read_buckets_into with buffers kept per shard (as a run does;
 * READ_BENCH_FRESH=1: fresh buffers every batch): the HDF5 calls, the
 * decoding of the chunks and every check a run makes on the rows. Then, on the same slices, one pass over the
 * decompressed column bytes (an XOR of their 8-byte words: the speed of
 * touching every byte once, like a memchr that finds nothing), the physical
 * limit of a read that has its rows already in memory. Prints CPU and wall seconds of both, events and
 * bytes, and the ratio.
 *
 * Owns nothing of parcours; a measuring tool only (make bench builds it).
 * No MPI: one process plays one rank.
 */
#include "pc_h5io.h"
#include "pc_plan.h"
#include "pc_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double cpu_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

static double wall_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

/* XOR of the 8-byte words of p[0..n) (the tail bytes too): a loop at
 * memory speed that the compiler cannot skip. */
static uint64_t xor_words(const void *p, uint64_t n) {
  const guint8 *b = p;
  uint64_t x = 0, w;
  uint64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    memcpy(&w, b + i, 8);
    x ^= w;
  }
  for (; i < n; i++) x ^= b[i];
  return x;
}

/* One pass over every column byte of a slice; returns the bytes touched. */
static uint64_t touch(const PcShardData *s, uint64_t *found) {
  struct { const void *p; uint64_t n; } cols[] = {
      {s->ev_customer, s->n_events * 4}, {s->ev_ts, s->n_events * 8},
      {s->ev_channel, s->n_events * 4},  {s->ev_event, s->n_events * 4},
      {s->ev_value, s->n_events * 8},    {s->id_bytes, s->id_offsets[s->n_customers]}};
  uint64_t bytes = 0;
  for (size_t i = 0; i < G_N_ELEMENTS(cols); i++) {
    *found ^= xor_words(cols[i].p, cols[i].n);
    bytes += cols[i].n;
  }
  return bytes;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: read-bench STORE [RANKS [RANK [BATCH_EVENTS]]]\n");
    return 2;
  }
  int P = argc > 2 ? atoi(argv[2]) : 1, R = argc > 3 ? atoi(argv[3]) : 0;
  uint64_t batch = argc > 4 ? strtoull(argv[4], NULL, 10) : 4000000;
  pc_h5io_quiet();
  g_autoptr(PcStoreMeta) sm = NULL;
  GError *e = NULL;
  if (!pc_store_open_meta(argv[1], &sm, &e)) {
    fprintf(stderr, "read-bench: %s\n", e->message);
    return 1;
  }
  uint64_t B = sm->buckets;
  g_autofree uint64_t *ev = g_new0(uint64_t, B), *cu = g_new0(uint64_t, B);
  for (guint s = 0; s < sm->n; s++)
    for (uint64_t b = 0; b < B; b++) {
      ev[b] += sm->meta[s]->bucket_events[b];
      cu[b] += sm->meta[s]->bucket_customers[b];
    }
  g_autoptr(PcPlan) plan = pc_plan_build(ev, cu, B, P, PC_STRATEGY_BALANCED, 1.0);
  size_t nb;
  g_autofree uint32_t *mine = pc_plan_buckets_of(plan, R, &nb);
  double c_read = 0, w_read = 0, c_touch = 0, w_touch = 0;
  uint64_t bytes = 0, touched = 0, events = 0, found = 0;
  g_autofree PcSliceBufs **bufs = g_new0(PcSliceBufs *, sm->n + 1);
  for (guint s = 0; s < sm->n; s++) bufs[s] = getenv("READ_BENCH_FRESH") ? NULL : pc_h5io_slice_bufs_new();
  for (size_t i = 0; i < nb;) {
    size_t j = i;
    uint64_t n = 0;
    while (j < nb && (j == i || n < batch)) n += ev[mine[j++]];
    for (guint s = 0; s < sm->n; s++) {
      PcShardData *d = NULL;
      double c0 = cpu_s(), w0 = wall_s();
      if (!pc_h5io_read_buckets_into(sm->meta[s], mine + i, j - i, bufs[s], &d, &bytes, &e)) {
        fprintf(stderr, "read-bench: %s\n", e->message);
        return 1;
      }
      double c1 = cpu_s(), w1 = wall_s();
      touched += touch(d, &found);
      c_read += c1 - c0;
      w_read += w1 - w0;
      c_touch += cpu_s() - c1;
      w_touch += wall_s() - w1;
      events += d->n_events;
      c0 = cpu_s();
      pc_h5io_slice_release(bufs[s], d);
      c_read += cpu_s() - c0;
    }
    i = j;
  }
  printf("read-bench: %s rank %d of %d: %" G_GUINT64_FORMAT " events, %.1f MB of columns\n"
         "  read (HDF5, decode, checks): cpu %.3f s, wall %.3f s, %.0f MB/s, %.2fM events/s\n"
         "  one pass over the bytes:     cpu %.3f s, wall %.3f s, %.0f MB/s (xor %016" G_GINT64_MODIFIER "x)\n"
         "  read / pass: %.1fx\n",
         argv[1], R, P, events, touched / 1e6, c_read, w_read, touched / 1e6 / c_read,
         events / 1e6 / c_read, c_touch, w_touch, touched / 1e6 / c_touch, found, c_read / c_touch);
  (void)bytes;
  return 0;
}
