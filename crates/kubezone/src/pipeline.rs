//! One running configuration: its sources, the writer task and the index they fill. A reload
//! starts a new pipeline beside the old one and swaps it in once it is ready.

use std::{sync::Arc, time::Duration};

use kubezone_dns::{Answerer, FallthroughPolicy, Forwarder, Locality};
use kubezone_guard::Observer;
use kubezone_index::{IndexReader, IndexWriter, SerialFloor};
use kubezone_metrics::Metrics;
use kubezone_sources::{
    ClusterSource, ClusterStatus, FakeSource, ManifestsSource, SourceEvent, SourceId, connect,
    event_recorder,
};
use kubezone_transfer::Transfers;
use kubezone_translate::Translator;
use tokio::sync::{Notify, mpsc};

use crate::{
    clusters::{ClusterView, watchdog},
    config::{Config, GlueServices},
    health::Readiness,
    push::{PushStatus, ZonePush, zone_pushes},
    replacements::ReplacementsView,
    reports::Reports,
    supervise::{TaskFailure, Tasks},
    writer::Writer,
};

/// Source events that may wait for the writer before a source slows down.
const EVENT_BACKLOG: usize = 1024;

pub struct Pipeline {
    pub reader: IndexReader,
    pub sources: Vec<SourceId>,
    pub cluster: Option<ClusterStatus>,
    /// Several clusters: each one's watches and reach.
    pub clusters: Vec<ClusterView>,
    /// The zones transferred to secondaries, when any zone has `transfer`.
    pub transfers: Option<Arc<Transfers>>,
    /// Woken by the writer after each publish, for `transfers`.
    published: Arc<Notify>,
    /// The lists under way in the writer.
    replacements: ReplacementsView,
    /// The zones pushed to a primary, each with what wakes it after a publish.
    pushes: Vec<(ZonePush, Arc<Notify>)>,
    push_status: PushStatus,
    /// Several clusters: each one's client networks, and their names.
    locality: Option<(Arc<Locality>, Vec<String>)>,
    /// The writer, source and transfer tasks, watched; stopped when the pipeline is dropped.
    tasks: Tasks,
    /// Keeps the writer's channel open while the pipeline lives, so the writer never stops
    /// because its sources did: their end is reported as theirs.
    _events: mpsc::Sender<SourceEvent>,
}

impl Pipeline {
    /// Starts the index writer and every configured source. `running` is the index a reload
    /// replaces: each zone's serial starts from the one it served, so it never goes back.
    ///
    /// Fails only when the cluster cannot be reached at all (no usable kubeconfig): an error the
    /// user must fix, rather than a server that answers SERVFAIL forever. (The fake source's
    /// settings cannot fail here: the config checked them.)
    pub async fn start(
        config: &Config,
        metrics: Option<&Metrics>,
        running: Option<&IndexReader>,
    ) -> anyhow::Result<Pipeline> {
        let running = running.map(IndexReader::load_full);
        let (index, reader) = IndexWriter::with_floors(
            config.zones.iter().map(|z| z.index.clone()).collect(),
            |zone| {
                let old = running
                    .as_ref()?
                    .zones()
                    .find(|z| z.origin() == zone.origin.as_name())?;
                Some(SerialFloor {
                    serial: old.serial(),
                    fingerprint: old.serial_fingerprint(),
                })
            },
        );
        let translator = Translator::new(config.zones.iter().map(|z| z.filter.clone()).collect())
            .with_kuberoute(config.kuberoute.clone());
        let (events, receiver) = mpsc::channel(EVENT_BACKLOG);
        let mut sources = Vec::new();
        let mut tasks = Tasks::default();
        if !config.manifests.is_empty() {
            sources.push(SourceId::MANIFESTS);
            let source = ManifestsSource::new(config.manifests.clone());
            let events = events.clone();
            tasks.spawn("the manifests source", async move {
                source.run(events).await.map_err(|e| e.to_string())
            });
        }
        if let Some(fake) = &config.fake {
            sources.push(SourceId::FAKE);
            // The config checked it with the same call.
            let mut source = FakeSource::new(fake.clone())?;
            if let Some(metrics) = metrics {
                source = source.with_counter(metrics.fake_changes());
            }
            let events = events.clone();
            tasks.spawn("the fake source", async move {
                source.run(events).await;
                Ok(())
            });
        }
        let glue: Vec<GlueServices> = config
            .zones
            .iter()
            .map(|z| z.glue_services.clone())
            .collect();
        let mut cluster_status = None;
        let mut reports = None;
        if let Some(cluster) = &config.kubernetes {
            sources.push(SourceId::KUBERNETES);
            let kinds = config.cluster_kinds();
            let client = connect(cluster).await?;
            if cluster.events {
                let counters = metrics.map(Metrics::event_counters);
                let (sink, task) = event_recorder(client.clone(), counters);
                tasks.spawn("the event recorder", async move {
                    task.await;
                    Ok(())
                });
                reports = Some(Reports::new(sink));
            }
            let mut services: Vec<_> = glue.iter().flat_map(GlueServices::iter).cloned().collect();
            services.sort();
            services.dedup();
            let mut source =
                ClusterSource::new(client, cluster.namespaces.clone(), kinds, services);
            if let Some(metrics) = metrics {
                source = source.with_metrics(metrics.clone());
            }
            cluster_status = Some(source.status());
            let events = events.clone();
            tasks.spawn("the cluster source", async move {
                source.run(events).await.map_err(|e| e.to_string())
            });
        }
        let mut clusters = Vec::new();
        // The glue watches live in the cluster kubezone runs in.
        let mut local_glue: Vec<_> = glue.iter().flat_map(GlueServices::iter).cloned().collect();
        local_glue.sort();
        local_glue.dedup();
        let mut cluster_sinks = Vec::new();
        for cluster in &config.clusters {
            let kinds = config.cluster_kinds();
            let client = connect(&cluster.kube)
                .await
                .map_err(|e| anyhow::anyhow!("cluster {}: {e}", cluster.id))?;
            cluster_sinks.push(cluster.kube.events.then(|| {
                let counters = metrics.map(Metrics::event_counters);
                let (sink, task) = event_recorder(client.clone(), counters);
                tasks.spawn(
                    format!("the event recorder of cluster {}", cluster.id),
                    async move {
                        task.await;
                        Ok(())
                    },
                );
                sink
            }));
            let local = config.local_cluster == Some(cluster.id.index());
            let services = if local {
                local_glue.clone()
            } else {
                Vec::new()
            };
            let mut source =
                ClusterSource::new(client, cluster.kube.namespaces.clone(), kinds, services)
                    .in_cluster(cluster.id.clone());
            if let Some(metrics) = metrics {
                source = source.with_metrics(metrics.clone());
            }
            let source_id = source.source_id();
            sources.push(source_id);
            let view = ClusterView::new(cluster.id.clone(), source.status(), cluster.stale_after);
            clusters.push(view.clone());
            let source_events = events.clone();
            let name = format!("the source of cluster {}", cluster.id);
            tasks.spawn(name, async move {
                source.run(source_events).await.map_err(|e| e.to_string())
            });
            let gauges = metrics.map(|m| m.cluster_gauges(cluster.id.name()));
            let watchdog_events = events.clone();
            tasks.spawn(
                format!("the watchdog of cluster {}", cluster.id),
                async move {
                    watchdog(view, source_id, !local, gauges, watchdog_events).await;
                    Ok(())
                },
            );
        }
        if cluster_sinks.iter().any(Option::is_some) {
            reports = Some(Reports::for_clusters(cluster_sinks));
        }
        let mut writer =
            Writer::new(translator, index, &sources, glue).with_clusters(config.clusters.len());
        if let Some(reports) = reports {
            writer = writer.with_reports(reports);
        }
        if let Some(metrics) = metrics {
            writer = writer.with_metrics(metrics.clone(), zone_names(config));
        }
        // Zone transfer follows the index beside the answer path: the writer only wakes it.
        let transfers = transfers(config, metrics);
        let published = Arc::new(Notify::new());
        if transfers.is_some() {
            writer = writer.with_published(published.clone());
        }
        let mut pushes = Vec::new();
        for push in zone_pushes(config, metrics) {
            let wake = Arc::new(Notify::new());
            writer = writer.with_published(wake.clone());
            pushes.push((push, wake));
        }
        let replacements = writer.replacements();
        tasks.spawn("the index writer", async move {
            writer.run(receiver).await;
            Ok(())
        });
        Ok(Pipeline {
            reader,
            sources,
            cluster: cluster_status,
            locality: (!config.clusters.is_empty()).then(|| locality(config)),
            clusters,
            transfers,
            published,
            replacements,
            pushes,
            push_status: PushStatus::default(),
            tasks,
            _events: events,
        })
    }

    /// Starts following the index for zone transfer, and so NOTIFY: only once this pipeline
    /// answers queries, or a secondary told of a new serial would ask the old pipeline for it.
    pub fn serve_transfers(&mut self) {
        // Push follows the same rule: only the pipeline that answers pushes, and only once
        // its sources have synced (the task waits for that).
        for (push, wake) in std::mem::take(&mut self.pushes) {
            let (reader, status) = (self.reader.clone(), self.push_status.clone());
            self.tasks.spawn("push", async move {
                push.run(reader, wake, status).await;
                Ok(())
            });
        }
        if let Some(transfers) = &self.transfers {
            let run = transfers
                .clone()
                .run(self.reader.clone(), self.published.clone());
            self.tasks.spawn("zone transfer", async move {
                run.await;
                Ok(())
            });
        }
    }

    /// What answers queries from this pipeline.
    pub fn answerer(&self, config: &Config, metrics: Option<&Metrics>) -> Answerer {
        let fallthrough = FallthroughPolicy::new(
            &config
                .zones
                .iter()
                .map(|z| z.fallthrough.clone())
                .collect::<Vec<_>>(),
        );
        let forwarder = (!config.upstream.is_empty())
            .then(|| Forwarder::new(config.upstream.clone(), config.forwarding));
        let observer = metrics
            .map(|m| std::sync::Arc::new(m.guard_counters()) as std::sync::Arc<dyn Observer>);
        let mut answerer = Answerer::new(self.reader.clone(), fallthrough, forwarder)
            .with_query_log(config.query_log)
            .with_guard(config.build_guard(observer))
            .with_identity(config.identity.clone())
            .with_transfers(self.transfers.clone())
            .with_locality(self.locality.as_ref().map(|(locality, _)| locality.clone()));
        if let Some(metrics) = metrics {
            answerer = answerer.with_counters(std::sync::Arc::new(
                metrics.query_counters(&zone_names(config)),
            ));
        }
        answerer
    }

    pub fn readiness(&self) -> Readiness {
        Readiness {
            reader: self.reader.clone(),
            sources: self.sources.clone(),
            cluster: self.cluster.clone(),
            clusters: self.clusters.clone(),
            replacements: self.replacements.clone(),
            push: self.push_status.clone(),
            locality: self.locality.clone(),
        }
    }

    /// Waits until every source has synced; fails when a task stops first.
    pub async fn ready(&mut self) -> Result<(), TaskFailure> {
        let reader = &self.reader;
        let synced = async {
            while !reader.load().is_ready() {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        };
        tokio::select! {
            () = synced => Ok(()),
            failure = self.tasks.failed() => Err(failure),
        }
    }

    /// Waits until one of the pipeline's tasks stops, which none does while it works.
    pub async fn failed(&mut self) -> TaskFailure {
        self.tasks.failed().await
    }
}

/// The transfer settings of the zones that have them, counting into `metrics`.
fn transfers(config: &Config, metrics: Option<&Metrics>) -> Option<Arc<Transfers>> {
    let zones: Vec<_> = config
        .zones
        .iter()
        .filter_map(|z| z.transfer.as_ref().map(|t| t.settings.clone()))
        .collect();
    if zones.is_empty() {
        return None;
    }
    let mut transfers = Transfers::new(zones, config.tsig_keys.clone());
    if let Some(metrics) = metrics {
        transfers = transfers.with_observer(Arc::new(metrics.transfer_counters()));
    }
    Some(Arc::new(transfers))
}

fn zone_names(config: &Config) -> Vec<String> {
    config
        .zones
        .iter()
        .map(|z| z.index.origin.to_string())
        .collect()
}

/// Each cluster's client networks and the local cluster, for the answer path and `explain`,
/// with the clusters' names by place.
pub fn locality(config: &Config) -> (Arc<Locality>, Vec<String>) {
    let networks = config
        .clusters
        .iter()
        .flat_map(|c| c.clients.iter().map(|n| (*n, c.id.index())))
        .collect();
    let names = config
        .clusters
        .iter()
        .map(|c| c.id.name().to_string())
        .collect();
    (
        Arc::new(Locality::new(networks, config.local_cluster)),
        names,
    )
}
