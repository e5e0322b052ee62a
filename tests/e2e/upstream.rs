//! A small upstream for the fallthrough tests, on a loopback port (UDP and TCP): it answers
//! after a delay, or never, and counts what it receives (queries, the source ports they came
//! from, TCP connections), so a test can see how kubezone forwards.
//!
//! It answers as a recursive resolver would, with RA=1, AA=0 and AD=1, so a test can see that
//! kubezone sets its own flags: `app.*` gets an A record (10.8.0.1), `ref.*` a referral to
//! `ns.elsewhere.example.`, `tc.*` a truncated reply over UDP and the A record over TCP, and
//! anything else NXDOMAIN with the SOA of `legacy.example.com.`.

use std::{
    collections::HashSet,
    io::{Read, Write},
    net::{SocketAddr, TcpListener, TcpStream, UdpSocket},
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
        mpsc,
    },
    time::{Duration, Instant},
};

use hickory_proto::{
    op::{Message, ResponseCode},
    rr::{
        Name, RData, Record,
        rdata::{A, NS, SOA},
    },
};

/// What the upstream has seen so far.
#[derive(Debug, Default, Clone)]
pub struct Seen {
    pub udp_queries: usize,
    pub tcp_queries: usize,
    pub tcp_connections: usize,
    /// The source ports of the UDP queries.
    pub udp_ports: HashSet<u16>,
}

pub struct Upstream {
    pub addr: SocketAddr,
    seen: Arc<Mutex<Seen>>,
    stop: Arc<AtomicBool>,
}

impl Upstream {
    /// Answers every query after `delay`.
    pub fn start(delay: Duration) -> Upstream {
        Upstream::start_with(Some(delay))
    }

    /// Receives and counts queries over UDP, and answers none.
    pub fn silent() -> Upstream {
        Upstream::start_with(None)
    }

    fn start_with(delay: Option<Duration>) -> Upstream {
        // A port free for both, below the ephemeral range: an ephemeral UDP port's TCP twin
        // may be another test's connection.
        let (udp, tcp) = loop {
            let port = crate::secondary::free_port();
            if let (Ok(udp), Ok(tcp)) = (
                UdpSocket::bind(("127.0.0.1", port)),
                TcpListener::bind(("127.0.0.1", port)),
            ) {
                break (udp, tcp);
            }
        };
        let addr = udp.local_addr().expect("address");
        udp.set_read_timeout(Some(Duration::from_millis(100)))
            .expect("timeout");
        tcp.set_nonblocking(true).expect("nonblocking");
        let seen = Arc::new(Mutex::new(Seen::default()));
        let stop = Arc::new(AtomicBool::new(false));
        {
            let (seen, stop) = (seen.clone(), stop.clone());
            std::thread::spawn(move || serve_udp(udp, delay, &seen, &stop));
        }
        if let Some(delay) = delay {
            let (seen, stop) = (seen.clone(), stop.clone());
            std::thread::spawn(move || serve_tcp(tcp, delay, &seen, &stop));
        }
        Upstream { addr, seen, stop }
    }

    pub fn seen(&self) -> Seen {
        self.seen.lock().expect("seen").clone()
    }
}

impl Drop for Upstream {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn serve_udp(socket: UdpSocket, delay: Option<Duration>, seen: &Mutex<Seen>, stop: &AtomicBool) {
    let socket = Arc::new(socket);
    // Replies wait their turn in a queue: the delay is the same for all, so it stays in order.
    let (tx, rx) = mpsc::channel::<(Instant, Vec<u8>, SocketAddr)>();
    {
        let socket = socket.clone();
        std::thread::spawn(move || {
            for (due, reply, to) in rx {
                std::thread::sleep(due.saturating_duration_since(Instant::now()));
                let _ = socket.send_to(&reply, to);
            }
        });
    }
    let mut buf = vec![0; 65535];
    while !stop.load(Ordering::Relaxed) {
        let Ok((len, from)) = socket.recv_from(&mut buf) else {
            continue;
        };
        {
            let mut seen = seen.lock().expect("seen");
            seen.udp_queries += 1;
            seen.udp_ports.insert(from.port());
        }
        let (Some(delay), Ok(query)) = (delay, Message::from_vec(&buf[..len])) else {
            continue;
        };
        let reply = reply(&query, false).to_vec().expect("encode");
        let _ = tx.send((Instant::now() + delay, reply, from));
    }
}

fn serve_tcp(listener: TcpListener, delay: Duration, seen: &Arc<Mutex<Seen>>, stop: &AtomicBool) {
    while !stop.load(Ordering::Relaxed) {
        let Ok((stream, _)) = listener.accept() else {
            std::thread::sleep(Duration::from_millis(10));
            continue;
        };
        seen.lock().expect("seen").tcp_connections += 1;
        let seen = seen.clone();
        std::thread::spawn(move || serve_connection(stream, delay, &seen));
    }
}

/// Reads queries and answers each after `delay`, in the order they came.
fn serve_connection(mut stream: TcpStream, delay: Duration, seen: &Mutex<Seen>) {
    let _ = stream.set_nonblocking(false);
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let (tx, rx) = mpsc::channel::<(Instant, Vec<u8>)>();
    std::thread::spawn(move || {
        for (due, reply) in rx {
            std::thread::sleep(due.saturating_duration_since(Instant::now()));
            let mut framed = u16::try_from(reply.len())
                .expect("size")
                .to_be_bytes()
                .to_vec();
            framed.extend_from_slice(&reply);
            if writer.write_all(&framed).is_err() {
                return;
            }
        }
    });
    loop {
        let mut len = [0u8; 2];
        if stream.read_exact(&mut len).is_err() {
            return;
        }
        let mut query = vec![0; usize::from(u16::from_be_bytes(len))];
        if stream.read_exact(&mut query).is_err() {
            return;
        }
        seen.lock().expect("seen").tcp_queries += 1;
        let Ok(query) = Message::from_vec(&query) else {
            return;
        };
        let reply = reply(&query, true).to_vec().expect("encode");
        if tx.send((Instant::now() + delay, reply)).is_err() {
            return;
        }
    }
}

/// The reply to `query`, by its first label (see the module's documentation).
fn reply(query: &Message, tcp: bool) -> Message {
    let mut reply = query.clone().into_response();
    reply.metadata.recursion_available = true;
    reply.metadata.authoritative = false;
    reply.metadata.authentic_data = true;
    reply.additionals.clear();
    let Some(question) = query.queries.first() else {
        reply.metadata.response_code = ResponseCode::FormErr;
        return reply;
    };
    let name = question.name().clone();
    let first = name
        .iter()
        .next()
        .map(|l| String::from_utf8_lossy(l).to_ascii_lowercase())
        .unwrap_or_default();
    match first.as_str() {
        "tc" if !tcp => reply.metadata.truncation = true,
        "app" | "tc" => {
            reply.add_answer(Record::from_rdata(name, 60, RData::A(A::new(10, 8, 0, 1))));
        }
        "ref" => {
            let ns = Name::from_ascii("ns.elsewhere.example.").expect("name");
            reply.add_authority(Record::from_rdata(name, 60, RData::NS(NS(ns))));
        }
        _ => {
            let zone = Name::from_ascii("legacy.example.com.").expect("name");
            let soa = SOA::new(
                Name::from_ascii("ns.legacy.example.com.").expect("name"),
                Name::from_ascii("hostmaster.legacy.example.com.").expect("name"),
                1,
                3600,
                600,
                86400,
                60,
            );
            reply.metadata.response_code = ResponseCode::NXDomain;
            reply.add_authority(Record::from_rdata(zone, 60, RData::SOA(soa)));
        }
    }
    reply
}
