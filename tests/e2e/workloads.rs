//! Services that answer with what runs them — NodePort Services with the nodes of their ready
//! endpoints, kuberoute's failover under a quota, headless Services with their pods — through
//! the manifests folder and through a real kube-apiserver, where the test plays the kubelet and
//! the EndpointSlice controller by writing Node status and EndpointSlices itself.

use hickory_proto::{
    op::Message,
    rr::{RData, RecordType},
};

use crate::{
    cluster::{cluster, kubezone},
    harness::{Server, Setup, addresses},
};

const ZONE: &str = "  - zone: example.com\n    glue: [\"192.0.2.53\"]\n";
const HTTP: &str = "http: {listen: \"127.0.0.1:0\"}\n";

fn node(name: &str, ready: bool, internal: &str, external: &str) -> String {
    let ready = if ready { "True" } else { "False" };
    format!(
        "apiVersion: v1\nkind: Node\nmetadata: {{name: {name}}}\nstatus:\n  conditions: [{{type: Ready, status: \"{ready}\"}}]\n  addresses:\n  - {{type: InternalIP, address: \"{internal}\"}}\n  - {{type: ExternalIP, address: \"{external}\"}}\n"
    )
}

/// An EndpointSlice of Service `ns/service`; each endpoint is (address, ready, node, hostname).
fn slice(ns: &str, service: &str, endpoints: &[(&str, bool, &str, Option<&str>)]) -> String {
    let items: Vec<String> = endpoints
        .iter()
        .map(|(address, ready, node, hostname)| {
            let hostname = hostname
                .map(|h| format!(", hostname: {h}"))
                .unwrap_or_default();
            format!(
                "- {{addresses: [\"{address}\"], conditions: {{ready: {ready}}}, nodeName: {node}{hostname}}}"
            )
        })
        .collect();
    format!(
        "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  name: {service}-1\n  namespace: {ns}\n  labels: {{kubernetes.io/service-name: {service}}}\naddressType: IPv4\nendpoints:\n{}\n",
        items.join("\n")
    )
}

fn node_port(ns: &str, name: &str, meta: &str, local: bool) -> String {
    let policy = if local { "Local" } else { "Cluster" };
    format!(
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: {name}\n  namespace: {ns}\n{meta}\nspec:\n  type: NodePort\n  externalTrafficPolicy: {policy}\n  ports: [{{name: http, port: 80, nodePort: 30080}}]\n"
    )
}

fn kuberoute_labels(name: &str, quota: u8) -> String {
    format!(
        "  labels: {{kuberoute_domain: example.com, kuberoute_name: {name}, kuberoute_failover: failover.example.com, kuberoute_quota: \"{quota}\"}}"
    )
}

fn cname(reply: &Message) -> Option<String> {
    reply.answers.iter().find_map(|r| match &r.data {
        RData::CNAME(target) => Some(target.to_string()),
        _ => None,
    })
}

fn expect_addresses(expected: &'static [&'static str]) -> impl Fn(&Message) -> bool {
    move |reply| addresses(reply) == expected && cname(reply).is_none()
}

fn expect_cname(target: &'static str) -> impl Fn(&Message) -> bool {
    move |reply| cname(reply).as_deref() == Some(target)
}

/// Through the manifests folder: a NodePort Service answers with every Ready node, a Local one
/// with the nodes of its ready endpoints, and editing a slice or a Node changes the answer.
#[test]
fn node_port_answers_follow_readiness_in_the_manifests_folder() {
    let nodes = [
        node("n1", true, "192.168.0.1", "203.0.113.1"),
        node("n2", true, "192.168.0.2", "203.0.113.2"),
        node("n3", false, "192.168.0.3", "203.0.113.3"),
    ]
    .join("---\n");
    let hostname =
        |h: &str| format!("  annotations: {{external-dns.alpha.kubernetes.io/hostname: {h}}}");
    let services = [
        node_port("shop", "web", &hostname("web.example.com"), false),
        node_port("shop", "cart", &hostname("cart.example.com"), true),
        slice(
            "shop",
            "cart",
            &[
                ("10.1.0.1", true, "n1", None),
                ("10.1.0.2", false, "n2", None),
            ],
        ),
    ]
    .join("---\n");
    let s = Server::start_with(Setup {
        zones: ZONE,
        extra: "",
        manifests: &[("nodes.yaml", &nodes), ("services.yaml", &services)],
        ..Setup::default()
    });
    s.eventually(
        "web.example.com.",
        RecordType::A,
        expect_addresses(&["203.0.113.1", "203.0.113.2"]),
    );
    s.eventually(
        "cart.example.com.",
        RecordType::A,
        expect_addresses(&["203.0.113.1"]),
    );
    let srv = s.ask("_http._tcp.web.example.com.", RecordType::SRV);
    assert_eq!(srv.answers.len(), 1, "{srv:?}");
    assert!(srv.answers[0].data.to_string().contains("30080"), "{srv:?}");

    // The endpoint on n2 becomes ready; then n1 goes NotReady.
    let ready_slice = slice(
        "shop",
        "cart",
        &[
            ("10.1.0.1", true, "n1", None),
            ("10.1.0.2", true, "n2", None),
        ],
    );
    s.write_manifest(
        "services.yaml",
        &[
            node_port("shop", "web", &hostname("web.example.com"), false),
            node_port("shop", "cart", &hostname("cart.example.com"), true),
            ready_slice,
        ]
        .join("---\n"),
    );
    s.eventually(
        "cart.example.com.",
        RecordType::A,
        expect_addresses(&["203.0.113.1", "203.0.113.2"]),
    );
    let nodes = [
        node("n1", false, "192.168.0.1", "203.0.113.1"),
        node("n2", true, "192.168.0.2", "203.0.113.2"),
        node("n3", true, "192.168.0.3", "203.0.113.3"),
    ]
    .join("---\n");
    s.write_manifest("nodes.yaml", &nodes);
    s.eventually(
        "cart.example.com.",
        RecordType::A,
        expect_addresses(&["203.0.113.2"]),
    );
    s.eventually(
        "web.example.com.",
        RecordType::A,
        expect_addresses(&["203.0.113.2", "203.0.113.3"]),
    );
}

/// kuberoute's failover through the manifests folder, both ways at the quota boundary, and
/// `explain` saying which way it went.
#[test]
fn kuberoute_fails_over_and_back_at_the_quota() {
    let nodes: Vec<String> = (1..=5)
        .map(|i| {
            node(
                &format!("n{i}"),
                true,
                &format!("192.168.0.{i}"),
                &format!("203.0.113.{i}"),
            )
        })
        .collect();
    let endpoints = |ready: usize| -> String {
        let list: Vec<(String, bool, String)> = (1..=5)
            .map(|i| (format!("10.1.0.{i}"), i <= ready, format!("n{i}")))
            .collect();
        let borrowed: Vec<(&str, bool, &str, Option<&str>)> = list
            .iter()
            .map(|(a, r, n)| (a.as_str(), *r, n.as_str(), None))
            .collect();
        slice("shop", "quatsch", &borrowed)
    };
    let service = node_port("shop", "quatsch", &kuberoute_labels("quatsch", 80), false);
    let s = Server::start_with(Setup {
        zones: ZONE,
        extra: HTTP,
        manifests: &[
            ("nodes.yaml", &nodes.join("---\n")),
            ("service.yaml", &service),
            ("slice.yaml", &endpoints(4)),
        ],
        ..Setup::default()
    });
    // 4 of 5 is exactly 80%: the nodes answer.
    s.eventually(
        "quatsch.example.com.",
        RecordType::A,
        expect_addresses(&["203.0.113.1", "203.0.113.2", "203.0.113.3", "203.0.113.4"]),
    );
    // 3 of 5 is below: a CNAME to the failover name.
    s.write_manifest("slice.yaml", &endpoints(3));
    s.eventually(
        "quatsch.example.com.",
        RecordType::A,
        expect_cname("failover.example.com."),
    );
    let (_, why) = s.http_get("/debug/explain?name=quatsch.example.com");
    assert!(
        why.contains("failover to failover.example.com.") && why.contains("3 of the 5"),
        "{why}"
    );
    // Back at the quota: the nodes again.
    s.write_manifest("slice.yaml", &endpoints(4));
    s.eventually("quatsch.example.com.", RecordType::A, |reply| {
        addresses(reply).len() == 4
    });
    let (_, why) = s.http_get("/debug/explain?name=quatsch.example.com");
    assert!(why.contains("the ready nodes answer"), "{why}");
}

/// A headless Service answers with its ready pods, and each pod with a hostname by its own
/// name.
#[test]
fn headless_services_answer_with_ready_pods_and_their_hostnames() {
    let service = "apiVersion: v1\nkind: Service\nmetadata:\n  name: db\n  namespace: shop\n  annotations: {external-dns.alpha.kubernetes.io/hostname: db.example.com}\nspec:\n  clusterIP: None\n";
    let pods = |second_ready: bool| {
        slice(
            "shop",
            "db",
            &[
                ("10.1.0.10", true, "n1", Some("db-0")),
                ("10.1.0.11", second_ready, "n2", Some("db-1")),
            ],
        )
    };
    let s = Server::start_with(Setup {
        zones: ZONE,
        extra: "",
        manifests: &[("db.yaml", service), ("slice.yaml", &pods(false))],
        ..Setup::default()
    });
    s.eventually(
        "db.example.com.",
        RecordType::A,
        expect_addresses(&["10.1.0.10"]),
    );
    s.eventually(
        "db-0.db.example.com.",
        RecordType::A,
        expect_addresses(&["10.1.0.10"]),
    );
    assert!(addresses(&s.ask("db-1.db.example.com.", RecordType::A)).is_empty());
    s.write_manifest("slice.yaml", &pods(true));
    s.eventually(
        "db.example.com.",
        RecordType::A,
        expect_addresses(&["10.1.0.10", "10.1.0.11"]),
    );
    s.eventually(
        "db-1.db.example.com.",
        RecordType::A,
        expect_addresses(&["10.1.0.11"]),
    );
}

/// Through the API server: Nodes, EndpointSlices and Services created through the API (the test
/// writes Node status and slice conditions, as there is no kubelet), readiness flipped, and the
/// answers following; kuberoute's failover both ways.
#[test]
fn node_port_and_kuberoute_through_the_api_server() {
    let cp = cluster();
    let ns = cp.fresh_namespace("workloads");
    // Node names no other test uses: Nodes are cluster-wide.
    let n = |i: usize| format!("{ns}-n{i}");
    for i in 1..=3 {
        cp.apply_yaml(&format!(
            "apiVersion: v1\nkind: Node\nmetadata: {{name: {}}}\n",
            n(i)
        ));
        cp.apply_status_yaml(&node(
            &n(i),
            true,
            &format!("192.168.1.{i}"),
            &format!("203.0.113.1{i}"),
        ));
    }
    let s = kubezone(cp, ZONE, &[]);
    // The API server allocates node ports, one per Service.
    let allocated = |yaml: String| yaml.replace(", nodePort: 30080", "");
    cp.apply_yaml(&allocated(node_port(
        &ns,
        "cart",
        "  annotations: {external-dns.alpha.kubernetes.io/hostname: cart.example.com}",
        true,
    )));
    cp.apply_yaml(&allocated(node_port(
        &ns,
        "quatsch",
        &kuberoute_labels("quatsch", 60),
        false,
    )));
    let cart = |ready: [bool; 3]| {
        let (n1, n2, n3) = (n(1), n(2), n(3));
        slice(
            &ns,
            "cart",
            &[
                ("10.2.0.1", ready[0], &n1, None),
                ("10.2.0.2", ready[1], &n2, None),
                ("10.2.0.3", ready[2], &n3, None),
            ],
        )
    };
    let quatsch = |ready: [bool; 3]| cart(ready).replace("cart", "quatsch");
    cp.apply_yaml(&cart([true, false, false]));
    s.eventually(
        "cart.example.com.",
        RecordType::A,
        expect_addresses(&["203.0.113.11"]),
    );
    cp.apply_yaml(&cart([true, true, false]));
    s.eventually(
        "cart.example.com.",
        RecordType::A,
        expect_addresses(&["203.0.113.11", "203.0.113.12"]),
    );
    // A node going NotReady leaves the answer.
    cp.apply_status_yaml(&node(&n(1), false, "192.168.1.1", "203.0.113.11"));
    s.eventually(
        "cart.example.com.",
        RecordType::A,
        expect_addresses(&["203.0.113.12"]),
    );
    cp.apply_status_yaml(&node(&n(1), true, "192.168.1.1", "203.0.113.11"));

    // kuberoute with a 60% quota: 2 of 3 ready meets it, 1 of 3 does not.
    cp.apply_yaml(&quatsch([true, true, false]));
    s.eventually(
        "quatsch.example.com.",
        RecordType::A,
        expect_addresses(&["203.0.113.11", "203.0.113.12"]),
    );
    cp.apply_yaml(&quatsch([true, false, false]));
    s.eventually(
        "quatsch.example.com.",
        RecordType::A,
        expect_cname("failover.example.com."),
    );
    cp.apply_yaml(&quatsch([true, true, true]));
    s.eventually(
        "quatsch.example.com.",
        RecordType::A,
        expect_addresses(&["203.0.113.11", "203.0.113.12", "203.0.113.13"]),
    );
    // The slice deleted: no node runs an endpoint, so the name fails over.
    cp.delete(
        "discovery.k8s.io/v1",
        "EndpointSlice",
        Some(&ns),
        "quatsch-1",
    );
    s.eventually(
        "quatsch.example.com.",
        RecordType::A,
        expect_cname("failover.example.com."),
    );
    for i in 1..=3 {
        cp.delete("v1", "Node", None, &n(i));
    }
}

/// Through the API server: a headless Service following its slice, pod hostnames, and a
/// LoadBalancer Service named by mate's annotation with external-dns's `target`, `ttl` and
/// `internal-hostname`, and an SRV record for its named port.
#[test]
fn headless_and_annotated_services_through_the_api_server() {
    let cp = cluster();
    let ns = cp.fresh_namespace("annotated");
    let s = kubezone(cp, ZONE, &[&ns]);
    cp.apply_yaml(&format!(
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: db\n  namespace: {ns}\n  annotations: {{external-dns.kubernetes.io/hostname: db-{ns}.example.com}}\nspec:\n  clusterIP: None\n  ports: [{{port: 5432}}]\n"
    ));
    let pods = |second_ready: bool| {
        slice(
            &ns,
            "db",
            &[
                ("10.3.0.10", true, "n1", Some("db-0")),
                ("10.3.0.11", second_ready, "n2", Some("db-1")),
            ],
        )
    };
    cp.apply_yaml(&pods(false));
    let db = format!("db-{ns}.example.com.");
    s.eventually(&db, RecordType::A, expect_addresses(&["10.3.0.10"]));
    cp.apply_yaml(&pods(true));
    s.eventually(
        &db,
        RecordType::A,
        expect_addresses(&["10.3.0.10", "10.3.0.11"]),
    );
    s.eventually(
        &format!("db-1.{db}"),
        RecordType::A,
        expect_addresses(&["10.3.0.11"]),
    );

    cp.apply_yaml(&format!(
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  namespace: {ns}\n  annotations:\n    zalando.org/dnsname: web-{ns}.example.com\n    external-dns.alpha.kubernetes.io/target: 198.51.100.77\n    external-dns.kubernetes.io/ttl: 2m\n    external-dns.kubernetes.io/internal-hostname: web-{ns}.internal.example.com\nspec:\n  type: LoadBalancer\n  allocateLoadBalancerNodePorts: false\n  ports: [{{name: https, port: 443}}]\n"
    ));
    let web = format!("web-{ns}.example.com.");
    s.eventually(&web, RecordType::A, expect_addresses(&["198.51.100.77"]));
    let reply = s.ask(&web, RecordType::A);
    assert_eq!(reply.answers[0].ttl, 120, "{reply:?}");
    let internal = s.ask(&format!("web-{ns}.internal.example.com."), RecordType::A);
    assert_eq!(addresses(&internal).len(), 1, "the ClusterIP: {internal:?}");
    let srv = s.ask(&format!("_https._tcp.{web}"), RecordType::SRV);
    assert_eq!(srv.answers.len(), 1, "{srv:?}");
    assert_eq!(srv.answers[0].data.to_string(), format!("0 100 443 {web}"));
}

/// Through the API server: a zone's name template and annotation filter, and the PTR a reverse
/// zone derives from the address, following the Service's status.
#[test]
fn templates_filters_and_ptr_through_the_api_server() {
    let cp = cluster();
    let ns = cp.fresh_namespace("templated");
    let zones = "  - zone: example.com\n    glue: [\"192.0.2.53\"]\n    nameTemplate: \"{{ .Name }}-{{ .Namespace }}.example.com\"\n    annotationFilter: \"dns notin (private)\"\n  - zone: 100.51.198.in-addr.arpa\n    glue: [\"192.0.2.53\"]\n";
    let s = kubezone(cp, zones, &[&ns]);
    let lb = |name: &str, dns: &str| {
        format!(
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: {name}\n  namespace: {ns}\n  annotations: {{dns: {dns}}}\nspec:\n  type: LoadBalancer\n  allocateLoadBalancerNodePorts: false\n  ports: [{{port: 443}}]\n"
        )
    };
    let status = |name: &str, ip: &str| {
        format!(
            "apiVersion: v1\nkind: Service\nmetadata: {{name: {name}, namespace: {ns}}}\nstatus:\n  loadBalancer:\n    ingress: [{{ip: \"{ip}\"}}]\n"
        )
    };
    cp.apply_yaml(&lb("web", "public"));
    cp.apply_status_yaml(&status("web", "198.51.100.21"));
    cp.apply_yaml(&lb("secret", "private"));
    cp.apply_status_yaml(&status("secret", "198.51.100.22"));
    let web = format!("web-{ns}.example.com.");
    s.eventually(&web, RecordType::A, expect_addresses(&["198.51.100.21"]));
    let ptr = |reply: &Message| -> Vec<String> {
        reply
            .answers
            .iter()
            .filter_map(|r| match &r.data {
                RData::PTR(name) => Some(name.to_string()),
                _ => None,
            })
            .collect()
    };
    let expected = web.clone();
    s.eventually("21.100.51.198.in-addr.arpa.", RecordType::PTR, move |r| {
        ptr(r) == [expected.clone()]
    });
    // The filtered Service has no name, so its address has no PTR.
    assert!(addresses(&s.ask(&format!("secret-{ns}.example.com."), RecordType::A)).is_empty());
    assert!(ptr(&s.ask("22.100.51.198.in-addr.arpa.", RecordType::PTR)).is_empty());
    // The address moves: the PTR follows.
    cp.apply_status_yaml(&status("web", "198.51.100.23"));
    let expected = web.clone();
    s.eventually("23.100.51.198.in-addr.arpa.", RecordType::PTR, move |r| {
        ptr(r) == [expected.clone()]
    });
    // The filter admits the other Service once its annotation changes.
    cp.apply_yaml(&lb("secret", "public"));
    s.eventually(
        &format!("secret-{ns}.example.com."),
        RecordType::A,
        expect_addresses(&["198.51.100.22"]),
    );
}
