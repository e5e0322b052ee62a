//! A NodePort Service's targets: node addresses, as kuberoute and external-dns give them.
//!
//! Which nodes: with `externalTrafficPolicy: Local` (or kuberoute's labels) only the Ready nodes
//! that run a ready endpoint, since the others drop the traffic; otherwise every Ready node that
//! is not cordoned, since kube-proxy forwards from any of them.
//!
//! Which addresses: external-dns's `access` annotation (`private`: InternalIP, `public`:
//! ExternalIP), else the zone's `nodeAddressType` when it is set, else ExternalIP, or InternalIP
//! when none of the nodes has an ExternalIP (external-dns's fallback).

use std::{collections::BTreeSet, net::IpAddr};

use k8s_openapi::api::core::v1::Service;
use kubezone_model::{ObjectRef, Target};

use super::Context;
use crate::{
    NodeAddressType, TranslateError, ZoneFilter, annotations, output::Builder,
    service_join::node::NodeState,
};

pub(super) struct Nodes<'a> {
    selected: Vec<&'a NodeState>,
    access: Option<NodeAddressType>,
    /// Nodes that run any endpoint of the Service.
    pub running: usize,
    /// Ready nodes among them that run a ready endpoint.
    pub ready: usize,
}

impl<'a> Nodes<'a> {
    pub(super) fn read(
        b: &mut Builder<'_>,
        service: &Service,
        object: &ObjectRef,
        cx: &Context<'a>,
        kuberoute: bool,
    ) -> Nodes<'a> {
        let local = kuberoute
            || service
                .spec
                .as_ref()
                .and_then(|s| s.external_traffic_policy.as_deref())
                == Some("Local");
        let mut running = BTreeSet::new();
        let mut ready = BTreeSet::new();
        for endpoint in cx.join.endpoints(object) {
            let Some(name) = endpoint.node.as_deref() else {
                continue;
            };
            running.insert(name);
            if endpoint.ready && cx.join.node(name).is_some_and(|n| n.ready) {
                ready.insert(name);
            }
        }
        let selected = if local {
            ready.iter().filter_map(|n| cx.join.node(n)).collect()
        } else {
            cx.join.nodes().filter(|n| n.takes_traffic()).collect()
        };
        Nodes {
            selected,
            access: access(b, service),
            running: running.len(),
            ready: ready.len(),
        }
    }

    /// The addresses to answer with in `zone`.
    pub(super) fn targets(&self, zone: Option<&ZoneFilter>) -> Vec<Target> {
        let kind = self.access.or(zone.and_then(|z| z.node_port_address));
        let of = |kind: NodeAddressType| -> Vec<IpAddr> {
            self.selected
                .iter()
                .flat_map(|n| n.addresses(kind).iter().copied())
                .collect()
        };
        let ips = match kind {
            Some(kind) => of(kind),
            None => {
                let external = of(NodeAddressType::ExternalIp);
                if external.is_empty() {
                    of(NodeAddressType::InternalIp)
                } else {
                    external
                }
            }
        };
        let mut targets: Vec<Target> = ips.into_iter().map(Target::from_ip).collect();
        targets.sort();
        targets.dedup();
        targets
    }
}

/// external-dns's `access` annotation.
fn access(b: &mut Builder<'_>, service: &Service) -> Option<NodeAddressType> {
    let annotation = annotations::external_dns(&service.metadata, "access")?;
    match annotation.value.trim() {
        "private" => Some(NodeAddressType::InternalIp),
        "public" => Some(NodeAddressType::ExternalIp),
        other => {
            b.problem(TranslateError::UnknownValue {
                field: annotation.field(),
                value: other.to_string(),
                expected: "private or public",
            });
            None
        }
    }
}
