/* report.c - report.html (pc_report.h): the table of sections and the
 * page they make, pc_report_render().
 *
 * Owns the order of the sections and the page frame (head, navigation bar,
 * main, footer). Each section is one function in a sec_*.c file; a new
 * analysis adds its section as one function and one line in sections[].
 * The file work (results.h5, run.json, the store's batch records, the
 * atomic write) is report_file.c; the command is src/cli/cmd_report.c.
 *
 * Invariants (pc_report.h): rendering is pure, tables and text in, a string
 * out; the page contains no time, directory or process id, so the same
 * tables and run.json give the same bytes; it stays under
 * PC_REPORT_MAX_BYTES because every section caps its rows.
 */
#include "report_int.h"

#include <string.h>

/* ---- the sections, in page order ----------------------------------------- */

typedef struct {
  const char *id;     /* the <section> id and the navigation anchor */
  const char *title;  /* <h2> and navigation text, HTML as is */
  PcSectionFn render; /* FALSE: nothing to show, section left out */
} PcSection;

static const PcSection sections[] = {
    {"summary", "Summary", pc_sec_summary},
    {"journeys", "Journeys", pc_sec_journeys},
    {"transitions", "Transitions", pc_sec_transitions},
    {"flows", "Around an event", pc_sec_flows},
    {"preceding", "Before the outcome", pc_sec_preceding},
    {"funnels", "Funnels", pc_sec_funnels},
    {"drivers", "Drivers of the outcome", pc_sec_drivers},
    {"sequences", "Sequences that drive it", pc_sec_sequences},
    {"time_to_target", "Time to the outcome", pc_sec_time_to_target},
    {"channels", "Channels", pc_sec_channels},
    {"attribution_models", "More attribution models", pc_sec_attribution_models},
    {"model", "Outcome model", pc_sec_model},
    {"segments", "Segments", pc_sec_segments},
    {"retention", "Retention", pc_sec_retention},
    {"run", "Run", pc_sec_run},
    {"quality", "Data quality", pc_sec_quality},
};

/* ---- the page ---------------------------------------------------------------- */

/* The target name(s) from run.json's job ("a, b or c"), or NULL. An entry
 * that is not a string or a number reads "?". */
static char *target_name(JsonNode *run) {
  JsonArray *ev = pc_rjson_array(pc_rjson_get(run, "job.target.event"));
  guint n = ev ? json_array_get_length(ev) : 0;
  if (!n) return NULL;
  GString *s = g_string_new(NULL);
  for (guint i = 0; i < n; i++) {
    g_autofree char *e = pc_rjson_text(json_array_get_element(ev, i), NULL);
    if (i) g_string_append(s, i + 1 == n ? " or " : ", ");
    g_string_append(s, e ? e : "?");
  }
  return g_string_free(s, FALSE);
}

/* Draws one section into p->h; a section with nothing to show leaves
 * neither bytes nor a navigation link behind. */
static void draw_section(PcPage *p, const PcSection *s, GString *nav) {
  gsize mark = p->h->len;
  g_string_append_printf(p->h, "<section id=\"%s\"><h2>%s</h2>", s->id, s->title);
  if (!s->render(p)) {
    g_string_truncate(p->h, mark);
    return;
  }
  g_string_append(p->h, "</section>\n");
  g_string_append_printf(nav, "<a href=\"#%s\">%s</a>", s->id, s->title);
}

char *pc_report_render(const PcReportInput *in) {
  g_return_val_if_fail(in != NULL, NULL);
  PcPage p = {in, g_string_new(NULL), pc_rjson_parse(in->run_json), NULL};
  p.target = target_name(p.run);
  g_autoptr(GString) nav = g_string_new(NULL);
  for (guint i = 0; i < G_N_ELEMENTS(sections); i++) draw_section(&p, &sections[i], nav);
  GString *out = g_string_sized_new(p.h->len + 16384);
  pc_html_head(out, &p);
  g_string_append_printf(out, "<nav class=\"toc\"><div class=\"wrap\">%s</div></nav>\n<main class=\"wrap\">\n", nav->str);
  g_string_append_len(out, p.h->str, (gssize)p.h->len);
  if (!p.h->len)
    g_string_append(out, "<section><h2>No results</h2><p class=\"lede\">results.h5 holds none of the tables this report draws.</p></section>");
  g_string_append(out, "</main><footer class=\"wrap\">Every number in a table is the value of results.h5, written as in csv/. "
                       "Charts round for reading. Written by parcours report.</footer></body></html>\n");
  g_string_free(p.h, TRUE);
  if (p.run) json_node_unref(p.run);
  g_free(p.target);
  g_assert(out->len < PC_REPORT_MAX_BYTES);
  return g_string_free(out, FALSE);
}
