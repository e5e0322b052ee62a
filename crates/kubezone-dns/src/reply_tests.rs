//! The bytes on the wire: every reply decodes, says what `resolve` decided, compresses owner
//! names, keeps the question as sent and truncates to whole RRsets.

use std::net::SocketAddr;

use hickory_proto::{
    op::{Edns, Message, OpCode, Query, ResponseCode},
    rr::{
        DNSClass, Name, RecordType,
        rdata::opt::{EdnsCode, EdnsOption, NSIDPayload},
    },
};
use kubezone_guard::{AclAction, AclConfig, GuardConfig};

use kubezone_index::{IndexWriter, NameKey};

use crate::{
    Answerer, FallthroughPolicy, Handled, Identity, Resolution, Transport,
    message::{ADDITIONAL, ExtendedError, Flags, Opt, Reply},
    query::Header,
    resolve,
    tests::{Seen, answer, ask, fixture},
};

const SRC: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 5353);

fn query(name: &str, qtype: RecordType, payload: Option<u16>) -> Vec<u8> {
    let mut m = Message::query();
    m.metadata.id = 0xBEEF;
    m.metadata.recursion_desired = true;
    m.add_query(Query::query(Name::from_ascii(name).expect("name"), qtype));
    if let Some(payload) = payload {
        let mut edns = Edns::new();
        edns.set_max_payload(payload);
        m.set_edns(edns);
    }
    m.to_vec().expect("encodes")
}

fn reply_to(packet: &[u8], transport: Transport) -> Option<Vec<u8>> {
    let answerer = Answerer::new(fixture(), FallthroughPolicy::default(), None);
    let mut out = Vec::new();
    match answerer.respond(packet, transport, SRC, &mut out) {
        Handled::Reply => Some(out),
        Handled::Drop => None,
        Handled::Forward | Handled::Transfer => panic!("no fallthrough or transfer here"),
    }
}

fn decode(bytes: &[u8]) -> Message {
    Message::from_vec(bytes).expect("the reply decodes")
}

fn lines(records: &[hickory_proto::rr::Record]) -> Vec<String> {
    records
        .iter()
        .map(|r| format!("{} {} {} {}", r.name, r.ttl, r.record_type(), r.data))
        .collect()
}

#[test]
fn replies_say_on_the_wire_what_resolve_decided() {
    let cases = [
        ("www.example.com.", RecordType::A),
        ("www.example.com.", RecordType::AAAA),
        ("nope.example.com.", RecordType::A),
        ("ns1.example.com.", RecordType::A),
        ("example.com.", RecordType::SOA),
        ("example.com.", RecordType::NS),
        ("dns1.kube-system.example.com.", RecordType::A),
        ("a.b.w.example.com.", RecordType::A),
        ("alias.example.com.", RecordType::A),
        ("towild.example.com.", RecordType::A),
        ("cross.example.com.", RecordType::A),
        ("dangling.example.com.", RecordType::A),
        ("loop1.example.com.", RecordType::A),
        ("txt.example.com.", RecordType::TXT),
        ("txt.example.com.", RecordType::ANY),
    ];
    for (name, qtype) in cases {
        let expected: Seen = answer(ask(&fixture(), name, qtype));
        for payload in [None, Some(1232)] {
            let bytes = reply_to(&query(name, qtype, payload), Transport::Udp).expect("a reply");
            let m = decode(&bytes);
            let what = format!("{name} {qtype} edns {payload:?}");
            assert_eq!(m.metadata.id, 0xBEEF, "{what}");
            assert_eq!(m.metadata.response_code, expected.rcode, "{what}");
            assert_eq!(m.metadata.authoritative, expected.aa, "{what}");
            assert!(m.metadata.recursion_desired && !m.metadata.recursion_available);
            assert!(!m.metadata.truncation, "{what}");
            assert_eq!(lines(&m.answers), expected.answers, "{what}");
            assert_eq!(lines(&m.authorities), expected.authorities, "{what}");
            assert_eq!(lines(&m.additionals), expected.additionals, "{what}");
            assert_eq!(m.edns.is_some(), payload.is_some(), "{what}");
        }
    }
}

#[test]
fn owners_point_at_the_question_and_the_question_is_echoed_as_sent() {
    let packet = query("WwW.ExAmple.COM.", RecordType::A, None);
    let bytes = reply_to(&packet, Transport::Udp).expect("a reply");
    let question_len = "WwW.ExAmple.COM.".len() + 1 + 4;
    assert_eq!(bytes[12..12 + question_len], packet[12..12 + question_len]);
    // Two A records, each a pointer to offset 12 and a 14-byte tail.
    assert_eq!(bytes.len(), 12 + question_len + 2 * (2 + 14));
    assert_eq!(bytes[12 + question_len..][..2], [0xC0, 12]);
    // The negative SOA's owner is a suffix of the question: a pointer, too.
    let bytes = reply_to(
        &query("Nope.Example.com.", RecordType::A, None),
        Transport::Udp,
    )
    .expect("a reply");
    let m = decode(&bytes);
    assert_eq!(
        m.authorities[0].name,
        Name::from_ascii("Example.com.").expect("name")
    );
    let at = 12 + "Nope.Example.com.".len() + 1 + 4;
    assert_eq!(bytes[at..at + 2], [0xC0, 12 + 5]);
}

/// `name`/`qtype` resolved against the fixture and written with `limit`: the bytes, whether
/// TC was set, and the size with no limit.
fn write_with_limit(name: &str, qtype: RecordType, limit: usize) -> (Vec<u8>, bool, usize) {
    let catalog = fixture().load_full();
    let qname = Name::from_ascii(name).expect("name");
    let key = NameKey::new(&qname).expect("key");
    let Resolution::Answer(answer) = resolve(&catalog, &key, qtype, &FallthroughPolicy::default())
    else {
        panic!("{name} {qtype} is answered");
    };
    let packet = query(name, qtype, None);
    let header = Header {
        id: 7,
        opcode: 0,
        recursion_desired: false,
        checking_disabled: false,
    };
    let write = |limit: usize| {
        let mut out = Vec::new();
        let mut reply = Reply::new(&mut out, header, &packet[12..], limit, None);
        let _ = reply.section(1, &answer.answers)
            && reply.section(2, &answer.authorities)
            && reply.section(ADDITIONAL, &answer.additionals);
        let truncated = reply.finish(Flags::default());
        (out, truncated)
    };
    let (full, truncated) = write(usize::from(u16::MAX));
    assert!(!truncated);
    let (bytes, truncated) = write(limit);
    (bytes, truncated, full.len())
}

/// TC=1 says an RRset of the answer or authority section was left out; additional data that
/// does not fit is dropped without it (RFC 2181 §9).
#[test]
fn a_reply_over_the_limit_keeps_whole_rrsets_and_sets_tc_only_for_answer_and_authority() {
    let question_end = 12 + "example.com.".len() + 1 + 4;
    let full_len = write_with_limit("example.com.", RecordType::NS, usize::MAX).2;
    let mut seen_cuts = std::collections::BTreeSet::new();
    for limit in question_end..full_len {
        let (bytes, truncated, _) = write_with_limit("example.com.", RecordType::NS, limit);
        assert!(bytes.len() <= limit, "limit {limit}: {} bytes", bytes.len());
        let m = decode(&bytes);
        assert_eq!(m.metadata.truncation, truncated, "limit {limit}");
        // The answer RRset (two NS) is all or nothing; glue comes in whole RRsets after it.
        assert!(matches!(m.answers.len(), 0 | 2), "limit {limit}");
        assert!(m.additionals.len() <= 2 && (m.additionals.is_empty() || m.answers.len() == 2));
        assert_eq!(truncated, m.answers.is_empty(), "limit {limit}");
        seen_cuts.insert((m.answers.len(), m.additionals.len()));
    }
    assert_eq!(
        seen_cuts.into_iter().collect::<Vec<_>>(),
        vec![(0, 0), (2, 0), (2, 1)],
        "every cut point is reached"
    );
    // A negative answer whose SOA does not fit: the authority section was cut, so TC.
    let question_end = 12 + "nope.example.com.".len() + 1 + 4;
    let full_len = write_with_limit("nope.example.com.", RecordType::A, usize::MAX).2;
    for limit in question_end..full_len {
        let (bytes, truncated, _) = write_with_limit("nope.example.com.", RecordType::A, limit);
        let m = decode(&bytes);
        assert!(truncated && m.metadata.truncation, "limit {limit}");
        assert!(m.authorities.is_empty(), "limit {limit}");
    }
}

#[test]
fn errors_keep_the_id_and_say_why() {
    let mut notify = Message::query();
    notify.metadata.op_code = OpCode::Notify;
    notify.add_query(Query::query(
        Name::from_ascii("example.com.").expect("n"),
        RecordType::SOA,
    ));
    let m = decode(&reply_to(&notify.to_vec().expect("e"), Transport::Udp).expect("reply"));
    assert_eq!(m.metadata.response_code, ResponseCode::NotImp);

    let mut chaos = Query::query(
        Name::from_ascii("version.bind.").expect("n"),
        RecordType::TXT,
    );
    chaos.set_query_class(DNSClass::CH);
    let mut m = Message::query();
    m.add_query(chaos);
    let r = decode(&reply_to(&m.to_vec().expect("e"), Transport::Udp).expect("reply"));
    assert_eq!(r.metadata.response_code, ResponseCode::Refused);
    assert_eq!(r.queries.len(), 1, "the question is echoed");

    let mut v1 = Message::query();
    v1.add_query(Query::query(
        Name::from_ascii("www.example.com.").expect("n"),
        RecordType::A,
    ));
    let mut edns = Edns::new();
    edns.set_version(1);
    v1.set_edns(edns);
    let r = decode(&reply_to(&v1.to_vec().expect("e"), Transport::Udp).expect("reply"));
    // 16 is BADVERS in an OPT-carrying reply; hickory names the value BADSIG when decoding.
    assert_eq!(u16::from(r.metadata.response_code), 16);
    assert!(r.edns.is_some());

    let packet = query("www.example.com.", RecordType::A, None);
    let r = decode(&reply_to(&packet[..20], Transport::Udp).expect("reply"));
    assert_eq!(r.metadata.response_code, ResponseCode::FormErr);
    assert_eq!(r.metadata.id, 0xBEEF);
    assert!(r.queries.is_empty());
    assert_eq!(reply_to(&packet[..11], Transport::Udp), None);
}

/// The query's OPT flags: DO, and the Z bits after it.
fn query_with_flags(name: &str, dnssec_ok: bool, z: u16) -> Vec<u8> {
    let mut m = Message::query();
    m.metadata.id = 0xBEEF;
    m.add_query(Query::query(
        Name::from_ascii(name).expect("name"),
        RecordType::A,
    ));
    let mut edns = Edns::new();
    edns.set_max_payload(1232);
    edns.set_dnssec_ok(dnssec_ok);
    edns.flags_mut().z = z;
    m.set_edns(edns);
    m.to_vec().expect("encodes")
}

#[test]
fn the_do_bit_is_echoed_and_no_other_flag() {
    // Every kind of reply with an OPT: an answer, NXDOMAIN, REFUSED, BADVERS.
    for name in ["www.example.com.", "nope.example.com.", "example.net."] {
        for (dnssec_ok, z) in [(true, 0), (false, 0), (true, 0x7FFF), (false, 0x0001)] {
            let bytes =
                reply_to(&query_with_flags(name, dnssec_ok, z), Transport::Udp).expect("a reply");
            let m = decode(&bytes);
            let edns = m.edns.as_ref().expect("an OPT");
            let what = format!("{name} DO {dnssec_ok} Z {z:#x}");
            assert_eq!(edns.flags().dnssec_ok, dnssec_ok, "{what}");
            assert_eq!(edns.flags().z, 0, "{what}");
        }
    }
}

/// The Extended DNS Errors (RFC 8914, option 15) of a reply: (INFO-CODE, EXTRA-TEXT).
fn extended_errors(m: &Message) -> Vec<(u16, String)> {
    let Some(edns) = m.edns.as_ref() else {
        return Vec::new();
    };
    edns.options()
        .as_ref()
        .iter()
        .filter_map(|(code, option)| match (u16::from(*code), option) {
            (15, EdnsOption::Unknown(15, data)) => Some((
                u16::from_be_bytes([data[0], data[1]]),
                String::from_utf8(data[2..].to_vec()).expect("UTF-8 text"),
            )),
            _ => None,
        })
        .collect()
}

fn ede_codes(m: &Message) -> Vec<u16> {
    extended_errors(m)
        .into_iter()
        .map(|(code, _)| code)
        .collect()
}

#[test]
fn refusals_and_servfail_before_the_sync_say_why_in_an_extended_error() {
    // Not Authoritative (20) for a name outside every zone, without text: a refusal is at most
    // the 6 bytes of the option larger than the query.
    let packet = query("example.net.", RecordType::A, Some(1232));
    let bytes = reply_to(&packet, Transport::Udp).expect("reply");
    assert!(bytes.len() <= packet.len() + 6, "{} bytes", bytes.len());
    let r = decode(&bytes);
    assert_eq!(r.metadata.response_code, ResponseCode::Refused);
    assert_eq!(extended_errors(&r), [(20, String::new())]);
    // Without EDNS there is no OPT to carry it.
    let r = decode(
        &reply_to(&query("example.net.", RecordType::A, None), Transport::Udp).expect("reply"),
    );
    assert_eq!(r.metadata.response_code, ResponseCode::Refused);
    assert!(r.edns.is_none());

    // Not Ready (14) while the sources have not synced.
    let (_writer, unsynced) = IndexWriter::new(vec![kubezone_index::ZoneConfig {
        origin: kubezone_model::DnsName::parse("example.com").expect("name"),
        ttl: 60,
        nameserver: kubezone_index::NameServer {
            name: kubezone_model::DnsName::parse("dns1.kube-system.example.com").expect("name"),
            addrs: vec![],
        },
        secondary: None,
        nameservers: Vec::new(),
        soa: Default::default(),
        records: Vec::new(),
        static_written: 0,
        precedence: kubezone_model::Kind::DEFAULT_RESOURCES.to_vec(),
        claims: kubezone_index::NameClaims::Shared,
        served: true,
    }]);
    let answerer = Answerer::new(unsynced, FallthroughPolicy::default(), None);
    let mut out = Vec::new();
    let packet = query("www.example.com.", RecordType::A, Some(1232));
    assert_eq!(
        answerer.respond(&packet, Transport::Udp, SRC, &mut out),
        Handled::Reply
    );
    let r = decode(&out);
    assert_eq!(r.metadata.response_code, ResponseCode::ServFail);
    assert_eq!(
        extended_errors(&r),
        [(14, "sources have not synced".to_owned())]
    );

    // Prohibited (18) for a client the access list refuses.
    let guard = GuardConfig {
        acl: Some(AclConfig {
            allow: vec!["192.0.2.0/24".parse().expect("net")],
            action: AclAction::Refuse,
        }),
        rate_limit: None,
    }
    .build(None);
    let answerer = Answerer::new(fixture(), FallthroughPolicy::default(), None).with_guard(guard);
    let mut out = Vec::new();
    let packet = query("www.example.com.", RecordType::A, Some(1232));
    answerer.respond(&packet, Transport::Udp, SRC, &mut out);
    assert!(out.len() <= packet.len() + 6, "{} bytes", out.len());
    let r = decode(&out);
    assert_eq!(r.metadata.response_code, ResponseCode::Refused);
    assert_eq!(extended_errors(&r), [(18, String::new())]);

    // Answers and other errors carry none.
    for (name, qtype) in [
        ("www.example.com.", RecordType::A),
        ("nope.example.com.", RecordType::A),
        ("example.com.", RecordType::NS),
    ] {
        let r = decode(&reply_to(&query(name, qtype, Some(1232)), Transport::Udp).expect("reply"));
        assert!(ede_codes(&r).is_empty(), "{name} {qtype}");
    }
}

fn with_identity(identity: Option<Identity>) -> Answerer {
    Answerer::new(fixture(), FallthroughPolicy::default(), None).with_identity(identity)
}

fn reply_from(answerer: &Answerer, packet: &[u8], transport: Transport) -> Message {
    let mut out = Vec::new();
    assert_eq!(
        answerer.respond(packet, transport, SRC, &mut out),
        Handled::Reply
    );
    if transport == Transport::Udp {
        assert!(out.len() <= usize::from(crate::MAX_UDP_PAYLOAD));
    }
    decode(&out)
}

/// A query with an empty NSID option (RFC 5001 §2.1), as `dig +nsid` sends it.
fn nsid_query(name: &str, qtype: RecordType, payload: u16) -> Vec<u8> {
    let mut m = Message::query();
    m.metadata.id = 0xBEEF;
    m.add_query(Query::query(Name::from_ascii(name).expect("name"), qtype));
    let mut edns = Edns::new();
    edns.set_max_payload(payload);
    edns.options_mut()
        .insert(EdnsOption::NSID(NSIDPayload::new(vec![]).expect("empty")));
    m.set_edns(edns);
    m.to_vec().expect("encodes")
}

fn nsid(m: &Message) -> Option<Vec<u8>> {
    match m.edns.as_ref()?.option(EdnsCode::NSID)? {
        EdnsOption::NSID(payload) => Some(payload.as_ref().to_vec()),
        other => panic!("not an NSID: {other:?}"),
    }
}

#[test]
fn nsid_is_answered_with_the_name_when_asked_and_on() {
    let on = with_identity(Some(
        Identity::new("kubezone-0", true, true).expect("valid"),
    ));
    for (name, qtype) in [
        ("www.example.com.", RecordType::A),
        ("nope.example.com.", RecordType::A),
        ("example.net.", RecordType::A),
        ("example.com.", RecordType::AXFR),
    ] {
        let r = reply_from(&on, &nsid_query(name, qtype, 1232), Transport::Udp);
        assert_eq!(
            nsid(&r).as_deref(),
            Some(&b"kubezone-0"[..]),
            "{name} {qtype}"
        );
    }
    // Not asked, or off: no NSID.
    let r = reply_from(
        &on,
        &query("www.example.com.", RecordType::A, Some(1232)),
        Transport::Udp,
    );
    assert_eq!(nsid(&r), None);
    let nsid_off = with_identity(Some(
        Identity::new("kubezone-0", false, true).expect("valid"),
    ));
    let r = reply_from(
        &nsid_off,
        &nsid_query("www.example.com.", RecordType::A, 1232),
        Transport::Udp,
    );
    assert_eq!(nsid(&r), None);
    let r = reply_from(
        &with_identity(None),
        &nsid_query("www.example.com.", RecordType::A, 1232),
        Transport::Udp,
    );
    assert_eq!(nsid(&r), None);
}

#[test]
fn the_opt_record_and_its_options_always_fit() {
    // The largest name and an extended error beside an NS answer with glue, at every limit
    // from the question up: RRsets are cut, the OPT never is, and the limit holds.
    let long = "n".repeat(crate::MAX_IDENTITY_LEN);
    let catalog = fixture().load_full();
    let qname = Name::from_ascii("example.com.").expect("name");
    let key = NameKey::new(&qname).expect("key");
    let Resolution::Answer(answer) = resolve(
        &catalog,
        &key,
        RecordType::NS,
        &FallthroughPolicy::default(),
    ) else {
        panic!("NS at the apex is answered");
    };
    let packet = query("example.com.", RecordType::NS, Some(1232));
    let question = &packet[12..12 + "example.com.".len() + 1 + 4];
    let header = Header {
        id: 7,
        opcode: 0,
        recursion_desired: false,
        checking_disabled: false,
    };
    let opt = Opt {
        payload: 1232,
        dnssec_ok: true,
        nsid: Some(long.as_bytes()),
        subnet: None,
        error: Some(ExtendedError::NOT_READY),
    };
    let write = |limit: usize, opt: Opt<'_>| {
        let mut out = Vec::new();
        let mut reply = Reply::new(&mut out, header, question, limit, Some(opt));
        let _ = reply.section(1, &answer.answers)
            && reply.section(2, &answer.authorities)
            && reply.section(ADDITIONAL, &answer.additionals);
        reply.finish(Flags::default());
        out
    };
    let bare = |opt: Opt<'_>| {
        let mut out = Vec::new();
        Reply::new(&mut out, header, question, 0, Some(opt)).finish(Flags::default());
        out.len()
    };
    let with_nsid = bare(opt);
    let without_nsid = bare(Opt { nsid: None, ..opt });
    assert_eq!(with_nsid, without_nsid, "at limit 0 the name is left out");
    let with_nsid = without_nsid + 4 + long.len();
    let mut seen_cuts = std::collections::BTreeSet::new();
    for limit in without_nsid..1000 {
        let out = write(limit, opt);
        assert!(out.len() <= limit, "limit {limit}: {} bytes", out.len());
        let m = decode(&out);
        // The name is left out only when the OPT with it would not fit on its own.
        let told = (limit >= with_nsid).then_some(long.as_bytes());
        assert_eq!(nsid(&m).as_deref(), told, "limit {limit}");
        assert_eq!(ede_codes(&m), [14], "limit {limit}");
        assert!(m.edns.as_ref().is_some_and(|e| e.flags().dnssec_ok));
        seen_cuts.insert((m.answers.len(), m.additionals.len()));
    }
    assert_eq!(
        seen_cuts.into_iter().collect::<Vec<_>>(),
        vec![(0, 0), (2, 0), (2, 1), (2, 2)],
        "every cut point is reached"
    );
    // Through the answerer, at the smallest EDNS payload.
    let on = with_identity(Some(Identity::new(&long, true, true).expect("valid")));
    for (name, qtype) in [
        ("example.com.", RecordType::NS),
        ("txt.example.com.", RecordType::TXT),
        ("alias.example.com.", RecordType::A),
    ] {
        let r = reply_from(&on, &nsid_query(name, qtype, 512), Transport::Udp);
        assert_eq!(nsid(&r).as_deref(), Some(long.as_bytes()), "{name}");
    }
}

#[test]
fn ch_txt_id_server_and_hostname_bind_name_the_server_and_other_ch_names_are_refused() {
    let chaos = |name: &str, qtype: RecordType| {
        let mut q = Query::query(Name::from_ascii(name).expect("name"), qtype);
        q.set_query_class(DNSClass::CH);
        let mut m = Message::query();
        m.metadata.id = 0xBEEF;
        m.metadata.recursion_desired = true;
        m.add_query(q);
        m.to_vec().expect("encodes")
    };
    let on = with_identity(Some(
        Identity::new("kubezone-0", false, true).expect("valid"),
    ));
    for name in [
        "id.server.",
        "hostname.bind.",
        "ID.Server.",
        "HOSTNAME.BIND.",
    ] {
        for transport in [Transport::Udp, Transport::Tcp] {
            let r = reply_from(&on, &chaos(name, RecordType::TXT), transport);
            assert_eq!(r.metadata.response_code, ResponseCode::NoError, "{name}");
            assert!(!r.metadata.authoritative && r.metadata.recursion_desired);
            assert_eq!(r.queries[0].name().to_string(), name, "echoed as sent");
            assert_eq!(lines(&r.answers), [format!("{name} 0 TXT kubezone-0")]);
            assert_eq!(r.answers[0].dns_class, DNSClass::CH);
        }
    }
    for (name, qtype) in [
        ("version.bind.", RecordType::TXT),
        ("version.server.", RecordType::TXT),
        ("authors.bind.", RecordType::TXT),
        ("id.server.", RecordType::A),
        ("www.example.com.", RecordType::TXT),
    ] {
        let r = reply_from(&on, &chaos(name, qtype), Transport::Udp);
        assert_eq!(
            r.metadata.response_code,
            ResponseCode::Refused,
            "{name} {qtype}"
        );
        assert!(r.answers.is_empty());
    }
    // Off: refused like every CH question.
    let chaos_off = with_identity(Some(
        Identity::new("kubezone-0", true, false).expect("valid"),
    ));
    for answerer in [chaos_off, with_identity(None)] {
        let r = reply_from(
            &answerer,
            &chaos("id.server.", RecordType::TXT),
            Transport::Udp,
        );
        assert_eq!(r.metadata.response_code, ResponseCode::Refused);
    }
    // IN TXT for the same name is a name outside every zone.
    let r = reply_from(
        &on,
        &query("id.server.", RecordType::TXT, None),
        Transport::Udp,
    );
    assert_eq!(r.metadata.response_code, ResponseCode::Refused);
}

/// The size of the reply to `example.com. NS` when the nameserver has `glue` addresses.
fn ns_reply_len(glue: u8) -> usize {
    let zone = kubezone_index::ZoneConfig {
        origin: kubezone_model::DnsName::parse("example.com").expect("name"),
        ttl: 60,
        nameserver: kubezone_index::NameServer {
            name: kubezone_model::DnsName::parse("dns1.kube-system.example.com").expect("name"),
            addrs: (1..=glue)
                .map(|i| std::net::Ipv4Addr::new(192, 0, 2, i).into())
                .collect(),
        },
        secondary: None,
        nameservers: Vec::new(),
        soa: Default::default(),
        records: Vec::new(),
        static_written: 0,
        precedence: kubezone_model::Kind::DEFAULT_RESOURCES.to_vec(),
        claims: kubezone_index::NameClaims::Shared,
        served: true,
    };
    let (mut writer, reader) = IndexWriter::new(vec![zone]);
    writer.set_ready(true);
    writer.publish(1);
    let answerer = Answerer::new(reader, FallthroughPolicy::default(), None);
    let mut out = Vec::new();
    let packet = query("example.com.", RecordType::NS, None);
    answerer.respond(&packet, Transport::Tcp, SRC, &mut out);
    let m = decode(&out);
    assert_eq!(m.additionals.len(), usize::from(glue));
    out.len()
}

#[test]
fn records_after_the_first_of_an_rrset_point_at_its_owner() {
    // The glue host is written once (labels and a pointer to the zone); each further A record
    // costs a 2-byte pointer and its 14 bytes.
    assert_eq!(ns_reply_len(3) - ns_reply_len(2), 2 + 14);
    assert_eq!(ns_reply_len(40) - ns_reply_len(2), 38 * (2 + 14));
}
