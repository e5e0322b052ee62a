#!/usr/bin/env bash
# Start-up time and memory per object of kubezone reading manifests (bench/gen-data.sh data:
# LoadBalancer Services, Ingresses, HTTPRoutes with their Gateways), then the live-cluster
# figures of bench/cluster.sh.
#
#   bench/startup.sh [N]          N objects (default 100000)
#
# Environment: ROUNDS (default 3) starts per size, the median is printed;
#              CLUSTER=0 skips the live-cluster part; KUBEZONE=path uses that binary
#              (default: target/release/kubezone, built with `cargo build --release`).
#
# Per size it prints the seconds from spawning kubezone until /readyz answers 200 (every
# manifest read, translated and indexed), the CPU time kubezone used until then (steadier than
# the wall clock when the machine is busy: compare it with the wall clock × cores) and VmRSS
# once it has settled (no lower reading for 15 s, at most 90 s: the allocator gives the pages
# freed after start-up back within its decay time); per object is (RSS(N) - RSS(0)) / N.
set -euo pipefail
cd "$(dirname "$0")/.."
HERE=$PWD

N=${1:-100000}
ROUNDS=${ROUNDS:-3}
CACHE=${BENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kubezone-bench}
TARGET=${CARGO_TARGET_DIR:-$HERE/target}
KUBEZONE=${KUBEZONE:-}
if [[ -z $KUBEZONE ]]; then
	cargo build --release --locked -p kubezone >&2
	KUBEZONE=$TARGET/release/kubezone
fi

log() { printf 'startup: %s\n' "$*" >&2; }

# The data for N objects, generated once per N and generator version.
data_for() {
	local n=$1 dir stamp
	dir=$CACHE/startup-$n
	stamp="N=$n gen=$(cksum <"$HERE/bench/gen-data.sh")"
	if [[ ! -f $dir/.stamp || $(<"$dir/.stamp") != "$stamp" ]]; then
		log "generating $n objects into $dir"
		rm -rf "$dir"
		if [[ $n -eq 0 ]]; then
			mkdir -p "$dir/manifests"
		else
			QUERIES=10 "$HERE/bench/gen-data.sh" "$n" "$dir" >/dev/null
		fi
		printf '%s\n' "$stamp" >"$dir/.stamp"
	fi
	echo "$dir"
}

free_port() {
	local port
	while :; do
		port=$((20000 + RANDOM % 20000))
		(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || {
			echo "$port"
			return
		}
	done
}

# HTTP status of GET $2 on 127.0.0.1:$1, with bash's /dev/tcp; 000 if none.
http_status() {
	local status=000 line
	if exec 3<>"/dev/tcp/127.0.0.1/$1"; then
		printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' "$2" >&3
		if IFS= read -r -t 2 line <&3; then
			[[ $line =~ ^HTTP/[0-9.]+\ ([0-9]{3}) ]] && status=${BASH_REMATCH[1]}
		fi
		exec 3<&-
	fi
	echo "$status"
} 2>/dev/null

PID=""
cleanup() { [[ -z $PID ]] || kill "$PID" 2>/dev/null || true; }
trap cleanup EXIT

# VmRSS in KiB once no reading has been lower for 15 s (at most 90 s).
settled_rss() {
	local pid=$1 low now since=0 waited=0
	low=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status")
	while ((since < 15 && waited < 90)); do
		sleep 1
		waited=$((waited + 1))
		now=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status")
		if ((now < low)); then
			low=$now
			since=0
		else
			since=$((since + 1))
		fi
	done
	echo "$low"
}

# One start: prints "seconds_to_ready rss_kib cpu_seconds_to_ready".
one_start() {
	local dir=$1 dns http cfg start ready rss
	dns=$(free_port)
	http=$(free_port)
	cfg=$(mktemp)
	cat >"$cfg" <<EOF
listen: ["127.0.0.1:$dns"]
zones:
  - zone: bench.example
    ttl: 60
    apex: ns1
    glue: ["127.0.0.1"]
manifests: ["$dir/manifests"]
http:
  listen: "127.0.0.1:$http"
lameduckSeconds: 0
EOF
	start=$(date +%s.%N)
	KUBEZONE_LOG=warn "$KUBEZONE" --config "$cfg" >/dev/null 2>&1 &
	PID=$!
	while [[ $(http_status "$http" /readyz) != 200 ]]; do
		kill -0 "$PID" 2>/dev/null || {
			log "kubezone exited during start-up"
			exit 1
		}
		sleep 0.01
	done
	ready=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN {print b - a}')
	# CPU seconds (user + system, all threads) spent until ready: steadier than the wall
	# clock on a busy machine.
	cpu=$(awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) / hz}' "/proc/$PID/stat")
	rss=$(settled_rss "$PID")
	kill "$PID"
	wait "$PID" 2>/dev/null || true
	PID=""
	rm -f "$cfg"
	echo "$ready $rss $cpu"
}

median() { sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }

measure() {
	local n=$1 dir i results
	dir=$(data_for "$n")
	results=$(for ((i = 0; i < ROUNDS; i++)); do one_start "$dir"; done)
	echo "$(cut -d' ' -f1 <<<"$results" | median) $(cut -d' ' -f2 <<<"$results" | median)" \
		"$(cut -d' ' -f3 <<<"$results" | median)"
}

read -r ready0 rss0 cpu0 < <(measure 0)
read -r readyn rssn cpun < <(measure "$N")
printf '\n%-44s %s\n' "manifests (bench/gen-data.sh), median of $ROUNDS" "value"
printf '%-44s %.2f s\n' "start → ready, $N objects" "$readyn"
printf '%-44s %.2f s\n' "CPU (user + system) until ready, $N objects" "$cpun"
printf '%-44s %.2f s\n' "start → ready, 0 objects" "$ready0"
printf '%-44s %.2f s\n' "CPU (user + system) until ready, 0 objects" "$cpu0"
printf '%-44s %.1f MiB\n' "RSS, $N objects" "$(awk -v r="$rssn" 'BEGIN {print r / 1024}')"
printf '%-44s %.1f MiB\n' "RSS, 0 objects" "$(awk -v r="$rss0" 'BEGIN {print r / 1024}')"
printf '%-44s %.0f bytes\n' "RSS per object ((RSS(N) - RSS(0)) / N)" \
	"$(awk -v a="$rssn" -v b="$rss0" -v n="$N" 'BEGIN {print (a - b) * 1024 / n}')"

if [[ ${CLUSTER:-1} != 0 ]]; then
	printf '\nlive cluster (bench/cluster.sh):\n'
	bench/cluster.sh
fi
