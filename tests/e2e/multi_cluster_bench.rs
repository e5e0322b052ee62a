//! Figures for several clusters (issue 16), against two real kube-apiservers: time to ready and
//! memory with 10,000 Services in each cluster (half of them global, local-first), change →
//! answer in each cluster, and the server's CPU per query for a global name beside a plain one.
//! Ignored in the normal run; `bench/multi-cluster.sh` runs it in release mode and prints the
//! figures.

use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Service;
use kube::api::{Api, Patch, PatchParams};
use serde_json::json;

use crate::{
    cluster_bench::{
        changed_address, create_with_status, env_or, print_latencies, settled_rss_kib,
        until_answered,
    },
    control_plane::ControlPlane,
    endpoints_bench::cpu_seconds,
    harness::{Server, Setup},
    soak::dnsperf,
};

const CLUSTERS: [&str; 2] = ["east", "west"];

/// Service `i`'s address in cluster `c`: never one a change gives (172.16–31.x.y).
fn address(c: usize, i: usize) -> String {
    format!(
        "10.{}.{}.{}",
        c * 64 + ((i >> 16) & 0x3f),
        (i >> 8) & 0xff,
        i & 0xff
    )
}

/// Even Services are global.
fn service(c: usize, i: usize) -> Service {
    let labels = if i.is_multiple_of(2) {
        json!({"kubezone.io/global": "true"})
    } else {
        json!({})
    };
    serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": format!("svc{i}"), "namespace": "bench", "labels": labels},
        "spec": {"type": "LoadBalancer", "ports": [{"port": 443}], "allocateLoadBalancerNodePorts": false},
        "status": {"loadBalancer": {"ingress": [{"ip": address(c, i)}]}}
    }))
    .expect("a Service")
}

fn config(planes: &[ControlPlane], namespace: &str) -> String {
    let mut out = String::from("localCluster: east\nclusters:\n");
    for (c, cp) in planes.iter().enumerate() {
        out.push_str(&format!(
            "  - name: {}\n    kubeconfig: {}\n    namespaces: [{namespace}]\n    clients: [127.0.0.{}/32]\n",
            CLUSTERS[c],
            cp.kubezone_kubeconfig().display(),
            c + 2
        ));
    }
    out
}

const ZONES: &str =
    "  - zone: example.com\n    glue: [\"192.0.2.53\"]\n    global: {preference: local-first}\n";

#[test]
#[ignore = "a measurement; bench/multi-cluster.sh runs it"]
fn bench_two_clusters() {
    let n = env_or("KUBEZONE_BENCH_OBJECTS", 10_000);
    let changes = env_or("KUBEZONE_BENCH_CHANGES", 200);
    let seconds = env_or("KUBEZONE_BENCH_SECONDS", 10) as u64;
    let planes: Vec<ControlPlane> = CLUSTERS
        .iter()
        .map(|_| {
            let cp = ControlPlane::start();
            cp.grant_kubezone();
            cp.create_namespace("bench");
            cp.create_namespace("empty");
            cp
        })
        .collect();
    for (c, cp) in planes.iter().enumerate() {
        let services = (0..n).map(|i| service(c, i)).collect();
        cp.block_on(create_with_status(
            Api::<Service>::namespaced(cp.admin_client(), "bench"),
            services,
        ));
    }
    println!("created {n} Services in each of 2 clusters");

    let start = |namespace: &str| {
        let started = Instant::now();
        let s = Server::spawn(Setup {
            zones: ZONES,
            extra: &config(&planes, namespace),
            manifests: &[],
            ..Setup::default()
        });
        s.wait_until_ready_within(Duration::from_secs(300));
        (s, started.elapsed())
    };
    let (empty, _) = start("empty");
    let empty_rss = settled_rss_kib(empty.pid());
    drop(empty);
    let (s, ready) = start("bench");
    for (c, cluster) in CLUSTERS.iter().enumerate() {
        let name = format!("svc{}.bench.{cluster}.example.com.", n - 1);
        until_answered(s.addr, &name, &address(c, n - 1), Instant::now());
    }
    let rss = settled_rss_kib(s.pid());
    println!(
        "FIGURE 2 clusters × {n} LoadBalancer Services ({} of each global, local-first): ready in {:.2} s, RSS {:.1} MiB (empty: {:.1} MiB), {:.0} bytes per Service",
        n.div_ceil(2),
        ready.as_secs_f64(),
        rss as f64 / 1024.0,
        empty_rss as f64 / 1024.0,
        (rss.saturating_sub(empty_rss) as f64 * 1024.0) / (2 * n) as f64
    );

    for (c, cp) in planes.iter().enumerate() {
        let api: Api<Service> = Api::namespaced(cp.admin_client(), "bench");
        let mut latencies = Vec::with_capacity(changes);
        for change in 0..changes {
            let i = change.wrapping_mul(7919) % n;
            let ip = changed_address(c * changes + change);
            let status = json!({"status": {"loadBalancer": {"ingress": [{"ip": ip}]}}});
            let begin = Instant::now();
            cp.block_on(api.patch_status(
                &format!("svc{i}"),
                &PatchParams::default(),
                &Patch::Merge(&status),
            ))
            .expect("status");
            let name = format!("svc{i}.bench.{}.example.com.", CLUSTERS[c]);
            latencies.push(until_answered(s.addr, &name, &ip, begin));
        }
        print_latencies(
            &format!(
                "cluster {} of 2, {n} Services each, status PATCH to answer",
                CLUSTERS[c]
            ),
            latencies,
        );
    }

    // Query CPU: a global local-first name (a client of east, by localCluster) beside a plain one.
    let dir = tempfile::tempdir().expect("tempdir");
    let mut per_query = Vec::new();
    for (what, name) in [
        ("global, local-first", "svc2.bench.example.com."),
        ("plain", "svc3.bench.east.example.com."),
    ] {
        let before = cpu_seconds(s.pid());
        let run = dnsperf(s.addr, &[name.to_string()], seconds, dir.path());
        let used = cpu_seconds(s.pid()) - before;
        let micros = used * 1e6 / run.completed.max(1) as f64;
        println!(
            "FIGURE query CPU, {what} name: {micros:.2} µs per query ({} queries, {:.0} q/s, {} lost)",
            run.completed, run.qps, run.lost
        );
        per_query.push(micros);
    }
    println!(
        "FIGURE query CPU, global ÷ plain: {:.2}",
        per_query[0] / per_query[1]
    );
}
