/* generate.c - the work of `parcours generate` (pc_generate.h): the
 * synthetic world of synth.c written as a new store, in parallel. Rank r
 * generates customers [r*N/P, (r+1)*N/P) into its own shard (each shard
 * bucket-grouped; a bucket may appear in several shards, as after ingest
 * --append). --csv also writes canonical CSV: rank parts concatenated in
 * rank order behind one header, so the file is byte-identical for any P.
 *
 * Owns the order of a generation's writes and the CSV text of generated
 * rows. Does not own the world (synth.c), the shard layout (shardbuild.c,
 * h5shard.c) or the store's files (store.c). Reaches other ranks only
 * through pc_comm.h.
 *
 * Invariant: nothing is visible before rank 0 commits the MANIFEST, which
 * happens only after every rank wrote its shard and the CSV is complete.
 */
#include "pc_generate.h"

#include "pc_batch.h"
#include "pc_h5io.h"
#include "pc_shard.h"
#include "pc_storewriter.h"
#include "pc_synth.h"
#include "pc_table.h"
#include "pc_time.h"

#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#define BATCH 1                       /* a generated store is one batch */
#define PROGRESS_EVERY_S 2.0          /* rank 0's progress lines */
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
  uint64_t totals[2];   /* events, customers: all ranks */
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
  return g;
}

void pc_generate_free(PcGenerate *g) {
  if (!g) return;
  pc_synth_free(g->synth);
  pc_storewriter_free(g->writer);
  g_free(g->staging);
  g_free(g->customers_csv);
  g_ptr_array_unref(g->files);
  g_free(g);
}

gboolean pc_generate_stage(PcGenerate *g, GError **error) {
  gboolean ok = g->rank != 0 || (pc_storewriter_open(g->o->out, FALSE, 0, &g->writer, error) &&
                                  pc_storewriter_stage(g->writer, error));
  if (ok && g->rank == 0) g->staging = g_strdup(pc_storewriter_staging(g->writer));
  if (!pc_comm_agree(g->comm, ok, error)) return FALSE;
  size_t len = g->rank == 0 ? strlen(g->staging) + 1 : 0;
  pc_comm_bcast_bytes(g->comm, (void **)&g->staging, &len);
  return TRUE;
}

/* ---- 2. Customers ------------------------------------------------------------------ */

/* This rank's part of a CSV file: FILE.partR. */
static char *part_path(const char *path, int rank) {
  return g_strdup_printf("%s.part%d", path, rank);
}

static void csv_event(FILE *f, const PcSynthCustomer *c, const PcSynthEvent *e,
                      const char *const *ch, const char *const *ev) {
  char ts[PC_TIME_ISO_BYTES], v[PC_MONEY_BYTES] = "";
  if (e->value) pc_fmt_micros(v, e->value);
  fprintf(f, "%s,%s,%s,%s,%s\n", c->id, pc_time_format_iso(e->ts_us, PC_TIME_FRAC_MICROS, ts), ch[e->channel], ev[e->event], v);
}

/* One customer into the builder and (when open) the CSV parts. */
static void add_customer(PcShardBuilder *b, const PcSynthCustomer *cu,
                         FILE *fe, FILE *fc) {
  guint nch, nev;
  const char *const *ch = pc_synth_channels(&nch);
  const char *const *ev = pc_synth_events(&nev);
  for (size_t i = 0; i < cu->n; i++) {
    const PcSynthEvent *e = &cu->ev[i];
    pc_shard_builder_add_event(b, cu->id, cu->id_len, e->ts_us, ch[e->channel], (uint32_t)strlen(ch[e->channel]),
                               ev[e->event], (uint32_t)strlen(ev[e->event]), e->value);
    if (fe) csv_event(fe, cu, e, ch, ev);
  }
  pc_shard_builder_add_customer(b, cu->id, cu->id_len, cu->revenue, cu->segment, (uint32_t)strlen(cu->segment));
  if (fc) {
    char rv[PC_MONEY_BYTES];
    fprintf(fc, "%s,%s,%s\n", cu->id, pc_fmt_micros(rv, cu->revenue), cu->segment);
  }
}

/* This rank's customers into b (and the CSV parts). */
static void make_customers(PcGenerate *g, PcShardBuilder *b, FILE *fe,
                           FILE *fc) {
  uint64_t N = g->o->customers;
  uint64_t lo = N * g->rank / g->size, hi = N * (g->rank + 1) / g->size;
  PcSynthCustomer cu = {0};
  double t0 = pc_comm_wtime(), last = t0;
  uint64_t events = 0;
  for (uint64_t k = lo; k < hi; k++) {
    pc_synth_customer(g->synth, k, &cu);
    add_customer(b, &cu, fe, fc);
    events += cu.n;
    double now = pc_comm_wtime();
    if (g->rank == 0 && !g->o->quiet && now - last > PROGRESS_EVERY_S) {
      fprintf(stderr, "parcours: generate: rank 0 %.0f%% (%.2fM events/s)\n", 100.0 * (k - lo) / MAX(hi - lo, 1), events / (now - t0) / 1e6);
      last = now;
    }
  }
  pc_synth_customer_clear(&cu);
}

/* Closes f (may be NULL); FALSE when it or an earlier write failed. */
static gboolean close_part(FILE *f) {
  if (!f) return TRUE;
  gboolean ok = !ferror(f);
  return fclose(f) == 0 && ok;
}

/* Builds this rank's shard; writes the CSV parts when asked. */
static gboolean build_shard(PcGenerate *g, PcShardData **out, GError **error) {
  g_autofree char *epart = g->o->csv ? part_path(g->o->csv, g->rank) : NULL;
  g_autofree char *cpart = g->o->csv ? part_path(g->customers_csv, g->rank) : NULL;
  FILE *fe = epart ? fopen(epart, "w") : NULL, *fc = cpart ? fopen(cpart, "w") : NULL;
  gboolean ok = !g->o->csv || (fe && fc);
  if (!ok) pc_set_error(error, PC_ERROR_IO, "%s: %s", g->o->csv, g_strerror(errno));
  g_autoptr(PcShardBuilder) b = pc_shard_builder_new(g->o->buckets);
  if (ok) make_customers(g, b, fe, fc);
  if (!close_part(fe) || !close_part(fc)) {
    if (ok) pc_set_error(error, PC_ERROR_IO, "%s: write failed", g->o->csv);
    ok = FALSE;
  }
  *out = pc_shard_builder_finish(g_steal_pointer(&b));
  return ok;
}

gboolean pc_generate_customers(PcGenerate *g, GError **error) {
  g_autoptr(PcShardData) shard = NULL;
  gboolean ok = build_shard(g, &shard, error);
  g_autofree char *path = g_build_filename(g->staging, g_ptr_array_index(g->files, g->rank), NULL);
  g_autofree char *record = pc_batch_generated_json(BATCH);
  ok = ok && pc_h5io_write_shard(path, shard, record, error);
  if (!pc_comm_agree(g->comm, ok, error)) {
    if (g->rank == 0) pc_storewriter_abandon(g->writer, g->files);
    return FALSE;
  }
  g->totals[0] = shard->n_events;
  g->totals[1] = shard->n_customers;
  pc_comm_sum_u64(g->comm, g->totals, 2);
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

/* Rank 0: truth file, CSV, MANIFEST. */
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
  return pc_storewriter_commit(g->writer, g->o->buckets, g->files, error);
}

gboolean pc_generate_commit(PcGenerate *g, GError **error) {
  gboolean ok = TRUE;
  if (g->rank == 0) {
    ok = commit(g, error);
    if (!ok) {
      pc_storewriter_abandon(g->writer, g->files);
    } else if (!g->o->quiet) {
      g_autofree char *truth = pc_store_file_path(g->o->out, PC_STORE_FILE_TRUTH, BATCH);
      fprintf(stderr, "parcours: generate: %s: %" G_GUINT64_FORMAT " events, %" G_GUINT64_FORMAT " customers, %d shards (truth: %s)\n", g->o->out, g->totals[0], g->totals[1], g->size, truth);
    }
  }
  return pc_comm_agree(g->comm, ok, error);
}
