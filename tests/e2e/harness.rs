//! Starts the real `kubezone` binary on a loopback port and talks DNS to it.

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpStream, UdpSocket},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use hickory_proto::{
    op::{Edns, Message, MessageType, OpCode, Query, ResponseCode},
    rr::{Name, RecordType},
};

/// Generous bound for things that normally take milliseconds; a failure bound, not a benchmark.
pub const PATIENCE: Duration = Duration::from_secs(10);

pub struct Server {
    child: Child,
    pub addr: SocketAddr,
    pub dir: tempfile::TempDir,
    log: Arc<Mutex<String>>,
}

/// A zone section and manifests, written to a fresh folder.
#[derive(Default)]
pub struct Setup<'a> {
    pub zones: &'a str,
    pub extra: &'a str,
    pub manifests: &'a [(&'a str, &'a str)],
    /// The `listen` list; `None` is `["127.0.0.1:0"]`.
    pub listen: Option<&'a [&'a str]>,
    /// A manifests folder to serve instead of a fresh one (several servers sharing one).
    pub manifests_dir: Option<&'a Path>,
    /// A command (and its options) that runs kubezone, such as `setpriv` to drop privileges;
    /// empty to run it directly.
    pub run_under: &'a [&'a str],
    /// Leaves `manifests` out of the config, for a config whose only source is another.
    pub no_manifests: bool,
}

impl Server {
    /// Starts kubezone with `zones` (the YAML list under `zones:`) serving `manifests`
    /// (file name → content) from a temporary folder, and waits until it answers.
    pub fn start(zones: &str, manifests: &[(&str, &str)]) -> Server {
        Server::start_with(Setup {
            zones,
            manifests,
            ..Setup::default()
        })
    }

    pub fn start_with(setup: Setup<'_>) -> Server {
        let server = Server::spawn(setup);
        server.wait_until_ready();
        server
    }

    /// [`Server::start_with`] with environment variables set for kubezone (only these of its
    /// own: `KUBEZONE_IDENTITY` is unset unless given).
    pub fn start_with_env(setup: Setup<'_>, env: &[(&str, &str)]) -> Server {
        let server = Server::spawn_with_env(setup, env);
        server.wait_until_ready();
        server
    }

    /// Starts kubezone and waits until it listens, but not until it is ready.
    pub fn spawn(setup: Setup<'_>) -> Server {
        Server::spawn_with_env(setup, &[])
    }

    fn spawn_with_env(setup: Setup<'_>, env: &[(&str, &str)]) -> Server {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(dir.path().join("manifests")).expect("mkdir");
        for (name, content) in setup.manifests {
            std::fs::write(dir.path().join("manifests").join(name), content).expect("write");
        }
        let listen = setup
            .listen
            .unwrap_or(&["127.0.0.1:0"])
            .iter()
            .map(|a| format!("{a:?}"))
            .collect::<Vec<_>>()
            .join(", ");
        let manifests = setup.manifests_dir.map_or_else(
            || "manifests".to_string(),
            |d| format!("{:?}", d.display().to_string()),
        );
        let manifests = if setup.no_manifests {
            String::new()
        } else {
            format!("manifests: [{manifests}]\n")
        };
        let config = format!(
            "listen: [{listen}]\n{manifests}{}\nzones:\n{}\n",
            setup.extra, setup.zones
        );
        let config_path = dir.path().join("kubezone.yaml");
        std::fs::write(&config_path, config).expect("write config");
        let mut command = match setup.run_under.split_first() {
            Some((program, options)) => {
                let mut command = Command::new(program);
                command.args(options).arg(env!("CARGO_BIN_EXE_kubezone"));
                command
            }
            None => Command::new(env!("CARGO_BIN_EXE_kubezone")),
        };
        let mut child = command
            .arg("--config")
            .arg(&config_path)
            .arg("--log-level")
            // KUBEZONE_TEST_LOG: more detail when a failure needs it (docs/reliability.md).
            .arg(std::env::var("KUBEZONE_TEST_LOG").unwrap_or_else(|_| "info".into()))
            .env_remove("KUBEZONE_IDENTITY")
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start kubezone");
        let stderr = child.stderr.take().expect("stderr");
        let log = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(addr) = line
                    .split("local=")
                    .nth(1)
                    .and_then(|rest| rest.split_whitespace().next())
                    .and_then(|a| a.parse::<SocketAddr>().ok())
                {
                    let _ = tx.send(addr);
                }
                if let Ok(mut log) = sink.lock() {
                    log.push_str(&line);
                    log.push('\n');
                }
            }
        });
        let addr = match rx.recv_timeout(PATIENCE) {
            Ok(addr) => reachable(addr),
            Err(_) => {
                let _ = child.kill();
                let log = log.lock().map(|l| l.clone()).unwrap_or_default();
                panic!("kubezone did not start listening:\n{log}");
            }
        };
        Server {
            child,
            addr,
            dir,
            log,
        }
    }

    /// Every address kubezone serves DNS on, as logged (wildcards as bound, e.g. `0.0.0.0:P`),
    /// once it has bound them all.
    pub fn local_addrs(&self) -> Vec<SocketAddr> {
        self.wait_for_log("kubezone is serving", 1);
        self.log()
            .lines()
            .filter(|line| line.contains("serving DNS over UDP and TCP"))
            .filter_map(|line| {
                line.split("local=")
                    .nth(1)?
                    .split_whitespace()
                    .next()?
                    .parse()
                    .ok()
            })
            .collect()
    }

    pub fn wait_until_ready(&self) {
        self.wait_until_ready_within(PATIENCE);
    }

    pub fn wait_until_ready_within(&self, patience: Duration) {
        let deadline = Instant::now() + patience;
        while Instant::now() < deadline {
            if let Ok(reply) = self.try_query(&soa_probe(), Transport::Udp)
                && reply.metadata.response_code != ResponseCode::ServFail
            {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("kubezone did not become ready:\n{}", self.log());
    }

    /// The kubezone process id, for reading its memory.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The address of the HTTP endpoints, from the log (the config must set `http.listen`).
    pub fn http_addr(&self) -> SocketAddr {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(addr) = self.log().lines().find_map(|line| {
                line.split(" http=")
                    .nth(1)
                    .and_then(|rest| rest.split_whitespace().next())
                    .and_then(|a| a.parse().ok())
            }) {
                return addr;
            }
            assert!(
                Instant::now() < deadline,
                "no http address logged:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `GET path` on the HTTP endpoints: the status code and the body.
    pub fn http_get(&self, path: &str) -> (u16, String) {
        http_get(self.http_addr(), path)
    }

    /// Sends `signal` (e.g. "TERM", "HUP") to kubezone.
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.pid().to_string())
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{signal} failed");
    }

    /// Waits for kubezone to exit; its exit code.
    pub fn wait_exit(&mut self, patience: Duration) -> Option<i32> {
        let deadline = Instant::now() + patience;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("kubezone did not exit:\n{}", self.log());
    }

    pub fn log(&self) -> String {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// Waits until the log has `needle` `count` times or more; panics with the log.
    pub fn wait_for_log(&self, needle: &str, count: usize) {
        let deadline = Instant::now() + PATIENCE;
        while self.log().matches(needle).count() < count {
            assert!(
                Instant::now() < deadline,
                "{needle:?} not logged {count} times:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The resident memory of the kubezone process, from /proc, in KiB.
    pub fn rss_kib(&self) -> u64 {
        let path = format!("/proc/{}/status", self.pid());
        let status = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no VmRSS in {path}:\n{status}"))
    }

    /// The sum of every series of metric `name` on `/metrics` (the config must set
    /// `http.listen`).
    pub fn metric_sum(&self, name: &str) -> f64 {
        let (code, text) = self.http_get("/metrics");
        assert_eq!(code, 200, "{text}");
        metric_sum(&text, name)
    }

    pub fn manifests(&self) -> PathBuf {
        self.dir.path().join("manifests")
    }

    pub fn write_manifest(&self, name: &str, content: &str) {
        write_atomically(&self.manifests().join(name), content);
    }

    /// A query for `name`/`qtype` over UDP with EDNS (1232 bytes).
    pub fn ask(&self, name: &str, qtype: RecordType) -> Message {
        self.send(&query(name, qtype), Transport::Udp)
    }

    pub fn send(&self, message: &Message, transport: Transport) -> Message {
        self.try_query(message, transport)
            .unwrap_or_else(|e| panic!("query failed: {e}\n{}", self.log()))
    }

    pub fn try_query(&self, message: &Message, transport: Transport) -> Result<Message, String> {
        query_at(self.addr, message, transport)
    }

    /// Sends raw bytes over UDP; the raw reply.
    pub fn udp_raw(&self, bytes: &[u8]) -> Result<Vec<u8>, String> {
        udp_raw_at(self.addr, bytes)
    }

    /// Sends several messages on one TCP connection (pipelined), returns the replies.
    pub fn tcp_raw(&self, messages: &[Vec<u8>]) -> Result<Vec<Vec<u8>>, String> {
        tcp_raw_at(self.addr, messages)
    }

    /// Polls until `check` accepts the answer to `name`/`qtype`; panics with the last answer.
    pub fn eventually(&self, name: &str, qtype: RecordType, check: impl Fn(&Message) -> bool) {
        self.eventually_within(PATIENCE, name, qtype, check);
    }

    /// [`Server::eventually`] with a bound of its own, for changes that wait on a retry.
    pub fn eventually_within(
        &self,
        patience: Duration,
        name: &str,
        qtype: RecordType,
        check: impl Fn(&Message) -> bool,
    ) {
        let deadline = Instant::now() + patience;
        let mut last = None;
        while Instant::now() < deadline {
            let reply = self.ask(name, qtype);
            if check(&reply) {
                return;
            }
            last = Some(reply);
            std::thread::sleep(Duration::from_millis(25));
        }
        panic!(
            "{name} {qtype} never matched; last answer: {last:?}\n{}",
            self.log()
        );
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    Udp,
    Tcp,
}

/// `addr` as a client reaches it: a wildcard becomes the loopback address of its family.
pub fn reachable(addr: SocketAddr) -> SocketAddr {
    match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => (Ipv4Addr::LOCALHOST, addr.port()).into(),
        IpAddr::V6(ip) if ip.is_unspecified() => (Ipv6Addr::LOCALHOST, addr.port()).into(),
        _ => addr,
    }
}

/// A UDP socket on the loopback address of `peer`'s family, for talking to it.
fn client_socket(peer: SocketAddr) -> std::io::Result<UdpSocket> {
    let local: SocketAddr = if peer.is_ipv6() {
        (Ipv6Addr::LOCALHOST, 0).into()
    } else {
        (Ipv4Addr::LOCALHOST, 0).into()
    };
    UdpSocket::bind(local)
}

/// Sends `message` to `addr` over `transport`; the decoded reply.
pub fn query_at(
    addr: SocketAddr,
    message: &Message,
    transport: Transport,
) -> Result<Message, String> {
    let bytes = message.to_vec().map_err(|e| e.to_string())?;
    let reply = match transport {
        Transport::Udp => udp_raw_at(addr, &bytes)?,
        Transport::Tcp => tcp_raw_at(addr, &[bytes])?.pop().ok_or("no reply")?,
    };
    Message::from_vec(&reply).map_err(|e| e.to_string())
}

/// Sends raw bytes to `addr` over UDP; the raw reply.
pub fn udp_raw_at(addr: SocketAddr, bytes: &[u8]) -> Result<Vec<u8>, String> {
    let socket = client_socket(addr).map_err(|e| e.to_string())?;
    socket
        .set_read_timeout(Some(Duration::from_secs(2)))
        .map_err(|e| e.to_string())?;
    socket.send_to(bytes, addr).map_err(|e| e.to_string())?;
    let mut buf = vec![0; 65535];
    let (len, _) = socket.recv_from(&mut buf).map_err(|e| e.to_string())?;
    buf.truncate(len);
    Ok(buf)
}

/// Sends several messages to `addr` on one TCP connection (pipelined); the replies.
pub fn tcp_raw_at(addr: SocketAddr, messages: &[Vec<u8>]) -> Result<Vec<Vec<u8>>, String> {
    let mut stream = TcpStream::connect(addr).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for m in messages {
        let len = u16::try_from(m.len()).map_err(|e| e.to_string())?;
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(m);
    }
    stream.write_all(&out).map_err(|e| e.to_string())?;
    let mut replies = Vec::new();
    for _ in messages {
        let mut len = [0u8; 2];
        stream.read_exact(&mut len).map_err(|e| e.to_string())?;
        let mut reply = vec![0; usize::from(u16::from_be_bytes(len))];
        stream.read_exact(&mut reply).map_err(|e| e.to_string())?;
        replies.push(reply);
    }
    Ok(replies)
}

/// Runs one of the idempotent build scripts in `scripts/` (control plane, helm): the folder or
/// file its last stdout line names, or why it failed, for the tests that need it to say.
pub fn run_build_script(script: &str, needed_by: &str) -> Result<PathBuf, String> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../scripts")
        .join(script);
    let output = Command::new(&script)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("could not run {}: {e}", script.display()))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    match stdout.lines().last() {
        Some(path) if output.status.success() => Ok(PathBuf::from(path)),
        _ => Err(format!(
            "{} failed ({}); {needed_by}:\n{}",
            script.display(),
            output.status,
            String::from_utf8_lossy(&output.stderr)
        )),
    }
}

/// A plain HTTP/1.1 GET; the status code and the body.
pub fn http_get(addr: SocketAddr, path: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).expect("connect to http");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: kubezone\r\nConnection: close\r\n\r\n"
    )
    .expect("write request");
    let mut reply = String::new();
    stream.read_to_string(&mut reply).expect("read reply");
    let (head, body) = reply.split_once("\r\n\r\n").unwrap_or((&reply, ""));
    let code = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP reply: {reply}"));
    (code, body.to_string())
}

/// Asks `addr` over UDP from any thread; panics when nothing answers.
pub fn ask_at(addr: SocketAddr, name: &str, qtype: RecordType) -> Message {
    let socket = client_socket(addr).expect("bind");
    socket
        .set_read_timeout(Some(Duration::from_secs(2)))
        .expect("timeout");
    let bytes = query(name, qtype).to_vec().expect("encode");
    socket.send_to(&bytes, addr).expect("send");
    let mut buf = vec![0; 65535];
    let (len, _) = socket
        .recv_from(&mut buf)
        .unwrap_or_else(|e| panic!("no answer to {name} {qtype}: {e}"));
    Message::from_vec(&buf[..len]).expect("decode")
}

/// A query as dig sends it: RD set, EDNS with a 1232-byte payload.
pub fn query(name: &str, qtype: RecordType) -> Message {
    let mut m = plain_query(name, qtype);
    let mut edns = Edns::new();
    edns.set_max_payload(1232);
    m.edns = Some(edns);
    m
}

/// A query without EDNS.
pub fn plain_query(name: &str, qtype: RecordType) -> Message {
    let mut m = Message::new(0x1234, MessageType::Query, OpCode::Query);
    m.metadata.recursion_desired = true;
    m.add_query(Query::query(Name::from_ascii(name).expect("name"), qtype));
    m
}

fn soa_probe() -> Message {
    query("example.com.", RecordType::SOA)
}

/// Replaces a file the way editors and ConfigMap updates do: write aside, then rename.
pub fn write_atomically(path: &Path, content: &str) {
    let tmp = path.with_extension("tmp~");
    std::fs::write(&tmp, content).expect("write");
    std::fs::rename(&tmp, path).expect("rename");
}

/// The answers as "name TTL TYPE data" lines.
pub fn lines(records: &[hickory_proto::rr::Record]) -> Vec<String> {
    records
        .iter()
        .map(|r| format!("{} {} {} {}", r.name, r.ttl, r.record_type(), r.data))
        .collect()
}

/// The A/AAAA data of the answer section, sorted.
pub fn addresses(reply: &Message) -> Vec<String> {
    let mut v: Vec<String> = reply
        .answers
        .iter()
        .filter(|r| matches!(r.record_type(), RecordType::A | RecordType::AAAA))
        .map(|r| r.data.to_string())
        .collect();
    v.sort();
    v
}

pub const ZONE: &str = "  - zone: example.com\n    glue: [\"192.0.2.53\"]\n";

/// The sum of every series of metric `name` (with or without labels) in Prometheus text.
pub fn metric_sum(text: &str, name: &str) -> f64 {
    text.lines()
        .filter(|l| {
            l.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with('{') || rest.starts_with(' '))
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}
