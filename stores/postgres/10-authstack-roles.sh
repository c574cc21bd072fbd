#!/usr/bin/env bash
# Sourced by the postgres image's entrypoint on first start only: the
# stack's roles (roles.sql), then a pg_hba.conf where the superuser may not
# log in over the network. Passwords: POSTGRES_SERVICE_PASSWORD and
# POSTGRES_MIGRATION_PASSWORD, or files named by their *_FILE forms.
# The official entrypoint runs it (it is executable), the compose stand-in
# sources it: both stop initialising on its `exit 1`.

authstack_secret() { # NAME: export NAME from NAME or the file NAME_FILE names
    local name=$1 file_var="${1}_FILE"
    if [ -n "${!file_var:-}" ]; then
        export "$name"="$(<"${!file_var}")"
    fi
    if [ -z "${!name:-}" ]; then
        echo >&2 "refusing to initialise: $name (or ${name}_FILE) is required"
        return 1
    fi
}

authstack_secret POSTGRES_SERVICE_PASSWORD || exit 1
authstack_secret POSTGRES_MIGRATION_PASSWORD || exit 1
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --no-password --no-psqlrc --dbname "$POSTGRES_DB" \
    -v service_role=authstack -v migration_role=authstack_migrate -v dbname="$POSTGRES_DB" \
    -f /usr/local/share/authstack/roles.sql || exit 1
unset POSTGRES_SERVICE_PASSWORD POSTGRES_MIGRATION_PASSWORD

# Unix socket: as initdb set it. Network: never the superuser, the rest by password.
cat >"$PGDATA/pg_hba.conf" <<HBA
local all all trust
host all $POSTGRES_USER all reject
host all all all scram-sha-256
HBA
