#!/usr/bin/env bash
# STACK_CONTROL for the Swarm stack: what tests/scaling drives, mapped onto
# `docker service` (compose's is tests/compose/stack-control.sh, the local
# stack's `python -m runner`). swarm-test.sh sets SWARM_TEST_STACK and builds
# the images `update` names.
#
#   scale S N               run N tasks of S; return once every one is healthy
#   tasks S                 the ids of S's running, healthy tasks, one a line
#   replica-hits S SINCE    requests nginx sent to each task of S since SINCE
#                           (epoch seconds): one "container-id count" line each
#   update S next|broken    start a rolling update of S to the next image (the
#                           same code, a new layer) or to one that exits at once
#   update-state S          Swarm's state of S's last update (completed, ...)
#   image S                 the image S is declared with
#   task-images S           the image of each running task of S, one a line
#   signal KILL S           SIGKILL one task of S (Swarm must replace it); prints its id
#   signal CONT|start ...   nothing to do in Swarm (the fault fixtures' clean-up)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/compose/lib.sh
. "$here/../compose/lib.sh"
# shellcheck source=tests/swarm/swarm-lib.sh
. "$here/swarm-lib.sh"

NEXT_TAG=${SWARM_NEXT_TAG:-swarm-2}
BROKEN_TAG=${SWARM_BROKEN_TAG:-swarm-broken}

# From the upstream_addr field of nginx's JSON access log, matched against
# each task's address on the frontend network.
replica_hits() { # service since
    local upstreams c ip network
    network=$(service frontend)
    upstreams=$(task_containers nginx | xargs -r -n1 docker logs --since "$2" 2>/dev/null |
        grep -o '"upstream_addr":"[0-9.:, ]*' || true)
    for c in $(task_containers "$1"); do
        ip=$(docker inspect -f "{{ (index .NetworkSettings.Networks \"$network\").IPAddress }}" "$c")
        echo "$c $(grep -c "$ip:8000" <<<"$upstreams" || true)"
    done
}

command=${1:-}
shift || true
case "$command" in
    scale)
        docker service scale -d "$(service "$1")=$2" >/dev/null
        wait_replicas "$1" "$2" 240
        ;;
    tasks)
        task_containers "$1" healthy
        ;;
    replica-hits)
        replica_hits "$1" "$2"
        ;;
    update)
        case "$2" in
            next) image="authstack/$1:$NEXT_TAG" ;;
            broken) image="authstack/$1:$BROKEN_TAG" ;;
            *) echo "update S next|broken" >&2; exit 2 ;;
        esac
        # Detached: the test watches the update state; Swarm's CLI would
        # otherwise wait, and report a rollback as its own failure.
        docker service update -d -q --no-resolve-image --image "$image" "$(service "$1")" >/dev/null
        ;;
    update-state)
        docker service inspect -f '{{ if .UpdateStatus }}{{ .UpdateStatus.State }}{{ end }}' "$(service "$1")"
        ;;
    image)
        docker service inspect -f '{{ .Spec.TaskTemplate.ContainerSpec.Image }}' "$(service "$1")"
        ;;
    task-images)
        task_containers "$1" | xargs -r docker inspect -f '{{ .Config.Image }}'
        ;;
    signal)
        case "$1" in
            KILL)
                victim=$(task_containers "$2" | head -n 1)
                docker kill "$victim" >/dev/null
                echo "$victim"
                ;;
            CONT) ;;
            *) echo "signal KILL S only" >&2; exit 2 ;;
        esac
        ;;
    start) ;;
    *)
        echo "usage: $0 scale S N | tasks S | replica-hits S SINCE | update S next|broken | update-state S | image S | task-images S | signal KILL S" >&2
        exit 2
        ;;
esac
