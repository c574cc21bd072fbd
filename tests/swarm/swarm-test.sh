#!/usr/bin/env bash
# `make swarm-test`: prove deploy/swarm/stack.yml on this machine, one node.
#
#  1. the packages, dockerd and the stand-in base images of `make compose-test`;
#  2. the stack's images (tag swarm-1), a swarm on loopback (advertise 127.0.0.1),
#     the two secrets, `docker stack deploy`; waits for the migration job and
#     every service's healthy replicas;
#  3. the first admin (admin command in an auth task), then the integration
#     suite from the tests image on the stack's frontend network, through nginx;
#  4. tests/scaling from the host, through the published port, with
#     tests/swarm/stack-control.sh as STACK_CONTROL: under steady load on both
#     services, scaling 2 -> 3 -> 1 -> 2, a rolling update to a new image
#     (swarm-2), an update to a broken image that Swarm must roll back by
#     itself, and a killed task Swarm must replace; no request may fail;
#  5. removes the stack, leaves the swarm, removes what it made, and checks
#     that no container, network, volume or iptables rule is left.
# Environment: SWARM_TEST_KEEP=1 leaves the stack and swarm for a look.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
compose_dir=$repo/tests/compose
# shellcheck source=tests/compose/lib.sh
. "$compose_dir/lib.sh"

# shellcheck source=tests/swarm/swarm-lib.sh
. "$here/swarm-lib.sh"
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

wait_http() { # PATH SECONDS
    local deadline=$(($(now) + $2))
    until [ "$(http GET "$1")" = 200 ]; do
        [ "$(now)" -lt "$deadline" ] || { log "$1 not 200 in time: $(head -c 200 "$workdir/last.body")"; return 1; }
        sleep 1
    done
}

# What is left behind, for the before/after comparison.
# Docker's own jump to DOCKER-USER is left out: a running dockerd puts it
# back at the top of FORWARD whenever it sets up a network (a second copy
# after a long-lived engine's other work), and it is no rule of the stack.
iptables_rules() {
    { iptables-save 2>/dev/null; ip6tables-save 2>/dev/null; } | grep -v '^#' | grep -vx -- '-A FORWARD -j DOCKER-USER' |
        sed 's/\[[0-9]*:[0-9]*\]//' | sort
}
leftovers() {
    docker ps -aq --filter "label=com.docker.stack.namespace=$STACK" | sed 's/^/container /'
    docker network ls --format '{{ .Name }}' | grep -E "^(${STACK}_|ingress$|docker_gwbridge$)" | sed 's/^/network /' || true
    docker volume ls -q | grep "^${STACK}_" | sed 's/^/volume /' || true
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

task_container() { task_containers "$1" | head -n 1; }

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
        --ignore=tests/browser --ignore=tests/observability --ignore=tests/scaling -p no:cacheprovider -q
}

# Scaling and rollouts need the Swarm engine: from the host, through the
# published port, with this stack's STACK_CONTROL.
run_scaling() {
    [ -x "$repo/.venv/bin/python" ] || { log "no .venv: run \`make venv\` first"; return 1; }
    (
        cd "$repo"
        export BASE_URL ADMIN_USERNAME ADMIN_PASSWORD SWARM_TEST_STACK=$STACK SWARM_NEXT_TAG=$TAG2 \
            STACK_CONTROL="bash $here/stack-control.sh" STACK_SCALES=1 STACK_ROLLS=1 AUTHSTACK_STACK_RUN=1
        BASE_URL=$(base_url)
        .venv/bin/python -m pytest tests/scaling -p no:cacheprovider -q
    )
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
step "scaling and rollouts under load (host)" run_scaling || true
log "total before teardown: $(($(now) - start_all)) s"
