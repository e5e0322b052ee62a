//! Figures of zone transfer, side by side with Knot and with real secondaries. Ignored in the
//! normal run; `bench/transfer.sh` runs them in release mode and prints the figures:
//! - AXFR of 100,000 names, kubezone against Knot serving the same zone: time and bytes;
//! - the IXFR for one changed name in that zone, in bytes;
//! - the journal's memory at its default bound;
//! - change → answered by NSD, Knot and BIND secondaries, p50 and p99 over 200 changes.

use std::{
    net::SocketAddr,
    process::Command,
    sync::mpsc,
    time::{Duration, Instant},
};

use hickory_proto::rr::RecordType;

use crate::{
    harness::{Server, Setup, addresses, ask_at, write_atomically},
    primary::{many_names, notify_list, secondaries_at},
    secondary::{Software, Spec, free_port},
    transfer::primary::Primary,
};

const ZONE: &str = "example.com";

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(default)
}

/// What `kdig` says of one AXFR: milliseconds, bytes, messages, records.
#[derive(Debug, Clone, Copy)]
struct Xfr {
    millis: f64,
    bytes: u64,
    messages: u64,
    records: u64,
}

/// `kdig AXFR` of `zone` at `addr`, as kdig measures it.
fn kdig_axfr(addr: SocketAddr, zone: &str) -> Xfr {
    let out = Command::new("kdig")
        .arg(format!("@{}", addr.ip()))
        .args([
            "-p",
            &addr.port().to_string(),
            "+noall",
            "+stats",
            zone,
            "AXFR",
        ])
        .output()
        .expect("run kdig");
    let text = String::from_utf8_lossy(&out.stdout);
    // ";; Received 3093513 B (190 messages, 100004 records)" and ";; From ... in 153.2 ms".
    let received = text
        .lines()
        .find_map(|l| l.strip_prefix(";; Received "))
        .unwrap_or_else(|| panic!("no transfer summary in:\n{text}"));
    let numbers: Vec<u64> = received
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse().ok())
        .collect();
    let millis = text
        .lines()
        .find_map(|l| l.split(" in ").nth(1)?.strip_suffix(" ms")?.parse().ok())
        .unwrap_or_else(|| panic!("no time in:\n{text}"));
    match numbers[..] {
        [bytes, messages, records, ..] => Xfr {
            millis,
            bytes,
            messages,
            records,
        },
        _ => panic!("cannot read {received:?}"),
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let at = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[at]
}

/// The zone kubezone serves, as the zone file Knot reads: its AXFR with the first SOA only.
fn zone_file(addr: SocketAddr) -> String {
    let out = Command::new("kdig")
        .arg(format!("@{}", addr.ip()))
        .args([
            "-p",
            &addr.port().to_string(),
            "+noall",
            "+answer",
            ZONE,
            "AXFR",
        ])
        .output()
        .expect("run kdig");
    let text = String::from_utf8_lossy(&out.stdout);
    let mut soa_seen = false;
    let mut file = String::new();
    for line in text
        .lines()
        .filter(|l| !l.starts_with(';') && !l.is_empty())
    {
        if line.contains("\tSOA\t") {
            if soa_seen {
                continue;
            }
            soa_seen = true;
        }
        file.push_str(line);
        file.push('\n');
    }
    file
}

fn metric(kubezone: &Server, name: &str) -> f64 {
    let (_, text) = kubezone.http_get("/metrics");
    crate::harness::metric_sum(&text, name)
}

#[test]
#[ignore = "benchmark; run by bench/transfer.sh"]
fn axfr_ixfr_and_journal_of_a_large_zone() {
    let names = env_or("KUBEZONE_BENCH_NAMES", 100_000);
    let rounds = env_or("KUBEZONE_BENCH_ROUNDS", 5);
    let files = many_names(names);
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(n, c)| (n.as_str(), c.as_str()))
        .collect();
    let kubezone = Server::spawn(Setup {
        zones: "  - zone: example.com\n    glue: [192.0.2.53]\n    transfer: {allow: [127.0.0.1]}\n",
        extra: "http: {listen: \"127.0.0.1:0\"}\n",
        manifests: &refs,
        ..Setup::default()
    });
    kubezone.wait_until_ready_within(Duration::from_secs(300));
    let knot = Primary::start(&[(ZONE, &zone_file(kubezone.addr))], None);

    let mut ours = Vec::new();
    let mut theirs = Vec::new();
    for _ in 0..rounds {
        ours.push(kdig_axfr(kubezone.addr, ZONE));
        theirs.push(kdig_axfr(knot.addr(), ZONE));
    }
    let (ours_ms, theirs_ms) = (
        median(ours.iter().map(|x| x.millis).collect()),
        median(theirs.iter().map(|x| x.millis).collect()),
    );
    let (o, t) = (ours[0], theirs[0]);
    assert_eq!(o.records, t.records, "both transfer the same zone");
    println!(
        "FIGURE AXFR of {names} names, median of {rounds} (kdig): kubezone {ours_ms:.1} ms, {} bytes in {} messages; Knot {theirs_ms:.1} ms, {} bytes in {} messages; kubezone/Knot time {:.2}, bytes {:.2}",
        o.bytes,
        o.messages,
        t.bytes,
        t.messages,
        ours_ms / theirs_ms,
        o.bytes as f64 / t.bytes as f64
    );

    // One changed name: the IXFR from the serial before.
    let before = crate::secondary::soa_serial(kubezone.addr, ZONE).expect("serial");
    std::thread::sleep(Duration::from_millis(1100));
    kubezone.write_manifest(
        "one.yaml",
        &crate::objects::dns_endpoint("one", "host0.bulk.example.com", "A", &["10.255.0.1"]),
    );
    let after = wait_for_new_serial(&kubezone, before);
    let ixfr = crate::dig::dig_at(
        kubezone.addr,
        &[
            "+tcp",
            "+noall",
            "+answer",
            "+stats",
            ZONE,
            &format!("IXFR={before}"),
        ],
    );
    let size = ixfr
        .lines()
        .find_map(|l| l.strip_prefix(";; XFR size: "))
        .unwrap_or_else(|| panic!("no XFR size in:\n{ixfr}"));
    println!(
        "FIGURE IXFR for one changed name in the {names}-name zone ({before} → {after}): {size}"
    );

    // The journal at its default bound: whole files of addresses change, one version a second.
    let rss_before = kubezone.rss_kib();
    let mut journal = 0.0;
    for round in 1..=12 {
        std::thread::sleep(Duration::from_millis(1100));
        let serial = crate::secondary::soa_serial(kubezone.addr, ZONE).expect("serial");
        let (name, text) = &files[round % files.len()];
        write_atomically(
            &kubezone.manifests().join(name),
            &text.replace("targets: [\"10.", &format!("targets: [\"{}.", 20 + round)),
        );
        wait_for_new_serial(&kubezone, serial);
        std::thread::sleep(Duration::from_millis(300));
        journal = metric(&kubezone, "kubezone_transfer_journal_bytes");
    }
    println!(
        "FIGURE the journal at its default bound (4 MiB) after 12 versions of 10,000 changed names each: kubezone_transfer_journal_bytes {:.0}, RSS {} KiB before and {} KiB after",
        journal,
        rss_before,
        kubezone.rss_kib()
    );
}

fn wait_for_new_serial(kubezone: &Server, old: u32) -> u32 {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(serial) = crate::secondary::soa_serial(kubezone.addr, ZONE)
            && serial != old
        {
            return serial;
        }
        assert!(Instant::now() < deadline, "the serial stayed {old}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Polls `fqdn` at `addr` every half millisecond until it answers `ip`; when it did.
fn answered_at(addr: SocketAddr, fqdn: &str, ip: &str, deadline: Instant) -> Option<Instant> {
    while Instant::now() < deadline {
        if addresses(&ask_at(addr, fqdn, RecordType::A)) == [ip] {
            return Some(Instant::now());
        }
        std::thread::sleep(Duration::from_micros(500));
    }
    None
}

#[test]
#[ignore = "benchmark; run by bench/transfer.sh"]
fn change_to_answer_on_nsd_knot_and_bind_secondaries() {
    let changes = env_or("KUBEZONE_BENCH_CHANGES", 200);
    let ports: Vec<u16> = Software::ALL.iter().map(|_| free_port()).collect();
    let files = many_names(1_000);
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(n, c)| (n.as_str(), c.as_str()))
        .collect();
    let kubezone = Server::start_with(Setup {
        zones: &format!(
            "  - zone: example.com\n    glue: [192.0.2.53]\n    transfer: {{allow: [127.0.0.1], notify: [{}]}}\n",
            notify_list(&ports)
        ),
        manifests: &refs,
        ..Setup::default()
    });
    let mut secondaries = secondaries_at(kubezone.addr, &Software::ALL, &ports, |spec| Spec {
        zones: vec![ZONE.into()],
        ..spec
    });
    let serial = crate::secondary::soa_serial(kubezone.addr, ZONE).expect("serial");
    for s in &mut secondaries {
        s.wait_for_serial(ZONE, serial, Duration::from_secs(10));
    }
    let fqdn = "changing.example.com.";
    // From the write, and from kubezone's own answer, to each secondary's answer.
    let mut from_write: Vec<Vec<Duration>> = vec![Vec::new(); secondaries.len()];
    let mut from_primary: Vec<Vec<Duration>> = vec![Vec::new(); secondaries.len()];
    let mut primary_from_write = Vec::new();
    for change in 0..changes {
        // One change per second: faster changes are coalesced into the next second's serial.
        std::thread::sleep(Duration::from_millis(1050));
        let ip = format!("10.200.{}.{}", change >> 8, change & 0xFF);
        let written = Instant::now();
        kubezone.write_manifest(
            "changing.yaml",
            &crate::objects::dns_endpoint("changing", "changing.example.com", "A", &[&ip]),
        );
        let deadline = written + Duration::from_secs(10);
        let (tx, rx) = mpsc::channel();
        std::thread::scope(|scope| {
            let servers: Vec<(usize, SocketAddr)> = std::iter::once((usize::MAX, kubezone.addr))
                .chain(secondaries.iter().enumerate().map(|(i, s)| (i, s.addr())))
                .collect();
            for (i, addr) in servers {
                let tx = tx.clone();
                let ip = ip.clone();
                scope.spawn(move || {
                    let _ = tx.send((i, answered_at(addr, fqdn, &ip, deadline)));
                });
            }
        });
        drop(tx);
        let seen: Vec<(usize, Option<Instant>)> = rx.iter().collect();
        let primary = seen
            .iter()
            .find(|(i, _)| *i == usize::MAX)
            .and_then(|(_, at)| *at)
            .expect("kubezone answered the change");
        primary_from_write.push(primary - written);
        for (i, at) in seen.iter().filter(|(i, _)| *i != usize::MAX) {
            let at = at.unwrap_or_else(|| {
                panic!("{} did not answer change {change}", secondaries[*i].name())
            });
            from_write[*i].push(at - written);
            from_primary[*i].push(at.saturating_duration_since(primary));
        }
    }
    primary_from_write.sort();
    println!(
        "FIGURE change → kubezone answers (manifests, {changes} changes): p50 {:.1} ms, p99 {:.1} ms",
        percentile(&primary_from_write, 0.5).as_secs_f64() * 1e3,
        percentile(&primary_from_write, 0.99).as_secs_f64() * 1e3
    );
    for (i, s) in secondaries.iter().enumerate() {
        from_write[i].sort();
        from_primary[i].sort();
        println!(
            "FIGURE change → {} secondary answers, {changes} changes: p50 {:.1} ms, p99 {:.1} ms after the write; p50 {:.1} ms, p99 {:.1} ms after kubezone answered it",
            s.name(),
            percentile(&from_write[i], 0.5).as_secs_f64() * 1e3,
            percentile(&from_write[i], 0.99).as_secs_f64() * 1e3,
            percentile(&from_primary[i], 0.5).as_secs_f64() * 1e3,
            percentile(&from_primary[i], 0.99).as_secs_f64() * 1e3,
        );
    }
}
