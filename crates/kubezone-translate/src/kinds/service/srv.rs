//! SRV records for a Service's named ports, as CoreDNS's k8s_external serves them:
//! `_<port name>._<protocol>.<name> SRV 0 100 <port> <name>`, in zones with `srvRecords` on
//! (the default). A LoadBalancer Service's clients use its `port`, a NodePort Service's its
//! `nodePort`. A name that is a CNAME gets none: an SRV target must not be an alias (RFC 2782).

use k8s_openapi::api::core::v1::Service;
use kubezone_model::{DnsName, RecordData, RecordType, Target};

use crate::output::Builder;

/// Which port of a `spec.ports[]` entry clients connect to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Port {
    Service,
    Node,
}

pub(super) fn add(
    b: &mut Builder<'_>,
    service: &Service,
    names: &[(usize, DnsName)],
    targets: &[Target],
    port: Port,
    ttl: Option<u32>,
) {
    if targets.is_empty() || !targets.iter().all(Target::is_address) {
        return;
    }
    let ports = service
        .spec
        .as_ref()
        .and_then(|s| s.ports.as_deref())
        .unwrap_or_default();
    for (zone, name) in names {
        if !b.zones().get(*zone).is_some_and(|z| z.srv_records) {
            continue;
        }
        for entry in ports {
            let Some(port_name) = entry.name.as_deref().filter(|n| !n.is_empty()) else {
                continue;
            };
            let number = match port {
                Port::Service => Some(entry.port),
                Port::Node => entry.node_port,
            };
            let Some(number) = number
                .and_then(|n| u16::try_from(n).ok())
                .filter(|n| *n > 0)
            else {
                continue;
            };
            let protocol = entry
                .protocol
                .as_deref()
                .unwrap_or("TCP")
                .to_ascii_lowercase();
            // Port names are IANA service names (lower case letters, digits, '-'), so the owner
            // is a valid name whenever the Service's is; anything else is skipped quietly, as
            // the API server would not have accepted it.
            let Ok(owner) = DnsName::parse(&format!("_{port_name}._{protocol}.{name}")) else {
                continue;
            };
            let Ok(data) = RecordData::parse(
                RecordType::SRV,
                &format!("0 100 {number} {}", name.as_name()),
                None,
            ) else {
                continue;
            };
            b.add(*zone, owner, &[Target::Record(data)], ttl);
        }
    }
}
