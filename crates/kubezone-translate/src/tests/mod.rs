//! Whole-translator tests. Objects are written as YAML manifests, as users write them.

mod clusters;
mod dns_endpoint;
mod endpoints;
mod gateway;
mod gateway_l4;
mod ingress;
mod invalid;
mod listener_set;
mod node;
mod service;
mod templates;
mod zones;

use kubezone_model::{DnsName, Kind, ObjectRef};

use crate::{KubeObject, KuberouteLabels, ObjectRecords, Translated, Translator, ZoneFilter};

pub(crate) fn obj(yaml: &str) -> KubeObject {
    let value: serde_json::Value = serde_norway::from_str(yaml).expect("valid YAML");
    KubeObject::from_value(value)
        .expect("a valid object")
        .expect("a Kind kubezone reads")
}

pub(crate) fn zone(origin: &str) -> ZoneFilter {
    ZoneFilter::new(DnsName::parse(origin).expect("valid origin"))
}

pub(crate) fn zone_with(origin: &str, resources: &[Kind]) -> ZoneFilter {
    let mut z = zone(origin);
    z.resources = resources.to_vec();
    z
}

pub(crate) fn translator(origins: &[&str]) -> Translator {
    Translator::new(origins.iter().map(|o| zone(o)).collect())
}

pub(crate) fn oref(kind: Kind, namespace: &str, name: &str) -> ObjectRef {
    ObjectRef::new(kind, Some(namespace), name)
}

/// One line per target: `<zone> <name> <target>[ ttl=<ttl>]`.
pub(crate) fn lines_of(records: &ObjectRecords) -> Vec<String> {
    let mut out = Vec::new();
    for ze in &records.endpoints {
        for target in &ze.endpoint.targets {
            let ttl = ze
                .endpoint
                .ttl
                .map(|t| format!(" ttl={t}"))
                .unwrap_or_default();
            out.push(format!("{} {} {target}{ttl}", ze.zone, ze.endpoint.name));
        }
    }
    out
}

/// The lines of the update for `object` (as `Kind/ns/name`); panics when there is none.
pub(crate) fn lines(translated: &Translated, object: &str) -> Vec<String> {
    let records = translated
        .updates
        .iter()
        .find(|u| u.object.to_string() == object)
        .unwrap_or_else(|| panic!("no update for {object} in {translated:?}"));
    lines_of(records)
}

/// Which objects an apply or delete re-emitted.
pub(crate) fn updated(translated: &Translated) -> Vec<String> {
    translated
        .updates
        .iter()
        .map(|u| u.object.to_string())
        .collect()
}

pub(crate) fn problems(translated: &Translated) -> Vec<String> {
    translated.problems.iter().map(|p| p.to_string()).collect()
}

/// Asserts exactly one problem, naming the object, the field and the value.
pub(crate) fn assert_one_problem(translated: &Translated, object: &str, field: &str, value: &str) {
    assert_eq!(translated.problems.len(), 1, "{:?}", problems(translated));
    let problem = translated.problems.first().expect("one problem");
    assert_eq!(problem.object.to_string(), object);
    assert_eq!(problem.error.field(), field);
    assert_eq!(problem.error.value(), value);
    let text = problem.to_string();
    assert!(text.starts_with(&format!("{object}: {field}")), "{text}");
    assert!(text.contains(value), "{text}");
}

#[test]
fn ignore_labels_remove_an_object() {
    let mut t = translator(&["example.com"]);
    for label in ["kubezone.io/ignore", "k8s-gateway.dns/ignore"] {
        let out = t.apply(&obj(&format!(
            r#"
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
  namespace: shop
  labels:
    {label}: "true"
spec:
  rules:
  - host: web.example.com
status:
  loadBalancer:
    ingress:
    - ip: 192.0.2.1
"#
        )));
        assert_eq!(updated(&out), ["Ingress/shop/web"]);
        assert!(lines(&out, "Ingress/shop/web").is_empty(), "{label}");
        assert!(out.problems.is_empty());
    }
    // Any other value does not ignore.
    let out = t.apply(&obj(r#"
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
  namespace: shop
  labels:
    kubezone.io/ignore: "false"
spec:
  rules:
  - host: web.example.com
status:
  loadBalancer:
    ingress:
    - ip: 192.0.2.1
"#));
    assert_eq!(
        lines(&out, "Ingress/shop/web"),
        ["0 web.example.com. A 192.0.2.1"]
    );
}

#[test]
fn delete_of_a_stateless_kind_empties_it() {
    let mut t = translator(&["example.com"]);
    let out = t.delete(&oref(Kind::Ingress, "shop", "web"));
    assert_eq!(updated(&out), ["Ingress/shop/web"]);
    assert!(lines(&out, "Ingress/shop/web").is_empty());
    let out = t.delete(&ObjectRef::new(Kind::Node, None, "n1"));
    assert_eq!(updated(&out), ["Node/n1"]);
}

#[test]
fn zones_are_kept() {
    let t = translator(&["example.com", "other.org"]);
    assert_eq!(t.zones().len(), 2);
    assert_eq!(
        t.zones().get(1).map(|z| z.origin.to_string()).as_deref(),
        Some("other.org.")
    );
}
