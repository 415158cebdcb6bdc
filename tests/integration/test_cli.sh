#!/bin/bash
# test_cli.sh - the command line of every command (issue 14; docs/cli.md):
# a single-valued option given twice is an error naming it and both values
# (GOption alone kept the last and dropped the first: -o X -o Y wrote Y,
# --customers A --customers B read only B); an empty value, a number that
# is not plain decimal or not finite, a negative or out-of-range number is
# an error naming the option; exit status 2, nothing created. --buckets 0
# no longer means 4096, and a B over 2^20 is refused with the reason.
# Run from the repo root; env PARCOURS (default bin/parcours). Last line:
# "N passed, M failed"; exit non-zero on any failure.
cd "$(dirname "$0")/../.." || exit 2
. tests/lib.sh
cd "$T" || exit 2
P=$OLDPWD/$PARCOURS
[ -x "$P" ] || P=$PARCOURS
printf 'customer_id,timestamp,channel,event,value\nc1,2024-03-01T12:00:00Z,web,view,\n' > ev.csv
printf 'customer_id,revenue,segment\nc1,5,a\n' > a.csv
cp a.csv b.csv
$P ingest -q -o st ev.csv || { echo "cannot ingest"; exit 2; }
printf '[input]\nstore = st\n[output]\ndir = out\n' > job.ini
touch err before.ls after.ls

# usage NAME WANT_FIRST_LINE CMD...: exit 2, stderr's first line exact,
# nothing new in the directory
usage() {
  n=$1 want=$2; shift 2
  ls > before.ls
  "$@" >/dev/null 2>err; rc=$?
  got=$(head -1 err)
  ls > after.ls
  if [ $rc = 2 ] && [ "$got" = "$want" ] && cmp -s before.ls after.ls; then ok "$n"
  else bad "$n: exit $rc, new: $(comm -13 before.ls after.ls | tr '\n' ' ')"; printf '     got:  %s\n     want: %s\n' "$got" "$want"; fi
}

# ---- repeated single-valued options -------------------------------------------------
usage "ingest -o X -o Y" 'parcours ingest: --output given twice ("X", then "Y"): give it once' $P ingest -o X -o Y ev.csv
usage "ingest --customers A --customers B" 'parcours ingest: --customers given twice ("a.csv", then "b.csv"): give it once' \
  $P ingest -o X --customers a.csv --customers b.csv ev.csv
usage "ingest --buckets twice" 'parcours ingest: --buckets given twice ("8", then "16"): give it once' $P ingest -o X --buckets 8 --buckets=16 ev.csv
usage "ingest --max-reject-fraction twice" 'parcours ingest: --max-reject-fraction given twice ("0.1", then "0.2"): give it once' \
  $P ingest -o X --max-reject-fraction 0.1 --max-reject-fraction 0.2 ev.csv
usage "ingest --lock-timeout twice" 'parcours ingest: --lock-timeout given twice ("1", then "2"): give it once' $P ingest --append -o st --lock-timeout 1 --lock-timeout 2 ev.csv
usage "generate -o twice" 'parcours generate: --output given twice ("X", then "Y"): give it once' $P generate -o X -o Y --customers 3
usage "generate --customers twice" 'parcours generate: --customers given twice ("3", then "4"): give it once' $P generate -o X --customers 3 -n 4
usage "generate --seed twice" 'parcours generate: --seed given twice ("1", then "2"): give it once' $P generate -o X --customers 3 --seed 1 --seed 2
usage "generate --csv twice" 'parcours generate: --csv given twice ("a", then "b"): give it once' $P generate -o X --customers 3 --csv a --csv b
usage "plan --ranks twice" 'parcours plan: --ranks given twice ("2", then "3"): give it once' $P plan st --ranks 2 -P 3
usage "plan --strategy twice" 'parcours plan: --strategy given twice ("hash", then "range"): give it once' $P plan st --ranks 2 --strategy hash --strategy range

# ---- empty values, not numbers, out of range ----------------------------------------------
usage "ingest -o ''" 'parcours ingest: --output: empty value' $P ingest -o '' ev.csv
usage "ingest --customers ''" 'parcours ingest: --customers: empty value' $P ingest -o X --customers '' ev.csv
usage "ingest an empty INPUT" 'parcours ingest: an INPUT is an empty name' $P ingest -o X ''
usage "ingest --buckets 0 (was: 4096)" 'parcours ingest: --buckets 0: B must be 1..1048576' $P ingest -o X --buckets 0 ev.csv
usage "ingest --buckets -5" 'parcours ingest: --buckets -5: B must be 1..1048576' $P ingest -o X --buckets -5 ev.csv
usage "ingest --buckets 100000000 (was: a 3-event run needed 15 GB)" \
  'parcours ingest: --buckets 100000000: more than 1048576 (2^20), the most a store may have: every reader keeps about 90 bytes per bucket and shard (8.4 GiB per shard at this B)' \
  $P ingest -o X --buckets 100000000 ev.csv
usage "ingest --buckets 0x10" 'parcours ingest: --buckets: "0x10" is not a plain decimal integer' $P ingest -o X --buckets 0x10 ev.csv
usage "ingest --buckets 1e3" 'parcours ingest: --buckets: "1e3" is not a plain decimal integer' $P ingest -o X --buckets 1e3 ev.csv
usage "ingest --max-reject-fraction nan" 'parcours ingest: --max-reject-fraction: "nan" is not a finite number' $P ingest -o X --max-reject-fraction nan ev.csv
usage "ingest --max-reject-fraction 1.5" 'parcours ingest: --max-reject-fraction 1.5: F must be 0..1' $P ingest -o X --max-reject-fraction 1.5 ev.csv
usage "ingest --max-reject-fraction -0.1" 'parcours ingest: --max-reject-fraction -0.1: F must be 0..1' $P ingest -o X --max-reject-fraction -0.1 ev.csv
usage "ingest --lock-timeout -1" 'parcours ingest: --lock-timeout -1: S must be 0 or more seconds' $P ingest --append -o st --lock-timeout -1 ev.csv
usage "ingest --lock-timeout inf" 'parcours ingest: --lock-timeout: "inf" is not a finite number' $P ingest --append -o st --lock-timeout inf ev.csv
GEN='parcours generate: -o STORE and --customers N > 0 are required, --seed S >= 0, --buckets 1..1048576 (2^20), --month 1..120, no other argument (see --help)'
usage "generate --customers 0" "$GEN" $P generate -o X --customers 0
usage "generate --customers -3" "$GEN" $P generate -o X --customers -3
usage "generate --seed -1" "$GEN" $P generate -o X --customers 3 --seed -1
usage "generate --buckets 0" "$GEN" $P generate -o X --customers 3 --buckets 0
usage "generate --buckets 2^21" "$GEN" $P generate -o X --customers 3 --buckets 2097152
usage "generate --customers 12abc" 'parcours generate: --customers: "12abc" is not a plain decimal integer' $P generate -o X --customers 12abc
usage "plan --ranks 0" 'parcours plan: STORE and --ranks P (1..16777216) are required' $P plan st --ranks 0
usage "plan --ranks -2" 'parcours plan: STORE and --ranks P (1..16777216) are required' $P plan st --ranks -2
usage "plan --ranks ''" 'parcours plan: --ranks: empty value' $P plan st --ranks ''
usage "inspect two stores" 'parcours inspect: exactly one STORE is required' $P inspect st st
usage "run two jobs" 'parcours run: exactly one JOB.ini is required (see --help)' $P run job.ini job.ini
usage "report two dirs" 'parcours report: exactly one OUTDIR is required (see --help)' $P report out out

# ---- what still works ----------------------------------------------------------------
$P ingest -q -o X --buckets 010 ev.csv && grep -qx 'buckets 10' X/MANIFEST && ok "--buckets 010 is ten (decimal)" || bad "--buckets 010"
$P plan st --ranks 2 -q >/dev/null 2>&1; [ $? = 2 ] && ok "plan has no -q: a usage error" || bad "plan -q"
$P run -q -q job.ini && [ -f out/csv/summary.csv ] && ok "a flag given twice (-q -q) is harmless" || bad "run -q -q"
finish
