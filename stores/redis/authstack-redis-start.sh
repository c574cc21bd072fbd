#!/bin/sh
# Render the ACL file (password hashes only) into RUN_DIR, then start Redis
# through the image's own entrypoint with the given options.
#   REDIS_AUTH_PASSWORD / REDIS_API_PASSWORD (or their *_FILE forms): the
#   passwords of auth_service's and api_service's users.
# The full-rights `default` user gets a random password each start, kept in
# RUN_DIR/redis-admin.pw for the healthcheck and operators (compose exec).
set -eu
RUN_DIR=${AUTHSTACK_RUN_DIR:-/tmp}

secret() { # NAME: print NAME, or the content of the file NAME_FILE names
    eval "value=\${$1:-}; file=\${$1_FILE:-}"
    if [ -n "$file" ]; then value=$(cat "$file"); fi
    if [ -z "$value" ]; then
        echo "refusing to start: $1 (or $1_FILE) is required" >&2
        return 1
    fi
    printf '%s' "$value"
}
sha256() { printf '%s' "$1" | sha256sum | cut -d ' ' -f 1; }

auth_password=$(secret REDIS_AUTH_PASSWORD)
api_password=$(secret REDIS_API_PASSWORD)
admin_password=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
umask 077
printf '%s\n' "$admin_password" >"$RUN_DIR/redis-admin.pw"
sed -e "s/@ADMIN_HASH@/$(sha256 "$admin_password")/" \
    -e "s/@AUTH_HASH@/$(sha256 "$auth_password")/" \
    -e "s/@API_HASH@/$(sha256 "$api_password")/" \
    /usr/local/share/authstack/users.acl >"$RUN_DIR/users.acl"
unset auth_password api_password admin_password REDIS_AUTH_PASSWORD REDIS_API_PASSWORD
exec docker-entrypoint.sh redis-server --aclfile "$RUN_DIR/users.acl" "$@"
