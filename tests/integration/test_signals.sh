#!/bin/bash
# SIGTERM / SIGINT (Ctrl-C, mpirun, scancel) stop a run cleanly: every rank
# is gone within seconds, rank 0 says what was interrupted, nothing under
# the final name changes (no output, or the old one intact with --force),
# no OUT.tmp-PID is left, no spill directory either, and the exit status is
# non-zero. The same for a signal sent to one rank only (mpirun then stops
# the others). Then ingest (a new store, an append) and generate stopped in
# each phase (held there by PARCOURS_TEST_HOOK): no STORE, no STORE.tmp-PID;
# an append leaves MANIFEST, shards and files as they were; the message
# names the phase.
. tests/lib.sh
$PRUN 2 $PARCOURS generate -q -o $T/st --customers 300000 --seed 3 || { bad "generate"; finish; }
J="jobs/monthly.ini --set input.store=$T/st"
# starts a run in the background held at test hook POINT (RUN_HOOK, default
# run-batch: a rank has built its first batch), waits until a rank sleeps
# there, sends SIG to TARGET (mpirun, or rank1: one rank), waits; sets rc
# and err. (A run of this store takes about a second: a signal sent after a
# fixed delay could find it in any phase, or done.)
interrupt() { # SIG TARGET OUT [run args]
  local sig=$1 target=$2 out=$3 point=${RUN_HOOK:-run-batch}; shift 3
  rm -f $T/err
  # tools/prun execs mpirun: $! is this job's mpirun, nobody else's
  PARCOURS_TEST_HOOK=$point:sleep=30 $PRUN 2 $PARCOURS run $J --set output.dir=$out "$@" 2>$T/err &
  local bg=$! n=0
  until grep -q "test hook $point: sleeping" $T/err 2>/dev/null || [ $n -ge 600 ]; do sleep 0.05; n=$((n+1)); done
  [ $n -ge 600 ] && echo "     (never reached $point)"
  if [ "$target" = mpirun ]; then kill -$sig $bg
  else pkill -$sig -f -n "parcours run jobs/monthly.ini --set input.store=$T/st" ; fi
  local t0=$(date +%s%N)
  wait $bg
  rc=$?
  gone_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
}
for sig in TERM INT; do
  interrupt $sig mpirun $T/out
  [ "$rc" != 0 ] && ok "SIG$sig: exit status $rc" || bad "SIG$sig: exit 0"
  # mpirun passes SIGINT on to its ranks as SIGTERM
  grep -aqE "parcours run: interrupted by SIG(TERM|$sig) while [a-z ]*: nothing was committed" $T/err \
    && ok "SIG$sig: rank 0 says what was interrupted ($(grep -ao 'while [a-z ]*' $T/err | head -1))" || { bad "SIG$sig: message"; tail -5 $T/err; }
  [ ! -e $T/out ] && [ -z "$(ls -d $T/out.tmp-* 2>/dev/null)" ] && ok "SIG$sig: no output, no temporary directory" || bad "SIG$sig: leftovers: $(ls -d $T/out*)"
  [ $gone_ms -lt 10000 ] && ok "SIG$sig: the job ended (${gone_ms} ms after the signal)" || bad "SIG$sig: took ${gone_ms} ms"
  sleep 0.5
  pgrep -f "parcours run jobs/monthly.ini --set input.store=$T/st" >/dev/null && bad "SIG$sig: a rank is still running" || ok "SIG$sig: no rank left running"
done
# while rank 0 writes the outputs (held once csv/, results.h5 and the report
# are staged): the staging directory goes, nothing is committed
RUN_HOOK=run-outputs-staged interrupt TERM mpirun $T/wout
[ "$rc" != 0 ] && [ ! -e $T/wout ] && [ -z "$(ls -d $T/wout.tmp-* 2>/dev/null)" ] && \
  grep -aq "parcours run: interrupted by SIGTERM while writing the outputs: nothing was committed; removing its temporary files" $T/err \
  && ok "SIGTERM while writing the outputs: staged outputs removed, nothing committed, the phase named" || { bad "SIGTERM while writing: rc $rc, left $(ls -d $T/wout* 2>/dev/null)"; tail -3 $T/err; }
# --force over a finished output: interrupted, the old results stay whole
$PRUN 2 $PARCOURS run -q $J --set output.dir=$T/keep || bad "first run"
d0=$(digest $T/keep)
interrupt TERM mpirun $T/keep --force
[ "$rc" != 0 ] && [ "$(digest $T/keep)" = "$d0" ] && [ -z "$(ls -d $T/keep.tmp-* $T/keep.old-* 2>/dev/null)" ] \
  && ok "--force run interrupted: the previous results are intact, nothing left over" || bad "--force interrupted: rc $rc, results changed or leftovers"
# a run that spills: its spill directories go with it (registered with the watcher)
mkdir -p $T/sp
rm -f $T/err
PARCOURS_TEST_HOOK=run-batch:sleep=30 $PRUN 2 $PARCOURS run $J --set output.dir=$T/sp-out --set run.table_memory=64K --set run.spill_dir=$T/sp 2>$T/err &
bg=$! n=0
until grep -q "test hook run-batch: sleeping" $T/err 2>/dev/null && [ -n "$(ls -A $T/sp 2>/dev/null)" ] || [ $n -ge 600 ]; do sleep 0.05; n=$((n+1)); done
spilling=$(ls $T/sp | wc -l)
kill -TERM $bg; wait $bg; rc=$?
[ "$spilling" -gt 0 ] && [ "$rc" != 0 ] && [ -z "$(ls -A $T/sp)" ] && [ ! -e $T/sp-out ] \
  && ok "SIGTERM while spilling ($spilling spill directories): all removed, no output" || bad "SIGTERM while spilling: rc $rc, had $spilling, left: $(ls $T/sp)"
# one rank only
interrupt TERM rank1 $T/one
[ "$rc" != 0 ] && [ ! -e $T/one ] && [ -z "$(ls -d $T/one.tmp-* 2>/dev/null)" ] && ok "SIGTERM to one rank: job stopped, nothing written" || bad "one rank: rc $rc"
sleep 0.5
pgrep -f "parcours run jobs/monthly.ini --set input.store=$T/st" >/dev/null && bad "one rank: a rank is still running" || ok "one rank: no rank left running"

# ---- ingest and generate --------------------------------------------------------------
$PARCOURS generate -q -o $T/gsrc --customers 20000 --seed 5 --csv $T/ev.csv >/dev/null || { bad "generate the CSV"; finish; }
$PARCOURS generate -q -o $T/gsrc2 --customers 3000 --seed 6 --csv $T/ev2.csv >/dev/null || { bad "generate the CSV"; finish; }
# held SIG POINT NP CMD...: runs CMD (a parcours command under prun) with
# the hook POINT sleeping, waits until a rank sleeps there, signals mpirun;
# sets rc; stderr in $T/herr
held() {
  local sig=$1 point=$2 np=$3; shift 3
  rm -f $T/herr
  PARCOURS_TEST_HOOK=$point:sleep=30 $PRUN $np "$@" 2>$T/herr &
  local bg=$! n=0
  until grep -q "test hook $point: sleeping" $T/herr 2>/dev/null || [ $n -ge 600 ]; do sleep 0.05; n=$((n+1)); done
  [ $n -ge 600 ] && echo "     (never reached $point)"
  kill -$sig $bg
  wait $bg
  rc=$?
}
# store_state DIR: the names and bytes of everything in DIR but LOCK (made
# by the first append, it stays)
store_state() { (cd "$1" && find . -type f ! -name LOCK | sort | xargs md5sum; find . ! -name LOCK | sort); }
for case in "TERM ingest-staged 1 staging the batch" "INT ingest-spilled 2 parsing, exchanging and sorting the inputs" \
            "TERM ingest-merged 2 merging the sorted runs into the shards" "TERM ingest-after-shards 1 finishing the shards"; do
  set -- $case; sig=$1 point=$2 np=$3; shift 3; phase="$*"
  rm -rf $T/new $T/new.tmp-*
  held $sig $point $np $PARCOURS ingest -o $T/new --memory 256K $T/ev.csv
  [ "$rc" != 0 ] && [ ! -e $T/new ] && [ -z "$(ls -d $T/new.tmp-* 2>/dev/null)" ] \
    && ok "ingest (new store, $np ranks) stopped at $point by SIG$sig: exit $rc, no store, no staging" || bad "ingest $point: rc $rc, left $(ls -d $T/new* 2>/dev/null)"
  grep -aqE "parcours ingest: interrupted by SIG(TERM|$sig) while $phase: nothing was committed; removing its temporary files" $T/herr \
    && ok "ingest $point: the message names the phase ($phase)" || { bad "ingest $point: message"; tail -3 $T/herr; }
done
$PARCOURS ingest -q -o $T/app $T/ev2.csv || bad "first batch"
before=$(store_state $T/app)
for point in ingest-staged ingest-spilled ingest-merged ingest-after-shards; do
  held TERM $point 2 $PARCOURS ingest --append -o $T/app --memory 256K $T/ev.csv
  [ "$rc" != 0 ] && [ "$(store_state $T/app)" = "$before" ] \
    && ok "ingest --append stopped at $point: MANIFEST, shards and files as they were (no tmp-b000002, no b000002-*)" || { bad "append $point: rc $rc, store changed"; diff <(echo "$before") <(store_state $T/app) | head -5; }
done
$PARCOURS ingest -q --append -o $T/app $T/ev.csv && [ "$($PARCOURS inspect $T/app | grep -c .)" -gt 0 ] \
  && ok "the append, run again, commits (the lock was released)" || bad "append after the signals"
for np in 1 2; do
  rm -rf $T/gen $T/gen.tmp-*
  held TERM generate-range $np $PARCOURS generate -o $T/gen --customers 20000 --memory 256K
  [ "$rc" != 0 ] && [ ! -e $T/gen ] && [ -z "$(ls -d $T/gen.tmp-* 2>/dev/null)" ] && \
    grep -aq "parcours generate: interrupted by SIGTERM while generating the customers into the shards: nothing was committed" $T/herr \
    && ok "generate ($np ranks) stopped: exit $rc, no store, no staging, the message names the phase" || { bad "generate $np: rc $rc"; tail -3 $T/herr; }
done
finish
