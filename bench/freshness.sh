#!/usr/bin/env bash
# Freshness: how long a change takes to be answered, with many objects loaded, for both sources.
#
#   bench/freshness.sh [LOADED [CHANGES]]     defaults 10000 objects, 1000 changes
#
# - manifests folder: LOADED LoadBalancer Services in files of 1000; each change rewrites one
#   file (write aside, then rename, as editors and ConfigMap updates do) with one Service's
#   address changed; the clock runs from just before the write until kubezone's UDP answer has
#   the new address (polled every 0.5 ms).
# - real kube-apiserver (built by scripts/control-plane.sh): LOADED LoadBalancer Services exist
#   before kubezone starts; each change PATCHes one Service's status with a new address; the
#   clock runs from just before the PATCH until the UDP answer has it.
# Both are the ignored tests of tests/e2e/cluster_bench.rs, in release mode. CLUSTER=0 skips
# the kube-apiserver part.
set -euo pipefail
cd "$(dirname "$0")/.."

export KUBEZONE_BENCH_LOADED="${1:-10000}" KUBEZONE_BENCH_CHANGES="${2:-1000}"
tests=(cluster_bench::bench_manifests_change_to_answer_latency)
if [[ ${CLUSTER:-1} != 0 ]]; then
	scripts/install-test-deps.sh
	scripts/control-plane.sh >/dev/null
	tests+=(cluster_bench::bench_change_to_answer_latency)
fi
out=$(mktemp)
trap 'rm -f "$out"' EXIT
cargo test --release --locked -p kubezone --test e2e -- --ignored --nocapture --test-threads 1 \
	--exact "${tests[@]}" >"$out" 2>&1 || {
	grep -E -A20 'panicked|error' "$out" >&2 || tail -40 "$out" >&2
	exit 1
}
printf '\n%-22s %s\n' "source" "change → answer ($KUBEZONE_BENCH_LOADED objects loaded)"
sed -n 's/^.*FIGURE change→answer, manifests folder[^:]*: /manifests folder       /p; s/^.*FIGURE change→answer, real kube-apiserver[^:]*: /real kube-apiserver    /p' "$out"
