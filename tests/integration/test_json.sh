#!/bin/bash
# Every JSON file parcours writes is valid JSON whatever the bytes of the
# paths in it: run.json with a store path "st-é" (UTF-8) and one with a
# Latin-1 byte (not UTF-8: written as U+FFFD), checked with python3's json
# module, and the values read back exactly. A job setting must be UTF-8
# (GKeyFile): a Latin-1 store path is refused with a message naming it.
. tests/lib.sh
D=tests/data/small
for name in "st-é"; do
  st="$T/$name"; out="$T/out-$name"
  $PRUN 1 $PARCOURS ingest -q -o "$st" $D/journeys.csv || bad "ingest into $name"
  # a job file is UTF-8 (GKeyFile): the path comes in through --set
  job $D/job.ini x x > "$T/job.ini"
  if ! $PRUN 1 $PARCOURS run -q "$T/job.ini" --set "input.store=$st" --set "output.dir=$out"; then
    bad "run with store $name"; continue; fi
  got=$(python3 - "$out/run.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1], encoding='utf-8'))
print(j["input"]["store"].rsplit('/', 1)[1], j["job"]["input"]["store"] == j["input"]["store"],
      j["input"]["shards"], j["ranks"], j["events"], sorted(j["phases"]))
PY
  ) || { bad "run.json of $name is not valid JSON"; continue; }
  want="st-é True 1 1 8 ['build', 'plan', 'read', 'reduce', 'total', 'write']"
  [ "$got" = "$want" ] && ok "run.json with store $(printf '%q' "$name"): $got" || bad "run.json $name: got [$got] want [$want]"
done
latin=$(printf 'st-\351')
$PRUN 1 $PARCOURS ingest -q -o "$T/$latin" $D/journeys.csv || bad "ingest into a Latin-1 path"
if $PRUN 1 $PARCOURS run -q "$T/job.ini" --set "input.store=$T/$latin" --set "output.dir=$T/o2" 2>$T/err; then
  bad "a non-UTF-8 job setting was accepted"
else
  grep -aq -- '--set input.store: .*not UTF-8' $T/err && ok "a non-UTF-8 store path is refused, naming the setting" || { bad "message"; cat $T/err; }
fi
[ ! -e "$T/o2" ] && ok "no output for the refused job" || bad "output written for a refused job"
finish
