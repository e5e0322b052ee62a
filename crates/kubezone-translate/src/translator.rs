//! The entry point: objects in, per-object record sets out.

use kubezone_model::{Kind, ObjectRef};

use crate::{
    KubeObject, ObjectRecords, Translated, ZoneFilter,
    gateway::GatewayJoin,
    kinds::{dns_endpoint, ingress, node, service::KuberouteLabels},
    meta::is_ignored,
    service_join::ServiceJoin,
};

/// Translates objects for a fixed set of zones. Stateless for Ingresses, DNSEndpoints and most
/// Services; the Gateway ↔ ListenerSet ↔ route join and the Service ↔ EndpointSlice ↔ Node join
/// remember what they need in compact form.
#[derive(Debug)]
pub struct Translator {
    zones: Vec<ZoneFilter>,
    join: GatewayJoin,
    services: ServiceJoin,
    kuberoute: KuberouteLabels,
}

impl Translator {
    pub fn new(zones: Vec<ZoneFilter>) -> Self {
        Translator {
            zones,
            join: GatewayJoin::default(),
            services: ServiceJoin::default(),
            kuberoute: KuberouteLabels::default(),
        }
    }

    /// Reads kuberoute's labels under other names.
    pub fn with_kuberoute(mut self, labels: KuberouteLabels) -> Self {
        self.kuberoute = labels;
        self
    }

    /// An empty translator with the same zones and labels, for another cluster's objects.
    pub fn fresh(&self) -> Translator {
        Translator::new(self.zones.clone()).with_kuberoute(self.kuberoute.clone())
    }

    /// The zones; [`ZonedEndpoint::zone`](crate::ZonedEndpoint::zone) indexes this.
    pub fn zones(&self) -> &[ZoneFilter] {
        &self.zones
    }

    /// Adds or replaces an object. Returns the complete new record set of the object itself
    /// and, for a Gateway, of every route attached to it.
    pub fn apply(&mut self, object: &KubeObject) -> Translated {
        self.apply_as(object, object.object_ref(), 0)
    }

    /// [`Translator::apply`] for a caller that already holds the object's reference, which is
    /// then the one kept: one allocation per object however many parts remember it. `written`
    /// is when the object was last written (unix seconds; 0 unknown), carried into the
    /// records' [`ObjectRecords::written`].
    pub fn apply_as(
        &mut self,
        object: &KubeObject,
        object_ref: ObjectRef,
        written: u32,
    ) -> Translated {
        // An ignored object is as good as deleted: it may have been served before. A
        // Namespace gives no records, and its labels are only matched.
        if object.kind() != Kind::Namespace && is_ignored(object.metadata()) {
            let mut out = self.delete(&object_ref);
            for update in &mut out.updates {
                update.written = update.written.max(written);
            }
            return out;
        }
        let zones = &self.zones;
        let kuberoute = &self.kuberoute;
        let mut out: Translated = match object {
            KubeObject::Ingress(o) => ingress::translate(zones, o, object_ref).into(),
            KubeObject::Service(o) => {
                return self
                    .services
                    .apply_service(zones, kuberoute, o, object_ref, written);
            }
            KubeObject::EndpointSlice(o) => {
                return self
                    .services
                    .apply_slice(zones, kuberoute, o, object_ref, written);
            }
            KubeObject::DnsEndpoint(o) => dns_endpoint::translate(zones, o, object_ref).into(),
            KubeObject::Node(o) => {
                let name = object_ref.name().to_string();
                let mut out: Translated = node::translate(zones, o, object_ref).into();
                for update in &mut out.updates {
                    update.written = written;
                }
                self.services
                    .apply_node(zones, kuberoute, o, &name, written, &mut out);
                return out;
            }
            KubeObject::Gateway(o) => {
                return self.join.apply_gateway(zones, o, object_ref, written);
            }
            KubeObject::HttpRoute(_)
            | KubeObject::GrpcRoute(_)
            | KubeObject::TlsRoute(_)
            | KubeObject::TcpRoute(_)
            | KubeObject::UdpRoute(_) => {
                return self.join.apply_route(zones, object, object_ref, written);
            }
            KubeObject::ListenerSet(o) => {
                return self.join.apply_listener_set(zones, o, object_ref, written);
            }
            KubeObject::Namespace(o) => {
                return self.join.apply_namespace(zones, o, object_ref, written);
            }
        };
        for update in &mut out.updates {
            update.written = written;
        }
        out
    }

    /// Removes an object: its record set becomes empty, and a Gateway's routes are re-emitted
    /// without its addresses (a Namespace's, without its labels).
    pub fn delete(&mut self, object: &ObjectRef) -> Translated {
        let (zones, kuberoute) = (&self.zones, &self.kuberoute);
        match object.kind() {
            Kind::Service => self.services.delete_service(object),
            Kind::EndpointSlice => self.services.delete_slice(zones, kuberoute, object),
            Kind::Node => {
                let mut out: Translated = (ObjectRecords::empty(object.clone()), Vec::new()).into();
                self.services
                    .delete_node(zones, kuberoute, object.name(), &mut out);
                out
            }
            Kind::Gateway => self.join.delete_gateway(&self.zones, object),
            Kind::ListenerSet => self.join.delete_listener_set(&self.zones, object),
            Kind::Namespace => self.join.delete_namespace(&self.zones, object),
            kind if kind.is_route() => self.join.delete_route(object),
            _ => (ObjectRecords::empty(object.clone()), Vec::new()).into(),
        }
    }

    /// How many parents (Gateways and ListenerSets) and routes the join remembers, for metrics.
    pub fn remembered(&self) -> (usize, usize) {
        self.join.len()
    }

    /// How many NodePort and headless Services, EndpointSlices and Nodes the Service join
    /// remembers.
    pub fn remembered_endpoints(&self) -> (usize, usize, usize) {
        self.services.len()
    }

    /// The labels of Namespace `name`, if one was applied (a zone's `namespaceSelector` is
    /// matched against them).
    pub fn namespace_labels(
        &self,
        name: &str,
    ) -> Option<&std::collections::BTreeMap<String, String>> {
        self.join.namespace_labels(name)
    }

    /// How many Namespaces' labels the join remembers.
    pub fn remembered_namespaces(&self) -> usize {
        self.join.namespaces()
    }
}
