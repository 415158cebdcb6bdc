/* test_shardsort.c - PcShardSort (src/store/shardsort.c, shardsort_crm.c):
 * rows in scrambled order through budgets from "everything in memory" to
 * "a run every few hundred rows, merged in several passes" reach the sink
 * exactly as PcShardBuilder (the in-memory reference of test_shard.c)
 * orders them: customers by (bucket, id bytes), events by the journey key
 * with bytewise dictionary ids, customers-table rows by (bucket, id) with
 * the first of an id in (file, line) order kept and the others reported.
 *
 * The fixture is made by a seeded generator: ids of 1..40 bytes (beyond the
 * 16-byte keys, and ids that are prefixes of others), names arriving in
 * non-sorted order, repeated events (kept twice), 8 buckets.
 */
#include "pc_shard.h"
#include "pc_shardsort.h"
#include "pc_test.h"

#include <glib/gstdio.h>

#define B 8

typedef struct {
  char id[48];
  int64_t ts, value;
  const char *ch, *ev;
} Row;

typedef struct {
  char id[48];
  uint32_t file;
  uint64_t line;
  char text[96];
} CrmRow;

static const char *const CHANNELS[] = {"web", "app", "email", "sms", "call"};
static const char *const EVENTS[] = {"view", "click", "buy", "cart", "churn", "nps"};

/* n rows of about n/6 customers, in a scrambled order. */
static GArray *make_rows(guint n, guint32 seed) {
  GRand *r = g_rand_new_with_seed(seed);
  GArray *a = g_array_new(FALSE, TRUE, sizeof(Row));
  for (guint i = 0; i < n; i++) {
    Row w = {0};
    guint c = (guint)g_rand_int_range(r, 0, MAX(n / 6, 2));
    int pad = c % 7 == 0 ? 30 : c % 5 == 0 ? 14 : 0; /* some ids longer than 16 bytes */
    g_snprintf(w.id, sizeof w.id, "%s%0*u", c % 3 ? "cust" : "c", pad, c);
    if (c % 11 == 0) g_snprintf(w.id, sizeof w.id, "cust%u", c / 11); /* prefixes of others */
    w.ts = g_rand_int_range(r, 0, 50) * 1000000;
    w.value = g_rand_int_range(r, -3, 3);
    w.ch = CHANNELS[g_rand_int_range(r, 0, G_N_ELEMENTS(CHANNELS))];
    w.ev = EVENTS[g_rand_int_range(r, 0, G_N_ELEMENTS(EVENTS))];
    g_array_append_val(a, w);
    if (i % 9 == 0) g_array_append_val(a, w), i++; /* a duplicate event */
  }
  g_rand_free(r);
  return a;
}

/* Customers-table rows in (file, line) order, some ids repeated. */
static GArray *make_crm(guint n, guint32 seed) {
  GRand *r = g_rand_new_with_seed(seed);
  GArray *a = g_array_new(FALSE, TRUE, sizeof(CrmRow));
  for (guint i = 0; i < n; i++) {
    CrmRow w = {0};
    guint c = (guint)g_rand_int_range(r, 0, MAX(n * 3 / 4, 2));
    g_snprintf(w.id, sizeof w.id, "%s%u", c % 4 ? "cust" : "cust00000000000000000000", c);
    w.file = i < n / 2 ? 0 : 1;
    w.line = i + 2;
    g_snprintf(w.text, sizeof w.text, "%s,%d.5,seg%u", w.id, g_rand_int_range(r, 0, 1000), i % 3);
    g_array_append_val(a, w);
  }
  g_rand_free(r);
  return a;
}

static uint32_t bucket_of(const char *id) { return pc_bucket_of(id, strlen(id), B); }

/* ---- The sink: what the merge hands out, as text lines ---------------------------- */

typedef struct {
  GString *out;
  PcDict *ch, *ev;
  guint customers, dups;
} Capture;

static gboolean cap_customer(void *ctx, uint32_t bucket, const char *id, uint32_t len,
                             const PcEvent *ev, size_t n, GError **error) {
  Capture *c = ctx;
  g_string_append_printf(c->out, "C %u %.*s\n", bucket, (int)len, id);
  for (size_t i = 0; i < n; i++)
    g_string_append_printf(c->out, "  %" G_GINT64_FORMAT " %s %s %" G_GINT64_FORMAT "\n", ev[i].ts_us,
                           c->ev->names[ev[i].event], c->ch->names[ev[i].channel], ev[i].value);
  c->customers++;
  return TRUE;
}

static gboolean cap_crm(void *ctx, uint32_t bucket, const char *id, uint32_t len, int64_t revenue,
                        const char *seg, uint32_t seg_len, GError **error) {
  Capture *c = ctx;
  g_string_append_printf(c->out, "R %u %.*s %" G_GINT64_FORMAT " %.*s\n", bucket, (int)len, id, revenue, (int)seg_len, seg);
  return TRUE;
}

static void cap_dup(void *ctx, uint32_t file, uint64_t line, const char *text, uint32_t len) {
  Capture *c = ctx;
  g_string_append_printf(c->out, "D %u:%" G_GUINT64_FORMAT " %.*s\n", file, line, (int)len, text);
  c->dups++;
}

/* ---- The reference: PcShardBuilder, printed the same way --------------------------- */

static char *reference(const GArray *rows, const GArray *crm, guint *dups) {
  PcShardBuilder *b = pc_shard_builder_new(B);
  GString *d = g_string_new("");
  for (guint i = 0; i < rows->len; i++) {
    const Row *w = &g_array_index(rows, Row, i);
    pc_shard_builder_add_event(b, w->id, strlen(w->id), w->ts, w->ch, strlen(w->ch), w->ev, strlen(w->ev), w->value);
  }
  for (guint i = 0; i < crm->len; i++) {
    const CrmRow *w = &g_array_index(crm, CrmRow, i);
    PcCustomerRow row;
    pc_csv_parse_customer(w->text, strlen(w->text), &row);
    if (!pc_shard_builder_add_customer(b, row.id, row.id_len, row.revenue, row.segment, row.segment_len)) {
      g_string_append_printf(d, "D %u:%" G_GUINT64_FORMAT " %s\n", w->file, w->line, w->text);
      (*dups)++;
    }
  }
  g_autoptr(PcShardData) s = pc_shard_builder_finish(b);
  Capture c = {g_string_new(""), s->channels, s->events, 0, 0};
  uint64_t k = 0, e = 0, r = 0;
  for (uint32_t bk = 0; bk < B; bk++)
    for (uint64_t j = 0; j < s->bucket_customers[bk]; j++, k++) {
      uint64_t e0 = e;
      g_autofree PcEvent *ev = g_new(PcEvent, s->n_events + 1);
      for (; e < s->n_events && s->ev_customer[e] == k; e++)
        ev[e - e0] = (PcEvent){s->ev_ts[e], s->ev_value[e], s->ev_event[e], s->ev_channel[e]};
      cap_customer(&c, bk, (char *)s->id_bytes + s->id_offsets[k], s->id_offsets[k + 1] - s->id_offsets[k], ev, e - e0, NULL);
    }
  for (uint32_t bk = 0; bk < B; bk++)
    for (uint64_t j = 0; j < s->bucket_crm[bk]; j++, r++)
      cap_crm(&c, bk, (char *)s->crm_id_bytes + s->crm_id_offsets[r], s->crm_id_offsets[r + 1] - s->crm_id_offsets[r],
              s->crm_revenue[r], (char *)s->crm_seg_bytes + s->crm_seg_offsets[r], s->crm_seg_offsets[r + 1] - s->crm_seg_offsets[r], NULL);
  g_string_append(c.out, d->str);
  g_string_free(d, TRUE);
  return g_string_free(c.out, FALSE);
}

static int cmp_pstr(gconstpointer a, gconstpointer b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The rows through a sorter of mem bytes: the sink's text; *runs spilled. */
static char *sorted(const GArray *rows, const GArray *crm, size_t mem, guint *runs, guint *dups) {
  g_autofree char *dir = g_dir_make_tmp("pc-shardsort-XXXXXX", NULL);
  PcShardSort *s = pc_shardsort_new(B, dir, mem);
  gboolean added = TRUE;
  for (guint i = 0; i < rows->len; i++) {
    const Row *w = &g_array_index(rows, Row, i);
    PcCsvRow r = {w->id, (uint32_t)strlen(w->id), w->ts, w->ch, (uint32_t)strlen(w->ch), w->ev, (uint32_t)strlen(w->ev), w->value};
    added = added && pc_shardsort_add_event(s, bucket_of(w->id), &r, NULL);
  }
  /* the customers table arrives in any order too: reversed here */
  for (guint i = crm->len; i-- > 0;) {
    const CrmRow *w = &g_array_index(crm, CrmRow, i);
    added = added && pc_shardsort_add_crm(s, bucket_of(w->id), w->file, w->line, w->text, strlen(w->text), NULL);
  }
  CU_ASSERT(added);
  Capture c = {g_string_new(""), NULL, NULL, 0, 0};
  pc_shardsort_names(s, &c.ch, &c.ev);
  PcShardSink sink = {&c, cap_customer, cap_crm, cap_dup};
  g_autoptr(GError) e = NULL;
  CU_ASSERT(pc_shardsort_merge(s, &sink, &e));
  *runs = pc_shardsort_runs(s);
  *dups = c.dups;
  pc_shardsort_free(s);
  pc_dict_free(c.ch);
  pc_dict_free(c.ev);
  /* the duplicates were reported as the merge met them: in (bucket, id)
   * order; the reference lists them in (file, line) order */
  g_auto(GStrv) lines = g_strsplit(c.out->str, "\n", -1);
  GString *keep = g_string_new(""), *dl = g_string_new("");
  GPtrArray *d = g_ptr_array_new();
  for (char **l = lines; *l && **l; l++)
    if (**l == 'D') g_ptr_array_add(d, *l);
    else g_string_append_printf(keep, "%s\n", *l);
  g_ptr_array_sort(d, cmp_pstr);
  for (guint i = 0; i < d->len; i++) g_string_append_printf(dl, "%s\n", (char *)g_ptr_array_index(d, i));
  g_string_append(keep, dl->str);
  g_ptr_array_unref(d);
  g_string_free(dl, TRUE);
  g_string_free(c.out, TRUE);
  CU_ASSERT(g_rmdir(dir) == 0); /* no run file left behind, not even named */
  return g_string_free(keep, FALSE);
}

static char *sorted_dups(char *ref) { /* the reference's D lines sorted the same way */
  g_auto(GStrv) lines = g_strsplit(ref, "\n", -1);
  GString *keep = g_string_new("");
  GPtrArray *d = g_ptr_array_new();
  for (char **l = lines; *l && **l; l++)
    if (**l == 'D') g_ptr_array_add(d, *l);
    else g_string_append_printf(keep, "%s\n", *l);
  g_ptr_array_sort(d, cmp_pstr);
  for (guint i = 0; i < d->len; i++) g_string_append_printf(keep, "%s\n", (char *)g_ptr_array_index(d, i));
  g_ptr_array_unref(d);
  g_free(ref);
  return g_string_free(keep, FALSE);
}

/* Every budget gives the reference's rows; the small ones spill many runs
 * and (64 KiB: a fan-in of 4) merge them in several passes. */
static void test_budgets(void) {
  g_autoptr(GArray) rows = make_rows(20000, 7);
  g_autoptr(GArray) crm = make_crm(3000, 8);
  guint rdups = 0;
  g_autofree char *ref = sorted_dups(reference(rows, crm, &rdups));
  CU_ASSERT(rdups > 100);
  size_t mems[] = {(size_t)1 << 30, (size_t)1 << 20, (size_t)256 << 10, (size_t)64 << 10};
  guint prev_runs = 0;
  for (size_t i = 0; i < G_N_ELEMENTS(mems); i++) {
    guint runs = 0, dups = 0;
    g_autofree char *got = sorted(rows, crm, mems[i], &runs, &dups);
    CU_ASSERT_STRING_EQUAL(got, ref);
    CU_ASSERT_EQUAL(dups, rdups);
    if (i == 0) CU_ASSERT_EQUAL(runs, 0);
    if (i > 0) CU_ASSERT(runs > prev_runs);
    prev_runs = runs;
  }
  CU_ASSERT(prev_runs >= 20);
}

/* The hand-sized case: one customer's events split over runs, joined and
 * sorted again; names first seen in non-sorted order. */
static void test_one_customer_many_runs(void) {
  g_autoptr(GArray) rows = g_array_new(FALSE, TRUE, sizeof(Row));
  for (int i = 0; i < 5000; i++) {
    Row w = {"x", (int64_t)(5000 - i) / 2, i % 3 - 1, i % 2 ? "web" : "app", i % 4 ? "view" : "buy"};
    g_array_append_val(rows, w);
  }
  g_autoptr(GArray) crm = g_array_new(FALSE, TRUE, sizeof(CrmRow));
  guint rdups = 0, runs = 0, dups = 0;
  g_autofree char *ref = reference(rows, crm, &rdups);
  g_autofree char *got = sorted(rows, crm, 64 << 10, &runs, &dups);
  CU_ASSERT_STRING_EQUAL(got, ref);
  CU_ASSERT(runs >= 2);
  /* i = 4999 (ts 0), then ts 1: 4998 (view app -1) and 4997 (view web 1) */
  CU_ASSERT(g_str_has_prefix(got, "C 7 x\n  0 view web 0\n  1 view app -1\n  1 view web 1\n"));
}

PC_TEST_MAIN("shardsort", {"/shardsort/budgets", test_budgets},
             {"/shardsort/one_customer_many_runs", test_one_customer_many_runs})
