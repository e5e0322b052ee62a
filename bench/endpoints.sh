#!/usr/bin/env bash
# Services that answer with their endpoints, against a real kube-apiserver (built by
# scripts/control-plane.sh):
#
#   bench/endpoints.sh
#
# Prints, side by side in one run:
#   - EndpointSlice readiness churn: 10,000 endpoints (500 NodePort Services with
#     externalTrafficPolicy Local, 20 endpoints each, on 100 Nodes) flipping readiness at 200 per
#     second for a minute: change → answer p50 and p99, and the server's CPU;
#   - the same rate of status changes of 10,000 plain LoadBalancer Services;
#   - RSS per watched Node (with a kubelet's images and system info) and per EndpointSlice of
#     10 endpoints, above an empty kubezone.
# KUBEZONE_BENCH_RATE, _SECONDS, _ENDPOINTS, _NODES and _SLICES change the sizes.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-test-deps.sh
scripts/control-plane.sh >/dev/null
cargo test --release --locked -p kubezone --test e2e endpoints_bench \
	-- --ignored --nocapture --test-threads 1 2>&1 | grep -E -A2 'FIGURE|panicked|test result'
