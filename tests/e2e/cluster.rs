//! kubezone watching a real kube-apiserver, under the chart's ClusterRole: every Kind created,
//! updated and deleted through the API, and dig's answer following.

use std::sync::OnceLock;

use hickory_proto::{
    op::{Message, ResponseCode},
    rr::RecordType,
};

use crate::{
    control_plane::{ControlPlane, Crds},
    harness::{Server, Setup, addresses},
};

pub const ZONES: &str =
    "  - zone: example.com\n  - zone: internal.example.com\n    resources: [Node]\n";

/// The shared control plane, with every CRD installed and kubezone's ClusterRole bound.
pub fn cluster() -> &'static ControlPlane {
    static PREPARED: OnceLock<()> = OnceLock::new();
    let cp = ControlPlane::shared();
    PREPARED.get_or_init(|| {
        cp.install_crds(Crds::GatewayApi);
        cp.install_crds(Crds::DnsEndpoint);
        cp.grant_kubezone();
    });
    cp
}

/// kubezone watching `cp` as its ServiceAccount, in `namespaces` (all when empty), serving
/// `zones`.
pub fn kubezone(cp: &ControlPlane, zones: &str, namespaces: &[&str]) -> Server {
    Server::start_with(Setup {
        zones,
        extra: &kubernetes_section(cp, namespaces),
        manifests: &[],
        ..Setup::default()
    })
}

/// The config's `kubernetes:` section for `cp`.
pub fn kubernetes_section(cp: &ControlPlane, namespaces: &[&str]) -> String {
    format!(
        "kubernetes:\n  kubeconfig: {}\n  namespaces: [{}]\n",
        cp.kubezone_kubeconfig().display(),
        namespaces.join(", ")
    )
}

pub fn nxdomain(reply: &Message) -> bool {
    reply.metadata.response_code == ResponseCode::NXDomain
}

pub fn answers(expected: &'static [&'static str]) -> impl Fn(&Message) -> bool {
    move |reply| {
        reply.metadata.response_code == ResponseCode::NoError && addresses(reply) == expected
    }
}

pub fn load_balancer_service(ns: &str, name: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Service\nmetadata: {{name: {name}, namespace: {ns}}}\nspec:\n  type: LoadBalancer\n  ports: [{{port: 443}}]\n"
    )
}

pub fn load_balancer_status(ns: &str, name: &str, ips: &[&str]) -> String {
    let ingress: Vec<String> = ips.iter().map(|ip| format!("{{ip: \"{ip}\"}}")).collect();
    format!(
        "apiVersion: v1\nkind: Service\nmetadata: {{name: {name}, namespace: {ns}}}\nstatus:\n  loadBalancer:\n    ingress: [{}]\n",
        ingress.join(", ")
    )
}

/// A route's status as a Gateway controller writes it: `Accepted` (`"True"` or `"False"`) by
/// the parent `parent_ref` (a YAML flow mapping).
pub fn route_status(kind: &str, ns: &str, name: &str, parent_ref: &str, accepted: &str) -> String {
    format!(
        "apiVersion: gateway.networking.k8s.io/v1\nkind: {kind}\nmetadata: {{name: {name}, namespace: {ns}}}\n{}",
        status(parent_ref, accepted)
    )
}

/// The `status:` of [`route_status`].
pub fn status(parent_ref: &str, accepted: &str) -> String {
    let reason = if accepted == "True" {
        "Accepted"
    } else {
        "NotAllowedByListeners"
    };
    format!(
        "status:
  parents:
  - parentRef: {parent_ref}
    controllerName: example.com/gateway-controller
    conditions:
    - type: Accepted
      status: \"{accepted}\"
      reason: {reason}
      message: written by the test
      lastTransitionTime: \"2025-01-01T00:00:00Z\"
"
    )
}

#[test]
fn a_service_follows_its_load_balancer_status() {
    let cp = cluster();
    let ns = cp.fresh_namespace("svc");
    let s = kubezone(cp, ZONES, &[&ns]);
    let name = format!("web.{ns}.example.com.");

    cp.apply_yaml(&load_balancer_service(&ns, "web"));
    cp.apply_status_yaml(&load_balancer_status(&ns, "web", &["192.0.2.10"]));
    s.eventually(&name, RecordType::A, answers(&["192.0.2.10"]));

    cp.apply_status_yaml(&load_balancer_status(
        &ns,
        "web",
        &["192.0.2.11", "2001:db8::11"],
    ));
    s.eventually(&name, RecordType::A, answers(&["192.0.2.11"]));
    s.eventually(&name, RecordType::AAAA, answers(&["2001:db8::11"]));

    // A ClusterIP Service is dropped at the watch: it has no records.
    cp.apply_yaml(&format!(
        "apiVersion: v1\nkind: Service\nmetadata: {{name: db, namespace: {ns}}}\nspec:\n  ports: [{{port: 5432}}]\n"
    ));
    s.eventually(&format!("db.{ns}.example.com."), RecordType::A, nxdomain);

    cp.delete("v1", "Service", Some(&ns), "web");
    s.eventually(&name, RecordType::A, nxdomain);
}

#[test]
fn an_ingress_follows_its_hosts_and_addresses() {
    let cp = cluster();
    let ns = cp.fresh_namespace("ing");
    let s = kubezone(cp, ZONES, &[&ns]);
    let ingress = |host: &str| {
        format!(
            "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {{name: shop, namespace: {ns}}}\nspec:\n  rules: [{{host: {host}}}]\n"
        )
    };
    let status = |ip: &str| {
        format!(
            "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {{name: shop, namespace: {ns}}}\nstatus:\n  loadBalancer:\n    ingress: [{{ip: \"{ip}\"}}]\n"
        )
    };
    let old_host = format!("shop-{ns}.example.com.");
    let new_host = format!("store-{ns}.example.com.");

    cp.apply_yaml(&ingress(&old_host[..old_host.len() - 1]));
    cp.apply_status_yaml(&status("192.0.2.20"));
    s.eventually(&old_host, RecordType::A, answers(&["192.0.2.20"]));

    cp.apply_yaml(&ingress(&new_host[..new_host.len() - 1]));
    s.eventually(&new_host, RecordType::A, answers(&["192.0.2.20"]));
    s.eventually(&old_host, RecordType::A, nxdomain);

    cp.apply_status_yaml(&status("192.0.2.21"));
    s.eventually(&new_host, RecordType::A, answers(&["192.0.2.21"]));

    cp.delete("networking.k8s.io/v1", "Ingress", Some(&ns), "shop");
    s.eventually(&new_host, RecordType::A, nxdomain);
}

#[test]
fn routes_follow_their_gateway_addresses() {
    let cp = cluster();
    let ns = cp.fresh_namespace("gw");
    let s = kubezone(cp, ZONES, &[&ns]);
    let gateway_status = |ip: &str| {
        format!(
            "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {{name: public, namespace: {ns}}}\nstatus:\n  addresses: [{{type: IPAddress, value: \"{ip}\"}}]\n"
        )
    };
    cp.apply_yaml(&format!(
        "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {{name: public, namespace: {ns}}}\nspec:\n  gatewayClassName: eg\n  listeners:\n  - {{name: https, port: 443, protocol: HTTPS}}\n  - {{name: tls, port: 8443, protocol: TLS, tls: {{mode: Passthrough}}}}\n"
    ));
    cp.apply_status_yaml(&gateway_status("192.0.2.30"));
    let mut names = Vec::new();
    for (kind, name) in [
        ("HTTPRoute", "web"),
        ("GRPCRoute", "rpc"),
        ("TLSRoute", "mqtt"),
    ] {
        let host = format!("{name}-{ns}.example.com");
        cp.apply_yaml(&format!(
            "apiVersion: gateway.networking.k8s.io/v1\nkind: {kind}\nmetadata: {{name: {name}, namespace: {ns}}}\nspec:\n  parentRefs: [{{name: public}}]\n  hostnames: [{host}]\n  rules: [{{backendRefs: [{{name: backend, port: 443}}]}}]\n"
        ));
        // There is no Gateway controller: the test accepts the route as one would.
        cp.apply_status_yaml(&route_status(kind, &ns, name, "{name: public}", "True"));
        names.push((kind, name, format!("{host}.")));
    }
    for (_, _, host) in &names {
        s.eventually(host, RecordType::A, answers(&["192.0.2.30"]));
    }

    cp.apply_status_yaml(&gateway_status("192.0.2.31"));
    for (_, _, host) in &names {
        s.eventually(host, RecordType::A, answers(&["192.0.2.31"]));
    }

    for (kind, name, host) in &names {
        cp.delete("gateway.networking.k8s.io/v1", kind, Some(&ns), name);
        s.eventually(host, RecordType::A, nxdomain);
    }
}

#[test]
fn a_dnsendpoint_follows_its_endpoints() {
    let cp = cluster();
    let ns = cp.fresh_namespace("dnsep");
    let s = kubezone(cp, ZONES, &[&ns]);
    let endpoint = |targets: &str| {
        format!(
            "apiVersion: externaldns.k8s.io/v1alpha1\nkind: DNSEndpoint\nmetadata: {{name: legacy, namespace: {ns}}}\nspec:\n  endpoints:\n  - {{dnsName: legacy-{ns}.example.com, recordType: A, targets: [{targets}]}}\n  - {{dnsName: legacy-{ns}.example.com, recordType: TXT, targets: [\"owner={ns}\"]}}\n"
        )
    };
    let name = format!("legacy-{ns}.example.com.");
    cp.apply_yaml(&endpoint("192.0.2.40"));
    s.eventually(&name, RecordType::A, answers(&["192.0.2.40"]));
    let reply = s.ask(&name, RecordType::TXT);
    assert_eq!(
        reply
            .answers
            .iter()
            .map(|r| r.data.to_string())
            .collect::<Vec<_>>(),
        [format!("owner={ns}")]
    );

    cp.apply_yaml(&endpoint("192.0.2.41, 192.0.2.42"));
    s.eventually(&name, RecordType::A, answers(&["192.0.2.41", "192.0.2.42"]));

    cp.delete(
        "externaldns.k8s.io/v1alpha1",
        "DNSEndpoint",
        Some(&ns),
        "legacy",
    );
    s.eventually(&name, RecordType::A, nxdomain);
}

#[test]
fn a_node_follows_its_addresses() {
    let cp = cluster();
    // Nodes are cluster-scoped: a namespace list does not limit them.
    let ns = cp.fresh_namespace("node");
    let s = kubezone(cp, ZONES, &[&ns]);
    let node = format!("worker-{ns}");
    let status = |ip: &str| {
        format!(
            "apiVersion: v1\nkind: Node\nmetadata: {{name: {node}}}\nstatus:\n  addresses:\n  - {{type: Hostname, address: {node}}}\n  - {{type: InternalIP, address: \"{ip}\"}}\n  - {{type: ExternalIP, address: \"198.51.100.50\"}}\n"
        )
    };
    cp.apply_yaml(&format!(
        "apiVersion: v1\nkind: Node\nmetadata: {{name: {node}}}\n"
    ));
    cp.apply_status_yaml(&status("10.0.0.50"));
    let name = format!("{node}.internal.example.com.");
    s.eventually(&name, RecordType::A, answers(&["10.0.0.50"]));
    cp.apply_status_yaml(&status("10.0.0.51"));
    s.eventually(&name, RecordType::A, answers(&["10.0.0.51"]));
    cp.delete("v1", "Node", None, &node);
    s.eventually(&name, RecordType::A, nxdomain);
}

#[test]
fn the_apex_glue_is_the_servers_own_service() {
    let cp = cluster();
    let ns = cp.fresh_namespace("self");
    let zones = format!("  - zone: example.com\n    apex: ns1.{ns}\n");
    let s = kubezone(cp, &zones, &[&ns]);
    let apex = format!("ns1.{ns}.example.com.");

    cp.apply_yaml(&load_balancer_service(&ns, "ns1"));
    cp.apply_status_yaml(&load_balancer_status(&ns, "ns1", &["192.0.2.53"]));
    s.eventually(&apex, RecordType::A, answers(&["192.0.2.53"]));
    let glue = |reply: &Message| {
        let mut glue: Vec<String> = reply
            .additionals
            .iter()
            .filter(|r| r.record_type() == RecordType::A)
            .map(|r| format!("{} {}", r.name, r.data))
            .collect();
        glue.sort();
        glue
    };
    s.eventually("example.com.", RecordType::NS, |reply| {
        glue(reply) == [format!("{apex} 192.0.2.53")]
    });

    cp.apply_status_yaml(&load_balancer_status(&ns, "ns1", &["192.0.2.54"]));
    s.eventually(&apex, RecordType::A, answers(&["192.0.2.54"]));
    // Its own Service claiming the nameserver host is expected, not a conflict to warn about.
    assert!(!s.log().contains("conflict"), "{}", s.log());
}

#[test]
fn manifests_and_the_cluster_are_served_together() {
    let cp = cluster();
    let ns = cp.fresh_namespace("merge");
    let manifest = format!(
        "apiVersion: externaldns.k8s.io/v1alpha1\nkind: DNSEndpoint\nmetadata: {{name: from-file, namespace: {ns}}}\nspec:\n  endpoints:\n  - {{dnsName: file-{ns}.example.com, recordType: A, targets: [192.0.2.60]}}\n"
    );
    let manifests = [("objects.yaml", manifest.as_str())];
    let s = Server::start_with(Setup {
        zones: ZONES,
        extra: &kubernetes_section(cp, &[&ns]),
        manifests: &manifests,
        ..Setup::default()
    });
    cp.apply_yaml(&load_balancer_service(&ns, "api"));
    cp.apply_status_yaml(&load_balancer_status(&ns, "api", &["192.0.2.61"]));
    s.eventually(
        &format!("api.{ns}.example.com."),
        RecordType::A,
        answers(&["192.0.2.61"]),
    );
    s.eventually(
        &format!("file-{ns}.example.com."),
        RecordType::A,
        answers(&["192.0.2.60"]),
    );
}

#[test]
fn other_namespaces_are_not_watched() {
    let cp = cluster();
    let watched = cp.fresh_namespace("watched");
    let other = cp.fresh_namespace("other");
    let s = kubezone(cp, ZONES, &[&watched]);
    for ns in [&watched, &other] {
        cp.apply_yaml(&load_balancer_service(ns, "web"));
        cp.apply_status_yaml(&load_balancer_status(ns, "web", &["192.0.2.70"]));
    }
    s.eventually(
        &format!("web.{watched}.example.com."),
        RecordType::A,
        answers(&["192.0.2.70"]),
    );
    // Both were written before the watched one was seen, so the other one would be too.
    assert!(nxdomain(
        &s.ask(&format!("web.{other}.example.com."), RecordType::A)
    ));
}

#[test]
fn client_certificates_and_exec_plugins_authenticate() {
    let cp = cluster();
    for (how, kubeconfig) in [
        (
            "client certificate",
            cp.kubezone_kubeconfig_client_certificate(),
        ),
        ("exec plugin", cp.kubezone_kubeconfig_exec()),
    ] {
        let ns = cp.fresh_namespace("auth");
        let s = Server::start_with(Setup {
            zones: ZONES,
            extra: &format!(
                "kubernetes:\n  kubeconfig: {}\n  namespaces: [{ns}]\n",
                kubeconfig.display()
            ),
            manifests: &[],
            ..Setup::default()
        });
        cp.apply_yaml(&load_balancer_service(&ns, "web"));
        cp.apply_status_yaml(&load_balancer_status(&ns, "web", &["192.0.2.65"]));
        s.eventually(
            &format!("web.{ns}.example.com."),
            RecordType::A,
            answers(&["192.0.2.65"]),
        );
        assert!(!s.log().contains("forbidden"), "{how}:\n{}", s.log());
    }
}
