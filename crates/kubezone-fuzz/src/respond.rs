//! The `request` target: DNS query bytes → reply bytes, over UDP and TCP, from a small zone
//! with every shape of answer (addresses, CNAME chains in and out of the zone, a CNAME loop, a
//! wildcard, long TXT, NS with glue too large for 512 bytes), with NSID and CH TXT on.

use std::{net::SocketAddr, sync::OnceLock};

use hickory_proto::{
    op::{Message, ResponseCode},
    rr::rdata::opt::{EdnsCode, EdnsOption},
};
use kubezone_dns::{Answerer, FallthroughPolicy, Handled, Identity, MAX_UDP_PAYLOAD, Transport};
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
            // Glue of 40 addresses (640 bytes): an NS answer fits 512 bytes, its glue not.
            nameserver: NameServer {
                name: dns("dns1.kube-system.example.com"),
                addrs: (1..=40)
                    .map(|i| std::net::Ipv4Addr::new(192, 0, 2, i).into())
                    .collect(),
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
            static_written: 0,
            precedence: Kind::DEFAULT_RESOURCES.to_vec(),
            claims: kubezone_index::NameClaims::Shared,
            served: true,
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
                0,
            );
        }
        writer.set_ready(true);
        writer.publish(1_700_000_000);
        let identity = Identity::new(IDENTITY, true, true)
            .unwrap_or_else(|e| panic!("fixture identity {IDENTITY}: {e}"));
        Answerer::new(reader, FallthroughPolicy::default(), None).with_identity(Some(identity))
    })
}

/// The fixture's server name, told in NSID and CH TXT answers.
const IDENTITY: &str = "kubezone-fuzz-0";

/// Answers `data` over UDP and TCP. Invariants: a query with a readable header and QR=0 gets a
/// reply, anything else nothing; every reply parses, carries the query's ID with QR=1, echoes a
/// well-formed query's question, and fits 1,232 bytes over UDP. Then the TC and OPT rules of
/// [`check_truncation`] and [`check_opt`].
pub fn respond(data: &[u8]) {
    let answerer = answerer();
    let header_readable = data.len() >= 12;
    let is_query = data.get(2).is_some_and(|flags| flags & 0x80 == 0);
    let parsed = Message::from_vec(data).ok();
    let mut replies = Vec::new();
    for transport in [Transport::Udp, Transport::Tcp] {
        let mut out = Vec::new();
        match answerer.respond(data, transport, SRC, &mut out) {
            Handled::Drop => assert!(
                !header_readable || !is_query,
                "a query with a readable header got no reply"
            ),
            Handled::Forward => panic!("nothing falls through in this zone"),
            Handled::Transfer => panic!("no zone is transferred here"),
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
                check_opt(parsed.as_ref(), &reply);
                replies.push(reply);
            }
        }
    }
    if let [udp, tcp] = &replies[..] {
        check_truncation(udp, tcp);
    }
}

/// TC=1 only when an answer or authority RRset was left out (RFC 2181 §9): over TCP nothing
/// is; over UDP, a reply without TC has the answer and authority of the TCP reply and a prefix
/// of its additional data, and a reply with TC has fewer answer and authority records.
fn check_truncation(udp: &Message, tcp: &Message) {
    assert!(!tcp.metadata.truncation, "TC over TCP");
    assert_eq!(
        udp.metadata.response_code, tcp.metadata.response_code,
        "UDP and TCP agree on the rcode"
    );
    let kept = udp.answers.len() + udp.authorities.len();
    let whole = tcp.answers.len() + tcp.authorities.len();
    if udp.metadata.truncation {
        assert!(
            kept < whole,
            "TC set but every answer and authority record is there"
        );
    } else {
        assert_eq!(udp.answers, tcp.answers, "no TC, but answers were cut");
        assert_eq!(
            udp.authorities, tcp.authorities,
            "no TC, but authority records were cut"
        );
        assert!(
            tcp.additionals.starts_with(&udp.additionals),
            "additional data is the TCP reply's, whole RRsets from the start"
        );
    }
}

/// The reply's OPT: there whenever a readable query with one question had one (but for
/// FORMERR), version 0, the query's DO and no other flag, a payload of 512–1,232, and only
/// the options kubezone sends: NSID when asked, an Extended DNS Error with REFUSED or SERVFAIL.
fn check_opt(query: Option<&Message>, reply: &Message) {
    let rcode = reply.metadata.response_code;
    let asked = query.and_then(|q| q.edns.as_ref());
    if let Some(query) = query
        && query.queries.len() == 1
        && asked.is_some()
        && rcode != ResponseCode::FormErr
    {
        assert!(reply.edns.is_some(), "the query had an OPT, the reply none");
    }
    let Some(edns) = reply.edns.as_ref() else {
        return;
    };
    assert!(
        query.is_none() || asked.is_some(),
        "an OPT in reply to a query without one"
    );
    assert_eq!(edns.version(), 0, "OPT version");
    if let Some(asked) = asked {
        assert_eq!(
            edns.flags().dnssec_ok,
            asked.flags().dnssec_ok,
            "DO is echoed"
        );
    }
    assert_eq!(edns.flags().z, 0, "no flag but DO");
    assert!(
        (512..=MAX_UDP_PAYLOAD).contains(&edns.max_payload()),
        "payload {}",
        edns.max_payload()
    );
    let mut nsid = None;
    for (code, option) in edns.options().as_ref() {
        match (u16::from(*code), option) {
            (3, EdnsOption::NSID(payload)) => nsid = Some(payload.as_ref().to_vec()),
            // Client Subnet (RFC 7871): only echoed, with the query's family, source prefix and
            // address; no cluster is configured here, so its scope is 0.
            (8, EdnsOption::Subnet(echoed)) => {
                let sent = asked.and_then(|a| match a.option(EdnsCode::Subnet) {
                    Some(EdnsOption::Subnet(sent)) => Some(sent),
                    _ => None,
                });
                let sent = sent.unwrap_or_else(|| panic!("ECS in a reply to a query without it"));
                assert_eq!(
                    (echoed.addr(), echoed.source_prefix()),
                    (sent.addr(), sent.source_prefix()),
                    "ECS is echoed as sent"
                );
                assert_eq!(echoed.scope_prefix(), 0, "scope without local-first names");
            }
            (15, _) => assert!(
                matches!(rcode, ResponseCode::Refused | ResponseCode::ServFail),
                "an Extended DNS Error with {rcode}"
            ),
            (other, _) => panic!("option {other} in a reply"),
        }
    }
    if let Some(asked) = asked {
        let nsid_asked = asked.option(EdnsCode::NSID).is_some();
        assert_eq!(
            nsid.as_deref(),
            nsid_asked.then_some(IDENTITY.as_bytes()),
            "NSID exactly when asked"
        );
    }
}

#[cfg(test)]
mod tests {
    use hickory_proto::{
        op::{Edns, Query},
        rr::{Name, RData, Record, RecordType, rdata::A},
    };

    use super::*;

    fn reply(answers: usize, truncated: bool) -> Message {
        let mut m = Message::query();
        m.add_query(Query::query(
            Name::from_ascii("www.example.com.").expect("name"),
            RecordType::A,
        ));
        m.metadata.truncation = truncated;
        for i in 0..answers {
            m.add_answer(Record::from_rdata(
                Name::from_ascii("www.example.com.").expect("name"),
                60,
                RData::A(A::new(10, 0, 0, u8::try_from(i).expect("small"))),
            ));
        }
        m
    }

    fn with_edns(mut m: Message, dnssec_ok: bool) -> Message {
        let mut edns = Edns::new();
        edns.set_max_payload(1232);
        edns.set_dnssec_ok(dnssec_ok);
        m.set_edns(edns);
        m
    }

    #[test]
    fn whole_or_truncated_replies_pass() {
        check_truncation(&reply(2, false), &reply(2, false));
        check_truncation(&reply(0, true), &reply(2, false));
        let query = with_edns(reply(0, false), true);
        check_opt(Some(&query), &with_edns(reply(2, false), true));
        check_opt(Some(&reply(0, false)), &reply(2, false));
    }

    #[test]
    #[should_panic(expected = "TC set but every answer")]
    fn tc_without_a_cut_fails() {
        check_truncation(&reply(2, true), &reply(2, false));
    }

    #[test]
    #[should_panic(expected = "no TC, but answers were cut")]
    fn a_cut_without_tc_fails() {
        check_truncation(&reply(1, false), &reply(2, false));
    }

    #[test]
    #[should_panic(expected = "DO is echoed")]
    fn a_lost_do_bit_fails() {
        let query = with_edns(reply(0, false), true);
        check_opt(Some(&query), &with_edns(reply(2, false), false));
    }

    #[test]
    #[should_panic(expected = "the reply none")]
    fn a_missing_opt_fails() {
        let query = with_edns(reply(0, false), false);
        check_opt(Some(&query), &reply(2, false));
    }
}
