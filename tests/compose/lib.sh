# Shared helpers for the compose end-to-end scripts (sourced, not run).
# shellcheck shell=bash

log() { printf '[compose-test %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# Seconds since the epoch, for the step timings the driver prints.
now() { date +%s; }

# Run "$@" and log how long it took under the label $1 (appended to $TIMINGS_FILE if set).
timed() {
    local label=$1 start rc=0
    shift
    start=$(now)
    "$@" || rc=$?
    local took=$(($(now) - start))
    log "step '$label' took ${took}s (exit $rc)"
    if [ -n "${TIMINGS_FILE:-}" ]; then
        printf '%-28s %5ss  exit %s\n' "$label" "$took" "$rc" >>"$TIMINGS_FILE"
    fi
    return "$rc"
}

docker_answers() { docker info >/dev/null 2>&1; }
