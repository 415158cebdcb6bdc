/* cmd_common.c - what every subcommand shares: option parsing with GOption
 * (help texts on rank 0 only) and failure messages.
 *
 * Every single-valued option (string, file name, integer, number) is
 * parsed here, not by GOption, through a callback that sees each
 * occurrence: GOption alone keeps the last of `-o X -o Y` and silently
 * drops X, reads "010" as 8 and "nan" as a number. The rules, the same for
 * every command: an option given twice is an error naming it and both
 * values; an empty value is an error; integers are plain decimal; numbers
 * are finite. Flags (-q) may repeat; list options (--set) collect.
 */
#include "pc_cmd.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>

/* An entry of the command's table parsed by on_value, and its first value. */
typedef struct {
  const GOptionEntry *e;
  char *first;
} Seen;

typedef struct {
  Seen *opts;
  guint n;
} ParseState;

static void state_free(gpointer p) {
  ParseState *st = p;
  for (guint i = 0; i < st->n; i++) g_free(st->opts[i].first);
  g_free(st->opts);
  g_free(st);
}

static gboolean single_valued(GOptionArg a) {
  return a == G_OPTION_ARG_STRING || a == G_OPTION_ARG_FILENAME || a == G_OPTION_ARG_INT ||
         a == G_OPTION_ARG_INT64 || a == G_OPTION_ARG_DOUBLE;
}

static Seen *find(ParseState *st, const char *name) {
  for (guint i = 0; i < st->n; i++) {
    const GOptionEntry *e = st->opts[i].e;
    if ((name[1] == '-' && !strcmp(name + 2, e->long_name)) ||
        (name[1] != '-' && name[1] == e->short_name && !name[2]))
      return &st->opts[i];
  }
  return NULL;
}

/* value into the entry's variable by its type; FALSE with a message. */
static gboolean store(const GOptionEntry *e, const char *name,
                      const char *value, GError **error) {
  if (e->arg == G_OPTION_ARG_STRING || e->arg == G_OPTION_ARG_FILENAME) {
    *(char **)e->arg_data = g_strdup(value);
    return TRUE;
  }
  if (e->arg == G_OPTION_ARG_DOUBLE) {
    char *end = NULL;
    errno = 0;
    double d = g_ascii_strtod(value, &end);
    if (*end || errno || !isfinite(d)) {
      g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "%s: \"%s\" is not a finite number", name, value);
      return FALSE;
    }
    *(double *)e->arg_data = d;
    return TRUE;
  }
  gint64 v;
  gint64 lo = e->arg == G_OPTION_ARG_INT ? G_MININT : G_MININT64, hi = e->arg == G_OPTION_ARG_INT ? G_MAXINT : G_MAXINT64;
  if (!g_ascii_string_to_signed(value, 10, lo, hi, &v, NULL) || value[0] == '+') {
    g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "%s: \"%s\" is not a plain decimal integer", name, value);
    return FALSE;
  }
  if (e->arg == G_OPTION_ARG_INT) *(gint *)e->arg_data = (gint)v;
  else *(gint64 *)e->arg_data = v;
  return TRUE;
}

static gboolean on_value(const char *name, const char *value, gpointer data,
                         GError **error) {
  Seen *s = find(data, name);
  g_return_val_if_fail(s != NULL, FALSE);
  const char *lname = s->e->long_name;
  if (s->first) {
    g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "--%s given twice (\"%s\", then \"%s\"): give it once", lname, s->first, value);
    return FALSE;
  }
  if (!*value) {
    g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "--%s: empty value", lname);
    return FALSE;
  }
  g_autofree char *shown = g_strdup_printf("--%s", lname);
  if (!store(s->e, shown, value, error)) return FALSE;
  s->first = g_strdup(value);
  return TRUE;
}

/* The group of the command's entries, single-valued ones through
 * on_value. The entries' table must outlive the context. */
static GOptionGroup *wrap_entries(const GOptionEntry *entries) {
  guint n = 0;
  while (entries[n].long_name) n++;
  ParseState *st = g_new0(ParseState, 1);
  st->opts = g_new0(Seen, n + 1);
  GOptionEntry *w = g_new0(GOptionEntry, n + 1);
  for (guint i = 0; i < n; i++) {
    w[i] = entries[i];
    if (!single_valued(entries[i].arg)) continue;
    st->opts[st->n++].e = &entries[i];
    w[i].arg = G_OPTION_ARG_CALLBACK;
    w[i].arg_data = (gpointer)on_value;
    if (entries[i].arg == G_OPTION_ARG_FILENAME) w[i].flags |= G_OPTION_FLAG_FILENAME;
  }
  GOptionGroup *g = g_option_group_new("main", "", "", st, state_free);
  g_option_group_add_entries(g, w);
  g_free(w); /* the group copies the entries */
  return g;
}

gboolean pc_cmd_parse(PcComm *c, const char *name, const char *params,
                      const char *summary, const char *description,
                      GOptionEntry *entries, int *argc, char ***argv,
                      int *status) {
  g_autofree char *title = g_strdup(params);
  GOptionContext *ctx = g_option_context_new(title);
  g_option_context_set_summary(ctx, summary);
  if (description) g_option_context_set_description(ctx, description);
  g_option_context_set_main_group(ctx, wrap_entries(entries));
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
