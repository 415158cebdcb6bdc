#!/bin/bash
# Determinism, the headline: every result file but run.json is byte-identical
# for P = 1..4, OMP_NUM_THREADS = 1, 2, the three strategies and two bucket
# counts, on a real log and on generated data (funnel levels of the default
# definition and of ClickHouse modes, funnel_times and transition_gaps
# included: csv/ and results.h5 are digested whole). The real log's job adds
# retention by week (segments.csv comes with its customers table); the
# generated one is the monthly job (retention by month) with a scope
# (segments, entry event) and a funnel split by segment (spec §12, §13).
. tests/lib.sh
D=tests/data/bpic2012
$PRUN 2 $PARCOURS ingest -q -o $T/b4096 --customers $D/customers.csv $D/journeys.csv
$PRUN 3 $PARCOURS ingest -q -o $T/b61 --buckets 61 --customers $D/customers.csv $D/journeys.csv
job $D/expected/job.ini $T/b4096 $T/x > $T/job.ini
# a funnel with a ClickHouse mode too (its level, its times from the default chains)
printf '[funnel.offer_modes]\nsteps = O_CREATED;O_SENT;O_SENT_BACK;O_ACCEPTED\nwindow = 2592000\nmode = strict_increase;strict_once\nsplit = channel\n' >> $T/job.ini
printf '\n[retention]\nperiod = week\nperiods = 8\n' >> $T/job.ini
# and the analyses of spec §15-§18 at their most spread: flows both ways,
# sequence drivers with a low floor (many keys over the owners), Markov of
# order 3 (the generated matrix runs jobs/monthly.ini: flows, order 2)
printf '[flow.after_accept]\nanchor = A_ACCEPTED\nsteps = 3\n[flow.before_accept]\nanchor = A_ACCEPTED\ndirection = before\n[attribution]\nmarkov_order = 3\n' >> $T/job.ini
sed -i 's/^lookback = 5$/lookback = 5\nsequence_max = 4\nsequence_min_customers = 2/' $T/job.ini
matrix() { # NAME JOB STORES...
  local name=$1 jobf=$2; shift 2
  local ref="" i=0 n=0
  for st in "$@"; do for P in 1 2 3 4; do for th in 1 2; do for s in balanced hash range; do
    i=$((i+1))
    if ! OMP_NUM_THREADS=$th $PRUN $P $PARCOURS run -q $jobf --set input.store=$T/$st --set output.dir=$T/o$i --set partition.strategy=$s 2>$T/err; then
      bad "$name: run $st P=$P T=$th $s"; cat $T/err | tail -3; continue; fi
    d=$(digest $T/o$i); rm -rf $T/o$i
    if [ -z "$ref" ]; then ref=$d; fi
    if [ "$d" = "$ref" ]; then n=$((n+1)); else bad "$name: $st P=$P T=$th $s differs"; fi
  done; done; done; done
  [ $n -eq $i ] && ok "$name: $i runs byte-identical (csv/, results.h5, report.html)"
}
matrix bpic2012 $T/job.ini b4096 b61
$PRUN 2 $PARCOURS generate -q -o $T/g --customers 20000 --seed 11
sed '0,/split = channel/s//split = segment/' jobs/monthly.ini > $T/g.ini
printf '\n[scope]\nsegments = business\nentry_event = login\n' >> $T/g.ini
printf '[funnel.purchase_order]\nsteps = visit;product_view;add_to_cart;checkout;purchase\nwindow = 86400\nmode = strict_order;allow_reentry;strict_deduplication\nsplit = channel\n' >> $T/g.ini
matrix generated $T/g.ini g
finish
