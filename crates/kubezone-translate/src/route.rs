//! HTTPRoute, GRPCRoute and TLSRoute, reduced to the little the Gateway join needs.

use kubezone_model::{DnsName, Kind, ObjectRef};

use crate::{
    KubeObject, TranslateError,
    gateway_api::{GROUP, Route},
    meta::ttl_annotation,
    output::Builder,
};

/// A parentRef that names a Gateway.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ParentRef {
    pub(crate) gateway: ObjectRef,
    /// `sectionName`: one listener of the Gateway, or all of them.
    pub(crate) section: Option<String>,
}

/// All that is kept of a route between updates. Its Kind is in its [`ObjectRef`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RouteState {
    /// The valid `spec.hostnames`; empty means the listeners' host names.
    pub(crate) hostnames: Vec<DnsName>,
    pub(crate) parents: Vec<ParentRef>,
    pub(crate) ttl: Option<u32>,
    /// When the route was last written (unix seconds; 0 unknown).
    pub(crate) written: u32,
}

/// Reads a route; invalid hostnames and TTLs go to the builder's problems. `None` when the
/// object is not a route.
pub(crate) fn read(object: &KubeObject, b: &mut Builder<'_>) -> Option<RouteState> {
    let route: &Route = match object {
        KubeObject::HttpRoute(r) | KubeObject::GrpcRoute(r) | KubeObject::TlsRoute(r) => r,
        _ => return None,
    };
    let route_namespace = object
        .object_ref()
        .namespace()
        .unwrap_or("default")
        .to_string();

    let mut valid = Vec::new();
    for (i, host) in route.spec.hostnames.iter().enumerate() {
        let name = DnsName::parse(host).map_err(|source| {
            TranslateError::invalid_name(format!("spec.hostnames[{i}]"), host, source)
        });
        valid.extend(b.check(name));
    }
    valid.sort();
    valid.dedup();

    let parents = route
        .spec
        .parent_refs
        .iter()
        // Other parents (a Service, for GAMMA meshes; a ListenerSet) have no addresses of ours.
        .filter(|p| p.group.as_deref().unwrap_or(GROUP) == GROUP)
        .filter(|p| p.kind.as_deref().unwrap_or("Gateway") == "Gateway")
        .map(|p| ParentRef {
            gateway: ObjectRef::new(
                Kind::Gateway,
                Some(p.namespace.as_deref().unwrap_or(&route_namespace)),
                &p.name,
            ),
            section: p.section_name.clone(),
        })
        .collect();

    let ttl = b.check(ttl_annotation(object.metadata())).flatten();
    Some(RouteState {
        hostnames: valid,
        parents,
        ttl,
        written: 0,
    })
}
