/* cmd_generate.c - `parcours generate`: the synthetic world of synth.c
 * written directly as a store, in parallel: rank r generates customers
 * [r*N/P, (r+1)*N/P) into its own shard (each shard bucket-grouped; a bucket
 * may appear in several shards, as after ingest --append). Customer k is a
 * pure function of (seed, k), so the events are the same for any P.
 * --csv FILE also writes canonical CSV (rank parts concatenated in rank
 * order: byte-identical for any P) and FILE's customers table beside it.
 */
#include "pc_cmd.h"
#include "pc_h5io.h"
#include "pc_store.h"
#include "pc_synth.h"
#include "pc_table.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <unistd.h>

typedef struct {
  char *out, *csv;
  gint64 customers, seed, buckets;
  gboolean quiet;
} GenOpts;

/* ISO-8601 UTC of a microsecond timestamp, without GDateTime (per event
 * speed): civil-from-days of H. Hinnant's date algorithms. buf: 40 bytes. */
static void iso_utc(int64_t us, char *buf) { /* buf: 64 bytes */
  int64_t s = us / 1000000, f = us % 1000000;
  if (f < 0) { f += 1000000; s--; }
  int64_t days = s / 86400, sec = s % 86400;
  if (sec < 0) { sec += 86400; days--; }
  int64_t z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t y = yoe + era * 400, doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153, d = doy - (153 * mp + 2) / 5 + 1;
  int64_t m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
  snprintf(buf, 64, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", (int)y, (int)m, (int)d,
           (int)(sec / 3600), (int)(sec / 60 % 60), (int)(sec % 60), (int)f);
}

static void csv_event(FILE *f, const PcSynthCustomer *c, const PcSynthEvent *e,
                      const char *const *ch, const char *const *ev) {
  char ts[64], v[32] = "";
  iso_utc(e->ts_us, ts);
  if (e->value) pc_fmt_micros(v, e->value);
  fprintf(f, "%s,%s,%s,%s,%s\n", c->id, ts, ch[e->channel], ev[e->event], v);
}

static char *customers_csv_path(const char *csv) {
  g_autofree char *stem = g_str_has_suffix(csv, ".csv") ? g_strndup(csv, strlen(csv) - 4) : g_strdup(csv);
  return g_strdup_printf("%s-customers.csv", stem);
}

/* Generates this rank's customers into a shard builder (and CSV parts). */
static gboolean generate_part(PcComm *c, const GenOpts *o, PcSynth *syn,
                              PcShardBuilder *b, FILE *fe, FILE *fc,
                              GError **error) {
  int r = pc_comm_rank(c), P = pc_comm_size(c);
  uint64_t N = (uint64_t)o->customers;
  uint64_t lo = N * r / P, hi = N * (r + 1) / P;
  guint nch, nev;
  const char *const *ch = pc_synth_channels(&nch);
  const char *const *ev = pc_synth_events(&nev);
  PcSynthCustomer cu = {0};
  double t0 = pc_comm_wtime(), last = t0;
  uint64_t events = 0;
  for (uint64_t k = lo; k < hi; k++) {
    pc_synth_customer(syn, k, &cu);
    for (size_t i = 0; i < cu.n; i++) {
      const PcSynthEvent *e = &cu.ev[i];
      pc_shard_builder_add_event(b, cu.id, cu.id_len, e->ts_us, ch[e->channel], (uint32_t)strlen(ch[e->channel]),
                                 ev[e->event], (uint32_t)strlen(ev[e->event]), e->value);
      if (fe) csv_event(fe, &cu, e, ch, ev);
    }
    pc_shard_builder_add_customer(b, cu.id, cu.id_len, cu.revenue, cu.segment, (uint32_t)strlen(cu.segment));
    if (fc) {
      char rv[32];
      fprintf(fc, "%s,%s,%s\n", cu.id, pc_fmt_micros(rv, cu.revenue), cu.segment);
    }
    events += cu.n;
    double now = pc_comm_wtime();
    if (r == 0 && !o->quiet && now - last > 2) {
      fprintf(stderr, "parcours: generate: rank 0 %.0f%% (%.2fM events/s)\n", 100.0 * (k - lo) / MAX(hi - lo, 1), events / (now - t0) / 1e6);
      last = now;
    }
  }
  pc_synth_customer_clear(&cu);
  if ((fe && ferror(fe)) || (fc && ferror(fc))) {
    pc_set_error(error, PC_ERROR_IO, "%s: write failed", o->csv);
    return FALSE;
  }
  return TRUE;
}

/* Rank 0 concatenates the CSV parts in rank order behind one header. */
static gboolean join_parts(const char *path, const char *header, int P,
                           GError **error) {
  g_autofree char *tmp = g_strdup_printf("%s.tmp", path);
  FILE *out = fopen(tmp, "w");
  if (!out) {
    pc_set_error(error, PC_ERROR_IO, "%s: %s", tmp, g_strerror(errno));
    return FALSE;
  }
  fputs(header, out);
  gboolean ok = TRUE;
  char buf[1 << 16];
  for (int r = 0; r < P && ok; r++) {
    g_autofree char *part = g_strdup_printf("%s.part%d", path, r);
    FILE *in = fopen(part, "r");
    size_t n;
    ok = in != NULL;
    while (ok && (n = fread(buf, 1, sizeof buf, in)) > 0) ok = fwrite(buf, 1, n, out) == n;
    if (in) fclose(in);
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

static gboolean generate(PcComm *c, const GenOpts *o, GError **error) {
  int r = pc_comm_rank(c), P = pc_comm_size(c);
  g_autoptr(PcSynth) syn = pc_synth_new((uint64_t)o->seed, (uint64_t)o->customers);
  g_autofree char *staging = NULL;
  gboolean ok = TRUE;
  if (r == 0) ok = (staging = pc_store_staging_dir(o->out, FALSE, error)) != NULL;
  if (!pc_comm_agree(c, ok, error)) return FALSE;
  size_t sl = r == 0 ? strlen(staging) + 1 : 0;
  pc_comm_bcast_bytes(c, (void **)&staging, &sl);
  g_autofree char *cpath = o->csv ? customers_csv_path(o->csv) : NULL;
  g_autofree char *epart = o->csv ? g_strdup_printf("%s.part%d", o->csv, r) : NULL;
  g_autofree char *cpart = o->csv ? g_strdup_printf("%s.part%d", cpath, r) : NULL;
  FILE *fe = epart ? fopen(epart, "w") : NULL, *fc = cpart ? fopen(cpart, "w") : NULL;
  if (o->csv && (!fe || !fc)) {
    pc_set_error(error, PC_ERROR_IO, "%s: %s", o->csv, g_strerror(errno));
    ok = FALSE;
  }
  PcShardBuilder *b = pc_shard_builder_new((uint64_t)o->buckets);
  ok = ok && generate_part(c, o, syn, b, fe, fc, error);
  if (fe) fclose(fe);
  if (fc) fclose(fc);
  g_autoptr(PcShardData) shard = pc_shard_builder_finish(b);
  g_autofree char *name = pc_store_shard_name(1, r);
  g_autofree char *path = g_build_filename(staging, name, NULL);
  uint64_t n[2] = {shard->n_events, shard->n_customers};
  ok = ok && pc_h5io_write_shard(path, shard, "{\"batch\":1,\"generated\":true}", error);
  g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func(g_free);
  for (int q = 0; q < P; q++) g_ptr_array_add(files, pc_store_shard_name(1, q));
  if (!pc_comm_agree(c, ok, error)) {
    if (r == 0) pc_store_abandon(o->out, staging, FALSE, files);
    return FALSE;
  }
  pc_comm_sum_u64(c, n, 2);
  if (r == 0) {
    g_autofree char *truth = pc_synth_truth_json(syn);
    g_autofree char *tp = g_build_filename(staging, "truth.json", NULL);
    ok = g_file_set_contents(tp, truth, -1, NULL);
    if (ok && o->csv)
      ok = join_parts(o->csv, "customer_id,timestamp,channel,event,value\n", P, error) &&
           join_parts(cpath, "customer_id,revenue,segment\n", P, error);
    ok = ok && pc_store_commit(o->out, staging, NULL, (uint64_t)o->buckets, files, error);
    if (!ok) pc_store_abandon(o->out, staging, FALSE, files);
    else if (!o->quiet)
      fprintf(stderr, "parcours: generate: %s: %" G_GUINT64_FORMAT " events, %" G_GUINT64_FORMAT " customers, %d shards (truth: %s/truth.json)\n", o->out, n[0], n[1], P, o->out);
  }
  return pc_comm_agree(c, ok, error);
}

int pc_cmd_generate(PcComm *c, int argc, char **argv) {
  GenOpts o = {NULL, NULL, 0, 1, 4096, FALSE};
  GOptionEntry entries[] = {
      {"output", 'o', 0, G_OPTION_ARG_FILENAME, &o.out, "Store directory to create", "STORE"},
      {"customers", 'n', 0, G_OPTION_ARG_INT64, &o.customers, "Number of customers (about 10 events each)", "N"},
      {"seed", 0, 0, G_OPTION_ARG_INT64, &o.seed, "Seed of the world (default 1); same seed -> same events for any P", "S"},
      {"csv", 0, 0, G_OPTION_ARG_FILENAME, &o.csv, "Also write the events as canonical CSV to FILE, and the customers table to FILE-customers.csv (FILE without .csv)", "FILE"},
      {"buckets", 0, 0, G_OPTION_ARG_INT64, &o.buckets, "Bucket count B of the store (default 4096)", "B"},
      {"quiet", 'q', 0, G_OPTION_ARG_NONE, &o.quiet, "No progress lines", NULL},
      {NULL, 0, 0, 0, NULL, NULL, NULL}};
  int status;
  if (!pc_cmd_parse(c, "generate", "-o STORE --customers N",
                    "Writes a seeded synthetic omnichannel world (docs/generate.md) as a store, one shard per rank,\n"
                    "with the customers table and STORE/truth.json, the planted effects.",
                    NULL, entries, &argc, &argv, &status))
    return status;
  int rc = 0;
  if (!o.out || o.customers <= 0 || o.buckets <= 0 || o.buckets > (INT64_C(1) << 31) || argc != 1) {
    if (pc_comm_rank(c) == 0) fprintf(stderr, "parcours generate: -o STORE and --customers N > 0 are required, --buckets 1..2^31 (see --help)\n");
    rc = 2;
  } else {
    g_autoptr(GError) e = NULL;
    if (!generate(c, &o, &e)) {
      pc_cmd_fail(c, "generate", e);
      rc = 1;
    }
  }
  g_free(o.out);
  g_free(o.csv);
  return rc;
}
