#!/bin/sh
# The superuser's password is random and forgotten: nobody logs in as the
# superuser over the network (pg_hba rejects it, see 10-authstack-roles.sh);
# an operator uses the container's unix socket (docker compose exec postgres
# psql -U postgres). The stack's settings never name a superuser password.
set -eu
POSTGRES_PASSWORD=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
export POSTGRES_PASSWORD
unset POSTGRES_PASSWORD_FILE
exec docker-entrypoint.sh "$@"
