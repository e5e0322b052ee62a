//! `fake`: made-up objects and a steady churn of changes to them (the fake source), for demos,
//! load tests and soak tests. Checked against the zone they go in, so every object it makes is
//! one that zone serves.

use std::collections::BTreeMap;

use kubezone_model::{DnsName, Kind};
use kubezone_sources::{FAKE_KINDS, FAKE_NAMESPACES, FakeConfig, FakeSource, MANAGED_BY};
use serde::Deserialize;

use super::Zone;

/// Objects at most: about 1 KiB each in the index.
const MAX_OBJECTS: u64 = 1_000_000;
const MAX_CHANGES_PER_SECOND: u64 = 100_000;
/// Without `seed`, every run makes the same objects and changes.
const DEFAULT_SEED: u64 = 1;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawFake {
    objects: u64,
    #[serde(default)]
    changes_per_second: u64,
    seed: Option<u64>,
    zone: Option<String>,
}

/// The checked settings, for `zones` (the config's own, not the catalog); an error names the
/// key (below `fake.`) and the value.
pub(super) fn fake(raw: RawFake, zones: &[Zone]) -> Result<FakeConfig, (String, String)> {
    let objects = u32::try_from(raw.objects)
        .ok()
        .filter(|n| (1..=MAX_OBJECTS).contains(&u64::from(*n)))
        .ok_or_else(|| {
            (
                "objects".to_string(),
                format!("{} is out of range 1..={MAX_OBJECTS}", raw.objects),
            )
        })?;
    let changes_per_second = u32::try_from(raw.changes_per_second)
        .ok()
        .filter(|n| u64::from(*n) <= MAX_CHANGES_PER_SECOND)
        .ok_or_else(|| {
            (
                "changesPerSecond".to_string(),
                format!(
                    "{} is out of range 0..={MAX_CHANGES_PER_SECOND}",
                    raw.changes_per_second
                ),
            )
        })?;
    let zone = match &raw.zone {
        None => zones.first().ok_or_else(|| {
            (
                "zone".to_string(),
                "there is no zone to put the objects in".to_string(),
            )
        })?,
        Some(text) => {
            let name = DnsName::parse(text).map_err(|e| ("zone".to_string(), e.to_string()))?;
            zones
                .iter()
                .find(|z| z.index.origin == name)
                .ok_or_else(|| {
                    let names: Vec<String> =
                        zones.iter().map(|z| z.index.origin.to_string()).collect();
                    (
                        "zone".to_string(),
                        format!("{text:?} is not one of the zones ({})", names.join(", ")),
                    )
                })?
        }
    };
    let filter = &zone.filter;
    let origin = &filter.origin;
    if filter.namespaces.needs_labels() {
        return Err((
            "zone".into(),
            format!(
                "zone {origin} admits namespaces by their labels (namespaceSelector), and the \
                 fake source makes no Namespace objects; use `namespaces` or another zone"
            ),
        ));
    }
    // Services only when the zone's label selectors take them.
    let labels = BTreeMap::from([(MANAGED_BY.0.to_string(), MANAGED_BY.1.to_string())]);
    let kinds: Vec<Kind> = FAKE_KINDS
        .into_iter()
        .filter(|k| filter.serves(*k))
        .filter(|k| *k != Kind::Service || filter.accepts_service_labels(&labels))
        .collect();
    if kinds.is_empty() {
        return Err((
            "zone".into(),
            format!(
                "zone {origin} serves none of Service (labelled {}={}), Ingress and DNSEndpoint, \
                 which are what the fake source makes",
                MANAGED_BY.0, MANAGED_BY.1
            ),
        ));
    }
    let namespaces: Vec<String> = if filter.namespaces.names.is_empty() {
        FAKE_NAMESPACES.iter().map(|n| (*n).to_string()).collect()
    } else {
        filter.namespaces.names.iter().cloned().collect()
    };
    // A zone below this one would take a namespace's names: `<app>-<i>.shop.<zone>` is in
    // `shop.<zone>` when that is a zone too.
    for namespace in &namespaces {
        if let Ok(name) = DnsName::parse(&format!("{namespace}.{origin}"))
            && let Some(inner) = zones
                .iter()
                .map(|z| &z.index.origin)
                .find(|o| *o != origin && origin.contains(o) && o.contains(&name))
        {
            return Err((
                "zone".into(),
                format!(
                    "the names of namespace {namespace} ({namespace}.{origin}) fall in zone \
                     {inner}; put the objects in {inner} or limit the zone's `namespaces`"
                ),
            ));
        }
    }
    let config = FakeConfig {
        objects,
        changes_per_second,
        seed: raw.seed.unwrap_or(DEFAULT_SEED),
        zone: origin.clone(),
        kinds,
        namespaces,
        ingress_class: filter.ingress_classes.first().cloned(),
    };
    // Whether every name the objects get is a valid one, as the source will check again.
    FakeSource::new(config.clone()).map_err(|e| {
        (
            "objects".to_string(),
            format!("{objects} objects in zone {origin}: {e}"),
        )
    })?;
    Ok(config)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::config::{Config, ConfigError};

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(Path::new("/etc/kubezone/kubezone.yaml"), text)
    }

    fn fake(text: &str) -> FakeConfig {
        parse(text)
            .expect("valid")
            .fake
            .expect("fake is configured")
    }

    #[test]
    fn fake_alone_is_a_source_with_its_defaults() {
        let config =
            parse("zones: [{zone: example.com}, {zone: example.org}]\nfake: {objects: 10}")
                .expect("valid");
        assert!(config.manifests.is_empty() && config.kubernetes.is_none());
        let fake = config.fake.expect("fake");
        assert_eq!(fake.objects, 10);
        assert_eq!(fake.changes_per_second, 0);
        assert_eq!(fake.seed, DEFAULT_SEED);
        assert_eq!(fake.zone.to_string(), "example.com.", "the first zone");
        assert_eq!(fake.kinds, FAKE_KINDS);
        assert_eq!(fake.namespaces, FAKE_NAMESPACES);
        assert_eq!(fake.ingress_class, None);
        assert!(
            parse("zones: [{zone: example.com}]")
                .expect("valid")
                .fake
                .is_none()
        );
    }

    #[test]
    fn the_zone_decides_kinds_namespaces_and_class() {
        let fake = fake(
            r#"
zones:
  - zone: example.com
  - zone: Example.ORG.
    resources: [HTTPRoute, DNSEndpoint, Ingress]
    namespaces: [team-b, team-a]
    ingressClasses: [nginx, traefik]
fake: {objects: 5, changesPerSecond: 20, seed: 7, zone: example.org}
"#,
        );
        assert_eq!(fake.zone.to_string(), "example.org.");
        assert_eq!((fake.changes_per_second, fake.seed), (20, 7));
        assert_eq!(fake.kinds, [Kind::Ingress, Kind::DnsEndpoint]);
        assert_eq!(fake.namespaces, ["team-a", "team-b"]);
        assert_eq!(fake.ingress_class.as_deref(), Some("nginx"));
        // Label selectors that the fake Services' label does not match leave Services out.
        let fake = self::fake(
            "zones: [{zone: example.com, serviceLabelSelectors: ['app=web']}]\nfake: {objects: 5}",
        );
        assert_eq!(fake.kinds, [Kind::Ingress, Kind::DnsEndpoint]);
        let fake = self::fake(
            "zones: [{zone: example.com, serviceLabelSelectors: ['app.kubernetes.io/managed-by']}]\nfake: {objects: 5}",
        );
        assert_eq!(fake.kinds, FAKE_KINDS);
    }

    #[test]
    fn bad_values_are_named_with_their_key() {
        for (text, key, value) in [
            (
                "zones: [{zone: example.com}]\nfake: {}",
                "objects",
                "missing field",
            ),
            (
                "zones: [{zone: example.com}]\nfake: {objects: 10, changesPerSec: 1}",
                "changesPerSec",
                "unknown field",
            ),
            (
                "zones: [{zone: example.com}]\nfake: {objects: 0}",
                "fake.objects",
                "0 is out of range 1..=1000000",
            ),
            (
                "zones: [{zone: example.com}]\nfake: {objects: 1000001}",
                "fake.objects",
                "1000001 is out of range",
            ),
            (
                "zones: [{zone: example.com}]\nfake: {objects: 1, changesPerSecond: 100001}",
                "fake.changesPerSecond",
                "100001 is out of range 0..=100000",
            ),
            (
                "zones: [{zone: example.com}]\nfake: {objects: 1, changesPerSecond: -1}",
                "fake.changesPerSecond",
                "integer `-1`, expected u64",
            ),
            (
                "zones: [{zone: example.com}]\nfake: {objects: 1, zone: example.net}",
                "fake.zone",
                "\"example.net\" is not one of the zones (example.com.)",
            ),
            (
                "zones: [{zone: example.com}]\nfake: {objects: 1, zone: 'bad zone'}",
                "fake.zone",
                "bad zone",
            ),
            (
                "zones: [{zone: example.com, resources: [HTTPRoute, Node]}]\nfake: {objects: 1}",
                "fake.zone",
                "zone example.com. serves none of Service",
            ),
            (
                "zones: [{zone: example.com, namespaceSelector: 'team=a'}]\nfake: {objects: 1}",
                "fake.zone",
                "namespaceSelector",
            ),
            (
                "zones: [{zone: example.com}, {zone: shop.example.com}]\nfake: {objects: 1}",
                "fake.zone",
                "namespace shop (shop.example.com.) fall in zone shop.example.com.",
            ),
        ] {
            let err = parse(text).expect_err(text).to_string();
            assert!(err.contains(key), "{text}: {err}");
            assert!(err.contains(value), "{text}: {err}");
        }
    }

    #[test]
    fn names_too_long_for_the_zone_are_refused_before_the_start() {
        let label = "a".repeat(60);
        let zone = format!("{label}.{label}.{label}.{}", "b".repeat(53));
        let text =
            |objects: u32| format!("zones: [{{zone: {zone}}}]\nfake: {{objects: {objects}}}");
        let err = parse(&text(100_000)).expect_err("too long").to_string();
        assert!(
            err.contains("fake.objects: 100000 objects in zone")
                && err.contains("the limit is 255"),
            "{err}"
        );
        assert!(parse(&text(5)).is_ok());
    }

    /// The example the docs point at parses, and makes objects.
    #[test]
    fn the_example_config_parses() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/fake.yaml");
        let config = Config::load(&path).expect("config/fake.yaml");
        let fake = config.fake.expect("fake");
        assert!(fake.objects > 0 && fake.changes_per_second > 0);
        assert!(config.manifests.is_empty() && config.kubernetes.is_none());
    }
}
