#!/bin/bash
# local-cluster.sh start|stop|status|env - a one-node Slurm cluster on this
# machine, for tests and for trying slurm/*.sbatch without a real cluster.
#
# Everything lives in one directory ($PC_SLURM_DIR, else a new mktemp -d):
# its own munge key, socket, pid, log and seed files; slurm.conf; slurmctld
# state; slurmd spool; logs. Nothing under /etc, /run or /var is read or
# written, and no systemd is needed. Debian's slurm-wlm and munge
# (tools/install-slurm). proctrack/linuxproc, task/none, no cgroups, no
# accounting database; one node (this host, its real CPUs and memory from
# `slurmd -C`) in one partition, `local`.
#
#   eval "$(tests/slurm/local-cluster.sh start)"   # prints the exports
#   srun hostname; sbatch --wrap 'srun hostname'
#   tests/slurm/local-cluster.sh status
#   tests/slurm/local-cluster.sh stop               # needs PC_SLURM_DIR or SLURM_CONF
#
# start: exports printed on stdout (PC_SLURM_DIR, SLURM_CONF, and
# PC_MUNGE_SOCKET for `munge -S`); progress and errors on stderr. Slurm's
# clients find munge's socket through slurm.conf (AuthInfo=socket=...).
# stop: cancels the cluster's jobs, then ends exactly the daemons started
# here, by their pid files (TERM, then KILL after a grace time), and removes
# the directory. status: daemons, sinfo, squeue.
#
# Settings (environment): PC_SLURM_DIR; PC_SLURM_CTLD_PORT (16817) and
# PC_SLURM_SLURMD_PORT (16818); PC_SLURM_PARTITION (local);
# PC_SLURM_START_TIMEOUT seconds to wait for the node to be idle (60).
# Root is fine (SlurmUser=root, SlurmdUser=root, munged --force).
set -euo pipefail

SBIN=/usr/sbin
die() { echo "local-cluster: $*" >&2; exit 1; }
say() { echo "local-cluster: $*" >&2; }
. "$(dirname "$0")/munge-lib.sh"

# The cluster directory: given, or found from SLURM_CONF (stop/status):
# slurm.conf is DIR/etc/slurm.conf, the marker DIR/.pc-local-cluster.
cluster_dir() {
  if [ -n "${PC_SLURM_DIR:-}" ]; then echo "$PC_SLURM_DIR"; return; fi
  local d
  if [ -n "${SLURM_CONF:-}" ]; then
    d=$(dirname "$(dirname "$SLURM_CONF")")
    [ -f "$d/.pc-local-cluster" ] && { echo "$d"; return; }
  fi
  return 1
}

pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

port_free() {
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

print_env() {
  local d=$1
  echo "export PC_SLURM_DIR='$d'"
  echo "export SLURM_CONF='$d/etc/slurm.conf'"
  echo "export PC_MUNGE_SOCKET='$d/munge/munge.socket'"
}

write_conf() {
  local d=$1 host=$2 ctld_port=$3 slurmd_port=$4 part=$5
  local cpus mem boards spb cps tpc
  # slurmd -C prints this host as a NodeName line; keep its real topology
  # and memory (minus 512 MiB so the node is not drained for having less).
  local c; c=$($SBIN/slurmd -C | head -1)
  cpus=$(sed -n 's/.* CPUs=\([0-9]*\).*/\1/p' <<<"$c")
  boards=$(sed -n 's/.* Boards=\([0-9]*\).*/\1/p' <<<"$c")
  spb=$(sed -n 's/.* SocketsPerBoard=\([0-9]*\).*/\1/p' <<<"$c")
  cps=$(sed -n 's/.* CoresPerSocket=\([0-9]*\).*/\1/p' <<<"$c")
  tpc=$(sed -n 's/.* ThreadsPerCore=\([0-9]*\).*/\1/p' <<<"$c")
  mem=$(sed -n 's/.* RealMemory=\([0-9]*\).*/\1/p' <<<"$c")
  [ -n "$cpus" ] && [ -n "$mem" ] || die "cannot read 'slurmd -C': $c"
  mem=$(( mem > 1024 ? mem - 512 : mem ))
  : > "$d/etc/plugstack.conf"
  # No plugin here uses cgroups (proctrack/linuxproc, task/none), but
  # slurmd 22.05 loads the cgroup plugin anyway, and "autodetect" picks
  # cgroup/v2 on a unified-hierarchy host: without dbus that slurmd fails
  # to start, or leaves a "slurmstepd infinity" behind that stop cannot
  # see. cgroup/v1 loads without touching any hierarchy until a plugin asks.
  printf '# Written by tests/slurm/local-cluster.sh: no cgroups are used.\nCgroupPlugin=cgroup/v1\n' > "$d/etc/cgroup.conf"
  cat > "$d/etc/slurm.conf" <<EOF
# Written by tests/slurm/local-cluster.sh; removed by its stop.
ClusterName=pclocal
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$d/munge/munge.socket
StateSaveLocation=$d/state
SlurmdSpoolDir=$d/spool/slurmd.%n
SlurmctldPidFile=$d/run/slurmctld.pid
SlurmdPidFile=$d/run/slurmd.pid
SlurmctldLogFile=$d/log/slurmctld.log
SlurmdLogFile=$d/log/slurmd.log
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
LaunchParameters=use_interactive_step
SchedulerType=sched/backfill
SchedulerParameters=defer_batch=0
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MailProg=/bin/true
MinJobAge=600
SlurmdTimeout=60
SlurmctldTimeout=60
InactiveLimit=0
KillWait=5
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus Boards=${boards:-1} SocketsPerBoard=${spb:-1} CoresPerSocket=${cps:-$cpus} ThreadsPerCore=${tpc:-1} RealMemory=$mem State=UNKNOWN
PartitionName=$part Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
EOF
}

start_munge() {
  local d=$1
  munge_start "$d"
  /usr/bin/munge -S "$d/munge/munge.socket" -n | /usr/bin/unmunge -S "$d/munge/munge.socket" >/dev/null ||
    die "munge does not answer on $d/munge/munge.socket (log: $d/log/munged.log)"
}

cmd_start() {
  command -v $SBIN/slurmctld >/dev/null && command -v $SBIN/munged >/dev/null ||
    die "slurm-wlm and munge are not installed (tools/install-slurm)"
  local d
  if d=$(cluster_dir) && pid_alive "$d/run/slurmctld.pid"; then
    say "already running in $d"; print_env "$d"; return 0
  fi
  if [ -n "${PC_SLURM_DIR:-}" ]; then d=$PC_SLURM_DIR; mkdir -p "$d"
  else d=$(mktemp -d "${TMPDIR:-/tmp}/pc-slurm.XXXXXX"); fi
  d=$(cd "$d" && pwd)
  # munge's socket path must fit sun_path (108 bytes).
  [ ${#d} -lt 80 ] || die "cluster directory path too long for a unix socket: $d"
  local ctld_port=${PC_SLURM_CTLD_PORT:-16817} slurmd_port=${PC_SLURM_SLURMD_PORT:-16818}
  local part=${PC_SLURM_PARTITION:-local} host
  host=$(hostname -s)
  port_free "$ctld_port" || die "port $ctld_port is in use (set PC_SLURM_CTLD_PORT)"
  port_free "$slurmd_port" || die "port $slurmd_port is in use (set PC_SLURM_SLURMD_PORT)"
  mkdir -p "$d"/{etc,state,spool,run,log}
  touch "$d/.pc-local-cluster"
  write_conf "$d" "$host" "$ctld_port" "$slurmd_port" "$part"
  start_munge "$d"
  export SLURM_CONF=$d/etc/slurm.conf
  # -c: a fresh cluster, no state to recover. -i: ignore state errors.
  $SBIN/slurmctld -c -i -f "$SLURM_CONF" || die "slurmctld failed (log: $d/log/slurmctld.log)"
  $SBIN/slurmd -f "$SLURM_CONF" -N "$host" || die "slurmd failed (log: $d/log/slurmd.log)"
  local t=${PC_SLURM_START_TIMEOUT:-60} state=""
  for _ in $(seq $((t * 2))); do
    state=$(sinfo -h -N -n "$host" -o %T 2>/dev/null | head -1 || true)
    [ "$state" = idle ] && break
    sleep 0.5
  done
  if [ "$state" != idle ]; then
    say "node $host not idle after ${t}s (state '${state:-none}'); logs in $d/log:"
    tail -n 20 "$d/log/slurmctld.log" "$d/log/slurmd.log" >&2 || true
    PC_SLURM_DIR=$d cmd_stop >&2 || true
    exit 1
  fi
  say "node $host idle; cluster in $d (ports $ctld_port/$slurmd_port)"
  print_env "$d"
}

# TERM, wait up to $2 seconds, then KILL; only the pid in this pid file.
stop_pidfile() {
  local f=$1 grace=$2 pid
  [ -f "$f" ] || return 0
  pid=$(cat "$f")
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq $((grace * 10))); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  say "pid $pid ($f) still alive after ${grace}s; KILL"
  kill -KILL "$pid" 2>/dev/null || true
}

cmd_stop() {
  local d
  d=$(cluster_dir) || die "stop: set PC_SLURM_DIR (or SLURM_CONF) to the cluster started by 'start'"
  [ -f "$d/.pc-local-cluster" ] || die "stop: $d is not a cluster directory of local-cluster.sh"
  if pid_alive "$d/run/slurmctld.pid"; then
    export SLURM_CONF=$d/etc/slurm.conf
    # Jobs first, so that no slurmstepd outlives its slurmd.
    scancel --full --quiet --user="$(id -un)" 2>/dev/null || true
    for _ in $(seq 60); do
      [ -z "$(squeue -h -o %i 2>/dev/null)" ] && break
      sleep 0.5
    done
  fi
  stop_pidfile "$d/run/slurmd.pid" 10
  stop_pidfile "$d/run/slurmctld.pid" 10
  stop_pidfile "$d/run/munged.pid" 5
  if [ "${PC_SLURM_KEEP:-0}" = 1 ]; then say "stopped; kept $d"
  else rm -rf "$d"; say "stopped; removed $d"; fi
}

cmd_status() {
  local d
  d=$(cluster_dir) || die "status: set PC_SLURM_DIR (or SLURM_CONF)"
  export SLURM_CONF=$d/etc/slurm.conf
  local p rc=0
  for p in munged slurmctld slurmd; do
    if pid_alive "$d/run/$p.pid"; then echo "$p: running (pid $(cat "$d/run/$p.pid"))"
    else echo "$p: not running"; rc=1; fi
  done
  [ $rc = 0 ] || return $rc
  sinfo
  squeue
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  env) d=$(cluster_dir) || die "env: set PC_SLURM_DIR"; print_env "$d" ;;
  *) echo "usage: $0 start|stop|status|env" >&2; exit 2 ;;
esac
