//! HTTPRoute, GRPCRoute, TLSRoute, TCPRoute and UDPRoute, reduced to the little the Gateway join
//! needs: hostnames, the Gateways and ListenerSets they name, and whether each of those accepted
//! the route.

use kubezone_model::{DnsName, Kind, ObjectRef};

use crate::{
    KubeObject, TranslateError,
    gateway_api::{GROUP, ParentReference, Route},
    hostname_annotation,
    meta::ttl_annotation,
    output::Builder,
};

/// A parentRef that names a Gateway or a ListenerSet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ParentRef {
    /// Of Kind Gateway or ListenerSet.
    pub(crate) parent: ObjectRef,
    /// `sectionName`: one listener of the parent, or all of them.
    pub(crate) section: Option<String>,
    /// `port`: the listeners on this port, or all of them.
    pub(crate) port: Option<i32>,
    /// Whether the route's status has this parentRef with `Accepted: True`.
    pub(crate) accepted: bool,
}

/// All that is kept of a route between updates. Its Kind and namespace are in its
/// [`ObjectRef`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RouteState {
    /// The valid `spec.hostnames` (for a TCPRoute or UDPRoute, its hostname annotation's names);
    /// empty means the listeners' host names.
    pub(crate) hostnames: Vec<DnsName>,
    /// A TCPRoute or UDPRoute without a hostname annotation: each parent's annotation stands
    /// for its hostnames.
    pub(crate) parent_hostnames: bool,
    pub(crate) parents: Vec<ParentRef>,
    pub(crate) ttl: Option<u32>,
    /// The zones whose `annotationFilter` the route's annotations fail.
    pub(crate) filtered_out: Box<[usize]>,
    /// When the route was last written (unix seconds; 0 unknown).
    pub(crate) written: u32,
}

/// Reads a route; invalid hostnames and TTLs go to the builder's problems. `None` when the
/// object is not a route.
pub(crate) fn read(object: &KubeObject, b: &mut Builder<'_>) -> Option<RouteState> {
    let route: &Route = match object {
        KubeObject::HttpRoute(r)
        | KubeObject::GrpcRoute(r)
        | KubeObject::TlsRoute(r)
        | KubeObject::TcpRoute(r)
        | KubeObject::UdpRoute(r) => r,
        _ => return None,
    };
    let kind = object.kind();
    let namespace = object
        .object_ref()
        .namespace()
        .unwrap_or("default")
        .to_string();

    let mut valid = Vec::new();
    let mut parent_hostnames = false;
    if kind.is_route_without_hostnames() {
        // Their CRDs have no `hostnames`: a name is asked for by annotation.
        match hostname_annotation::read(object.metadata(), &[kind], b) {
            Some(names) => valid = names,
            None => parent_hostnames = true,
        }
    } else {
        for (i, host) in route.spec.hostnames.iter().enumerate() {
            let name = DnsName::parse(host).map_err(|source| {
                TranslateError::invalid_name(format!("spec.hostnames[{i}]"), host, source)
            });
            valid.extend(b.check(name));
        }
    }
    valid.sort();
    valid.dedup();

    let parents = route
        .spec
        .parent_refs
        .iter()
        // Other parents (a Service, for GAMMA meshes) have no addresses of ours.
        .filter(|p| p.group.as_deref().unwrap_or(GROUP) == GROUP)
        .filter_map(|p| {
            let kind = match p.kind.as_deref().unwrap_or("Gateway") {
                "Gateway" => Kind::Gateway,
                "ListenerSet" => Kind::ListenerSet,
                _ => return None,
            };
            Some((p, kind))
        })
        .map(|(p, kind)| ParentRef {
            // A parent in the route's own cluster.
            parent: ObjectRef::in_cluster(
                b.object().cluster().cloned(),
                kind,
                Some(p.namespace.as_deref().unwrap_or(&namespace)),
                &p.name,
            ),
            section: p.section_name.clone(),
            port: p.port,
            accepted: route
                .status
                .parents
                .iter()
                .filter(|s| same_parent(&s.parent_ref, p, &namespace))
                .any(|s| s.accepted()),
        })
        .collect();

    let ttl = b.check(ttl_annotation(object.metadata())).flatten();
    b.metadata(object.metadata());
    Some(RouteState {
        hostnames: valid,
        parent_hostnames,
        parents,
        ttl,
        filtered_out: b.filtered_out().into(),
        written: 0,
    })
}

/// ParentReference equality as the Gateway API defines it: group, kind, namespace, name,
/// sectionName and port, each with its default (the namespace defaults to the route's).
fn same_parent(a: &ParentReference, b: &ParentReference, route_namespace: &str) -> bool {
    let field = |x: &Option<String>, y: &Option<String>, default: &str| {
        x.as_deref().unwrap_or(default) == y.as_deref().unwrap_or(default)
    };
    field(&a.group, &b.group, GROUP)
        && field(&a.kind, &b.kind, "Gateway")
        && field(&a.namespace, &b.namespace, route_namespace)
        && a.name == b.name
        && a.section_name == b.section_name
        && a.port == b.port
}
