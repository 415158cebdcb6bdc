#!/bin/bash
# run --force replaces only what parcours wrote (spec §9, issue "data
# safety"): never the store, "/", a parent of the store or a directory
# inside it, a directory without parcours' marker, a plain file or a
# symbolic link; no shell is ever involved (a quote in output.dir is just a
# byte); one writer at a time per output.dir (a lock beside it, naming the
# holder's PID), and a dead writer's lock does not block the next run.
. tests/lib.sh
D=tests/data/small
$PRUN 1 $PARCOURS ingest -q -o $T/st $D/journeys.csv || { bad "ingest"; finish; }
job $D/job.ini $T/st $T/out > $T/job.ini
sum_tree() { (cd "$1" && find . -type f -o -type l | sort | xargs -d '\n' md5sum 2>/dev/null | md5sum | cut -c1-32); }
st0=$(sum_tree $T/st)
refuse() { # NAME DIR [more run args] — run --force must fail, naming why
  local name=$1 dir=$2; shift 2
  if $PRUN 1 $PARCOURS run -q --force $T/job.ini --set "output.dir=$dir" "$@" >/dev/null 2>$T/err; then
    bad "$name: exit 0"; return 1; fi
  grep -aq "$dir" $T/err && ok "$name: refused ($(grep -ao 'error: .*' $T/err | head -1 | cut -c1-110))" || { bad "$name: message does not name $dir"; cat $T/err; }
}
refuse "output.dir = the store" $T/st
refuse "output.dir = a parent of the store" $T
refuse "output.dir = /" /
refuse "output.dir inside the store" $T/st/out
[ "$(sum_tree $T/st)" = "$st0" ] && ok "the store is untouched" || bad "the store changed"
mkdir -p $T/mine && echo keep > $T/mine/data.txt
refuse "a directory parcours did not write" $T/mine
[ "$(cat $T/mine/data.txt)" = keep ] && ok "that directory is untouched" || bad "that directory changed"
echo keep > $T/file
refuse "a plain file" $T/file
[ "$(cat $T/file)" = keep ] && ok "the file is untouched" || bad "the file changed"
# a real output, then a link to it: the link is refused, the output kept
$PRUN 1 $PARCOURS run -q $T/job.ini --set output.dir=$T/real || bad "first run"
[ -f $T/real/.parcours-output ] && ok "an output directory carries the marker" || bad "no marker"
ln -s $T/real $T/link
refuse "a symbolic link to an output" $T/link
[ -f $T/real/csv/summary.csv ] && ok "the linked output is untouched" || bad "linked output changed"
# quotes in output.dir: no shell anywhere (the old code ran rm -rf '...')
mkdir -p "$T/victim" && echo keep > "$T/victim/x"
q="$T/o' '$T/victim' '"
mkdir -p "$q" 2>/dev/null; rmdir "$q" 2>/dev/null
if $PRUN 1 $PARCOURS run -q $T/job.ini --set "output.dir=$T/o'q" && $PRUN 1 $PARCOURS run -q --force $T/job.ini --set "output.dir=$T/o'q"; then
  [ -f "$T/o'q/csv/summary.csv" ] && [ "$(cat $T/victim/x)" = keep ] && ok "a quote in output.dir is a byte: replaced in place, nothing else touched" || bad "quote case"
else bad "run with a quote in output.dir failed"; fi
# --force on our own output replaces it, leaves no .tmp/.old
$PRUN 1 $PARCOURS run -q --force $T/job.ini --set output.dir=$T/real --set output.top_k=3 || bad "--force on own output"
[ "$(ls -d $T/real.* 2>/dev/null)" = "$T/real.lock" ] && ok "--force replaced its own output; only the lock file beside it" || bad "leftovers: $(ls -d $T/real.*)"
# one writer at a time: a held lock (its file names PID 4242) -> immediate failure
echo 4242 > $T/busy.lock
flock -F $T/busy.lock sleep 20 & holder=$!  # -F: the lock dies with $holder
sleep 0.5
if $PRUN 1 $PARCOURS run -q $T/job.ini --set output.dir=$T/busy >/dev/null 2>$T/err; then bad "ran while the lock was held"
else grep -aq 'being written by another parcours run (PID 4242 holds' $T/err && ok "a held lock is refused at once, naming the holder" || { bad "lock message"; cat $T/err; }; fi
kill $holder 2>/dev/null; wait $holder 2>/dev/null
[ ! -e $T/busy ] && ok "nothing written under the locked name" || bad "output written despite the lock"
$PRUN 1 $PARCOURS run -q $T/job.ini --set output.dir=$T/busy && ok "the lock file of a finished holder does not block" || bad "stale lock blocks"
# two runs at once, no --force: exactly one writes, the other fails clearly
for i in 1 2; do ( $PRUN 1 $PARCOURS run -q $T/job.ini --set output.dir=$T/race 2>$T/race$i.err; echo $? > $T/race$i.rc ) & done
wait
rcs="$(cat $T/race1.rc) $(cat $T/race2.rc)"
if [ "$rcs" = "0 1" ] || [ "$rcs" = "1 0" ]; then
  grep -aqE 'being written by another parcours run|already exists' $T/race1.err $T/race2.err && [ -f $T/race/csv/summary.csv ] && ok "two writers at once: one wrote, the other failed clearly" || bad "race: messages"
else bad "two writers at once: exit statuses $rcs"; fi
finish
