use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

/// The Kubernetes Kinds kubezone reads.
///
/// The order of the variants is the default precedence (`resources` in a zone), followed by the
/// Kinds that are only served when a zone names them (TCPRoute, UDPRoute, Node) or that never own
/// names (Gateway; ListenerSet, which adds listeners to a Gateway; and Namespace, whose labels
/// say which routes a Gateway's listeners admit).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Kind {
    #[serde(rename = "HTTPRoute")]
    HttpRoute,
    #[serde(rename = "TLSRoute")]
    TlsRoute,
    #[serde(rename = "GRPCRoute")]
    GrpcRoute,
    Ingress,
    Service,
    #[serde(rename = "DNSEndpoint")]
    DnsEndpoint,
    #[serde(rename = "TCPRoute")]
    TcpRoute,
    #[serde(rename = "UDPRoute")]
    UdpRoute,
    Node,
    Gateway,
    ListenerSet,
    Namespace,
    /// Read for its endpoints' readiness, nodes and addresses, which NodePort and headless
    /// Services answer with.
    EndpointSlice,
    /// Static records from the config file: not a Kubernetes Kind, and never in `resources`.
    Config,
}

impl Kind {
    /// Every Kind, in default precedence order.
    pub const ALL: [Kind; 13] = [
        Kind::HttpRoute,
        Kind::TlsRoute,
        Kind::GrpcRoute,
        Kind::Ingress,
        Kind::Service,
        Kind::DnsEndpoint,
        Kind::TcpRoute,
        Kind::UdpRoute,
        Kind::Node,
        Kind::Gateway,
        Kind::ListenerSet,
        Kind::Namespace,
        Kind::EndpointSlice,
    ];

    /// The `resources` a zone serves when its config does not say.
    pub const DEFAULT_RESOURCES: [Kind; 6] = [
        Kind::HttpRoute,
        Kind::TlsRoute,
        Kind::GrpcRoute,
        Kind::Ingress,
        Kind::Service,
        Kind::DnsEndpoint,
    ];

    /// The name Kubernetes uses in `kind:`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::HttpRoute => "HTTPRoute",
            Kind::TlsRoute => "TLSRoute",
            Kind::GrpcRoute => "GRPCRoute",
            Kind::Ingress => "Ingress",
            Kind::Service => "Service",
            Kind::DnsEndpoint => "DNSEndpoint",
            Kind::TcpRoute => "TCPRoute",
            Kind::UdpRoute => "UDPRoute",
            Kind::Node => "Node",
            Kind::Gateway => "Gateway",
            Kind::ListenerSet => "ListenerSet",
            Kind::Namespace => "Namespace",
            Kind::EndpointSlice => "EndpointSlice",
            Kind::Config => "Config",
        }
    }

    /// Whether objects of this Kind live in a namespace.
    pub fn is_namespaced(self) -> bool {
        !matches!(self, Kind::Node | Kind::Namespace | Kind::Config)
    }

    /// Whether this Kind gives names of its own (a Gateway only lends its addresses to routes, a
    /// ListenerSet its listeners, a Namespace its labels to their listeners' `allowedRoutes`, an
    /// EndpointSlice its endpoints to its Service).
    pub fn owns_names(self) -> bool {
        !matches!(
            self,
            Kind::Gateway | Kind::ListenerSet | Kind::Namespace | Kind::EndpointSlice
        )
    }

    /// Whether this Kind is a Gateway API route.
    pub fn is_route(self) -> bool {
        matches!(
            self,
            Kind::HttpRoute | Kind::TlsRoute | Kind::GrpcRoute | Kind::TcpRoute | Kind::UdpRoute
        )
    }

    /// Whether this Kind is a route without `spec.hostnames` (TCPRoute, UDPRoute): its names
    /// come from a hostname annotation or its listeners.
    pub fn is_route_without_hostnames(self) -> bool {
        matches!(self, Kind::TcpRoute | Kind::UdpRoute)
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A `kind` string that kubezone does not serve.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown kind {0:?}; expected one of HTTPRoute, TLSRoute, GRPCRoute, Ingress, Service, DNSEndpoint, TCPRoute, UDPRoute, Node"
)]
pub struct UnknownKind(pub String);

impl FromStr for Kind {
    type Err = UnknownKind;

    /// Accepts the Kubernetes spelling and, for migrants from k8s_gateway, any letter case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Kind::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownKind(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_any_case_and_round_trips() {
        for kind in Kind::ALL {
            assert_eq!(kind.as_str().parse::<Kind>(), Ok(kind));
            assert_eq!(kind.as_str().to_lowercase().parse::<Kind>(), Ok(kind));
        }
        assert_eq!("Pod".parse::<Kind>(), Err(UnknownKind("Pod".into())));
    }

    #[test]
    fn default_resources_follow_spec_order() {
        let names: Vec<_> = Kind::DEFAULT_RESOURCES.iter().map(|k| k.as_str()).collect();
        assert_eq!(
            names,
            [
                "HTTPRoute",
                "TLSRoute",
                "GRPCRoute",
                "Ingress",
                "Service",
                "DNSEndpoint"
            ]
        );
    }
}
