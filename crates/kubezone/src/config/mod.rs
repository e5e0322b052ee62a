//! The configuration file: YAML, strict (an unknown key is an error that names it), with
//! relative paths resolved against the file's folder.

mod catalog;
mod clusters;
mod duration;
mod fake;
mod forwarding;
mod guard;
mod identity;
mod kuberoute;
mod push;
mod raw;
mod tenancy;
mod transfer;
mod tsig_keys;
mod zone;
mod zone_data;

pub use clusters::{Cluster, DEFAULT_STALE_AFTER};
pub use push::{Push, PushPolicy};
pub use transfer::Transfer;
pub use zone::namespaces;

use guard::{build_acl, build_rate_limit};
use identity::build_identity;
use raw::RawConfig;
use zone::build_zone;

use std::{
    collections::HashSet,
    net::{IpAddr, SocketAddr},
    path::{Path, PathBuf},
    sync::Arc,
    time::Duration,
};

use kubezone_dns::{Fallthrough, ForwardSettings, Identity, listen};
use kubezone_guard::{Guard, GuardConfig, Observer};
use kubezone_index::ZoneConfig;
use kubezone_model::{DnsName, Kind};
use kubezone_sources::{ClusterConfig, FakeConfig, ServiceName};
use kubezone_transfer::KeyRing;
use kubezone_translate::{KuberouteLabels, ZoneFilter};

/// Why a configuration cannot be used. Every message names the file, the key and the value.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("config {path}: {source}")]
    Parse {
        path: PathBuf,
        #[source]
        source: serde_norway::Error,
    },
    #[error("config {path}: {key}: {message}")]
    Invalid {
        path: PathBuf,
        key: String,
        message: String,
    },
}

/// A checked configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: Vec<SocketAddr>,
    pub zones: Vec<Zone>,
    pub upstream: Vec<SocketAddr>,
    /// How fallthrough queries go to `upstream`: the bound on those waiting, the timeouts.
    pub forwarding: ForwardSettings,
    pub manifests: Vec<PathBuf>,
    /// The cluster to watch, when there is one.
    pub kubernetes: Option<ClusterConfig>,
    /// Several clusters to watch (`clusters:`), instead of `kubernetes`.
    pub clusters: Vec<Cluster>,
    /// The place in `clusters` of the cluster kubezone runs in.
    pub local_cluster: Option<u16>,
    /// Made-up objects and their churn, when configured.
    pub fake: Option<FakeConfig>,
    pub tcp_idle_timeout: Duration,
    /// TCP connections open at once, at most (at least 1).
    // Unread by the binary until the new UDP/TCP transport limits connections.
    pub tcp_max_connections: usize,
    /// The client ACL and response rate limiting; both off unless configured.
    pub guard: GuardConfig,
    /// Health, readiness, metrics and explain over HTTP, when configured.
    pub http: Option<HttpConfig>,
    /// How long `/readyz` says "not ready" before a stopping server stops answering.
    pub lameduck: Duration,
    /// A log line per query.
    pub query_log: bool,
    /// The server's name in NSID and CH TXT answers; off unless configured.
    pub identity: Option<Identity>,
    /// The TSIG keys of zone transfers, NOTIFY and push; empty unless configured.
    pub tsig_keys: KeyRing,
    /// The label names of kuberoute's Services.
    pub kuberoute: KuberouteLabels,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpConfig {
    pub listen: SocketAddr,
    /// Whether `/metrics` is served (and the counters kept).
    pub metrics: bool,
}

/// One zone, split into what each part of kubezone needs.
#[derive(Debug, Clone)]
pub struct Zone {
    pub index: ZoneConfig,
    pub filter: ZoneFilter,
    pub fallthrough: Fallthrough,
    /// The Services whose addresses are the nameserver hosts' glue when the config gives none.
    pub glue_services: GlueServices,
    /// Zone transfer to secondaries, when configured.
    pub transfer: Option<Transfer>,
    /// Keeping a primary's copy of the zone in sync by UPDATE, when configured.
    pub push: Option<Push>,
}

/// The Services named by `apex` and `secondary` (read as `name.namespace`), whatever source
/// brings them: the cluster or the manifests folder.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GlueServices {
    pub nameserver: Option<ServiceName>,
    pub secondary: Option<ServiceName>,
}

impl GlueServices {
    pub fn iter(&self) -> impl Iterator<Item = &ServiceName> {
        self.nameserver.iter().chain(&self.secondary)
    }
}

impl Config {
    /// The Kinds the zones read from a cluster: those they serve, and Namespaces when a zone
    /// selects namespaces by label (the cluster source adds what routes need).
    pub fn cluster_kinds(&self) -> Vec<Kind> {
        let mut kinds: Vec<Kind> = self
            .zones
            .iter()
            .flat_map(|z| z.filter.resources.iter().copied())
            .collect();
        if self
            .zones
            .iter()
            .any(|z| z.filter.namespaces.needs_labels())
        {
            kinds.push(Kind::Namespace);
        }
        kinds
    }

    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Config::parse(path, &text)
    }

    /// Parses `text` as if read from `path` (relative paths resolve against its folder).
    pub fn parse(path: &Path, text: &str) -> Result<Config, ConfigError> {
        let raw: RawConfig = serde_norway::from_str(text).map_err(|source| ConfigError::Parse {
            path: path.to_path_buf(),
            source,
        })?;
        let invalid = |key: String, message: String| ConfigError::Invalid {
            path: path.to_path_buf(),
            key,
            message,
        };
        let base = path.parent().unwrap_or(Path::new("."));

        let listen = raw
            .listen
            .iter()
            .enumerate()
            .map(|(i, l)| {
                l.parse::<SocketAddr>().map_err(|e| {
                    invalid(format!("listen[{i}]"), format!("{l:?} is not ip:port: {e}"))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        if listen.is_empty() {
            return Err(invalid(
                "listen".into(),
                "at least one address is needed".into(),
            ));
        }
        let upstream = raw
            .upstream
            .iter()
            .enumerate()
            .map(|(i, u)| {
                parse_upstream(u).ok_or_else(|| {
                    invalid(
                        format!("upstream[{i}]"),
                        format!("{u:?} is not ip or ip:port"),
                    )
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        if raw.zones.is_empty() {
            return Err(invalid(
                "zones".into(),
                "at least one zone is needed".into(),
            ));
        }
        let mut seen = HashSet::new();
        let mut zones = Vec::new();
        let zone_with_global = raw.zones.iter().position(|z| z.global.is_some());
        for (i, z) in raw.zones.into_iter().enumerate() {
            let zone =
                build_zone(z, i).map_err(|(key, msg)| invalid(format!("zones[{i}].{key}"), msg))?;
            if !seen.insert(zone.index.origin.clone()) {
                return Err(invalid(
                    format!("zones[{i}].zone"),
                    format!("zone {} is listed twice", zone.index.origin),
                ));
            }
            zones.push(zone);
        }
        let count_zones = zones.len();
        // Before the catalog joins `zones`: made-up objects go in the config's own zones.
        let fake = raw
            .fake
            .map(|f| fake::fake(f, &zones))
            .transpose()
            .map_err(|(key, message)| invalid(format!("fake.{key}"), message))?;
        if let Some(raw_catalog) = raw.catalog {
            let members: Vec<&DnsName> = zones
                .iter()
                .filter(|z| z.transfer.is_some())
                .map(|z| &z.index.origin)
                .collect();
            let catalog = catalog::catalog(raw_catalog, &members, modified(path))
                .map_err(|(key, message)| invalid(format!("catalog.{key}"), message))?;
            if zones.iter().any(|z| z.index.origin == catalog.index.origin) {
                return Err(invalid(
                    "catalog.zone".into(),
                    format!(
                        "{} is also a zone of `zones`; the catalog needs a name of its own",
                        catalog.index.origin
                    ),
                ));
            }
            zones.push(catalog);
        }
        // Every key a zone's transfer names must be defined in `tsigKeys`.
        let tsig_keys = tsig_keys::key_ring(raw.tsig_keys, base)
            .map_err(|(key, message)| invalid(key, message))?;
        for (i, zone) in zones.iter_mut().enumerate() {
            let Some(transfer) = zone.transfer.as_mut() else {
                continue;
            };
            for (j, key) in transfer.keys.iter().enumerate() {
                let name = tsig_keys::required_key(&tsig_keys, key).map_err(|message| {
                    let at = if i < count_zones {
                        format!("zones[{i}]")
                    } else {
                        "catalog".into()
                    };
                    invalid(format!("{at}.transfer.keys[{j}]"), message)
                })?;
                if !transfer.settings.keys.contains(&name) {
                    transfer.settings.keys.push(name);
                }
            }
        }
        // A zone's push key must be defined in `tsigKeys` too.
        for (i, zone) in zones.iter().enumerate() {
            if let Some(push) = &zone.push {
                tsig_keys::required_key(&tsig_keys, &push.key)
                    .map_err(|message| invalid(format!("zones[{i}].push.key"), message))?;
            }
        }
        let forwarding = forwarding::settings(raw.forwarding)
            .map_err(|(key, message)| invalid(format!("forwarding.{key}"), message))?;
        if upstream.is_empty() && zones.iter().any(|z| z.fallthrough != Fallthrough::Off) {
            return Err(invalid(
                "upstream".into(),
                "a zone has fallthrough but no upstream is configured".into(),
            ));
        }
        let manifests = raw.manifests.iter().map(|p| base.join(p)).collect();
        let kubernetes = match raw.kubernetes {
            None => None,
            Some(k) => Some(ClusterConfig {
                kubeconfig: k.kubeconfig.map(|p| base.join(p)),
                context: k.context,
                namespaces: namespaces(&k.namespaces)
                    .map_err(|(key, message)| invalid(format!("kubernetes.{key}"), message))?,
                events: k.events,
            }),
        };
        let (clusters, local_cluster) = clusters::clusters(raw.clusters, raw.local_cluster, base)
            .map_err(|(k, m)| invalid(k, m))?;
        if !clusters.is_empty() && kubernetes.is_some() {
            return Err(invalid(
                "clusters".into(),
                "give either kubernetes (one cluster) or clusters (several), not both".into(),
            ));
        }
        if clusters.is_empty()
            && let Some(i) = zone_with_global
        {
            return Err(invalid(
                format!("zones[{i}].global"),
                "global names need several clusters: list them under clusters".into(),
            ));
        }
        let http = match raw.http {
            None => None,
            Some(h) => Some(HttpConfig {
                listen: h.listen.parse().map_err(|e| {
                    invalid(
                        "http.listen".into(),
                        format!("{:?} is not ip:port: {e}", h.listen),
                    )
                })?,
                metrics: h.metrics,
            }),
        };
        // Compared as bound: `[::]:P` is `0.0.0.0:P` too.
        let dns = listen::expand(&listen);
        if let Some(h) = &http
            && let Some(shared) = listen::expand(&[h.listen])
                .into_iter()
                .find(|a| a.port() != 0 && dns.contains(a))
        {
            let message = if shared == h.listen {
                format!("{} is also a DNS address in `listen`", h.listen)
            } else {
                format!(
                    "{} shares {shared} with `listen` (`[::]:PORT` is `0.0.0.0:PORT` too)",
                    h.listen
                )
            };
            return Err(invalid("http.listen".into(), message));
        }
        let tcp_max_connections = usize::try_from(raw.tcp.max_connections)
            .ok()
            .filter(|n| *n >= 1)
            .ok_or_else(|| {
                invalid(
                    "tcp.maxConnections".into(),
                    format!("{} must be at least 1", raw.tcp.max_connections),
                )
            })?;
        let guard = GuardConfig {
            acl: raw
                .acl
                .map(build_acl)
                .transpose()
                .map_err(|(key, message)| invalid(format!("acl.{key}"), message))?,
            rate_limit: raw
                .rate_limit
                .map(build_rate_limit)
                .transpose()
                .map_err(|(key, message)| invalid(format!("rateLimit.{key}"), message))?,
        };
        let identity = raw
            .identity
            .map(build_identity)
            .transpose()
            .map_err(|(key, message)| invalid(format!("identity.{key}"), message))?;
        let kuberoute = kuberoute::labels(raw.kuberoute).map_err(|(key, m)| invalid(key, m))?;
        Ok(Config {
            identity,
            tsig_keys,
            kuberoute,
            listen,
            zones,
            upstream,
            forwarding,
            manifests,
            kubernetes,
            clusters,
            local_cluster,
            fake,
            http,
            lameduck: Duration::from_secs(raw.lameduck_seconds),
            query_log: raw.query_log,
            tcp_idle_timeout: Duration::from_secs(raw.tcp.idle_timeout_seconds.max(1)),
            tcp_max_connections,
            guard,
        })
    }

    /// Names the server `name` (the `--identity` flag): turns NSID and CH TXT on unless the
    /// file turned them off.
    pub fn override_identity(&mut self, name: &str) -> Result<(), String> {
        let (nsid, chaos) = self
            .identity
            .as_ref()
            .map_or((true, true), |i| (i.nsid(), i.chaos()));
        self.identity = Some(identity::named(name, nsid, chaos)?);
        Ok(())
    }

    /// The guards the transport checks, counting into `observer` (the metrics) when given.
    /// Each call, like each reload, starts with fresh rate-limit accounts.
    pub fn build_guard(&self, observer: Option<Arc<dyn Observer>>) -> Guard {
        self.guard.build(observer)
    }
}

/// When `path` was last modified, in unix seconds (0 when unknown).
fn modified(path: &Path) -> u32 {
    std::fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .and_then(|d| u32::try_from(d.as_secs()).ok())
        .unwrap_or(0)
}

/// `ip` (port 53) or `ip:port`, IPv6 as `[addr]:port` or bare.
fn parse_upstream(text: &str) -> Option<SocketAddr> {
    text.parse::<SocketAddr>().ok().or_else(|| {
        text.parse::<IpAddr>()
            .ok()
            .map(|ip| SocketAddr::new(ip, 53))
    })
}

#[cfg(test)]
mod tests;
