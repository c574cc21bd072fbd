#!/usr/bin/env bash
# Checks nginx/docker-entrypoint.d/18-upstreams.envsh without Docker: sourced
# with a stand-in `nginx -v` of each version, does it pick `resolve` (and the
# upstream blocks) only from 1.27.3 on, and keep what the user set?
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
envsh=$here/../../nginx/docker-entrypoint.d/18-upstreams.envsh
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT

pick() { # VERSION [VAR=VALUE...]: print what the script exports
    local version=$1
    shift
    printf '#!/bin/sh\necho "nginx version: nginx/%s" >&2\n' "$version" >"$bin/nginx"
    chmod 755 "$bin/nginx"
    # shellcheck disable=SC2016  # expanded by the inner sh, after sourcing
    env -i PATH="$bin:/usr/bin:/bin" AUTH_UPSTREAM=auth_service:8000 API_UPSTREAM=api_service:8000 \
        NGINX_RESOLVER=127.0.0.11 "$@" \
        sh -c '. "$0" >/dev/null && echo "$NGINX_UPSTREAM_RESOLVE|$AUTH_BACKEND|$API_BACKEND|$NGINX_RESOLVER"' "$envsh"
}

expect() { # GOT WANT LABEL
    if [ "$1" != "$2" ]; then
        echo "18-upstreams.envsh, $3: got '$1', wanted '$2'" >&2
        exit 1
    fi
}

expect "$(pick 1.22.1)" "|auth_service:8000|api_service:8000|127.0.0.11" "nginx 1.22.1"
expect "$(pick 1.27.2)" "|auth_service:8000|api_service:8000|127.0.0.11" "nginx 1.27.2"
expect "$(pick 1.27.3)" "resolve|auth_service|api_service|127.0.0.11" "nginx 1.27.3"
expect "$(pick 1.29.0)" "resolve|auth_service|api_service|127.0.0.11" "nginx 1.29.0"
expect "$(pick 1.27.5 NGINX_UPSTREAM_RESOLVE= AUTH_BACKEND=auth_service API_BACKEND=api_service)" \
    "|auth_service|api_service|127.0.0.11" "set by hand (Kubernetes)"
echo "18-upstreams.envsh: resolve from nginx 1.27.3 on, per-request lookups before, settings by hand kept"
