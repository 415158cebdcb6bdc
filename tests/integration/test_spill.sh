#!/bin/bash
# Spilling (issue 15, `run` in bounded memory): a run whose tables are
# forced to spill (run.table_memory of a few KiB, or a small
# run.memory_per_rank) writes byte-identical csv/, results.h5 and
# report.html to a run that does not spill, at P = 1, 2, 3 and 1, 2
# threads, on a real log (bpic2012, with the determinism job's extras) and
# on generated data (the monthly job), and run.json shows that every rank
# spilled; a full spill file system (a 4 MiB tmpfs) fails clearly, naming
# the directory, with no output and the previous results intact; a
# 10^7-event run completes under `ulimit -v` well below what it needs
# without a budget.
. tests/lib.sh
D=tests/data/bpic2012
# spill_runs JSON: every rank's spill_runs, e.g. "12 9"
spill_runs() { python3 -c "import json,sys; print(*json.load(open(sys.argv[1]))['memory']['spill_runs'])" "$1/run.json"; }
all_spilled() { local x; for x in $(spill_runs "$1"); do [ "$x" -gt 0 ] || return 1; done; }
# matrix NAME JOB EXTRA...: the reference (no spill) against P x threads with EXTRA settings
matrix() {
  local name=$1 jobf=$2; shift 2
  rm -rf $T/ref
  $PRUN 1 $PARCOURS run -q $jobf --set output.dir=$T/ref || { bad "$name: reference run"; return; }
  [ "$(spill_runs $T/ref)" = 0 ] && ok "$name: the reference does not spill" || bad "$name: the reference spilled"
  local ref n=0 i=0; ref=$(digest $T/ref)
  for P in 1 2 3; do for th in 1 2; do
    i=$((i+1)); rm -rf $T/o
    if ! OMP_NUM_THREADS=$th $PRUN $P $PARCOURS run -q $jobf --set output.dir=$T/o "$@" 2>$T/err; then
      bad "$name: P=$P T=$th run"; tail -3 $T/err; continue; fi
    all_spilled $T/o || { bad "$name: P=$P T=$th: a rank did not spill ($(spill_runs $T/o))"; continue; }
    [ "$(digest $T/o)" = "$ref" ] && n=$((n+1)) || bad "$name: P=$P T=$th differs from the reference"
  done; done
  [ $n -eq $i ] && ok "$name: $i spilling runs ($*) byte-identical to the reference (spill runs per rank at P=3 T=2: $(spill_runs $T/o))"
}

# ---- byte-identical outputs, bpic2012 ------------------------------------------------
$PRUN 2 $PARCOURS ingest -q -o $T/b --customers $D/customers.csv $D/journeys.csv
job $D/expected/job.ini $T/b $T/x > $T/b.ini
printf '[funnel.offer_modes]\nsteps = O_CREATED;O_SENT;O_SENT_BACK;O_ACCEPTED\nwindow = 2592000\nmode = strict_increase;strict_once\nsplit = channel\n' >> $T/b.ini
printf '\n[retention]\nperiod = week\nperiods = 8\n' >> $T/b.ini
printf '[flow.after_accept]\nanchor = A_ACCEPTED\nsteps = 3\n[flow.before_accept]\nanchor = A_ACCEPTED\ndirection = before\n[attribution]\nmarkov_order = 3\n' >> $T/b.ini
sed -i 's/^lookback = 5$/lookback = 5\nsequence_max = 4\nsequence_min_customers = 2/' $T/b.ini
matrix bpic2012 $T/b.ini --set run.table_memory=64K
# a small budget: batches lowered, the pool and partitions of the reduce sized from it
matrix bpic2012-budget $T/b.ini --set run.memory_per_rank=100M --set run.table_memory=1M

# ---- byte-identical outputs, generated data --------------------------------------------
$PRUN 2 $PARCOURS generate -q -o $T/g --customers 20000 --seed 11
sed "s#^store = .*#store = $T/g#" jobs/monthly.ini > $T/g.ini
matrix generated $T/g.ini --set run.table_memory=64K

if $PRUN 1 $PARCOURS run -q $T/g.ini --set output.dir=$T/nd --set run.spill_dir=$T/nonexistent 2>$T/err; then
  bad "spill_dir missing: exit 0"
elif grep -aq "\[run\] spill_dir: $T/nonexistent is not a directory" $T/err && [ ! -e $T/nd ]; then
  ok "a spill_dir that is not a directory: refused before the scan"
else bad "spill_dir missing: unclear message"; tail -2 $T/err; fi

# ---- ENOSPC: a 4 MiB tmpfs as the spill directory ---------------------------------------
if [ "$(id -u)" = 0 ] && mkdir -p $T/tmpfs && mount -t tmpfs -o size=4m tmpfs $T/tmpfs 2>/dev/null; then
  $PRUN 1 $PARCOURS run -q $T/g.ini --set output.dir=$T/prev || bad "previous results"
  before=$(digest $T/prev)
  # the expected spill (16 B an event) fits 4 MiB, the real one does not: ENOSPC while spilling
  if $PRUN 2 $PARCOURS run -q $T/g.ini --force --set output.dir=$T/prev --set run.spill_dir=$T/tmpfs --set run.table_memory=64K 2>$T/err; then
    bad "ENOSPC: exit 0"
  elif grep -aq "spill directory $T/tmpfs/parcours-spill-r[0-9]-[A-Za-z0-9]*: no space left on device" $T/err; then
    ok "ENOSPC while spilling: $(grep -ao 'no space left on device [a-z ]*' $T/err | head -1)"
  else bad "ENOSPC: unclear message"; tail -3 $T/err; fi
  [ "$(digest $T/prev)" = "$before" ] && ok "ENOSPC: the previous results (--force) are intact" || bad "ENOSPC: previous results changed"
  [ -z "$(ls $T/tmpfs)" ] && ok "ENOSPC: the spill directories are removed" || bad "ENOSPC: left in the tmpfs: $(ls $T/tmpfs)"
  ls -d $T/prev.tmp-* >/dev/null 2>&1 && bad "ENOSPC: staging left" || ok "ENOSPC: no staging directory left"
  # far more to spill than the file system holds: refused before the scan
  $PRUN 2 $PARCOURS generate -q -o $T/g2 --customers 100000 --seed 12
  if $PRUN 2 $PARCOURS run -q $T/g.ini --set input.store=$T/g2 --set output.dir=$T/new --set run.spill_dir=$T/tmpfs --set run.table_memory=64K 2>$T/err; then
    bad "up-front space check: exit 0"
  elif grep -aq "spill directory $T/tmpfs: .* MiB free, this rank is expected to spill about" $T/err; then
    ok "not enough space for the expected spill: refused up front ($(grep -ao 'rank [0-9]: spill directory [^:]*: [0-9.]* MiB free' $T/err | head -1))"
  else bad "up-front space check: unclear message"; tail -3 $T/err; fi
  [ ! -e $T/new ] && ok "up-front refusal: no output" || bad "up-front refusal: output written"
  umount $T/tmpfs
else
  ok "ENOSPC: skipped (needs root to mount a tmpfs)"
fi

# ---- 10^7 events under ulimit -v --------------------------------------------------------
# Before issue 15 the monthly job at 10^7 events took 811 MB of address space
# and 540 MB resident on rank 0 (docs/bench.md); under 450 MB of address space
# it completes with run.memory_per_rank = 160M, and ranks other than 0 (which
# also holds the output tables and builds results.h5 in memory) stay within
# the budget (run.json peak_rss_bytes), where they need 280 MB without one.
$PRUN 2 $PARCOURS generate -q -o $T/big --customers 1000000 --seed 42
sed "s#^store = .*#store = $T/big#" jobs/monthly.ini > $T/big.ini
$PRUN 2 $PARCOURS run -q $T/big.ini --set output.dir=$T/big-ref || bad "10^7: unlimited run"
if (ulimit -v 460000; $PRUN 2 $PARCOURS run -q $T/big.ini --set output.dir=$T/big-budget --set run.memory_per_rank=160M 2>$T/err); then
  [ "$(digest $T/big-budget)" = "$(digest $T/big-ref)" ] && all_spilled $T/big-budget \
    && ok "10^7 under ulimit -v 460000 with run.memory_per_rank=160M: completes, spills ($(spill_runs $T/big-budget) runs), outputs identical" \
    || bad "10^7 with a budget: outputs differ or no spill"
  rss1=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['peak_rss_bytes'][1])" $T/big-budget/run.json)
  [ "$rss1" -le $((160 << 20)) ] && ok "10^7: rank 1 peaks at $((rss1 >> 20)) MiB resident, within the 160 MiB budget" \
    || bad "10^7: rank 1 peaks at $((rss1 >> 20)) MiB, over the 160 MiB budget"
else bad "10^7 under ulimit -v 460000 with run.memory_per_rank=160M: failed"; tail -3 $T/err; fi
finish
