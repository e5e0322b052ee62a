#!/usr/bin/env bash
# Build the helm binary the chart tests run, from its Go module, and fetch the ServiceMonitor CRD
# (prometheus-operator) so that a chart rendering one can be dry-run against the test apiserver.
#
# Idempotent: everything lands in one cache folder named after the pinned versions below; when
# that folder exists the script only prints its path. A build happens in a temporary folder that
# is moved into place at the end, so an interrupted build never looks finished, and a lock keeps
# two callers from building at once.
#
# Usage: scripts/helm.sh
#   Progress goes to stderr; the last line on stdout is the folder, holding bin/helm and
#   crds/servicemonitor.yaml.
#   KUBEZONE_CACHE_DIR overrides the cache root (default: $XDG_CACHE_HOME/kubezone).
#   Needs go (1.26 or newer), flock and the Go module proxy.
set -euo pipefail

HELM_VERSION=v3.22.0 # the newest helm v3; its go.mod asks for Go 1.26.0
PROMETHEUS_OPERATOR_VERSION=v0.85.0

NAME="helm-${HELM_VERSION}_prometheus-operator-${PROMETHEUS_OPERATOR_VERSION}"
ROOT="${KUBEZONE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kubezone}/helm"
DEST="$ROOT/$NAME"

log() { printf 'helm: %s\n' "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}

if [[ -d $DEST ]]; then
	printf '%s\n' "$DEST"
	exit 0
fi

command -v go >/dev/null 2>&1 || die "go is not installed; building helm needs Go 1.26 or newer"
command -v flock >/dev/null 2>&1 || die "flock is not installed (Debian package util-linux)"

mkdir -p "$ROOT/logs"
exec 9>"$ROOT/$NAME.lock"
if ! flock -n 9; then
	log "another build of $NAME is running; waiting for it"
	flock 9
fi
if [[ -d $DEST ]]; then
	printf '%s\n' "$DEST"
	exit 0
fi

# Holding the lock, any temporary folder of this name is left over from an interrupted build.
rm -rf "$ROOT/.build-$NAME".*
WORK=$(mktemp -d "$ROOT/.build-$NAME.XXXXXX")
trap 'chmod -R u+w "$WORK" 2>/dev/null; rm -rf "$WORK"' EXIT
mkdir -p "$WORK/out/bin" "$WORK/out/crds"

export CGO_ENABLED=0 GOFLAGS=-mod=mod GOTOOLCHAIN=local GOWORK=off

LOG="$ROOT/logs/$NAME.log"
: >"$LOG"
# Runs a command with its output in the log; on failure prints the log's tail and exits.
# Usage: run <what failed> <command...>
run() {
	local what=$1
	shift
	if ! "$@" >>"$LOG" 2>&1; then
		tail -n 40 "$LOG" >&2
		die "$what failed; see $LOG"
	fi
}

# Folder of a downloaded module, straight from the module cache.
module_dir() {
	local dir
	dir=$(go mod download -json "$1" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
	[[ -n $dir && -d $dir ]] || die "go mod download $1 failed"
	printf '%s\n' "$dir"
}

START=$SECONDS
log "building helm $HELM_VERSION (log: $LOG)"
mkdir "$WORK/helm"
cat >"$WORK/helm/go.mod" <<EOF
module kubezone.test/helm

go 1.26.0
EOF
(
	cd "$WORK/helm"
	run "go get of helm $HELM_VERSION" go get "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
	# What helm's own Makefile stamps into the binary: its version, and the Kubernetes version
	# of its client-go as the default for `helm template` and `helm lint` (else v1.20).
	CLIENT_GO=$(go list -f '{{.Version}}' -m k8s.io/client-go)
	[[ $CLIENT_GO =~ ^v0\.([0-9]+)\. ]] || die "unexpected k8s.io/client-go version $CLIENT_GO"
	LDFLAGS="-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION"
	LDFLAGS+=" -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
	for pkg in helm.sh/helm/v3/pkg/chartutil helm.sh/helm/v3/pkg/lint/rules; do
		LDFLAGS+=" -X $pkg.k8sVersionMajor=1 -X $pkg.k8sVersionMinor=${BASH_REMATCH[1]}"
	done
	run "go build of helm $HELM_VERSION" \
		go build -trimpath -ldflags="$LDFLAGS" -o "$WORK/out/bin/helm" helm.sh/helm/v3/cmd/helm
)
"$WORK/out/bin/helm" version --template '{{ .Version }}' | grep -qx "$HELM_VERSION" ||
	die "the built helm does not report version $HELM_VERSION"
log "helm built after $((SECONDS - START))s"

log "collecting the ServiceMonitor CRD: prometheus-operator $PROMETHEUS_OPERATOR_VERSION"
OPERATOR_DIR=$(module_dir "github.com/prometheus-operator/prometheus-operator@$PROMETHEUS_OPERATOR_VERSION")
CRD="$OPERATOR_DIR/example/prometheus-operator-crd/monitoring.coreos.com_servicemonitors.yaml"
[[ -f $CRD ]] || die "prometheus-operator $PROMETHEUS_OPERATOR_VERSION has no $CRD"
awk 'NR == 1 && /^---$/ { next } { print }' "$CRD" >"$WORK/out/crds/servicemonitor.yaml"

cat >"$WORK/out/versions" <<EOF
helm $HELM_VERSION
prometheus-operator $PROMETHEUS_OPERATOR_VERSION
$(go version)
EOF

mv -T "$WORK/out" "$DEST"
log "done in $((SECONDS - START))s: $DEST"
printf '%s\n' "$DEST"
