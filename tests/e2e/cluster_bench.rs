//! Figures measured against the real kube-apiserver (change → answer latency, time to ready and
//! memory with many objects) and against a manifests folder (change → answer latency). Ignored in
//! the normal run; `bench/cluster.sh` and `bench/freshness.sh` run them in release mode and print
//! the figures.

use std::{
    fmt::Debug,
    sync::Arc,
    time::{Duration, Instant},
};

use hickory_proto::rr::RecordType;
use k8s_openapi::api::{core::v1::Service, networking::v1::Ingress};
use kube::api::{Api, Patch, PatchParams, PostParams};
use serde::{Serialize, de::DeserializeOwned};
use serde_json::json;

use crate::{
    cluster::{ZONES, kubernetes_section},
    control_plane::ControlPlane,
    harness::{Server, Setup, addresses, ask_at},
};

pub(crate) fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(default)
}

fn objects_per_kind() -> usize {
    env_or("KUBEZONE_BENCH_OBJECTS", 10_000)
}

/// Objects loaded while changes are measured, and how many changes.
fn loaded_and_changes() -> (usize, usize) {
    (
        env_or("KUBEZONE_BENCH_LOADED", 10_000).max(1),
        env_or("KUBEZONE_BENCH_CHANGES", 1_000).max(1),
    )
}

/// The address a change gives: never one the objects started with (10.x.y.z).
pub(crate) fn changed_address(change: usize) -> String {
    format!(
        "172.{}.{}.{}",
        16 + ((change >> 16) & 0x0f),
        (change >> 8) & 0xff,
        change & 0xff
    )
}

/// Polls `fqdn` over UDP every 0.5 ms until it answers exactly `ip`; the time since `start`.
pub(crate) fn until_answered(
    addr: std::net::SocketAddr,
    fqdn: &str,
    ip: &str,
    start: Instant,
) -> Duration {
    let deadline = start + Duration::from_secs(10);
    loop {
        if addresses(&ask_at(addr, fqdn, RecordType::A)) == [ip] {
            return start.elapsed();
        }
        assert!(Instant::now() < deadline, "{fqdn} never answered {ip}");
        std::thread::sleep(Duration::from_micros(500));
    }
}

pub(crate) fn print_latencies(what: &str, mut latencies: Vec<Duration>) {
    latencies.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "FIGURE change→answer, {what}: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms over {} changes",
        ms(percentile(&latencies, 0.5)),
        ms(percentile(&latencies, 0.99)),
        latencies.last().map_or(0.0, |d| ms(*d)),
        latencies.len(),
    );
}

pub(crate) fn address(i: usize) -> String {
    format!("10.{}.{}.{}", (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff)
}

pub(crate) fn service(ns: &str, name: &str, ip: &str) -> Service {
    serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": name, "namespace": ns},
        "spec": {
            "type": "LoadBalancer",
            "ports": [{"port": 443}],
            // 10,000 Services need more than the 2,768 node ports there are.
            "allocateLoadBalancerNodePorts": false
        },
        "status": {"loadBalancer": {"ingress": [{"ip": ip}]}}
    }))
    .expect("a Service")
}

pub(crate) fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS")
}

/// VmRSS once no reading has been lower for 15 s (at most 90 s): the allocator gives the pages
/// freed after start-up back within its decay time.
pub(crate) fn settled_rss_kib(pid: u32) -> u64 {
    let mut low = rss_kib(pid);
    let (mut since, mut waited) = (0, 0);
    while since < 15 && waited < 90 {
        std::thread::sleep(Duration::from_secs(1));
        waited += 1;
        let now = rss_kib(pid);
        if now < low {
            (low, since) = (now, 0);
        } else {
            since += 1;
        }
    }
    low
}

/// Creates each object, then gives it its `status` through the status subresource, as a cloud
/// controller would; 32 requests in flight.
pub(crate) async fn create_with_status<K>(api: Api<K>, objects: Vec<K>)
where
    K: kube::Resource + Clone + DeserializeOwned + Serialize + Debug + Send + Sync + 'static,
{
    let api = Arc::new(api);
    let limit = Arc::new(tokio::sync::Semaphore::new(32));
    let mut tasks = tokio::task::JoinSet::new();
    for object in objects {
        let api = api.clone();
        let permit = limit.clone().acquire_owned().await.expect("semaphore");
        tasks.spawn(async move {
            let name = object.meta().name.clone().unwrap_or_default();
            let status = json!({"status": serde_json::to_value(&object).expect("JSON")["status"]});
            api.create(&PostParams::default(), &object)
                .await
                .unwrap_or_else(|e| panic!("create {name}: {e}"));
            api.patch_status(&name, &PatchParams::default(), &Patch::Merge(&status))
                .await
                .unwrap_or_else(|e| panic!("status of {name}: {e}"));
            drop(permit);
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.expect("create task");
    }
}

fn ingress(ns: &str, i: usize) -> Ingress {
    serde_json::from_value(json!({
        "apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
        "metadata": {"name": format!("ing{i}"), "namespace": ns},
        "spec": {"rules": [{"host": format!("ing{i}.example.com")}]},
        "status": {"loadBalancer": {"ingress": [{"ip": address(i)}]}}
    }))
    .expect("an Ingress")
}

#[test]
#[ignore = "a measurement; bench/cluster.sh runs it"]
fn bench_change_to_answer_latency() {
    let (loaded, changes) = loaded_and_changes();
    let cp = ControlPlane::start();
    cp.grant_kubezone();
    cp.create_namespace("bench");
    let api: Api<Service> = Api::namespaced(cp.admin_client(), "bench");
    let services = (0..loaded)
        .map(|i| service("bench", &format!("svc{i}"), &address(i)))
        .collect();
    cp.block_on(create_with_status(api.clone(), services));
    let s = Server::start_with(Setup {
        zones: ZONES,
        extra: &kubernetes_section(&cp, &["bench"]),
        manifests: &[],
        ..Setup::default()
    });
    let last = format!("svc{}.bench.example.com.", loaded - 1);
    until_answered(s.addr, &last, &address(loaded - 1), Instant::now());

    let mut latencies = Vec::with_capacity(changes);
    for change in 0..changes {
        // Spread over the objects; a status change, as when a cloud assigns the address.
        let i = change.wrapping_mul(7919) % loaded;
        let name = format!("svc{i}");
        let ip = changed_address(change);
        let status = json!({"status": {"loadBalancer": {"ingress": [{"ip": ip}]}}});
        let start = Instant::now();
        cp.block_on(api.patch_status(&name, &PatchParams::default(), &Patch::Merge(&status)))
            .expect("status");
        latencies.push(until_answered(
            s.addr,
            &format!("{name}.bench.example.com."),
            &ip,
            start,
        ));
    }
    print_latencies(
        &format!("real kube-apiserver, {loaded} Services loaded, status PATCH to answer"),
        latencies,
    );
}

/// `count` LoadBalancer Services in namespace `bench`, as a manifest file.
fn services_file(first: usize, ips: &[String]) -> String {
    let mut text = String::new();
    for (k, ip) in ips.iter().enumerate() {
        let i = first + k;
        text.push_str(&format!(
            "---\napiVersion: v1\nkind: Service\nmetadata:\n  name: svc{i}\n  namespace: bench\n  labels:\n    app.kubernetes.io/name: svc{i}\nspec:\n  type: LoadBalancer\n  ports:\n  - name: https\n    port: 443\n    protocol: TCP\n    targetPort: 8443\nstatus:\n  loadBalancer:\n    ingress:\n    - ip: {ip}\n"
        ));
    }
    text
}

#[test]
#[ignore = "a measurement; bench/freshness.sh runs it"]
fn bench_manifests_change_to_answer_latency() {
    const PER_FILE: usize = 1_000;
    let (loaded, changes) = loaded_and_changes();
    let files = loaded.div_ceil(PER_FILE);
    let mut ips: Vec<Vec<String>> = (0..files)
        .map(|f| {
            (f * PER_FILE..loaded.min((f + 1) * PER_FILE))
                .map(address)
                .collect()
        })
        .collect();
    let texts: Vec<(String, String)> = ips
        .iter()
        .enumerate()
        .map(|(f, ips)| {
            (
                format!("services-{f:03}.yaml"),
                services_file(f * PER_FILE, ips),
            )
        })
        .collect();
    let refs: Vec<(&str, &str)> = texts
        .iter()
        .map(|(n, t)| (n.as_str(), t.as_str()))
        .collect();
    let s = Server::start_with(Setup {
        zones: ZONES,
        extra: "",
        manifests: &refs,
        ..Setup::default()
    });
    let last = format!("svc{}.bench.example.com.", loaded - 1);
    until_answered(s.addr, &last, &address(loaded - 1), Instant::now());

    let mut latencies = Vec::with_capacity(changes);
    for change in 0..changes {
        let i = change.wrapping_mul(7919) % loaded;
        let (f, k) = (i / PER_FILE, i % PER_FILE);
        let ip = changed_address(change);
        ips[f][k] = ip.clone();
        let text = services_file(f * PER_FILE, &ips[f]);
        // The clock includes writing the file: an editor's save or a ConfigMap update.
        let start = Instant::now();
        s.write_manifest(&format!("services-{f:03}.yaml"), &text);
        latencies.push(until_answered(
            s.addr,
            &format!("svc{i}.bench.example.com."),
            &ip,
            start,
        ));
    }
    print_latencies(
        &format!(
            "manifests folder, {loaded} Services loaded ({PER_FILE} per file), one file rewritten (write aside + rename) to answer"
        ),
        latencies,
    );
}

#[test]
#[ignore = "a measurement; bench/cluster.sh runs it"]
fn bench_ready_time_and_memory() {
    let n = objects_per_kind();
    let cp = ControlPlane::start();
    cp.grant_kubezone();
    cp.create_namespace("bench");
    cp.create_namespace("empty");
    let created = Instant::now();
    let services = (0..n)
        .map(|i| service("bench", &format!("svc{i}"), &address(i)))
        .collect();
    let ingresses = (0..n).map(|i| ingress("bench", i)).collect();
    cp.block_on(create_with_status(
        Api::<Service>::namespaced(cp.admin_client(), "bench"),
        services,
    ));
    cp.block_on(create_with_status(
        Api::<Ingress>::namespaced(cp.admin_client(), "bench"),
        ingresses,
    ));
    println!(
        "created {n} Services and {n} Ingresses in {:.1} s",
        created.elapsed().as_secs_f64()
    );

    let start_and_wait = |namespace: &str, probes: &[(String, String)]| {
        let started = Instant::now();
        let s = Server::spawn(Setup {
            zones: ZONES,
            extra: &kubernetes_section(&cp, &[namespace]),
            manifests: &[],
            ..Setup::default()
        });
        s.wait_until_ready_within(Duration::from_secs(300));
        let ready = started.elapsed();
        for (name, ip) in probes {
            assert_eq!(
                addresses(&ask_at(s.addr, name, RecordType::A)),
                std::slice::from_ref(ip),
                "{name}"
            );
        }
        let rss = settled_rss_kib(s.pid());
        (ready, rss)
    };
    let (_, empty_rss) = start_and_wait("empty", &[]);
    let (ready, rss) = start_and_wait(
        "bench",
        &[
            (format!("svc{}.bench.example.com.", n - 1), address(n - 1)),
            (format!("ing{}.example.com.", n - 1), address(n - 1)),
        ],
    );
    let per_object = (rss.saturating_sub(empty_rss) as f64 * 1024.0) / (2 * n) as f64;
    println!(
        "FIGURE {n} LoadBalancer Services + {n} Ingresses from the real kube-apiserver: ready in {:.2} s, RSS {:.1} MiB (empty: {:.1} MiB), {:.0} bytes per object",
        ready.as_secs_f64(),
        rss as f64 / 1024.0,
        empty_rss as f64 / 1024.0,
        per_object
    );
}
