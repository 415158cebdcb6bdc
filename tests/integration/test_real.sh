#!/bin/bash
# Real logs (tests/data): ingest round trip for P = 1, 2, 3, inspect's counts
# against each README, and every table against the independent expected/.
. tests/lib.sh
real() { # NAME EVENTS_FILE EXPECTED_EVENTS EXPECTED_CUSTOMERS
  local ds=$1 D=tests/data/$1
  for P in 1 2 3; do
    check "$ds: ingest with $P ranks" $PRUN $P $PARCOURS ingest -q -o $T/$ds-$P --customers $D/customers.csv $D/$2
    $PARCOURS inspect --dump $T/$ds-$P > $T/$ds-$P.dump 2>&1
  done
  check_same "$ds: same events for P = 1 and 2" $T/$ds-1.dump $T/$ds-2.dump
  check_same "$ds: same events for P = 1 and 3" $T/$ds-1.dump $T/$ds-3.dump
  $PARCOURS inspect $T/$ds-2 > $T/$ds.inspect
  check "$ds: inspect counts = README ($3 events, $4 customers)" \
    bash -c "grep -qx 'events: $3' $T/$ds.inspect && grep -qx 'customers: $4' $T/$ds.inspect && [ \$(wc -l < $T/$ds-1.dump) = $3 ]"
  job $D/expected/job.ini $T/$ds-2 $T/$ds-out > $T/$ds.ini
  check "$ds: run the expected job (2 ranks)" $PRUN 2 $PARCOURS run -q $T/$ds.ini
  compare_tables "$ds: the independent oracle" $D/expected $T/$ds-out
  check "$ds: segments.csv (spec §12) equals the oracle" python3 tests/compare.py $D/expected $T/$ds-out segments.csv
}
real bpic2012 journeys.csv 262200 13087
real oulad_aaa_bbb journeys.csv.gz 759223 2514
finish
