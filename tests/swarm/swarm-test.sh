#!/usr/bin/env bash
# `make swarm-test`: prove deploy/swarm/stack.yml on this machine, one node.
#
#  1. the packages, dockerd and the stand-in base images of `make compose-test`;
#  2. the stack's images (tag swarm-1), a swarm on loopback (advertise 127.0.0.1),
#     the two secrets, `docker stack deploy`; waits for the migration job and
#     every service's healthy replicas;
#  3. the first admin (admin command in an auth task), then the integration
#     suite from the tests image on the stack's frontend network, through nginx;
#  4. under steady load on both services (tests/compose/load.py, one client
#     set per service): scale both 2 -> 3 (nginx must reach every new replica
#     within 20 s) -> 1 -> 2;
#  5. a rolling update of both services to a new image (swarm-2);
#  6. an update of api_service to a broken image: Swarm must roll it back by
#     itself, and the service keeps answering;
#  7. a killed api_service task: Swarm must replace it;
#     no request of the load may fail in 4-7;
#  8. removes the stack, leaves the swarm, removes what it made, and checks
#     that no container, network, volume or iptables rule is left.
# Environment: SWARM_TEST_KEEP=1 leaves the stack and swarm for a look.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
compose_dir=$repo/tests/compose
# shellcheck source=tests/compose/lib.sh
. "$compose_dir/lib.sh"

STACK=${SWARM_TEST_STACK:-authstack-swarmtest}
TAG=swarm-1
TAG2=swarm-2
GATEWAY_ROLE=app-user
TIMINGS_FILE=$(mktemp)
export TIMINGS_FILE
workdir=$(mktemp -d)
started_dockerd=0
swarm_ours=0
gwbridge_before=0

# ---- helpers ----
service() { echo "${STACK}_$1"; }

# "running/desired" of a replicated service, from its tasks.
replicas() { docker service ls --filter "name=$(service "$1")" --format '{{ .Replicas }}' | head -n 1; }

# Wait until SERVICE has N running tasks that are healthy, and no other task running.
wait_replicas() { # SERVICE N [SECONDS]
    local name want=$2 deadline=$(($(now) + ${3:-180})) healthy running
    name=$(service "$1")
    while :; do
        running=$(docker ps --filter "label=com.docker.swarm.service.name=$name" -q | wc -l)
        healthy=$(docker ps --filter "label=com.docker.swarm.service.name=$name" --filter health=healthy -q | wc -l)
        [ "$running" -eq "$want" ] && [ "$healthy" -eq "$want" ] && return 0
        if [ "$(now)" -ge "$deadline" ]; then
            log "$name: $healthy healthy of $running running, wanted $want"
            docker service ps --no-trunc "$name" >&2 || true
            return 1
        fi
        sleep 2
    done
}

wait_job_done() { # SERVICE [SECONDS]
    local name deadline=$(($(now) + ${2:-180}))
    name=$(service "$1")
    while :; do
        docker service ps --format '{{ .CurrentState }}' "$name" 2>/dev/null | grep -q '^Complete' && return 0
        if [ "$(now)" -ge "$deadline" ]; then
            log "$name did not complete"
            docker service ps --no-trunc "$name" >&2 || true
            docker service logs --tail 20 "$name" >&2 || true
            return 1
        fi
        sleep 2
    done
}

base_url() { echo "http://127.0.0.1:$HTTP_PORT"; }

http() { # METHOD PATH [JSON] [TOKEN]: prints the status, keeps the body
    local args=(-sS -o "$workdir/last.body" -w '%{http_code}' --max-time 10 -X "$1")
    [ -n "${3:-}" ] && args+=(-H 'Content-Type: application/json' --data "$3")
    [ -n "${4:-}" ] && args+=(-H "Authorization: Bearer $4")
    curl "${args[@]}" "$(base_url)$2" || echo 000
}

json_field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$workdir/last.body" "$1"; }

wait_http() { # PATH SECONDS
    local deadline=$(($(now) + $2))
    until [ "$(http GET "$1")" = 200 ]; do
        [ "$(now)" -lt "$deadline" ] || { log "$1 not 200 in time: $(head -c 200 "$workdir/last.body")"; return 1; }
        sleep 1
    done
}

# What is left behind, for the before/after comparison.
iptables_rules() {
    { iptables-save 2>/dev/null; ip6tables-save 2>/dev/null; } | grep -v '^#' | sed 's/\[[0-9]*:[0-9]*\]//' | sort
}
leftovers() {
    docker ps -aq --filter "label=com.docker.stack.namespace=$STACK" | sed 's/^/container /'
    docker network ls --format '{{ .Name }}' | grep -E "^(${STACK}_|ingress$|docker_gwbridge$)" | sed 's/^/network /' || true
    docker volume ls -q | grep "^${STACK}_" | sed 's/^/volume /' || true
}

# ---- load ----
LOADS=()
start_load() { # NAME PATH TOKEN
    rm -f "$workdir/stop-$1"
    python3 "$compose_dir/load.py" --url "$(base_url)$2" --token "$3" --clients 3 \
        --stop-file "$workdir/stop-$1" --max-seconds 600 >"$workdir/load-$1.json" &
    LOADS+=("$1:$!")
}
stop_loads() { # LABEL: stop every load; fail if any request failed
    local entry rc=0
    for entry in "${LOADS[@]}"; do touch "$workdir/stop-${entry%%:*}"; done
    for entry in "${LOADS[@]}"; do
        wait "${entry##*:}" || rc=1
        log "$1, load on ${entry%%:*}: $(cat "$workdir/load-${entry%%:*}.json")"
    done
    LOADS=()
    return "$rc"
}

# Requests nginx sent to each task of SERVICE since SINCE (unix time), from
# the up=<address> field of its access log: "task-container count" lines.
replica_hits() { # SERVICE SINCE
    local name c ip network
    name=$(service "$1")
    network=$(service frontend)
    docker ps --filter "label=com.docker.swarm.service.name=$(service nginx)" -q |
        xargs -r -n1 docker logs --since "$2" 2>/dev/null | grep -o '"upstream_addr":"[0-9.:, ]*' >"$workdir/upstreams" || true
    for c in $(docker ps --filter "label=com.docker.swarm.service.name=$name" -q); do
        ip=$(docker inspect -f "{{ (index .NetworkSettings.Networks \"$network\").IPAddress }}" "$c")
        echo "$c $(grep -c "$ip:8000" "$workdir/upstreams" || true)"
    done
}

wait_spread() { # SERVICE N: every one of N tasks gets requests within 20 s
    local since deadline hits
    since=$(now)
    deadline=$((since + 20))
    while :; do
        sleep 2
        hits=$(replica_hits "$1" "$since")
        if [ "$(wc -l <<<"$hits")" -eq "$2" ] && ! awk '{ print $2 }' <<<"$hits" | grep -qx 0; then
            log "$1: nginx reaches all $2 tasks $(($(now) - since)) s after they were healthy: $(tr '\n' ' ' <<<"$hits")"
            return 0
        fi
        [ "$(now)" -lt "$deadline" ] || { log "$1: nginx did not reach every task in 20 s: $(tr '\n' ' ' <<<"$hits")"; return 1; }
    done
}

# ---- steps ----
ensure_packages() {
    local missing=()
    command -v dockerd >/dev/null || missing+=(docker.io)
    command -v debootstrap >/dev/null || missing+=(debootstrap)
    command -v curl >/dev/null || missing+=(curl)
    command -v iptables-save >/dev/null || missing+=(iptables)
    [ ${#missing[@]} -eq 0 ] && return 0
    [ "$(id -u)" -eq 0 ] || die "missing ${missing[*]}: run as root, or install them"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

build_images() {
    local extra=()
    if ls /usr/local/share/ca-certificates/*.crt >/dev/null 2>&1; then
        extra=(--build-arg "EXTRA_CA_CERTS=$(cat /usr/local/share/ca-certificates/*.crt)")
    fi
    docker build -q "${extra[@]}" --build-arg SERVICE=auth_service --build-arg HEALTH_PATH=/auth/healthz \
        -t "authstack/auth_service:$TAG" "$repo" >/dev/null &&
        docker build -q "${extra[@]}" --build-arg SERVICE=api_service --build-arg HEALTH_PATH=/api/healthz \
            -t "authstack/api_service:$TAG" "$repo" >/dev/null &&
        docker build -q -f "$repo/nginx/Dockerfile" -t "authstack/nginx:$TAG" "$repo" >/dev/null &&
        docker build -q -t "authstack/postgres:$TAG" "$repo/stores/postgres" >/dev/null &&
        docker build -q -t "authstack/redis:$TAG" "$repo/stores/redis" >/dev/null &&
        docker build -q -t "authstack/whoami:$TAG" "$repo/whoami" >/dev/null &&
        docker build -q "${extra[@]}" -t "authstack/mailsink:$TAG" "$repo/mailsink" >/dev/null &&
        docker build -q "${extra[@]}" -f "$repo/tests/compose/tests.Dockerfile" -t "authstack/tests:$TAG" "$repo" >/dev/null
}

# A new image of each service (same code, a new layer), and a broken one.
build_update_images() {
    local s
    for s in auth_service api_service; do
        printf 'FROM authstack/%s:%s\nLABEL io.authstack.swarm-test=%s\n' "$s" "$TAG" "$TAG2" |
            docker build -q -t "authstack/$s:$TAG2" - >/dev/null || return 1
    done
    printf 'FROM authstack/api_service:%s\nCMD ["python", "-c", "raise SystemExit(3)"]\n' "$TAG" |
        docker build -q -t "authstack/api_service:swarm-broken" - >/dev/null
}

swarm_up() {
    [ "$(docker info -f '{{ .Swarm.LocalNodeState }}')" = inactive ] ||
        { log "this engine is already in a swarm: not touching it"; return 1; }
    docker network inspect docker_gwbridge >/dev/null 2>&1 && gwbridge_before=1
    docker swarm init --advertise-addr 127.0.0.1 --listen-addr 127.0.0.1:2377 >/dev/null
    swarm_ours=1
    python3 -c 'import secrets; print(secrets.token_urlsafe(48), end="")' | docker secret create authstack_jwt_secret - >/dev/null
    python3 -c 'import secrets; print(secrets.token_urlsafe(32), end="")' | docker secret create authstack_mfa_key - >/dev/null
    local name
    for name in postgres_password postgres_migration_password redis_auth_password redis_api_password; do
        python3 -c 'import secrets; print(secrets.token_urlsafe(24), end="")' | docker secret create "authstack_$name" - >/dev/null
    done
}

deploy() {
    # The suite's settings, as make test and make compose-test set them: a
    # gateway role prefix and the new-device notice on.
    IMAGE_TAG=$TAG HTTP_PORT=$HTTP_PORT BCRYPT_ROUNDS=4 AUTH_RATE_LIMIT=200r/s LOGIN_MAX_FAILURES=5 \
        APP_ROLE=$GATEWAY_ROLE NOTIFY_NEW_DEVICE=1 \
        docker stack deploy --resolve-image never -c "$repo/deploy/swarm/stack.yml" "$STACK" >/dev/null
}

wait_stack() {
    wait_job_done migrate 240 &&
        wait_replicas postgres 1 240 && wait_replicas redis 1 240 &&
        wait_replicas auth_service 2 240 && wait_replicas api_service 2 240 &&
        wait_replicas whoami 1 120 && wait_replicas mailsink 1 120 && wait_replicas nginx 1 120 &&
        wait_http /auth/healthz 60 && wait_http /api/healthz 60
}

task_container() { docker ps --filter "label=com.docker.swarm.service.name=$(service "$1")" -q | head -n 1; }

make_admin() {
    ADMIN_USERNAME="admin-$(od -An -N4 -tx4 /dev/urandom | tr -d ' \n')"
    ADMIN_PASSWORD="pw-$(od -An -N12 -tx4 /dev/urandom | tr -d ' \n')"
    printf '%s\n' "$ADMIN_PASSWORD" |
        docker exec -i "$(task_container auth_service)" python -m auth_app.admin "$ADMIN_USERNAME" "$ADMIN_USERNAME@example.com"
}

run_suite() {
    # As in compose: faults, privilege and browser tests need the host, and
    # tests/observability starts its own Prometheus. The mail the stack sent
    # is read from the sink's volume (one node: a local volume).
    docker run --rm --network "$(service frontend)" -e BASE_URL=http://nginx:8080 \
        -e ADMIN_USERNAME="$ADMIN_USERNAME" -e ADMIN_PASSWORD="$ADMIN_PASSWORD" -e LOGIN_MAX_FAILURES=5 \
        -e AUTHSTACK_STACK_RUN=1 -e PUBLIC_URL=http://localhost:8080 -e MAIL_SINK_DIR=/mailsink \
        -e APP_ROLE="$GATEWAY_ROLE" -e NOTIFY_NEW_DEVICE=1 \
        -v "$(service mailsink-data)":/mailsink:ro \
        "authstack/tests:$TAG" python -m pytest tests --ignore=tests/faults --ignore=tests/privilege \
        --ignore=tests/browser --ignore=tests/observability -p no:cacheprovider -q
}

get_token() {
    local status
    status=$(http POST /auth/signup '{"username":"swarm-load","email":"swarm-load@example.com","password":"pw-swarm-load-123"}')
    [ "$status" = 201 ] || [ "$status" = 409 ] || { log "signup answered $status"; return 1; }
    status=$(http POST /auth/login '{"username":"swarm-load","password":"pw-swarm-load-123"}')
    [ "$status" = 200 ] || { log "login answered $status"; return 1; }
    TOKEN=$(json_field access_token)
}

with_load() { # LABEL CMD...: run CMD under load on both services; no request may fail
    local label=$1 rc=0
    shift
    start_load api /api/v1/me "$TOKEN"
    start_load auth /auth/sessions "$TOKEN"
    sleep 2
    "$@" || rc=1
    sleep 3  # past nginx's DNS validity (2 s) on the final set of tasks
    stop_loads "$label" || { log "$label: requests failed"; rc=1; }
    return "$rc"
}

scale_both() {
    docker service scale -d "$(service auth_service)=3" "$(service api_service)=3" >/dev/null &&
        wait_replicas auth_service 3 && wait_replicas api_service 3 &&
        wait_spread api_service 3 && wait_spread auth_service 3 &&
        docker service scale -d "$(service auth_service)=1" "$(service api_service)=1" >/dev/null &&
        wait_replicas auth_service 1 && wait_replicas api_service 1 && sleep 3 &&
        docker service scale -d "$(service auth_service)=2" "$(service api_service)=2" >/dev/null &&
        wait_replicas auth_service 2 && wait_replicas api_service 2 && wait_spread api_service 2
}

spec_image() { docker service inspect -f '{{ .Spec.TaskTemplate.ContainerSpec.Image }}' "$(service "$1")"; }
update_state() { docker service inspect -f '{{ if .UpdateStatus }}{{ .UpdateStatus.State }}{{ end }}' "$(service "$1")"; }
wait_update_state() { # SERVICE STATE: within 180 s
    local state deadline=$(($(now) + 180))
    until state=$(update_state "$1") && [ "$state" = "$2" ]; do
        [ "$(now)" -lt "$deadline" ] || { log "$1 update state: $state (wanted $2)"; return 1; }
        sleep 2
    done
}

rolling_update() {
    local s
    for s in auth_service api_service; do
        docker service update -q --no-resolve-image --image "authstack/$s:$TAG2" "$(service "$s")" >/dev/null || return 1
        # The CLI returns once the tasks run; the update completes after `monitor`.
        wait_update_state "$s" completed || return 1
        [ "$(spec_image "$s")" = "authstack/$s:$TAG2" ] || return 1
        wait_replicas "$s" 2 || return 1
        docker ps --filter "label=com.docker.swarm.service.name=$(service "$s")" --format '{{ .Image }}' |
            grep -vqx "authstack/$s:$TAG2" && { log "$s: a task still runs the old image"; return 1; }
    done
    log "both services run $TAG2"
}

broken_update() {
    # Whatever the CLI reports, the service's own update state tells.
    docker service update -q --no-resolve-image --image authstack/api_service:swarm-broken "$(service api_service)" >/dev/null 2>&1 || true
    wait_update_state api_service rollback_completed || return 1
    [ "$(spec_image api_service)" = "authstack/api_service:$TAG2" ] ||
        { log "api_service image after rollback: $(spec_image api_service)"; return 1; }
    wait_replicas api_service 2 && log "the broken update was rolled back to $TAG2 by Swarm"
}

kill_replica() {
    local victim started
    victim=$(task_container api_service)
    started=$(now)
    docker kill "$victim" >/dev/null
    # A new task (a container other than the victim) healthy, 2 in all.
    local deadline=$((started + 90))
    while :; do
        if ! docker ps -q --no-trunc | grep -q "^$victim" &&
            wait_replicas api_service 2 5 2>/dev/null; then
            log "killed task replaced and healthy in $(($(now) - started)) s"
            return 0
        fi
        [ "$(now)" -lt "$deadline" ] || { log "killed task not replaced in 90 s"; return 1; }
        sleep 1
    done
}

teardown_stack() {
    local deadline
    docker stack rm "$STACK" >/dev/null 2>&1 || true
    deadline=$(($(now) + 90))
    # Exited task containers (Swarm's task history, the finished migration)
    # stay behind and hold the networks: remove them as the tasks stop.
    while [ -n "$(docker ps -aq --filter "label=com.docker.stack.namespace=$STACK")" ] ||
        docker network ls --format '{{ .Name }}' | grep -q "^${STACK}_"; do
        docker ps -aq --filter "label=com.docker.stack.namespace=$STACK" --filter status=exited |
            xargs -r docker rm >/dev/null 2>&1 || true
        [ "$(now)" -lt "$deadline" ] || break
        sleep 1
    done
    docker ps -aq --filter "label=com.docker.stack.namespace=$STACK" | xargs -r docker rm -f >/dev/null 2>&1 || true
    if [ "$swarm_ours" = 1 ]; then
        docker swarm leave --force >/dev/null
        swarm_ours=0
    fi
    # Left by Swarm after leaving: the bridge that gave tasks their way out.
    if [ "$gwbridge_before" = 0 ]; then
        docker network rm docker_gwbridge >/dev/null 2>&1 || true
    fi
    docker volume ls -q | grep "^${STACK}_" | xargs -r docker volume rm >/dev/null 2>&1 || true
    docker image rm "authstack/api_service:swarm-broken" >/dev/null 2>&1 || true
}

check_clean() {
    local left
    left=$(leftovers)
    [ -z "$left" ] || { log "left behind: $(tr '\n' ';' <<<"$left")"; return 1; }
    iptables_rules >"$workdir/iptables.after"
    # Rules added since the start and still there are ours. (Rules that went
    # away belong to whatever else used the engine meanwhile.)
    comm -13 "$workdir/iptables.before" "$workdir/iptables.after" >"$workdir/iptables.added"
    if [ -s "$workdir/iptables.added" ]; then
        log "iptables rules left behind:"
        cat "$workdir/iptables.added" >&2
        return 1
    fi
    log "nothing left: no stack container, network, volume; no iptables rule added"
}

dump_state() {
    docker service ls >&2 2>/dev/null || true
    local s
    for s in migrate auth_service api_service nginx; do
        docker service logs --tail 15 "$(service "$s")" >&2 2>/dev/null || true
    done
}

finish() {
    local rc=$?
    set +e
    local entry
    for entry in "${LOADS[@]}"; do touch "$workdir/stop-${entry%%:*}"; done
    wait 2>/dev/null
    if [ "${SWARM_TEST_KEEP:-}" = 1 ]; then
        log "SWARM_TEST_KEEP=1: stack $STACK and the swarm left running (port $HTTP_PORT)"
    else
        timed "remove stack, leave swarm" teardown_stack
        step "nothing left behind" check_clean
        if [ "$started_dockerd" = 1 ]; then "$compose_dir/dockerd-stop.sh"; fi
    fi
    rm -rf "$workdir"
    report_and_exit swarm-test "$rc"
}

# ---- the run ----
trap finish EXIT
trap 'exit 143' TERM
trap 'exit 130' INT
start_all=$(now)
timed "install packages" ensure_packages
if ! docker_answers; then
    timed "start dockerd" "$compose_dir/dockerd-start.sh"
    [ -f "${COMPOSE_TEST_RUN_DIR:-/run/compose-test}/dockerd.pid" ] && started_dockerd=1
fi
timed "stand-in base images" "$repo/ci/offline-images/build.sh"
iptables_rules >"$workdir/iptables.before"
[ -z "$(leftovers)" ] || die "left from an earlier run: $(leftovers | tr '\n' ';') (docker stack rm $STACK; docker swarm leave --force)"
HTTP_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
step "build images" build_images || exit 1
step "swarm init + secrets" swarm_up || exit 1
step "stack deploy" deploy || exit 1
step "migration job + healthy" wait_stack || exit 1
step "admin command" make_admin || true
step "integration tests" run_suite || true
step "build update images" build_update_images || exit 1
step "load token" get_token || exit 1
step "scale 2-3-1-2 under load" with_load "scaling" scale_both || true
step "rolling update under load" with_load "rolling update" rolling_update || true
step "broken update rolled back" with_load "broken update" broken_update || true
step "killed task replaced" with_load "killed task" kill_replica || true
log "total before teardown: $(($(now) - start_all)) s"
