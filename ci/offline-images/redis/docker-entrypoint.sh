#!/bin/sh
# Stand-in for the official redis image's entrypoint (the parts we rely on).
set -e
if [ "${1#-}" != "$1" ] || [ "${1%.conf}" != "$1" ]; then
    set -- redis-server "$@"
fi
if [ "$1" = "redis-server" ]; then
    shift
    # Like the official build: protected mode defaults to off (inside a
    # container network it would refuse every client). Given options win,
    # because later options override earlier ones; a config file stays first.
    if [ -n "${1:-}" ] && [ "${1#-}" = "$1" ]; then
        conf=$1
        shift
        set -- redis-server "$conf" --protected-mode no "$@"
    else
        set -- redis-server --protected-mode no "$@"
    fi
    if [ "$(id -u)" = "0" ]; then
        find . \! -user redis -exec chown redis '{}' +
        exec gosu redis "$@"
    fi
fi
exec "$@"
