#!/bin/bash
# test_store_safety.sh - a monthly job never loses, doubles or deletes a
# batch (issue 14; docs/reliability.md, table "Data safety"):
#  1. writers: two appends at once (the second fails naming the holder, or
#     waits with --lock-timeout and commits its own batch), two creations of
#     one store (exactly one commits), an append while a run reads (the run
#     completes on the old history);
#  2. idempotent appends: kill -9 at every point of an append and of a new
#     store (PARCOURS_TEST_HOOK), then the same command again: the batch is
#     in the store exactly once, and the store reads as an uninterrupted one;
#  3. the class "the same rows twice": the same append again, the same
#     rows gzip-compressed, one file given twice, a file already in an
#     earlier batch.
# Run from the repo root; env PARCOURS (default bin/parcours). Last line:
# "N passed, M failed"; exit non-zero on any failure.
cd "$(dirname "$0")/../.." || exit 2
. tests/lib.sh
HOST=$(hostname)

# expect NAME WANT_RC WANT_STDERR CMD...: exit status and whole stderr exact
expect() {
  n=$1 want_rc=$2 want_err=$3; shift 3
  "$@" >/dev/null 2>"$T/err"; rc=$?
  got=$(cat "$T/err")
  if [ "$rc" = "$want_rc" ] && [ "$got" = "$want_err" ]; then ok "$n"
  else bad "$n: exit $rc (want $want_rc)"; printf '     got:  %s\n     want: %s\n' "$got" "$want_err"; fi
}
# batches STORE: the batches line of its MANIFEST
batches() { sed -n 's/^batches //p' "$1/MANIFEST"; }
# same_store NAME A B: the two stores hold the same events (canonical dump)
same_store() {
  $PARCOURS inspect --dump "$2" > "$T/a.dump" 2>&1; $PARCOURS inspect --dump "$3" > "$T/b.dump" 2>&1
  check_same "$1" "$T/a.dump" "$T/b.dump"
}
# no_leftovers NAME STORE: no MANIFEST.tmp and no file of an uncounted batch
no_leftovers() {
  n=$(batches "$2"); extra=""
  for f in "$2"/*; do
    b=$(basename "$f" | sed -n 's/^b0*\([0-9][0-9]*\)-r[0-9]*\.h5$/\1/p; s/^batch-0*\([0-9][0-9]*\)\.json$/\1/p')
    [ -n "$b" ] && [ "$b" -gt "$n" ] && extra="$extra $(basename "$f")"
  done
  [ -e "$2/MANIFEST.tmp" ] && extra="$extra MANIFEST.tmp"
  if [ -z "$extra" ]; then ok "$1"; else bad "$1: left$extra"; fi
}

# ---- data ------------------------------------------------------------------------
$PARCOURS generate -q -o "$T/gen" --customers 400 --seed 3 --csv "$T/month.csv" || { echo "cannot generate"; exit 2; }
H='customer_id,timestamp,channel,event,value'
printf '%s\nc1,2024-03-01T12:00:00Z,web,view,\nc2,2024-03-01T13:00:00Z,app,buy,5\n' "$H" > "$T/first.csv"
printf '%s\nc3,2024-04-01T12:00:00Z,web,view,\nc1,2024-04-02T12:00:00Z,app,buy,7\n' "$H" > "$T/april.csv"
$PARCOURS ingest -q -o "$T/base" "$T/first.csv" || { echo "cannot ingest"; exit 2; }
# the reference: base + month, never interrupted
cp -r "$T/base" "$T/ref"
$PARCOURS ingest -q --append -o "$T/ref" "$T/month.csv" || { echo "cannot append"; exit 2; }

# ---- 1. two writers ----------------------------------------------------------------
# The first append holds the lock (it sleeps just before its commit); the
# second fails at once, names the holder, changes nothing.
cp -r "$T/base" "$T/s1"
PARCOURS_TEST_HOOK=store-before-commit:sleep=6 $PARCOURS ingest -q --append -o "$T/s1" "$T/month.csv" 2>"$T/first.err" &
pid=$!
for _ in $(seq 50); do grep -q "PID $pid" "$T/s1/LOCK" 2>/dev/null && break; sleep 0.1; done
expect "second append while the first runs: refused at once, naming the holder" 1 \
  "parcours ingest: error: rank 0: $T/s1: another parcours command (PID $pid on host $HOST) is writing this store (it holds $T/s1/LOCK); nothing was done: run again when it has finished, or pass --lock-timeout SECONDS to wait for it" \
  $PARCOURS ingest -q --append -o "$T/s1" "$T/april.csv"
wait $pid; rc=$?
[ $rc = 0 ] && [ "$(batches "$T/s1")" = 2 ] && ok "the first append commits (exit 0, batch 2)" || bad "first append: exit $rc, batches $(batches "$T/s1")"
same_store "the store holds base + month, nothing of the refused append" "$T/ref" "$T/s1"
# The lock is inside the store: a second path to it (a link) is the same lock.
ln -s "$T/s1" "$T/s1link"
PARCOURS_TEST_HOOK=store-before-commit:sleep=6 $PARCOURS ingest -q --append -o "$T/s1" "$T/april.csv" 2>/dev/null &
pid=$!
for _ in $(seq 50); do grep -q "PID $pid" "$T/s1/LOCK" 2>/dev/null && break; sleep 0.1; done
expect "second append through a link to the store: the same lock, refused" 1 \
  "parcours ingest: error: rank 0: $T/s1link: another parcours command (PID $pid on host $HOST) is writing this store (it holds $T/s1link/LOCK); nothing was done: run again when it has finished, or pass --lock-timeout SECONDS to wait for it" \
  $PARCOURS ingest -q --append -o "$T/s1link" "$T/month.csv"
wait $pid
# With --lock-timeout the second waits and commits its own batch after it.
cp -r "$T/base" "$T/s2"
PARCOURS_TEST_HOOK=store-before-commit:sleep=3 $PARCOURS ingest -q --append -o "$T/s2" "$T/month.csv" &
pid=$!
for _ in $(seq 50); do grep -q "PID $pid" "$T/s2/LOCK" 2>/dev/null && break; sleep 0.1; done
expect "second append with --lock-timeout 60: waits, exit 0" 0 "" \
  $PARCOURS ingest -q --append --lock-timeout 60 -o "$T/s2" "$T/april.csv"
wait $pid; rc=$?
cp -r "$T/ref" "$T/ref2"; $PARCOURS ingest -q --append -o "$T/ref2" "$T/april.csv"
if [ $rc = 0 ] && [ "$(batches "$T/s2")" = 3 ] && grep -q "april.csv" "$T/s2/batch-000003.json"; then
  ok "both commit, serially: batch 2 (month) then batch 3 (april)"; else bad "lock-timeout: exit $rc, batches $(batches "$T/s2")"; fi
same_store "no batch lost: base + month + april" "$T/ref2" "$T/s2"
# Two creations of one store: the one that renames first wins; the other
# fails at its commit and leaves nothing.
PARCOURS_TEST_HOOK=store-before-commit:sleep=8 $PARCOURS ingest -q -o "$T/s3" "$T/month.csv" 2>"$T/slow.err" &
pid=$!
for _ in $(seq 100); do grep -q "test hook store-before-commit" "$T/slow.err" && break; sleep 0.1; done
expect "two creations: the quick one commits" 0 "" $PARCOURS ingest -q -o "$T/s3" "$T/april.csv"
wait $pid; rc=$?
if [ $rc = 1 ] && [ "$(tail -1 "$T/slow.err")" = "parcours ingest: error: rank 0: $T/s3: already exists: another command created it while this one ran; nothing was written (remove it, or use --append)" ]; then
  ok "two creations: the slow one fails at its commit, naming the store"; else bad "slow creation: exit $rc: $(cat "$T/slow.err")"; fi
$PARCOURS ingest -q -o "$T/s3ref" "$T/april.csv"
same_store "two creations: the store is the quick one's, whole" "$T/s3ref" "$T/s3"
left=$(ls -d "$T"/s3.tmp-* 2>/dev/null)
[ -z "$left" ] && ok "two creations: no staging directory left" || bad "two creations: left $left"
# A run reads while an append commits: it has read the MANIFEST, sleeps,
# the append commits meanwhile, the run completes on the old history.
cp -r "$T/base" "$T/s4"
printf '[input]\nstore = %s\n[output]\ndir = %s\n' "$T/base" "$T/out-base" > "$T/base.ini"
printf '[input]\nstore = %s\n[output]\ndir = %s\n' "$T/s4" "$T/out-s4" > "$T/s4.ini"
$PARCOURS run -q "$T/base.ini" || bad "run of base"
PARCOURS_TEST_HOOK=store-opened:sleep=8 $PARCOURS run -q "$T/s4.ini" 2>"$T/run.err" &
pid=$!
for _ in $(seq 100); do grep -q "test hook store-opened" "$T/run.err" && break; sleep 0.1; done
expect "append while a run reads: exit 0" 0 "" $PARCOURS ingest -q --append -o "$T/s4" "$T/month.csv"
wait $pid; rc=$?
[ $rc = 0 ] && ok "the run completes (exit 0)" || bad "run during append: exit $rc"
check_same "the run saw the old history (summary.csv of base)" "$T/out-base/csv/summary.csv" "$T/out-s4/csv/summary.csv"
$PARCOURS run -q "$T/s4.ini" --force && ! cmp -s "$T/out-base/csv/summary.csv" "$T/out-s4/csv/summary.csv" &&
  ok "a run after the commit sees the new history" || bad "run after the append"

# ---- 2. kill -9 at every point, then the same command again -----------------------------
# kill_case POINT NP: append killed at POINT (exit 137), retried: exactly
# one batch 2, the store reads as the reference, no leftovers.
kill_case() {
  pt=$1 np=$2 s=$T/k-$1-$2
  cp -r "$T/base" "$s"
  if [ "$np" = 1 ]; then PARCOURS_TEST_HOOK=$pt:kill $PARCOURS ingest -q --append -o "$s" "$T/month.csv" >/dev/null 2>&1; rc=$?
  else PARCOURS_TEST_HOOK=$pt:kill $PRUN "$np" $PARCOURS ingest -q --append -o "$s" "$T/month.csv" >/dev/null 2>&1; rc=$?; fi
  want=1; [ "$pt" = store-after-commit ] && want=2
  if [ $rc = 137 ] && [ "$(batches "$s")" = $want ]; then ok "kill -9 at $pt ($np ranks): exit 137, batches $want"
  else bad "kill -9 at $pt ($np ranks): exit $rc, batches $(batches "$s") (want 137, $want)"; fi
  if [ "$pt" = store-after-commit ]; then
    expect "  same append again: already committed, exit 0" 0 \
      "parcours: ingest: $s: these inputs are already batch 2 (batch key $(sed 's/.*"key":"\(................\).*/\1/' "$s/batch-000002.json")...): nothing was added" \
      $PARCOURS ingest -q --append -o "$s" "$T/month.csv"
  else
    expect "  same append again: completes, exit 0" 0 "" $PRUN "$np" $PARCOURS ingest -q --append -o "$s" "$T/month.csv"
  fi
  [ "$(batches "$s")" = 2 ] && ok "  exactly one batch 2" || bad "  $pt: batches $(batches "$s")"
  same_store "  the store reads as the uninterrupted one" "$T/ref" "$s"
  no_leftovers "  no leftovers of the killed append" "$s"
}
for pt in ingest-after-shards store-before-commit store-after-commit; do kill_case $pt 1; done
kill_case store-before-commit 2
kill_case store-after-commit 2
# A new store killed at each point: the same command again gives the store once.
for pt in ingest-after-shards store-before-commit store-after-commit; do
  s=$T/n-$pt
  PARCOURS_TEST_HOOK=$pt:kill $PARCOURS ingest -q -o "$s" "$T/first.csv" >/dev/null 2>&1; rc=$?
  $PARCOURS ingest -q -o "$s" "$T/first.csv" 2>"$T/err"; rc2=$?
  if [ $rc = 137 ] && [ $rc2 = 0 ] && [ "$(batches "$s")" = 1 ]; then ok "new store killed at $pt: again -> exit 0, one batch"
  else bad "new store killed at $pt: exit $rc then $rc2, batches $(batches "$s")"; cat "$T/err"; fi
  same_store "  reads as the uninterrupted one" "$T/base" "$s"
done
grep -q "these inputs are already batch 1" "$T/err" && ok "new store killed after its commit: the retry says it is there" ||
  bad "new store after commit: $(cat "$T/err")"

# ---- 3. the same rows twice, whatever the way -----------------------------------------
s=$T/ref
key2=$(sed 's/.*"key":"\(................\).*/\1/' "$s/batch-000002.json")
expect "the same append again: already batch 2, exit 0, nothing added" 0 \
  "parcours: ingest: $s: these inputs are already batch 2 (batch key $key2...): nothing was added" \
  $PARCOURS ingest -q --append -o "$s" "$T/month.csv"
gzip -c "$T/month.csv" > "$T/renamed.csv.gz"
expect "the same rows gzip-compressed under another name: already batch 2" 0 \
  "parcours: ingest: $s: these inputs are already batch 2 (batch key $key2...): nothing was added" \
  $PARCOURS ingest -q --append -o "$s" "$T/renamed.csv.gz"
sha=$(sha256sum < "$T/month.csv" | cut -c1-64)
rows=$(($(wc -l < "$T/month.csv") - 1))
expect "a file already in batch 2, with a new one: refused naming both" 1 \
  "parcours ingest: error: rank 0: $T/renamed.csv.gz: its $rows rows are already in batch 2 of $s (as $T/month.csv, sha256 $sha); adding them again would count them twice: nothing was done" \
  $PARCOURS ingest -q --append -o "$s" "$T/april.csv" "$T/renamed.csv.gz"
sha=$(sha256sum < "$T/april.csv" | cut -c1-64)
expect "one file given twice: refused" 1 \
  "parcours ingest: error: rank 0: $T/april.csv has the same content as $T/april.csv (sha256 $sha): its rows would be added twice; give it once" \
  $PARCOURS ingest -q -o "$T/twice" "$T/april.csv" "$T/april.csv"
[ "$(batches "$s")" = 2 ] && [ ! -e "$T/twice" ] && ok "none of these changed anything" || bad "store changed: batches $(batches "$s")"
# An input that grows between its checksum and its parse (still being
# written): the rows parsed would not be the rows of the checksum.
cp "$T/april.csv" "$T/growing.csv"
PARCOURS_TEST_HOOK=ingest-identified:sleep=3 $PARCOURS ingest -q --append -o "$s" "$T/growing.csv" 2>"$T/err" &
pid=$!
for _ in $(seq 100); do grep -q "test hook ingest-identified" "$T/err" && break; sleep 0.1; done
printf 'c9,2024-04-03T12:00:00Z,web,view,\n' >> "$T/growing.csv"
wait $pid; rc=$?
if [ $rc = 1 ] && [ "$(tail -1 "$T/err")" = "parcours ingest: error: rank 0: $T/growing.csv: changed while it was read ($(stat -c %s "$T/april.csv") bytes at the start, $(stat -c %s "$T/growing.csv") at the end): is it still being written? Nothing was added to $s" ] &&
   [ "$(batches "$s")" = 2 ]; then ok "an input written to while ingest reads it: refused, nothing added"
else bad "growing input: exit $rc: $(cat "$T/err")"; fi
grep -q "\"inputs\":\[{\"path\":\"$T/month.csv\",\"kind\":\"events\",\"rows\":$rows,\"rejected\":0,\"sha256\":\"$(sha256sum < "$T/month.csv" | cut -c1-64)\"}\],\"key\":\"" "$s/batch-000002.json" &&
  ok "the batch record holds each input's rows and sha256, and the key" || bad "batch record: $(cat "$s/batch-000002.json")"

finish
