//! Several clusters: whether an object is global in a zone, and how its targets are given.
//! Global objects of the same kind, namespace and name in several clusters merge their targets
//! under the names they share (the index does the merging).

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kubezone_model::Preference;

use crate::{TranslateError, ZoneFilter};

/// semaphore-service-mirror's label for a global Service, accepted as it is.
pub const SEMAPHORE_LABEL: &str = "mirror.semaphore.uw.io/global-service";
/// semaphore-service-mirror's routing strategy label: `local-first` asks for what kubezone's
/// `local-first` preference does.
pub const SEMAPHORE_STRATEGY: &str = "mirror.semaphore.uw.io/global-service-routing-strategy";
/// kubezone's own mark, as a label or an annotation.
pub const GLOBAL: &str = "kubezone.io/global";
/// `all` or `local-first`, overriding the zone's `global.preference` for one object.
pub const PREFERENCE: &str = "kubezone.io/preference";

/// For each zone, the object's preference if it is global there. The error names a bad
/// `kubezone.io/preference`, which then counts as absent.
pub(crate) fn global_in(
    zones: &[ZoneFilter],
    meta: &ObjectMeta,
) -> (Vec<Option<Preference>>, Option<TranslateError>) {
    let none = BTreeMap::new();
    let labels = meta.labels.as_ref().unwrap_or(&none);
    let annotations = meta.annotations.as_ref().unwrap_or(&none);
    let is_true = |map: &BTreeMap<String, String>, key: &str| {
        map.get(key).is_some_and(|v| v.eq_ignore_ascii_case("true"))
    };
    let marked =
        is_true(labels, SEMAPHORE_LABEL) || is_true(labels, GLOBAL) || is_true(annotations, GLOBAL);
    let (own, error) = match annotations.get(PREFERENCE) {
        None => (
            labels
                .get(SEMAPHORE_STRATEGY)
                .filter(|v| v.trim() == "local-first")
                .map(|_| Preference::LocalFirst),
            None,
        ),
        Some(value) => match Preference::parse(value.trim()) {
            Some(preference) => (Some(preference), None),
            None => (
                None,
                Some(TranslateError::UnknownValue {
                    field: format!("metadata.annotations[{PREFERENCE}]"),
                    value: value.clone(),
                    expected: "all or local-first",
                }),
            ),
        },
    };
    let zones = zones
        .iter()
        .map(|zone| {
            let selected = zone
                .global
                .selector
                .as_ref()
                .is_some_and(|s| s.matches(labels));
            (marked || selected).then(|| own.unwrap_or(zone.global.preference))
        })
        .collect();
    (zones, error)
}
