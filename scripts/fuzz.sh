#!/usr/bin/env bash
# Fuzz one target for a while: scripts/fuzz.sh <translate|config|manifest|request> [seconds] [libFuzzer args...]
#
# Installs cargo-fuzz (from crates.io) and the nightly toolchain when missing, then runs the
# target at low priority on the committed corpus (fuzz/corpus/<target>/), which grows with what
# libFuzzer finds. A crash is written under fuzz/artifacts/<target>/; see docs/fuzzing.md for how
# to minimize it into fuzz/regressions/<target>/, which `cargo test -p kubezone-fuzz` replays.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
	echo "usage: scripts/fuzz.sh <translate|config|manifest|request> [seconds, default 600] [libFuzzer args...]" >&2
	exit 2
}
[ $# -ge 1 ] || usage
target=$1
seconds=${2:-600}
shift $(($# < 2 ? $# : 2))
case "$target" in
translate | config | manifest | request) ;;
*) usage ;;
esac
case "$seconds" in
'' | *[!0-9]*) usage ;;
esac

if ! rustup toolchain list | grep -q '^nightly'; then
	echo "fuzz: installing the nightly toolchain (cargo-fuzz needs it)" >&2
	rustup toolchain install nightly --profile minimal
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
	echo "fuzz: installing cargo-fuzz" >&2
	cargo install cargo-fuzz --locked
fi

# A target folder of its own: sanitizer flags would otherwise rebuild the workspace's artifacts.
export CARGO_TARGET_DIR="$PWD/fuzz/target"
# One job on one core, politely: the tests and other builds share the machine.
exec nice -n 10 cargo +nightly fuzz run --fuzz-dir fuzz "$target" "fuzz/corpus/$target" -- \
	-max_total_time="$seconds" -print_final_stats=1 "$@"
