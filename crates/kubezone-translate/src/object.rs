//! The objects kubezone reads, as their real API types.

use gateway_api::apis::standard::{
    gateways::Gateway, grpcroutes::GrpcRoute, httproutes::HttpRoute, tlsroutes::TlsRoute,
};
use k8s_openapi::{
    api::{
        core::v1::{Node, Service},
        networking::v1::Ingress,
    },
    apimachinery::pkg::apis::meta::v1::ObjectMeta,
};
use kubezone_model::{Kind, ObjectRef};

use crate::DnsEndpoint;

/// One Kubernetes object of a Kind kubezone reads.
#[derive(Clone, Debug)]
pub enum KubeObject {
    Ingress(Box<Ingress>),
    Service(Box<Service>),
    Gateway(Box<Gateway>),
    HttpRoute(Box<HttpRoute>),
    GrpcRoute(Box<GrpcRoute>),
    TlsRoute(Box<TlsRoute>),
    DnsEndpoint(Box<DnsEndpoint>),
    Node(Box<Node>),
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
    pub fn from_value(mut value: serde_json::Value) -> Result<Option<KubeObject>, ObjectError> {
        let kind = value
            .get("kind")
            .and_then(|k| k.as_str())
            .ok_or(ObjectError::MissingKind)?;
        let api_version = value
            .get("apiVersion")
            .and_then(|k| k.as_str())
            .ok_or(ObjectError::MissingApiVersion)?;
        let name = value
            .pointer("/metadata/name")
            .and_then(|n| n.as_str())
            .unwrap_or("<unnamed>")
            .to_string();
        let (group, _version) = api_version.rsplit_once('/').unwrap_or(("", api_version));

        fn parse<T: serde::de::DeserializeOwned>(
            kind: &'static str,
            name: String,
            value: serde_json::Value,
        ) -> Result<Box<T>, ObjectError> {
            serde_json::from_value(value)
                .map(Box::new)
                .map_err(|source| ObjectError::Invalid { kind, name, source })
        }

        let object = match (group, kind) {
            ("networking.k8s.io", "Ingress") => KubeObject::Ingress(parse("Ingress", name, value)?),
            ("", "Service") => KubeObject::Service(parse("Service", name, value)?),
            ("", "Node") => KubeObject::Node(parse("Node", name, value)?),
            ("gateway.networking.k8s.io", "Gateway") => {
                KubeObject::Gateway(parse("Gateway", name, value)?)
            }
            ("gateway.networking.k8s.io", "HTTPRoute") => {
                KubeObject::HttpRoute(parse("HTTPRoute", name, value)?)
            }
            ("gateway.networking.k8s.io", "GRPCRoute") => {
                KubeObject::GrpcRoute(parse("GRPCRoute", name, value)?)
            }
            ("gateway.networking.k8s.io", "TLSRoute") => {
                // The v1 type requires `hostnames` and `rules`, but v1alpha2/v1alpha3
                // TLSRoutes, still common, may leave hostnames out to take the listeners'.
                // Neither field's absence should make the object unreadable.
                if let Some(spec) = value.get_mut("spec").and_then(|s| s.as_object_mut()) {
                    for field in ["hostnames", "rules"] {
                        spec.entry(field)
                            .or_insert_with(|| serde_json::Value::Array(Vec::new()));
                    }
                }
                KubeObject::TlsRoute(parse("TLSRoute", name, value)?)
            }
            ("externaldns.k8s.io", "DNSEndpoint") => {
                KubeObject::DnsEndpoint(parse("DNSEndpoint", name, value)?)
            }
            _ => return Ok(None),
        };
        Ok(Some(object))
    }

    pub fn kind(&self) -> Kind {
        match self {
            KubeObject::Ingress(_) => Kind::Ingress,
            KubeObject::Service(_) => Kind::Service,
            KubeObject::Gateway(_) => Kind::Gateway,
            KubeObject::HttpRoute(_) => Kind::HttpRoute,
            KubeObject::GrpcRoute(_) => Kind::GrpcRoute,
            KubeObject::TlsRoute(_) => Kind::TlsRoute,
            KubeObject::DnsEndpoint(_) => Kind::DnsEndpoint,
            KubeObject::Node(_) => Kind::Node,
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
            KubeObject::DnsEndpoint(o) => &o.metadata,
            KubeObject::Node(o) => &o.metadata,
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
