#!/bin/bash
# The hand-computed log of tests/data/deeper (spec §15-§18): flows,
# sequence drivers, time to the target and attribution models at 1, 2 and 3
# ranks; path.token does not change them; without [flow.*] no flows.csv.
. tests/lib.sh
D=tests/data/deeper
check "ingest deeper (2 ranks)" $PRUN 2 $PARCOURS ingest -q -o $T/s $D/journeys.csv
job $D/job.ini $T/s $T/o > $T/job.ini
TABLES="flows.csv sequence_drivers.csv time_to_target.csv attribution_models.csv"
for P in 1 2 3; do
  check "run deeper ($P ranks)" $PRUN $P $PARCOURS run -q $T/job.ini --set output.dir=$T/o$P
  check "deeper, $P ranks: flows, sequence drivers, time to the target, attribution models by hand" \
    python3 tests/compare.py $D/expected $T/o$P $TABLES
done
check "run deeper with path.token = channel:event" $PRUN 2 $PARCOURS run -q $T/job.ini --set output.dir=$T/ce --set path.token=channel:event
check "path.token leaves the §15-§18 tables alone" python3 tests/compare.py $D/expected $T/ce $TABLES
check "run deeper without flows" bash -c "sed '/^\[flow/,/^steps/d' $T/job.ini > $T/noflow.ini && $PRUN 1 $PARCOURS run -q $T/noflow.ini --set output.dir=$T/nf"
check "no [flow.*]: no flows.csv, the other new tables written" bash -c "[ ! -e $T/nf/csv/flows.csv ] && [ -e $T/nf/csv/sequence_drivers.csv ]"
check "a flow anchor naming nothing in the store is an error (a typo)" bash -c "! $PRUN 1 $PARCOURS run -q $T/job.ini --set output.dir=$T/typo --set flow.x.anchor=isue 2>$T/err && grep -q '\[flow.x\] anchor: \"isue\" is not an event of the store' $T/err"
finish
