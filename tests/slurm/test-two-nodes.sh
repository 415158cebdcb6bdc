#!/bin/bash
# test-two-nodes.sh - parcours over TCP on two Slurm nodes, for `make check`.
# The nodes are network namespaces of this machine (tests/slurm/
# two-node-cluster.sh: pcnode1 10.200.0.1 and pcnode2 10.200.0.2 on a veth
# pair, each with its own hostname, /etc/hosts and /tmp). Cases:
#   (a) the cluster is up: both nodes idle, and a job step
#       `srun -N2 --ntasks-per-node=2` runs tasks 0,1 on pcnode1 and 2,3 on
#       pcnode2, in two network namespaces other than this shell's;
#   (b) slurm/monthly.sbatch --step run, submitted with
#       `sbatch -N2 --ntasks=4 --ntasks-per-node=2`, runs jobs/monthly.ini on
#       a generated store (20000 customers, seed 11) through mpirun with
#       `--mca btl self,tcp` (no shared memory) in PC_MPIRUN_ARGS:
#         - the job completes on pcnode[1-2] with 4 tasks;
#         - its ranks 0,1 ran on pcnode1 and 2,3 on pcnode2: each rank notes
#           its rank, hostname and /proc/self/ns/net before it execs parcours,
#           and these are compared with the nodes' namespaces;
#         - Open MPI's bml reports the tcp btl from every rank to both ranks
#           of the other node, and no btl but self and tcp;
#         - csv/, results.h5 and report.html equal, byte for byte, those of a
#           one-node `tools/prun 4 parcours run` on the same store;
#   (c) the same with PC_LAUNCHER=srun (srun --mpi=pmix: Slurm's PMIx plugin
#       starts the ranks; the btl settings go in OMPI_MCA_* variables);
#   (d) stopping the cluster leaves no namespace, process or directory.
# Last line: "N passed, M failed"; exit status 1 when M > 0. It prints SKIP
# and exits 0 only when namespaces cannot be made here (not root, or
# unshare refused: no CAP_SYS_ADMIN), or, as test-slurm.sh does, when Slurm
# cannot be installed. The cluster is stopped on any exit (trap). The work
# directory is under /var/tmp, since the nodes do not share /tmp; the job's
# binary, jobs/ and slurm/ are staged there (the checkout may be under /tmp).
# PC_TEST_KEEP=1 keeps it and the cluster's logs. About 25 s.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT" || exit 2
PARCOURS=${PARCOURS:-$ROOT/bin/parcours}
CLUSTER=$ROOT/tests/slurm/two-node-cluster.sh
PASS=0 FAIL=0
pass() { echo "PASS: $*"; PASS=$((PASS + 1)); }
fail() { echo "FAIL: $*"; FAIL=$((FAIL + 1)); }
finish() { echo "$PASS passed, $FAIL failed"; [ "$FAIL" -eq 0 ]; exit $?; }

if [ "$(id -u)" != 0 ]; then
  echo "SKIP: not root: network namespaces need CAP_SYS_ADMIN and CAP_NET_ADMIN; two-node test not run"
  exit 0
fi
if ! unshare --net --uts --mount /bin/true 2>/dev/null; then
  echo "SKIP: unshare --net --uts --mount is refused here (no CAP_SYS_ADMIN in this container); two-node test not run"
  exit 0
fi
if ! tools/install-slurm >/dev/null 2>&1 || ! [ -x /usr/sbin/slurmctld ] || ! [ -x /usr/sbin/munged ]; then
  echo "SKIP: Slurm (slurm-wlm, munge) is not installed and cannot be installed here (tools/install-slurm); two-node test not run"
  exit 0
fi
for c in ip nsenter unshare mpirun; do
  command -v $c >/dev/null || { fail "$c is missing (tools/install-deps names its package)"; finish; }
done
[ -x "$PARCOURS" ] || { fail "parcours binary $PARCOURS missing (make, or PARCOURS=...)"; finish; }

# Not under /tmp: each node has its own /tmp, as real nodes do.
W=$(mktemp -d /var/tmp/pc-2n-test.XXXXXX)
# What the jobs read on the nodes, staged under W: the checkout itself may
# be under /tmp (a CI clone in mktemp -d), which the nodes do not see.
NODE_ROOT=$W/root
mkdir -p "$NODE_ROOT/bin" && cp "$PARCOURS" "$NODE_ROOT/bin/parcours" && cp -r jobs slurm "$NODE_ROOT/" ||
  { fail "cannot stage bin/parcours, jobs/ and slurm/ in $NODE_ROOT"; finish; }
export PC_2N_DIR=$W/cluster
stop_cluster() {
  [ -f "$PC_2N_DIR/.pc-two-node-cluster" ] || return 0
  PC_SLURM_KEEP=${PC_TEST_KEEP:-0} "$CLUSTER" stop
}
cleanup() {
  stop_cluster >/dev/null 2>&1
  if [ "${PC_TEST_KEEP:-0}" = 1 ]; then echo "kept $W"; else rm -rf "$W"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
on1() { "$CLUSTER" on 1 "$@"; }
show_logs() { for f in "$@"; do echo "--- $f"; tail -n 30 "$f"; done; }

# wait_job TIMEOUT ID: until the job has ended; prints "State ExitCode".
wait_job() {
  local s
  for _ in $(seq $(($1 * 4))); do
    s=$(on1 scontrol -o show job "$2" 2>/dev/null)
    if ! grep -qE 'JobState=(PENDING|RUNNING|CONFIGURING|COMPLETING|SUSPENDED|REQUEUED)' <<<"$s"; then
      sed -E 's/.* JobState=([A-Z_]+).* ExitCode=([0-9:]+).*/\1 \2/' <<<"$s"
      return 0
    fi
    sleep 0.25
  done
  echo "TIMEOUT $(grep -oE 'JobState=[A-Z]+|Reason=[^ ]+' <<<"$s" | tr '\n' ' ')"
}

t0=$SECONDS
if ! env=$("$CLUSTER" start 2>"$W/start.log"); then
  cat "$W/start.log"; fail "two-node cluster did not start (log above)"; finish
fi
eval "$env"
NS1=$(on1 readlink /proc/self/ns/net) NS2=$("$CLUSTER" on 2 readlink /proc/self/ns/net)
HOSTNS=$(readlink /proc/self/ns/net)
echo "cluster up in $((SECONDS - t0)) s: pcnode1 $NS1, pcnode2 $NS2, this shell $HOSTNS"
# The placement every check expects: "RANK HOSTNAME NETNS", sorted.
PLACED=$(printf '0 pcnode1 %s\n1 pcnode1 %s\n2 pcnode2 %s\n3 pcnode2 %s' "$NS1" "$NS1" "$NS2" "$NS2")

# (a) both nodes idle; one step spans both namespaces
case_a() {
  local st got
  st=$(on1 sinfo -h -N -o '%N:%T:%c' | sort -u | tr '\n' ' ')
  [ "$st" = "pcnode1:idle:2 pcnode2:idle:2 " ] && pass "(a) sinfo: $st" || fail "(a) sinfo: '$st'"
  got=$(on1 srun -N2 --ntasks-per-node=2 --time=2 \
          /bin/sh -c 'echo "$SLURM_PROCID $(hostname) $(readlink /proc/self/ns/net)"' 2>"$W/srun.err" | sort)
  if [ "$got" = "$PLACED" ] && [ "$NS1" != "$NS2" ] && [ "$NS1" != "$HOSTNS" ] && [ "$NS2" != "$HOSTNS" ]; then
    pass "(a) srun -N2 --ntasks-per-node=2: tasks 0,1 on pcnode1, 2,3 on pcnode2, in two network namespaces"
  else
    cat "$W/srun.err"; fail "(a) srun placement: got [$got] want [$PLACED]"
  fi
}

# The one-node reference, made as every other test makes it.
one_node_run() {
  if ! "$PARCOURS" generate -q -o "$W/store" --customers 20000 --seed 11 >"$W/generate.log" 2>&1; then
    show_logs "$W/generate.log"; fail "parcours generate"; return 1
  fi
  if ! tools/prun 4 "$PARCOURS" run jobs/monthly.ini --set "input.store=$W/store" \
       --set "output.dir=$W/one" --quiet >"$W/one.log" 2>&1; then
    show_logs "$W/one.log"; fail "one-node tools/prun 4 run"; return 1
  fi
}

# rank_where LAUNCHER: a stand-in binary that appends "RANK HOSTNAME NETNS"
# to ranks-LAUNCHER.txt, then execs parcours (same pid, same namespaces).
# Under srun the rank is not yet in OMPI_COMM_WORLD_RANK: PMIX_RANK is.
rank_where() {
  {
    echo '#!/bin/sh'
    echo 'echo "${OMPI_COMM_WORLD_RANK:-${PMIX_RANK:-none}} $(hostname) $(readlink /proc/self/ns/net)"' \
         ">> '$W/ranks-$1.txt'"
    echo "exec '$NODE_ROOT/bin/parcours' \"\$@\""
  } > "$W/rank-where-$1"
  chmod +x "$W/rank-where-$1"
}

# monthly CASE LAUNCHER: slurm/monthly.sbatch --step run on both nodes with
# PC_LAUNCHER=LAUNCHER and Open MPI held to TCP, then its four checks.
monthly() {
  local c=$1 launcher=$2 id st log out=$W/out-$2 net=$PC_2N_SUBNET
  rank_where "$launcher"
  # mpirun reads the allocation and starts its daemon on pcnode2 with srun;
  # its options say TCP only, and keep both the out-of-band channel and
  # the btl on the veth subnet. srun --mpi=pmix starts the ranks itself and
  # has no --mca: Open MPI reads the same settings from OMPI_MCA_*.
  # btl_base_verbose makes Open MPI name the btl it uses for each peer.
  id=$(
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
    export PC_ROOT=$NODE_ROOT PARCOURS=$W/rank-where-$launcher PC_LAUNCHER=$launcher
    if [ "$launcher" = mpirun ]; then
      export PC_MPIRUN_ARGS="--mca btl self,tcp --mca btl_tcp_if_include $net --mca oob_tcp_if_include $net --mca btl_base_verbose 100"
    else
      export OMPI_MCA_btl=self,tcp OMPI_MCA_btl_tcp_if_include=$net OMPI_MCA_btl_base_verbose=100
    fi
    on1 sbatch --parsable -N2 --ntasks=4 --ntasks-per-node=2 --cpus-per-task=1 --time=10 \
      --output="$W/monthly-$launcher-%j.out" "$NODE_ROOT/slurm/monthly.sbatch" --month 2024-05 --step run \
      --store "$W/store" --out "$out" --job jobs/monthly.ini) || { fail "($c) $launcher: sbatch"; return; }
  st=$(wait_job 120 "$id")
  log=$W/monthly-$launcher-$id.out
  if [ "$st" != "COMPLETED 0:0" ]; then
    show_logs "$log" "$PC_2N_DIR"/log/slurmd.*.log; fail "($c) $launcher: monthly job $id: $st"; return
  fi
  grep -q "job $id on pcnode\[1-2\]: month 2024-05 step run, 4 task(s) x 1 thread(s), launcher $launcher" "$log" &&
    pass "($c) $launcher: monthly job $id completed on pcnode[1-2], 4 tasks" ||
    { show_logs "$log"; fail "($c) $launcher: the job log does not say pcnode[1-2], 4 tasks, launcher $launcher"; }
  check_ranks "$c" "$launcher"
  check_tcp "$c" "$launcher" "$log"
  check_same "$c" "$launcher" "$out/2024-05"
}

check_ranks() {
  local got
  got=$(sort "$W/ranks-$2.txt" 2>/dev/null)
  [ "$got" = "$PLACED" ] &&
    pass "($1) $2: ranks 0,1 ran on pcnode1 ($NS1), ranks 2,3 on pcnode2 ($NS2)" ||
    fail "($1) $2: rank placement: got [$got] want [$PLACED]"
}

# Open MPI's bml names the btl it uses for each peer: tcp from each rank of
# one node to both ranks of the other (4 + 4 lines), and nothing but self
# and tcp anywhere.
check_tcp() {
  local cross1 cross2 others
  cross1=$(grep -cE '^\[pcnode1:[0-9]+\] mca: bml: Using tcp btl for send to \[\[[0-9]+,[0-9]+\],[23]\] on node pcnode2$' "$3")
  cross2=$(grep -cE '^\[pcnode2:[0-9]+\] mca: bml: Using tcp btl for send to \[\[[0-9]+,[0-9]+\],[01]\] on node pcnode1$' "$3")
  others=$(grep -E 'mca: bml: Using [a-z0-9]+ btl' "$3" | grep -vE 'Using (tcp|self) btl' | head -3)
  if [ "$cross1" = 4 ] && [ "$cross2" = 4 ] && [ -z "$others" ]; then
    pass "($1) $2: Open MPI used the tcp btl for all 8 cross-node rank pairs, and only self/tcp"
  else
    grep 'mca: bml: Using' "$3"
    fail "($1) $2: btl: $cross1 + $cross2 cross-node tcp lines (want 4 + 4), others [$others]"
  fi
}

# csv/, results.h5 and report.html equal the one-node run's, byte for byte.
check_same() {
  local f n=0 diffs=0 a b
  a=$(cd "$W/one" && find csv results.h5 report.html -type f | sort)
  b=$(cd "$3" && find csv results.h5 report.html -type f | sort)
  if [ "$a" != "$b" ] || ! grep -q '^csv/' <<<"$a"; then
    fail "($1) $2: output file sets differ: one node [$a] two nodes [$b]"; return
  fi
  for f in $a; do
    n=$((n + 1))
    cmp "$W/one/$f" "$3/$f" || diffs=$((diffs + 1))
  done
  [ $diffs = 0 ] && pass "($1) $2: $n files (csv/, results.h5, report.html) byte-identical to the one-node run" ||
    fail "($1) $2: $diffs of $n file(s) differ from the one-node run"
}

# (d) stop leaves nothing behind
case_d() {
  local tag left
  tag=$(cat "$PC_2N_DIR/.pc-two-node-cluster")
  if ! PC_SLURM_KEEP=0 "$CLUSTER" stop >"$W/stop.log" 2>&1; then
    cat "$W/stop.log"; fail "(d) two-node-cluster.sh stop"; return
  fi
  left=$(ip netns list | grep -F "pc2n-$tag-"; pgrep -af -- "$PC_2N_DIR")
  [ -z "$left" ] && [ ! -e "$PC_2N_DIR" ] &&
    pass "(d) stop: namespaces pc2n-$tag-1/2, their veth pair, daemons and $PC_2N_DIR are gone" ||
    fail "(d) left after stop: [$left] $(ls -d "$PC_2N_DIR" 2>/dev/null)"
}

case_a
if one_node_run; then
  monthly b mpirun
  monthly c srun
fi
case_d
echo "two-node test: $((SECONDS - t0)) s"
finish
