/* pc_timer.h - phase timers of a run: an enum of handles, wall seconds
 * accumulated per handle (run.json reports them per rank; the reduce of
 * each analysis module is timed apart, pc_modset.h). */
#ifndef PC_TIMER_H
#define PC_TIMER_H

#include <glib.h>

typedef enum {
  PC_T_PLAN, PC_T_READ, PC_T_BUILD, PC_T_REDUCE, PC_T_WRITE, PC_T_TOTAL,
  PC_T_N
} PcTimerId;

typedef struct {
  double acc[PC_T_N];
  double started[PC_T_N];
} PcTimers;

void pc_timer_start(PcTimers *t, PcTimerId id);
void pc_timer_stop(PcTimers *t, PcTimerId id);
const char *pc_timer_name(PcTimerId id);

#endif
