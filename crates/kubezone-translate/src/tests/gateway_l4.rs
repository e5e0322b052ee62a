//! TCPRoute and UDPRoute: no `hostnames`, so their names come from a hostname annotation on the
//! route, else on the Gateway, intersected with the listener's hostname as for other routes.

use super::{gateway::accepted, *};
use crate::GatewayConsent;

/// A zone `example.com` that serves the two route Kinds without hostnames, and HTTPRoute.
fn l4_zone() -> ZoneFilter {
    zone_with(
        "example.com",
        &[Kind::TcpRoute, Kind::UdpRoute, Kind::HttpRoute],
    )
}

fn l4_translator() -> Translator {
    Translator::new(vec![l4_zone()])
}

/// A Gateway `infra/gw` at 192.0.2.10 with listeners `tcp` (TCP, no hostname), `udp` (UDP, no
/// hostname), `tcp-named` (TCP, `db.example.com`) and `http` (HTTP, no hostname), each
/// admitting routes from every namespace; `annotations` are its metadata's.
fn gateway(annotations: &str) -> KubeObject {
    obj(&format!(
        r#"
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: gw
  namespace: infra
  annotations: {{{annotations}}}
spec:
  gatewayClassName: envoy
  listeners:
  - {{name: tcp, port: 5432, protocol: TCP, allowedRoutes: {{namespaces: {{from: All}}}}}}
  - {{name: udp, port: 53, protocol: UDP, allowedRoutes: {{namespaces: {{from: All}}}}}}
  - {{name: tcp-named, hostname: db.example.com, port: 5433, protocol: TCP, allowedRoutes: {{namespaces: {{from: All}}}}}}
  - {{name: http, port: 80, protocol: HTTP, allowedRoutes: {{namespaces: {{from: All}}}}}}
status:
  addresses: [{{value: 192.0.2.10}}]
"#
    ))
}

/// A `kind` route `shop/<name>` with `annotations`, attached to `parent` (a flow mapping) and
/// accepted by it.
fn route(kind: &str, name: &str, annotations: &str, parent: &str) -> KubeObject {
    accepted(&route_yaml(kind, name, annotations, parent))
}

fn route_yaml(kind: &str, name: &str, annotations: &str, parent: &str) -> String {
    format!(
        r#"
apiVersion: gateway.networking.k8s.io/v1
kind: {kind}
metadata:
  name: {name}
  namespace: shop
  annotations: {{{annotations}}}
spec:
  parentRefs: [{parent}]
  rules: [{{backendRefs: [{{name: {name}, port: 5432}}]}}]
"#
    )
}

const TCP: &str = "{name: gw, namespace: infra, sectionName: tcp}";
const UDP: &str = "{name: gw, namespace: infra, sectionName: udp}";
const HOSTNAME: &str = "external-dns.alpha.kubernetes.io/hostname";

#[test]
fn a_route_annotation_names_a_tcp_route() {
    let mut t = l4_translator();
    t.apply(&gateway(""));
    let out = t.apply(&route(
        "TCPRoute",
        "db",
        &format!("{HOSTNAME}: \"db, replica.example.com, *.pg\""),
        TCP,
    ));
    assert!(out.problems.is_empty(), "{:?}", problems(&out));
    assert_eq!(
        lines(&out, "TCPRoute/shop/db"),
        [
            "0 db.example.com. A 192.0.2.10",
            "0 *.pg.example.com. A 192.0.2.10",
            "0 replica.example.com. A 192.0.2.10",
        ]
    );

    // UDP, and every spelling of the annotation: the first one set wins, as for Services.
    for (annotations, expected) in [
        (
            "coredns.io/hostname: dns, external-dns.kubernetes.io/hostname: other",
            "0 dns.example.com. A 192.0.2.10",
        ),
        (
            "external-dns.kubernetes.io/hostname: dns2.example.com.",
            "0 dns2.example.com. A 192.0.2.10",
        ),
        (
            "coredns.io/hostname: \" \", external-dns.kubernetes.io/hostname: dns3",
            "0 dns3.example.com. A 192.0.2.10",
        ),
    ] {
        let out = t.apply(&route("UDPRoute", "dns", annotations, UDP));
        assert_eq!(
            lines(&out, "UDPRoute/shop/dns"),
            [expected],
            "{annotations}"
        );
    }
}

#[test]
fn without_its_own_annotation_a_route_takes_the_gateways() {
    let mut t = l4_translator();
    t.apply(&route("TCPRoute", "db", "", TCP));
    t.apply(&route(
        "TCPRoute",
        "cache",
        &format!("{HOSTNAME}: cache"),
        TCP,
    ));
    t.apply(&route(
        "HTTPRoute",
        "web",
        "",
        "{name: gw, namespace: infra, sectionName: http}",
    ));
    let out = t.apply(&gateway(&format!("{HOSTNAME}: \"lb, lb.example.org.\"")));
    assert!(out.problems.is_empty(), "{:?}", problems(&out));
    assert_eq!(
        updated(&out),
        [
            "Gateway/infra/gw",
            "HTTPRoute/shop/web",
            "TCPRoute/shop/cache",
            "TCPRoute/shop/db"
        ]
    );
    // lb.example.org. is absolute, and in no zone of ours.
    assert_eq!(
        lines(&out, "TCPRoute/shop/db"),
        ["0 lb.example.com. A 192.0.2.10"]
    );
    // The route's own annotation wins over the Gateway's.
    assert_eq!(
        lines(&out, "TCPRoute/shop/cache"),
        ["0 cache.example.com. A 192.0.2.10"]
    );
    // The Gateway's annotation names only the routes that have no hostnames field.
    assert!(lines(&out, "HTTPRoute/shop/web").is_empty());

    // The Gateway's annotation goes: so do the names it gave.
    let out = t.apply(&gateway(""));
    assert!(lines(&out, "TCPRoute/shop/db").is_empty());
    assert_eq!(
        lines(&out, "TCPRoute/shop/cache"),
        ["0 cache.example.com. A 192.0.2.10"]
    );
}

#[test]
fn a_listener_hostname_names_a_route_and_bounds_its_annotation() {
    let mut t = l4_translator();
    t.apply(&gateway(""));
    let named = "{name: gw, namespace: infra, sectionName: tcp-named}";
    let out = t.apply(&route("TCPRoute", "db", "", named));
    assert_eq!(
        lines(&out, "TCPRoute/shop/db"),
        ["0 db.example.com. A 192.0.2.10"]
    );
    // Without either, a listener without hostname gives nothing.
    let out = t.apply(&route("TCPRoute", "db", "", TCP));
    assert!(lines(&out, "TCPRoute/shop/db").is_empty());
    // An annotation outside the listener's hostname is not served through it.
    let out = t.apply(&route(
        "TCPRoute",
        "db",
        &format!("{HOSTNAME}: \"other, db\""),
        named,
    ));
    assert_eq!(
        lines(&out, "TCPRoute/shop/db"),
        ["0 db.example.com. A 192.0.2.10"]
    );
}

#[test]
fn listeners_admit_tcp_and_udp_routes_by_protocol_or_kinds() {
    let mut t = l4_translator();
    t.apply(&obj(r#"
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: infra}
spec:
  gatewayClassName: envoy
  listeners:
  - {name: tcp, port: 1, protocol: TCP, allowedRoutes: {namespaces: {from: All}}}
  - {name: udp, port: 2, protocol: UDP, allowedRoutes: {namespaces: {from: All}}}
  - {name: http, port: 3, protocol: HTTP, allowedRoutes: {namespaces: {from: All}}}
  - {name: tls, port: 4, protocol: TLS, allowedRoutes: {namespaces: {from: All}}}
  - {name: tls-tcp, port: 5, protocol: TLS, allowedRoutes: {namespaces: {from: All}, kinds: [{kind: TCPRoute}]}}
  - {name: tcp-udp, port: 6, protocol: TCP, allowedRoutes: {namespaces: {from: All}, kinds: [{group: gateway.networking.k8s.io, kind: UDPRoute}]}}
  - {name: tcp-same, port: 7, protocol: TCP}
status:
  addresses: [{value: 192.0.2.10}]
"#));
    let mut served = |kind: &str, section: &str| {
        let parent = format!("{{name: gw, namespace: infra, sectionName: {section}}}");
        let out = t.apply(&route(kind, "r", &format!("{HOSTNAME}: r"), &parent));
        !lines(&out, &format!("{kind}/shop/r")).is_empty()
    };
    assert!(served("TCPRoute", "tcp"));
    assert!(!served("UDPRoute", "tcp"));
    assert!(served("UDPRoute", "udp"));
    assert!(!served("TCPRoute", "udp"));
    for section in ["http", "tls"] {
        assert!(!served("TCPRoute", section), "{section}");
        assert!(!served("UDPRoute", section), "{section}");
    }
    assert!(served("TCPRoute", "tls-tcp"));
    assert!(served("UDPRoute", "tcp-udp"));
    assert!(!served("TCPRoute", "tcp-udp"));
    // allowedRoutes.namespaces defaults to the Gateway's own namespace.
    assert!(!served("TCPRoute", "tcp-same"));
}

#[test]
fn consent_and_zone_resources_apply_as_for_other_routes() {
    // The default resources have no TCPRoute.
    let mut t = translator(&["example.com"]);
    t.apply(&gateway(""));
    let out = t.apply(&route("TCPRoute", "db", &format!("{HOSTNAME}: db"), TCP));
    assert!(lines(&out, "TCPRoute/shop/db").is_empty());

    // No status: not served unless the zone lets the listeners decide.
    let without_status = obj(&route_yaml(
        "TCPRoute",
        "db",
        &format!("{HOSTNAME}: db"),
        TCP,
    ));
    let mut t = l4_translator();
    t.apply(&gateway(""));
    assert!(lines(&t.apply(&without_status), "TCPRoute/shop/db").is_empty());
    let mut listeners = l4_zone();
    listeners.gateway_consent = GatewayConsent::Listeners;
    let mut t = Translator::new(vec![listeners]);
    t.apply(&gateway(""));
    assert_eq!(
        lines(&t.apply(&without_status), "TCPRoute/shop/db"),
        ["0 db.example.com. A 192.0.2.10"]
    );
}

#[test]
fn a_bad_annotation_name_is_reported_and_the_rest_kept() {
    let mut t = l4_translator();
    t.apply(&gateway(""));
    let out = t.apply(&route(
        "TCPRoute",
        "db",
        &format!("{HOSTNAME}: \"db, a.*.b\""),
        TCP,
    ));
    assert_one_problem(
        &out,
        "TCPRoute/shop/db",
        &format!("metadata.annotations[{HOSTNAME:?}]"),
        "a.*.b",
    );
    assert_eq!(
        lines(&out, "TCPRoute/shop/db"),
        ["0 db.example.com. A 192.0.2.10"]
    );

    // On the Gateway, it is the Gateway's problem, reported once however many Kinds read it.
    let out = t.apply(&gateway(&format!("{HOSTNAME}: \"lb, x.*.y\"")));
    assert_one_problem(
        &out,
        "Gateway/infra/gw",
        &format!("metadata.annotations[{HOSTNAME:?}]"),
        "x.*.y",
    );
}

#[test]
fn tcp_routes_are_read_at_v1alpha2_and_their_hostnames_field_is_not_theirs() {
    let mut t = l4_translator();
    t.apply(&gateway(""));
    let route = accepted(&format!(
        r#"
apiVersion: gateway.networking.k8s.io/v1alpha2
kind: TCPRoute
metadata:
  name: db
  namespace: shop
  annotations: {{{HOSTNAME}: db}}
spec:
  hostnames: [not-a-tcp-field.example.com]
  parentRefs: [{TCP}]
"#
    ));
    assert_eq!(route.kind(), Kind::TcpRoute);
    let out = t.apply(&route);
    assert_eq!(
        lines(&out, "TCPRoute/shop/db"),
        ["0 db.example.com. A 192.0.2.10"]
    );
    let out = t.delete(&oref(Kind::TcpRoute, "shop", "db"));
    assert!(lines(&out, "TCPRoute/shop/db").is_empty());
    assert_eq!(t.remembered(), (1, 0));
}
