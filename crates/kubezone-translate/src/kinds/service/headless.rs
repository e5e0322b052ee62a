//! A headless Service (`clusterIP: None`) that asks for a name answers with its ready
//! endpoints (every endpoint with `publishNotReadyAddresses`), and each endpoint that has a
//! hostname (a pod with `spec.hostname` and `subdomain`) also gets `<hostname>.<name>`, as
//! external-dns does. external-dns's `endpoints-type` annotation answers with the endpoints'
//! nodes instead: `NodeExternalIP` their ExternalIP, `HostIP` their InternalIP (the address a
//! pod's `status.hostIP` reports).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Service;
use kubezone_model::{DnsName, ObjectRef, Target};

use super::Context;
use crate::{NodeAddressType, TranslateError, annotations, output::Builder};

/// What an endpoint is answered with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Answer {
    Pod,
    Node(NodeAddressType),
}

pub(super) fn reads_nodes(service: &Service) -> bool {
    matches!(answer(service), Ok(Answer::Node(_)))
}

fn answer(service: &Service) -> Result<Answer, TranslateError> {
    let Some(annotation) = annotations::external_dns(&service.metadata, "endpoints-type") else {
        return Ok(Answer::Pod);
    };
    match annotation.value.trim() {
        "NodeExternalIP" => Ok(Answer::Node(NodeAddressType::ExternalIp)),
        "HostIP" => Ok(Answer::Node(NodeAddressType::InternalIp)),
        other => Err(TranslateError::UnknownValue {
            field: annotation.field(),
            value: other.to_string(),
            expected: "NodeExternalIP or HostIP",
        }),
    }
}

/// The endpoints of a headless Service, as targets.
pub(super) struct Endpoints {
    /// Every endpoint's targets.
    pub all: Vec<Target>,
    /// Endpoints with a hostname: the hostname and that endpoint's targets.
    named: BTreeMap<Box<str>, Vec<Target>>,
}

impl Endpoints {
    pub(super) fn read(
        b: &mut Builder<'_>,
        service: &Service,
        object: &ObjectRef,
        cx: &Context<'_>,
    ) -> Endpoints {
        let answer = b.check(answer(service)).unwrap_or(Answer::Pod);
        let not_ready_too = service
            .spec
            .as_ref()
            .and_then(|s| s.publish_not_ready_addresses)
            .unwrap_or(false);
        let mut all = Vec::new();
        let mut named: BTreeMap<Box<str>, Vec<Target>> = BTreeMap::new();
        for endpoint in cx.join.endpoints(object) {
            if !(endpoint.ready || not_ready_too) {
                continue;
            }
            let targets: Vec<Target> = match answer {
                Answer::Pod => endpoint
                    .addresses
                    .iter()
                    .copied()
                    .map(Target::from_ip)
                    .collect(),
                Answer::Node(kind) => endpoint
                    .node
                    .as_deref()
                    .and_then(|n| cx.join.node(n))
                    .map(|n| {
                        n.addresses(kind)
                            .iter()
                            .copied()
                            .map(Target::from_ip)
                            .collect()
                    })
                    .unwrap_or_default(),
            };
            if let Some(hostname) = &endpoint.hostname {
                named
                    .entry(hostname.clone())
                    .or_default()
                    .extend(targets.iter().cloned());
            }
            all.extend(targets);
        }
        all.sort();
        all.dedup();
        Endpoints { all, named }
    }
}

pub(super) fn add(
    b: &mut Builder<'_>,
    main: &[(usize, DnsName)],
    endpoints: &Endpoints,
    replaced: Option<&[Target]>,
    ttl: Option<u32>,
) {
    for (zone, name) in main {
        b.add(*zone, name.clone(), replaced.unwrap_or(&endpoints.all), ttl);
        for (hostname, targets) in &endpoints.named {
            let text = format!("{hostname}.{name}");
            let parsed = DnsName::parse(&text).map_err(|source| {
                TranslateError::invalid_name(
                    "EndpointSlice endpoints[].hostname".into(),
                    &text,
                    source,
                )
            });
            if let Some(pod_name) = b.check(parsed) {
                b.add(*zone, pod_name, targets, ttl);
            }
        }
    }
}
