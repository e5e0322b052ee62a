//! Reverse zones with synthetic objects: which forward name each PTR points at, and how PTRs
//! follow the forward zones' changes.

use hickory_proto::rr::{Name, RecordType};
use kubezone_model::{DnsName, Endpoint, Kind, ObjectRef, RecordData, Target};

use crate::{
    Catalog, IndexReader, IndexWriter, Lookup, NameKey, NameServer, StaticRecord, ZoneConfig,
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

/// `example.com` (zone 0) and the reverse zones after it.
fn index(reverse: &[&str]) -> (IndexWriter, IndexReader) {
    let mut zones = vec![zone("example.com")];
    zones.extend(reverse.iter().map(|z| zone(z)));
    IndexWriter::new(zones)
}

fn obj(kind: Kind, name: &str) -> ObjectRef {
    ObjectRef::new(kind, Some("default"), name)
}

fn ep(name: &str, targets: &[&str]) -> (usize, Endpoint) {
    let targets = targets
        .iter()
        .map(|t| Target::parse_ip_or_host(t).expect("target"))
        .collect();
    (0, Endpoint::new(dns(name), targets))
}

fn put(w: &mut IndexWriter, object: &ObjectRef, name: &str, targets: &[&str]) {
    w.apply(object, [ep(name, targets)], T0, 0);
    w.publish(T0);
}

fn delete(w: &mut IndexWriter, object: &ObjectRef) {
    w.apply(object, [], 0, 0);
    w.publish(T0);
}

fn reverse_name(addr: &str) -> String {
    let addr: std::net::IpAddr = addr.parse().expect("ip");
    Name::from(addr).to_string()
}

/// What a reverse name serves: its records, `NXDOMAIN`, or `no zone`.
fn at(catalog: &Catalog, name: &str) -> Vec<String> {
    let key = NameKey::new(&Name::from_ascii(name).expect("name")).expect("key");
    let Some(zone) = catalog.zone_for(&key) else {
        return vec!["no zone".into()];
    };
    match zone.lookup(&key) {
        Lookup::Found(node) => node
            .rrsets()
            .iter()
            .flat_map(|r| r.records(&Name::root()))
            .map(|r| format!("{} {}", r.record_type(), r.data))
            .collect(),
        other => vec![format!("{other:?}")],
    }
}

/// The PTR target at `addr`'s reverse name, if any.
fn ptr(r: &IndexReader, addr: &str) -> Option<String> {
    let records = at(&r.load(), &reverse_name(addr));
    records
        .iter()
        .find_map(|line| line.strip_prefix("PTR "))
        .map(str::to_string)
}

#[test]
fn the_first_kind_in_resources_names_an_address_others_share() {
    let (mut w, r) = index(&["10.in-addr.arpa"]);
    put(
        &mut w,
        &obj(Kind::Service, "api"),
        "aaa.example.com",
        &["10.0.0.1"],
    );
    assert_eq!(ptr(&r, "10.0.0.1").as_deref(), Some("aaa.example.com."));
    put(
        &mut w,
        &obj(Kind::Ingress, "web"),
        "www.example.com",
        &["10.0.0.1"],
    );
    assert_eq!(
        ptr(&r, "10.0.0.1").as_deref(),
        Some("www.example.com."),
        "Ingress comes before Service in resources, whatever the names' order"
    );
    put(
        &mut w,
        &obj(Kind::HttpRoute, "route"),
        "zzz.example.com",
        &["10.0.0.1"],
    );
    assert_eq!(ptr(&r, "10.0.0.1").as_deref(), Some("zzz.example.com."));
    delete(&mut w, &obj(Kind::HttpRoute, "route"));
    assert_eq!(ptr(&r, "10.0.0.1").as_deref(), Some("www.example.com."));
    delete(&mut w, &obj(Kind::Ingress, "web"));
    assert_eq!(ptr(&r, "10.0.0.1").as_deref(), Some("aaa.example.com."));
}

#[test]
fn names_of_one_kind_go_in_canonical_order_whatever_came_first() {
    let names = ["b.example.com", "a.z.example.com", "z.example.com"];
    for order in [[0, 1, 2], [2, 1, 0], [1, 2, 0]] {
        let (mut w, r) = index(&["10.in-addr.arpa"]);
        for i in order {
            let name = names[i];
            put(&mut w, &obj(Kind::Ingress, name), name, &["10.0.0.1"]);
        }
        assert_eq!(ptr(&r, "10.0.0.1").as_deref(), Some("b.example.com."));
        delete(&mut w, &obj(Kind::Ingress, "b.example.com"));
        assert_eq!(ptr(&r, "10.0.0.1").as_deref(), Some("z.example.com."));
    }
}

#[test]
fn a_changed_address_moves_the_ptr_and_the_serial() {
    let (mut w, r) = index(&["10.in-addr.arpa"]);
    w.set_ready(true);
    let web = obj(Kind::Ingress, "web");
    put(&mut w, &web, "www.example.com", &["10.0.0.1"]);
    let serial = |r: &IndexReader| r.load().zone(1).map(|z| z.serial());
    assert_eq!(
        serial(&r),
        Some(T0),
        "the first serial is the newest write behind the PTRs"
    );
    w.apply(&web, [ep("www.example.com", &["10.0.0.2"])], T0 + 5, 0);
    w.publish(T0 + 5);
    assert_eq!(ptr(&r, "10.0.0.1"), None);
    assert_eq!(
        at(&r.load(), &reverse_name("10.0.0.1")),
        ["NxDomain { below_nameserver: false }"]
    );
    assert_eq!(ptr(&r, "10.0.0.2").as_deref(), Some("www.example.com."));
    assert_eq!(serial(&r), Some(T0 + 5));
    // The forward name moves: the PTR follows it.
    w.apply(&web, [ep("shop.example.com", &["10.0.0.2"])], T0 + 9, 0);
    w.publish(T0 + 9);
    assert_eq!(ptr(&r, "10.0.0.2").as_deref(), Some("shop.example.com."));
    assert_eq!(serial(&r), Some(T0 + 9));
}

#[test]
fn a_delete_removes_the_ptr_and_the_empty_non_terminals_above_it() {
    let (mut w, r) = index(&["10.in-addr.arpa"]);
    let web = obj(Kind::Ingress, "web");
    put(&mut w, &web, "www.example.com", &["10.1.2.3", "10.1.2.4"]);
    assert_eq!(at(&r.load(), "2.1.10.in-addr.arpa."), Vec::<String>::new());
    delete(&mut w, &web);
    for name in [
        "3.2.1.10.in-addr.arpa.",
        "2.1.10.in-addr.arpa.",
        "1.10.in-addr.arpa.",
    ] {
        assert_eq!(
            at(&r.load(), name),
            ["NxDomain { below_nameserver: false }"],
            "{name}"
        );
    }
    let reverse = r.load();
    let apex_only: Vec<_> = reverse
        .zone(1)
        .map(|z| z.nodes().count())
        .into_iter()
        .collect();
    assert_eq!(
        apex_only,
        [3],
        "the apex, the nameserver host and the empty non-terminal above it"
    );
}

#[test]
fn ipv6_addresses_get_their_ptr_under_ip6_arpa() {
    let (mut w, r) = index(&["8.b.d.0.1.0.0.2.ip6.arpa"]);
    put(
        &mut w,
        &obj(Kind::Ingress, "web"),
        "www.example.com",
        &["2001:db8::1", "10.0.0.1", "2001:db9::1"],
    );
    assert_eq!(ptr(&r, "2001:db8::1").as_deref(), Some("www.example.com."));
    assert_eq!(ptr(&r, "10.0.0.1"), None, "no IPv4 reverse zone");
    assert_eq!(
        at(&r.load(), &reverse_name("2001:db9::1")),
        ["no zone"],
        "outside the reverse zone"
    );
}

#[test]
fn an_address_outside_every_reverse_zone_adds_nothing() {
    let (mut w, r) = index(&["10.in-addr.arpa"]);
    let before = r.load().zone(1).map(|z| (z.len(), z.fingerprint()));
    put(
        &mut w,
        &obj(Kind::Ingress, "web"),
        "www.example.com",
        &["192.0.2.10"],
    );
    assert_eq!(r.load().zone(1).map(|z| (z.len(), z.fingerprint())), before);
}

fn static_record(zone: usize, i: usize, name: &str, rtype: &str, data: &str) -> StaticRecord {
    StaticRecord {
        name: dns(name),
        ttl: None,
        data: RecordData::parse_typed(rtype, data, None).expect("record"),
        source: format!("zones[{zone}].records[{i}]"),
    }
}

#[test]
fn a_reverse_zones_static_records_replace_or_sit_beside_the_derived_ptr() {
    let mut reverse = zone("0.0.10.in-addr.arpa");
    reverse.records = vec![
        static_record(1, 0, "1.0.0.10.in-addr.arpa", "PTR", "mail.example.net."),
        static_record(1, 1, "2.0.0.10.in-addr.arpa", "TXT", "rack4"),
        static_record(
            1,
            2,
            "3.0.0.10.in-addr.arpa",
            "CNAME",
            "3.0-25.0.0.10.in-addr.arpa.",
        ),
    ];
    let (mut w, r) = IndexWriter::new(vec![zone("example.com"), reverse]);
    put(
        &mut w,
        &obj(Kind::Ingress, "web"),
        "www.example.com",
        &["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"],
    );
    let c = r.load();
    assert_eq!(
        at(&c, "1.0.0.10.in-addr.arpa."),
        ["PTR mail.example.net."],
        "the config's PTR replaces the derived one"
    );
    assert_eq!(
        at(&c, "2.0.0.10.in-addr.arpa."),
        ["PTR www.example.com.", "TXT rack4"]
    );
    assert_eq!(
        at(&c, "3.0.0.10.in-addr.arpa."),
        ["CNAME 3.0-25.0.0.10.in-addr.arpa."]
    );
    assert_eq!(at(&c, "4.0.0.10.in-addr.arpa."), ["PTR www.example.com."]);
    assert!(w.conflicts().is_empty(), "{:?}", w.conflicts());
    drop(c);
    delete(&mut w, &obj(Kind::Ingress, "web"));
    let c = r.load();
    assert_eq!(at(&c, "1.0.0.10.in-addr.arpa."), ["PTR mail.example.net."]);
    assert_eq!(at(&c, "2.0.0.10.in-addr.arpa."), ["TXT rack4"]);
}

#[test]
fn the_reverse_zones_own_objects_come_before_derived_ptrs() {
    let (mut w, r) = index(&["10.in-addr.arpa"]);
    put(
        &mut w,
        &obj(Kind::Ingress, "web"),
        "www.example.com",
        &["10.0.0.1"],
    );
    let ptr_record =
        Target::Record(RecordData::parse_typed("PTR", "host.example.net.", None).expect("record"));
    let explicit = obj(Kind::DnsEndpoint, "ptr");
    w.apply(
        &explicit,
        [(
            1,
            Endpoint::new(dns("1.0.0.10.in-addr.arpa"), vec![ptr_record]),
        )],
        T0,
        0,
    );
    w.publish(T0);
    assert_eq!(ptr(&r, "10.0.0.1").as_deref(), Some("host.example.net."));
    assert!(w.conflicts().is_empty(), "{:?}", w.conflicts());
    delete(&mut w, &explicit);
    assert_eq!(ptr(&r, "10.0.0.1").as_deref(), Some("www.example.com."));
}

#[test]
fn only_addresses_the_forward_name_serves_count() {
    let (mut w, r) = index(&["10.in-addr.arpa"]);
    let web = obj(Kind::Ingress, "web");
    let svc = obj(Kind::Service, "www");
    put(&mut w, &svc, "www.example.com", &["10.0.0.9"]);
    put(&mut w, &web, "www.example.com", &["10.0.0.1"]);
    assert_eq!(ptr(&r, "10.0.0.1").as_deref(), Some("www.example.com."));
    assert_eq!(ptr(&r, "10.0.0.9"), None, "the Service is shadowed at www");
    delete(&mut w, &web);
    assert_eq!(ptr(&r, "10.0.0.1"), None);
    assert_eq!(ptr(&r, "10.0.0.9").as_deref(), Some("www.example.com."));
}

#[test]
fn static_records_and_nameserver_glue_come_before_every_kind() {
    let mut forward = zone("example.com");
    forward.nameserver.addrs = vec!["10.0.0.53".parse().expect("ip")];
    forward.records = vec![static_record(0, 0, "mail.example.com", "A", "10.0.0.25")];
    let (mut w, r) = IndexWriter::new(vec![forward, zone("10.in-addr.arpa")]);
    for addr in ["10.0.0.25", "10.0.0.53"] {
        put(
            &mut w,
            &obj(Kind::HttpRoute, addr),
            &format!("a{}.example.com", addr.replace('.', "-")),
            &[addr],
        );
    }
    assert_eq!(ptr(&r, "10.0.0.25").as_deref(), Some("mail.example.com."));
    assert_eq!(
        ptr(&r, "10.0.0.53").as_deref(),
        Some("dns1.kube-system.example.com.")
    );
    w.set_nameservers(0, Some(vec!["10.0.0.54".parse().expect("ip")]), None, T0);
    w.publish(T0);
    assert_eq!(
        ptr(&r, "10.0.0.53").as_deref(),
        Some("a10-0-0-53.example.com."),
        "the glue moved away"
    );
    assert_eq!(
        ptr(&r, "10.0.0.54").as_deref(),
        Some("dns1.kube-system.example.com.")
    );
}

#[test]
fn a_refused_namespace_takes_its_ptrs_with_it() {
    let (mut w, r) = index(&["10.in-addr.arpa"]);
    put(
        &mut w,
        &obj(Kind::Ingress, "web"),
        "www.example.com",
        &["10.0.0.1"],
    );
    w.refuse_namespace(0, "default", Some("not admitted".into()));
    w.publish(T0);
    assert_eq!(ptr(&r, "10.0.0.1"), None);
    w.refuse_namespace(0, "default", None);
    w.publish(T0);
    assert_eq!(ptr(&r, "10.0.0.1").as_deref(), Some("www.example.com."));
}

#[test]
fn wildcards_get_no_ptr() {
    let (mut w, r) = index(&["10.in-addr.arpa"]);
    put(
        &mut w,
        &obj(Kind::Ingress, "apps"),
        "*.apps.example.com",
        &["10.0.0.7"],
    );
    assert_eq!(ptr(&r, "10.0.0.7"), None);
}

#[test]
fn ranks_compare_across_forward_zones_and_the_longest_reverse_zone_serves() {
    let mut other = zone("example.org");
    other.precedence = vec![Kind::Service, Kind::Ingress];
    let (mut w, r) = IndexWriter::new(vec![
        zone("example.com"),
        other,
        zone("10.in-addr.arpa"),
        zone("1.10.in-addr.arpa"),
    ]);
    w.apply(
        &obj(Kind::Ingress, "web"),
        [ep("a.example.com", &["10.1.0.1"])],
        T0,
        0,
    );
    w.apply(
        &obj(Kind::Service, "svc"),
        [(
            1,
            Endpoint::new(
                dns("z.example.org"),
                vec![Target::parse_ip("10.1.0.1").expect("ip")],
            ),
        )],
        T0,
        0,
    );
    w.publish(T0);
    assert_eq!(
        ptr(&r, "10.1.0.1").as_deref(),
        Some("z.example.org."),
        "first in its zone's resources beats fourth in another's"
    );
    let c = r.load();
    let key =
        NameKey::new(&Name::from_ascii(reverse_name("10.1.0.1")).expect("name")).expect("key");
    assert_eq!(
        c.zone_for(&key).map(|z| z.origin().to_string()),
        Some("1.10.in-addr.arpa.".into())
    );
    assert!(
        c.zone(2).is_some_and(|z| z.len() == 3),
        "nothing in the outer zone"
    );
}

#[test]
fn provenance_says_which_name_and_object_a_ptr_comes_from() {
    let (mut w, r) = index(&["10.in-addr.arpa"]);
    put(
        &mut w,
        &obj(Kind::Ingress, "web"),
        "www.example.com",
        &["10.0.0.1"],
    );
    let c = r.load();
    let node = c
        .zone(1)
        .and_then(|z| z.get(&Name::from_ascii("1.0.0.10.in-addr.arpa.").expect("name")))
        .expect("the PTR's node");
    let provenance = node.provenance().expect("provenance");
    assert_eq!(provenance.reverse_of, Some(dns("www.example.com")));
    assert_eq!(provenance.sources, [obj(Kind::Ingress, "web")]);
    assert_eq!(
        node.rrset(RecordType::PTR).map(|p| p.ttl()),
        Some(60),
        "the reverse zone's TTL"
    );
}

#[test]
fn a_thousand_names_on_one_address_hand_the_ptr_on_in_order() {
    let (mut w, r) = index(&["10.in-addr.arpa"]);
    for i in (0..1000).rev() {
        let name = format!("host{i:04}.example.com");
        w.apply(
            &obj(Kind::Ingress, &name),
            [ep(&name, &["10.0.0.1"])],
            T0,
            0,
        );
    }
    w.publish(T0);
    assert_eq!(
        ptr(&r, "10.0.0.1").as_deref(),
        Some("host0000.example.com.")
    );
    delete(&mut w, &obj(Kind::Ingress, "host0000.example.com"));
    assert_eq!(
        ptr(&r, "10.0.0.1").as_deref(),
        Some("host0001.example.com.")
    );
}
