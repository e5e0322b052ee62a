//! The file as written: every key, its default, and nothing checked beyond its type.

use std::{net::IpAddr, path::PathBuf};

use kubezone_translate::{GatewayConsent, NodeAddressType};
use serde::Deserialize;

use super::{
    catalog, clusters, fake, forwarding, kuberoute, push, tenancy, transfer, tsig_keys, zone_data,
};

/// The file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawConfig {
    #[serde(default = "default_listen")]
    pub(super) listen: Vec<String>,
    pub(super) zones: Vec<RawZone>,
    #[serde(default)]
    pub(super) upstream: Vec<String>,
    #[serde(default)]
    pub(super) forwarding: forwarding::RawForwarding,
    #[serde(default)]
    pub(super) manifests: Vec<PathBuf>,
    pub(super) kubernetes: Option<RawKubernetes>,
    #[serde(default)]
    pub(super) clusters: Vec<clusters::RawCluster>,
    pub(super) local_cluster: Option<String>,
    pub(super) fake: Option<fake::RawFake>,
    #[serde(default)]
    pub(super) tcp: RawTcp,
    pub(super) http: Option<RawHttp>,
    #[serde(default = "default_lameduck")]
    pub(super) lameduck_seconds: u64,
    #[serde(default)]
    pub(super) query_log: bool,
    pub(super) rate_limit: Option<RawRateLimit>,
    pub(super) acl: Option<RawAcl>,
    pub(super) identity: Option<RawIdentity>,
    pub(super) catalog: Option<catalog::RawCatalog>,
    #[serde(default)]
    pub(super) tsig_keys: Vec<tsig_keys::RawTsigKey>,
    #[serde(default)]
    pub(super) kuberoute: kuberoute::RawKuberoute,
}

/// Both answers default to on, so `identity: {}` names the server by its host name.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawIdentity {
    pub(super) name: Option<String>,
    #[serde(default = "default_true")]
    pub(super) nsid: bool,
    #[serde(default = "default_true")]
    pub(super) chaos: bool,
}

/// Every key has a default, so `rateLimit: {}` turns rate limiting on as documented.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawRateLimit {
    pub(super) responses_per_second: Option<u64>,
    pub(super) nxdomains_per_second: Option<u64>,
    pub(super) nodata_per_second: Option<u64>,
    pub(super) referrals_per_second: Option<u64>,
    pub(super) errors_per_second: Option<u64>,
    pub(super) all_per_second: Option<u64>,
    pub(super) window: Option<u64>,
    pub(super) slip: Option<u64>,
    pub(super) ipv4_prefix_length: Option<u64>,
    pub(super) ipv6_prefix_length: Option<u64>,
    #[serde(default)]
    pub(super) exempt: Vec<String>,
    pub(super) max_table_size: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawAcl {
    pub(super) allow: Vec<String>,
    #[serde(default)]
    pub(super) action: RawAclAction,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(super) enum RawAclAction {
    #[default]
    Refuse,
    Drop,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawHttp {
    pub(super) listen: String,
    #[serde(default = "default_true")]
    pub(super) metrics: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawKubernetes {
    pub(super) kubeconfig: Option<PathBuf>,
    pub(super) context: Option<String>,
    #[serde(default)]
    pub(super) namespaces: Vec<String>,
    #[serde(default = "default_true")]
    pub(super) events: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawZone {
    pub(super) zone: String,
    #[serde(default = "default_ttl")]
    pub(super) ttl: u32,
    #[serde(default = "default_apex")]
    pub(super) apex: String,
    pub(super) secondary: Option<String>,
    #[serde(default)]
    pub(super) glue: Vec<IpAddr>,
    #[serde(default)]
    pub(super) secondary_glue: Vec<IpAddr>,
    pub(super) resources: Option<Vec<String>>,
    #[serde(default)]
    pub(super) ingress_classes: Vec<String>,
    #[serde(default)]
    pub(super) gateway_classes: Vec<String>,
    #[serde(default)]
    pub(super) service_label_selectors: Vec<String>,
    pub(super) name_template: Option<String>,
    pub(super) annotation_filter: Option<String>,
    pub(super) global: Option<clusters::RawGlobal>,
    pub(super) node_address_type: Option<NodeAddressType>,
    #[serde(default = "default_true")]
    pub(super) srv_records: bool,
    #[serde(default)]
    pub(super) gateway_consent: GatewayConsent,
    #[serde(default)]
    pub(super) fallthrough: RawFallthrough,
    #[serde(default)]
    pub(super) soa: zone_data::RawSoa,
    #[serde(default)]
    pub(super) nameservers: Vec<String>,
    #[serde(default)]
    pub(super) records: Vec<String>,
    pub(super) transfer: Option<transfer::RawTransfer>,
    pub(super) push: Option<push::RawPush>,
    #[serde(default = "default_true")]
    pub(super) serve: bool,
    #[serde(default)]
    pub(super) namespaces: Vec<String>,
    pub(super) namespace_selector: Option<String>,
    #[serde(default)]
    pub(super) claims: tenancy::RawClaims,
}

#[derive(Debug, Default, Deserialize)]
#[serde(untagged)]
pub(super) enum RawFallthrough {
    #[default]
    Unset,
    Flag(bool),
    Zones(Vec<String>),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawTcp {
    #[serde(default = "default_tcp_idle")]
    pub(super) idle_timeout_seconds: u64,
    #[serde(default = "default_tcp_max_connections")]
    pub(super) max_connections: u64,
}

impl Default for RawTcp {
    fn default() -> Self {
        RawTcp {
            idle_timeout_seconds: default_tcp_idle(),
            max_connections: default_tcp_max_connections(),
        }
    }
}

pub(super) fn default_listen() -> Vec<String> {
    vec!["127.0.0.1:1053".into()]
}
pub(super) fn default_ttl() -> u32 {
    60
}
pub(super) fn default_apex() -> String {
    "dns1.kube-system".into()
}
pub(super) fn default_tcp_idle() -> u64 {
    10
}
pub(super) fn default_tcp_max_connections() -> u64 {
    1000
}
pub(super) fn default_lameduck() -> u64 {
    5
}
pub(super) fn default_true() -> bool {
    true
}
