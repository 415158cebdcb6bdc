#!/bin/sh
# test_report.sh [OUT] - report.html of a run, opened in headless chromium:
# no console message or error, nothing loaded from the network, and key
# numbers in the rendered DOM equal to OUT/csv/*.csv (which equal results.h5).
#
# OUT: a run's output.dir. Without it, a world is generated (3000 customers,
# seed 3) and a job with target churn, a funnel split by channel and NPS is
# run on 2 ranks. PARCOURS: path of bin/parcours (default ./bin/parcours).
# SCREENSHOT: if set, a 1280 px wide screenshot is written there.
# Last line: "N passed, M failed"; exit status 1 when M > 0. Skips (exit 0)
# only when chromium is missing and cannot be installed.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
PARCOURS=${PARCOURS:-$root/bin/parcours}
pass=0
fail=0
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT INT TERM

ok() { pass=$((pass + 1)); echo "ok - $1"; }
bad() { fail=$((fail + 1)); echo "FAIL - $1"; }
finish() { echo "$pass passed, $fail failed"; [ "$fail" -eq 0 ]; exit $?; }

find_chromium() {
  for b in chromium chromium-browser google-chrome; do
    command -v "$b" >/dev/null 2>&1 && { command -v "$b"; return 0; }
  done
  return 1
}

browser=$(find_chromium)
if [ -z "$browser" ] && command -v apt-get >/dev/null 2>&1; then
  echo "test_report: installing chromium (apt-get install -y chromium)" >&2
  apt-get install -y chromium >"$T/apt.log" 2>&1 || true
  browser=$(find_chromium)
fi
if [ -z "$browser" ]; then
  echo "SKIP: test_report: chromium is not installed and 'apt-get install -y chromium' failed"
  echo "0 passed, 0 failed"
  exit 0
fi

chrome() { # chrome OUTFILE ARGS...: headless, offline, private profile
  out=$1; shift
  "$browser" --headless --no-sandbox --disable-gpu --disable-background-networking \
    --no-first-run --no-default-browser-check --user-data-dir="$T/profile" \
    --enable-logging=stderr --v=0 "$@" >"$out" 2>>"$T/chrome.log"
}

# ---- the run to look at ------------------------------------------------------
OUT=${1:-}
if [ -z "$OUT" ]; then
  [ -x "$PARCOURS" ] || { bad "PARCOURS=$PARCOURS is not executable"; finish; }
  OUT=$T/out
  cat >"$T/job.ini" <<EOF
[input]
store = $T/store
[output]
dir = $OUT
[target]
event = churn
[funnel.purchase]
steps = visit; product_view; add_to_cart; checkout; purchase
window = 604800
split = channel
[kpi]
nps_event = nps_response
EOF
  if "$root/tools/prun" 2 "$PARCOURS" generate -o "$T/store" --customers 3000 --seed 3 >"$T/gen.log" 2>&1 &&
    "$root/tools/prun" 2 "$PARCOURS" run "$T/job.ini" --quiet >"$T/run.log" 2>&1; then
    ok "generate and run"
  else
    cat "$T/gen.log" "$T/run.log" 2>/dev/null | tail -20
    bad "generate and run"
    finish
  fi
fi
page=$OUT/report.html
csv=$OUT/csv

# ---- the file ------------------------------------------------------------------
if [ -s "$page" ]; then ok "report.html exists"; else bad "no $page"; finish; fi
size=$(wc -c <"$page")
if [ "$size" -lt 2097152 ]; then ok "size $size bytes < 2 MiB"; else bad "size $size bytes"; fi
if grep -Eiq "(src|href|action)[[:space:]]*=[[:space:]]*[\"']?[[:space:]]*(https?:)?//" "$page" ||
  grep -Eiq "url\([\"']?[[:space:]]*(https?:)?//|@import|<link|<iframe" "$page"; then
  bad "the page refers to the network"
else
  ok "no network reference in the page"
fi
if grep -q "<script" "$page"; then bad "the page has a script"; else ok "no script"; fi

# ---- the browser -----------------------------------------------------------------
if chrome "$T/dom.html" --dump-dom "file://$page" && [ -s "$T/dom.html" ]; then
  ok "chromium rendered the page"
else
  bad "chromium --dump-dom failed"
  tail -5 "$T/chrome.log"
  finish
fi
if grep -Eq "Uncaught|:CONSOLE" "$T/chrome.log"; then
  grep -E "Uncaught|:CONSOLE" "$T/chrome.log" | head -5
  bad "console messages"
else
  ok "no console message"
fi
if grep -Eiq "(src|href)=\"(https?:)?//" "$T/dom.html"; then bad "network reference in the DOM"; else ok "no network reference in the DOM"; fi
if [ -n "${SCREENSHOT:-}" ]; then
  if chrome /dev/null --hide-scrollbars --window-size=1280,2400 --screenshot="$SCREENSHOT" "file://$page" &&
    [ -s "$SCREENSHOT" ]; then ok "screenshot $SCREENSHOT"; else bad "screenshot $SCREENSHOT"; fi
fi

# ---- numbers: DOM cell == csv cell -----------------------------------------------
check() { # check ID VALUE WHAT
  if grep -Fq "id=\"$1\">$2<" "$T/dom.html"; then ok "$3: $1 = $2"; else
    got=$(grep -o "id=\"$1\">[^<]*<" "$T/dom.html" | head -1)
    bad "$3: $1 should be $2 (page: ${got:-absent})"
  fi
}
field() { # field FILE ROW COL: 1-based data row and column of a csv file
  awk -F, -v r="$2" -v c="$3" 'NR == r + 1 { print $c; exit }' "$1"
}

check summary-customers "$(awk -F, '$1 == "customers" { print $2 }' "$csv/summary.csv")" "summary"
check variants-1-journeys "$(field "$csv/variants.csv" 1 2)" "top variant"
check variants-1-share "$(field "$csv/variants.csv" 1 3)" "top variant"
if [ -f "$csv/funnels.csv" ]; then
  n=0
  # funnel,split,step,token,customers,conv_prev,conv_first,drop_off
  awk -F, 'NR > 1 && $2 == "(all)" && $1 ~ /^[A-Za-z0-9._-]+$/ { print $1, $3, $5, $7 }' "$csv/funnels.csv" >"$T/steps"
  while read -r name step cust conv; do
    check "funnel-$name-all-step-$step-customers" "$cust" "funnel"
    check "funnel-$name-all-step-$step-conv_first" "$conv" "funnel"
    n=$((n + 1))
  done <"$T/steps"
  [ "$n" -gt 0 ] || bad "funnels.csv has no (all) rows with a plain name"
  line=$(awk -F, 'NR > 1 && $2 != "(all)" && $1 ~ /^[A-Za-z0-9._-]+$/ && $2 ~ /^[A-Za-z0-9._-]+$/ { print $1, $2, $3, $5; exit }' "$csv/funnels.csv")
  if [ -n "$line" ]; then
    set -- $line
    check "funnel-$1-ch-$2-step-$3-customers" "$4" "funnel split"
  fi
fi
if [ -f "$csv/drivers.csv" ]; then
  check drivers-1-lift "$(field "$csv/drivers.csv" 1 6)" "top driver"
  check drivers-1-chi2 "$(field "$csv/drivers.csv" 1 8)" "top driver"
  check drivers-1-revenue_at_risk "$(field "$csv/drivers.csv" 1 10)" "top driver"
fi
[ -f "$csv/channels.csv" ] && check channels-1-value_sum "$(field "$csv/channels.csv" 1 6)" "channels"
[ -f "$csv/nps.csv" ] && check nps-1-nps "$(field "$csv/nps.csv" 1 6)" "NPS (all)"
[ -f "$csv/attribution.csv" ] && check attribution-1-markov_share "$(field "$csv/attribution.csv" 1 6)" "attribution"
[ -f "$csv/model_summary.csv" ] &&
  check model_summary-test_auc "$(awk -F, '$1 == "test_auc" { print $2 }' "$csv/model_summary.csv")" "model"
[ -f "$csv/at_risk.csv" ] && check at_risk-count "$(($(wc -l <"$csv/at_risk.csv") - 1))" "at-risk list"
finish
