/* testhook.c - stopping points for the crash and concurrency tests
 * (pc_testhook.h). Owns nothing; reads PARCOURS_TEST_HOOK each time, so a
 * test sets it per command. Invariant: without the variable, no point does
 * anything.
 */
#include "pc_testhook.h"

#include <signal.h>
#include <stdio.h>

void pc_test_hook(const char *point) {
  const char *h = g_getenv("PARCOURS_TEST_HOOK");
  size_t n = strlen(point);
  if (!h || strncmp(h, point, n) != 0 || h[n] != ':') return;
  const char *action = h + n + 1;
  guint64 s;
  if (!strcmp(action, "kill")) {
    fflush(NULL);
    raise(SIGKILL);
  } else if (g_str_has_prefix(action, "sleep=") &&
             g_ascii_string_to_unsigned(action + 6, 10, 0, 3600, &s, NULL)) {
    /* said first, so that a test can act while this one waits */
    fprintf(stderr, "parcours: test hook %s: sleeping %" G_GUINT64_FORMAT " s\n", point, s);
    g_usleep(s * G_USEC_PER_SEC);
  } else {
    fprintf(stderr, "parcours: warning: PARCOURS_TEST_HOOK: unknown action \"%s\"\n", action);
  }
}
