#!/usr/bin/env bash
# Package a cached component binary into a local Docker image built FROM scratch.
#
# Usage:
#   scripts/build-component-image.sh cortex v1.21.1 -> image scanium-e2e/cortex:v1.21.1
#   scripts/build-component-image.sh alloy v1.0.0   -> image scanium-e2e/alloy:v1.0.0
#
# The binary comes from ${SCANIUM_E2E_CACHE:-$HOME/.cache/scanium-e2e}/bin/<name>-<version>/
# (made by scripts/build-go-component.sh; set SCANIUM_E2E_BUILD_IF_MISSING=1 to
# build it here when it is missing). The Dockerfile is fixtures/<name>/Dockerfile;
# the build context is a temp dir under the cache, so the binary never enters the repo.
#
# Idempotent: the image carries labels with the sha256 of the binary and of the
# Dockerfile; when both match, nothing is rebuilt. The image name is the last
# line of stdout.
#
# No image can be pulled here, so everything is FROM scratch. If the Docker
# engine is not answering and we are root, dockerd is started in the background.
set -euo pipefail

die() { echo "build-component-image: error: $*" >&2; exit 1; }
[[ $# -eq 2 ]] || { echo "usage: $0 {cortex|alloy} VERSION" >&2; exit 2; }
NAME=$1
VERSION=$2
case $NAME in cortex | alloy) ;; *) die "unknown component '$NAME' (known: cortex, alloy)" ;; esac

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${SCANIUM_E2E_CACHE:-$HOME/.cache/scanium-e2e}
KEY="$NAME-$VERSION"
BIN="$CACHE/bin/$KEY/$NAME"
DOCKERFILE="$REPO/fixtures/$NAME/Dockerfile"
IMAGE="scanium-e2e/$NAME:$VERSION"
CA_BUNDLE=${SCANIUM_E2E_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}
LABEL_BIN=org.scanium-e2e.binary-sha256
LABEL_DF=org.scanium-e2e.dockerfile-sha256

[[ -f $DOCKERFILE ]] || die "missing $DOCKERFILE"
[[ -f $CA_BUNDLE ]] || die "missing CA bundle $CA_BUNDLE (apt-get install ca-certificates)"
if [[ ! -x $BIN ]]; then
    if [[ ${SCANIUM_E2E_BUILD_IF_MISSING:-0} == 1 ]]; then
        "$REPO/scripts/build-go-component.sh" "$NAME" "$VERSION" >&2
    fi
    [[ -x $BIN ]] || die "no cached binary $BIN; run: scripts/build-go-component.sh $NAME $VERSION"
fi

# --- Docker engine ------------------------------------------------------------------
command -v docker >/dev/null 2>&1 || die "docker CLI not found (apt-get install docker.io)"
if ! docker info >/dev/null 2>&1; then
    if [[ $(id -u) -eq 0 ]] && command -v dockerd >/dev/null 2>&1; then
        echo "docker engine not answering; starting dockerd (log: /var/log/dockerd.log)" >&2
        nohup dockerd >/var/log/dockerd.log 2>&1 &
        for _ in $(seq 1 60); do
            docker info >/dev/null 2>&1 && break
            sleep 1
        done
    fi
    docker info >/dev/null 2>&1 || die "docker engine is not available ('docker info' fails)"
fi

BIN_SHA=$(sha256sum "$BIN" | cut -d' ' -f1)
DF_SHA=$(sha256sum "$DOCKERFILE" | cut -d' ' -f1)

if have=$(docker image inspect -f "{{index .Config.Labels \"$LABEL_BIN\"}} {{index .Config.Labels \"$LABEL_DF\"}}" "$IMAGE" 2>/dev/null) \
    && [[ $have == "$BIN_SHA $DF_SHA" ]]; then
    echo "up to date: $IMAGE (binary sha256 $BIN_SHA)"
    echo "$IMAGE"
    exit 0
fi

# --- build context under the cache ----------------------------------------------------
mkdir -p "$CACHE/tmp"
CTX=$(mktemp -d "$CACHE/tmp/image-$KEY.XXXXXX")
trap 'rm -rf "$CTX"' EXIT
ROOT="$CTX/rootfs"
mkdir -p "$ROOT/bin" "$ROOT/etc/ssl/certs" "$ROOT/tmp"
chmod 1777 "$ROOT/tmp"
cp "$BIN" "$ROOT/bin/$NAME"
chmod 0755 "$ROOT/bin/$NAME"
cp "$CA_BUNDLE" "$ROOT/etc/ssl/certs/ca-certificates.crt"
chmod 0644 "$ROOT/etc/ssl/certs/ca-certificates.crt"
case $NAME in
    cortex) mkdir -p "$ROOT/data" ;;
    alloy) mkdir -p "$ROOT/etc/alloy" "$ROOT/var/lib/alloy/data" ;;
esac
cp "$DOCKERFILE" "$CTX/Dockerfile"

labels=(--label "$LABEL_BIN=$BIN_SHA" --label "$LABEL_DF=$DF_SHA"
    --label "org.opencontainers.image.title=$NAME"
    --label "org.opencontainers.image.version=$VERSION")
if [[ -f $CACHE/bin/$KEY/BUILDINFO ]]; then
    rev=$(sed -n 's/^commit=//p' "$CACHE/bin/$KEY/BUILDINFO")
    modv=$(sed -n 's/^module_version=//p' "$CACHE/bin/$KEY/BUILDINFO")
    [[ -n $rev ]] && labels+=(--label "org.opencontainers.image.revision=$rev")
    [[ -n $modv ]] && labels+=(--label "org.scanium-e2e.module-version=$modv")
fi

echo "building $IMAGE from $BIN (sha256 $BIN_SHA)"
t0=$(date +%s)
# No buildx plugin here: use the classic builder explicitly (FROM scratch needs no pull).
DOCKER_BUILDKIT=0 docker build -q --pull=false "${labels[@]}" -t "$IMAGE" "$CTX" >&2 \
    || die "docker build of $IMAGE failed"
echo "built $IMAGE in $(($(date +%s) - t0))s, $(docker image inspect -f '{{.Size}}' "$IMAGE") bytes"
echo "$IMAGE"
