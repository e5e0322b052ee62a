//! kubezone over real sockets: the release-shaped binary, started per test on a loopback port,
//! fed by manifests or by a real kube-apiserver (built by scripts/control-plane.sh).

mod answers;
mod chart;
mod cli;
mod cluster;
mod cluster_bench;
mod cluster_faults;
mod control_plane;
mod dig;
mod dualstack;
mod endpoints_bench;
mod fake;
mod fallthrough;
mod faults;
mod gateway;
mod gateway_l4;
mod guard;
mod harness;
mod manifests;
mod migrate;
mod multi_cluster;
mod multi_cluster_bench;
mod nsd;
mod objects;
mod operations;
#[path = "../../crates/kubezone-push/tests/primaries/mod.rs"]
mod primaries;
mod primary;
mod protocol;
mod push;
mod push_bench;
mod query_log;
mod reverse;
mod secondary;
mod soak;
mod stalls;
mod tcp_abuse;
mod templates;
mod tenancy;
mod transfer;
mod transfer_bench;
mod upstream;
mod workloads;
mod zone;
mod zonecheck;
