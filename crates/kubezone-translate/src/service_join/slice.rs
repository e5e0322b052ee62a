//! An EndpointSlice, read down to what answers need: per endpoint its addresses, readiness,
//! node and hostname, and the Service it belongs to.

use std::net::IpAddr;

use k8s_openapi::api::discovery::v1::EndpointSlice;
use kubezone_model::{Kind, ObjectRef};

use crate::{TranslateError, targets};

/// The label the EndpointSlice controller (and any other slice manager) sets to the Service's
/// name; a slice without it belongs to no Service.
pub(crate) const SERVICE_NAME_LABEL: &str = "kubernetes.io/service-name";

/// One endpoint of a slice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EndpointState {
    pub addresses: Box<[IpAddr]>,
    /// `conditions.ready`; unset counts as ready, as the API documents.
    pub ready: bool,
    /// `nodeName`: the node the endpoint runs on.
    pub node: Option<Box<str>>,
    /// `hostname`: set for a pod with `spec.hostname` and a `subdomain` naming the Service.
    pub hostname: Option<Box<str>>,
}

/// All that is kept of an EndpointSlice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SliceState {
    /// The Service it belongs to (Kind Service, the slice's namespace).
    pub service: ObjectRef,
    pub endpoints: Box<[EndpointState]>,
    pub written: u32,
}

/// Reads a slice; `None` when it names no Service. Addresses that do not parse are reported
/// and left out; an FQDN slice has no addresses to answer with.
pub(crate) fn read(
    slice: &EndpointSlice,
    object: &ObjectRef,
    written: u32,
    problems: &mut Vec<TranslateError>,
) -> Option<SliceState> {
    let service_name = slice
        .metadata
        .labels
        .as_ref()
        .and_then(|l| l.get(SERVICE_NAME_LABEL))
        .filter(|n| !n.is_empty())?;
    // The Service of the slice's own cluster.
    let service = ObjectRef::in_cluster(
        object.cluster().cloned(),
        Kind::Service,
        object.namespace(),
        service_name,
    );
    let addressed = matches!(slice.address_type.as_str(), "IPv4" | "IPv6");
    let mut endpoints = Vec::with_capacity(slice.endpoints.len());
    for (i, endpoint) in slice.endpoints.iter().enumerate() {
        let mut addresses = Vec::with_capacity(endpoint.addresses.len());
        if addressed {
            for (j, value) in endpoint.addresses.iter().enumerate() {
                let field = format!("endpoints[{i}].addresses[{j}]");
                match value.trim().parse::<IpAddr>() {
                    Ok(ip) => addresses.push(ip),
                    Err(_) => problems.push(targets::mismatch(field, value, "an IP address")),
                }
            }
        }
        let conditions = endpoint.conditions.as_ref();
        endpoints.push(EndpointState {
            addresses: addresses.into_boxed_slice(),
            ready: conditions.and_then(|c| c.ready).unwrap_or(true),
            node: endpoint
                .node_name
                .as_deref()
                .filter(|n| !n.is_empty())
                .map(Box::from),
            hostname: endpoint
                .hostname
                .as_deref()
                .filter(|h| !h.is_empty())
                .map(Box::from),
        });
    }
    Some(SliceState {
        service,
        endpoints: endpoints.into_boxed_slice(),
        written,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slice(value: serde_json::Value) -> EndpointSlice {
        serde_json::from_value(value).expect("an EndpointSlice")
    }

    #[test]
    fn reads_endpoints_and_their_service() {
        let object = ObjectRef::new(Kind::EndpointSlice, Some("shop"), "web-abcde");
        let s = slice(serde_json::json!({
            "metadata": {"name": "web-abcde", "namespace": "shop",
                         "labels": {"kubernetes.io/service-name": "web"}},
            "addressType": "IPv4",
            "endpoints": [
                {"addresses": ["10.1.0.1"], "conditions": {"ready": true},
                 "nodeName": "n1", "hostname": "web-0"},
                {"addresses": ["10.1.0.2", "bad"], "conditions": {"ready": false}, "nodeName": "n2"},
                {"addresses": ["10.1.0.3"]}
            ]
        }));
        let mut problems = Vec::new();
        let state = read(&s, &object, 7, &mut problems).expect("belongs to a Service");
        assert_eq!(state.service.to_string(), "Service/shop/web");
        assert_eq!(state.written, 7);
        assert_eq!(state.endpoints.len(), 3);
        let [first, second, third] = &state.endpoints[..] else {
            panic!("three endpoints");
        };
        assert!(first.ready && !second.ready && third.ready);
        assert_eq!(first.node.as_deref(), Some("n1"));
        assert_eq!(first.hostname.as_deref(), Some("web-0"));
        assert_eq!(second.addresses.len(), 1);
        assert_eq!(third.node, None);
        assert_eq!(problems.len(), 1);
        let message = problems[0].to_string();
        assert!(
            message.contains("endpoints[1].addresses[1]") && message.contains("\"bad\""),
            "{message}"
        );
    }

    #[test]
    fn a_slice_without_a_service_or_with_fqdn_addresses() {
        let object = ObjectRef::new(Kind::EndpointSlice, Some("shop"), "custom");
        let orphan = slice(serde_json::json!({
            "metadata": {"name": "custom", "namespace": "shop"},
            "addressType": "IPv4", "endpoints": []
        }));
        assert_eq!(read(&orphan, &object, 0, &mut Vec::new()), None);
        let fqdn = slice(serde_json::json!({
            "metadata": {"name": "custom", "namespace": "shop",
                         "labels": {"kubernetes.io/service-name": "web"}},
            "addressType": "FQDN",
            "endpoints": [{"addresses": ["db.example.net"]}]
        }));
        let mut problems = Vec::new();
        let state = read(&fqdn, &object, 0, &mut problems).expect("belongs to a Service");
        assert!(state.endpoints[0].addresses.is_empty());
        assert!(problems.is_empty());
    }
}
