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

# The driver scripts (e2e.sh, swarm-test.sh) keep the labels of failed steps
# in `failures` and define dump_state (what to print when a step fails).
failures=()

step() { # LABEL CMD...: a checked step; a failure is remembered (and the state dumped), the run goes on
    local label=$1
    shift
    if ! timed "$label" "$@"; then
        failures+=("$label")
        dump_state
        return 1
    fi
}

report_and_exit() { # NAME RC: print the step timings and NAME's verdict; exit RC, or 1 if a step failed
    local name=$1 rc=$2
    echo
    echo "$name timings:"
    cat "$TIMINGS_FILE"
    rm -f "$TIMINGS_FILE"
    if [ ${#failures[@]} -gt 0 ]; then
        echo "$name FAILED: ${failures[*]}"
        rc=1
    elif [ "$rc" -eq 0 ]; then
        echo "$name passed"
    fi
    exit "$rc"
}

docker_answers() { docker info >/dev/null 2>&1; }
