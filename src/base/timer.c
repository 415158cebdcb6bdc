/* timer.c - phase timers (pc_timer.h) on the monotonic clock. */
#include "pc_timer.h"

static const char *const names[PC_T_N] = {
    "plan", "read", "build", "reduce", "write", "total"};

void pc_timer_start(PcTimers *t, PcTimerId id) {
  t->started[id] = g_get_monotonic_time() / 1e6;
}
void pc_timer_stop(PcTimers *t, PcTimerId id) {
  t->acc[id] += g_get_monotonic_time() / 1e6 - t->started[id];
}
const char *pc_timer_name(PcTimerId id) { return names[id]; }
