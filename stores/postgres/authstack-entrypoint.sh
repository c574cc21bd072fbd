#!/bin/sh
# The superuser's password is random and forgotten: nobody logs in as the
# superuser over the network (pg_hba rejects it, see 10-authstack-roles.sh);
# an operator uses the container's unix socket (docker compose exec postgres
# psql -U postgres). The stack's settings never name a superuser password.
set -eu
POSTGRES_PASSWORD=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
export POSTGRES_PASSWORD
unset POSTGRES_PASSWORD_FILE
# A volume made before (by this image or an older version): its roles are
# brought up to date first (authstack-upgrade.sh); a fresh one is made by the
# image's init, which runs 10-authstack-roles.sh.
if [ "${1:-}" = postgres ] && [ -s "${PGDATA:-/var/lib/postgresql/data}/PG_VERSION" ]; then
    PGDATA=${PGDATA:-/var/lib/postgresql/data} authstack-upgrade.sh
fi
exec docker-entrypoint.sh "$@"
