//! Soak: dnsperf at the highest rate the machine allows while objects churn at about 500
//! changes per second, from the manifests folder or through a real kube-apiserver. Measures
//! queries lost by the server (dnsperf's count against kubezone_queries_total), answers wrong
//! for the state at that moment (a checker asks names whose address encodes a version), and RSS
//! at start and end.
//!
//! The short tests run with the test command; `bench/soak.sh [seconds]` runs the long one
//! (`soak_long`, ignored by default) in release.

use std::{
    net::{SocketAddr, UdpSocket},
    process::Command,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use hickory_proto::{
    op::{Message, ResponseCode},
    rr::RecordType,
};

use crate::{
    cluster::{cluster, load_balancer_service, load_balancer_status},
    control_plane::ControlPlane,
    harness::{Server, Setup, ZONE, addresses, query},
};

/// How long an answer may lag behind a change and still be right: changes are served within a
/// second (manifests) or milliseconds (cluster); the rest is slack for a saturated machine.
const LAG: Duration = Duration::from_secs(3);
/// Versions are encoded in the last octet, modulo this.
const VERSIONS: u32 = 250;
const HTTP: &str = "http: {listen: \"127.0.0.1:0\"}\n";

/// The address of object `i` at `version`.
fn address(i: usize, version: u32) -> String {
    format!("10.{}.{}.{}", i / 256, i % 256, version % VERSIONS + 1)
}

/// Object `i` and its version (modulo [`VERSIONS`]) from an address.
fn decode(address: &str) -> Option<(usize, u32)> {
    let octets: Vec<usize> = address
        .split('.')
        .map(|o| o.parse().ok())
        .collect::<Option<_>>()?;
    match octets[..] {
        [10, hi, lo, v] if v >= 1 => Some((hi * 256 + lo, u32::try_from(v - 1).ok()?)),
        _ => None,
    }
}

/// When each version of each object was started (the write or API call began) and done (the
/// file renamed, the API call answered): a version may be answered from the moment it is
/// started until [`LAG`] after the next one is done.
struct History {
    versions: Vec<Mutex<Vec<Version>>>,
    changes: AtomicU64,
}

#[derive(Clone, Copy)]
struct Version {
    started: Instant,
    done: Option<Instant>,
}

impl History {
    fn new(objects: usize) -> History {
        let now = Instant::now();
        let first = Version {
            started: now,
            done: Some(now),
        };
        History {
            versions: (0..objects).map(|_| Mutex::new(vec![first])).collect(),
            changes: AtomicU64::new(0),
        }
    }

    /// Starts the next version of object `i`; its number.
    fn next(&self, i: usize) -> u32 {
        self.changes.fetch_add(1, Ordering::Relaxed);
        let mut versions = lock(&self.versions[i]);
        versions.push(Version {
            started: Instant::now(),
            done: None,
        });
        u32::try_from(versions.len() - 1).unwrap_or(u32::MAX)
    }

    /// Version `v` of object `i` is written.
    fn done(&self, i: usize, v: u32) {
        if let Some(version) = lock(&self.versions[i]).get_mut(v as usize) {
            version.done = Some(Instant::now());
        }
    }

    /// Whether object `i` had version `v` (mod [`VERSIONS`]) at some moment between `LAG`
    /// before `sent` and `received`; else why not.
    fn check(&self, i: usize, v: u32, sent: Instant, received: Instant) -> Result<(), String> {
        let versions = lock(&self.versions[i]);
        let had = versions.iter().enumerate().any(|(n, version)| {
            let replaced = versions.get(n + 1).map(|next| next.done);
            n % VERSIONS as usize == v as usize
                && version.started <= received
                && match replaced {
                    // The latest version, or the one before a change still in flight.
                    None | Some(None) => true,
                    Some(Some(replaced)) => replaced + LAG >= sent,
                }
        });
        if had {
            Ok(())
        } else {
            Err(format!(
                "object {i} answered version {v} (mod {VERSIONS}); it is at {} ({} versions)",
                (versions.len() - 1) % VERSIONS as usize,
                versions.len()
            ))
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[derive(Debug, Default)]
struct Checked {
    asked: u64,
    wrong: Vec<String>,
    timeouts: u64,
}

/// Asks for object names from a socket of its own until `stop`; checks each answer.
fn checker(
    addr: SocketAddr,
    names: Vec<String>,
    history: Arc<History>,
    stop: Arc<AtomicBool>,
) -> Checked {
    let socket = UdpSocket::bind("127.0.0.1:0").expect("bind");
    socket
        .set_read_timeout(Some(Duration::from_secs(1)))
        .expect("timeout");
    let mut checked = Checked::default();
    let mut buf = vec![0; 4096];
    let mut i = 0;
    let mut id: u16 = 0;
    while !stop.load(Ordering::Relaxed) {
        // A stride that is prime to the object count visits every object.
        i = (i + 7) % names.len();
        id = id.wrapping_add(1);
        let mut message = query(&names[i], RecordType::A);
        message.metadata.id = id;
        let bytes = message.to_vec().expect("encode");
        let sent = Instant::now();
        checked.asked += 1;
        socket.send_to(&bytes, addr).expect("send");
        let reply = loop {
            match socket.recv_from(&mut buf) {
                Ok((len, _)) => match Message::from_vec(&buf[..len]) {
                    Ok(reply) if reply.metadata.id != id => continue,
                    Ok(reply) => break Some(reply),
                    Err(e) => {
                        checked
                            .wrong
                            .push(format!("{}: undecodable: {e}", names[i]));
                        break None;
                    }
                },
                Err(_) => {
                    checked.timeouts += 1;
                    break None;
                }
            }
        };
        let received = Instant::now();
        let Some(reply) = reply else { continue };
        let found = addresses(&reply);
        let verdict = match (reply.metadata.response_code, &found[..]) {
            (ResponseCode::NoError, [one]) => match decode(one) {
                Some((object, v)) if object == i => history.check(i, v, sent, received),
                _ => Err(format!("an address it never had: {one}")),
            },
            (code, found) => Err(format!("{code} {found:?}")),
        };
        if let Err(why) = verdict {
            checked.wrong.push(format!("{}: {why}", names[i]));
        }
        std::thread::sleep(Duration::from_micros(500));
    }
    checked
}

#[derive(Debug, Default)]
pub(crate) struct Dnsperf {
    pub(crate) sent: u64,
    pub(crate) completed: u64,
    pub(crate) lost: u64,
    pub(crate) qps: f64,
}

/// Runs dnsperf against `addr` for `seconds` with the names in `names`, as fast as it can.
pub(crate) fn dnsperf(
    addr: SocketAddr,
    names: &[String],
    seconds: u64,
    dir: &std::path::Path,
) -> Dnsperf {
    let file = dir.join("queries.txt");
    let lines: String = names.iter().map(|n| format!("{n} A\n")).collect();
    std::fs::write(&file, lines).expect("write the query file");
    let output = Command::new("dnsperf")
        .args(["-s", &addr.ip().to_string(), "-p", &addr.port().to_string()])
        .arg("-d")
        .arg(&file)
        .args([
            "-l",
            &seconds.to_string(),
            "-c",
            "4",
            "-q",
            "256",
            "-t",
            "2",
        ])
        .output()
        .expect("run dnsperf (Debian package dnsperf; scripts/install-test-deps.sh)");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "dnsperf failed:\n{text}");
    let field = |label: &str| -> f64 {
        text.lines()
            .find_map(|l| l.trim().strip_prefix(label))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {label:?} in dnsperf's output:\n{text}"))
    };
    // dnsperf prints whole counts; the f64 round trip is exact for them.
    Dnsperf {
        sent: field("Queries sent:") as u64,
        completed: field("Queries completed:") as u64,
        lost: field("Queries lost:") as u64,
        qps: field("Queries per second:"),
    }
}

#[derive(Debug)]
struct Report {
    source: &'static str,
    seconds: u64,
    changes: u64,
    dnsperf: Dnsperf,
    counted: u64,
    checked: Checked,
    rss_start_kib: u64,
    rss_end_kib: u64,
    /// UDP datagrams the kernel dropped because a socket's receive buffer was full, on the
    /// whole machine (dnsperf's sockets included) during the run.
    udp_rcvbuf_drops: u64,
}

/// `Udp: RcvbufErrors` from /proc/net/snmp: datagrams dropped on full receive buffers.
fn udp_rcvbuf_errors() -> u64 {
    let text = std::fs::read_to_string("/proc/net/snmp").unwrap_or_default();
    let mut udp = text.lines().filter(|l| l.starts_with("Udp:"));
    let (Some(names), Some(values)) = (udp.next(), udp.next()) else {
        return 0;
    };
    names
        .split_whitespace()
        .zip(values.split_whitespace())
        .find(|(name, _)| *name == "RcvbufErrors")
        .and_then(|(_, value)| value.parse().ok())
        .unwrap_or(0)
}

impl Report {
    /// Queries dnsperf sent that kubezone never counted.
    fn lost_by_server(&self) -> i64 {
        i64::try_from(self.dnsperf.sent).unwrap_or(i64::MAX)
            - i64::try_from(self.counted).unwrap_or(i64::MAX)
    }

    fn print(&self) {
        let r = self;
        eprintln!(
            "FIGURE soak {source} {secs} s: {changes} changes ({rate:.0}/s); dnsperf sent {sent}, completed {completed}, lost {lost} ({qps:.0} q/s); kubezone counted {counted} of dnsperf's queries: {server_lost} never counted by the server ({drops} UDP receive-buffer drops on the machine), {unanswered} counted but not received; checker asked {asked}: {wrong} wrong, {timeouts} timed out; RSS {start} KiB at start, {end} KiB at end",
            source = r.source,
            secs = r.seconds,
            changes = r.changes,
            rate = r.changes as f64 / r.seconds as f64,
            sent = r.dnsperf.sent,
            completed = r.dnsperf.completed,
            lost = r.dnsperf.lost,
            qps = r.dnsperf.qps,
            counted = r.counted,
            server_lost = r.lost_by_server(),
            drops = r.udp_rcvbuf_drops,
            unanswered = i64::try_from(r.counted).unwrap_or(i64::MAX)
                - i64::try_from(r.dnsperf.completed).unwrap_or(i64::MAX),
            asked = r.checked.asked,
            wrong = r.checked.wrong.len(),
            timeouts = r.checked.timeouts,
            start = r.rss_start_kib,
            end = r.rss_end_kib,
        );
        for w in r.checked.wrong.iter().take(5) {
            eprintln!("  wrong: {w}");
        }
    }

    /// What must hold however busy the machine is.
    fn assert_sound(&self) {
        assert!(
            self.checked.wrong.is_empty(),
            "{} wrong answers, first: {}",
            self.checked.wrong.len(),
            self.checked.wrong[0]
        );
        assert!(
            self.checked.asked > 100,
            "the checker asked {}",
            self.checked.asked
        );
        assert!(self.changes > 0);
        assert!(self.dnsperf.completed > 0, "{:?}", self.dnsperf);
        // Every answer dnsperf got was counted (give or take the checker's timeouts, which
        // may have been answered late rather than dropped).
        assert!(
            self.counted + self.checked.timeouts >= self.dnsperf.completed,
            "{self:?}"
        );
        assert!(
            self.rss_end_kib < 2 * self.rss_start_kib + 20 * 1024,
            "RSS grew from {} KiB to {} KiB",
            self.rss_start_kib,
            self.rss_end_kib
        );
    }
}

/// Runs dnsperf and the checker against `s` for `seconds` while `churn` runs until its stop
/// flag is set; then measures.
fn measure(
    source: &'static str,
    s: &Server,
    names: Vec<String>,
    history: Arc<History>,
    seconds: u64,
    churn: impl FnOnce(Arc<AtomicBool>) + Send,
) -> Report {
    // Every name answers before the clock starts.
    for name in &names {
        s.eventually(name, RecordType::A, |r| addresses(r).len() == 1);
    }
    let rss_start_kib = s.rss_kib();
    let queries_before = s.metric_sum("kubezone_queries_total");
    let drops_before = udp_rcvbuf_errors();
    let changes_before = history.changes.load(Ordering::Relaxed);
    let stop = Arc::new(AtomicBool::new(false));
    let churn_stop = Arc::new(AtomicBool::new(false));
    let (dnsperf, checked) = std::thread::scope(|scope| {
        let churner = {
            let churn_stop = churn_stop.clone();
            scope.spawn(move || churn(churn_stop))
        };
        let check = {
            let (addr, names, history, stop) =
                (s.addr, names.clone(), history.clone(), stop.clone());
            scope.spawn(move || checker(addr, names, history, stop))
        };
        let dnsperf = dnsperf(s.addr, &names, seconds, s.dir.path());
        churn_stop.store(true, Ordering::Relaxed);
        stop.store(true, Ordering::Relaxed);
        churner.join().expect("churning thread");
        (dnsperf, check.join().expect("checker thread"))
    });
    let changes = history.changes.load(Ordering::Relaxed) - changes_before;
    let udp_rcvbuf_drops = udp_rcvbuf_errors().saturating_sub(drops_before);
    // Let late answers be counted before reading the counter.
    std::thread::sleep(Duration::from_millis(500));
    let queries_after = s.metric_sum("kubezone_queries_total");
    // The counters are whole numbers; the checker's queries are not dnsperf's.
    // (A checker query that timed out was most likely dropped before kubezone read it.)
    let counted =
        ((queries_after - queries_before) as u64).saturating_sub(checked.asked - checked.timeouts);
    Report {
        source,
        seconds,
        changes,
        dnsperf,
        counted,
        checked,
        rss_start_kib,
        rss_end_kib: s.rss_kib(),
        udp_rcvbuf_drops,
    }
}

/// Objects as LoadBalancer Services in `namespace`: `o<i>.<namespace>.example.com`.
fn service(namespace: &str, i: usize, version: u32) -> String {
    format!(
        "apiVersion: v1\nkind: Service\nmetadata: {{name: o{i}, namespace: {namespace}}}\nspec: {{type: LoadBalancer}}\nstatus: {{loadBalancer: {{ingress: [{{ip: \"{}\"}}]}}}}\n",
        address(i, version)
    )
}

fn names(namespace: &str, objects: usize) -> Vec<String> {
    (0..objects)
        .map(|i| format!("o{i}.{namespace}.example.com."))
        .collect()
}

/// The manifests source: 200 objects in 20 files of 10; a file is rewritten every 20 ms with
/// every object in it at its next version (500 changes/s), and a file of 10 more objects comes
/// and goes every 200 ms (50 more).
fn soak_manifests(seconds: u64) -> Report {
    let (files, per_file) = (20, 10);
    let objects = files * per_file;
    let history = Arc::new(History::new(objects));
    let file = |f: usize, versions: &[u32]| -> String {
        (0..per_file)
            .map(|k| service("soak", f * per_file + k, versions[k]))
            .collect::<Vec<_>>()
            .join("---\n")
    };
    let initial: Vec<(String, String)> = (0..files)
        .map(|f| (format!("f{f}.yaml"), file(f, &[0; 10])))
        .collect();
    let manifests: Vec<(&str, &str)> = initial
        .iter()
        .map(|(n, c)| (n.as_str(), c.as_str()))
        .collect();
    let s = Server::start_with(Setup {
        zones: ZONE,
        extra: HTTP,
        manifests: &manifests,
        ..Setup::default()
    });
    let churn = |stop: Arc<AtomicBool>| {
        let mut tick = 0u64;
        let start = Instant::now();
        while !stop.load(Ordering::Relaxed) {
            let f = usize::try_from(tick).unwrap_or(0) % files;
            let versions: Vec<u32> = (0..per_file)
                .map(|k| history.next(f * per_file + k))
                .collect();
            s.write_manifest(&format!("f{f}.yaml"), &file(f, &versions));
            for (k, v) in versions.iter().enumerate() {
                history.done(f * per_file + k, *v);
            }
            if tick.is_multiple_of(10) {
                let extra = s.manifests().join("extra.yaml");
                if (tick / 10).is_multiple_of(2) {
                    let content: Vec<String> =
                        (0..per_file).map(|k| service("soakextra", k, 0)).collect();
                    s.write_manifest("extra.yaml", &content.join("---\n"));
                } else {
                    let _ = std::fs::remove_file(extra);
                }
                history.changes.fetch_add(10, Ordering::Relaxed);
            }
            tick += 1;
            let next = start + Duration::from_millis(20) * u32::try_from(tick).unwrap_or(0);
            std::thread::sleep(next.saturating_duration_since(Instant::now()));
        }
    };
    measure(
        "manifests",
        &s,
        names("soak", objects),
        history.clone(),
        seconds,
        churn,
    )
}

/// The cluster source: 100 LoadBalancer Services whose status moves to the next version, each
/// every 200 ms from a task of its own (500 changes/s when the API server keeps up).
fn soak_cluster(cp: &ControlPlane, seconds: u64) -> Report {
    let objects = 100;
    let namespace = cp.fresh_namespace("soak");
    let history = Arc::new(History::new(objects));
    for i in 0..objects {
        cp.apply_yaml(&load_balancer_service(&namespace, &format!("o{i}")));
        cp.apply_status_yaml(&load_balancer_status(
            &namespace,
            &format!("o{i}"),
            &[&address(i, 0)],
        ));
    }
    let s = Server::start_with(Setup {
        zones: ZONE,
        extra: &format!(
            "{HTTP}{}",
            crate::cluster::kubernetes_section(cp, &[&namespace])
        ),
        manifests: &[],
        ..Setup::default()
    });
    let client = cp.admin_client();
    let failed = Arc::new(AtomicU64::new(0));
    let churn = |stop: Arc<AtomicBool>| {
        cp.block_on(async {
            let mut tasks = tokio::task::JoinSet::new();
            for i in 0..objects {
                let api: kube::Api<k8s_openapi::api::core::v1::Service> =
                    kube::Api::namespaced(client.clone(), &namespace);
                let (history, failed, stop) = (history.clone(), failed.clone(), stop.clone());
                // Spread the objects' turns over the 200 ms period.
                let offset = Duration::from_millis(2) * u32::try_from(i).unwrap_or(0);
                tasks.spawn(async move {
                    let start = tokio::time::Instant::now() + offset;
                    let mut turn = 0u32;
                    while !stop.load(Ordering::Relaxed) {
                        tokio::time::sleep_until(start + Duration::from_millis(200) * turn).await;
                        turn += 1;
                        let version = history.next(i);
                        let patch = serde_json::json!({"status": {"loadBalancer": {"ingress": [{"ip": address(i, version)}]}}});
                        let patched = api
                            .patch_status(
                                &format!("o{i}"),
                                &kube::api::PatchParams::default(),
                                &kube::api::Patch::Merge(&patch),
                            )
                            .await;
                        // A failed patch may still have been applied: its version stays possible
                        // until the next one replaces it.
                        history.done(i, version);
                        if patched.is_err() {
                            failed.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                });
            }
            while tasks.join_next().await.is_some() {}
        });
    };
    let report = measure(
        "cluster",
        &s,
        names(&namespace, objects),
        history.clone(),
        seconds,
        churn,
    );
    let failed = failed.load(Ordering::Relaxed);
    eprintln!("FIGURE soak cluster: {failed} status patches failed");
    assert_eq!(failed, 0, "status patches failed");
    report
}

fn seconds_from_env(default: u64) -> u64 {
    std::env::var("KUBEZONE_SOAK_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// One soak at a time: each saturates the machine on its own.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

#[test]
fn short_soak_with_manifests_churning() {
    let _turn = lock(&ONE_AT_A_TIME);
    let report = soak_manifests(20);
    report.print();
    report.assert_sound();
}

#[test]
fn short_soak_with_the_api_server_churning() {
    let _turn = lock(&ONE_AT_A_TIME);
    let report = soak_cluster(cluster(), 20);
    report.print();
    report.assert_sound();
}

/// `bench/soak.sh [seconds] [manifests|cluster|both]`: each source for the seconds given
/// (default 300).
#[test]
#[ignore = "long; run by bench/soak.sh"]
fn soak_long() {
    let _turn = lock(&ONE_AT_A_TIME);
    let seconds = seconds_from_env(300);
    let which = std::env::var("KUBEZONE_SOAK_SOURCES").unwrap_or_else(|_| "both".into());
    let mut reports = Vec::new();
    if matches!(which.as_str(), "manifests" | "both") {
        reports.push(soak_manifests(seconds));
    }
    if matches!(which.as_str(), "cluster" | "both") {
        reports.push(soak_cluster(cluster(), seconds));
    }
    for report in &reports {
        report.print();
    }
    for report in &reports {
        report.assert_sound();
    }
}

/// The checker's rule itself: states the object had lately pass; a version it never reached,
/// one replaced longer than [`LAG`] ago, or another object's address do not.
#[test]
fn the_checker_accepts_only_states_an_object_really_had_lately() {
    let history = History::new(2);
    let t0 = Instant::now();
    assert_eq!(history.next(0), 1);
    let far = Instant::now() + LAG * 10;
    assert!(
        history.check(0, 0, far, far).is_ok(),
        "before a change in flight"
    );
    history.done(0, 1);
    let t1 = Instant::now();
    let now = t1 + Duration::from_millis(10);
    assert!(history.check(0, 1, now, now).is_ok(), "the current version");
    assert!(
        history.check(0, 0, now, now).is_ok(),
        "the one just replaced"
    );
    assert!(history.check(0, 2, now, now).is_err(), "not reached");
    let later = t1 + LAG + Duration::from_secs(1);
    assert!(
        history.check(0, 0, later, later).is_err(),
        "replaced long ago"
    );
    assert!(history.check(1, 0, later, later).is_ok(), "never changed");
    assert!(history.check(0, 1, t0, t0).is_err(), "not started yet");
    assert_eq!(decode(&address(300, 251)), Some((300, 1)));
    assert_eq!(decode("192.0.2.1"), None);
}
