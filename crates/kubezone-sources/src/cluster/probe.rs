//! `kubezone check --probe`: before a rollout, whether the API server serves every resource the
//! cluster source would watch, at the version it reads (discovery), and whether RBAC lets
//! kubezone get, list and watch it where it would watch it (SelfSubjectAccessReview). Nothing
//! is listed or watched.

use std::collections::HashMap;

use futures::{StreamExt, stream};
use k8s_openapi::{
    api::authorization::v1::{
        ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
    },
    apimachinery::pkg::apis::meta::v1::APIResource,
};
use kube::{
    Api, Client,
    api::{ApiResource, PostParams},
};
use kubezone_model::Kind;

use super::{
    client::{ClusterConfig, connect_with_url},
    resource::{api_resource, resource_name, watched_kinds},
    scopes,
};
use crate::{ClusterError, ServiceName};

/// What a watch needs to be allowed.
const VERBS: &[&str] = &["get", "list", "watch"];

/// What writing Events takes (`kubernetes.events`): a new Event, or a repeat counted into one.
const EVENT_VERBS: &[&str] = &["create", "patch"];
/// Access reviews in flight at once.
const REVIEWS_AT_ONCE: usize = 8;

/// What the probe found: one line per resource and scope that is usable, and every problem.
#[derive(Debug, Default)]
pub struct ProbeReport {
    pub usable: Vec<String>,
    pub problems: Vec<ProbeProblem>,
}

/// One thing that would keep kubezone from reading what its zones need.
#[derive(Debug, thiserror::Error)]
pub enum ProbeProblem {
    /// The first request failed: nothing else was asked.
    #[error("cannot use the API server at {url}: {message}")]
    Unreachable { url: String, message: String },
    /// Discovery does not list the resource at the version kubezone reads.
    #[error("{what}: {message}")]
    NotServed { what: String, message: String },
    /// RBAC denies some of get, list and watch.
    #[error(
        "{what}: forbidden to {} {resource} {scope}; kubezone's ClusterRole needs the rule {rule}",
        verbs.join(", ")
    )]
    Forbidden {
        what: String,
        verbs: Vec<&'static str>,
        resource: String,
        scope: String,
        rule: String,
    },
    /// The API server did not answer a question; the answer is unknown.
    #[error("{what}: {message}")]
    Failed { what: String, message: String },
}

/// One resource in one scope, read as a watch of the cluster source reads it.
struct Access {
    /// The Kind, or the glue Service, as messages name it.
    what: String,
    resource: ApiResource,
    /// `None` for every namespace (or a cluster-scoped Kind).
    namespace: Option<String>,
    /// The one object a glue watch reads.
    name: Option<String>,
    /// What kubezone does with it: read it, or (Events) write it.
    verbs: &'static [&'static str],
}

impl Access {
    fn scope(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("in namespace {ns}"),
            None => "in all namespaces".into(),
        }
    }
}

/// Connects to `cluster` as the cluster source would and probes what its watches need for
/// zones serving `kinds`, with the nameserver glue read from `glue`. Fails only when no client
/// can be made (the kubeconfig); an API server that does not answer is a problem of the report.
pub async fn probe(
    cluster: &ClusterConfig,
    kinds: impl IntoIterator<Item = Kind>,
    glue: &[ServiceName],
) -> Result<ProbeReport, ClusterError> {
    let (client, url) = connect_with_url(cluster).await?;
    let client = &client;
    let namespaces = &cluster.namespaces;
    let mut report = ProbeReport::default();
    match client.apiserver_version().await {
        Ok(_) => {}
        Err(kube::Error::Api(status)) if status.code == 401 => {
            report.problems.push(ProbeProblem::Unreachable {
                url,
                message: format!(
                    "it does not accept kubezone's credentials: {}",
                    status.message
                ),
            });
            return Ok(report);
        }
        Err(e) => {
            report.problems.push(ProbeProblem::Unreachable {
                url,
                message: with_causes(&e),
            });
            return Ok(report);
        }
    }
    let mut accesses = accesses(namespaces, kinds, glue);
    if cluster.events {
        accesses.push(Access {
            what: "Events (kubernetes.events)".into(),
            resource: ApiResource::erase::<k8s_openapi::api::events::v1::Event>(&()),
            namespace: None,
            name: None,
            verbs: EVENT_VERBS,
        });
    }
    let mut discovery = Discovery::default();
    let mut served = Vec::with_capacity(accesses.len());
    for (i, access) in accesses.iter().enumerate() {
        let unserved = discovery.serves(client, &access.resource).await.err();
        served.push(unserved.is_none());
        // A Kind watched in several namespaces is missing once.
        let said = accesses
            .get(..i)
            .is_some_and(|before| before.iter().any(|a| a.what == access.what));
        let what = access.what.clone();
        report
            .problems
            .extend(unserved.filter(|_| !said).map(|unserved| match unserved {
                Unserved::Message(message) => ProbeProblem::NotServed { what, message },
                Unserved::Failed(message) => ProbeProblem::Failed { what, message },
            }));
    }
    // RBAC is asked even for what is not served: the CRD may come later, the rule must be there.
    let reviews = accesses.iter().enumerate().flat_map(|(i, access)| {
        access
            .verbs
            .iter()
            .map(move |&verb| async move { (i, verb, allowed(client, access, verb).await) })
    });
    let answers: Vec<_> = stream::iter(reviews)
        .buffered(REVIEWS_AT_ONCE)
        .collect()
        .await;
    for ((i, access), served) in accesses.iter().enumerate().zip(served) {
        let mut denied = Vec::new();
        let mut failed = None;
        for (_, verb, answer) in answers.iter().filter(|(asked, _, _)| *asked == i) {
            match answer {
                Ok(true) => {}
                Ok(false) => denied.push(*verb),
                Err(message) => failed = Some(message.clone()),
            }
        }
        let resource = resource_name(&access.resource);
        if let Some(message) = failed {
            report.problems.push(ProbeProblem::Failed {
                what: access.what.clone(),
                message: format!(
                    "cannot ask whether kubezone may {} {resource}: {message}",
                    access.verbs.join(", ")
                ),
            });
        } else if !denied.is_empty() {
            report.problems.push(ProbeProblem::Forbidden {
                what: access.what.clone(),
                verbs: denied,
                resource,
                scope: access.scope(),
                rule: rule(&access.resource, access.verbs),
            });
        } else if served {
            report.usable.push(format!(
                "{}: {} {} is served, and kubezone may {} it {}",
                access.what,
                access.resource.api_version,
                access.resource.plural,
                access.verbs.join(", "),
                access.scope(),
            ));
        }
    }
    Ok(report)
}

/// An error and its causes: kube's transport errors say what failed only in their sources.
fn with_causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let said = cause.to_string();
        if !text.contains(&said) {
            text.push_str(": ");
            text.push_str(&said);
        }
        source = cause.source();
    }
    text
}

/// Every watch the cluster source would start, in its order: each Kind per scope, then the glue
/// Services that those watches do not already cover.
fn accesses(
    namespaces: &[String],
    kinds: impl IntoIterator<Item = Kind>,
    glue: &[ServiceName],
) -> Vec<Access> {
    let mut accesses = Vec::new();
    for kind in watched_kinds(kinds) {
        let Some(resource) = api_resource(kind) else {
            continue;
        };
        for namespace in scopes(kind, namespaces) {
            accesses.push(Access {
                what: kind.to_string(),
                resource: resource.clone(),
                namespace,
                name: None,
                verbs: VERBS,
            });
        }
    }
    let Some(services) = api_resource(Kind::Service) else {
        return accesses;
    };
    for service in glue {
        let covered = accesses.iter().any(|a| {
            a.resource == services
                && a.namespace
                    .as_ref()
                    .is_none_or(|ns| *ns == service.namespace)
        });
        if !covered {
            accesses.push(Access {
                what: format!("Service {service} (nameserver glue)"),
                resource: services.clone(),
                namespace: Some(service.namespace.clone()),
                name: Some(service.name.clone()),
                verbs: VERBS,
            });
        }
    }
    accesses
}

/// The rule of kubezone's ClusterRole that grants `verbs` on `resource`, as YAML to paste
/// under `rules:`.
fn rule(resource: &ApiResource, verbs: &[&str]) -> String {
    format!(
        "{{apiGroups: [\"{}\"], resources: [\"{}\"], verbs: [{}]}}",
        resource.group,
        resource.plural,
        verbs
            .iter()
            .map(|v| format!("\"{v}\""))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// Whether RBAC lets kubezone `verb` what `access` reads, as the authorizer decides now.
async fn allowed(client: &Client, access: &Access, verb: &str) -> Result<bool, String> {
    let review = SelfSubjectAccessReview {
        spec: SelfSubjectAccessReviewSpec {
            resource_attributes: Some(ResourceAttributes {
                group: Some(access.resource.group.clone()),
                version: Some(access.resource.version.clone()),
                resource: Some(access.resource.plural.clone()),
                namespace: access.namespace.clone(),
                name: access.name.clone(),
                verb: Some(verb.to_owned()),
                ..ResourceAttributes::default()
            }),
            ..SelfSubjectAccessReviewSpec::default()
        },
        ..SelfSubjectAccessReview::default()
    };
    let answer = Api::<SelfSubjectAccessReview>::all(client.clone())
        .create(&PostParams::default(), &review)
        .await
        .map_err(|e| e.to_string())?;
    Ok(answer.status.is_some_and(|status| status.allowed))
}

enum Unserved {
    /// Why the resource is not served, for the user.
    Message(String),
    /// Discovery itself failed.
    Failed(String),
}

/// Discovery answers, each asked once.
#[derive(Default)]
struct Discovery {
    /// The versions each API group is served at, `""` for the core group.
    groups: Option<HashMap<String, Vec<String>>>,
    /// The resources of each group version.
    resources: HashMap<String, Vec<APIResource>>,
}

impl Discovery {
    async fn serves(&mut self, client: &Client, resource: &ApiResource) -> Result<(), Unserved> {
        let not_installed = || {
            if resource.group.is_empty() {
                format!(
                    "the API server does not serve {} at {}",
                    resource.plural, resource.api_version
                )
            } else {
                format!(
                    "the CRD {} is not installed, or does not serve {}",
                    resource_name(resource),
                    resource.api_version
                )
            }
        };
        let versions = self.versions(client, &resource.group).await?;
        if !versions.contains(&resource.version) {
            return Err(Unserved::Message(if versions.is_empty() {
                not_installed()
            } else {
                format!(
                    "{}: the API server serves {} at {} only, and kubezone reads {}",
                    not_installed(),
                    resource.group,
                    versions.join(", "),
                    resource.version
                )
            }));
        }
        let resources = self.resources(client, resource).await?;
        let Some(found) = resources.iter().find(|r| r.name == resource.plural) else {
            return Err(Unserved::Message(not_installed()));
        };
        let missing: Vec<&str> = ["list", "watch"]
            .into_iter()
            .filter(|verb| !found.verbs.iter().any(|v| v == verb))
            .collect();
        if missing.is_empty() {
            Ok(())
        } else {
            Err(Unserved::Message(format!(
                "the API server serves {} without {}",
                resource_name(resource),
                missing.join(" or ")
            )))
        }
    }

    /// The versions the API server serves `group` at: none when it does not serve the group.
    async fn versions(&mut self, client: &Client, group: &str) -> Result<Vec<String>, Unserved> {
        if self.groups.is_none() {
            let failed = |e: kube::Error| {
                Unserved::Failed(format!("cannot list the API server's groups: {e}"))
            };
            let core = client.list_core_api_versions().await.map_err(failed)?;
            let mut groups: HashMap<String, Vec<String>> = client
                .list_api_groups()
                .await
                .map_err(failed)?
                .groups
                .into_iter()
                .map(|g| (g.name, g.versions.into_iter().map(|v| v.version).collect()))
                .collect();
            groups.insert(String::new(), core.versions);
            self.groups = Some(groups);
        }
        Ok(self
            .groups
            .as_ref()
            .and_then(|groups| groups.get(group))
            .cloned()
            .unwrap_or_default())
    }

    /// The resources of `resource`'s group version, which the API server serves.
    async fn resources(
        &mut self,
        client: &Client,
        resource: &ApiResource,
    ) -> Result<&[APIResource], Unserved> {
        let key = &resource.api_version;
        if !self.resources.contains_key(key) {
            let listed = if resource.group.is_empty() {
                client.list_core_api_resources(&resource.version).await
            } else {
                client.list_api_group_resources(key).await
            };
            let listed = listed.map_err(|e| {
                Unserved::Failed(format!("cannot list the resources of {key}: {e}"))
            })?;
            self.resources.insert(key.clone(), listed.resources);
        }
        Ok(self.resources.get(key).map_or(&[], Vec::as_slice))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(namespace: &str, name: &str) -> ServiceName {
        ServiceName {
            namespace: namespace.into(),
            name: name.into(),
        }
    }

    fn described(accesses: &[Access]) -> Vec<String> {
        accesses
            .iter()
            .map(|a| {
                format!(
                    "{} {} {}{}",
                    a.what,
                    resource_name(&a.resource),
                    a.scope(),
                    a.name
                        .as_deref()
                        .map(|n| format!(" {n}"))
                        .unwrap_or_default()
                )
            })
            .collect()
    }

    #[test]
    fn the_watches_of_the_cluster_source_are_probed() {
        // Routes bring their Gateways, ListenerSets and Namespaces (cluster-wide), Services
        // their EndpointSlices and the Nodes; Nodes are cluster-scoped;
        // glue outside the watched namespaces is read on its own, by name.
        let namespaces = ["shop".to_string()];
        let glue = [service("kube-system", "dns1"), service("shop", "dns2")];
        assert_eq!(
            described(&accesses(
                &namespaces,
                [Kind::HttpRoute, Kind::Service, Kind::Node],
                &glue
            )),
            [
                "HTTPRoute httproutes.gateway.networking.k8s.io in namespace shop",
                "Service services in namespace shop",
                "Node nodes in all namespaces",
                "Gateway gateways.gateway.networking.k8s.io in namespace shop",
                "ListenerSet listenersets.gateway.networking.k8s.io in namespace shop",
                "Namespace namespaces in all namespaces",
                "EndpointSlice endpointslices.discovery.k8s.io in namespace shop",
                "Service kube-system/dns1 (nameserver glue) services in namespace kube-system dns1",
            ]
        );
        // Services watched everywhere cover the glue; they bring their EndpointSlices and the
        // Nodes.
        assert_eq!(
            described(&accesses(&[], [Kind::Service], &glue)),
            [
                "Service services in all namespaces",
                "Node nodes in all namespaces",
                "EndpointSlice endpointslices.discovery.k8s.io in all namespaces"
            ]
        );
    }

    #[test]
    fn the_rule_is_one_to_paste_into_the_cluster_role() {
        let rule = |kind| rule(&api_resource(kind).expect("served"), VERBS);
        assert_eq!(
            rule(Kind::HttpRoute),
            r#"{apiGroups: ["gateway.networking.k8s.io"], resources: ["httproutes"], verbs: ["get", "list", "watch"]}"#
        );
        assert_eq!(
            rule(Kind::Service),
            r#"{apiGroups: [""], resources: ["services"], verbs: ["get", "list", "watch"]}"#
        );
        let events = ApiResource::erase::<k8s_openapi::api::events::v1::Event>(&());
        assert_eq!(
            super::rule(&events, EVENT_VERBS),
            r#"{apiGroups: ["events.k8s.io"], resources: ["events"], verbs: ["create", "patch"]}"#
        );
    }
}
