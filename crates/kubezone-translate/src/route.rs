//! HTTPRoute, GRPCRoute and TLSRoute, reduced to the little the Gateway join needs.

use kubezone_model::{DnsName, Kind, ObjectRef};

use crate::{KubeObject, TranslateError, meta::ttl_annotation, output::Builder};

const GATEWAY_GROUP: &str = "gateway.networking.k8s.io";

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

/// A parentRef as written, borrowed from whichever route type it came from.
struct RawParent<'a> {
    group: Option<&'a str>,
    kind: Option<&'a str>,
    namespace: Option<&'a str>,
    name: &'a str,
    section: Option<&'a str>,
}

/// The three route types share their parentRef fields but not their Rust types.
macro_rules! raw_parents {
    ($refs:expr) => {
        $refs
            .iter()
            .map(|p| RawParent {
                group: p.group.as_deref(),
                kind: p.kind.as_deref(),
                namespace: p.namespace.as_deref(),
                name: p.name.as_str(),
                section: p.section_name.as_deref(),
            })
            .collect::<Vec<_>>()
    };
}

/// Reads a route; invalid hostnames and TTLs go to the builder's problems. `None` when the
/// object is not a route.
pub(crate) fn read(object: &KubeObject, b: &mut Builder<'_>) -> Option<RouteState> {
    let (hostnames, parents): (&[String], Vec<RawParent<'_>>) = match object {
        KubeObject::HttpRoute(r) => (
            r.spec.hostnames.as_deref().unwrap_or_default(),
            raw_parents!(r.spec.parent_refs.as_deref().unwrap_or_default()),
        ),
        KubeObject::GrpcRoute(r) => (
            r.spec.hostnames.as_deref().unwrap_or_default(),
            raw_parents!(r.spec.parent_refs.as_deref().unwrap_or_default()),
        ),
        KubeObject::TlsRoute(r) => (
            r.spec.hostnames.as_slice(),
            raw_parents!(r.spec.parent_refs.as_deref().unwrap_or_default()),
        ),
        _ => return None,
    };
    let route_namespace = object
        .object_ref()
        .namespace()
        .unwrap_or("default")
        .to_string();

    let mut valid = Vec::new();
    for (i, host) in hostnames.iter().enumerate() {
        let name = DnsName::parse(host).map_err(|source| {
            TranslateError::invalid_name(format!("spec.hostnames[{i}]"), host, source)
        });
        valid.extend(b.check(name));
    }
    valid.sort();
    valid.dedup();

    let parents = parents
        .into_iter()
        // Other parents (a Service, for GAMMA meshes; a ListenerSet) have no addresses of ours.
        .filter(|p| p.group.unwrap_or(GATEWAY_GROUP) == GATEWAY_GROUP)
        .filter(|p| p.kind.unwrap_or("Gateway") == "Gateway")
        .map(|p| ParentRef {
            gateway: ObjectRef::new(
                Kind::Gateway,
                Some(p.namespace.unwrap_or(&route_namespace)),
                p.name,
            ),
            section: p.section.map(str::to_string),
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
