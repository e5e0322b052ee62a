//! `clusters:` and `localCluster:`: several clusters read at once (`docs/multi-cluster.md`),
//! and a zone's `global:`.

use std::{path::Path, path::PathBuf, time::Duration};

use ipnet::IpNet;
use kubezone_model::{ClusterId, Preference};
use kubezone_sources::ClusterConfig;
use kubezone_translate::{GlobalNames, LabelSelector};
use serde::Deserialize;

use super::{duration, zone::namespaces};

/// How long a cluster's data is served once its API server is out of reach.
pub const DEFAULT_STALE_AFTER: Duration = Duration::from_secs(300);

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawCluster {
    name: String,
    kubeconfig: Option<PathBuf>,
    context: Option<String>,
    #[serde(default)]
    clients: Vec<String>,
    stale_after: Option<String>,
    #[serde(default)]
    namespaces: Vec<String>,
    #[serde(default = "super::raw::default_true")]
    events: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawGlobal {
    selector: Option<String>,
    preference: Option<String>,
}

/// One cluster of `clusters:`.
#[derive(Debug, Clone)]
pub struct Cluster {
    pub id: ClusterId,
    pub kube: ClusterConfig,
    /// The client networks that belong to the cluster (local-first answers).
    pub clients: Vec<IpNet>,
    /// How long its data is served once its API server is out of reach.
    pub stale_after: Duration,
}

/// Checks `clusters:` and `localCluster:`; errors name the key.
pub(super) fn clusters(
    raw: Vec<RawCluster>,
    local: Option<String>,
    base: &Path,
) -> Result<(Vec<Cluster>, Option<u16>), (String, String)> {
    let mut clusters: Vec<Cluster> = Vec::with_capacity(raw.len());
    for (i, c) in raw.into_iter().enumerate() {
        let key = |field: &str| format!("clusters[{i}].{field}");
        let index = u16::try_from(i).map_err(|_| {
            (
                "clusters".to_string(),
                "more than 65,535 clusters".to_string(),
            )
        })?;
        if !is_dns_label(&c.name) {
            return Err((
                key("name"),
                format!(
                    "{:?} is not a DNS label (lower-case letters, digits and '-', at most 63); it becomes part of names",
                    c.name
                ),
            ));
        }
        if clusters.iter().any(|o| o.id.name() == c.name) {
            return Err((key("name"), format!("{:?} is listed twice", c.name)));
        }
        let mut networks = Vec::with_capacity(c.clients.len());
        for (j, text) in c.clients.iter().enumerate() {
            let network = text
                .parse::<IpNet>()
                .or_else(|_| text.parse::<std::net::IpAddr>().map(IpNet::from))
                .map_err(|_| {
                    (
                        format!("clusters[{i}].clients[{j}]"),
                        format!("{text:?} is not an address or a network (10.1.0.0/16)"),
                    )
                })?
                .trunc();
            if let Some(other) = clusters.iter().find(|o| o.clients.contains(&network)) {
                return Err((
                    format!("clusters[{i}].clients[{j}]"),
                    format!("{network} is already cluster {}'s", other.id),
                ));
            }
            networks.push(network);
        }
        let stale_after = match c.stale_after.as_deref() {
            None => DEFAULT_STALE_AFTER,
            Some(text) => duration::parse(text).ok_or_else(|| {
                (
                    key("staleAfter"),
                    format!("{text:?} is not a duration from 1s to 24h (5m, 90s, 300)"),
                )
            })?,
        };
        let kube = ClusterConfig {
            kubeconfig: c.kubeconfig.map(|p| base.join(p)),
            context: c.context,
            namespaces: namespaces(&c.namespaces)
                .map_err(|(field, message)| (key(&field), message))?,
            events: c.events,
        };
        clusters.push(Cluster {
            id: ClusterId::new(index, &c.name),
            kube,
            clients: networks,
            stale_after,
        });
    }
    let local = match local {
        None => None,
        Some(name) => Some(
            clusters
                .iter()
                .find(|c| c.id.name() == name)
                .map(|c| c.id.index())
                .ok_or_else(|| {
                    (
                        "localCluster".to_string(),
                        format!("{name:?} is not one of clusters[].name"),
                    )
                })?,
        ),
    };
    for (i, cluster) in clusters.iter().enumerate() {
        if cluster.kube.kubeconfig.is_none() && Some(cluster.id.index()) != local {
            return Err((
                format!("clusters[{i}].kubeconfig"),
                format!(
                    "cluster {} needs a kubeconfig: only localCluster may use the service account or the default kubeconfig",
                    cluster.id
                ),
            ));
        }
    }
    Ok((clusters, local))
}

/// A zone's `global:`; errors name the key below the zone.
pub(super) fn global(raw: Option<RawGlobal>) -> Result<GlobalNames, (String, String)> {
    let raw = raw.unwrap_or_default();
    let selector = raw
        .selector
        .as_deref()
        .filter(|s| !s.trim().is_empty())
        .map(|s| {
            s.parse::<LabelSelector>()
                .map_err(|e| ("global.selector".to_string(), e.to_string()))
        })
        .transpose()?;
    let preference = match raw.preference.as_deref() {
        None => Preference::All,
        Some(text) => Preference::parse(text).ok_or_else(|| {
            (
                "global.preference".to_string(),
                format!("{text:?} is not all or local-first"),
            )
        })?,
    };
    Ok(GlobalNames {
        selector,
        preference,
    })
}

fn is_dns_label(text: &str) -> bool {
    (1..=63).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !text.starts_with('-')
        && !text.ends_with('-')
}
