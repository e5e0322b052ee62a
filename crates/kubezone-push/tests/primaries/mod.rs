//! Real primaries on loopback, to push to: BIND (`named`) and Knot (`knotd`) from Debian, each
//! the primary of one test zone in a folder of its own, taking UPDATEs signed with
//! `update-key` and transfers signed with it or with `reader-key` (which may not update).
//! Stopped on drop. scripts/install-test-deps.sh installs both; a missing one is a failure
//! that says so.

mod bind;
mod knot;

use std::{
    fs::OpenOptions,
    hash::{BuildHasher, RandomState},
    net::{SocketAddr, TcpListener, UdpSocket},
    os::unix::process::CommandExt,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use hickory_proto::{
    op::{Message, MessageType, OpCode, Query, ResponseCode},
    rr::{Name, RecordType},
};
use kubezone_transfer::{Algorithm, Key, Secret};

/// The zone each primary serves.
pub const ZONE: &str = "example.test.";

/// The key granted updates (every name in the zone) and transfers.
pub const UPDATE_KEY: &str = "update-key";
pub const UPDATE_SECRET: &str = "3kq5Jw8i5fZ2bq6xXzS0cHVzaC1jbGllbnQtdGVzdC1rZXktMDE=";
/// A key that may transfer the zone but not update it.
pub const READER_KEY: &str = "reader-key";
pub const READER_SECRET: &str = "cmVhZGVyLWtleS1mb3ItdGhlLXB1c2gtY2xpZW50LXRlc3Q=";

/// The zone as each primary starts with it: the records a person made by hand.
pub const ZONE_FILE: &str = "$ORIGIN example.test.
$TTL 300
@ SOA ns1.example.test. hostmaster.example.test. 1 3600 600 86400 300
@ NS ns1.example.test.
ns1 A 192.0.2.53
manual A 192.0.2.1
manual TXT \"made by hand\"
";

/// How long a server may take to start or stop.
const PATIENCE: Duration = Duration::from_secs(20);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Software {
    Bind,
    Knot,
}

impl Software {
    pub const ALL: [Software; 2] = [Software::Bind, Software::Knot];

    pub fn name(self) -> &'static str {
        match self {
            Software::Bind => "BIND",
            Software::Knot => "Knot",
        }
    }
}

/// A key as kubezone holds it.
pub fn key(name: &str, secret: &str) -> Key {
    Key::new(
        name,
        Algorithm::HmacSha256,
        Secret::from_base64(secret).expect("base64"),
    )
    .expect("key")
}

pub fn zone() -> Name {
    Name::from_ascii(ZONE).expect("zone name")
}

/// One primary server; stopped on drop, its folder removed.
pub struct PrimaryServer {
    software: Software,
    addr: SocketAddr,
    dir: tempfile::TempDir,
    child: Option<Child>,
}

impl PrimaryServer {
    /// Starts `software` as the primary of [`ZONE`] from [`ZONE_FILE`], and waits until it
    /// answers for it.
    pub fn start(software: Software) -> PrimaryServer {
        let dir = tempfile::tempdir().expect("tempdir");
        let port = free_port();
        let (config, config_name) = match software {
            Software::Bind => (bind::config(dir.path(), port), bind::CONFIG),
            Software::Knot => (knot::config(dir.path(), port), knot::CONFIG),
        };
        std::fs::write(dir.path().join(config_name), config).expect("write the config");
        std::fs::write(dir.path().join(zone_file_name()), ZONE_FILE).expect("write the zone");
        let mut server = PrimaryServer {
            software,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            dir,
            child: None,
        };
        server.spawn();
        server
    }

    fn spawn(&mut self) {
        let dir = self.dir.path();
        let (program, args, config) = match self.software {
            // -g: in the foreground, logging to stderr.
            Software::Bind => ("named", vec!["-g", "-c"], dir.join(bind::CONFIG)),
            Software::Knot => ("knotd", vec!["-c"], dir.join(knot::CONFIG)),
        };
        // Appended to, so that a restarted server's log keeps what it said before.
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join(LOG))
            .expect("open the log");
        let child = Command::new(program)
            .args(args)
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot run {program} ({e}); run scripts/install-test-deps.sh to install it")
            });
        self.child = Some(child);
        let deadline = Instant::now() + PATIENCE;
        while Instant::now() < deadline {
            if let Some(Ok(Some(status))) = self.child.as_mut().map(Child::try_wait) {
                panic!("{} exited with {status}:\n{}", self.name(), self.log());
            }
            if answers_for_the_zone(self.addr) {
                return;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        panic!("{} did not answer for {ZONE}:\n{}", self.name(), self.log());
    }

    /// "BIND primary at 127.0.0.1:P", for messages.
    pub fn name(&self) -> String {
        format!("{} primary at {}", self.software.name(), self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join(LOG)).unwrap_or_default()
    }

    /// Stops it (SIGTERM) and waits until it is gone; its folder, with its zone and journal,
    /// stays.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let pid = child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + PATIENCE;
        while Instant::now() < deadline && matches!(child.try_wait(), Ok(None)) {
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
    }

    /// Starts it again on the same port with the same folder.
    pub fn restart(&mut self) {
        self.stop();
        self.spawn();
    }
}

impl Drop for PrimaryServer {
    fn drop(&mut self) {
        self.stop();
    }
}

const LOG: &str = "server.log";

fn zone_file_name() -> String {
    format!("{}zone", ZONE)
}

/// A port free for UDP and TCP, below the kernel's ephemeral range, so that outgoing
/// connections cannot take it while a server restarts.
fn free_port() -> u16 {
    let first_ephemeral = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|r| r.split_whitespace().next()?.parse::<u16>().ok())
        .unwrap_or(32768);
    let low = 10_000u16.min(first_ephemeral / 2);
    let span = u64::from(first_ephemeral - low);
    for attempt in 0..1000u64 {
        let random = RandomState::new().hash_one((std::process::id(), attempt));
        let port = low + u16::try_from(random % span).unwrap_or(0);
        if TcpListener::bind(("127.0.0.1", port)).is_ok()
            && UdpSocket::bind(("127.0.0.1", port)).is_ok()
        {
            return port;
        }
    }
    panic!("no free port below {first_ephemeral}");
}

/// Whether `addr` answers the zone's SOA with authority.
fn answers_for_the_zone(addr: SocketAddr) -> bool {
    let Ok(socket) = UdpSocket::bind("127.0.0.1:0") else {
        return false;
    };
    let _ = socket.set_read_timeout(Some(Duration::from_millis(200)));
    let mut query = Message::new(0x50a1, MessageType::Query, OpCode::Query);
    query.add_query(Query::query(zone(), RecordType::SOA));
    let Ok(bytes) = query.to_vec() else {
        return false;
    };
    if socket.send_to(&bytes, addr).is_err() {
        return false;
    }
    let mut buf = vec![0; 4096];
    let Ok((len, _)) = socket.recv_from(&mut buf) else {
        return false;
    };
    Message::from_vec(&buf[..len]).is_ok_and(|reply| {
        reply.metadata.response_code == ResponseCode::NoError
            && reply.metadata.authoritative
            && !reply.answers.is_empty()
    })
}
