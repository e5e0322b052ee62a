//! A Service's names: what its annotations ask for, else the default name where its type has
//! one, and external-dns's `internal-hostname`.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Service;
use kubezone_model::{DnsName, Kind, ObjectRef};

use super::Shape;
use crate::{
    TranslateError, ZoneFilter,
    annotations::{self, Annotation},
    names,
    output::Builder,
    template,
};

/// The names the Service's targets are served under. Without a hostname annotation, a zone's
/// `nameTemplate` names any Service; in a zone without one, LoadBalancer and ExternalName
/// Services get `<name>.<namespace>.<zone>`, while NodePort and headless Services only get the
/// names they ask for, as with external-dns, since most of them are not meant to be reached
/// from outside.
pub(super) fn main(
    b: &mut Builder<'_>,
    service: &Service,
    object: &ObjectRef,
    shape: Shape,
) -> Vec<DnsName> {
    if let Some(annotation) = annotations::first(&service.metadata, &annotations::HOSTNAME) {
        return expand(b, annotation);
    }
    // A zone's nameTemplate, else `<name>.<namespace>.<zone>` where the type has a default;
    // with several clusters `<name>.<namespace>.<cluster>.<zone>`, and the name without the
    // cluster too where the Service is global.
    let has_default = matches!(shape, Shape::LoadBalancer | Shape::ExternalName);
    let namespace = object.namespace().unwrap_or("default");
    let relative = format!("{}.{namespace}", object.name());
    let in_cluster = match object.cluster() {
        Some(cluster) => format!("{relative}.{cluster}"),
        None => relative.clone(),
    };
    let no_labels = BTreeMap::new();
    let labels = service.metadata.labels.as_ref().unwrap_or(&no_labels);
    let default_name = |relative: &str, zone: &ZoneFilter| {
        DnsName::parse(&format!("{relative}.{}", zone.origin)).map_err(|source| {
            TranslateError::invalid_name("metadata.name".into(), relative, source)
        })
    };
    let mut names = template::object_names(
        b,
        &service.metadata,
        |zone| zone.accepts_service_labels(labels),
        |zone| has_default.then(|| default_name(&in_cluster, zone)),
    );
    if object.cluster().is_none() || !has_default {
        return names;
    }
    let zones = b.zones();
    for (index, zone) in zones.iter().enumerate() {
        if !zone.serves(Kind::Service) || zone.name_template.is_some() {
            continue;
        }
        if let Ok(name) = default_name(&in_cluster, zone) {
            b.cluster_name(name);
        }
        if b.global_in(index).is_some() {
            let name = default_name(&relative, zone);
            names.extend(b.check(name));
        }
    }
    names.sort();
    names.dedup();
    names
}

/// external-dns's `internal-hostname`: names for the ClusterIP (a headless Service's
/// endpoints).
pub(super) fn internal(b: &mut Builder<'_>, service: &Service) -> Vec<DnsName> {
    match annotations::external_dns(&service.metadata, "internal-hostname") {
        Some(annotation) => expand(b, annotation),
        None => Vec::new(),
    }
}

/// Each comma-separated name of an annotation, relative ones made absolute in every zone.
fn expand(b: &mut Builder<'_>, annotation: Annotation<'_>) -> Vec<DnsName> {
    let mut result = Vec::new();
    for item in annotation.items() {
        for name in names::expand(b.zones(), Kind::Service, item) {
            let name = name
                .map_err(|source| TranslateError::invalid_name(annotation.field(), item, source));
            result.extend(b.check(name));
        }
    }
    result
}

/// The names some zone serves for this Service, with that zone.
pub(super) fn served(
    b: &Builder<'_>,
    names: Vec<DnsName>,
    accepts: impl Fn(&ZoneFilter) -> bool,
) -> Vec<(usize, DnsName)> {
    names
        .into_iter()
        .filter_map(|name| Some((b.zone_for(&name, &accepts)?, name)))
        .collect()
}
