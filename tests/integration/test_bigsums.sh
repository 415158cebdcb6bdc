#!/bin/bash
# Sums of values and money are exact whatever their size (spec §10): they
# are 128-bit, never wrapped. Three values of 8999999999999.999999 on one
# channel (the §1 limit is |value| < 9e12) sum to 26999999999999.999997,
# which int64 millionths cannot hold (it wrapped before); two churners with
# revenue 8999999999999.999999 put 17999999999999.999998 at risk (it came
# out negative). Checked in csv/ and, as exact text, in results.h5.
. tests/lib.sh
v=8999999999999.999999
{ echo customer_id,timestamp,channel,event,value
  echo a,2024-01-01T00:00:00Z,web,buy,$v
  echo a,2024-01-01T00:00:01Z,web,buy,$v
  echo b,2024-01-01T00:00:00Z,web,buy,$v
  echo b,2024-01-02T00:00:00Z,web,churn,
  echo c,2024-01-01T00:00:00Z,app,visit,-$v
  echo c,2024-01-01T00:30:00Z,web,visit,
  echo c,2024-01-02T00:00:00Z,app,churn,
} > $T/ev.csv
printf 'customer_id,revenue,segment\nb,%s,x\nc,%s,x\n' $v $v > $T/crm.csv
$PRUN 2 $PARCOURS ingest -q -o $T/st $T/ev.csv || bad "ingest"
$PRUN 2 $PARCOURS ingest -q -o $T/st2 --customers $T/crm.csv $T/ev.csv || bad "ingest with customers"
printf '[input]\nstore = %s\n[output]\ndir = %s\n[target]\nevent = churn\n[model]\nenabled = false\n' $T/st $T/out > $T/job.ini
$PRUN 2 $PARCOURS run -q $T/job.ini || bad "run"
cell() { awk -F, -v k="$2" -v c="$3" '$1 == k { print $c }' "$1"; }
check_eq() { [ "$2" = "$3" ] && ok "$1: $2" || bad "$1: got '$2', want '$3'"; }
check_eq "channels value_sum (3 values at the limit)" "$(cell $T/out/csv/channels.csv web 6)" 26999999999999.999997
check_eq "channels value_sum (one negative)" "$(cell $T/out/csv/channels.csv app 6)" -8999999999999.999999
check_eq "value_mean (5 web events)" "$(cell $T/out/csv/channels.csv web 7)" 5.4e+12
# without a customers table revenue = the sum of the journey's values
check_eq "drivers revenue_at_risk (buy: b's journey)" "$(cell $T/out/csv/drivers.csv buy 10)" 8999999999999.999999
$PRUN 2 $PARCOURS run -q $T/job.ini --set input.store=$T/st2 --set output.dir=$T/out2 || bad "run with customers"
check_eq "channel_drivers revenue_at_risk, two churners at the limit (web)" "$(cell $T/out2/csv/channel_drivers.csv web 10)" 17999999999999.999998
check_eq "drivers revenue_at_risk, visit (c only)" "$(cell $T/out2/csv/drivers.csv visit 10)" 8999999999999.999999
# results.h5 keeps the exact text
h5=$(h5dump -d /channels/table $T/out/results.h5 2>/dev/null | grep -o '"26999999999999.999997"')
check_eq "results.h5 value_sum" "$h5" '"26999999999999.999997"'
finish
