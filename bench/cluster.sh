#!/usr/bin/env bash
# kubezone against a real kube-apiserver (built by scripts/control-plane.sh): the figures of the
# live-cluster source.
#
#   bench/cluster.sh [OBJECTS]
#
# Prints:
#   - change → answer: the time from a Service's status change through the API to kubezone
#     answering the new address, p50 and p99 over 1000 changes with 10000 Services loaded
#     (KUBEZONE_BENCH_CHANGES, KUBEZONE_BENCH_LOADED);
#   - time to ready and RSS with OBJECTS LoadBalancer Services plus OBJECTS Ingresses (default
#     10000 each), and the memory per object above an empty kubezone.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-test-deps.sh
scripts/control-plane.sh >/dev/null
KUBEZONE_BENCH_OBJECTS="${1:-10000}" cargo test --release --locked -p kubezone --test e2e cluster_bench \
	-- --ignored --nocapture --test-threads 1 --skip manifests 2>&1 | grep -E -A2 'FIGURE|^created|panicked|test result'
