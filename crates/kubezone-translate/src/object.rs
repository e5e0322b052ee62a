//! The objects kubezone reads: core Kinds as their real API types, Gateway API objects as the
//! few fields kubezone reads of them (`crate::gateway_api`).

use k8s_openapi::{
    api::{
        core::v1::{Namespace, Node, Service},
        discovery::v1::EndpointSlice,
        networking::v1::Ingress,
    },
    apimachinery::pkg::apis::meta::v1::ObjectMeta,
};
use kubezone_model::{Kind, ObjectRef};

use crate::{
    DnsEndpoint,
    gateway_api::{Gateway, ListenerSet, Route},
};

/// One Kubernetes object of a Kind kubezone reads.
#[derive(Clone, Debug)]
pub enum KubeObject {
    Ingress(Box<Ingress>),
    Service(Box<Service>),
    Gateway(Box<Gateway>),
    HttpRoute(Box<Route>),
    GrpcRoute(Box<Route>),
    TlsRoute(Box<Route>),
    TcpRoute(Box<Route>),
    UdpRoute(Box<Route>),
    /// Listeners added to a Gateway, which routes may name as their parent.
    ListenerSet(Box<ListenerSet>),
    DnsEndpoint(Box<DnsEndpoint>),
    Node(Box<Node>),
    /// Read for its labels, which a listener's `allowedRoutes.namespaces.selector` matches.
    Namespace(Box<Namespace>),
    /// Read for its endpoints (addresses, readiness, node, hostname), which NodePort and
    /// headless Services answer with.
    EndpointSlice(Box<EndpointSlice>),
}

/// Why a document could not become a [`KubeObject`].
#[derive(Debug, thiserror::Error)]
pub enum ObjectError {
    #[error("document has no `kind`")]
    MissingKind,
    #[error("document has no `apiVersion`")]
    MissingApiVersion,
    #[error("{kind} {name}: {source}")]
    Invalid {
        kind: &'static str,
        name: String,
        #[source]
        source: serde_json::Error,
    },
}

impl KubeObject {
    /// Reads a document by its `apiVersion` and `kind`. `Ok(None)` is a Kind kubezone does not
    /// read (a ConfigMap, a Deployment, …), which is not an error.
    pub fn from_value(value: serde_json::Value) -> Result<Option<KubeObject>, ObjectError> {
        let kind = value
            .get("kind")
            .and_then(|k| k.as_str())
            .ok_or(ObjectError::MissingKind)?;
        let api_version = value
            .get("apiVersion")
            .and_then(|k| k.as_str())
            .ok_or(ObjectError::MissingApiVersion)?;
        let Some(read) = ReadKind::of(api_version, kind) else {
            return Ok(None);
        };
        let name = value
            .pointer("/metadata/name")
            .and_then(|n| n.as_str())
            .unwrap_or("<unnamed>")
            .to_string();
        read.deserialize(value)
            .map_err(|source| ObjectError::Invalid {
                kind: read.name(),
                name,
                source,
            })
            .map(Some)
    }

    /// Reads a document straight from any serde deserializer (a YAML document, say), when its
    /// `apiVersion` and `kind` are already known: no intermediate JSON value. `None` for a Kind
    /// kubezone does not read.
    pub fn deserialize_known<'de, D: serde::Deserializer<'de>>(
        api_version: &str,
        kind: &str,
        deserializer: D,
    ) -> Option<Result<KubeObject, D::Error>> {
        ReadKind::of(api_version, kind).map(|read| read.deserialize(deserializer))
    }

    /// Whether kubezone reads objects of this `apiVersion` and `kind`.
    pub fn is_read(api_version: &str, kind: &str) -> bool {
        ReadKind::of(api_version, kind).is_some()
    }

    pub fn kind(&self) -> Kind {
        match self {
            KubeObject::Ingress(_) => Kind::Ingress,
            KubeObject::Service(_) => Kind::Service,
            KubeObject::Gateway(_) => Kind::Gateway,
            KubeObject::HttpRoute(_) => Kind::HttpRoute,
            KubeObject::GrpcRoute(_) => Kind::GrpcRoute,
            KubeObject::TlsRoute(_) => Kind::TlsRoute,
            KubeObject::TcpRoute(_) => Kind::TcpRoute,
            KubeObject::UdpRoute(_) => Kind::UdpRoute,
            KubeObject::ListenerSet(_) => Kind::ListenerSet,
            KubeObject::DnsEndpoint(_) => Kind::DnsEndpoint,
            KubeObject::Node(_) => Kind::Node,
            KubeObject::Namespace(_) => Kind::Namespace,
            KubeObject::EndpointSlice(_) => Kind::EndpointSlice,
        }
    }

    pub fn metadata(&self) -> &ObjectMeta {
        match self {
            KubeObject::Ingress(o) => &o.metadata,
            KubeObject::Service(o) => &o.metadata,
            KubeObject::Gateway(o) => &o.metadata,
            KubeObject::HttpRoute(o) => &o.metadata,
            KubeObject::GrpcRoute(o) => &o.metadata,
            KubeObject::TlsRoute(o) => &o.metadata,
            KubeObject::TcpRoute(o) => &o.metadata,
            KubeObject::UdpRoute(o) => &o.metadata,
            KubeObject::ListenerSet(o) => &o.metadata,
            KubeObject::DnsEndpoint(o) => &o.metadata,
            KubeObject::Node(o) => &o.metadata,
            KubeObject::Namespace(o) => &o.metadata,
            KubeObject::EndpointSlice(o) => &o.metadata,
        }
    }

    /// kind/namespace/name: the identity the index keys this object's records by.
    pub fn object_ref(&self) -> ObjectRef {
        let meta = self.metadata();
        let namespace = self
            .kind()
            .is_namespaced()
            .then(|| meta.namespace.as_deref().unwrap_or("default"));
        ObjectRef::new(self.kind(), namespace, meta.name.as_deref().unwrap_or(""))
    }
}

/// The Kinds kubezone reads, by API group and kind (any version).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ReadKind {
    Ingress,
    Service,
    Node,
    Gateway,
    HttpRoute,
    GrpcRoute,
    TlsRoute,
    TcpRoute,
    UdpRoute,
    ListenerSet,
    DnsEndpoint,
    Namespace,
    EndpointSlice,
}

impl ReadKind {
    fn of(api_version: &str, kind: &str) -> Option<ReadKind> {
        let (group, _version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
        Some(match (group, kind) {
            ("networking.k8s.io", "Ingress") => ReadKind::Ingress,
            ("", "Service") => ReadKind::Service,
            ("", "Node") => ReadKind::Node,
            ("", "Namespace") => ReadKind::Namespace,
            ("discovery.k8s.io", "EndpointSlice") => ReadKind::EndpointSlice,
            ("gateway.networking.k8s.io", "Gateway") => ReadKind::Gateway,
            ("gateway.networking.k8s.io", "HTTPRoute") => ReadKind::HttpRoute,
            ("gateway.networking.k8s.io", "GRPCRoute") => ReadKind::GrpcRoute,
            ("gateway.networking.k8s.io", "TLSRoute") => ReadKind::TlsRoute,
            // v1 since Gateway API v1.6; v1alpha2 in its experimental channel before.
            ("gateway.networking.k8s.io", "TCPRoute") => ReadKind::TcpRoute,
            ("gateway.networking.k8s.io", "UDPRoute") => ReadKind::UdpRoute,
            ("gateway.networking.k8s.io", "ListenerSet") => ReadKind::ListenerSet,
            ("externaldns.k8s.io", "DNSEndpoint") => ReadKind::DnsEndpoint,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            ReadKind::Ingress => "Ingress",
            ReadKind::Service => "Service",
            ReadKind::Node => "Node",
            ReadKind::Gateway => "Gateway",
            ReadKind::HttpRoute => "HTTPRoute",
            ReadKind::GrpcRoute => "GRPCRoute",
            ReadKind::TlsRoute => "TLSRoute",
            ReadKind::TcpRoute => "TCPRoute",
            ReadKind::UdpRoute => "UDPRoute",
            ReadKind::ListenerSet => "ListenerSet",
            ReadKind::DnsEndpoint => "DNSEndpoint",
            ReadKind::Namespace => "Namespace",
            ReadKind::EndpointSlice => "EndpointSlice",
        }
    }

    fn deserialize<'de, D: serde::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<KubeObject, D::Error> {
        use serde::Deserialize;
        Ok(match self {
            ReadKind::Ingress => KubeObject::Ingress(Box::deserialize(deserializer)?),
            ReadKind::Service => KubeObject::Service(Box::deserialize(deserializer)?),
            ReadKind::Node => KubeObject::Node(Box::deserialize(deserializer)?),
            ReadKind::Gateway => KubeObject::Gateway(Box::deserialize(deserializer)?),
            ReadKind::HttpRoute => KubeObject::HttpRoute(Box::deserialize(deserializer)?),
            ReadKind::GrpcRoute => KubeObject::GrpcRoute(Box::deserialize(deserializer)?),
            ReadKind::TlsRoute => KubeObject::TlsRoute(Box::deserialize(deserializer)?),
            ReadKind::TcpRoute => KubeObject::TcpRoute(Box::deserialize(deserializer)?),
            ReadKind::UdpRoute => KubeObject::UdpRoute(Box::deserialize(deserializer)?),
            ReadKind::ListenerSet => KubeObject::ListenerSet(Box::deserialize(deserializer)?),
            ReadKind::DnsEndpoint => KubeObject::DnsEndpoint(Box::deserialize(deserializer)?),
            ReadKind::Namespace => KubeObject::Namespace(Box::deserialize(deserializer)?),
            ReadKind::EndpointSlice => KubeObject::EndpointSlice(Box::deserialize(deserializer)?),
        })
    }
}
