/* pc_modtest.h - a harness for the analysis modules in CUnit tests: the
 * whole module loop (pc_modset.h) of one rank over hand-made journeys, with
 * the serial PcCommOps, returning the tables exactly as a run writes them.
 * Header-only, for tests/unit/test_*.c.
 */
#ifndef PC_MODTEST_H
#define PC_MODTEST_H

#include "pc_journey.h"
#include "pc_modset.h"

#include <glib/gstdio.h>
#include <unistd.h>

typedef struct {
  PcJobConfig cfg;      /* shallow copy with unset defaults filled in */
  PcTarget target;      /* borrowed arrays */
  PcFacts facts;
  PcModuleEnv env;
  PcModSet *set;
  int threads;
  GArray *tok, *ts;
} PcModTest;

/* A loop over every module cfg enables (the model off unless asked), on
 * `threads` instances. nm and t (NULL: no target) must outlive it. NULL
 * with *error when a module refuses cfg. */
static inline PcModTest *pc_modtest_new(const PcJobConfig *cfg,
                                        const PcNames *nm, const PcTarget *t,
                                        gboolean has_crm, int threads,
                                        GError **error) {
  PcModTest *m = g_new0(PcModTest, 1);
  m->cfg = *cfg;
  if (!m->cfg.ngram_max) m->cfg.ngram_max = 1;
  if (!m->cfg.depth) m->cfg.depth = 1;
  if (!m->cfg.top_k) m->cfg.top_k = 1000;
  if (!m->cfg.min_support) m->cfg.min_support = 1;
  if (!m->cfg.sequence_max) m->cfg.sequence_max = 3;
  if (!m->cfg.sequence_min_customers) m->cfg.sequence_min_customers = 10;
  if (!m->cfg.half_life_s) m->cfg.half_life_s = 604800;
  if (!m->cfg.markov_order) m->cfg.markov_order = 1;
  if (t) m->target = *t;
  m->threads = threads;
  m->env = (PcModuleEnv){&m->cfg, nm, nm->events, &m->target, has_crm,
                         pc_commops_serial(), &m->facts, NULL};
  m->tok = g_array_new(FALSE, FALSE, sizeof(uint32_t));
  m->ts = g_array_new(FALSE, FALSE, sizeof(int64_t));
  m->set = pc_modset_new(&m->env, threads, error);
  if (!m->set) {
    g_array_unref(m->tok);
    g_array_unref(m->ts);
    g_free(m);
    return NULL;
  }
  return m;
}

static inline void pc_modtest_free(PcModTest *m) {
  if (!m) return;
  pc_modset_free(m->set);
  g_array_unref(m->tok);
  g_array_unref(m->ts);
  g_free(m);
}

/* One journey (events already in journey order) of segment id `segment`
 * (pc_names_segments of the harness's names) on thread `thread`. */
static inline void pc_modtest_add_seg(PcModTest *m, int thread,
                                      const PcEvent *ev, size_t n,
                                      const char *id, int64_t revenue,
                                      gboolean has_revenue, uint32_t segment) {
  PcJourney j = {id, (uint32_t)strlen(id), pc_fnv1a64(id, strlen(id)), ev, n,
                 revenue, has_revenue, segment};
  PcTokenMap tm = {PC_TOKEN_EVENT, NULL, m->env.names->events->n};
  PcJourneyView v;
  pc_journey_view(&v, &j, &m->target, &tm, m->env.has_crm, m->tok, m->ts);
  pc_modset_add(m->set, thread, &v);
}

/* One journey of segment 0 (PC_SEGMENT_UNKNOWN when the names have no
 * segment dictionary). */
static inline void pc_modtest_add(PcModTest *m, int thread, const PcEvent *ev,
                                  size_t n, const char *id, int64_t revenue,
                                  gboolean has_revenue) {
  pc_modtest_add_seg(m, thread, ev, n, id, revenue, has_revenue, 0);
}

/* Merges, reduces, builds every table (summary first). Once per harness. */
static inline GPtrArray *pc_modtest_tables(PcModTest *m) {
  GError *err = NULL;
  GPtrArray *t = pc_modset_run_serial(m->set, &err);
  if (err) g_printerr("pc_modtest_tables: %s\n", err->message);
  g_clear_error(&err);
  return t;
}

static inline const PcTable *pc_modtest_find(GPtrArray *tables,
                                             const char *name) {
  for (guint i = 0; tables && i < tables->len; i++)
    if (!strcmp(pc_table_name(tables->pdata[i]), name)) return tables->pdata[i];
  return NULL;
}

/* A summary.csv value, or -1 when the key is absent. */
static inline int64_t pc_modtest_summary(GPtrArray *tables, const char *key) {
  const PcTable *s = pc_modtest_find(tables, "summary");
  for (guint r = 0; s && r < pc_table_nrows(s); r++)
    if (!strcmp(pc_table_get_string(s, r, 0), key))
      return pc_table_get_int(s, r, 1);
  return -1;
}

/* The CSV bytes of a table (the exact form written to csv/). */
static inline char *pc_modtest_csv(const PcTable *t) {
  char *path = NULL, *text = NULL;
  int fd = g_file_open_tmp("pc-modtest-XXXXXX.csv", &path, NULL);
  if (fd >= 0) close(fd);
  if (path && pc_table_write_csv(t, path, NULL))
    g_file_get_contents(path, &text, NULL, NULL);
  if (path) g_unlink(path);
  g_free(path);
  return text;
}

#endif
