//! Fallthrough: NXDOMAIN names of a listed sub-zone are answered by the upstream (a second
//! kubezone authoritative for that sub-zone, or the test upstream of `upstream.rs`), within
//! bounds: a cap on queries waiting upstream, shared sockets, failed upstreams asked last, the
//! rate limit before forwarding, TCP answers not held by a forward, and kubezone's own flags.

use std::{
    collections::HashSet,
    io::{Read, Write},
    net::{SocketAddr, TcpStream, UdpSocket},
    process::Command,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::Duration,
};

use hickory_proto::{
    op::{Message, ResponseCode},
    rr::{
        RecordType,
        rdata::opt::{EdnsCode, EdnsOption},
    },
};

use crate::{
    harness::{Server, Setup, ZONE, addresses, query},
    objects::ingress,
    upstream::Upstream,
};

#[test]
fn would_be_nxdomain_names_of_a_fallthrough_sub_zone_go_upstream() {
    let upstream_app = ingress("legacy", "app.legacy.example.com", &["10.8.0.1"]);
    let upstream = Server::start_with(Setup {
        zones: "  - zone: legacy.example.com\n",
        extra: "",
        manifests: &[("legacy.yaml", &upstream_app)],
        ..Setup::default()
    });
    let local = ingress("www", "www.example.com", &["10.0.0.1"]);
    let extra = format!("upstream: [\"{}\"]", upstream.addr);
    let zones = format!("{ZONE}    fallthrough: [legacy]\n");
    let s = Server::start_with(Setup {
        zones: &zones,
        extra: &extra,
        manifests: &[("www.yaml", &local)],
        ..Setup::default()
    });

    let r = s.ask("app.legacy.example.com.", RecordType::A);
    assert_eq!(addresses(&r), ["10.8.0.1"], "answered upstream");
    assert!(!r.metadata.recursion_available);
    let r = s.ask("gone.legacy.example.com.", RecordType::A);
    assert_eq!(
        r.metadata.response_code,
        ResponseCode::NXDomain,
        "upstream's NXDOMAIN"
    );
    // Outside the listed sub-zone, NXDOMAIN is final and local.
    let r = s.ask("other.example.com.", RecordType::A);
    assert_eq!(r.metadata.response_code, ResponseCode::NXDomain);
    assert_eq!(r.authorities[0].name.to_ascii(), "example.com.");
    // Names that exist are never forwarded.
    assert_eq!(
        addresses(&s.ask("www.example.com.", RecordType::A)),
        ["10.0.0.1"]
    );

    drop(upstream);
    let r = s.ask("app.legacy.example.com.", RecordType::A);
    assert_eq!(
        r.metadata.response_code,
        ResponseCode::ServFail,
        "upstream gone"
    );
    // The log reaches the harness through a pipe and a reader thread, maybe after the reply.
    s.wait_for_log("fallthrough upstream failed", 1);
}

/// The UDP sockets kubezone keeps per upstream (`UDP_SOCKETS_PER_UPSTREAM`).
const POOL: usize = 4;

/// kubezone serving example.com with `legacy.example.com` falling through to `upstreams`,
/// `www.example.com` its own, with `extra` config (and HTTP for the metrics).
fn kubezone(upstreams: &[&Upstream], extra: &str) -> Server {
    let www = ingress("www", "www.example.com", &["10.0.0.1"]);
    let list = upstreams
        .iter()
        .map(|u| format!("\"{}\"", u.addr))
        .collect::<Vec<_>>()
        .join(", ");
    let extra = format!("upstream: [{list}]\nhttp: {{listen: \"127.0.0.1:0\"}}\n{extra}");
    let zones = format!("{ZONE}    fallthrough: [legacy]\n");
    Server::start_with(Setup {
        zones: &zones,
        extra: &extra,
        manifests: &[("www.yaml", &www)],
        ..Setup::default()
    })
}

/// The INFO-CODE of the reply's Extended DNS Error, if it has one.
fn ede(reply: &Message) -> Option<u16> {
    match reply.edns.as_ref()?.option(EdnsCode::from(15))? {
        EdnsOption::Unknown(_, data) => Some(u16::from_be_bytes([*data.first()?, *data.get(1)?])),
        _ => None,
    }
}

#[test]
fn forwarded_replies_carry_kubezones_flags_not_the_upstreams() {
    // The upstream answers with RA=1, AA=0 and AD=1, as a recursive resolver does.
    let upstream = Upstream::start(Duration::ZERO);
    let s = kubezone(&[&upstream], "");
    let r = s.ask("app.legacy.example.com.", RecordType::A);
    assert_eq!(addresses(&r), ["10.8.0.1"]);
    assert!(!r.metadata.recursion_available, "RA is never set");
    assert!(!r.metadata.authentic_data, "kubezone validates nothing");
    assert!(r.metadata.authoritative, "an answer for a name in the zone");
    let r = s.ask("gone.legacy.example.com.", RecordType::A);
    assert_eq!(r.metadata.response_code, ResponseCode::NXDomain);
    assert!(r.metadata.authoritative && !r.metadata.recursion_available);
    // A referral is no authoritative answer, here as from the zones themselves.
    let r = s.ask("ref.legacy.example.com.", RecordType::A);
    assert_eq!(r.metadata.response_code, ResponseCode::NoError);
    assert_eq!(r.authorities[0].record_type(), RecordType::NS);
    assert!(!r.metadata.authoritative && !r.metadata.recursion_available);
}

#[test]
fn upstream_sockets_and_connections_are_shared_by_queries() {
    let upstream = Upstream::start(Duration::ZERO);
    let s = kubezone(&[&upstream], "");
    for i in 0..100 {
        let r = s.ask(&format!("n{i}.legacy.example.com."), RecordType::A);
        assert_eq!(r.metadata.response_code, ResponseCode::NXDomain);
    }
    // Truncated over UDP: asked again over TCP, on one connection kept open.
    for i in 0..10 {
        let r = s.ask(&format!("tc.t{i}.legacy.example.com."), RecordType::A);
        assert_eq!(addresses(&r), ["10.8.0.1"], "tc.t{i}");
    }
    let seen = upstream.seen();
    assert_eq!(seen.udp_queries, 110);
    assert!(
        seen.udp_ports.len() <= POOL,
        "{} source ports for 110 queries",
        seen.udp_ports.len()
    );
    assert_eq!(seen.tcp_queries, 10);
    assert_eq!(seen.tcp_connections, 1, "one TCP connection for 10 queries");
}

#[test]
fn a_failed_upstream_is_asked_last() {
    let silent = Upstream::silent();
    let live = Upstream::start(Duration::ZERO);
    let s = kubezone(&[&silent, &live], "");
    for i in 0..20 {
        let r = s.ask(&format!("n{i}.legacy.example.com."), RecordType::A);
        assert_eq!(r.metadata.response_code, ResponseCode::NXDomain, "n{i}");
    }
    // Asked first once; after that it waits at the back until its recheck (10 s).
    assert_eq!(silent.seen().udp_queries, 1);
    assert_eq!(live.seen().udp_queries, 20);
    s.wait_for_log("fallthrough upstream failed", 1);
}

#[test]
fn a_client_over_its_rate_limit_is_not_forwarded_for() {
    let upstream = Upstream::start(Duration::ZERO);
    let s = kubezone(
        &[&upstream],
        "rateLimit: {responsesPerSecond: 100, nxdomainsPerSecond: 2, window: 5, slip: 0}",
    );
    let socket = UdpSocket::bind("127.0.0.1:0").expect("bind");
    socket
        .set_read_timeout(Some(Duration::from_millis(200)))
        .expect("timeout");
    let mut answered = 0;
    for i in 0..30 {
        let bytes = query(&format!("r{i}.legacy.example.com."), RecordType::A)
            .to_vec()
            .expect("encode");
        socket.send_to(&bytes, s.addr).expect("send");
        let mut buf = [0; 1500];
        if socket.recv_from(&mut buf).is_ok() {
            answered += 1;
        }
    }
    // Two NXDOMAINs a second: the third puts the client in debt, and from then on its
    // queries are dropped before they reach the upstream.
    assert!(answered <= 3, "{answered} answered");
    let asked = upstream.seen().udp_queries;
    assert!(
        asked <= 4,
        "the upstream was asked {asked} times for 30 limited queries"
    );
    assert!(s.metric_sum("kubezone_rrl_dropped_total") >= 26.0);
}

#[test]
fn tcp_answers_are_not_held_by_a_query_waiting_upstream() {
    let upstream = Upstream::start(Duration::from_millis(1500));
    let s = kubezone(&[&upstream], "");
    let mut forwarded = query("app.legacy.example.com.", RecordType::A);
    forwarded.metadata.id = 1;
    let mut local = query("www.example.com.", RecordType::A);
    local.metadata.id = 2;
    let mut stream = TcpStream::connect(s.addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let mut framed = Vec::new();
    for m in [&forwarded, &local] {
        let bytes = m.to_vec().expect("encode");
        framed.extend_from_slice(&u16::try_from(bytes.len()).expect("len").to_be_bytes());
        framed.extend_from_slice(&bytes);
    }
    stream.write_all(&framed).expect("write");
    let mut read = || {
        let mut len = [0u8; 2];
        stream.read_exact(&mut len).expect("length");
        let mut reply = vec![0; usize::from(u16::from_be_bytes(len))];
        stream.read_exact(&mut reply).expect("reply");
        Message::from_vec(&reply).expect("decode")
    };
    // The second query's answer comes first (RFC 7766 §6.2.1.1), then the upstream's.
    let first = read();
    assert_eq!(first.metadata.id, 2, "the in-zone answer did not wait");
    assert_eq!(addresses(&first), ["10.0.0.1"]);
    let second = read();
    assert_eq!(second.metadata.id, 1);
    assert_eq!(addresses(&second), ["10.8.0.1"]);
}

#[test]
fn beyond_max_in_flight_a_query_gets_servfail_at_once() {
    let upstream = Upstream::start(Duration::from_millis(1000));
    let s = kubezone(&[&upstream], "forwarding: {maxInFlight: 2}");
    let socket = UdpSocket::bind("127.0.0.1:0").expect("bind");
    socket
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    for i in 0..6u16 {
        let mut m = query(&format!("c{i}.legacy.example.com."), RecordType::A);
        m.metadata.id = i;
        socket
            .send_to(&m.to_vec().expect("encode"), s.addr)
            .expect("send");
    }
    let mut replies = Vec::new();
    for _ in 0..6 {
        let mut buf = [0; 1500];
        let (len, _) = socket.recv_from(&mut buf).expect("every query is answered");
        replies.push(Message::from_vec(&buf[..len]).expect("decode"));
    }
    // The four beyond the cap are answered first, before the upstream has answered anything.
    let (busy, forwarded) = replies.split_at(4);
    for r in busy {
        assert_eq!(r.metadata.response_code, ResponseCode::ServFail, "{r:?}");
        assert_eq!(ede(r), Some(23), "{r:?}");
    }
    for r in forwarded {
        assert_eq!(r.metadata.response_code, ResponseCode::NXDomain, "{r:?}");
    }
    assert_eq!(s.metric_sum("kubezone_fallthrough_rejected_total"), 4.0);
    assert_eq!(upstream.seen().udp_queries, 2);
}

/// Open descriptors of process `pid`.
fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count())
}

#[test]
fn a_random_name_flood_keeps_descriptors_bounded_and_zone_answers_flowing() {
    const NAMES: usize = 30_000;
    const SECONDS: u64 = 8;
    const MAX_IN_FLIGHT: usize = 200;
    // Slow: each forwarded query waits half a second, so thousands would wait at once.
    let upstream = Upstream::start(Duration::from_millis(500));
    let s = kubezone(
        &[&upstream],
        &format!("forwarding: {{maxInFlight: {MAX_IN_FLIGHT}}}"),
    );
    let pid = s.pid();
    let baseline = open_fds(pid);
    // What forwarding may hold whatever the load: the upstream's UDP sockets and one TCP
    // connection; a socket per waiting query would pass it within the first 10 ms of the flood.
    let bound = baseline + POOL + 1 + 8;
    assert!(
        bound < MAX_IN_FLIGHT,
        "the bound must tell a socket per query apart"
    );

    let names: String = (0..NAMES)
        .map(|i| format!("x{:08x}{i}.legacy.example.com A\n", rand_label(i)))
        .collect();
    let file = s.dir.path().join("flood.txt");
    std::fs::write(&file, names).expect("write the query file");
    let distinct: HashSet<_> = std::fs::read_to_string(&file)
        .expect("read")
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(distinct.len(), NAMES);

    let done = Arc::new(AtomicBool::new(false));
    let most_fds = Arc::new(AtomicU64::new(0));
    let sampler = {
        let (done, most_fds) = (done.clone(), most_fds.clone());
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                most_fds.fetch_max(open_fds(pid) as u64, Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(5));
            }
        })
    };
    // The checker: in-zone queries one after another, each of which must be answered.
    let checker = {
        let (done, addr) = (done.clone(), s.addr);
        std::thread::spawn(move || check_in_zone(addr, &done))
    };
    let dnsperf = Command::new("dnsperf")
        .args(["-s", "127.0.0.1", "-p", &s.addr.port().to_string()])
        .arg("-d")
        .arg(&file)
        .args([
            "-l",
            &SECONDS.to_string(),
            "-Q",
            "5000",
            "-q",
            "5000",
            "-t",
            "3",
        ])
        .output()
        .expect("run dnsperf (Debian package dnsperf; scripts/install-test-deps.sh)");
    done.store(true, Ordering::Relaxed);
    let (asked, lost) = checker.join().expect("checker");
    sampler.join().expect("sampler");
    let text = String::from_utf8_lossy(&dnsperf.stdout);
    assert!(dnsperf.status.success(), "dnsperf failed:\n{text}");
    let field = |label: &str| -> u64 {
        text.lines()
            .find_map(|l| l.trim().strip_prefix(label))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {label:?} in dnsperf's output:\n{text}"))
    };
    let sent = field("Queries sent:");
    // "Response codes:       NOERROR 10 (1.00%), SERVFAIL 990 (99.00%)"
    let servfail = text
        .lines()
        .find(|l| l.contains("Response codes:"))
        .and_then(|l| l.split("SERVFAIL ").nth(1))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(0);
    let rejected = s.metric_sum("kubezone_fallthrough_rejected_total");
    let most = most_fds.load(Ordering::Relaxed);
    println!(
        "FIGURE fallthrough flood: dnsperf sent {sent} queries for {NAMES} random names under a fallthrough sub-zone in {SECONDS} s, upstream answering after 500 ms, maxInFlight {MAX_IN_FLIGHT}: {servfail} SERVFAIL, {rejected} counted in kubezone_fallthrough_rejected_total, {} reached the upstream",
        upstream.seen().udp_queries
    );
    println!(
        "FIGURE fallthrough flood: open descriptors at most {most} (at rest {baseline}, bound {bound})"
    );
    println!("FIGURE fallthrough flood: in-zone queries of the checker {asked}, lost {lost}");
    assert!(
        most as usize <= bound,
        "{most} descriptors open at once, bound {bound}"
    );
    assert!(asked > 100, "the checker ran beside the flood: {asked}");
    assert_eq!(lost, 0, "in-zone queries lost during the flood");
    assert!(rejected > 0.0, "the cap was reached and counted");
    assert!(
        servfail > 0 && servfail <= rejected as u64,
        "SERVFAIL {servfail}, rejected {rejected}"
    );
}

/// A label-worthy number from `i`, so the names do not share a prefix.
fn rand_label(i: usize) -> u32 {
    (i as u32).wrapping_mul(2_654_435_761)
}

/// Asks `www.example.com. A` over and over until `done`: (asked, not answered right).
fn check_in_zone(addr: SocketAddr, done: &AtomicBool) -> (u64, u64) {
    let socket = UdpSocket::bind("127.0.0.1:0").expect("bind");
    socket
        .set_read_timeout(Some(Duration::from_secs(2)))
        .expect("timeout");
    let (mut asked, mut lost) = (0u64, 0u64);
    let mut buf = [0; 1500];
    while !done.load(Ordering::Relaxed) {
        let mut m = query("www.example.com.", RecordType::A);
        m.metadata.id = asked as u16;
        socket
            .send_to(&m.to_vec().expect("encode"), addr)
            .expect("send");
        asked += 1;
        let answered = loop {
            match socket.recv_from(&mut buf) {
                Ok((len, _)) => match Message::from_vec(&buf[..len]) {
                    // A late reply to an earlier query is not this one's.
                    Ok(r) if r.metadata.id != m.metadata.id => continue,
                    Ok(r) => break addresses(&r) == ["10.0.0.1"],
                    Err(_) => break false,
                },
                Err(_) => break false,
            }
        };
        if !answered {
            lost += 1;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    (asked, lost)
}
