#!/bin/bash
# test-slurm.sh - integration test of slurm/ on a real one-node Slurm cluster
# started here (tests/slurm/local-cluster.sh), for `make check`.
#   (a) the monthly chain (slurm/submit-monthly.sh: ingest -> run -> report,
#       diff) completes on generated data, and its csv/ files and results.h5
#       equal, byte for byte, those of a direct `tools/prun 2 parcours run`;
#       the first month's diff job finds no previous month; a second month
#       appends and its diff job compares it with the first (OUT/diff/MONTH);
#   (b) a partition-study array of 8 tasks completes and study.csv has one
#       row per task with the grid point's parameters, status ok;
#   (c) a chain given a broken CSV fails: the ingest job's ExitCode in
#       `scontrol show job` is non-zero, its log says which step failed and
#       why, and the rest of the chain is cancelled;
#   (d) scancel of a running `parcours run` job (Slurm sends SIGTERM): the
#       job ends CANCELLED within seconds, its log says what was
#       interrupted, no output and no temporary directory is left.
#   (e) `local-cluster.sh stop` with only SLURM_CONF set ends every process
#       the cluster started (pgrep finds none) and removes its directory.
# Last line: "N passed, M failed"; exit status 1 when M > 0. When Slurm
# cannot be installed here (not root, no package mirror) it prints SKIP and
# exits 0. PARCOURS=path overrides bin/parcours (tests/slurm/stand-in-parcours
# exercises the harness without the real binary). PC_TEST_KEEP=1 keeps the
# work directory. Run from anywhere; about a minute.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 2
PARCOURS=${PARCOURS:-$ROOT/bin/parcours}
PASS=0 FAIL=0
pass() { echo "PASS: $*"; PASS=$((PASS + 1)); }
fail() { echo "FAIL: $*"; FAIL=$((FAIL + 1)); }
finish() { echo "$PASS passed, $FAIL failed"; [ "$FAIL" -eq 0 ]; exit $?; }

if ! tools/install-slurm >/dev/null 2>&1 || ! command -v sbatch >/dev/null ||
   ! [ -x /usr/sbin/slurmctld ] || ! [ -x /usr/sbin/munged ]; then
  echo "SKIP: Slurm (slurm-wlm, munge) is not installed and cannot be installed here (tools/install-slurm); slurm tests not run"
  exit 0
fi
if ! [ -x "$PARCOURS" ]; then
  fail "parcours binary $PARCOURS missing (make, or PARCOURS=...)"
  finish
fi

# A free pair of ports, so that a cluster already running is left alone.
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
p=${PC_SLURM_CTLD_PORT:-16817}
while ! port_free "$p" || ! port_free $((p + 1)); do p=$((p + 2)); done
export PC_SLURM_CTLD_PORT=$p PC_SLURM_SLURMD_PORT=$((p + 1))

W=$(mktemp -d /tmp/pc-slurm-test.XXXXXX)
export PC_SLURM_DIR=$W/cluster
cleanup() {
  tests/slurm/local-cluster.sh stop >/dev/null 2>&1 || true
  if [ "${PC_TEST_KEEP:-0}" = 1 ]; then echo "kept $W"; else rm -rf "$W"; fi
}
trap cleanup EXIT
if ! env=$(tests/slurm/local-cluster.sh start 2>"$W/start.log"); then
  cat "$W/start.log"
  fail "local Slurm cluster did not start (log above)"
  finish
fi
eval "$env"
pass "local cluster up ($(sinfo -h -o '%P %D %c %T'))"

# Root may run Open MPI (the container); shared memory without CMA.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export PC_MPIRUN_ARGS="--mca btl self,vader --mca btl_vader_single_copy_mechanism none"
export PARCOURS PC_ROOT=$ROOT
SB=(--time=10 --ntasks=2 --cpus-per-task=1)

# wait_jobs TIMEOUT ID...: until every job (array tasks too) has ended.
# Prints the final "JobId State ExitCode" lines.
wait_jobs() {
  local t=$1 s
  shift
  for _ in $(seq $((t * 2))); do
    s=$(for id in "$@"; do scontrol -o show job "$id" 2>/dev/null; done)
    if ! grep -qE 'JobState=(PENDING|RUNNING|CONFIGURING|COMPLETING|SUSPENDED|REQUEUED)' <<<"$s"; then
      sed -E 's/^JobId=([0-9_]+).* JobState=([A-Z_]+).* ExitCode=([0-9:]+).*/\1 \2 \3/' <<<"$s" |
        grep -v '^JobId=' | sort -u
      return 0
    fi
    sleep 0.5
  done
  echo "TIMEOUT after ${t}s:"; grep -oE 'JobId=[0-9_]+|JobState=[A-Z]+|Reason=[^ ]+' <<<"$s"
  return 1
}
# The last lines of each log, shown when a case fails.
show_logs() { for f in "$@"; do echo "--- $f"; tail -n 30 "$f"; done; }

JOBINI=$W/job.ini
cat > "$JOBINI" <<EOF
[input]
store = unset
[output]
dir = unset
EOF
mkdir -p "$W/drops/2024-05" "$W/drops/2024-06" "$W/logs" "$W/gen"
# generate --csv FILE writes FILE (events) and FILE-customers.csv.
if ! "$PARCOURS" generate -o "$W/gen/store" --customers 2000 --seed 7 \
     --csv "$W/gen/month.csv" >"$W/generate.log" 2>&1; then
  show_logs "$W/generate.log"; fail "parcours generate"; finish
fi
cp "$W/gen/month.csv" "$W/drops/2024-05/month.csv"
CUST=$W/gen/month-customers.csv
CUSTOPT=()
[ -f "$CUST" ] && CUSTOPT=(--customers "$CUST") || CUST=""

# (a) monthly chain == direct run
case_a() {
  local ids ingest run report diff st
  if ! ids=$(slurm/submit-monthly.sh 2024-05 --input "$W/drops/{MONTH}/*.csv" "${CUSTOPT[@]}" \
        --store "$W/store" --out "$W/out" --job "$JOBINI" --logdir "$W/logs" -- "${SB[@]}" 2>&1); then
    echo "$ids"; fail "(a) submit-monthly.sh"; return
  fi
  eval "$ids"
  echo "(a) jobs: ingest=$ingest run=$run report=$report diff=$diff"
  st=$(wait_jobs 300 "$ingest" "$run" "$report" "$diff")
  echo "$st"
  if ! grep -qE "^$ingest COMPLETED 0:0\$" <<<"$st" || ! grep -qE "^$run COMPLETED 0:0\$" <<<"$st"; then
    show_logs "$W"/logs/parcours-*-2024-05-*.out; fail "(a) monthly ingest -> run did not complete"; return
  fi
  pass "(a) monthly chain: ingest and run jobs completed"
  if grep -qE "^$report COMPLETED 0:0\$" <<<"$st" && [ -f "$W/out/2024-05/report.html" ]; then
    pass "(a) report job completed, report.html in OUT/MONTH"
  else
    show_logs "$W"/logs/parcours-report-2024-05-*.out; fail "(a) report job / report.html"
  fi
  [ -f "$W/out/2024-05/run.json" ] && pass "(a) run.json in OUT/MONTH" || fail "(a) run.json missing in $W/out/2024-05"
  if grep -qE "^$diff COMPLETED 0:0\$" <<<"$st" && [ ! -e "$W/out/diff/2024-05" ] &&
     grep -q 'nothing to compare' "$W"/logs/parcours-diff-2024-05-*.out; then
    pass "(a) first month: the diff job completes with nothing to compare"
  else
    show_logs "$W"/logs/parcours-diff-2024-05-*.out; fail "(a) first month's diff job"
  fi
  if ! { tools/prun 2 "$PARCOURS" ingest -o "$W/direct-store" "${CUSTOPT[@]}" "$W/drops/2024-05/month.csv" &&
         tools/prun 2 "$PARCOURS" run "$JOBINI" --set "input.store=$W/direct-store" \
           --set "output.dir=$W/direct" --quiet; } >"$W/direct.log" 2>&1; then
    show_logs "$W/direct.log"; fail "(a) direct tools/prun 2 run"; return
  fi
  local a b f diffs=0 n=0
  a=$(cd "$W/out/2024-05/csv" && ls) b=$(cd "$W/direct/csv" && ls)
  if [ "$a" != "$b" ] || [ -z "$a" ]; then
    fail "(a) csv/ file sets differ: slurm [$a] direct [$b]"; return
  fi
  for f in $a; do
    n=$((n + 1))
    cmp "$W/out/2024-05/csv/$f" "$W/direct/csv/$f" || diffs=$((diffs + 1))
  done
  cmp "$W/out/2024-05/results.h5" "$W/direct/results.h5" || diffs=$((diffs + 1))
  [ $diffs = 0 ] && pass "(a) $n csv files and results.h5 byte-identical to the direct run" ||
    fail "(a) $diffs file(s) differ from the direct run"
  # A second month appends to the same store (events only): other rows (new
  # customer ids), since May's file again would be refused as rows already
  # in batch 1 (docs/format.md, "Batch checksums").
  sed '2,$ s/^\([^,]*\),/\1-jun,/' "$W/drops/2024-05/month.csv" > "$W/drops/2024-06/month.csv"
  ids=$(slurm/submit-monthly.sh 2024-06 --input "$W/drops/{MONTH}/*.csv" --store "$W/store" \
        --out "$W/out" --job "$JOBINI" --logdir "$W/logs" -- "${SB[@]}" 2>&1) && eval "$ids"
  st=$(wait_jobs 300 "$ingest" "$run" "$report" "$diff")
  if grep -qE "^$run COMPLETED 0:0\$" <<<"$st" &&
     grep -q -- '--append' "$W"/logs/parcours-ingest-2024-06-*.out; then
    pass "(a) second month ingested with --append and run"
  else
    echo "$st"; show_logs "$W"/logs/parcours-*-2024-06-*.out; fail "(a) second month (--append)"
  fi
  # the store holds the month twice now: the diff sees every count doubled
  local ev1
  ev1=$(grep '^events,' "$W/out/2024-05/csv/summary.csv" | cut -d, -f2)
  if grep -qE "^$diff COMPLETED 0:0\$" <<<"$st" && [ -f "$W/out/diff/2024-06/diff.json" ] &&
     [ -f "$W/out/diff/2024-06/report.html" ] &&
     grep -qx "events,$ev1,$((2 * ev1)),$ev1" "$W/out/diff/2024-06/csv/summary_diff.csv"; then
    pass "(a) second month: the diff job compares it with the first (events $ev1 -> $((2 * ev1)))"
  else
    show_logs "$W"/logs/parcours-diff-2024-06-*.out; fail "(a) second month's diff job / OUT/diff/2024-06"
  fi
}

# (b) partition study array
case_b() {
  local study=$W/study.ini ids studydir prepare array gather st
  cat > "$study" <<EOF
[study]
dir = $W/study
job = $JOBINI
input = $W/drops/2024-05/*.csv
customers = $CUST
strategies = balanced;hash
buckets = 8;32
ranks = 1;2
threads = 1
repeat = 1
EOF
  if ! ids=$(slurm/submit-study.sh "$study" -- --time=10 2>&1); then
    echo "$ids"; fail "(b) submit-study.sh"; return
  fi
  eval "$(grep -E '^(studydir|prepare|array|gather)=' <<<"$ids")"
  echo "(b) jobs: prepare=$prepare array=$array gather=$gather"
  st=$(wait_jobs 600 "$prepare" "$array" "$gather")
  echo "$st"
  if [ "$(grep -c ' COMPLETED 0:0$' <<<"$st")" != 10 ]; then
    show_logs "$studydir"/logs/*.out; fail "(b) study jobs did not all complete"; return
  fi
  pass "(b) prepare, 8 array tasks and gather completed"
  local expect got
  expect=$(for s in balanced hash; do for b in 8 32; do for r in 1 2; do
             echo "$s,$b,$r,1,ok"; done; done; done | awk '{print NR-1 "," $0}')
  got=$(python3 -c 'import csv,sys
for r in csv.DictReader(open(sys.argv[1])):
    print(",".join(r[k] for k in ("task","strategy","buckets","ranks","threads","status")))' \
        "$studydir/study.csv" 2>&1)
  if [ "$got" = "$expect" ]; then pass "(b) study.csv: 8 rows, one per task, parameters and status right"
  else fail "(b) study.csv rows:"; diff <(echo "$expect") <(echo "$got"); fi
  if python3 -c 'import sys,xml.etree.ElementTree as E; r=E.parse(sys.argv[1]).getroot(); sys.exit(0 if r.tag.endswith("svg") and len(r.findall(".//{http://www.w3.org/2000/svg}rect")) > 16 else 1)' \
       "$studydir/study.svg"; then pass "(b) study.svg is well-formed SVG with bars"
  else fail "(b) study.svg"; fi
}

# (c) broken input: the failure is visible in Slurm and in the log
case_c() {
  local ids ingest run report diff st log
  mkdir -p "$W/drops/2024-07"
  printf 'id;when;what\n1;2;3\n' > "$W/drops/2024-07/broken.csv"
  if ! ids=$(slurm/submit-monthly.sh 2024-07 --input "$W/drops/{MONTH}/*.csv" \
        --store "$W/store-c" --out "$W/out" --job "$JOBINI" --logdir "$W/logs" -- "${SB[@]}" 2>&1); then
    echo "$ids"; fail "(c) submit-monthly.sh"; return
  fi
  eval "$ids"
  st=$(wait_jobs 300 "$ingest" "$run" "$report" "$diff")
  echo "$st"
  local info
  info=$(scontrol show job "$ingest")
  if grep -q 'JobState=FAILED' <<<"$info" && grep -qE 'ExitCode=[1-9][0-9]*:0' <<<"$info"; then
    pass "(c) ingest job FAILED, $(grep -oE 'ExitCode=[0-9:]+' <<<"$info" | head -1) in scontrol show job"
  else
    fail "(c) ingest job state/exit code: $(grep -oE 'JobState=[A-Z]+|ExitCode=[0-9:]+' <<<"$info" | tr '\n' ' ')"
  fi
  log=$(ls "$W"/logs/parcours-ingest-2024-07-*.out 2>/dev/null | head -1)
  if [ -n "$log" ] && grep -q 'step ingest failed with exit status [1-9]' "$log" &&
     grep -q 'broken.csv' "$log"; then
    pass "(c) log names the failed step and the broken file"
  else
    show_logs "$log"; fail "(c) log message"
  fi
  if [ "$(grep -cE "^($run|$report|$diff) CANCELLED" <<<"$st")" = 3 ]; then
    pass "(c) run, report and diff jobs cancelled (dependency never satisfied)"
  else fail "(c) rest of the chain not cancelled"; fi
  [ ! -d "$W/out/2024-07" ] && pass "(c) no output for the failed month" ||
    fail "(c) output dir $W/out/2024-07 exists"
}

# (d) scancel while parcours run is working
case_d() {
  local id st log
  if ! "$PARCOURS" generate -q -o "$W/big-store" --customers 300000 --seed 3 >"$W/big.log" 2>&1; then
    show_logs "$W/big.log"; fail "(d) generate"; return
  fi
  id=$(sbatch --parsable "${SB[@]}" --output="$W/logs/cancel-%j.out" slurm/monthly.sbatch \
         --month 2024-08 --step run --store "$W/big-store" --out "$W/out" --job jobs/monthly.ini) ||
    { fail "(d) sbatch"; return; }
  log=$W/logs/cancel-$id.out
  for _ in $(seq 600); do grep -q 'run: plan' "$log" 2>/dev/null && break; sleep 0.1; done
  sleep 0.5
  scancel "$id"
  st=$(wait_jobs 60 "$id")
  echo "$st"
  grep -qE "^$id CANCELLED" <<<"$st" && pass "(d) scancel: job CANCELLED" || fail "(d) job state: $st"
  if grep -aqE 'parcours run: interrupted by SIGTERM while [a-z ]+: nothing was committed' "$log"; then
    pass "(d) the log says what was interrupted"
  else show_logs "$log"; fail "(d) no interruption message in the log"; fi
  if [ ! -e "$W/out/2024-08" ] && [ -z "$(ls -d "$W"/out/2024-08.tmp-* 2>/dev/null)" ]; then
    pass "(d) no output and no temporary directory for the cancelled month"
  else fail "(d) leftovers: $(ls -d "$W"/out/2024-08*)"; fi
  sleep 1
  pgrep -f "parcours run.*$W/big-store" >/dev/null && fail "(d) a parcours rank survived scancel" || pass "(d) no parcours rank left running"
}

# (e) stop with only SLURM_CONF set (what `eval "$(... start)"` exports, as
# its help says) ends every process the cluster started: munged,
# slurmctld, slurmd and whatever slurmd started (a slurmstepd), and removes
# the directory; cgroup.conf pins cgroup/v1 so that slurmd needs no dbus.
case_e() {
  local d=$PC_SLURM_DIR pids p left=""
  grep -qx 'CgroupPlugin=cgroup/v1' "$d/etc/cgroup.conf" && pass "(e) cgroup.conf pins CgroupPlugin=cgroup/v1" ||
    fail "(e) cgroup.conf: $(cat "$d/etc/cgroup.conf" 2>&1)"
  pids="$(cat "$d"/run/*.pid 2>/dev/null) $(pgrep -P "$(cat "$d/run/slurmd.pid")" 2>/dev/null)"
  if (unset PC_SLURM_DIR; SLURM_CONF=$d/etc/slurm.conf tests/slurm/local-cluster.sh stop) >"$W/stop.log" 2>&1; then
    pass "(e) stop with only SLURM_CONF=DIR/etc/slurm.conf: exit 0"
  else fail "(e) stop with only SLURM_CONF: $(cat "$W/stop.log")"; fi
  for p in $pids; do kill -0 "$p" 2>/dev/null && left="$left $p($(ps -o comm= -p "$p"))"; done
  left="$left$(pgrep -f "$d" | tr '\n' ' ')"
  [ -z "${left// /}" ] && pass "(e) no process of the cluster left (daemons and their children: $(echo $pids | wc -w))" ||
    fail "(e) processes left:$left"
  [ ! -e "$d" ] && pass "(e) cluster directory removed" || fail "(e) $d still exists"
}

case_a
case_b
case_c
case_d
case_e   # last: it stops the cluster
finish
