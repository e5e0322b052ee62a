//! Where each Kind lives in the Kubernetes API, at the version kubezone reads.

use kube::api::{ApiResource, GroupVersionKind};
use kubezone_model::Kind;

/// The API resource kubezone lists and watches for `kind`; `None` for `Config`, the static
/// records of the config file, which no API server serves.
pub fn api_resource(kind: Kind) -> Option<ApiResource> {
    let (group, version, plural) = match kind {
        Kind::Service => ("", "v1", "services"),
        Kind::Node => ("", "v1", "nodes"),
        Kind::Namespace => ("", "v1", "namespaces"),
        Kind::EndpointSlice => ("discovery.k8s.io", "v1", "endpointslices"),
        Kind::Ingress => ("networking.k8s.io", "v1", "ingresses"),
        Kind::Gateway => ("gateway.networking.k8s.io", "v1", "gateways"),
        Kind::HttpRoute => ("gateway.networking.k8s.io", "v1", "httproutes"),
        Kind::GrpcRoute => ("gateway.networking.k8s.io", "v1", "grpcroutes"),
        Kind::TlsRoute => ("gateway.networking.k8s.io", "v1", "tlsroutes"),
        // v1 since Gateway API v1.6 (v1alpha2 before, in the experimental channel only).
        Kind::TcpRoute => ("gateway.networking.k8s.io", "v1", "tcproutes"),
        Kind::UdpRoute => ("gateway.networking.k8s.io", "v1", "udproutes"),
        // v1, in the standard channel, since Gateway API v1.5.
        Kind::ListenerSet => ("gateway.networking.k8s.io", "v1", "listenersets"),
        Kind::DnsEndpoint => ("externaldns.k8s.io", "v1alpha1", "dnsendpoints"),
        Kind::Config => return None,
    };
    Some(ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk(group, version, kind.as_str()),
        plural,
    ))
}

/// `plural.group`, the way RBAC rules and CRDs name a resource (`services` for the core group).
pub fn resource_name(resource: &ApiResource) -> String {
    if resource.group.is_empty() {
        resource.plural.clone()
    } else {
        format!("{}.{}", resource.plural, resource.group)
    }
}

/// The Kinds the cluster source watches for zones that serve `resources`: routes take their
/// addresses from Gateways (directly or through a ListenerSet), and a listener may admit them
/// by their Namespace's labels, so serving any route means watching Gateways, ListenerSets and
/// Namespaces too; NodePort and headless Services answer with their EndpointSlices and Nodes,
/// so serving Services means watching those.
pub fn watched_kinds(resources: impl IntoIterator<Item = Kind>) -> Vec<Kind> {
    let mut kinds: Vec<Kind> = resources
        .into_iter()
        .filter(|k| api_resource(*k).is_some())
        .collect();
    if kinds.iter().any(|k| k.is_route()) {
        kinds.extend([Kind::Gateway, Kind::ListenerSet, Kind::Namespace]);
    }
    if kinds.contains(&Kind::Service) {
        kinds.extend([Kind::EndpointSlice, Kind::Node]);
    }
    kinds.sort();
    kinds.dedup();
    kinds
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_bring_their_gateways_and_namespaces() {
        assert_eq!(
            watched_kinds([Kind::Ingress, Kind::TlsRoute, Kind::Ingress]),
            vec![
                Kind::TlsRoute,
                Kind::Ingress,
                Kind::Gateway,
                Kind::ListenerSet,
                Kind::Namespace
            ]
        );
        assert_eq!(
            watched_kinds([Kind::UdpRoute]),
            vec![
                Kind::UdpRoute,
                Kind::Gateway,
                Kind::ListenerSet,
                Kind::Namespace
            ]
        );
        assert_eq!(
            watched_kinds([Kind::Service]),
            vec![Kind::Service, Kind::Node, Kind::EndpointSlice]
        );
        assert_eq!(watched_kinds([Kind::Node]), vec![Kind::Node]);
    }

    #[test]
    fn every_kind_is_named_as_rbac_names_it() {
        let names: Vec<String> = Kind::ALL
            .iter()
            .filter_map(|k| api_resource(*k))
            .map(|r| resource_name(&r))
            .collect();
        assert_eq!(
            names,
            [
                "httproutes.gateway.networking.k8s.io",
                "tlsroutes.gateway.networking.k8s.io",
                "grpcroutes.gateway.networking.k8s.io",
                "ingresses.networking.k8s.io",
                "services",
                "dnsendpoints.externaldns.k8s.io",
                "tcproutes.gateway.networking.k8s.io",
                "udproutes.gateway.networking.k8s.io",
                "nodes",
                "gateways.gateway.networking.k8s.io",
                "listenersets.gateway.networking.k8s.io",
                "namespaces",
                "endpointslices.discovery.k8s.io",
            ]
        );
    }

    /// The ClusterRole the chart ships must allow exactly what the watches read, and writing
    /// Events.
    #[test]
    fn the_cluster_role_grants_exactly_the_watched_resources() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../charts/kubezone/files/clusterrole.yaml"
        );
        let text = std::fs::read_to_string(path).expect("the ClusterRole file");
        let role: serde_norway::Value = serde_norway::from_str(&text).expect("YAML");
        let strings = |v: &serde_norway::Value| -> Vec<String> {
            v.as_sequence()
                .into_iter()
                .flatten()
                .filter_map(|s| s.as_str().map(String::from))
                .collect()
        };
        let mut granted = Vec::new();
        for rule in role["rules"].as_sequence().expect("rules") {
            // Events are written (kubernetes.events), never read.
            if strings(&rule["apiGroups"]) == ["events.k8s.io"] {
                assert_eq!(strings(&rule["resources"]), ["events"], "{rule:?}");
                assert_eq!(strings(&rule["verbs"]), ["create", "patch"], "{rule:?}");
                continue;
            }
            assert_eq!(
                strings(&rule["verbs"]),
                ["get", "list", "watch"],
                "{rule:?}"
            );
            for group in strings(&rule["apiGroups"]) {
                for resource in strings(&rule["resources"]) {
                    granted.push((group.clone(), resource));
                }
            }
        }
        granted.sort();
        let mut needed: Vec<(String, String)> = Kind::ALL
            .iter()
            .filter_map(|k| api_resource(*k))
            .map(|r| (r.group, r.plural))
            .collect();
        needed.sort();
        assert_eq!(granted, needed);
    }
}
