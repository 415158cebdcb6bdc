/* pc_report.h - report.html: one self-contained page (inline CSS and SVG,
 * no script, nothing loaded from the network) drawn from a run's tables.
 *
 * src/report/ owns the page (docs/report.md lists its files). Rendering is
 * pure (tables and text in, a string out) so unit tests need no files;
 * pc_run_report() (pc_run.h) does the file work and `parcours report
 * OUTDIR` (pc_cmd.h, src/cli/cmd_report.c) wraps it.
 *
 * Invariants: every number the page shows in a table cell is the table's
 * value formatted by the CSV rules of spec §10 (pc_fmt_double,
 * pc_fmt_micros, integers in decimal); every string is HTML-escaped; the
 * page is at most PC_REPORT_MAX_BYTES whatever the size of the tables.
 */
#ifndef PC_REPORT_H
#define PC_REPORT_H

#include "pc_table.h"

#define PC_REPORT_MAX_BYTES (2u << 20) /* bytes; rows shown are capped */

/* ---- API ----------------------------------------------------------------- */

typedef struct {
  GPtrArray *tables;      /* PcTable*, borrowed, found by pc_table_name() */
  const char *run_json;   /* text of run.json, or NULL (read with json-glib) */
  GPtrArray *ingest_json; /* char*: the store's batch records (JSON), or NULL */
} PcReportInput;

/* The whole page. Sections whose tables are absent are left out; an
 * unreadable run.json only drops the run section. Cannot fail. Caller
 * g_free()s. */
char *pc_report_render(const PcReportInput *in);

/* Appends s (len bytes, or up to NUL when len < 0) to out with & < > " '
 * escaped and control bytes replaced by U+FFFD. Cannot fail. */
void pc_report_escape(GString *out, const char *s, gssize len);

#endif
