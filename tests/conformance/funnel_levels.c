/* funnel_levels.c - parcours' side of the ClickHouse differential test of
 * spec §5 (`make conformance`, tests/conformance/windowfunnel.mjs): reads
 * funnel cases, one per line, and prints the level parcours' kernels give
 * each. A case line (tab-separated):
 *
 *   ID  WINDOW  MODE  STEPS  EVENTS
 *
 * WINDOW and the timestamps are integers in one unit (`--scale S` turns
 * them into µs; default 1: they are µs); MODE is a ';'-list of windowFunnel
 * options or "-" for the default definition; STEPS is a ','-list of event
 * names, EVENTS a ' '-list of TS:NAME in any order. Output: "ID\tLEVEL".
 * The journey is built as parcours builds one (spec §2 order: timestamp,
 * then event name bytes), then handed to pc_funnel_level or
 * pc_funnel_mode_level exactly as the funnels module does.
 *
 * `--hand` prints the hand-checked cases of tests/unit/funnel_cases.h in
 * this format (unit: seconds) with their expected level as a sixth field.
 */
#include "../unit/funnel_cases.h"
#include "pc_funnels.h"

#include <stdio.h>
#include <stdlib.h>

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_ev(const void *a, const void *b) { return pc_event_cmp(a, b); }

static guint mode_bits(const char *s) {
  if (!strcmp(s, "-") || !*s) return 0;
  g_auto(GStrv) v = g_strsplit(s, ";", -1);
  guint bits = 0;
  for (guint i = 0; v[i]; i++) {
    guint c = 0;
    while (pc_config_funnel_modes[c] && strcmp(pc_config_funnel_modes[c], g_strstrip(v[i]))) c++;
    if (!pc_config_funnel_modes[c]) {
      fprintf(stderr, "unknown mode %s\n", v[i]);
      exit(2);
    }
    bits |= 1u << c;
  }
  return bits;
}

/* Event ids are the ranks of the names in bytewise order, as in a store. */
static int64_t name_id(char **names, guint n, const char *s) {
  char **hit = bsearch(&s, names, n, sizeof *names, cmp_str);
  return hit ? hit - names : -1;
}

static guint one_case(char **f, int64_t scale) {
  g_auto(GStrv) steps = g_strsplit(f[3], ",", -1);
  g_auto(GStrv) evs = g_strsplit(f[4], " ", -1);
  guint ns = g_strv_length(steps), ne = 0;
  g_autoptr(GPtrArray) names = g_ptr_array_new();
  for (guint i = 0; i < ns; i++) g_ptr_array_add(names, steps[i]);
  for (guint i = 0; evs[i]; i++)
    if (*evs[i]) g_ptr_array_add(names, strchr(evs[i], ':') + 1);
  g_ptr_array_sort(names, cmp_str);
  g_autofree PcEvent *ev = g_new0(PcEvent, g_strv_length(evs) + 1);
  for (guint i = 0; evs[i]; i++) {
    if (!*evs[i]) continue;
    char *colon = strchr(evs[i], ':');
    ev[ne].ts_us = g_ascii_strtoll(evs[i], NULL, 10) * scale;
    ev[ne++].event = (uint32_t)name_id((char **)names->pdata, names->len, colon + 1);
  }
  qsort(ev, ne, sizeof *ev, cmp_ev);
  g_autofree int64_t *step_ev = g_new(int64_t, ns);
  for (guint i = 0; i < ns; i++) step_ev[i] = name_id((char **)names->pdata, names->len, steps[i]);
  PcFunnelSpec spec;
  pc_funnel_spec_init(&spec, ns, step_ev, NULL, g_ascii_strtoll(f[1], NULL, 10) * scale, mode_bits(f[2]));
  PcFunnelWork *w = pc_funnel_work_new(ns);
  guint level = spec.mode ? pc_funnel_mode_level(&spec, ev, ne, w) : pc_funnel_level(&spec, ev, ne, w, NULL);
  pc_funnel_work_free(w);
  pc_funnel_spec_clear(&spec);
  return level;
}

int main(int argc, char **argv) {
  int64_t scale = 1;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--scale") && i + 1 < argc) scale = g_ascii_strtoll(argv[++i], NULL, 10);
    else if (!strcmp(argv[i], "--hand")) {
      for (size_t c = 0; c < G_N_ELEMENTS(funnel_cases); c++) {
        const FunnelCase *k = &funnel_cases[c];
        printf("%s\t%lld\t%s\t%s\t%s\t%u\n", k->name, k->window_s, *k->mode ? k->mode : "-",
               k->steps, k->events, k->level);
      }
      return 0;
    } else {
      fprintf(stderr, "usage: funnel_levels [--scale S] < CASES | funnel_levels --hand\n");
      return 2;
    }
  }
  char line[1 << 16];
  while (fgets(line, sizeof line, stdin)) {
    line[strcspn(line, "\n")] = '\0';
    g_auto(GStrv) f = g_strsplit(line, "\t", -1);
    if (g_strv_length(f) < 5) {
      fprintf(stderr, "bad line: %s\n", line);
      return 2;
    }
    printf("%s\t%u\n", f[0], one_case(f, scale));
  }
  return 0;
}
