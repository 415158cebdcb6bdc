#!/bin/bash
# The HDF5 files as another tool sees them: python3 + h5py reads results.h5
# of the hand-computed small job (tests/data/small, values of expected/csv)
# and a store shard (docs/format.md), and asserts exact values worked out by
# hand: the format is readable without parcours.
. tests/lib.sh
D=tests/data/small
PY=""
for p in python3 /usr/bin/python3; do
  if "$p" -c 'import h5py' 2>/dev/null; then PY=$p; break; fi
done
if [ -z "$PY" ]; then bad "python3 with h5py (tools/install-deps installs python3-h5py)"; finish; exit; fi
ok "python3 with h5py: $PY"
printf 'customer_id,revenue,segment\nB,3,silver\nA,12.5,gold\n' > $T/customers.csv
check "ingest small, 8 buckets" $PRUN 1 $PARCOURS ingest -q -o $T/s --buckets 8 $D/journeys.csv
check "ingest small with a customers table" $PRUN 1 $PARCOURS ingest -q -o $T/sc --buckets 8 --customers $T/customers.csv $D/journeys.csv
job $D/job.ini $T/s $T/o > $T/job.ini
check "run small" $PRUN 1 $PARCOURS run -q $T/job.ini

# (a) results.h5: /summary whole, the first row of /variants, against the
# hand-computed CSVs and the numbers of tests/data/small/README.md
check "h5py: results.h5 /summary and /variants equal the hand computation" $PY - $T/o/results.h5 $D/expected/csv <<'PY'
import csv, sys, h5py
f = h5py.File(sys.argv[1], "r")
exp = sys.argv[2]
assert f.attrs["format"] == b"parcours-results", f.attrs["format"]
assert int(f.attrs["format_version"]) == 2
s = f["summary"]["table"][:]
assert f["summary"].attrs["columns"] == b"key:string,value:int"
got = [(r["key"].decode(), int(r["value"])) for r in s]
want = [(r["key"], int(r["value"])) for r in csv.DictReader(open(exp + "/summary.csv"))]
assert got == want, (got, want)
assert got == [("customers", 3), ("events", 8), ("journeys", 3),
               ("customers_with_outcome", 1), ("customers_without_revenue", 0)], got
v = f["variants"]["table"]
assert v.dtype.names == ("rank", "journeys", "share", "length", "path"), v.dtype.names
assert len(v) == 3, len(v)
r0 = v[0]
assert (int(r0["rank"]), int(r0["journeys"]), int(r0["length"])) == (1, 1, 3)
assert r0["path"] == b"visit > buy > view", r0["path"]
assert r0["share"] == 1 / 3, r0["share"]
c0 = next(csv.DictReader(open(exp + "/variants.csv")))
assert c0["path"] == r0["path"].decode() and "%.12f" % r0["share"] == c0["share"], c0
# money is the exact text of the CSV cell (results format 2)
ch = f["channels"]["table"][:]
assert f["channels"].attrs["columns"].decode().split(",")[5] == "value_sum:micros"
want = [(r["channel"], r["value_sum"]) for r in csv.DictReader(open(exp + "/channels.csv"))]
assert [(r["channel"].decode(), r["value_sum"].decode()) for r in ch] == want, (ch, want)
PY

# (b) a shard: with B = 8, FNV-1a-64 puts C in bucket 2, A in 4, B in 5, so
# customers are C, A, B; each journey sorted by (ts, event, channel, value):
# A's buy (01:10+01:00) and view (00:10Z) share a time, buy sorts first.
check "h5py: shard attributes, /events, /dict, /index, /customers, /ingest" $PY - $T/s/b000001-r00000.h5 <<'PY'
import json, sys, h5py
f = h5py.File(sys.argv[1], "r")
a = f.attrs
assert a["format"] == b"parcours-store", a["format"]
assert [int(a[k]) for k in ("format_version", "buckets", "events", "customers", "crm_rows")] == [1, 8, 8, 3, 0]
def fnv(b):
    h = 14695981039346656037
    for c in b: h = ((h ^ c) * 1099511628211) % 2**64
    return h
assert [fnv(x) % 8 for x in (b"C", b"A", b"B")] == [2, 4, 5]
S = 1000000
day1, day2, day3 = 1767225600, 1767312000, 1767398400  # 2026-01-01/02/03T00:00:00Z
want_ts = [day3, day3 + 30, day3 + 300,           # C: visit, visit, buy (epoch 1767398700)
           day1, day1 + 600, day1 + 600,          # A: visit, buy, view
           day2, day2 + 3600]                     # B: visit, churn
assert [int(x) for x in f["/events/ts"][:]] == [t * S for t in want_ts], f["/events/ts"][:]
assert [x.decode() for x in f["/dict/events"][:]] == ["buy", "churn", "view", "visit"]
assert [x.decode() for x in f["/dict/channels"][:]] == ["app", "call", "web"]
assert list(f["/events/event"][:]) == [3, 3, 0, 3, 0, 2, 3, 1]
assert list(f["/events/channel"][:]) == [2, 2, 0, 2, 0, 2, 2, 1]
assert list(f["/events/value"][:]) == [0, 0, 2 * S, 0, 10500000, 0, 0, 0]
assert list(f["/events/customer"][:]) == [0, 0, 0, 1, 1, 1, 2, 2]
assert list(f["/index/events"][:]) == [0, 0, 3, 0, 3, 2, 0, 0]
assert list(f["/index/customers"][:]) == [0, 0, 1, 0, 1, 1, 0, 0]
assert list(f["/index/id_bytes"][:]) == [0, 0, 1, 0, 1, 1, 0, 0]
assert bytes(f["/customers/id_bytes"][:]) == b"CAB" and list(f["/customers/id_len"][:]) == [1, 1, 1]
assert list(f["/dict/pairs"][:]) == [0, 0, 1, 1, 2, 2, 2, 3]  # (app,buy) (call,churn) (web,view) (web,visit)
rec = json.loads(f["/ingest"][()].decode())
assert (rec["batch"], rec["buckets"], rec["rows"], rec["accepted"], rec["rejected"]) == (1, 8, 8, 8, 0), rec
import hashlib
sha = hashlib.sha256(open("tests/data/small/journeys.csv", "rb").read()).hexdigest()
assert rec["inputs"] == [{"path": "tests/data/small/journeys.csv", "kind": "events", "rows": 8,
                          "rejected": 0, "sha256": sha}], rec["inputs"]
assert (rec["event_rows"], rec["event_rejected"], rec["customer_rows"], rec["customer_rejected"]) == (8, 0, 0, 0), rec
assert len(rec["key"]) == 64, rec
assert rec["rejects_file"] == "rejects-b000001.tsv" and rec["rejected_by_reason"] == {}
PY

check "h5py: the customers table in /crm, sorted by (bucket, id)" $PY - $T/sc/b000001-r00000.h5 <<'PY'
import sys, h5py
f = h5py.File(sys.argv[1], "r")
assert int(f.attrs["crm_rows"]) == 2
assert bytes(f["/crm/id_bytes"][:]) == b"AB" and list(f["/crm/id_len"][:]) == [1, 1]
assert list(f["/crm/revenue"][:]) == [12500000, 3000000]
assert bytes(f["/crm/segment_bytes"][:]) == b"goldsilver" and list(f["/crm/segment_len"][:]) == [4, 6]
assert list(f["/index/crm"][:]) == [0, 0, 0, 0, 1, 1, 0, 0]
PY

# A file name with UTF-8, a control byte and a byte that is not UTF-8: the
# batch record (file and /ingest) is still valid JSON, the UTF-8 kept and
# the invalid byte read as U+FFFD.
odd=$(printf '%s/d\xc3\xa9j\xc3\xa0\x01q"\xff.csv' "$T")
cp $D/journeys.csv "$odd"
check "ingest a file with an odd name" $PRUN 1 $PARCOURS ingest -q -o $T/odd "$odd"
check "h5py: the batch record of an odd file name is valid JSON" $PY - $T/odd "$T" <<'PY'
import json, sys, h5py
d, t = sys.argv[1], sys.argv[2]
raw = open(d + "/batch-000001.json", "rb").read()
rec = json.loads(raw.decode("utf-8"))
want = t + "/d\u00e9j\u00e0\u0001q\"\ufffd.csv"
assert rec["inputs"][0]["path"] == want, (rec["inputs"][0]["path"], want)
shard = json.loads(h5py.File(d + "/b000001-r00000.h5", "r")["/ingest"][()].decode("utf-8"))
assert shard == rec, shard
PY
finish
