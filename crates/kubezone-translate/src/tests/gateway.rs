use super::*;
use crate::GatewayConsent;

/// A Gateway `infra/<name>` of `class` with HTTP listeners `a` (a.example.com), `b`
/// (b.example.com) and `plain` (no hostname) and a TLS listener `tls` (tls.example.com), each
/// admitting routes from every namespace, and the given status addresses.
fn gateway(name: &str, class: &str, addresses: &[(&str, &str)]) -> KubeObject {
    let addresses: String = addresses
        .iter()
        .map(|(ty, value)| match *ty {
            "" => format!("\n  - value: \"{value}\""),
            ty => format!("\n  - type: {ty}\n    value: \"{value}\""),
        })
        .collect();
    obj(&format!(
        r#"
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: {name}
  namespace: infra
spec:
  gatewayClassName: {class}
  listeners:
  - name: a
    hostname: a.example.com
    port: 80
    protocol: HTTP
    allowedRoutes: {{namespaces: {{from: All}}}}
  - name: b
    hostname: b.example.com
    port: 80
    protocol: HTTP
    allowedRoutes: {{namespaces: {{from: All}}}}
  - name: plain
    port: 8080
    protocol: HTTP
    allowedRoutes: {{namespaces: {{from: All}}}}
  - name: tls
    hostname: tls.example.com
    port: 443
    protocol: TLS
    allowedRoutes: {{namespaces: {{from: All}}}}
status:
  addresses:{addresses}
"#
    ))
}

/// The route in `yaml`, with a status in which every parent it names accepted it, as a
/// Gateway controller writes it.
pub(super) fn accepted(yaml: &str) -> KubeObject {
    let mut value: serde_json::Value = serde_norway::from_str(yaml).expect("valid YAML");
    let parents: Vec<serde_json::Value> = value
        .pointer("/spec/parentRefs")
        .and_then(|p| p.as_array())
        .into_iter()
        .flatten()
        .map(|parent| {
            serde_json::json!({
                "parentRef": parent,
                "controllerName": "example.com/gateway-controller",
                "conditions": [
                    {"type": "Accepted", "status": "True", "reason": "Accepted"},
                    {"type": "ResolvedRefs", "status": "True", "reason": "ResolvedRefs"},
                ],
            })
        })
        .collect();
    value["status"] = serde_json::json!({ "parents": parents });
    KubeObject::from_value(value)
        .expect("a valid object")
        .expect("a route")
}

/// An HTTPRoute `shop/<name>` accepted by every parent it names.
fn http_route(name: &str, hostnames: &[&str], parent_refs: &str) -> KubeObject {
    accepted(&http_route_yaml(name, hostnames, parent_refs))
}

fn http_route_yaml(name: &str, hostnames: &[&str], parent_refs: &str) -> String {
    let hostnames = if hostnames.is_empty() {
        String::new()
    } else {
        format!("  hostnames: [{}]\n", hostnames.join(", "))
    };
    format!(
        r#"
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: {name}
  namespace: shop
spec:
{hostnames}  parentRefs:
{parent_refs}
"#
    )
}

const TO_GW: &str = "  - name: gw\n    namespace: infra";

#[test]
fn route_before_gateway() {
    let mut t = translator(&["example.com"]);
    let out = t.apply(&http_route("web", &["web.example.com"], TO_GW));
    assert_eq!(updated(&out), ["HTTPRoute/shop/web"]);
    assert!(lines(&out, "HTTPRoute/shop/web").is_empty());

    let out = t.apply(&gateway("gw", "envoy", &[("IPAddress", "192.0.2.10")]));
    assert!(out.problems.is_empty(), "{:?}", problems(&out));
    assert_eq!(updated(&out), ["Gateway/infra/gw", "HTTPRoute/shop/web"]);
    assert!(
        lines(&out, "Gateway/infra/gw").is_empty(),
        "a Gateway owns no names"
    );
    assert_eq!(
        lines(&out, "HTTPRoute/shop/web"),
        ["0 web.example.com. A 192.0.2.10"]
    );
}

#[test]
fn gateway_before_route() {
    let mut t = translator(&["example.com"]);
    let out = t.apply(&gateway("gw", "envoy", &[("IPAddress", "192.0.2.10")]));
    assert_eq!(updated(&out), ["Gateway/infra/gw"]);
    let out = t.apply(&http_route("web", &["web.example.com"], TO_GW));
    assert_eq!(
        lines(&out, "HTTPRoute/shop/web"),
        ["0 web.example.com. A 192.0.2.10"]
    );
}

#[test]
fn gateway_address_change_and_delete_re_emit_routes() {
    let mut t = translator(&["example.com"]);
    t.apply(&gateway("gw", "envoy", &[("IPAddress", "192.0.2.10")]));
    t.apply(&http_route("web", &["web.example.com"], TO_GW));
    t.apply(&http_route("api", &["api.example.com"], TO_GW));
    t.apply(&http_route(
        "other",
        &["other.example.com"],
        "  - name: gw2\n    namespace: infra",
    ));

    let out = t.apply(&gateway(
        "gw",
        "envoy",
        &[
            ("IPAddress", "192.0.2.11"),
            ("", "2001:db8::11"),
            ("Hostname", "gw.lb.example.net"),
        ],
    ));
    assert_eq!(
        updated(&out),
        [
            "Gateway/infra/gw",
            "HTTPRoute/shop/api",
            "HTTPRoute/shop/web"
        ],
        "only the routes attached to this Gateway"
    );
    assert_eq!(
        lines(&out, "HTTPRoute/shop/web"),
        [
            "0 web.example.com. A 192.0.2.11",
            "0 web.example.com. AAAA 2001:db8::11",
            "0 web.example.com. CNAME gw.lb.example.net.",
        ]
    );

    let out = t.delete(&oref(Kind::Gateway, "infra", "gw"));
    assert_eq!(
        updated(&out),
        [
            "Gateway/infra/gw",
            "HTTPRoute/shop/api",
            "HTTPRoute/shop/web"
        ]
    );
    assert!(out.updates.iter().all(|u| u.endpoints.is_empty()));
    assert_eq!(t.remembered(), (0, 3));

    // It comes back: the routes are found again.
    let out = t.apply(&gateway("gw", "envoy", &[("IPAddress", "192.0.2.12")]));
    assert_eq!(
        lines(&out, "HTTPRoute/shop/api"),
        ["0 api.example.com. A 192.0.2.12"]
    );
}

#[test]
fn route_moves_to_another_gateway() {
    let mut t = translator(&["example.com"]);
    t.apply(&gateway("gw", "envoy", &[("IPAddress", "192.0.2.10")]));
    t.apply(&gateway("gw2", "envoy", &[("IPAddress", "192.0.2.20")]));
    t.apply(&http_route("web", &["web.example.com"], TO_GW));
    let out = t.apply(&http_route(
        "web",
        &["web.example.com"],
        "  - name: gw2\n    namespace: infra",
    ));
    assert_eq!(
        lines(&out, "HTTPRoute/shop/web"),
        ["0 web.example.com. A 192.0.2.20"]
    );
    // The old Gateway no longer drags the route along.
    let out = t.apply(&gateway("gw", "envoy", &[("IPAddress", "192.0.2.99")]));
    assert_eq!(updated(&out), ["Gateway/infra/gw"]);

    let out = t.delete(&oref(Kind::HttpRoute, "shop", "web"));
    assert_eq!(updated(&out), ["HTTPRoute/shop/web"]);
    assert!(lines(&out, "HTTPRoute/shop/web").is_empty());
    let out = t.apply(&gateway("gw2", "envoy", &[("IPAddress", "192.0.2.21")]));
    assert_eq!(updated(&out), ["Gateway/infra/gw2"]);
    assert_eq!(t.remembered(), (2, 0));
}

#[test]
fn routes_without_hostnames_take_the_listeners_and_section_name() {
    let mut t = translator(&["example.com"]);
    t.apply(&gateway("gw", "envoy", &[("IPAddress", "192.0.2.10")]));
    let out = t.apply(&http_route("all", &[], TO_GW));
    assert_eq!(
        lines(&out, "HTTPRoute/shop/all"),
        [
            "0 a.example.com. A 192.0.2.10",
            "0 b.example.com. A 192.0.2.10"
        ]
    );
    let out = t.apply(&http_route(
        "b",
        &[],
        "  - name: gw\n    namespace: infra\n    sectionName: b",
    ));
    assert_eq!(
        lines(&out, "HTTPRoute/shop/b"),
        ["0 b.example.com. A 192.0.2.10"]
    );
    let out = t.apply(&http_route(
        "plain",
        &[],
        "  - name: gw\n    namespace: infra\n    sectionName: plain",
    ));
    assert!(lines(&out, "HTTPRoute/shop/plain").is_empty());
    let out = t.apply(&http_route(
        "nope",
        &[],
        "  - name: gw\n    namespace: infra\n    sectionName: missing",
    ));
    assert!(lines(&out, "HTTPRoute/shop/nope").is_empty());
    // With hostnames of its own, only those the listener's hostname shares.
    let out = t.apply(&http_route(
        "own",
        &["own.example.com", "b.example.com"],
        "  - name: gw\n    namespace: infra\n    sectionName: b",
    ));
    assert_eq!(
        lines(&out, "HTTPRoute/shop/own"),
        ["0 b.example.com. A 192.0.2.10"]
    );
    let out = t.apply(&http_route(
        "other",
        &["own.example.com"],
        "  - name: gw\n    namespace: infra\n    sectionName: b",
    ));
    assert!(lines(&out, "HTTPRoute/shop/other").is_empty());
}

#[test]
fn targets_are_the_union_of_parents() {
    let mut t = translator(&["example.com"]);
    t.apply(&gateway("gw", "envoy", &[("IPAddress", "192.0.2.10")]));
    t.apply(&gateway(
        "gw2",
        "envoy",
        &[("IPAddress", "192.0.2.20"), ("IPAddress", "192.0.2.10")],
    ));
    let out = t.apply(&http_route(
        "web",
        &["web.example.com"],
        "  - name: gw\n    namespace: infra\n  - name: gw2\n    namespace: infra",
    ));
    assert_eq!(
        lines(&out, "HTTPRoute/shop/web"),
        [
            "0 web.example.com. A 192.0.2.10",
            "0 web.example.com. A 192.0.2.20"
        ]
    );
}

#[test]
fn gateway_classes_apply_per_parent_and_per_zone() {
    let mut envoy_only = zone("example.com");
    envoy_only.gateway_classes = vec!["envoy".into()];
    let mut t = Translator::new(vec![envoy_only, zone("other.org")]);
    t.apply(&gateway("gw", "envoy", &[("IPAddress", "192.0.2.10")]));
    t.apply(&gateway("gw2", "istio", &[("IPAddress", "192.0.2.20")]));
    let out = t.apply(&http_route(
        "web",
        &["web.example.com", "web.other.org"],
        "  - name: gw\n    namespace: infra\n  - name: gw2\n    namespace: infra",
    ));
    assert_eq!(
        lines(&out, "HTTPRoute/shop/web"),
        [
            "0 web.example.com. A 192.0.2.10",
            "1 web.other.org. A 192.0.2.10",
            "1 web.other.org. A 192.0.2.20",
        ]
    );
    // A class change is a Gateway update like any other.
    let out = t.apply(&gateway("gw", "nginx", &[("IPAddress", "192.0.2.10")]));
    assert_eq!(
        lines(&out, "HTTPRoute/shop/web"),
        [
            "1 web.other.org. A 192.0.2.10",
            "1 web.other.org. A 192.0.2.20"
        ]
    );
}

#[test]
fn parent_refs_defaults_and_other_kinds() {
    let mut t = translator(&["example.com"]);
    let out = t.apply(&obj(r#"
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: local, namespace: shop}
spec:
  gatewayClassName: envoy
  listeners: [{name: http, port: 80, protocol: HTTP}]
status:
  addresses: [{value: 192.0.2.30}]
"#));
    assert!(out.problems.is_empty(), "{:?}", problems(&out));
    let out = t.apply(&http_route(
        "web",
        &["web.example.com"],
        r#"  - name: local
  - name: local
    kind: Service
    group: ""
  - name: local
    group: example.io
  - name: local
    kind: Gateway
    group: gateway.networking.k8s.io"#,
    ));
    // The namespace defaults to the route's: shop/local, found once however often it is named.
    assert_eq!(
        lines(&out, "HTTPRoute/shop/web"),
        ["0 web.example.com. A 192.0.2.30"]
    );
    let out = t.apply(&http_route(
        "svc",
        &["svc.example.com"],
        "  - name: local\n    kind: Service\n    group: \"\"",
    ));
    assert!(lines(&out, "HTTPRoute/shop/svc").is_empty());
}

#[test]
fn bad_gateway_addresses_and_listeners_are_problems_of_the_gateway() {
    let mut t = translator(&["example.com"]);
    t.apply(&http_route("web", &["web.example.com"], TO_GW));
    let out = t.apply(&gateway(
        "gw",
        "envoy",
        &[
            ("IPAddress", "192.0.2.10"),
            ("NamedAddress", "my-pool"),
            ("IPAddress", "192.0.2.300"),
        ],
    ));
    assert_eq!(
        lines(&out, "HTTPRoute/shop/web"),
        ["0 web.example.com. A 192.0.2.10"]
    );
    let p = problems(&out);
    assert_eq!(p.len(), 2, "{p:?}");
    assert!(
        p.iter()
            .all(|p| p.starts_with("Gateway/infra/gw: status.addresses[")),
        "{p:?}"
    );
    assert!(
        p.iter()
            .any(|p| p.contains("status.addresses[1].type") && p.contains("NamedAddress")),
        "{p:?}"
    );
    assert!(
        p.iter()
            .any(|p| p.contains("status.addresses[2].value") && p.contains("192.0.2.300")),
        "{p:?}"
    );

    let out = t.apply(&obj(r#"
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: infra}
spec:
  gatewayClassName: envoy
  listeners:
  - {name: bad, hostname: "a.*.example.com", port: 80, protocol: HTTP, allowedRoutes: {namespaces: {from: All}}}
  - {name: good, hostname: "*.good.example.com", port: 80, protocol: HTTP, allowedRoutes: {namespaces: {from: All}}}
  - {name: plain, port: 80, protocol: HTTP, allowedRoutes: {namespaces: {from: All}}}
status:
  addresses: [{type: Hostname, value: 192.0.2.1}, {type: Hostname, value: lb.example.net}]
"#));
    let p = problems(&out);
    assert_eq!(p.len(), 2, "{p:?}");
    assert!(
        p.iter()
            .any(|p| p.contains("spec.listeners[0].hostname") && p.contains("a.*.example.com")),
        "{p:?}"
    );
    assert!(
        p.iter()
            .any(|p| p.contains("status.addresses[0].value") && p.contains("192.0.2.1")),
        "{p:?}"
    );
    assert_eq!(
        lines(&out, "HTTPRoute/shop/web"),
        ["0 web.example.com. CNAME lb.example.net."]
    );
    // The bad listener admits nothing, rather than every name as a listener without one would.
    let out = t.apply(&http_route("wild", &[], TO_GW));
    assert_eq!(
        lines(&out, "HTTPRoute/shop/wild"),
        ["0 *.good.example.com. CNAME lb.example.net."]
    );
    assert!(out.problems.is_empty());
    let out = t.apply(&http_route(
        "a",
        &[],
        "  - name: gw\n    namespace: infra\n    sectionName: bad",
    ));
    assert!(lines(&out, "HTTPRoute/shop/a").is_empty());
}

#[test]
fn route_problems_are_reported_once_and_the_rest_is_served() {
    let mut t = translator(&["example.com"]);
    let out = t.apply(&http_route(
        "web",
        &["web.example.com", "\"bad name.example.com\""],
        TO_GW,
    ));
    assert_one_problem(
        &out,
        "HTTPRoute/shop/web",
        "spec.hostnames[1]",
        "bad name.example.com",
    );
    let out = t.apply(&gateway("gw", "envoy", &[("IPAddress", "192.0.2.10")]));
    assert!(
        out.problems.is_empty(),
        "re-emission repeats no problem: {:?}",
        problems(&out)
    );
    assert_eq!(
        lines(&out, "HTTPRoute/shop/web"),
        ["0 web.example.com. A 192.0.2.10"]
    );
}

#[test]
fn grpc_and_tls_routes() {
    let mut t = translator(&["example.com"]);
    t.apply(&gateway("gw", "envoy", &[("IPAddress", "192.0.2.10")]));
    let out = t.apply(&accepted(
        r#"
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: {name: rpc, namespace: shop}
spec:
  hostnames: [rpc.example.com]
  parentRefs: [{name: gw, namespace: infra}]
"#,
    ));
    assert_eq!(
        lines(&out, "GRPCRoute/shop/rpc"),
        ["0 rpc.example.com. A 192.0.2.10"]
    );
    let out = t.apply(&accepted(
        r#"
apiVersion: gateway.networking.k8s.io/v1
kind: TLSRoute
metadata: {name: tls, namespace: shop}
spec:
  hostnames: [tls.example.com]
  parentRefs: [{name: gw, namespace: infra}]
  rules:
  - backendRefs: [{name: tls-backend, port: 443}]
"#,
    ));
    assert_eq!(
        lines(&out, "TLSRoute/shop/tls"),
        ["0 tls.example.com. A 192.0.2.10"]
    );
    // v1alpha2 lets a TLSRoute leave out hostnames (and rules) and take the listener's.
    let out = t.apply(&accepted(
        r#"
apiVersion: gateway.networking.k8s.io/v1alpha2
kind: TLSRoute
metadata: {name: old, namespace: shop}
spec:
  parentRefs: [{name: gw, namespace: infra, sectionName: tls}]
"#,
    ));
    assert_eq!(
        lines(&out, "TLSRoute/shop/old"),
        ["0 tls.example.com. A 192.0.2.10"]
    );
    // An HTTP listener takes no TLSRoute, a TLS listener no HTTPRoute or GRPCRoute.
    let out = t.apply(&accepted(
        r#"
apiVersion: gateway.networking.k8s.io/v1
kind: TLSRoute
metadata: {name: on-http, namespace: shop}
spec:
  parentRefs: [{name: gw, namespace: infra, sectionName: a}]
"#,
    ));
    assert!(lines(&out, "TLSRoute/shop/on-http").is_empty());
    let out = t.apply(&http_route(
        "on-tls",
        &[],
        "  - name: gw\n    namespace: infra\n    sectionName: tls",
    ));
    assert!(lines(&out, "HTTPRoute/shop/on-tls").is_empty());

    let out = t.apply(&gateway("gw", "envoy", &[("IPAddress", "192.0.2.11")]));
    assert_eq!(
        updated(&out),
        [
            "Gateway/infra/gw",
            "HTTPRoute/shop/on-tls",
            "TLSRoute/shop/old",
            "TLSRoute/shop/on-http",
            "TLSRoute/shop/tls",
            "GRPCRoute/shop/rpc"
        ]
    );
}

#[test]
fn route_kinds_are_served_only_where_listed() {
    let mut t = Translator::new(vec![zone_with("example.com", &[Kind::GrpcRoute])]);
    t.apply(&gateway("gw", "envoy", &[("IPAddress", "192.0.2.10")]));
    let out = t.apply(&http_route("web", &["web.example.com"], TO_GW));
    assert!(lines(&out, "HTTPRoute/shop/web").is_empty());
}

#[test]
fn route_ttl_and_ignore() {
    let mut t = translator(&["example.com"]);
    t.apply(&gateway("gw", "envoy", &[("IPAddress", "192.0.2.10")]));
    let route = |labels: &str| {
        accepted(&format!(
            r#"
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: web
  namespace: shop
  annotations: {{kubezone.io/ttl: "45"}}
  labels: {{{labels}}}
spec:
  hostnames: [web.example.com]
  parentRefs: [{{name: gw, namespace: infra}}]
"#
        ))
    };
    let out = t.apply(&route(""));
    assert_eq!(
        lines(&out, "HTTPRoute/shop/web"),
        ["0 web.example.com. A 192.0.2.10 ttl=45"]
    );
    // The TTL survives a Gateway change.
    let out = t.apply(&gateway("gw", "envoy", &[("IPAddress", "192.0.2.11")]));
    assert_eq!(
        lines(&out, "HTTPRoute/shop/web"),
        ["0 web.example.com. A 192.0.2.11 ttl=45"]
    );

    let out = t.apply(&route("k8s-gateway.dns/ignore: \"true\""));
    assert!(lines(&out, "HTTPRoute/shop/web").is_empty());
    let out = t.apply(&gateway("gw", "envoy", &[("IPAddress", "192.0.2.12")]));
    assert_eq!(
        updated(&out),
        ["Gateway/infra/gw"],
        "an ignored route is forgotten"
    );
}

#[test]
fn an_ignored_gateway_lends_no_addresses() {
    let mut t = translator(&["example.com"]);
    t.apply(&gateway("gw", "envoy", &[("IPAddress", "192.0.2.10")]));
    t.apply(&http_route("web", &["web.example.com"], TO_GW));
    let out = t.apply(&obj(r#"
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: gw
  namespace: infra
  labels: {kubezone.io/ignore: "true"}
spec:
  gatewayClassName: envoy
  listeners: []
status:
  addresses: [{value: 192.0.2.10}]
"#));
    assert_eq!(updated(&out), ["Gateway/infra/gw", "HTTPRoute/shop/web"]);
    assert!(lines(&out, "HTTPRoute/shop/web").is_empty());
}

/// Values a newer (or the experimental) Gateway API has and kubezone's types may not: an
/// unknown filter type, parent kind and listener protocol, and fields nobody knows yet. The
/// route must still be read, and served through the Gateway it names.
#[test]
fn values_from_a_newer_gateway_api_are_read() {
    let mut t = translator(&["example.com"]);
    let out = t.apply(&obj(r#"
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: infra}
spec:
  gatewayClassName: envoy
  futureField: {enabled: true}
  listeners:
  - {name: quic, port: 443, protocol: example.com/QUIC}
  - {name: http, port: 80, protocol: HTTP, allowedRoutes: {namespaces: {from: All}}}
status:
  addresses: [{value: 192.0.2.10}]
"#));
    assert!(out.problems.is_empty(), "{:?}", problems(&out));
    let out = t.apply(&obj(r#"
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web, namespace: shop}
spec:
  hostnames: [web.example.com]
  parentRefs:
  - {name: gw, namespace: infra}
  - {group: gateway.networking.k8s.io, kind: ListenerSet, name: extra, namespace: infra}
  futureField: [1, 2]
  rules:
  - filters:
    - type: ExternalAuth
      externalAuth: {protocol: HTTP, backendRef: {name: auth, port: 9000}}
    matches:
    - path: {type: PathPrefix, value: /}
      method: QUERY
status:
  parents:
  - parentRef: {name: gw, namespace: infra}
    controllerName: example.com/gateway
    conditions: [{type: Accepted, status: "True", reason: Accepted}]
"#));
    assert!(out.problems.is_empty(), "{:?}", problems(&out));
    assert_eq!(
        lines(&out, "HTTPRoute/shop/web"),
        ["0 web.example.com. A 192.0.2.10"]
    );
}

/// A route written with `status` as given (YAML at the indentation of `status:`'s content).
fn route_with_status(kind: &str, name: &str, spec: &str, status: &str) -> KubeObject {
    obj(&format!(
        r#"
apiVersion: gateway.networking.k8s.io/v1
kind: {kind}
metadata: {{name: {name}, namespace: shop}}
spec:
{spec}
status:
{status}
"#
    ))
}

/// A Gateway `infra/<name>` at 192.0.2.10 with the given listeners (a YAML flow list).
fn gateway_with(name: &str, listeners: &str) -> KubeObject {
    obj(&format!(
        r#"
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {{name: {name}, namespace: infra}}
spec:
  gatewayClassName: envoy
  listeners: {listeners}
status:
  addresses: [{{value: 192.0.2.10}}]
"#
    ))
}

fn namespace(name: &str, labels: &str) -> KubeObject {
    obj(&format!(
        "apiVersion: v1\nkind: Namespace\nmetadata: {{name: {name}, labels: {{{labels}}}}}\n"
    ))
}

const WEB_TO_GW_AND_GW2: &str = "  hostnames: [web.example.com]
  parentRefs: [{name: gw, namespace: infra}, {name: gw2, namespace: infra}]";

#[test]
fn a_route_is_served_only_through_parents_that_accepted_it() {
    let mut t = translator(&["example.com"]);
    t.apply(&gateway("gw", "envoy", &[("IPAddress", "192.0.2.10")]));
    t.apply(&gateway("gw2", "envoy", &[("IPAddress", "192.0.2.20")]));
    let route = |status: &str| route_with_status("HTTPRoute", "web", WEB_TO_GW_AND_GW2, status);

    // Accepted by gw, refused by gw2 (another controller): gw's addresses only.
    let out = t.apply(&route(
        r#"  parents:
  - parentRef: {name: gw, namespace: infra}
    controllerName: example.com/one
    conditions: [{type: Accepted, status: "True"}]
  - parentRef: {name: gw2, namespace: infra}
    controllerName: example.com/two
    conditions: [{type: Accepted, status: "False", reason: NotAllowedByListeners}]"#,
    ));
    assert_eq!(
        lines(&out, "HTTPRoute/shop/web"),
        ["0 web.example.com. A 192.0.2.10"]
    );

    // No status (the controller has not seen it yet), `Accepted` unknown, or only other
    // conditions: nothing.
    for status in [
        "  parents: []",
        r#"  parents:
  - parentRef: {name: gw, namespace: infra}
    controllerName: example.com/one
    conditions: [{type: Accepted, status: Unknown}, {type: ResolvedRefs, status: "True"}]"#,
        r#"  parents:
  - parentRef: {name: gw, namespace: infra}
    controllerName: example.com/one
    conditions: [{type: ResolvedRefs, status: "True"}, {type: Programmed, status: "True"}]"#,
    ] {
        let out = t.apply(&route(status));
        assert!(lines(&out, "HTTPRoute/shop/web").is_empty(), "{status}");
    }
    let out = t.apply(&http_route_obj_without_status());
    assert!(lines(&out, "HTTPRoute/shop/web").is_empty());

    // Accepted by both now.
    let out = t.apply(&route(
        r#"  parents:
  - parentRef: {name: gw, namespace: infra}
    controllerName: example.com/one
    conditions: [{type: Accepted, status: "True"}]
  - parentRef: {name: gw2, namespace: infra}
    controllerName: example.com/two
    conditions: [{type: Accepted, status: "True"}]"#,
    ));
    assert_eq!(
        lines(&out, "HTTPRoute/shop/web"),
        [
            "0 web.example.com. A 192.0.2.10",
            "0 web.example.com. A 192.0.2.20"
        ]
    );
}

fn http_route_obj_without_status() -> KubeObject {
    obj(&http_route_yaml(
        "web",
        &["web.example.com"],
        "  - name: gw\n    namespace: infra\n  - name: gw2\n    namespace: infra",
    ))
}

#[test]
fn status_parent_refs_match_as_the_gateway_api_compares_them() {
    let mut t = translator(&["example.com"]);
    t.apply(&gateway("gw", "envoy", &[("IPAddress", "192.0.2.10")]));
    let served = |t: &mut Translator, spec_ref: &str, status_ref: &str| {
        let out = t.apply(&route_with_status(
            "HTTPRoute",
            "web",
            &format!("  hostnames: [web.example.com]\n  parentRefs: [{spec_ref}]"),
            &format!(
                "  parents:\n  - parentRef: {status_ref}\n    controllerName: x/y\n    conditions: [{{type: Accepted, status: \"True\"}}]"
            ),
        ));
        !lines(&out, "HTTPRoute/shop/web").is_empty()
    };
    // Defaults: group, kind, and the route's own namespace.
    assert!(served(
        &mut t,
        "{name: gw, namespace: infra}",
        "{group: gateway.networking.k8s.io, kind: Gateway, name: gw, namespace: infra}"
    ));
    assert!(served(
        &mut t,
        "{group: gateway.networking.k8s.io, kind: Gateway, name: gw, namespace: infra, sectionName: plain, port: 8080}",
        "{name: gw, namespace: infra, sectionName: plain, port: 8080}"
    ));
    // Every field counts: name, namespace, sectionName, port.
    for (spec_ref, status_ref) in [
        (
            "{name: gw, namespace: infra}",
            "{name: gw2, namespace: infra}",
        ),
        ("{name: gw, namespace: infra}", "{name: gw}"),
        (
            "{name: gw, namespace: infra}",
            "{name: gw, namespace: infra, sectionName: plain}",
        ),
        (
            "{name: gw, namespace: infra, sectionName: plain}",
            "{name: gw, namespace: infra}",
        ),
        (
            "{name: gw, namespace: infra}",
            "{name: gw, namespace: infra, port: 8080}",
        ),
        (
            "{name: gw, namespace: infra}",
            "{name: gw, namespace: infra, kind: ListenerSet}",
        ),
        (
            "{name: gw, namespace: infra}",
            "{name: gw, namespace: infra, group: example.io}",
        ),
    ] {
        assert!(
            !served(&mut t, spec_ref, status_ref),
            "{spec_ref} vs {status_ref}"
        );
    }

    // The namespace defaults to the route's on both sides.
    let out = t.apply(&obj("apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: local, namespace: shop}
spec:
  gatewayClassName: envoy
  listeners: [{name: http, port: 80, protocol: HTTP}]
status:
  addresses: [{value: 192.0.2.30}]"));
    assert!(out.problems.is_empty(), "{:?}", problems(&out));
    let out = t.apply(&route_with_status(
        "HTTPRoute",
        "web",
        "  hostnames: [web.example.com]\n  parentRefs: [{name: local}]",
        "  parents:\n  - parentRef: {name: local, namespace: shop}\n    controllerName: x/y\n    conditions: [{type: Accepted, status: \"True\"}]",
    ));
    assert_eq!(
        lines(&out, "HTTPRoute/shop/web"),
        ["0 web.example.com. A 192.0.2.30"]
    );
}

#[test]
fn a_zone_trusting_the_listeners_serves_routes_without_status() {
    let mut listeners = zone("example.org");
    listeners.gateway_consent = GatewayConsent::Listeners;
    let mut t = Translator::new(vec![zone("example.com"), listeners]);
    t.apply(&gateway("gw", "envoy", &[("IPAddress", "192.0.2.10")]));
    let out = t.apply(&obj(&http_route_yaml(
        "web",
        &["web.example.com", "web.example.org"],
        TO_GW,
    )));
    assert_eq!(
        lines(&out, "HTTPRoute/shop/web"),
        ["1 web.example.org. A 192.0.2.10"],
        "example.com needs the Gateway's consent"
    );
    // A refusal is not read either: the listeners decide.
    let out = t.apply(&route_with_status(
        "HTTPRoute",
        "web",
        "  hostnames: [web.example.com, web.example.org]\n  parentRefs: [{name: gw, namespace: infra}]",
        "  parents:\n  - parentRef: {name: gw, namespace: infra}\n    controllerName: x/y\n    conditions: [{type: Accepted, status: \"False\"}]",
    ));
    assert_eq!(
        lines(&out, "HTTPRoute/shop/web"),
        ["1 web.example.org. A 192.0.2.10"]
    );
    // But the listeners still decide: none admits routes from shop.
    t.apply(&gateway_with(
        "gw",
        "[{name: http, port: 80, protocol: HTTP}]",
    ));
    let out = t.apply(&obj(&http_route_yaml("web", &["web.example.org"], TO_GW)));
    assert!(lines(&out, "HTTPRoute/shop/web").is_empty());
}

#[test]
fn listeners_admit_routes_from_their_own_namespace_by_default() {
    let mut t = translator(&["example.com"]);
    t.apply(&gateway_with(
        "gw",
        "[{name: http, port: 80, protocol: HTTP}, {name: same, port: 81, protocol: HTTP, allowedRoutes: {namespaces: {from: Same}}}]",
    ));
    let out = t.apply(&http_route("web", &["web.example.com"], TO_GW));
    assert!(
        lines(&out, "HTTPRoute/shop/web").is_empty(),
        "shop is not the Gateway's namespace"
    );
    let out = t.apply(&accepted(
        "apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: own, namespace: infra}
spec:
  hostnames: [own.example.com]
  parentRefs: [{name: gw}]",
    ));
    assert_eq!(
        lines(&out, "HTTPRoute/infra/own"),
        ["0 own.example.com. A 192.0.2.10"]
    );
}

#[test]
fn listeners_admit_every_namespace_with_from_all() {
    let mut t = translator(&["example.com"]);
    t.apply(&gateway_with(
        "gw",
        "[{name: same, port: 80, protocol: HTTP}, {name: all, port: 81, protocol: HTTP, allowedRoutes: {namespaces: {from: All}}}]",
    ));
    let out = t.apply(&http_route("web", &["web.example.com"], TO_GW));
    assert_eq!(
        lines(&out, "HTTPRoute/shop/web"),
        ["0 web.example.com. A 192.0.2.10"]
    );
    // Through the Same listener alone, shop is not admitted.
    let out = t.apply(&http_route(
        "web",
        &["web.example.com"],
        "  - name: gw\n    namespace: infra\n    sectionName: same",
    ));
    assert!(lines(&out, "HTTPRoute/shop/web").is_empty());
}

/// The case that matters on a shared Gateway: a team whose namespace the listener does not
/// select cannot publish a name (here another team's) through it, whatever its status says.
#[test]
fn listeners_admit_namespaces_their_selector_matches() {
    let mut t = translator(&["example.com"]);
    t.apply(&gateway_with(
        "shared",
        r#"[{name: http, port: 80, protocol: HTTP, allowedRoutes: {namespaces: {from: Selector, selector: {matchLabels: {gateway-access: "true"}, matchExpressions: [{key: team, operator: In, values: [shop, payments]}]}}}}]"#,
    ));
    let to_shared = "  - name: shared\n    namespace: infra";
    // Before its Namespace is known, shop is not admitted.
    let out = t.apply(&http_route("web", &["www.example.com"], to_shared));
    assert!(lines(&out, "HTTPRoute/shop/web").is_empty());

    let out = t.apply(&namespace("shop", r#"gateway-access: "true", team: shop"#));
    assert_eq!(updated(&out), ["Namespace/shop", "HTTPRoute/shop/web"]);
    assert_eq!(
        lines(&out, "HTTPRoute/shop/web"),
        ["0 www.example.com. A 192.0.2.10"]
    );
    // A namespace the selector does not match.
    t.apply(&namespace("evil", "team: evil"));
    let out = t.apply(&accepted(
        "apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: takeover, namespace: evil}
spec:
  hostnames: [www.example.com]
  parentRefs: [{name: shared, namespace: infra}]",
    ));
    assert!(lines(&out, "HTTPRoute/evil/takeover").is_empty());

    // A label change re-translates that namespace's routes, and only those.
    let out = t.apply(&namespace(
        "evil",
        r#"gateway-access: "true", team: payments"#,
    ));
    assert_eq!(updated(&out), ["Namespace/evil", "HTTPRoute/evil/takeover"]);
    assert_eq!(
        lines(&out, "HTTPRoute/evil/takeover"),
        ["0 www.example.com. A 192.0.2.10"]
    );
    let out = t.apply(&namespace("evil", "team: evil"));
    assert!(lines(&out, "HTTPRoute/evil/takeover").is_empty());
    // Routes in a namespace no Gateway selects by label are left alone.
    let out = t.apply(&namespace("infra", "team: infra"));
    assert_eq!(updated(&out), ["Namespace/infra"]);

    // A deleted Namespace's labels are forgotten.
    let out = t.delete(&ObjectRef::new(Kind::Namespace, None, "shop"));
    assert_eq!(updated(&out), ["Namespace/shop", "HTTPRoute/shop/web"]);
    assert!(lines(&out, "HTTPRoute/shop/web").is_empty());
    assert_eq!(t.remembered_namespaces(), 2, "evil and infra");
}

#[test]
fn a_selector_may_name_namespaces_by_their_name_label() {
    let mut t = translator(&["example.com"]);
    t.apply(&gateway_with(
        "gw",
        r#"[{name: http, port: 80, protocol: HTTP, allowedRoutes: {namespaces: {from: Selector, selector: {matchExpressions: [{key: kubernetes.io/metadata.name, operator: In, values: [shop]}]}}}}]"#,
    ));
    // Written by hand without the label the API server would have set.
    t.apply(&namespace("shop", ""));
    let out = t.apply(&http_route("web", &["web.example.com"], TO_GW));
    assert_eq!(
        lines(&out, "HTTPRoute/shop/web"),
        ["0 web.example.com. A 192.0.2.10"]
    );
    // Labels on a Namespace are only matched: the ignore label does not drop them.
    let out = t.apply(&namespace("shop", r#"kubezone.io/ignore: "true""#));
    assert_eq!(updated(&out), ["Namespace/shop", "HTTPRoute/shop/web"]);
    assert_eq!(
        lines(&out, "HTTPRoute/shop/web"),
        ["0 web.example.com. A 192.0.2.10"]
    );
}

#[test]
fn an_unknown_from_or_a_bad_selector_is_a_problem_and_admits_nothing() {
    let mut t = translator(&["example.com"]);
    t.apply(&namespace("shop", "team: shop"));
    t.apply(&http_route("web", &["web.example.com"], TO_GW));
    let out = t.apply(&gateway_with(
        "gw",
        "[{name: http, port: 80, protocol: HTTP, allowedRoutes: {namespaces: {from: Friends}}}]",
    ));
    assert_one_problem(
        &out,
        "Gateway/infra/gw",
        "spec.listeners[0].allowedRoutes.namespaces.from",
        "Friends",
    );
    assert!(lines(&out, "HTTPRoute/shop/web").is_empty());

    let out = t.apply(&gateway_with(
        "gw",
        "[{name: http, port: 80, protocol: HTTP, allowedRoutes: {namespaces: {from: Selector, selector: {matchExpressions: [{key: team, operator: Resembles, values: [shop]}]}}}}]",
    ));
    assert_one_problem(
        &out,
        "Gateway/infra/gw",
        "spec.listeners[0].allowedRoutes.namespaces.selector.matchExpressions[0]",
        "team Resembles",
    );
    assert!(lines(&out, "HTTPRoute/shop/web").is_empty());

    let out = t.apply(&gateway_with(
        "gw",
        "[{name: http, port: 80, protocol: HTTP, allowedRoutes: {namespaces: {from: Selector}}}]",
    ));
    assert_one_problem(
        &out,
        "Gateway/infra/gw",
        "spec.listeners[0].allowedRoutes.namespaces.from",
        "Selector",
    );
    assert!(lines(&out, "HTTPRoute/shop/web").is_empty());

    // An empty selector matches every namespace, as in Kubernetes.
    let out = t.apply(&gateway_with(
        "gw",
        "[{name: http, port: 80, protocol: HTTP, allowedRoutes: {namespaces: {from: Selector, selector: {}}}}]",
    ));
    assert!(out.problems.is_empty(), "{:?}", problems(&out));
    assert_eq!(
        lines(&out, "HTTPRoute/shop/web"),
        ["0 web.example.com. A 192.0.2.10"]
    );
}

#[test]
fn listeners_admit_the_kinds_they_list_or_their_protocol_takes() {
    let mut t = translator(&["example.com"]);
    let grpc = |name: &str, section: &str| {
        accepted(&format!(
            "apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: {{name: {name}, namespace: shop}}
spec:
  hostnames: [{name}.example.com]
  parentRefs: [{{name: gw, namespace: infra, sectionName: {section}}}]"
        ))
    };
    let tls = |name: &str, section: &str| {
        accepted(&format!(
            "apiVersion: gateway.networking.k8s.io/v1
kind: TLSRoute
metadata: {{name: {name}, namespace: shop}}
spec:
  hostnames: [{name}.example.com]
  parentRefs: [{{name: gw, namespace: infra, sectionName: {section}}}]"
        ))
    };
    let http = |name: &str, section: &str| {
        http_route(
            name,
            &[&format!("{name}.example.com")],
            &format!("  - name: gw\n    namespace: infra\n    sectionName: {section}"),
        )
    };
    t.apply(&gateway_with(
        "gw",
        "[
  {name: https, port: 443, protocol: HTTPS, allowedRoutes: {namespaces: {from: All}}},
  {name: tls, port: 8443, protocol: TLS, allowedRoutes: {namespaces: {from: All}}},
  {name: grpc-only, port: 9000, protocol: HTTPS, allowedRoutes: {namespaces: {from: All}, kinds: [{kind: GRPCRoute}]}},
  {name: tls-listed, port: 9443, protocol: HTTPS, allowedRoutes: {namespaces: {from: All}, kinds: [{group: gateway.networking.k8s.io, kind: TLSRoute}, {group: example.io, kind: HTTPRoute}]}},
  {name: tcp, port: 5432, protocol: TCP, allowedRoutes: {namespaces: {from: All}}},
  {name: quic, port: 4433, protocol: example.com/QUIC, allowedRoutes: {namespaces: {from: All}}}]",
    ));
    let served = |t: &mut Translator, route: KubeObject| {
        let object = route.object_ref().to_string();
        !lines(&t.apply(&route), &object).is_empty()
    };
    // HTTPS (as HTTP) takes HTTPRoute and GRPCRoute; TLS takes TLSRoute.
    assert!(served(&mut t, http("h1", "https")));
    assert!(served(&mut t, grpc("g1", "https")));
    assert!(!served(&mut t, tls("t1", "https")));
    assert!(served(&mut t, tls("t2", "tls")));
    assert!(!served(&mut t, http("h2", "tls")));
    assert!(!served(&mut t, grpc("g2", "tls")));
    // Listed kinds replace the protocol's; a kind of another group is not ours.
    assert!(served(&mut t, grpc("g3", "grpc-only")));
    assert!(!served(&mut t, http("h3", "grpc-only")));
    assert!(served(&mut t, tls("t3", "tls-listed")));
    assert!(!served(&mut t, http("h4", "tls-listed")));
    // TCP takes none of them, nor does a protocol kubezone does not know.
    assert!(!served(&mut t, http("h5", "tcp")));
    assert!(!served(&mut t, http("h6", "quic")));
}

#[test]
fn a_parent_port_selects_the_listeners_on_it() {
    let mut t = translator(&["example.com"]);
    t.apply(&gateway("gw", "envoy", &[("IPAddress", "192.0.2.10")]));
    fn served(t: &mut Translator, parent: &str) -> Vec<String> {
        let out = t.apply(&http_route("web", &[], parent));
        lines(&out, "HTTPRoute/shop/web")
    }
    assert_eq!(
        served(&mut t, "  - name: gw\n    namespace: infra\n    port: 80"),
        [
            "0 a.example.com. A 192.0.2.10",
            "0 b.example.com. A 192.0.2.10"
        ]
    );
    assert_eq!(
        served(
            &mut t,
            "  - name: gw\n    namespace: infra\n    port: 80\n    sectionName: b"
        ),
        ["0 b.example.com. A 192.0.2.10"]
    );
    assert!(
        served(
            &mut t,
            "  - name: gw\n    namespace: infra\n    port: 8080\n    sectionName: b"
        )
        .is_empty()
    );
}

#[test]
fn route_hostnames_meet_the_listeners_hostnames() {
    let mut t = translator(&["example.com"]);
    t.apply(&gateway_with(
        "gw",
        r#"[
  {name: wild, port: 80, protocol: HTTP, hostname: "*.apps.example.com", allowedRoutes: {namespaces: {from: All}}},
  {name: exact, port: 81, protocol: HTTP, hostname: foo.example.com, allowedRoutes: {namespaces: {from: All}}},
  {name: any, port: 82, protocol: HTTP, allowedRoutes: {namespaces: {from: All}}}]"#,
    ));
    let served = |t: &mut Translator, hostnames: &[&str], section: &str| {
        let out = t.apply(&http_route(
            "web",
            hostnames,
            &format!("  - name: gw\n    namespace: infra\n    sectionName: {section}"),
        ));
        lines(&out, "HTTPRoute/shop/web")
            .iter()
            .map(|l| l.split(' ').nth(1).unwrap_or_default().to_string())
            .collect::<Vec<_>>()
    };
    // A listener wildcard: one or more labels in front of it, never its base or elsewhere.
    assert_eq!(
        served(
            &mut t,
            &[
                "a.apps.example.com",
                "a.b.apps.example.com",
                "apps.example.com",
                "www.example.com",
                "\"*.apps.example.com\"",
                "\"*.x.apps.example.com\""
            ],
            "wild"
        ),
        [
            "*.apps.example.com.",
            "a.apps.example.com.",
            "a.b.apps.example.com.",
            "*.x.apps.example.com."
        ]
    );
    // A route wildcard on an exact listener: the listener's name.
    assert_eq!(
        served(&mut t, &["\"*.example.com\""], "exact"),
        ["foo.example.com."]
    );
    assert!(served(&mut t, &["bar.example.com"], "exact").is_empty());
    // A listener without a hostname: the route's own.
    assert_eq!(
        served(&mut t, &["www.example.com", "\"*.example.com\""], "any"),
        ["*.example.com.", "www.example.com."]
    );
    // A route without hostnames: the listener's.
    assert_eq!(served(&mut t, &[], "wild"), ["*.apps.example.com."]);
    assert_eq!(served(&mut t, &[], "exact"), ["foo.example.com."]);
    assert!(served(&mut t, &[], "any").is_empty());
}
