/* retention.c - the "retention" analysis module (spec §13): cohorts of
 * customers by the period (day, Monday-week, calendar month, UTC) of their
 * first kept event (the entry event under scope.entry_event), and per
 * cohort and offset j < N the customers active in period cohort + j
 * (retention.csv).
 *
 * Owns per cohort one int64 row [customers, active_0 .. active_N-1] and the
 * latest kept event of the instance. Rows and the latest event cross ranks
 * by one gather to rank 0, where rows of the same cohort are added and the
 * latest event is the maximum: exact integers and an exact maximum, so the
 * table is the same for any split of the customers. Does not own the
 * calendar (pc_time.h) nor the scope (applied by the engine). No MPI, no
 * HDF5.
 *
 * Invariant: the table has a row for every cohort (ascending) and every
 * j < N whose period starts no later than the period of the latest kept
 * event of the run, whatever return_event is.
 */
#include "pc_module.h"
#include "pc_stats.h"
#include "pc_time.h"

#include <stdlib.h>

typedef struct {
  PcPeriod period;
  guint N;
  int64_t ret;          /* return_event id, -1: any event */
  GHashTable *row_of;   /* cohort -> row + 1 (direct keys: int64 in a pointer) */
  GArray *cohort;       /* int64 per row */
  GArray *cnt;          /* int64 [row][1 + N] */
  int64_t last_us;      /* latest kept event, INT64_MIN before any */
  guint8 *seen;         /* scratch [N] of one journey */
} Retention;

G_STATIC_ASSERT(sizeof(gpointer) >= sizeof(int64_t));

static gboolean retention_enabled(const PcJobConfig *cfg) {
  return cfg->retention;
}

static void *retention_create(const PcModuleEnv *env, GError **error) {
  const PcJobConfig *cfg = env->cfg;
  Retention *m = g_new0(Retention, 1);
  m->period = cfg->retention_period;
  m->N = cfg->retention_periods ? cfg->retention_periods : 12;
  m->ret = cfg->return_event ? pc_dict_find(env->names->events, cfg->return_event) : -1;
  /* a return event absent from the store (hand-made configurations) is
   * never matched: -2 is no event id */
  if (cfg->return_event && m->ret < 0) m->ret = -2;
  m->row_of = g_hash_table_new(g_direct_hash, g_direct_equal);
  m->cohort = g_array_new(FALSE, FALSE, sizeof(int64_t));
  m->cnt = g_array_new(FALSE, TRUE, sizeof(int64_t));
  m->last_us = INT64_MIN;
  m->seen = g_new0(guint8, m->N);
  return m;
}

/* The row of cohort c, created empty on first use. */
static int64_t *row(Retention *m, int64_t c) {
  gpointer key = (gpointer)(intptr_t)c;
  guint r = GPOINTER_TO_UINT(g_hash_table_lookup(m->row_of, key));
  if (!r) {
    g_array_append_val(m->cohort, c);
    g_array_set_size(m->cnt, m->cnt->len + 1 + m->N);
    r = m->cohort->len;
    g_hash_table_insert(m->row_of, key, GUINT_TO_POINTER(r));
  }
  return &g_array_index(m->cnt, int64_t, (size_t)(r - 1) * (1 + m->N));
}

/* Events are in time order, so the period only moves forward: it is
 * recomputed only when an event passes the end of the current one. */
static void retention_add(void *self, const PcJourneyView *jv) {
  Retention *m = self;
  const PcJourney *j = jv->j;
  int64_t c = pc_time_period_of(j->ev[0].ts_us, m->period);
  int64_t *r = row(m, c), p = c;
  int64_t end = pc_time_period_start(c + 1, m->period);
  memset(m->seen, 0, m->N);
  r[0]++;
  for (size_t i = 0; i < j->n; i++) {
    int64_t ts = j->ev[i].ts_us;
    if (ts >= end) {
      p = pc_time_period_of(ts, m->period);
      if (p - c >= (int64_t)m->N) break;
      end = pc_time_period_start(p + 1, m->period);
    }
    if (m->ret != -1 && (int64_t)j->ev[i].event != m->ret) continue;
    if (!m->seen[p - c]) {
      m->seen[p - c] = 1;
      r[1 + p - c]++;
    }
  }
  m->last_us = MAX(m->last_us, j->ev[j->n - 1].ts_us);
}

/* dst += the rows of a packed buffer: n rows of (cohort, 1 + N counts). */
static void add_rows(Retention *d, const int64_t *v, size_t n) {
  for (size_t k = 0; k < n; k++, v += 2 + d->N) {
    int64_t *r = row(d, v[0]);
    pc_stats_add_i64(r, v + 1, 1 + d->N);
  }
}

/* The instance as int64s: latest event, rows, then (cohort, counts) per
 * row. */
static GArray *pack(const Retention *m) {
  GArray *a = g_array_new(FALSE, FALSE, sizeof(int64_t));
  int64_t head[2] = {m->last_us, (int64_t)m->cohort->len};
  g_array_append_vals(a, head, 2);
  for (guint k = 0; k < m->cohort->len; k++) {
    g_array_append_val(a, g_array_index(m->cohort, int64_t, k));
    g_array_append_vals(a, &g_array_index(m->cnt, int64_t, (size_t)k * (1 + m->N)), 1 + m->N);
  }
  return a;
}

static void retention_merge(void *dst, void *src) {
  Retention *d = dst;
  g_autoptr(GArray) a = pack(src);
  const int64_t *v = (const int64_t *)(void *)a->data;
  d->last_us = MAX(d->last_us, v[0]);
  add_rows(d, v + 2, (size_t)v[1]);
}

/* Every rank's rows to rank 0, which adds them to its own (the other
 * ranks keep theirs: only rank 0 makes tables). */
static gboolean retention_reduce(void *self, const PcModuleEnv *env,
                                 GError **error) {
  Retention *m = self;
  const PcCommOps *ops = env->ops;
  g_autoptr(GArray) mine = ops->rank == 0 ? g_array_new(FALSE, FALSE, sizeof(int64_t)) : pack(m);
  g_autoptr(GByteArray) all = NULL;
  if (!ops->gather(ops->ctx, mine->data, mine->len * sizeof(int64_t), &all, error))
    return FALSE;
  if (ops->rank != 0) return TRUE;
  size_t n = all->len / sizeof(int64_t);
  g_autofree int64_t *v = g_memdup2(all->data, all->len);
  for (size_t at = 0; at + 2 <= n;) {
    m->last_us = MAX(m->last_us, v[at]);
    add_rows(m, v + at + 2, (size_t)v[at + 1]);
    at += 2 + (size_t)v[at + 1] * (2 + m->N);
  }
  return TRUE;
}

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return x < y ? -1 : x > y;
}

static gboolean retention_tables(void *self, const PcModuleEnv *env,
                                 PcOutputs *out, GError **error) {
  static const char *const cols[] = {"cohort:string", "period:int", "customers:int",
                                     "active:int", "rate:double"};
  Retention *m = self;
  PcTable *t = pc_table_new("retention", cols, G_N_ELEMENTS(cols));
  guint nc = m->cohort->len;
  g_autofree int64_t *sorted = g_new(int64_t, nc + 1);
  if (nc) memcpy(sorted, m->cohort->data, (size_t)nc * sizeof(int64_t));
  qsort(sorted, nc, sizeof(int64_t), cmp_i64);
  int64_t last = nc ? pc_time_period_of(m->last_us, m->period) : 0;
  for (guint k = 0; k < nc; k++) {
    const int64_t *r = row(m, sorted[k]);
    char date[PC_TIME_ISO_BYTES];
    pc_time_format_date(pc_time_period_start(sorted[k], m->period), date);
    for (guint j = 0; j < m->N && sorted[k] + j <= last; j++) {
      pc_table_add_row(t);
      pc_table_set_string(t, 0, date);
      pc_table_set_int(t, 1, j);
      pc_table_set_int(t, 2, r[0]);
      pc_table_set_int(t, 3, r[1 + j]);
      pc_table_set_double(t, 4, pc_stats_ratio((double)r[1 + j], (double)r[0]));
    }
  }
  pc_outputs_add(out, t);
  return TRUE;
}

static void retention_destroy(void *self) {
  Retention *m = self;
  if (!m) return;
  g_hash_table_unref(m->row_of);
  g_array_unref(m->cohort);
  g_array_unref(m->cnt);
  g_free(m->seen);
  g_free(m);
}

const PcModule pc_module_retention = {
    .name = "retention",
    .enabled = retention_enabled,
    .create = retention_create,
    .add = retention_add,
    .merge = retention_merge,
    .reduce = retention_reduce,
    .tables = retention_tables,
    .destroy = retention_destroy,
};
