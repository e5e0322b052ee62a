//! Figures for Services that answer with their endpoints, against the real kube-apiserver:
//! EndpointSlice readiness churn beside the same churn of LoadBalancer Service statuses (change
//! → answer and the server's CPU), and the memory per watched EndpointSlice and Node. Ignored
//! in the normal run; `bench/endpoints.sh` runs them in release mode and prints the figures.

use std::{
    collections::BTreeSet,
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use hickory_proto::rr::RecordType;
use k8s_openapi::api::{
    core::v1::{Node, Service},
    discovery::v1::EndpointSlice,
};
use kube::api::{Api, Patch, PatchParams, PostParams};
use serde_json::json;

use crate::{
    cluster::kubernetes_section,
    cluster_bench::{
        address, changed_address, create_with_status, env_or, percentile, service, settled_rss_kib,
    },
    control_plane::ControlPlane,
    harness::{Server, Setup, addresses, ask_at},
};

const ZONE: &str = "  - zone: example.com\n    glue: [\"192.0.2.53\"]\n";
/// Nodes in the churn test; every NodePort Service has one endpoint on each of `PER_SERVICE`.
const NODES: usize = 100;
const PER_SERVICE: usize = 20;

fn node_ip(i: usize) -> String {
    format!("198.18.{}.{}", i / 250, i % 250 + 1)
}

/// A Node as a kubelet reports it, with the images and system info that make real Node
/// objects large (what kubezone drops on arrival).
fn node(i: usize) -> Node {
    let images: Vec<serde_json::Value> = (0..40)
        .map(|k| {
            json!({"names": [format!("registry.example/team{k}/app@sha256:{:064x}", i * 100 + k),
                             format!("registry.example/team{k}/app:v{k}")],
                   "sizeBytes": 123_456_789 + k})
        })
        .collect();
    let condition = |t: &str, status: &str, reason: &str| {
        json!({"type": t, "status": status, "reason": reason,
               "lastHeartbeatTime": "2026-01-01T00:00:00Z",
               "lastTransitionTime": "2026-01-01T00:00:00Z"})
    };
    let conditions = vec![
        condition("MemoryPressure", "False", "KubeletHasSufficientMemory"),
        condition("DiskPressure", "False", "KubeletHasNoDiskPressure"),
        condition("PIDPressure", "False", "KubeletHasSufficientPID"),
        condition("Ready", "True", "KubeletReady"),
    ];
    serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": format!("bench-n{i}"),
                     "labels": {"kubernetes.io/hostname": format!("bench-n{i}"), "kubernetes.io/os": "linux"}},
        "spec": {"podCIDR": format!("10.244.{}.0/24", i % 250)},
        "status": {
            "addresses": [
                {"type": "InternalIP", "address": format!("192.168.{}.{}", i / 250, i % 250 + 1)},
                {"type": "ExternalIP", "address": node_ip(i)},
                {"type": "Hostname", "address": format!("bench-n{i}")}
            ],
            "conditions": conditions,
            "images": images,
            "nodeInfo": {"architecture": "amd64", "bootID": "b", "containerRuntimeVersion": "containerd://1.7",
                         "kernelVersion": "6.8.0", "kubeProxyVersion": "v1.33.1", "kubeletVersion": "v1.33.1",
                         "machineID": "m", "operatingSystem": "linux", "osImage": "Debian", "systemUUID": "u"}
        }
    }))
    .expect("a Node")
}

fn node_port_service(ns: &str, s: usize) -> Service {
    serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": format!("np{s}"), "namespace": ns,
                     "annotations": {"external-dns.alpha.kubernetes.io/hostname": format!("np{s}.example.com")}},
        "spec": {"type": "NodePort", "externalTrafficPolicy": "Local",
                 "ports": [{"name": "http", "port": 80}]},
        "status": {}
    }))
    .expect("a Service")
}

/// The endpoints of Service `s`: endpoint `k` runs on node `(s + k) % NODES`.
fn endpoints(s: usize, ready: &[bool]) -> serde_json::Value {
    ready
        .iter()
        .enumerate()
        .map(|(k, ready)| {
            json!({
                "addresses": [format!("10.{}.{}.{}", 100 + s / 250, s % 250, k + 1)],
                "conditions": {"ready": ready, "serving": ready, "terminating": false},
                "nodeName": format!("bench-n{}", (s + k) % NODES),
                "targetRef": {"kind": "Pod", "namespace": "churn", "name": format!("np{s}-{k}")}
            })
        })
        .collect()
}

fn slice(ns: &str, s: usize, ready: &[bool]) -> EndpointSlice {
    serde_json::from_value(json!({
        "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
        "metadata": {"name": format!("np{s}-abcde"), "namespace": ns,
                     "labels": {"kubernetes.io/service-name": format!("np{s}"),
                                "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io"}},
        "addressType": "IPv4",
        "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
        "endpoints": endpoints(s, ready)
    }))
    .expect("an EndpointSlice")
}

/// The node addresses Service `s` answers with when `ready` says which endpoints are.
fn expected(s: usize, ready: &[bool]) -> Vec<String> {
    let set: BTreeSet<String> = ready
        .iter()
        .enumerate()
        .filter(|(_, r)| **r)
        .map(|(k, _)| node_ip((s + k) % NODES))
        .collect();
    let mut v: Vec<String> = set.into_iter().collect();
    v.sort();
    v
}

/// CPU seconds (user + system) the process has used.
pub(crate) fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("proc stat");
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or_default();
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 =
        fields[11].parse::<f64>().expect("utime") + fields[12].parse::<f64>().expect("stime");
    ticks / clock_ticks()
}

fn clock_ticks() -> f64 {
    let out = std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .expect("getconf");
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or(100.0)
}

/// Queries the polls sent, so a figure can say how much of the server's CPU answered them.
static POLLS: AtomicUsize = AtomicUsize::new(0);

/// Polls `name` every 0.5 ms until its addresses are `expected`; the time since `start`.
fn until(addr: SocketAddr, name: &str, expected: &[String], start: Instant) -> Duration {
    let deadline = start + Duration::from_secs(20);
    loop {
        POLLS.fetch_add(1, Ordering::Relaxed);
        if addresses(&ask_at(addr, name, RecordType::A)) == expected {
            return start.elapsed();
        }
        assert!(
            Instant::now() < deadline,
            "{name} never answered {expected:?}"
        );
        std::thread::sleep(Duration::from_micros(500));
    }
}

/// What one churn run measured.
struct Churn {
    latencies: Vec<Duration>,
    cpu: f64,
    wall: Duration,
    /// Queries the latency polls sent, which the server's CPU also answered.
    polls: usize,
}

impl Churn {
    fn print(mut self, what: &str) {
        self.latencies.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        let n = self.latencies.len();
        println!(
            "FIGURE {what}: {n} changes in {:.1} s ({:.0}/s); change→answer p50 {:.1} ms, p99 {:.1} ms; server CPU {:.2} s ({:.1}% of a core, {:.0} µs per change, including {} polling queries)",
            self.wall.as_secs_f64(),
            n as f64 / self.wall.as_secs_f64(),
            ms(percentile(&self.latencies, 0.5)),
            ms(percentile(&self.latencies, 0.99)),
            self.cpu,
            100.0 * self.cpu / self.wall.as_secs_f64(),
            1e6 * self.cpu / n as f64,
            self.polls,
        );
    }
}

/// Sends `changes` changes at `rate` per second: `change(i)` makes the API request and says
/// which name must then answer what. Each change is timed from just before its request to
/// the first answer that shows it.
fn churn<F, Fut>(cp: &ControlPlane, s: &Server, changes: usize, rate: usize, change: F) -> Churn
where
    F: Fn(usize) -> (Fut, String, Vec<String>) + Sync,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let addr = s.addr;
    let pid = s.pid();
    let cpu0 = cpu_seconds(pid);
    let polls0 = POLLS.load(Ordering::Relaxed);
    let started = Instant::now();
    let latencies = cp.block_on(async {
        let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / rate as f64));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..changes {
            tick.tick().await;
            let (request, name, expected) = change(i);
            tasks.spawn(async move {
                let start = Instant::now();
                request.await;
                tokio::task::spawn_blocking(move || until(addr, &name, &expected, start))
                    .await
                    .expect("poll")
            });
        }
        let mut latencies = Vec::with_capacity(changes);
        while let Some(done) = tasks.join_next().await {
            latencies.push(done.expect("change task"));
        }
        latencies
    });
    Churn {
        latencies,
        cpu: cpu_seconds(pid) - cpu0,
        wall: started.elapsed(),
        polls: POLLS.load(Ordering::Relaxed) - polls0,
    }
}

#[test]
#[ignore = "a measurement; bench/endpoints.sh runs it"]
fn bench_endpoint_slice_churn_beside_load_balancer_churn() {
    let rate = env_or("KUBEZONE_BENCH_RATE", 200).max(1);
    let seconds = env_or("KUBEZONE_BENCH_SECONDS", 60).max(1);
    let endpoints_total = env_or("KUBEZONE_BENCH_ENDPOINTS", 10_000).max(PER_SERVICE);
    let services = endpoints_total / PER_SERVICE;
    let changes = rate * seconds;
    let cp = ControlPlane::start();
    cp.grant_kubezone();
    cp.create_namespace("churn");
    cp.create_namespace("lb");
    cp.block_on(create_with_status(
        Api::<Node>::all(cp.admin_client()),
        (0..NODES).map(node).collect(),
    ));
    let svc_api: Api<Service> = Api::namespaced(cp.admin_client(), "churn");
    let slice_api: Api<EndpointSlice> = Api::namespaced(cp.admin_client(), "churn");
    cp.block_on(async {
        for s in 0..services {
            svc_api
                .create(&PostParams::default(), &node_port_service("churn", s))
                .await
                .expect("Service");
            slice_api
                .create(
                    &PostParams::default(),
                    &slice("churn", s, &[true; PER_SERVICE]),
                )
                .await
                .expect("EndpointSlice");
        }
    });
    let lb_api: Api<Service> = Api::namespaced(cp.admin_client(), "lb");
    cp.block_on(create_with_status(
        lb_api.clone(),
        (0..endpoints_total)
            .map(|i| service("lb", &format!("svc{i}"), &address(i)))
            .collect(),
    ));

    // EndpointSlices: change i flips one endpoint of Service i % services, so a Service is
    // changed again only after every other one was.
    let s = Server::start_with(Setup {
        zones: ZONE,
        extra: &kubernetes_section(&cp, &["churn"]),
        manifests: &[],
        ..Setup::default()
    });
    let last = services - 1;
    until(
        s.addr,
        &format!("np{last}.example.com."),
        &expected(last, &[true; PER_SERVICE]),
        Instant::now(),
    );
    let state = std::sync::Mutex::new(vec![[true; PER_SERVICE]; services]);
    let slice_api = Arc::new(slice_api);
    let result = churn(&cp, &s, changes, rate, |i| {
        let svc = i % services;
        let k = (i / services) % PER_SERVICE;
        let ready = {
            let mut state = state.lock().expect("state");
            state[svc][k] = !state[svc][k];
            state[svc]
        };
        let api = slice_api.clone();
        let patch = json!({"endpoints": endpoints(svc, &ready)});
        let request = async move {
            api.patch(
                &format!("np{svc}-abcde"),
                &PatchParams::default(),
                &Patch::Merge(&patch),
            )
            .await
            .expect("patch EndpointSlice");
        };
        (
            request,
            format!("np{svc}.example.com."),
            expected(svc, &ready),
        )
    });
    result.print(&format!(
        "EndpointSlice readiness flips, {endpoints_total} endpoints in {services} NodePort Services (Local) on {NODES} Nodes, {rate}/s"
    ));
    drop(s);

    // The same rate of status changes of plain LoadBalancer Services, as many as endpoints.
    let s = Server::start_with(Setup {
        zones: ZONE,
        extra: &kubernetes_section(&cp, &["lb"]),
        manifests: &[],
        ..Setup::default()
    });
    until(
        s.addr,
        &format!("svc{}.lb.example.com.", endpoints_total - 1),
        &[address(endpoints_total - 1)],
        Instant::now(),
    );
    let lb_api = Arc::new(lb_api);
    let result = churn(&cp, &s, changes, rate, |i| {
        let n = i.wrapping_mul(7919) % endpoints_total;
        let ip = changed_address(i);
        let api = lb_api.clone();
        let status = json!({"status": {"loadBalancer": {"ingress": [{"ip": ip}]}}});
        let request = async move {
            api.patch_status(
                &format!("svc{n}"),
                &PatchParams::default(),
                &Patch::Merge(&status),
            )
            .await
            .expect("patch status");
        };
        (request, format!("svc{n}.lb.example.com."), vec![ip])
    });
    result.print(&format!(
        "LoadBalancer Service status changes, {endpoints_total} Services, {rate}/s"
    ));
}

#[test]
#[ignore = "a measurement; bench/endpoints.sh runs it"]
fn bench_memory_per_endpoint_slice_and_node() {
    let nodes = env_or("KUBEZONE_BENCH_NODES", 1_000);
    let slices = env_or("KUBEZONE_BENCH_SLICES", 10_000);
    let cp = ControlPlane::start();
    cp.grant_kubezone();
    cp.create_namespace("slices");
    cp.create_namespace("empty");
    let measure = |namespace: &str| {
        let s = Server::spawn(Setup {
            zones: ZONE,
            extra: &kubernetes_section(&cp, &[namespace]),
            manifests: &[],
            ..Setup::default()
        });
        s.wait_until_ready_within(Duration::from_secs(300));
        settled_rss_kib(s.pid())
    };
    let empty = measure("empty");
    cp.block_on(create_with_status(
        Api::<Node>::all(cp.admin_client()),
        (0..nodes).map(node).collect(),
    ));
    let with_nodes = measure("empty");
    let api: Api<EndpointSlice> = Api::namespaced(cp.admin_client(), "slices");
    cp.block_on(async {
        let api = Arc::new(api);
        let limit = Arc::new(tokio::sync::Semaphore::new(32));
        let mut tasks = tokio::task::JoinSet::new();
        for s in 0..slices {
            let api = api.clone();
            let permit = limit.clone().acquire_owned().await.expect("semaphore");
            tasks.spawn(async move {
                // 10 endpoints each, as a typical Deployment's slice.
                let mut object = slice("slices", s, &[true; 10]);
                object.endpoints.iter_mut().for_each(|e| {
                    if let Some(t) = e.target_ref.as_mut() {
                        t.namespace = Some("slices".into());
                    }
                });
                api.create(&PostParams::default(), &object)
                    .await
                    .expect("EndpointSlice");
                drop(permit);
            });
        }
        while let Some(done) = tasks.join_next().await {
            done.expect("create");
        }
    });
    let with_slices = measure("slices");
    let kib = |a: u64, b: u64| a.saturating_sub(b) as f64 * 1024.0;
    println!(
        "FIGURE memory: empty {:.1} MiB; {nodes} Nodes (40 images each) {:.1} MiB, {:.0} bytes per Node; {slices} EndpointSlices of 10 endpoints {:.1} MiB, {:.0} bytes per EndpointSlice",
        empty as f64 / 1024.0,
        with_nodes as f64 / 1024.0,
        kib(with_nodes, empty) / nodes.max(1) as f64,
        with_slices as f64 / 1024.0,
        kib(with_slices, with_nodes) / slices.max(1) as f64,
    );
}
