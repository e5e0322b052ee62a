#!/usr/bin/env bash
# Install the command-line tools the kubezone tests and benchmarks use, from Debian.
#
# Idempotent: a tool whose command already exists is left alone, and when every
# command is there the script prints nothing and exits 0 without touching apt.
# `apt-get update` runs only when something has to be installed.
#
# Usage: scripts/install-test-deps.sh
#   Runs as root, or through sudo when not root.
#   VERBOSE=1 shows apt's output instead of keeping it in a log file.
set -euo pipefail

# command -> Debian package that provides it.
# (dig comes from bind9-dnsutils; `dnsutils` is only a transitional package for it.)
DEPS=(
	"dig:bind9-dnsutils"
	"kdig:knot-dnsutils"
	"dnsperf:dnsperf"
	"nsd:nsd"
	"knotd:knot"
	# BIND, as a secondary in the transfer tests (tests/e2e/secondary.rs); knotc drives the
	# Knot primary there and comes with knotd. BIND and Knot are also the primaries the push
	# client updates (crates/kubezone-push/tests/primary.rs).
	"named:bind9"
	"knotc:knot"
	"taskset:util-linux"
	"ps:procps"
	"pgrep:procps"
	"openssl:openssl"
	"flock:util-linux"
	"setpriv:util-linux"
	# jemalloc, kubezone's allocator, is built from C with configure and make.
	"cc:gcc"
	"make:make"
	# The zone checks (tests/e2e/zonecheck.rs): standard checkers, run in a network namespace.
	"zonemaster-cli:zonemaster-cli"
	"dnsviz:dnsviz"
	"ip:iproute2"
)

# Server binaries live in /usr/sbin, which is not on a normal user's PATH.
PATH="$PATH:/usr/local/sbin:/usr/sbin:/sbin"
export PATH

log() { printf 'install-test-deps: %s\n' "$*"; }
die() {
	log "error: $*" >&2
	exit 1
}

have() { command -v "$1" >/dev/null 2>&1; }

missing_cmds() {
	local entry
	for entry in "${DEPS[@]}"; do
		have "${entry%%:*}" || printf '%s\n' "${entry%%:*}"
	done
}

pkg_for() {
	local entry
	for entry in "${DEPS[@]}"; do
		if [[ ${entry%%:*} == "$1" ]]; then
			printf '%s\n' "${entry#*:}"
			return 0
		fi
	done
	return 1
}

SUDO=()
if ((EUID != 0)) && have sudo; then
	SUDO=(sudo)
fi

# Debian's bind9 ships an AppArmor profile that confines named to /etc/bind, /var/cache/bind and
# /var/lib/bind, while the tests run named with its config, zones and journal in a temporary
# folder. Where AppArmor enforces that profile, it is put in complain mode (force-complain/
# keeps it so after a reboot). Nothing happens where AppArmor is off or already complains.
named_apparmor_complain() {
	local profile=/etc/apparmor.d/usr.sbin.named
	[[ -f $profile ]] || return 0
	grep -qx 'named (enforce)' /sys/kernel/security/apparmor/profiles 2>/dev/null || return 0
	have apparmor_parser || die "AppArmor enforces named's profile and apparmor_parser is missing"
	"${SUDO[@]}" ln -sf "$profile" /etc/apparmor.d/force-complain/usr.sbin.named
	"${SUDO[@]}" apparmor_parser --replace --complain "$profile"
	log "AppArmor: named's profile is now in complain mode (the tests run named from temporary folders)"
}

mapfile -t MISSING < <(missing_cmds)
if ((${#MISSING[@]} == 0)); then
	named_apparmor_complain
	exit 0
fi

# Packages to install, deduplicated, in DEPS order.
PKGS=()
for cmd in "${MISSING[@]}"; do
	pkg=$(pkg_for "$cmd")
	case " ${PKGS[*]-} " in
	*" $pkg "*) ;;
	*) PKGS+=("$pkg") ;;
	esac
done

if ((EUID != 0)) && ((${#SUDO[@]} == 0)); then
	die "not root and sudo is not available; install as root: apt-get install ${PKGS[*]}"
fi
have apt-get || die "apt-get not found (this script supports Debian/Ubuntu); install: ${PKGS[*]}"

# Server packages (nsd, knot, bind9) try to start their daemons from their postinst.
# A policy-rc.d that exits 101 tells invoke-rc.d/deb-systemd-invoke not to.
# An existing policy-rc.d (Docker images ship one) is left exactly as it is.
POLICY=/usr/sbin/policy-rc.d
CREATED_POLICY=0
LOGFILE=$(mktemp "${TMPDIR:-/tmp}/install-test-deps.XXXXXX")

# Daemons running before we start; anything matching that appears during the
# install was started by it and is stopped afterwards.
DAEMONS=(nsd knotd named)
daemon_pids() {
	local d
	for d in "${DAEMONS[@]}"; do
		pgrep -x "$d" 2>/dev/null || true
	done | sort
}
# (Only when pgrep was there before: otherwise daemons that were already running
# could not be told apart from new ones, and are left alone.)
BEFORE_PIDS=""
HAD_PGREP=0
if have pgrep; then
	HAD_PGREP=1
	BEFORE_PIDS=$(daemon_pids)
fi

cleanup() {
	if ((CREATED_POLICY)); then
		"${SUDO[@]}" rm -f "$POLICY"
	fi
	rm -f "$LOGFILE"
}
trap cleanup EXIT

if [[ ! -e $POLICY ]]; then
	CREATED_POLICY=1
	printf '#!/bin/sh\n# temporary, from kubezone scripts/install-test-deps.sh\nexit 101\n' |
		"${SUDO[@]}" tee "$POLICY" >/dev/null
	"${SUDO[@]}" chmod 0755 "$POLICY"
fi

apt() {
	# Quiet unless VERBOSE=1; on failure, show the log.
	local status=0
	if [[ ${VERBOSE:-0} == 1 ]]; then
		"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive "$@" || status=$?
	else
		"${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive "$@" >>"$LOGFILE" 2>&1 || status=$?
		if ((status != 0)); then
			cat "$LOGFILE" >&2
		fi
	fi
	return "$status"
}

log "missing: ${MISSING[*]}; installing: ${PKGS[*]}"
apt apt-get -q -o DPkg::Lock::Timeout=300 update || die "apt-get update failed"
apt apt-get -q -y -o DPkg::Lock::Timeout=300 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
	install --no-install-recommends "${PKGS[@]}" || die "apt-get install failed: ${PKGS[*]}"

# Stop any daemon the install started despite policy-rc.d (by pid, only new ones).
if ((HAD_PGREP)); then
	AFTER_PIDS=$(daemon_pids)
	NEW_PIDS=$(comm -13 <(printf '%s\n' "$BEFORE_PIDS") <(printf '%s\n' "$AFTER_PIDS") | sed '/^$/d')
	if [[ -n $NEW_PIDS ]]; then
		# shellcheck disable=SC2086 # one pid per word
		"${SUDO[@]}" kill $NEW_PIDS 2>/dev/null || true
		log "stopped daemon(s) started by the install: pid(s) $(tr "\n" " " <<<"$NEW_PIDS")"
	fi
fi

# policy-rc.d kept the servers' own services from starting now; where systemd runs, the
# services of the server packages this run installed are also kept from starting at boot. The
# tests run their own daemons with their own configs and ports.
if [[ -d /run/systemd/system ]] && have systemctl; then
	for pkg in "${PKGS[@]}"; do
		case $pkg in
		bind9) unit=named ;;
		nsd | knot) unit=$pkg ;;
		*) continue ;;
		esac
		"${SUDO[@]}" systemctl disable --quiet "$unit" 2>/dev/null || true
	done
fi

named_apparmor_complain

for pkg in "${PKGS[@]}"; do
	version=$(dpkg-query -W -f='${Version}' "$pkg" 2>/dev/null || echo '?')
	log "installed $pkg $version"
done

STILL=()
mapfile -t STILL < <(missing_cmds)
if ((${#STILL[@]})); then
	die "still missing after install: ${STILL[*]}"
fi
