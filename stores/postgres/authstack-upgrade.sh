#!/usr/bin/env bash
# Run by authstack-entrypoint.sh before every start of an EXISTING volume
# (the image's init scripts run on a fresh one only): bring what an older
# version made up to today's roles, in place, idempotent. What the local
# runner does to an older STATE_DIR (runner/pg_upgrade.py), with the same
# SQL files:
#  1. a volume of the superuser era (the services logged in as `authstack`,
#     the cluster's bootstrap superuser): that role is renamed `postgres`,
#     with a random password nobody keeps, through a temporary superuser (a
#     session can't rename its own role), as pg_upgrade.rename_bootstrap_superuser does;
#  2. roles.sql and pg_hba.conf as on a fresh volume (10-authstack-roles.sh):
#     the service and migration roles (passwords from the environment, so a
#     changed POSTGRES_PASSWORD takes effect at the next start), the audit
#     pruner, the grants;
#  3. give_schema.sql: tables still owned by a superuser pass to the
#     migration role, so migrations can alter them.
# A temporary server on the unix socket only does the work (as the image's
# own init does); a start stopped half-way finishes the job the next time.
set -euo pipefail
: "${PGDATA:?}"
db=${POSTGRES_DB:-authstack}
superuser=postgres
era_superuser=authstack  # the bootstrap superuser of the superuser era (POSTGRES_USER then)
temporary=authstack_upgrade
share=/usr/local/share/authstack

pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -c unix_socket_directories=/var/run/postgresql" -w start
trap 'pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null' EXIT
as() { # ROLE DB ARGS...: psql over the socket (pg_hba: local trust, as the image's initdb made it)
    local role=$1 dbname=$2
    shift 2
    psql -v ON_ERROR_STOP=1 --no-psqlrc -qAt --username "$role" --dbname "$dbname" "$@"
}
can_log_in() { as "$1" postgres -c 'SELECT 1' >/dev/null 2>&1; }

if ! can_log_in "$superuser"; then
    if ! can_log_in "$era_superuser" ||
        [ "$(as "$era_superuser" postgres -c "SELECT rolsuper FROM pg_roles WHERE rolname = current_user")" != t ]; then
        echo >&2 "authstack-upgrade: neither $superuser nor a superuser $era_superuser in this volume: refusing to start"
        exit 1
    fi
    echo "authstack-upgrade: a volume of the superuser era: renaming its superuser $era_superuser to $superuser"
    password=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
    as "$era_superuser" postgres -v temporary="$temporary" <<'SQL'
DROP ROLE IF EXISTS :"temporary";
CREATE ROLE :"temporary" SUPERUSER LOGIN;
SQL
    as "$temporary" postgres -v old="$era_superuser" -v new="$superuser" -v password="$password" <<'SQL'
ALTER ROLE :"old" RENAME TO :"new";
ALTER ROLE :"new" PASSWORD :'password';
SQL
    unset password
fi
# Left by a start stopped right after the rename.
as "$superuser" postgres -c 'SET client_min_messages = warning' -c "DROP ROLE IF EXISTS $temporary"
# The roles and pg_hba.conf, exactly as on a fresh volume (it needs the
# superuser's name in POSTGRES_USER; the passwords come from the environment).
POSTGRES_USER=$superuser POSTGRES_DB=$db bash /docker-entrypoint-initdb.d/10-authstack-roles.sh
given=$(as "$superuser" "$db" -c "SELECT set_config('authstack.schema_owner', 'authstack_migrate', false)" \
    -f "$share/give_schema.sql" 2>&1) || { echo >&2 "$given"; exit 1; }
moved=$(grep -c 'NOTICE:  moved ' <<<"$given" || true)
[ "$moved" = 0 ] || echo "authstack-upgrade: gave $moved object(s) of the older version's schema to authstack_migrate"
echo "authstack-upgrade: roles of $db up to date"
