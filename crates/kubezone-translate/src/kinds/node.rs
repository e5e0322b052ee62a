//! Node, in zones that list it: the `Hostname` address, pointing at the InternalIP or
//! ExternalIP addresses, as the zone chooses.

use k8s_openapi::api::core::v1::{Node, NodeAddress};
use kubezone_model::{Kind, ObjectRef, Target};

use crate::{
    NodeAddressType, ObjectRecords, Problem, TranslateError, ZoneFilter, names, output::Builder,
    targets,
};

pub(crate) fn translate(
    zones: &[ZoneFilter],
    node: &Node,
    object: ObjectRef,
) -> (ObjectRecords, Vec<Problem>) {
    let mut b = Builder::new(zones, object);
    b.metadata(&node.metadata);
    let addresses = node
        .status
        .as_ref()
        .and_then(|s| s.addresses.as_deref())
        .unwrap_or_default();

    let mut served = Vec::new();
    for (i, address) in addresses.iter().enumerate() {
        if address.type_ != "Hostname" || address.address.trim().is_empty() {
            continue;
        }
        let text = address.address.trim();
        for name in names::expand(zones, Kind::Node, text) {
            let field = format!("status.addresses[{i}].address");
            let name = name.map_err(|source| TranslateError::invalid_name(field, text, source));
            let Some(name) = b.check(name) else {
                continue;
            };
            if let Some(zone) = b.zone_for(&name, |_| true) {
                served.push((zone, name));
            }
        }
    }
    if served.is_empty() {
        return b.finish();
    }

    // Only the address types some serving zone publishes are read, so a bad ExternalIP is not
    // reported to a user who only asked for InternalIPs.
    let wanted = |kind: NodeAddressType| {
        served
            .iter()
            .any(|(zone, _)| zones.get(*zone).is_some_and(|z| z.node_address == kind))
    };
    let internal = if wanted(NodeAddressType::InternalIp) {
        read_addresses(&mut b, addresses, NodeAddressType::InternalIp)
    } else {
        Vec::new()
    };
    let external = if wanted(NodeAddressType::ExternalIp) {
        read_addresses(&mut b, addresses, NodeAddressType::ExternalIp)
    } else {
        Vec::new()
    };
    for (zone, name) in served {
        let targets = match zones.get(zone).map(|z| z.node_address) {
            Some(NodeAddressType::ExternalIp) => &external,
            _ => &internal,
        };
        b.add(zone, name, targets, None);
    }
    b.finish()
}

fn read_addresses(
    b: &mut Builder<'_>,
    addresses: &[NodeAddress],
    kind: NodeAddressType,
) -> Vec<Target> {
    let mut result = Vec::new();
    for (i, address) in addresses.iter().enumerate() {
        if address.type_ == kind.as_str() {
            let field = format!("status.addresses[{i}].address");
            result.extend(b.check(targets::ip(field, &address.address)));
        }
    }
    result
}
