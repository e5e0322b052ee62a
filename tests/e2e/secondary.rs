//! Standard secondaries on loopback, to test a primary with: NSD, Knot and BIND from Debian,
//! each a secondary of some zones (or of the members of a catalog zone) at the primary's
//! address, optionally with a TSIG key, in a folder of its own. Each says which serial it
//! serves, what it serves (by AXFR from it), which transfers it did and which failed.
//!
//! The exact configuration each server gets is in its file under `secondary/` and in
//! docs/scale-out.md. scripts/install-test-deps.sh installs nsd, knotd and named; a missing one
//! is a failure that says so.

mod bind;
mod knot;
mod nsd;

use std::{
    collections::{BTreeMap, BTreeSet},
    fs::OpenOptions,
    hash::{BuildHasher, RandomState},
    io::{Read, Write},
    net::{SocketAddr, TcpListener, TcpStream, UdpSocket},
    os::unix::process::CommandExt,
    process::{Child, Command, Stdio},
    sync::Mutex,
    time::{Duration, Instant},
};

use hickory_proto::{
    op::{Message, MessageType, OpCode, Query, ResponseCode},
    rr::{Name, RData, Record, RecordType, rdata::SOA},
};

use crate::harness::PATIENCE;

/// Which server runs as the secondary.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Software {
    Nsd,
    Knot,
    Bind,
}

impl Software {
    pub const ALL: [Software; 3] = [Software::Nsd, Software::Knot, Software::Bind];

    pub fn name(self) -> &'static str {
        match self {
            Software::Nsd => "NSD",
            Software::Knot => "Knot",
            Software::Bind => "BIND",
        }
    }

    /// Whether it can be the consumer of a catalog zone (RFC 9432); Debian's NSD 4.6 cannot.
    pub fn reads_catalogs(self) -> bool {
        self != Software::Nsd
    }
}

/// A TSIG key (RFC 8945): its name, algorithm (as the servers spell it, e.g. `hmac-sha256`)
/// and base64 secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tsig {
    pub name: String,
    pub algorithm: String,
    pub secret: String,
}

impl Tsig {
    pub fn new(name: &str, algorithm: &str, secret: &str) -> Tsig {
        Tsig {
            name: name.to_string(),
            algorithm: algorithm.to_string(),
            secret: secret.to_string(),
        }
    }

    /// The key as dig's `-y` takes it.
    pub fn dig_arg(&self) -> String {
        format!("{}:{}:{}", self.algorithm, self.name, self.secret)
    }
}

/// What a secondary serves and where it gets it from.
#[derive(Clone, Debug)]
pub struct Spec {
    /// The primary: transfers are asked from it, and its NOTIFY (from its address) is accepted.
    pub primary: SocketAddr,
    /// Zones to be a secondary of.
    pub zones: Vec<String>,
    /// Catalog zones (RFC 9432) to be a secondary of and to take member zones from (Knot and
    /// BIND); the members are transferred from the primary too.
    pub catalogs: Vec<String>,
    /// Signs the SOA queries and transfers, and is required on NOTIFY.
    pub tsig: Option<Tsig>,
    /// The port to listen on (UDP and TCP); `None` takes a free one.
    pub port: Option<u16>,
}

impl Spec {
    /// A secondary of `zones` at `primary`, without TSIG, on a free port.
    pub fn new(primary: SocketAddr, zones: &[&str]) -> Spec {
        Spec {
            primary,
            zones: zones.iter().map(|z| z.to_string()).collect(),
            catalogs: Vec::new(),
            tsig: None,
            port: None,
        }
    }

    pub fn with_tsig(mut self, tsig: &Tsig) -> Spec {
        self.tsig = Some(tsig.clone());
        self
    }

    pub fn with_catalogs(mut self, catalogs: &[&str]) -> Spec {
        self.catalogs = catalogs.iter().map(|z| z.to_string()).collect();
        self
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransferKind {
    Axfr,
    Ixfr,
}

/// A transfer the secondary completed: how, and the serial it brought.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Transfer {
    pub kind: TransferKind,
    pub serial: u32,
}

/// One secondary server; its processes are stopped on drop, its folder removed.
pub struct Secondary {
    software: Software,
    spec: Spec,
    addr: SocketAddr,
    dir: tempfile::TempDir,
    child: Option<Child>,
    /// NSD's IXFRs as seen, by zone and position in its log (see `nsd::transfers`).
    seen_kinds: Mutex<BTreeMap<(String, usize), TransferKind>>,
}

impl Secondary {
    /// Starts `software` as a secondary per `spec`, and waits until it answers queries (not
    /// until it has the zones: see [`Secondary::wait_for_serial`]).
    pub fn start(software: Software, spec: Spec) -> Secondary {
        assert!(
            spec.catalogs.is_empty() || software.reads_catalogs(),
            "{} cannot consume catalog zones",
            software.name()
        );
        let dir = tempfile::tempdir().expect("tempdir");
        let port = spec.port.unwrap_or_else(free_port);
        let config = match software {
            Software::Nsd => nsd::config(&spec, dir.path(), port),
            Software::Knot => knot::config(&spec, dir.path(), port),
            Software::Bind => bind::config(&spec, dir.path(), port),
        };
        std::fs::write(dir.path().join(config_name(software)), config).expect("write config");
        if software == Software::Bind && !spec.catalogs.is_empty() {
            std::fs::create_dir(dir.path().join(bind::CATALOG_MEMBERS)).expect("mkdir");
        }
        let mut secondary = Secondary {
            software,
            spec,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            dir,
            child: None,
            seen_kinds: Mutex::new(BTreeMap::new()),
        };
        secondary.spawn();
        secondary
    }

    fn spawn(&mut self) {
        let dir = self.dir.path();
        let config = dir.join(config_name(self.software));
        let (program, args): (&str, Vec<&str>) = match self.software {
            Software::Nsd => ("nsd", vec!["-d", "-c"]),
            Software::Knot => ("knotd", vec!["-c"]),
            // -d 3: BIND says whether a transfer was incremental only at debug level 3.
            Software::Bind => ("named", vec!["-g", "-d", "3", "-c"]),
        };
        // Appended to, so that the log of a restarted server keeps what it said before.
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
            // A group of its own, so that what NSD forks can be stopped with it.
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot run {program} ({e}); run scripts/install-test-deps.sh to install it")
            });
        self.child = Some(child);
        self.wait_until_it_answers();
    }

    fn wait_until_it_answers(&mut self) {
        let probe = self
            .spec
            .zones
            .iter()
            .chain(&self.spec.catalogs)
            .next()
            .cloned()
            .unwrap_or_else(|| ".".to_string());
        let deadline = Instant::now() + PATIENCE;
        while Instant::now() < deadline {
            self.assert_running();
            if ask_soa(self.addr, &probe).is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        panic!(
            "{} did not answer at {}:\n{}",
            self.name(),
            self.addr,
            self.log()
        );
    }

    fn assert_running(&mut self) {
        if let Some(Ok(Some(status))) = self.child.as_mut().map(Child::try_wait) {
            panic!("{} exited with {status}:\n{}", self.name(), self.log());
        }
    }

    /// "NSD secondary at 127.0.0.1:P", for messages.
    pub fn name(&self) -> String {
        format!("{} secondary at {}", self.software.name(), self.addr)
    }

    /// Where it serves DNS (UDP and TCP).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The serial of the SOA it serves for `zone` now, or `None` while it serves none (no
    /// answer, or not an authoritative one).
    pub fn serial(&self, zone: &str) -> Option<u32> {
        soa_serial(self.addr, zone)
    }

    /// Waits until it serves `zone` with `serial`; panics with its log after `patience`.
    pub fn wait_for_serial(&mut self, zone: &str, serial: u32, patience: Duration) {
        let deadline = Instant::now() + patience;
        let mut last = None;
        while Instant::now() < deadline {
            self.assert_running();
            last = self.serial(zone);
            if last == Some(serial) {
                // NSD's IXFRs can be seen only until its next AXFR.
                self.transfers(zone);
                return;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        panic!(
            "{} did not serve {zone} with serial {serial} within {patience:?} (serves {last:?}); \
             failed transfers: {:#?}\n{}",
            self.name(),
            self.transfer_failures(zone),
            self.log()
        );
    }

    /// Everything it serves for `zone`, by AXFR from it: sorted zone-file lines, the SOA once.
    pub fn records(&self, zone: &str) -> Vec<String> {
        axfr(self.addr, zone, None)
            .unwrap_or_else(|e| panic!("AXFR of {zone} from {}: {e}\n{}", self.name(), self.log()))
    }

    /// The transfers of `zone` it completed, oldest first, as its log tells them (NSD's
    /// kinds with its help: see `nsd::transfers`).
    pub fn transfers(&self, zone: &str) -> Vec<Transfer> {
        let log = self.log();
        match self.software {
            Software::Knot => knot::transfers(&log, zone),
            Software::Bind => bind::transfers(&log, zone),
            Software::Nsd => {
                let mut seen = self.seen_kinds.lock().unwrap_or_else(|e| e.into_inner());
                nsd::transfers(&log, zone, &mut seen, |from| {
                    self.answers_incrementally(zone, from)
                })
            }
        }
    }

    /// Whether an IXFR from `serial` gets an incremental answer (RFC 1995 §4: the second
    /// record is a SOA) rather than the whole zone.
    fn answers_incrementally(&self, zone: &str, serial: u32) -> bool {
        ixfr(self.addr, zone, serial).is_ok_and(|records| is_incremental(&records))
    }

    /// The log lines of its failed attempts to refresh or transfer `zone`.
    pub fn transfer_failures(&self, zone: &str) -> Vec<String> {
        let log = self.log();
        match self.software {
            Software::Nsd => nsd::failures(&log, zone),
            Software::Knot => knot::failures(&log, zone),
            Software::Bind => bind::failures(&log, zone),
        }
    }

    /// Waits until its log has a failed refresh or transfer of `zone`; those lines. Panics with
    /// the log after `patience`.
    pub fn wait_for_transfer_failure(&mut self, zone: &str, patience: Duration) -> Vec<String> {
        let deadline = Instant::now() + patience;
        while Instant::now() < deadline {
            self.assert_running();
            let failures = self.transfer_failures(zone);
            if !failures.is_empty() {
                return failures;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        panic!(
            "{} logged no failed transfer of {zone} within {patience:?}:\n{}",
            self.name(),
            self.log()
        );
    }

    /// Everything it logged, across restarts.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join(LOG)).unwrap_or_default()
    }

    /// Stops it (SIGTERM, as an operator would) and waits until every process of it is gone;
    /// its folder, with what it transferred, stays.
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
        // Whatever is left of its group (NSD's forks, or all of it when SIGTERM was not
        // enough).
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{pid}")])
            .stderr(Stdio::null())
            .status();
        let _ = child.kill();
        let _ = child.wait();
    }

    /// Stops it if it runs and starts it again on the same port with the same folder, so it
    /// comes back with what it had transferred.
    pub fn restart(&mut self) {
        self.stop();
        self.spawn();
    }
}

impl Drop for Secondary {
    fn drop(&mut self) {
        self.stop();
    }
}

const LOG: &str = "server.log";

fn config_name(software: Software) -> &'static str {
    match software {
        Software::Nsd => "nsd.conf",
        Software::Knot => "knot.conf",
        Software::Bind => "named.conf",
    }
}

/// A port free for a server's UDP and TCP sockets, below the kernel's ephemeral range: there,
/// the outgoing connections of transfers (which take ephemeral ports) cannot take it from a
/// server between two tests, or while it restarts.
pub fn free_port() -> u16 {
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

/// `zone` with its final dot, as a name in a query.
fn fqdn(zone: &str) -> Name {
    let absolute = if zone.ends_with('.') {
        zone.to_string()
    } else {
        format!("{zone}.")
    };
    Name::from_ascii(&absolute).unwrap_or_else(|e| panic!("{zone}: {e}"))
}

/// The reply to `zone SOA` over UDP, or `None` when nothing answers.
fn ask_soa(addr: SocketAddr, zone: &str) -> Option<Message> {
    let socket = UdpSocket::bind("127.0.0.1:0").ok()?;
    socket
        .set_read_timeout(Some(Duration::from_millis(200)))
        .ok()?;
    let mut query = Message::new(0x5ec0, MessageType::Query, OpCode::Query);
    query.add_query(Query::query(fqdn(zone), RecordType::SOA));
    socket.send_to(&query.to_vec().ok()?, addr).ok()?;
    let mut buf = vec![0; 65535];
    let (len, _) = socket.recv_from(&mut buf).ok()?;
    Message::from_vec(buf.get(..len)?).ok()
}

/// The serial of the SOA `addr` serves authoritatively for `zone`, if any.
pub fn soa_serial(addr: SocketAddr, zone: &str) -> Option<u32> {
    let reply = ask_soa(addr, zone)?;
    if reply.metadata.response_code != ResponseCode::NoError || !reply.metadata.authoritative {
        return None;
    }
    reply.answers.iter().find_map(|r| match &r.data {
        RData::SOA(soa) => Some(soa.serial),
        _ => None,
    })
}

/// `zone` by AXFR from `addr` (signed with `tsig` when given), with dig: its records as
/// zone-file lines (fields separated by one space), sorted, the SOA once.
pub fn axfr(addr: SocketAddr, zone: &str, tsig: Option<&Tsig>) -> Result<Vec<String>, String> {
    let mut dig = Command::new("dig");
    dig.arg(format!("@{}", addr.ip()))
        .args(["-p", &addr.port().to_string()])
        .args(["+noall", "+answer", "+onesoa", "+time=2", "+tries=1"]);
    if let Some(key) = tsig {
        dig.args(["-y", &key.dig_arg()]);
    }
    let out = dig
        .args([zone, "AXFR"])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run dig ({e}); scripts/install-test-deps.sh installs it"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() || text.contains("; Transfer failed") {
        return Err(format!(
            "dig failed ({}):\n{text}{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let mut lines: Vec<String> = text
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with(';'))
        .map(|l| {
            l.split('\t')
                .filter(|f| !f.is_empty())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    if !lines.first().is_some_and(|l| l.contains(" SOA ")) {
        return Err(format!("no SOA in the AXFR of {zone}:\n{text}"));
    }
    lines.sort();
    Ok(lines)
}

/// Panics unless `actual` has exactly the records of `expected`, in any order; names what
/// is missing and what is extra.
pub fn assert_same_records(expected: &[String], actual: &[String], what: &str) {
    let expected_set: BTreeSet<&String> = expected.iter().collect();
    let actual_set: BTreeSet<&String> = actual.iter().collect();
    let missing: Vec<&&String> = expected_set.difference(&actual_set).collect();
    let extra: Vec<&&String> = actual_set.difference(&expected_set).collect();
    assert!(
        missing.is_empty() && extra.is_empty() && expected.len() == actual.len(),
        "{what}: records differ\nmissing: {missing:#?}\nextra: {extra:#?}"
    );
}

/// An IXFR of `zone` from `serial` over TCP: the answer records of every message, until the
/// final SOA (RFC 1995 §4).
fn ixfr(addr: SocketAddr, zone: &str, serial: u32) -> Result<Vec<Record>, String> {
    let mut query = Message::new(0x1f0a, MessageType::Query, OpCode::Query);
    query.add_query(Query::query(fqdn(zone), RecordType::IXFR));
    let root = Name::root();
    query.add_authority(Record::from_rdata(
        fqdn(zone),
        0,
        RData::SOA(SOA::new(root.clone(), root, serial, 0, 0, 0, 0)),
    ));
    let bytes = query.to_vec().map_err(|e| e.to_string())?;
    let mut stream = TcpStream::connect(addr).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(Duration::from_secs(2)))
        .map_err(|e| e.to_string())?;
    let len = u16::try_from(bytes.len()).map_err(|e| e.to_string())?;
    stream
        .write_all(&[&len.to_be_bytes()[..], &bytes].concat())
        .map_err(|e| e.to_string())?;
    let mut records: Vec<Record> = Vec::new();
    loop {
        let mut len = [0u8; 2];
        stream.read_exact(&mut len).map_err(|e| e.to_string())?;
        let mut reply = vec![0; usize::from(u16::from_be_bytes(len))];
        stream.read_exact(&mut reply).map_err(|e| e.to_string())?;
        let reply = Message::from_vec(&reply).map_err(|e| e.to_string())?;
        if reply.metadata.response_code != ResponseCode::NoError {
            return Err(format!("IXFR answered {}", reply.metadata.response_code));
        }
        records.extend(reply.answers);
        let newest = match records.first().map(|r| &r.data) {
            Some(RData::SOA(soa)) => soa.serial,
            _ => return Err("IXFR answer does not start with a SOA".to_string()),
        };
        // Up to date: the SOA alone. Otherwise the newest SOA closes the answer.
        let closing = records
            .iter()
            .skip(1)
            .filter(|r| matches!(&r.data, RData::SOA(soa) if soa.serial == newest))
            .count();
        if records.len() == 1 || closing >= 2 || (closing == 1 && !is_incremental(&records)) {
            return Ok(records);
        }
    }
}

/// Whether IXFR answer records are incremental (the second one a SOA) rather than AXFR-like.
fn is_incremental(records: &[Record]) -> bool {
    records
        .get(1)
        .is_some_and(|r| r.record_type() == RecordType::SOA)
}

/// The zone name without its final dot, as NSD and BIND print it.
fn bare(zone: &str) -> &str {
    zone.strip_suffix('.').unwrap_or(zone)
}
