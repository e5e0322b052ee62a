use super::*;

/// A Gateway `infra/<name>` of `class` with listeners `a` (a.example.com), `b` (b.example.com)
/// and `plain` (no hostname), and the given status addresses.
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
  - name: b
    hostname: b.example.com
    port: 80
    protocol: HTTP
  - name: plain
    port: 8080
    protocol: HTTP
status:
  addresses:{addresses}
"#
    ))
}

fn http_route(name: &str, hostnames: &[&str], parent_refs: &str) -> KubeObject {
    let hostnames = if hostnames.is_empty() {
        String::new()
    } else {
        format!("  hostnames: [{}]\n", hostnames.join(", "))
    };
    obj(&format!(
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
    ))
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
    // With hostnames of its own, the listeners' do not matter.
    let out = t.apply(&http_route(
        "own",
        &["own.example.com"],
        "  - name: gw\n    namespace: infra\n    sectionName: b",
    ));
    assert_eq!(
        lines(&out, "HTTPRoute/shop/own"),
        ["0 own.example.com. A 192.0.2.10"]
    );
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
  - {name: bad, hostname: "a.*.example.com", port: 80, protocol: HTTP}
  - {name: good, hostname: "*.good.example.com", port: 80, protocol: HTTP}
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
    let out = t.apply(&http_route("wild", &[], TO_GW));
    assert_eq!(
        lines(&out, "HTTPRoute/shop/wild"),
        ["0 *.good.example.com. CNAME lb.example.net."]
    );
    assert!(out.problems.is_empty());
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
    let out = t.apply(&obj(r#"
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: {name: rpc, namespace: shop}
spec:
  hostnames: [rpc.example.com]
  parentRefs: [{name: gw, namespace: infra}]
"#));
    assert_eq!(
        lines(&out, "GRPCRoute/shop/rpc"),
        ["0 rpc.example.com. A 192.0.2.10"]
    );
    let out = t.apply(&obj(r#"
apiVersion: gateway.networking.k8s.io/v1
kind: TLSRoute
metadata: {name: tls, namespace: shop}
spec:
  hostnames: [tls.example.com]
  parentRefs: [{name: gw, namespace: infra}]
  rules:
  - backendRefs: [{name: tls-backend, port: 443}]
"#));
    assert_eq!(
        lines(&out, "TLSRoute/shop/tls"),
        ["0 tls.example.com. A 192.0.2.10"]
    );
    // v1alpha2 lets a TLSRoute leave out hostnames and take the listener's.
    let out = t.apply(&obj(r#"
apiVersion: gateway.networking.k8s.io/v1alpha2
kind: TLSRoute
metadata: {name: old, namespace: shop}
spec:
  parentRefs: [{name: gw, namespace: infra, sectionName: a}]
"#));
    assert_eq!(
        lines(&out, "TLSRoute/shop/old"),
        ["0 a.example.com. A 192.0.2.10"]
    );

    let out = t.apply(&gateway("gw", "envoy", &[("IPAddress", "192.0.2.11")]));
    assert_eq!(
        updated(&out),
        [
            "Gateway/infra/gw",
            "TLSRoute/shop/old",
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
        obj(&format!(
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
