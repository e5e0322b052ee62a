//! The Service ↔ EndpointSlice ↔ Node join. NodePort Services answer with the nodes that run
//! their ready endpoints (or every node that takes traffic), headless Services with their
//! ready endpoints: both follow objects that arrive in any order, so the join remembers the
//! Services that need it (whole, they are few), every EndpointSlice and every Node in compact
//! form, with an index from each Service to its slices.
//!
//! A readiness flip is an EndpointSlice update: it re-translates only that slice's Service. A
//! Node update re-translates the Services that read nodes, and only when what kubezone reads
//! of the Node (readiness, cordon, addresses) changed, which most Node status writes do not.

pub(crate) mod node;
pub(crate) mod slice;

use std::collections::{BTreeSet, HashMap};

use k8s_openapi::api::{
    core::v1::{Node, Service},
    discovery::v1::EndpointSlice,
};
use kubezone_model::{Kind, ObjectRef};

use crate::{
    ObjectRecords, Problem, Translated, ZoneFilter,
    kinds::service::{self, Context, KuberouteLabels},
};
use node::NodeState;
use slice::{EndpointState, SliceState};

/// A Service the join re-translates when its slices or the nodes change.
#[derive(Debug)]
struct Joined {
    service: Box<Service>,
    written: u32,
}

#[derive(Debug, Default)]
pub(crate) struct ServiceJoin {
    /// NodePort and headless Services, by their reference.
    services: HashMap<ObjectRef, Joined>,
    slices: HashMap<ObjectRef, SliceState>,
    /// Service → its slices, whether or not the Service exists (yet).
    by_service: HashMap<ObjectRef, BTreeSet<ObjectRef>>,
    nodes: HashMap<Box<str>, NodeState>,
}

/// What a Service's translation may read of the join.
#[derive(Clone, Copy)]
pub(crate) struct JoinView<'a> {
    join: &'a ServiceJoin,
}

impl<'a> JoinView<'a> {
    /// Every endpoint of every slice of `service`.
    pub(crate) fn endpoints(&self, service: &ObjectRef) -> impl Iterator<Item = &'a EndpointState> {
        let join = self.join;
        join.by_service
            .get(service)
            .into_iter()
            .flatten()
            .filter_map(|s| join.slices.get(s))
            .flat_map(|s| s.endpoints.iter())
    }

    pub(crate) fn node(&self, name: &str) -> Option<&'a NodeState> {
        self.join.nodes.get(name)
    }

    pub(crate) fn nodes(&self) -> impl Iterator<Item = &'a NodeState> {
        self.join.nodes.values()
    }
}

impl ServiceJoin {
    fn view(&self) -> JoinView<'_> {
        JoinView { join: self }
    }

    pub(crate) fn apply_service(
        &mut self,
        zones: &[ZoneFilter],
        kuberoute: &KuberouteLabels,
        service: &Service,
        object: ObjectRef,
        written: u32,
    ) -> Translated {
        if service::reads_endpoints(service) {
            self.services.insert(
                object.clone(),
                Joined {
                    service: Box::new(service.clone()),
                    written,
                },
            );
        } else {
            self.services.remove(&object);
        }
        let mut out = Translated::from(self.translate(zones, kuberoute, service, object));
        for update in &mut out.updates {
            update.written = update.written.max(written);
        }
        out
    }

    pub(crate) fn delete_service(&mut self, object: &ObjectRef) -> Translated {
        self.services.remove(object);
        (ObjectRecords::empty(object.clone()), Vec::new()).into()
    }

    pub(crate) fn apply_slice(
        &mut self,
        zones: &[ZoneFilter],
        kuberoute: &KuberouteLabels,
        slice: &EndpointSlice,
        object: ObjectRef,
        written: u32,
    ) -> Translated {
        let mut errors = Vec::new();
        let state = slice::read(slice, &object, written, &mut errors);
        let problems = errors
            .into_iter()
            .map(|error| Problem {
                object: object.clone(),
                error,
            })
            .collect();
        let mut own = ObjectRecords::empty(object.clone());
        own.written = written;
        let mut out = Translated::from((own, problems));
        let before = self.slices.get(&object).map(|s| s.service.clone());
        match state {
            Some(state) => {
                let service = state.service.clone();
                let unchanged = self.slices.get(&object).is_some_and(|old| {
                    old.service == state.service && old.endpoints == state.endpoints
                });
                self.slices.insert(object.clone(), state);
                self.by_service
                    .entry(service.clone())
                    .or_default()
                    .insert(object.clone());
                if let Some(old) = before.filter(|old| *old != service) {
                    self.unlink(&old, &object);
                    self.emit(zones, kuberoute, &old, written, &mut out);
                }
                if !unchanged {
                    self.emit(zones, kuberoute, &service, written, &mut out);
                }
            }
            None => {
                self.slices.remove(&object);
                if let Some(old) = before {
                    self.unlink(&old, &object);
                    self.emit(zones, kuberoute, &old, written, &mut out);
                }
            }
        }
        out
    }

    pub(crate) fn delete_slice(
        &mut self,
        zones: &[ZoneFilter],
        kuberoute: &KuberouteLabels,
        object: &ObjectRef,
    ) -> Translated {
        let mut out = Translated::from((ObjectRecords::empty(object.clone()), Vec::new()));
        if let Some(old) = self.slices.remove(object) {
            self.unlink(&old.service, object);
            self.emit(zones, kuberoute, &old.service, 0, &mut out);
        }
        out
    }

    /// Remembers the Node's state; when it changed, re-translates every Service that reads
    /// nodes. The Node's own records are the caller's.
    pub(crate) fn apply_node(
        &mut self,
        zones: &[ZoneFilter],
        kuberoute: &KuberouteLabels,
        node: &Node,
        name: &str,
        written: u32,
        out: &mut Translated,
    ) {
        let state = node::read(node);
        if self.nodes.get(name) == Some(&state) {
            return;
        }
        self.nodes.insert(Box::from(name), state);
        self.emit_node_readers(zones, kuberoute, written, out);
    }

    pub(crate) fn delete_node(
        &mut self,
        zones: &[ZoneFilter],
        kuberoute: &KuberouteLabels,
        name: &str,
        out: &mut Translated,
    ) {
        if self.nodes.remove(name).is_some() {
            self.emit_node_readers(zones, kuberoute, 0, out);
        }
    }

    /// How many Services, EndpointSlices and Nodes the join remembers, for metrics.
    pub(crate) fn len(&self) -> (usize, usize, usize) {
        (self.services.len(), self.slices.len(), self.nodes.len())
    }

    fn emit_node_readers(
        &self,
        zones: &[ZoneFilter],
        kuberoute: &KuberouteLabels,
        written: u32,
        out: &mut Translated,
    ) {
        let mut readers: Vec<&ObjectRef> = self
            .services
            .iter()
            .filter(|(_, j)| service::reads_nodes(&j.service))
            .map(|(object, _)| object)
            .collect();
        // One order whatever the hash map's, so the output is the same every run.
        readers.sort();
        for object in readers {
            self.emit(zones, kuberoute, object, written, out);
        }
    }

    fn unlink(&mut self, service: &ObjectRef, slice: &ObjectRef) {
        if let Some(slices) = self.by_service.get_mut(service) {
            slices.remove(slice);
            if slices.is_empty() {
                self.by_service.remove(service);
            }
        }
    }

    /// Re-translates a joined Service, if there is one, into `out`.
    fn emit(
        &self,
        zones: &[ZoneFilter],
        kuberoute: &KuberouteLabels,
        object: &ObjectRef,
        written: u32,
        out: &mut Translated,
    ) {
        let Some(joined) = self.services.get(object) else {
            return;
        };
        let (mut records, problems) =
            self.translate(zones, kuberoute, &joined.service, object.clone());
        records.written = records.written.max(joined.written).max(written);
        out.push((records, problems));
    }

    fn translate(
        &self,
        zones: &[ZoneFilter],
        kuberoute: &KuberouteLabels,
        service: &Service,
        object: ObjectRef,
    ) -> (ObjectRecords, Vec<Problem>) {
        debug_assert_eq!(object.kind(), Kind::Service);
        let cx = Context {
            join: self.view(),
            kuberoute,
        };
        service::translate(zones, service, object, &cx)
    }
}
