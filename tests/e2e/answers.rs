//! Every row of the answer table in `spec/dns.md`, over UDP and TCP.

use hickory_proto::{op::ResponseCode, rr::RecordType};

use crate::{
    harness::{Server, Transport, ZONE, addresses, lines, query},
    objects::{as_refs, standard},
};

fn server() -> Server {
    let files = standard();
    Server::start(ZONE, &as_refs(&files))
}

#[test]
fn every_row_of_the_answer_table() {
    let s = server();
    for transport in [Transport::Udp, Transport::Tcp] {
        let ask = |name: &str, qtype| s.send(&query(name, qtype), transport);

        // The name has records of the asked type: all of them, AA set, RA clear.
        let r = ask("www.example.com.", RecordType::A);
        assert_eq!(r.metadata.response_code, ResponseCode::NoError);
        assert!(r.metadata.authoritative && !r.metadata.recursion_available);
        assert_eq!(addresses(&r), ["10.0.0.1", "10.0.0.2"], "{transport:?}");

        // The name exists without the asked type: NODATA with the SOA.
        for (name, qtype) in [
            ("www.example.com.", RecordType::AAAA),
            ("v6.example.com.", RecordType::A),
            ("www.example.com.", RecordType::TXT),
            ("txt.example.com.", RecordType::A),
            ("www.example.com.", RecordType::MX),
            ("www.example.com.", RecordType::SRV),
            ("ns1.example.com.", RecordType::A),
        ] {
            let r = ask(name, qtype);
            assert_eq!(
                r.metadata.response_code,
                ResponseCode::NoError,
                "{name} {qtype}"
            );
            assert!(r.answers.is_empty(), "{name} {qtype}");
            assert_eq!(r.authorities.len(), 1, "{name} {qtype}");
            assert_eq!(r.authorities[0].record_type(), RecordType::SOA);
            assert_eq!(r.authorities[0].ttl, 60, "min(SOA TTL, minimum)");
        }

        // The name does not exist: NXDOMAIN with the SOA.
        let r = ask("nope.example.com.", RecordType::A);
        assert_eq!(r.metadata.response_code, ResponseCode::NXDomain);
        assert!(r.metadata.authoritative);
        assert_eq!(r.authorities[0].record_type(), RecordType::SOA);

        // SOA at the apex; NODATA below it.
        let r = ask("example.com.", RecordType::SOA);
        assert_eq!(r.answers.len(), 1);
        assert_eq!(r.answers[0].record_type(), RecordType::SOA);
        let r = ask("www.example.com.", RecordType::SOA);
        assert!(r.answers.is_empty());
        assert_eq!(r.authorities[0].record_type(), RecordType::SOA);

        // NS at the apex, glue in additional.
        let r = ask("example.com.", RecordType::NS);
        assert_eq!(
            lines(&r.answers),
            ["example.com. 60 NS dns1.kube-system.example.com."]
        );
        assert!(
            lines(&r.additionals).contains(&"dns1.kube-system.example.com. 60 A 192.0.2.53".into())
        );
    }
}

#[test]
fn the_service_name_and_its_empty_non_terminal() {
    let s = server();
    assert_eq!(
        addresses(&s.ask("svc1.ns1.example.com.", RecordType::A)),
        ["10.0.1.1"]
    );
    let ent = s.ask("ns1.example.com.", RecordType::A);
    assert_eq!(ent.metadata.response_code, ResponseCode::NoError);
}

#[test]
fn wildcards_case_and_the_question_echo() {
    let s = server();
    let r = s.ask("A.B.w.example.com.", RecordType::A);
    assert_eq!(addresses(&r), ["10.0.2.1"]);
    assert_eq!(
        r.answers[0].name.to_ascii(),
        "A.B.w.example.com.",
        "owner is the name asked"
    );
    assert_eq!(
        r.queries[0].name().to_ascii(),
        "A.B.w.example.com.",
        "question echoed byte for byte (0x20)"
    );
    let r = s.ask("x.s.w.example.com.", RecordType::A);
    assert_eq!(r.metadata.response_code, ResponseCode::NXDomain);
    let r = s.ask("WWW.EXAMPLE.COM.", RecordType::A);
    assert_eq!(addresses(&r), ["10.0.0.1", "10.0.0.2"]);
}

#[test]
fn cnames_for_every_type_and_in_zone_chains() {
    let s = server();
    for qtype in [RecordType::A, RecordType::AAAA, RecordType::TXT] {
        let r = s.ask("elb.example.com.", qtype);
        assert_eq!(
            lines(&r.answers),
            ["elb.example.com. 60 CNAME lb-1.elb.amazonaws.com."],
            "{qtype}"
        );
    }
    let r = s.ask("alias.example.com.", RecordType::A);
    assert_eq!(r.answers[0].record_type(), RecordType::CNAME);
    assert_eq!(addresses(&r), ["10.0.0.1", "10.0.0.2"]);
}

#[test]
fn txt_and_any() {
    let s = server();
    let r = s.ask("txt.example.com.", RecordType::TXT);
    assert_eq!(lines(&r.answers), ["txt.example.com. 60 TXT hello world"]);
    let r = s.ask("www.example.com.", RecordType::ANY);
    assert_eq!(r.answers.len(), 2, "one RRset (RFC 8482)");
}

#[test]
fn the_nameserver_host() {
    let s = server();
    assert_eq!(
        addresses(&s.ask("dns1.kube-system.example.com.", RecordType::A)),
        ["192.0.2.53"]
    );
    let r = s.ask("x.dns1.kube-system.example.com.", RecordType::A);
    assert_eq!(r.metadata.response_code, ResponseCode::NXDomain);
}

#[test]
fn names_outside_every_zone_are_refused() {
    let s = server();
    let r = s.ask("example.net.", RecordType::A);
    assert_eq!(r.metadata.response_code, ResponseCode::Refused);
    assert!(!r.metadata.authoritative);
}
