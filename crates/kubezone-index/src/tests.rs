//! Index behaviour with synthetic objects and no cluster.

use std::net::IpAddr;

use hickory_proto::rr::{Name, RData, RecordType};
use kubezone_model::{DnsName, Endpoint, Kind, ObjectRef, Target};

use crate::{
    Catalog, Conflict, IndexReader, IndexWriter, Lookup, NameConflict, NameKey, NameServer,
    NodeRole, ZoneConfig,
};

const T0: u32 = 1_700_000_000;

fn dns(s: &str) -> DnsName {
    DnsName::parse(s).expect("valid name")
}

fn zone(origin: &str) -> ZoneConfig {
    ZoneConfig::new(
        dns(origin),
        NameServer {
            name: dns(&format!("dns1.kube-system.{origin}")),
            addrs: vec!["192.0.2.53".parse().expect("ip")],
        },
    )
}

fn index(zones: &[&str]) -> (IndexWriter, IndexReader) {
    IndexWriter::new(zones.iter().map(|z| zone(z)).collect())
}

fn obj(kind: Kind, name: &str) -> ObjectRef {
    ObjectRef::new(kind, Some("default"), name)
}

fn ep(name: &str, targets: &[&str]) -> (usize, Endpoint) {
    ep_in(0, name, targets)
}

fn ep_in(zone: usize, name: &str, targets: &[&str]) -> (usize, Endpoint) {
    let targets = targets
        .iter()
        .map(|t| Target::parse_ip_or_host(t).expect("target"))
        .collect();
    (zone, Endpoint::new(dns(name), targets))
}

/// What a lookup found, reduced to something easy to compare.
#[derive(Debug, PartialEq)]
enum Seen {
    Records(Vec<String>),
    EmptyNonTerminal,
    Wildcard(Vec<String>),
    /// A referral from this cut (its key as a name).
    Referral(String),
    NxDomain,
    BelowNameServer,
    NoZone,
}

fn records(node: &crate::NameNode) -> Vec<String> {
    node.rrsets()
        .iter()
        .flat_map(|r| r.records(&hickory_proto::rr::Name::root()))
        .map(|r| format!("{} {}", r.record_type(), r.data))
        .collect()
}

fn seen(catalog: &Catalog, name: &str) -> Seen {
    let key = NameKey::new(&Name::from_ascii(name).expect("name")).expect("key");
    let Some(zone) = catalog.zone_for(&key) else {
        return Seen::NoZone;
    };
    match zone.lookup(&key) {
        Lookup::Found(node) if node.is_empty_non_terminal() => Seen::EmptyNonTerminal,
        Lookup::Found(node) => Seen::Records(records(node)),
        Lookup::Wildcard(node) => Seen::Wildcard(records(node)),
        Lookup::Referral(node) => Seen::Referral(
            NameKey::from_wire(node.key())
                .and_then(|(k, _)| k.to_name())
                .map(|n| n.to_string())
                .unwrap_or_default(),
        ),
        Lookup::NxDomain {
            below_nameserver: true,
        } => Seen::BelowNameServer,
        Lookup::NxDomain { .. } => Seen::NxDomain,
    }
}

fn a(ip: &str) -> String {
    format!("A {ip}")
}

#[test]
fn an_object_makes_its_names_and_their_ancestors_exist() {
    let (mut w, r) = index(&["example.com"]);
    w.apply(
        &obj(Kind::Service, "svc1"),
        [ep("svc1.ns1.example.com", &["10.0.0.1"])],
        T0,
        0,
    );
    w.publish(T0);
    let c = r.load();
    assert_eq!(
        seen(&c, "svc1.ns1.example.com."),
        Seen::Records(vec![a("10.0.0.1")])
    );
    assert_eq!(seen(&c, "ns1.example.com."), Seen::EmptyNonTerminal);
    assert_eq!(
        seen(&c, "SVC1.NS1.Example.COM."),
        seen(&c, "svc1.ns1.example.com.")
    );
    assert_eq!(seen(&c, "other.example.com."), Seen::NxDomain);
    assert_eq!(seen(&c, "x.svc1.ns1.example.com."), Seen::NxDomain);
    assert_eq!(seen(&c, "example.org."), Seen::NoZone);
}

#[test]
fn deleting_the_last_name_below_an_empty_non_terminal_removes_it() {
    let (mut w, r) = index(&["example.com"]);
    let svc = obj(Kind::Service, "svc1");
    w.apply(&svc, [ep("svc1.ns1.example.com", &["10.0.0.1"])], T0, 0);
    w.apply(
        &obj(Kind::Service, "svc2"),
        [ep("svc2.ns1.example.com", &["10.0.0.2"])],
        T0,
        0,
    );
    w.apply(&svc, [], T0, 0);
    w.publish(T0);
    assert_eq!(seen(&r.load(), "svc1.ns1.example.com."), Seen::NxDomain);
    assert_eq!(seen(&r.load(), "ns1.example.com."), Seen::EmptyNonTerminal);
    w.apply(&obj(Kind::Service, "svc2"), [], T0, 0);
    w.publish(T0);
    assert_eq!(seen(&r.load(), "ns1.example.com."), Seen::NxDomain);
    assert_eq!(
        r.load().zone(0).map(|z| z.len()),
        Some(3),
        "apex, kube-system ENT, dns1 host"
    );
}

#[test]
fn an_update_moves_an_object_from_old_names_to_new() {
    let (mut w, r) = index(&["example.com"]);
    let ing = obj(Kind::Ingress, "web");
    w.apply(&ing, [ep("a.example.com", &["10.0.0.1"])], T0, 0);
    w.apply(&ing, [ep("b.example.com", &["10.0.0.2"])], T0, 0);
    w.publish(T0);
    assert_eq!(seen(&r.load(), "a.example.com."), Seen::NxDomain);
    assert_eq!(
        seen(&r.load(), "b.example.com."),
        Seen::Records(vec![a("10.0.0.2")])
    );
}

#[test]
fn precedence_picks_the_first_kind_and_falls_back_when_it_goes() {
    let (mut w, r) = index(&["example.com"]);
    let route = obj(Kind::HttpRoute, "r");
    w.apply(
        &obj(Kind::Service, "s"),
        [ep("www.example.com", &["10.0.0.9"])],
        T0,
        0,
    );
    let conflicts = w.apply(&route, [ep("www.example.com", &["10.0.0.1"])], T0, 0);
    assert!(matches!(
        &conflicts[..],
        [NameConflict { conflict: Conflict::Shadowed { winner: Kind::HttpRoute, loser }, .. }] if loser.kind() == Kind::Service
    ));
    w.publish(T0);
    assert_eq!(
        seen(&r.load(), "www.example.com."),
        Seen::Records(vec![a("10.0.0.1")])
    );
    w.apply(&route, [], T0, 0);
    w.publish(T0);
    assert_eq!(
        seen(&r.load(), "www.example.com."),
        Seen::Records(vec![a("10.0.0.9")])
    );
}

#[test]
fn wildcards_cover_names_below_the_closest_encloser_only() {
    let (mut w, r) = index(&["example.com"]);
    w.apply(
        &obj(Kind::Ingress, "wild"),
        [ep("*.w.example.com", &["10.0.0.1"])],
        T0,
        0,
    );
    w.apply(
        &obj(Kind::Ingress, "s"),
        [ep("s.w.example.com", &["10.0.0.2"])],
        T0,
        0,
    );
    w.apply(
        &obj(Kind::Ingress, "deep"),
        [ep("x.e.w.example.com", &["10.0.0.3"])],
        T0,
        0,
    );
    w.publish(T0);
    let c = r.load();
    let wild = Seen::Wildcard(vec![a("10.0.0.1")]);
    assert_eq!(seen(&c, "a.w.example.com."), wild);
    assert_eq!(seen(&c, "a.b.w.example.com."), wild, "any depth");
    assert_eq!(seen(&c, "x.s.w.example.com."), Seen::NxDomain, "s exists");
    assert_eq!(
        seen(&c, "e.w.example.com."),
        Seen::EmptyNonTerminal,
        "ENT never covered"
    );
    assert_eq!(seen(&c, "y.e.w.example.com."), Seen::NxDomain);
    assert_eq!(
        seen(&c, "*.w.example.com."),
        Seen::Records(vec![a("10.0.0.1")]),
        "the literal wildcard name"
    );
    assert_eq!(seen(&c, "w.example.com."), Seen::EmptyNonTerminal);
    assert_eq!(seen(&c, "q.example.com."), Seen::NxDomain);
}

#[test]
fn the_apex_has_soa_and_ns_and_the_nameserver_host_its_glue() {
    let mut cfg = zone("example.com");
    cfg.secondary = Some(NameServer {
        name: dns("dns2.kube-system.example.com"),
        addrs: vec!["2001:db8::53".parse().expect("ip")],
    });
    let (mut w, r) = IndexWriter::new(vec![cfg]);
    w.publish(T0);
    let c = r.load();
    let Seen::Records(apex) = seen(&c, "example.com.") else {
        panic!("apex must exist");
    };
    assert!(
        apex.iter()
            .any(|r| r.starts_with("SOA dns1.kube-system.example.com. hostmaster.example.com.")),
        "{apex:?}"
    );
    assert!(apex.contains(&"NS dns1.kube-system.example.com.".to_string()));
    assert!(apex.contains(&"NS dns2.kube-system.example.com.".to_string()));
    assert_eq!(
        seen(&c, "dns1.kube-system.example.com."),
        Seen::Records(vec![a("192.0.2.53")])
    );
    assert_eq!(seen(&c, "kube-system.example.com."), Seen::EmptyNonTerminal);
    assert_eq!(
        seen(&c, "x.dns1.kube-system.example.com."),
        Seen::BelowNameServer
    );
    let zone = c.zone(0).expect("zone");
    assert_eq!(zone.glue().len(), 2);
    let soa = zone.soa();
    assert_eq!(soa.ttl, 60);
    let RData::SOA(soa) = &soa.data else {
        panic!("not an SOA")
    };
    assert_eq!(
        (soa.refresh, soa.retry, soa.expire, soa.minimum),
        (14_400, 3_600, 1_209_600, 300)
    );
    assert_eq!(
        zone.negative_soa().ttl,
        60,
        "min(SOA TTL, MINIMUM), RFC 2308 §3"
    );
}

#[test]
fn objects_cannot_claim_the_nameserver_host() {
    let (mut w, r) = index(&["example.com"]);
    let bad = obj(Kind::Ingress, "squatter");
    let conflicts = w.apply(
        &bad,
        [
            ep("dns1.kube-system.example.com", &["10.6.6.6"]),
            ep("ok.example.com", &["10.0.0.1"]),
        ],
        T0,
        0,
    );
    assert_eq!(
        conflicts,
        vec![NameConflict {
            name: DnsName::parse("dns1.kube-system.example.com").expect("name"),
            conflict: Conflict::Reserved { object: bad }
        }]
    );
    w.publish(T0);
    assert_eq!(
        seen(&r.load(), "dns1.kube-system.example.com."),
        Seen::Records(vec![a("192.0.2.53")])
    );
    assert_eq!(
        seen(&r.load(), "ok.example.com."),
        Seen::Records(vec![a("10.0.0.1")])
    );
}

#[test]
fn apex_records_from_objects_sit_beside_soa_and_ns_but_a_cname_does_not() {
    let (mut w, r) = index(&["example.com"]);
    w.apply(
        &obj(Kind::Ingress, "root"),
        [ep("example.com", &["10.0.0.1"])],
        T0,
        0,
    );
    let conflicts = w.apply(
        &obj(Kind::Ingress, "rootcname"),
        [ep("example.com", &["lb.example.net"])],
        T0,
        0,
    );
    assert!(matches!(
        &conflicts[..],
        [NameConflict {
            conflict: Conflict::CnameBesideData { .. },
            ..
        }]
    ));
    w.publish(T0);
    let c = r.load();
    let node = match c.zone(0).map(|z| z.lookup(&key("example.com."))) {
        Some(Lookup::Found(node)) => node,
        other => panic!("apex missing: {other:?}"),
    };
    assert_eq!(node.role(), NodeRole::Apex);
    let types: Vec<_> = node.rrsets().iter().map(|r| r.record_type()).collect();
    assert_eq!(types, [RecordType::A, RecordType::SOA, RecordType::NS]);
}

fn key(name: &str) -> NameKey {
    NameKey::new(&Name::from_ascii(name).expect("name")).expect("key")
}

#[test]
fn the_longest_zone_wins() {
    let (mut w, r) = index(&["example.com", "apps.example.com"]);
    w.apply(
        &obj(Kind::Ingress, "x"),
        [ep_in(1, "x.apps.example.com", &["10.0.0.1"])],
        T0,
        0,
    );
    w.publish(T0);
    let c = r.load();
    assert_eq!(
        c.zone_for(&key("x.apps.example.com.")).map(|z| z.id()),
        Some(1)
    );
    assert_eq!(
        c.zone_for(&key("apps.example.com.")).map(|z| z.id()),
        Some(1)
    );
    assert_eq!(c.zone_for(&key("x.example.com.")).map(|z| z.id()), Some(0));
    assert_eq!(
        c.zone_for(&key("xapps.example.com.")).map(|z| z.id()),
        Some(0)
    );
    assert_eq!(
        seen(&c, "x.apps.example.com."),
        Seen::Records(vec![a("10.0.0.1")])
    );
}

#[test]
fn the_first_serial_is_the_newest_write_and_moves_only_with_content() {
    let (mut w, r) = index(&["example.com", "other.org"]);
    let serial = |r: &IndexReader, id| r.load().zone(id).map(|z| z.serial());
    let web = obj(Kind::Ingress, "a");
    w.apply(&web, [ep("a.example.com", &["10.0.0.1"])], T0 - 300, 0);
    w.apply(
        &obj(Kind::Ingress, "b"),
        [ep("b.example.com", &["10.0.0.9"])],
        T0 - 600,
        0,
    );
    w.set_ready(true);
    w.publish(T0 + 1000);
    assert_eq!(
        serial(&r, 0),
        Some(T0 - 300),
        "the newest write, not the clock"
    );
    assert_eq!(serial(&r, 1), Some(1), "an empty zone starts at 1");

    w.apply(&web, [ep("a.example.com", &["10.0.0.1"])], T0 - 10, 0);
    w.publish(T0 + 1000);
    assert_eq!(
        serial(&r, 0),
        Some(T0 - 300),
        "a write that changes no record"
    );

    w.apply(&web, [ep("a.example.com", &["10.0.0.2"])], T0 - 5, 0);
    w.publish(T0 + 1000);
    assert_eq!(serial(&r, 0), Some(T0 - 5));
    assert_eq!(serial(&r, 1), Some(1), "other zones keep their serial");

    // A deletion has no write time: one more, once the clock allows it.
    w.apply(&obj(Kind::Ingress, "b"), [], 0, 0);
    assert_eq!(w.publish(T0 - 5), Some(T0 - 4), "waits for the next second");
    assert_eq!(
        seen(&r.load(), "b.example.com."),
        Seen::NxDomain,
        "served at once"
    );
    assert_eq!(serial(&r, 0), Some(T0 - 5));
    assert_eq!(w.publish(T0 - 4), None);
    assert_eq!(serial(&r, 0), Some(T0 - 4));
}

#[test]
fn replicas_that_see_the_same_objects_agree_in_any_order() {
    let objects = [
        (
            obj(Kind::Ingress, "a"),
            "a.example.com",
            "10.0.0.1",
            T0 - 30,
        ),
        (
            obj(Kind::Service, "b"),
            "b.example.com",
            "10.0.0.2",
            T0 - 20,
        ),
        (
            obj(Kind::DnsEndpoint, "c"),
            "c.example.com",
            "10.0.0.3",
            T0 - 90,
        ),
    ];
    let mut seen_serials = Vec::new();
    for (order, now) in [([0, 1, 2], T0), ([2, 1, 0], T0 + 2), ([1, 2, 0], T0 + 3600)] {
        let (mut w, r) = index(&["example.com"]);
        for i in order {
            let (o, name, ip, written) = &objects[i];
            w.apply(o, [ep(name, &[ip])], *written, 0);
            w.publish(now);
        }
        w.set_ready(true);
        w.publish(now);
        seen_serials.push((
            r.load().zone(0).map(|z| z.serial()),
            r.load().zone(0).map(|z| z.fingerprint()),
        ));
    }
    assert!(
        seen_serials.windows(2).all(|w| w[0] == w[1]),
        "{seen_serials:?}"
    );
    assert_eq!(seen_serials[0].0, Some(T0 - 20));
}

#[test]
fn a_reload_starts_from_the_running_serial() {
    let (mut w, r) = index(&["example.com"]);
    w.apply(
        &obj(Kind::Ingress, "a"),
        [ep("a.example.com", &["10.0.0.1"])],
        T0,
        0,
    );
    w.set_ready(true);
    w.publish(T0 + 50);
    let old = r
        .load()
        .zone(0)
        .map(|z| (z.serial(), z.fingerprint()))
        .expect("zone");
    let floor = crate::SerialFloor {
        serial: old.0 + 7,
        fingerprint: old.1,
    };
    let reload = |targets: &[&str]| {
        let (mut w, r) = IndexWriter::with_floors(vec![zone("example.com")], |_| Some(floor));
        w.apply(
            &obj(Kind::Ingress, "a"),
            [ep("a.example.com", targets)],
            T0,
            0,
        );
        w.set_ready(true);
        w.publish(T0 + 60);
        r.load().zone(0).map(|z| z.serial())
    };
    assert_eq!(
        reload(&["10.0.0.1"]),
        Some(T0 + 7),
        "same content, same serial"
    );
    assert_eq!(
        reload(&["10.0.0.9"]),
        Some(T0 + 8),
        "new content, the next one"
    );
}

#[test]
fn readers_keep_their_snapshot_while_the_writer_moves_on() {
    let (mut w, r) = index(&["example.com"]);
    w.apply(
        &obj(Kind::Ingress, "a"),
        [ep("a.example.com", &["10.0.0.1"])],
        T0,
        0,
    );
    w.publish(T0);
    let before = r.load_full();
    w.apply(
        &obj(Kind::Ingress, "a"),
        [ep("a.example.com", &["10.0.0.2"])],
        T0,
        0,
    );
    assert_eq!(
        seen(&r.load(), "a.example.com."),
        Seen::Records(vec![a("10.0.0.1")]),
        "unpublished changes are invisible"
    );
    w.publish(T0);
    assert_eq!(
        seen(&before, "a.example.com."),
        Seen::Records(vec![a("10.0.0.1")])
    );
    assert_eq!(
        seen(&r.load(), "a.example.com."),
        Seen::Records(vec![a("10.0.0.2")])
    );
}

#[test]
fn kinds_a_zone_does_not_serve_are_ignored() {
    let mut cfg = zone("example.com");
    cfg.precedence = vec![Kind::Ingress];
    let (mut w, r) = IndexWriter::new(vec![cfg]);
    w.apply(
        &obj(Kind::Service, "s"),
        [ep("s.example.com", &["10.0.0.1"])],
        T0,
        0,
    );
    w.publish(T0);
    assert_eq!(seen(&r.load(), "s.example.com."), Seen::NxDomain);
}

#[test]
fn glue_follows_the_nameserver_addresses() {
    let (mut w, r) = index(&["example.com"]);
    let addrs: Vec<IpAddr> = vec!["198.51.100.7".parse().expect("ip")];
    w.set_nameservers(0, Some(addrs), None, T0);
    w.publish(T0);
    assert_eq!(
        seen(&r.load(), "dns1.kube-system.example.com."),
        Seen::Records(vec![a("198.51.100.7")])
    );
    assert_eq!(r.load().zone(0).map(|z| z.glue().len()), Some(1));
}

#[test]
fn readiness_is_published_with_the_snapshot() {
    let (mut w, r) = index(&["example.com"]);
    assert!(!r.load().is_ready());
    w.set_ready(true);
    assert!(!r.load().is_ready());
    w.publish(T0);
    assert!(r.load().is_ready());
}

#[test]
fn provenance_names_the_objects_behind_a_name() {
    let (mut w, r) = index(&["example.com"]);
    w.apply(
        &obj(Kind::Ingress, "a"),
        [ep("www.example.com", &["10.0.0.1"])],
        T0,
        0,
    );
    w.apply(
        &obj(Kind::Ingress, "b"),
        [ep("www.example.com", &["10.0.0.2"])],
        T0,
        0,
    );
    w.publish(T0);
    let c = r.load();
    let node = c
        .zone(0)
        .and_then(|z| z.get(&Name::from_ascii("www.example.com.").expect("name")))
        .expect("node");
    let p = node.provenance().expect("provenance");
    assert_eq!(p.winner, Some(Kind::Ingress));
    let names: Vec<_> = p.sources.iter().map(ToString::to_string).collect();
    assert_eq!(names, ["Ingress/default/a", "Ingress/default/b"]);
}

#[test]
fn names_are_counted_per_kind_as_objects_come_and_go() {
    let (mut w, _r) = index(&["example.com"]);
    let web = obj(Kind::Ingress, "web");
    w.apply(
        &web,
        [
            ep("a.example.com", &["10.0.0.1"]),
            ep("b.example.com", &["10.0.0.2"]),
        ],
        T0,
        0,
    );
    w.apply(
        &obj(Kind::Service, "db"),
        [ep("a.example.com", &["10.0.0.3"])],
        T0,
        0,
    );
    assert_eq!(
        w.names_by_kind(0),
        [(Kind::Ingress, 2), (Kind::Service, 1)],
        "a shadowed claim still counts for its Kind"
    );
    w.apply(&web, [ep("c.example.com", &["10.0.0.1"])], T0, 0);
    assert_eq!(w.names_by_kind(0), [(Kind::Ingress, 1), (Kind::Service, 1)]);
    w.apply(&web, [], T0, 0);
    assert_eq!(w.names_by_kind(0), [(Kind::Ingress, 0), (Kind::Service, 1)]);
    assert_eq!(w.names_by_kind(7), []);
}

fn static_record(name: &str, rtype: &str, data: &str, i: usize) -> crate::StaticRecord {
    crate::StaticRecord {
        name: dns(name),
        ttl: None,
        data: kubezone_model::RecordData::parse_typed(rtype, data, None).expect("record"),
        source: format!("zones[0].records[{i}]"),
    }
}

#[test]
fn ns_below_the_apex_delegates_everything_at_and_below_it() {
    let mut cfg = zone("example.com");
    cfg.records = vec![
        static_record("lab.example.com", "NS", "ns1.lab.example.com.", 0),
        static_record("lab.example.com", "NS", "ns.other.example.net.", 1),
        static_record("ns1.lab.example.com", "A", "192.0.2.80", 2),
        static_record("*.example.com", "A", "192.0.2.99", 3),
        static_record("example.com", "MX", "10 mail.example.com.", 4),
    ];
    let (mut w, r) = IndexWriter::new(vec![cfg]);
    w.apply(
        &obj(Kind::Ingress, "shadowed"),
        [ep("www.lab.example.com", &["10.0.0.1"])],
        T0,
        0,
    );
    w.set_ready(true);
    w.publish(T0);
    let c = r.load();
    for name in [
        "lab.example.com.",
        "www.lab.example.com.",
        "ns1.lab.example.com.",
        "a.b.lab.example.com.",
    ] {
        assert_eq!(
            seen(&c, name),
            Seen::Referral("lab.example.com.".into()),
            "{name}"
        );
    }
    assert_eq!(
        seen(&c, "other.example.com."),
        Seen::Wildcard(vec![a("192.0.2.99")])
    );
    let zone = c.zone(0).expect("zone");
    let glue: Vec<String> = zone
        .addresses(
            NameKey::new(&Name::from_ascii("ns1.lab.example.com.").expect("n"))
                .expect("k")
                .as_bytes(),
        )
        .flat_map(|r| r.records(&Name::root()))
        .map(|r| r.data.to_string())
        .collect();
    assert_eq!(
        glue,
        ["192.0.2.80"],
        "glue below the cut stays reachable for referrals"
    );
    let Seen::Records(apex) = seen(&c, "example.com.") else {
        panic!("apex");
    };
    assert!(
        apex.contains(&"MX 10 mail.example.com.".to_string()),
        "{apex:?}"
    );
    assert!(
        w.static_conflicts().is_empty(),
        "{:?}",
        w.static_conflicts()
    );

    // Removing the cut serves what was below it again.
    let (mut w, r) = IndexWriter::new(vec![zone_without_cut()]);
    w.apply(
        &obj(Kind::Ingress, "shadowed"),
        [ep("www.lab.example.com", &["10.0.0.1"])],
        T0,
        0,
    );
    w.publish(T0);
    assert_eq!(
        seen(&r.load(), "www.lab.example.com."),
        Seen::Records(vec![a("10.0.0.1")])
    );
}

fn zone_without_cut() -> ZoneConfig {
    zone("example.com")
}

#[test]
fn a_dns_endpoint_ns_record_makes_a_cut_that_comes_and_goes() {
    let (mut w, r) = index(&["example.com"]);
    let delegation = obj(Kind::DnsEndpoint, "acme");
    let ns = Target::Record(
        kubezone_model::RecordData::parse_typed("NS", "ns.acme.example.net.", None).expect("ns"),
    );
    w.apply(
        &obj(Kind::Ingress, "web"),
        [ep("_acme-challenge.www.example.com", &["10.0.0.1"])],
        T0,
        0,
    );
    w.apply(
        &delegation,
        [(
            0,
            Endpoint::new(dns("_acme-challenge.www.example.com"), vec![ns]),
        )],
        T0,
        0,
    );
    w.publish(T0);
    // The Ingress ranks before DNSEndpoint: the A record wins and no cut is made.
    assert_eq!(
        seen(&r.load(), "_acme-challenge.www.example.com."),
        Seen::Records(vec![a("10.0.0.1")])
    );
    w.apply(&obj(Kind::Ingress, "web"), [], 0, 0);
    w.publish(T0);
    assert_eq!(
        seen(&r.load(), "x._acme-challenge.www.example.com."),
        Seen::Referral("_acme-challenge.www.example.com.".into())
    );
    w.apply(&delegation, [], 0, 0);
    w.publish(T0);
    assert_eq!(
        seen(&r.load(), "x._acme-challenge.www.example.com."),
        Seen::NxDomain
    );
}

#[test]
fn with_first_namespace_claims_a_name_stays_with_the_namespace_that_took_it_first() {
    let mut config = zone("example.com");
    config.claims = crate::NameClaims::FirstNamespace;
    let (mut w, r) = IndexWriter::new(vec![config]);
    let team_a = ObjectRef::new(Kind::Ingress, Some("team-a"), "web");
    let team_b = ObjectRef::new(Kind::HttpRoute, Some("team-b"), "steal");
    w.apply(
        &team_a,
        [ep("www.example.com", &["10.0.0.1"])],
        T0,
        T0 - 100,
    );
    // An HTTPRoute comes first in resources; created later, in another namespace, it loses.
    let conflicts = w.apply(&team_b, [ep("www.example.com", &["10.6.6.6"])], T0, T0);
    assert!(
        matches!(
            &conflicts[..],
            [NameConflict { name, conflict: Conflict::Claimed { owner, loser } }]
                if name.to_string() == "www.example.com." && *owner == team_a && *loser == team_b
        ),
        "{conflicts:?}"
    );
    w.publish(T0);
    assert_eq!(
        seen(&r.load(), "www.example.com."),
        Seen::Records(vec![a("10.0.0.1")])
    );
    // The owner lets go: the other namespace's claim is served.
    w.apply(&team_a, [], T0 + 1, 0);
    w.publish(T0 + 1);
    assert_eq!(
        seen(&r.load(), "www.example.com."),
        Seen::Records(vec![a("10.6.6.6")])
    );
}

#[test]
fn without_the_rule_precedence_decides_across_namespaces() {
    let (mut w, r) = index(&["example.com"]);
    let team_a = ObjectRef::new(Kind::Ingress, Some("team-a"), "web");
    let team_b = ObjectRef::new(Kind::HttpRoute, Some("team-b"), "steal");
    w.apply(
        &team_a,
        [ep("www.example.com", &["10.0.0.1"])],
        T0,
        T0 - 100,
    );
    w.apply(&team_b, [ep("www.example.com", &["10.6.6.6"])], T0, T0);
    w.publish(T0);
    assert_eq!(
        seen(&r.load(), "www.example.com."),
        Seen::Records(vec![a("10.6.6.6")])
    );
}

#[test]
fn a_refused_namespace_keeps_its_claims_unserved_until_admitted() {
    let (mut w, r) = index(&["example.com"]);
    let web = ObjectRef::new(Kind::Ingress, Some("team-b"), "web");
    w.refuse_namespace(
        0,
        "team-b",
        Some("namespace team-b is not in [team-a]".into()),
    );
    let conflicts = w.apply(&web, [ep("www.example.com", &["10.0.0.1"])], T0, T0);
    assert!(
        matches!(
            &conflicts[..],
            [NameConflict { conflict: Conflict::NotAdmitted { object, why }, .. }]
                if *object == web && why.contains("team-b")
        ),
        "{conflicts:?}"
    );
    w.publish(T0);
    assert_eq!(seen(&r.load(), "www.example.com."), Seen::NxDomain);
    // Reported from the writer's list of current conflicts too, though the name has no node.
    assert_eq!(w.conflicts().len(), 1);

    // Admitted (its labels changed): served at once, no conflict left.
    let conflicts = w.refuse_namespace(0, "team-b", None);
    assert!(conflicts.is_empty(), "{conflicts:?}");
    w.publish(T0 + 1);
    assert_eq!(
        seen(&r.load(), "www.example.com."),
        Seen::Records(vec![a("10.0.0.1")])
    );
    assert!(w.conflicts().is_empty());
    // Refused again: gone again, and the same refusal twice changes nothing.
    assert_eq!(w.refuse_namespace(0, "team-b", Some("no".into())).len(), 1);
    assert!(
        w.refuse_namespace(0, "team-b", Some("no".into()))
            .is_empty()
    );
    w.publish(T0 + 2);
    assert_eq!(seen(&r.load(), "www.example.com."), Seen::NxDomain);
}
