/* sec_run.c - sections "run" and "quality" of report.html (report_int.h):
 * how the run went, from run.json, and what ingest accepted, from the
 * store's batch records (STORE/batch-NNNNNN.json).
 *
 * Owns which run.json figures the page shows and how it prints them.
 * run.json is written by src/cli/cmd_run.c (run_json()); the page prints
 * an integer as written and any other number with the precision run_json()
 * uses for that figure (seconds and imbalance "%.6f", events per second
 * "%.1f"), so a card reads as run.json does.
 *
 * Invariants: the run section needs a numeric wall_s, which only the full
 * run.json has: `parcours run` draws its page from the job alone (no
 * timings), so that page is the same at any scale. A member that is absent
 * or of the wrong type drops its card, row or cell, never the page.
 */
#include "report_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define RUN_SECONDS "%.6f" /* seconds, as run_json() writes them */

/* ---- run ------------------------------------------------------------------ */

static const struct {
  const char *label, *key; /* key: a dotted path of run.json, and the card id */
  const char *dfmt, *unit; /* dfmt: how a non-integer prints (pc_rjson_text) */
} run_facts[] = {
    {"Ranks", "ranks", NULL, ""},
    {"Threads per rank", "threads", NULL, ""},
    {"Partition strategy", "plan.strategy", NULL, ""},
    {"Plan imbalance (cost)", "plan.imbalance_cost", "%.6f", ""},
    {"Plan imbalance (events)", "plan.imbalance_events", "%.6f", ""},
    {"Wall time", "wall_s", RUN_SECONDS, " s"},
    {"Events per second", "events_per_s", "%.1f", ""},
};

static void run_cards(PcPage *p) {
  for (guint i = 0; i < G_N_ELEMENTS(run_facts); i++) {
    g_autofree char *v = pc_rjson_text(pc_rjson_get(p->run, run_facts[i].key), run_facts[i].dfmt);
    if (!v) continue;
    g_autofree char *id = g_strdup_printf("run-%s", run_facts[i].key);
    g_autofree char *sid = pc_html_id_of(id);
    g_autofree char *text = g_strdup_printf("%s%s", v, run_facts[i].unit);
    pc_html_kpi(p->h, run_facts[i].label, sid, text, NULL);
  }
}

/* phases.total, or the longest phase when total is absent or not > 0. */
static double phases_total(JsonObject *ph, GList *names) {
  double total = 0, v;
  if (pc_rjson_number(json_object_get_member(ph, "total"), &total) && total > 0) return total;
  total = 0;
  for (GList *l = names; l; l = l->next)
    if (pc_rjson_number(json_object_get_member(ph, l->data), &v)) total = MAX(total, v);
  return total;
}

/* One row per numeric member of "phases", in run.json's order. */
static void run_phases(PcPage *p) {
  JsonObject *ph = pc_rjson_object(pc_rjson_get(p->run, "phases"));
  g_autoptr(GList) names = ph ? json_object_get_members(ph) : NULL;
  double total = ph ? phases_total(ph, names) : 0, v;
  guint rows = 0;
  g_string_append(p->h, "<div><h3>Time per phase (slowest rank)</h3><div class=\"tw\"><table><tbody>");
  for (GList *l = names; l && rows < 4 * MAX_ROWS; l = l->next) {
    JsonNode *node = json_object_get_member(ph, l->data);
    if (!pc_rjson_number(node, &v)) continue;
    g_autofree char *text = pc_rjson_text(node, RUN_SECONDS);
    g_string_append(p->h, "<tr><th>");
    pc_html_esc_max(p->h, l->data, 63);
    g_string_append(p->h, "</th><td>");
    pc_html_bar(p->h, total > 0 ? v / total : 0, strcmp(l->data, "total") ? "" : "dark");
    g_string_append(p->h, "</td><td class=\"num\">");
    pc_html_esc(p->h, text);
    g_string_append(p->h, " s</td></tr>");
    rows++;
  }
  g_string_append(p->h, "</tbody></table></div></div>");
}

/* Element r of the array at path as text; NULL when absent. */
static char *rank_item(PcPage *p, const char *path, guint r) {
  JsonArray *a = pc_rjson_array(pc_rjson_get(p->run, path));
  if (!a || r >= json_array_get_length(a)) return NULL;
  return pc_rjson_text(json_array_get_element(a, r), NULL);
}

/* Element r of peak_rss_bytes as a number; 0 when absent. */
static double rank_rss(JsonArray *rss, guint r) {
  double v = 0;
  if (rss && r < json_array_get_length(rss) && !pc_rjson_number(json_array_get_element(rss, r), &v)) v = 0;
  return v;
}

/* One row per rank (peak_rss_bytes says how many), the first MAX_ROWS. */
static void run_ranks(PcPage *p) {
  static const char *const cols[] = {"#Rank", "#Events", "#Customers", "#Buckets", "#Bytes read", "#Peak RSS", "", NULL};
  static const char *const arr[] = {"events_per_rank", "plan.rank_customers", "plan.rank_buckets", "bytes_read_per_rank"};
  JsonArray *rss = pc_rjson_array(pc_rjson_get(p->run, "peak_rss_bytes"));
  guint P = rss ? json_array_get_length(rss) : 0, n = MIN(P, MAX_ROWS);
  double top = 0;
  for (guint r = 0; r < P; r++) top = MAX(top, rank_rss(rss, r));
  if (!n) return;
  g_string_append(p->h, "<div><h3>Per rank</h3>");
  pc_html_thead(p->h, cols);
  for (guint r = 0; r < n; r++) {
    g_string_append_printf(p->h, "<tr><td class=\"num\">%u</td>", r);
    for (guint a = 0; a < G_N_ELEMENTS(arr); a++) {
      g_autofree char *s = rank_item(p, arr[a], r);
      pc_html_td(p->h, NULL, s ? s : "");
    }
    double v = rank_rss(rss, r);
    g_string_append_printf(p->h, "<td class=\"num\">%.1f MiB</td><td>", v / 1048576.0);
    pc_html_bar(p->h, top > 0 ? v / top : 0, "");
    g_string_append(p->h, "</td></tr>");
  }
  pc_html_tfoot(p->h);
  if (P > n) pc_html_note(p->h, "The first %u of %u ranks; run.json has all.", n, P);
  g_string_append(p->h, "</div>");
}

gboolean pc_sec_run(PcPage *p) {
  double wall;
  if (!pc_rjson_number(pc_rjson_get(p->run, "wall_s"), &wall)) return FALSE;
  g_string_append(p->h, "<p class=\"lede\">How the work was spread and how long it took (from run.json; timings vary "
                        "between runs, results do not).</p>");
  g_string_append(p->h, "<div class=\"kpis\">");
  run_cards(p);
  g_string_append(p->h, "</div><div class=\"grid2\">");
  run_phases(p);
  run_ranks(p);
  g_string_append(p->h, "</div>");
  return TRUE;
}

/* ---- data quality ------------------------------------------------------------ */

/* Adds v to reason's count; a new reason goes last. */
static void reason_add(GPtrArray *reasons, GHashTable *by, const char *reason, uint64_t v) {
  uint64_t *sum = g_hash_table_lookup(by, reason);
  if (!sum) {
    char *key = g_strdup(reason);
    g_ptr_array_add(reasons, key);
    sum = g_new0(uint64_t, 1);
    g_hash_table_insert(by, key, sum);
  }
  *sum += v;
}

/* The figures of the events table in one batch record into tot (rows,
 * accepted, rejected) and of the customers table into cust (rows,
 * rejected). A record written before parcours kept them apart has only
 * rows/accepted/rejected of both tables: they count as events, as they
 * did. A figure that is not an integer >= 0 adds nothing. */
static void quality_figures(JsonNode *j, uint64_t tot[3], uint64_t cust[2]) {
  static const char *const old[3] = {"rows", "accepted", "rejected"};
  uint64_t v, r = 0, x = 0;
  if (!pc_rjson_member(j, "event_rows")) {
    for (int k = 0; k < 3; k++)
      if (pc_rjson_u64(pc_rjson_member(j, old[k]), &v)) tot[k] += v;
    return;
  }
  if (pc_rjson_u64(pc_rjson_member(j, "event_rows"), &v)) r = v;
  if (pc_rjson_u64(pc_rjson_member(j, "event_rejected"), &v) && v <= r) x = v;
  tot[0] += r, tot[1] += r - x, tot[2] += x;
  if (pc_rjson_u64(pc_rjson_member(j, "customer_rows"), &v)) cust[0] += v;
  if (pc_rjson_u64(pc_rjson_member(j, "customer_rejected"), &v)) cust[1] += v;
}

/* Sums of the batch records: event rows, accepted, rejected; customers-
 * table rows and rejected; rejected rows per reason (reasons in order of
 * first appearance). A record that is not JSON adds nothing. */
static void quality_sum(const GPtrArray *recs, uint64_t tot[3], uint64_t cust[2],
                        GPtrArray *reasons, GHashTable *by) {
  for (guint b = 0; b < recs->len; b++) {
    g_autoptr(JsonNode) j = pc_rjson_parse(g_ptr_array_index(recs, b));
    uint64_t v;
    quality_figures(j, tot, cust);
    JsonObject *o = pc_rjson_object(pc_rjson_member(j, "rejected_by_reason"));
    g_autoptr(GList) names = o ? json_object_get_members(o) : NULL;
    for (GList *l = names; l; l = l->next)
      if (pc_rjson_u64(json_object_get_member(o, l->data), &v)) reason_add(reasons, by, l->data, v);
  }
}

static void quality_reasons(PcPage *p, GPtrArray *reasons, GHashTable *by, uint64_t rejected) {
  char pb[32];
  static const char *const cols[] = {"Reason", "#Rows", "", NULL};
  g_string_append(p->h, "<h3>Rejected rows by reason</h3>");
  pc_html_thead_cls(p->h, cols, "narrow");
  for (guint i = 0; i < reasons->len && i < MAX_ROWS; i++) {
    const char *r = g_ptr_array_index(reasons, i);
    uint64_t v = *(uint64_t *)g_hash_table_lookup(by, r);
    g_autofree char *rid = pc_html_id_of(r);
    g_autofree char *id = g_strdup_printf("ingest-rejected-%s", rid);
    snprintf(pb, 32, "%" PRIu64, v);
    g_string_append(p->h, "<tr><td class=\"lbl\">");
    pc_html_esc_max(p->h, r, 63);
    g_string_append(p->h, "</td>");
    pc_html_td(p->h, id, pb);
    g_string_append(p->h, "<td>");
    pc_html_bar(p->h, rejected ? (double)v / (double)rejected : 0, "red");
    g_string_append(p->h, "</td></tr>");
  }
  pc_html_tfoot(p->h);
}

gboolean pc_sec_quality(PcPage *p) {
  const GPtrArray *recs = p->in->ingest_json;
  if (!recs || !recs->len) return FALSE;
  uint64_t tot[3] = {0, 0, 0}, cust[2] = {0, 0};
  g_autoptr(GPtrArray) reasons = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GHashTable) by = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);
  quality_sum(recs, tot, cust, reasons, by);
  g_string_append(p->h, "<p class=\"lede\">Rows read by ingest into the store this run used, summed over its batches: "
                        "events, and apart from them the rows of the customers table. "
                        "Rejected rows are listed with file, line and reason in the store's rejects files.</p>");
  char b[5][32], pb[32], hb[64], cb[64];
  for (int k = 0; k < 3; k++) snprintf(b[k], 32, "%" PRIu64, tot[k]);
  snprintf(b[3], 32, "%" PRIu64, cust[0]);
  snprintf(hb, sizeof hb, "%s of rows", pc_html_pct(pb, tot[0] ? (double)tot[2] / (double)tot[0] : 0));
  snprintf(cb, sizeof cb, "%" PRIu64 " rejected", cust[1]);
  g_string_append(p->h, "<div class=\"kpis\">");
  snprintf(pb, sizeof pb, "%u", recs->len);
  pc_html_kpi(p->h, "Batches", NULL, pb, NULL);
  pc_html_kpi(p->h, "Event rows", "ingest-rows", b[0], NULL);
  pc_html_kpi(p->h, "Accepted", "ingest-accepted", b[1], NULL);
  pc_html_kpi(p->h, "Rejected", "ingest-rejected", b[2], hb);
  if (cust[0]) pc_html_kpi(p->h, "Customers-table rows", "ingest-customer-rows", b[3], cb);
  g_string_append(p->h, "</div>");
  if (reasons->len) quality_reasons(p, reasons, by, tot[2] + cust[1]);
  return TRUE;
}
