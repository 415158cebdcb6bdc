# munge-lib.sh - sourced by local-cluster.sh and two-node-cluster.sh: the
# cluster's own munged (key, daemon, socket) under DIR/munge, its pid in
# DIR/run, its logs in DIR/log. Needs SBIN and die() from the sourcing script.

# munge_start DIR [PREFIX...]: a fresh key, munged started through PREFIX
# (empty: on this host; e.g. "on_node DIR 1" inside a network namespace),
# then waits up to 5 s for its socket. --force: runs as root and accepts the
# temp dir's ownership and permissions.
munge_start() {
  local d=$1; shift
  mkdir -p "$d/munge"; chmod 0700 "$d/munge"
  $SBIN/mungekey --create --keyfile="$d/munge/munge.key" --force >/dev/null 2>&1 ||
    dd if=/dev/urandom of="$d/munge/munge.key" bs=1024 count=1 status=none
  chmod 0600 "$d/munge/munge.key"
  "$@" $SBIN/munged --force --socket="$d/munge/munge.socket" \
    --key-file="$d/munge/munge.key" --pid-file="$d/run/munged.pid" \
    --log-file="$d/log/munged.log" --seed-file="$d/munge/munged.seed" \
    2>>"$d/log/munged.start.log" || die "munged failed to start: $(cat "$d/log/munged.start.log" "$d/log/munged.log" 2>/dev/null | tail -5)"
  for _ in $(seq 50); do [ -S "$d/munge/munge.socket" ] && break; sleep 0.1; done
}
