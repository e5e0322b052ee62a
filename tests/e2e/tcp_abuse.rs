//! TCP clients that hold connections without using them: thousands of idle connections,
//! slow-loris writers that never finish a message, more connections than the server allows.
//! Other clients keep getting answers over UDP and TCP; idle and stalled connections are closed
//! after `tcp.idleTimeoutSeconds` (RFC 7766 §6.2.3); with `tcp.maxConnections` N the server
//! holds at most N, closing the one idle longest to make room.

use std::{
    io::{ErrorKind, Read, Write},
    net::TcpStream,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    thread::JoinHandle,
    time::{Duration, Instant},
};

use hickory_proto::rr::RecordType;

use crate::{
    harness::{PATIENCE, Server, Setup, Transport, ZONE, addresses, query},
    objects::ingress,
};

const NAME: &str = "web.example.com.";
const ADDRESS: &str = "192.0.2.1";

fn server(tcp: &str) -> Server {
    let web = ingress("web", "web.example.com", &[ADDRESS]);
    Server::start_with(Setup {
        zones: ZONE,
        extra: &format!("tcp: {{{tcp}}}\n"),
        manifests: &[("web.yaml", &web)],
        ..Setup::default()
    })
}

/// Makes sure this process may open `needed` files, raising the soft limit to the hard one
/// with prlimit (util-linux) when it is lower. kubezone inherits the limit.
fn ensure_open_files(needed: u64) {
    let limits = || -> (u64, u64) {
        let text = std::fs::read_to_string("/proc/self/limits").expect("/proc/self/limits");
        let line = text
            .lines()
            .find(|l| l.starts_with("Max open files"))
            .unwrap_or_else(|| panic!("no open-files limit in:\n{text}"));
        let mut numbers = line.split_whitespace().filter_map(|w| match w {
            "unlimited" => Some(u64::MAX),
            w => w.parse().ok(),
        });
        (numbers.next().unwrap_or(0), numbers.next().unwrap_or(0))
    };
    let (soft, hard) = limits();
    if soft >= needed {
        return;
    }
    assert!(
        hard >= needed,
        "the open-files hard limit {hard} is below {needed}"
    );
    let status = std::process::Command::new("prlimit")
        .arg("--pid")
        .arg(std::process::id().to_string())
        .arg(format!("--nofile={hard}:{hard}"))
        .status()
        .expect("run prlimit (util-linux)");
    assert!(status.success(), "prlimit --nofile={hard}:{hard} failed");
    let (soft, _) = limits();
    assert!(soft >= needed, "open-files soft limit {soft} after prlimit");
}

/// Whether the server has closed `stream`: EOF or a reset, without waiting.
fn closed_by_server(stream: &TcpStream) -> bool {
    if stream.set_nonblocking(true).is_err() {
        return true;
    }
    let mut byte = [0u8; 1];
    let closed = match stream.peek(&mut byte) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) => e.kind() != ErrorKind::WouldBlock,
    };
    let _ = stream.set_nonblocking(false);
    closed
}

fn count_open(streams: &[TcpStream]) -> usize {
    streams.iter().filter(|s| !closed_by_server(s)).count()
}

/// Blocks until the server closes `stream`; how long that took, or `None` after `patience`.
fn wait_closed(stream: &mut TcpStream, patience: Duration) -> Option<Duration> {
    let start = Instant::now();
    stream
        .set_read_timeout(Some(patience))
        .expect("read timeout");
    let mut buf = [0u8; 512];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return Some(start.elapsed()),
            // A late answer; keep reading.
            Ok(_) => continue,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return None;
            }
            Err(_) => return Some(start.elapsed()),
        }
    }
}

/// A slow-loris writer: announces a 256-byte message, then sends one byte every `every`, never
/// finishing, until `stop` or the server closes the connection.
fn slow_loris(s: &Server, every: Duration, stop: Arc<AtomicBool>) -> JoinHandle<bool> {
    let mut stream = TcpStream::connect(s.addr).expect("connect");
    std::thread::spawn(move || {
        if stream.write_all(&[0x01, 0x00]).is_err() {
            return true;
        }
        for _ in 0..256 - 1 {
            if stop.load(Ordering::Relaxed) {
                return false;
            }
            std::thread::sleep(every);
            if stream.write_all(&[0x00]).is_err() || closed_by_server(&stream) {
                return true;
            }
        }
        false
    })
}

/// Asks over UDP and TCP as ordinary clients do; the failures.
fn ordinary_clients(s: &Server, udp: usize, tcp: usize) -> Vec<String> {
    let mut failures = Vec::new();
    let message = query(NAME, RecordType::A);
    for (transport, count) in [(Transport::Udp, udp), (Transport::Tcp, tcp)] {
        for _ in 0..count {
            match s.try_query(&message, transport) {
                Ok(reply) if addresses(&reply) == [ADDRESS] => {}
                other => failures.push(format!("{transport:?}: {other:?}")),
            }
        }
    }
    failures
}

#[test]
fn idle_connections_and_slow_loris_writers_do_not_stop_answers() {
    let idle: usize = 2000;
    ensure_open_files(2 * idle as u64 + 500);
    let s = server("idleTimeoutSeconds: 60");
    let stop = Arc::new(AtomicBool::new(false));
    let lorises: Vec<_> = (0..20)
        .map(|_| slow_loris(&s, Duration::from_millis(300), stop.clone()))
        .collect();
    let mut held = Vec::with_capacity(idle);
    for i in 0..idle {
        match TcpStream::connect(s.addr) {
            Ok(stream) => held.push(stream),
            Err(e) => panic!("connection {i} of {idle}: {e}"),
        }
    }
    let failures = ordinary_clients(&s, 500, 100);
    let open = count_open(&held);
    stop.store(true, Ordering::Relaxed);
    let closed_lorises = lorises
        .into_iter()
        .map(|l| l.join().unwrap_or(true))
        .filter(|&closed| closed)
        .count();
    eprintln!(
        "FIGURE tcp abuse: {idle} idle connections ({open} still open) and 20 slow-loris writers ({closed_lorises} closed by the server): {} of 600 ordinary queries failed",
        failures.len()
    );
    assert!(
        failures.is_empty(),
        "{} failed, first: {}\n{}",
        failures.len(),
        failures[0],
        s.log()
    );
}

#[test]
fn an_idle_connection_is_closed_after_the_idle_timeout() {
    let s = server("idleTimeoutSeconds: 1");
    let timeout = Duration::from_secs(1);

    // Never sends anything.
    let mut silent = TcpStream::connect(s.addr).expect("connect");
    let waited = wait_closed(&mut silent, PATIENCE);
    assert!(
        waited.is_some_and(|w| w >= timeout / 2),
        "closed after {waited:?}, timeout {timeout:?}"
    );

    // Asks, is answered, then goes quiet: closed a timeout after its last answer.
    let mut asker = TcpStream::connect(s.addr).expect("connect");
    asker
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let bytes = query(NAME, RecordType::A).to_vec().expect("encode");
    let mut framed = u16::try_from(bytes.len())
        .expect("short")
        .to_be_bytes()
        .to_vec();
    framed.extend_from_slice(&bytes);
    // Queries every 400 ms for 2.4 s keep it open past the timeout.
    for _ in 0..6 {
        asker.write_all(&framed).expect("send a query");
        let mut len = [0u8; 2];
        asker.read_exact(&mut len).expect("an answer, still open");
        let mut reply = vec![0; usize::from(u16::from_be_bytes(len))];
        asker.read_exact(&mut reply).expect("the answer");
        std::thread::sleep(Duration::from_millis(400));
    }
    let waited = wait_closed(&mut asker, PATIENCE);
    assert!(waited.is_some(), "a quiet connection stayed open");
}

#[test]
fn a_slow_loris_connection_is_closed_after_the_idle_timeout() {
    let s = server("idleTimeoutSeconds: 1");
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let loris = slow_loris(&s, Duration::from_millis(200), stop.clone());
    // It would take 51 s to finish its message; the server must not wait for it.
    while !loris.is_finished() && started.elapsed() < PATIENCE {
        std::thread::sleep(Duration::from_millis(50));
    }
    stop.store(true, Ordering::Relaxed);
    let closed = loris.join().expect("slow-loris thread");
    assert!(
        closed,
        "a connection trickling a byte every 200 ms was still open after {PATIENCE:?}"
    );
    assert!(ordinary_clients(&s, 10, 10).is_empty());
}

#[test]
fn max_connections_caps_what_the_server_holds_and_new_clients_are_served() {
    let max = 50;
    let total = 200;
    let s = server(&format!("idleTimeoutSeconds: 60, maxConnections: {max}"));
    let bytes = query(NAME, RecordType::A).to_vec().expect("encode");
    let mut framed = u16::try_from(bytes.len())
        .expect("short")
        .to_be_bytes()
        .to_vec();
    framed.extend_from_slice(&bytes);
    let mut held: Vec<TcpStream> = Vec::new();
    let mut most_open = 0;
    for i in 0..total {
        let mut stream = TcpStream::connect(s.addr).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        // Each new client is served although the server is full.
        stream.write_all(&framed).expect("send");
        let mut len = [0u8; 2];
        stream
            .read_exact(&mut len)
            .unwrap_or_else(|e| panic!("client {i} got no answer: {e}\n{}", s.log()));
        let mut reply = vec![0; usize::from(u16::from_be_bytes(len))];
        stream.read_exact(&mut reply).expect("the answer");
        held.push(stream);
        if i % 25 == 24 {
            most_open = most_open.max(settled_open(&held, max));
        }
    }
    let open = settled_open(&held, max);
    most_open = most_open.max(open);
    eprintln!(
        "FIGURE tcp maxConnections {max}: {total} clients, at most {most_open} held open at once"
    );
    assert!(most_open <= max, "{most_open} > {max}");
    assert!(closed_by_server(&held[0]), "the longest idle stays open");
    assert!(
        held[total - max / 2..].iter().all(|c| !closed_by_server(c)),
        "the newest connections were closed instead of the longest idle"
    );
    assert!(ordinary_clients(&s, 10, 10).is_empty());
}

/// Open connections once the server has had time to close what it will: polls until at most
/// `max` are open or the patience runs out; the last count.
fn settled_open(streams: &[TcpStream], max: usize) -> usize {
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        let open = count_open(streams);
        if open <= max || Instant::now() > deadline {
            return open;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
