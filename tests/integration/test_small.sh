#!/bin/bash
# The hand-computed log of tests/data/small: every table, three path modes.
. tests/lib.sh
D=tests/data/small
check "ingest small (2 ranks)" $PRUN 2 $PARCOURS ingest -q -o $T/s $D/journeys.csv
job $D/job.ini $T/s $T/o > $T/job.ini
check "run small (2 ranks)" $PRUN 2 $PARCOURS run -q $T/job.ini
compare_tables "small: the hand computation" $D/expected $T/o
check "run small, token=channel, collapse (3 ranks)" $PRUN 3 $PARCOURS run -q $T/job.ini --set output.dir=$T/c --set path.token=channel --set path.collapse_repeats=true
check "small: channel tokens, collapsed runs keep their first timestamp" python3 tests/compare.py $D/expected-channel $T/c variants.csv transitions.csv transition_gaps.csv
check "run small, sessions of 60 s (1 rank)" $PRUN 1 $PARCOURS run -q $T/job.ini --set output.dir=$T/se --set path.unit=session --set path.session_gap=60
check "small: sessions" python3 tests/compare.py $D/expected-session $T/se variants.csv summary.csv transition_gaps.csv
check "a second run into the same dir refuses" bash -c "! $PRUN 1 $PARCOURS run -q $T/job.ini 2>$T/err && grep -q -- --force $T/err"
check "--force replaces it" $PRUN 1 $PARCOURS run -q $T/job.ini --force
check "csv/ equals results.h5 (h5dump of variants)" bash -c "h5dump -d /variants/table $T/o/results.h5 | grep -q 'visit > buy > view'"
finish
