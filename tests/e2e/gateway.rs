//! Gateway API routes are served only with their Gateway's consent: through parents whose
//! status says `Accepted`, through listeners whose `allowedRoutes` admit them, under the
//! hostnames they share with those listeners. And routes are read tolerantly: a value from a
//! newer Gateway API never drops them. Through a real kube-apiserver (there is no Gateway
//! controller, so the tests write `status.parents` themselves) and through the manifests folder.

use hickory_proto::rr::RecordType;
use serde::Deserialize;

use crate::{
    cluster::{ZONES, answers, cluster, kubernetes_section, nxdomain, route_status, status},
    control_plane::{ControlPlane, Crds},
    harness::{Server, Setup, ZONE, addresses},
};

fn http_route(ns: &str, name: &str, hostname: &str, parent_ref: &str) -> String {
    format!(
        "apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: {name}, namespace: {ns}}}
spec:
  parentRefs: [{parent_ref}]
  hostnames: [{hostname}]
  rules: [{{backendRefs: [{{name: backend, port: 8080}}]}}]
"
    )
}

fn namespace(name: &str, labels: &str) -> String {
    format!("apiVersion: v1\nkind: Namespace\nmetadata: {{name: {name}, labels: {{{labels}}}}}\n")
}

/// One Gateway shared by teams: its listener admits routes from namespaces labelled
/// `gateway-access: "true"`. A team outside cannot publish a name through it, not even one
/// another team's Ingress serves, whatever its route's status says; the answers follow the
/// route's status and the Namespaces' labels.
#[test]
fn a_shared_gateway_serves_only_routes_it_admits_and_accepted() {
    let cp = cluster();
    let infra = cp.fresh_namespace("gw-infra");
    let team_a = cp.fresh_namespace("gw-team-a");
    let team_b = cp.fresh_namespace("gw-team-b");
    cp.apply_yaml(&namespace(&team_a, "gateway-access: \"true\""));
    // One watch per Kind across namespaces, so a later change is seen after an earlier one.
    let s = kubezone(cp, ZONES, &[]);

    cp.apply_yaml(&format!(
        "apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {{name: shared, namespace: {infra}}}
spec:
  gatewayClassName: eg
  listeners:
  - name: http
    port: 80
    protocol: HTTP
    allowedRoutes:
      namespaces:
        from: Selector
        selector: {{matchLabels: {{gateway-access: \"true\"}}}}
"
    ));
    cp.apply_status_yaml(&format!(
        "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {{name: shared, namespace: {infra}}}\nstatus:\n  addresses: [{{value: \"192.0.2.60\"}}]\n"
    ));
    let to_shared = format!("{{name: shared, namespace: {infra}}}");

    // Team A's shop is an Ingress; team B tries to take its name through the shared Gateway,
    // with a status that says Accepted.
    let shop = format!("shop-{team_a}.example.com");
    cp.apply_yaml(&format!(
        "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {{name: shop, namespace: {team_a}}}\nspec:\n  rules: [{{host: {shop}}}]\n"
    ));
    cp.apply_status_yaml(&format!(
        "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {{name: shop, namespace: {team_a}}}\nstatus:\n  loadBalancer:\n    ingress: [{{ip: \"192.0.2.61\"}}]\n"
    ));
    let takeover = format!("takeover-{team_b}.example.com");
    cp.apply_yaml(&http_route(&team_b, "shop", &shop, &to_shared));
    cp.apply_yaml(&http_route(&team_b, "takeover", &takeover, &to_shared));
    for name in ["shop", "takeover"] {
        cp.apply_status_yaml(&route_status(
            "HTTPRoute",
            &team_b,
            name,
            &to_shared,
            "True",
        ));
    }

    // Team A's route: not served until its Gateway accepts it.
    let web = format!("web-{team_a}.example.com");
    cp.apply_yaml(&http_route(&team_a, "web", &web, &to_shared));
    cp.apply_status_yaml(&route_status(
        "HTTPRoute",
        &team_a,
        "web",
        &to_shared,
        "False",
    ));
    s.eventually(&format!("{shop}."), RecordType::A, answers(&["192.0.2.61"]));
    assert!(nxdomain(&s.ask(&format!("{web}."), RecordType::A)));
    cp.apply_status_yaml(&route_status(
        "HTTPRoute",
        &team_a,
        "web",
        &to_shared,
        "True",
    ));
    s.eventually(&format!("{web}."), RecordType::A, answers(&["192.0.2.60"]));
    // Written before team A's acceptance, team B's routes are still left out.
    assert!(nxdomain(&s.ask(&format!("{takeover}."), RecordType::A)));
    assert_eq!(
        addresses(&s.ask(&format!("{shop}."), RecordType::A)),
        ["192.0.2.61"],
        "the Ingress's name is not shadowed"
    );

    // Team B's namespace gets the label: its routes attach (and its HTTPRoute, first in
    // precedence, now wins the shop name); the label goes: they are gone again.
    cp.apply_yaml(&namespace(&team_b, "gateway-access: \"true\""));
    s.eventually(
        &format!("{takeover}."),
        RecordType::A,
        answers(&["192.0.2.60"]),
    );
    s.eventually(&format!("{shop}."), RecordType::A, answers(&["192.0.2.60"]));
    cp.apply_yaml(&namespace(&team_b, "gateway-access: \"false\""));
    s.eventually(&format!("{takeover}."), RecordType::A, nxdomain);
    s.eventually(&format!("{shop}."), RecordType::A, answers(&["192.0.2.61"]));

    // The controller withdraws its acceptance of team A's route.
    cp.apply_status_yaml(&route_status(
        "HTTPRoute",
        &team_a,
        "web",
        &to_shared,
        "False",
    ));
    s.eventually(&format!("{web}."), RecordType::A, nxdomain);
}

/// kubezone watching `cp` as its ServiceAccount in `namespaces` (all when empty).
fn kubezone(cp: &ControlPlane, zones: &str, namespaces: &[&str]) -> Server {
    Server::start_with(Setup {
        zones,
        extra: &kubernetes_section(cp, namespaces),
        manifests: &[],
        ..Setup::default()
    })
}

/// In a cluster without a Gateway controller nothing writes a route's status: a zone with
/// `gatewayConsent: listeners` serves its routes on the listeners' word alone.
#[test]
fn a_zone_trusting_the_listeners_serves_routes_without_status() {
    let cp = cluster();
    let ns = cp.fresh_namespace("gw-listeners");
    let zones = "  - zone: example.com\n  - zone: example.org\n    gatewayConsent: listeners\n";
    let s = kubezone(cp, zones, &[&ns]);
    cp.apply_yaml(&format!(
        "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {{name: gw, namespace: {ns}}}\nspec:\n  gatewayClassName: eg\n  listeners: [{{name: http, port: 80, protocol: HTTP}}]\n"
    ));
    cp.apply_status_yaml(&format!(
        "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {{name: gw, namespace: {ns}}}\nstatus:\n  addresses: [{{value: \"192.0.2.62\"}}]\n"
    ));
    let org = format!("web-{ns}.example.org");
    let com = format!("web-{ns}.example.com");
    cp.apply_yaml(&format!(
        "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {{name: web, namespace: {ns}}}\nspec:\n  parentRefs: [{{name: gw}}]\n  hostnames: [{org}, {com}]\n"
    ));
    s.eventually(&format!("{org}."), RecordType::A, answers(&["192.0.2.62"]));
    assert!(
        nxdomain(&s.ask(&format!("{com}."), RecordType::A)),
        "example.com waits for the Gateway's consent"
    );
}

/// The pinned Gateway API CRDs with HTTPRoute's filter types widened by `ExternalAuth`, as the
/// experimental channel has it: what a cluster with newer CRDs than kubezone's stores.
fn newer_gateway_api(cp: &ControlPlane) -> String {
    let mut out = String::new();
    for document in serde_norway::Deserializer::from_str(&cp.crd_yaml(Crds::GatewayApi)) {
        let mut crd = serde_norway::Value::deserialize(document).expect("a CRD");
        if crd["metadata"]["name"] == "httproutes.gateway.networking.k8s.io" {
            for version in crd["spec"]["versions"].as_sequence_mut().expect("versions") {
                let filter_type = &mut version["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]
                    ["rules"]["items"]["properties"]["filters"]["items"]["properties"]["type"]["enum"];
                filter_type
                    .as_sequence_mut()
                    .expect("the filter types")
                    .push("ExternalAuth".into());
            }
        }
        if !crd.is_null() {
            out.push_str("---\n");
            out.push_str(&serde_norway::to_string(&crd).expect("YAML"));
        }
    }
    out
}

/// A route carrying a value the Gateway API kubezone was built against does not have is
/// served like any other, from the API server and from a folder.
#[test]
fn a_route_with_a_value_from_a_newer_gateway_api_is_served() {
    // CRDs of its own: the shared control plane's must stay as the other tests know them.
    let cp = ControlPlane::start();
    cp.install_crd_yaml(&newer_gateway_api(&cp));
    cp.install_crds(Crds::DnsEndpoint);
    cp.grant_kubezone();
    cp.create_namespace("shop");
    let s = kubezone(&cp, ZONES, &[]);
    cp.apply_yaml(
        "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: gw, namespace: shop}\nspec:\n  gatewayClassName: eg\n  listeners: [{name: http, port: 80, protocol: HTTP}]\n",
    );
    cp.apply_status_yaml(
        "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: gw, namespace: shop}\nstatus:\n  addresses: [{value: \"192.0.2.63\"}]\n",
    );
    cp.apply_yaml(NEWER_ROUTE);
    cp.apply_status_yaml(&route_status(
        "HTTPRoute",
        "shop",
        "web",
        "{name: gw}",
        "True",
    ));
    s.eventually("web.example.com.", RecordType::A, answers(&["192.0.2.63"]));
    let log = s.log();
    assert!(!log.contains("ExternalAuth"), "nothing to report:\n{log}");

    // The same objects from a folder.
    let folder = Server::start(
        ZONE,
        &[
            ("gateway.yaml", GATEWAY_WITH_ADDRESS),
            (
                "route.yaml",
                &format!("{NEWER_ROUTE}{}", status("{name: gw}", "True")),
            ),
        ],
    );
    assert_eq!(
        addresses(&folder.ask("web.example.com.", RecordType::A)),
        ["192.0.2.63"]
    );
}

const NEWER_ROUTE: &str = "apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web, namespace: shop}
spec:
  parentRefs: [{name: gw}]
  hostnames: [web.example.com]
  rules:
  - filters: [{type: ExternalAuth}]
    backendRefs: [{name: backend, port: 8080}]
";

const GATEWAY_WITH_ADDRESS: &str = "apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: shop}
spec:
  gatewayClassName: eg
  listeners: [{name: http, port: 80, protocol: HTTP}]
status:
  addresses: [{value: \"192.0.2.63\"}]
";

/// Hand-written manifests without a status: the default zone waits for a consent nobody will
/// write, a zone trusting the listeners serves them, and a listener still keeps out a
/// namespace it does not admit.
#[test]
fn manifests_without_status_need_a_zone_trusting_the_listeners() {
    let route = |ns: &str, name: &str, host: &str| {
        format!(
            "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {{name: {name}, namespace: {ns}}}\nspec:\n  parentRefs: [{{name: gw, namespace: shop}}]\n  hostnames: [{host}]\n"
        )
    };
    let s = Server::start(
        "  - zone: example.com\n  - zone: example.org\n    gatewayConsent: listeners\n",
        &[
            ("gateway.yaml", GATEWAY_WITH_ADDRESS),
            ("shop.yaml", &route("shop", "org", "shop.example.org")),
            ("com.yaml", &route("shop", "com", "shop.example.com")),
            ("other.yaml", &route("other", "web", "other.example.org")),
        ],
    );
    assert_eq!(
        addresses(&s.ask("shop.example.org.", RecordType::A)),
        ["192.0.2.63"]
    );
    assert!(nxdomain(&s.ask("shop.example.com.", RecordType::A)));
    assert!(
        nxdomain(&s.ask("other.example.org.", RecordType::A)),
        "the listener admits routes from shop only"
    );
}
