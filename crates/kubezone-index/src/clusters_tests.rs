//! Names claimed from several clusters: global merging, the first cluster keeping a name that
//! is not global, local-first variants and stale clusters, with synthetic objects.

use hickory_proto::rr::Name;
use kubezone_model::{ClusterId, DnsName, Endpoint, Kind, ObjectRef, Preference, Target};

use crate::{Conflict, IndexReader, IndexWriter, Lookup, NameKey, NameServer, ZoneConfig};

const T0: u32 = 1_700_000_000;

fn index() -> (IndexWriter, IndexReader) {
    let origin = DnsName::parse("example.com").expect("name");
    IndexWriter::new(vec![ZoneConfig::new(
        origin,
        NameServer {
            name: DnsName::parse("dns1.kube-system.example.com").expect("name"),
            addrs: vec!["192.0.2.53".parse().expect("ip")],
        },
    )])
}

fn service(cluster: u16, name: &str) -> ObjectRef {
    let id = ClusterId::new(cluster, ["east", "west", "north"][usize::from(cluster)]);
    ObjectRef::in_cluster(Some(id), Kind::Service, Some("shop"), name)
}

fn endpoint(name: &str, ip: &str, global: Option<Preference>) -> (usize, Endpoint) {
    let target = Target::parse_ip_or_host(ip).expect("target");
    (
        0,
        Endpoint::new(DnsName::parse(name).expect("name"), vec![target]).with_global(global),
    )
}

/// The addresses at `name`, for a client of `cluster` (`None`: every cluster's).
fn addresses(r: &IndexReader, name: &str, cluster: Option<u16>) -> Vec<String> {
    let catalog = r.load();
    let key = NameKey::new(&Name::from_ascii(name).expect("name")).expect("key");
    let Some(zone) = catalog.zone_for(&key) else {
        return Vec::new();
    };
    let Lookup::Found(node) = zone.lookup(&key) else {
        return Vec::new();
    };
    let mut out: Vec<String> = node
        .rrsets_for(cluster)
        .iter()
        .flat_map(|r| r.records(&Name::root()))
        .map(|r| r.data.to_string())
        .collect();
    out.sort();
    out
}

const GLOBAL: Option<Preference> = Some(Preference::All);
const LOCAL_FIRST: Option<Preference> = Some(Preference::LocalFirst);

#[test]
fn global_claims_of_several_clusters_merge() {
    let (mut w, r) = index();
    w.apply(
        &service(0, "web"),
        [endpoint("web.example.com", "192.0.2.1", GLOBAL)],
        T0,
        0,
    );
    w.apply(
        &service(1, "web"),
        [endpoint("web.example.com", "198.51.100.1", GLOBAL)],
        T0,
        0,
    );
    w.publish(T0);
    assert_eq!(
        addresses(&r, "web.example.com.", None),
        ["192.0.2.1", "198.51.100.1"]
    );
    assert!(w.conflicts().is_empty(), "{:?}", w.conflicts());
}

#[test]
fn a_name_that_is_not_global_is_served_from_the_first_cluster_only() {
    let (mut w, r) = index();
    w.apply(
        &service(1, "web"),
        [endpoint("web.example.com", "198.51.100.1", None)],
        T0,
        0,
    );
    let conflicts = w.apply(
        &service(0, "web"),
        [endpoint("web.example.com", "192.0.2.1", None)],
        T0,
        0,
    );
    w.publish(T0);
    // East is listed first: its object keeps the name, whichever came first.
    assert_eq!(addresses(&r, "web.example.com.", None), ["192.0.2.1"]);
    assert!(
        conflicts.iter().any(|c| matches!(
            &c.conflict,
            Conflict::OtherCluster { owner, loser } if *owner == service(0, "web") && *loser == service(1, "web")
        )),
        "{conflicts:?}"
    );
    // Once east's object is gone, west's is served.
    w.apply(&service(0, "web"), [], T0, 0);
    w.publish(T0);
    assert_eq!(addresses(&r, "web.example.com.", None), ["198.51.100.1"]);
}

#[test]
fn a_local_first_name_gives_each_cluster_its_own_and_the_rest_every_one() {
    let (mut w, r) = index();
    w.apply(
        &service(0, "web"),
        [endpoint("web.example.com", "192.0.2.1", LOCAL_FIRST)],
        T0,
        0,
    );
    w.apply(
        &service(1, "web"),
        [endpoint("web.example.com", "198.51.100.1", LOCAL_FIRST)],
        T0,
        0,
    );
    w.publish(T0);
    assert_eq!(addresses(&r, "web.example.com.", Some(0)), ["192.0.2.1"]);
    assert_eq!(addresses(&r, "web.example.com.", Some(1)), ["198.51.100.1"]);
    // A cluster with no records there (north) gets every cluster's: failover.
    assert_eq!(
        addresses(&r, "web.example.com.", Some(2)),
        ["192.0.2.1", "198.51.100.1"]
    );
    // East loses its targets: its clients fail over to west.
    w.apply(&service(0, "web"), [], T0, 0);
    w.publish(T0);
    assert_eq!(addresses(&r, "web.example.com.", Some(0)), ["198.51.100.1"]);
}

#[test]
fn a_stale_cluster_leaves_global_names_and_comes_back() {
    let (mut w, r) = index();
    w.apply(
        &service(0, "web"),
        [endpoint("web.example.com", "192.0.2.1", GLOBAL)],
        T0,
        0,
    );
    w.apply(
        &service(1, "web"),
        [
            endpoint("web.example.com", "198.51.100.1", GLOBAL),
            endpoint("web.shop.west.example.com", "198.51.100.1", None),
            endpoint("only-west.example.com", "198.51.100.2", GLOBAL),
        ],
        T0,
        0,
    );
    w.publish(T0);
    let conflicts = w.set_cluster_stale(1, true);
    w.publish(T0 + 1);
    assert_eq!(addresses(&r, "web.example.com.", None), ["192.0.2.1"]);
    // A global name only west had is gone; west's own name keeps its last known records.
    assert!(addresses(&r, "only-west.example.com.", None).is_empty());
    assert_eq!(
        addresses(&r, "web.shop.west.example.com.", None),
        ["198.51.100.1"]
    );
    assert!(
        conflicts
            .iter()
            .any(|c| matches!(&c.conflict, Conflict::StaleCluster { object } if *object == service(1, "web"))),
        "{conflicts:?}"
    );
    assert!(
        w.set_cluster_stale(1, true).is_empty(),
        "no change, nothing rebuilt"
    );
    w.set_cluster_stale(1, false);
    w.publish(T0 + 2);
    assert_eq!(
        addresses(&r, "web.example.com.", None),
        ["192.0.2.1", "198.51.100.1"]
    );
    assert_eq!(
        addresses(&r, "only-west.example.com.", None),
        ["198.51.100.2"]
    );
}

#[test]
fn objects_of_no_cluster_are_never_held_back() {
    let (mut w, r) = index();
    let manifest = ObjectRef::new(Kind::Service, Some("shop"), "web");
    w.apply(
        &manifest,
        [endpoint("web.example.com", "203.0.113.1", None)],
        T0,
        0,
    );
    w.apply(
        &service(1, "web"),
        [endpoint("web.example.com", "198.51.100.1", None)],
        T0,
        0,
    );
    w.apply(
        &service(2, "web"),
        [endpoint("web.example.com", "203.0.113.9", None)],
        T0,
        0,
    );
    w.publish(T0);
    assert_eq!(
        addresses(&r, "web.example.com.", None),
        ["198.51.100.1", "203.0.113.1"]
    );
}
