#!/usr/bin/env bash
# Stop the dockerd that dockerd-start.sh started (and only that one).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/compose/lib.sh
. "$here/lib.sh"

state_dir=${COMPOSE_TEST_RUN_DIR:-/run/compose-test}
pidfile=$state_dir/dockerd.pid

if [ ! -f "$pidfile" ]; then
    log "no dockerd started by us: nothing to stop"
    exit 0
fi
pid=$(cat "$pidfile")
if kill -0 "$pid" 2>/dev/null; then
    log "stopping dockerd (pid $pid)"
    kill -TERM "$pid"
    for _ in $(seq 1 30); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 1
    done
    if kill -0 "$pid" 2>/dev/null; then
        log "dockerd still running after 30 s: killing it"
        kill -KILL "$pid" || true
    fi
fi
rm -f "$pidfile"
