#!/usr/bin/env bash
# Zone transfer figures, kubezone as the primary (release build), side by side with Knot and
# with real secondaries:
#
#   bench/transfer.sh
#
# Prints:
#   - AXFR of 100,000 names (KUBEZONE_BENCH_NAMES): time and bytes from kubezone and from Knot
#     serving the same zone, median of 5 rounds (KUBEZONE_BENCH_ROUNDS), as kdig measures them;
#   - the IXFR for one changed name in that zone;
#   - the journal's memory at its default bound (kubezone_transfer_journal_bytes, and RSS);
#   - change → answer on NSD, Knot and BIND secondaries (NOTIFY, IXFR), p50 and p99 over 200
#     changes (KUBEZONE_BENCH_CHANGES), one a second, from the manifest write and from
#     kubezone's own answer. About 4 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-test-deps.sh
cargo test --release --locked -p kubezone --test e2e transfer_bench \
	-- --ignored --nocapture --test-threads 1 2>&1 | grep -E -A2 'FIGURE|panicked|test result'
