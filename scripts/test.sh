#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run calls exactly this).
#
# Installs what the tests need (dig, kdig, ... from Debian) when it is missing, then checks
# formatting and lints and runs every test: unit tests of each crate and the end-to-end tests
# that start the kubezone binary on loopback ports.
set -euo pipefail
cd "$(dirname "$0")/.."

need_rust="1.92"
if ! command -v cargo >/dev/null 2>&1; then
	echo "test: cargo is not installed; kubezone needs Rust $need_rust or newer (https://rustup.rs)" >&2
	exit 1
fi

scripts/install-test-deps.sh

echo "test: cargo fmt --check"
cargo fmt --all -- --check
echo "test: cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "test: scripts/control-plane.sh (etcd and kube-apiserver for the live-cluster tests; the first build takes minutes)"
scripts/control-plane.sh >/dev/null
scripts/helm.sh >/dev/null
scripts/dockerfile-build.sh >/dev/null
echo "test: cargo test"
cargo test --workspace --locked
