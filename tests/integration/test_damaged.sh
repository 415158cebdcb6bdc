#!/bin/bash
# test_damaged.sh - everything read from a shard is checked before use
# (issue 14; docs/reliability.md, "Damaged stores"). For every dataset of a
# shard, each damage tests/tools/h5poke.c can make (two other types, one
# element more, a value out of range; two dimensions and removed for one
# dataset of each group: the same check serves all) against
# every command that reads stores (inspect, inspect --dump, plan, run):
# exit 1, the shard's path and the dataset named on stderr, never a crash
# (no exit status >= 128), never exit 0 with altered numbers. plan reads
# only the metadata (attributes, index, dictionaries): a bad value in a
# row dataset is no concern of it, and it must then exit 0 as on the
# intact store (docs/reliability.md). Plus the cases of the issue, each
# with its exact message.
# Run from the repo root; env PARCOURS (default bin/parcours). Last line:
# "N passed, M failed"; exit non-zero on any failure.
cd "$(dirname "$0")/../.." || exit 2
. tests/lib.sh
H5POKE=$T/h5poke
mpicc -o "$H5POKE" tests/tools/h5poke.c $(pkg-config --cflags --libs hdf5-openmpi) || { echo "cannot build h5poke"; exit 2; }
$PARCOURS generate -q -o "$T/gen" --customers 60 --seed 2 --buckets 16 || { echo "cannot generate"; exit 2; }
printf 'customer_id,revenue,segment\n' > "$T/crm.csv"
$PARCOURS inspect --dump "$T/gen" | cut -d, -f1 | sort -u | head -20 | sed 's/$/,12.5,gold/' >> "$T/crm.csv"
$PARCOURS inspect --dump "$T/gen" | awk -F, 'BEGIN{print "customer_id,timestamp,channel,event,value"} {printf "%s,%d,%s,%s,%s\n", $1, $2/1000000, $3, $4, $5}' > "$T/ev.csv"
$PARCOURS ingest -q -o "$T/good" --buckets 16 --customers "$T/crm.csv" "$T/ev.csv" || { echo "cannot ingest"; exit 2; }
S0=b000001-r00000.h5
printf '[input]\nstore = %s\n[output]\ndir = %s\n' "$T/dmg" "$T/out" > "$T/dmg.ini"

# run_all: the four commands on $T/dmg; sets r_inspect r_dump r_plan r_run
# and leaves their stderr in $T/e.inspect ...
run_all() {
  rm -rf "$T/out"
  $PARCOURS inspect "$T/dmg" >/dev/null 2>"$T/e.inspect"; r_inspect=$?
  $PARCOURS inspect --dump "$T/dmg" >/dev/null 2>"$T/e.dump"; r_dump=$?
  $PARCOURS plan "$T/dmg" --ranks 3 >/dev/null 2>"$T/e.plan"; r_plan=$?
  $PARCOURS run -q "$T/dmg.ini" >/dev/null 2>"$T/e.run"; r_run=$?
}
# damage NAME DATASET ROWVALUE POKE...: a copy of the good store, poked; every
# command exits 1 naming the shard and DATASET (plan: exit 0 when ROWVALUE=1)
damage() {
  n=$1 ds=$2 rowvalue=$3; shift 3
  rm -rf "$T/dmg"; cp -r "$T/good" "$T/dmg"
  "$H5POKE" "$T/dmg/$S0" "$@" || { bad "$n: h5poke $*"; return; }
  run_all
  for c in inspect dump plan run; do
    eval "rc=\$r_$c"
    if [ $c = plan ] && [ "$rowvalue" = 1 ]; then
      [ "$rc" = 0 ] && ok "$n: plan (reads no row): exit 0" || bad "$n: plan exit $rc: $(cat "$T/e.plan")"
      continue
    fi
    if [ "$rc" = 1 ] && grep -qF -- "$T/dmg/$S0: " "$T/e.$c" && grep -qF -- "$ds" "$T/e.$c"; then ok "$n: $c exit 1 naming $ds"
    else bad "$n: $c exit $rc: $(head -c 300 "$T/e.$c")"; fi
  done
  [ -e "$T/out" ] && bad "$n: run wrote $T/out"
}

# ---- every dataset: type, length, shape, presence --------------------------------------
for ds in index/events index/customers index/id_bytes index/crm index/crm_id_bytes index/crm_segment_bytes \
          dict/channels dict/events dict/pairs customers/id_len customers/id_bytes \
          events/customer events/ts events/channel events/event events/value \
          crm/id_len crm/id_bytes crm/revenue crm/segment_len crm/segment_bytes; do
  case $ds in dict/channels|dict/events) t=int32;; *) t=float32;; esac
  damage "$ds as $t" "$ds" 0 retype "$ds" $t
  case $ds in dict/channels|dict/events) t=uint64;; events/ts|events/value|crm/revenue) t=uint64;; *) t=int64;; esac
  damage "$ds as $t" "$ds" 0 retype "$ds" $t
  len=$(h5dump -H -d "/$ds" "$T/good/$S0" | sed -n 's/.*DATASPACE  SIMPLE { ( \([0-9]*\) ).*/\1/p')
  damage "$ds with one element more" "$ds" 0 resize "$ds" $((len + 1))
  case $ds in index/events|dict/events|customers/id_len|events/value|crm/segment_bytes)
    damage "$ds of two dimensions" "$ds" 0 rank2 "$ds"
    damage "$ds removed" "$ds" 0 delete "$ds";; esac
done
damage "ingest as int32" "dataset ingest" 0 retype ingest int32

# ---- values out of range, one per dataset -------------------------------------------------
damage "index/events + 1" index/events 0 add index/events 3 1
damage "index/customers + 1" index/customers 0 add index/customers 3 1
damage "index/id_bytes 100000" index/id_bytes 0 set index/id_bytes 3 100000
damage "index/events 2^64 - 1" index/events 0 set index/events 3 -1
damage "index/crm + 1" index/crm 0 add index/crm 3 1
damage "index/crm_id_bytes 100000" index/crm_id_bytes 0 set index/crm_id_bytes 3 100000
damage "index/crm_segment_bytes + 1" index/crm_segment_bytes 0 add index/crm_segment_bytes 3 1
damage "dict/channels a name with a comma" dict/channels 0 dict-set dict/channels 0 'a,b'
damage "dict/events a reserved name" dict/events 0 dict-set dict/events 0 '$'
damage "dict/pairs beyond the dictionaries" dict/pairs 0 set dict/pairs 0 100000
damage "customers/id_len 0" customers/id_len 1 set customers/id_len 0 0
damage "customers/id_bytes a comma" customers/id_bytes 1 set customers/id_bytes 0 44
damage "events/customer beyond its bucket" events/customer 1 set events/customer 0 1000
damage "events/ts beyond year 9999" events/ts 1 set events/ts 0 9000000000000000000
damage "events/channel beyond dict/channels" events/channel 1 set events/channel 0 1000000
damage "events/event beyond dict/events" events/event 1 set events/event 0 1000000
damage "events/value 9e12" events/value 1 set events/value 0 9000000000000000000
damage "crm/id_len 0" crm/id_len 1 set crm/id_len 0 0
damage "crm/id_bytes a control byte" crm/id_bytes 1 set crm/id_bytes 0 9
damage "crm/revenue -9e12" crm/revenue 1 set crm/revenue 0 -9000000000000000000

# ---- the cases of the issue, exact messages --------------------------------------------
# exact NAME CMD WANT_ERR POKE...: one command on the damaged copy, exact stderr
exact() {
  n=$1 cmd=$2 want=$3; shift 3
  rm -rf "$T/dmg" "$T/out"; cp -r "$T/good" "$T/dmg"
  [ "$1" = manifest ] && { shift; "$@"; } || "$H5POKE" "$T/dmg/$S0" "$@"
  case $cmd in
    inspect) $PARCOURS inspect "$T/dmg" >/dev/null 2>"$T/err"; rc=$?;;
    run) $PARCOURS run -q "$T/dmg.ini" >/dev/null 2>"$T/err"; rc=$?;;
  esac
  if [ $rc = 1 ] && [ "$(cat "$T/err")" = "$want" ]; then ok "$n"
  else bad "$n: exit $rc"; printf '     got:  %s\n     want: %s\n' "$(cat "$T/err")" "$want"; fi
}
P="$T/dmg/$S0"
exact "a dictionary id beyond the dictionary: inspect (was a segfault)" inspect \
  "parcours inspect: error: rank 0: $P: dataset events/event: element 0 is 1000, beyond the $(h5dump -H -d /dict/events "$T/good/$S0" | sed -n 's/.*( \([0-9]*\) ).*/\1/p') names of dict/events" \
  set events/event 0 1000
exact "a dictionary id beyond the dictionary: run (was exit 0, altered tables)" run \
  "parcours run: error: rank 0: $P: dataset events/event: element 0 is 1000, beyond the $(h5dump -H -d /dict/events "$T/good/$S0" | sed -n 's/.*( \([0-9]*\) ).*/\1/p') names of dict/events" \
  set events/event 0 1000
exact "the MANIFEST lists one shard twice (was counted twice)" run \
  "parcours run: error: rank 0: $T/dmg/MANIFEST:5: shard $S0 is listed twice (first at line 4): its rows would be counted twice" \
  manifest sh -c "echo 'shard $S0' >> '$T/dmg/MANIFEST'"
exact "float32 events/value (was converted silently)" run \
  "parcours run: error: rank 0: $P: dataset events/value is float32, not int64 as parcours writes it (a foreign or damaged shard: nothing is converted)" \
  retype events/value float32
exact "a shard listed under a second name (a link to it)" inspect \
  "parcours inspect: error: rank 0: $T/dmg/b000002-r00000.h5 is the same file as $P (listed twice in the MANIFEST): its rows would be counted twice" \
  manifest sh -c "ln -s $S0 '$T/dmg/b000002-r00000.h5' && sed -i 's/batches 1/batches 2/' '$T/dmg/MANIFEST' && echo 'shard b000002-r00000.h5' >> '$T/dmg/MANIFEST'"
exact "unsorted events of a customer" inspect \
  "parcours inspect: error: rank 0: $P: dataset events/ts: element 1 breaks the journey order of its customer (timestamp, event, channel, value)" \
  set events/ts 1 -1000000
# Oversized: every events/* dataset 2^40 elements long (chunked, nothing
# stored), the attribute and the first non-empty bucket agreeing: an error
# naming the dataset and its unwritten chunks, before any allocation or
# spill-space estimate trusts the claim.
rm -rf "$T/dmg" "$T/out"; cp -r "$T/good" "$T/dmg"
N=$((1 << 40)); E=$(h5dump -H -d /events/ts "$P" | sed -n 's/.*( \([0-9]*\) ).*/\1/p')
b0=$(h5dump -d /index/events -y -w 0 "$P" | sed -n '/DATA {/,/^ *}/p' | sed '1d' | tr -cs '0-9' '\n' | grep -v '^$' | awk '$1 > 0 {print NR - 1; exit}')
for d in customer ts channel event value; do "$H5POKE" "$P" extend events/$d $N; done
"$H5POKE" "$P" set-u64 events $N && "$H5POKE" "$P" add index/events "$b0" $((N - E))
for c in inspect run; do
  if [ $c = run ]; then $PARCOURS run -q "$T/dmg.ini" >/dev/null 2>"$T/err"; rc=$?; else $PARCOURS inspect "$T/dmg" >/dev/null 2>"$T/err"; rc=$?; fi
  if [ $rc = 1 ] && grep -qx "parcours $c: error: rank 0: $P: dataset events/customer: $N elements claimed, only [0-9]* stored (the rest was never written)" "$T/err"; then
    ok "2^40 events claimed: $c exit 1 naming events/customer"; else bad "2^40 events: $c exit $rc: $(cat "$T/err")"; fi
done

rm -rf "$T/dmg"; cp -r "$T/good" "$T/dmg"; "$H5POKE" "$P" set customers/id_bytes 0 122
$PARCOURS inspect "$T/dmg" >/dev/null 2>"$T/err"; rc=$?
if [ $rc = 1 ] && grep -qE "^parcours inspect: error: rank 0: $P: dataset customers/id_bytes: element 0 starts an id that is not of bucket [0-9]+, where the index files it\$" "$T/err"; then
  ok "a customer id in the wrong bucket"; else bad "wrong bucket: exit $rc: $(cat "$T/err")"; fi

finish
