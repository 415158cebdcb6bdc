#!/bin/bash
# two-node-cluster.sh start|on N CMD...|stop|status - a two-node Slurm
# cluster on this one machine: each "node" is a network namespace with its
# own hostname (UTS namespace), address and /etc/hosts (a private mount
# namespace), joined by a veth pair. For tests/slurm/test-two-nodes.sh and
# for trying multi-node MPI runs without a cluster. Needs root (CAP_SYS_ADMIN,
# CAP_NET_ADMIN), iproute2, util-linux (unshare), slurm-wlm and munge.
#
#   node   netns               hostname  address         runs
#   1      pc2n-TAG-1          pcnode1   10.200.0.1/24   munged, slurmctld, slurmd
#   2      pc2n-TAG-2          pcnode2   10.200.0.2/24   slurmd
#
# TAG: 8 random hex digits, kept in $PC_2N_DIR/.pc-two-node-cluster.
#
# Both veth ends are created directly inside the namespaces, so the host's
# own interfaces, addresses, routes and /etc/hosts are never touched; the
# namespaces have only lo and that veth. Processes on a node see
# $PC_2N_DIR/etc/hosts bind-mounted over /etc/hosts (pcnode1, pcnode2 and
# localhost) and $PC_2N_DIR/tmp/NODE over /tmp, as real nodes have their
# own /tmp (Slurm's PMIx plugin makes the same directory name in /tmp on
# every node of a step). Nothing else differs: same file system, same CPUs,
# as on a cluster with a shared file system. So files that jobs need must
# not be under /tmp.
#
# munged runs on node 1; its socket is a path in $PC_2N_DIR, which both
# nodes reach through the file system (a pathname unix socket is not
# confined to a network namespace). slurmctld listens on node 1
# (SlurmctldHost=pcnode1(10.200.0.1)); each slurmd (`slurmd -N pcnodeN`)
# listens on its own address; the ports need not be free on the host, since
# each namespace has its own. Slurm's clients must run on a node to reach
# slurmctld: `two-node-cluster.sh on 1 sbatch ...`. Jobs' processes inherit
# their node's namespaces from slurmd, so `srun hostname` says which node.
#
#   eval "$(tests/slurm/two-node-cluster.sh start)"  # exports PC_2N_DIR, SLURM_CONF
#   tests/slurm/two-node-cluster.sh on 1 srun -N2 hostname
#   tests/slurm/two-node-cluster.sh stop             # needs PC_2N_DIR
#
# stop cancels the jobs, ends the daemons by their pid files (TERM, then
# KILL), KILLs whatever still runs inside the two namespaces (only this
# cluster's processes can be there), deletes the namespaces (and with them
# the veth pair) and removes $PC_2N_DIR. It undoes a partial start too.
#
# Settings: PC_2N_DIR (default mktemp -d /var/tmp/pc-2n.XXXXXX; not under
# /tmp, see below; under 80 characters for munge's socket); PC_2N_START_TIMEOUT seconds for both nodes
# to become idle (60); PC_SLURM_KEEP=1 keeps the directory on stop.
# Each node is declared with 2 CPUs whatever the machine has
# (SlurmdParameters=config_overrides), so 2 tasks per node always fit.
set -euo pipefail

SBIN=/usr/sbin
NODES=(pcnode1 pcnode2)
ADDRS=(10.200.0.1 10.200.0.2)
SUBNET=10.200.0.0/24
CTLD_PORT=16817
SLURMD_PORT=16818
die() { echo "two-node-cluster: $*" >&2; exit 1; }
say() { echo "two-node-cluster: $*" >&2; }
. "$(dirname "$0")/munge-lib.sh"

cluster_dir() {
  [ -n "${PC_2N_DIR:-}" ] && [ -f "$PC_2N_DIR/.pc-two-node-cluster" ] || return 1
  echo "$PC_2N_DIR"
}
# The netns name of node N (1 or 2), from the random tag written by start.
ns_name() { echo "pc2n-$(cat "$1/.pc-two-node-cluster")-$2"; }

print_env() {
  echo "export PC_2N_DIR='$1'"
  echo "export SLURM_CONF='$1/etc/slurm.conf'"
  echo "export PC_MUNGE_SOCKET='$1/munge/munge.socket'"
  echo "export PC_2N_SUBNET='$SUBNET'"
}

# on_node DIR N CMD...: CMD inside node N's network namespace, in a new UTS
# namespace named after the node and a private mount namespace where the
# cluster's hosts file covers /etc/hosts and the node's directory covers
# /tmp. Daemons started so stay in them.
# nsenter, not `ip netns exec`: the latter remounts /sys, which hides
# /sys/fs/cgroup, and slurmd will not start without it.
on_node() {
  local d=$1 n=$2
  shift 2
  nsenter --net="/run/netns/$(ns_name "$d" "$n")" unshare --uts --mount --propagation private \
    /bin/sh -c 'hostname "$0" && mount --bind "$1" /etc/hosts && mount --bind "$2" /tmp &&
                shift 2 && exec "$@"' \
    "${NODES[$((n - 1))]}" "$d/etc/hosts" "$d/tmp/${NODES[$((n - 1))]}" "$@"
}

make_network() {
  local d=$1 ns1 ns2 n
  ns1=$(ns_name "$d" 1) ns2=$(ns_name "$d" 2)
  ip netns add "$ns1" || die "ip netns add $ns1 failed"
  ip netns add "$ns2" || die "ip netns add $ns2 failed"
  # Both ends are born inside the namespaces: nothing appears on the host.
  ip -n "$ns1" link add veth0 type veth peer name veth0 netns "$ns2" ||
    die "cannot create the veth pair between $ns1 and $ns2"
  for n in 1 2; do
    local ns; ns=$(ns_name "$d" "$n")
    ip -n "$ns" addr add "${ADDRS[$((n - 1))]}/24" dev veth0
    ip -n "$ns" link set lo up
    ip -n "$ns" link set veth0 up
  done
}

write_conf() {
  local d=$1
  printf '127.0.0.1 localhost\n%s %s\n%s %s\n' "${ADDRS[0]}" "${NODES[0]}" \
    "${ADDRS[1]}" "${NODES[1]}" > "$d/etc/hosts"
  : > "$d/etc/plugstack.conf"
  cat > "$d/etc/slurm.conf" <<EOF
# Written by tests/slurm/two-node-cluster.sh; removed by its stop.
ClusterName=pctwonode
SlurmctldHost=${NODES[0]}(${ADDRS[0]})
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$d/munge/munge.socket
StateSaveLocation=$d/state
SlurmdSpoolDir=$d/spool/slurmd.%n
SlurmctldPidFile=$d/run/slurmctld.pid
SlurmdPidFile=$d/run/slurmd.%n.pid
SlurmctldLogFile=$d/log/slurmctld.log
SlurmdLogFile=$d/log/slurmd.%n.log
SlurmctldDebug=info
SlurmdDebug=info
PlugStackConfig=$d/etc/plugstack.conf
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$d/log/jobcomp.log
SwitchType=switch/none
MpiDefault=none
SchedulerType=sched/backfill
SchedulerParameters=defer_batch=0
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SlurmdParameters=config_overrides
ReturnToService=2
MailProg=/bin/true
MinJobAge=600
SlurmdTimeout=60
SlurmctldTimeout=60
InactiveLimit=0
KillWait=5
NodeName=${NODES[0]} NodeAddr=${ADDRS[0]} CPUs=2 Boards=1 SocketsPerBoard=1 CoresPerSocket=2 ThreadsPerCore=1 RealMemory=1024 State=UNKNOWN
NodeName=${NODES[1]} NodeAddr=${ADDRS[1]} CPUs=2 Boards=1 SocketsPerBoard=1 CoresPerSocket=2 ThreadsPerCore=1 RealMemory=1024 State=UNKNOWN
PartitionName=two Nodes=${NODES[0]},${NODES[1]} Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
EOF
}

start_munge() {
  local d=$1
  munge_start "$d" on_node "$d" 1
  # From node 2: the socket is reachable across the namespaces.
  on_node "$d" 2 /bin/sh -c '/usr/bin/munge -S "$0" -n | /usr/bin/unmunge -S "$0" >/dev/null' \
    "$d/munge/munge.socket" || die "munge does not answer on $d/munge/munge.socket from node 2"
}

wait_idle() {
  local d=$1 t=${PC_2N_START_TIMEOUT:-60} st=""
  for _ in $(seq $((t * 2))); do
    st=$(on_node "$d" 1 sinfo -h -N -o '%N %T' 2>/dev/null | sort -u | tr '\n' ' ' || true)
    [ "$st" = "${NODES[0]} idle ${NODES[1]} idle " ] && return 0
    sleep 0.5
  done
  say "nodes not idle after ${t}s (sinfo: '${st:-none}'); logs in $d/log:"
  tail -n 20 "$d"/log/slurm*.log >&2 || true
  return 1
}

cmd_start() {
  [ "$(id -u)" = 0 ] || die "needs root (network namespaces)"
  command -v ip >/dev/null || die "ip (iproute2) is missing (tools/install-deps)"
  command -v unshare >/dev/null || die "unshare (util-linux) is missing (tools/install-deps)"
  [ -x $SBIN/slurmctld ] && [ -x $SBIN/munged ] || die "slurm-wlm and munge are missing (tools/install-slurm)"
  local d
  if [ -n "${PC_2N_DIR:-}" ]; then
    d=$(realpath -m "$PC_2N_DIR")
    case "$d/" in /tmp/*) die "$d is under /tmp, which each node has of its own: use another directory (default /var/tmp)" ;; esac
    mkdir -p "$d"
  else d=$(mktemp -d /var/tmp/pc-2n.XXXXXX); fi
  [ ${#d} -lt 80 ] || die "cluster directory path too long for a unix socket: $d"
  [ ! -f "$d/.pc-two-node-cluster" ] || die "$d already holds a cluster (stop it first)"
  mkdir -p "$d"/{etc,state,run,log} "$d/spool/slurmd.${NODES[0]}" "$d/spool/slurmd.${NODES[1]}" \
    "$d/tmp/${NODES[0]}" "$d/tmp/${NODES[1]}"
  chmod 1777 "$d/tmp/${NODES[0]}" "$d/tmp/${NODES[1]}"
  # The netns names carry this random tag (two clusters may run at once);
  # written first, so that stop can undo whatever part of start happened.
  od -An -N4 -tx1 /dev/urandom | tr -d ' \n' > "$d/.pc-two-node-cluster"
  echo >> "$d/.pc-two-node-cluster"
  export PC_2N_DIR=$d
  STARTED=0
  trap '[ $STARTED = 1 ] || { say "start failed; undoing it"; cmd_stop >/dev/null || true; }' EXIT
  write_conf "$d"
  make_network "$d"
  start_munge "$d"
  export SLURM_CONF=$d/etc/slurm.conf
  on_node "$d" 1 $SBIN/slurmctld -c -i -f "$SLURM_CONF" || die "slurmctld failed (log: $d/log/slurmctld.log)"
  on_node "$d" 1 $SBIN/slurmd -f "$SLURM_CONF" -N "${NODES[0]}" || die "slurmd on ${NODES[0]} failed"
  on_node "$d" 2 $SBIN/slurmd -f "$SLURM_CONF" -N "${NODES[1]}" || die "slurmd on ${NODES[1]} failed"
  wait_idle "$d" || die "the cluster did not come up"
  STARTED=1
  say "nodes ${NODES[*]} idle; cluster in $d (netns $(ns_name "$d" 1), $(ns_name "$d" 2))"
  print_env "$d"
}

# stop_pidfiles GRACE FILE...: TERM the pid of each file, all at once (a
# slurmd or slurmctld takes seconds to exit), wait up to GRACE seconds for
# all, then KILL those left. Only the pids in these files.
stop_pidfiles() {
  local grace=$1 f pid pids=() alive
  shift
  for f in "$@"; do
    [ -f "$f" ] && pid=$(cat "$f") && [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || continue
    kill -TERM "$pid" 2>/dev/null && pids+=("$pid")
  done
  for _ in $(seq $((grace * 10))); do
    alive=""
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive="$alive $pid"; done
    [ -z "$alive" ] && return 0
    sleep 0.1
  done
  say "pid(s)$alive still alive after ${grace}s; KILL"
  kill -KILL $alive 2>/dev/null || true
}

cmd_stop() {
  local d ns n pids
  d=$(cluster_dir) || die "stop: set PC_2N_DIR to the directory printed by start"
  export SLURM_CONF=$d/etc/slurm.conf
  if [ -f "$d/run/slurmctld.pid" ] && kill -0 "$(cat "$d/run/slurmctld.pid")" 2>/dev/null; then
    # Jobs first, so that no slurmstepd outlives its slurmd.
    on_node "$d" 1 scancel --full --quiet --user="$(id -un)" 2>/dev/null || true
    for _ in $(seq 40); do
      [ -z "$(on_node "$d" 1 squeue -h -o %i 2>/dev/null)" ] && break
      sleep 0.5
    done
  fi
  stop_pidfiles 10 "$d/run/slurmd.${NODES[0]}.pid" "$d/run/slurmd.${NODES[1]}.pid" "$d/run/slurmctld.pid"
  stop_pidfiles 5 "$d/run/munged.pid"
  for n in 1 2; do
    ns=$(ns_name "$d" "$n")
    [ -e "/run/netns/$ns" ] || continue
    # Only this cluster's processes can be inside its namespaces.
    pids=$(ip netns pids "$ns" 2>/dev/null || true)
    if [ -n "$pids" ]; then
      say "killing what is left in $ns: $(tr '\n' ' ' <<<"$pids")"
      kill -KILL $pids 2>/dev/null || true
      for _ in $(seq 50); do [ -z "$(ip netns pids "$ns" 2>/dev/null)" ] && break; sleep 0.1; done
    fi
    ip netns delete "$ns" || say "ip netns delete $ns failed"
  done
  if [ "${PC_SLURM_KEEP:-0}" = 1 ]; then say "stopped; kept $d"
  else rm -rf "$d"; say "stopped; removed $d"; fi
}

cmd_status() {
  local d p
  d=$(cluster_dir) || die "status: set PC_2N_DIR"
  export SLURM_CONF=$d/etc/slurm.conf
  for p in munged slurmctld "slurmd.${NODES[0]}" "slurmd.${NODES[1]}"; do
    if [ -f "$d/run/$p.pid" ] && kill -0 "$(cat "$d/run/$p.pid")" 2>/dev/null; then
      echo "$p: running (pid $(cat "$d/run/$p.pid"))"
    else echo "$p: not running"; fi
  done
  ip netns list | grep -F "pc2n-$(cat "$d/.pc-two-node-cluster")-" || true
  on_node "$d" 1 sinfo -N
  on_node "$d" 1 squeue
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  on)
    [ $# -ge 3 ] || die "usage: $0 on 1|2 CMD..."
    d=$(cluster_dir) || die "on: set PC_2N_DIR"
    case "$2" in 1|2) ;; *) die "on: node is 1 or 2, not '$2'" ;; esac
    n=$2; shift 2
    on_node "$d" "$n" "$@" ;;
  *) echo "usage: $0 start|stop|status|on N CMD..." >&2; exit 2 ;;
esac
