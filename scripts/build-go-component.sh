#!/usr/bin/env bash
# Build a pinned pipeline component (Cortex or Alloy, both Apache-2.0) from the Go
# module proxy and cache the static binary outside the repository, keyed by version.
# Mimir is not built here: it is AGPL-3.0, and AGPL modules are not fetched from the
# proxy on these machines (machines with a registry run the official Mimir image).
#
# Usage:
#   scripts/build-go-component.sh cortex v1.21.1
#   scripts/build-go-component.sh alloy v1.0.0
#
# Result: ${SCANIUM_E2E_CACHE:-$HOME/.cache/scanium-e2e}/bin/<name>-<version>/<name>
# The binary path is always the last line of stdout.
#
# Idempotent: an existing cached binary that answers --version is reused at
# once. Otherwise the module source is fetched with `go mod download`
# (go install refuses modules with replace directives), copied into a writable
# work dir under the cache, patched where needed, and built with
# CGO_ENABLED=0 -trimpath -ldflags "-s -w". The toolchain is the one the
# release was built with, fetched by the go command (GOTOOLCHAIN=goX.Y.Z).
#
# Environment:
#   SCANIUM_E2E_CACHE          cache root (default $HOME/.cache/scanium-e2e)
#   SCANIUM_E2E_GO             go command to start from (default: go on PATH, else /usr/local/go/bin/go)
#   SCANIUM_E2E_GOTOOLCHAIN    override the toolchain (e.g. go1.22.12, or "local")
#   SCANIUM_E2E_BUILD_PARALLEL go build -p value (default 2)
#   SCANIUM_E2E_GOMODCACHE     module and toolchain cache (default $CACHE/go/mod)
#   SCANIUM_E2E_GOCACHE        compiled-package cache (default $CACHE/go/build)
#   SCANIUM_E2E_KEEP_WORK=1    keep the work dir after a successful build
set -euo pipefail

die() { CURRENT_STEP=""; echo "build-go-component: error: $*" >&2; exit 1; }
usage() {
    echo "usage: $0 {cortex|alloy} VERSION   (e.g. '$0 cortex v1.21.1', '$0 alloy v1.0.0')" >&2
    exit 2
}

[[ $# -eq 2 ]] || usage
NAME=$1
VERSION=$2
[[ $VERSION =~ ^v?[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]] || die "VERSION '$VERSION' is not of the form X.Y.Z or vX.Y.Z"

CACHE=${SCANIUM_E2E_CACHE:-$HOME/.cache/scanium-e2e}
KEY="$NAME-$VERSION"
BIN_DIR="$CACHE/bin/$KEY"
BIN="$BIN_DIR/$NAME"
LOG_DIR="$CACHE/logs"
LOG="$LOG_DIR/$KEY.log"
WORK="$CACHE/work/$KEY"

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1fs", b - a }'; }

# --- fast path: cached binary ---------------------------------------------------
version_ok() { [[ -x $1 ]] && "$1" --version >/dev/null 2>&1; }
if version_ok "$BIN"; then
    echo "cached: $("$BIN" --version 2>&1 | head -n 1)"
    echo "$BIN"
    exit 0
fi

# --- component table ---------------------------------------------------------------
case $NAME in
    cortex)
        MODULE=github.com/cortexproject/cortex
        QUERY="v${VERSION#v}"
        # Same tags as Cortex's own Makefile: netgo,slicelabels.
        TAGS="netgo,slicelabels"
        ;;
    alloy)
        MODULE=github.com/grafana/alloy
        QUERY="v${VERSION#v}"
        # Official Dockerfile: GO_TAGS="netgo builtinassets promtail_journal_enabled".
        # builtinassets embeds the npm-built UI (internal/web/ui/build, not in the
        # module zip) and promtail_journal_enabled needs cgo (libsystemd): both skipped.
        TAGS="netgo"
        ;;
    mimir) die "Mimir is not built from the Go module proxy: github.com/grafana/mimir is AGPL-3.0 and AGPL modules are not to be used from the proxy on these machines. Use the registry-less store Cortex ('$0 cortex v1.21.1', SCANIUM_E2E_STORE=cortex), or the official grafana/mimir image where a registry is reachable." ;;
    *) die "unknown component '$NAME' (known: cortex, alloy)" ;;
esac

# --- go command -----------------------------------------------------------------------
GO=${SCANIUM_E2E_GO:-}
if [[ -z $GO ]]; then
    if command -v go >/dev/null 2>&1; then GO=$(command -v go)
    elif [[ -x /usr/local/go/bin/go ]]; then GO=/usr/local/go/bin/go
    else die "no go command found (set SCANIUM_E2E_GO or put go on PATH)"; fi
fi
[[ -x $GO ]] || die "go command '$GO' is not executable"
# -modcacherw: the module cache under $CACHE stays deletable with a plain rm -rf.
export CGO_ENABLED=0 GOFLAGS="-mod=mod -buildvcs=false -modcacherw" GOWORK=off
# Modules, toolchains and compiled packages live in the cache too, so an empty
# SCANIUM_E2E_CACHE really is a cold build (the go command's own caches would hide it).
export GOMODCACHE=${SCANIUM_E2E_GOMODCACHE:-$CACHE/go/mod}
export GOCACHE=${SCANIUM_E2E_GOCACHE:-$CACHE/go/build}
# The machine default GOTOOLCHAIN=local would block the toolchain switch.
export GOTOOLCHAIN=local

mkdir -p "$CACHE/bin" "$LOG_DIR" "$CACHE/work" "$CACHE/locks"

# One build per component/version at a time.
exec 9>"$CACHE/locks/$KEY.lock"
if ! flock -n 9; then
    echo "another build of $KEY is running; waiting for it (log: $LOG)"
    flock 9
    if version_ok "$BIN"; then
        echo "cached: $("$BIN" --version 2>&1 | head -n 1)"
        echo "$BIN"
        exit 0
    fi
fi

: >"$LOG"
echo "building $KEY (module $MODULE@$QUERY); log: $LOG"
{ echo "# build of $KEY started $(date -u +%FT%TZ)"; echo "# go: $GO ($("$GO" version))"; } >>"$LOG"

CURRENT_STEP=""
on_exit() {
    local rc=$?
    if [[ $rc -ne 0 && -n $CURRENT_STEP ]]; then
        {
            echo "build-go-component: error: step '$CURRENT_STEP' failed (exit $rc) for $KEY"
            echo "--- last 40 lines of $LOG ---"
            tail -n 40 "$LOG"
            echo "--- end of log excerpt ---"
        } >&2
    fi
}
trap on_exit EXIT

STEP_T0=""
step() { CURRENT_STEP=$1; STEP_T0=$(now); echo "==> $1"; echo "### step: $1 ($(date -u +%T))" >>"$LOG"; }
done_step() { echo "    done in $(elapsed "$STEP_T0")"; CURRENT_STEP=""; }
run() { echo "+ $*" >>"$LOG"; "$@" >>"$LOG" 2>&1; }
TOTAL_T0=$(now)

# --- 1. resolve and download the module source ---------------------------------------
step "download module source $MODULE@$QUERY"
DL_JSON="$LOG_DIR/$KEY.download.json"
if ! (cd "$CACHE/work" && "$GO" mod download -json "$MODULE@$QUERY") >"$DL_JSON" 2>>"$LOG"; then
    cat "$DL_JSON" >>"$LOG"
    err=$(sed -n 's/^[[:space:]]*"Error": "\(.*\)",\{0,1\}$/\1/p' "$DL_JSON" | sed 's/\\n/ /g; s/\\t/ /g')
    err=${err%.}
    # One paragraph, and no retry with other versions: a refusal by the proxy is final.
    die "the Go module proxy refused $MODULE@$QUERY, answering: ${err:-see $LOG}. This build needs exactly that version (pinned in scripts/provision.sh); the proxy serves only the versions it holds and a refusal is final, so do not guess another. Either use a machine whose proxy serves it, set SCANIUM_E2E_${NAME^^}_VERSION to a version the proxy serves and re-run, or skip provisioning and run the official images where a container registry is reachable."
fi
cat "$DL_JSON" >>"$LOG"
json_field() { sed -n "s/^[[:space:]]*\"$1\": \"\\(.*\\)\",\{0,1\}\$/\\1/p" "$DL_JSON" | head -n 1; }
SRC_CACHE=$(json_field Dir)
MOD_VERSION=$(json_field Version)
COMMIT=$(json_field Hash)
[[ -n $SRC_CACHE && -d $SRC_CACHE ]] || die "go mod download gave no source dir (see $DL_JSON)"
INFO=$(json_field Info)
COMMIT_TIME=$(sed -n 's/.*"Time": *"\([^"]*\)".*/\1/p' "$INFO" 2>/dev/null | head -n 1)
echo "    resolved $MODULE@$QUERY -> $MOD_VERSION (commit ${COMMIT:-unknown})"
done_step

# --- 2. writable copy of the source ------------------------------------------------------
step "copy source to $WORK/src"
rm -rf "$WORK"
mkdir -p "$WORK"
cp -r "$SRC_CACHE" "$WORK/src"
chmod -R u+w "$WORK/src"
SRC="$WORK/src"
# A module zip keeps vendor/modules.txt but not the vendored packages.
rm -rf "$SRC/vendor"
done_step

# --- 3. patch go.mod and pick the toolchain -----------------------------------------------
step "prepare go.mod and toolchain"
cd "$SRC"
# Drop replace directives that point at directories missing from the module zip
# (Alloy: github.com/grafana/alloy/syntax => ./syntax); the required version of
# that module then comes from the proxy.
while read -r old target; do
    [[ -z $old ]] && continue
    if [[ ! -d $target ]]; then
        "$GO" mod edit -json >"$WORK/go.mod.json"
        req=$(awk -v m="\"Path\": \"$old\"" '
            !done && index($0, m) { hit=1; next }
            !done && hit && /"Version"/ { gsub(/.*"Version": "|",?$/, ""); print; done=1 }' "$WORK/go.mod.json")
        echo "    dropping 'replace $old => $target' (not in module zip); using $old ${req:-?}"
        run "$GO" mod edit -dropreplace="$old"
        if [[ -z $req || $req == v0.0.0-00010101000000-000000000000 ]]; then
            die "$old is only available through the local replace; it needs a published version in go.mod"
        fi
    fi
done < <(sed -n 's/^[[:space:]]*\(replace[[:space:]]\+\)\{0,1\}\([^[:space:](]\+\)\([[:space:]]\+v[^[:space:]]\+\)\{0,1\}[[:space:]]*=>[[:space:]]*\(\.\{1,2\}\/[^[:space:]]*\).*/\2 \4/p' go.mod)

# Toolchain: explicit override, else the go.mod toolchain line, else its go line.
gomod_go=$(sed -n 's/^go[[:space:]]\+\([0-9.]\+\).*/\1/p' go.mod | head -n 1)
gomod_tc=$(sed -n 's/^toolchain[[:space:]]\+go\([0-9.]\+\).*/\1/p' go.mod | head -n 1)
tc=${gomod_tc:-$gomod_go}
[[ -n $tc ]] || die "cannot work out the Go version from go.mod"
# From Go 1.21 on, release names carry a patch number (go1.21.0, not go1.21).
if [[ $tc =~ ^1\.([0-9]+)$ ]] && (( BASH_REMATCH[1] >= 21 )); then tc="$tc.0"; fi
TOOLCHAIN=${SCANIUM_E2E_GOTOOLCHAIN:-go$tc}
export GOTOOLCHAIN=$TOOLCHAIN
run "$GO" version || die "cannot get toolchain $TOOLCHAIN through the module proxy (see $LOG)"
echo "    toolchain: $("$GO" version)  (go.mod: go $gomod_go${gomod_tc:+, toolchain go$gomod_tc})"
done_step

# --- 4. main package and link flags -----------------------------------------------------------
case $NAME in
    cortex)
        MAIN=./cmd/cortex
        # cmd/cortex copies main.Version/Revision/Branch into prometheus/common/version.
        VPKG=main
        APP_VERSION=$(tr -d '[:space:]' <VERSION 2>/dev/null || echo "${VERSION#v}")
        ;;
    alloy)
        if grep -qs '^package main' main.go; then MAIN=.
        elif [[ -d cmd/alloy ]]; then MAIN=./cmd/alloy
        else die "cannot find Alloy's main package (no main.go at module root, no cmd/alloy)"; fi
        VPKG=github.com/grafana/alloy/internal/build
        APP_VERSION="v${VERSION#v}"
        ;;
esac
LDFLAGS="-s -w -X $VPKG.Version=$APP_VERSION -X $VPKG.Revision=${COMMIT:0:12} -X $VPKG.Branch=HEAD"
LDFLAGS+=" -X $VPKG.BuildUser=scanium-e2e -X $VPKG.BuildDate=${COMMIT_TIME:-unknown}"
# -X on a symbol a package lacks (Cortex's main has no BuildUser) is ignored by the linker.

# --- 5. dependencies -------------------------------------------------------------------------
step "download dependencies of $MAIN (tags: $TAGS)"
run "$GO" list -tags "$TAGS" -deps "$MAIN" >/dev/null \
    || die "dependency download failed (see $LOG)"
done_step

# --- 6. build ---------------------------------------------------------------------------------
step "go build $MAIN (tags $TAGS, $TOOLCHAIN, -p ${SCANIUM_E2E_BUILD_PARALLEL:-2})"
mkdir -p "$WORK/out"
run "$GO" build -p "${SCANIUM_E2E_BUILD_PARALLEL:-2}" -trimpath -tags "$TAGS" \
    -ldflags "$LDFLAGS" -o "$WORK/out/$NAME" "$MAIN"
done_step

# --- 7. check and install atomically ---------------------------------------------------------
step "verify and install into $BIN_DIR"
version_out=$("$WORK/out/$NAME" --version 2>&1) || die "built binary does not run --version: $version_out"
echo "$version_out" >>"$LOG"
SHA=$(sha256sum "$WORK/out/$NAME" | cut -d' ' -f1)
# Each file is renamed into place (rename(2) is atomic on one filesystem), so a
# reader sees either no binary, the old one or the complete new one.
mkdir -p "$BIN_DIR"
cp "$WORK/out/$NAME" "$BIN_DIR/.$NAME.tmp.$$"
chmod 0755 "$BIN_DIR/.$NAME.tmp.$$"
cat >"$BIN_DIR/.BUILDINFO.tmp.$$" <<EOF
name=$NAME
version=$VERSION
module=$MODULE
query=$QUERY
module_version=$MOD_VERSION
commit=$COMMIT
commit_time=$COMMIT_TIME
toolchain=$TOOLCHAIN
tags=$TAGS
main=$MAIN
ldflags=$LDFLAGS
sha256=$SHA
built_at=$(date -u +%FT%TZ)
EOF
mv -f "$BIN_DIR/.BUILDINFO.tmp.$$" "$BIN_DIR/BUILDINFO"
mv -f "$BIN_DIR/.$NAME.tmp.$$" "$BIN"
echo "    $(head -n 1 <<<"$version_out")"
echo "    sha256 $SHA, $(du -h "$BIN" | cut -f1)"
done_step

cd "$CACHE"
[[ ${SCANIUM_E2E_KEEP_WORK:-0} == 1 ]] || rm -rf "$WORK"
echo "built $KEY in $(elapsed "$TOTAL_T0")" | tee -a "$LOG"
echo "$BIN"
