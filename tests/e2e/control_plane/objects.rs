//! Objects through the admin: server-side apply (also as a strict dry run), status, delete,
//! namespaces.

use super::*;

impl ControlPlane {
    /// Creates or updates every object in `yaml` (one or more documents) by server-side apply,
    /// as the admin. Namespaced objects without a namespace go to `default`.
    pub fn apply_yaml(&self, yaml: &str) {
        let client = self.admin_client();
        self.block_on(async {
            for object in documents(yaml) {
                let (api, name) = api_for(&client, &object).await;
                api.patch(&name, &apply_params(), &Patch::Apply(&object))
                    .await
                    .unwrap_or_else(|e| panic!("apply {}: {e}", describe(&object)));
            }
        });
    }

    /// Server-side applies every object in `yaml` as the admin with `dryRun=All` and strict
    /// field validation: the apiserver checks each object against its schema (unknown and
    /// duplicate fields included) and admission, and stores nothing. The error lists every
    /// refused object. Namespaced objects without a namespace go to `default`.
    pub fn dry_run_apply_yaml(&self, yaml: &str) -> Result<(), String> {
        let client = self.admin_client();
        let params = apply_params().dry_run().validation_strict();
        let refused: Vec<String> = self.block_on(async {
            let mut refused = Vec::new();
            for object in documents(yaml) {
                let (api, name) = api_for(&client, &object).await;
                if let Err(e) = api.patch(&name, &params, &Patch::Apply(&object)).await {
                    refused.push(format!("{}: {e}", describe(&object)));
                }
            }
            refused
        });
        if refused.is_empty() {
            Ok(())
        } else {
            Err(refused.join("\n"))
        }
    }

    /// Applies the `status` of every object in `yaml` through the status subresource, e.g. a
    /// Service's `status.loadBalancer`. The objects must exist.
    pub fn apply_status_yaml(&self, yaml: &str) {
        let client = self.admin_client();
        self.block_on(async {
            for object in documents(yaml) {
                let (api, name) = api_for(&client, &object).await;
                api.patch_status(&name, &apply_params(), &Patch::Apply(&object))
                    .await
                    .unwrap_or_else(|e| panic!("apply status of {}: {e}", describe(&object)));
            }
        });
    }

    /// Deletes every object named in `yaml`; objects that don't exist are fine.
    pub fn delete_yaml(&self, yaml: &str) {
        let client = self.admin_client();
        self.block_on(async {
            for object in documents(yaml) {
                let (api, name) = api_for(&client, &object).await;
                match api.delete(&name, &DeleteParams::default()).await {
                    Ok(_) => {}
                    Err(kube::Error::Api(status)) if status.is_not_found() => {}
                    Err(e) => panic!("delete {}: {e}", describe(&object)),
                }
            }
        });
    }

    /// Deletes one object; `namespace` is ignored for cluster-scoped Kinds.
    pub fn delete(&self, api_version: &str, kind: &str, namespace: Option<&str>, name: &str) {
        let mut metadata = json!({ "name": name });
        if let Some(namespace) = namespace {
            metadata["namespace"] = json!(namespace);
        }
        let object = json!({ "apiVersion": api_version, "kind": kind, "metadata": metadata });
        self.delete_yaml(&object.to_string());
    }

    pub fn create_namespace(&self, name: &str) {
        self.apply_yaml(&format!(
            "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {name}\n"
        ));
    }

    /// Creates a namespace named `<prefix>-<n>` that no other test in this process uses.
    pub fn fresh_namespace(&self, prefix: &str) -> String {
        static NEXT: AtomicUsize = AtomicUsize::new(1);
        let name = format!("{prefix}-{}", NEXT.fetch_add(1, Ordering::Relaxed));
        self.create_namespace(&name);
        name
    }
}

const FIELD_MANAGER: &str = "kubezone-e2e";

pub(super) fn documents(yaml: &str) -> Vec<DynamicObject> {
    serde_norway::Deserializer::from_str(yaml)
        .map(|document| serde_norway::Value::deserialize(document).expect("valid YAML"))
        .filter(|value| !value.is_null())
        .map(|value| {
            let value = serde_json::to_value(value).expect("YAML as JSON");
            serde_json::from_value(value).expect("a Kubernetes object")
        })
        .collect()
}

pub(super) fn object_names(yaml: &str) -> Vec<String> {
    documents(yaml)
        .into_iter()
        .map(|object| object.metadata.name.expect("object has a name"))
        .collect()
}

fn describe(object: &DynamicObject) -> String {
    let kind = object.types.as_ref().map_or("?", |t| t.kind.as_str());
    let namespace = object.metadata.namespace.as_deref().unwrap_or("");
    let name = object.metadata.name.as_deref().unwrap_or("?");
    format!("{kind} {namespace}/{name}")
}

fn apply_params() -> PatchParams {
    PatchParams::apply(FIELD_MANAGER).force()
}

/// The API of an object's Kind, found by discovery, and the object's name.
pub(super) async fn api_for(
    client: &Client,
    object: &DynamicObject,
) -> (Api<DynamicObject>, String) {
    let types = object
        .types
        .as_ref()
        .unwrap_or_else(|| panic!("{} has no apiVersion/kind", describe(object)));
    let gvk = GroupVersionKind::try_from(types).expect("apiVersion is group/version");
    let (resource, capabilities) = discovery::pinned_kind(client, &gvk)
        .await
        .unwrap_or_else(|e| panic!("discover {}: {e}", describe(object)));
    let api = match capabilities.scope {
        Scope::Namespaced => Api::namespaced_with(
            client.clone(),
            object.metadata.namespace.as_deref().unwrap_or("default"),
            &resource,
        ),
        Scope::Cluster => Api::all_with(client.clone(), &resource),
    };
    let name = object.metadata.name.clone().expect("object has a name");
    (api, name)
}
