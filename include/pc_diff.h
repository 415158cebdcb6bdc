/* pc_diff.h - `parcours diff PREV CUR -o DIR` (spec §14): two output
 * directories of `parcours run` compared table by table, for the monthly
 * question "what changed since last month?".
 *
 * The work lives in the report layer (src/report/), next to the page
 * helpers it reuses: diff.c reads the two directories (results.h5 through
 * pc_h5io.h, else csv/) and writes DIR atomically (pc_outdir.h);
 * diff_table.c compares one table (pure: text cells in, a table out);
 * diff_page.c draws DIR/report.html (pure). The command is
 * src/cli/cmd_diff.c. No MPI: the diff is rank 0's work.
 *
 * Invariants: every cell is compared as the text csv/ writes (spec §10),
 * so both sources give the same DIR; deltas are exact (integers, money in
 * 128-bit millionths) or the difference of the two printed doubles; rows
 * are the union of both sides' keys, CUR's order first, then the keys only
 * PREV has in PREV's order.
 */
#ifndef PC_DIFF_H
#define PC_DIFF_H

#include "pc_signals.h"
#include "pc_table.h"

/* ---- API: the command's work ----------------------------------------------- */

typedef struct {
  const char *prev;  /* output directory of the earlier run */
  const char *cur;   /* output directory of the later run */
  const char *out;   /* DIR: written as DIR.tmp-PID, then renamed */
  gboolean force;    /* replace a DIR that parcours wrote */
  gboolean quiet;    /* no progress line */
  PcSignals *sig;    /* the staging directory is removed on a signal; may be NULL */
} PcDiffOpts;

/* Compares o->prev and o->cur into o->out: DIR/csv/<table>_diff.csv for
 * every compared table both have, DIR/diff.json, DIR/report.html. FALSE
 * with *error: PC_ERROR_IO (a directory that holds neither results.h5 nor
 * csv/, an unreadable file), PC_ERROR_FORMAT (a table that cannot be
 * read), PC_ERROR_EXISTS / PC_ERROR_CONFIG (DIR, as pc_outdir_open; DIR may
 * not be, hold or lie inside PREV or CUR). Nothing is left under DIR on
 * failure. Rank 0 only. */
gboolean pc_diff_run(const PcDiffOpts *o, GError **error);

/* ---- API: one table (pure) ---------------------------------------------------- */

/* A table as the text of its cells, exactly as csv/ writes them. */
typedef struct {
  char *name;       /* "funnels" */
  GPtrArray *cols;  /* char *: column names */
  GPtrArray *rows;  /* char **: cols->len cells each (a NULL-terminated strv) */
} PcTextTable;

/* The cells of t as text (the rules of spec §10). Cannot fail. Caller
 * frees with pc_text_table_free(). */
PcTextTable *pc_text_table_from(const PcTable *t);
/* A csv/ file (a header line, LF line ends, no quoting) as a table called
 * name. FALSE with PC_ERROR_FORMAT (no header, a row of another width).
 * Caller frees *out with pc_text_table_free(). */
gboolean pc_text_table_parse(const char *name, const char *text,
                             PcTextTable **out, GError **error);
void pc_text_table_free(PcTextTable *t);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PcTextTable, pc_text_table_free)

/* TRUE when spec §14 compares the table called name. */
gboolean pc_diff_compares(const char *name);

/* The table "<name>_diff" of spec §14 for prev and cur (same name, a
 * compared table): the key columns, then per compared column <col>_prev,
 * <col>_cur, <col>_delta (empty when a side lacks the row or a cell is
 * empty), and for funnels z and p_value. Every column is a string column
 * holding CSV text. A column absent from a side reads as empty cells.
 * Caller frees with pc_table_free(). */
PcTable *pc_diff_table(const PcTextTable *prev, const PcTextTable *cur);

/* The two-proportion z test with pooled proportion of x1 of n1 (PREV)
 * against x2 of n2 (CUR): *z (OUT) = (x2/n2 - x1/n1) / sqrt(p(1-p)(1/n1 +
 * 1/n2)), p = (x1 + x2)/(n1 + n2), and the two-sided *p_value (OUT) =
 * erfc(|z|/sqrt 2). Both nan when n1 or n2 is 0 or the pooled variance is
 * 0. Cannot fail. */
void pc_diff_ztest(int64_t x1, int64_t n1, int64_t x2, int64_t n2, double *z,
                   double *p_value);

/* ---- API: the page (pure) ------------------------------------------------------ */

typedef struct {
  const char *prev, *cur;  /* the directories as given */
  GPtrArray *tables;       /* PcTable *: the diff tables, borrowed */
  GPtrArray *only_prev;    /* char *: tables only PREV has */
  GPtrArray *only_cur;     /* char *: tables only CUR has */
  GPtrArray *job;          /* char *: (key, prev, cur) triples, JSON text
                            * ("" when a side lacks the key) */
} PcDiffPage;

/* DIR/report.html: one self-contained page of the largest changes
 * (summary, funnel steps, drivers, NPS, attribution, segments, variants
 * moving in or out of the top, tables and settings). Sections whose table
 * is absent are left out; at most PC_REPORT_MAX_BYTES (pc_report.h).
 * Cannot fail. Caller g_free()s. */
char *pc_diff_render(const PcDiffPage *in);

#endif
