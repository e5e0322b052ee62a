//! Ingress: every `spec.rules[].host` (and, for a rule without one, the zone's `nameTemplate`),
//! pointing at `status.loadBalancer.ingress[]`, or at external-dns's `target` annotation.

use k8s_openapi::api::networking::v1::Ingress;
use kubezone_model::{DnsName, ObjectRef};

use crate::{
    ObjectRecords, Problem, TranslateError, ZoneFilter, meta::ttl_annotation, output::Builder,
    targets, template,
};

/// The class annotation that predates `spec.ingressClassName`.
const CLASS_ANNOTATION: &str = "kubernetes.io/ingress.class";

pub(crate) fn translate(
    zones: &[ZoneFilter],
    ingress: &Ingress,
    object: ObjectRef,
) -> (ObjectRecords, Vec<Problem>) {
    let mut b = Builder::new(zones, object);
    b.metadata(&ingress.metadata);
    let spec = ingress.spec.as_ref();
    let class_name = spec.and_then(|s| s.ingress_class_name.as_deref());
    let class_annotation = ingress
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(CLASS_ANNOTATION))
        .map(String::as_str);

    let mut served = Vec::new();
    let rules = spec.and_then(|s| s.rules.as_deref()).unwrap_or_default();
    // A rule without a host, or no rule at all (a default backend), is a catch-all: it has no
    // name of its own, but a zone's nameTemplate may give it some.
    let mut catch_all = rules.is_empty();
    for (i, rule) in rules.iter().enumerate() {
        let Some(host) = targets::non_empty(rule.host.as_deref()) else {
            catch_all = true;
            continue;
        };
        let parsed = DnsName::parse(host).map_err(|source| {
            TranslateError::invalid_name(format!("spec.rules[{i}].host"), host, source)
        });
        let Some(name) = b.check(parsed) else {
            continue;
        };
        if let Some(zone) = b.zone_for(&name, |z| {
            z.accepts_ingress_class(class_name, class_annotation)
        }) {
            served.push((zone, name));
        }
    }
    if catch_all {
        let accepts = |z: &ZoneFilter| z.accepts_ingress_class(class_name, class_annotation);
        for name in template::object_names(&mut b, &ingress.metadata, accepts, |_| None) {
            if let Some(zone) = b.zone_for(&name, accepts) {
                served.push((zone, name));
            }
        }
    }
    // Nothing of ours: stay quiet about the rest, it belongs to some other DNS.
    if served.is_empty() {
        return b.finish();
    }

    let ttl = b.check(ttl_annotation(&ingress.metadata)).flatten();
    let lb = ingress
        .status
        .as_ref()
        .and_then(|s| s.load_balancer.as_ref())
        .and_then(|l| l.ingress.as_deref())
        .unwrap_or_default();
    // external-dns's `target` annotation replaces the load balancer's addresses.
    let targets = match targets::annotated(&mut b, &ingress.metadata) {
        Some(targets) => targets,
        None => targets::load_balancer(
            &mut b,
            lb.iter().map(|e| (e.ip.as_deref(), e.hostname.as_deref())),
        ),
    };
    for (zone, name) in served {
        b.add(zone, name, &targets, ttl);
    }
    b.finish()
}
