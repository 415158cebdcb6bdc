/* generate.c - the work of `parcours generate` (pc_generate.h): the
 * synthetic world of synth.c written as a new store, in parallel and in
 * bounded memory. Rank r owns the buckets b with b*P/B = r (as ingest's
 * owners) and writes exactly their customers to its shard, bucket range by
 * bucket range: a scan of every customer's id (a few ns each, no journey
 * made) lists the customers of the range by bucket; ids are "c" and k at
 * one width, so k order within a bucket is bytewise id order, and each
 * customer's events come out of synth.c in time order (strictly
 * increasing: the journey order); so customers go to the shard writer
 * (pc_h5io.h) as they are made, nothing sorted, nothing held but the
 * range's customer list (8 bytes a customer; --memory bounds it).
 * --csv also writes canonical CSV: rank r makes customers [r*N/P,
 * (r+1)*N/P) once more for its part, the parts are concatenated in rank
 * order behind one header, so the file is byte-identical for any P.
 *
 * Owns the order of a generation's writes and the CSV text of generated
 * rows. Does not own the world (synth.c), the shard layout (h5stream.c) or
 * the store's files (store.c). Reaches other ranks only through pc_comm.h.
 *
 * Invariants: customer k is a pure function of (seed, k), so the store's
 * rows and every run output are the same for any P and any budget; a
 * shard lists only the names of its events (a name no customer of the
 * shard has makes the pass run again with the smaller dictionaries: small
 * shards only); nothing is visible before rank 0 commits the MANIFEST.
 */
#include "pc_generate.h"

#include "pc_batch.h"
#include "pc_h5io.h"
#include "pc_progress.h"
#include "pc_shard.h"
#include "pc_storewriter.h"
#include "pc_synth.h"
#include "pc_table.h"
#include "pc_testhook.h"
#include "pc_time.h"

#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#define BATCH 1                       /* a generated store is one batch */
#define PROGRESS_EVERY_S 2.0          /* rank 0's progress lines */
#define EVENTS_PER_CUSTOMER 11        /* about the world's mean (docs/generate.md): sizes event chunks */
#define EVENTS_HEADER "customer_id,timestamp,channel,event,value\n"
#define CUSTOMERS_HEADER "customer_id,revenue,segment\n"

struct PcGenerate {
  PcComm *comm;
  int rank, size;
  const PcGenerateOpts *o;
  PcSynth *synth;
  PcStoreWriter *writer;/* rank 0: staging and commit (pc_storewriter.h) */
  char *staging;        /* STORE.tmp-PID */
  char *customers_csv;  /* FILE-customers.csv, or NULL */
  GPtrArray *files;     /* the shard names of every rank */
  uint32_t lo, hi;      /* this rank's buckets [lo, hi) */
  uint64_t *counts;     /* customers of each of them */
  uint64_t totals[2];   /* events, customers with events: all ranks */
  uint64_t ranges[2];   /* bucket ranges: this rank's, then the fewest and the most on a rank */
  double t0, last;      /* progress */
  gboolean done;
};

PcGenerate *pc_generate_new(PcComm *c, const PcGenerateOpts *o) {
  PcGenerate *g = g_new0(PcGenerate, 1);
  g->comm = c;
  g->rank = pc_comm_rank(c);
  g->size = pc_comm_size(c);
  g->o = o;
  g->synth = pc_synth_new(o->seed, o->customers);
  if (o->month) pc_synth_set_month(g->synth, o->month);
  if (o->csv) {
    g_autofree char *stem = g_str_has_suffix(o->csv, ".csv") ? g_strndup(o->csv, strlen(o->csv) - 4) : g_strdup(o->csv);
    g->customers_csv = g_strdup_printf("%s-customers.csv", stem);
  }
  g->files = g_ptr_array_new_with_free_func(g_free);
  for (int r = 0; r < g->size; r++) g_ptr_array_add(g->files, pc_store_shard_name(BATCH, r));
  /* the owner of bucket b is b*P/B: rank r owns [ceil(rB/P), ceil((r+1)B/P)) */
  uint64_t B = o->buckets, P = (uint64_t)g->size;
  g->lo = (uint32_t)((g->rank * B + P - 1) / P);
  g->hi = (uint32_t)(((g->rank + 1) * B + P - 1) / P);
  g->t0 = g->last = pc_comm_wtime();
  return g;
}

void pc_generate_free(PcGenerate *g) {
  if (!g) return;
  if (!g->done && g->rank == 0) pc_storewriter_abandon(g->writer, g->files);
  pc_synth_free(g->synth);
  pc_storewriter_free(g->writer);
  g_free(g->staging);
  g_free(g->customers_csv);
  g_free(g->counts);
  g_ptr_array_unref(g->files);
  g_free(g);
}

static PcSignals *sig(const PcGenerate *g) { return pc_comm_signals(g->comm); }

gboolean pc_generate_stage(PcGenerate *g, GError **error) {
  pc_signals_phase(sig(g), "staging the store");
  gboolean ok = g->rank != 0 || (pc_storewriter_open(g->o->out, FALSE, 0, &g->writer, error) &&
                                  pc_storewriter_stage(g->writer, error));
  if (ok && g->rank == 0) {
    g->staging = g_strdup(pc_storewriter_staging(g->writer));
    pc_signals_register(sig(g), g->staging);
  }
  if (!pc_comm_agree(g->comm, ok, error)) return FALSE;
  size_t len = g->rank == 0 ? strlen(g->staging) + 1 : 0;
  pc_comm_bcast_bytes(g->comm, (void **)&g->staging, &len);
  return TRUE;
}

/* ---- 2. Customers by bucket ------------------------------------------------------- */

/* Bucket of customer k (its id's FNV-1a-64 mod B). */
static uint32_t bucket_of_k(const PcGenerate *g, uint64_t k) {
  char id[24];
  uint32_t len = pc_synth_id(g->synth, k, id);
  return pc_bucket_of(id, len, g->o->buckets);
}

/* Customers of each bucket this rank owns: one scan of every id. */
static void count_owned(PcGenerate *g) {
  g->counts = g_new0(uint64_t, g->hi - g->lo + 1);
  for (uint64_t k = 0; k < g->o->customers; k++) {
    uint32_t b = bucket_of_k(g, k);
    if (b >= g->lo && b < g->hi) g->counts[b - g->lo]++;
  }
}

/* The customers of buckets [blo, bhi), grouped by bucket, k ascending in
 * each: kl[off[b - blo] .. off[b - blo + 1]). One scan of every id. */
static uint64_t *list_range(const PcGenerate *g, uint32_t blo, uint32_t bhi,
                            uint64_t *off) {
  off[0] = 0;
  for (uint32_t b = blo; b < bhi; b++) off[b - blo + 1] = off[b - blo] + g->counts[b - g->lo];
  uint64_t *kl = g_new(uint64_t, off[bhi - blo] + 1);
  g_autofree uint64_t *fill = g_memdup2(off, (bhi - blo + 1) * sizeof *off);
  for (uint64_t k = 0; k < g->o->customers; k++) {
    uint32_t b = bucket_of_k(g, k);
    if (b >= blo && b < bhi) kl[fill[b - blo]++] = k;
  }
  return kl;
}

/* The names' ids in the shard: synth ids remapped to the dictionaries of
 * the names present (identity when all are). */
typedef struct {
  PcDict *channels, *events;
  uint32_t chmap[256], evmap[256];
} Names;

static void names_init(Names *n, const guint8 *ch_used, const guint8 *ev_used) {
  guint nc, ne;
  const char *const *ch = pc_synth_channels(&nc), *const *ev = pc_synth_events(&ne);
  g_assert(nc <= 256 && ne <= 256);
  g_autofree char **keep = g_new0(char *, MAX(nc, ne) + 1);
  guint k = 0;
  for (guint i = 0; i < nc; i++)
    if (!ch_used || ch_used[i]) n->chmap[i] = k, keep[k++] = (char *)ch[i];
  n->channels = pc_dict_new_sorted(keep, k);
  k = 0;
  for (guint i = 0; i < ne; i++)
    if (!ev_used || ev_used[i]) n->evmap[i] = k, keep[k++] = (char *)ev[i];
  n->events = pc_dict_new_sorted(keep, k);
}

static void progress(PcGenerate *g, uint64_t done, uint64_t all, uint64_t events) {
  double now = pc_comm_wtime();
  if (g->rank != 0 || g->o->quiet || now - g->last < PROGRESS_EVERY_S) return;
  fprintf(stderr, "parcours: generate: rank 0 %.0f%% (%.2fM events/s)\n", 100.0 * done / MAX(all, 1), events / (now - g->t0) / 1e6);
  g->last = now;
}

/* One customer into the shard: its events (if any) and its customers-table
 * row. */
static gboolean put_customer(PcShardWriter *w, uint32_t b, const PcSynthCustomer *cu,
                             const Names *nm, PcEvent *ev, GError **error) {
  for (size_t i = 0; i < cu->n; i++)
    ev[i] = (PcEvent){cu->ev[i].ts_us, cu->ev[i].value, nm->evmap[cu->ev[i].event], nm->chmap[cu->ev[i].channel]};
  return (cu->n == 0 || pc_h5io_writer_customer(w, b, cu->id, cu->id_len, ev, cu->n, error)) &&
         pc_h5io_writer_crm(w, b, cu->id, cu->id_len, cu->revenue, cu->segment, (uint32_t)strlen(cu->segment), error);
}

/* Buckets [blo, bhi) into w. */
static gboolean write_range(PcGenerate *g, PcShardWriter *w, const Names *nm,
                            uint32_t blo, uint32_t bhi, uint64_t *done,
                            uint64_t all, GError **error) {
  /* done[0]: customers made, done[1]: those with events */
  g_autofree uint64_t *off = g_new(uint64_t, bhi - blo + 1);
  g_autofree uint64_t *kl = list_range(g, blo, bhi, off);
  g_autofree PcEvent *ev = g_new(PcEvent, PC_SYNTH_MAX_EVENTS);
  PcSynthCustomer cu = {0};
  gboolean ok = TRUE;
  for (uint32_t b = blo; ok && b < bhi; b++)
    for (uint64_t i = off[b - blo]; ok && i < off[b - blo + 1]; i++) {
      pc_synth_customer(g->synth, kl[i], &cu);
      ok = put_customer(w, b, &cu, nm, ev, error);
      done[1] += cu.n > 0;
      progress(g, ++done[0], all, pc_h5io_writer_events(w));
    }
  pc_synth_customer_clear(&cu);
  return ok;
}

/* This rank's buckets in ranges of at most `cap` customers (one bucket
 * alone may hold more) into the shard at path. *all_used: every name had
 * an event (else used flags in ch_used, ev_used). */
static gboolean write_shard(PcGenerate *g, const char *path, const Names *nm,
                            guint8 *ch_used, guint8 *ev_used, gboolean *all_used,
                            GError **error) {
  /* a range's list (8 bytes a customer) takes a sixteenth of the budget:
   * each range costs a scan of every id (about 25 ns an id), so ranges are
   * few, and bounded */
  uint64_t owned = 0, used = 0, cap = MAX(g->o->memory / 16 / sizeof(uint64_t), (uint64_t)1), done[2] = {0, 0};
  for (uint32_t b = g->lo; b < g->hi; b++) owned += g->counts[b - g->lo], used += g->counts[b - g->lo] > 0;
  g_autoptr(PcShardWriter) w = NULL;
  if (!pc_h5io_writer_open(path, g->o->buckets, nm->channels, nm->events, owned * EVENTS_PER_CUSTOMER, used, &w, error))
    return FALSE;
  g->ranges[0] = 0;
  for (uint32_t blo = g->lo, bhi; blo < g->hi; blo = bhi, g->ranges[0]++) {
    uint64_t n = g->counts[blo - g->lo];
    for (bhi = blo + 1; bhi < g->hi && n + g->counts[bhi - g->lo] <= cap; bhi++) n += g->counts[bhi - g->lo];
    if (!write_range(g, w, nm, blo, bhi, done, owned, error)) return FALSE;
    if (g->ranges[0] == 0) pc_test_hook("generate-range");
  }
  *all_used = pc_h5io_writer_names_used(w, ch_used, ev_used);
  g->totals[0] = pc_h5io_writer_events(w);
  g->totals[1] = done[1];
  if (!*all_used) return TRUE; /* freed unfinished: the file is removed */
  g_autofree char *record = pc_batch_generated_json(BATCH);
  return pc_h5io_writer_finish(w, record, error);
}

static gboolean make_shard(PcGenerate *g, GError **error) {
  g_autofree char *path = g_build_filename(g->staging, g_ptr_array_index(g->files, g->rank), NULL);
  guint8 ch_used[256], ev_used[256];
  gboolean all_used;
  Names all = {0}, some = {0};
  names_init(&all, NULL, NULL);
  gboolean ok = write_shard(g, path, &all, ch_used, ev_used, &all_used, error);
  if (ok && !all_used) { /* some name has no event here: again, without it */
    names_init(&some, ch_used, ev_used);
    ok = write_shard(g, path, &some, NULL, NULL, &all_used, error);
  }
  pc_dict_free(all.channels), pc_dict_free(all.events);
  pc_dict_free(some.channels), pc_dict_free(some.events);
  return ok;
}

/* ---- 2b. CSV ------------------------------------------------------------------------- */

/* This rank's part of a CSV file: FILE.partR. */
static char *part_path(const char *path, int rank) {
  return g_strdup_printf("%s.part%d", path, rank);
}

static void csv_customer(FILE *fe, FILE *fc, const PcSynthCustomer *cu) {
  guint nch, nev;
  const char *const *ch = pc_synth_channels(&nch), *const *ev = pc_synth_events(&nev);
  for (size_t i = 0; i < cu->n; i++) {
    const PcSynthEvent *e = &cu->ev[i];
    char ts[PC_TIME_ISO_BYTES], v[PC_MONEY_BYTES] = "";
    if (e->value) pc_fmt_micros(v, e->value);
    fprintf(fe, "%s,%s,%s,%s,%s\n", cu->id, pc_time_format_iso(e->ts_us, PC_TIME_FRAC_MICROS, ts), ch[e->channel], ev[e->event], v);
  }
  char rv[PC_MONEY_BYTES];
  fprintf(fc, "%s,%s,%s\n", cu->id, pc_fmt_micros(rv, cu->revenue), cu->segment);
}

/* Closes f (may be NULL); FALSE when it or an earlier write failed. */
static gboolean close_part(FILE *f) {
  if (!f) return TRUE;
  gboolean ok = !ferror(f);
  return fclose(f) == 0 && ok;
}

/* Customers [r*N/P, (r+1)*N/P) as this rank's CSV parts. */
static gboolean write_csv_parts(PcGenerate *g, GError **error) {
  g_autofree char *epart = part_path(g->o->csv, g->rank), *cpart = part_path(g->customers_csv, g->rank);
  FILE *fe = fopen(epart, "w"), *fc = fopen(cpart, "w");
  gboolean ok = fe && fc;
  if (!ok) pc_set_error(error, PC_ERROR_IO, "%s: %s", g->o->csv, g_strerror(errno));
  uint64_t N = g->o->customers, lo = N * g->rank / g->size, hi = N * (g->rank + 1) / g->size;
  PcSynthCustomer cu = {0};
  for (uint64_t k = lo; ok && k < hi; k++) {
    pc_synth_customer(g->synth, k, &cu);
    csv_customer(fe, fc, &cu);
  }
  pc_synth_customer_clear(&cu);
  if (!close_part(fe) || !close_part(fc)) {
    if (ok) pc_set_error(error, PC_ERROR_IO, "%s: write failed", g->o->csv);
    ok = FALSE;
  }
  return ok;
}

gboolean pc_generate_customers(PcGenerate *g, GError **error) {
  pc_signals_phase(sig(g), "generating the customers into the shards");
  count_owned(g);
  gboolean ok = make_shard(g, error);
  if (ok && g->o->csv) {
    pc_signals_phase(sig(g), "writing the CSV files");
    ok = write_csv_parts(g, error);
  }
  if (!pc_comm_agree(g->comm, ok, error)) return FALSE;
  pc_comm_sum_u64(g->comm, g->totals, 2);
  g_autofree uint64_t *all = g_new(uint64_t, g->size);
  pc_comm_allgather_u64(g->comm, g->ranges[0], all);
  g->ranges[0] = UINT64_MAX, g->ranges[1] = 0;
  for (int r = 0; r < g->size; r++) g->ranges[0] = MIN(g->ranges[0], all[r]), g->ranges[1] = MAX(g->ranges[1], all[r]);
  return TRUE;
}

/* ---- 3. Commit ------------------------------------------------------------------------ */

/* Rank 0 concatenates the CSV parts in rank order behind one header, to
 * path.tmp renamed to path; the parts are removed. */
static gboolean join_parts(const char *path, const char *header, int P,
                           GError **error) {
  g_autofree char *tmp = g_strdup_printf("%s.tmp", path);
  FILE *out = fopen(tmp, "w");
  if (!out) {
    pc_set_error(error, PC_ERROR_IO, "%s: %s", tmp, g_strerror(errno));
    return FALSE;
  }
  gboolean ok = fputs(header, out) >= 0;
  char buf[1 << 16];
  for (int r = 0; r < P && ok; r++) {
    g_autofree char *part = part_path(path, r);
    FILE *in = fopen(part, "r");
    size_t n;
    ok = in != NULL;
    while (ok && (n = fread(buf, 1, sizeof buf, in)) > 0) ok = fwrite(buf, 1, n, out) == n;
    if (in && (ferror(in) | fclose(in))) ok = FALSE;
    unlink(part);
  }
  ok = ok && fflush(out) == 0;
  if (fclose(out) != 0) ok = FALSE;
  if (ok && rename(tmp, path) != 0) ok = FALSE;
  if (!ok) {
    unlink(tmp);
    pc_set_error(error, PC_ERROR_IO, "%s: write failed", path);
  }
  return ok;
}

/* Rank 0: truth file, CSV, MANIFEST (inside the signal lock). */
static gboolean commit(PcGenerate *g, GError **error) {
  g_autofree char *truth = pc_synth_truth_json(g->synth);
  g_autofree char *path = pc_store_file_path(g->staging, PC_STORE_FILE_TRUTH, BATCH);
  g_autoptr(GError) e = NULL;
  if (!g_file_set_contents(path, truth, -1, &e)) {
    pc_set_error(error, PC_ERROR_IO, "%s: %s", path, e->message);
    return FALSE;
  }
  if (g->o->csv && (!join_parts(g->o->csv, EVENTS_HEADER, g->size, error) ||
                    !join_parts(g->customers_csv, CUSTOMERS_HEADER, g->size, error)))
    return FALSE;
  pc_signals_commit_begin(sig(g));
  gboolean ok = pc_storewriter_commit(g->writer, g->o->buckets, g->files, error);
  if (ok) pc_signals_commit_end(sig(g));
  else pc_signals_commit_abort(sig(g));
  return ok;
}

static void say_done(const PcGenerate *g, uint64_t peak) {
  g_autofree char *truth = pc_store_file_path(g->o->out, PC_STORE_FILE_TRUTH, BATCH);
  fprintf(stderr, "parcours: generate: %s: %" G_GUINT64_FORMAT " events, %" G_GUINT64_FORMAT " customers, %d shards, %.2f s (truth: %s)\n", g->o->out, g->totals[0], g->totals[1], g->size, pc_comm_wtime() - g->t0, truth);
  fprintf(stderr, "parcours: generate: memory: %.1f MiB per rank (--memory), bucket ranges: %" G_GUINT64_FORMAT " to %" G_GUINT64_FORMAT " a rank, peak RSS %.1f MiB (the largest rank)\n", g->o->memory / 1048576.0, g->ranges[0], g->ranges[1], peak / 1048576.0);
}

gboolean pc_generate_commit(PcGenerate *g, GError **error) {
  pc_signals_phase(sig(g), "committing the store");
  uint64_t peak = pc_peak_rss_bytes();
  pc_comm_max_u64(g->comm, &peak, 1);
  gboolean ok = TRUE;
  if (g->rank == 0) {
    ok = commit(g, error);
    if (ok && !g->o->quiet) say_done(g, peak);
  }
  g->done = pc_comm_agree(g->comm, ok, error);
  return g->done;
}
