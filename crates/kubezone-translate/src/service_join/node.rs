//! A Node, read down to what NodePort answers need: whether it takes traffic, and its
//! addresses of each type.

use std::net::IpAddr;

use k8s_openapi::api::core::v1::Node;

use crate::NodeAddressType;

/// All that is kept of a Node. Compared on every Node update, so a status write that changes
/// nothing kubezone reads (most of them) re-translates nothing.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct NodeState {
    /// The `Ready` condition is `True`.
    pub ready: bool,
    /// `spec.unschedulable` is not set: the node is not cordoned.
    pub schedulable: bool,
    pub internal: Box<[IpAddr]>,
    pub external: Box<[IpAddr]>,
}

impl NodeState {
    /// Whether a NodePort name answers with this node when it is not limited to the nodes of
    /// its endpoints: Ready and not cordoned, as external-dns does by default.
    pub(crate) fn takes_traffic(&self) -> bool {
        self.ready && self.schedulable
    }

    pub(crate) fn addresses(&self, kind: NodeAddressType) -> &[IpAddr] {
        match kind {
            NodeAddressType::InternalIp => &self.internal,
            NodeAddressType::ExternalIp => &self.external,
        }
    }
}

/// Reads a Node. Addresses that do not parse are left out here: the Node's own records report
/// them, and a NodePort name is never the place to hear about a Node's fields.
pub(crate) fn read(node: &Node) -> NodeState {
    let status = node.status.as_ref();
    let ready = status
        .and_then(|s| s.conditions.as_deref())
        .unwrap_or_default()
        .iter()
        .any(|c| c.type_ == "Ready" && c.status == "True");
    let schedulable = !node
        .spec
        .as_ref()
        .and_then(|s| s.unschedulable)
        .unwrap_or(false);
    let addresses = status
        .and_then(|s| s.addresses.as_deref())
        .unwrap_or_default();
    let of = |kind: NodeAddressType| -> Box<[IpAddr]> {
        let mut ips: Vec<IpAddr> = addresses
            .iter()
            .filter(|a| a.type_ == kind.as_str())
            .filter_map(|a| a.address.trim().parse().ok())
            .collect();
        ips.sort();
        ips.dedup();
        ips.into_boxed_slice()
    };
    NodeState {
        ready,
        schedulable,
        internal: of(NodeAddressType::InternalIp),
        external: of(NodeAddressType::ExternalIp),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(value: serde_json::Value) -> Node {
        serde_json::from_value(value).expect("a Node")
    }

    #[test]
    fn reads_readiness_cordon_and_addresses() {
        let n = node(serde_json::json!({
            "metadata": {"name": "n1"},
            "spec": {"unschedulable": true},
            "status": {
                "conditions": [
                    {"type": "MemoryPressure", "status": "False"},
                    {"type": "Ready", "status": "True"}
                ],
                "addresses": [
                    {"type": "Hostname", "address": "n1"},
                    {"type": "InternalIP", "address": "192.168.0.1"},
                    {"type": "InternalIP", "address": "fd00::1"},
                    {"type": "ExternalIP", "address": "203.0.113.1"},
                    {"type": "ExternalIP", "address": "not an address"}
                ]
            }
        }));
        let state = read(&n);
        assert!(state.ready && !state.schedulable && !state.takes_traffic());
        assert_eq!(state.addresses(NodeAddressType::InternalIp).len(), 2);
        assert_eq!(
            state.addresses(NodeAddressType::ExternalIp),
            ["203.0.113.1".parse::<IpAddr>().expect("ip")]
        );
    }

    #[test]
    fn a_node_without_a_ready_condition_is_not_ready() {
        let state = read(&node(serde_json::json!({"metadata": {"name": "n2"}})));
        assert!(!state.ready && state.schedulable);
        let unknown = read(&node(serde_json::json!({
            "metadata": {"name": "n3"},
            "status": {"conditions": [{"type": "Ready", "status": "Unknown"}]}
        })));
        assert!(!unknown.ready);
    }
}
