#!/bin/sh
# test_faults.sh - faults during a run: (a) a rank killed mid-run, (b) the
# disk full while writing (a 1 MiB tmpfs, else ulimit -f), (c) a second run
# into the same output dir (--force, atomic replacement), (d) a plan that
# does not fit run.memory_per_rank. Each must fail (or succeed) cleanly:
# non-zero exit, a clear message, nothing partial under the final name, no
# leftover temporary directories. Run from the repo root (as root for the
# tmpfs); env PARCOURS. Last line "N passed, M failed".
cd "$(dirname "$0")/../.." || exit 2
. tests/lib.sh
MNT=""
cleanup() { [ -n "$MNT" ] && umount "$MNT" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT

$PRUN 2 $PARCOURS generate -q -o "$T/big" --customers 300000 --seed 1 >/dev/null 2>&1 || { echo "cannot generate"; exit 2; }
$PARCOURS generate -q -o "$T/small" --customers 2000 --seed 2 --csv "$T/small.csv" >/dev/null 2>&1 || { echo "cannot generate"; exit 2; }
mkjob() { # STORE OUT
  printf '[input]\nstore = %s\n[output]\ndir = %s\n[target]\nevent = churn\n[funnel.f]\nsteps = visit;add_to_cart;purchase\nwindow = 2592000\n[kpi]\nnps_event = nps_response\n' "$1" "$2"
}
# no_leftovers NAME OUT: neither OUT nor OUT.tmp-* nor OUT.old-* exist
no_leftovers() {
  left=$(ls -d "$2" "$2".tmp-* "$2".old-* 2>/dev/null)
  if [ -n "$left" ]; then bad "$1: left $left"; return 1; fi
  return 0
}

# ---- (a) a rank killed mid-run ------------------------------------------------------
out=$T/out-kill
mkjob "$T/big" "$out" > "$T/kill.ini"
start=$(date +%s)
$PRUN 3 $PARCOURS run -q "$T/kill.ini" >"$T/kill.log" 2>&1 &
mp=$!
sleep 1
victim=""
for p in $(pgrep -P $mp 2>/dev/null); do victim=$p; done   # the last rank started
[ -n "$victim" ] || victim=$(pgrep -f "parcours run -q $T/kill.ini" | grep -v "^$mp\$" | tail -1)
if [ -n "$victim" ]; then kill -9 "$victim"; fi
waited=0
while kill -0 $mp 2>/dev/null && [ $waited -lt 30 ]; do sleep 1; waited=$((waited+1)); done
if kill -0 $mp 2>/dev/null; then kill -9 $mp; fi
wait $mp; rc=$?
took=$(( $(date +%s) - start ))
if [ -z "$victim" ]; then bad "rank killed: no rank process found to kill"
elif [ $rc -eq 0 ]; then bad "rank killed: exit 0"
elif [ $took -gt 20 ]; then bad "rank killed: took ${took}s (> 20 s)"
elif no_leftovers "rank killed" "$out"; then ok "rank killed mid-run: exit $rc after ${took}s, no output"; fi
grep -q "signal 9\|killed\|exited on signal" "$T/kill.log" && ok "rank killed: mpirun names the dead rank" ||
  { bad "rank killed: no message"; tail -5 "$T/kill.log"; }
pgrep -f "parcours run -q $T/kill.ini" >/dev/null && bad "rank killed: ranks left running"

# ---- (b) disk full while writing ------------------------------------------------------
full=$T/full
mkdir -p "$full"
if mount -t tmpfs -o size=1m tmpfs "$full" 2>/dev/null; then
  MNT=$full
  mkjob "$T/big" "$full/out" > "$T/full.ini"
  if $PARCOURS run -q "$T/full.ini" >/dev/null 2>"$T/err"; then bad "disk full (tmpfs): exit 0"
  elif grep -q "No space left on device" "$T/err"; then
    no_leftovers "disk full (tmpfs)" "$full/out" && ok "disk full during run (1 MiB tmpfs): $(tail -1 "$T/err" | cut -c1-100)"
  else bad "disk full (tmpfs): unclear message"; tail -3 "$T/err"; fi
  # under 2 ranks too
  if $PRUN 2 $PARCOURS run -q "$T/full.ini" >/dev/null 2>"$T/err"; then bad "disk full (tmpfs, 2 ranks): exit 0"
  elif grep -q "No space left on device" "$T/err"; then
    no_leftovers "disk full (2 ranks)" "$full/out" && ok "disk full during run, 2 ranks"
  else bad "disk full (2 ranks): unclear message"; tail -3 "$T/err"; fi
  # ingest into a nearly full disk: no store, no staging directory
  rm -rf "$full"/out*
  dd if=/dev/zero of="$full/filler" bs=1k count=960 2>/dev/null
  if $PARCOURS ingest -q -o "$full/S" "$T/small.csv" >/dev/null 2>"$T/err"; then bad "ingest, disk full: exit 0"
  elif grep -q "No space left on device" "$T/err"; then
    no_leftovers "ingest, disk full" "$full/S" && ok "ingest into a full disk: $(tail -1 "$T/err" | cut -c1-100)"
  else bad "ingest, disk full: unclear message"; tail -3 "$T/err"; fi
  umount "$full"; MNT=""
else
  echo "note: cannot mount a tmpfs here; simulating a full disk with ulimit -f"
  mkjob "$T/big" "$full/out" > "$T/full.ini"
  if (ulimit -f 1024; trap '' XFSZ; exec $PARCOURS run -q "$T/full.ini") >/dev/null 2>"$T/err"; then bad "file size limit: exit 0"
  elif grep -q "File too large\|No space left" "$T/err"; then
    no_leftovers "file size limit" "$full/out" && ok "file size limit during run: $(tail -1 "$T/err" | cut -c1-100)"
  else bad "file size limit: unclear message"; tail -3 "$T/err"; fi
fi

# ---- (c) a second run into the same output dir ------------------------------------------
out=$T/out-again
mkjob "$T/small" "$out" > "$T/again.ini"
if $PARCOURS run -q "$T/again.ini" >/dev/null 2>&1; then
  d0=$(digest "$out")
  if $PARCOURS run -q "$T/again.ini" >/dev/null 2>"$T/err"; then bad "second run without --force: exit 0"
  elif grep -q "output directory $out already exists (use --force to replace it atomically)" "$T/err" && [ "$(digest "$out")" = "$d0" ]; then
    ok "second run without --force: refused, old results intact"
  else bad "second run without --force: message or results wrong"; tail -2 "$T/err"; fi
  # --force with a run that fails early (bad --set): old results intact
  if $PARCOURS run -q --force "$T/again.ini" --set path.depth=0 >/dev/null 2>"$T/err"; then bad "--force, bad --set: exit 0"
  elif [ "$(digest "$out")" = "$d0" ] && [ -f "$out/run.json" ] && ! ls -d "$out".tmp-* "$out".old-* >/dev/null 2>&1; then
    ok "--force with a failing run (bad --set): old results intact"
  else bad "--force, bad --set: old results changed"; fi
  # --force with a run that fails late (damaged store): old results intact
  cp -r "$T/small" "$T/small-bad"
  sh=$(sed -n 's/^shard //p' "$T/small-bad/MANIFEST" | head -1)
  : > "$T/small-bad/$sh"
  if $PARCOURS run -q --force "$T/again.ini" --set input.store="$T/small-bad" >/dev/null 2>"$T/err"; then bad "--force, damaged store: exit 0"
  elif [ "$(digest "$out")" = "$d0" ] && ! ls -d "$out".tmp-* "$out".old-* >/dev/null 2>&1; then
    ok "--force with a failing run (damaged store): old results intact"
  else bad "--force, damaged store: old results changed"; fi
  # --force with a run that fails while writing (disk full): old results intact
  if mkdir -p "$T/fs" && mount -t tmpfs -o size=$(( $(du -sk "$out" | cut -f1) * 3 / 2 + 64 ))k tmpfs "$T/fs" 2>/dev/null; then
    MNT=$T/fs
    mkjob "$T/small" "$T/fs/out" > "$T/fs.ini"
    $PARCOURS run -q "$T/fs.ini" >/dev/null 2>&1 && d1=$(digest "$T/fs/out")
    if [ -z "${d1:-}" ]; then bad "--force, disk full: first run did not fit"
    elif $PARCOURS run -q --force "$T/fs.ini" --set output.top_k=999 >/dev/null 2>"$T/err"; then bad "--force, disk full: exit 0"
    elif grep -q "No space left on device" "$T/err" && [ "$(digest "$T/fs/out")" = "$d1" ] &&
         ! ls -d "$T/fs/out".tmp-* "$T/fs/out".old-* >/dev/null 2>&1; then
      ok "--force with a run that fills the disk while writing: old results intact"
    else bad "--force, disk full: old results changed or unclear message"; tail -2 "$T/err"; fi
    umount "$T/fs"; MNT=""
  fi
  # --force that succeeds replaces the results, no leftovers
  if $PARCOURS run -q --force "$T/again.ini" --set output.top_k=3 >/dev/null 2>"$T/err" &&
     [ "$(digest "$out")" != "$d0" ] && [ "$(wc -l < "$out/csv/variants.csv")" -eq 4 ] &&
     ! ls -d "$out".tmp-* "$out".old-* >/dev/null 2>&1; then
    ok "--force: results replaced, no leftovers"
  else bad "--force: not replaced"; tail -2 "$T/err"; fi
else bad "first run into $out failed"; fi

# ---- (d) the plan does not fit run.memory_per_rank ----------------------------------------
out=$T/out-mem
mkjob "$T/big" "$out" > "$T/mem.ini"
if $PARCOURS run -q "$T/mem.ini" --set run.memory_per_rank=1M >/dev/null 2>"$T/err"; then bad "memory_per_rank=1M: exit 0"
elif grep -q "more than run.memory_per_rank = 1.0 MiB: use more ranks" "$T/err"; then
  no_leftovers "memory_per_rank" "$out" && ok "memory_per_rank=1M: $(tail -1 "$T/err" | cut -c1-110)"
else bad "memory_per_rank=1M: unclear message"; tail -2 "$T/err"; fi
if $PRUN 2 $PARCOURS run -q "$T/mem.ini" --set run.memory_per_rank=1M >/dev/null 2>"$T/err"; then bad "memory_per_rank=1M, 2 ranks: exit 0"
elif grep -q "use more ranks" "$T/err"; then no_leftovers "memory_per_rank, 2 ranks" "$out" && ok "memory_per_rank=1M, 2 ranks"
else bad "memory_per_rank=1M, 2 ranks: unclear message"; tail -2 "$T/err"; fi

finish
