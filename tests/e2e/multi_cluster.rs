//! Several clusters (issue 16, `docs/multi-cluster.md`): two real control planes, kubezone
//! watching both; per-cluster names, a global Service merging both clusters' addresses,
//! local-first by client address and by EDNS Client Subnet, failover to the other cluster, and
//! a lost cluster served until `staleAfter`, then left out of the global name until it is back.

use std::time::{Duration, Instant};

use hickory_proto::rr::RecordType;

use crate::{
    cluster::{answers, cluster, load_balancer_status, nxdomain},
    control_plane::ControlPlane,
    dig::tool,
    harness::{Server, Setup, metric_sum},
};

/// A second cluster of its own for each test: tests stop its API server.
fn west() -> ControlPlane {
    let cp = ControlPlane::start();
    cp.grant_kubezone();
    cp
}

/// kubezone over both clusters, each limited to `ns`; clients from 127.0.0.2 belong to east,
/// from 127.0.0.3 to west.
fn kubezone(east: &ControlPlane, west: &ControlPlane, ns: &str, west_stale_after: &str) -> Server {
    let extra = format!(
        "http: {{listen: \"127.0.0.1:0\"}}\n\
         clusters:\n\
         \x20 - name: east\n    kubeconfig: {}\n    namespaces: [{ns}]\n    clients: [127.0.0.2/32]\n\
         \x20 - name: west\n    kubeconfig: {}\n    namespaces: [{ns}]\n    clients: [127.0.0.3/32]\n    staleAfter: {west_stale_after}\n",
        east.kubezone_kubeconfig().display(),
        west.kubezone_kubeconfig().display(),
    );
    Server::start_with(Setup {
        zones: "  - zone: example.com\n    global: {preference: local-first}\n",
        extra: &extra,
        manifests: &[],
        ..Setup::default()
    })
}

fn service(ns: &str, name: &str, global: bool) -> String {
    let labels = if global {
        ", labels: {kubezone.io/global: \"true\"}"
    } else {
        ""
    };
    format!(
        "apiVersion: v1\nkind: Service\nmetadata: {{name: {name}, namespace: {ns}{labels}}}\nspec:\n  type: LoadBalancer\n  ports: [{{port: 443}}]\n"
    )
}

/// The A records `dig` gets for `name` with `options` (a source address, a client subnet),
/// sorted; waits until they are `expected`.
fn eventually_dig(s: &Server, options: &[&str], name: &str, expected: &[&str]) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let mut args: Vec<&str> = options.to_vec();
        args.extend([name, "A"]);
        let out = tool("dig", s, &args);
        let mut got: Vec<&str> = out
            .lines()
            .filter(|l| l.contains(" IN A "))
            .filter_map(|l| l.split(' ').next_back())
            .collect();
        got.sort_unstable();
        if got == expected {
            return out;
        }
        assert!(
            Instant::now() < deadline,
            "dig {options:?} {name}: {got:?}, expected {expected:?}\n{out}\n{}",
            s.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_global_service_merges_both_clusters_and_each_client_gets_its_own_first() {
    let east = cluster();
    let west = west();
    let ns = east.fresh_namespace("global");
    west.create_namespace(&ns);
    let s = kubezone(east, &west, &ns, "5m");

    for (cp, ip, api) in [
        (east, "192.0.2.1", "192.0.2.100"),
        (&west, "198.51.100.1", "198.51.100.100"),
    ] {
        cp.apply_yaml(&service(&ns, "web", true));
        cp.apply_status_yaml(&load_balancer_status(&ns, "web", &[ip]));
        cp.apply_yaml(&service(&ns, "api", false));
        cp.apply_status_yaml(&load_balancer_status(&ns, "api", &[api]));
    }
    // Each cluster's instance on its own name.
    s.eventually(
        &format!("web.{ns}.east.example.com."),
        RecordType::A,
        answers(&["192.0.2.1"]),
    );
    s.eventually(
        &format!("web.{ns}.west.example.com."),
        RecordType::A,
        answers(&["198.51.100.1"]),
    );
    s.eventually(
        &format!("api.{ns}.west.example.com."),
        RecordType::A,
        answers(&["198.51.100.100"]),
    );
    // The global name merges both for a client of neither cluster (there is no localCluster);
    // a Service that is not global has no name without its cluster.
    let global = format!("web.{ns}.example.com.");
    s.eventually(
        &global,
        RecordType::A,
        answers(&["192.0.2.1", "198.51.100.1"]),
    );
    s.eventually(&format!("api.{ns}.example.com."), RecordType::A, nxdomain);

    // Local-first by source address.
    eventually_dig(&s, &["-b", "127.0.0.2"], &global, &["192.0.2.1"]);
    eventually_dig(&s, &["-b", "127.0.0.3"], &global, &["198.51.100.1"]);
    // And by EDNS Client Subnet, whose scope in the reply covers the matched network.
    let out = eventually_dig(&s, &["+subnet=127.0.0.3/32"], &global, &["198.51.100.1"]);
    assert!(out.contains("CLIENT-SUBNET: 127.0.0.3/32/32"), "{out}");
    let out = eventually_dig(&s, &["+subnet=127.0.0.2/32"], &global, &["192.0.2.1"]);
    assert!(out.contains("CLIENT-SUBNET: 127.0.0.2/32/32"), "{out}");
    // A name that does not depend on the client says so with scope 0.
    let out = tool(
        "dig",
        &s,
        &[
            "+subnet=127.0.0.3/32",
            &format!("api.{ns}.east.example.com."),
            "A",
        ],
    );
    assert!(out.contains("CLIENT-SUBNET: 127.0.0.3/32/0"), "{out}");

    // East loses its load balancer: its clients fail over to west, and come back.
    east.apply_status_yaml(&load_balancer_status(&ns, "web", &[]));
    eventually_dig(&s, &["-b", "127.0.0.2"], &global, &["198.51.100.1"]);
    s.eventually(&global, RecordType::A, answers(&["198.51.100.1"]));
    east.apply_status_yaml(&load_balancer_status(&ns, "web", &["192.0.2.1"]));
    eventually_dig(&s, &["-b", "127.0.0.2"], &global, &["192.0.2.1"]);

    // explain says which cluster a client gets, and why.
    let (code, text) = s.http_get(&format!("/debug/explain?name={global}&client=127.0.0.3"));
    assert_eq!(code, 200, "{text}");
    assert!(text.contains("west"), "{text}");
}

#[test]
fn a_lost_cluster_is_served_until_stale_after_then_leaves_the_global_name() {
    let east = cluster();
    let west = west();
    let ns = east.fresh_namespace("stale");
    west.create_namespace(&ns);
    let s = kubezone(east, &west, &ns, "4s");
    for (cp, ip) in [(east, "192.0.2.2"), (&west, "198.51.100.2")] {
        cp.apply_yaml(&service(&ns, "web", true));
        cp.apply_status_yaml(&load_balancer_status(&ns, "web", &[ip]));
    }
    let global = format!("web.{ns}.example.com.");
    let west_name = format!("web.{ns}.west.example.com.");
    s.eventually(
        &global,
        RecordType::A,
        answers(&["192.0.2.2", "198.51.100.2"]),
    );

    west.stop_apiserver();
    let lost = Instant::now();
    // Out of reach, west's targets stay until staleAfter; then only east's remain.
    s.eventually_within(
        Duration::from_secs(40),
        &global,
        RecordType::A,
        answers(&["192.0.2.2"]),
    );
    assert!(
        lost.elapsed() >= Duration::from_secs(4),
        "left after {:?}, before staleAfter",
        lost.elapsed()
    );
    let (code, detail) = s.http_get("/readyz?verbose");
    assert_eq!(
        code, 200,
        "one remote cluster down never makes kubezone unready: {detail}"
    );
    assert!(detail.contains("cluster west: out of reach"), "{detail}");
    let (_, metrics) = s.http_get("/metrics");
    assert_eq!(
        metric_sum(&metrics, "kubezone_cluster_stale{cluster=\"west\"}"),
        1.0,
        "{metrics}"
    );
    assert_eq!(
        metric_sum(&metrics, "kubezone_cluster_up{cluster=\"east\"}"),
        1.0,
        "{metrics}"
    );
    // West's own name keeps its last known records; east never stopped answering.
    s.eventually(&west_name, RecordType::A, answers(&["198.51.100.2"]));
    s.eventually(
        &format!("web.{ns}.east.example.com."),
        RecordType::A,
        answers(&["192.0.2.2"]),
    );

    west.start_apiserver();
    // A watch that resumes without an event counts as answering after 15 s of quiet.
    s.eventually_within(
        Duration::from_secs(60),
        &global,
        RecordType::A,
        answers(&["192.0.2.2", "198.51.100.2"]),
    );
    let (_, metrics) = s.http_get("/metrics");
    assert_eq!(
        metric_sum(&metrics, "kubezone_cluster_stale{cluster=\"west\"}"),
        0.0,
        "{metrics}"
    );
}
