#!/usr/bin/env bash
# Start a Docker engine by hand if none answers (no systemd here), and remember
# that we started it so dockerd-stop.sh stops only an engine this script started.
# Needs root. Logs go to $DOCKERD_LOG.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/compose/lib.sh
. "$here/lib.sh"

state_dir=${COMPOSE_TEST_RUN_DIR:-/run/compose-test}
pidfile=$state_dir/dockerd.pid
DOCKERD_LOG=${DOCKERD_LOG:-/var/log/compose-test-dockerd.log}

if docker_answers; then
    log "a Docker engine already answers: using it (and leaving it running)"
    exit 0
fi
command -v dockerd >/dev/null || die "dockerd not installed (apt-get install docker.io)"
[ "$(id -u)" -eq 0 ] || die "starting dockerd needs root"

mkdir -p "$state_dir" "$(dirname "$DOCKERD_LOG")"
rm -f "$pidfile"  # left by a run that was killed: that dockerd is gone (none answers)
log "starting dockerd (log: $DOCKERD_LOG)"
# Without the caller's open files: an inherited descriptor (say, the lock of
# `flock LOCK make compose-test`) would stay held as long as dockerd runs.
(
    for fd in /proc/"$BASHPID"/fd/*; do
        fd=${fd##*/}
        [ "$fd" -gt 2 ] && eval "exec $fd>&-"
    done
    exec setsid dockerd >>"$DOCKERD_LOG" 2>&1 </dev/null
) &
echo $! >"$pidfile"
for _ in $(seq 1 60); do
    if docker_answers; then
        log "dockerd answers (pid $(cat "$pidfile"))"
        exit 0
    fi
    if ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
        rm -f "$pidfile"
        tail -n 20 "$DOCKERD_LOG" >&2 || true
        die "dockerd exited during start"
    fi
    sleep 1
done
tail -n 20 "$DOCKERD_LOG" >&2 || true
die "dockerd did not answer within 60 s"
