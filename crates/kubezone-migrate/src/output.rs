//! The kubezone config as written: serde structs in the order of kubezone's reference, with the
//! warnings as a comment header.

use serde::{Serialize, Serializer};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Config {
    pub listen: Vec<String>,
    pub zones: Vec<Zone>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub upstream: Vec<String>,
    pub kubernetes: Kubernetes,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http: Option<Http>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lameduck_seconds: Option<u64>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub query_log: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Zone {
    pub zone: String,
    pub ttl: u32,
    pub apex: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secondary: Option<String>,
    pub resources: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ingress_classes: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub gateway_classes: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub service_label_selectors: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node_address_type: Option<String>,
    #[serde(skip_serializing_if = "Fallthrough::is_off")]
    pub fallthrough: Fallthrough,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fallthrough {
    Off,
    All,
    /// Names inside the zone, absolute.
    Zones(Vec<String>),
}

impl Fallthrough {
    fn is_off(&self) -> bool {
        *self == Fallthrough::Off
    }
}

impl Serialize for Fallthrough {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Fallthrough::Off => serializer.serialize_bool(false),
            Fallthrough::All => serializer.serialize_bool(true),
            Fallthrough::Zones(zones) => zones.serialize(serializer),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Kubernetes {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kubeconfig: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Http {
    pub listen: String,
    pub metrics: bool,
}

/// The YAML, after a comment header that repeats the warnings: a user who redirects the output
/// to a file finds them there.
pub fn render(config: &Config, warnings: &[String]) -> Result<String, serde_norway::Error> {
    let mut out = String::from(
        "# kubezone config migrated from a CoreDNS Corefile by `kubezone migrate`.\n\
         # Check it with `kubezone check --config FILE` before serving it.\n",
    );
    if warnings.is_empty() {
        out.push_str("# Every directive was carried over.\n");
    } else {
        out.push_str("#\n# Not carried over, or different in kubezone:\n");
        for warning in warnings {
            for (i, line) in warning.lines().enumerate() {
                out.push_str(if i == 0 { "# - " } else { "#   " });
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    out.push('\n');
    out.push_str(&serde_norway::to_string(config)?);
    Ok(out)
}
