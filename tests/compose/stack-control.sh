#!/usr/bin/env bash
# STACK_CONTROL for the compose stack: what tests/faults/ drives, mapped onto
# docker-compose and the Docker engine (the local stack's equivalent is
# `python -m runner`). e2e.sh sets COMPOSE_TEST_PROJECT and COMPOSE_TEST_ENV_FILE.
#
#   stop S | start S        compose stop/start of a service
#   signal STOP|CONT S      freeze/thaw every process of S (docker pause/unpause)
#   signal KILL S           a crash: SIGKILL to the container's main process from
#                           the host, so the restart policy brings it back
#   signal SIG S            any other signal: docker kill -s SIG
#   kill-worker S           SIGKILL one gunicorn worker of S (the master replaces it)
#   redis-cli ARGS...       redis-cli inside the redis container, as its admin (`default`)
#   mail ARGS...            what the mail sink received (python -m mailsink show ARGS)
#   service-exec S CMD...   run CMD inside service S's container, as it runs
#   client-exec CMD...      run CMD where a client is: the tests container (edge network only)
#   service-address S       where service S listens (host:port on the compose networks)
#   logs S                  the last log lines of S
#   scale S N               run N replicas of S; return once every one is healthy
#   tasks S                 the ids of S's running, healthy replicas, one a line
#   replica-hits S SINCE    requests nginx sent to each replica of S since SINCE
#                           (epoch seconds): one "container-name count" line each
#   superuser-psql SQL      run SQL as the Postgres superuser, over the container's socket
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
project=${COMPOSE_TEST_PROJECT:?COMPOSE_TEST_PROJECT is not set}
env_file=${COMPOSE_TEST_ENV_FILE:?COMPOSE_TEST_ENV_FILE is not set}

# The compose files of the run (e2e.sh exports them; several separated by ":").
COMPOSE_PROJECT=$project COMPOSE_ENV_FILE=$env_file COMPOSE_FILE_PATH=${COMPOSE_TEST_FILES:-$repo/docker-compose.yml}
# shellcheck source=tests/compose/compose.sh
. "$here/compose.sh"

# Container ids of service $1 (every replica).
containers() {
    docker ps -a -q --filter "label=com.docker.compose.project=$project" \
        --filter "label=com.docker.compose.service=$1"
}

wait_running() { # service
    local c
    for _ in $(seq 1 100); do
        c=$(containers "$1" | head -n 1)
        if [ -n "$c" ] && [ "$(docker inspect -f '{{.State.Running}} {{.State.Paused}}' "$c")" = "true false" ]; then
            return 0
        fi
        sleep 0.2
    done
    echo "$1 is not running" >&2
    return 1
}

# Wait until every container of service $1 reports healthy (up to 120 s).
wait_healthy_replicas() { # service
    local c states
    for _ in $(seq 1 240); do
        states=""
        for c in $(docker ps -q --filter "label=com.docker.compose.project=$project" \
            --filter "label=com.docker.compose.service=$1"); do
            states+="$(docker inspect -f '{{ if .State.Health }}{{ .State.Health.Status }}{{ else }}healthy{{ end }}' "$c") "
        done
        if [ -n "$states" ] && ! grep -qv '^healthy$' <<<"$(tr ' ' '\n' <<<"${states% }")"; then
            return 0
        fi
        sleep 0.5
    done
    echo "$1 replicas not healthy: $states" >&2
    return 1
}

# From the upstream_addr field of nginx's JSON access log, matched against
# each replica's address on the frontend network.
replica_hits() { # service since
    local nginx_id upstreams c ip
    nginx_id=$(docker ps -q --filter "label=com.docker.compose.project=$project" \
        --filter "label=com.docker.compose.service=nginx" | head -n 1)
    upstreams=$(docker logs --since "$2" "$nginx_id" 2>/dev/null | grep -o '"upstream_addr":"[0-9.:, ]*' || true)
    for c in $(docker ps -q --filter "label=com.docker.compose.project=$project" \
        --filter "label=com.docker.compose.service=$1"); do
        ip=$(docker inspect -f "{{ (index .NetworkSettings.Networks \"${project}_frontend\").IPAddress }}" "$c")
        echo "$(docker inspect -f '{{ .Name }}' "$c" | tr -d /) $(grep -c "$ip:8000" <<<"$upstreams" || true)"
    done
}

command=${1:-}
shift || true
case "$command" in
    stop)
        compose stop "$1" >/dev/null 2>&1
        ;;
    start)
        compose start "$1" >/dev/null 2>&1
        wait_running "$1"
        ;;
    signal)
        sig=${1#SIG}
        service=$2
        for c in $(containers "$service"); do
            case "$sig" in
                STOP) docker pause "$c" >/dev/null ;;
                CONT)
                    if [ "$(docker inspect -f '{{.State.Paused}}' "$c")" = true ]; then
                        docker unpause "$c" >/dev/null
                    fi
                    ;;
                KILL) kill -KILL "$(docker inspect -f '{{.State.Pid}}' "$c")" ;;
                *) docker kill -s "$sig" "$c" >/dev/null ;;
            esac
        done
        ;;
    kill-worker)
        c=$(containers "$1" | head -n 1)
        # The master is the gunicorn process whose parent is not gunicorn (the
        # init process, or none when gunicorn is PID 1); workers are its
        # children. No ps in the slim image: read /proc.
        docker exec "$c" python -c '
import os, signal
parent, gunicorn = {}, set()
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        stat = open(f"/proc/{pid}/stat").read()
        argv = open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")
    except OSError:
        continue
    parent[int(pid)] = int(stat.rsplit(")", 1)[1].split()[1])
    if any(arg.endswith(b"/gunicorn") or arg == b"gunicorn" for arg in argv[:2]):
        if not argv[0].endswith(b"docker-init"):
            gunicorn.add(int(pid))
masters = [pid for pid in gunicorn if parent[pid] not in gunicorn]
workers = sorted(pid for pid in gunicorn if parent[pid] in masters)
os.kill(workers[0], signal.SIGKILL)
print(workers[0])'
        ;;
    redis-cli)
        # shellcheck disable=SC2016  # expanded inside the container
        compose exec -T redis sh -c 'REDISCLI_AUTH=$(cat /tmp/redis-admin.pw) exec redis-cli --no-auth-warning "$@"' \
            redis-cli "$@"
        ;;
    service-exec)
        service=$1
        shift
        compose exec -T "$service" "$@"
        ;;
    client-exec)
        compose --profile test run --rm --no-deps -T tests "$@"
        ;;
    service-address)
        echo "$1:8000"
        ;;
    logs)
        compose logs --no-color --tail 200 "$1" 2>&1
        ;;
    scale)
        compose up -d --no-deps --scale "$1=$2" "$1" >/dev/null 2>&1
        wait_healthy_replicas "$1"
        ;;
    tasks)
        for c in $(containers "$1"); do
            if [ "$(docker inspect -f '{{ .State.Running }} {{ if .State.Health }}{{ .State.Health.Status }}{{ else }}healthy{{ end }}' "$c")" = "true healthy" ]; then
                echo "$c"
            fi
        done
        ;;
    replica-hits)
        replica_hits "$1" "$2"
        ;;
    superuser-psql)
        # shellcheck disable=SC2016  # expanded inside the container
        compose exec -T postgres sh -c 'exec psql -U postgres -d "$POSTGRES_DB" --no-psqlrc --quiet --tuples-only --no-align -v ON_ERROR_STOP=1 -c "$1"' \
            psql "$1"
        ;;
    mail)
        compose exec -T mailsink python -m mailsink show --dir /var/lib/mailsink "$@"
        ;;
    *)
        echo "usage: $0 stop|start S | signal SIG S | kill-worker S | redis-cli ARGS | mail ARGS | service-exec S CMD | client-exec CMD | service-address S | scale S N | tasks S | replica-hits S SINCE | superuser-psql SQL" >&2
        exit 2
        ;;
esac
