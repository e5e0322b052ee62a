//! A Gateway's (or a ListenerSet's) listener, reduced to what decides which routes it admits:
//! the parentRef fields that select it (name, port), the namespaces and Kinds of
//! `allowedRoutes`, and its hostname; and a Gateway's `allowedListeners`, which says whose
//! ListenerSets may add listeners to it.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use kube::core::{Expression, Selector, SelectorExt};
use kubezone_model::{DnsName, Kind};

use crate::{
    TranslateError,
    gateway_api::{self, GROUP},
    output::Builder,
    targets,
};

/// Where the routes a listener admits may live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AllowedNamespaces {
    /// The Gateway's own namespace (the default).
    Same,
    All,
    /// Namespaces whose labels match.
    Selector(Selector),
    /// Nowhere: an unknown `from`, or a selector that could not be read.
    Nowhere,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ListenerState {
    pub(crate) name: String,
    pub(crate) port: Option<i32>,
    /// `None`: any hostname.
    pub(crate) hostname: Option<DnsName>,
    pub(crate) namespaces: AllowedNamespaces,
    /// The route Kinds kubezone reads that the listener admits.
    pub(crate) kinds: Vec<Kind>,
}

impl ListenerState {
    /// Whether a parentRef's `sectionName` and `port` select this listener; each one left out
    /// selects every listener.
    pub(crate) fn is_selected(&self, section: Option<&str>, port: Option<i32>) -> bool {
        section.is_none_or(|s| s == self.name) && port.is_none_or(|p| Some(p) == self.port)
    }

    pub(crate) fn admits_kind(&self, kind: Kind) -> bool {
        self.kinds.contains(&kind)
    }
}

/// Reads `spec.listeners[i]`. A hostname that is not a valid name, a `from` kubezone does not
/// know and a selector it cannot read are problems of the Gateway; such a listener admits no
/// route rather than more than it says.
pub(crate) fn read(
    i: usize,
    listener: &gateway_api::Listener,
    b: &mut Builder<'_>,
) -> ListenerState {
    let field = |leaf: &str| format!("spec.listeners[{i}].{leaf}");
    let mut state = ListenerState {
        name: listener.name.clone(),
        port: listener.port,
        hostname: None,
        namespaces: namespaces(&listener.allowed_routes.namespaces, &field, b),
        kinds: kinds(listener),
    };
    if let Some(hostname) = targets::non_empty(listener.hostname.as_deref()) {
        let name = DnsName::parse(hostname)
            .map_err(|source| TranslateError::invalid_name(field("hostname"), hostname, source));
        match b.check(name) {
            Some(name) => state.hostname = Some(name),
            None => state.kinds.clear(),
        }
    }
    state
}

fn namespaces(
    namespaces: &gateway_api::RouteNamespaces,
    field: &impl Fn(&str) -> String,
    b: &mut Builder<'_>,
) -> AllowedNamespaces {
    match namespaces.from.as_deref() {
        None | Some("Same") => AllowedNamespaces::Same,
        _ => from(
            namespaces,
            &field("allowedRoutes.namespaces"),
            "All, Same or Selector",
            b,
        ),
    }
}

/// A Gateway's `spec.allowedListeners.namespaces`: where the ListenerSets that may add listeners
/// to it live. Left out, or `None`, nowhere.
pub(crate) fn allowed_listeners(
    namespaces: &gateway_api::RouteNamespaces,
    b: &mut Builder<'_>,
) -> AllowedNamespaces {
    match namespaces.from.as_deref() {
        None | Some("None") => AllowedNamespaces::Nowhere,
        _ => from(
            namespaces,
            "spec.allowedListeners.namespaces",
            "All, None, Same or Selector",
            b,
        ),
    }
}

/// `from` (and its `selector`) at `field`, for the values both uses share.
fn from(
    namespaces: &gateway_api::RouteNamespaces,
    field: &str,
    expected: &'static str,
    b: &mut Builder<'_>,
) -> AllowedNamespaces {
    match namespaces.from.as_deref() {
        Some("Same") => AllowedNamespaces::Same,
        Some("All") => AllowedNamespaces::All,
        Some("Selector") => match &namespaces.selector {
            Some(selector) => b
                .check(selector_of(selector, &format!("{field}.selector")))
                .map_or(AllowedNamespaces::Nowhere, AllowedNamespaces::Selector),
            None => {
                b.problem(TranslateError::InvalidSelector {
                    field: format!("{field}.from"),
                    value: "Selector".into(),
                    reason: format!("no {field}.selector to match"),
                });
                AllowedNamespaces::Nowhere
            }
        },
        other => {
            b.problem(TranslateError::UnknownValue {
                field: format!("{field}.from"),
                value: other.unwrap_or_default().to_string(),
                expected,
            });
            AllowedNamespaces::Nowhere
        }
    }
}

/// A structured label selector, every expression checked, so a bad one is named by its index.
fn selector_of(selector: &LabelSelector, field: &str) -> Result<Selector, TranslateError> {
    let mut expressions: Vec<Expression> = selector
        .match_labels
        .iter()
        .flatten()
        .map(|(key, value)| Expression::Equal(key.clone(), value.clone()))
        .collect();
    for (j, requirement) in selector.match_expressions.iter().flatten().enumerate() {
        let expression = Expression::try_from(requirement.clone()).map_err(|error| {
            TranslateError::InvalidSelector {
                field: format!("{field}.matchExpressions[{j}]"),
                value: format!("{} {}", requirement.key, requirement.operator),
                reason: error.0,
            }
        })?;
        expressions.push(expression);
    }
    Ok(expressions.into_iter().collect())
}

/// `allowedRoutes.kinds`, or when it is empty the Kinds the protocol takes. A protocol kubezone
/// does not know (an implementation's own) takes none it can tell: list them in `kinds`.
fn kinds(listener: &gateway_api::Listener) -> Vec<Kind> {
    let listed = &listener.allowed_routes.kinds;
    if listed.is_empty() {
        return match listener.protocol.as_str() {
            "HTTP" | "HTTPS" => vec![Kind::HttpRoute, Kind::GrpcRoute],
            "TLS" => vec![Kind::TlsRoute],
            "TCP" => vec![Kind::TcpRoute],
            "UDP" => vec![Kind::UdpRoute],
            _ => Vec::new(),
        };
    }
    let mut kinds: Vec<Kind> = listed
        .iter()
        .filter(|k| k.group.as_deref().unwrap_or(GROUP) == GROUP)
        .filter_map(|k| match k.kind.as_str() {
            "HTTPRoute" => Some(Kind::HttpRoute),
            "GRPCRoute" => Some(Kind::GrpcRoute),
            "TLSRoute" => Some(Kind::TlsRoute),
            "TCPRoute" => Some(Kind::TcpRoute),
            "UDPRoute" => Some(Kind::UdpRoute),
            _ => None,
        })
        .collect();
    kinds.sort();
    kinds.dedup();
    kinds
}

/// Whether a route in `route_namespace`, whose labels are `labels` (`None` when the Namespace
/// is not known), may attach, for a Gateway in `gateway_namespace`.
pub(crate) fn admits_namespace(
    allowed: &AllowedNamespaces,
    route_namespace: &str,
    labels: Option<&BTreeMap<String, String>>,
    gateway_namespace: &str,
) -> bool {
    match allowed {
        AllowedNamespaces::Same => route_namespace == gateway_namespace,
        AllowedNamespaces::All => true,
        AllowedNamespaces::Selector(selector) => {
            labels.is_some_and(|labels| selector.matches(labels))
        }
        AllowedNamespaces::Nowhere => false,
    }
}
