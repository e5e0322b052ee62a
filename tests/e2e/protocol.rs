//! The transport rules of `spec/dns.md`: EDNS, truncation, bad messages, opcodes, classes, TCP.

use hickory_proto::{
    op::{Edns, OpCode, ResponseCode},
    rr::{DNSClass, RecordType},
};

use crate::{
    harness::{Server, Transport, ZONE, plain_query, query},
    objects::ingress,
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

    use crate::harness::Setup;

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
