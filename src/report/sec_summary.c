/* sec_summary.c - section "summary" of report.html: every row of the
 * summary table as a KPI card (report_int.h).
 *
 * Owns the friendly labels of the summary keys; an unknown key shows under
 * its own name. The value of a card is the cell as csv/ writes it.
 */
#include "report_int.h"

#include <stdio.h>
#include <string.h>

static const struct {
  const char *key, *label, *hint;
} summary_keys[] = {
    {"customers", "Customers", "with at least one kept event"},
    {"events", "Events", "kept in the time window"},
    {"journeys", "Journeys", "per customer, or per session"},
    {"customers_with_outcome", "Reached the target", NULL},
    {"customers_without_revenue", "Without revenue", "absent from the customers table"},
    {"nps_invalid", "Invalid NPS responses", "not an integer 0..10; excluded"},
};

/* The row's card; the outcome card adds its share of customers. */
static void summary_card(PcPage *p, const PcTable *t, guint r, int64_t customers) {
  const char *key = pc_cell_s(t, r, "key"), *label = key, *hint = NULL;
  char buf[PC_MONEY_BYTES], hb[96], pb[32];
  for (guint k = 0; k < G_N_ELEMENTS(summary_keys); k++)
    if (!strcmp(key, summary_keys[k].key)) {
      label = summary_keys[k].label;
      hint = summary_keys[k].hint;
    }
  if (!strcmp(key, "customers_with_outcome") && customers > 0) {
    snprintf(hb, sizeof hb, "%s of customers",
             pc_html_pct(pb, (double)pc_cell_i(t, r, "value") / (double)customers));
    hint = hb;
  }
  g_autofree char *id = g_strdup_printf("summary-%s", key);
  g_autofree char *sid = pc_html_id_of(id);
  pc_html_kpi(p->h, label, sid, pc_cell_fmt(t, r, pc_cell_col(t, "value"), buf), hint);
}

gboolean pc_sec_summary(PcPage *p) {
  const PcTable *t = pc_cell_table(p->in, "summary");
  if (!t) return FALSE;
  g_string_append(p->h, "<div class=\"kpis\">");
  int64_t customers = 0;
  for (guint r = 0; r < pc_table_nrows(t); r++)
    if (!strcmp(pc_cell_s(t, r, "key"), "customers")) customers = pc_cell_i(t, r, "value");
  for (guint r = 0; r < pc_table_nrows(t) && r < MAX_ROWS; r++) summary_card(p, t, r, customers);
  g_string_append(p->h, "</div>");
  return TRUE;
}
