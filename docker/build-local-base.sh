#!/usr/bin/env bash
# Build a local base image for docker/Dockerfile on a machine that cannot pull from Docker Hub.
#
#   docker/build-local-base.sh                 # -> vitgrade-base:bookworm
#   BASE_TAG=my/base:tag docker/build-local-base.sh
#   docker build -f docker/Dockerfile --build-arg BASE_IMAGE=vitgrade-base:bookworm -t vitgrade .
#
# 1. debootstrap a minimal Debian bookworm (python3.11, venv, CA certificates, tini) from a Debian mirror;
# 2. import it as an image (vitgrade-rootfs:bookworm);
# 3. create /opt/venv in a container of it and install docker/requirements.lock, with this machine's
#    pip configuration and local package folders bind-mounted read-only (--network host and the host's
#    CA bundle for whatever they lack), then `docker commit` the result.
# The Dockerfile then finds every pinned package already installed, so its own pip step is a no-op.
# Needs: root, docker, debootstrap. Steps 1-2 are skipped when vitgrade-rootfs:bookworm exists
# (REBUILD_ROOTFS=1 forces them); step 3 starts from the existing base image when there is one, so a
# changed lock costs only the new packages (REBUILD_BASE=1 starts from the rootfs again).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BASE_TAG="${BASE_TAG:-vitgrade-base:bookworm}"
ROOTFS_TAG="${ROOTFS_TAG:-vitgrade-rootfs:bookworm}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
SUITE="${DEBIAN_SUITE:-bookworm}"
WORKDIR="${ROOTFS_DIR:-/var/tmp/vitgrade-rootfs}"
LOCK="$ROOT/docker/requirements.lock"
PACKAGES="python3.11,python3.11-venv,python3-venv,ca-certificates,tini"

log() { printf '[build-local-base] %s\n' "$*" >&2; }

if [ "${REBUILD_ROOTFS:-0}" = 1 ] || ! docker image inspect "$ROOTFS_TAG" >/dev/null 2>&1; then
    command -v debootstrap >/dev/null || { log "debootstrap is missing: apt-get install -y debootstrap"; exit 1; }
    target="$WORKDIR/$SUITE"
    if [ ! -x "$target/usr/bin/python3.11" ]; then
        rm -rf "$target"
        mkdir -p "$WORKDIR"
        log "debootstrap $SUITE from $MIRROR into $target"
        debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$target" "$MIRROR"
    fi
    # apt lists and caches are not part of the image
    rm -rf "$target"/var/lib/apt/lists/* "$target"/var/cache/apt/archives/*.deb
    log "importing $target as $ROOTFS_TAG"
    tar -C "$target" -c . | docker import \
        --change 'ENV LANG=C.UTF-8' \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'CMD ["/bin/bash"]' \
        - "$ROOTFS_TAG" >/dev/null
fi

# The pip configuration of this machine (index URLs, find-links, constraints) and the folders it names.
mounts=(-v "$LOCK:/run/vitgrade-requirements.lock:ro")
for path in /etc/pip.conf /etc/xdg/pip "$HOME/.config/pip" /etc/ssl/certs/ca-certificates.crt \
    /opt/wheels /opt/pypi /opt/pypi-more; do
    [ -e "$path" ] || continue
    case "$path" in
    "$HOME/.config/pip") mounts+=(-v "$path:/root/.config/pip:ro") ;;
    /etc/ssl/certs/ca-certificates.crt) mounts+=(-v "$path:/etc/ssl/certs/host-ca-certificates.crt:ro") ;;
    *) mounts+=(-v "$path:$path:ro") ;;
    esac
done
# Settings for pip in the build container, passed in a file (not `docker run -e`, which `docker commit`
# would keep in the image).
build_env="$(mktemp)"
{
    echo "PIP_CERT=/etc/ssl/certs/host-ca-certificates.crt"
    echo "PIP_DISABLE_PIP_VERSION_CHECK=1"
    for name in PIP_INDEX_URL PIP_EXTRA_INDEX_URL PIP_FIND_LINKS PIP_DEFAULT_TIMEOUT \
        HTTP_PROXY HTTPS_PROXY NO_PROXY http_proxy https_proxy no_proxy; do
        [ -n "${!name:-}" ] && printf '%s=%q\n' "$name" "${!name}" || true
    done
} >"$build_env"
mounts+=(-v "$build_env:/run/vitgrade-build.env:ro")

# Start from the last base when there is one (only what the lock adds is installed), else from the rootfs.
from_image="$ROOTFS_TAG"
if [ "${REBUILD_BASE:-0}" != 1 ] && docker image inspect "$BASE_TAG" >/dev/null 2>&1; then
    from_image="$BASE_TAG"
fi

container="vitgrade-base-build-$$"
trap 'docker rm -f "$container" >/dev/null 2>&1 || true; rm -f "$build_env"' EXIT
log "installing $(grep -c '==' "$LOCK") pinned packages into /opt/venv"
log "from $from_image"
docker run --name "$container" --network host "${mounts[@]}" "$from_image" bash -euc '
    set -a; . /run/vitgrade-build.env; set +a
    [ -x /opt/venv/bin/python ] || python3.11 -m venv /opt/venv
    /opt/venv/bin/pip install --no-cache-dir -r /run/vitgrade-requirements.lock
    /opt/venv/bin/pip check
    rm -rf /root/.cache /tmp/*
'
# PIP_* from an older version of this script (which leaked them into the image) are reset here.
docker commit \
    --change 'ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt' \
    --change 'ENV PIP_FIND_LINKS=' \
    --change 'ENV PATH=/opt/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'ENV LANG=C.UTF-8' \
    --change 'CMD ["/bin/bash"]' \
    "$container" "$BASE_TAG" >/dev/null
log "built $BASE_TAG ($(docker image inspect -f '{{.Size}}' "$BASE_TAG" | awk '{printf "%.1f GB", $1/1e9}'))"
