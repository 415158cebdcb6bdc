/* outputs.c - PcOutputs (pc_module.h): the tables a run produces, collected
 * on rank 0 from the modules in module-table order, plus the rows of
 * summary.csv, which several modules contribute and which becomes the first
 * table. Owns the tables until pc_outputs_finish() hands them over.
 * No MPI, no HDF5, no file I/O.
 */
#include "pc_module.h"

struct PcOutputs {
  GPtrArray *tables;               /* PcTable *, owned */
  uint64_t summary[PC_SUMMARY_N];
  gboolean has[PC_SUMMARY_N];
};

/* The keys of summary.csv, in the order of pc_module.h's PcSummaryKey. */
static const char *const summary_keys[PC_SUMMARY_N] = {
    "customers", "events", "journeys", "customers_with_outcome",
    "customers_without_revenue", "nps_invalid"};

PcOutputs *pc_outputs_new(void) {
  PcOutputs *o = g_new0(PcOutputs, 1);
  o->tables = g_ptr_array_new_with_free_func((GDestroyNotify)pc_table_free);
  return o;
}

void pc_outputs_free(PcOutputs *o) {
  if (!o) return;
  g_ptr_array_unref(o->tables);
  g_free(o);
}

void pc_outputs_add(PcOutputs *o, PcTable *t) {
  g_return_if_fail(o && t);
  g_ptr_array_add(o->tables, t);
}

void pc_outputs_summary(PcOutputs *o, PcSummaryKey key, uint64_t value) {
  g_return_if_fail(o && key < PC_SUMMARY_N);
  o->summary[key] = value;
  o->has[key] = TRUE;
}

static PcTable *summary_table(const PcOutputs *o) {
  static const char *const cols[] = {"key:string", "value:int"};
  PcTable *t = pc_table_new("summary", cols, 2);
  for (guint k = 0; k < PC_SUMMARY_N; k++) {
    if (!o->has[k]) continue;
    pc_table_add_row(t);
    pc_table_set_string(t, 0, summary_keys[k]);
    pc_table_set_int(t, 1, (int64_t)o->summary[k]);
  }
  return t;
}

GPtrArray *pc_outputs_finish(PcOutputs *o) {
  GPtrArray *all = g_ptr_array_new_with_free_func((GDestroyNotify)pc_table_free);
  g_ptr_array_add(all, summary_table(o));
  for (guint i = 0; i < o->tables->len; i++)
    g_ptr_array_add(all, g_ptr_array_index(o->tables, i));
  g_ptr_array_set_free_func(o->tables, NULL);
  g_ptr_array_set_size(o->tables, 0);
  g_ptr_array_set_free_func(o->tables, (GDestroyNotify)pc_table_free);
  memset(o->has, 0, sizeof o->has);
  return all;
}
