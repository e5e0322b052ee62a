#!/usr/bin/env bash
# Build the Kubernetes control plane the live-cluster tests run: etcd and kube-apiserver from
# their Go modules, plus the CRDs of the Kinds kubezone reads that Kubernetes does not ship.
#
# Idempotent: everything lands in one cache folder named after the pinned versions below; when
# that folder exists (and holds the CRD bundles of CRDS_REVISION) the script only prints its
# path. A build happens in a temporary folder that is moved into place at the end, so an
# interrupted build never looks finished, and a lock keeps two callers from building at once.
# A folder built before the CRD bundles last changed gets them collected again, without
# rebuilding the binaries.
#
# Usage: scripts/control-plane.sh
#   Progress goes to stderr; the last line on stdout is the folder, holding
#   bin/kube-apiserver, bin/etcd, crds/gateway-api.yaml (the standard channel's Kinds kubezone
#   reads), crds/gateway-api-l4.yaml (TCPRoute and UDPRoute, from the experimental channel,
#   which serves them at v1alpha2 too) and crds/dnsendpoint.yaml.
#   KUBEZONE_CACHE_DIR overrides the cache root (default: $XDG_CACHE_HOME/kubezone).
#   Needs go (1.26 or newer), flock and the Go module proxy.
set -euo pipefail

KUBERNETES_VERSION=v1.33.13 # kube-apiserver; staging modules k8s.io/* are published as v0.33.x
STAGING_VERSION=v0.33.13
ETCD_VERSION=v3.6.16
# v1.5 and newer serve TLSRoute at v1 in the standard channel; v1.7 needs Go 1.27.
GATEWAY_API_VERSION=v1.6.3
EXTERNAL_DNS_VERSION=v0.22.0 # the newest that Go 1.26 can download (v0.23 needs Go 1.27)
# Bump when the CRD bundles below change, so cached folders get them again.
CRDS_REVISION=2

NAME="kube-apiserver-${KUBERNETES_VERSION}_etcd-${ETCD_VERSION}_gateway-api-${GATEWAY_API_VERSION}_external-dns-${EXTERNAL_DNS_VERSION}"
ROOT="${KUBEZONE_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/kubezone}/control-plane"
DEST="$ROOT/$NAME"

log() { printf 'control-plane: %s\n' "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}

# Whether the cached folder holds this revision's CRD bundles.
crds_current() {
	[[ -f $DEST/crds/revision && $(<"$DEST/crds/revision") == "$CRDS_REVISION" ]]
}

if [[ -d $DEST ]] && crds_current; then
	printf '%s\n' "$DEST"
	exit 0
fi

command -v go >/dev/null 2>&1 || die "go is not installed; building etcd and kube-apiserver needs Go 1.26 or newer"
command -v flock >/dev/null 2>&1 || die "flock is not installed (Debian package util-linux)"

mkdir -p "$ROOT/logs"
exec 9>"$ROOT/$NAME.lock"
if ! flock -n 9; then
	log "another build of $NAME is running; waiting for it"
	flock 9
fi
if [[ -d $DEST ]] && crds_current; then
	printf '%s\n' "$DEST"
	exit 0
fi

export CGO_ENABLED=0 GOFLAGS=-mod=mod GOTOOLCHAIN=local GOWORK=off

# Folder of a downloaded module, straight from the module cache.
module_dir() {
	local dir
	dir=$(go mod download -json "$1" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
	[[ -n $dir && -d $dir ]] || die "go mod download $1 failed"
	printf '%s\n' "$dir"
}

# One multi-document YAML from several CRD files, each starting its own document.
concat_crds() {
	local file
	for file in "$@"; do
		[[ -f $file ]] || die "CRD file $file is missing"
		printf -- '---\n'
		awk 'NR == 1 && /^---$/ { next } { print }' "$file"
	done
}

# Writes the CRD bundles, and the revision they are, into folder $1.
collect_crds() {
	local out=$1 gateway_dir external_dns_dir
	log "collecting CRDs: gateway-api $GATEWAY_API_VERSION, external-dns $EXTERNAL_DNS_VERSION"
	gateway_dir=$(module_dir "sigs.k8s.io/gateway-api@$GATEWAY_API_VERSION")
	concat_crds "$gateway_dir"/config/crd/standard/gateway.networking.k8s.io_{gatewayclasses,gateways,listenersets,httproutes,grpcroutes,tlsroutes,referencegrants}.yaml \
		>"$out/gateway-api.yaml"
	grep -q 'name: v1$' "$gateway_dir/config/crd/standard/gateway.networking.k8s.io_tlsroutes.yaml" ||
		die "gateway-api $GATEWAY_API_VERSION has no TLSRoute v1"
	concat_crds "$gateway_dir"/config/crd/experimental/gateway.networking.k8s.io_{tcproutes,udproutes}.yaml \
		>"$out/gateway-api-l4.yaml"
	external_dns_dir=$(module_dir "sigs.k8s.io/external-dns@$EXTERNAL_DNS_VERSION")
	concat_crds "$external_dns_dir/config/crd/standard/dnsendpoints.externaldns.k8s.io.yaml" \
		>"$out/dnsendpoint.yaml"
	printf '%s\n' "$CRDS_REVISION" >"$out/revision"
}

# A folder built before the CRD bundles changed: collect them again, each file replaced in one
# rename so a test reading one meanwhile sees the old or the new file, never half of one.
if [[ -d $DEST ]]; then
	CRDS_WORK=$(mktemp -d "$ROOT/.crds-$NAME.XXXXXX")
	trap 'rm -rf "$CRDS_WORK"' EXIT
	collect_crds "$CRDS_WORK"
	for file in "$CRDS_WORK"/*; do
		mv -f "$file" "$DEST/crds/"
	done
	printf '%s\n' "$DEST"
	exit 0
fi

# Holding the lock, any temporary folder of this name is left over from an interrupted build.
rm -rf "$ROOT/.build-$NAME".*
WORK=$(mktemp -d "$ROOT/.build-$NAME.XXXXXX")
trap 'chmod -R u+w "$WORK" 2>/dev/null; rm -rf "$WORK"' EXIT
mkdir -p "$WORK/out/bin" "$WORK/out/crds"

# Runs a command with its output in a log file; on failure prints the log's tail and exits.
# Usage: run <what failed> <log name> <command...>
run() {
	local what=$1 logfile="$ROOT/logs/$NAME-$2.log"
	shift 2
	if ! "$@" >>"$logfile" 2>&1; then
		tail -n 40 "$logfile" >&2
		die "$what failed; see $logfile"
	fi
}

: >"$ROOT/logs/$NAME-etcd.log"
: >"$ROOT/logs/$NAME-kube-apiserver.log"
START=$SECONDS

log "building etcd $ETCD_VERSION (log: $ROOT/logs/$NAME-etcd.log)"
mkdir "$WORK/etcd"
cat >"$WORK/etcd/go.mod" <<EOF
module kubezone.test/etcd

go 1.26.0
EOF
(
	cd "$WORK/etcd"
	run "go get of etcd $ETCD_VERSION" etcd go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION"
	run "go build of etcd $ETCD_VERSION" etcd \
		go build -trimpath -ldflags='-s -w' -o "$WORK/out/bin/etcd" go.etcd.io/etcd/server/v3
)
log "etcd built after $((SECONDS - START))s"

log "building kube-apiserver $KUBERNETES_VERSION (log: $ROOT/logs/$NAME-kube-apiserver.log); this takes a while"
mkdir "$WORK/kubernetes"
# k8s.io/kubernetes points its k8s.io/* staging modules at folders inside its own repository,
# which the published module does not contain; use their published versions instead.
KUBERNETES_MOD=$(go mod download -json "k8s.io/kubernetes@$KUBERNETES_VERSION" |
	sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')
[[ -f $KUBERNETES_MOD ]] || die "go mod download k8s.io/kubernetes@$KUBERNETES_VERSION failed"
mapfile -t STAGING < <(sed -n 's|^[[:space:]]*\(k8s\.io/[^[:space:]]*\) => \./staging/.*|\1|p' "$KUBERNETES_MOD")
((${#STAGING[@]} > 0)) || die "found no staging modules in the go.mod of k8s.io/kubernetes@$KUBERNETES_VERSION"
{
	printf 'module kubezone.test/kubernetes\n\ngo 1.24.0\n\n'
	# The GODEBUG defaults Kubernetes itself builds with.
	sed -n 's/^godebug /godebug /p' "$KUBERNETES_MOD"
	printf '\nrequire k8s.io/kubernetes %s\n\nreplace (\n' "$KUBERNETES_VERSION"
	for module in "${STAGING[@]}"; do
		printf '\t%s => %s %s\n' "$module" "$module" "$STAGING_VERSION"
	done
	printf ')\n'
} >"$WORK/kubernetes/go.mod"
# What Kubernetes' own build stamps into the binary, so /version tells the real version.
KUBERNETES_MINOR=${KUBERNETES_VERSION#v1.}
KUBERNETES_MINOR=${KUBERNETES_MINOR%%.*}
LDFLAGS="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
	LDFLAGS+=" -X $pkg.gitVersion=$KUBERNETES_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$KUBERNETES_MINOR"
	LDFLAGS+=" -X $pkg.gitTreeState=clean"
done
(
	cd "$WORK/kubernetes"
	run "go get of kube-apiserver $KUBERNETES_VERSION" kube-apiserver \
		go get "k8s.io/kubernetes/cmd/kube-apiserver@$KUBERNETES_VERSION"
	run "go build of kube-apiserver $KUBERNETES_VERSION" kube-apiserver \
		go build -trimpath -ldflags="$LDFLAGS" -o "$WORK/out/bin/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver
	"$WORK/out/bin/kube-apiserver" --version | grep -qx "Kubernetes $KUBERNETES_VERSION" ||
		die "the built kube-apiserver does not report version $KUBERNETES_VERSION"
)
log "kube-apiserver built after $((SECONDS - START))s"

collect_crds "$WORK/out/crds"

cat >"$WORK/out/versions" <<EOF
kubernetes $KUBERNETES_VERSION
etcd $ETCD_VERSION
gateway-api $GATEWAY_API_VERSION
external-dns $EXTERNAL_DNS_VERSION
$(go version)
EOF

mv -T "$WORK/out" "$DEST"
log "done in $((SECONDS - START))s: $DEST"
printf '%s\n' "$DEST"
