/* pc_run.h - hooks of the run's epilog implemented by other modules. */
#ifndef PC_RUN_H
#define PC_RUN_H

#include "pc_core.h"

/* Writes dir/report.html from the run's tables, dir/run.json and the
 * store's batch records when present (src/report/report_file.c), through a
 * temporary file and a rename. Rank 0 only. tables: the PcTables the run
 * wrote to dir/results.h5 (the page is the same bytes as when drawn from
 * that file), or NULL to read them from dir/results.h5. FALSE and *error
 * set (PC_ERROR_IO) when results.h5 is needed and missing or unreadable,
 * or the page cannot be written; a missing run.json or table only drops
 * sections. */
gboolean pc_run_report(const char *dir, GPtrArray *tables, gboolean quiet,
                       GError **error);

#endif
