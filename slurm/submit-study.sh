#!/bin/bash
# submit-study.sh STUDY.ini [--force] [--max-parallel K] [-- SBATCH OPTIONS]
# Submits a partition study (slurm/partition-study.sbatch) as a chain:
#   prepare (one store per bucket count) -> array (one task per grid point,
#   afterok) -> gather (afterany: study.csv and study.svg even when some
#   tasks failed)
# and prints the job ids as shell assignments (prepare=, array=, gather=)
# and the study directory (studydir=). The study file is copied to
# STUDYDIR/study.ini; every array task asks for --ntasks = the largest rank
# count and --cpus-per-task = the largest thread count of the grid, so that
# each point runs on dedicated cores. --force empties an existing STUDYDIR's
# task-*/ and study.* first (stores are kept); without it an existing study
# there is an error. --max-parallel K caps the running array tasks (%K).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
usage() { echo "usage: $0 STUDY.ini [--force] [--max-parallel K] [-- sbatch options]" >&2; exit 2; }
[ $# -ge 1 ] || usage
INI=$1; shift
FORCE=0 MAXPAR="" SB=()
while [ $# -gt 0 ]; do
  case "$1" in
    --force) FORCE=1; shift ;;
    --max-parallel) MAXPAR=%$2; shift 2 ;;
    --) shift; SB=("$@"); break ;;
    *) usage ;;
  esac
done
TOOL="python3 $here/study-tool.py"
n=$($TOOL count "$INI")
read -r maxr maxt < <($TOOL max "$INI")
dir=$($TOOL get "$INI" dir)
[ -n "$dir" ] || { echo "submit-study: [study] dir is empty" >&2; exit 2; }
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
if compgen -G "$dir/task-*" >/dev/null || [ -f "$dir/study.csv" ]; then
  if [ $FORCE = 1 ]; then rm -rf "$dir"/task-* "$dir"/study.csv "$dir"/study.svg "$dir"/logs
  else echo "submit-study: $dir already holds a study (--force to redo it)" >&2; exit 2; fi
fi
if [ -f "$dir/study.ini" ] && ! cmp -s "$INI" "$dir/study.ini"; then
  # Another grid or input may need other stores: start them afresh.
  rm -rf "$dir/stores"
fi
cp "$INI" "$dir/study.ini"
mkdir -p "$dir/logs"
export PC_ROOT=${PC_ROOT:-$(cd "$here/.." && pwd)}
S="$here/partition-study.sbatch"

sub() { local id; id=$(sbatch --parsable "$@"); echo "${id%%;*}"; }
prepare=$(sub --job-name=pc-study-prepare --ntasks="$maxr" --cpus-per-task="$maxt" \
  --output="$dir/logs/prepare-%j.out" "${SB[@]}" "$S" --study "$dir" --step prepare)
array=$(sub --job-name=pc-study --array="0-$((n - 1))$MAXPAR" --ntasks="$maxr" \
  --cpus-per-task="$maxt" --dependency="afterok:$prepare" --kill-on-invalid-dep=yes \
  --output="$dir/logs/task-%a.out" "${SB[@]}" "$S" --study "$dir" --step task)
gather=$(sub --job-name=pc-study-gather --dependency="afterany:$array" \
  --output="$dir/logs/gather-%j.out" "${SB[@]}" --ntasks=1 --cpus-per-task=1 \
  "$S" --study "$dir" --step gather)
echo "studydir=$dir"
echo "prepare=$prepare"
echo "array=$array"
echo "gather=$gather"
echo "submit-study: $n task(s), each --ntasks=$maxr --cpus-per-task=$maxt" >&2
