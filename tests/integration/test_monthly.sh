#!/bin/bash
# The monthly workflow on the hand-computed log of tests/data/monthly: segments, scope
# (segments, entry event), retention by month and by Monday-week, split = segment (spec §12,
# §13), and the month-over-month diff (§14).
. tests/lib.sh
D=tests/data/monthly
check "ingest monthly with its customers table (2 ranks)" $PRUN 2 $PARCOURS ingest -q -o $T/s --customers $D/customers.csv $D/journeys.csv
job $D/job.ini $T/s $T/o > $T/job.ini
check "run monthly (2 ranks)" $PRUN 2 $PARCOURS run -q $T/job.ini
check "monthly: summary, segments, retention by month, funnel per segment, channels by hand" \
  python3 tests/compare.py $D/expected $T/o summary.csv segments.csv retention.csv funnels.csv channels.csv
check "run, retention by week (3 ranks)" $PRUN 3 $PARCOURS run -q $T/job.ini --set output.dir=$T/w --set retention.period=week --set retention.periods=2
check "monthly: weeks start Monday 00:00 UTC" python3 tests/compare.py $D/expected-week $T/w retention.csv
check "run, return_event = visit (1 rank)" $PRUN 1 $PARCOURS run -q $T/job.ini --set output.dir=$T/r --set retention.return_event=visit
check "monthly: return event; rows up to the latest event of any name" python3 tests/compare.py $D/expected-return $T/r retention.csv
check "run, entry_event = bill, return_event = bill (2 ranks)" $PRUN 2 $PARCOURS run -q $T/job.ini --set output.dir=$T/e --set scope.entry_event=bill --set retention.return_event=bill
check "monthly: journeys start at the entry event (ties before it dropped)" python3 tests/compare.py $D/expected-entry $T/e summary.csv retention.csv
check "run, scope gold;(unknown) from the entry event (2 ranks)" $PRUN 2 $PARCOURS run -q $T/job.ini --set output.dir=$T/sc --set "scope.segments=gold;(unknown)" --set scope.entry_event=bill
check "monthly: scope applies before everything (summary, channels, segments, retention)" \
  python3 tests/compare.py $D/expected-scope $T/sc summary.csv segments.csv retention.csv channels.csv
check "an entry event of nothing in the store is a typo error" bash -c "! $PRUN 1 $PARCOURS run -q $T/job.ini --set output.dir=$T/x --set scope.entry_event=bil 2>$T/err && grep -q 'entry_event: \"bil\" is not an event of the store' $T/err"
check "a scope segment of nothing in the store is a typo error" bash -c "! $PRUN 1 $PARCOURS run -q $T/job.ini --set output.dir=$T/x --set scope.segments=gol 2>$T/err && grep -q 'segments: \"gol\" is not a segment of the store' $T/err"
sed "/^period/d" $T/job.ini > $T/np.ini
check "[retention] needs a period" bash -c "! $PRUN 1 $PARCOURS run -q $T/np.ini --set output.dir=$T/x 2>$T/err && grep -q 'missing required key period' $T/err"
finish
