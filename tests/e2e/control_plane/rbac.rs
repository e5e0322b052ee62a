//! kubezone's ServiceAccount bound to the chart's ClusterRole (or to it with one resource
//! taken out), and what the authorizer lets it do.

use super::*;

impl ControlPlane {
    /// Binds kubezone's ServiceAccount to the chart's ClusterRole and waits until the
    /// authorizer lets it read every Kind in it.
    pub fn grant_kubezone(&self) {
        self.set_kubezone_cluster_role(cluster_role_without(None));
    }

    /// Like [`ControlPlane::grant_kubezone`], but with `resource` (e.g. `"services"`, or
    /// `"httproutes"` in group `"gateway.networking.k8s.io"`) taken out of the ClusterRole;
    /// waits until kubezone may no longer list it.
    pub fn grant_kubezone_except(&self, group: &str, resource: &str) {
        self.set_kubezone_cluster_role(cluster_role_without(Some((group, resource))));
    }

    fn set_kubezone_cluster_role(&self, role: serde_json::Value) {
        self.apply_yaml(&role.to_string());
        self.apply_yaml(&format!(
            "apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: kubezone
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: kubezone
subjects:
  - kind: ServiceAccount
    name: {KUBEZONE_SERVICE_ACCOUNT}
    namespace: {KUBEZONE_NAMESPACE}
"
        ));
        let granted = rules(&role);
        let admin = self.admin_client();
        for (group, resource, verb) in rules(&cluster_role_without(None)) {
            let expected = granted.contains(&(group.clone(), resource.clone(), verb.clone()));
            {
                wait_until(
                    &format!("kubezone may {verb} {resource}.{group}: {expected}"),
                    || self.block_on(kubezone_can(&admin, &verb, &group, &resource)) == expected,
                );
            }
        }
    }

    /// Whether kubezone's ServiceAccount may `verb` `resource` in `group` cluster-wide, as the
    /// apiserver's authorizer decides right now.
    pub fn kubezone_can(&self, verb: &str, group: &str, resource: &str) -> bool {
        self.block_on(kubezone_can(&self.admin_client(), verb, group, resource))
    }
}

/// The ClusterRole the Helm chart ships; kubezone runs under exactly this in the tests.
const CLUSTER_ROLE: &str = include_str!("../../../charts/kubezone/files/clusterrole.yaml");

/// Asks the authorizer through a SubjectAccessReview.
async fn kubezone_can(admin: &Client, verb: &str, group: &str, resource: &str) -> bool {
    let review: SubjectAccessReview = serde_json::from_value(json!({
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SubjectAccessReview",
        "spec": {
            "user": KUBEZONE_USER,
            "groups": KUBEZONE_GROUPS.split(',').collect::<Vec<_>>(),
            "resourceAttributes": { "verb": verb, "group": group, "resource": resource },
        },
    }))
    .expect("SubjectAccessReview");
    Api::<SubjectAccessReview>::all(admin.clone())
        .create(&PostParams::default(), &review)
        .await
        .expect("create SubjectAccessReview")
        .status
        .is_some_and(|status| status.allowed)
}

/// The chart's ClusterRole, optionally without one (group, resource).
fn cluster_role_without(except: Option<(&str, &str)>) -> serde_json::Value {
    let yaml: serde_norway::Value = serde_norway::from_str(CLUSTER_ROLE).expect("clusterrole.yaml");
    let mut role = serde_json::to_value(yaml).expect("clusterrole.yaml as JSON");
    if let Some((group, resource)) = except
        && let Some(rules) = role["rules"].as_array_mut()
    {
        for rule in rules.iter_mut() {
            let in_group = rule["apiGroups"]
                .as_array()
                .is_some_and(|groups| groups.iter().any(|g| g == group));
            if in_group && let Some(resources) = rule["resources"].as_array_mut() {
                resources.retain(|r| r != resource);
            }
        }
        rules.retain(|rule| rule["resources"].as_array().is_some_and(|r| !r.is_empty()));
    }
    role
}

/// The (group, resource, verb) triples a ClusterRole grants.
fn rules(role: &serde_json::Value) -> BTreeSet<(String, String, String)> {
    let strings = |value: &serde_json::Value| -> Vec<String> {
        value
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .filter_map(|s| s.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut pairs = BTreeSet::new();
    for rule in role["rules"].as_array().into_iter().flatten() {
        for group in strings(&rule["apiGroups"]) {
            for resource in strings(&rule["resources"]) {
                for verb in strings(&rule["verbs"]) {
                    pairs.insert((group.clone(), resource.clone(), verb));
                }
            }
        }
    }
    pairs
}
