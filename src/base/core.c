/* core.c - the shared vocabulary of pc_core.h and pc_commops.h: the error
 * domain, sorted name dictionaries, the target cut of spec §4, the 128-bit
 * fixed-point numbers of exact sums and the serial PcCommOps.
 * No MPI, no HDF5, no global mutable state.
 */
#include "pc_core.h"
#include "pc_commops.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>

G_DEFINE_QUARK(pc-error-quark, pc_error)

void pc_set_error_at(GError **error, PcErrorCode code, const char *file,
                     int line, const char *fmt, ...) {
  if (!error) return;
  va_list ap;
  va_start(ap, fmt);
  g_autofree char *msg = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  if (g_getenv("PARCOURS_DEBUG")) {
    g_autofree char *where = g_strdup_printf("%s [%s:%d]", msg, file, line);
    g_set_error_literal(error, PC_ERROR, code, where);
    return;
  }
  g_set_error_literal(error, PC_ERROR, code, msg);
}

static int cmp_cstr(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* strcmp compares as unsigned char, which is bytewise memcmp order for
 * strings without NUL: what spec §2 asks. */
PcDict *pc_dict_new_sorted(char **names, guint n) {
  PcDict *d = g_new0(PcDict, 1);
  d->names = g_new0(char *, n + 1);
  for (guint i = 0; i < n; i++) d->names[i] = g_strdup(names[i]);
  qsort(d->names, n, sizeof(char *), cmp_cstr);
  guint w = 0;
  for (guint i = 0; i < n; i++) {
    if (w > 0 && strcmp(d->names[w - 1], d->names[i]) == 0) {
      g_free(d->names[i]);
      continue;
    }
    d->names[w++] = d->names[i];
  }
  d->names[w] = NULL;
  d->n = w;
  return d;
}

void pc_dict_free(PcDict *d) {
  if (!d) return;
  for (guint i = 0; i < d->n; i++) g_free(d->names[i]);
  g_free(d->names);
  g_free(d);
}

gint64 pc_dict_find(const PcDict *d, const char *name) {
  guint lo = 0, hi = d->n;
  while (lo < hi) {
    guint mid = lo + (hi - lo) / 2;
    int c = strcmp(d->names[mid], name);
    if (c == 0) return mid;
    if (c < 0) lo = mid + 1;
    else hi = mid;
  }
  return -1;
}

gint64 pc_dict_find_len(const PcDict *d, const void *name, size_t len) {
  guint lo = 0, hi = d->n;
  while (lo < hi) {
    guint mid = lo + (hi - lo) / 2;
    int c = pc_bytes_cmp(d->names[mid], strlen(d->names[mid]), name, len);
    if (c == 0) return mid;
    if (c < 0) lo = mid + 1;
    else hi = mid;
  }
  return -1;
}

static gboolean target_has(const PcTarget *t, uint32_t ev) {
  guint lo = 0, hi = t->n;
  while (lo < hi) {
    guint mid = lo + (hi - lo) / 2;
    if (t->events[mid] == ev) return TRUE;
    if (t->events[mid] < ev) lo = mid + 1;
    else hi = mid;
  }
  return FALSE;
}

gboolean pc_target_cut(const PcTarget *t, const PcJourney *j, size_t *cut) {
  if (t && t->n)
    for (size_t i = 0; i < j->n; i++)
      if (target_has(t, j->ev[i].event)) {
        *cut = i;
        return TRUE;
      }
  *cut = j->n;
  return FALSE;
}

/* ---- Fixed point ----------------------------------------------------------- */

#define PC_FIX_ONE 18446744073709551616.0 /* 2^64 */

PcFix pc_fix_from_double(double x) {
  g_return_val_if_fail(isfinite(x) && fabs(x) < 4.6e18, 0);
  if (x == 0) return 0;
  /* x = mi * 2^(e-53) exactly, |mi| < 2^53; value * 2^64 = mi * 2^sh. */
  int e;
  double m = frexp(fabs(x), &e);
  uint64_t mi = (uint64_t)ldexp(m, 53);
  int sh = e - 53 + 64;
  unsigned __int128 u;
  if (sh >= 0) u = (unsigned __int128)mi << sh;
  else if (sh > -64) u = ((unsigned __int128)mi + ((unsigned __int128)1 << (-sh - 1))) >> -sh;
  else u = 0;
  return x < 0 ? -(PcFix)u : (PcFix)u;
}

double pc_fix_to_double(PcFix f) {
  int neg = f < 0;
  unsigned __int128 u = neg ? (unsigned __int128)(-f) : (unsigned __int128)f;
  double hi = (double)(uint64_t)(u >> 64);
  double lo = (double)(uint64_t)u / PC_FIX_ONE;
  double r = hi + lo;
  return neg ? -r : r;
}

/* ---- Serial PcCommOps -------------------------------------------------------- */

static gboolean serial_sum_fix(void *ctx, PcFix *v, size_t n, GError **e) {
  return TRUE;
}
static gboolean serial_sum_i64(void *ctx, int64_t *v, size_t n, GError **e) {
  return TRUE;
}
static gboolean serial_gather(void *ctx, const void *mine, size_t len,
                              GByteArray **out, GError **e) {
  *out = g_byte_array_sized_new(len);
  g_byte_array_append(*out, mine, len);
  return TRUE;
}
static gboolean serial_bcast(void *ctx, void **buf, size_t *len, GError **e) {
  return TRUE;
}
static gboolean serial_exchange(void *ctx, GByteArray **send,
                                GByteArray **recv, GError **e) {
  if (!*recv) *recv = g_byte_array_new();
  g_byte_array_set_size(*recv, 0);
  g_byte_array_append(*recv, send[0]->data, send[0]->len);
  return TRUE;
}

const PcCommOps *pc_commops_serial(void) {
  static const PcCommOps ops = {NULL,           0,
                                1,              serial_sum_fix,
                                serial_sum_i64, serial_gather,
                                serial_bcast,   serial_exchange};
  return &ops;
}

const PcDict *pc_names_segments(const PcNames *nm) {
  static char *const unknown[] = {PC_SEGMENT_UNKNOWN};
  static const PcDict only_unknown = {1, (char **)unknown};
  return nm->segments ? nm->segments : &only_unknown;
}
