//! The Gateway ↔ route join. A Gateway owns no names; its routes take their targets (and,
//! without hostnames of their own, their names) from it, through the listeners that admit
//! them and, unless a zone says otherwise, only once the Gateway has accepted them. A
//! ListenerSet adds listeners to a Gateway, with that Gateway's addresses. Routes, Gateways,
//! ListenerSets and Namespaces arrive in any order, so all are remembered in compact form, with
//! reverse indexes from each parent to the routes that name it and from each Gateway to its
//! ListenerSets: a Gateway change re-translates only its own routes, a Namespace's labels only
//! the routes that selectors there can admit.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use k8s_openapi::api::core::v1::Namespace;
use kubezone_model::{DnsName, Kind, ObjectRef, Target};

use crate::{
    KubeObject, ObjectRecords, TranslateError, Translated, ZoneFilter,
    gateway_api::{Gateway, ListenerSet},
    hostname, hostname_annotation,
    listener::{self, AllowedNamespaces, ListenerState},
    listener_set::{self, ListenerSetState},
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
    /// `spec.allowedListeners`: where the ListenerSets that may add listeners live.
    listener_sets: AllowedNamespaces,
    /// Its hostname annotation, if set: the names of TCPRoutes and UDPRoutes without their own.
    hostnames: Option<Vec<DnsName>>,
    /// When the Gateway was last written (unix seconds; 0 unknown).
    written: u32,
}

impl GatewayState {
    fn selects_namespaces(&self) -> bool {
        selects_namespaces(&self.listeners)
    }
}

fn selects_namespaces(listeners: &[ListenerState]) -> bool {
    listeners
        .iter()
        .any(|l| matches!(l.namespaces, AllowedNamespaces::Selector(_)))
}

/// A route's parent as the route sees it: the Gateway whose addresses it takes, the listeners
/// it may attach to, and what stands for its hostnames when it has none.
struct Resolved<'a> {
    gateway: &'a GatewayState,
    /// Where `allowedRoutes.namespaces.from: Same` points: the Gateway's or the ListenerSet's
    /// namespace.
    owner_namespace: &'a str,
    listeners: &'a [ListenerState],
    /// For a ListenerSet's listeners, whether its status accepted each (a Gateway's always are).
    accepted: Option<&'a [bool]>,
    hostnames: Option<&'a [DnsName]>,
    /// When the Gateway (and a ListenerSet, and the Namespace whose labels admitted it) was last
    /// written.
    written: u32,
}

impl Resolved<'_> {
    /// Each listener, and whether the parent's status accepted it.
    fn listeners(&self) -> impl Iterator<Item = (&ListenerState, bool)> {
        self.listeners.iter().enumerate().map(|(i, listener)| {
            let accepted = self
                .accepted
                .is_none_or(|accepted| accepted.get(i).copied().unwrap_or(false));
            (listener, accepted)
        })
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
    listener_sets: HashMap<ObjectRef, ListenerSetState>,
    routes: HashMap<ObjectRef, RouteState>,
    /// Gateway or ListenerSet → the routes whose parentRefs name it, whether or not it exists
    /// yet.
    attached: HashMap<ObjectRef, BTreeSet<ObjectRef>>,
    /// Gateway → the ListenerSets whose `parentRef` names it.
    sets_of: HashMap<ObjectRef, BTreeSet<ObjectRef>>,
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
            if let Some((known, _)) = self.attached.get_key_value(&parent.parent) {
                parent.parent = known.clone();
            } else if let Some((known, _)) = self.gateways.get_key_value(&parent.parent) {
                parent.parent = known.clone();
            } else if let Some((known, _)) = self.listener_sets.get_key_value(&parent.parent) {
                parent.parent = known.clone();
            }
        }
        state.hostnames.shrink_to_fit();
        state.parents.shrink_to_fit();
        for parent in &state.parents {
            self.attached
                .entry(parent.parent.clone())
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

    pub(crate) fn apply_listener_set(
        &mut self,
        zones: &[ZoneFilter],
        set: &ListenerSet,
        object: ObjectRef,
        written: u32,
    ) -> Translated {
        let mut b = Builder::new(zones, object.clone());
        b.written(written);
        let mut state = listener_set::read(set, &object, &mut b);
        state.written = written;
        let mut out = Translated::from(b.finish());
        self.unlink_set(&object);
        if let Some(gateway) = &mut state.gateway {
            if let Some((known, _)) = self.gateways.get_key_value(gateway) {
                *gateway = known.clone();
            }
            self.sets_of
                .entry(gateway.clone())
                .or_default()
                .insert(object.clone());
        }
        self.listener_sets.insert(object.clone(), state);
        self.emit_routes(
            zones,
            self.attached.get(&object).into_iter().flatten(),
            &mut out,
        );
        out
    }

    pub(crate) fn delete_listener_set(
        &mut self,
        zones: &[ZoneFilter],
        object: &ObjectRef,
    ) -> Translated {
        self.unlink_set(object);
        self.listener_sets.remove(object);
        let mut out = Translated::from((ObjectRecords::empty(object.clone()), Vec::new()));
        self.emit_routes(
            zones,
            self.attached.get(object).into_iter().flatten(),
            &mut out,
        );
        out
    }

    /// Forgets that a ListenerSet names its Gateway.
    fn unlink_set(&mut self, set: &ObjectRef) {
        let Some(gateway) = self.listener_sets.get(set).and_then(|s| s.gateway.as_ref()) else {
            return;
        };
        if let Some(sets) = self.sets_of.get_mut(gateway) {
            sets.remove(set);
            if sets.is_empty() {
                self.sets_of.remove(gateway);
            }
        }
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

    /// How many parents (Gateways and ListenerSets) and routes are remembered.
    pub(crate) fn len(&self) -> (usize, usize) {
        (
            self.gateways.len() + self.listener_sets.len(),
            self.routes.len(),
        )
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
            if let Some(routes) = self.attached.get_mut(&parent.parent) {
                routes.remove(route);
                if routes.is_empty() {
                    self.attached.remove(&parent.parent);
                }
            }
        }
    }

    /// The routes whose records can depend on the labels of `namespace`: those in it behind
    /// listeners that select namespaces by label, and those attached to a ListenerSet in it
    /// whose Gateway selects ListenerSets' namespaces by label.
    fn emit_in_namespace(&self, zones: &[ZoneFilter], namespace: &str, out: &mut Translated) {
        let attached = |parent: &ObjectRef| self.attached.get(parent).into_iter().flatten();
        let mut routes: BTreeSet<&ObjectRef> = self
            .gateways
            .iter()
            .filter(|(_, state)| state.selects_namespaces())
            .flat_map(|(gateway, _)| attached(gateway))
            .filter(|route| route.namespace() == Some(namespace))
            .collect();
        for (set, state) in &self.listener_sets {
            if selects_namespaces(&state.listeners) {
                routes.extend(attached(set).filter(|route| route.namespace() == Some(namespace)));
            }
            let selected = state
                .gateway
                .as_ref()
                .and_then(|gateway| self.gateways.get(gateway))
                .is_some_and(|g| matches!(g.listener_sets, AllowedNamespaces::Selector(_)));
            if selected && set.namespace() == Some(namespace) {
                routes.extend(attached(set));
            }
        }
        self.emit_routes(zones, routes, out);
    }

    /// Re-translates every route attached to `gateway`, directly or through its ListenerSets.
    fn emit_attached(&self, zones: &[ZoneFilter], gateway: &ObjectRef, out: &mut Translated) {
        let sets = self.sets_of.get(gateway).into_iter().flatten();
        let routes: BTreeSet<&ObjectRef> = std::iter::once(gateway)
            .chain(sets)
            .filter_map(|parent| self.attached.get(parent))
            .flatten()
            .collect();
        self.emit_routes(zones, routes, out);
    }

    /// Re-translates remembered routes. Their own problems were reported when they were
    /// applied, so none are repeated here.
    fn emit_routes<'r>(
        &self,
        zones: &[ZoneFilter],
        routes: impl IntoIterator<Item = &'r ObjectRef>,
        out: &mut Translated,
    ) {
        for route in routes {
            if let Some(state) = self.routes.get(route) {
                let mut b = Builder::new(zones, route.clone());
                self.add_route_records(&mut b, route, state);
                out.push(b.finish());
            }
        }
    }

    /// The Gateway, listeners and hostname annotation a parentRef leads to; `None` when the
    /// parent, or a ListenerSet's Gateway, is not known, or the Gateway does not let the
    /// ListenerSet add listeners.
    fn resolve<'a>(&'a self, parent: &'a ObjectRef) -> Option<Resolved<'a>> {
        if parent.kind() != Kind::ListenerSet {
            let gateway = self.gateways.get(parent)?;
            return Some(Resolved {
                gateway,
                owner_namespace: parent.namespace().unwrap_or("default"),
                listeners: &gateway.listeners,
                accepted: None,
                hostnames: gateway.hostnames.as_deref(),
                written: gateway.written,
            });
        }
        let set = self.listener_sets.get(parent)?;
        let gateway_ref = set.gateway.as_ref()?;
        let gateway = self.gateways.get(gateway_ref)?;
        let set_namespace = parent.namespace().unwrap_or("default");
        let namespace = self.namespaces.get(set_namespace);
        let admitted = listener::admits_namespace(
            &gateway.listener_sets,
            set_namespace,
            namespace.map(|n| &n.labels),
            gateway_ref.namespace().unwrap_or("default"),
        );
        if !admitted {
            return None;
        }
        let mut written = gateway.written.max(set.written);
        if let (AllowedNamespaces::Selector(_), Some(namespace)) =
            (&gateway.listener_sets, namespace)
        {
            written = written.max(namespace.written);
        }
        Some(Resolved {
            gateway,
            owner_namespace: set_namespace,
            listeners: &set.listeners,
            accepted: Some(&set.accepted),
            hostnames: set.hostnames.as_deref().or(gateway.hostnames.as_deref()),
            written,
        })
    }

    fn add_route_records(&self, b: &mut Builder<'_>, object: &ObjectRef, route: &RouteState) {
        b.written(route.written);
        b.filter_out(&route.filtered_out);
        let kind = object.kind();
        let route_namespace = object.namespace().unwrap_or("default");
        let namespace = self.namespaces.get(route_namespace);
        for parent in &route.parents {
            let Some(resolved) = self.resolve(&parent.parent) else {
                continue;
            };
            if resolved.gateway.addresses.is_empty() {
                continue;
            }
            let hostnames = match (route.parent_hostnames, resolved.hostnames) {
                (true, Some(names)) => names,
                _ => route.hostnames.as_slice(),
            };
            // Each name, and whether some listener giving it was accepted by the parent.
            let mut names: BTreeMap<DnsName, bool> = BTreeMap::new();
            for (listener, listener_accepted) in resolved.listeners() {
                if !listener.is_selected(parent.section.as_deref(), parent.port)
                    || !listener.admits_kind(kind)
                {
                    continue;
                }
                let admitted = listener::admits_namespace(
                    &listener.namespaces,
                    route_namespace,
                    namespace.map(|n| &n.labels),
                    resolved.owner_namespace,
                );
                if !admitted {
                    continue;
                }
                if let (AllowedNamespaces::Selector(_), Some(namespace)) =
                    (&listener.namespaces, namespace)
                {
                    b.written(namespace.written);
                }
                for name in hostname::intersect(hostnames, listener.hostname.as_ref()) {
                    *names.entry(name).or_default() |= listener_accepted;
                }
            }
            if names.is_empty() {
                continue;
            }
            let gateway = resolved.gateway;
            b.written(resolved.written);
            for (name, listener_accepted) in names {
                let zone = b.zone_for(&name, |z| {
                    z.accepts_gateway_class(&gateway.class)
                        && z.accepts_route_consent(parent.accepted && listener_accepted)
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
        listener_sets: listener::allowed_listeners(&gateway.spec.allowed_listeners.namespaces, b),
        hostnames: hostname_annotation::read(
            &gateway.metadata,
            &[Kind::TcpRoute, Kind::UdpRoute],
            b,
        ),
        written: 0,
    }
}
