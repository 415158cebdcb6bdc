/* pc_progress.h - what a long phase tells the operator: progress lines on
 * stderr from rank 0, and the peak memory of this process. */
#ifndef PC_PROGRESS_H
#define PC_PROGRESS_H

#include "pc_comm.h"

/* Progress line "parcours: MESSAGE" on stderr from rank 0 unless quiet. */
void pc_progress(PcComm *c, gboolean quiet, const char *fmt, ...)
    G_GNUC_PRINTF(3, 4);
/* Peak resident set size of this process in bytes (VmHWM), 0 if unknown. */
uint64_t pc_peak_rss_bytes(void);

#endif
