# tests/lib.sh - shared by the integration scripts: counters, checks and the
# closing line "N passed, M failed". Source it from the repo root.
PARCOURS=${PARCOURS:-bin/parcours}
PRUN=${PRUN:-tools/prun}
pass=0; fail=0
T=$(mktemp -d /tmp/pc-it.XXXXXX)
trap 'rm -rf "$T"' EXIT
ok()   { pass=$((pass+1)); echo "ok   $*"; }
bad()  { fail=$((fail+1)); echo "FAIL $*"; }
# check NAME CMD...: passes when CMD exits 0
check() { n=$1; shift; if "$@" >"$T/last.log" 2>&1; then ok "$n"; else bad "$n"; sed 's/^/     /' "$T/last.log" | tail -15; fi; }
# check_same NAME A B: files equal
check_same() { if cmp -s "$2" "$3"; then ok "$1"; else bad "$1 ($2 vs $3 differ)"; diff "$2" "$3" | head -5; fi; }
finish() { echo "$pass passed, $fail failed"; [ "$fail" -eq 0 ]; }
# job TEMPLATE STORE OUT > job.ini
job() { sed -e "s#@STORE@#$2#g" -e "s#@OUT@#$3#g" "$1"; }
# digest DIR: one hash of every result file but run.json
digest() { (cd "$1" && find csv results.h5 report.html -type f | sort | xargs md5sum | md5sum | cut -c1-32); }
# compare_tables NAME EXPECTED ACTUAL: ACTUAL writes exactly the tables of
# EXPECTED/csv and each equals it (tests/compare.py).
compare_tables() {
  check "$1: the tables written are the expected ones" bash -c "diff <(ls $2/csv) <(ls $3/csv)"
  check "$1: every table equals the expected one" python3 tests/compare.py $2 $3
}
