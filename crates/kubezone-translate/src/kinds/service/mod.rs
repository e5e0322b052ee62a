//! Service. What it answers with follows from its type:
//! - LoadBalancer: `spec.externalIPs`, else `status.loadBalancer.ingress[]`;
//! - ExternalName: a CNAME to `spec.externalName` (`spec/dns.md`, CNAME);
//! - NodePort: the addresses of nodes (`node_port.rs`), or a kuberoute failover (`kuberoute.rs`);
//! - headless (`clusterIP: None`): its ready endpoints, and a name per endpoint hostname
//!   (`headless.rs`).
//!
//! Its names (`names.rs`): the hostname annotations, else `<name>.<namespace>.<zone>` for
//! LoadBalancer and ExternalName Services (NodePort and headless ones must ask for a name);
//! external-dns's `internal-hostname` names its ClusterIP. external-dns's `target` annotation
//! replaces the targets. Named ports give SRV records (`srv.rs`).

mod headless;
mod kuberoute;
mod names;
mod node_port;
mod srv;

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Service;
use kubezone_model::{ObjectRef, Target};

pub use kuberoute::KuberouteLabels;

use crate::{
    ObjectRecords, Problem, ZoneFilter, meta::ttl_annotation, output::Builder,
    service_join::JoinView, targets,
};

/// What a Service's translation reads besides the Service.
pub(crate) struct Context<'a> {
    pub join: JoinView<'a>,
    pub kuberoute: &'a KuberouteLabels,
}

/// The kinds of Service, by what they answer with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    LoadBalancer,
    ExternalName,
    NodePort,
    Headless,
    ClusterIp,
}

impl Shape {
    pub(crate) fn of(service: &Service) -> Shape {
        let spec = service.spec.as_ref();
        match spec.and_then(|s| s.type_.as_deref()) {
            Some("LoadBalancer") => Shape::LoadBalancer,
            Some("ExternalName") => Shape::ExternalName,
            Some("NodePort") => Shape::NodePort,
            _ if spec.and_then(|s| s.cluster_ip.as_deref()) == Some("None") => Shape::Headless,
            _ => Shape::ClusterIp,
        }
    }
}

/// Whether the Service's answers follow its EndpointSlices (and nodes), so the join keeps it.
pub(crate) fn reads_endpoints(service: &Service) -> bool {
    matches!(Shape::of(service), Shape::NodePort | Shape::Headless)
}

/// Whether the Service's answers follow Nodes.
pub(crate) fn reads_nodes(service: &Service) -> bool {
    match Shape::of(service) {
        Shape::NodePort => true,
        Shape::Headless => headless::reads_nodes(service),
        _ => false,
    }
}

pub(crate) fn translate(
    zones: &[ZoneFilter],
    service: &Service,
    object: ObjectRef,
    cx: &Context<'_>,
) -> (ObjectRecords, Vec<Problem>) {
    let mut b = Builder::new(zones, object.clone());
    b.metadata(&service.metadata);
    let shape = Shape::of(service);
    let no_labels = BTreeMap::new();
    let labels = service.metadata.labels.as_ref().unwrap_or(&no_labels);
    let accepts = |z: &ZoneFilter| z.accepts_service_labels(labels);

    let kuberoute = match shape {
        Shape::NodePort => kuberoute::Request::read(&mut b, labels, cx.kuberoute),
        _ => None,
    };
    let kuberoute = kuberoute.and_then(|r| Some((b.zone_for(&r.name, accepts)?, r)));
    let main = names::main(&mut b, service, &object, shape);
    let main = names::served(&b, main, accepts);
    let internal = names::internal(&mut b, service);
    let internal = names::served(&b, internal, accepts);
    if main.is_empty() && internal.is_empty() && kuberoute.is_none() {
        return b.finish();
    }

    let ttl = b.check(ttl_annotation(&service.metadata)).flatten();
    let replaced = targets::annotated(&mut b, &service.metadata);
    let endpoints =
        (shape == Shape::Headless).then(|| headless::Endpoints::read(&mut b, service, &object, cx));
    match shape {
        Shape::LoadBalancer | Shape::ExternalName => {
            let targets = match replaced {
                Some(targets) => targets,
                None if shape == Shape::ExternalName => external_name(&mut b, service),
                None => load_balancer_targets(&mut b, service),
            };
            for (zone, name) in &main {
                b.add(*zone, name.clone(), &targets, ttl);
            }
            if shape == Shape::LoadBalancer {
                srv::add(&mut b, service, &main, &targets, srv::Port::Service, ttl);
            }
        }
        Shape::NodePort => {
            let nodes = node_port::Nodes::read(&mut b, service, &object, cx, kuberoute.is_some());
            for (zone, name) in &main {
                let targets = match &replaced {
                    Some(targets) => targets.clone(),
                    None => nodes.targets(zones.get(*zone)),
                };
                b.add(*zone, name.clone(), &targets, ttl);
                srv::add(
                    &mut b,
                    service,
                    &[(*zone, name.clone())],
                    &targets,
                    srv::Port::Node,
                    ttl,
                );
            }
            if let Some((zone, request)) = kuberoute {
                let targets = nodes.targets(zones.get(zone));
                kuberoute::add(&mut b, zone, request, &nodes, targets, ttl);
            }
        }
        Shape::Headless => {
            if let Some(endpoints) = &endpoints {
                headless::add(&mut b, &main, endpoints, replaced.as_deref(), ttl);
            }
        }
        Shape::ClusterIp => {}
    }
    if !internal.is_empty() {
        let targets = match &endpoints {
            Some(endpoints) => endpoints.all.clone(),
            None => cluster_ips(&mut b, service),
        };
        for (zone, name) in internal {
            b.add(zone, name, &targets, ttl);
        }
    }
    b.finish()
}

fn external_name(b: &mut Builder<'_>, service: &Service) -> Vec<Target> {
    let value = service
        .spec
        .as_ref()
        .and_then(|s| s.external_name.as_deref())
        .unwrap_or_default();
    b.check(targets::host("spec.externalName".into(), value))
        .into_iter()
        .collect()
}

fn load_balancer_targets(b: &mut Builder<'_>, service: &Service) -> Vec<Target> {
    let external_ips = service
        .spec
        .as_ref()
        .and_then(|s| s.external_ips.as_deref())
        .unwrap_or_default();
    if !external_ips.is_empty() {
        let mut result = Vec::new();
        for (i, value) in external_ips.iter().enumerate() {
            result.extend(b.check(targets::ip(format!("spec.externalIPs[{i}]"), value)));
        }
        return result;
    }
    let lb = service
        .status
        .as_ref()
        .and_then(|s| s.load_balancer.as_ref())
        .and_then(|l| l.ingress.as_deref())
        .unwrap_or_default();
    targets::load_balancer(
        b,
        lb.iter().map(|e| (e.ip.as_deref(), e.hostname.as_deref())),
    )
}

/// `spec.clusterIPs` (both families), else `spec.clusterIP`: what `internal-hostname` names.
fn cluster_ips(b: &mut Builder<'_>, service: &Service) -> Vec<Target> {
    let spec = service.spec.as_ref();
    let (field, values): (&str, Vec<&String>) = match spec.and_then(|s| s.cluster_ips.as_ref()) {
        Some(ips) if !ips.is_empty() => ("spec.clusterIPs", ips.iter().collect()),
        _ => (
            "spec.clusterIP",
            spec.and_then(|s| s.cluster_ip.as_ref())
                .into_iter()
                .collect(),
        ),
    };
    let mut result = Vec::new();
    for (i, value) in values.into_iter().enumerate() {
        if value == "None" || value.trim().is_empty() {
            continue;
        }
        result.extend(b.check(targets::ip(format!("{field}[{i}]"), value)));
    }
    result
}
