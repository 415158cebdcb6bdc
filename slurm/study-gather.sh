#!/bin/sh
# study-gather.sh STUDYDIR - gathers a partition study's tasks into
# STUDYDIR/study.csv (one row per array task: grid point, status, predicted
# and measured imbalance, per-phase times, wall, peak RSS) and
# STUDYDIR/study.svg (imbalance and stacked phase times per grid point).
# A task without run.json gets status missing (or failed) and empty values.
# Exit status 0 when every task is ok, 1 when some are not, 2 on errors.
[ $# -eq 1 ] || { echo "usage: $0 STUDYDIR" >&2; exit 2; }
[ -f "$1/study.ini" ] || { echo "study-gather: $1/study.ini not found (not a study directory)" >&2; exit 2; }
exec python3 "$(dirname "$0")/study-tool.py" gather "$1"
