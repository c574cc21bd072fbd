#!/usr/bin/env bash
# `make compose-test`: prove `docker compose up` on this machine, end to end.
#
#  1. install docker.io, docker-compose and debootstrap if missing (root);
#  2. start dockerd if no engine answers (and stop it at the end if we did);
#  3. build local stand-ins for the official base images (no registry here);
#  4. build the stack's images and start it with docker-compose, wait for
#     every healthcheck;
#  5. run the integration suite (tests/) in the `tests` compose service
#     (profile "test"), against nginx by service name;
#     then tests/faults and tests/privilege from the host, with
#     tests/compose/stack-control.sh as STACK_CONTROL (they stop, freeze and
#     kill containers, and probe what each part may do), and tests/browser
#     (the host's chromium on the page the nginx image serves);
#     outages (redis, postgres stopped or frozen) are tests/faults, and
#     scaling api_service 1 -> 3 -> 1 under load is tests/scaling (nginx must
#     reach every new replica by itself, and no request may fail);
#  6. the "observability" profile: prometheus and nginx's exporter come up, every
#     target is scraped (both services, the exporter), and a login shows in
#     PromQL; /metrics through nginx is 404;
#  7. tear everything down, volumes included.
#
# Uses docker-compose (1.29, Debian's) or `docker compose` (v2) if present.
# Environment: COMPOSE_TEST_KEEP=1 leaves the stack running for a look.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=tests/compose/lib.sh
. "$here/lib.sh"

PROJECT=${COMPOSE_TEST_PROJECT:-authstack-e2e}
TIMINGS_FILE=$(mktemp)
export TIMINGS_FILE
workdir=$(mktemp -d)
started_dockerd=0
compose_up=0

# ---- 1. packages ----
ensure_packages() {
    local missing=()
    command -v dockerd >/dev/null || missing+=(docker.io)
    command -v docker-compose >/dev/null || docker compose version >/dev/null 2>&1 || missing+=(docker-compose)
    command -v debootstrap >/dev/null || missing+=(debootstrap)
    command -v curl >/dev/null || missing+=(curl)
    [ ${#missing[@]} -eq 0 ] && return 0
    [ "$(id -u)" -eq 0 ] || die "missing ${missing[*]}: run as root, or install them"
    log "installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

# With the single sign-on overlay: the provider runs, and tests/oidc with it.
COMPOSE_PROJECT=$PROJECT COMPOSE_ENV_FILE=$workdir/compose.env COMPOSE_FILE_PATH=$repo/docker-compose.yml:$repo/docker-compose.oidc.yml
# shellcheck source=tests/compose/compose.sh
. "$here/compose.sh"

# Containers of the project: "name state health" per line.
container_states() {
    docker ps -a --filter "label=com.docker.compose.project=$PROJECT" -q |
        xargs -r docker inspect -f \
            '{{ index .Config.Labels "com.docker.compose.service" }} {{ .Name }} {{ .State.Status }} {{ if .State.Health }}{{ .State.Health.Status }}{{ else }}-{{ end }} {{ .State.ExitCode }}'
}

# Wait until every long-running container is healthy and migrate exited 0.
wait_healthy() {
    local deadline=$(($(now) + ${1:-240})) states bad
    while :; do
        states=$(container_states)
        # nginx_exporter (a scratch image upstream) has no healthcheck: running is enough.
        bad=$(awk '$1 == "migrate" { if ($3 != "exited" || $5 != 0) print; next }
                   $1 == "tests" { next }
                   $1 == "nginx_exporter" { if ($3 != "running") print; next }
                   $3 != "running" || $4 != "healthy" { print }' <<<"$states")
        if [ -n "$states" ] && [ -z "$bad" ]; then
            return 0
        fi
        if [ "$(now)" -ge "$deadline" ]; then
            log "not healthy in time:"
            printf '%s\n' "$bad" >&2
            return 1
        fi
        sleep 2
    done
}

base_url() { echo "http://127.0.0.1:$HTTP_PORT"; }

# curl wrapper: prints "STATUS" and stores headers/body in $workdir/last.*
http() { # METHOD PATH [JSON] [TOKEN]
    local args=(-sS -o "$workdir/last.body" -D "$workdir/last.headers" -w '%{http_code}' --max-time 10 -X "$1")
    [ -n "${3:-}" ] && args+=(-H 'Content-Type: application/json' --data "$3")
    [ -n "${4:-}" ] && args+=(-H "Authorization: Bearer $4")
    curl "${args[@]}" "$(base_url)$2" || echo 000
}

json_field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$workdir/last.body" "$1"; }

# ---- 6. observability ----
promql() { # EXPR: the first value of an instant query, or empty
    curl -sS --max-time 5 "http://127.0.0.1:$PROMETHEUS_PORT/api/v1/query" --data-urlencode "query=$1" |
        python3 -c 'import json, sys; r = json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "")'
}

observability_check() {
    local status before after deadline
    # --no-deps: the services run already (a dependency "up" could change them).
    compose --profile observability up -d --no-deps prometheus nginx_exporter >/dev/null 2>&1
    wait_healthy 120 || return 1
    status=$(http GET /metrics)
    [ "$status" = 404 ] || { log "/metrics through nginx answered $status"; return 1; }
    deadline=$(($(now) + 60))
    # Every api_service replica, auth_service and the exporter, all up.
    local want
    want=$(($(docker ps -q --filter "label=com.docker.compose.project=$PROJECT" \
        --filter "label=com.docker.compose.service=api_service" | wc -l) + 2))
    until [ "$(promql 'count(up == 1)')" = "$want" ] && [ "$(promql 'min(nginx_up)')" = 1 ]; do
        [ "$(now)" -lt "$deadline" ] || {
            log "not every target is up: $(promql 'count(up == 1)') of $want"
            return 1
        }
        sleep 2
    done
    status=$(http POST /auth/signup '{"username":"e2e-obs","email":"e2e-obs@example.com","password":"pw-obs-12345678"}')
    [ "$status" = 201 ] || { log "signup answered $status"; return 1; }
    before=$(promql 'sum(authstack_login_attempts_total{result="success"}) or vector(0)')
    status=$(http POST /auth/login '{"username":"e2e-obs","password":"pw-obs-12345678"}')
    [ "$status" = 200 ] || { log "login answered $status"; return 1; }
    deadline=$(($(now) + 60))
    while :; do
        after=$(promql 'sum(authstack_login_attempts_total{result="success"}) or vector(0)')
        [ "$after" != "$before" ] && break
        [ "$(now)" -lt "$deadline" ] || { log "prometheus never saw the login ($before -> $after)"; return 1; }
        sleep 2
    done
    log "prometheus scrapes all $want targets; logins counted $before -> $after"
}

dump_state() {
    log "container states:"
    container_states >&2 || true
    compose logs --tail=40 >&2 2>/dev/null || true
}

teardown() {
    local rc=$?
    set +e
    if [ "$compose_up" = 1 ]; then
        if [ "${COMPOSE_TEST_KEEP:-}" = 1 ]; then
            log "COMPOSE_TEST_KEEP=1: leaving project $PROJECT running (env: $workdir/compose.env)"
        else
            timed "teardown (down -v)" compose --profile test --profile observability down -v --remove-orphans >/dev/null 2>&1
        fi
    fi
    if [ "$started_dockerd" = 1 ] && [ "${COMPOSE_TEST_KEEP:-}" != 1 ]; then
        "$here/dockerd-stop.sh"
    fi
    [ "${COMPOSE_TEST_KEEP:-}" = 1 ] || rm -rf "$workdir"
    report_and_exit compose-test "$rc"
}
trap teardown EXIT

start_all=$(now)
timed "install packages" ensure_packages
pidfile=${COMPOSE_TEST_RUN_DIR:-/run/compose-test}/dockerd.pid
if ! docker_answers; then
    timed "start dockerd" "$here/dockerd-start.sh"
    [ -f "$pidfile" ] && started_dockerd=1
fi
timed "stand-in base images" "$repo/ci/offline-images/build.sh"

# Gateway mode with a role prefix, as the local test run has it (tests/test_gateway.py).
GATEWAY_ROLE=app-user
HTTP_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
PROMETHEUS_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
umask 077
# The provider's ID-token keys, as `make env` writes them, readable by the image's user only.
mkdir -p "$workdir/keys"
(cd "$repo" && .venv/bin/python -c 'import sys; from pathlib import Path; from runner.oidc_keys import write_compose_keys; write_compose_keys(Path(sys.argv[1]))' "$workdir/keys/oidc-signing.jwks.json")
chown 10001:10001 "$workdir/keys/oidc-signing.jwks.json" && chmod 0400 "$workdir/keys/oidc-signing.jwks.json"
cat >"$workdir/compose.env" <<EOF
JWT_SECRET=$(python3 -c 'import secrets; print(secrets.token_urlsafe(48))')
POSTGRES_PASSWORD=$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')
POSTGRES_MIGRATION_PASSWORD=$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')
REDIS_AUTH_PASSWORD=$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')
REDIS_API_PASSWORD=$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')
MFA_KEY=$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')
HTTP_PORT=$HTTP_PORT
PROMETHEUS_PORT=$PROMETHEUS_PORT
BCRYPT_ROUNDS=4
AUTH_RATE_LIMIT=200r/s
LOGIN_MAX_FAILURES=5
NOTIFY_NEW_DEVICE=1
PUBLIC_URL=http://localhost:$HTTP_PORT
OIDC_SIGNING_KEYS_FILE=$workdir/keys/oidc-signing.jwks.json
IMAGE_TAG=e2e
APP_ROLE=$GATEWAY_ROLE
EOF
umask 022
# Locally added CA certificates (Debian's place for them) reach pip in the
# build stages through the images' EXTRA_CA_CERTS build argument.
if ls /usr/local/share/ca-certificates/*.crt >/dev/null 2>&1; then
    EXTRA_CA_CERTS=$(cat /usr/local/share/ca-certificates/*.crt)
    export EXTRA_CA_CERTS
fi

# A left-over project from an interrupted run would hold the names and volumes.
compose --profile test --profile observability down -v --remove-orphans >/dev/null 2>&1 || true
timed "compose build" compose --profile test build
# The observability services use images only (stand-ins here): nothing to build.
compose_up=1
up_and_wait() { compose up -d && wait_healthy 240; }
step "compose up + healthy" up_and_wait || exit 1
# The first admin, made the way users make theirs: the admin command in the
# auth container, password on standard input. The suite logs in as it.
make_admin() {
    ADMIN_USERNAME="admin-$(od -An -N4 -tx4 /dev/urandom | tr -d ' \n')"
    ADMIN_PASSWORD="pw-$(od -An -N12 -tx4 /dev/urandom | tr -d ' \n')"
    printf '%s\n' "$ADMIN_PASSWORD" |
        compose exec -T auth_service python -m auth_app.admin "$ADMIN_USERNAME" "$ADMIN_USERNAME@example.com"
}
run_suite() {
    (
        export ADMIN_USERNAME ADMIN_PASSWORD  # the tests service passes them through
        compose --profile test run --rm tests
    )
}
# tests/faults need to stop, freeze and kill containers, and tests/browser the
# host's chromium: both run from the host, through the published port, with
# the compose STACK_CONTROL.
host_pytest() { # test paths
    [ -x "$repo/.venv/bin/python" ] || { log "no .venv: run \`make venv\` first"; return 1; }
    (
        cd "$repo"
        export BASE_URL JWT_ALG COMPOSE_TEST_PROJECT=$PROJECT COMPOSE_TEST_ENV_FILE=$workdir/compose.env COMPOSE_TEST_FILES=$COMPOSE_FILE_PATH \
            STACK_CONTROL="bash $here/stack-control.sh" STACK_SCALES=1 ADMIN_USERNAME ADMIN_PASSWORD LOGIN_MAX_FAILURES=5 AUTHSTACK_STACK_RUN=1 APP_ROLE=$GATEWAY_ROLE \
            PUBLIC_URL=http://localhost:$HTTP_PORT
        BASE_URL=$(base_url)
        .venv/bin/python -m pytest "$@" -p no:cacheprovider
    )
}
run_faults() { host_pytest tests/faults tests/privilege tests/scaling; }
# Last: the two services again with docker-compose.eddsa.yml on top (JWT_ALG
# EdDSA, api_service given the public keys only), and the tests that say
# what that changes: the published set, what api_service holds, the flows.
eddsa_check() {
    local keys=$workdir/keys
    (cd "$repo" && .venv/bin/python -m authcore.keys generate EdDSA >"$keys/jwt-private.jwks.json" &&
        .venv/bin/python -m authcore.keys public "$keys/jwt-private.jwks.json" >"$keys/jwt-public.jwks.json") || return 1
    chown 10001:10001 "$keys/jwt-private.jwks.json" && chmod 0400 "$keys/jwt-private.jwks.json"
    chmod 0444 "$keys/jwt-public.jwks.json"
    printf 'JWT_PRIVATE_KEYS_FILE=%s\nJWT_PUBLIC_KEYS_FILE=%s\n' "$keys/jwt-private.jwks.json" "$keys/jwt-public.jwks.json" \
        >>"$workdir/compose.env"
    COMPOSE_FILE_PATH=$COMPOSE_FILE_PATH:$repo/docker-compose.eddsa.yml
    compose up -d --no-deps auth_service api_service >/dev/null 2>&1 && wait_healthy 180 || return 1
    JWT_ALG=EdDSA host_pytest tests/test_jwks.py tests/privilege/test_signing_keys.py tests/test_login_logout.py \
        tests/test_refresh.py tests/test_gateway.py tests/test_api.py -q
}
# The relying parties drive the provider's login page in Chromium: from the host too.
run_browser() { host_pytest tests/browser tests/oidc/test_authlib_client.py tests/oidc/test_openid_client.py; }
step "admin command" make_admin || true
step "integration tests" run_suite || true
step "fault, privilege, scaling tests (host)" run_faults || true
step "browser tests (host)" run_browser || true
step "observability profile" observability_check || true
step "EdDSA: auth_service and api_service with a key pair (host)" eddsa_check || true
log "total so far: $(($(now) - start_all))s"
