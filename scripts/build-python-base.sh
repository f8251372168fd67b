#!/usr/bin/env bash
# Build the local base image for the Python services (backend, stub-llm) without a registry:
# a Debian bookworm minbase rootfs from debootstrap, imported with `docker import`.
# Usage: scripts/build-python-base.sh [IMAGE]   (default scanium-e2e/python-base:bookworm)
set -euo pipefail
image="${1:-scanium-e2e/python-base:bookworm}"
cache="${SCANIUM_E2E_CACHE:-$HOME/.cache/scanium-e2e}"
if docker image inspect "$image" >/dev/null 2>&1; then
  echo "python base: $image already present"
  exit 0
fi
command -v debootstrap >/dev/null || { echo "debootstrap is missing: apt-get install -y debootstrap" >&2; exit 1; }
root="$cache/rootfs/python-base-bookworm"
# An interrupted debootstrap leaves the host's /proc (and maybe /sys) mounted inside the
# rootfs: unmount whatever is under it before removing it, and on any exit.
unmount_under() {
  awk -v r="$1" 'index($2, r "/") == 1 { print $2 }' /proc/mounts | sort -r |
    while read -r mount; do umount -l "$mount" || true; done
}
trap 'unmount_under "$root"' EXIT
unmount_under "$root"
rm -rf "$root"
mkdir -p "$root"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
echo "python base: debootstrap bookworm from $mirror"
debootstrap --variant=minbase --include=python3,python3-venv,python3-pip,ca-certificates,tini \
  bookworm "$root" "$mirror" >"$cache/rootfs/debootstrap.log" 2>&1 \
  || { echo "debootstrap failed; last lines of $cache/rootfs/debootstrap.log:" >&2; tail -n 20 "$cache/rootfs/debootstrap.log" >&2; exit 1; }
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
tar -C "$root" -c . | docker import \
  -c 'ENV LANG=C.UTF-8 PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  -c 'CMD ["/bin/bash"]' - "$image" >/dev/null
rm -rf "$root"
echo "python base: built $image"
