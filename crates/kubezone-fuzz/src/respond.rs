//! The `request` target: DNS query bytes → reply bytes, over UDP and TCP, from a small zone
//! with every shape of answer (addresses, CNAME chains in and out of the zone, a wildcard,
//! long TXT, NS with glue).

use std::{net::SocketAddr, sync::OnceLock};

use hickory_proto::op::Message;
use kubezone_dns::{Answerer, FallthroughPolicy, Handled, MAX_UDP_PAYLOAD, Transport};
use kubezone_index::{IndexWriter, NameServer, ZoneConfig};
use kubezone_model::{DnsName, Endpoint, Kind, ObjectRef, Target};

const SRC: SocketAddr = SocketAddr::new(
    std::net::IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, 1)),
    5353,
);

fn answerer() -> &'static Answerer {
    static ANSWERER: OnceLock<Answerer> = OnceLock::new();
    ANSWERER.get_or_init(|| {
        let dns = |s: &str| DnsName::parse(s).unwrap_or_else(|e| panic!("fixture name {s}: {e}"));
        let zone = ZoneConfig {
            origin: dns("example.com"),
            ttl: 60,
            nameserver: NameServer {
                name: dns("dns1.kube-system.example.com"),
                addrs: vec![
                    "192.0.2.53"
                        .parse()
                        .unwrap_or(std::net::Ipv4Addr::LOCALHOST.into()),
                ],
            },
            secondary: Some(NameServer {
                name: dns("dns2.kube-system.example.com"),
                addrs: vec![
                    "2001:db8::53"
                        .parse()
                        .unwrap_or(std::net::Ipv6Addr::LOCALHOST.into()),
                ],
            }),
            nameservers: Vec::new(),
            soa: Default::default(),
            records: Vec::new(),
            precedence: Kind::DEFAULT_RESOURCES.to_vec(),
        };
        let (mut writer, reader) = IndexWriter::new(vec![zone]);
        let long_text = "t".repeat(600);
        let objects: [(&str, Vec<&str>); 7] = [
            (
                "www.example.com",
                vec!["10.0.0.1", "10.0.0.2", "2001:db8::1"],
            ),
            ("docs.example.com", vec!["www.example.com"]),
            ("out.example.com", vec!["lb.elsewhere.net"]),
            ("*.apps.example.com", vec!["10.0.2.1"]),
            ("loop1.example.com", vec!["loop2.example.com"]),
            ("loop2.example.com", vec!["loop1.example.com"]),
            ("txt.example.com", vec![long_text.as_str()]),
        ];
        for (name, targets) in objects {
            let targets = targets
                .into_iter()
                .map(|t| {
                    Target::parse_ip_or_host(t).unwrap_or_else(|_| Target::Text(t.to_string()))
                })
                .collect();
            writer.apply(
                &ObjectRef::new(Kind::DnsEndpoint, Some("default"), name),
                [(0, Endpoint::new(dns(name), targets))],
                1_700_000_000,
            );
        }
        writer.set_ready(true);
        writer.publish(1_700_000_000);
        Answerer::new(reader, FallthroughPolicy::default(), None)
    })
}

/// Answers `data` over UDP and TCP. Invariants: a query with a readable header and QR=0 gets a
/// reply, anything else nothing; every reply parses, carries the query's ID with QR=1, echoes a
/// well-formed query's question, and fits 1,232 bytes over UDP.
pub fn respond(data: &[u8]) {
    let answerer = answerer();
    let header_readable = data.len() >= 12;
    let is_query = data.get(2).is_some_and(|flags| flags & 0x80 == 0);
    let parsed = Message::from_vec(data).ok();
    for transport in [Transport::Udp, Transport::Tcp] {
        let mut out = Vec::new();
        match answerer.respond(data, transport, SRC, &mut out) {
            Handled::Drop => assert!(
                !header_readable || !is_query,
                "a query with a readable header got no reply"
            ),
            Handled::Forward => panic!("nothing falls through in this zone"),
            Handled::Reply => {
                assert!(header_readable && is_query, "a reply to a non-query");
                let reply = Message::from_vec(&out)
                    .unwrap_or_else(|e| panic!("the reply does not parse: {e}: {out:?}"));
                assert_eq!(out.get(..2), data.get(..2), "the reply keeps the ID");
                assert!(out.get(2).is_some_and(|f| f & 0x80 != 0), "QR is set");
                if transport == Transport::Udp {
                    assert!(
                        out.len() <= usize::from(MAX_UDP_PAYLOAD),
                        "{} bytes",
                        out.len()
                    );
                }
                if let Some(query) = &parsed
                    && query.queries.len() == 1
                    && !reply.queries.is_empty()
                {
                    assert_eq!(reply.queries, query.queries, "the question is echoed");
                }
            }
        }
    }
}
