//! ListenerSets: listeners another team adds to a Gateway. Routes attached to one are served
//! with the Gateway's addresses, through its listeners, once the Gateway allows ListenerSets
//! from its namespace and (by default) its controller accepted the ListenerSet.

use super::{gateway::accepted, *};
use crate::GatewayConsent;

/// A Gateway `infra/gw` at `address`, with one HTTP listener for `gw.example.com`, that lets
/// ListenerSets attach as `allowed` (a flow mapping for `allowedListeners.namespaces`, or
/// empty for none), and `annotations`.
fn gateway(allowed: &str, address: &str, annotations: &str) -> KubeObject {
    let allowed = if allowed.is_empty() {
        String::new()
    } else {
        format!("  allowedListeners: {{namespaces: {allowed}}}\n")
    };
    obj(&format!(
        r#"
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {{name: gw, namespace: infra, annotations: {{{annotations}}}}}
spec:
  gatewayClassName: envoy
{allowed}  listeners:
  - {{name: http, hostname: gw.example.com, port: 80, protocol: HTTP, allowedRoutes: {{namespaces: {{from: All}}}}}}
status:
  addresses: [{{value: {address}}}]
"#
    ))
}

/// A ListenerSet `<namespace>/extra` on Gateway `infra/gw` with listeners `web`
/// (`*.team.example.com`, HTTPS, routes from its own namespace) and `db` (TCP, no hostname,
/// routes from every namespace); its status accepts the set and the listeners in `accepted`.
fn listener_set(namespace: &str, accepted: &[&str], annotations: &str) -> KubeObject {
    let listeners: String = accepted
        .iter()
        .map(|name| {
            format!(
                "\n  - name: {name}\n    conditions: [{{type: Accepted, status: \"True\", reason: Accepted}}]"
            )
        })
        .collect();
    let conditions = if accepted.is_empty() {
        "[]"
    } else {
        "[{type: Accepted, status: \"True\", reason: Accepted}]"
    };
    obj(&format!(
        r#"
apiVersion: gateway.networking.k8s.io/v1
kind: ListenerSet
metadata: {{name: extra, namespace: {namespace}, annotations: {{{annotations}}}}}
spec:
  parentRef: {{name: gw, namespace: infra}}
  listeners:
  - {{name: web, hostname: "*.team.example.com", port: 443, protocol: HTTPS}}
  - {{name: db, port: 5432, protocol: TCP, allowedRoutes: {{namespaces: {{from: All}}}}}}
status:
  conditions: {conditions}
  listeners:{listeners}
"#
    ))
}

/// An HTTPRoute `team/web` for `app.team.example.com` attached to `parents`, accepted by each.
fn http_route(parents: &str) -> KubeObject {
    accepted(&format!(
        r#"
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: web, namespace: team}}
spec:
  hostnames: [app.team.example.com]
  parentRefs: {parents}
"#
    ))
}

const TO_SET: &str = "[{kind: ListenerSet, name: extra}]";
const SAME: &str = "{from: Same}";
const ALL: &str = "{from: All}";

fn zones() -> Vec<ZoneFilter> {
    vec![zone_with("example.com", &[Kind::HttpRoute, Kind::TcpRoute])]
}

#[test]
fn a_route_on_a_listener_set_takes_the_gateways_addresses_in_any_order() {
    let objects = [
        gateway(ALL, "192.0.2.10", ""),
        listener_set("team", &["web", "db"], ""),
        http_route(TO_SET),
    ];
    for order in [[0, 1, 2], [2, 1, 0], [1, 2, 0], [2, 0, 1]] {
        let mut t = Translator::new(zones());
        let mut served = Vec::new();
        for i in order {
            let object = objects.get(i).expect("three objects");
            let out = t.apply(object);
            assert!(out.problems.is_empty(), "{:?}", problems(&out));
            if let Some(update) = out
                .updates
                .iter()
                .find(|u| u.object.kind() == Kind::HttpRoute)
            {
                served = lines_of(update);
            }
        }
        assert_eq!(
            served,
            ["0 app.team.example.com. A 192.0.2.10"],
            "order {order:?}"
        );
    }
}

#[test]
fn the_gateway_decides_whose_listener_sets_attach() {
    let mut t = Translator::new(zones());
    t.apply(&listener_set("team", &["web", "db"], ""));
    t.apply(&http_route(TO_SET));
    let served = |t: &mut Translator, allowed: &str| {
        let out = t.apply(&gateway(allowed, "192.0.2.10", ""));
        lines(&out, "HTTPRoute/team/web")
    };
    // Left out, or None: no ListenerSet attaches.
    assert!(served(&mut t, "").is_empty());
    assert!(served(&mut t, "{from: None}").is_empty());
    // Same is the Gateway's namespace, not the set's.
    assert!(served(&mut t, SAME).is_empty());
    assert_eq!(
        served(&mut t, ALL),
        ["0 app.team.example.com. A 192.0.2.10"]
    );

    // By the labels of the set's namespace, which may change.
    let selector = "{from: Selector, selector: {matchLabels: {gateway: shared}}}";
    assert!(served(&mut t, selector).is_empty());
    let out = t.apply(&obj(
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: team, labels: {gateway: shared}}\n",
    ));
    assert_eq!(
        lines(&out, "HTTPRoute/team/web"),
        ["0 app.team.example.com. A 192.0.2.10"]
    );
    let out = t.apply(&obj(
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: team}\n",
    ));
    assert!(lines(&out, "HTTPRoute/team/web").is_empty());

    // A value kubezone does not know admits nothing, and is the Gateway's problem.
    let out = t.apply(&gateway("{from: Elsewhere}", "192.0.2.10", ""));
    assert_one_problem(
        &out,
        "Gateway/infra/gw",
        "spec.allowedListeners.namespaces.from",
        "Elsewhere",
    );
    assert!(lines(&out, "HTTPRoute/team/web").is_empty());
}

#[test]
fn the_listener_sets_listeners_decide_as_a_gateways_do() {
    let mut t = Translator::new(zones());
    t.apply(&gateway(ALL, "192.0.2.10", ""));
    t.apply(&listener_set("team", &["web", "db"], ""));
    // `web` admits routes from the set's own namespace only, under its wildcard.
    let route = |namespace: &str, host: &str, parents: &str| {
        accepted(&format!(
            "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {{name: r, namespace: {namespace}}}\nspec:\n  hostnames: [{host}]\n  parentRefs: {parents}\n"
        ))
    };
    let served = |t: &mut Translator, object: KubeObject| {
        let name = object.object_ref().to_string();
        lines(&t.apply(&object), &name)
    };
    assert_eq!(
        served(&mut t, route("team", "a.team.example.com", TO_SET)),
        ["0 a.team.example.com. A 192.0.2.10"]
    );
    assert!(served(&mut t, route("team", "gw.example.com", TO_SET)).is_empty());
    let elsewhere = "[{kind: ListenerSet, name: extra, namespace: team}]";
    assert!(served(&mut t, route("shop", "a.team.example.com", elsewhere)).is_empty());
    // sectionName names a listener of the set; `db` takes no HTTPRoute.
    let db = "[{kind: ListenerSet, name: extra, sectionName: db}]";
    assert!(served(&mut t, route("team", "a.team.example.com", db)).is_empty());
    // A ListenerSet of another group is not one kubezone knows.
    let other = "[{group: example.io, kind: ListenerSet, name: extra}]";
    assert!(served(&mut t, route("team", "a.team.example.com", other)).is_empty());
}

#[test]
fn consent_needs_the_set_and_its_listener_accepted() {
    let route = http_route(TO_SET);
    let served = |t: &mut Translator, accepted: &[&str]| {
        let out = t.apply(&listener_set("team", accepted, ""));
        lines(&out, "HTTPRoute/team/web")
    };
    let mut t = Translator::new(zones());
    t.apply(&gateway(ALL, "192.0.2.10", ""));
    t.apply(&route);
    assert!(served(&mut t, &[]).is_empty(), "the set is not accepted");
    assert!(served(&mut t, &["db"]).is_empty(), "its listener is not");
    assert_eq!(
        served(&mut t, &["web"]),
        ["0 app.team.example.com. A 192.0.2.10"]
    );

    // A zone that lets the listeners decide reads no status, of the set or of the route.
    let mut zone = zone_with("example.com", &[Kind::HttpRoute]);
    zone.gateway_consent = GatewayConsent::Listeners;
    let mut t = Translator::new(vec![zone]);
    t.apply(&gateway(ALL, "192.0.2.10", ""));
    t.apply(&obj(
        "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: web, namespace: team}\nspec:\n  hostnames: [app.team.example.com]\n  parentRefs: [{kind: ListenerSet, name: extra}]\n",
    ));
    assert_eq!(
        served(&mut t, &[]),
        ["0 app.team.example.com. A 192.0.2.10"]
    );
}

#[test]
fn gateway_and_set_changes_re_emit_their_routes_once() {
    let mut t = Translator::new(zones());
    t.apply(&gateway(ALL, "192.0.2.10", ""));
    t.apply(&listener_set("team", &["web", "db"], ""));
    // Attached to the set and to the Gateway itself: one update each time.
    t.apply(&http_route(
        "[{kind: ListenerSet, name: extra}, {name: gw, namespace: infra}]",
    ));
    let out = t.apply(&gateway(ALL, "192.0.2.20", ""));
    assert_eq!(updated(&out), ["Gateway/infra/gw", "HTTPRoute/team/web"]);
    assert_eq!(
        lines(&out, "HTTPRoute/team/web"),
        ["0 app.team.example.com. A 192.0.2.20"]
    );

    let out = t.delete(&oref(Kind::ListenerSet, "team", "extra"));
    assert_eq!(
        updated(&out),
        ["ListenerSet/team/extra", "HTTPRoute/team/web"]
    );
    assert!(lines(&out, "HTTPRoute/team/web").is_empty());
    let out = t.apply(&listener_set("team", &["web", "db"], ""));
    assert!(
        lines(&out, "ListenerSet/team/extra").is_empty(),
        "a set owns no names"
    );
    assert_eq!(
        lines(&out, "HTTPRoute/team/web"),
        ["0 app.team.example.com. A 192.0.2.20"]
    );

    let out = t.delete(&oref(Kind::Gateway, "infra", "gw"));
    assert_eq!(updated(&out), ["Gateway/infra/gw", "HTTPRoute/team/web"]);
    assert!(lines(&out, "HTTPRoute/team/web").is_empty());

    assert_eq!(t.remembered(), (1, 1));
    t.delete(&oref(Kind::ListenerSet, "team", "extra"));
    t.delete(&oref(Kind::HttpRoute, "team", "web"));
    assert_eq!(t.remembered(), (0, 0));
}

#[test]
fn a_tcp_route_on_a_set_is_named_by_the_sets_annotation_else_the_gateways() {
    let hostname = "external-dns.alpha.kubernetes.io/hostname";
    let mut t = Translator::new(zones());
    t.apply(&gateway(ALL, "192.0.2.10", &format!("{hostname}: lb")));
    t.apply(&listener_set("team", &["web", "db"], ""));
    let out = t.apply(&accepted(
        "apiVersion: gateway.networking.k8s.io/v1\nkind: TCPRoute\nmetadata: {name: db, namespace: team}\nspec:\n  parentRefs: [{kind: ListenerSet, name: extra, sectionName: db}]\n",
    ));
    assert_eq!(
        lines(&out, "TCPRoute/team/db"),
        ["0 lb.example.com. A 192.0.2.10"]
    );
    let out = t.apply(&listener_set(
        "team",
        &["web", "db"],
        &format!("{hostname}: db"),
    ));
    assert_eq!(
        lines(&out, "TCPRoute/team/db"),
        ["0 db.example.com. A 192.0.2.10"]
    );
}

#[test]
fn a_set_whose_parent_is_not_a_gateway_is_reported() {
    let mut t = Translator::new(zones());
    t.apply(&gateway(ALL, "192.0.2.10", ""));
    t.apply(&http_route(TO_SET));
    let out = t.apply(&obj(
        "apiVersion: gateway.networking.k8s.io/v1\nkind: ListenerSet\nmetadata: {name: extra, namespace: team}\nspec:\n  parentRef: {group: example.io, kind: Proxy, name: gw}\n  listeners: [{name: web, port: 443, protocol: HTTPS, hostname: \"*.team.example.com\"}]\n",
    ));
    assert_one_problem(
        &out,
        "ListenerSet/team/extra",
        "spec.parentRef.kind",
        "example.io/Proxy",
    );
    assert!(lines(&out, "HTTPRoute/team/web").is_empty());
}
