//! A ListenerSet, reduced to what the Gateway join needs: the Gateway it adds listeners to, those
//! listeners, whether the Gateway's controller accepted each of them, and its hostname
//! annotation (for the TCPRoutes and UDPRoutes attached to it).

use kubezone_model::{DnsName, Kind, ObjectRef};

use crate::{
    TranslateError,
    gateway_api::{self, GROUP, ListenerSet},
    hostname_annotation,
    listener::{self, ListenerState},
    output::Builder,
};

/// All that is kept of a ListenerSet. Its namespace is in its [`ObjectRef`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ListenerSetState {
    /// `spec.parentRef`; `None` when it names something other than a Gateway.
    pub(crate) gateway: Option<ObjectRef>,
    pub(crate) listeners: Vec<ListenerState>,
    /// For each listener, in order: whether the status says the ListenerSet and that listener
    /// are `Accepted`.
    pub(crate) accepted: Vec<bool>,
    /// Its hostname annotation, if set.
    pub(crate) hostnames: Option<Vec<DnsName>>,
    /// When it was last written (unix seconds; 0 unknown).
    pub(crate) written: u32,
}

/// Reads a ListenerSet; invalid listeners and names go to the builder's problems.
pub(crate) fn read(set: &ListenerSet, object: &ObjectRef, b: &mut Builder<'_>) -> ListenerSetState {
    let parent = &set.spec.parent_ref;
    let group = parent.group.as_deref().unwrap_or(GROUP);
    let kind = parent.kind.as_deref().unwrap_or("Gateway");
    let gateway = if group == GROUP && kind == "Gateway" {
        let namespace = parent
            .namespace
            .as_deref()
            .or(object.namespace())
            .unwrap_or("default");
        Some(ObjectRef::in_cluster(
            object.cluster().cloned(),
            Kind::Gateway,
            Some(namespace),
            &parent.name,
        ))
    } else {
        b.problem(TranslateError::UnknownValue {
            field: "spec.parentRef.kind".into(),
            value: format!("{group}/{kind}"),
            expected: "gateway.networking.k8s.io/Gateway",
        });
        None
    };
    let set_accepted = gateway_api::accepted(&set.status.conditions);
    let listeners: Vec<ListenerState> = set
        .spec
        .listeners
        .iter()
        .enumerate()
        .map(|(i, l)| listener::read(i, l, b))
        .collect();
    let accepted = listeners
        .iter()
        .map(|l| {
            set_accepted
                && set
                    .status
                    .listeners
                    .iter()
                    .filter(|s| s.name == l.name)
                    .any(|s| gateway_api::accepted(&s.conditions))
        })
        .collect();
    ListenerSetState {
        gateway,
        listeners,
        accepted,
        hostnames: hostname_annotation::read(&set.metadata, &[Kind::TcpRoute, Kind::UdpRoute], b),
        written: 0,
    }
}
