//! Per-zone filters: which Kinds a zone serves and which objects of those Kinds it accepts.

use std::{collections::BTreeMap, fmt, str::FromStr};

use kubezone_model::{DnsName, Kind, Preference};
use serde::{Deserialize, Serialize};

use crate::{LabelSelector, NameTemplate, NamespaceFilter};

/// One zone as the translator sees it: its origin and its filters.
#[derive(Debug, Clone, PartialEq)]
pub struct ZoneFilter {
    pub origin: DnsName,
    /// Kinds served, in precedence order (precedence itself is applied by the index).
    pub resources: Vec<Kind>,
    /// Empty means every Ingress.
    pub ingress_classes: Vec<String>,
    /// Empty means every Gateway.
    pub gateway_classes: Vec<String>,
    /// A Service is served if any matches; empty means every Service.
    pub service_selectors: Vec<LabelSelector>,
    pub node_address: NodeAddressType,
    /// The Node addresses NodePort Services answer with, when the zone sets `nodeAddressType`;
    /// unset, ExternalIP (InternalIP when the nodes have none), as external-dns does.
    pub node_port_address: Option<NodeAddressType>,
    /// SRV records for Services' named ports.
    pub srv_records: bool,
    /// Which namespaces may publish names in the zone.
    pub namespaces: NamespaceFilter,
    /// Whether a route needs its Gateway's `Accepted` in its status to be served.
    pub gateway_consent: GatewayConsent,
    /// The names of a Service or Ingress without a hostname of its own, instead of
    /// `<name>.<namespace>.<zone>` (a Service) or none (an Ingress).
    pub name_template: Option<NameTemplate>,
    /// A label selector over annotations: an object of any Kind that fails it has no names in
    /// this zone. `None` admits every object.
    pub annotation_filter: Option<LabelSelector>,
    /// Several clusters: which objects are global in this zone and how their targets are
    /// given (`global:`). Objects marked global by label or annotation are global anyway.
    pub global: GlobalNames,
}

/// A zone's `global:` setting.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GlobalNames {
    /// Objects whose labels match are global; `None`: only the marked ones.
    pub selector: Option<LabelSelector>,
    /// How clients get a global name's targets, unless the object's
    /// `kubezone.io/preference` annotation says otherwise.
    pub preference: Preference,
}

impl ZoneFilter {
    /// A zone with the default `resources` and no filters.
    pub fn new(origin: DnsName) -> Self {
        ZoneFilter {
            origin,
            resources: Kind::DEFAULT_RESOURCES.to_vec(),
            ingress_classes: Vec::new(),
            gateway_classes: Vec::new(),
            service_selectors: Vec::new(),
            node_address: NodeAddressType::default(),
            node_port_address: None,
            srv_records: true,
            namespaces: NamespaceFilter::default(),
            gateway_consent: GatewayConsent::default(),
            name_template: None,
            annotation_filter: None,
            global: GlobalNames::default(),
        }
    }

    pub fn serves(&self, kind: Kind) -> bool {
        self.resources.contains(&kind)
    }

    /// `spec.ingressClassName` or the older `kubernetes.io/ingress.class` annotation; either
    /// one matching is enough. An Ingress with neither only passes an empty filter.
    pub fn accepts_ingress_class(
        &self,
        class_name: Option<&str>,
        annotation: Option<&str>,
    ) -> bool {
        self.ingress_classes.is_empty()
            || [class_name, annotation]
                .into_iter()
                .flatten()
                .any(|class| self.ingress_classes.iter().any(|c| c == class))
    }

    /// The parent Gateway's `spec.gatewayClassName`.
    pub fn accepts_gateway_class(&self, class: &str) -> bool {
        self.gateway_classes.is_empty() || self.gateway_classes.iter().any(|c| c == class)
    }

    /// Whether a route is served through a parent Gateway that has (`accepted`) or has not
    /// accepted it, by its status.
    pub fn accepts_route_consent(&self, accepted: bool) -> bool {
        accepted || self.gateway_consent == GatewayConsent::Listeners
    }

    /// The zone's `annotationFilter`, matched over the object's annotations as over labels.
    pub fn accepts_annotations(&self, annotations: &BTreeMap<String, String>) -> bool {
        self.annotation_filter
            .as_ref()
            .is_none_or(|filter| filter.matches(annotations))
    }

    pub fn accepts_service_labels(&self, labels: &BTreeMap<String, String>) -> bool {
        self.service_selectors.is_empty()
            || self.service_selectors.iter().any(|s| s.matches(labels))
    }
}

/// What a route needs from a parent Gateway to be served through it. Either way it is served
/// only through listeners whose `allowedRoutes` admit it, under the hostnames it shares with
/// them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum GatewayConsent {
    /// The route's `status.parents` says that parent `Accepted` it: the Gateway's controller
    /// agreed, as it does in any cluster that runs one.
    #[default]
    Status,
    /// The listeners alone decide, and the route's status is not read: for routes no
    /// controller writes a status for (a cluster without one, manifests written by hand).
    Listeners,
}

/// Which Node addresses a zone publishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum NodeAddressType {
    #[default]
    #[serde(rename = "InternalIP")]
    InternalIp,
    #[serde(rename = "ExternalIP")]
    ExternalIp,
}

impl NodeAddressType {
    /// The `type` of the Node's `status.addresses[]` entries this selects.
    pub fn as_str(self) -> &'static str {
        match self {
            NodeAddressType::InternalIp => "InternalIP",
            NodeAddressType::ExternalIp => "ExternalIP",
        }
    }
}

impl fmt::Display for NodeAddressType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A node address type other than `InternalIP` or `ExternalIP`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown node address type {0:?}; expected InternalIP or ExternalIP")]
pub struct UnknownNodeAddressType(pub String);

impl FromStr for NodeAddressType {
    type Err = UnknownNodeAddressType;

    /// Any letter case, as config files written by hand vary.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [NodeAddressType::InternalIp, NodeAddressType::ExternalIp]
            .into_iter()
            .find(|t| t.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| UnknownNodeAddressType(s.to_string()))
    }
}

/// The zone a name belongs to: the longest origin that contains it (the first one on a tie).
pub(crate) fn longest_zone(zones: &[ZoneFilter], name: &DnsName) -> Option<usize> {
    let mut best: Option<(usize, usize)> = None;
    for (index, zone) in zones.iter().enumerate() {
        if !zone.origin.contains(name) {
            continue;
        }
        let labels = zone.origin.num_labels();
        if best.is_none_or(|(_, best_labels)| labels > best_labels) {
            best = Some((index, labels));
        }
    }
    best.map(|(index, _)| index)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zone(origin: &str) -> ZoneFilter {
        ZoneFilter::new(DnsName::parse(origin).expect("valid origin"))
    }

    fn name(text: &str) -> DnsName {
        DnsName::parse(text).expect("valid name")
    }

    #[test]
    fn the_longest_zone_wins() {
        let zones = [
            zone("example.com"),
            zone("apps.example.com"),
            zone("other.org"),
        ];
        assert_eq!(longest_zone(&zones, &name("www.example.com")), Some(0));
        assert_eq!(longest_zone(&zones, &name("a.apps.example.com")), Some(1));
        assert_eq!(longest_zone(&zones, &name("apps.example.com")), Some(1));
        assert_eq!(longest_zone(&zones, &name("x.other.org")), Some(2));
        assert_eq!(longest_zone(&zones, &name("x.elsewhere.net")), None);
        // "notapps.example.com" is not below "apps.example.com": labels, not strings, count.
        assert_eq!(longest_zone(&zones, &name("notapps.example.com")), Some(0));
    }

    #[test]
    fn the_first_of_equal_zones_wins() {
        let zones = [zone("example.com"), zone("EXAMPLE.com.")];
        assert_eq!(longest_zone(&zones, &name("www.example.com")), Some(0));
    }

    #[test]
    fn class_filters() {
        let mut z = zone("example.com");
        assert!(z.accepts_ingress_class(None, None));
        assert!(z.accepts_gateway_class("anything"));
        z.ingress_classes = vec!["nginx".into()];
        z.gateway_classes = vec!["envoy".into()];
        assert!(z.accepts_ingress_class(Some("nginx"), None));
        assert!(z.accepts_ingress_class(None, Some("nginx")));
        assert!(z.accepts_ingress_class(Some("traefik"), Some("nginx")));
        assert!(!z.accepts_ingress_class(Some("traefik"), None));
        assert!(!z.accepts_ingress_class(None, None));
        assert!(z.accepts_gateway_class("envoy"));
        assert!(!z.accepts_gateway_class("istio"));
    }

    #[test]
    fn service_selectors_any_matches() {
        let mut z = zone("example.com");
        let labels: BTreeMap<String, String> = [("app".to_string(), "web".to_string())].into();
        assert!(z.accepts_service_labels(&labels));
        z.service_selectors = vec![
            "app=api".parse().expect("valid selector"),
            "app in (web,www)".parse().expect("valid selector"),
        ];
        assert!(z.accepts_service_labels(&labels));
        z.service_selectors.truncate(1);
        assert!(!z.accepts_service_labels(&labels));
    }

    #[test]
    fn node_address_type_parses_any_case() {
        assert_eq!(
            "externalip".parse::<NodeAddressType>(),
            Ok(NodeAddressType::ExternalIp)
        );
        assert_eq!(NodeAddressType::default(), NodeAddressType::InternalIp);
        let err = "Hostname"
            .parse::<NodeAddressType>()
            .expect_err("not an IP type");
        assert!(err.to_string().contains("Hostname"));
    }
}
