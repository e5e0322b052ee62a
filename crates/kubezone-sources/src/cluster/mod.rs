//! The cluster source: one watch per Kind the zones serve (per namespace, when the config lists
//! namespaces), plus one on the server's own Service for glue.
//!
//! Nothing of an object is kept here but its identity: objects go straight to translation, so
//! memory grows with the records, not with the size of the objects.

mod client;
mod events;
mod glue;
mod probe;
mod resource;
mod slim;
mod status;
mod watch;

use std::collections::HashMap;

use k8s_openapi::api::core::v1::Service;
use kube::{
    Api, Client,
    api::{ApiResource, DynamicObject},
};
use kubezone_metrics::Metrics;
use kubezone_model::{ClusterId, Kind};
use tokio::{sync::mpsc, task::JoinSet};
use tracing::info;

pub use client::{ClusterConfig, connect};
pub use events::{EventReports, ObjectReport, event_recorder};
pub use glue::service_addresses;
pub use probe::{ProbeProblem, ProbeReport, probe};
pub use resource::{api_resource, resource_name, watched_kinds};
pub use slim::{Read as WatchedObject, read as read_watched_object};
pub use status::{ClusterStatus, WatchState, WatchStatus};

use crate::{Scope, ServiceName, SourceError, SourceEvent, SourceId};
use glue::GlueWatch;
use watch::KindWatch;

const SOURCE: SourceId = SourceId::KUBERNETES;

/// Watches a cluster for the Kinds the zones serve.
pub struct ClusterSource {
    client: Client,
    /// Namespaces to watch; empty for all.
    namespaces: Vec<String>,
    kinds: Vec<Kind>,
    /// Every watch, registered in `status` when the source is made, so that `/readyz` names
    /// them all from the start rather than as the running source gets to them.
    planned: Vec<PlannedWatch>,
    glue: Vec<(ServiceName, usize)>,
    status: ClusterStatus,
    metrics: Option<Metrics>,
    /// The cluster, when kubezone reads several; its objects' references carry it.
    cluster: Option<ClusterId>,
    source: SourceId,
}

/// A Kind watch in one scope, with its place in the status.
struct PlannedWatch {
    kind: Kind,
    resource: ApiResource,
    namespace: Option<String>,
    id: usize,
}

impl ClusterSource {
    pub const ID: SourceId = SOURCE;

    /// A source reading through `client` (see [`connect`]). `kinds` are what the zones serve
    /// (see [`watched_kinds`]); `glue` the Services whose addresses are nameserver glue.
    pub fn new(
        client: Client,
        namespaces: Vec<String>,
        kinds: Vec<Kind>,
        glue: Vec<ServiceName>,
    ) -> Self {
        let mut glue = glue;
        glue.sort();
        glue.dedup();
        let kinds = watched_kinds(kinds);
        let status = ClusterStatus::default();
        let mut planned = Vec::new();
        for &kind in &kinds {
            let Some(resource) = api_resource(kind) else {
                continue;
            };
            for namespace in scopes(kind, &namespaces) {
                let id = status.register(
                    Scope {
                        kind,
                        namespace: namespace.clone(),
                    }
                    .to_string(),
                );
                planned.push(PlannedWatch {
                    kind,
                    resource: resource.clone(),
                    namespace,
                    id,
                });
            }
        }
        let glue = glue
            .into_iter()
            .map(|service| {
                let id = status.register(GlueWatch::label(&service));
                (service, id)
            })
            .collect();
        ClusterSource {
            client,
            namespaces,
            kinds,
            planned,
            glue,
            status,
            metrics: None,
            cluster: None,
            source: SOURCE,
        }
    }

    /// Reads cluster `cluster` of several: its objects carry it, and its events come from a
    /// source of its own.
    pub fn in_cluster(mut self, cluster: ClusterId) -> Self {
        self.source = SourceId::cluster(cluster.name());
        self.cluster = Some(cluster);
        self
    }

    /// Which source its events come from.
    pub fn source_id(&self) -> SourceId {
        self.source
    }

    /// Counts watch events and errors, last syncs and missing CRDs per Kind.
    pub fn with_metrics(mut self, metrics: Metrics) -> Self {
        self.metrics = Some(metrics);
        self
    }

    /// Each watch's state, updated as the source runs.
    pub fn status(&self) -> ClusterStatus {
        self.status.clone()
    }

    /// Starts every watch. Sends `Synced` once every watch has listed or found its resource
    /// unavailable, and runs until `events` closes.
    ///
    /// Fails, naming the watch, when one ends while `events` is open: watches retry every error
    /// and never end on their own, so that is a panic or a bug, and the watch's Kind would stop
    /// following the cluster without a word.
    pub async fn run(self, events: mpsc::Sender<SourceEvent>) -> Result<(), SourceError> {
        let client = self.client.clone();
        info!(
            kinds = ?self.kinds.iter().map(|k| k.as_str()).collect::<Vec<_>>(),
            namespaces = ?self.namespaces,
            "watching the cluster"
        );
        let mut settled = self.status.subscribe();
        // The watches live as long as this task: stopping it (a reload) stops them.
        let mut watches = JoinSet::new();
        let mut names: HashMap<tokio::task::Id, String> = HashMap::new();
        for planned in &self.planned {
            let watch = self.kind_watch(&client, planned);
            let name = watch.scope().to_string();
            let task = watches.spawn(watch.run(events.clone()));
            names.insert(task.id(), name);
        }
        for (service, id) in &self.glue {
            let name = GlueWatch::label(service);
            let watch = GlueWatch {
                service: service.clone(),
                api: Api::<Service>::namespaced(client.clone(), &service.namespace),
                status: self.status.clone(),
                id: *id,
                source: self.source,
            };
            let task = watches.spawn(watch.run(events.clone()));
            names.insert(task.id(), name);
        }
        let mut synced = false;
        loop {
            if !synced && self.status.is_settled() {
                info!("every available Kind has listed");
                if events
                    .send(SourceEvent::Synced {
                        source: self.source,
                    })
                    .await
                    .is_err()
                {
                    return Ok(());
                }
                synced = true;
            }
            tokio::select! {
                changed = settled.changed(), if !synced => if changed.is_err() { return Ok(()) },
                () = events.closed() => return Ok(()),
                Some(ended) = watches.join_next_with_id() => {
                    if events.is_closed() {
                        return Ok(());
                    }
                    let (id, reason) = match ended {
                        Ok((id, ())) => (id, "it ended".to_string()),
                        Err(e) => (e.id(), e.to_string()),
                    };
                    let watch = names.get(&id).cloned().unwrap_or_default();
                    return Err(SourceError::WatchStopped { watch, reason });
                }
            }
        }
    }

    fn kind_watch(&self, client: &Client, planned: &PlannedWatch) -> KindWatch {
        let resource = planned.resource.clone();
        let api = match &planned.namespace {
            Some(ns) => Api::<DynamicObject>::namespaced_with(client.clone(), ns, &resource),
            None => Api::<DynamicObject>::all_with(client.clone(), &resource),
        };
        KindWatch {
            counters: self
                .metrics
                .as_ref()
                .map(|m| m.watch_counters(planned.kind)),
            kind: planned.kind,
            resource,
            api,
            namespace: planned.namespace.clone(),
            status: self.status.clone(),
            id: planned.id,
            cluster: self.cluster.clone(),
            source: self.source,
        }
    }
}

/// The namespaces to watch `kind` in, of the configured `namespaces` (empty for all): `None` for
/// all of them.
fn scopes(kind: Kind, namespaces: &[String]) -> Vec<Option<String>> {
    if !kind.is_namespaced() || namespaces.is_empty() {
        vec![None]
    } else {
        namespaces.iter().cloned().map(Some).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_watch_is_in_the_status_before_the_source_runs() {
        // `/readyz` reads the status while the source starts: a watch it does not list yet
        // would look like no watch at all.
        let config = kube::Config::new("https://127.0.0.1:1".parse().expect("url"));
        let client = Client::try_from(config).expect("client");
        let glue = vec![ServiceName {
            namespace: "kube-system".into(),
            name: "dns1".into(),
        }];
        let source = ClusterSource::new(
            client,
            vec!["shop".into(), "web".into()],
            vec![Kind::Service, Kind::Node],
            glue,
        );
        let watches: Vec<String> = source
            .status()
            .watches()
            .into_iter()
            .map(|w| format!("{}: {}", w.watch, w.state))
            .collect();
        assert_eq!(
            watches,
            [
                "Service in namespace shop: listing",
                "Service in namespace web: listing",
                "Node: listing",
                "EndpointSlice in namespace shop: listing",
                "EndpointSlice in namespace web: listing",
                "Service kube-system/dns1 (nameserver glue): listing",
            ]
        );
        assert!(!source.status().is_settled());
    }
}
