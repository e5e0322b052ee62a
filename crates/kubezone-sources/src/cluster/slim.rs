//! Turns an object from a watch into what translation reads, dropping what it never reads.
//!
//! Objects arrive as `DynamicObject`s rather than typed ones so that one object whose fields do
//! not fit its type is reported by name, instead of failing the whole list.

use kube::api::{ApiResource, DynamicObject};
use kubezone_model::{Kind, ObjectRef};
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
pub fn object_ref(kind: Kind, object: &DynamicObject) -> ObjectRef {
    let namespace = kind
        .is_namespaced()
        .then(|| object.metadata.namespace.as_deref().unwrap_or("default"));
    ObjectRef::new(
        kind,
        namespace,
        object.metadata.name.as_deref().unwrap_or(""),
    )
}

pub fn read(kind: Kind, resource: &ApiResource, mut object: DynamicObject) -> Read {
    if kind == Kind::Service && !service_can_have_records(&object.data) {
        return Read::Ignored;
    }
    object.metadata.managed_fields = None;
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

/// Only LoadBalancer Services (addresses) and ExternalName Services (a CNAME) give records, and
/// most Services are neither: drop them before anything else is done with them.
fn service_can_have_records(data: &serde_json::Value) -> bool {
    matches!(
        data.pointer("/spec/type").and_then(|t| t.as_str()),
        Some("LoadBalancer" | "ExternalName")
    )
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
        for service_type in [Some("ClusterIP"), Some("NodePort"), None] {
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
        let external = dynamic(serde_json::json!({
            "metadata": {"name": "db", "namespace": "shop"},
            "spec": {"type": "ExternalName", "externalName": "db.example.net"}
        }));
        assert!(matches!(
            read(
                Kind::Service,
                &api_resource(Kind::Service).expect("served"),
                external
            ),
            Read::Object(_)
        ));
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
