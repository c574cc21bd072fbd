# Shared by the Swarm driver (swarm-test.sh) and its STACK_CONTROL
# (stack-control.sh): the stack's service names and the wait for healthy
# tasks (sourced, not run; needs tests/compose/lib.sh's log and now).
# shellcheck shell=bash

STACK=${SWARM_TEST_STACK:-authstack-swarmtest}

service() { echo "${STACK}_$1"; }

# The ids of the running task containers of SERVICE ("healthy" narrows to those whose health check passes).
task_containers() { # SERVICE [healthy]
    local filters=(--filter "label=com.docker.swarm.service.name=$(service "$1")")
    [ "${2:-}" = healthy ] && filters+=(--filter health=healthy)
    docker ps "${filters[@]}" -q
}

# Wait until SERVICE has N running tasks that are healthy, and no other task running.
wait_replicas() { # SERVICE N [SECONDS]
    local want=$2 deadline=$(($(now) + ${3:-180})) healthy running
    while :; do
        running=$(task_containers "$1" | wc -l)
        healthy=$(task_containers "$1" healthy | wc -l)
        [ "$running" -eq "$want" ] && [ "$healthy" -eq "$want" ] && return 0
        if [ "$(now)" -ge "$deadline" ]; then
            log "$(service "$1"): $healthy healthy of $running running, wanted $want"
            docker service ps --no-trunc "$(service "$1")" >&2 || true
            return 1
        fi
        sleep 2
    done
}
