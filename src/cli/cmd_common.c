/* cmd_common.c - what every subcommand shares: option parsing with GOption
 * (help texts on rank 0 only) and failure messages.
 */
#include "pc_cmd.h"

#include <stdarg.h>
#include <stdio.h>

gboolean pc_cmd_parse(PcComm *c, const char *name, const char *params,
                      const char *summary, const char *description,
                      GOptionEntry *entries, int *argc, char ***argv,
                      int *status) {
  g_autofree char *title = g_strdup(params);
  GOptionContext *ctx = g_option_context_new(title);
  g_option_context_set_summary(ctx, summary);
  if (description) g_option_context_set_description(ctx, description);
  g_option_context_add_main_entries(ctx, entries, NULL);
  g_option_context_set_help_enabled(ctx, FALSE);
  gboolean help = FALSE;
  GOptionEntry help_entry[] = {
      {"help", 'h', 0, G_OPTION_ARG_NONE, &help, "Show this help and exit", NULL},
      {NULL, 0, 0, 0, NULL, NULL, NULL}};
  g_option_context_add_main_entries(ctx, help_entry, NULL);
  GError *e = NULL;
  gboolean ok = g_option_context_parse(ctx, argc, argv, &e);
  if (ok && help) {
    if (pc_comm_rank(c) == 0) {
      g_autofree char *h = g_option_context_get_help(ctx, TRUE, NULL);
      fputs(h, stdout);
    }
    *status = 0;
    ok = FALSE;
  } else if (!ok) {
    if (pc_comm_rank(c) == 0)
      fprintf(stderr, "parcours %s: %s\n(see parcours %s --help)\n", name, e->message, name);
    g_error_free(e);
    *status = 2;
  }
  g_option_context_free(ctx);
  return ok;
}

void pc_cmd_fail(PcComm *c, const char *cmd, const GError *e) {
  if (pc_comm_rank(c) == 0)
    fprintf(stderr, "parcours %s: error: %s\n", cmd, e ? e->message : "failed");
}
