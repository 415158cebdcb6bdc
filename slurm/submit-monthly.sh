#!/bin/bash
# submit-monthly.sh MONTH [MONTHLY OPTIONS] [-- SBATCH OPTIONS]
# Submits the month as a chain of four jobs of slurm/monthly.sbatch:
#   ingest  -> run (afterok:ingest) -> report (afterok:run, 1 task)
#                                   -> diff (afterok:run, 1 task): parcours
#                                      diff OUT/PREV OUT/MONTH -o OUT/diff/MONTH
#                                      when the previous month's output exists
# and prints their ids on stdout as shell assignments:
#   ingest=1234
#   run=1235
#   report=1236
#   diff=1237
# A failing job cancels the rest of the chain (--kill-on-invalid-dep=yes)
# instead of leaving it pending forever.
#
# MONTHLY OPTIONS are those of slurm/monthly.sbatch (--input, --store, --out,
# --job, --customers, --buckets, --set, --force, --window, --launcher,
# --prev, ...), given to all four jobs; --step is set here. Besides:
#   --logdir DIR          job logs go to DIR/parcours-<step>-MONTH-<jobid>.out (.)
#   --ingest-sbatch "O"   extra sbatch options for the ingest job only
#   --run-sbatch "O"      extra sbatch options for the run job only
#   --after JOBID         the ingest job waits for JOBID (afterok) too
# SBATCH OPTIONS after `--` go to every job (account, partition, time, ...;
# the per-job options above and the report's one task win over them);
# SBATCH_* environment variables work as usual. The report and diff jobs
# always ask for --ntasks=1 --cpus-per-task=1.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
usage() { echo "usage: $0 MONTH [monthly options] [-- sbatch options]" >&2; exit 2; }
[ $# -ge 1 ] || usage
MONTH=$1; shift
[[ $MONTH =~ ^[0-9]{4}-(0[1-9]|1[0-2])$ ]] || { echo "submit-monthly: month '$MONTH' is not YYYY-MM" >&2; exit 2; }

ARGS=() SB=() INGEST_SB=() RUN_SB=() DEP=""
LOGDIR=.
while [ $# -gt 0 ]; do
  case "$1" in
    --) shift; SB=("$@"); break ;;
    --logdir) LOGDIR=$2; shift 2 ;;
    --ingest-sbatch) read -r -a INGEST_SB <<<"$2"; shift 2 ;;
    --run-sbatch) read -r -a RUN_SB <<<"$2"; shift 2 ;;
    --after) DEP=$2; shift 2 ;;
    --step) echo "submit-monthly: --step is set by this script" >&2; exit 2 ;;
    --force) ARGS+=("$1"); shift ;;
    --*) [ $# -ge 2 ] || usage; ARGS+=("$1" "$2"); shift 2 ;;
    *) usage ;;
  esac
done
command -v sbatch >/dev/null || { echo "submit-monthly: sbatch not found (no Slurm here?)" >&2; exit 2; }
mkdir -p "$LOGDIR"
# The job finds the repository (bin/parcours, jobs/) through PC_ROOT.
export PC_ROOT=${PC_ROOT:-$(cd "$here/.." && pwd)}

submit() { # submit STEP [sbatch options...]; prints the job id
  local stepname=$1 id
  shift
  id=$(sbatch --parsable --job-name="pc-$stepname-$MONTH" \
    --output="$LOGDIR/parcours-$stepname-$MONTH-%j.out" "${SB[@]}" "$@" \
    "$here/monthly.sbatch" --month "$MONTH" --step "$stepname" "${ARGS[@]}")
  echo "${id%%;*}"
}

dep=()
[ -z "$DEP" ] || dep=(--dependency="afterok:$DEP" --kill-on-invalid-dep=yes)
ingest=$(submit ingest "${dep[@]}" "${INGEST_SB[@]}")
echo "ingest=$ingest"
run=$(submit run --dependency="afterok:$ingest" --kill-on-invalid-dep=yes "${RUN_SB[@]}")
echo "run=$run"
report=$(submit report --dependency="afterok:$run" --kill-on-invalid-dep=yes \
  --ntasks=1 --cpus-per-task=1)
echo "report=$report"
diff=$(submit diff --dependency="afterok:$run" --kill-on-invalid-dep=yes \
  --ntasks=1 --cpus-per-task=1)
echo "diff=$diff"
