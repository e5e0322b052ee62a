//! The Gateway ↔ route join. A Gateway owns no names; its routes take their targets (and,
//! without hostnames of their own, their names) from it, through the listeners that admit
//! them and, unless a zone says otherwise, only once the Gateway has accepted them. Routes,
//! Gateways and Namespaces arrive in any order, so all are remembered in compact form, with a
//! reverse index from each Gateway to the routes that name it: a Gateway change re-translates
//! only its own routes, a Namespace's labels only its routes behind selecting listeners.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use k8s_openapi::api::core::v1::Namespace;
use kubezone_model::{DnsName, ObjectRef, Target};

use crate::{
    KubeObject, ObjectRecords, TranslateError, Translated, ZoneFilter,
    gateway_api::Gateway,
    hostname,
    listener::{self, AllowedNamespaces, ListenerState},
    output::Builder,
    route::{self, RouteState},
    targets,
};

/// The label the API server puts on every Namespace, so a selector can pick one by name.
const NAME_LABEL: &str = "kubernetes.io/metadata.name";

/// All that is kept of a Gateway.
#[derive(Debug, Clone, PartialEq, Eq)]
struct GatewayState {
    class: String,
    addresses: Vec<Target>,
    listeners: Vec<ListenerState>,
    /// When the Gateway was last written (unix seconds; 0 unknown).
    written: u32,
}

impl GatewayState {
    fn selects_namespaces(&self) -> bool {
        self.listeners
            .iter()
            .any(|l| matches!(l.namespaces, AllowedNamespaces::Selector(_)))
    }
}

/// All that is kept of a Namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
struct NamespaceState {
    labels: BTreeMap<String, String>,
    written: u32,
}

#[derive(Debug, Default)]
pub(crate) struct GatewayJoin {
    gateways: HashMap<ObjectRef, GatewayState>,
    routes: HashMap<ObjectRef, RouteState>,
    /// Gateway → the routes whose parentRefs name it, whether or not the Gateway exists yet.
    attached: HashMap<ObjectRef, BTreeSet<ObjectRef>>,
    /// By name; read for listeners with `allowedRoutes.namespaces.from: Selector` and for
    /// zones with a `namespaceSelector`.
    namespaces: HashMap<String, NamespaceState>,
}

impl GatewayJoin {
    pub(crate) fn apply_gateway(
        &mut self,
        zones: &[ZoneFilter],
        gateway: &Gateway,
        object: ObjectRef,
        written: u32,
    ) -> Translated {
        let mut b = Builder::new(zones, object.clone());
        b.written(written);
        let mut state = read_gateway(gateway, &mut b);
        state.written = written;
        let mut out = Translated::from(b.finish());
        self.gateways.insert(object.clone(), state);
        self.emit_attached(zones, &object, &mut out);
        out
    }

    pub(crate) fn delete_gateway(
        &mut self,
        zones: &[ZoneFilter],
        object: &ObjectRef,
    ) -> Translated {
        self.gateways.remove(object);
        let mut out = Translated::from((ObjectRecords::empty(object.clone()), Vec::new()));
        self.emit_attached(zones, object, &mut out);
        out
    }

    pub(crate) fn apply_route(
        &mut self,
        zones: &[ZoneFilter],
        route: &KubeObject,
        object: ObjectRef,
        written: u32,
    ) -> Translated {
        let mut b = Builder::new(zones, object.clone());
        b.written(written);
        let Some(mut state) = route::read(route, &mut b) else {
            return b.finish().into();
        };
        state.written = written;
        self.detach(&object);
        // Thousands of routes name the same Gateway: they share one reference to it.
        for parent in &mut state.parents {
            if let Some((known, _)) = self.attached.get_key_value(&parent.gateway) {
                parent.gateway = known.clone();
            } else if let Some((known, _)) = self.gateways.get_key_value(&parent.gateway) {
                parent.gateway = known.clone();
            }
        }
        state.hostnames.shrink_to_fit();
        state.parents.shrink_to_fit();
        for parent in &state.parents {
            self.attached
                .entry(parent.gateway.clone())
                .or_default()
                .insert(object.clone());
        }
        self.add_route_records(&mut b, &object, &state);
        self.routes.insert(object, state);
        b.finish().into()
    }

    pub(crate) fn delete_route(&mut self, object: &ObjectRef) -> Translated {
        self.detach(object);
        self.routes.remove(object);
        (ObjectRecords::empty(object.clone()), Vec::new()).into()
    }

    /// Remembers a Namespace's labels, and translates again the routes in it that are
    /// attached to a Gateway selecting namespaces by label.
    pub(crate) fn apply_namespace(
        &mut self,
        zones: &[ZoneFilter],
        namespace: &Namespace,
        object: ObjectRef,
        written: u32,
    ) -> Translated {
        let name = object.name().to_string();
        let mut labels = namespace.metadata.labels.clone().unwrap_or_default();
        // The API server sets it on every Namespace; one written by hand may lack it.
        labels
            .entry(NAME_LABEL.to_string())
            .or_insert_with(|| name.clone());
        self.namespaces
            .insert(name.clone(), NamespaceState { labels, written });
        let mut out = Translated::from((ObjectRecords::empty(object), Vec::new()));
        self.emit_in_namespace(zones, &name, &mut out);
        out
    }

    pub(crate) fn delete_namespace(
        &mut self,
        zones: &[ZoneFilter],
        object: &ObjectRef,
    ) -> Translated {
        let mut out = Translated::from((ObjectRecords::empty(object.clone()), Vec::new()));
        if self.namespaces.remove(object.name()).is_some() {
            self.emit_in_namespace(zones, object.name(), &mut out);
        }
        out
    }

    /// How many Gateways and routes are remembered.
    pub(crate) fn len(&self) -> (usize, usize) {
        (self.gateways.len(), self.routes.len())
    }

    /// The labels of Namespace `name`, if it is known.
    pub(crate) fn namespace_labels(&self, name: &str) -> Option<&BTreeMap<String, String>> {
        self.namespaces.get(name).map(|n| &n.labels)
    }

    /// How many Namespaces' labels are remembered.
    pub(crate) fn namespaces(&self) -> usize {
        self.namespaces.len()
    }

    fn detach(&mut self, route: &ObjectRef) {
        let Some(old) = self.routes.get(route) else {
            return;
        };
        for parent in &old.parents {
            if let Some(routes) = self.attached.get_mut(&parent.gateway) {
                routes.remove(route);
                if routes.is_empty() {
                    self.attached.remove(&parent.gateway);
                }
            }
        }
    }

    /// The routes in `namespace` behind Gateways whose listeners select namespaces by label:
    /// only their records can depend on its labels.
    fn emit_in_namespace(&self, zones: &[ZoneFilter], namespace: &str, out: &mut Translated) {
        let routes: BTreeSet<&ObjectRef> = self
            .gateways
            .iter()
            .filter(|(_, state)| state.selects_namespaces())
            .filter_map(|(gateway, _)| self.attached.get(gateway))
            .flatten()
            .filter(|route| route.namespace() == Some(namespace))
            .collect();
        for route in routes {
            self.emit_route(zones, route, out);
        }
    }

    /// Re-translates every route attached to `gateway`.
    fn emit_attached(&self, zones: &[ZoneFilter], gateway: &ObjectRef, out: &mut Translated) {
        for route in self.attached.get(gateway).into_iter().flatten() {
            self.emit_route(zones, route, out);
        }
    }

    /// Re-translates a remembered route. Its own problems were reported when it was applied,
    /// so none are repeated here.
    fn emit_route(&self, zones: &[ZoneFilter], route: &ObjectRef, out: &mut Translated) {
        if let Some(state) = self.routes.get(route) {
            let mut b = Builder::new(zones, route.clone());
            self.add_route_records(&mut b, route, state);
            out.push(b.finish());
        }
    }

    fn add_route_records(&self, b: &mut Builder<'_>, object: &ObjectRef, route: &RouteState) {
        b.written(route.written);
        b.filter_out(&route.filtered_out);
        let kind = object.kind();
        let route_namespace = object.namespace().unwrap_or("default");
        for parent in &route.parents {
            let Some(gateway) = self.gateways.get(&parent.gateway) else {
                continue;
            };
            if gateway.addresses.is_empty() {
                continue;
            }
            let gateway_namespace = parent.gateway.namespace().unwrap_or("default");
            let namespace = self.namespaces.get(route_namespace);
            let mut names: Vec<DnsName> = Vec::new();
            for listener in &gateway.listeners {
                if !listener.is_selected(parent.section.as_deref(), parent.port)
                    || !listener.admits_kind(kind)
                {
                    continue;
                }
                let admitted = listener::admits_namespace(
                    &listener.namespaces,
                    route_namespace,
                    namespace.map(|n| &n.labels),
                    gateway_namespace,
                );
                if !admitted {
                    continue;
                }
                if let (AllowedNamespaces::Selector(_), Some(namespace)) =
                    (&listener.namespaces, namespace)
                {
                    b.written(namespace.written);
                }
                names.extend(hostname::intersect(
                    &route.hostnames,
                    listener.hostname.as_ref(),
                ));
            }
            if names.is_empty() {
                continue;
            }
            b.written(gateway.written);
            for name in names {
                let zone = b.zone_for(&name, |z| {
                    z.accepts_gateway_class(&gateway.class)
                        && z.accepts_route_consent(parent.accepted)
                });
                if let Some(zone) = zone {
                    b.add(zone, name, &gateway.addresses, route.ttl);
                }
            }
        }
    }
}

fn read_gateway(gateway: &Gateway, b: &mut Builder<'_>) -> GatewayState {
    let mut addresses = Vec::new();
    for (i, address) in gateway.status.addresses.iter().enumerate() {
        let field = |leaf: &str| format!("status.addresses[{i}].{leaf}");
        let target = match address.type_.as_deref() {
            None | Some("IPAddress") => targets::ip(field("value"), &address.value),
            Some("Hostname") => targets::host(field("value"), &address.value),
            Some(other) => Err(TranslateError::UnsupportedAddressType {
                field: field("type"),
                value: other.to_string(),
            }),
        };
        addresses.extend(b.check(target));
    }
    addresses.sort();
    addresses.dedup();

    let listeners = gateway
        .spec
        .listeners
        .iter()
        .enumerate()
        .map(|(i, listener)| listener::read(i, listener, b))
        .collect();

    GatewayState {
        class: gateway.spec.gateway_class_name.clone(),
        addresses,
        listeners,
        written: 0,
    }
}
