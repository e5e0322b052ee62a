use super::*;

fn dns_endpoint(endpoints: &str) -> KubeObject {
    obj(&format!(
        r#"
apiVersion: externaldns.k8s.io/v1alpha1
kind: DNSEndpoint
metadata:
  name: records
  namespace: dns
spec:
  endpoints:
{endpoints}
"#
    ))
}

const OBJECT: &str = "DNSEndpoint/dns/records";

#[test]
fn every_record_type_with_its_own_targets_and_ttl() {
    let mut t = translator(&["example.com"]);
    let out = t.apply(&dns_endpoint(
        r#"  - dnsName: a.example.com
    recordType: A
    targets: [192.0.2.1, 192.0.2.2, 192.0.2.1]
    recordTTL: 300
  - dnsName: a.example.com
    recordType: AAAA
    targets: ["2001:db8::1"]
  - dnsName: alias.example.com
    recordType: CNAME
    targets: [target.example.net]
  - dnsName: txt.example.com
    recordType: TXT
    targets: ["v=spf1 -all", "hello world"]
    recordTTL: 0
  - dnsName: "*.wild.example.com"
    recordType: a
    targets: [192.0.2.9]"#,
    ));
    assert!(out.problems.is_empty(), "{:?}", problems(&out));
    assert_eq!(
        lines(&out, OBJECT),
        [
            "0 a.example.com. A 192.0.2.1 ttl=300",
            "0 a.example.com. A 192.0.2.2 ttl=300",
            "0 a.example.com. AAAA 2001:db8::1 ttl=300",
            "0 alias.example.com. CNAME target.example.net.",
            "0 txt.example.com. TXT \"hello world\"",
            "0 txt.example.com. TXT \"v=spf1 -all\"",
            "0 *.wild.example.com. A 192.0.2.9",
        ]
    );
}

#[test]
fn two_ttls_for_one_name_keep_the_shorter() {
    let mut t = translator(&["example.com"]);
    let out = t.apply(&dns_endpoint(
        r#"  - {dnsName: a.example.com, recordType: A, targets: [192.0.2.1], recordTTL: 300}
  - {dnsName: a.example.com, recordType: TXT, targets: [x], recordTTL: 60}"#,
    ));
    assert_eq!(
        lines(&out, OBJECT),
        [
            "0 a.example.com. A 192.0.2.1 ttl=60",
            "0 a.example.com. TXT \"x\" ttl=60"
        ]
    );
}

#[test]
fn external_dns_record_types_beyond_addresses_are_served() {
    let mut t = translator(&["example.com"]);
    let out = t.apply(&dns_endpoint(
        r#"  - {dnsName: example.com, recordType: MX, targets: ["10 mail.example.com", "20 backup.example.net"]}
  - {dnsName: _sip._tcp.example.com, recordType: SRV, targets: ["10 5 5060 sip.example.com"]}
  - {dnsName: lab.example.com, recordType: NS, targets: [ns1.lab.example.net]}
  - {dnsName: 10.2.0.192.example.com, recordType: PTR, targets: [www.example.com]}
  - {dnsName: example.com, recordType: CAA, targets: ["0 issue \"letsencrypt.org\""]}
  - {dnsName: sip.example.com, recordType: NAPTR, targets: ["100 10 \"S\" \"SIP+D2U\" \"\" _sip._udp.example.com."]}
  - {dnsName: bad.example.com, recordType: MX, targets: ["ten mail.example.com"]}"#,
    ));
    assert_eq!(
        lines(&out, OBJECT),
        [
            "0 example.com. MX 10 mail.example.com.",
            "0 example.com. MX 20 backup.example.net.",
            "0 example.com. CAA 0 issue \"letsencrypt.org\"",
            "0 10.2.0.192.example.com. PTR www.example.com.",
            "0 _sip._tcp.example.com. SRV 10 5 5060 sip.example.com.",
            "0 lab.example.com. NS ns1.lab.example.net.",
            "0 sip.example.com. NAPTR 100 10 \"S\" \"SIP+D2U\" \"\" _sip._udp.example.com.",
        ]
    );
    assert_one_problem(
        &out,
        OBJECT,
        "spec.endpoints[6].targets[0]",
        "ten mail.example.com",
    );
}

#[test]
fn unsupported_record_types_are_problems() {
    let mut t = translator(&["example.com"]);
    for record_type in ["SOA", "DNSKEY", "BOGUS", ""] {
        let out = t.apply(&dns_endpoint(&format!(
            r#"  - {{dnsName: mail.example.com, recordType: "{record_type}", targets: ["10 mx.example.com"]}}
  - {{dnsName: ok.example.com, recordType: A, targets: [192.0.2.1]}}"#
        )));
        assert_eq!(lines(&out, OBJECT), ["0 ok.example.com. A 192.0.2.1"]);
        assert_one_problem(&out, OBJECT, "spec.endpoints[0].recordType", record_type);
    }
}

#[test]
fn targets_that_do_not_fit_the_record_type_are_skipped() {
    let mut t = translator(&["example.com"]);
    let cases = [
        ("A", "2001:db8::1"),
        ("A", "host.example.net"),
        ("A", "192.0.2.300"),
        ("AAAA", "192.0.2.1"),
        ("AAAA", "2001:db8::g"),
        ("CNAME", "192.0.2.1"),
        ("CNAME", "bad..host"),
    ];
    for (record_type, bad) in cases {
        let good = match record_type {
            "A" => "192.0.2.1",
            "AAAA" => "2001:db8::1",
            _ => "good.example.net",
        };
        let out = t.apply(&dns_endpoint(&format!(
            "  - {{dnsName: x.example.com, recordType: {record_type}, targets: [\"{bad}\", \"{good}\"]}}"
        )));
        assert_eq!(lines(&out, OBJECT).len(), 1, "{record_type} {bad}");
        assert!(lines(&out, OBJECT).iter().all(|l| l.contains(good)));
        assert_one_problem(&out, OBJECT, "spec.endpoints[0].targets[0]", bad);
    }
}

#[test]
fn invalid_record_ttl_is_ignored_with_a_problem() {
    let mut t = translator(&["example.com"]);
    for ttl in ["-1", "2147483648"] {
        let out = t.apply(&dns_endpoint(&format!(
            "  - {{dnsName: x.example.com, recordType: A, targets: [192.0.2.1], recordTTL: {ttl}}}"
        )));
        assert_eq!(lines(&out, OBJECT), ["0 x.example.com. A 192.0.2.1"]);
        assert_one_problem(&out, OBJECT, "spec.endpoints[0].recordTTL", ttl);
    }
    let out = t.apply(&dns_endpoint(
        "  - {dnsName: x.example.com, recordType: A, targets: [192.0.2.1], recordTTL: 2147483647}",
    ));
    assert_eq!(
        lines(&out, OBJECT),
        ["0 x.example.com. A 192.0.2.1 ttl=2147483647"]
    );
}

#[test]
fn other_domains_are_not_our_business() {
    let mut t = translator(&["example.com"]);
    let out = t.apply(&dns_endpoint(
        "  - {dnsName: mail.elsewhere.net, recordType: MX, targets: [\"10 mx\"], recordTTL: -5}",
    ));
    assert!(lines(&out, OBJECT).is_empty());
    assert!(out.problems.is_empty(), "{:?}", problems(&out));
}

#[test]
fn a_bad_dns_name_is_a_problem_and_the_rest_is_served() {
    let mut t = translator(&["example.com"]);
    let out = t.apply(&dns_endpoint(
        r#"  - {dnsName: "www.*.example.com", recordType: A, targets: [192.0.2.1]}
  - {dnsName: ok.example.com, recordType: A, targets: [192.0.2.2]}"#,
    ));
    assert_eq!(lines(&out, OBJECT), ["0 ok.example.com. A 192.0.2.2"]);
    assert_one_problem(
        &out,
        OBJECT,
        "spec.endpoints[0].dnsName",
        "www.*.example.com",
    );
}
