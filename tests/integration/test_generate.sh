#!/bin/bash
# parcours generate: same seed -> same events for any P (store and --csv),
# the CSV re-ingests to the same events, and the analyses recover the
# planted truth (truth.json): churn drivers rank above the frequent but
# harmless issues, the best NPS channel is first, the model gives the
# planted drivers the largest positive coefficients, the best offer
# channel converts best in the split funnel, the planted sequence ranks
# first among the sequence drivers (and drives churn more than each of its
# events alone), and time_to_target recovers the planted delays.
. tests/lib.sh
check "generate 20000 customers, 1 rank" $PRUN 1 $PARCOURS generate -q -o $T/g1 --customers 20000 --seed 7 --csv $T/g1.csv
check "generate 20000 customers, 2 ranks" $PRUN 2 $PARCOURS generate -q -o $T/g2 --customers 20000 --seed 7 --csv $T/g2.csv
$PARCOURS inspect --dump $T/g1 > $T/g1.dump; $PARCOURS inspect --dump $T/g2 > $T/g2.dump
check_same "same seed: same events for P = 1 and 2" $T/g1.dump $T/g2.dump
check_same "same seed: same --csv for P = 1 and 2" $T/g1.csv $T/g2.csv
check "the CSV ingests without a reject" $PRUN 2 $PARCOURS ingest -q -o $T/gi --customers $T/g1-customers.csv $T/g1.csv
$PARCOURS inspect --dump $T/gi > $T/gi.dump
check_same "CSV -> ingest gives the generated events" $T/g1.dump $T/gi.dump
check "another seed differs" bash -c "$PRUN 1 $PARCOURS generate -q -o $T/g3 --customers 2000 --seed 8 && ! cmp -s <($PARCOURS inspect --dump $T/g3) <(head -c 100000 $T/g1.dump)"
check "generate 200000 customers (2 ranks)" $PRUN 2 $PARCOURS generate -q -o $T/big --customers 200000 --seed 3
cp jobs/monthly.ini $T/m.ini
check "run the monthly job on it" $PRUN 2 $PARCOURS run -q $T/m.ini --set input.store=$T/big --set output.dir=$T/o
check "truth: planted drivers, best NPS, model, best offer channel, sequence, delays" python3 - "$T/big/truth.json" "$T/o/csv" <<'PY'
import csv, json, sys
truth = json.load(open(sys.argv[1])); d = sys.argv[2]
rows = lambda f: list(csv.DictReader(open(d + '/' + f)))
drivers = [r['token'] for r in rows('drivers.csv')]
planted = [x['event'] for x in truth['churn']['drivers']]
harmless = [x['event'] if isinstance(x, dict) else x for x in truth['churn']['harmless_issues']]
assert harmless, 'truth lists no harmless issues'
worst_planted = max(drivers.index(e) for e in planted)
best_harmless = min(drivers.index(e) for e in harmless if e in drivers)
assert worst_planted < best_harmless, (drivers[:8], planted, harmless)
print('drivers order ok:', drivers[:4])
nps = [r for r in rows('nps.csv') if r['channel'] != '(all)']
best = max(nps, key=lambda r: float(r['nps']))['channel']
assert best == truth['nps']['best_channel'], (best, truth['nps'])
print('best NPS channel ok:', best)
coef = sorted(((float(r['coefficient']), r['term']) for r in rows('model.csv') if r['term'] != '(intercept)'), reverse=True)
top = {t for _, t in coef[:len(planted)]}
assert top == {'event:' + e for e in planted}, coef[:4]
print('model ok:', coef[:2])
f = [r for r in rows('funnels.csv') if r['funnel'] == 'offer' and r['split'] != '(all)' and r['step'] == '2']
bestoffer = max(f, key=lambda r: float(r['conv_first']))['split']
assert bestoffer == truth['offers']['best_channel'], (bestoffer, truth['offers'])
print('best offer channel ok:', bestoffer)
seq = ' > '.join(truth['sequence']['path'])
sd = rows('sequence_drivers.csv')
assert sd[0]['path'] == seq, [r['path'] for r in sd[:3]]
lift = {r['token']: float(r['lift']) for r in rows('drivers.csv')}
assert all(float(sd[0]['lift']) > lift[e] for e in truth['sequence']['path']), (sd[0]['lift'], lift)
print('planted sequence first, lift %s > its events alone' % sd[0]['lift'])
ttt = {r['token']: r for r in rows('time_to_target.csv')}
for d in truth['delays']:
    r = ttt[d['event']]
    assert int(r['customers']) > 1000, r
    assert d['min_s'] <= float(r['median_s']) <= d['max_s'], (d, r)
    print('planted delay of %s recovered: median %s s' % (d['event'], r['median_s']))
PY
finish
