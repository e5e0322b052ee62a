//! Figures for push mode against a real BIND primary on loopback: the initial sync of many
//! names into an empty zone (time and UPDATE messages), and change → visible on the primary
//! over 200 changes. Ignored in the normal run; `bench/push.sh` runs them in release mode.

use std::time::{Duration, Instant};

use hickory_proto::rr::RecordType;

use crate::{
    cluster_bench::{env_or, percentile},
    harness::{Server, Setup, addresses, ask_at},
    primaries::{PrimaryServer, Software, UPDATE_KEY, UPDATE_SECRET},
};

const PER_FILE: usize = 1_000;

fn address(i: usize) -> String {
    format!("10.{}.{}.{}", 20 + i / 65_536, (i / 256) % 256, i % 256)
}

/// `count` LoadBalancer Services named `svc<i>.example.test`, one file per thousand.
fn files(count: usize, changed: Option<(usize, &str)>) -> Vec<(String, String)> {
    (0..count.div_ceil(PER_FILE))
        .map(|f| {
            let mut text = String::new();
            for i in f * PER_FILE..count.min((f + 1) * PER_FILE) {
                let ip = match changed {
                    Some((c, ip)) if c == i => ip.to_string(),
                    _ => address(i),
                };
                text.push_str(&format!(
                    "---\napiVersion: v1\nkind: Service\nmetadata:\n  name: svc{i}\n  namespace: bench\n  annotations: {{external-dns.alpha.kubernetes.io/hostname: svc{i}.example.test}}\nspec:\n  type: LoadBalancer\nstatus:\n  loadBalancer:\n    ingress: [{{ip: \"{ip}\"}}]\n"
                ));
            }
            (format!("services-{f:03}.yaml"), text)
        })
        .collect()
}

fn until_on_primary(primary: &PrimaryServer, name: &str, ip: &str, start: Instant) -> Duration {
    let deadline = start + Duration::from_secs(120);
    loop {
        if addresses(&ask_at(primary.addr(), name, RecordType::A)) == [ip] {
            return start.elapsed();
        }
        assert!(
            Instant::now() < deadline,
            "{name} never reached the primary as {ip}"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}

#[test]
#[ignore = "a measurement; bench/push.sh runs it"]
fn bench_push_initial_sync_and_change_latency() {
    let names = env_or("KUBEZONE_BENCH_NAMES", 10_000).max(1);
    let changes = env_or("KUBEZONE_BENCH_CHANGES", 200).max(1);
    let primary = PrimaryServer::start(Software::Bind);
    let texts = files(names, None);
    let refs: Vec<(&str, &str)> = texts
        .iter()
        .map(|(n, t)| (n.as_str(), t.as_str()))
        .collect();
    let started = Instant::now();
    let s = Server::start_with(Setup {
        zones: &format!(
            "  - zone: example.test\n    glue: [\"192.0.2.53\"]\n    push: {{server: \"{}\", key: {UPDATE_KEY}, owner: bench, interval: 1h}}\n",
            primary.addr()
        ),
        extra: &format!(
            "http: {{listen: \"127.0.0.1:0\"}}\ntsigKeys: [{{name: {UPDATE_KEY}, secret: \"{UPDATE_SECRET}\"}}]\n"
        ),
        manifests: &refs,
        ..Setup::default()
    });
    let last = names - 1;
    let synced = until_on_primary(
        &primary,
        &format!("svc{last}.example.test."),
        &address(last),
        started,
    );
    // The push logs its count once the last batch is accepted, a moment after BIND answers.
    s.wait_for_log("the primary is up to date", 1);
    let log = s.log();
    let messages: usize = log
        .lines()
        .filter(|l| l.contains("the primary is up to date"))
        .filter_map(|l| {
            l.split("messages=")
                .nth(1)?
                .split_whitespace()
                .next()?
                .parse::<usize>()
                .ok()
        })
        .sum();
    println!(
        "FIGURE push initial sync: {names} names into an empty BIND zone in {:.2} s from kubezone's start, {messages} UPDATE messages",
        synced.as_secs_f64()
    );

    let mut latencies = Vec::with_capacity(changes);
    for change in 0..changes {
        let i = change.wrapping_mul(7919) % names;
        let ip = format!("172.20.{}.{}", change / 256, change % 256);
        let (file, text) = files(names, Some((i, &ip)))
            .into_iter()
            .nth(i / PER_FILE)
            .expect("the file of svc<i>");
        let start = Instant::now();
        s.write_manifest(&file, &text);
        latencies.push(until_on_primary(
            &primary,
            &format!("svc{i}.example.test."),
            &ip,
            start,
        ));
    }
    // Where a change's time goes, from kubezone's own account of its last pushes.
    for line in s
        .log()
        .lines()
        .filter(|l| l.contains("planned_ms"))
        .rev()
        .take(3)
    {
        println!("{line}");
    }
    latencies.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "FIGURE push change → visible on the primary (manifest file written → BIND answers it): p50 {:.1} ms, p99 {:.1} ms over {changes} changes, {names} names",
        ms(percentile(&latencies, 0.5)),
        ms(percentile(&latencies, 0.99))
    );
}
