#!/bin/bash
# The memory a run needs is estimated from everything that grows with the
# input before it is allocated (issue "data safety"): the model's d x d
# state (d = event names + 2), the analyses' arrays sized by the names, the
# bucket index of every shard; a job that does not fit run.memory_per_rank
# is refused with the part named, before the big allocation, and leaves no
# output.
. tests/lib.sh
# 20,000 distinct event names, a target: the model's state alone is
# about 16 * d^2 / 2 + 24 * d^2 bytes = 11 GiB at d = 20,002
awk 'BEGIN { print "customer_id,timestamp,channel,event,value";
  for (i = 0; i < 20000; i++) printf "c%d,2024-01-01T00:00:00Z,web,e%05d,\n", i, i;
  print "c1,2024-01-02T00:00:00Z,web,churn," }' > $T/wide.csv
$PRUN 1 $PARCOURS ingest -q -o $T/wide $T/wide.csv || bad "ingest"
printf '[input]\nstore = %s\n[output]\ndir = %s\n[target]\nevent = churn\n[run]\nmemory_per_rank = 1G\n' $T/wide $T/out > $T/wide.ini
if $PRUN 1 $PARCOURS run -q $T/wide.ini 2>$T/err; then bad "20,000 features under 1 GiB: exit 0"
else
  grep -aq 'would need about .* MiB (analyses .* MiB, the largest model;.*more than run.memory_per_rank = 1024.0 MiB' $T/err \
    && ok "20,000 features under 1 GiB: refused, naming the model ($(grep -ao 'would need about [0-9.]* MiB' $T/err))" || { bad "message"; cat $T/err; }
fi
[ ! -e $T/out ] && ok "no output" || bad "output written"
# without the model the same job fits
$PRUN 1 $PARCOURS run -q $T/wide.ini --set model.enabled=false && ok "the same job without the model fits 1 GiB" || bad "without the model"
# the bucket index: 1,000,000 buckets in 2 shards = 2 x 64 MB before any row
printf 'customer_id,timestamp,channel,event,value\na,2024-01-01T00:00:00Z,web,x,\nb,2024-01-01T00:00:00Z,web,y,\n' > $T/tiny.csv
$PRUN 2 $PARCOURS ingest -q -o $T/manyb --buckets 1000000 $T/tiny.csv || bad "ingest 10^6 buckets"
printf '[input]\nstore = %s\n[output]\ndir = %s\n[run]\nmemory_per_rank = 100M\n' $T/manyb $T/out2 > $T/manyb.ini
if $PRUN 1 $PARCOURS run -q $T/manyb.ini 2>$T/err; then bad "10^6 buckets x 2 shards under 100 MiB: exit 0"
else grep -aq 'would need about 122.1 MiB (the bucket index of 2 shards x 1000000 buckets), more than run.memory_per_rank = 100.0 MiB' $T/err \
  && ok "10^6 buckets x 2 shards under 100 MiB: refused before reading the shards" || { bad "bucket message"; cat $T/err; }; fi
$PRUN 1 $PARCOURS run -q $T/manyb.ini --set run.memory_per_rank=1G && ok "the same store fits 1 GiB" || bad "1 GiB"
finish
