//! The transport rules of `spec/dns.md`: EDNS, truncation, bad messages, opcodes, classes, TCP;
//! and the protocol details around the answer: DO echoed, NSID and CH TXT identity, Extended DNS
//! Errors, CNAME loops as NSD answers them, glue left out without TC.

use hickory_proto::{
    op::{Edns, OpCode, ResponseCode},
    rr::{DNSClass, RecordType},
};

use crate::{
    dig::tool,
    harness::{Server, Setup, Transport, ZONE, lines, plain_query, query},
    nsd::Nsd,
    objects::{dns_endpoint, ingress},
};

/// `big.example.com` has 100 A records (about 1.6 KB), `mid.example.com` 50 (about 0.8 KB).
fn server() -> Server {
    let ips = |n: usize| -> Vec<String> {
        (1..=n)
            .map(|i| format!("10.1.{}.{}", i / 250, i % 250 + 1))
            .collect()
    };
    let big = ips(100);
    let mid = ips(50);
    let big_refs: Vec<&str> = big.iter().map(String::as_str).collect();
    let mid_refs: Vec<&str> = mid.iter().map(String::as_str).collect();
    let files = [
        ("big.yaml", ingress("big", "big.example.com", &big_refs)),
        ("mid.yaml", ingress("mid", "mid.example.com", &mid_refs)),
        ("www.yaml", ingress("www", "www.example.com", &["10.0.0.1"])),
    ];
    let refs: Vec<(&str, &str)> = files.iter().map(|(n, c)| (*n, c.as_str())).collect();
    Server::start(ZONE, &refs)
}

fn with_payload(name: &str, payload: u16) -> hickory_proto::op::Message {
    let mut m = query(name, RecordType::A);
    if let Some(e) = m.edns.as_mut() {
        e.set_max_payload(payload);
    }
    m
}

#[test]
fn edns_is_answered_in_kind() {
    let s = server();
    let r = s.send(&query("www.example.com.", RecordType::A), Transport::Udp);
    let edns = r.edns.as_ref().expect("OPT in reply to an EDNS query");
    assert_eq!(edns.version(), 0);
    assert!(edns.max_payload() <= 1232);
    let r = s.send(
        &plain_query("www.example.com.", RecordType::A),
        Transport::Udp,
    );
    assert!(r.edns.is_none(), "no OPT in reply to a query without one");
}

#[test]
fn edns_version_above_zero_gets_badvers() {
    let s = server();
    let mut m = query("www.example.com.", RecordType::A);
    let mut edns = Edns::new();
    edns.set_version(1);
    m.edns = Some(edns);
    let r = s.send(&m, Transport::Udp);
    // 16 is BADVERS for a query with OPT (RFC 6891); hickory names the shared code BADSIG.
    assert_eq!(u16::from(r.metadata.response_code), 16);
    assert_eq!(r.edns.as_ref().map(Edns::version), Some(0));
}

#[test]
fn answers_that_do_not_fit_are_truncated_to_whole_rrsets() {
    let s = server();
    // 1.6 KB does not fit 1232 bytes, even when the client offers 4096.
    for payload in [1232, 4096] {
        let r = s.send(&with_payload("big.example.com.", payload), Transport::Udp);
        assert!(r.metadata.truncation, "payload {payload}");
        assert!(r.answers.is_empty(), "only whole RRsets");
    }
    // Without EDNS the limit is 512.
    let r = s.send(
        &plain_query("mid.example.com.", RecordType::A),
        Transport::Udp,
    );
    assert!(r.metadata.truncation);
    assert!(r.answers.is_empty());
    // 0.8 KB fits a 1232-byte client but not a 600-byte one.
    let r = s.send(&with_payload("mid.example.com.", 1232), Transport::Udp);
    assert!(!r.metadata.truncation);
    assert_eq!(r.answers.len(), 50);
    let r = s.send(&with_payload("mid.example.com.", 600), Transport::Udp);
    assert!(r.metadata.truncation);
    // TCP carries it all.
    let r = s.send(
        &plain_query("big.example.com.", RecordType::A),
        Transport::Tcp,
    );
    assert!(!r.metadata.truncation);
    assert_eq!(r.answers.len(), 100);
}

#[test]
fn question_counts_other_than_one_are_formerr() {
    let s = server();
    let mut none = plain_query("www.example.com.", RecordType::A);
    none.queries.clear();
    assert_eq!(
        s.send(&none, Transport::Udp).metadata.response_code,
        ResponseCode::FormErr
    );
    let mut two = plain_query("www.example.com.", RecordType::A);
    two.queries.push(two.queries[0].clone());
    assert_eq!(
        s.send(&two, Transport::Udp).metadata.response_code,
        ResponseCode::FormErr
    );
}

#[test]
fn garbage_is_dropped_or_formerr_and_the_server_keeps_answering() {
    let s = server();
    // Shorter than a header: dropped.
    assert!(
        s.udp_raw(&[0x12, 0x34, 0x01]).is_err(),
        "no reply to a partial header"
    );
    // A header claiming a question that is not there: FORMERR.
    let header_only = [0xab, 0xcd, 0x01, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0];
    let reply = s.udp_raw(&header_only).expect("a reply");
    assert_eq!(&reply[..2], &[0xab, 0xcd]);
    assert_eq!(reply[3] & 0x0f, 1, "FORMERR");
    // A label running past the end.
    let mut truncated_name = header_only.to_vec();
    truncated_name.extend_from_slice(&[0x3f, b'a', b'b']);
    let reply = s.udp_raw(&truncated_name).expect("a reply");
    assert_eq!(reply[3] & 0x0f, 1, "FORMERR");
    // Random bytes over TCP, then a real query on a new connection.
    let _ = s.tcp_raw(&[vec![0xff; 40]]);
    let r = s.send(&query("www.example.com.", RecordType::A), Transport::Udp);
    assert_eq!(r.metadata.response_code, ResponseCode::NoError);
    let r = s.send(&query("www.example.com.", RecordType::A), Transport::Tcp);
    assert_eq!(r.answers.len(), 1);
}

#[test]
fn other_opcodes_are_notimp_and_other_classes_refused() {
    let s = server();
    for op in [OpCode::Status, OpCode::Update, OpCode::Notify] {
        let mut m = plain_query("example.com.", RecordType::SOA);
        m.metadata.op_code = op;
        let r = s.send(&m, Transport::Udp);
        assert_eq!(r.metadata.response_code, ResponseCode::NotImp, "{op:?}");
    }
    let mut m = plain_query("www.example.com.", RecordType::A);
    let mut q = m.queries[0].clone();
    q.set_query_class(DNSClass::CH);
    m.queries = vec![q];
    let r = s.send(&m, Transport::Udp);
    assert_eq!(r.metadata.response_code, ResponseCode::Refused);
}

#[test]
fn tcp_carries_several_pipelined_queries_on_one_connection() {
    let s = server();
    let names = [
        "www.example.com.",
        "big.example.com.",
        "nope.example.com.",
        "mid.example.com.",
    ];
    let messages: Vec<Vec<u8>> = names
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let mut m = query(n, RecordType::A);
            m.metadata.id = u16::try_from(i).expect("small") + 100;
            m.to_vec().expect("encode")
        })
        .collect();
    let replies = s.tcp_raw(&messages).expect("replies");
    let mut ids: Vec<u16> = replies
        .iter()
        .map(|r| u16::from_be_bytes([r[0], r[1]]))
        .collect();
    ids.sort_unstable();
    assert_eq!(ids, [100, 101, 102, 103]);
}

#[test]
fn idle_tcp_connections_are_closed_after_the_configured_timeout() {
    use std::io::Read;

    let www = ingress("www", "www.example.com", &["10.0.0.1"]);
    let s = Server::start_with(Setup {
        zones: ZONE,
        extra: "tcp:\n  idleTimeoutSeconds: 1",
        manifests: &[("www.yaml", &www)],
        ..Setup::default()
    });
    let mut idle = std::net::TcpStream::connect(s.addr).expect("connect");
    idle.set_read_timeout(Some(crate::harness::PATIENCE))
        .expect("timeout");
    let started = std::time::Instant::now();
    let mut buf = [0u8; 1];
    let read = idle.read(&mut buf);
    assert!(
        matches!(read, Ok(0) | Err(_)) && started.elapsed() < crate::harness::PATIENCE,
        "the server should close an idle connection: {read:?} after {:?}",
        started.elapsed()
    );
    // Other clients are still served.
    let r = s.send(&query("www.example.com.", RecordType::A), Transport::Tcp);
    assert_eq!(r.answers.len(), 1);
}

#[test]
fn dig_sees_the_do_bit_echoed_in_the_opt_record() {
    let s = server();
    let out = tool("dig", &s, &["+dnssec", "www.example.com", "A"]);
    assert!(
        out.contains("; EDNS: version: 0, flags: do; udp: 1232"),
        "{out}"
    );
    assert!(out.contains("status: NOERROR"), "{out}");
    let out = tool("dig", &s, &["www.example.com", "A"]);
    assert!(
        out.contains("; EDNS: version: 0, flags:; udp: 1232"),
        "{out}"
    );
    let out = tool("kdig", &s, &["+dnssec", "www.example.com", "A"]);
    assert!(
        out.contains("; Version: 0; flags: do; UDP size: 1232 B"),
        "{out}"
    );
}

/// kubezone named in its config, or by the environment as the chart does.
fn named(extra: &str, env: &[(&str, &str)]) -> Server {
    let www = ingress("www", "www.example.com", &["10.0.0.1"]);
    Server::start_with_env(
        Setup {
            zones: ZONE,
            extra,
            manifests: &[("www.yaml", &www)],
            ..Setup::default()
        },
        env,
    )
}

#[test]
fn nsid_and_ch_txt_say_which_server_answered() {
    let s = named("identity: {name: kubezone-e2e-0}", &[]);
    let out = tool("dig", &s, &["+nsid", "www.example.com", "A"]);
    assert!(
        out.contains("; NSID: ") && out.contains("(\"kubezone-e2e-0\")"),
        "{out}"
    );
    assert!(out.contains("10.0.0.1"), "{out}");
    let out = tool("dig", &s, &["www.example.com", "A"]);
    assert!(!out.contains("NSID"), "only when asked: {out}");
    for name in ["id.server", "hostname.bind"] {
        let out = tool("dig", &s, &["CH", "TXT", name]);
        assert!(out.contains("status: NOERROR"), "{out}");
        assert!(
            out.contains(&format!("{name}. 0 CH TXT \"kubezone-e2e-0\"")),
            "{out}"
        );
    }
    let out = tool("kdig", &s, &["CH", "TXT", "id.server"]);
    assert!(out.contains("\"kubezone-e2e-0\""), "{out}");
    for name in ["version.bind", "version.server", "authors.bind"] {
        let out = tool("dig", &s, &["CH", "TXT", name]);
        assert!(out.contains("status: REFUSED"), "{name}: {out}");
    }

    // KUBEZONE_IDENTITY (the chart's pod name) turns both on and overrides the name.
    let s = named("", &[("KUBEZONE_IDENTITY", "kubezone-7d9f-x2")]);
    let out = tool("dig", &s, &["+nsid", "www.example.com", "A"]);
    assert!(out.contains("(\"kubezone-7d9f-x2\")"), "{out}");
    let out = tool("dig", &s, &["CH", "TXT", "hostname.bind"]);
    assert!(out.contains("CH TXT \"kubezone-7d9f-x2\""), "{out}");
    let s = named(
        "identity: {name: file-name, chaos: false}",
        &[("KUBEZONE_IDENTITY", "env-name")],
    );
    let out = tool("dig", &s, &["+nsid", "www.example.com", "A"]);
    assert!(out.contains("(\"env-name\")"), "{out}");
    let out = tool("dig", &s, &["CH", "TXT", "id.server"]);
    assert!(out.contains("status: REFUSED"), "chaos stays off: {out}");

    // Off by default.
    let s = named("", &[]);
    let out = tool("dig", &s, &["+nsid", "www.example.com", "A"]);
    assert!(!out.contains("NSID"), "{out}");
    let out = tool("dig", &s, &["CH", "TXT", "id.server"]);
    assert!(out.contains("status: REFUSED"), "{out}");
}

#[test]
fn refusals_say_why_in_an_extended_dns_error() {
    let s = server();
    let out = tool("dig", &s, &["www.example.net", "A"]);
    assert!(out.contains("status: REFUSED"), "{out}");
    assert!(out.contains("; EDE: 20 (Not Authoritative)"), "{out}");
    let out = tool("kdig", &s, &["+edns", "www.example.net", "A"]);
    assert!(out.contains("EDE: 20 (Not Authoritative)"), "{out}");
    // No OPT, no EDE.
    let out = tool("dig", &s, &["+noedns", "www.example.net", "A"]);
    assert!(
        out.contains("status: REFUSED") && !out.contains("EDE"),
        "{out}"
    );

    // dig queries from 127.0.0.1, which the access list leaves out.
    let s = named("acl: {allow: [127.0.0.2/32]}", &[]);
    let out = tool("dig", &s, &["www.example.com", "A"]);
    assert!(out.contains("status: REFUSED"), "{out}");
    assert!(out.contains("; EDE: 18 (Prohibited)"), "{out}");
}

/// A kubeconfig for an API server that accepts connections and never says a word.
fn hung_api_server() -> (std::net::TcpListener, tempfile::TempDir) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let dir = tempfile::tempdir().expect("tempdir");
    let kubeconfig = format!(
        "apiVersion: v1
kind: Config
clusters: [{{name: hung, cluster: {{server: \"http://{}\"}}}}]
users: [{{name: nobody, user: {{}}}}]
contexts: [{{name: hung, context: {{cluster: hung, user: nobody}}}}]
current-context: hung
",
        listener.local_addr().expect("addr")
    );
    std::fs::write(dir.path().join("kubeconfig"), kubeconfig).expect("write kubeconfig");
    (listener, dir)
}

#[test]
fn servfail_before_the_first_sync_says_not_ready() {
    let (_api, kube) = hung_api_server();
    let extra = format!(
        "kubernetes: {{kubeconfig: \"{}\"}}",
        kube.path().join("kubeconfig").display()
    );
    let s = Server::spawn(Setup {
        zones: ZONE,
        extra: &extra,
        manifests: &[],
        ..Setup::default()
    });
    let out = tool("dig", &s, &["www.example.com", "A"]);
    assert!(out.contains("status: SERVFAIL"), "{out}\n{}", s.log());
    assert!(
        out.contains("; EDE: 14 (Not Ready): (sources have not synced)"),
        "{out}"
    );
    let out = tool("kdig", &s, &["+edns", "example.com", "SOA"]);
    assert!(
        out.contains("status: SERVFAIL") && out.contains("EDE: 14 (Not Ready)"),
        "{out}"
    );
    let r = s.ask("www.example.com.", RecordType::A);
    assert_eq!(r.metadata.response_code, ResponseCode::ServFail);
}

#[test]
fn a_cname_loop_is_answered_as_nsd_answers_it() {
    let loops = [
        ("loop1", "loop2"),
        ("loop2", "loop1"),
        ("self", "self"),
        ("a", "b"),
        ("b", "c"),
        ("c", "a"),
        ("into", "loop1"),
    ];
    let files: Vec<(String, String)> = loops
        .iter()
        .map(|(from, to)| {
            (
                format!("{from}.yaml"),
                dns_endpoint(
                    from,
                    &format!("{from}.example.com"),
                    "CNAME",
                    &[&format!("{to}.example.com")],
                ),
            )
        })
        .collect();
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(n, c)| (n.as_str(), c.as_str()))
        .collect();
    let s = Server::start(ZONE, &refs);
    let records: String = loops
        .iter()
        .map(|(from, to)| format!("{from} IN CNAME {to}\n"))
        .collect();
    let nsd = Nsd::start(
        "example.com",
        &format!(
            "$ORIGIN example.com.\n$TTL 60\n@ IN SOA dns1.kube-system hostmaster.dns1.kube-system 1 7200 1800 86400 60\n@ IN NS dns1.kube-system\ndns1.kube-system IN A 192.0.2.53\n{records}"
        ),
    );
    for (from, _) in loops {
        let name = format!("{from}.example.com.");
        for qtype in [RecordType::A, RecordType::TXT] {
            let ours = s.ask(&name, qtype);
            let reference = nsd.ask(&name, qtype);
            assert_eq!(
                ours.metadata.response_code, reference.metadata.response_code,
                "{name} {qtype}"
            );
            assert_eq!(
                lines(&ours.answers),
                lines(&reference.answers),
                "{name} {qtype}"
            );
            // Each CNAME once.
            let mut owners: Vec<_> = ours.answers.iter().map(|r| r.name.clone()).collect();
            owners.dedup();
            assert_eq!(owners.len(), ours.answers.len(), "{name} {qtype}");
        }
    }
}

#[test]
fn glue_that_does_not_fit_is_left_out_without_tc() {
    // 40 addresses of the nameserver: 640 bytes of glue, more than 512.
    let glue: Vec<String> = (1..=40).map(|i| format!("\"192.0.2.{i}\"")).collect();
    let zone = format!("  - zone: example.com\n    glue: [{}]\n", glue.join(", "));
    let s = Server::start(&zone, &[]);
    let r = s.send(&plain_query("example.com.", RecordType::NS), Transport::Udp);
    assert!(!r.metadata.truncation, "{r:?}");
    assert_eq!(r.answers.len(), 1, "the NS answer is whole");
    assert!(r.additionals.is_empty(), "the glue is left out: {r:?}");
    let r = s.send(&plain_query("example.com.", RecordType::NS), Transport::Tcp);
    assert_eq!(r.additionals.len(), 40);
    let r = s.send(&query("example.com.", RecordType::NS), Transport::Udp);
    assert!(!r.metadata.truncation);
    assert_eq!(r.additionals.len(), 40, "1232 bytes hold it");
    let out = tool("dig", &s, &["+noedns", "example.com", "NS"]);
    assert!(out.contains("flags: qr aa;"), "no tc: {out}");
    assert!(
        out.contains("ANSWER: 1, AUTHORITY: 0, ADDITIONAL: 0"),
        "{out}"
    );
    assert!(!out.contains("Truncated"), "{out}");
}
