#!/usr/bin/env bash
# Push mode against a real BIND primary on loopback (installed by scripts/install-test-deps.sh):
#
#   bench/push.sh [NAMES]
#
# Prints:
#   - the initial sync of NAMES (default 10000) LoadBalancer Services' names into an empty BIND
#     zone: the time from kubezone's start until the last name answers on BIND, and the UPDATE
#     messages it took;
#   - change → visible on the primary: from writing a manifest file until BIND answers the new
#     address, p50 and p99 over 200 changes (KUBEZONE_BENCH_CHANGES).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-test-deps.sh
KUBEZONE_BENCH_NAMES="${1:-10000}" cargo test --release --locked -p kubezone --test e2e push_bench \
	-- --ignored --nocapture --test-threads 1 2>&1 | grep -E -A2 'FIGURE|panicked|test result'
