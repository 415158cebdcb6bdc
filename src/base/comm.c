/* comm.c - every MPI call of parcours (pc_comm.h) and the MPI PcCommOps.
 *
 * Exact sums only: integers with MPI_SUM, 128-bit fixed point with a
 * user-defined integer addition (associative and commutative, so the bytes
 * of a sum do not depend on P or on the reduction tree). Doubles are only
 * ever combined with max, which is exact. Byte exchanges go through
 * point-to-point messages (gather, all-to-all) of at most 1 GiB each. A
 * rank that waits for others sleeps (quiet_wait) instead of spinning.
 */
#include "pc_comm.h"

#include <mpi.h>
#include <stdio.h>

struct PcComm {
  int rank, size;
  uint64_t bytes_sent; /* payload this rank sent in exchanges and gathers */
  MPI_Datatype fix_type;
  MPI_Op fix_sum;
  PcCommOps ops;
  PcSignals *sig;      /* the process's signal watcher, not owned */
};

/* ---- Waiting without spinning ----
 * Open MPI busy-polls in a blocking collective, so a rank that waits for a
 * straggler (rank 0 building tables, a rank with more events) burns a core
 * that the straggler's threads or another job could use: 1 CPU-s per rank
 * in the path reduce at 10^7 events. Every collective here is entered
 * through a small nonblocking step (a barrier, or the lengths of an
 * exchange) that is tested for 50 us and then between naps of 20..200 us;
 * the data moves after it with every rank present, at full speed (large
 * transfers need both sides' progress, so they are never napped). */
#define SPIN_US 50
#define NAP_MIN_US 20
#define NAP_MAX_US 200

static void quiet_wait(MPI_Request *req) {
  int done = 0;
  gint64 t0 = g_get_monotonic_time();
  gulong nap = NAP_MIN_US;
  MPI_Test(req, &done, MPI_STATUS_IGNORE);
  while (!done) {
    if (g_get_monotonic_time() - t0 > SPIN_US) {
      g_usleep(nap);
      nap = MIN(2 * nap, NAP_MAX_US);
    }
    MPI_Test(req, &done, MPI_STATUS_IGNORE);
  }
}

/* Every rank here before any data moves. */
static void quiet_enter(const PcComm *c) {
  if (c->size == 1) return;
  MPI_Request req;
  MPI_Ibarrier(MPI_COMM_WORLD, &req);
  quiet_wait(&req);
}

static void fix_add(void *in, void *inout, int *len, MPI_Datatype *dt) {
  const PcFix *a = in;
  PcFix *b = inout;
  for (int i = 0; i < *len; i++) {
    /* two's complement wrap-free: operands are far below 2^126 */
    unsigned __int128 s = (unsigned __int128)b[i] + (unsigned __int128)a[i];
    b[i] = (PcFix)s;
  }
}

static gboolean ops_sum_fix(void *ctx, PcFix *v, size_t n, GError **e) {
  PcComm *c = ctx;
  quiet_enter(c);
  for (size_t off = 0; off < n; off += 1 << 24) {
    int k = (int)MIN(n - off, (size_t)1 << 24);
    MPI_Allreduce(MPI_IN_PLACE, v + off, k, c->fix_type, c->fix_sum, MPI_COMM_WORLD);
  }
  return TRUE;
}

static gboolean ops_sum_i64(void *ctx, int64_t *v, size_t n, GError **e) {
  quiet_enter(ctx);
  for (size_t off = 0; off < n; off += 1 << 26) {
    int k = (int)MIN(n - off, (size_t)1 << 26);
    MPI_Allreduce(MPI_IN_PLACE, v + off, k, MPI_INT64_T, MPI_SUM, MPI_COMM_WORLD);
  }
  return TRUE;
}

#define PIECE ((size_t)1 << 30)

static gboolean ops_gather(void *ctx, const void *mine, size_t len,
                           GByteArray **out, GError **error) {
  PcComm *c = ctx;
  uint64_t l = len;
  g_autofree uint64_t *lens = g_new(uint64_t, c->size);
  quiet_enter(c);
  MPI_Gather(&l, 1, MPI_UINT64_T, lens, 1, MPI_UINT64_T, 0, MPI_COMM_WORLD);
  *out = NULL;
  if (c->rank == 0) {
    *out = g_byte_array_new();
    g_byte_array_append(*out, mine, (guint)len);
    for (int r = 1; r < c->size; r++) {
      guint at = (*out)->len;
      g_byte_array_set_size(*out, at + (guint)lens[r]);
      for (size_t off = 0; off < lens[r]; off += PIECE)
        MPI_Recv((*out)->data + at + off, (int)MIN(lens[r] - off, PIECE), MPI_BYTE, r, 7, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    }
  } else {
    c->bytes_sent += len;
    for (size_t off = 0; off < len; off += PIECE)
      MPI_Send((const char *)mine + off, (int)MIN(len - off, PIECE), MPI_BYTE, 0, 7, MPI_COMM_WORLD);
  }
  return TRUE;
}

static gboolean ops_bcast(void *ctx, void **buf, size_t *len, GError **e) {
  pc_comm_bcast_bytes(ctx, buf, len);
  return TRUE;
}

/* All-to-all of byte buffers by point-to-point messages of at most PIECE
 * bytes each, sent straight from the send buffers and received straight
 * into their place in *recv: no packing copy (an ingest round moves
 * hundreds of MB). The pieces of one pair keep their order (MPI does not
 * let messages of one sender, tag and communicator overtake). */
static gboolean ops_exchange(void *ctx, GByteArray **send, GByteArray **recv,
                             GError **error) {
  PcComm *c = ctx;
  int P = c->size;
  g_autofree uint64_t *slen = g_new(uint64_t, P);
  g_autofree uint64_t *rlen = g_new(uint64_t, P);
  for (int r = 0; r < P; r++) {
    slen[r] = send[r]->len;
    if (r != c->rank) c->bytes_sent += slen[r];
  }
  quiet_enter(c);
  MPI_Alltoall(slen, 1, MPI_UINT64_T, rlen, 1, MPI_UINT64_T, MPI_COMM_WORLD);
  uint64_t total = 0, pieces = 0;
  g_autofree uint64_t *rat = g_new(uint64_t, P);
  for (int r = 0; r < P; r++) {
    rat[r] = total;
    total += rlen[r];
    if (r != c->rank) pieces += (rlen[r] + PIECE - 1) / PIECE + (slen[r] + PIECE - 1) / PIECE;
  }
  if (!*recv) *recv = g_byte_array_sized_new((guint)total);
  g_byte_array_set_size(*recv, (guint)total);
  g_autofree MPI_Request *req = g_new(MPI_Request, pieces + 1);
  int n = 0;
  for (int r = 0; r < P; r++)
    for (uint64_t off = 0; r != c->rank && off < rlen[r]; off += PIECE)
      MPI_Irecv((*recv)->data + rat[r] + off, (int)MIN(rlen[r] - off, PIECE), MPI_BYTE, r, 9, MPI_COMM_WORLD, &req[n++]);
  for (int r = 0; r < P; r++)
    for (uint64_t off = 0; r != c->rank && off < slen[r]; off += PIECE)
      MPI_Isend(send[r]->data + off, (int)MIN(slen[r] - off, PIECE), MPI_BYTE, r, 9, MPI_COMM_WORLD, &req[n++]);
  if (slen[c->rank]) memcpy((*recv)->data + rat[c->rank], send[c->rank]->data, slen[c->rank]);
  MPI_Waitall(n, req, MPI_STATUSES_IGNORE);
  return TRUE;
}

PcComm *pc_comm_init(int *argc, char ***argv, PcSignals *sig) {
  int provided;
  MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);
  PcComm *c = g_new0(PcComm, 1);
  c->sig = sig;
  MPI_Comm_rank(MPI_COMM_WORLD, &c->rank);
  MPI_Comm_size(MPI_COMM_WORLD, &c->size);
  MPI_Type_contiguous(16, MPI_BYTE, &c->fix_type);
  MPI_Type_commit(&c->fix_type);
  MPI_Op_create(fix_add, 1, &c->fix_sum);
  c->ops = (PcCommOps){c, c->rank, c->size, ops_sum_fix, ops_sum_i64,
                       ops_gather, ops_bcast, ops_exchange};
  return c;
}

void pc_comm_finalize(PcComm *c) {
  MPI_Op_free(&c->fix_sum);
  MPI_Type_free(&c->fix_type);
  g_free(c);
  MPI_Finalize();
}

int pc_comm_rank(const PcComm *c) { return c->rank; }
PcSignals *pc_comm_signals(const PcComm *c) { return c->sig; }
uint64_t pc_comm_bytes_sent(const PcComm *c) { return c->bytes_sent; }
int pc_comm_size(const PcComm *c) { return c->size; }
const PcCommOps *pc_comm_ops(PcComm *c) { return &c->ops; }
double pc_comm_wtime(void) { return MPI_Wtime(); }

gboolean pc_comm_agree(PcComm *c, gboolean ok, GError **error) {
  int mine = ok ? c->size : c->rank, first;
  MPI_Request req;
  MPI_Iallreduce(&mine, &first, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD, &req);
  quiet_wait(&req);
  if (first == c->size) return TRUE;
  /* The first failing rank tells everyone why. */
  char *msg = NULL;
  int code = PC_ERROR_COMM;
  if (c->rank == first) {
    GError *e = error ? *error : NULL;
    msg = g_strdup_printf("rank %d: %s", c->rank, e ? e->message : "failed");
    code = e ? e->code : PC_ERROR_INTERNAL;
  }
  uint64_t len = msg ? strlen(msg) + 1 : 0;
  MPI_Bcast(&len, 1, MPI_UINT64_T, first, MPI_COMM_WORLD);
  MPI_Bcast(&code, 1, MPI_INT, first, MPI_COMM_WORLD);
  if (!msg) msg = g_malloc0(len);
  MPI_Bcast(msg, (int)len, MPI_CHAR, first, MPI_COMM_WORLD);
  if (error) {
    g_clear_error(error);
    g_set_error_literal(error, PC_ERROR, code, msg);
  }
  g_free(msg);
  return FALSE;
}

void pc_comm_quiet_barrier(PcComm *c) { quiet_enter(c); }

void pc_comm_sum_u64(PcComm *c, uint64_t *v, size_t n) {
  quiet_enter(c);
  MPI_Allreduce(MPI_IN_PLACE, v, (int)n, MPI_UINT64_T, MPI_SUM, MPI_COMM_WORLD);
}
void pc_comm_max_u64(PcComm *c, uint64_t *v, size_t n) {
  quiet_enter(c);
  MPI_Allreduce(MPI_IN_PLACE, v, (int)n, MPI_UINT64_T, MPI_MAX, MPI_COMM_WORLD);
}
void pc_comm_allgather_u64(PcComm *c, uint64_t v, uint64_t *all) {
  MPI_Allgather(&v, 1, MPI_UINT64_T, all, 1, MPI_UINT64_T, MPI_COMM_WORLD);
}
void pc_comm_allgather_double(PcComm *c, double v, double *all) {
  MPI_Allgather(&v, 1, MPI_DOUBLE, all, 1, MPI_DOUBLE, MPI_COMM_WORLD);
}
void pc_comm_bcast_u64(PcComm *c, uint64_t *v, size_t n) {
  MPI_Bcast(v, (int)n, MPI_UINT64_T, 0, MPI_COMM_WORLD);
}

void pc_comm_bcast_bytes(PcComm *c, void **buf, size_t *len) {
  uint64_t l = *len;
  MPI_Request req;
  MPI_Ibcast(&l, 1, MPI_UINT64_T, 0, MPI_COMM_WORLD, &req);
  quiet_wait(&req);
  if (c->rank != 0) {
    *buf = g_malloc(l + 1);
    *len = l;
  }
  for (size_t off = 0; off < l; off += PIECE)
    MPI_Bcast((char *)*buf + off, (int)MIN(l - off, PIECE), MPI_BYTE, 0, MPI_COMM_WORLD);
}
