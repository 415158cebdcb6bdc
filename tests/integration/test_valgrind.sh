#!/bin/sh
# test_valgrind.sh - bin/parcours under valgrind memcheck, 1 rank, 1 thread,
# without mpirun: ingest (with a customers table) and run of a tiny log with
# a target, a funnel, NPS and the model (also with every table spilling),
# then inspect, and two failure paths
# (rejected rows, a bad job file); a monthly run (scope, segments, retention)
# and a diff of the two outputs. Each must exit as expected with no
# memcheck error and no definitely-lost block. tests/valgrind.supp holds the
# known allocations of Open MPI only (never a parcours frame).
# Run from the repo root; env PARCOURS. Last line "N passed, M failed".
cd "$(dirname "$0")/../.." || exit 2
. tests/lib.sh
command -v valgrind >/dev/null 2>&1 || apt-get install -y valgrind >/dev/null 2>&1 ||
  { echo "valgrind missing and cannot be installed"; echo "0 passed, 1 failed"; exit 1; }
export OMP_NUM_THREADS=1
VG="valgrind -q --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=9 --num-callers=40 --suppressions=tests/valgrind.supp"

cat > "$T/tiny.csv" <<'CSV'
customer_id,timestamp,channel,event,value
a,2024-03-01T10:00:00Z,web,visit,
a,2024-03-01T10:05:00Z,web,cart,5
a,2024-03-01T10:09:00Z,app,buy,20.5
a,2024-03-02T10:00:00Z,email,nps,9
b,2024-03-01T11:00:00Z,web,visit,
b,2024-03-01T11:30:00Z,call,complaint,
b,2024-03-03T11:00:00Z,web,churn,
b,2024-03-04T11:00:00Z,sms,nps,3
c,2024-03-01T12:00:00Z,app,visit,
c,2024-03-01T12:01:00Z,app,cart,1
d,2024-03-02T09:00:00Z,web,visit,
d,2024-03-02T09:10:00Z,call,complaint,
d,2024-03-05T09:00:00Z,web,churn,
e,2024-03-02T10:00:00Z,store,visit,
e,2024-03-02T10:02:00Z,store,buy,99
e,2024-03-02T11:00:00Z,web,nps,7
f,2024-03-03T10:00:00Z,web,visit,
f,2024-03-03T10:00:00Z,call,complaint,
g,2024-03-03T10:00:00Z,app,visit,
g,2024-03-03T10:20:00Z,app,churn,
h,2024-03-04T10:00:00Z,web,visit,
h,2024-03-04T10:03:00Z,web,cart,3
h,2024-03-04T10:04:00Z,web,buy,3
CSV
printf 'customer_id,revenue,segment\na,10,gold\nb,20,silver\nd,5,\n' > "$T/cust.csv"
printf '[input]\nstore = %s\n[output]\ndir = %s\n[target]\nevent = churn\n[funnel.buy]\nsteps = visit;cart;buy\nwindow = 3600\nsplit = channel\n[kpi]\nnps_event = nps\n' "$T/S" "$T/O" > "$T/job.ini"

# vg NAME WANT_RC CMD...: memcheck clean (exit 9 = a memcheck error) and exit WANT_RC
vg() {
  n=$1 want=$2; shift 2
  $VG "$@" >"$T/$n.log" 2>&1; rc=$?
  if [ $rc -eq 9 ] || grep -q "definitely lost\|Invalid \|uninitialised\|Mismatched" "$T/$n.log"; then
    bad "$n: memcheck errors"; grep -B2 -A14 "definitely lost\|Invalid \|uninitialised\|Mismatched" "$T/$n.log" | head -40
  elif [ $rc -ne "$want" ]; then bad "$n: exit $rc, expected $want"; tail -5 "$T/$n.log"
  else ok "$n: exit $rc, no memcheck error, no definite leak"; fi
}
vg ingest 0 $PARCOURS ingest -q -o "$T/S" --customers "$T/cust.csv" "$T/tiny.csv"
vg run 0 $PARCOURS run -q "$T/job.ini"
[ -f "$T/O/csv/nps.csv" ] && [ -f "$T/O/csv/funnels.csv" ] && [ -f "$T/O/csv/model.csv" ] && ok "run wrote nps, funnels, model" || bad "run outputs missing"
# every table spilling (a pool of 1 byte: each spills at every journey) and walked at reduce
mkdir -p "$T/sp"
vg run_spill 0 $PARCOURS run -q "$T/job.ini" --set output.dir="$T/SP" --set run.table_memory=1 --set run.spill_dir="$T/sp"
[ "$(digest "$T/SP")" = "$(digest "$T/O")" ] && [ -z "$(ls -A "$T/sp")" ] && ok "spilling run: the same outputs, spill directory removed" || bad "spilling run: outputs differ or spill left"
vg inspect 0 $PARCOURS inspect "$T/S"
vg ingest_rejects 1 $PARCOURS ingest -q -o "$T/S2" tests/data/bad/mixed_rejects.csv
vg run_bad_job 1 $PARCOURS run -q tests/data/bad/jobs/unknown_key.ini
vg run_exists 1 $PARCOURS run -q "$T/job.ini"
# the monthly workflow: scope, segments, retention, split = segment, and the diff
vg run_monthly 0 $PARCOURS run -q "$T/job.ini" --set output.dir="$T/M" --set retention.period=week \
  --set "scope.segments=gold;(unknown)" --set scope.entry_event=visit --set funnel.buy.split=segment
[ -f "$T/M/csv/segments.csv" ] && [ -f "$T/M/csv/retention.csv" ] && ok "run wrote segments, retention" || bad "monthly outputs missing"
vg diff 0 $PARCOURS diff -q "$T/O" "$T/M" -o "$T/D"
[ -f "$T/D/diff.json" ] && [ -f "$T/D/csv/funnels_diff.csv" ] && ok "diff wrote diff.json, funnels_diff.csv" || bad "diff outputs missing"
finish
