//! Service of type LoadBalancer: `<name>.<namespace>.<zone>` (or the zone's `nameTemplate`) or
//! the hostname annotation, pointing at `spec.externalIPs` or else
//! `status.loadBalancer.ingress[]`. A Service of type ExternalName gets the same names as a
//! CNAME to `spec.externalName` (`spec/dns.md`, CNAME).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Service;
use kubezone_model::{DnsName, Kind, ObjectRef, Target};

use crate::{
    ObjectRecords, Problem, TranslateError, ZoneFilter, meta::ttl_annotation, names,
    output::Builder, targets, template,
};

/// The first one set wins: k8s_gateway's own, then external-dns's two spellings.
const HOSTNAME_ANNOTATIONS: [&str; 3] = [
    "coredns.io/hostname",
    "external-dns.alpha.kubernetes.io/hostname",
    "external-dns.kubernetes.io/hostname",
];

pub(crate) fn translate(
    zones: &[ZoneFilter],
    service: &Service,
    object: ObjectRef,
) -> (ObjectRecords, Vec<Problem>) {
    let mut b = Builder::new(zones, object.clone());
    b.annotations(service.metadata.annotations.as_ref());
    let spec = service.spec.as_ref();
    let external_name = match spec.and_then(|s| s.type_.as_deref()) {
        Some("LoadBalancer") => false,
        Some("ExternalName") => true,
        _ => return b.finish(),
    };
    let no_labels = BTreeMap::new();
    let labels = service.metadata.labels.as_ref().unwrap_or(&no_labels);

    let mut served = Vec::new();
    for name in service_names(&mut b, service, &object) {
        if let Some(zone) = b.zone_for(&name, |z| z.accepts_service_labels(labels)) {
            served.push((zone, name));
        }
    }
    if served.is_empty() {
        return b.finish();
    }

    let ttl = b.check(ttl_annotation(&service.metadata)).flatten();
    let targets = if external_name {
        let value = spec
            .and_then(|s| s.external_name.as_deref())
            .unwrap_or_default();
        b.check(targets::host("spec.externalName".into(), value))
            .into_iter()
            .collect()
    } else {
        service_targets(&mut b, service)
    };
    for (zone, name) in served {
        b.add(zone, name, &targets, ttl);
    }
    b.finish()
}

fn service_names(b: &mut Builder<'_>, service: &Service, object: &ObjectRef) -> Vec<DnsName> {
    let annotations = service.metadata.annotations.as_ref();
    let annotation = HOSTNAME_ANNOTATIONS.iter().find_map(|key| {
        annotations
            .and_then(|a| a.get(*key))
            .filter(|value| !value.trim().is_empty())
            .map(|value| (*key, value))
    });
    let mut result = Vec::new();
    match annotation {
        Some((key, value)) => {
            for item in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                for name in names::expand(b.zones(), Kind::Service, item) {
                    let field = format!("metadata.annotations[{key:?}]");
                    let name =
                        name.map_err(|source| TranslateError::invalid_name(field, item, source));
                    result.extend(b.check(name));
                }
            }
        }
        // A zone's nameTemplate, else `<name>.<namespace>.<zone>`.
        None => {
            let namespace = object.namespace().unwrap_or("default");
            let relative = format!("{}.{namespace}", object.name());
            let no_labels = BTreeMap::new();
            let labels = service.metadata.labels.as_ref().unwrap_or(&no_labels);
            result = template::object_names(
                b,
                &service.metadata,
                |zone| zone.accepts_service_labels(labels),
                |zone| {
                    Some(
                        DnsName::parse(&format!("{relative}.{}", zone.origin)).map_err(|source| {
                            TranslateError::invalid_name("metadata.name".into(), &relative, source)
                        }),
                    )
                },
            );
        }
    }
    result
}

fn service_targets(b: &mut Builder<'_>, service: &Service) -> Vec<Target> {
    let external_ips = service
        .spec
        .as_ref()
        .and_then(|s| s.external_ips.as_deref())
        .unwrap_or_default();
    if !external_ips.is_empty() {
        let mut result = Vec::new();
        for (i, value) in external_ips.iter().enumerate() {
            result.extend(b.check(targets::ip(format!("spec.externalIPs[{i}]"), value)));
        }
        return result;
    }
    let lb = service
        .status
        .as_ref()
        .and_then(|s| s.load_balancer.as_ref())
        .and_then(|l| l.ingress.as_deref())
        .unwrap_or_default();
    targets::load_balancer(
        b,
        lb.iter().map(|e| (e.ip.as_deref(), e.hostname.as_deref())),
    )
}
