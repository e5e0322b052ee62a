//! The configuration file: YAML, strict (an unknown key is an error that names it), with
//! relative paths resolved against the file's folder.

mod catalog;
mod forwarding;
mod tenancy;
mod transfer;
mod tsig_keys;
mod zone_data;

pub use transfer::Transfer;

use std::{
    collections::HashSet,
    net::{IpAddr, SocketAddr},
    path::{Path, PathBuf},
    str::FromStr,
    sync::Arc,
    time::Duration,
};

use kubezone_dns::{Fallthrough, ForwardSettings, Identity, listen};
use kubezone_guard::{
    AclAction, AclConfig, Guard, GuardConfig, GuardError, IpNet, Observer, RateLimitConfig,
    parse_cidr,
};
use kubezone_index::{NameServer, ZoneConfig};
use kubezone_model::{DnsName, Kind};
use kubezone_sources::{ClusterConfig, ServiceName};
use kubezone_transfer::KeyRing;
use kubezone_translate::{GatewayConsent, LabelSelector, NodeAddressType, ZoneFilter};
use serde::Deserialize;

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

/// The file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawConfig {
    #[serde(default = "default_listen")]
    listen: Vec<String>,
    zones: Vec<RawZone>,
    #[serde(default)]
    upstream: Vec<String>,
    #[serde(default)]
    forwarding: forwarding::RawForwarding,
    #[serde(default)]
    manifests: Vec<PathBuf>,
    kubernetes: Option<RawKubernetes>,
    #[serde(default)]
    tcp: RawTcp,
    http: Option<RawHttp>,
    #[serde(default = "default_lameduck")]
    lameduck_seconds: u64,
    #[serde(default)]
    query_log: bool,
    rate_limit: Option<RawRateLimit>,
    acl: Option<RawAcl>,
    identity: Option<RawIdentity>,
    catalog: Option<catalog::RawCatalog>,
    #[serde(default)]
    tsig_keys: Vec<tsig_keys::RawTsigKey>,
}

/// Both answers default to on, so `identity: {}` names the server by its host name.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawIdentity {
    name: Option<String>,
    #[serde(default = "default_true")]
    nsid: bool,
    #[serde(default = "default_true")]
    chaos: bool,
}

/// Every key has a default, so `rateLimit: {}` turns rate limiting on as documented.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawRateLimit {
    responses_per_second: Option<u64>,
    nxdomains_per_second: Option<u64>,
    nodata_per_second: Option<u64>,
    referrals_per_second: Option<u64>,
    errors_per_second: Option<u64>,
    all_per_second: Option<u64>,
    window: Option<u64>,
    slip: Option<u64>,
    ipv4_prefix_length: Option<u64>,
    ipv6_prefix_length: Option<u64>,
    #[serde(default)]
    exempt: Vec<String>,
    max_table_size: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawAcl {
    allow: Vec<String>,
    #[serde(default)]
    action: RawAclAction,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
enum RawAclAction {
    #[default]
    Refuse,
    Drop,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawHttp {
    listen: String,
    #[serde(default = "default_true")]
    metrics: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawKubernetes {
    kubeconfig: Option<PathBuf>,
    context: Option<String>,
    #[serde(default)]
    namespaces: Vec<String>,
    #[serde(default = "default_true")]
    events: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawZone {
    zone: String,
    #[serde(default = "default_ttl")]
    ttl: u32,
    #[serde(default = "default_apex")]
    apex: String,
    secondary: Option<String>,
    #[serde(default)]
    glue: Vec<IpAddr>,
    #[serde(default)]
    secondary_glue: Vec<IpAddr>,
    resources: Option<Vec<String>>,
    #[serde(default)]
    ingress_classes: Vec<String>,
    #[serde(default)]
    gateway_classes: Vec<String>,
    #[serde(default)]
    service_label_selectors: Vec<String>,
    #[serde(default)]
    node_address_type: NodeAddressType,
    #[serde(default)]
    gateway_consent: GatewayConsent,
    #[serde(default)]
    fallthrough: RawFallthrough,
    #[serde(default)]
    soa: zone_data::RawSoa,
    #[serde(default)]
    nameservers: Vec<String>,
    #[serde(default)]
    records: Vec<String>,
    transfer: Option<transfer::RawTransfer>,
    #[serde(default)]
    namespaces: Vec<String>,
    namespace_selector: Option<String>,
    #[serde(default)]
    claims: tenancy::RawClaims,
}

#[derive(Debug, Default, Deserialize)]
#[serde(untagged)]
enum RawFallthrough {
    #[default]
    Unset,
    Flag(bool),
    Zones(Vec<String>),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawTcp {
    #[serde(default = "default_tcp_idle")]
    idle_timeout_seconds: u64,
    #[serde(default = "default_tcp_max_connections")]
    max_connections: u64,
}

impl Default for RawTcp {
    fn default() -> Self {
        RawTcp {
            idle_timeout_seconds: default_tcp_idle(),
            max_connections: default_tcp_max_connections(),
        }
    }
}

fn default_listen() -> Vec<String> {
    vec!["127.0.0.1:1053".into()]
}
fn default_ttl() -> u32 {
    60
}
fn default_apex() -> String {
    "dns1.kube-system".into()
}
fn default_tcp_idle() -> u64 {
    10
}
fn default_tcp_max_connections() -> u64 {
    1000
}
fn default_lameduck() -> u64 {
    5
}
fn default_true() -> bool {
    true
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
    /// The TSIG keys of zone transfers and NOTIFY; empty unless configured.
    #[allow(
        dead_code,
        reason = "for the transfer engine (kubezone-transfer), which the binary does not start yet"
    )]
    pub tsig_keys: KeyRing,
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
        Ok(Config {
            identity,
            tsig_keys,
            listen,
            zones,
            upstream,
            forwarding,
            manifests,
            kubernetes,
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
        self.identity = Some(identity(name, nsid, chaos)?);
        Ok(())
    }

    /// The guards the transport checks, counting into `observer` (the metrics) when given.
    /// Each call, like each reload, starts with fresh rate-limit accounts.
    pub fn build_guard(&self, observer: Option<Arc<dyn Observer>>) -> Guard {
        self.guard.build(observer)
    }
}

fn build_identity(raw: RawIdentity) -> Result<Identity, (String, String)> {
    let name = match raw.name {
        Some(name) => name,
        None => hostname::get()
            .map_err(|e| e.to_string())
            .and_then(|name| {
                name.into_string()
                    .map_err(|name| format!("{name:?} is not UTF-8"))
            })
            .map_err(|e| {
                (
                    "name".to_string(),
                    format!("is not set and the host name cannot be read: {e}"),
                )
            })?,
    };
    identity(&name, raw.nsid, raw.chaos).map_err(|message| ("name".into(), message))
}

/// The identity named `name`, or why the name cannot be one (with the name).
fn identity(name: &str, nsid: bool, chaos: bool) -> Result<Identity, String> {
    Identity::new(name, nsid, chaos).map_err(|e| format!("{name:?} {e}"))
}

fn build_acl(raw: RawAcl) -> Result<AclConfig, (String, String)> {
    if raw.allow.is_empty() {
        return Err(("allow".into(), GuardError::EmptyAllow.to_string()));
    }
    Ok(AclConfig {
        allow: cidrs("allow", &raw.allow)?,
        action: match raw.action {
            RawAclAction::Refuse => AclAction::Refuse,
            RawAclAction::Drop => AclAction::Drop,
        },
    })
}

fn build_rate_limit(raw: RawRateLimit) -> Result<RateLimitConfig, (String, String)> {
    /// A number too large for its field is out of range too, reported as written.
    fn fit<T: TryFrom<u64>>(
        key: &str,
        value: Option<u64>,
        default: T,
    ) -> Result<T, (String, String)> {
        let Some(v) = value else {
            return Ok(default);
        };
        T::try_from(v).map_err(|_| {
            let range = RateLimitConfig::RANGES
                .iter()
                .find(|(k, _, _)| *k == key)
                .map(|(_, min, max)| format!(" {min}..={max}"))
                .unwrap_or_default();
            (key.to_string(), format!("{v} is out of range{range}"))
        })
    }
    /// A rate that, left out, follows `responsesPerSecond`.
    fn own_rate(key: &str, value: Option<u64>) -> Result<Option<u32>, (String, String)> {
        value.map(|v| fit(key, Some(v), 0)).transpose()
    }
    let defaults = RateLimitConfig::default();
    let config = RateLimitConfig {
        responses_per_second: fit(
            "responsesPerSecond",
            raw.responses_per_second,
            defaults.responses_per_second,
        )?,
        nxdomains_per_second: own_rate("nxdomainsPerSecond", raw.nxdomains_per_second)?,
        nodata_per_second: own_rate("nodataPerSecond", raw.nodata_per_second)?,
        referrals_per_second: own_rate("referralsPerSecond", raw.referrals_per_second)?,
        errors_per_second: own_rate("errorsPerSecond", raw.errors_per_second)?,
        all_per_second: fit("allPerSecond", raw.all_per_second, defaults.all_per_second)?,
        window: fit("window", raw.window, defaults.window)?,
        slip: fit("slip", raw.slip, defaults.slip)?,
        ipv4_prefix_length: fit(
            "ipv4PrefixLength",
            raw.ipv4_prefix_length,
            defaults.ipv4_prefix_length,
        )?,
        ipv6_prefix_length: fit(
            "ipv6PrefixLength",
            raw.ipv6_prefix_length,
            defaults.ipv6_prefix_length,
        )?,
        exempt: cidrs("exempt", &raw.exempt)?,
        max_table_size: fit("maxTableSize", raw.max_table_size, defaults.max_table_size)?,
    };
    config.validate().map_err(|e| match e {
        GuardError::OutOfRange {
            key,
            value,
            min,
            max,
        } => (
            key.to_string(),
            format!("{value} is out of range {min}..={max}"),
        ),
        other => (String::new(), other.to_string()),
    })?;
    Ok(config)
}

/// Networks (or single addresses) under `key`, each error naming its index and value.
fn cidrs(key: &str, list: &[String]) -> Result<Vec<IpNet>, (String, String)> {
    list.iter()
        .enumerate()
        .map(|(i, text)| parse_cidr(text).map_err(|e| (format!("{key}[{i}]"), e.to_string())))
        .collect()
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

/// Namespace names (RFC 1123 labels), each once.
pub fn namespaces(list: &[String]) -> Result<Vec<String>, (String, String)> {
    let mut out: Vec<String> = Vec::new();
    for (i, ns) in list.iter().enumerate() {
        let valid = !ns.is_empty()
            && ns.len() <= 63
            && ns
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !ns.starts_with('-')
            && !ns.ends_with('-');
        if !valid {
            return Err((
                format!("namespaces[{i}]"),
                format!("{ns:?} is not a namespace name"),
            ));
        }
        if !out.contains(ns) {
            out.push(ns.clone());
        }
    }
    Ok(out)
}

/// `ip` (port 53) or `ip:port`, IPv6 as `[addr]:port` or bare.
fn parse_upstream(text: &str) -> Option<SocketAddr> {
    text.parse::<SocketAddr>().ok().or_else(|| {
        text.parse::<IpAddr>()
            .ok()
            .map(|ip| SocketAddr::new(ip, 53))
    })
}

fn build_zone(z: RawZone, index: usize) -> Result<Zone, (String, String)> {
    let origin = DnsName::parse(&z.zone).map_err(|e| ("zone".to_string(), e.to_string()))?;
    if origin.is_wildcard() {
        return Err(("zone".into(), format!("{:?} is a wildcard", z.zone)));
    }
    let host = |key: &str, relative: &str| -> Result<DnsName, (String, String)> {
        if relative.ends_with('.') {
            return Err((
                key.into(),
                format!("{relative:?} must be relative to the zone"),
            ));
        }
        DnsName::parse(&format!("{relative}.{origin}"))
            .map_err(|e| (key.to_string(), e.to_string()))
    };
    // A host written `name.namespace` is a Service, whose addresses are its glue unless the
    // config gives them.
    let service_of = |host: &str, glue: &[IpAddr]| match host.split('.').collect::<Vec<_>>()[..] {
        [name, namespace] if glue.is_empty() => Some(ServiceName {
            namespace: namespace.into(),
            name: name.into(),
        }),
        _ => None,
    };
    let glue_services = GlueServices {
        nameserver: service_of(&z.apex, &z.glue),
        secondary: z
            .secondary
            .as_deref()
            .and_then(|s| service_of(s, &z.secondary_glue)),
    };
    let nameserver = NameServer {
        name: host("apex", &z.apex)?,
        addrs: z.glue,
    };
    let secondary = match z.secondary {
        Some(s) => Some(NameServer {
            name: host("secondary", &s)?,
            addrs: z.secondary_glue,
        }),
        None if !z.secondary_glue.is_empty() => {
            return Err(("secondaryGlue".into(), "is set but secondary is not".into()));
        }
        None => None,
    };
    let resources = match z.resources {
        None => Kind::DEFAULT_RESOURCES.to_vec(),
        Some(list) => {
            let mut kinds = Vec::new();
            for (i, name) in list.iter().enumerate() {
                let kind =
                    Kind::from_str(name).map_err(|e| (format!("resources[{i}]"), e.to_string()))?;
                if !kind.owns_names() {
                    return Err((
                        format!("resources[{i}]"),
                        format!(
                            "{kind} owns no names; list the routes (HTTPRoute, TLSRoute, GRPCRoute)"
                        ),
                    ));
                }
                if kinds.contains(&kind) {
                    return Err((format!("resources[{i}]"), format!("{kind} is listed twice")));
                }
                kinds.push(kind);
            }
            kinds
        }
    };
    let service_selectors = z
        .service_label_selectors
        .iter()
        .enumerate()
        .map(|(i, s)| {
            s.parse::<LabelSelector>()
                .map_err(|e| (format!("serviceLabelSelectors[{i}]"), e.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let fallthrough = match z.fallthrough {
        RawFallthrough::Unset | RawFallthrough::Flag(false) => Fallthrough::Off,
        RawFallthrough::Flag(true) => Fallthrough::All,
        RawFallthrough::Zones(list) if list.is_empty() => Fallthrough::Off,
        RawFallthrough::Zones(list) => {
            let mut names = Vec::new();
            for (i, s) in list.iter().enumerate() {
                let key = format!("fallthrough[{i}]");
                let name =
                    DnsName::parse_in_zone(s, &origin).map_err(|e| (key.clone(), e.to_string()))?;
                names.push(name.into_name());
            }
            Fallthrough::Zones(names)
        }
    };
    let mut filter = ZoneFilter::new(origin.clone());
    filter.resources = resources.clone();
    filter.ingress_classes = z.ingress_classes;
    filter.gateway_classes = z.gateway_classes;
    filter.service_selectors = service_selectors;
    filter.node_address = z.node_address_type;
    filter.namespaces = tenancy::namespace_filter(&z.namespaces, z.namespace_selector.as_deref())?;
    filter.gateway_consent = z.gateway_consent;
    let soa = zone_data::soa(z.soa, &origin)?;
    let nameservers = zone_data::nameservers(&z.nameservers, &origin)?;
    let reserved = zone_data::Reserved {
        hosts: std::iter::once(&nameserver.name)
            .chain(secondary.as_ref().map(|s| &s.name))
            .collect(),
    };
    let records = zone_data::records(&z.records, &origin, index, &reserved)?;
    let transfer = z
        .transfer
        .map(|raw| transfer::transfer(raw, &origin))
        .transpose()?;
    Ok(Zone {
        index: ZoneConfig {
            origin,
            ttl: z.ttl,
            nameserver,
            secondary,
            nameservers,
            soa,
            records,
            static_written: 0,
            precedence: resources,
            claims: z.claims.into(),
        },
        filter,
        fallthrough,
        glue_services,
        transfer,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use kubezone_guard::{ResponseKey, ResponseKind};

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(Path::new("/etc/kubezone/kubezone.yaml"), text)
    }

    #[test]
    fn the_issue_example_parses_with_its_meanings() {
        let config = parse(
            r#"
listen: ["127.0.0.1:1053"]
zones:
  - zone: example.com
    ttl: 60
    apex: dns1.kube-system
    secondary: dns2.kube-system
    resources: [HTTPRoute, TLSRoute, GRPCRoute, Ingress, Service, DNSEndpoint]
    ingressClasses: []
    gatewayClasses: []
    serviceLabelSelectors: ["app=web", "tier in (a,b)"]
    fallthrough: false
upstream: []
manifests: [examples]
"#,
        )
        .expect("valid");
        assert_eq!(config.listen, ["127.0.0.1:1053".parse().expect("addr")]);
        let zone = &config.zones[0];
        assert_eq!(zone.index.origin.to_string(), "example.com.");
        assert_eq!(
            zone.index.nameserver.name.to_string(),
            "dns1.kube-system.example.com."
        );
        assert_eq!(
            zone.index.secondary.as_ref().map(|s| s.name.to_string()),
            Some("dns2.kube-system.example.com.".to_string())
        );
        assert_eq!(zone.index.precedence, Kind::DEFAULT_RESOURCES);
        assert_eq!(zone.filter.service_selectors.len(), 2);
        assert_eq!(zone.fallthrough, Fallthrough::Off);
        assert_eq!(config.manifests, [PathBuf::from("/etc/kubezone/examples")]);
    }

    #[test]
    fn an_unknown_key_is_named() {
        let err = parse("zones: [{zone: example.com, tll: 60}]").expect_err("typo");
        assert!(err.to_string().contains("tll"), "{err}");
        let err = parse("zones: [{zone: example.com}]\nlisten_on: []").expect_err("typo");
        assert!(err.to_string().contains("listen_on"), "{err}");
    }

    #[test]
    fn bad_values_are_named_with_their_key() {
        for (text, key, value) in [
            ("zones: [{zone: 'bad zone'}]", "zones[0].zone", "bad zone"),
            (
                "zones: [{zone: example.com, resources: [Pod]}]",
                "zones[0].resources[0]",
                "Pod",
            ),
            (
                "zones: [{zone: example.com}]\nlisten: [localhost]",
                "listen[0]",
                "localhost",
            ),
            (
                "zones: [{zone: example.com}]\nupstream: [nowhere]",
                "upstream[0]",
                "nowhere",
            ),
            (
                "zones: [{zone: example.com, serviceLabelSelectors: ['app in (']}]",
                "zones[0].serviceLabelSelectors[0]",
                "app in (",
            ),
            (
                "zones: [{zone: example.com, resources: [HTTPRoute, Namespace]}]",
                "zones[0].resources[1]",
                "Namespace owns no names",
            ),
            (
                "zones: [{zone: example.com, gatewayConsent: trust}]",
                "zones[0].gatewayConsent",
                "trust",
            ),
        ] {
            let err = parse(text).expect_err(text).to_string();
            assert!(err.contains(key), "{err} should name {key}");
            assert!(err.contains(value), "{err} should name {value}");
        }
    }

    #[test]
    fn fallthrough_needs_an_upstream_and_takes_sub_zones() {
        let err =
            parse("zones: [{zone: example.com, fallthrough: true}]").expect_err("no upstream");
        assert!(err.to_string().contains("upstream"), "{err}");
        let config = parse(
            "zones: [{zone: example.com, fallthrough: [legacy, old.example.com]}]\nupstream: ['127.0.0.1:5300', '::1']",
        )
        .expect("valid");
        let Fallthrough::Zones(names) = &config.zones[0].fallthrough else {
            panic!("expected sub-zones");
        };
        let names: Vec<_> = names.iter().map(ToString::to_string).collect();
        assert_eq!(names, ["legacy.example.com.", "old.example.com."]);
        assert_eq!(config.upstream[1], "[::1]:53".parse().expect("addr"));
    }

    #[test]
    fn forwarding_keys_are_named_with_their_section() {
        let config = parse("zones: [{zone: example.com}]").expect("valid");
        assert_eq!(config.forwarding, ForwardSettings::default());
        assert_eq!(config.forwarding.max_in_flight, 1000);
        let config =
            parse("zones: [{zone: example.com}]\nforwarding: {maxInFlight: 64}").expect("valid");
        assert_eq!(config.forwarding.max_in_flight, 64);
        let err =
            parse("zones: [{zone: example.com}]\nforwarding: {maxInFlight: 0}").expect_err("0");
        assert!(
            err.to_string()
                .contains("forwarding.maxInFlight: 0 is out of range 1..=10000"),
            "{err}"
        );
        let err = parse("zones: [{zone: example.com}]\nforwarding: {maxInflight: 5}")
            .expect_err("unknown key");
        assert!(err.to_string().contains("maxInflight"), "{err}");
    }

    #[test]
    fn gateway_consent_is_status_unless_a_zone_trusts_the_listeners() {
        let config = parse(
            "zones: [{zone: example.com}, {zone: example.org, gatewayConsent: listeners}, {zone: example.net, gatewayConsent: status}]",
        )
        .expect("valid");
        let consent: Vec<GatewayConsent> = config
            .zones
            .iter()
            .map(|z| z.filter.gateway_consent)
            .collect();
        assert_eq!(
            consent,
            [
                GatewayConsent::Status,
                GatewayConsent::Listeners,
                GatewayConsent::Status
            ]
        );
    }

    #[test]
    fn defaults_serve_out_of_the_box() {
        let config = parse("zones: [{zone: example.com}]").expect("valid");
        assert_eq!(config.listen, ["127.0.0.1:1053".parse().expect("addr")]);
        assert_eq!(config.zones[0].index.ttl, 60);
        assert_eq!(
            config.zones[0].index.nameserver.name.to_string(),
            "dns1.kube-system.example.com."
        );
    }

    #[test]
    fn the_kubernetes_section_resolves_paths_and_checks_namespaces() {
        let config = parse(
            "zones: [{zone: example.com}]\nkubernetes: {kubeconfig: kube/config, context: prod, namespaces: [a, b, a]}",
        )
        .expect("valid");
        assert_eq!(
            config.kubernetes,
            Some(ClusterConfig {
                kubeconfig: Some(PathBuf::from("/etc/kubezone/kube/config")),
                context: Some("prod".into()),
                namespaces: vec!["a".into(), "b".into()],
                events: true,
            })
        );
        let config = parse("zones: [{zone: example.com}]\nkubernetes: {}").expect("valid");
        assert_eq!(config.kubernetes, Some(ClusterConfig::default()));
        assert_eq!(
            parse("zones: [{zone: example.com}]")
                .map(|c| c.kubernetes.is_none())
                .ok(),
            Some(true)
        );
        let err = parse("zones: [{zone: example.com}]\nkubernetes: {namespaces: [Shop]}")
            .expect_err("not a namespace");
        assert!(
            err.to_string().contains("kubernetes.namespaces[0]"),
            "{err}"
        );
        assert!(err.to_string().contains("Shop"), "{err}");
        let err =
            parse("zones: [{zone: example.com}]\nkubernetes: {namespace: [a]}").expect_err("typo");
        assert!(err.to_string().contains("namespace"), "{err}");
    }

    #[test]
    fn http_lameduck_and_query_log() {
        let config = parse("zones: [{zone: example.com}]").expect("valid");
        assert_eq!(config.http, None, "no HTTP listener unless asked for");
        assert_eq!(config.lameduck, Duration::from_secs(5));
        assert!(!config.query_log);
        let config = parse(
            "zones: [{zone: example.com}]\nhttp: {listen: '0.0.0.0:8080'}\nlameduckSeconds: 0\nqueryLog: true",
        )
        .expect("valid");
        assert_eq!(
            config.http,
            Some(HttpConfig {
                listen: "0.0.0.0:8080".parse().expect("addr"),
                metrics: true
            })
        );
        assert_eq!(config.lameduck, Duration::ZERO);
        assert!(config.query_log);
        let err = parse("zones: [{zone: example.com}]\nhttp: {listen: ':8080'}").expect_err("bad");
        assert!(err.to_string().contains("http.listen"), "{err}");
        let err = parse("zones: [{zone: example.com}]\nhttp: {listen: '127.0.0.1:1053'}")
            .expect_err("same as DNS");
        assert!(err.to_string().contains("http.listen"), "{err}");
        for (dns, http, says) in [
            (
                "[::]:53",
                "0.0.0.0:53",
                "0.0.0.0:53 is also a DNS address in `listen`",
            ),
            (
                "0.0.0.0:53",
                "[::]:53",
                "[::]:53 shares 0.0.0.0:53 with `listen`",
            ),
        ] {
            let err = parse(&format!(
                "zones: [{{zone: example.com}}]\nlisten: ['{dns}']\nhttp: {{listen: '{http}'}}"
            ))
            .expect_err("both take 0.0.0.0:53");
            assert!(
                err.to_string().contains(&format!("http.listen: {says}")),
                "{err}"
            );
        }
        parse("zones: [{zone: example.com}]\nlisten: ['[::]:53']\nhttp: {listen: '[::]:8080'}")
            .expect("apart");
    }

    #[test]
    fn glue_comes_from_the_apex_service_unless_configured() {
        let config = parse(
            "zones: [{zone: a.example, apex: ns.dns}, {zone: b.example, glue: [192.0.2.1]}, {zone: c.example, apex: ns}]",
        )
        .expect("valid");
        let glue: Vec<Option<String>> = config
            .zones
            .iter()
            .map(|z| z.glue_services.nameserver.as_ref().map(ToString::to_string))
            .collect();
        assert_eq!(glue, [Some("dns/ns".to_string()), None, None]);
        let config = parse(
            "zones: [{zone: a.example, secondary: dns2.kube-system}, {zone: b.example, secondary: ns2, secondaryGlue: [192.0.2.2]}]",
        )
        .expect("valid");
        let secondary: Vec<Option<String>> = config
            .zones
            .iter()
            .map(|z| z.glue_services.secondary.as_ref().map(ToString::to_string))
            .collect();
        assert_eq!(secondary, [Some("kube-system/dns2".to_string()), None]);
    }

    #[test]
    fn resources_accept_any_case_but_not_twice() {
        let config = parse("zones: [{zone: example.com, resources: [ingress, service, Node]}]")
            .expect("valid");
        assert_eq!(
            config.zones[0].index.precedence,
            [Kind::Ingress, Kind::Service, Kind::Node]
        );
        assert!(parse("zones: [{zone: example.com, resources: [Ingress, ingress]}]").is_err());
        assert!(parse("zones: [{zone: example.com}, {zone: EXAMPLE.com.}]").is_err());
    }

    #[test]
    fn identity_is_off_by_default_and_names_the_host_unless_named() {
        let config = parse("zones: [{zone: example.com}]").expect("valid");
        assert_eq!(config.identity, None);
        let config = parse(
            "zones: [{zone: example.com}]\nidentity: {name: kubezone-0, nsid: true, chaos: false}",
        )
        .expect("valid");
        assert_eq!(
            config.identity,
            Some(Identity::new("kubezone-0", true, false).expect("valid"))
        );
        let config = parse("zones: [{zone: example.com}]\nidentity: {}").expect("valid");
        let host = hostname::get()
            .expect("host name")
            .into_string()
            .expect("UTF-8");
        assert_eq!(
            config.identity,
            Some(Identity::new(&host, true, true).expect("valid"))
        );
    }

    #[test]
    fn the_identity_flag_overrides_the_name_and_turns_identity_on() {
        let mut config = parse("zones: [{zone: example.com}]").expect("valid");
        config.override_identity("kubezone-7").expect("valid");
        assert_eq!(
            config.identity,
            Some(Identity::new("kubezone-7", true, true).expect("valid"))
        );
        let mut config =
            parse("zones: [{zone: example.com}]\nidentity: {name: file, chaos: false}")
                .expect("valid");
        config.override_identity("flag").expect("valid");
        assert_eq!(
            config.identity,
            Some(Identity::new("flag", true, false).expect("valid"))
        );
        let err = config
            .override_identity(&"x".repeat(300))
            .expect_err("too long");
        assert!(
            err.contains(&"x".repeat(300)) && err.contains("300 bytes"),
            "{err}"
        );
    }

    #[test]
    fn bad_identity_values_are_named_with_their_key() {
        let zones = "zones: [{zone: example.com}]\n";
        let long = "n".repeat(256);
        for (text, key, value) in [
            ("identity: {name: ''}", "identity.name", "empty"),
            (
                &format!("identity: {{name: {long}}}")[..],
                "identity.name",
                &long[..],
            ),
            ("identity: {name: \"a\\tb\"}", "identity.name", "\\t"),
            (
                "identity: {nsid: yes please}",
                "identity.nsid",
                "yes please",
            ),
            ("identity: {nsdi: true}", "nsdi", "nsdi"),
        ] {
            let err = parse(&format!("{zones}{text}"))
                .expect_err(text)
                .to_string();
            assert!(err.contains(key), "{err} should name {key}");
            assert!(err.contains(value), "{err} should name {value}");
        }
    }

    #[test]
    fn guards_are_off_by_default_and_tcp_allows_1000_connections() {
        let config = parse("zones: [{zone: example.com}]").expect("valid");
        assert_eq!(config.guard, GuardConfig::default());
        assert_eq!(config.tcp_max_connections, 1000);
        let guard = config.build_guard(None);
        assert!(guard.acl.is_none() && guard.rate_limit.is_none());
        let config =
            parse("zones: [{zone: example.com}]\ntcp: {maxConnections: 5}").expect("valid");
        assert_eq!(config.tcp_max_connections, 5);
        let err = parse("zones: [{zone: example.com}]\ntcp: {maxConnections: 0}").expect_err("0");
        assert!(err.to_string().contains("tcp.maxConnections: 0 "), "{err}");
    }

    #[test]
    fn the_rate_limit_and_acl_example_parses_with_its_meanings() {
        let config = parse(
            r#"
zones: [{zone: example.com}]
rateLimit:
  responsesPerSecond: 20
  nxdomainsPerSecond: 10
  errorsPerSecond: 0
  allPerSecond: 100
  window: 15
  slip: 2
  ipv4PrefixLength: 24
  ipv6PrefixLength: 56
  exempt: [10.0.0.0/8]
acl:
  allow: [10.0.0.0/8, 192.168.0.0/16, "::1/128"]
  action: refuse
"#,
        )
        .expect("valid");
        let net = |s: &str| s.parse::<IpNet>().expect("net");
        assert_eq!(
            config.guard.rate_limit,
            Some(RateLimitConfig {
                responses_per_second: 20,
                nxdomains_per_second: Some(10),
                nodata_per_second: None,
                referrals_per_second: None,
                errors_per_second: Some(0),
                all_per_second: 100,
                window: 15,
                slip: 2,
                ipv4_prefix_length: 24,
                ipv6_prefix_length: 56,
                exempt: vec![net("10.0.0.0/8")],
                max_table_size: 65_536,
            })
        );
        assert_eq!(
            config.guard.acl,
            Some(AclConfig {
                allow: vec![net("10.0.0.0/8"), net("192.168.0.0/16"), net("::1/128")],
                action: AclAction::Refuse,
            })
        );
        let guard = config.build_guard(None);
        let client = "192.168.3.4".parse().expect("addr");
        assert_eq!(guard.check_acl(client), kubezone_guard::Verdict::Allow);
        assert_eq!(
            guard.check_acl("172.16.0.1".parse().expect("addr")),
            kubezone_guard::Verdict::Refuse
        );
        let now = std::time::Instant::now();
        let limiter = guard.rate_limit.as_ref().expect("rate limiting on");
        let sent = |key, n| {
            (0..n)
                .filter(|_| guard.check_rate(client, key, now) == kubezone_guard::RateVerdict::Send)
                .count()
        };
        let zone = b"\x07example\x03com\x00";
        let answer = limiter.key(ResponseKind::Answer, zone, 1);
        let nxdomain = limiter.key(ResponseKind::NxDomain, zone, 1);
        assert_eq!(sent(answer, 30), 20);
        assert_eq!(sent(nxdomain, 30), 10);
        // Errors are not limited on their own, but all 100 per second are: 60 are spent.
        assert_eq!(sent(ResponseKey::ERROR, 40), 40);
        assert_eq!(sent(ResponseKey::ERROR, 1), 0);
    }

    #[test]
    fn rate_limit_keys_default_and_acl_drops_when_asked() {
        let config = parse(
            "zones: [{zone: example.com}]\nrateLimit: {}\nacl: {allow: [127.0.0.1], action: drop}",
        )
        .expect("valid");
        assert_eq!(config.guard.rate_limit, Some(RateLimitConfig::default()));
        assert_eq!(
            config.guard.acl.map(|a| (a.allow, a.action)),
            Some((vec!["127.0.0.1/32".parse().expect("net")], AclAction::Drop))
        );
    }

    #[test]
    fn bad_guard_values_are_named_with_their_key() {
        let zones = "zones: [{zone: example.com}]\n";
        for (text, key, value) in [
            (
                "rateLimit: {exempt: [10.0.0.0/33]}",
                "rateLimit.exempt[0]",
                "10.0.0.0/33",
            ),
            (
                "rateLimit: {exempt: [10.0.0.0/8, 10.1.2.3/8]}",
                "rateLimit.exempt[1]",
                "10.1.2.3/8",
            ),
            (
                "rateLimit: {responsesPerSecond: 0}",
                "rateLimit.responsesPerSecond",
                "0",
            ),
            ("rateLimit: {window: 0}", "rateLimit.window", "0"),
            (
                "rateLimit: {nxdomainsPerSecond: 1000001}",
                "rateLimit.nxdomainsPerSecond",
                "1000001",
            ),
            (
                "rateLimit: {nodataPerSecond: 5000000000}",
                "rateLimit.nodataPerSecond",
                "5000000000",
            ),
            (
                "rateLimit: {referralsPerSecond: 2000000}",
                "rateLimit.referralsPerSecond",
                "2000000",
            ),
            (
                "rateLimit: {errorsPerSecond: 1000001}",
                "rateLimit.errorsPerSecond",
                "1000001",
            ),
            (
                "rateLimit: {allPerSecond: 1000001}",
                "rateLimit.allPerSecond",
                "1000001",
            ),
            ("rateLimit: {slip: 11}", "rateLimit.slip", "11"),
            (
                "rateLimit: {ipv4PrefixLength: 33}",
                "rateLimit.ipv4PrefixLength",
                "33",
            ),
            (
                "rateLimit: {ipv6PrefixLength: 300}",
                "rateLimit.ipv6PrefixLength",
                "300",
            ),
            (
                "rateLimit: {maxTableSize: 5000000000}",
                "rateLimit.maxTableSize",
                "5000000000",
            ),
            ("acl: {allow: [localhost]}", "acl.allow[0]", "localhost"),
            ("acl: {allow: []}", "acl.allow", "empty"),
            (
                "acl: {allow: [10.0.0.0/8], action: reject}",
                "action",
                "reject",
            ),
            (
                "rateLimit: {responsesPerSec: 5}",
                "responsesPerSec",
                "responsesPerSec",
            ),
        ] {
            let err = parse(&format!("{zones}{text}"))
                .expect_err(text)
                .to_string();
            assert!(err.contains(key), "{err} should name {key}");
            assert!(err.contains(value), "{err} should name {value}");
        }
    }
}
