//! Every row of the answer table in `spec/dns.md`, against a synthetic index.

use hickory_proto::{
    op::ResponseCode,
    rr::{Name, RecordType},
};
use kubezone_index::{IndexReader, IndexWriter, NameKey, NameServer, ZoneConfig};
use kubezone_model::{DnsName, Endpoint, Kind, ObjectRef, Target};

use crate::{Answer, Fallthrough, FallthroughPolicy, Resolution, resolve};

const T0: u32 = 1_700_000_000;

pub(crate) fn dns(s: &str) -> DnsName {
    DnsName::parse(s).expect("valid name")
}

pub(crate) fn zone(origin: &str) -> ZoneConfig {
    ZoneConfig {
        origin: dns(origin),
        ttl: 60,
        nameserver: NameServer {
            name: dns(&format!("dns1.kube-system.{origin}")),
            addrs: vec!["192.0.2.53".parse().expect("ip")],
        },
        secondary: Some(NameServer {
            name: dns(&format!("dns2.kube-system.{origin}")),
            addrs: vec!["192.0.2.54".parse().expect("ip")],
        }),
        nameservers: Vec::new(),
        soa: Default::default(),
        records: Vec::new(),
        static_written: 0,
        precedence: Kind::DEFAULT_RESOURCES.to_vec(),
        claims: kubezone_index::NameClaims::Shared,
        served: true,
    }
}

/// example.com and other.org with a handful of names.
pub(crate) fn fixture() -> IndexReader {
    let (mut w, r) = IndexWriter::new(vec![zone("example.com"), zone("other.org")]);
    let put = |w: &mut IndexWriter, zone: usize, name: &str, targets: &[&str]| {
        let targets = targets
            .iter()
            .map(|t| {
                if let Some(text) = t.strip_prefix("txt:") {
                    Target::Text(text.to_string())
                } else {
                    Target::parse_ip_or_host(t).expect("target")
                }
            })
            .collect();
        w.apply(
            &ObjectRef::new(Kind::DnsEndpoint, Some("default"), name),
            [(zone, Endpoint::new(dns(name), targets))],
            T0,
            0,
        );
    };
    put(&mut w, 0, "www.example.com", &["10.0.0.1", "10.0.0.2"]);
    put(&mut w, 0, "v6.example.com", &["2001:db8::1"]);
    put(&mut w, 0, "svc1.ns1.example.com", &["10.0.1.1"]);
    put(&mut w, 0, "*.w.example.com", &["10.0.2.1"]);
    put(&mut w, 0, "s.w.example.com", &["10.0.2.2"]);
    put(&mut w, 0, "txt.example.com", &["txt:hello"]);
    put(&mut w, 0, "elb.example.com", &["lb-1.elb.amazonaws.com"]);
    put(&mut w, 0, "alias.example.com", &["www.example.com"]);
    put(&mut w, 0, "cross.example.com", &["app.other.org"]);
    put(&mut w, 0, "dangling.example.com", &["gone.example.com"]);
    put(&mut w, 0, "towild.example.com", &["x.w.example.com"]);
    put(&mut w, 0, "loop1.example.com", &["loop2.example.com"]);
    put(&mut w, 0, "loop2.example.com", &["loop1.example.com"]);
    put(&mut w, 0, "self.example.com", &["self.example.com"]);
    put(&mut w, 0, "into.example.com", &["loop1.example.com"]);
    put(&mut w, 1, "app.other.org", &["10.9.0.1"]);
    w.set_ready(true);
    w.publish(T0);
    r
}

pub(crate) fn ask(r: &IndexReader, name: &str, qtype: RecordType) -> Outcome {
    ask_with(r, name, qtype, &FallthroughPolicy::default())
}

fn ask_with(r: &IndexReader, name: &str, qtype: RecordType, ft: &FallthroughPolicy) -> Outcome {
    let catalog = r.load_full();
    let qname = Name::from_ascii(name).expect("name");
    let key = NameKey::new(&qname).expect("key");
    match resolve(&catalog, &key, qtype, ft) {
        Resolution::Answer(a) => Outcome::Answer(Seen::of(&a, &qname)),
        Resolution::Fallthrough => Outcome::Fallthrough,
        Resolution::Refused => Outcome::Refused,
        Resolution::NotReady => Outcome::NotReady,
    }
}

#[derive(Debug, PartialEq)]
pub(crate) enum Outcome {
    Answer(Seen),
    Fallthrough,
    Refused,
    NotReady,
}

/// An answer as text, one line per record: "owner TTL TYPE data".
#[derive(Debug, PartialEq)]
pub(crate) struct Seen {
    pub rcode: ResponseCode,
    pub aa: bool,
    pub answers: Vec<String>,
    pub authorities: Vec<String>,
    pub additionals: Vec<String>,
}

impl Seen {
    fn of(a: &Answer<'_>, qname: &Name) -> Seen {
        let lines = |s: &crate::resolve::Section<'_>| {
            s.iter()
                .flat_map(|part| part.records(qname))
                .map(|r| format!("{} {} {} {}", r.name, r.ttl, r.record_type(), r.data))
                .collect::<Vec<_>>()
        };
        Seen {
            rcode: a.rcode,
            aa: a.authoritative,
            answers: lines(&a.answers),
            authorities: lines(&a.authorities),
            additionals: lines(&a.additionals),
        }
    }
}

pub(crate) fn answer(outcome: Outcome) -> Seen {
    match outcome {
        Outcome::Answer(seen) => seen,
        other => panic!("expected an answer, got {other:?}"),
    }
}

/// The SOA line of `zone` in the fixture, whose serial is the newest write of its objects
/// (T0); the SOA's TTL is min(zone TTL, MINIMUM) in negative answers (RFC 2308 §3).
fn soa_line(zone: &str) -> String {
    let serial = T0;
    format!(
        "{zone} 60 SOA dns1.kube-system.{zone} hostmaster.{zone} {serial} 14400 3600 1209600 300"
    )
}

#[test]
fn records_of_the_asked_type_are_answered_in_full() {
    let seen = answer(ask(&fixture(), "www.example.com.", RecordType::A));
    assert_eq!(seen.rcode, ResponseCode::NoError);
    assert!(seen.aa);
    assert_eq!(
        seen.answers,
        [
            "www.example.com. 60 A 10.0.0.1",
            "www.example.com. 60 A 10.0.0.2"
        ]
    );
    assert!(seen.authorities.is_empty());
}

#[test]
fn lookups_ignore_case() {
    let seen = answer(ask(&fixture(), "WwW.ExAmPlE.CoM.", RecordType::A));
    assert_eq!(seen.answers.len(), 2);
}

#[test]
fn nodata_for_other_types_carries_the_soa() {
    let r = fixture();
    for (name, qtype) in [
        ("www.example.com.", RecordType::AAAA),
        ("v6.example.com.", RecordType::A),
        ("www.example.com.", RecordType::TXT),
        ("txt.example.com.", RecordType::A),
        ("www.example.com.", RecordType::MX),
        ("www.example.com.", RecordType::SRV),
    ] {
        let seen = answer(ask(&r, name, qtype));
        assert_eq!(seen.rcode, ResponseCode::NoError, "{name} {qtype}");
        assert!(seen.answers.is_empty(), "{name} {qtype}");
        assert_eq!(
            seen.authorities,
            [soa_line("example.com.")],
            "{name} {qtype}"
        );
    }
}

#[test]
fn missing_names_are_nxdomain_with_the_soa() {
    let seen = answer(ask(&fixture(), "nope.example.com.", RecordType::A));
    assert_eq!(seen.rcode, ResponseCode::NXDomain);
    assert!(seen.aa);
    assert_eq!(seen.authorities, [soa_line("example.com.")]);
}

#[test]
fn empty_non_terminals_are_nodata_not_nxdomain() {
    let seen = answer(ask(&fixture(), "ns1.example.com.", RecordType::A));
    assert_eq!(seen.rcode, ResponseCode::NoError);
    assert!(seen.answers.is_empty());
    assert_eq!(seen.authorities, [soa_line("example.com.")]);
}

#[test]
fn soa_at_the_apex_and_nodata_below() {
    let r = fixture();
    let seen = answer(ask(&r, "example.com.", RecordType::SOA));
    assert_eq!(seen.answers, [soa_line("example.com.")]);
    let below = answer(ask(&r, "www.example.com.", RecordType::SOA));
    assert_eq!(below.rcode, ResponseCode::NoError);
    assert!(below.answers.is_empty());
    assert_eq!(below.authorities, [soa_line("example.com.")]);
}

#[test]
fn ns_at_the_apex_with_glue() {
    let seen = answer(ask(&fixture(), "example.com.", RecordType::NS));
    assert_eq!(
        seen.answers,
        [
            "example.com. 60 NS dns1.kube-system.example.com.",
            "example.com. 60 NS dns2.kube-system.example.com."
        ]
    );
    assert_eq!(
        seen.additionals,
        [
            "dns1.kube-system.example.com. 60 A 192.0.2.53",
            "dns2.kube-system.example.com. 60 A 192.0.2.54"
        ]
    );
}

#[test]
fn the_nameserver_host_answers_its_address_and_nothing_exists_below() {
    let r = fixture();
    let seen = answer(ask(&r, "dns1.kube-system.example.com.", RecordType::A));
    assert_eq!(
        seen.answers,
        ["dns1.kube-system.example.com. 60 A 192.0.2.53"]
    );
    let below = answer(ask(&r, "x.dns1.kube-system.example.com.", RecordType::A));
    assert_eq!(below.rcode, ResponseCode::NXDomain);
    // Never falls through, even when the zone does.
    let all = FallthroughPolicy::new(&[Fallthrough::All, Fallthrough::All]);
    let below = answer(ask_with(
        &r,
        "x.dns1.kube-system.example.com.",
        RecordType::A,
        &all,
    ));
    assert_eq!(below.rcode, ResponseCode::NXDomain);
}

#[test]
fn wildcards_synthesise_with_the_query_name_as_owner() {
    let r = fixture();
    let seen = answer(ask(&r, "a.b.w.example.com.", RecordType::A));
    assert_eq!(seen.answers, ["a.b.w.example.com. 60 A 10.0.2.1"]);
    let blocked = answer(ask(&r, "x.s.w.example.com.", RecordType::A));
    assert_eq!(blocked.rcode, ResponseCode::NXDomain);
    let nodata = answer(ask(&r, "a.w.example.com.", RecordType::AAAA));
    assert_eq!(nodata.rcode, ResponseCode::NoError);
    assert!(nodata.answers.is_empty());
    let literal = answer(ask(&r, "*.w.example.com.", RecordType::A));
    assert_eq!(literal.answers, ["*.w.example.com. 60 A 10.0.2.1"]);
}

#[test]
fn a_cname_answers_every_type_and_chases_in_zone_targets() {
    let r = fixture();
    let external = answer(ask(&r, "elb.example.com.", RecordType::A));
    assert_eq!(
        external.answers,
        ["elb.example.com. 60 CNAME lb-1.elb.amazonaws.com."]
    );
    assert_eq!(external.rcode, ResponseCode::NoError);
    let txt = answer(ask(&r, "elb.example.com.", RecordType::TXT));
    assert_eq!(txt.answers, external.answers, "CNAME for every type");
    let chased = answer(ask(&r, "alias.example.com.", RecordType::A));
    assert_eq!(
        chased.answers,
        [
            "alias.example.com. 60 CNAME www.example.com.",
            "www.example.com. 60 A 10.0.0.1",
            "www.example.com. 60 A 10.0.0.2"
        ]
    );
    let cross = answer(ask(&r, "cross.example.com.", RecordType::A));
    assert_eq!(
        cross.answers.last().map(String::as_str),
        Some("app.other.org. 60 A 10.9.0.1")
    );
    let to_wild = answer(ask(&r, "towild.example.com.", RecordType::A));
    assert_eq!(
        to_wild.answers.last().map(String::as_str),
        Some("x.w.example.com. 60 A 10.0.2.1")
    );
    let asked = answer(ask(&r, "alias.example.com.", RecordType::CNAME));
    assert_eq!(
        asked.answers,
        ["alias.example.com. 60 CNAME www.example.com."]
    );
}

#[test]
fn a_cname_to_a_missing_in_zone_name_is_nxdomain() {
    let r = fixture();
    let dangling = answer(ask(&r, "dangling.example.com.", RecordType::A));
    assert_eq!(dangling.rcode, ResponseCode::NXDomain);
    assert_eq!(dangling.answers.len(), 1);
}

#[test]
fn a_cname_chain_stops_at_the_first_name_that_repeats() {
    let r = fixture();
    // Each RRset once, as NSD answers: the chain ends where its next name is already in it.
    for (name, chain) in [
        (
            "loop1.example.com.",
            &[
                "loop1.example.com. 60 CNAME loop2.example.com.",
                "loop2.example.com. 60 CNAME loop1.example.com.",
            ][..],
        ),
        (
            "self.example.com.",
            &["self.example.com. 60 CNAME self.example.com."][..],
        ),
        (
            "into.example.com.",
            &[
                "into.example.com. 60 CNAME loop1.example.com.",
                "loop1.example.com. 60 CNAME loop2.example.com.",
                "loop2.example.com. 60 CNAME loop1.example.com.",
            ][..],
        ),
    ] {
        for qtype in [RecordType::A, RecordType::TXT, RecordType::ANY] {
            let looped = answer(ask(&r, name, qtype));
            assert_eq!(looped.rcode, ResponseCode::NoError, "{name} {qtype}");
            assert_eq!(looped.answers, chain, "{name} {qtype}");
            assert!(looped.authorities.is_empty(), "{name} {qtype}");
        }
    }
    // Case does not hide a repeat.
    let looped = answer(ask(&r, "LOOP1.example.com.", RecordType::A));
    assert_eq!(looped.answers.len(), 2, "{looped:?}");
}

#[test]
fn any_gets_one_rrset() {
    let seen = answer(ask(&fixture(), "www.example.com.", RecordType::ANY));
    assert_eq!(seen.answers.len(), 2);
    assert!(seen.answers.iter().all(|l| l.contains(" A ")));
}

#[test]
fn names_outside_every_zone_are_refused() {
    assert_eq!(
        ask(&fixture(), "example.net.", RecordType::A),
        Outcome::Refused
    );
}

#[test]
fn fallthrough_takes_only_would_be_nxdomain_names() {
    let r = fixture();
    let ft = FallthroughPolicy::new(&[
        Fallthrough::Zones(vec![Name::from_ascii("legacy.example.com.").expect("name")]),
        Fallthrough::Off,
    ]);
    assert_eq!(
        ask_with(&r, "x.legacy.example.com.", RecordType::A, &ft),
        Outcome::Fallthrough
    );
    let other = answer(ask_with(&r, "x.example.com.", RecordType::A, &ft));
    assert_eq!(other.rcode, ResponseCode::NXDomain);
    let all = FallthroughPolicy::new(&[Fallthrough::All, Fallthrough::Off]);
    let existing = answer(ask_with(&r, "www.example.com.", RecordType::AAAA, &all));
    assert_eq!(
        existing.rcode,
        ResponseCode::NoError,
        "NODATA never falls through"
    );
}

#[test]
fn nothing_is_answered_before_the_first_sync() {
    let (_w, r) = IndexWriter::new(vec![zone("example.com")]);
    assert_eq!(
        ask(&r, "www.example.com.", RecordType::A),
        Outcome::NotReady
    );
    assert_eq!(ask(&r, "example.net.", RecordType::A), Outcome::Refused);
}
