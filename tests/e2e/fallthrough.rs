//! Fallthrough: NXDOMAIN names of a listed sub-zone are answered by the upstream, here a second
//! kubezone that is authoritative for that sub-zone.

use hickory_proto::{op::ResponseCode, rr::RecordType};

use crate::{
    harness::{Server, Setup, ZONE, addresses},
    objects::ingress,
};

#[test]
fn would_be_nxdomain_names_of_a_fallthrough_sub_zone_go_upstream() {
    let upstream_app = ingress("legacy", "app.legacy.example.com", &["10.8.0.1"]);
    let upstream = Server::start_with(Setup {
        zones: "  - zone: legacy.example.com\n",
        extra: "",
        manifests: &[("legacy.yaml", &upstream_app)],
        ..Setup::default()
    });
    let local = ingress("www", "www.example.com", &["10.0.0.1"]);
    let extra = format!("upstream: [\"{}\"]", upstream.addr);
    let zones = format!("{ZONE}    fallthrough: [legacy]\n");
    let s = Server::start_with(Setup {
        zones: &zones,
        extra: &extra,
        manifests: &[("www.yaml", &local)],
        ..Setup::default()
    });

    let r = s.ask("app.legacy.example.com.", RecordType::A);
    assert_eq!(addresses(&r), ["10.8.0.1"], "answered upstream");
    assert!(!r.metadata.recursion_available);
    let r = s.ask("gone.legacy.example.com.", RecordType::A);
    assert_eq!(
        r.metadata.response_code,
        ResponseCode::NXDomain,
        "upstream's NXDOMAIN"
    );
    // Outside the listed sub-zone, NXDOMAIN is final and local.
    let r = s.ask("other.example.com.", RecordType::A);
    assert_eq!(r.metadata.response_code, ResponseCode::NXDomain);
    assert_eq!(r.authorities[0].name.to_ascii(), "example.com.");
    // Names that exist are never forwarded.
    assert_eq!(
        addresses(&s.ask("www.example.com.", RecordType::A)),
        ["10.0.0.1"]
    );

    drop(upstream);
    let r = s.ask("app.legacy.example.com.", RecordType::A);
    assert_eq!(
        r.metadata.response_code,
        ResponseCode::ServFail,
        "upstream gone"
    );
    // The log reaches the harness through a pipe and a reader thread, maybe after the reply.
    s.wait_for_log("fallthrough failed", 1);
}
