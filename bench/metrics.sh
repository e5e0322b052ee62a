#!/usr/bin/env bash
# What Prometheus metrics cost on the answer path: kubezone with /metrics on and with metrics
# off, side by side, alternating, ROUNDS rounds of bench/run.sh each.
#
#   bench/metrics.sh [N [ROUNDS [DURATION]]]     defaults: 10000 3 10
#
# Prints each run and the median qps and server CPU per query of both, and on/off ratios.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
N=${1:-10000}
ROUNDS=${2:-3}
DURATION=${3:-10}
BENCH_CACHE=${BENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kubezone-bench}
OUT=$(mktemp)
trap 'rm -f "$OUT"' EXIT

declare -A EXTRA=(
	[off]=''
	[on]='http: {listen: "127.0.0.1:0", metrics: true}'
)
for ((round = 1; round <= ROUNDS; round++)); do
	order=(off on)
	((round % 2 == 0)) && order=(on off)
	for variant in "${order[@]}"; do
		KUBEZONE_CONFIG_EXTRA=${EXTRA[$variant]} SERVERS=kubezone \
			"$HERE/run.sh" "$N" 1 "$DURATION" >/dev/null
		awk -F'\t' -v v="$variant" -v r="$round" \
			'$2 == "kubezone" { printf "%s\t%s\t%s\t%s\n", r, v, $3, $7 }' \
			"$BENCH_CACHE/results-N$N.tsv" | tee -a "$OUT"
	done
done
awk -F'\t' '
	function median(list, n,    i, j, t) {
		for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (list[j] < list[i]) { t = list[i]; list[i] = list[j]; list[j] = t }
		return n % 2 ? list[(n + 1) / 2] : (list[n / 2] + list[n / 2 + 1]) / 2
	}
	{ n[$2]++; qps[$2, n[$2]] = $3; cpu[$2, n[$2]] = $4 }
	END {
		for (v in n) {
			for (i = 1; i <= n[v]; i++) { q[i] = qps[v, i]; c[i] = cpu[v, i] }
			mq[v] = median(q, n[v]); mc[v] = median(c, n[v])
			printf "metrics %-3s  median qps %9.0f  CPU %.3f us/query\n", v, mq[v], mc[v]
		}
		printf "on/off: qps %.3fx, CPU per query %.3fx\n", mq["on"] / mq["off"], mc["on"] / mc["off"]
	}' "$OUT"
