/* progress.c - progress lines and peak memory (pc_progress.h). */
#include "pc_progress.h"

#include <stdarg.h>
#include <stdio.h>

void pc_progress(PcComm *c, gboolean quiet, const char *fmt, ...) {
  if (quiet || pc_comm_rank(c) != 0) return;
  va_list ap;
  va_start(ap, fmt);
  g_autofree char *msg = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  fprintf(stderr, "parcours: %s\n", msg);
  fflush(stderr);
}

uint64_t pc_peak_rss_bytes(void) {
  g_autofree char *text = NULL;
  if (!g_file_get_contents("/proc/self/status", &text, NULL, NULL)) return 0;
  const char *p = strstr(text, "VmHWM:");
  return p ? g_ascii_strtoull(p + 6, NULL, 10) * 1024 : 0;
}
