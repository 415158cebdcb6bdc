#!/bin/sh
# test_bad_input.sh - every bad input of tests/data/bad/ (and damaged stores
# made here with tests/tools/h5poke.c) against bin/parcours: each must fail
# with a non-zero exit, a message on stderr naming the file and line (or
# dataset) and the reason, and leave nothing created or changed. Positive
# cases: with --max-reject-fraction the bad rows land in the rejects file.
# Run from the repo root; env PARCOURS (default bin/parcours). Last line:
# "N passed, M failed"; exit non-zero on any failure.
cd "$(dirname "$0")/../.." || exit 2
. tests/lib.sh
D=tests/data/bad
H5POKE=$T/h5poke
mpicc -o "$H5POKE" tests/tools/h5poke.c $(pkg-config --cflags --libs hdf5-openmpi) || { echo "cannot build h5poke"; exit 2; }

# has NAME FILE SUBSTRING...: every substring occurs in FILE (fixed strings)
has() {
  _n=$1 _f=$2; shift 2
  for _s in "$@"; do
    grep -qF -- "$_s" "$_f" || { bad "$_n: stderr lacks \"$_s\""; sed 's/^/     /' "$_f" | tail -5; return 1; }
  done
  return 0
}
# fails NAME CMD...: runs CMD (stderr to $T/err); TRUE when it exits non-zero
fails() {
  _n=$1; shift
  "$@" >/dev/null 2>"$T/err"; rc=$?
  [ $rc -ne 0 ] && return 0
  bad "$_n: exit 0, expected a failure"; return 1
}

# ---- a good store to run jobs on and to damage --------------------------------------
printf 'customer_id,timestamp,channel,event,value\nc1,2024-03-01T12:00:00Z,web,view,\nc1,2024-03-01T12:05:00Z,web,cart,2\nc1,2024-03-01T12:10:00Z,app,buy,10\nc2,2024-03-01T13:00:00Z,app,view,\nc3,2024-03-02T09:00:00Z,store,view,1\n' > "$T/good.csv"
$PARCOURS ingest -q -o "$T/store" "$T/good.csv" || { echo "cannot ingest the good store"; exit 2; }
$PARCOURS generate -q -o "$T/gen" --customers 300 --seed 1 || { echo "cannot generate"; exit 2; }

# ---- 1. rejected rows under the default --max-reject-fraction 0 -----------------------
# reject_case FILE LINE REASON [--customers]: fails, names FILE:LINE: REASON,
# creates no store; then with --max-reject-fraction 1 it succeeds and the
# rejects file holds (FILE, LINE, REASON, text).
reject_case() {
  f=$1 line=$2 reason=$3 n=$(basename "$1")
  s="$T/s-$n"
  if [ "${4:-}" = --customers ]; then in="--customers $f $T/good.csv"; else in=$f; fi
  # shellcheck disable=SC2086
  if fails "$n" $PARCOURS ingest -o "$s" $in &&
     has "$n" "$T/err" "(first: $f:$line: $reason)" "more than --max-reject-fraction 0" \
         "nothing was added to $s" "the rejected rows are listed in $s.tmp-" "rejected 1 rows: $reason"; then
    if [ -e "$s" ]; then bad "$n: $s was created"; else ok "$n -> $reason (line $line)"; fi
  fi
  rm -rf "$s" "$s".tmp-*
  # shellcheck disable=SC2086
  if $PARCOURS ingest -o "$s" --max-reject-fraction 1 $in >/dev/null 2>"$T/err"; then
    tab=$(printf '\t')
    if grep -q "^$f$tab$line$tab$reason$tab" "$s/rejects-b000001.tsv" &&
       [ "$(wc -l < "$s/rejects-b000001.tsv")" -eq 2 ] && has "$n+" "$T/err" "rejected 1 rows: $reason"; then
      ok "$n with --max-reject-fraction 1: in $s/rejects-b000001.tsv"
    else bad "$n with --max-reject-fraction 1: rejects file wrong"; cat -A "$s/rejects-b000001.tsv" | head -3; fi
  else bad "$n with --max-reject-fraction 1: exit non-zero"; tail -3 "$T/err"; fi
  rm -rf "$s"
}
while read -r file reason; do
  reject_case "$D/$file" 3 "$reason"
done <<'EOF'
blank_line.csv blank_line
blank_line_cr.csv blank_line
column_count_4.csv column_count
column_count_6.csv column_count
quoted_comma.csv column_count
spaces_only.csv column_count
customer_id_empty.csv bad_customer_id
customer_id_gt.csv bad_customer_id
control_tab_id.csv bad_customer_id
too_long_id.csv bad_customer_id
ts_lowercase_t.csv bad_timestamp
ts_no_seconds.csv bad_timestamp
ts_7_decimals.csv bad_timestamp
ts_leap_second.csv bad_timestamp
ts_feb29_nonleap.csv bad_timestamp
ts_offset_24h.csv bad_timestamp
ts_offset_60min.csv bad_timestamp
ts_no_zone.csv bad_timestamp
ts_space_for_t.csv bad_timestamp
ts_epoch_plus.csv bad_timestamp
ts_epoch_fraction.csv bad_timestamp
ts_epoch_too_big.csv bad_timestamp
ts_date_only.csv bad_timestamp
ts_empty.csv bad_timestamp
channel_gt.csv bad_channel
channel_colon.csv bad_channel
channel_empty.csv bad_channel
control_nul_channel.csv bad_channel
too_long_channel.csv bad_channel
reserved_channel_all.csv bad_channel
reserved_channel_unknown.csv bad_channel
event_gt.csv bad_event
control_cr_event.csv bad_event
control_esc_event.csv bad_event
too_long_event.csv bad_event
reserved_event_caret.csv bad_event
reserved_event_dollar.csv bad_event
value_7_decimals.csv bad_value
value_leading_dot.csv bad_value
value_trailing_dot.csv bad_value
value_exponent.csv bad_value
value_too_big.csv bad_value
value_comma_decimal.csv bad_value
control_cr_value.csv bad_value
EOF
while read -r file reason; do
  reject_case "$D/$file" 3 "$reason" --customers
done <<'EOF'
customers_duplicate_id.csv duplicate_customer
customers_bad_revenue.csv bad_revenue
customers_bad_revenue_dot.csv bad_revenue
customers_bad_segment.csv bad_segment
customers_column_count.csv column_count
EOF

# mixed file: 3 of 7 rows bad; 0.5 accepts it, 0.4 does not; counts per reason
s=$T/s-mixed
if fails mixed $PARCOURS ingest -o "$s" --max-reject-fraction 0.4 $D/mixed_rejects.csv &&
   has mixed "$T/err" "3 of 7 data rows rejected (0.428571), more than --max-reject-fraction 0.4" \
       "(first: $D/mixed_rejects.csv:4: blank_line)" && [ ! -e "$s" ]; then ok "mixed_rejects.csv at 0.4 fails"; fi
rm -rf "$s" "$s".tmp-*
if $PARCOURS ingest -o "$s" --max-reject-fraction 0.5 $D/mixed_rejects.csv >/dev/null 2>"$T/err" &&
   has "mixed 0.5" "$T/err" "rejected 1 rows: blank_line" "rejected 1 rows: bad_timestamp" "rejected 1 rows: bad_value" \
       "4 events from 7 data rows, 3 rejected"; then
  printf 'file\tline\treason\ttext\n%s\t4\tblank_line\t\n%s\t6\tbad_timestamp\tc3,2024-13-01T12:00:00Z,web,view,1\n%s\t7\tbad_value\tc4,2024-03-01T12:03:00Z,web,view,1.1234567\n' \
    $D/mixed_rejects.csv $D/mixed_rejects.csv $D/mixed_rejects.csv > "$T/want.tsv"
  check_same "mixed_rejects.csv at 0.5: rejects file exact" "$T/want.tsv" "$s/rejects-b000001.tsv"
  grep -q '"rows":7,"rejected":3,"sha256":"[0-9a-f]\{64\}"}\],"key":"[0-9a-f]\{64\}","rows":7,"accepted":4,"rejected":3,"event_rows":7,"event_rejected":3,"customer_rows":0,"customer_rejected":0,"rejected_by_reason":{"blank_line":1,"bad_timestamp":1,"bad_value":1}' "$s/batch-000001.json" &&
    ok "mixed_rejects.csv: batch record counts" || bad "mixed_rejects.csv: batch record counts"
else bad "mixed_rejects.csv at 0.5 failed"; fi
# the same under 2 ranks: rows of the second half are found by rank 1
rm -rf "$s"
if $PRUN 2 $PARCOURS ingest -q -o "$s" --max-reject-fraction 0.5 $D/mixed_rejects.csv >/dev/null 2>&1; then
  check_same "mixed_rejects.csv, 2 ranks: same rejects file" "$T/want.tsv" "$s/rejects-b000001.tsv"
else bad "mixed_rejects.csv, 2 ranks: failed"; fi
rm -rf "$s"
if fails "mixed 2 ranks" $PRUN 2 $PARCOURS ingest -q -o "$s" $D/mixed_rejects.csv &&
   has "mixed 2 ranks" "$T/err" "(first: $D/mixed_rejects.csv:4: blank_line)" && [ ! -e "$s" ]; then
  ok "mixed_rejects.csv, 2 ranks, fraction 0: fails, no store"; fi
rm -rf "$s" "$s".tmp-*

# rejected lines are kept whole and escaped: a NUL, a TAB, a CR, an ESC stay
# on their one TSV line (\0 \t \r \x1B); a line over 4096 bytes is cut
# with a marker saying how many bytes follow
s=$T/s-esc
{ printf 'customer_id,timestamp,channel,event,value\n'; head -c 5000 /dev/zero | tr '\0' y; printf '\n'; } > "$T/long.csv"
if $PARCOURS ingest -q -o "$s" --max-reject-fraction 1 $D/control_nul_channel.csv $D/control_tab_id.csv \
     $D/control_cr_event.csv $D/control_esc_event.csv "$T/long.csv" >/dev/null 2>&1; then
  { printf 'file\tline\treason\ttext\n'
    printf '%s\t3\tbad_channel\tc1,2024-03-01T12:00:00Z,w\\0b,view,1\n' $D/control_nul_channel.csv
    printf '%s\t3\tbad_customer_id\ta\\tb,2024-03-01T12:00:00Z,web,view,1\n' $D/control_tab_id.csv
    printf '%s\t3\tbad_event\tc1,2024-03-01T12:00:00Z,web,x\\r,1\n' $D/control_cr_event.csv
    printf '%s\t3\tbad_event\tc1,2024-03-01T12:00:00Z,web,vi\\x1Bew,1\n' $D/control_esc_event.csv
    printf '%s\t2\tcolumn_count\t%s\\...[904 more bytes]\n' "$T/long.csv" "$(head -c 4096 /dev/zero | tr '\0' y)"
  } > "$T/want.tsv"
  check_same "rejects: NUL, TAB, CR, ESC escaped, a long line cut with a marker" "$T/want.tsv" "$s/rejects-b000001.tsv"
else bad "rejects escaping: ingest failed"; fi
rm -rf "$s"

# ---- 2. whole-file errors: no store, no staging directory ---------------------------
# file_case NAME SUBSTRING... -- INPUT ARGS
file_case() {
  n=$1; shift
  s="$T/s-$n"
  subs=""
  while [ "$1" != -- ]; do subs="$subs$1
"; shift; done
  shift
  if fails "$n" $PARCOURS ingest -q -o "$s" "$@"; then
    okk=1
    while IFS= read -r sub; do
      [ -n "$sub" ] || continue
      grep -qF -- "$sub" "$T/err" || { okk=0; bad "$n: stderr lacks \"$sub\""; sed 's/^/     /' "$T/err" | tail -3; }
    done <<EOF
$subs
EOF
    left=$(ls -d "$s" "$s".tmp-* 2>/dev/null)
    if [ -n "$left" ]; then bad "$n: left $left"; elif [ $okk = 1 ]; then ok "$n (exit $rc)"; fi
  fi
  rm -rf "$s" "$s".tmp-*
}
EH='expected "customer_id,timestamp,channel,event,value" (events table)'
file_case header_missing "$D/header_missing.csv:1: bad header line" "$EH" -- $D/header_missing.csv
file_case header_wrong "$D/header_wrong.csv:1: bad header line" "$EH" -- $D/header_wrong.csv
file_case header_wrong_case "$D/header_wrong_case.csv:1: bad header line" -- $D/header_wrong_case.csv
file_case header_customers_as_events "$D/header_customers_as_events.csv:1: bad header line" -- $D/header_customers_as_events.csv
file_case customers_wrong_header "$D/customers_wrong_header.csv:1: bad header line" 'expected "customer_id,revenue,segment" (customers table)' -- --customers $D/customers_wrong_header.csv "$T/good.csv"
file_case empty "$D/empty.csv: empty file: the header line is missing" -- $D/empty.csv
file_case gzip_truncated "$D/gzip_truncated.csv.gz: corrupt gzip data near line" "unexpected end of file" -- $D/gzip_truncated.csv.gz
file_case gzip_corrupt "$D/gzip_corrupt.csv.gz: corrupt gzip data near line" "incorrect data check" -- $D/gzip_corrupt.csv.gz
# gzip: rows appended to a .csv.gz (plain bytes after the member) are an
# error naming the file and the offset; a gzip file of nothing is an empty
# file, as a plain one is; members concatenated are read whole
printf 'customer_id,timestamp,channel,event,value\nc1,2024-03-01T12:00:00Z,web,view,\n' | gzip -n > "$T/trail.csv.gz"
gzsize=$(stat -c %s "$T/trail.csv.gz")
printf 'c2,2024-03-01T12:00:00Z,web,view,\n' >> "$T/trail.csv.gz"
file_case gzip_trailing_rows "$T/trail.csv.gz: bytes after the end of the gzip data at byte $gzsize are not gzip data (rows appended to a compressed file?)" -- "$T/trail.csv.gz"
printf '' | gzip -n > "$T/empty.csv.gz"
file_case gzip_empty "$T/empty.csv.gz: empty file: the header line is missing" -- "$T/empty.csv.gz"
{ printf 'customer_id,timestamp,channel,event,value\nc1,2024-03-01T12:00:00Z,web,view,\n' | gzip -n
  printf '' | gzip -n; printf 'c2,2024-03-01T12:00:00Z,web,view,\n' | gzip -n; } > "$T/members.csv.gz"
rm -rf "$T/s-members"
if $PARCOURS ingest -q -o "$T/s-members" "$T/members.csv.gz" && [ "$($PARCOURS inspect --dump "$T/s-members" | wc -l)" = 2 ]; then
  ok "gzip members concatenated: both rows"; else bad "gzip members: not both rows"; fi
rm -rf "$T/s-members"
file_case missing_input "$T/nope.csv: No such file or directory" -- "$T/nope.csv"
file_case input_is_dir "$T: not a regular file" -- "$T"
{ printf 'customer_id,timestamp,channel,event,value\n'; head -c 17000000 /dev/zero | tr '\0' x; printf '\n'; } > "$T/longline.csv"
file_case line_too_long "$T/longline.csv:2: line longer than 16777216 bytes" -- "$T/longline.csv"
rm -f "$T/longline.csv"
# the store exists already (without --append): untouched
m0=$(md5sum < "$T/store/MANIFEST")
if fails exists $PARCOURS ingest -q -o "$T/store" $D/mixed_rejects.csv &&
   has exists "$T/err" "$T/store: already exists (use --append to add a batch, or remove it)" &&
   [ "$(md5sum < "$T/store/MANIFEST")" = "$m0" ]; then ok "existing store without --append: refused, unchanged"; fi
# ... unless it is this very batch (the same command again after a crash
# that came after the commit): exit 0, nothing added
if $PARCOURS ingest -q -o "$T/store" "$T/good.csv" 2>"$T/err" && has "exists, same batch" "$T/err" "$T/store: these inputs are already batch 1" &&
   [ "$(md5sum < "$T/store/MANIFEST")" = "$m0" ]; then ok "existing store, the same inputs again: already batch 1, exit 0, unchanged"; fi
# --append to a missing store
if fails append_missing $PARCOURS ingest -q --append -o "$T/nostore" "$T/good.csv" &&
   has append_missing "$T/err" "$T/nostore: not a parcours store" && [ ! -e "$T/nostore" ]; then ok "--append to a missing store"; fi
# --append with other buckets
if fails append_buckets $PARCOURS ingest -q --append --buckets 7 -o "$T/store" "$T/good.csv" &&
   has append_buckets "$T/err" "the store has 4096 buckets; --buckets 7 differs" &&
   [ "$(md5sum < "$T/store/MANIFEST")" = "$m0" ]; then ok "--append with other --buckets: refused, unchanged"; fi
# --append of bad input: MANIFEST and shards unchanged, store still reads the same
ls "$T/store"/*.h5 > "$T/h5.before"
$PARCOURS inspect --dump "$T/store" > "$T/dump.before" 2>/dev/null
for f in blank_line.csv header_wrong.csv gzip_truncated.csv.gz; do
  if fails "append $f" $PARCOURS ingest -q --append -o "$T/store" $D/$f &&
     has "append $f" "$T/err" "$D/$f" && [ "$(md5sum < "$T/store/MANIFEST")" = "$m0" ] &&
     ls "$T/store"/*.h5 | cmp -s - "$T/h5.before" && ! ls "$T/store"/MANIFEST.tmp >/dev/null 2>&1; then
    ok "--append $f: refused, MANIFEST and shards unchanged"
  else bad "--append $f: store changed"; fi
done
$PARCOURS inspect --dump "$T/store" > "$T/dump.after" 2>/dev/null
check_same "--append failures: store reads the same" "$T/dump.before" "$T/dump.after"

# ---- 3. job files -----------------------------------------------------------------
# job_case NAME SUBSTRING...: runs tests/data/bad/jobs/NAME.ini; fails, stderr
# has "JOB:" and the substrings, no output dir
job_case() {
  n=$1; shift
  j="$T/$n.ini" o="$T/out-$n"
  job "$D/jobs/$n.ini" "$T/store" "$o" > "$j"
  if fails "job $n" $PARCOURS run -q "$j" && has "job $n" "$T/err" "$@"; then
    if ls -d "$o" "$o".tmp-* >/dev/null 2>&1; then bad "job $n: output created"; else ok "job $n (exit $rc)"; fi
  fi
}
job_case unknown_key "$T/unknown_key.ini:6: [path] tokn: unknown key"
job_case unknown_group "$T/unknown_group.ini:5: [paths]: unknown group"
job_case funnel_group_unnamed "$T/funnel_group_unnamed.ini:5: [funnel]: unknown group (funnel groups are named [funnel.NAME])"
job_case wrong_type_int "$T/wrong_type_int.ini:6: [path] ngram_max: \"1e3\" is not a plain decimal integer"
job_case wrong_type_bool "$T/wrong_type_bool.ini:6: [report] enabled: \"yes\" is not a boolean (true or false)"
job_case wrong_type_number "$T/wrong_type_number.ini:6: [model] lambda: \"nan\" is not a number"
job_case wrong_type_size "$T/wrong_type_size.ini:6: [run] memory_per_rank: \"4GB\" is not a size"
job_case wrong_type_timestamp "$T/wrong_type_timestamp.ini:3: [input] from: \"2024-05-01\" is not a timestamp"
job_case wrong_choice "$T/wrong_choice.ini:6: [path] token: \"events\" is not one of: event, channel, channel:event"
job_case out_of_range "$T/out_of_range.ini:6: [path] ngram_max: \"17\" is out of range (1..16)"
job_case missing_output "$T/missing_output.ini: missing required group [output] (key dir)"
job_case missing_input "$T/missing_input.ini: missing required group [input] (key store)"
job_case missing_store_key "$T/missing_store_key.ini:1: [input]: missing required key store"
job_case target_missing_event "$T/target_missing_event.ini:5: [target]: missing required key event"
job_case funnel_missing_window "$T/funnel_missing_window.ini:5: [funnel.f]: missing required key window"
job_case funnel_bad_step_match "$T/funnel_bad_step_match.ini:6: [funnel.f] steps: \"view\" must contain exactly one ':' (match = channel:event)"
job_case duplicate_key "$T/duplicate_key.ini:7: [path] depth: duplicate key (first at line 6)"
job_case duplicate_group "$T/duplicate_group.ini:7: [path]: duplicate group (first at line 5)"
job_case key_outside_group "$T/key_outside_group.ini:1: store: key outside of any group"
job_case not_a_key_line "$T/not_a_key_line.ini:5: \"ngram_max 4\" is not a [group], key = value or # comment"
job_case list_empty_item "$T/list_empty_item.ini:6: [target] event: \"buy;;cancel\" has an empty item"
job_case from_after_to "$T/from_after_to.ini:4: [input] to: must be later than input.from"
job_case comment_after_value "$T/comment_after_value.ini:6: [path] depth: \"4 # four\" is not a plain decimal integer"
job_case target_bad_name "$T/target_bad_name.ini:6: [target] event: \"a>b\" is not an event name"
job_case missing_store "$T/store/does-not-exist: not a parcours store" "No such file or directory"
# a missing job file, a bad --set
if fails "no job" $PARCOURS run -q "$T/nojob.ini" && has "no job" "$T/err" "$T/nojob.ini: cannot read the job file"; then ok "missing job file"; fi
job "$D/jobs/funnel_unknown_tokens.ini" "$T/store" "$T/out-set" > "$T/set.ini"
if fails "bad --set" $PARCOURS run -q "$T/set.ini" --set path.depth=99 && has "bad --set" "$T/err" "$T/set.ini: --set path.depth: \"99\" is out of range (1..64)" &&
   [ ! -e "$T/out-set" ]; then ok "bad --set"; fi
if fails "unknown --set" $PARCOURS run -q "$T/set.ini" --set paths.depth=9 && has "unknown --set" "$T/err" "--set paths.depth=9: unknown group [paths]"; then ok "unknown --set group"; fi

# ---- 4. unknown funnel steps, a target that never occurs ---------------------------
# Either behaviour is clean: the run completes with zeros and a warning, or it
# stops before reading any event with an error naming the job file, the key
# and the name (a typo guard). What is not allowed: a crash, a partial output,
# or an unrelated message.
# never_case NAME JOB KEY TOKEN [--set...]
never_case() {
  n=$1 j=$2 key=$3 tok=$4; shift 4
  o=$T/out-$n
  job "$D/jobs/$j" "$T/store" "$o" > "$T/$n.ini"
  if $PARCOURS run -q "$T/$n.ini" "$@" >/dev/null 2>"$T/err"; then
    if [ -f "$o/csv/summary.csv" ]; then ok "$n: completes (exit 0)"; else bad "$n: exit 0 without results"; fi
    grep -q "warning.*$tok" "$T/err" && ok "$n: warning names $tok" ||
      echo "note $n: no warning naming $tok (not counted)"
  elif has "$n" "$T/err" "$T/$n.ini: $key" "\"$tok\" is not an event of the store"; then
    if ls -d "$o" "$o".tmp-* >/dev/null 2>&1; then bad "$n: output created"; else ok "$n: refused (exit $rc) naming $key \"$tok\""; fi
  fi
}
never_case funnel_unknown_step funnel_unknown_tokens.ini "[funnel.f] steps" nosuch
if [ -f "$T/out-funnel_unknown_step/csv/funnels.csv" ]; then
  printf 'funnel,split,step,token,customers,conv_prev,conv_first,drop_off\nf,(all),1,view,3,,1,\nf,(all),2,nosuch,0,0,0,3\nf,(all),3,buy,0,nan,0,0\n' > "$T/want.csv"
  check_same "funnel naming an unknown step: zeros" "$T/want.csv" "$T/out-funnel_unknown_step/csv/funnels.csv"
fi
never_case target_never target_never_occurs.ini "[target] event" never_happens
if [ -f "$T/out-target_never/csv/summary.csv" ]; then
  grep -qx 'customers_with_outcome,0' "$T/out-target_never/csv/summary.csv" && ok "target never occurs: customers_with_outcome 0" ||
    bad "target never occurs: customers_with_outcome not 0"
fi
never_case target_never_nomodel target_never_occurs.ini "[target] event" never_happens --set model.enabled=false

# ---- 5. damaged stores ---------------------------------------------------------------
# store_case NAME SUBSTRING... -- DAMAGE CMD: a copy of the generated store,
# damaged; run and inspect both fail naming the shard and the problem
shard=b000001-r00000.h5
store_case() {
  n=$1; shift
  subs=""
  while [ "$1" != -- ]; do subs="$subs$1
"; shift; done
  shift
  c=$T/dmg; rm -rf "$c" "$T/out-dmg"; cp -r "$T/gen" "$c"
  "$@" || { bad "store $n: cannot damage"; return; }
  printf '[input]\nstore = %s\n[output]\ndir = %s\n' "$c" "$T/out-dmg" > "$T/dmg.ini"
  for cmd in run inspect; do
    if [ $cmd = run ]; then set -- $PARCOURS run -q "$T/dmg.ini"; else set -- $PARCOURS inspect "$c"; fi
    if fails "store $n $cmd" "$@"; then
      okk=1
      while IFS= read -r sub; do
        [ -n "$sub" ] || continue
        grep -qF -- "$sub" "$T/err" || { okk=0; bad "store $n $cmd: stderr lacks \"$sub\""; sed 's/^/     /' "$T/err" | tail -3; }
      done <<EOF
$subs
EOF
      if ls -d "$T/out-dmg" "$T/out-dmg".tmp-* >/dev/null 2>&1; then bad "store $n: output created"
      elif [ $okk = 1 ]; then ok "store $n: $cmd (exit $rc)"; fi
    fi
  done
}
S=$T/dmg/$shard
chunk_at() { "$H5POKE" "$S" chunk events/ts | awk '{print $1 + int($2 / 2)}'; }
truncate_mid_chunk() { at=$(chunk_at) && [ -n "$at" ] && truncate -s "$at" "$S"; }
corrupt_mid_chunk() { at=$(chunk_at) && [ -n "$at" ] && printf 'ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ' | dd of="$S" bs=1 seek="$at" conv=notrunc 2>/dev/null; }
store_case version_old "$S: shard format version 0 is not supported by this parcours (it reads version 1)" -- "$H5POKE" "$S" set-u64 format_version 0
store_case version_newer "$S: shard format version 2 is not supported" "written by a newer parcours" -- "$H5POKE" "$S" set-u64 format_version 2
store_case format_other "$S: not a parcours shard (attribute format is not \"parcours-store\")" -- "$H5POKE" "$S" set-str format other-store
store_case truncated_mid_chunk "$S: cannot open as HDF5 (truncated or corrupt file?)" -- truncate_mid_chunk
store_case corrupt_chunk "$S: cannot read events/ts (truncated or corrupt file?)" -- corrupt_mid_chunk
store_case index_total "$S: datasets index/events and index/customers disagree at bucket 5: 1 events, 0 customers (each customer has at least one event)" -- "$H5POKE" "$S" add index/events 5 1
store_case index_shifted "$S: dataset events/customer: element" "outside the bucket (index disagrees with data)" -- "$H5POKE" "$S" shift index/events
store_case events_attr "$S: bucket index totals disagree with the shard's counts: dataset index/events adds up to 3235, the attribute events says 1" -- "$H5POKE" "$S" set-u64 events 1
store_case buckets_attr "$S: attribute buckets is 2147483648, outside 1..1048576" -- "$H5POKE" "$S" set-u64 buckets 2147483648
store_case buckets_attr_small "$S: dataset index/events has 4096 elements, the attribute buckets says 4095" -- "$H5POKE" "$S" set-u64 buckets 4095
store_case dict_duplicate "$S: dictionary dict/events: entry 1 is empty, too long, duplicate or out of order" -- "$H5POKE" "$S" dict-dup dict/events
store_case dict_unsorted "$S: dictionary dict/channels: entry 1" -- "$H5POKE" "$S" dict-swap dict/channels
store_case not_hdf5 "$S: not an HDF5 file (foreign or truncated)" -- sh -c "echo hello > '$S'"
store_case empty_shard "$S: not an HDF5 file (foreign or truncated)" -- truncate -s 0 "$S"
store_case shard_missing "$T/dmg/b000001-r00007.h5: No such file or directory" -- sh -c "echo 'shard b000001-r00007.h5' >> '$T/dmg/MANIFEST'"
store_case shard_of_uncounted_batch "$T/dmg/MANIFEST: shard b000009-r00000.h5 is of batch 9, but the MANIFEST counts 1 batches" -- sh -c "echo 'shard b000009-r00000.h5' >> '$T/dmg/MANIFEST'"
store_case manifest_line "$T/dmg/MANIFEST:5: unexpected line \"shard ../x\"" -- sh -c "echo 'shard ../x' >> '$T/dmg/MANIFEST'"
store_case manifest_version "$T/dmg/MANIFEST:1: not a parcours store manifest of version 1" -- sed -i 's/parcours-store 1/parcours-store 2/' "$T/dmg/MANIFEST"
store_case manifest_missing "$T/dmg: not a parcours store" -- rm "$T/dmg/MANIFEST"
# missing store directory (inspect and plan)
if fails "inspect missing" $PARCOURS inspect "$T/nostore" && has "inspect missing" "$T/err" "$T/nostore: not a parcours store"; then ok "inspect of a missing store"; fi
if fails "plan missing" $PARCOURS plan "$T/nostore" --ranks 2 && has "plan missing" "$T/err" "$T/nostore: not a parcours store"; then ok "plan of a missing store"; fi

finish
