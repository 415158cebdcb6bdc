/* pc_run.h - hooks of the run's epilog implemented by other modules. */
#ifndef PC_RUN_H
#define PC_RUN_H

#include "pc_core.h"

/* Writes dir/report.html from dir/results.h5 and dir/run.json when present
 * (report.c). Rank 0 only. */
gboolean pc_run_report(const char *dir, gboolean quiet, GError **error);

#endif
