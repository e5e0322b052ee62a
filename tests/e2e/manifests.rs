//! The manifests folder is watched: changes are served without a restart, and a broken file
//! keeps its last good objects.

use hickory_proto::{op::ResponseCode, rr::RecordType};

use crate::{
    harness::{Server, ZONE, addresses},
    objects::{ingress, service},
};

fn is_nxdomain(r: &hickory_proto::op::Message) -> bool {
    r.metadata.response_code == ResponseCode::NXDomain
}

#[test]
fn changes_on_disk_are_served_without_a_restart() {
    let web = ingress("web", "web.example.com", &["10.0.0.1"]);
    let s = Server::start(ZONE, &[("web.yaml", &web)]);
    assert_eq!(
        addresses(&s.ask("web.example.com.", RecordType::A)),
        ["10.0.0.1"]
    );

    s.write_manifest(
        "web.yaml",
        &ingress("web", "web.example.com", &["10.0.0.9"]),
    );
    s.eventually("web.example.com.", RecordType::A, |r| {
        addresses(r) == ["10.0.0.9"]
    });

    s.write_manifest("new.yaml", &service("api", "shop", "10.0.3.3"));
    s.eventually("api.shop.example.com.", RecordType::A, |r| {
        addresses(r) == ["10.0.3.3"]
    });

    std::fs::remove_file(s.manifests().join("new.yaml")).expect("remove");
    s.eventually("api.shop.example.com.", RecordType::A, is_nxdomain);
}

#[test]
fn a_broken_file_keeps_its_last_good_objects_and_is_named_with_its_line() {
    let web = ingress("web", "web.example.com", &["10.0.0.1"]);
    let other = ingress("other", "other.example.com", &["10.0.0.2"]);
    let s = Server::start(ZONE, &[("web.yaml", &web), ("other.yaml", &other)]);

    s.write_manifest(
        "web.yaml",
        "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: [broken\n",
    );
    s.write_manifest(
        "other.yaml",
        &ingress("other", "other.example.com", &["10.0.0.3"]),
    );
    s.eventually("other.example.com.", RecordType::A, |r| {
        addresses(r) == ["10.0.0.3"]
    });
    assert_eq!(
        addresses(&s.ask("web.example.com.", RecordType::A)),
        ["10.0.0.1"],
        "the broken file's last good state stays"
    );
    let log = s.log();
    assert!(log.contains("web.yaml") && log.contains("line"), "{log}");

    s.write_manifest(
        "web.yaml",
        &ingress("web", "web.example.com", &["10.0.0.4"]),
    );
    s.eventually("web.example.com.", RecordType::A, |r| {
        addresses(r) == ["10.0.0.4"]
    });
}

#[test]
fn an_invalid_host_is_reported_and_the_rest_is_served() {
    let bad = ingress("mixed", "bad_host!.example.com", &["10.0.0.1"]);
    let good = ingress("good", "good.example.com", &["10.0.0.5", "not-an-ip"]);
    let s = Server::start(ZONE, &[("bad.yaml", &bad), ("good.yaml", &good)]);
    assert_eq!(
        addresses(&s.ask("good.example.com.", RecordType::A)),
        ["10.0.0.5"]
    );
    let deadline = std::time::Instant::now() + crate::harness::PATIENCE;
    while !s.log().contains("bad_host!.example.com") && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let log = s.log();
    assert!(
        log.contains("Ingress/default/mixed") && log.contains("bad_host!.example.com"),
        "{log}"
    );
}
