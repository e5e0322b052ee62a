//! `local-first` names on the wire: each client gets its cluster's records, placed by its
//! source address or by the EDNS Client Subnet its resolver sent, and the reply's Client Subnet
//! says for which prefix the answer holds.

use std::{
    net::{IpAddr, SocketAddr},
    sync::Arc,
};

use hickory_proto::{
    op::{Edns, Message, Query, ResponseCode},
    rr::{
        Name, RData, Record, RecordType,
        rdata::opt::{ClientSubnet, EdnsCode, EdnsOption},
    },
};
use kubezone_index::{IndexReader, IndexWriter, RRset};
use kubezone_model::{Endpoint, Kind, ObjectRef, Target};

use crate::{
    Answerer, FallthroughPolicy, Handled, Locality, Transport,
    tests::{dns, zone},
};

const T0: u32 = 1_700_000_000;
/// In no cluster's network.
const ELSEWHERE: &str = "192.0.2.1";

/// `app` and the wildcard under `wild` have a variant for clusters 1 and 2, `one` for cluster 1
/// only; `alias` is a CNAME to `app`; `plain` has one cluster's records and no variant.
fn index() -> IndexReader {
    let (mut w, r) = IndexWriter::new(vec![zone("example.com")]);
    let put = |w: &mut IndexWriter, name: &str, targets: &[&str]| {
        let targets = targets
            .iter()
            .map(|t| Target::parse_ip_or_host(t).expect("target"))
            .collect();
        w.apply(
            &ObjectRef::new(Kind::DnsEndpoint, Some("default"), name),
            [(0, Endpoint::new(dns(name), targets))],
            T0,
            0,
        );
    };
    put(&mut w, "app.example.com", &["10.1.0.10", "10.2.0.10"]);
    put(&mut w, "one.example.com", &["10.1.0.11", "10.9.0.11"]);
    put(&mut w, "*.wild.example.com", &["10.1.0.12", "10.2.0.12"]);
    put(&mut w, "alias.example.com", &["app.example.com"]);
    put(&mut w, "plain.example.com", &["10.0.0.1"]);
    for (name, variants) in [
        ("app.example.com", &[(1, "10.1.0.10"), (2, "10.2.0.10")][..]),
        ("one.example.com", &[(1, "10.1.0.11")]),
        ("*.wild.example.com", &[(1, "10.1.0.12"), (2, "10.2.0.12")]),
    ] {
        let local = variants
            .iter()
            .map(|&(cluster, address)| (cluster, vec![a(name, address)]))
            .collect();
        assert!(w.set_local(0, &dns(name), local), "{name}");
    }
    w.set_ready(true);
    w.publish(T0);
    r
}

fn a(owner: &str, address: &str) -> RRset {
    let owner = Name::from_ascii(owner).expect("name");
    let address: IpAddr = address.parse().expect("address");
    let data = match address {
        IpAddr::V4(v4) => RData::A(v4.into()),
        IpAddr::V6(v6) => RData::AAAA(v6.into()),
    };
    RRset::from_records(vec![Record::from_rdata(owner, 60, data)]).expect("an RRset")
}

/// Clusters 1 and 2, each with an IPv4 and an IPv6 network; `local`: the cluster kubezone
/// runs in.
fn answerer(local: Option<u16>) -> Answerer {
    let net = |s: &str| s.parse().expect("network");
    let locality = Locality::new(
        vec![
            (net("10.1.0.0/16"), 1),
            (net("10.2.0.0/16"), 2),
            (net("2001:db8:1::/48"), 1),
            (net("2001:db8:2::/48"), 2),
        ],
        local,
    );
    Answerer::new(index(), FallthroughPolicy::default(), None)
        .with_locality(Some(Arc::new(locality)))
}

fn packet(name: &str, subnet: &[EdnsOption]) -> Vec<u8> {
    let mut m = Message::query();
    m.metadata.id = 0x5EC5;
    m.add_query(Query::query(
        Name::from_ascii(name).expect("name"),
        RecordType::A,
    ));
    let mut edns = Edns::new();
    edns.set_max_payload(1232);
    for option in subnet {
        edns.options_mut().insert(option.clone());
    }
    m.set_edns(edns);
    m.to_vec().expect("encodes")
}

fn ask_over(
    answerer: &Answerer,
    transport: Transport,
    name: &str,
    from: &str,
    subnet: &[EdnsOption],
) -> Message {
    let src = SocketAddr::new(from.parse().expect("address"), 5353);
    let mut out = Vec::new();
    let handled = answerer.respond(&packet(name, subnet), transport, src, &mut out);
    assert_eq!(handled, Handled::Reply, "{name} from {from}");
    Message::from_vec(&out).expect("the reply decodes")
}

fn ask(answerer: &Answerer, name: &str, from: &str, subnet: &[EdnsOption]) -> Message {
    ask_over(answerer, Transport::Udp, name, from, subnet)
}

/// The answer section's data, in order.
fn answers(m: &Message) -> Vec<String> {
    m.answers.iter().map(|r| r.data.to_string()).collect()
}

/// The reply's Client Subnet as (address, source, scope).
fn echoed(m: &Message) -> Option<(IpAddr, u8, u8)> {
    match m.edns.as_ref()?.option(EdnsCode::Subnet)? {
        EdnsOption::Subnet(s) => Some((s.addr(), s.source_prefix(), s.scope_prefix())),
        other => panic!("not a client subnet: {other:?}"),
    }
}

fn ecs(net: &str) -> EdnsOption {
    EdnsOption::Subnet(net.parse::<ClientSubnet>().expect("subnet"))
}

fn ip(s: &str) -> IpAddr {
    s.parse().expect("address")
}

#[test]
fn each_client_gets_its_clusters_records_by_its_source_address() {
    let answerer = answerer(None);
    let app = "app.example.com.";
    assert_eq!(
        answers(&ask(&answerer, app, "10.1.3.4", &[])),
        ["10.1.0.10"]
    );
    assert_eq!(
        answers(&ask(&answerer, app, "10.2.3.4", &[])),
        ["10.2.0.10"]
    );
    assert_eq!(
        answers(&ask(&answerer, app, ELSEWHERE, &[])),
        ["10.1.0.10", "10.2.0.10"],
        "in no network and no local cluster: every cluster's"
    );
    let tcp = ask_over(&answerer, Transport::Tcp, app, "10.2.3.4", &[]);
    assert_eq!(answers(&tcp), ["10.2.0.10"]);
    // Without ECS in the query, none in the reply.
    assert_eq!(echoed(&ask(&answerer, app, "10.1.3.4", &[])), None);
}

#[test]
fn a_client_in_no_network_gets_the_local_cluster() {
    let answerer = answerer(Some(2));
    let app = "app.example.com.";
    assert_eq!(answers(&ask(&answerer, app, ELSEWHERE, &[])), ["10.2.0.10"]);
    assert_eq!(
        answers(&ask(&answerer, app, "10.1.3.4", &[])),
        ["10.1.0.10"]
    );
}

#[test]
fn a_cluster_without_a_variant_gets_every_clusters_records() {
    let answerer = answerer(None);
    let one = "one.example.com.";
    assert_eq!(
        answers(&ask(&answerer, one, "10.1.3.4", &[])),
        ["10.1.0.11"]
    );
    assert_eq!(
        answers(&ask(&answerer, one, "10.2.3.4", &[])),
        ["10.1.0.11", "10.9.0.11"]
    );
}

#[test]
fn without_a_locality_every_client_gets_the_merged_records() {
    let answerer = Answerer::new(index(), FallthroughPolicy::default(), None);
    let reply = ask(
        &answerer,
        "app.example.com.",
        "10.1.3.4",
        &[ecs("10.1.3.0/24")],
    );
    assert_eq!(answers(&reply), ["10.1.0.10", "10.2.0.10"]);
    assert_eq!(echoed(&reply), Some((ip("10.1.3.0"), 24, 0)));
}

#[test]
fn the_client_subnet_places_the_client_and_the_reply_scopes_the_answer_to_its_network() {
    let answerer = answerer(None);
    let app = "app.example.com.";
    // The resolver itself is in cluster 2's network; its client is in cluster 1's.
    let reply = ask(&answerer, app, "10.2.0.53", &[ecs("10.1.3.0/24")]);
    assert_eq!(answers(&reply), ["10.1.0.10"]);
    assert_eq!(echoed(&reply), Some((ip("10.1.3.0"), 24, 16)));
    let reply = ask(&answerer, app, ELSEWHERE, &[ecs("10.2.0.0/16")]);
    assert_eq!(answers(&reply), ["10.2.0.10"]);
    assert_eq!(echoed(&reply), Some((ip("10.2.0.0"), 16, 16)));
    // A prefix shorter than the network's: the answer is for the network, which the scope
    // says (RFC 7871 §7.2.1).
    let reply = ask(&answerer, app, ELSEWHERE, &[ecs("10.2.0.0/15")]);
    assert_eq!(answers(&reply), ["10.2.0.10"]);
    assert_eq!(echoed(&reply), Some((ip("10.2.0.0"), 15, 16)));
    // In no network: every cluster's records, for the widest block around the client that
    // overlaps no network (192.x shares no leading bit with 10.x).
    let reply = ask(&answerer, app, "10.1.3.4", &[ecs("192.0.2.0/24")]);
    assert_eq!(answers(&reply), ["10.1.0.10", "10.2.0.10"]);
    assert_eq!(echoed(&reply), Some((ip("192.0.2.0"), 24, 1)));
}

#[test]
fn a_plain_name_holds_for_every_client_scope_zero() {
    let answerer = answerer(None);
    let reply = ask(
        &answerer,
        "plain.example.com.",
        ELSEWHERE,
        &[ecs("10.1.3.0/24")],
    );
    assert_eq!(answers(&reply), ["10.0.0.1"]);
    assert_eq!(echoed(&reply), Some((ip("10.1.3.0"), 24, 0)));
    let reply = ask(
        &answerer,
        "nope.example.com.",
        ELSEWHERE,
        &[ecs("10.1.3.0/24")],
    );
    assert_eq!(reply.metadata.response_code, ResponseCode::NXDomain);
    assert_eq!(echoed(&reply), Some((ip("10.1.3.0"), 24, 0)));
}

#[test]
fn a_source_prefix_of_zero_gets_the_answer_for_everyone() {
    // The client's own address (in cluster 1's network) is not used either.
    let reply = ask(
        &answerer(Some(2)),
        "app.example.com.",
        "10.1.3.4",
        &[ecs("0.0.0.0/0")],
    );
    assert_eq!(answers(&reply), ["10.2.0.10"]);
    assert_eq!(echoed(&reply), Some((ip("0.0.0.0"), 0, 0)));
    let reply = ask(
        &answerer(None),
        "app.example.com.",
        "10.1.3.4",
        &[ecs("::/0")],
    );
    assert_eq!(answers(&reply), ["10.1.0.10", "10.2.0.10"]);
    assert_eq!(echoed(&reply), Some((ip("::"), 0, 0)));
}

#[test]
fn each_malformed_client_subnet_is_formerr() {
    let answerer = answerer(None);
    let raw = |data: &[u8]| EdnsOption::Unknown(8, data.to_vec());
    let cases: [(&str, Vec<EdnsOption>); 7] = [
        ("unknown family", vec![raw(&[0, 3, 8, 0, 10])]),
        (
            "IPv4 prefix over 32",
            vec![raw(&[0, 1, 33, 0, 10, 1, 2, 3, 4])],
        ),
        ("IPv6 prefix over 128", vec![raw(&[0, 2, 129, 0])]),
        (
            "an address byte too many",
            vec![raw(&[0, 1, 16, 0, 10, 1, 0])],
        ),
        ("an address byte too few", vec![raw(&[0, 1, 24, 0, 10, 1])]),
        (
            "bits beyond the prefix",
            vec![raw(&[0, 1, 20, 0, 10, 1, 0x1F])],
        ),
        (
            "two client subnets",
            vec![ecs("10.1.0.0/16"), ecs("10.2.0.0/16")],
        ),
    ];
    for (what, options) in cases {
        let reply = ask(&answerer, "app.example.com.", "10.1.3.4", &options);
        assert_eq!(
            reply.metadata.response_code,
            ResponseCode::FormErr,
            "{what}"
        );
        assert!(reply.answers.is_empty(), "{what}");
        assert_eq!(echoed(&reply), None, "{what}");
    }
}

#[test]
fn ipv6_clients_by_source_and_by_client_subnet() {
    let answerer = answerer(None);
    let app = "app.example.com.";
    assert_eq!(
        answers(&ask(&answerer, app, "2001:db8:1::7", &[])),
        ["10.1.0.10"]
    );
    let reply = ask(
        &answerer,
        app,
        "2001:db8:1::7",
        &[ecs("2001:db8:2:ab00::/56")],
    );
    assert_eq!(answers(&reply), ["10.2.0.10"]);
    assert_eq!(echoed(&reply), Some((ip("2001:db8:2:ab00::"), 56, 48)));
    // An IPv4-mapped client is matched as IPv4, its scope in IPv6 bits.
    let reply = ask(&answerer, app, ELSEWHERE, &[ecs("::ffff:10.2.0.0/112")]);
    assert_eq!(answers(&reply), ["10.2.0.10"]);
    assert_eq!(echoed(&reply), Some((ip("::ffff:10.2.0.0"), 112, 96 + 16)));
    assert_eq!(
        answers(&ask(&answerer, app, "::ffff:10.1.0.1", &[])),
        ["10.1.0.10"]
    );
}

#[test]
fn a_cname_chain_into_a_local_first_name_scopes_the_whole_answer() {
    let answerer = answerer(None);
    let reply = ask(
        &answerer,
        "alias.example.com.",
        ELSEWHERE,
        &[ecs("10.2.9.0/24")],
    );
    assert_eq!(answers(&reply), ["app.example.com.", "10.2.0.10"]);
    assert_eq!(echoed(&reply), Some((ip("10.2.9.0"), 24, 16)));
    let reply = ask(&answerer, "alias.example.com.", "10.1.3.4", &[]);
    assert_eq!(answers(&reply), ["app.example.com.", "10.1.0.10"]);
}

#[test]
fn a_wildcard_synthesizes_the_clients_variant() {
    let answerer = answerer(None);
    let reply = ask(
        &answerer,
        "x.wild.example.com.",
        ELSEWHERE,
        &[ecs("10.1.7.0/24")],
    );
    assert_eq!(answers(&reply), ["10.1.0.12"]);
    assert_eq!(
        reply.answers[0].name,
        Name::from_ascii("x.wild.example.com.").expect("name")
    );
    assert_eq!(echoed(&reply), Some((ip("10.1.7.0"), 24, 16)));
}
