#!/usr/bin/env bash
# Several clusters (docs/multi-cluster.md) against two real kube-apiservers (built by
# scripts/control-plane.sh).
#
#   bench/multi-cluster.sh [SERVICES]
#
# Prints, with SERVICES LoadBalancer Services in each of two clusters (default 10000, even ones
# global, local-first):
#   - time to ready and RSS (and bytes per Service above an empty kubezone);
#   - change → answer in each cluster: a Service's status PATCH to kubezone answering the new
#     address, p50 and p99 over 200 changes (KUBEZONE_BENCH_CHANGES);
#   - the server's CPU per query for a global name beside a plain one, dnsperf for 10 s each
#     (KUBEZONE_BENCH_SECONDS), and their ratio.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-test-deps.sh
scripts/control-plane.sh >/dev/null
KUBEZONE_BENCH_OBJECTS="${1:-10000}" cargo test --release --locked -p kubezone --test e2e multi_cluster_bench \
	-- --ignored --nocapture --test-threads 1 2>&1 | grep -E -A2 'FIGURE|^created|panicked|test result'
