#!/usr/bin/env bash
# Soak: dnsperf at the highest rate the machine allows while objects churn at about 500
# changes per second, from the manifests folder and through a real kube-apiserver (built by
# scripts/control-plane.sh). The test is tests/e2e/soak.rs (`soak_long`), run in release.
#
#   bench/soak.sh [SECONDS [SOURCES]]     defaults: 300 both   (SOURCES: manifests|cluster|both)
#
# Each source runs SECONDS, so the default takes about 11 minutes with the build cached. Prints,
# per source, one FIGURE line:
#   - changes made and their rate;
#   - dnsperf's sent/completed/lost and q/s, kubezone_queries_total's count of the same queries,
#     the difference (queries the server never saw) beside the kernel's UDP receive-buffer drops;
#   - the checker's queries and how many answers were wrong for the state at that moment (an
#     address the object never had, one replaced more than 3 s earlier, or NXDOMAIN);
#   - RSS of kubezone at the start and the end.
# Exits non-zero when an answer was wrong or RSS more than doubled (+20 MiB).
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_EACH=${1:-300}
SOURCES=${2:-both}
case $SOURCES in
manifests | cluster | both) ;;
*)
	echo "bench/soak.sh: SOURCES must be manifests, cluster or both, not $SOURCES" >&2
	exit 2
	;;
esac

scripts/install-test-deps.sh
if [[ $SOURCES != manifests ]]; then
	scripts/control-plane.sh >/dev/null
fi
KUBEZONE_SOAK_SECONDS=$SECONDS_EACH KUBEZONE_SOAK_SOURCES=$SOURCES \
	cargo test --release --locked -p kubezone --test e2e soak::soak_long \
	-- --ignored --nocapture --test-threads 1 2>&1 |
	grep -E -A5 'FIGURE|panicked|test result|^error'
