/* pc_testhook.h - named points where a crash or concurrency test stops a
 * command: the environment variable PARCOURS_TEST_HOOK = "POINT:ACTION"
 * makes the process that reaches POINT do ACTION there: "kill" (SIGKILL
 * itself, as `kill -9` would, exit status 137) or "sleep=S" (say
 * "parcours: test hook POINT: sleeping S s" on stderr, then sleep S
 * seconds, e.g. to hold a lock while another command starts). Unset (every
 * production run), a hook costs one getenv and does nothing.
 *
 * Points (docs/reliability.md lists what each test proves there):
 *   ingest-identified      every input hashed, nothing parsed yet
 *   ingest-staged          staging and the runs' directory made, nothing parsed yet
 *   ingest-spilled         this rank has just spilled its first sorted run
 *   ingest-merged          this rank's shard has all its rows, not finished
 *   generate-range         this rank has written its first bucket range
 *   ingest-after-shards    every shard of the batch written, nothing committed
 *   store-before-commit    batch record written, MANIFEST.tmp about to be renamed
 *   store-after-commit     the MANIFEST renamed (a new store: renamed into place)
 *   store-opened           a reader (run, inspect, plan) has read the MANIFEST
 *   run-batch              a run's rank has built its first batch (tables filling,
 *                          spilling under a small run.table_memory)
 *   run-outputs-staged     rank 0 has written csv/, results.h5 and report.html into
 *                          the staging directory, nothing committed
 */
#ifndef PC_TESTHOOK_H
#define PC_TESTHOOK_H

#include "pc_core.h"

/* Does what PARCOURS_TEST_HOOK asks at point, or nothing. Cannot fail (an
 * unknown action is ignored with a warning). */
void pc_test_hook(const char *point);

#endif
