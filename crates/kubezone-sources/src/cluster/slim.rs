//! Turns an object from a watch into what translation reads, dropping what it never reads.
//!
//! Objects arrive as `DynamicObject`s rather than typed ones so that one object whose fields do
//! not fit its type is reported by name, instead of failing the whole list.

use kube::api::{ApiResource, DynamicObject};
use kubezone_model::{ClusterId, Kind, ObjectRef};
use kubezone_translate::KubeObject;

/// Annotations translation never reads but that can be as large as the object itself.
const DROPPED_ANNOTATIONS: [&str; 1] = ["kubectl.kubernetes.io/last-applied-configuration"];

/// What a watched object means to kubezone.
#[derive(Debug)]
pub enum Read {
    /// An object translation reads.
    Object(KubeObject),
    /// An object of a watched Kind that can never give records (a ClusterIP Service): treated as
    /// absent.
    Ignored,
    /// An object whose fields do not fit its type; treated as absent, and reported.
    Invalid(String),
}

/// When the object was last written, in unix seconds: the newest `managedFields[].time`, or its
/// creation (0 when it carries neither). Read before `read` drops `managedFields`.
pub fn written(metadata: &kube::api::ObjectMeta) -> u32 {
    let managed = metadata
        .managed_fields
        .iter()
        .flatten()
        .filter_map(|entry| entry.time.as_ref());
    managed
        .chain(metadata.creation_timestamp.as_ref())
        .map(|time| time.0.as_second())
        .max()
        .and_then(|seconds| u32::try_from(seconds).ok())
        .unwrap_or(0)
}

/// kind/namespace/name of a watched object.
#[cfg(test)]
pub fn object_ref(kind: Kind, object: &DynamicObject) -> ObjectRef {
    object_ref_in(None, kind, object)
}

/// [`object_ref`] of an object of one of several clusters.
pub fn object_ref_in(cluster: Option<ClusterId>, kind: Kind, object: &DynamicObject) -> ObjectRef {
    let namespace = kind
        .is_namespaced()
        .then(|| object.metadata.namespace.as_deref().unwrap_or("default"));
    ObjectRef::in_cluster(
        cluster,
        kind,
        namespace,
        object.metadata.name.as_deref().unwrap_or(""),
    )
}

pub fn read(kind: Kind, resource: &ApiResource, mut object: DynamicObject) -> Read {
    if kind == Kind::Service && !service_can_have_records(&object) {
        return Read::Ignored;
    }
    object.metadata.managed_fields = None;
    match kind {
        Kind::EndpointSlice => slim_endpoint_slice(&mut object),
        Kind::Node => slim_node(&mut object),
        _ => {}
    }
    if kind == Kind::Namespace {
        // Only its labels are matched, by listeners' `allowedRoutes.namespaces.selector`.
        object.data = serde_json::Value::Null;
        object.metadata.annotations = None;
        object.metadata.owner_references = None;
        object.metadata.finalizers = None;
    }
    if let Some(annotations) = object.metadata.annotations.as_mut() {
        for key in DROPPED_ANNOTATIONS {
            annotations.remove(key);
        }
    }
    let metadata = match serde_json::to_value(&object.metadata) {
        Ok(metadata) => metadata,
        Err(e) => return Read::Invalid(format!("metadata: {e}")),
    };
    let mut value = match object.data {
        serde_json::Value::Object(map) => map,
        _ => serde_json::Map::new(),
    };
    // List items carry no apiVersion/kind; the watch says what they are.
    value.insert("apiVersion".into(), resource.api_version.clone().into());
    value.insert("kind".into(), resource.kind.clone().into());
    value.insert("metadata".into(), metadata);
    match KubeObject::from_value(serde_json::Value::Object(value)) {
        Ok(Some(object)) => Read::Object(object),
        Ok(None) => Read::Ignored,
        Err(e) => Read::Invalid(e.to_string()),
    }
}

/// LoadBalancer Services (addresses), ExternalName Services (a CNAME), NodePort Services (node
/// addresses) and headless Services (endpoints) may give records; a plain ClusterIP Service
/// only when external-dns's `internal-hostname` names its ClusterIP. Most Services are plain
/// ClusterIP ones: drop them before anything else is done with them.
fn service_can_have_records(object: &DynamicObject) -> bool {
    let data = &object.data;
    match data.pointer("/spec/type").and_then(|t| t.as_str()) {
        Some("LoadBalancer" | "ExternalName" | "NodePort") => true,
        _ if data.pointer("/spec/clusterIP").and_then(|t| t.as_str()) == Some("None") => true,
        _ => object.metadata.annotations.as_ref().is_some_and(|a| {
            INTERNAL_HOSTNAME_ANNOTATIONS
                .iter()
                .any(|key| a.contains_key(*key))
        }),
    }
}

/// external-dns's annotation for names of a ClusterIP, under both its prefixes.
const INTERNAL_HOSTNAME_ANNOTATIONS: [&str; 2] = [
    "external-dns.alpha.kubernetes.io/internal-hostname",
    "external-dns.kubernetes.io/internal-hostname",
];

/// EndpointSlices are many and busy: keep the Service label and, per endpoint, its addresses,
/// readiness, node and hostname. Their annotations change on every endpoint change
/// (`endpoints.kubernetes.io/last-change-trigger-time`) and are never read.
fn slim_endpoint_slice(object: &mut DynamicObject) {
    object.metadata.annotations = None;
    object.metadata.owner_references = None;
    if let Some(labels) = object.metadata.labels.as_mut() {
        labels.retain(|key, _| key == "kubernetes.io/service-name");
    }
    if let Some(map) = object.data.as_object_mut() {
        map.remove("ports");
    }
    if let Some(endpoints) = object
        .data
        .get_mut("endpoints")
        .and_then(|e| e.as_array_mut())
    {
        for endpoint in endpoints.iter_mut().filter_map(|e| e.as_object_mut()) {
            endpoint.retain(|key, _| {
                matches!(
                    key.as_str(),
                    "addresses" | "conditions" | "nodeName" | "hostname"
                )
            });
        }
    }
}

/// A Node's status carries its images, capacity and system info, often tens of kilobytes:
/// keep its addresses and Ready condition, and whether it is cordoned. Labels stay (an ignore
/// label), annotations go.
fn slim_node(object: &mut DynamicObject) {
    object.metadata.annotations = None;
    object.metadata.owner_references = None;
    let unschedulable = object.data.pointer("/spec/unschedulable").cloned();
    let addresses = object.data.pointer("/status/addresses").cloned();
    let ready: Vec<serde_json::Value> = object
        .data
        .pointer("/status/conditions")
        .and_then(|c| c.as_array())
        .into_iter()
        .flatten()
        .filter(|c| c.get("type").and_then(|t| t.as_str()) == Some("Ready"))
        .map(|c| {
            serde_json::json!({
                "type": "Ready",
                "status": c.get("status").cloned().unwrap_or(serde_json::Value::Null),
            })
        })
        .collect();
    let mut spec = serde_json::Map::new();
    if let Some(unschedulable) = unschedulable {
        spec.insert("unschedulable".into(), unschedulable);
    }
    let mut status = serde_json::Map::new();
    if let Some(addresses) = addresses {
        status.insert("addresses".into(), addresses);
    }
    status.insert("conditions".into(), ready.into());
    object.data = serde_json::json!({"spec": spec, "status": status});
}

#[cfg(test)]
mod tests {
    use kubezone_model::Kind;

    use super::*;
    use crate::cluster::resource::api_resource;

    fn dynamic(value: serde_json::Value) -> DynamicObject {
        serde_json::from_value(value).expect("a DynamicObject")
    }

    #[test]
    fn list_items_without_kind_are_read_as_the_watched_kind() {
        let object = dynamic(serde_json::json!({
            "metadata": {
                "name": "web", "namespace": "shop",
                "managedFields": [{"manager": "kubectl", "operation": "Apply"}],
                "annotations": {
                    "kubectl.kubernetes.io/last-applied-configuration": "{…}",
                    "kubezone.io/ttl": "30"
                }
            },
            "spec": {"type": "LoadBalancer"},
            "status": {"loadBalancer": {"ingress": [{"ip": "10.0.0.1"}]}}
        }));
        let Read::Object(KubeObject::Service(service)) = read(
            Kind::Service,
            &api_resource(Kind::Service).expect("served"),
            object,
        ) else {
            panic!("a Service");
        };
        assert_eq!(service.metadata.managed_fields, None);
        let annotations = service.metadata.annotations.unwrap_or_default();
        assert_eq!(annotations.len(), 1, "{annotations:?}");
        assert_eq!(
            annotations.get("kubezone.io/ttl").map(String::as_str),
            Some("30")
        );
    }

    #[test]
    fn services_that_cannot_have_records_are_ignored() {
        for service_type in [Some("ClusterIP"), None] {
            let object = dynamic(serde_json::json!({
                "metadata": {"name": "db", "namespace": "shop"},
                "spec": {"type": service_type}
            }));
            assert!(
                matches!(
                    read(
                        Kind::Service,
                        &api_resource(Kind::Service).expect("served"),
                        object
                    ),
                    Read::Ignored
                ),
                "{service_type:?}"
            );
        }
        let kept = [
            serde_json::json!({"type": "ExternalName", "externalName": "db.example.net"}),
            serde_json::json!({"type": "NodePort"}),
            serde_json::json!({"type": "ClusterIP", "clusterIP": "None"}),
        ];
        for spec in kept {
            let object = dynamic(serde_json::json!({
                "metadata": {"name": "db", "namespace": "shop"},
                "spec": spec
            }));
            assert!(
                matches!(
                    read(
                        Kind::Service,
                        &api_resource(Kind::Service).expect("served"),
                        object
                    ),
                    Read::Object(_)
                ),
                "{spec}"
            );
        }
        let internal = dynamic(serde_json::json!({
            "metadata": {"name": "db", "namespace": "shop", "annotations": {
                "external-dns.kubernetes.io/internal-hostname": "db.internal.example.com"
            }},
            "spec": {"type": "ClusterIP", "clusterIP": "10.96.0.9"}
        }));
        assert!(matches!(
            read(
                Kind::Service,
                &api_resource(Kind::Service).expect("served"),
                internal
            ),
            Read::Object(_)
        ));
    }

    #[test]
    fn endpoint_slices_and_nodes_keep_only_what_answers_read() {
        let slice = dynamic(serde_json::json!({
            "metadata": {
                "name": "web-abc", "namespace": "shop",
                "labels": {"kubernetes.io/service-name": "web", "endpointslice.kubernetes.io/managed-by": "x"},
                "annotations": {"endpoints.kubernetes.io/last-change-trigger-time": "2026-01-01T00:00:00Z"}
            },
            "addressType": "IPv4",
            "ports": [{"name": "http", "port": 8080}],
            "endpoints": [{
                "addresses": ["10.1.0.1"], "conditions": {"ready": true},
                "nodeName": "n1", "zone": "a", "hostname": "web-0",
                "targetRef": {"kind": "Pod", "name": "web-0", "namespace": "shop"}
            }]
        }));
        let Read::Object(KubeObject::EndpointSlice(slice)) = read(
            Kind::EndpointSlice,
            &api_resource(Kind::EndpointSlice).expect("served"),
            slice,
        ) else {
            panic!("an EndpointSlice");
        };
        assert_eq!(slice.metadata.annotations, None);
        assert_eq!(slice.metadata.labels.as_ref().map(|l| l.len()), Some(1));
        assert_eq!(slice.ports, None);
        let endpoint = &slice.endpoints[0];
        assert_eq!(endpoint.target_ref, None);
        assert_eq!(endpoint.zone, None);
        assert_eq!(endpoint.node_name.as_deref(), Some("n1"));
        assert_eq!(endpoint.hostname.as_deref(), Some("web-0"));

        let node = dynamic(serde_json::json!({
            "metadata": {"name": "n1", "labels": {"a": "b"}, "annotations": {"x": "y"}},
            "spec": {"unschedulable": true, "podCIDR": "10.244.0.0/24"},
            "status": {
                "images": [{"names": ["registry.example/app:1"], "sizeBytes": 1}],
                "nodeInfo": {"kernelVersion": "6.1"},
                "addresses": [{"type": "InternalIP", "address": "192.168.0.1"}],
                "conditions": [
                    {"type": "DiskPressure", "status": "False"},
                    {"type": "Ready", "status": "True", "lastHeartbeatTime": "2026-01-01T00:00:00Z"}
                ]
            }
        }));
        let Read::Object(KubeObject::Node(node)) =
            read(Kind::Node, &api_resource(Kind::Node).expect("served"), node)
        else {
            panic!("a Node");
        };
        assert_eq!(node.metadata.annotations, None);
        let spec = node.spec.expect("spec");
        assert_eq!(spec.unschedulable, Some(true));
        assert_eq!(spec.pod_cidr, None);
        let status = node.status.expect("status");
        assert_eq!(status.images, None);
        assert_eq!(status.node_info, None);
        assert_eq!(status.addresses.map(|a| a.len()), Some(1));
        let conditions = status.conditions.expect("conditions");
        assert_eq!(conditions.len(), 1);
        assert_eq!(conditions[0].last_heartbeat_time, None);
    }

    /// A cluster running newer (or experimental) Gateway API CRDs sends values kubezone's
    /// types may not know; the route is read all the same.
    #[test]
    fn a_route_with_values_from_a_newer_gateway_api_is_read() {
        let object = dynamic(serde_json::json!({
            "metadata": {"name": "web", "namespace": "shop"},
            "spec": {
                "hostnames": ["web.example.com"],
                "parentRefs": [
                    {"name": "gw"},
                    {"group": "gateway.networking.k8s.io", "kind": "ListenerSet", "name": "extra"}
                ],
                "rules": [{
                    "filters": [{"type": "ExternalAuth", "externalAuth": {"protocol": "HTTP"}}],
                    "matches": [{"method": "QUERY"}]
                }]
            }
        }));
        match read(
            Kind::HttpRoute,
            &api_resource(Kind::HttpRoute).expect("served"),
            object,
        ) {
            Read::Object(route @ KubeObject::HttpRoute(_)) => {
                assert_eq!(route.object_ref().to_string(), "HTTPRoute/shop/web");
            }
            other => panic!("expected an HTTPRoute, got {other:?}"),
        }
    }

    #[test]
    fn a_namespace_keeps_only_its_name_and_labels() {
        let object = dynamic(serde_json::json!({
            "metadata": {
                "name": "shop",
                "labels": {"team": "shop", "kubernetes.io/metadata.name": "shop"},
                "annotations": {"owner": "someone"},
                "finalizers": ["example.com/cleanup"]
            },
            "spec": {"finalizers": ["kubernetes"]},
            "status": {"phase": "Active"}
        }));
        let Read::Object(KubeObject::Namespace(namespace)) = read(
            Kind::Namespace,
            &api_resource(Kind::Namespace).expect("served"),
            object,
        ) else {
            panic!("a Namespace");
        };
        assert_eq!(namespace.metadata.name.as_deref(), Some("shop"));
        assert_eq!(namespace.metadata.labels.as_ref().map(|l| l.len()), Some(2));
        assert_eq!(namespace.metadata.annotations, None);
        assert_eq!(namespace.metadata.finalizers, None);
        assert_eq!(namespace.spec, None);
        assert_eq!(namespace.status, None);
    }

    #[test]
    fn an_object_that_does_not_fit_its_type_is_invalid_and_named() {
        let object = dynamic(serde_json::json!({
            "metadata": {"name": "broken", "namespace": "shop"},
            "spec": {"rules": "not a list"}
        }));
        match read(
            Kind::Ingress,
            &api_resource(Kind::Ingress).expect("served"),
            object,
        ) {
            Read::Invalid(message) => assert!(message.contains("broken"), "{message}"),
            other => panic!("expected invalid, got {other:?}"),
        }
    }

    #[test]
    fn cluster_scoped_objects_have_no_namespace() {
        let node = dynamic(serde_json::json!({"metadata": {"name": "n1"}}));
        assert_eq!(object_ref(Kind::Node, &node).to_string(), "Node/n1");
        let ingress = dynamic(serde_json::json!({"metadata": {"name": "i", "namespace": "a"}}));
        assert_eq!(
            object_ref(Kind::Ingress, &ingress).to_string(),
            "Ingress/a/i"
        );
    }
}
