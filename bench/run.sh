#!/usr/bin/env bash
# Benchmark kubezone against NSD on the same data, on loopback only.
#
# Usage: bench/run.sh [N [ROUNDS [DURATION]]]
# Environment (defaults in brackets):
#   N [10000]            names (= Kubernetes objects) in the zone
#   ROUNDS [3]           rounds; every round runs every server once
#   DURATION [10]        seconds of dnsperf per run
#   SERVERS ["nsd kubezone"]
#   KUBEZONE [target/release/kubezone]   built with `cargo build --release -p kubezone` if missing
#                        (the default path honours CARGO_TARGET_DIR)
#   BUILD [0]            1: run the cargo build even if the binary exists
#   KUBEZONE_FLAGS [--config]            kubezone is started as: $KUBEZONE $KUBEZONE_FLAGS <config file>
#   KUBEZONE_CONFIG_EXTRA []             YAML appended to kubezone's generated config (e.g. http:)
#   MODE [udp]           dnsperf transport: udp or tcp
#   CLIENTS [8]          dnsperf -c (sockets)
#   OUTSTANDING [100]    dnsperf -q (queries in flight)
#   QPS []               dnsperf -Q (empty: as fast as the server answers)
#   DNSPERF_ARGS []      extra dnsperf arguments, e.g. "-e" to send EDNS(0)
#   QUERIES [100000]     lines in the query file
#   SERVER_CPU [0], CLIENT_CPU [1]       taskset CPUs for the server and for dnsperf
#   CHECK [basic]        basic: a few names of each kind; full: also every name's A record
#   STARTUP_TIMEOUT [120] seconds to wait for a server to answer
#   BENCH_CACHE [${XDG_CACHE_HOME:-$HOME/.cache}/kubezone-bench]  generated data, per N
#   KEEP [0]             1: keep the run directory (configs, logs, dnsperf output)
#   NICE []              e.g. -10: run the server and dnsperf at that nice level (negative needs root),
#                        to be less disturbed by other work on a shared machine
set -euo pipefail

if [[ ${1-} == -h || ${1-} == --help ]]; then
	sed -n '2,/^set -euo pipefail/{/^#/s/^# \{0,1\}//p}' "${BASH_SOURCE[0]}"
	exit 0
fi

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")

N=${1:-${N:-10000}}
ROUNDS=${2:-${ROUNDS:-3}}
DURATION=${3:-${DURATION:-10}}
SERVERS=${SERVERS:-nsd kubezone}
DEFAULT_KUBEZONE=${CARGO_TARGET_DIR:-$ROOT/target}/release/kubezone
KUBEZONE=${KUBEZONE:-$DEFAULT_KUBEZONE}
[[ $KUBEZONE == /* ]] || KUBEZONE=$PWD/$KUBEZONE # kubezone is started from the data directory
BUILD=${BUILD:-0}
KUBEZONE_FLAGS=${KUBEZONE_FLAGS:---config}
MODE=${MODE:-udp}
CLIENTS=${CLIENTS:-8}
OUTSTANDING=${OUTSTANDING:-100}
QPS=${QPS:-}
DNSPERF_ARGS=${DNSPERF_ARGS:-}
QUERIES=${QUERIES:-100000}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
CHECK=${CHECK:-basic}
STARTUP_TIMEOUT=${STARTUP_TIMEOUT:-120}
BENCH_CACHE=${BENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kubezone-bench}
KEEP=${KEEP:-0}
NICE=${NICE:-}
ZONE=bench.example

PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"
export PATH

log() { printf '[bench] %s\n' "$*" >&2; }
die() {
	printf '[bench] error: %s\n' "$*" >&2
	exit 1
}

isnum() { [[ $1 =~ ^[0-9]+$ ]]; }
for v in N ROUNDS DURATION CLIENTS OUTSTANDING QUERIES STARTUP_TIMEOUT SERVER_CPU CLIENT_CPU; do
	isnum "${!v}" || die "$v must be a non-negative integer, got '${!v}'"
done
((N > 0 && ROUNDS > 0 && DURATION > 0)) || die "N, ROUNDS and DURATION must be positive"
[[ -z $QPS ]] || isnum "$QPS" || die "QPS must be an integer or empty"
[[ -z $NICE || $NICE =~ ^-?[0-9]+$ ]] || die "NICE must be an integer or empty"
[[ $MODE == udp || $MODE == tcp ]] || die "MODE must be udp or tcp"
[[ $CHECK == basic || $CHECK == full ]] || die "CHECK must be basic or full"
for s in $SERVERS; do
	[[ $s == nsd || $s == kubezone ]] || die "unknown server '$s' in SERVERS (nsd, kubezone)"
done
[[ -n ${SERVERS// /} ]] || die "SERVERS is empty"

# ---------------------------------------------------------------- processes
RUN=""
SERVER_PID=""
DNSPERF_PID=""

# Stop the server we started: it runs in its own session (setsid), so its
# process group id is its pid and holds only it and its children (NSD forks).
stop_server() {
	local pid=$SERVER_PID i
	[[ -n $pid ]] || return 0
	SERVER_PID=""
	kill -TERM -- "-$pid" 2>/dev/null || return 0
	for ((i = 0; i < 50; i++)); do
		kill -0 -- "-$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL -- "-$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

cleanup() {
	local status=$?
	trap - EXIT INT TERM
	if [[ -n $DNSPERF_PID ]]; then
		kill -TERM "$DNSPERF_PID" 2>/dev/null || true
		wait "$DNSPERF_PID" 2>/dev/null || true
	fi
	stop_server
	if [[ -n $RUN && -d $RUN ]]; then
		if [[ $KEEP == 1 || ($status != 0 && $status != 130 && $status != 143) ]]; then
			log "run directory kept: $RUN"
		else
			rm -rf "$RUN"
		fi
	fi
	exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------- setup
"$ROOT/scripts/install-test-deps.sh" || die "scripts/install-test-deps.sh failed"

taskset -c "$SERVER_CPU" true 2>/dev/null || die "cannot pin to CPU $SERVER_CPU (SERVER_CPU)"
taskset -c "$CLIENT_CPU" true 2>/dev/null || die "cannot pin to CPU $CLIENT_CPU (CLIENT_CPU)"
if [[ $SERVER_CPU == "$CLIENT_CPU" ]]; then
	log "warning: server and dnsperf share CPU $SERVER_CPU; figures will be much lower"
fi
CLK_TCK=$(getconf CLK_TCK)
PRIO=()
if [[ -n $NICE ]]; then
	PRIO=(nice -n "$NICE")
	want=$(($(nice) + NICE))
	((want < -20)) && want=-20
	((want > 19)) && want=19
	[[ $("${PRIO[@]}" nice 2>/dev/null) == "$want" ]] || die "cannot run at nice $NICE (negative values need root)"
fi

if [[ " $SERVERS " == *" kubezone "* ]]; then
	if [[ $BUILD == 1 || ! -x $KUBEZONE ]]; then
		[[ $KUBEZONE -ef $DEFAULT_KUBEZONE || $KUBEZONE == "$DEFAULT_KUBEZONE" ]] ||
			die "KUBEZONE=$KUBEZONE does not exist (only the default path is built automatically)"
		log "building kubezone (cargo build --release -p kubezone)"
		(cd "$ROOT" && cargo build --release -p kubezone) ||
			die "cargo build failed; run with SERVERS=nsd to benchmark NSD alone"
	fi
	[[ -x $KUBEZONE ]] || die "no kubezone binary at $KUBEZONE"
fi

# Generated data is cached per N and regenerated when the generator or its inputs change.
DATA=$BENCH_CACHE/$N
STAMP="N=$N QUERIES=$QUERIES gen=$(cksum <"$HERE/gen-data.sh")"
if [[ ! -f $DATA/.stamp || $(<"$DATA/.stamp") != "$STAMP" ]]; then
	log "generating $N objects into $DATA"
	rm -rf "$DATA.tmp"
	mkdir -p "$BENCH_CACHE"
	QUERIES=$QUERIES "$HERE/gen-data.sh" "$N" "$DATA.tmp"
	printf '%s\n' "$STAMP" >"$DATA.tmp/.stamp"
	rm -rf "$DATA"
	mv "$DATA.tmp" "$DATA"
	# Written for $DATA.tmp; point it at the final place (a port is chosen per run anyway).
	"$HERE/gen-data.sh" --kubezone-config 5300 "$DATA" >"$DATA/kubezone.yaml"
fi

RUN=$(mktemp -d "${TMPDIR:-/tmp}/kubezone-bench.XXXXXX")

# ---------------------------------------------------------------- helpers
# A port that nothing listens on, TCP or UDP, IPv4 or IPv6.
free_port() {
	local used port i f
	local -a tables=()
	for f in /proc/net/tcp /proc/net/udp /proc/net/tcp6 /proc/net/udp6; do
		[[ -r $f ]] && tables+=("$f")
	done
	used=$(awk 'FNR > 1 { split($2, a, ":"); print a[2] }' "${tables[@]}" /dev/null | sort -u)
	for ((i = 0; i < 100; i++)); do
		port=$((20000 + RANDOM % 40000))
		if ! grep -qx "$(printf '%04X' "$port")" <<<"$used"; then
			echo "$port"
			return 0
		fi
	done
	die "no free port found"
}

# All pids of the tree rooted at $1 (the server and its children).
tree_pids() {
	ps -e -o pid= -o ppid= | awk -v root="$1" '
		{ kids[$2] = kids[$2] " " $1 }
		END {
			q[0] = root; n = 1
			for (i = 0; i < n; i++) {
				print q[i]
				c = split(kids[q[i]], k, " ")
				for (j = 1; j <= c; j++) q[n++] = k[j]
			}
		}'
}

# utime+stime in clock ticks, summed over the server's processes (each /proc/P/stat
# already includes all of P's threads).
cpu_ticks() {
	local total=0 p line rest
	local -a f
	for p in $(tree_pids "$1"); do
		line=$(<"/proc/$p/stat") 2>/dev/null || continue
		rest=${line##*) } # fields after "pid (comm) "
		read -r -a f <<<"$rest"
		# f[0] is field 3 (state); utime is field 14, stime field 15
		total=$((total + f[11] + f[12]))
	done
	echo "$total"
}

# "busy steal": ticks all CPUs spent not idle, and ticks stolen by the hypervisor, from /proc/stat.
system_ticks() {
	awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 + $9, $9; exit }' /proc/stat
}

# CPU seconds of the children this shell reaped, from a saved `times` output.
children_s() {
	awk 'NR == 2 { t = 0; for (i = 1; i <= 2; i++) { split($i, p, "m"); sub(/s$/, "", p[2]); t += p[1] * 60 + p[2] } print t }' "$1"
}

# "rss_kib pss_kib", each summed over the server's processes. NSD is three processes
# (the pid we start becomes xfrd; it forks "main", which forks "server 1"), so the
# VmRSS of the started pid alone says nothing about NSD. The VmRSS sum counts pages
# shared between the forks several times; PSS splits them, so its sum is the real total.
mem_kib() {
	local rss=0 pss=0 p v
	for p in $(tree_pids "$1"); do
		v=$(awk '/^VmRSS:/ { print $2; exit }' "/proc/$p/status" 2>/dev/null) || v=0
		rss=$((rss + ${v:-0}))
		v=$(awk '/^Pss:/ { print $2; exit }' "/proc/$p/smaps_rollup" 2>/dev/null) || v=0
		pss=$((pss + ${v:-0}))
	done
	echo "$rss $pss"
}

# dig one query; prints "RCODE FLAGS ANSWERS" (answers of the asked type, sorted, comma-joined, or -).
ask() {
	local port=$1 name=$2 type=$3 out
	out=$(dig @127.0.0.1 -p "$port" +norec +time=1 +tries=1 "$name" "$type" 2>&1) || {
		echo "TIMEOUT - -"
		return 0
	}
	awk -v type="$type" '
		/->>HEADER<<-/ { for (i = 1; i <= NF; i++) if ($i == "status:") { rc = $(i + 1); sub(/,$/, "", rc) } }
		/^;; flags:/ { fl = $0; sub(/^;; flags: /, "", fl); sub(/;.*/, "", fl); gsub(/ /, "+", fl) }
		/^;; ANSWER SECTION:/ { a = 1; next }
		/^$/ { a = 0 }
		a && $4 == type { ans[++n] = $5 }
		END {
			for (i = 2; i <= n; i++) for (j = i; j > 1 && ans[j - 1] > ans[j]; j--) { t = ans[j]; ans[j] = ans[j - 1]; ans[j - 1] = t }
			s = ""; for (i = 1; i <= n; i++) s = s (i > 1 ? "," : "") ans[i]
			printf "%s %s %s\n", (rc == "" ? "NONE" : rc), (fl == "" ? "-" : fl), (s == "" ? "-" : s)
		}' <<<"$out"
}

# Correctness: each line of checks.txt, and with CHECK=full every name's A record.
check_server() {
	local server=$1 port=$2 name type rcode want got grc gflags gans bad=0
	while read -r name type rcode want; do
		[[ $name == \#* || -z $name ]] && continue
		got=$(ask "$port" "$name" "$type")
		read -r grc gflags gans <<<"$got"
		if [[ $grc != "$rcode" || $gans != "$want" || $gflags != *aa* ]]; then
			log "CHECK FAILED on $server: $name $type: want $rcode (aa) $want, got $grc ($gflags) $gans"
			bad=1
		fi
	done <"$DATA/checks.txt"
	if [[ $CHECK == full ]]; then
		awk '{ print $1, "A" }' "$DATA/expected-a.txt" >"$RUN/all-a.batch"
		dig @127.0.0.1 -p "$port" +norec +time=2 +tries=2 +noall +answer -f "$RUN/all-a.batch" 2>/dev/null |
			awk '$4 == "A" { print $1, $5 }' | LC_ALL=C sort >"$RUN/$server-a.txt" || true
		if ! cmp -s "$RUN/$server-a.txt" "$DATA/expected-a.txt"; then
			log "CHECK FAILED on $server: full A comparison differs ($(LC_ALL=C comm -3 "$RUN/$server-a.txt" "$DATA/expected-a.txt" | wc -l) lines); first differences:"
			LC_ALL=C diff "$DATA/expected-a.txt" "$RUN/$server-a.txt" | head -10 >&2 || true
			bad=1
		else
			log "$server: all $N names answer their expected A record"
		fi
	fi
	return "$bad"
}

start_nsd() {
	local port=$1 dir=$RUN/nsd
	mkdir -p "$dir"
	cat >"$dir/nsd.conf" <<EOF
# Written by kubezone bench/run.sh
server:
	ip-address: 127.0.0.1
	port: $port
	do-ip6: no
	username: ""
	chroot: ""
	zonesdir: "$DATA/zone"
	database: ""
	pidfile: "$dir/nsd.pid"
	zonelistfile: "$dir/zone.list"
	xfrdfile: "$dir/xfrd.state"
	xfrdir: "$dir"
	cookie-secret-file: "$dir/cookiesecrets.txt"
	logfile: "$dir/nsd.log"
	server-count: 1
	verbosity: 0
	# Debian's NSD is built with response rate limiting on by default (200 qps per
	# source /24); from one client address that caps it near 2k answered qps.
	rrl-ratelimit: 0
	rrl-whitelist-ratelimit: 0
	# Like kubezone (dns.md): no NS/glue added to positive answers.
	minimal-responses: yes
	zonefiles-write: 0
remote-control:
	control-enable: no
zone:
	name: "$ZONE"
	zonefile: "$ZONE.zone"
EOF
	nsd-checkconf "$dir/nsd.conf" || die "nsd-checkconf rejected $dir/nsd.conf"
	setsid "${PRIO[@]}" taskset -c "$SERVER_CPU" nsd -d -c "$dir/nsd.conf" >"$dir/stdout.log" 2>&1 &
	SERVER_PID=$!
	SERVER_LOG=$dir/nsd.log
}

start_kubezone() {
	local port=$1 dir=$RUN/kubezone
	mkdir -p "$dir"
	{
		"$HERE/gen-data.sh" --kubezone-config "$port" "$DATA"
		printf '%s\n' "${KUBEZONE_CONFIG_EXTRA:-}"
	} >"$dir/kubezone.yaml"
	# shellcheck disable=SC2086 # KUBEZONE_FLAGS is a list of words
	(cd "$DATA" && KUBEZONE_LOG=${KUBEZONE_LOG:-warn} exec setsid "${PRIO[@]}" taskset -c "$SERVER_CPU" \
		"$KUBEZONE" $KUBEZONE_FLAGS "$dir/kubezone.yaml") >"$dir/stdout.log" 2>&1 &
	SERVER_PID=$!
	SERVER_LOG=$dir/stdout.log
}

# Wait until the server gives the expected answer for the first check name.
wait_ready() {
	local server=$1 port=$2 name type rcode want start got
	read -r name type rcode want < <(grep -v '^#' "$DATA/checks.txt" | head -1)
	start=$(date +%s.%N)
	while :; do
		if ! kill -0 "$SERVER_PID" 2>/dev/null; then
			log "$server exited during startup; last log lines:"
			tail -20 "$SERVER_LOG" "$RUN/$server/stdout.log" 2>/dev/null >&2 || true
			SERVER_PID=""
			die "$server did not start"
		fi
		got=$(ask "$port" "$name" "$type")
		[[ $got == "$rcode "*" $want" ]] && break
		if awk -v s="$start" -v now="$(date +%s.%N)" -v t="$STARTUP_TIMEOUT" 'BEGIN { exit !(now - s > t) }'; then
			die "$server did not answer $name $type with $want within ${STARTUP_TIMEOUT}s (last: $got)"
		fi
		sleep 0.1
	done
	awk -v s="$start" -v now="$(date +%s.%N)" 'BEGIN { printf "%.1f\n", now - s }'
}

# One measured run; appends a line to $RESULTS.
run_one() {
	local round=$1 server=$2 port ready t0 t1 mem out qps sent completed lost lat nx sf runtime cpu resp other busy0 busy1 steal0 steal1
	port=$(free_port)
	"start_$server" "$port"
	ready=$(wait_ready "$server" "$port")
	check_server "$server" "$port" || die "$server answered incorrectly (see above)"
	out=$RUN/dnsperf-$server-$round.txt
	local -a args=(-s 127.0.0.1 -p "$port" -m "$MODE" -d "$DATA/queries.txt" -l "$DURATION"
		-c "$CLIENTS" -T 1 -q "$OUTSTANDING" -t 2 -O "suppress=timeouts,unexpected")
	[[ -z $QPS ]] || args+=(-Q "$QPS")
	local -a extra
	read -ra extra <<<"$DNSPERF_ARGS"
	args+=("${extra[@]}")
	t0=$(cpu_ticks "$SERVER_PID")
	read -r busy0 steal0 < <(system_ticks)
	# `times` in this shell: its second line is the CPU time of reaped children, i.e. dnsperf.
	times >"$RUN/times0"
	# In the background and waited for, so that a signal is handled at once (the trap stops it).
	"${PRIO[@]}" taskset -c "$CLIENT_CPU" dnsperf "${args[@]}" >"$out" 2>&1 &
	DNSPERF_PID=$!
	wait "$DNSPERF_PID" || {
		DNSPERF_PID=""
		cat "$out" >&2
		die "dnsperf failed against $server"
	}
	DNSPERF_PID=""
	times >"$RUN/times1"
	read -r busy1 steal1 < <(system_ticks)
	t1=$(cpu_ticks "$SERVER_PID")
	mem=$(mem_kib "$SERVER_PID")
	kill -0 "$SERVER_PID" 2>/dev/null || die "$server died during the run"
	stop_server
	sent=$(awk '/Queries sent:/ { print $3 }' "$out")
	completed=$(awk '/Queries completed:/ { print $3 }' "$out")
	lost=$(awk '/Queries lost:/ { print $3 }' "$out")
	qps=$(awk '/Queries per second:/ { print $4 }' "$out")
	lat=$(awk '/Average Latency/ { printf "%.0f", $4 * 1e6; exit }' "$out")
	nx=$(awk '/Response codes:/ { for (i = 1; i <= NF; i++) if ($i == "NXDOMAIN") { v = $(i + 2); gsub(/[(%),]/, "", v); print v } }' "$out")
	sf=$(awk '/Response codes:/ { for (i = 1; i <= NF; i++) if ($i == "SERVFAIL") { v = $(i + 1); gsub(/,/, "", v); print v } }' "$out")
	[[ -n $qps && -n $completed ]] || {
		cat "$out" >&2
		die "could not parse dnsperf output"
	}
	runtime=$(awk '/Run time \(s\):/ { print $4 }' "$out")
	resp=$(awk '/Average packet size:/ { print $NF; exit }' "$out")
	# CPU per answered query, and how busy the server's core was (100% = saturated).
	cpu=$(awk -v d="$((t1 - t0))" -v hz="$CLK_TCK" -v n="$completed" -v rt="${runtime:-$DURATION}" \
		'BEGIN { printf "%.3f %.1f", n ? d / hz * 1e6 / n : 0, d / hz / rt * 100 }')
	# Everything else the machine did meanwhile (other processes, hypervisor steal), in % of one CPU:
	# a noise indicator. The load average cannot be used: the benchmark itself puts it near 2.
	other=$(awk -v busy="$((busy1 - busy0))" -v steal="$((steal1 - steal0))" -v srv="$((t1 - t0))" -v hz="$CLK_TCK" \
		-v client="$(awk -v a="$(children_s "$RUN/times0")" -v b="$(children_s "$RUN/times1")" 'BEGIN { print b - a }')" \
		-v rt="${runtime:-$DURATION}" 'BEGIN { o = (busy - srv) / hz - client; if (o < 0) o = 0; printf "%.0f %.0f", o / rt * 100, steal / hz / rt * 100 }')
	# Columns as in $HEADER.
	local -a row=("$round" "$server" "$qps" "$sent" "$completed" "$lost" "${cpu% *}" "${mem% *}" "${mem#* }"
		"${lat:-0}" "${nx:-0}" "${sf:-0}" "$ready" "${cpu#* }" "${resp:-0}" "${other% *}" "${other#* }")
	(
		IFS=$'\t'
		printf '%s\n' "${row[*]}"
	) >>"$RESULTS"
}

HEADER='round\tserver\tqps\tsent\tcompleted\tlost\tcpu_us_per_q\trss_kib\tpss_kib\tavg_lat_us\tnxdomain_pct\tservfail\tready_s\tserver_cpu_pct\tavg_response_bytes\tother_cpu_pct\tsteal_pct'
RESULTS=$RUN/results.tsv
: >"$RESULTS"

print_round() {
	awk -F'\t' -v r="$1" '
		BEGIN { printf "%-9s %9s %7s %9s %8s %8s %8s %7s %6s %8s %6s %7s %7s\n", "server", "qps", "lost", "cpu_us/q", "srv_cpu%", "rss_MiB", "pss_MiB", "lat_us", "nx%", "servfail", "resp_B", "ready_s", "other%" }
		$1 == r { printf "%-9s %9.0f %7d %9.2f %8.0f %8.1f %8.1f %7d %6.2f %8d %6d %7.1f %7.0f\n", $2, $3, $6, $7, $14, $8 / 1024, $9 / 1024, $10, $11, $12, $15, $13, $16 }' "$RESULTS"
}

print_summary() {
	awk -F'\t' -v rounds="$ROUNDS" '
		function median(key,   n, i, j, t, a) {
			n = cnt[key]; for (i = 1; i <= n; i++) a[i] = val[key, i]
			for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
			return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
		}
		function add(key, v) { val[key, ++cnt[key]] = v }
		{ if (!($2 in seen)) { seen[$2] = 1; order[++ns] = $2 }
		  add($2 "qps", $3); add($2 "cpu", $7); add($2 "rss", $8); add($2 "pss", $9); add($2 "lost", $6); add($2 "busy", $14); add($2 "other", $16) }
		END {
			printf "median over %d round(s)\n", rounds
			printf "%-9s %9s %7s %9s %8s %8s %8s %7s\n", "server", "qps", "lost", "cpu_us/q", "srv_cpu%", "rss_MiB", "pss_MiB", "other%"
			for (i = 1; i <= ns; i++) { s = order[i]
				printf "%-9s %9.0f %7d %9.2f %8.0f %8.1f %8.1f %7.0f\n", s, median(s "qps"), median(s "lost"), median(s "cpu"), median(s "busy"), median(s "rss") / 1024, median(s "pss") / 1024, median(s "other") }
			if (("kubezone" in seen) && ("nsd" in seen)) {
				printf "\nkubezone / nsd (medians): qps %.2fx (higher is better), CPU per query %.2fx, RSS %.2fx, PSS %.2fx (lower is better)\n",
					median("kubezoneqps") / median("nsdqps"), median("kubezonecpu") / median("nsdcpu"),
					median("kubezonerss") / median("nsdrss"), median("kubezonepss") / median("nsdpss")
			}
		}' "$RESULTS"
}

# ---------------------------------------------------------------- run
read -ra SERVER_LIST <<<"$SERVERS"
log "N=$N rounds=$ROUNDS duration=${DURATION}s mode=$MODE clients=$CLIENTS outstanding=$OUTSTANDING qps=${QPS:-unlimited}" \
	"server CPU $SERVER_CPU, dnsperf CPU $CLIENT_CPU, nice ${NICE:-unchanged}, data $DATA"
for ((round = 1; round <= ROUNDS; round++)); do
	# Alternate the order so that neither server always runs first.
	order=("${SERVER_LIST[@]}")
	if ((round % 2 == 0)); then
		order=()
		for ((i = ${#SERVER_LIST[@]} - 1; i >= 0; i--)); do order+=("${SERVER_LIST[i]}"); done
	fi
	echo
	echo "round $round/$ROUNDS"
	for server in "${order[@]}"; do
		run_one "$round" "$server"
	done
	print_round "$round"
done
echo
print_summary

mkdir -p "$BENCH_CACHE"
{
	printf '%b\n' "$HEADER"
	cat "$RESULTS"
} >"$BENCH_CACHE/results-N$N.tsv"
log "raw results: $BENCH_CACHE/results-N$N.tsv"
