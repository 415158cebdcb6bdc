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

# parcours diff on the hand log: February-on against the whole log (rows on one side, settings)
check "run from February on (2 ranks)" $PRUN 2 $PARCOURS run -q $T/job.ini --set output.dir=$T/feb --set input.from=2024-02-01T00:00:00Z
check "diff (2 ranks): whole log -> February on" $PRUN 2 $PARCOURS diff -q $T/o $T/feb -o $T/d
check "diff: csv/<table>_diff.csv of every compared table, diff.json, report.html" bash -c "cd $T/d && ls csv | tr '\n' ' ' | grep -qx 'attribution_diff.csv channel_drivers_diff.csv channels_diff.csv drivers_diff.csv funnels_diff.csv segments_diff.csv summary_diff.csv variants_diff.csv ' && [ -s diff.json ] && grep -q 'What changed' report.html && [ -f .parcours-output ]"
check "diff: summary by hand (from February on, A's January visit is gone: 15 -> 14 events)" \
  bash -c "grep -qx 'events,15,14,-1' $T/d/csv/summary_diff.csv && grep -qx 'customers,5,5,0' $T/d/csv/summary_diff.csv"
check "diff: a variant of PREV only comes last with empty cur cells" bash -c "tail -1 $T/d/csv/variants_diff.csv | grep -qx 'visit > bill > visit > churn,1,,,0.2,,,4,,'"
check "diff.json: input.from differs, retention is not compared" python3 -c "
import json; d = json.load(open('$T/d/diff.json'))
k = {x['key']: (x['prev'], x['cur']) for x in d['job']['differences']}
assert k['input.from'] == (None, '2024-02-01T00:00:00Z'), k
assert 'retention' in d['not_compared'] and d['only_prev'] == [] and d['only_cur'] == []
assert [t['table'] for t in d['tables']][:2] == ['attribution', 'channel_drivers']"
cp -r $T/feb $T/feb-csv && rm $T/feb-csv/results.h5
check "diff from csv/ alone gives the same tables as from results.h5" bash -c "$PARCOURS diff -q $T/o $T/feb-csv -o $T/dc && diff -r $T/d/csv $T/dc/csv"
sed -e "/^\[retention\]/d" -e "/^period/d" $T/job.ini > $T/nr.ini
check "a table on one side only is listed, not an error" bash -c "$PRUN 1 $PARCOURS run -q $T/nr.ini --set output.dir=$T/nr && $PARCOURS diff -q $T/o $T/nr -o $T/d2 && grep -A2 only_prev $T/d2/diff.json | grep -q retention"
check "diff refuses an existing DIR without --force" bash -c "! $PARCOURS diff -q $T/o $T/feb -o $T/d 2>$T/err && grep -q -- --force $T/err"
check "diff --force replaces it" $PARCOURS diff -q $T/o $T/feb -o $T/d --force
check "diff refuses DIR inside CUR" bash -c "! $PARCOURS diff -q $T/o $T/feb -o $T/feb/x 2>$T/err && grep -q 'is CUR' $T/err && [ ! -e $T/feb/x ]"
check "diff refuses a directory that is not a run's output" bash -c "! $PARCOURS diff -q $T/o $T/s -o $T/d3 2>$T/err && grep -q 'not an output directory' $T/err && [ ! -e $T/d3 ]"

# Two generated months (parcours generate --month): the planted change (sms offer sign-up
# 0.11 -> 0.17 per offer from month 2) is the largest funnel change, with p < 0.001
check "generate month 1 and month 2 (2 ranks, 40000 customers each)" bash -c "$PRUN 2 $PARCOURS generate -q -o $T/m1 --customers 40000 --seed 5 --month 1 && $PRUN 2 $PARCOURS generate -q -o $T/m2 --customers 40000 --seed 6 --month 2"
check "run the monthly job on each month (2 ranks)" bash -c "$PRUN 2 $PARCOURS run -q jobs/monthly.ini --set input.store=$T/m1 --set output.dir=$T/g1 && $PRUN 2 $PARCOURS run -q jobs/monthly.ini --set input.store=$T/m2 --set output.dir=$T/g2"
check "diff the two months (2 ranks)" $PRUN 2 $PARCOURS diff -q $T/g1 $T/g2 -o $T/gd
check "the planted change is the largest funnel delta, p < 0.001" python3 -c "
import csv, math
rows = [r for r in csv.DictReader(open('$T/gd/csv/funnels_diff.csv')) if r['conv_first_delta'] not in ('', 'nan')]
top = max(rows, key=lambda r: abs(float(r['conv_first_delta'])))
assert (top['funnel'], top['split'], top['step']) == ('offer', 'sms', '2'), top
assert float(top['conv_first_delta']) > 0.03 and float(top['p_value']) < 0.001, top
print(top['conv_first_prev'], '->', top['conv_first_cur'], 'p', top['p_value'])"
check "month 2's truth.json names the planted change" grep -q '"signup_rate_now" : 0.17' $T/m2/truth.json
check "retention and segments of a generated month" bash -c "head -2 $T/g2/csv/retention.csv | tail -1 | grep -q '^2026-02-01,0,' && grep -q '^business,' $T/g2/csv/segments.csv"
finish
