#!/usr/bin/env bash
# Benchmark kubezone against NSD and Knot on the same data, on loopback only, and write the
# result as markdown (see bench/README.md for every column).
#
# Usage: bench/run.sh [--out FILE] [--note TEXT] [N [ROUNDS [DURATION]]]
#   --out FILE           also write the markdown report to FILE (e.g. bench/RESULTS.md); it is
#                        replaced only when the whole run succeeded
#   --note TEXT          a line of text put under the report's title
#   N                    one size or a list ("1000,100000" or "1000 100000")
# Environment (defaults in brackets):
#   N ["1000 100000"]    names (= Kubernetes objects) in the zone; every size is run in turn
#   ROUNDS [3]           rounds per size; every round runs every server once, the order
#                        rotating between rounds (nsd knot kubezone, knot kubezone nsd, ...)
#   DURATION [10]        seconds of the unthrottled dnsperf run (qps, CPU per query)
#   LAT_DURATION [10]    seconds of the fixed-rate dnsperf run (latency percentiles); 0 skips it
#   LAT_QPS [20000]      the fixed rate (dnsperf -Q) of the latency run
#   SERVERS ["nsd knot kubezone"]
#   KUBEZONE [target/release/kubezone]   the default path (it honours CARGO_TARGET_DIR) is built
#                        with `cargo build --release -p kubezone` first (a no-op when up to date)
#   BUILD [1]            0: do not run cargo build (use the binary as it is)
#   KUBEZONE_FLAGS [--config]            kubezone is started as: $KUBEZONE $KUBEZONE_FLAGS <config file>
#   KUBEZONE_CONFIG_EXTRA []             YAML appended to kubezone's generated config (e.g. http:)
#   MODE [udp]           dnsperf transport: udp or tcp
#   CLIENTS [8]          dnsperf -c (sockets)
#   OUTSTANDING [100]    dnsperf -q (queries in flight)
#   QPS []               dnsperf -Q for the "unthrottled" run (empty: as fast as the server answers)
#   DNSPERF_ARGS []      extra dnsperf arguments for both runs, e.g. "-e" to send EDNS(0)
#   QUERIES [100000]     lines in the query file
#   SERVER_CPU [0], CLIENT_CPU [1]       taskset CPUs for the server and for dnsperf, each a list
#                        (e.g. SERVER_CPU=0-3 CLIENT_CPU=4-7); NSD's server-count and Knot's UDP
#                        and TCP workers follow the number of server CPUs, as kubezone's UDP
#                        workers do (one per CPU it may use)
#   CHECK [basic]        basic: a few names of each kind; full: also every name's A record
#   STARTUP_TIMEOUT [120] seconds to wait for a server to answer
#   BENCH_CACHE [${XDG_CACHE_HOME:-$HOME/.cache}/kubezone-bench]  generated data, per N
#   KEEP [0]             1: keep the run directory (configs, logs, dnsperf output)
#   NICE []              e.g. -10: run the server and dnsperf at that nice level (negative needs root),
#                        to be less disturbed by other work on a shared machine
#   QUIET_WAIT [15]      before each measurement, wait up to this many seconds until the rest of the
#                        machine uses less than QUIET_PCT [25] % of one CPU (0: do not wait)
set -euo pipefail

if [[ ${1-} == -h || ${1-} == --help ]]; then
	sed -n '2,/^set -euo pipefail/{/^#/s/^# \{0,1\}//p}' "${BASH_SOURCE[0]}"
	exit 0
fi

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")
# The command as typed, with the settings that came from the environment, for the report.
quote() {
	if [[ $1 =~ ^[A-Za-z0-9_./,:=+-]+$ ]]; then
		printf '%s' "$1"
	else
		printf "'%s'" "${1//\'/\'\\\'\'}"
	fi
}
COMMAND_LINE=""
for v in N ROUNDS DURATION LAT_DURATION LAT_QPS SERVERS KUBEZONE BUILD KUBEZONE_FLAGS KUBEZONE_CONFIG_EXTRA MODE CLIENTS \
	OUTSTANDING QPS DNSPERF_ARGS QUERIES SERVER_CPU CLIENT_CPU CHECK NICE QUIET_WAIT QUIET_PCT; do
	[[ -z ${!v+set} ]] || COMMAND_LINE+="$v=$(quote "${!v}") "
done
COMMAND_LINE+="bench/run.sh"
for a in "$@"; do COMMAND_LINE+=" $(quote "$a")"; done

log() { printf '[bench] %s\n' "$*" >&2; }
die() {
	printf '[bench] error: %s\n' "$*" >&2
	exit 1
}

OUT_FILE=""
NOTE=""
ARGS=()
while (($#)); do
	case $1 in
	--out)
		(($# >= 2)) || die "--out needs a file name"
		OUT_FILE=$2
		shift 2
		;;
	--out=*)
		OUT_FILE=${1#--out=}
		shift
		;;
	--note)
		(($# >= 2)) || die "--note needs a text"
		NOTE=$2
		shift 2
		;;
	--note=*)
		NOTE=${1#--note=}
		shift
		;;
	-*) die "unknown option $1 (see --help)" ;;
	*)
		ARGS+=("$1")
		shift
		;;
	esac
done
((${#ARGS[@]} <= 3)) || die "too many arguments: ${ARGS[*]} (see --help)"

N_LIST=${ARGS[0]:-${N:-1000 100000}}
N_LIST=${N_LIST//,/ }
ROUNDS=${ARGS[1]:-${ROUNDS:-3}}
DURATION=${ARGS[2]:-${DURATION:-10}}
LAT_DURATION=${LAT_DURATION:-10}
LAT_QPS=${LAT_QPS:-20000}
SERVERS=${SERVERS:-nsd knot kubezone}
DEFAULT_KUBEZONE=${CARGO_TARGET_DIR:-$ROOT/target}/release/kubezone
KUBEZONE=${KUBEZONE:-$DEFAULT_KUBEZONE}
[[ $KUBEZONE == /* ]] || KUBEZONE=$PWD/$KUBEZONE # kubezone is started from the data directory
BUILD=${BUILD:-1}
KUBEZONE_FLAGS=${KUBEZONE_FLAGS:---config}
KUBEZONE_CONFIG_EXTRA=${KUBEZONE_CONFIG_EXTRA:-}
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
QUIET_WAIT=${QUIET_WAIT:-15}
QUIET_PCT=${QUIET_PCT:-25}
ZONE=bench.example

PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"
export PATH

isnum() { [[ $1 =~ ^[0-9]+$ ]]; }
for v in ROUNDS DURATION LAT_DURATION LAT_QPS CLIENTS OUTSTANDING QUERIES STARTUP_TIMEOUT BUILD QUIET_WAIT QUIET_PCT; do
	isnum "${!v}" || die "$v must be a non-negative integer, got '${!v}'"
done
read -ra SIZES <<<"$N_LIST"
((${#SIZES[@]} > 0)) || die "N is empty"
for n in "${SIZES[@]}"; do
	{ isnum "$n" && ((n > 0)); } || die "N must be positive integers, got '$n'"
done
((ROUNDS > 0 && DURATION > 0)) || die "ROUNDS and DURATION must be positive"
((LAT_DURATION == 0 || LAT_QPS > 0)) || die "LAT_QPS must be positive"
[[ -z $QPS ]] || isnum "$QPS" || die "QPS must be an integer or empty"
[[ -z $NICE || $NICE =~ ^-?[0-9]+$ ]] || die "NICE must be an integer or empty"
[[ $MODE == udp || $MODE == tcp ]] || die "MODE must be udp or tcp"
[[ $CHECK == basic || $CHECK == full ]] || die "CHECK must be basic or full"
read -ra SERVER_LIST <<<"$SERVERS"
((${#SERVER_LIST[@]} > 0)) || die "SERVERS is empty"
for s in "${SERVER_LIST[@]}"; do
	[[ $s == nsd || $s == knot || $s == kubezone ]] || die "unknown server '$s' in SERVERS (nsd, knot, kubezone)"
done
if [[ -n $OUT_FILE ]]; then
	[[ -d $(dirname "$OUT_FILE") ]] || die "--out $OUT_FILE: no directory $(dirname "$OUT_FILE")"
fi

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
# How many CPUs the server may use (its thread counts follow), and the list as the kernel
# writes it, to check the pinning against.
SERVER_CPUS=$(taskset -c "$SERVER_CPU" nproc)
SERVER_CPU_LIST=$(taskset -c "$SERVER_CPU" awk '/^Cpus_allowed_list:/ { print $2 }' /proc/self/status)
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
	if [[ $BUILD == 1 && ($KUBEZONE -ef $DEFAULT_KUBEZONE || $KUBEZONE == "$DEFAULT_KUBEZONE") ]]; then
		log "building kubezone (cargo build --release -p kubezone)"
		(cd "$ROOT" && cargo build --release -p kubezone) ||
			die "cargo build failed; run with SERVERS=\"nsd knot\" to benchmark NSD and Knot alone"
	fi
	[[ -x $KUBEZONE ]] || die "no kubezone binary at $KUBEZONE (only the default path is built automatically)"
fi

RUN=$(mktemp -d "${TMPDIR:-/tmp}/kubezone-bench.XXXXXX")
# Every run of every size: "N<TAB>" + the columns of $HEADER.
ALL=$RUN/all.tsv
: >"$ALL"

# Generated data is cached per N and regenerated when the generator or its inputs change.
prepare_data() {
	local n=$1 stamp
	DATA=$BENCH_CACHE/$n
	stamp="N=$n QUERIES=$QUERIES gen=$(cksum <"$HERE/gen-data.sh")"
	if [[ ! -f $DATA/.stamp || $(<"$DATA/.stamp") != "$stamp" ]]; then
		log "generating $n objects into $DATA"
		rm -rf "$DATA.tmp"
		mkdir -p "$BENCH_CACHE"
		QUERIES=$QUERIES "$HERE/gen-data.sh" "$n" "$DATA.tmp"
		printf '%s\n' "$stamp" >"$DATA.tmp/.stamp"
		rm -rf "$DATA"
		mv "$DATA.tmp" "$DATA"
		# Written for $DATA.tmp; point it at the final place (a port is chosen per run anyway).
		"$HERE/gen-data.sh" --kubezone-config 5300 "$DATA" >"$DATA/kubezone.yaml"
	fi
}

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

# CPU time in clock ticks of the server's process tree: for each process, utime+stime
# (/proc/P/stat covers all of P's threads, exited ones included) plus cutime+cstime
# (children it has reaped), so a child that exits between two readings is still counted.
cpu_ticks() {
	local total=0 p line rest
	local -a f
	for p in $(tree_pids "$1"); do
		line=$(<"/proc/$p/stat") 2>/dev/null || continue
		rest=${line##*) } # fields after "pid (comm) "
		read -r -a f <<<"$rest"
		# f[0] is field 3 (state); utime, stime, cutime, cstime are fields 14-17
		total=$((total + f[11] + f[12] + f[13] + f[14]))
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

# Pin every thread of every process of the server to SERVER_CPU, then check that it held.
# Knot sets its own thread affinities, so the taskset it was started under is not enough.
pin_server() {
	local server=$1 p t allowed bad=0
	for p in $(tree_pids "$SERVER_PID"); do
		taskset -a -p -c "$SERVER_CPU" "$p" >/dev/null 2>&1 || true
	done
	for p in $(tree_pids "$SERVER_PID"); do
		for t in /proc/"$p"/task/*; do
			allowed=$(awk '/^Cpus_allowed_list:/ { print $2 }' "$t/status" 2>/dev/null) || continue
			if [[ -n $allowed && $allowed != "$SERVER_CPU_LIST" ]]; then
				log "$server: thread ${t##*/} of pid $p may run on CPUs $allowed, not only $SERVER_CPU"
				bad=1
			fi
		done
	done
	((bad == 0)) || die "could not pin $server to CPU $SERVER_CPU"
}

# On a shared machine, wait (at most QUIET_WAIT s) until everything but the idle server uses less
# than QUIET_PCT % of one CPU over one second, so that a neighbour's burst is not measured.
wait_quiet() {
	local server=$1 waited=0 b0 b1 t0 t1 pct
	((QUIET_WAIT > 0)) || return 0
	while :; do
		read -r b0 _ < <(system_ticks)
		t0=$(cpu_ticks "$SERVER_PID")
		sleep 1
		read -r b1 _ < <(system_ticks)
		t1=$(cpu_ticks "$SERVER_PID")
		pct=$(((b1 - b0 - (t1 - t0)) * 100 / CLK_TCK))
		((pct < QUIET_PCT)) && break
		if ((waited >= QUIET_WAIT)); then
			log "$server: the machine is still busy ($pct% of a CPU) after ${waited}s; measuring anyway (see other %)"
			return 0
		fi
		((waited == 0)) && log "$server: waiting for the machine to be quiet (others use $pct% of a CPU)"
		waited=$((waited + 1))
	done
	((waited == 0)) || log "$server: quiet after ${waited}s"
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

# Correctness: each line of checks.txt (existing names of every Kind, the glue, a NODATA, an
# empty non-terminal, two NXDOMAINs: rcode, AA flag and the exact answer set, hence its count),
# and with CHECK=full every name's A record.
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
	rm -rf "$dir"
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
	server-count: $SERVER_CPUS
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

start_knot() {
	local port=$1 dir=$RUN/knot
	rm -rf "$dir"
	mkdir -p "$dir/db"
	# One UDP and one TCP worker per server core; no RRL (Knot has it only as a module, not
	# loaded here); the zone file read once and never written back; no journal, no checks.
	cat >"$dir/knot.conf" <<EOF
# Written by kubezone bench/run.sh
server:
    rundir: "$dir"
    pidfile: "$dir/knot.pid"
    listen: 127.0.0.1@$port
    udp-workers: $SERVER_CPUS
    tcp-workers: $SERVER_CPUS
    background-workers: 1
database:
    storage: "$dir/db"
control:
    listen: "$dir/knot.sock"
log:
  - target: "$dir/knot.log"
    any: warning
template:
  - id: default
    storage: "$DATA/zone"
    zonefile-sync: -1
    zonefile-load: whole
    journal-content: none
    semantic-checks: off
zone:
  - domain: $ZONE
    file: "$ZONE.zone"
EOF
	knotc -c "$dir/knot.conf" conf-check >/dev/null || die "knotc conf-check rejected $dir/knot.conf"
	setsid "${PRIO[@]}" taskset -c "$SERVER_CPU" knotd -c "$dir/knot.conf" >"$dir/stdout.log" 2>&1 &
	SERVER_PID=$!
	SERVER_LOG=$dir/knot.log
}

start_kubezone() {
	local port=$1 dir=$RUN/kubezone
	rm -rf "$dir"
	mkdir -p "$dir"
	# /readyz on a port of its own, unless the extra config brings its own http section.
	KUBEZONE_HTTP_PORT=""
	if ! grep -q '^http:' <<<"$KUBEZONE_CONFIG_EXTRA"; then
		KUBEZONE_HTTP_PORT=$(free_port)
	fi
	{
		"$HERE/gen-data.sh" --kubezone-config "$port" "$DATA" "$KUBEZONE_HTTP_PORT"
		printf '%s\n' "$KUBEZONE_CONFIG_EXTRA"
	} >"$dir/kubezone.yaml"
	# shellcheck disable=SC2086 # KUBEZONE_FLAGS is a list of words
	(cd "$DATA" && KUBEZONE_LOG=${KUBEZONE_LOG:-warn} exec setsid "${PRIO[@]}" taskset -c "$SERVER_CPU" \
		"$KUBEZONE" $KUBEZONE_FLAGS "$dir/kubezone.yaml") >"$dir/stdout.log" 2>&1 &
	SERVER_PID=$!
	SERVER_LOG=$dir/stdout.log
}

# HTTP status of GET $2 on 127.0.0.1:$1, with bash's /dev/tcp (no curl needed); 000 if none.
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

# Wait until the server is ready (kubezone: /readyz says 200) and gives the expected answer
# for the first check name (all three answer it only once the zone is loaded); prints seconds.
wait_ready() {
	local server=$1 port=$2 name type rcode want start got ready=0
	read -r name type rcode want < <(grep -v '^#' "$DATA/checks.txt" | head -1)
	start=$(date +%s.%N)
	while :; do
		if ! kill -0 "$SERVER_PID" 2>/dev/null; then
			log "$server exited during startup; last log lines:"
			local -a logs=("$RUN/$server/stdout.log")
			[[ $SERVER_LOG -ef ${logs[0]} ]] || logs+=("$SERVER_LOG")
			tail -20 "${logs[@]}" >&2 2>/dev/null || true
			SERVER_PID=""
			die "$server did not start"
		fi
		if [[ $server == kubezone && -n $KUBEZONE_HTTP_PORT ]] && ((!ready)); then
			[[ $(http_status "$KUBEZONE_HTTP_PORT" /readyz) == 200 ]] && ready=1
			got="/readyz not 200"
		else
			got=$(ask "$port" "$name" "$type")
			[[ $got == "$rcode "*" $want" ]] && break
		fi
		if awk -v s="$start" -v now="$(date +%s.%N)" -v t="$STARTUP_TIMEOUT" 'BEGIN { exit !(now - s > t) }'; then
			die "$server did not answer $name $type with $want within ${STARTUP_TIMEOUT}s (last: $got)"
		fi
		sleep 0.05
	done
	awk -v s="$start" -v now="$(date +%s.%N)" 'BEGIN { printf "%.2f\n", now - s }'
}

# Value of one rcode in dnsperf's "Response codes:" line (0 if absent).
rcode_count() {
	awk -v rc="$2" '/Response codes:/ { for (i = 1; i <= NF; i++) if ($i == rc) { v = $(i + 1); gsub(/,/, "", v); print v; exit } }' "$1" | grep . || echo 0
}

dnsperf_args() {
	local port=$1
	DNSPERF=(-s 127.0.0.1 -p "$port" -m "$MODE" -d "$DATA/queries.txt" -c "$CLIENTS" -T 1
		-q "$OUTSTANDING" -t 2 -O "suppress=timeouts,unexpected")
	local -a extra
	read -ra extra <<<"$DNSPERF_ARGS"
	DNSPERF+=("${extra[@]}")
}

# dnsperf in the background, waited for, so that a signal is handled at once (the trap stops it).
# $3 = the run's length: dnsperf 2.10 sometimes never finishes (its receive thread keeps polling
# after the run), so it is killed 20 s after it should have ended and the run is made again, once.
run_dnsperf() {
	local server=$1 out=$2 limit=$(($3 + 20)) attempt status
	shift 3
	for attempt in 1 2; do
		"${PRIO[@]}" taskset -c "$CLIENT_CPU" timeout -s KILL "$limit" dnsperf "$@" >"$out" 2>&1 &
		DNSPERF_PID=$!
		status=0
		wait "$DNSPERF_PID" || status=$?
		DNSPERF_PID=""
		[[ $status == 124 || $status == 137 ]] || break
		log "$server: dnsperf still running ${limit}s after it started (attempt $attempt); killed"
	done
	if ((status != 0)); then
		tail -30 "$out" >&2
		die "dnsperf failed against $server (exit status $status)"
	fi
	grep -q 'Queries completed:' "$out" || {
		tail -30 "$out" >&2
		die "could not parse dnsperf output ($out)"
	}
	# Anything but NOERROR and NXDOMAIN means the server is broken or overloaded: no figure.
	local completed noerror nxdomain
	completed=$(awk '/Queries completed:/ { print $3 }' "$out")
	noerror=$(rcode_count "$out" NOERROR)
	nxdomain=$(rcode_count "$out" NXDOMAIN)
	if ((completed != noerror + nxdomain)); then
		grep 'Response codes:' "$out" >&2 || true
		die "$server answered $((completed - noerror - nxdomain)) queries with an rcode other than NOERROR/NXDOMAIN"
	fi
}

# The fixed-rate run's percentiles from dnsperf -v ("> RCODE name type seconds" per answer),
# counted in 1 us buckets (dnsperf's resolution): prints "p50 p99 p999 max" in us.
percentiles() {
	awk '
		$1 == ">" { b = int($NF * 1e6 + 0.5); h[b]++; n++; if (b > max) max = b }
		END {
			if (n == 0) { print "0 0 0 0"; exit }
			split("0.5 0.99 0.999", q, " ")
			for (k = 1; k <= 3; k++) { need[k] = q[k] * n; if (need[k] > int(need[k])) need[k] = int(need[k]) + 1 }
			c = 0; k = 1
			for (b = 0; b <= max && k <= 3; b++) {
				c += h[b]
				while (k <= 3 && c >= need[k]) p[k++] = b
			}
			printf "%d %d %d %d\n", p[1], p[2], p[3], max
		}' "$1"
}

# One server, one round: correctness check, the unthrottled run, memory, the fixed-rate run.
# Appends a line ($HEADER's columns) to $RESULTS.
run_one() {
	local round=$1 server=$2 port ready t0 t1 mem out qps sent completed lost lat nx sf runtime cpu resp other busy0 busy1 steal0 steal1
	local lqps=0 llost=0 lcpu=0 p50=0 p99=0 p999=0 pmax=0 lt0 lt1 lout lcompleted
	port=$(free_port)
	"start_$server" "$port"
	ready=$(wait_ready "$server" "$port")
	pin_server "$server"
	check_server "$server" "$port" || die "$server answered incorrectly (see above)"
	wait_quiet "$server"
	dnsperf_args "$port"

	# Unthrottled: qps and CPU per query.
	out=$RUN/dnsperf-$N-$server-$round.txt
	local -a args=("${DNSPERF[@]}" -l "$DURATION")
	[[ -z $QPS ]] || args+=(-Q "$QPS")
	t0=$(cpu_ticks "$SERVER_PID")
	read -r busy0 steal0 < <(system_ticks)
	# `times` in this shell: its second line is the CPU time of reaped children, i.e. dnsperf.
	times >"$RUN/times0"
	run_dnsperf "$server" "$out" "$DURATION" "${args[@]}"
	times >"$RUN/times1"
	read -r busy1 steal1 < <(system_ticks)
	t1=$(cpu_ticks "$SERVER_PID")
	mem=$(mem_kib "$SERVER_PID")
	kill -0 "$SERVER_PID" 2>/dev/null || die "$server died during the run"
	sent=$(awk '/Queries sent:/ { print $3 }' "$out")
	completed=$(awk '/Queries completed:/ { print $3 }' "$out")
	lost=$(awk '/Queries lost:/ { print $3 }' "$out")
	qps=$(awk '/Queries per second:/ { print $4 }' "$out")
	lat=$(awk '/Average Latency/ { printf "%.0f", $4 * 1e6; exit }' "$out")
	nx=$(awk '/Response codes:/ { for (i = 1; i <= NF; i++) if ($i == "NXDOMAIN") { v = $(i + 2); gsub(/[(%),]/, "", v); print v } }' "$out")
	sf=$(rcode_count "$out" SERVFAIL)
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

	# Fixed rate: latency percentiles (and CPU per query when not saturated).
	if ((LAT_DURATION > 0)); then
		lout=$RUN/dnsperf-$N-$server-$round-latency.txt
		lt0=$(cpu_ticks "$SERVER_PID")
		run_dnsperf "$server" "$lout" "$LAT_DURATION" "${DNSPERF[@]}" -l "$LAT_DURATION" -Q "$LAT_QPS" -v
		lt1=$(cpu_ticks "$SERVER_PID")
		kill -0 "$SERVER_PID" 2>/dev/null || die "$server died during the latency run"
		lqps=$(awk '/Queries per second:/ { print $4 }' "$lout")
		llost=$(awk '/Queries lost:/ { print $3 }' "$lout")
		lcompleted=$(awk '/Queries completed:/ { print $3 }' "$lout")
		lcpu=$(awk -v d="$((lt1 - lt0))" -v hz="$CLK_TCK" -v n="$lcompleted" 'BEGIN { printf "%.3f", n ? d / hz * 1e6 / n : 0 }')
		read -r p50 p99 p999 pmax < <(percentiles "$lout")
		[[ $KEEP == 1 ]] || rm -f "$lout"
	fi
	stop_server

	# Columns as in $HEADER (the first 17 are read by bench/metrics.sh: keep their order).
	local -a row=("$round" "$server" "$qps" "$sent" "$completed" "$lost" "${cpu% *}" "${mem% *}" "${mem#* }"
		"${lat:-0}" "${nx:-0}" "${sf:-0}" "$ready" "${cpu#* }" "${resp:-0}" "${other% *}" "${other#* }"
		"$lqps" "${llost:-0}" "$p50" "$p99" "$p999" "$pmax" "$lcpu")
	(
		IFS=$'\t'
		printf '%s\n' "${row[*]}"
	) | tee -a "$RESULTS" | sed "s/^/$N\t/" >>"$ALL"
	awk -F'\t' '{ printf "[bench] N=%s round %s %-8s %8.0f qps  %6.2f us/q  srv %3.0f%%  lost %s  p50 %s us  p99 %s us (lost %s)  RSS %.1f MiB  ready %ss  other %s%%\n",
		n, $1, $2, $3, $7, $14, $6, $20, $21, $19, $8 / 1024, $13, $16 }' n="$N" <<<"$(tail -1 "$RESULTS")" >&2
}

HEADER='round\tserver\tqps\tsent\tcompleted\tlost\tcpu_us_per_q\trss_kib\tpss_kib\tavg_lat_us\tnxdomain_pct\tservfail\tready_s\tserver_cpu_pct\tavg_response_bytes\tother_cpu_pct\tsteal_pct\tlat_qps\tlat_lost\tp50_us\tp99_us\tp999_us\tmax_us\tlat_cpu_us_per_q'

# ---------------------------------------------------------------- report
version_of() {
	case $1 in
	nsd) nsd -v 2>&1 | awk 'NR == 1 { print $NF }' ;;
	knot) knotd -V 2>&1 | awk 'NR == 1 { print $NF }' ;;
	dnsperf) dnsperf -H 2>&1 | awk '/^Version/ { print $2; exit }' ;;
	esac
}

deb_version() { dpkg-query -W -f '${Version}' "$1" 2>/dev/null || echo "not from a package"; }

report_header() {
	local commit dirty cores model kernel os mem
	commit=$(git -C "$ROOT" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
	# Dirty: which folders hold uncommitted changes to tracked files (the binary was built from them).
	dirty=$(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null |
		awk '{ p = $NF; n = split(p, a, "/"); d = n > 2 ? a[1] "/" a[2] : n > 1 ? a[1] : p; if (!(d in s)) { s[d] = 1; l = l (l == "" ? "" : ", ") d } c++ }
			END { if (c) printf "dirty: %d tracked file(s) modified in %s", c, l; else print "clean" }')
	cores=$(nproc)
	model=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)
	kernel=$(uname -sr)
	os=$(awk -F= '$1 == "PRETTY_NAME" { gsub(/"/, "", $2); print $2 }' /etc/os-release 2>/dev/null) || os=""
	mem=$(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
	echo "# kubezone vs NSD vs Knot"
	echo
	[[ -z $NOTE ]] || printf '%s\n\n' "$NOTE"
	echo "Written by \`$COMMAND_LINE\` (see bench/README.md for what every column means)."
	echo
	echo "| | |"
	echo "|---|---|"
	echo "| date | $(date -u '+%Y-%m-%d %H:%M UTC') |"
	echo "| commit | $commit ($dirty) |"
	echo "| kubezone | \`${KUBEZONE/#$ROOT\//}\` $("$KUBEZONE" --version 2>/dev/null | awk '{ print $NF }')$([[ " $SERVERS " == *" kubezone "* ]] || echo " (not run)") |"
	echo "| machine | $cores cores, ${model:-unknown CPU}, $mem, $kernel, $os |"
	echo "| NSD | $(version_of nsd) (Debian $(deb_version nsd)) |"
	echo "| Knot | $(version_of knot) (Debian $(deb_version knot)) |"
	echo "| dnsperf | $(version_of dnsperf) (Debian $(deb_version dnsperf)) |"
	echo "| load | $MODE; unthrottled runs of ${DURATION} s (\`-c $CLIENTS -q $OUTSTANDING${QPS:+ -Q $QPS}${DNSPERF_ARGS:+ $DNSPERF_ARGS}\`); latency runs of ${LAT_DURATION} s at $LAT_QPS qps; $ROUNDS round(s), server order rotating |"
	echo "| pinning | server on CPU $SERVER_CPU (every thread), dnsperf on CPU $CLIENT_CPU${NICE:+, nice $NICE} |"
	echo "| queries | $QUERIES, shuffled: 90% A on existing names, 5% AAAA on names with only A (NODATA), 5% names that do not exist (NXDOMAIN) |"
	echo
	echo "Only ratios between servers measured in the same round mean anything on a shared machine:"
	echo "the ratio tables divide kubezone's figure by the other server's figure of the same round,"
	echo "and their last rows are the medians of those per-round ratios."
}

# Markdown for one N from $ALL.
report_size() {
	awk -F'\t' -v N="$1" -v rounds="$ROUNDS" -v servers="$SERVERS" -v lat="$LAT_DURATION" -v latqps="$LAT_QPS" '
		function median(list, n,    i, j, t, a) {
			for (i = 1; i <= n; i++) a[i] = list[i]
			for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
			return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
		}
		function med(s, col,    i, l) { for (i = 1; i <= cnt[s]; i++) l[i] = v[s, i, col]; return median(l, cnt[s]) }
		function label(s) { return s == "nsd" ? "NSD" : s == "knot" ? "Knot" : s }
		function ratio(a, b) { return b > 0 ? sprintf("%.2f", a / b) : "-" }
		function thousands(x,    s, r) { s = sprintf("%d", x + 0.5); r = ""; while (length(s) > 3) { r = "," substr(s, length(s) - 2) r; s = substr(s, 1, length(s) - 3) } return s r }
		$1 == N {
			s = $3; if (!(s in cnt)) cnt[s] = 0
			k = ++cnt[s]
			for (c = 2; c <= NF; c++) v[s, k, c - 1] = $c
			byround[$2, s] = k
			if ($2 > maxround) maxround = $2
		}
		END {
			ns = split(servers, order, " ")
			printf "## N = %s\n\n", thousands(N)
			printf "Medians over %d round(s).\n\n", rounds
			printf "| server | qps | CPU µs/query | p50 µs | p99 µs | RSS MiB | PSS MiB | lost | srv CPU %% | other %% | ready s |\n"
			printf "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"
			for (i = 1; i <= ns; i++) { s = order[i]; if (!(s in cnt)) continue
				printf "| %s | %s | %.2f | %s | %s | %.1f | %.1f | %d + %d | %.0f | %.0f | %.2f |\n", label(s), thousands(med(s, 3)), med(s, 7),
					lat ? sprintf("%.0f", med(s, 20)) : "-", lat ? sprintf("%.0f", med(s, 21)) : "-", med(s, 8) / 1024, med(s, 9) / 1024,
					med(s, 6), med(s, 19), med(s, 14), med(s, 16), med(s, 13)
			}
			if ("kubezone" in cnt) {
				printf "\nkubezone / other server, per round (qps: higher is better for kubezone; the rest: lower is better).\n\n"
				printf "| round | vs | qps | CPU/query | p50 | p99 | RSS | PSS |\n|---|---|---:|---:|---:|---:|---:|---:|\n"
				for (i = 1; i <= ns; i++) { o = order[i]; if (o == "kubezone" || !(o in cnt)) continue
					m = 0
					for (r = 1; r <= maxround; r++) {
						if (!((r, "kubezone") in byround) || !((r, o) in byround)) continue
						a = byround[r, "kubezone"]; b = byround[r, o]; m++
						split("3 7 20 21 8 9", cols, " ")
						line = sprintf("| %d | %s |", r, label(o))
						for (c = 1; c <= 6; c++) {
							x = v["kubezone", a, cols[c]]; y = v[o, b, cols[c]]
							rt = (y > 0 && (lat || (cols[c] != 20 && cols[c] != 21))) ? x / y : -1
							rr[o, c, m] = rt
							line = line sprintf(" %s |", rt < 0 ? "-" : sprintf("%.2f", rt))
						}
						print line
					}
					if (m) {
						line = sprintf("| **median** | **%s** |", label(o))
						for (c = 1; c <= 6; c++) {
							for (j = 1; j <= m; j++) l[j] = rr[o, c, j]
							x = median(l, m)
							line = line sprintf(" **%s** |", x < 0 ? "-" : sprintf("%.2f", x))
						}
						print line
					}
				}
			}
			printf "\nEvery run.\n\n"
			printf "| round | server | qps | lost | CPU µs/q | srv CPU %% | avg resp B | NXDOMAIN %% | SERVFAIL | qps @%s | lost @%s | p50 µs | p99 µs | p99.9 µs | max µs | CPU µs/q @%s | RSS MiB | PSS MiB | ready s | other %% | steal %% |\n", latqps, latqps, latqps
			printf "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"
			for (r = 1; r <= maxround; r++) for (i = 1; i <= ns; i++) { s = order[i]
				if (!((r, s) in byround)) continue
				k = byround[r, s]
				printf "| %d | %s | %s | %d | %.2f | %.0f | %d | %.2f | %d | %s | %d | %d | %d | %d | %d | %.2f | %.1f | %.1f | %.2f | %d | %d |\n",
					r, label(s), thousands(v[s, k, 3]), v[s, k, 6], v[s, k, 7], v[s, k, 14], v[s, k, 15], v[s, k, 11], v[s, k, 12],
					thousands(v[s, k, 18]), v[s, k, 19], v[s, k, 20], v[s, k, 21], v[s, k, 22], v[s, k, 23], v[s, k, 24],
					v[s, k, 8] / 1024, v[s, k, 9] / 1024, v[s, k, 13], v[s, k, 16], v[s, k, 17]
			}
			printf "\n"
		}' "$ALL"
}

# ---------------------------------------------------------------- run
log "N=${SIZES[*]} rounds=$ROUNDS duration=${DURATION}s latency=${LAT_DURATION}s@${LAT_QPS}qps mode=$MODE" \
	"clients=$CLIENTS outstanding=$OUTSTANDING servers=\"$SERVERS\" server CPU $SERVER_CPU, dnsperf CPU $CLIENT_CPU, nice ${NICE:-unchanged}"
for N in "${SIZES[@]}"; do
	prepare_data "$N"
	RESULTS=$RUN/results-N$N.tsv
	: >"$RESULTS"
	for ((round = 1; round <= ROUNDS; round++)); do
		# Rotate the order so that every server takes every position (nsd knot kubezone,
		# knot kubezone nsd, kubezone nsd knot, ...).
		order=()
		for ((i = 0; i < ${#SERVER_LIST[@]}; i++)); do
			order+=("${SERVER_LIST[(i + round - 1) % ${#SERVER_LIST[@]}]}")
		done
		for server in "${order[@]}"; do
			run_one "$round" "$server"
		done
	done
	mkdir -p "$BENCH_CACHE"
	{
		printf '%b\n' "$HEADER"
		cat "$RESULTS"
	} >"$BENCH_CACHE/results-N$N.tsv"
	log "raw results: $BENCH_CACHE/results-N$N.tsv"
done

REPORT=$RUN/report.md
{
	report_header
	echo
	for N in "${SIZES[@]}"; do
		report_size "$N"
	done
} >"$REPORT"
cat "$REPORT"
if [[ -n $OUT_FILE ]]; then
	cp "$REPORT" "$OUT_FILE.tmp.$$"
	mv "$OUT_FILE.tmp.$$" "$OUT_FILE"
	log "report written to $OUT_FILE"
fi
