//! The Gateway ↔ route join. A Gateway owns no names; its routes take their targets (and,
//! without hostnames of their own, their names) from it. Routes and Gateways arrive in any
//! order, so both are remembered in compact form, with a reverse index from each Gateway to
//! the routes that name it: a Gateway change re-translates only its own routes.

use std::collections::{BTreeSet, HashMap};

use kubezone_model::{DnsName, ObjectRef, Target};

use crate::{
    KubeObject, ObjectRecords, TranslateError, Translated, ZoneFilter,
    gateway_api::Gateway,
    output::Builder,
    route::{self, RouteState},
    targets,
};

/// All that is kept of a Gateway.
#[derive(Debug, Clone, PartialEq, Eq)]
struct GatewayState {
    class: String,
    addresses: Vec<Target>,
    /// (listener name, hostname), only for listeners that have a hostname.
    listeners: Vec<(String, DnsName)>,
    /// When the Gateway was last written (unix seconds; 0 unknown).
    written: u32,
}

#[derive(Debug, Default)]
pub(crate) struct GatewayJoin {
    gateways: HashMap<ObjectRef, GatewayState>,
    routes: HashMap<ObjectRef, RouteState>,
    /// Gateway → the routes whose parentRefs name it, whether or not the Gateway exists yet.
    attached: HashMap<ObjectRef, BTreeSet<ObjectRef>>,
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
        self.add_route_records(&mut b, &state);
        self.routes.insert(object, state);
        b.finish().into()
    }

    pub(crate) fn delete_route(&mut self, object: &ObjectRef) -> Translated {
        self.detach(object);
        self.routes.remove(object);
        (ObjectRecords::empty(object.clone()), Vec::new()).into()
    }

    /// How many Gateways and routes are remembered.
    pub(crate) fn len(&self) -> (usize, usize) {
        (self.gateways.len(), self.routes.len())
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

    /// Re-translates every route attached to `gateway`. Their own problems were reported when
    /// they were applied, so none are repeated here.
    fn emit_attached(&self, zones: &[ZoneFilter], gateway: &ObjectRef, out: &mut Translated) {
        let Some(routes) = self.attached.get(gateway) else {
            return;
        };
        for route in routes {
            if let Some(state) = self.routes.get(route) {
                let mut b = Builder::new(zones, route.clone());
                self.add_route_records(&mut b, state);
                out.push(b.finish());
            }
        }
    }

    fn add_route_records(&self, b: &mut Builder<'_>, route: &RouteState) {
        b.written(route.written);
        for parent in &route.parents {
            let Some(gateway) = self.gateways.get(&parent.gateway) else {
                continue;
            };
            if gateway.addresses.is_empty() {
                continue;
            }
            b.written(gateway.written);
            let names: Vec<&DnsName> = if route.hostnames.is_empty() {
                gateway
                    .listeners
                    .iter()
                    .filter(|(listener, _)| parent.section.as_ref().is_none_or(|s| s == listener))
                    .map(|(_, hostname)| hostname)
                    .collect()
            } else {
                route.hostnames.iter().collect()
            };
            for name in names {
                if let Some(zone) = b.zone_for(name, |z| z.accepts_gateway_class(&gateway.class)) {
                    b.add(zone, name.clone(), &gateway.addresses, route.ttl);
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

    let mut listeners = Vec::new();
    for (i, listener) in gateway.spec.listeners.iter().enumerate() {
        let Some(hostname) = targets::non_empty(listener.hostname.as_deref()) else {
            continue;
        };
        let name = DnsName::parse(hostname).map_err(|source| {
            TranslateError::invalid_name(format!("spec.listeners[{i}].hostname"), hostname, source)
        });
        if let Some(name) = b.check(name) {
            listeners.push((listener.name.clone(), name));
        }
    }

    GatewayState {
        class: gateway.spec.gateway_class_name.clone(),
        addresses,
        listeners,
        written: 0,
    }
}
