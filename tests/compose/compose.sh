# shellcheck shell=bash
# The one way the compose scripts call Compose: docker-compose (1.29, Debian's)
# or `docker compose` (v2), always with the project, env file and compose file
# of the run. Sourced by e2e.sh and stack-control.sh, which set
# COMPOSE_PROJECT, COMPOSE_ENV_FILE and COMPOSE_FILE_PATH first
# (COMPOSE_FILE_PATH: one file, or several separated by ":", later ones on top).
compose() {
    local args=(-p "$COMPOSE_PROJECT" --env-file "$COMPOSE_ENV_FILE") file files
    IFS=: read -r -a files <<<"$COMPOSE_FILE_PATH"
    for file in "${files[@]}"; do args+=(-f "$file"); done
    if command -v docker-compose >/dev/null; then
        docker-compose "${args[@]}" "$@"
    else
        docker compose "${args[@]}" "$@"
    fi
}
