//! A zone's `nameTemplate` (Services and Ingresses without a hostname of their own) and
//! `annotationFilter` (every Kind that owns names).

use super::*;
use crate::GatewayConsent;

fn templated(origin: &str, template: &str) -> ZoneFilter {
    let mut z = zone(origin);
    z.name_template = Some(template.parse().expect("valid template"));
    z
}

fn filtered(origin: &str, filter: &str) -> ZoneFilter {
    let mut z = zone(origin);
    z.annotation_filter = Some(filter.parse().expect("valid selector"));
    z
}

/// Service shop/web of `type_`, with `meta` lines under `metadata` (labels, annotations).
fn service(type_: &str, meta: &str) -> KubeObject {
    obj(&format!(
        r#"
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: shop
{meta}
spec:
  type: {type_}
  externalName: backend.example.net
status:
  loadBalancer:
    ingress:
    - ip: 192.0.2.5
"#
    ))
}

/// Ingress shop/cart with `rules` (YAML flow list) and `meta` lines under `metadata`.
fn ingress(rules: &str, meta: &str) -> KubeObject {
    obj(&format!(
        r#"
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: cart
  namespace: shop
{meta}
spec:
  rules: {rules}
status:
  loadBalancer:
    ingress:
    - ip: 192.0.2.7
"#
    ))
}

#[test]
fn a_template_names_a_service_instead_of_the_default() {
    let mut t = Translator::new(vec![
        templated(
            "example.com",
            "{{.Namespace}}-{{.Name}}.example.com,{{.Labels.tier}}.{{.Kind}}.example.com",
        ),
        zone("other.org"),
    ]);
    let out = t.apply(&service("LoadBalancer", "  labels: {tier: front}"));
    assert!(out.problems.is_empty(), "{:?}", problems(&out));
    assert_eq!(
        lines(&out, "Service/shop/web"),
        [
            "0 front.service.example.com. A 192.0.2.5",
            "0 shop-web.example.com. A 192.0.2.5",
            "1 web.shop.other.org. A 192.0.2.5",
        ]
    );
}

#[test]
fn an_external_name_service_is_templated_too() {
    let mut t = Translator::new(vec![templated("example.com", "{{.Name}}.example.com")]);
    let out = t.apply(&service("ExternalName", ""));
    assert_eq!(
        lines(&out, "Service/shop/web"),
        ["0 web.example.com. CNAME backend.example.net."]
    );
}

#[test]
fn the_hostname_annotation_wins_over_the_template() {
    let mut t = Translator::new(vec![templated("example.com", "{{.Name}}.example.com")]);
    let out = t.apply(&service(
        "LoadBalancer",
        "  annotations: {external-dns.alpha.kubernetes.io/hostname: shop.example.com}",
    ));
    assert_eq!(
        lines(&out, "Service/shop/web"),
        ["0 shop.example.com. A 192.0.2.5"]
    );
}

#[test]
fn a_rendered_name_is_served_by_the_zone_it_falls_in() {
    let mut t = Translator::new(vec![
        templated(
            "example.com",
            "{{.Name}}.apps.example.com,{{.Name}}.services.example.com,{{.Name}}.elsewhere.net",
        ),
        zone("apps.example.com"),
        zone_with("services.example.com", &[Kind::Ingress]),
    ]);
    // apps.example.com serves the first name (and its own default); services.example.com
    // serves no Services, and a shorter zone never picks its names up; no zone the third.
    let out = t.apply(&service("LoadBalancer", ""));
    assert!(out.problems.is_empty(), "{:?}", problems(&out));
    assert_eq!(
        lines(&out, "Service/shop/web"),
        [
            "1 web.shop.apps.example.com. A 192.0.2.5",
            "1 web.apps.example.com. A 192.0.2.5",
        ]
    );
}

#[test]
fn an_ingress_rule_without_host_takes_the_template() {
    let mut t = Translator::new(vec![templated(
        "example.com",
        "{{.Name}}.{{.Namespace}}.example.com",
    )]);
    let out = t.apply(&ingress(
        "[{host: www.example.com}, {http: {paths: []}}]",
        "",
    ));
    assert!(out.problems.is_empty(), "{:?}", problems(&out));
    assert_eq!(
        lines(&out, "Ingress/shop/cart"),
        [
            "0 cart.shop.example.com. A 192.0.2.7",
            "0 www.example.com. A 192.0.2.7",
        ]
    );
    // Only a default backend: no name of its own either.
    let out = t.apply(&ingress("[]", ""));
    assert_eq!(
        lines(&out, "Ingress/shop/cart"),
        ["0 cart.shop.example.com. A 192.0.2.7"]
    );
    // Every rule has a host: the template is not used.
    let out = t.apply(&ingress("[{host: www.example.com}]", ""));
    assert_eq!(
        lines(&out, "Ingress/shop/cart"),
        ["0 www.example.com. A 192.0.2.7"]
    );
    // Without a template a catch-all rule still gives nothing.
    let mut plain = translator(&["example.com"]);
    let out = plain.apply(&ingress("[{http: {paths: []}}]", ""));
    assert!(lines(&out, "Ingress/shop/cart").is_empty());
}

#[test]
fn a_templated_ingress_keeps_to_its_class() {
    let mut z = templated("example.com", "{{.Name}}.example.com");
    z.ingress_classes = vec!["nginx".into()];
    let mut t = Translator::new(vec![z]);
    let out = t.apply(&ingress("[]", ""));
    assert!(lines(&out, "Ingress/shop/cart").is_empty());
    let out = t.apply(&ingress(
        "[]",
        "  annotations: {kubernetes.io/ingress.class: nginx}",
    ));
    assert_eq!(
        lines(&out, "Ingress/shop/cart"),
        ["0 cart.example.com. A 192.0.2.7"]
    );
}

#[test]
fn an_invalid_rendered_name_is_reported_and_the_others_kept() {
    let template =
        "{{.Name}}.example.com,{{.Labels.tier}}..example.com,{{.Annotations.sub}}.example.com";
    let mut t = Translator::new(vec![templated("example.com", template)]);
    let out = t.apply(&service("LoadBalancer", "  labels: {tier: front}"));
    assert_eq!(
        lines(&out, "Service/shop/web"),
        ["0 web.example.com. A 192.0.2.5"]
    );
    assert_eq!(out.problems.len(), 2, "{:?}", problems(&out));
    // In the order of the rendered names.
    let [no_value, empty_label] = &out.problems[..] else {
        panic!("two problems");
    };
    for (problem, value, reason) in [
        (no_value, "<no value>.example.com", "missing"),
        (empty_label, "front..example.com", "empty label"),
    ] {
        assert_eq!(problem.object.to_string(), "Service/shop/web");
        assert_eq!(problem.error.field(), "zone example.com. nameTemplate");
        assert_eq!(problem.error.value(), value);
        let text = problem.to_string();
        assert!(text.contains(&format!("{template:?}")), "{text}");
        assert!(text.contains(reason), "{text}");
    }
}

#[test]
fn a_template_that_fails_is_reported_and_the_hosts_kept() {
    let template = "{{ .Name.first }}.example.com";
    let mut t = Translator::new(vec![templated("example.com", template)]);
    let out = t.apply(&ingress(
        "[{host: www.example.com}, {http: {paths: []}}]",
        "",
    ));
    assert_eq!(
        lines(&out, "Ingress/shop/cart"),
        ["0 www.example.com. A 192.0.2.7"]
    );
    assert_one_problem(
        &out,
        "Ingress/shop/cart",
        "zone example.com. nameTemplate",
        template,
    );
    assert!(
        problems(&out)[0].contains("not a map"),
        "{:?}",
        problems(&out)
    );
}

#[test]
fn the_annotation_filter_keeps_a_service_out_of_a_zone() {
    let cases = [
        ("dns=public", "dns: public", true),
        ("dns=public", "dns: internal", false),
        ("dns!=internal", "dns: public", true),
        ("dns!=internal", "dns: internal", false),
        ("dns in (public,both)", "dns: both", true),
        ("dns in (public,both)", "dns: internal", false),
        ("dns notin (internal)", "dns: public", true),
        ("dns notin (internal)", "dns: internal", false),
        ("dns", "dns: anything", true),
        ("dns", "other: x", false),
        ("!private", "dns: x", true),
        ("!private", "private: yes", false),
    ];
    for (filter, annotation, served) in cases {
        let mut t = Translator::new(vec![filtered("example.com", filter), zone("other.org")]);
        let out = t.apply(&service(
            "LoadBalancer",
            &format!("  annotations: {{{annotation}}}"),
        ));
        let mut expected = Vec::new();
        if served {
            expected.push("0 web.shop.example.com. A 192.0.2.5");
        }
        // The other zone has no filter: it serves the Service whatever its annotations.
        expected.push("1 web.shop.other.org. A 192.0.2.5");
        assert_eq!(
            lines(&out, "Service/shop/web"),
            expected,
            "{filter} over {annotation}"
        );
    }
    // No annotations at all: like an empty map.
    let mut t = Translator::new(vec![filtered("example.com", "!private")]);
    let out = t.apply(&service("LoadBalancer", ""));
    assert_eq!(lines(&out, "Service/shop/web").len(), 1);
    let mut t = Translator::new(vec![filtered("example.com", "dns")]);
    let out = t.apply(&service("LoadBalancer", ""));
    assert!(lines(&out, "Service/shop/web").is_empty());
}

#[test]
fn the_annotation_filter_applies_to_every_kind_that_owns_names() {
    let zones = || {
        let mut z = filtered("example.com", "dns=public");
        z.resources = vec![
            Kind::HttpRoute,
            Kind::Ingress,
            Kind::Service,
            Kind::DnsEndpoint,
            Kind::Node,
        ];
        z.gateway_consent = GatewayConsent::Listeners;
        vec![z]
    };
    let objects = |annotations: &str| {
        [
            (
                "Ingress/shop/cart",
                ingress("[{host: cart.example.com}]", annotations),
            ),
            ("Service/shop/web", service("LoadBalancer", annotations)),
            (
                "DNSEndpoint/dns/records",
                obj(&format!(
                    r#"
apiVersion: externaldns.k8s.io/v1alpha1
kind: DNSEndpoint
metadata:
  name: records
  namespace: dns
{annotations}
spec:
  endpoints:
  - {{dnsName: txt.example.com, recordType: TXT, targets: [hello]}}
"#
                )),
            ),
            (
                "Node/n1",
                obj(&format!(
                    r#"
apiVersion: v1
kind: Node
metadata:
  name: n1
{annotations}
status:
  addresses:
  - {{type: InternalIP, address: 10.0.0.1}}
  - {{type: Hostname, address: n1}}
"#
                )),
            ),
            (
                "HTTPRoute/shop/route",
                obj(&format!(
                    r#"
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: route
  namespace: shop
{annotations}
spec:
  hostnames: [route.example.com]
  parentRefs: [{{name: gw}}]
"#
                )),
            ),
        ]
    };
    let gateway = obj(r#"
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: shop}
spec:
  gatewayClassName: any
  listeners: [{name: http, port: 80, protocol: HTTP}]
status:
  addresses: [{value: 192.0.2.9}]
"#);
    for (annotations, served) in [
        ("  annotations: {dns: public}", true),
        ("  annotations: {dns: internal}", false),
        ("", false),
    ] {
        let mut t = Translator::new(zones());
        t.apply(&gateway);
        for (name, object) in objects(annotations) {
            let out = t.apply(&object);
            assert!(out.problems.is_empty(), "{:?}", problems(&out));
            assert_eq!(
                !lines(&out, name).is_empty(),
                served,
                "{name} with {annotations:?}"
            );
        }
        // A route re-translated for its Gateway's sake remembers its annotations' verdict.
        let out = t.apply(&gateway);
        assert_eq!(
            !lines(&out, "HTTPRoute/shop/route").is_empty(),
            served,
            "re-emitted route with {annotations:?}"
        );
    }
}

#[test]
fn a_filtered_out_object_is_not_rendered_for_that_zone() {
    let mut z = templated("example.com", "{{ .Labels.missing }}.example.com");
    z.annotation_filter = Some("dns=public".parse().expect("valid selector"));
    let mut t = Translator::new(vec![z]);
    let out = t.apply(&service("LoadBalancer", ""));
    assert!(lines(&out, "Service/shop/web").is_empty());
    assert!(out.problems.is_empty(), "{:?}", problems(&out));
    // Nor for a zone whose label selectors turn the Service away.
    let mut z = templated("example.com", "{{ .Labels.missing }}.example.com");
    z.service_selectors = vec!["app=api".parse().expect("valid selector")];
    let mut t = Translator::new(vec![z]);
    let out = t.apply(&service("LoadBalancer", ""));
    assert!(lines(&out, "Service/shop/web").is_empty());
    assert!(out.problems.is_empty(), "{:?}", problems(&out));
}

#[test]
fn zones_that_share_a_template_render_it_once() {
    let template = "{{.Name}}.example.com,{{.Name}}..example.org";
    let mut t = Translator::new(vec![
        templated("example.com", template),
        templated("example.org", template),
    ]);
    let out = t.apply(&service("LoadBalancer", ""));
    assert_eq!(
        lines(&out, "Service/shop/web"),
        ["0 web.example.com. A 192.0.2.5"]
    );
    assert_eq!(out.problems.len(), 1, "{:?}", problems(&out));
}
