//! `config`: bytes → the config parser and its validation, as `kubezone --config` and
//! `kubezone check` run them.

use std::{collections::HashSet, path::Path, time::Duration};

use kubezone::config::{Config, ConfigError};

use crate::checks::check_name;

const PATH: &str = "/fuzz/kubezone.yaml";

/// Parses the bytes as the config file `/fuzz/kubezone.yaml`. A config either loads, and then
/// holds what the rest of kubezone relies on, or fails with an error that names the file (and,
/// when the YAML was fine, the key). Parsing is deterministic.
pub fn config(data: &[u8]) {
    // The file is read with `read_to_string`: text that is not UTF-8 never reaches the parser.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = Path::new(PATH);
    match Config::parse(path, text) {
        Ok(config) => {
            check_config(&config);
            let again = Config::parse(path, text).map(|c| format!("{c:?}"));
            assert_eq!(again.ok(), Some(format!("{config:?}")), "parsed twice");
        }
        Err(error) => {
            let shown = error.to_string();
            assert!(
                shown.starts_with(&format!("config {PATH}")),
                "the error does not name the file: {shown}"
            );
            match &error {
                ConfigError::Invalid { key, message, .. } => {
                    assert!(!key.is_empty() && !message.is_empty(), "{shown}");
                    assert!(shown.contains(key.as_str()), "{shown}");
                }
                ConfigError::Parse { .. } => {}
                ConfigError::Read { .. } => panic!("nothing was read: {shown}"),
            }
        }
    }
}

fn check_config(config: &Config) {
    assert!(!config.listen.is_empty(), "no listen address");
    assert!(!config.zones.is_empty(), "no zone");
    let mut origins = HashSet::new();
    for zone in &config.zones {
        let origin = &zone.index.origin;
        let context = format!("zone {origin}");
        check_name(origin, &context);
        assert!(!origin.is_wildcard(), "{context} is a wildcard");
        assert!(origins.insert(origin.clone()), "{context} twice");
        assert_eq!(&zone.filter.origin, origin, "{context}");
        assert_eq!(zone.index.precedence, zone.filter.resources, "{context}");
        let mut kinds = HashSet::new();
        for kind in &zone.filter.resources {
            assert!(
                kind.owns_names(),
                "{context} serves {kind}, which owns no names"
            );
            assert!(kinds.insert(*kind), "{context} lists {kind} twice");
        }
        let servers = std::iter::once(&zone.index.nameserver).chain(&zone.index.secondary);
        for server in servers {
            check_name(&server.name, &context);
            assert!(
                origin.contains(&server.name) && server.name != *origin,
                "{context}: nameserver {} is not below the zone",
                server.name
            );
        }
        if let Some(service) = &zone.glue_services.nameserver {
            assert!(
                zone.index.nameserver.addrs.is_empty(),
                "{context}: glue both configured and read from {service}"
            );
        }
        if let (Some(service), Some(secondary)) =
            (&zone.glue_services.secondary, &zone.index.secondary)
        {
            assert!(
                secondary.addrs.is_empty(),
                "{context}: secondary glue both configured and read from {service}"
            );
        }
        for record in &zone.index.records {
            assert!(
                zone.index.origin.contains(&record.name),
                "{context}: static record {} outside the zone",
                record.name
            );
        }
    }
    for path in &config.manifests {
        assert!(
            path.is_absolute(),
            "manifests {} is relative",
            path.display()
        );
    }
    if let Some(cluster) = &config.kubernetes {
        let mut seen = HashSet::new();
        for namespace in &cluster.namespaces {
            assert!(
                !namespace.is_empty() && namespace.len() <= 63,
                "namespace {namespace:?}"
            );
            assert!(seen.insert(namespace), "namespace {namespace} twice");
        }
    }
    if let Some(http) = &config.http {
        assert!(
            !config
                .listen
                .iter()
                .any(|l| *l == http.listen && l.port() != 0),
            "http.listen {} is also a DNS address",
            http.listen
        );
    }
    assert!(config.tcp_idle_timeout >= Duration::from_secs(1));
}
