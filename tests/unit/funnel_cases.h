/* funnel_cases.h - hand-checked funnel cases of spec §5 with their exact
 * levels: every case class of ClickHouse's own windowFunnel tests
 * (00632_aggregation_window_funnel, 01646_fix_window_funnel_inconistency,
 * and the differences the differential test of `make conformance` found),
 * re-expressed with distinct steps, as spec §5 asks of a funnel with a mode.
 * Shared by tests/unit/test_funnels.c (parcours' kernels must give
 * `level`) and tests/conformance/funnel_levels.c (`--hand` prints them so
 * that `make conformance` checks every `level` against ClickHouse itself).
 *
 * A case: window and timestamps in whole seconds; steps and events are
 * one-letter-or-more event names ("a,b,c"; events "ts:name ts:name ...",
 * in any order); mode = ';'-list of windowFunnel options, "" for the
 * default (parcours' definition, equal to ClickHouse's here: no event
 * matches two steps). Header-only data, no code.
 */
#ifndef PC_FUNNEL_CASES_H
#define PC_FUNNEL_CASES_H

typedef struct {
  const char *name;   /* the ClickHouse test or difference it stands for */
  long long window_s;
  const char *mode;
  const char *steps;
  const char *events;
  unsigned level;
} FunnelCase;

#define SEQ9 "0:e0 1:e1 2:e2 3:e3 4:e4 5:e5 6:e6 7:e7 8:e8"
#define STRICT "0:e0 10:e1 20:e2 30:e3 40:e4 50:e5 51:e5 60:e6 70:e7 80:e8"
#define INC "0:e0 1:e1 1:e2 1:e3 2:e4"

static const FunnelCase funnel_cases[] = {
    /* 00632: one step per second, longer funnels and tighter windows */
    {"00632 basic 1 step", 10000, "", "e0", SEQ9, 1},
    {"00632 basic 2 steps", 10000, "", "e0,e1", SEQ9, 2},
    {"00632 basic 3 steps", 10000, "", "e0,e1,e2", SEQ9, 3},
    {"00632 basic skip to e8", 10000, "", "e0,e1,e2,e8", SEQ9, 4},
    {"00632 window 1, 1 step", 1, "", "e0", SEQ9, 1},
    {"00632 window 2", 2, "", "e3,e4,e5,e6,e7", SEQ9, 3},
    {"00632 window 3", 3, "", "e3,e4,e5,e6,e7", SEQ9, 4},
    {"00632 window 4 (edge: span = W)", 4, "", "e3,e4,e5,e6,e7", SEQ9, 5},
    {"00632 order e1 then e8", 10000, "", "e1,e8", SEQ9, 2},
    {"00632 reversed e8 then e1", 10000, "", "e8,e1", SEQ9, 1},
    /* (1e11 s, not 1e14 as there: parcours counts µs in int64) */
    {"00632 large timestamps", 4, "", "e3,e4,e5,e6,e7",
     "100000000001:e1 100000000002:e2 100000000003:e3 100000000004:e4 "
     "100000000005:e5 100000000006:e6 100000000007:e7 100000000008:e8", 5},
    /* 00632 strict_deduplication: e5 twice */
    {"00632 dedup default", 10000, "", "e0,e1,e2,e3,e4,e5,e6", STRICT, 7},
    {"00632 dedup", 10000, "strict_deduplication", "e0,e1,e2,e3,e4,e5,e6", STRICT, 6},
    {"00632 dedup strict_once", 10000, "strict_deduplication;strict_once", "e0,e1,e2,e3,e4,e5,e6", STRICT, 6},
    /* 00632 strict_order users 1..6 (d is no step) */
    {"00632 order u1 default", 86400, "", "a,b,c", "1:a 2:b 3:c", 3},
    {"00632 order u1", 86400, "strict_order", "a,b,c", "1:a 2:b 3:c", 3},
    {"00632 order u2 default", 86400, "", "a,b,c", "1:a 2:d 3:b 4:c", 3},
    {"00632 order u2 (d interrupts)", 86400, "strict_order", "a,b,c", "1:a 2:d 3:b 4:c", 1},
    {"00632 order u3", 86400, "strict_order", "a,b,c", "1:a 2:a 3:b 4:b 5:c 6:c", 3},
    {"00632 order u3 dedup", 86400, "strict_deduplication;strict_order", "a,b,c", "1:a 2:a 3:b 4:b 5:c 6:c", 2},
    {"00632 order u4", 86400, "strict_order", "a,b,c", "1:a 2:a 3:a 4:a 5:b 6:b 7:c 8:c", 3},
    {"00632 order u4 dedup", 86400, "strict_deduplication;strict_order", "a,b,c", "1:a 2:a 3:a 4:a 5:b 6:b 7:c 8:c", 2},
    {"00632 order u5 default", 86400, "", "a,b,c", "1:a 2:a 3:b 4:b 5:d 6:c 7:c", 3},
    {"00632 order u5", 86400, "strict_order", "a,b,c", "1:a 2:a 3:b 4:b 5:d 6:c 7:c", 2},
    {"00632 order u5 dedup", 86400, "strict_deduplication;strict_order", "a,b,c", "1:a 2:a 3:b 4:b 5:d 6:c 7:c", 2},
    {"00632 order u6 default", 86400, "", "a,b,c", "1:c 2:c 3:b 4:b 5:a 6:a", 1},
    {"00632 order u6", 86400, "strict_order", "a,b,c", "1:c 2:c 3:b 4:b 5:a 6:a", 1},
    {"00632 order u7 (c before b)", 10, "strict_order", "a,b,c", "1:a 2:c 3:b", 1},
    /* 00632, issue 27469: a repeated step stops the scan */
    {"00632 dedup a b c b d", 86400, "strict_deduplication", "a,b,c,d", "1:a 2:b 3:c 4:b 5:d", 3},
    /* 00632 strict_increase: three steps in one second */
    {"00632 increase default", 10000, "", "e0,e1,e2,e3,e4", INC, 5},
    {"00632 increase", 10000, "strict_increase", "e0,e1,e2,e3,e4", INC, 2},
    {"00632 increase once", 10000, "strict_increase;strict_once", "e0,e1,e2,e3,e4", INC, 2},
    /* 00632 strict_once/strict_increase (failure, failure, success there;
     * here distinct): only strict_once keeps the earlier chain */
    {"strict_once keeps every chain", 10000, "strict_increase;strict_once", "a,b,c", "0:a 1:a 1:b 2:c", 3},
    {"increase keeps the latest chain", 10000, "strict_increase", "a,b,c", "0:a 1:a 1:b 2:c", 1},
    {"once without increase", 10000, "strict_once", "a,b,c", "0:a 1:a 1:b 2:c", 3},
    {"00632 once window 200 u123", 200, "strict_increase;strict_once", "f,g,s", "180:f 220:g 250:s", 3},
    {"00632 once window 200 u234", 200, "strict_increase;strict_once", "f,g,s", "100:f 250:g", 2},
    {"00632 once window 200 u345", 200, "strict_increase;strict_once", "f,g,s", "200:s 210:f 230:s", 1},
    /* 00632 allow_reentry users 1..5 (3 and 4 steps) */
    {"00632 reentry u1 order", 86400, "strict_order", "a,b,c", "1:a 2:b 3:a 4:c", 3},
    {"00632 reentry u1", 86400, "strict_order;allow_reentry", "a,b,c", "1:a 2:b 3:a 4:c", 3},
    {"00632 reentry u2 order", 86400, "strict_order", "a,b,c", "1:a 2:b 3:a 4:b 5:c", 3},
    {"00632 reentry u2 dedup", 86400, "strict_order;allow_reentry;strict_deduplication", "a,b,c", "1:a 2:b 3:a 4:b 5:c", 2},
    {"00632 reentry u3 order 4", 86400, "strict_order", "a,b,c,d", "1:a 2:b 3:c 4:b 5:d", 4},
    {"00632 reentry u3 4", 86400, "strict_order;allow_reentry", "a,b,c,d", "1:a 2:b 3:c 4:b 5:d", 4},
    {"00632 reentry u4 order", 86400, "strict_order", "a,b,c", "1:a 2:c 3:b", 1},
    {"00632 reentry u4", 86400, "strict_order;allow_reentry", "a,b,c", "1:a 2:c 3:b", 2},
    {"00632 reentry u5 order 4", 86400, "strict_order", "a,b,c,d", "1:a 2:b 3:c 4:a 5:b 6:c 7:d", 4},
    {"00632 reentry u5 4", 86400, "strict_order;allow_reentry", "a,b,c,d", "1:a 2:b 3:c 4:a 5:b 6:c 7:d", 4},
    /* 00632 e-commerce: checkout, product detail, payment */
    {"00632 shop u1 order", 600, "strict_order", "bc,vp,cp", "100:bc 200:vp 300:bc 400:cp", 3},
    {"00632 shop u2 order", 600, "strict_order", "bc,vp,cp", "100:bc 200:vp 250:vp 300:bc 400:cp", 3},
    {"00632 shop u3 order", 600, "strict_order", "bc,vp,cp", "100:bc 200:vp 300:cp", 3},
    {"00632 shop u3 reentry", 600, "strict_order;allow_reentry", "bc,vp,cp", "100:bc 200:vp 300:cp", 3},
    /* 01646: ties are served in step order, whatever the insertion order */
    {"01646 ties 1004 1003", 100000, "", "e4,e3,e2", "86400:e4 86400:e3 0:e2", 2},
    {"01646 ties 1003 1004", 100000, "", "e4,e3,e2", "86400:e3 86400:e4 0:e2", 2},
    {"01646 ties strict_once", 100000, "strict_once", "e4,e3,e2", "86400:e3 86400:e4 0:e2", 2},
    {"ties: b before a in the journey", 0, "", "a,b", "5:b 5:a", 2},
    {"ties: b before a, strict_increase", 10, "strict_increase", "a,b", "5:b 5:a", 1},
    {"ties: no-step event sorts first (order)", 10, "strict_order", "b,c", "5:c 5:a 5:b", 2},
    {"ties: no-step event after step 1 (order)", 10, "strict_order", "a,b", "5:a 6:x 6:b", 1},
    {"ties: no-step event, reentry", 10, "strict_order;allow_reentry", "a,b", "5:a 6:x 6:b", 1},
    /* windows at the edge */
    {"window edge in", 10, "strict_order", "a,b", "0:a 10:b", 2},
    {"window edge out", 10, "strict_order", "a,b", "0:a 11:b", 1},
    {"window 0, same second", 0, "strict_once", "a,b", "7:a 7:b", 2},
    {"later start wins", 10, "strict_deduplication", "a,b,c", "0:a 5:a 12:b 14:c", 3},
    {"later start wins, increase", 10, "strict_increase", "a,b,c", "0:a 5:a 12:b 14:c", 3},
    {"no step 1", 10, "strict_order", "a,b", "1:b 2:b", 0},
    {"order before step 1 is free", 10, "strict_order", "a,b", "1:b 2:x 3:a 4:b", 2},
    {"dedup of step 1 is a restart", 10, "strict_deduplication", "a,b", "1:a 2:a 3:b", 2},
    {"dedup after the last step", 100, "strict_deduplication", "a,b,c", "1:a 2:b 3:b 4:c", 2},
    {"one step, order", 10, "strict_order", "a", "1:x 2:a 3:x", 1},
};

#undef SEQ9
#undef STRICT
#undef INC

#endif
