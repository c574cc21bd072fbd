#!/usr/bin/env bash
# Build LOCAL STAND-INS for the official base images the compose stack names,
# because no image registry can be reached on this machine. See README.md beside this file and tests/compose/README.md.
#
#   1. a Debian bookworm minbase root file system made with debootstrap (cached
#      as a tarball under $STANDIN_CACHE), imported as $BASE_TAG;
#   2. one small Dockerfile per stand-in on top of it (packages from Debian's
#      archive, through the mirror apt is configured with on this host), tagged
#      with the official image's name.
#
# An image that already carries an official tag but not our stand-in label is
# a real image (pulled elsewhere): it is left alone, never overwritten.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/compose/lib.sh
. "$here/../../tests/compose/lib.sh"

STANDIN_CACHE=${STANDIN_CACHE:-/var/cache/compose-standins}
BASE_TAG=compose-standin/debian:bookworm-minbase
LABEL=io.authstack.compose-standin

# official tag -> stand-in folder. Keep in step with docker-compose.yml and the
# services' Dockerfiles (the e2e driver checks every image they name exists).
STANDINS=(
    "python:3.11-slim-bookworm python"
    "postgres:15-bookworm postgres"
    "redis:7-bookworm redis"
    "nginx:1.27-bookworm nginx"
    "prom/prometheus:v2.42.0 prometheus"
    "nginx/nginx-prometheus-exporter:0.11.0 nginx-exporter"
)

# The mirror(s) apt on this host already uses for bookworm, so the stand-ins
# fetch packages from the same place the host does.
apt_site() { # $1 = codename (bookworm, bookworm-security)
    # shellcheck disable=SC2016  # $(SITE) is apt's field syntax, not the shell's
    apt-get indextargets --format '$(SITE)' "Codename: $1" 'Identifier: Packages' 2>/dev/null | head -n 1
}

make_rootfs_tarball() {
    local tarball=$1 mirror security rootfs
    command -v debootstrap >/dev/null || die "debootstrap not installed (apt-get install debootstrap)"
    [ "$(id -u)" -eq 0 ] || die "debootstrap needs root"
    mirror=$(apt_site bookworm)
    security=$(apt_site bookworm-security)
    rootfs=$(mktemp -d "$STANDIN_CACHE/rootfs.XXXXXX")
    log "debootstrap bookworm (minbase) from ${mirror:-the default mirror of debootstrap} into $rootfs"
    # shellcheck disable=SC2086  # an empty mirror must vanish, not become ""
    debootstrap --variant=minbase bookworm "$rootfs" ${mirror} >"$STANDIN_CACHE/debootstrap.log" 2>&1 ||
        { tail -n 30 "$STANDIN_CACHE/debootstrap.log" >&2; rm -rf "$rootfs"; die "debootstrap failed"; }
    mirror=${mirror:-$(awk '/^deb /{print $2; exit}' "$rootfs/etc/apt/sources.list")}
    {
        echo "deb $mirror bookworm main"
        echo "deb $mirror bookworm-updates main"
        [ -n "$security" ] && echo "deb $security bookworm-security main"
    } >"$rootfs/etc/apt/sources.list"
    # What Debian's own container images do: no service starts during package
    # installs, and no package caches left behind in layers.
    printf '#!/bin/sh\nexit 101\n' >"$rootfs/usr/sbin/policy-rc.d"
    chmod 755 "$rootfs/usr/sbin/policy-rc.d"
    printf 'APT::Install-Recommends "false";\nAPT::Install-Suggests "false";\n' \
        >"$rootfs/etc/apt/apt.conf.d/90compose-standin"
    rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/log/*.log
    tar -C "$rootfs" --numeric-owner -cf "$tarball.tmp" .
    mv "$tarball.tmp" "$tarball"
    rm -rf "$rootfs"
}

ensure_base() {
    if docker image inspect "$BASE_TAG" >/dev/null 2>&1; then
        log "base $BASE_TAG present"
        return
    fi
    mkdir -p "$STANDIN_CACHE"
    local tarball=$STANDIN_CACHE/bookworm-minbase.tar
    if [ -f "$tarball" ]; then
        log "using cached root file system $tarball"
    else
        timed "debootstrap bookworm" make_rootfs_tarball "$tarball"
    fi
    timed "docker import base" docker import \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'CMD ["bash"]' \
        --change "LABEL $LABEL=base" \
        "$tarball" "$BASE_TAG" >/dev/null
}

build_standin() { # $1 = official tag, $2 = folder
    local tag=$1 dir=$here/$2 label
    if docker image inspect "$tag" >/dev/null 2>&1; then
        label=$(docker image inspect -f "{{ index .Config.Labels \"$LABEL\" }}" "$tag" 2>/dev/null || true)
        if [ -z "$label" ] || [ "$label" = "<no value>" ]; then
            log "$tag is a real image here (no stand-in label): kept as it is"
            return
        fi
    fi
    timed "stand-in $tag" docker build -q --build-arg "BASE=$BASE_TAG" \
        --label "$LABEL=$tag" -t "$tag" "$dir" >/dev/null
}

ensure_base
for entry in "${STANDINS[@]}"; do
    # shellcheck disable=SC2086
    build_standin $entry
done
tags=()
for entry in "${STANDINS[@]}"; do tags+=("${entry%% *}"); done
log "stand-ins ready: ${tags[*]}"
