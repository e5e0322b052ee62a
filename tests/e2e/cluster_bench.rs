//! Figures measured against the real kube-apiserver: change → answer latency, and time to ready
//! and memory with many objects. Ignored in the normal run; `bench/cluster.sh` runs them in
//! release mode and prints the figures.

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

fn objects_per_kind() -> usize {
    std::env::var("KUBEZONE_BENCH_OBJECTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(10_000)
}

fn address(i: usize) -> String {
    format!("10.{}.{}.{}", (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff)
}

fn service(ns: &str, name: &str, ip: &str) -> Service {
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

fn percentile(sorted: &[Duration], p: f64) -> Duration {
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

/// Creates each object, then gives it its `status` through the status subresource, as a cloud
/// controller would; 32 requests in flight.
async fn create_with_status<K>(api: Api<K>, objects: Vec<K>)
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
    let changes = 200;
    let cp = ControlPlane::start();
    cp.grant_kubezone();
    cp.create_namespace("bench");
    let s = Server::start_with(Setup {
        zones: ZONES,
        extra: &kubernetes_section(&cp, &["bench"]),
        manifests: &[],
    });
    let api: Api<Service> = Api::namespaced(cp.admin_client(), "bench");
    let mut latencies = Vec::new();
    for i in 0..changes {
        let name = format!("svc{i}");
        let fqdn = format!("{name}.bench.example.com.");
        let ip = address(i);
        let object = service("bench", &name, &ip);
        // An ExternalIPs-free LoadBalancer Service gets its address in status: the change that
        // matters is the status one, as when a cloud assigns the address.
        cp.block_on(api.create(&PostParams::default(), &object))
            .expect("create");
        let status = json!({"status": object.status});
        let start = Instant::now();
        cp.block_on(api.patch_status(&name, &PatchParams::default(), &Patch::Merge(&status)))
            .expect("status");
        let deadline = start + Duration::from_secs(10);
        loop {
            if addresses(&ask_at(s.addr, &fqdn, RecordType::A)) == [ip.clone()] {
                latencies.push(start.elapsed());
                break;
            }
            assert!(Instant::now() < deadline, "{fqdn} never answered {ip}");
            std::thread::sleep(Duration::from_micros(500));
        }
    }
    latencies.sort();
    println!(
        "FIGURE change→answer over {changes} status changes (real kube-apiserver): p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        percentile(&latencies, 0.5).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
        latencies.last().map_or(0.0, |d| d.as_secs_f64() * 1e3),
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
        // Let allocator caches settle before reading RSS.
        std::thread::sleep(Duration::from_secs(2));
        let rss = rss_kib(s.pid());
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
