//! TSIG against the tools secondaries and operators use: requests signed by `dig -y` and
//! `kdig -y` verify, the replies kubezone signs (one message over UDP, three over TCP for an
//! AXFR, and the error replies) are checked by them, and Knot, as a secondary of a test
//! primary that signs with this crate, transfers the zone and answers a signed NOTIFY.
//!
//! The primaries are a few lines on loopback sockets, here in the test. scripts/
//! install-test-deps.sh installs dig, kdig and knotd; a missing tool is a failure that says so.

use std::{
    io::{Read, Write},
    net::{Ipv4Addr, SocketAddr, TcpListener, UdpSocket},
    process::{Child, Command, Stdio},
    sync::mpsc,
    thread,
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use hickory_proto::{
    op::{Message, MessageType, OpCode, Query, ResponseCode},
    rr::{
        Name, RData, Record, RecordType,
        rdata::{A, NS, SOA},
    },
};
use kubezone_transfer::{Algorithm, Key, KeyRing, Secret};

/// Made with `tsig-keygen -a hmac-sha256 xfr-key` and `openssl rand -base64 64`.
const SHA256_SECRET: &str = "bjr5kkBPUmiy/o1i2kYImEzGszwzh+kvsr31MNkbyp8=";
const SHA512_SECRET: &str =
    "cfXpQEZ0IP9Z0mHQkHDe9HTPaoCTlH7/5p/U7iS34slVqkMxnZ7BkhHs7Qvufmgir9yPsN/cj5FgKFakhhgWRQ==";

fn ring() -> KeyRing {
    KeyRing::new([
        Key::new(
            "xfr-key",
            Algorithm::HmacSha256,
            Secret::from_base64(SHA256_SECRET).expect("base64"),
        )
        .expect("key"),
        Key::new(
            "wide-key",
            Algorithm::HmacSha512,
            Secret::from_base64(SHA512_SECRET).expect("base64"),
        )
        .expect("key"),
    ])
    .expect("ring")
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs()
}

/// How the test responders misbehave, to see that the tools notice.
#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Honest,
    /// The server's clock is an hour ahead.
    Skewed,
    /// As `Skewed`, with one bit of the BADTIME reply's MAC flipped.
    SkewedForged,
    /// One bit of the MAC of this message of the reply flipped.
    Forged(usize),
}

/// What the responder made of each request: the key it verified with, or the refusal.
type Outcome = Result<String, String>;

fn name(text: &str) -> Name {
    Name::from_ascii(text).expect("name")
}

fn a(owner: &str, last: u8) -> Record {
    Record::from_rdata(name(owner), 60, RData::A(A(Ipv4Addr::new(192, 0, 2, last))))
}

fn soa() -> Record {
    Record::from_rdata(
        name("example.com."),
        60,
        RData::SOA(SOA::new(
            name("ns.example.com."),
            name("hostmaster.example.com."),
            2024010101,
            14400,
            3600,
            1209600,
            300,
        )),
    )
}

fn ns() -> Record {
    Record::from_rdata(
        name("example.com."),
        60,
        RData::NS(NS(name("ns.example.net."))),
    )
}

/// The unsigned reply to `request` with `answers`: its ID, opcode and question, AA set.
fn reply(request: &[u8], answers: Vec<Record>) -> Vec<u8> {
    let request = Message::from_vec(request).expect("the tool's request parses");
    let mut reply = Message::response(request.metadata.id, request.metadata.op_code);
    reply.metadata.authoritative = true;
    reply.metadata.recursion_desired = request.metadata.recursion_desired;
    reply.add_queries(request.queries.clone());
    reply.add_answers(answers);
    reply.to_vec().expect("encode")
}

/// Flips a bit of the MAC, followed by the original ID, the error, the other length and
/// `other` bytes of Other Data.
fn forge(message: &mut [u8], other: usize) {
    let at = message.len() - 7 - other;
    message[at] ^= 0x01;
}

/// The records that answer `request`: the SOA for an SOA query, else `www.example.com A`.
fn answers(request: &[u8]) -> Vec<Record> {
    let request = Message::from_vec(request).expect("the request parses");
    match request.queries.first().map(|q| q.query_type()) {
        Some(RecordType::SOA) => vec![soa()],
        _ => vec![a("www.example.com.", 1)],
    }
}

/// The zone in three messages (SOA and two hosts, three hosts, two hosts and the SOA).
fn zone_in_three() -> [Vec<Record>; 3] {
    let host = |i: u8| a(&format!("host{i}.example.com."), i);
    [
        vec![soa(), ns(), host(1), host(2)],
        vec![host(3), host(4), host(5)],
        vec![host(6), host(7), soa()],
    ]
}

/// Answers UDP queries, signed, or with the refusal's reply.
fn serve_udp(socket: UdpSocket, mode: Mode, tx: mpsc::Sender<Outcome>) {
    let ring = ring();
    let mut buf = [0; 65535];
    while let Ok((len, client)) = socket.recv_from(&mut buf) {
        let request = &buf[..len];
        let clock = match mode {
            Mode::Skewed | Mode::SkewedForged => now() + 3600,
            _ => now(),
        };
        let (outcome, bytes) = match ring.verify_request(request, clock) {
            Ok(verified) => {
                let mut signed = verified
                    .response_signer()
                    .sign(reply(request, answers(request)), clock)
                    .expect("sign");
                if mode == Mode::Forged(0) {
                    forge(&mut signed, 0);
                }
                (Ok(verified.key().name().to_ascii()), signed)
            }
            Err(refusal) => {
                let mut reply = refusal.reply(request).expect("an error reply");
                if mode == Mode::SkewedForged {
                    forge(&mut reply, 6);
                }
                (Err(refusal.to_string()), reply)
            }
        };
        socket.send_to(&bytes, client).expect("send");
        if tx.send(outcome).is_err() {
            break;
        }
    }
}

/// Answers the requests on each TCP connection in turn: AXFR and IXFR with the zone in three
/// signed messages, anything else with one.
fn serve_tcp(listener: TcpListener, mode: Mode, tx: mpsc::Sender<Outcome>) {
    let ring = ring();
    for stream in listener.incoming() {
        let Ok(mut stream) = stream else {
            continue;
        };
        let mut len = [0; 2];
        while stream.read_exact(&mut len).is_ok() {
            let mut request = vec![0; usize::from(u16::from_be_bytes(len))];
            if stream.read_exact(&mut request).is_err() {
                break;
            }
            let (outcome, messages) = match ring.verify_request(&request, now()) {
                Ok(verified) => {
                    let qtype = Message::from_vec(&request)
                        .expect("the request parses")
                        .queries
                        .first()
                        .map(|q| q.query_type());
                    let parts = match qtype {
                        Some(RecordType::AXFR | RecordType::IXFR) => zone_in_three().to_vec(),
                        _ => vec![answers(&request)],
                    };
                    let mut signer = verified.response_signer();
                    let messages = parts
                        .into_iter()
                        .enumerate()
                        .map(|(i, records)| {
                            let mut signed =
                                signer.sign(reply(&request, records), now()).expect("sign");
                            if mode == Mode::Forged(i) {
                                forge(&mut signed, 0);
                            }
                            signed
                        })
                        .collect();
                    (Ok(verified.key().name().to_ascii()), messages)
                }
                Err(refusal) => (
                    Err(refusal.to_string()),
                    vec![refusal.reply(&request).expect("an error reply")],
                ),
            };
            for message in messages {
                let framed = [&(message.len() as u16).to_be_bytes()[..], &message].concat();
                if stream.write_all(&framed).is_err() {
                    break;
                }
            }
            if tx.send(outcome).is_err() {
                return;
            }
        }
    }
}

fn udp_responder(mode: Mode) -> (SocketAddr, mpsc::Receiver<Outcome>) {
    let socket = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let addr = socket.local_addr().expect("address");
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || serve_udp(socket, mode, tx));
    (addr, rx)
}

fn axfr_responder(mode: Mode) -> (SocketAddr, mpsc::Receiver<Outcome>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("address");
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || serve_tcp(listener, mode, tx));
    (addr, rx)
}

/// A primary for Knot: UDP and TCP on one port.
fn primary(mode: Mode) -> (SocketAddr, mpsc::Receiver<Outcome>) {
    let (tx, rx) = mpsc::channel();
    loop {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("address");
        let Ok(socket) = UdpSocket::bind(addr) else {
            continue;
        };
        let udp_tx = tx.clone();
        thread::spawn(move || serve_udp(socket, mode, udp_tx));
        thread::spawn(move || serve_tcp(listener, mode, tx));
        return (addr, rx);
    }
}

/// Runs `dig` or `kdig` at `addr`; stdout and stderr, one space between words.
fn tool(tool: &str, addr: SocketAddr, args: &[&str]) -> String {
    let port = addr.port().to_string();
    let mut cmd = Command::new(tool);
    match tool {
        "dig" => cmd.args(["@127.0.0.1", "-p", &port, "+norec", "+time=2", "+tries=1"]),
        _ => cmd.args(["@127.0.0.1", "-p", &port, "+norec", "+time=2", "+retry=0"]),
    };
    let out = cmd.args(args).output().unwrap_or_else(|e| {
        panic!("cannot run {tool} ({e}); run scripts/install-test-deps.sh to install it")
    });
    [out.stdout, out.stderr]
        .iter()
        .flat_map(|text| {
            String::from_utf8_lossy(text)
                .lines()
                .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
                .collect::<Vec<_>>()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn outcome(rx: &mpsc::Receiver<Outcome>) -> Outcome {
    rx.recv_timeout(Duration::from_secs(5))
        .expect("the responder saw a request")
}

fn sha256_key() -> String {
    format!("hmac-sha256:xfr-key:{SHA256_SECRET}")
}

fn sha512_key() -> String {
    format!("hmac-sha512:wide-key:{SHA512_SECRET}")
}

/// What dig and kdig print when a reply's TSIG does not check.
const DIG_DOUBTS: &str = "Couldn't verify signature";
const KDIG_DOUBTS: &str = "reply verification";

#[test]
fn dig_and_kdig_requests_verify_and_they_accept_the_signed_reply() {
    for (client, key) in [
        ("dig", sha256_key()),
        ("kdig", sha256_key()),
        ("dig", sha512_key()),
        ("kdig", sha512_key()),
    ] {
        let (addr, rx) = udp_responder(Mode::Honest);
        let out = tool(client, addr, &["-y", &key, "www.example.com", "A"]);
        let name = key.split(':').nth(1).expect("a name");
        assert_eq!(outcome(&rx), Ok(format!("{name}.")), "{client}: {out}");
        assert!(out.contains("status: NOERROR"), "{client}: {out}");
        assert!(
            out.contains("www.example.com. 60 IN A 192.0.2.1"),
            "{client}: {out}"
        );
        assert!(
            out.contains(&format!("{name}. 0 ANY TSIG")),
            "{client}: {out}"
        );
        assert!(
            !out.contains(DIG_DOUBTS) && !out.contains(KDIG_DOUBTS) && !out.contains("WARNING"),
            "{client}: {out}"
        );
    }
}

#[test]
fn a_reply_with_a_forged_mac_is_rejected_by_dig_and_kdig() {
    // The control for the test above: the tools do check the MAC.
    let (addr, rx) = udp_responder(Mode::Forged(0));
    let out = tool("dig", addr, &["-y", &sha256_key(), "www.example.com", "A"]);
    assert!(outcome(&rx).is_ok());
    assert!(
        out.contains(&format!("{DIG_DOUBTS}: tsig verify failure")),
        "{out}"
    );
    let (addr, rx) = udp_responder(Mode::Forged(0));
    let out = tool("kdig", addr, &["-y", &sha256_key(), "www.example.com", "A"]);
    assert!(outcome(&rx).is_ok());
    assert!(out.contains("(failed to verify TSIG)"), "{out}");
}

#[test]
fn an_unknown_key_gets_notauth_badkey_unsigned() {
    let key = format!("hmac-sha256:other-key:{SHA256_SECRET}");
    let (addr, rx) = udp_responder(Mode::Honest);
    let out = tool("dig", addr, &["-y", &key, "www.example.com"]);
    assert_eq!(
        outcome(&rx),
        Err(
            "the request is signed with key other-key. (hmac-sha256), which is not configured"
                .into()
        )
    );
    assert!(out.contains("status: NOTAUTH"), "{out}");
    assert!(out.contains("hmac-sha256. "), "{out}");
    assert!(out.contains(" 300 0 "), "no MAC: {out}");
    assert!(out.contains(" BADKEY 0"), "{out}");
    assert!(
        out.contains(&format!("{DIG_DOUBTS}: tsig indicates error")),
        "{out}"
    );
    let (addr, rx) = udp_responder(Mode::Honest);
    let out = tool("kdig", addr, &["-y", &key, "www.example.com"]);
    assert!(outcome(&rx).is_err());
    assert!(out.contains("status: BADKEY"), "{out}");
}

#[test]
fn another_secret_gets_notauth_badsig_unsigned() {
    let key = "hmac-sha256:xfr-key:c29tZSBvdGhlciBzZWNyZXQ=";
    let (addr, rx) = udp_responder(Mode::Honest);
    let out = tool("dig", addr, &["-y", key, "www.example.com"]);
    assert_eq!(
        outcome(&rx),
        Err("the request's MAC does not verify with key xfr-key.".into())
    );
    assert!(out.contains("status: NOTAUTH"), "{out}");
    assert!(out.contains(" 300 0 "), "no MAC: {out}");
    assert!(out.contains(" BADSIG 0"), "{out}");
    let (addr, rx) = udp_responder(Mode::Honest);
    let out = tool("kdig", addr, &["-y", key, "www.example.com"]);
    assert!(outcome(&rx).is_err());
    assert!(out.contains("status: BADSIG"), "{out}");
}

#[test]
fn a_skewed_clock_gets_a_signed_badtime_the_tools_verify() {
    // dig and kdig say "clocks" and "time window" only once the MAC has checked; with a
    // forged MAC they say it does not verify.
    let (addr, rx) = udp_responder(Mode::Skewed);
    let out = tool("dig", addr, &["-y", &sha256_key(), "www.example.com"]);
    let refusal = outcome(&rx).expect_err("BADTIME");
    assert!(
        refusal.contains("more than its fudge of 300 s"),
        "{refusal}"
    );
    assert!(out.contains("status: NOTAUTH"), "{out}");
    assert!(out.contains(" BADTIME 6 "), "{out}");
    assert!(
        out.contains(&format!("{DIG_DOUBTS}: clocks are unsynchronized")),
        "{out}"
    );
    let (addr, rx) = udp_responder(Mode::SkewedForged);
    let out = tool("dig", addr, &["-y", &sha256_key(), "www.example.com"]);
    assert!(outcome(&rx).is_err());
    assert!(
        out.contains(&format!("{DIG_DOUBTS}: tsig verify failure")),
        "{out}"
    );

    let (addr, rx) = udp_responder(Mode::Skewed);
    let out = tool("kdig", addr, &["-y", &sha256_key(), "www.example.com"]);
    assert!(outcome(&rx).is_err());
    assert!(out.contains("status: BADTIME"), "{out}");
    // kdig prints Other Data, the server's time, as a number.
    let server_time = now() + 3600;
    assert!(
        [server_time - 1, server_time, server_time + 1]
            .iter()
            .any(|t| out.contains(&format!(" BADTIME 6 {t}"))),
        "{out}"
    );
    assert!(out.contains("(TSIG out of time window)"), "{out}");
    let (addr, rx) = udp_responder(Mode::SkewedForged);
    let out = tool("kdig", addr, &["-y", &sha256_key(), "www.example.com"]);
    assert!(outcome(&rx).is_err());
    assert!(out.contains("(failed to verify TSIG)"), "{out}");
}

#[test]
fn dig_checks_every_message_of_a_signed_axfr() {
    let (addr, rx) = axfr_responder(Mode::Honest);
    let out = tool("dig", addr, &["-y", &sha256_key(), "example.com", "AXFR"]);
    assert_eq!(outcome(&rx), Ok("xfr-key.".into()));
    assert!(
        out.contains("XFR size: 10 records (messages 3, bytes "),
        "{out}"
    );
    assert_eq!(
        out.matches("xfr-key. 0 ANY TSIG hmac-sha256.").count(),
        3,
        "{out}"
    );
    assert!(
        !out.contains(DIG_DOUBTS) && !out.contains("WARNING"),
        "{out}"
    );
    // The control: a forged second message fails, and so does the third, chained to it.
    let (addr, rx) = axfr_responder(Mode::Forged(1));
    let out = tool("dig", addr, &["-y", &sha256_key(), "example.com", "AXFR"]);
    assert!(outcome(&rx).is_ok());
    assert_eq!(
        out.matches(&format!("{DIG_DOUBTS}: tsig verify failure"))
            .count(),
        2,
        "{out}"
    );
}

#[test]
fn kdig_accepts_a_signed_axfr() {
    // kdig checks the first message of a transfer only (Knot 3.2), so forge that one.
    let (addr, rx) = axfr_responder(Mode::Honest);
    let out = tool("kdig", addr, &["-y", &sha256_key(), "example.com", "AXFR"]);
    assert_eq!(outcome(&rx), Ok("xfr-key.".into()));
    assert!(out.contains("(3 messages, 10 records)"), "{out}");
    assert!(!out.contains(KDIG_DOUBTS), "{out}");
    let (addr, rx) = axfr_responder(Mode::Forged(0));
    let out = tool("kdig", addr, &["-y", &sha256_key(), "example.com", "AXFR"]);
    assert!(outcome(&rx).is_ok());
    assert!(out.contains("(failed to verify TSIG)"), "{out}");
}

/// Knot as a secondary of the test primary, with the key `xfr-key`, on a loopback port.
struct Knot {
    child: Child,
    addr: SocketAddr,
    dir: tempfile::TempDir,
}

impl Knot {
    fn start(primary: SocketAddr) -> Knot {
        let dir = tempfile::tempdir().expect("tempdir");
        // A port the kernel just handed out for TCP and took back, and free for UDP too.
        let port = loop {
            let tcp = TcpListener::bind("127.0.0.1:0").expect("bind");
            let port = tcp.local_addr().expect("address").port();
            if UdpSocket::bind(("127.0.0.1", port)).is_ok() {
                break port;
            }
        };
        let path = dir.path().display();
        let primary = format!("{}@{}", primary.ip(), primary.port());
        let config = format!(
            "server:
    listen: 127.0.0.1@{port}
    rundir: \"{path}\"
database:
    storage: \"{path}\"
log:
  - target: \"{path}/knot.log\"
    any: debug
key:
  - id: xfr-key
    algorithm: hmac-sha256
    secret: {SHA256_SECRET}
remote:
  - id: primary
    address: {primary}
    key: xfr-key
acl:
  - id: notify
    address: 127.0.0.1
    key: xfr-key
    action: notify
zone:
  - domain: example.com
    storage: \"{path}\"
    master: primary
    acl: notify
"
        );
        std::fs::write(dir.path().join("knot.conf"), config).expect("write knot.conf");
        let child = Command::new("knotd")
            .arg("-c")
            .arg(dir.path().join("knot.conf"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot run knotd ({e}); run scripts/install-test-deps.sh to install it")
            });
        let knot = Knot {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            dir,
        };
        // Up once it answers anything.
        let socket = UdpSocket::bind("127.0.0.1:0").expect("bind");
        socket
            .set_read_timeout(Some(Duration::from_millis(200)))
            .expect("timeout");
        let mut probe = Message::query();
        probe.add_query(Query::query(name("example.com."), RecordType::SOA));
        let probe = probe.to_vec().expect("encode");
        for _ in 0..50 {
            socket.send_to(&probe, knot.addr).expect("send");
            if socket.recv_from(&mut [0; 512]).is_ok() {
                return knot;
            }
        }
        panic!("knotd did not answer: {}", knot.log());
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("knot.log")).unwrap_or_default()
    }

    /// Sends `message` over UDP and returns the reply.
    fn exchange(&self, message: &[u8]) -> Vec<u8> {
        let socket = UdpSocket::bind("127.0.0.1:0").expect("bind");
        socket
            .set_read_timeout(Some(Duration::from_secs(2)))
            .expect("timeout");
        socket.send_to(message, self.addr).expect("send");
        let mut buf = [0; 65535];
        let (len, _) = socket
            .recv_from(&mut buf)
            .unwrap_or_else(|e| panic!("no reply from knotd ({e}): {}", self.log()));
        buf[..len].to_vec()
    }
}

impl Drop for Knot {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn notify_message() -> Vec<u8> {
    let mut message = Message::new(0x2e2e, MessageType::Query, OpCode::Notify);
    message.metadata.authoritative = true;
    message.add_query(Query::query(name("example.com."), RecordType::SOA));
    message.to_vec().expect("encode")
}

fn xfr_key(secret: &str) -> Key {
    Key::new(
        "xfr-key",
        Algorithm::HmacSha256,
        Secret::from_base64(secret).expect("base64"),
    )
    .expect("key")
}

/// Waits until Knot's log has `text`.
fn wait_for_log(knot: &Knot, text: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !knot.log().contains(text) {
        assert!(Instant::now() < deadline, "no {text:?} in\n{}", knot.log());
        thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn knot_transfers_the_zone_with_tsig_and_takes_a_signed_notify() {
    let (primary, requests) = primary(Mode::Honest);
    let knot = Knot::start(primary);
    // Knot bootstraps the zone from the primary at once, checking every signed message.
    wait_for_log(&knot, "AXFR, incoming, remote ");
    wait_for_log(&knot, "finished, 0.");
    let out = tool("kdig", knot.addr, &["host7.example.com", "A"]);
    assert!(
        out.contains("host7.example.com. 60 IN A 192.0.2.7"),
        "{out}"
    );

    let (notify, mut replies) = xfr_key(SHA256_SECRET)
        .sign_request(notify_message(), now())
        .expect("sign");
    let reply = knot.exchange(&notify);
    replies
        .verify(&reply, now())
        .unwrap_or_else(|e| panic!("{e}: {}", knot.log()));
    let parsed = Message::from_vec(&reply).expect("parse");
    assert_eq!(parsed.metadata.id, 0x2e2e);
    assert_eq!(parsed.metadata.response_code, ResponseCode::NoError);
    // Taken (the forged ones below are not), Knot asks the primary for its SOA, signed.
    wait_for_log(&knot, "notify, incoming, remote 127.0.0.1@");
    wait_for_log(&knot, "zone is up-to-date");
    let seen: Vec<Outcome> = requests.try_iter().collect();
    assert!(seen.len() >= 2, "{seen:?}");
    assert!(
        seen.iter().all(|o| o == &Ok("xfr-key.".to_string())),
        "{seen:?}"
    );
}

#[test]
fn knot_refuses_a_transfer_with_a_forged_message_and_answers_a_forged_notify() {
    let (primary, _) = primary(Mode::Forged(1));
    let knot = Knot::start(primary);
    wait_for_log(&knot, "AXFR, incoming, remote ");
    wait_for_log(&knot, "failed (failed to verify TSIG)");
    let out = tool("kdig", knot.addr, &["host7.example.com", "A"]);
    assert!(!out.contains("192.0.2.7"), "{out}\n{}", knot.log());

    let (notify, mut replies) = xfr_key("c29tZSBvdGhlciBzZWNyZXQ=")
        .sign_request(notify_message(), now())
        .expect("sign");
    let reply = knot.exchange(&notify);
    let error = replies.verify(&reply, now()).expect_err("BADSIG");
    assert_eq!(
        error.to_string(),
        "reply not accepted for key xfr-key.: the peer answered TSIG error BADSIG"
    );
    let other = Key::new(
        "other-key",
        Algorithm::HmacSha256,
        Secret::from_base64(SHA256_SECRET).expect("base64"),
    )
    .expect("key");
    let (notify, mut replies) = other.sign_request(notify_message(), now()).expect("sign");
    let reply = knot.exchange(&notify);
    let error = replies.verify(&reply, now()).expect_err("BADKEY");
    assert_eq!(
        error.to_string(),
        "reply not accepted for key other-key.: the peer answered TSIG error BADKEY"
    );
    assert!(!knot.log().contains("notify, incoming"), "{}", knot.log());
}
