/* cmd_inspect.c - `parcours inspect STORE` (what a store holds) and
 * `parcours plan STORE --ranks P` (the plan rank 0 would make, from the
 * bucket index alone). Rank 0 does the work; others wait for its verdict.
 *
 * inspect opens the store with pc_store_open_meta (MANIFEST, every shard's
 * index and dictionaries, bucket counts checked), then scans the event
 * columns bucket by bucket for the date range (pc_time_format_iso: any
 * year, year 0 included) and the name counts; --dump prints every event in
 * a canonical order (bucket, customer id, journey key) that does not
 * depend on how many ranks ingested the store.
 *
 * Owns the text of both reports. Does not own the store's layout or its
 * checks (src/store) nor the partition strategies (plan.c).
 */
#include "pc_cmd.h"
#include "pc_config.h"
#include "pc_h5io.h"
#include "pc_plan.h"
#include "pc_store.h"
#include "pc_time.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct {
  GHashTable *ch, *ev;   /* name -> count */
  int64_t tmin, tmax;
  uint64_t events, customers, crm;
} Stats;

static void count_name(GHashTable *h, const char *name) {
  gpointer v = g_hash_table_lookup(h, name);
  g_hash_table_insert(h, (gpointer)name, GSIZE_TO_POINTER(GPOINTER_TO_SIZE(v) + 1));
}

typedef struct {
  const char *id;
  uint32_t len;
  const char *ch, *ev;
  int64_t ts, value;
} DumpRow;

static int cmp_dump(const void *pa, const void *pb) {
  const DumpRow *a = pa, *b = pb;
  int c = pc_bytes_cmp(a->id, a->len, b->id, b->len);
  if (c) return c;
  if (a->ts != b->ts) return a->ts < b->ts ? -1 : 1;
  if ((c = strcmp(a->ev, b->ev))) return c;
  if ((c = strcmp(a->ch, b->ch))) return c;
  return a->value < b->value ? -1 : a->value > b->value;
}

/* Appends shard s's events of one bucket (from cursor *at) to rows and
 * counts them into st. */
static void collect_bucket(const PcShardMeta *m, const PcShardData *d,
                           uint32_t bucket, uint64_t *at, Stats *st,
                           GArray *rows) {
  uint64_t end = *at + d->bucket_events[bucket];
  for (uint64_t k = *at; k < end; k++) {
    const char *ch = m->channels->names[d->ev_channel[k]];
    const char *en = m->events->names[d->ev_event[k]];
    count_name(st->ch, ch);
    count_name(st->ev, en);
    st->tmin = MIN(st->tmin, d->ev_ts[k]);
    st->tmax = MAX(st->tmax, d->ev_ts[k]);
    uint32_t c = d->ev_customer[k];
    DumpRow r = {(const char *)d->id_bytes + d->id_offsets[c], (uint32_t)(d->id_offsets[c + 1] - d->id_offsets[c]), ch, en, d->ev_ts[k], d->ev_value[k]};
    g_array_append_val(rows, r);
  }
  st->events += end - *at;
  *at = end;
}

/* One bucket's rows of every shard, sorted canonically: distinct customers
 * counted and (dump) every row printed. */
static void emit_bucket(GArray *rows, Stats *st, gboolean dump) {
  qsort(rows->data, rows->len, sizeof(DumpRow), cmp_dump);
  for (guint k = 0; k < rows->len; k++) {
    DumpRow *r = &g_array_index(rows, DumpRow, k);
    if (!k || pc_bytes_cmp(r->id, r->len, r[-1].id, r[-1].len)) st->customers++;
    if (dump) {
      char v[PC_MONEY_BYTES];
      fwrite(r->id, 1, r->len, stdout);
      printf(",%" PRId64 ",%s,%s,%s\n", r->ts, r->ch, r->ev, pc_fmt_micros(v, r->value));
    }
  }
}

/* Buckets [b0, b1) across all shards, read with one hyperslab union per
 * shard: stats, distinct customers and (dump) rows in canonical order. */
static gboolean scan_buckets(const PcStoreMeta *o, uint32_t b0, uint32_t b1,
                             Stats *st, gboolean dump, GError **error) {
  guint nb = b1 - b0;
  g_autofree uint32_t *bs = g_new(uint32_t, nb);
  for (guint i = 0; i < nb; i++) bs[i] = b0 + i;
  g_autoptr(GPtrArray) d = g_ptr_array_new_with_free_func((GDestroyNotify)pc_shard_data_free);
  g_autofree uint64_t *at = g_new0(uint64_t, o->n); /* event cursor per shard */
  uint64_t bytes_read = 0;
  for (guint s = 0; s < o->n; s++) {
    PcShardData *slice = NULL;
    if (!pc_h5io_read_buckets(o->meta[s], bs, nb, &slice, &bytes_read, error)) return FALSE;
    g_ptr_array_add(d, slice);
    st->crm += slice->n_crm;
  }
  g_autoptr(GArray) rows = g_array_new(FALSE, FALSE, sizeof(DumpRow));
  for (guint i = 0; i < nb; i++) {
    g_array_set_size(rows, 0);
    for (guint s = 0; s < o->n; s++)
      collect_bucket(o->meta[s], g_ptr_array_index(d, s), bs[i], &at[s], st, rows);
    emit_bucket(rows, st, dump);
  }
  return TRUE;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void print_counts(const char *what, GHashTable *h) {
  guint n;
  const char **keys = (const char **)g_hash_table_get_keys_as_array(h, &n);
  qsort(keys, n, sizeof(char *), cmp_str);
  printf("%s: %u\n", what, n);
  for (guint i = 0; i < n; i++)
    printf("  %-40s %" G_GSIZE_FORMAT "\n", keys[i], GPOINTER_TO_SIZE(g_hash_table_lookup(h, keys[i])));
  g_free(keys);
}

static void print_balance(const PcStoreMeta *o) {
  uint64_t B = o->buckets, mn = UINT64_MAX, mx = 0, tot = 0;
  for (uint64_t b = 0; b < B; b++) {
    uint64_t e = 0;
    for (guint s = 0; s < o->n; s++) e += o->meta[s]->bucket_events[b];
    mn = MIN(mn, e);
    mx = MAX(mx, e);
    tot += e;
  }
  printf("bucket balance: events per bucket min %" G_GUINT64_FORMAT " mean %.1f max %" G_GUINT64_FORMAT "\n", mn, (double)tot / B, mx);
}

static gboolean inspect(const char *dir, gboolean dump, GError **error) {
  g_autoptr(PcStoreMeta) o = NULL;
  gboolean ok = pc_store_open_meta(dir, &o, error);
  Stats st = {g_hash_table_new(g_str_hash, g_str_equal), g_hash_table_new(g_str_hash, g_str_equal), INT64_MAX, INT64_MIN, 0, 0, 0};
  /* batches of consecutive buckets of about 4M events */
  for (uint64_t b0 = 0; ok && b0 < o->buckets;) {
    uint64_t b1 = b0, n = 0;
    while (b1 < o->buckets && (b1 == b0 || n < (UINT64_C(4) << 20))) {
      for (guint s = 0; s < o->n; s++) n += o->meta[s]->bucket_events[b1];
      b1++;
    }
    ok = scan_buckets(o, (uint32_t)b0, (uint32_t)b1, &st, dump, error);
    b0 = b1;
  }
  if (ok && !dump) {
    printf("store: %s\nformat: %s version %d\nbuckets: %" G_GUINT64_FORMAT "\nbatches: %u\nshards: %u\n", dir, PC_STORE_FORMAT, PC_STORE_VERSION, o->buckets, o->store->batches, o->n);
    for (guint s = 0; s < o->n; s++)
      printf("  %s: %" G_GUINT64_FORMAT " events, %" G_GUINT64_FORMAT " customers, %" G_GUINT64_FORMAT " customers-table rows\n", (char *)g_ptr_array_index(o->store->files, s), o->meta[s]->n_events, o->meta[s]->n_customers, o->meta[s]->n_crm);
    printf("events: %" G_GUINT64_FORMAT "\ncustomers: %" G_GUINT64_FORMAT "\ncustomers_table_rows: %" G_GUINT64_FORMAT "\n", st.events, st.customers, st.crm);
    if (st.events) {
      char a[PC_TIME_ISO_BYTES], b[PC_TIME_ISO_BYTES];
      printf("time range: %s .. %s\n", pc_time_format_iso(st.tmin, PC_TIME_FRAC_MICROS, a),
             pc_time_format_iso(st.tmax, PC_TIME_FRAC_MICROS, b));
    }
    print_counts("channels", st.ch);
    print_counts("events by name", st.ev);
    print_balance(o);
  }
  g_hash_table_destroy(st.ch);
  g_hash_table_destroy(st.ev);
  return ok;
}

int pc_cmd_inspect(PcComm *c, int argc, char **argv) {
  gboolean dump = FALSE;
  GOptionEntry entries[] = {
      {"dump", 0, 0, G_OPTION_ARG_NONE, &dump, "Print every event as customer_id,ts_us,channel,event,value in canonical order (bucket, customer, journey key) instead of the summary", NULL},
      {NULL, 0, 0, 0, NULL, NULL, NULL}};
  int status;
  if (!pc_cmd_parse(c, "inspect", "STORE", "Shows a store: format version, shards, counts, date range, channels and events with counts, bucket balance.",
                    "Reads the whole store (a full scan) on rank 0.", entries, &argc, &argv, &status))
    return status;
  if (argc != 2) {
    if (pc_comm_rank(c) == 0) fprintf(stderr, "parcours inspect: exactly one STORE is required\n");
    return 2;
  }
  g_autoptr(GError) e = NULL;
  gboolean ok = pc_comm_rank(c) != 0 || inspect(argv[1], dump, &e);
  if (!pc_comm_agree(c, ok, &e)) {
    pc_cmd_fail(c, "inspect", e);
    return 1;
  }
  return 0;
}

/* ---- plan ---------------------------------------------------------------------- */

static gboolean plan(const char *dir, gint64 ranks, char **sets, GError **error) {
  g_autoptr(PcStoreMeta) o = NULL;
  gboolean ok = pc_store_open_meta(dir, &o, error);
  /* partition settings come from --set partition.KEY=V over the defaults */
  GString *job = g_string_new("[input]\nstore = x\n[output]\ndir = x\n");
  g_autoptr(PcJobConfig) cfg = NULL;
  ok = ok && pc_config_load_data(job->str, "(plan)", sets, &cfg, error);
  g_string_free(job, TRUE);
  if (ok) {
    uint64_t B = o->buckets;
    g_autofree uint64_t *ev = g_new0(uint64_t, B), *cu = g_new0(uint64_t, B);
    for (guint s = 0; s < o->n; s++)
      for (uint64_t b = 0; b < B; b++) {
        ev[b] += o->meta[s]->bucket_events[b];
        cu[b] += o->meta[s]->bucket_customers[b];
      }
    g_autoptr(PcPlan) p = pc_plan_build(ev, cu, B, (int)ranks, cfg->strategy, cfg->cost_alpha);
    printf("store: %s\nbuckets: %" G_GUINT64_FORMAT "\nranks: %" G_GINT64_FORMAT "\nstrategy: %s\nalpha: %g\nimbalance_cost: %.6f\nimbalance_events: %.6f\n",
           dir, B, ranks, pc_plan_strategy_name(cfg->strategy), cfg->cost_alpha, p->imbalance_cost, p->imbalance_events);
    printf("rank,buckets,events,customers,cost,memory_estimate_bytes\n");
    for (int r = 0; r < (int)ranks; r++)
      printf("%d,%" G_GUINT64_FORMAT ",%" G_GUINT64_FORMAT ",%" G_GUINT64_FORMAT ",%.0f,%" G_GUINT64_FORMAT "\n", r, p->rank_buckets[r], p->rank_events[r], p->rank_customers[r], p->rank_cost[r], pc_plan_memory_estimate(p, r, cfg->batch_events, o->n));
  }
  return ok;
}

int pc_cmd_plan(PcComm *c, int argc, char **argv) {
  gint64 ranks = 0;
  g_auto(GStrv) sets = NULL;
  g_autofree char *strategy = NULL;
  GOptionEntry entries[] = {
      {"ranks", 'P', 0, G_OPTION_ARG_INT64, &ranks, "Number of ranks P to plan for (1..2^24; no need to have them)", "P"},
      {"strategy", 0, 0, G_OPTION_ARG_STRING, &strategy, "balanced (default), hash or range: same as --set partition.strategy=S", "S"},
      {"set", 's', 0, G_OPTION_ARG_STRING_ARRAY, &sets, "A partition setting, e.g. --set partition.alpha=4", "partition.KEY=VALUE"},
      {NULL, 0, 0, 0, NULL, NULL, NULL}};
  int status;
  if (!pc_cmd_parse(c, "plan", "STORE --ranks P",
                    "Prints the partition plan rank 0 would make for P ranks, from the bucket index alone: per-rank buckets,\n"
                    "events, customers, cost and estimated memory, and the predicted imbalance (max/mean).",
                    NULL, entries, &argc, &argv, &status))
    return status;
  if (argc != 2 || ranks < 1 || ranks > (1 << 24)) {
    if (pc_comm_rank(c) == 0) fprintf(stderr, "parcours plan: STORE and --ranks P (1..16777216) are required\n");
    return 2;
  }
  GPtrArray *all = g_ptr_array_new_with_free_func(g_free);
  for (char **s = sets; s && *s; s++) {
    if (!g_str_has_prefix(*s, "partition.")) {
      if (pc_comm_rank(c) == 0) fprintf(stderr, "parcours plan: --set %s: only partition.KEY settings apply here\n", *s);
      g_ptr_array_unref(all);
      return 2;
    }
    g_ptr_array_add(all, g_strdup(*s));
  }
  if (strategy) g_ptr_array_add(all, g_strdup_printf("partition.strategy=%s", strategy));
  g_ptr_array_add(all, NULL);
  g_autoptr(GError) e = NULL;
  gboolean ok = pc_comm_rank(c) != 0 || plan(argv[1], ranks, (char **)all->pdata, &e);
  g_ptr_array_unref(all);
  if (!pc_comm_agree(c, ok, &e)) {
    pc_cmd_fail(c, "plan", e);
    return 1;
  }
  return 0;
}
