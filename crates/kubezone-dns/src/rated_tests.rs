//! What the UDP rate limit counts each reply under, from real replies: BIND's kinds, and the
//! name each kind is counted by.

use std::net::SocketAddr;

use hickory_proto::{
    op::{Message, Query},
    rr::{Name, RecordType},
};
use kubezone_guard::{GuardConfig, RateLimitConfig, ResponseKey, ResponseKind};

use crate::{Answerer, FallthroughPolicy, Handled, tests::fixture};

const SRC: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 5353);

/// The fixture's answerer, limiting every kind to one response per second, never slipping.
fn answerer() -> Answerer {
    let guard = GuardConfig {
        acl: None,
        rate_limit: Some(RateLimitConfig {
            responses_per_second: 1,
            slip: 0,
            ..RateLimitConfig::default()
        }),
    };
    Answerer::new(fixture(), FallthroughPolicy::default(), None).with_guard(guard.build(None))
}

fn query(name: &str, qtype: RecordType) -> Vec<u8> {
    let mut m = Message::query();
    m.add_query(Query::query(Name::from_ascii(name).expect("name"), qtype));
    m.to_vec().expect("encodes")
}

/// The key of the reply to `name`/`qtype` over UDP.
fn key(answerer: &Answerer, name: &str, qtype: RecordType) -> ResponseKey {
    let mut out = Vec::new();
    let (handled, key) = answerer.respond_udp(&query(name, qtype), SRC, &mut out);
    assert_eq!(handled, Handled::Reply, "{name} {qtype}");
    key
}

/// Whether the reply to `name`/`qtype` is sent after the rate limit.
fn sent(answerer: &Answerer, name: &str, qtype: RecordType) -> bool {
    let packet = query(name, qtype);
    let mut out = Vec::new();
    let (handled, key) = answerer.respond_udp(&packet, SRC, &mut out);
    handled == Handled::Reply && answerer.rate_limit(&packet, SRC, key, &mut out) == Handled::Reply
}

#[test]
fn answers_are_counted_by_name_and_type() {
    let a = answerer();
    let www = key(&a, "www.example.com.", RecordType::A);
    assert_eq!(www.kind(), ResponseKind::Answer);
    assert_eq!(www, key(&a, "WwW.Example.COM.", RecordType::A));
    assert_ne!(www, key(&a, "v6.example.com.", RecordType::AAAA));
    assert_ne!(www, key(&a, "www.example.com.", RecordType::ANY));
    // A CNAME is an answer of its own name, whatever its target gives.
    for name in ["alias.example.com.", "dangling.example.com."] {
        let cname = key(&a, name, RecordType::A);
        assert_eq!(cname.kind(), ResponseKind::Answer, "{name}");
        assert_ne!(cname, www, "{name}");
    }
}

#[test]
fn names_a_wildcard_covers_are_counted_as_the_wildcard() {
    let a = answerer();
    let wild = key(&a, "*.w.example.com.", RecordType::A);
    assert_eq!(wild.kind(), ResponseKind::Answer);
    for name in [
        "a.w.example.com.",
        "random-1234.w.example.com.",
        "a.b.w.example.com.",
    ] {
        assert_eq!(key(&a, name, RecordType::A), wild, "{name}");
    }
    assert_ne!(key(&a, "s.w.example.com.", RecordType::A), wild);
}

#[test]
fn nodata_is_counted_by_name_whatever_the_type() {
    let a = answerer();
    let nodata = key(&a, "www.example.com.", RecordType::AAAA);
    assert_eq!(nodata.kind(), ResponseKind::NoData);
    assert_eq!(nodata, key(&a, "www.example.com.", RecordType::TXT));
    assert_eq!(nodata, key(&a, "www.example.com.", RecordType::MX));
    assert_ne!(nodata, key(&a, "v6.example.com.", RecordType::A));
    // An empty non-terminal is NODATA too.
    assert_eq!(
        key(&a, "ns1.example.com.", RecordType::A).kind(),
        ResponseKind::NoData
    );
}

#[test]
fn nxdomain_is_counted_by_zone_whatever_the_name_and_type() {
    let a = answerer();
    let nxdomain = key(&a, "r1.example.com.", RecordType::A);
    assert_eq!(nxdomain.kind(), ResponseKind::NxDomain);
    for (name, qtype) in [
        ("r2.example.com.", RecordType::AAAA),
        ("x.y.z.example.com.", RecordType::TXT),
        // Below a name that exists, where the wildcard does not reach.
        ("x.s.w.example.com.", RecordType::A),
    ] {
        assert_eq!(key(&a, name, qtype), nxdomain, "{name}");
    }
    let other = key(&a, "nope.other.org.", RecordType::A);
    assert_eq!(other.kind(), ResponseKind::NxDomain);
    assert_ne!(other, nxdomain);
}

#[test]
fn errors_are_counted_by_client_alone() {
    let a = answerer();
    assert_eq!(
        key(&a, "www.example.net.", RecordType::A),
        ResponseKey::ERROR
    );
    assert_eq!(
        key(&a, "example.com.", RecordType::AXFR),
        ResponseKey::ERROR
    );
    let mut packet = query("www.example.com.", RecordType::A);
    packet[2] |= 0x10; // opcode 2 (STATUS): NOTIMP
    let mut out = Vec::new();
    assert_eq!(
        a.respond_udp(&packet, SRC, &mut out),
        (Handled::Reply, ResponseKey::ERROR)
    );
}

#[test]
fn many_names_pass_where_one_name_or_one_zone_is_limited() {
    let a = answerer();
    // One response per second each: every different name gets its answer ...
    for name in [
        "www.example.com.",
        "v6.example.com.",
        "txt.example.com.",
        "svc1.ns1.example.com.",
        "app.other.org.",
    ] {
        assert!(sent(&a, name, RecordType::A), "{name}");
    }
    // ... but not twice, nor a second random name of a zone.
    assert!(!sent(&a, "www.example.com.", RecordType::A));
    assert!(sent(&a, "r1.example.com.", RecordType::A));
    assert!(!sent(&a, "r2.example.com.", RecordType::A));
    assert!(sent(&a, "r3.other.org.", RecordType::A));
}

/// Replies an upstream gives to a query that fell through.
mod upstream {
    use hickory_proto::{
        op::{Message, OpCode, ResponseCode},
        rr::{
            Name, RData, Record, RecordType,
            rdata::{A, NS, SOA},
        },
    };
    use kubezone_guard::{RateLimitConfig, RateLimiter, ResponseKey, ResponseKind};
    use kubezone_index::NameKey;

    use crate::rated::upstream_key;

    fn name(text: &str) -> Name {
        Name::from_ascii(text).expect("name")
    }

    fn reply(rcode: ResponseCode, authoritative: bool) -> Message {
        let mut m = Message::response(1, OpCode::Query);
        m.metadata.response_code = rcode;
        m.metadata.authoritative = authoritative;
        m
    }

    fn soa(zone: &str) -> Record {
        let rdata = SOA::new(name("ns.x."), name("h.x."), 1, 2, 3, 4, 5);
        Record::from_rdata(name(zone), 60, RData::SOA(rdata))
    }

    fn key(limiter: &RateLimiter, reply: &Message, qname: &str, qtype: RecordType) -> ResponseKey {
        let qname = NameKey::new(&name(qname)).expect("key");
        upstream_key(limiter, reply, &qname, qtype)
    }

    #[test]
    fn upstream_replies_are_counted_as_bind_counts_them() {
        let limiter = RateLimiter::new(&RateLimitConfig::default());
        let l = &limiter;

        let mut answer = reply(ResponseCode::NoError, true);
        let a = RData::A(A("192.0.2.1".parse().expect("ip")));
        answer.add_answer(Record::from_rdata(name("a.example.net."), 60, a));
        let answered = key(l, &answer, "a.example.net.", RecordType::A);
        assert_eq!(answered.kind(), ResponseKind::Answer);
        assert_ne!(answered, key(l, &answer, "b.example.net.", RecordType::A));
        assert_ne!(
            answered,
            key(l, &answer, "a.example.net.", RecordType::AAAA)
        );

        // NXDOMAIN: by the SOA's owner, whatever the name; by the root without one.
        let mut nxdomain = reply(ResponseCode::NXDomain, true);
        nxdomain.add_authority(soa("example.net."));
        let by_zone = key(l, &nxdomain, "r1.example.net.", RecordType::A);
        assert_eq!(by_zone.kind(), ResponseKind::NxDomain);
        assert_eq!(
            by_zone,
            key(l, &nxdomain, "r2.x.example.net.", RecordType::TXT)
        );
        let bare = reply(ResponseCode::NXDomain, true);
        let by_root = key(l, &bare, "r1.example.net.", RecordType::A);
        assert_ne!(by_root, by_zone);
        assert_eq!(by_root, key(l, &bare, "r2.example.org.", RecordType::A));

        // NODATA: by the name.
        let mut nodata = reply(ResponseCode::NoError, true);
        nodata.add_authority(soa("example.net."));
        let empty = key(l, &nodata, "a.example.net.", RecordType::MX);
        assert_eq!(empty.kind(), ResponseKind::NoData);
        assert_eq!(empty, key(l, &nodata, "a.example.net.", RecordType::TXT));
        assert_ne!(empty, key(l, &nodata, "b.example.net.", RecordType::TXT));

        // A referral: by the delegation.
        let mut referral = reply(ResponseCode::NoError, false);
        let ns = RData::NS(NS(name("ns1.team.example.net.")));
        referral.add_authority(Record::from_rdata(name("team.example.net."), 60, ns));
        let delegated = key(l, &referral, "a.team.example.net.", RecordType::A);
        assert_eq!(delegated.kind(), ResponseKind::Referral);
        assert_eq!(
            delegated,
            key(l, &referral, "b.c.team.example.net.", RecordType::AAAA)
        );

        for rcode in [ResponseCode::ServFail, ResponseCode::Refused] {
            let error = reply(rcode, false);
            assert_eq!(
                key(l, &error, "a.example.net.", RecordType::A),
                ResponseKey::ERROR
            );
        }
    }
}
