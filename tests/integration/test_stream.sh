#!/bin/bash
# test_stream.sh - ingest and generate in bounded memory (issue 15,
# docs/format.md "How a shard is written"):
#  (1) a budget small enough for at least 10 sorted runs (ingest) or bucket
#      ranges (generate) on every rank gives the same store rows (inspect
#      --dump) and byte-identical run outputs (csv/, results.h5) as an
#      unconstrained run, at P = 1, 2, 3; the shards of one P are the same
#      bytes whatever the budget;
#  (2) ENOSPC while sorted runs are spilled or the shard is written (a
#      small tmpfs filled while the ingest holds at a test hook; root only):
#      a clear error naming the runs' directory or the shard; a new store:
#      no directory left; an append: MANIFEST, shards and files as they
#      were; a disk too small from the start is refused before parsing;
#  (3) under `ulimit -v` well below what a 10^7-event generate and ingest
#      needed before (about 1 GB a rank), with 2 ranks, both complete
#      (STREAM_BIG=0 skips it: it writes a 600 MB CSV).
# Run from the repo root. Last line "N passed, M failed".
cd "$(dirname "$0")/../.." || exit 2
. tests/lib.sh
MNT=""
cleanup() { [ -n "$MNT" ] && umount "$MNT" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT

N=30000 # customers: about 335,000 events (ingest)
NG=70000 # generate: ranges hold 2048 customers under --memory 256K, so 10 a rank at P = 3
$PARCOURS generate -q -o $T/src --customers $N --seed 7 --csv $T/ev.csv || { bad "generate"; finish; }
$PARCOURS generate -q -o $T/gsrc --customers $NG --seed 7 || { bad "generate"; finish; }
CUST=$T/ev-customers.csv
job() { printf '[input]\nstore = %s\n[output]\ndir = %s\n[target]\nevent = churn\n[funnel.f]\nsteps = visit;add_to_cart;purchase\nwindow = 2592000\n[kpi]\nnps_event = nps_response\n' "$1" "$2" > $T/job.ini; }
run_job() { job "$1" "$2"; $PARCOURS run -q $T/job.ini >/dev/null 2>$T/run.err || { cat $T/run.err; return 1; }; }
same_outputs() { diff -r "$1/csv" "$2/csv" >/dev/null && cmp -s "$1/results.h5" "$2/results.h5"; }
# counts "A to B a rank" of the memory line of stderr file $1: echoes A
fewest() { sed -n "s/.*$2: \([0-9]*\) to [0-9]* a rank.*/\1/p" "$1"; }

# ---- (1) the same rows and outputs whatever the budget and P --------------------------
$PARCOURS ingest -q -o $T/ref --customers $CUST $T/ev.csv || bad "reference ingest"
$PARCOURS inspect --dump $T/ref > $T/ref.dump
run_job $T/ref $T/out-ref || bad "run on the reference store"
run_job $T/src $T/out-src || bad "run on the generated store"
same_outputs $T/out-ref $T/out-src && ok "reference: ingest of the CSV and the generated store give the same outputs" || bad "reference outputs differ"
$PARCOURS inspect --dump $T/gsrc > $T/gsrc.dump
run_job $T/gsrc $T/out-gsrc || bad "run on the generated store"
for P in 1 2 3; do
  rm -rf $T/i$P $T/j$P
  $PRUN $P $PARCOURS ingest -o $T/i$P --memory 256K --customers $CUST $T/ev.csv 2>$T/ing.err || { bad "P=$P: ingest --memory 256K"; tail -3 $T/ing.err; continue; }
  runs=$(fewest $T/ing.err "sorted runs spilled")
  [ "${runs:-0}" -ge 10 ] && ok "P=$P: ingest --memory 256K spilled at least $runs sorted runs on every rank" || { bad "P=$P: only ${runs:-?} runs"; grep memory: $T/ing.err; }
  $PRUN $P $PARCOURS ingest -q -o $T/j$P --customers $CUST $T/ev.csv || bad "P=$P: ingest, default budget"
  for s in $T/j$P/b*.h5; do cmp -s $s $T/i$P/${s##*/} || bad "P=$P: ${s##*/} differs between budgets"; done
  ok "P=$P: ingest's shards are the same bytes under --memory 256K and the default"
  $PARCOURS inspect --dump $T/i$P | cmp -s - $T/ref.dump && ok "P=$P: ingest --memory 256K: inspect --dump equals the unconstrained store's" || bad "P=$P: ingest dump differs"
  run_job $T/i$P $T/out-i$P && same_outputs $T/out-ref $T/out-i$P && ok "P=$P: ingest --memory 256K: run outputs byte-identical" || bad "P=$P: ingest outputs differ"
  rm -rf $T/g$P
  $PRUN $P $PARCOURS generate -o $T/g$P --customers $NG --seed 7 --memory 256K 2>$T/gen.err || { bad "P=$P: generate --memory 256K"; tail -3 $T/gen.err; continue; }
  ranges=$(fewest $T/gen.err "bucket ranges")
  [ "${ranges:-0}" -ge 10 ] && ok "P=$P: generate --memory 256K wrote at least $ranges bucket ranges on every rank" || { bad "P=$P: only ${ranges:-?} ranges"; grep memory: $T/gen.err; }
  $PARCOURS inspect --dump $T/g$P | cmp -s - $T/gsrc.dump && ok "P=$P: generate --memory 256K: inspect --dump equals the unconstrained store's" || bad "P=$P: generate dump differs"
  run_job $T/g$P $T/out-g$P && same_outputs $T/out-gsrc $T/out-g$P && ok "P=$P: generate --memory 256K: run outputs byte-identical" || bad "P=$P: generate outputs differ"
  rm -rf $T/out-i$P $T/out-g$P $T/j$P $T/g$P
done

# ---- (2) ENOSPC while spilling --------------------------------------------------------------
# held_fill STORE MEMORY ARGS...: ingest ARGS into STORE, held at
# ingest-staged while the tmpfs is filled; sets rc, stderr in $T/nospc.err
held_fill() {
  local store=$1 mem=$2; shift 2
  rm -f $T/nospc.err
  PARCOURS_TEST_HOOK=ingest-staged:sleep=2 $PRUN 2 $PARCOURS ingest -o $store --memory $mem "$@" 2>$T/nospc.err &
  local bg=$! n=0
  until grep -q "test hook ingest-staged: sleeping" $T/nospc.err 2>/dev/null || [ $n -ge 400 ]; do sleep 0.05; n=$((n+1)); done
  dd if=/dev/zero of=$MNT/fill bs=64k 2>/dev/null
  wait $bg
  rc=$?
  rm -f $MNT/fill
}
mkdir -p $T/mnt
if mount -t tmpfs -o size=24m tmpfs $T/mnt 2>/dev/null; then
  MNT=$T/mnt
  held_fill $MNT/S 256K $T/ev.csv
  if [ "$rc" != 0 ] && grep -q "$MNT/S.tmp-[0-9]*/tmp-b000001: cannot write a sorted run: No space left on device" $T/nospc.err; then
    ok "ENOSPC during a spill (new store): $(grep -o 'rank [0-9]*: .*' $T/nospc.err | head -1 | cut -c1-110)"
  else bad "ENOSPC, new store: rc $rc, message"; tail -3 $T/nospc.err; fi
  [ ! -e $MNT/S ] && [ -z "$(ls -d $MNT/S.tmp-* 2>/dev/null)" ] && ok "ENOSPC, new store: no STORE, no STORE.tmp-PID" || bad "ENOSPC, new store: left $(ls $MNT)"
  $PARCOURS generate -q -o $MNT/A --customers 2000 --seed 8 || bad "a small store in the tmpfs"
  before=$( (cd $MNT/A && find . -type f ! -name LOCK | sort | xargs md5sum) )
  held_fill $MNT/A 256K --append $T/ev.csv
  after=$( (cd $MNT/A && find . -type f ! -name LOCK | sort | xargs md5sum) )
  if [ "$rc" != 0 ] && grep -q "$MNT/A/tmp-b000002: cannot write a sorted run: No space left on device" $T/nospc.err && [ "$before" = "$after" ] &&
     [ -z "$(ls -d $MNT/A/tmp-* $MNT/A/*b000002* 2>/dev/null)" ]; then
    ok "ENOSPC during a spill (append): clear error, MANIFEST and shards as they were, no file of batch 2"
  else bad "ENOSPC, append: rc $rc"; tail -3 $T/nospc.err; ls $MNT/A; fi
  rm -rf $MNT/A
  # nothing spilled (the default budget): the shard writer meets the full disk
  held_fill $MNT/C 1G $T/ev.csv
  if [ "$rc" != 0 ] && grep -qE "$MNT/C.tmp-[0-9]*/b000001-r0000[01].h5: cannot (write|create shard file): No space left on device" $T/nospc.err &&
     [ -z "$(ls -d $MNT/C* 2>/dev/null)" ]; then
    ok "ENOSPC while the shard is written (its blocks reserved ahead): $(grep -o 'rank [0-9]*: .*' $T/nospc.err | head -1 | cut -c1-100)"
  else bad "ENOSPC, shard: rc $rc"; grep -v "^parcours: ingest: [a-z]" $T/nospc.err | head -8; ls $MNT; fi
  dd if=/dev/zero of=$MNT/fill bs=1M count=20 2>/dev/null
  if $PARCOURS ingest -q -o $MNT/B --memory 256K $T/ev.csv 2>$T/nospc.err; then bad "ingest into a nearly full disk: exit 0"
  elif grep -q "$MNT/B.tmp-[0-9]*: No space left on device: this ingest needs about" $T/nospc.err && [ -z "$(ls -d $MNT/B* 2>/dev/null)" ]; then
    ok "a disk too small from the start: refused before parsing ($(grep -o 'needs about.*free' $T/nospc.err | cut -c1-80))"
  else bad "nearly full disk: $(tail -1 $T/nospc.err)"; fi
  umount $MNT; MNT=""
else
  echo "note: cannot mount a tmpfs here (not root?): the ENOSPC cases are skipped"
fi

# ---- (3) 10^7 events under ulimit -v --------------------------------------------------------
if [ "${STREAM_BIG:-1}" != 0 ]; then
  LIMIT_KB=716800 # 700 MiB of address space per process (before: ~1 GB resident a rank)
  (ulimit -v $LIMIT_KB; exec $PRUN 2 $PARCOURS generate -q -o $T/big --customers 900000 --seed 9 --memory 256M --csv $T/big.csv) 2>$T/big.err \
    && ok "generate of 10^7 events, 2 ranks, ulimit -v $((LIMIT_KB / 1024)) MiB" || { bad "generate 10^7 under ulimit -v"; tail -3 $T/big.err; }
  rm -rf $T/big
  (ulimit -v $LIMIT_KB; exec $PRUN 2 $PARCOURS ingest -o $T/bigi --memory 256M $T/big.csv) 2>$T/big.err \
    && ok "ingest of 10^7 events, 2 ranks, ulimit -v $((LIMIT_KB / 1024)) MiB ($(grep -o 'peak RSS [0-9.]* MiB' $T/big.err))" || { bad "ingest 10^7 under ulimit -v"; tail -3 $T/big.err; }
  rm -rf $T/bigi $T/big.csv $T/big-customers.csv
fi
finish
