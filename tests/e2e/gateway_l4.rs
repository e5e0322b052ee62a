//! Gateways without hostnames: TCPRoutes and UDPRoutes named by a hostname annotation (the
//! route's, else their parent's), and routes attached through a ListenerSet, served with the
//! Gateway's addresses. Through a real kube-apiserver, where the TCPRoute and UDPRoute CRDs
//! arrive while kubezone runs, and through the manifests folder.

use std::time::Duration;

use hickory_proto::rr::RecordType;

use crate::{
    cluster::{answers, kubernetes_section, nxdomain, route_status, status},
    control_plane::{ControlPlane, Crds},
    harness::{Server, Setup, addresses},
};

/// A watch whose CRD was missing retries with backoff; the wait until it lists again.
const RETRY_PATIENCE: Duration = Duration::from_secs(40);

const ZONES: &str =
    "  - zone: example.com\n    resources: [HTTPRoute, TCPRoute, UDPRoute, Service]\n";

const HOSTNAME: &str = "external-dns.alpha.kubernetes.io/hostname";

/// Gateway `infra/shared`: TCP and UDP listeners for routes from every namespace, ListenerSets
/// from every namespace, and `annotation` as the names of its TCP and UDP routes.
fn gateway(annotation: &str) -> String {
    format!(
        "apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: shared
  namespace: infra
  annotations: {{{HOSTNAME}: \"{annotation}\"}}
spec:
  gatewayClassName: eg
  allowedListeners: {{namespaces: {{from: All}}}}
  listeners:
  - {{name: tcp, port: 5432, protocol: TCP, allowedRoutes: {{namespaces: {{from: All}}}}}}
  - {{name: udp, port: 53, protocol: UDP, allowedRoutes: {{namespaces: {{from: All}}}}}}
"
    )
}

const GATEWAY_ADDRESSES: &str = "status:\n  addresses: [{value: \"192.0.2.70\"}]\n";

/// ListenerSet `team/extra` on the shared Gateway: HTTPS for `*.team.example.com`.
const LISTENER_SET: &str = "apiVersion: gateway.networking.k8s.io/v1
kind: ListenerSet
metadata: {name: extra, namespace: team}
spec:
  parentRef: {name: shared, namespace: infra}
  listeners:
  - name: web
    hostname: \"*.team.example.com\"
    port: 443
    protocol: HTTPS
    tls: {mode: Terminate, certificateRefs: [{name: team-cert}]}
";

/// The status a controller writes when it attaches the ListenerSet and its listener.
const LISTENER_SET_ACCEPTED: &str = "status:
  conditions:
  - {type: Accepted, status: \"True\", reason: Accepted, message: written by the test, lastTransitionTime: \"2025-01-01T00:00:00Z\"}
  listeners:
  - name: web
    attachedRoutes: 1
    supportedKinds: [{kind: HTTPRoute}]
    conditions:
    - {type: Accepted, status: \"True\", reason: Accepted, message: written by the test, lastTransitionTime: \"2025-01-01T00:00:00Z\"}
";

const TO_SET: &str = "{kind: ListenerSet, name: extra}";
const TO_SHARED: &str = "{name: shared, namespace: infra}";

/// An HTTPRoute `team/app` for `app.team.example.com` on the ListenerSet.
const HTTP_ROUTE: &str = "apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: app, namespace: team}
spec:
  parentRefs: [{kind: ListenerSet, name: extra}]
  hostnames: [app.team.example.com]
  rules: [{backendRefs: [{name: app, port: 8080}]}]
";

/// A `kind` route `team/<name>` at `api_version` on the shared Gateway, with `annotations`.
fn l4_route(api_version: &str, kind: &str, name: &str, annotations: &str) -> String {
    format!(
        "apiVersion: gateway.networking.k8s.io/{api_version}
kind: {kind}
metadata:
  name: {name}
  namespace: team
  annotations: {{{annotations}}}
spec:
  parentRefs: [{TO_SHARED}]
  rules: [{{backendRefs: [{{name: {name}, port: 5432}}]}}]
"
    )
}

#[test]
fn tcp_and_udp_routes_and_listener_sets_from_the_api_server() {
    // CRDs of its own: the TCPRoute and UDPRoute CRDs come and go here.
    let cp = ControlPlane::start();
    cp.install_crds(Crds::GatewayApi);
    cp.install_crds(Crds::DnsEndpoint);
    cp.grant_kubezone();
    cp.create_namespace("infra");
    cp.create_namespace("team");
    let s = Server::start_with(Setup {
        zones: ZONES,
        extra: &kubernetes_section(&cp, &[]),
        manifests: &[],
        ..Setup::default()
    });

    // Without the TCPRoute and UDPRoute CRDs kubezone is ready, says so once each, and
    // serves routes through a ListenerSet.
    cp.apply_yaml(&gateway("lb"));
    cp.apply_status_yaml(&format!(
        "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {{name: shared, namespace: infra}}\n{GATEWAY_ADDRESSES}"
    ));
    cp.apply_yaml(LISTENER_SET);
    cp.apply_yaml(HTTP_ROUTE);
    cp.apply_status_yaml(&route_status("HTTPRoute", "team", "app", TO_SET, "True"));
    // The ListenerSet is not accepted yet.
    std::thread::sleep(Duration::from_secs(1));
    assert!(nxdomain(&s.ask("app.team.example.com.", RecordType::A)));
    cp.apply_status_yaml(&format!(
        "apiVersion: gateway.networking.k8s.io/v1\nkind: ListenerSet\nmetadata: {{name: extra, namespace: team}}\n{LISTENER_SET_ACCEPTED}"
    ));
    s.eventually(
        "app.team.example.com.",
        RecordType::A,
        answers(&["192.0.2.70"]),
    );
    let log = s.log();
    for crd in ["tcproutes", "udproutes"] {
        let said = format!("the CRD {crd}.gateway.networking.k8s.io is not installed");
        assert_eq!(
            log.lines().filter(|l| l.contains(&said)).count(),
            1,
            "{crd} said once:\n{log}"
        );
    }
    assert!(!log.contains("listenersets"), "{log}");

    // The CRDs arrive: a TCPRoute written at v1alpha2 (as external-dns's guides write them)
    // named by its own annotation, and a UDPRoute named by the Gateway's.
    cp.install_crds(Crds::GatewayApiL4);
    cp.apply_yaml(&l4_route(
        "v1alpha2",
        "TCPRoute",
        "db",
        &format!("{HOSTNAME}: db"),
    ));
    cp.apply_status_yaml(&route_status("TCPRoute", "team", "db", TO_SHARED, "True"));
    cp.apply_yaml(&l4_route("v1", "UDPRoute", "dns", ""));
    cp.apply_status_yaml(&route_status("UDPRoute", "team", "dns", TO_SHARED, "True"));
    s.eventually_within(
        RETRY_PATIENCE,
        "db.example.com.",
        RecordType::A,
        answers(&["192.0.2.70"]),
    );
    s.eventually("lb.example.com.", RecordType::A, answers(&["192.0.2.70"]));

    // The Gateway's annotation changes: the UDPRoute's name follows, the TCPRoute keeps its own.
    cp.apply_yaml(&gateway("udp-lb"));
    s.eventually(
        "udp-lb.example.com.",
        RecordType::A,
        answers(&["192.0.2.70"]),
    );
    s.eventually("lb.example.com.", RecordType::A, nxdomain);
    assert_eq!(
        addresses(&s.ask("db.example.com.", RecordType::A)),
        ["192.0.2.70"]
    );

    // The controller refuses the TCPRoute: its name goes.
    cp.apply_status_yaml(&route_status("TCPRoute", "team", "db", TO_SHARED, "False"));
    s.eventually("db.example.com.", RecordType::A, nxdomain);
}

/// The same objects from a folder, with the statuses `kubectl get -o yaml` keeps.
#[test]
fn tcp_and_udp_routes_and_listener_sets_from_the_manifests_folder() {
    let with = |object: &str, status: &str| format!("{object}{status}");
    let s = Server::start(
        ZONES,
        &[
            ("gateway.yaml", &with(&gateway("lb"), GATEWAY_ADDRESSES)),
            ("set.yaml", &with(LISTENER_SET, LISTENER_SET_ACCEPTED)),
            ("app.yaml", &with(HTTP_ROUTE, &status(TO_SET, "True"))),
            (
                "db.yaml",
                &with(
                    &l4_route("v1", "TCPRoute", "db", &format!("{HOSTNAME}: db")),
                    &status(TO_SHARED, "True"),
                ),
            ),
            (
                "dns.yaml",
                &with(
                    &l4_route("v1alpha2", "UDPRoute", "dns", ""),
                    &status(TO_SHARED, "True"),
                ),
            ),
            // No status: the default consent keeps it out.
            (
                "cache.yaml",
                &l4_route("v1", "TCPRoute", "cache", &format!("{HOSTNAME}: cache")),
            ),
        ],
    );
    for name in [
        "app.team.example.com.",
        "db.example.com.",
        "lb.example.com.",
    ] {
        assert_eq!(
            addresses(&s.ask(name, RecordType::A)),
            ["192.0.2.70"],
            "{name}"
        );
    }
    assert!(nxdomain(&s.ask("cache.example.com.", RecordType::A)));
}
