//! The index writer task: the one owner of the translator and the zone index.
//!
//! It drains every pending source event, applies them, and publishes one snapshot for the
//! batch, so a burst of changes costs one publish and readers never see half of a file. While a
//! source replaces part of its data (a relist), nothing is published until it is done.

use std::{
    collections::BTreeSet,
    sync::Arc,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use kubezone_index::{Conflict, IndexWriter, NameConflict};
use kubezone_metrics::Metrics;
use kubezone_model::{Kind, ObjectRef};
use kubezone_sources::{Change, ServiceName, SourceEvent, SourceId, service_addresses};
use kubezone_translate::{KubeObject, NamespaceFilter, Translated, Translator};
use tokio::sync::{Notify, mpsc};
use tracing::{debug, info, warn};

use crate::{config::GlueServices, reports::Reports};

pub struct Writer {
    translator: Translator,
    index: IndexWriter,
    /// Sources that have not delivered their first full state yet.
    unsynced: BTreeSet<SourceId>,
    /// Replacements under way; publishing waits for all of them.
    replacing: usize,
    /// Per zone, the Services whose addresses are its nameserver hosts' glue.
    glue: Vec<GlueServices>,
    /// Where skipped objects, conflicts and records per zone are counted, with the zone names.
    metrics: Option<(Metrics, Vec<String>)>,
    /// The unix second at which to publish again: a zone's serial waits for the clock.
    retry: Option<u32>,
    /// Woken after each publish (zone transfer takes its versions from there).
    published: Option<Arc<Notify>>,
    /// Kubernetes Events on objects not served in full.
    reports: Option<Reports>,
    /// The zones that do not admit every namespace, and their rule.
    tenancy: Vec<(usize, NamespaceFilter)>,
}

impl Writer {
    pub fn new(
        translator: Translator,
        mut index: IndexWriter,
        sources: &[SourceId],
        glue: Vec<GlueServices>,
    ) -> Writer {
        for (zone, conflict) in index.static_conflicts() {
            let origin = index
                .zone_configs()
                .nth(zone)
                .map(|z| z.origin.to_string())
                .unwrap_or_default();
            warn!(zone = %origin, "static record not served: {conflict}");
        }
        let tenancy = translator
            .zones()
            .iter()
            .enumerate()
            .filter(|(_, zone)| !zone.namespaces.is_open())
            .map(|(i, zone)| (i, zone.namespaces.clone()))
            .collect();
        let unsynced: BTreeSet<SourceId> = sources.iter().copied().collect();
        let mut retry = None;
        if unsynced.is_empty() {
            index.set_ready(true);
            retry = index.publish(now_unix());
        }
        Writer {
            translator,
            index,
            unsynced,
            replacing: 0,
            glue,
            metrics: None,
            retry,
            published: None,
            reports: None,
            tenancy,
        }
    }

    /// Writes an Event on each object that is skipped, invalid or not served in full.
    pub fn with_reports(mut self, mut reports: Reports) -> Writer {
        if self.unsynced.is_empty() {
            reports.go_live();
        }
        self.reports = Some(reports);
        self
    }

    /// Wakes `published` after every publish.
    pub fn with_published(mut self, published: Arc<Notify>) -> Writer {
        self.published = Some(published);
        self
    }

    pub fn with_metrics(mut self, metrics: Metrics, zones: Vec<String>) -> Writer {
        self.metrics = Some((metrics, zones));
        self
    }

    /// Applies events until every sender is gone.
    pub async fn run(mut self, mut events: mpsc::Receiver<SourceEvent>) {
        loop {
            let event = match self.retry {
                None => events.recv().await,
                Some(at) => {
                    tokio::select! {
                        event = events.recv() => event,
                        () = tokio::time::sleep(until_unix(at)) => {
                            self.publish_unless_replacing();
                            continue;
                        }
                    }
                }
            };
            let Some(event) = event else {
                break;
            };
            self.handle(event);
            while let Ok(event) = events.try_recv() {
                self.handle(event);
            }
            self.publish_unless_replacing();
        }
        debug!("every source has stopped; the index stays as it is");
    }

    /// Publishes what was applied, unless a replacement is under way.
    pub fn publish_unless_replacing(&mut self) {
        if self.replacing == 0 {
            self.retry = self.index.publish(now_unix());
            if let Some(published) = &self.published {
                published.notify_one();
            }
            if let Some((metrics, zones)) = &self.metrics {
                let serials: Vec<(String, u32)> =
                    zones.iter().cloned().zip(self.index.serials()).collect();
                let now = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map_or(0.0, |d| d.as_secs_f64());
                metrics.published(&serials, now);
                for (i, zone) in zones.iter().enumerate() {
                    for (kind, names) in self.index.names_by_kind(i) {
                        metrics.set_records(zone, kind, i64::try_from(names).unwrap_or(i64::MAX));
                    }
                }
            }
        }
    }

    /// Applies one event without publishing.
    pub fn handle(&mut self, event: SourceEvent) {
        match event {
            SourceEvent::Changes { source, changes } => {
                debug!(%source, changes = changes.len(), "applying changes");
                for change in changes {
                    // The creation time of the object applied; other objects whose records
                    // follow from it (a Gateway's routes) keep the one the index has.
                    let mut applied = None;
                    let translated = match &change {
                        Change::Apply {
                            object,
                            object_ref,
                            written,
                        } => {
                            if let Some(reports) = &mut self.reports {
                                reports.applied(object_ref, *written);
                            }
                            applied = Some((object_ref.clone(), created(object)));
                            if let KubeObject::Service(service) = object
                                && let Some(glue) = self.glue_of(object_ref)
                            {
                                self.set_glue(&glue, service_addresses(service), *written);
                            }
                            self.translator
                                .apply_as(object, object_ref.clone(), *written)
                        }
                        Change::Delete(object) => {
                            if let Some(reports) = &mut self.reports {
                                reports.deleted(object);
                            }
                            if let Some(glue) = self.glue_of(object) {
                                self.set_glue(&glue, Vec::new(), 0);
                            }
                            self.translator.delete(object)
                        }
                    };
                    self.apply(translated, applied);
                    // A Namespace's labels may admit or turn away its objects in a zone.
                    let namespace = match &change {
                        Change::Apply { object_ref, .. } => object_ref,
                        Change::Delete(object) => object,
                    };
                    if namespace.kind() == Kind::Namespace {
                        self.admit_namespace(namespace.name());
                    }
                }
            }
            SourceEvent::Synced { source } => {
                if self.unsynced.remove(&source) {
                    info!(%source, "source synced");
                }
                if self.unsynced.is_empty() {
                    self.index.set_ready(true);
                    // Conflicts met while the first lists came in were often only a matter of
                    // order; those still there now are reported.
                    if let Some(reports) = &mut self.reports
                        && !reports.is_live()
                    {
                        reports.go_live();
                        let conflicts = self.index.conflicts();
                        self.report_conflicts(conflicts, 0);
                    }
                }
            }
            SourceEvent::ReplaceBegin { .. } => self.replacing += 1,
            SourceEvent::ReplaceEnd { .. } => self.replacing = self.replacing.saturating_sub(1),
            SourceEvent::Glue {
                service,
                addrs,
                written,
                ..
            } => self.set_glue(&service, addrs, written),
        }
    }

    fn apply(&mut self, translated: Translated, applied: Option<(ObjectRef, u32)>) {
        for problem in &translated.problems {
            warn!(object = %problem.object, "skipped: {problem}");
            if let Some((metrics, _)) = &self.metrics {
                metrics.skipped(problem.object.kind());
            }
            if let Some(reports) = &mut self.reports {
                let written = translated
                    .updates
                    .iter()
                    .find(|u| u.object == problem.object)
                    .map_or(0, |u| u.written);
                reports.problem(problem, written);
            }
        }
        for update in translated.updates {
            if let Some(namespace) = update.object.namespace()
                && !self.tenancy.is_empty()
            {
                self.admit_namespace(namespace);
            }
            let endpoints = update.endpoints.into_iter().map(|z| (z.zone, z.endpoint));
            let created = match &applied {
                Some((object, created)) if *object == update.object => *created,
                _ => 0,
            };
            let conflicts = self
                .index
                .apply(&update.object, endpoints, update.written, created);
            self.report_conflicts(conflicts, update.written);
        }
    }

    /// Logs, counts and reports conflicts; `written` stands in for a loser's write time that
    /// the index does not know.
    fn report_conflicts(&mut self, conflicts: Vec<NameConflict>, written: u32) {
        for conflict in conflicts {
            let loser = conflict.conflict.object();
            if let Some((metrics, _)) = &self.metrics {
                metrics.conflict(loser.kind());
            }
            if matches!(conflict.conflict, Conflict::Reserved { .. }) && self.is_glue(loser) {
                // The server's own Service names the nameserver host: expected, and its
                // addresses are served as the glue.
                debug!(object = %loser, "conflict: {conflict}");
                continue;
            }
            warn!(object = %loser, "conflict: {conflict}");
            if let Some(reports) = &mut self.reports {
                let written = self.index.written_of(loser).unwrap_or(written);
                reports.conflict(&conflict, written);
            }
        }
    }

    /// Tells the index, for each zone with a namespace rule, whether `namespace` (as its
    /// Namespace object's labels now are) may publish there.
    fn admit_namespace(&mut self, namespace: &str) {
        let labels = self.translator.namespace_labels(namespace);
        let mut conflicts = Vec::new();
        for (zone, filter) in &self.tenancy {
            let why = filter.refuses(Some(namespace), labels);
            conflicts.extend(self.index.refuse_namespace(*zone, namespace, why));
        }
        self.report_conflicts(conflicts, 0);
    }
}

impl Writer {
    fn is_glue(&self, object: &ObjectRef) -> bool {
        self.glue_of(object).is_some()
    }

    /// The Service `object` is, when some zone names it as a nameserver host (from any
    /// source): its addresses are that host's glue.
    fn glue_of(&self, object: &ObjectRef) -> Option<ServiceName> {
        if object.kind() != Kind::Service {
            return None;
        }
        self.glue
            .iter()
            .flat_map(GlueServices::iter)
            .find(|s| object.namespace() == Some(s.namespace.as_str()) && object.name() == s.name)
            .cloned()
    }

    fn set_glue(&mut self, service: &ServiceName, addrs: Vec<std::net::IpAddr>, written: u32) {
        info!(%service, ?addrs, "nameserver glue");
        for (zone, glue) in self.glue.iter().enumerate() {
            let nameserver = (glue.nameserver.as_ref() == Some(service)).then(|| addrs.clone());
            let secondary = (glue.secondary.as_ref() == Some(service)).then(|| addrs.clone());
            if nameserver.is_some() || secondary.is_some() {
                self.index
                    .set_nameservers(zone, nameserver, secondary, written);
            }
        }
    }
}

/// The object's creationTimestamp in unix seconds (0 when it has none, as manifests often do).
fn created(object: &KubeObject) -> u32 {
    object
        .metadata()
        .creation_timestamp
        .as_ref()
        .and_then(|t| u32::try_from(t.0.as_second()).ok())
        .unwrap_or(0)
}

/// Seconds since the epoch, for SOA serials.
pub fn now_unix() -> u32 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u32::try_from(d.as_secs()).unwrap_or(u32::MAX))
}

/// How long until the unix second `at` begins.
fn until_unix(at: u32) -> Duration {
    let at = UNIX_EPOCH + Duration::from_secs(u64::from(at));
    at.duration_since(SystemTime::now()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use kubezone_index::{IndexWriter, NameServer, ZoneConfig};
    use kubezone_model::DnsName;
    use kubezone_sources::{Change, ServiceName, SourceEvent, SourceId};
    use kubezone_translate::{KubeObject, Translator, ZoneFilter};

    use super::Writer;
    use crate::config::GlueServices;

    fn setup(sources: &[SourceId]) -> (Writer, kubezone_index::IndexReader) {
        let origin = DnsName::parse("example.com").expect("zone");
        let zone = ZoneConfig::new(
            origin.clone(),
            NameServer {
                name: DnsName::parse("dns1.kube-system.example.com").expect("ns"),
                addrs: Vec::new(),
            },
        );
        let (index, reader) = IndexWriter::new(vec![zone]);
        let writer = Writer::new(
            Translator::new(vec![ZoneFilter::new(origin)]),
            index,
            sources,
            vec![GlueServices::default()],
        );
        (writer, reader)
    }

    fn service() -> KubeObject {
        let value: serde_json::Value = serde_json::json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "web", "namespace": "shop"},
            "spec": {"type": "LoadBalancer"},
            "status": {"loadBalancer": {"ingress": [{"ip": "10.0.0.1"}]}}
        });
        KubeObject::from_value(value)
            .expect("valid")
            .expect("a Kind we read")
    }

    #[test]
    fn not_ready_until_every_source_has_synced() {
        let other = SourceId::new("other");
        let (mut writer, reader) = setup(&[SourceId::MANIFESTS, other]);
        writer.handle(SourceEvent::Changes {
            source: SourceId::MANIFESTS,
            changes: vec![Change::apply(service())],
        });
        writer.handle(SourceEvent::Synced {
            source: SourceId::MANIFESTS,
        });
        writer.publish_unless_replacing();
        assert!(!reader.load().is_ready(), "one source is still listing");
        writer.handle(SourceEvent::Synced { source: other });
        writer.publish_unless_replacing();
        assert!(reader.load().is_ready());
        let zone_len = reader.load().zone(0).map(|z| z.len());
        assert_eq!(
            zone_len,
            Some(5),
            "apex, ns host, its ENT, the service, its ENT"
        );
    }

    #[test]
    fn a_replacement_is_published_in_one_step() {
        let (mut writer, reader) = setup(&[]);
        let svc = service();
        writer.handle(SourceEvent::Changes {
            source: SourceId::KUBERNETES,
            changes: vec![Change::apply(svc.clone())],
        });
        writer.publish_unless_replacing();
        let before = reader.load().zone(0).map(|z| z.len());
        assert_eq!(before, Some(5));

        writer.handle(SourceEvent::ReplaceBegin {
            source: SourceId::KUBERNETES,
        });
        writer.handle(SourceEvent::Changes {
            source: SourceId::KUBERNETES,
            changes: vec![Change::Delete(svc.object_ref())],
        });
        writer.publish_unless_replacing();
        assert_eq!(
            reader.load().zone(0).map(|z| z.len()),
            before,
            "half a relist is not published"
        );
        writer.handle(SourceEvent::Changes {
            source: SourceId::KUBERNETES,
            changes: vec![Change::apply(svc)],
        });
        writer.handle(SourceEvent::ReplaceEnd {
            source: SourceId::KUBERNETES,
        });
        writer.publish_unless_replacing();
        assert_eq!(reader.load().zone(0).map(|z| z.len()), before);
    }

    #[test]
    fn glue_follows_the_apex_service() {
        let (mut writer, reader) = setup(&[]);
        writer.glue = vec![GlueServices {
            nameserver: Some(ServiceName {
                namespace: "kube-system".into(),
                name: "dns1".into(),
            }),
            secondary: None,
        }];
        let glue_of = |reader: &kubezone_index::IndexReader| {
            reader.load().zone(0).map(|z| {
                z.glue()
                    .iter()
                    .map(|r| r.data.to_string())
                    .collect::<Vec<_>>()
            })
        };
        for (service, addrs, expected) in [
            ("other", vec!["192.0.2.7"], vec![]),
            (
                "dns1",
                vec!["192.0.2.1", "2001:db8::1"],
                vec!["192.0.2.1", "2001:db8::1"],
            ),
            ("dns1", vec![], vec![]),
        ] {
            writer.handle(SourceEvent::Glue {
                source: SourceId::KUBERNETES,
                service: ServiceName {
                    namespace: "kube-system".into(),
                    name: service.into(),
                },
                addrs: addrs.iter().map(|a| a.parse().expect("ip")).collect(),
                written: 0,
            });
            writer.publish_unless_replacing();
            assert_eq!(
                glue_of(&reader),
                Some(expected.iter().map(|s| s.to_string()).collect()),
                "{service} {addrs:?}"
            );
        }
    }

    #[test]
    fn without_sources_the_index_is_ready_at_once() {
        let (_writer, reader) = setup(&[]);
        assert!(reader.load().is_ready());
    }

    #[test]
    fn a_delete_removes_the_objects_records() {
        let (mut writer, reader) = setup(&[]);
        let svc = service();
        writer.handle(SourceEvent::Changes {
            source: SourceId::MANIFESTS,
            changes: vec![Change::apply(svc.clone())],
        });
        writer.handle(SourceEvent::Changes {
            source: SourceId::MANIFESTS,
            changes: vec![Change::Delete(svc.object_ref())],
        });
        writer.publish_unless_replacing();
        assert_eq!(reader.load().zone(0).map(|z| z.len()), Some(3));
    }

    fn glue_service_object(ip: &str) -> KubeObject {
        KubeObject::from_value(serde_json::json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "dns1", "namespace": "kube-system"},
            "spec": {"type": "LoadBalancer"},
            "status": {"loadBalancer": {"ingress": [{"ip": ip}]}}
        }))
        .expect("valid")
        .expect("a Kind we read")
    }

    #[test]
    fn glue_comes_from_the_apex_service_in_any_source() {
        let (mut writer, reader) = setup(&[]);
        writer.glue = vec![GlueServices {
            nameserver: Some(ServiceName {
                namespace: "kube-system".into(),
                name: "dns1".into(),
            }),
            secondary: None,
        }];
        let glue_of = |reader: &kubezone_index::IndexReader| {
            reader.load().zone(0).map(|z| {
                z.glue()
                    .iter()
                    .map(|r| r.data.to_string())
                    .collect::<Vec<_>>()
            })
        };
        let service = glue_service_object("192.0.2.53");
        writer.handle(SourceEvent::Changes {
            source: SourceId::MANIFESTS,
            changes: vec![Change::apply(service.clone())],
        });
        writer.publish_unless_replacing();
        assert_eq!(glue_of(&reader), Some(vec!["192.0.2.53".to_string()]));
        writer.handle(SourceEvent::Changes {
            source: SourceId::MANIFESTS,
            changes: vec![Change::Delete(service.object_ref())],
        });
        writer.publish_unless_replacing();
        assert_eq!(glue_of(&reader), Some(Vec::new()));
    }

    #[test]
    fn the_serial_is_the_newest_write_of_the_objects() {
        let (mut writer, reader) = setup(&[SourceId::MANIFESTS]);
        let svc = service();
        writer.handle(SourceEvent::Changes {
            source: SourceId::MANIFESTS,
            changes: vec![Change::Apply {
                object_ref: svc.object_ref(),
                object: svc,
                written: 1_700_000_123,
            }],
        });
        writer.handle(SourceEvent::Synced {
            source: SourceId::MANIFESTS,
        });
        writer.publish_unless_replacing();
        assert_eq!(
            reader.load().zone(0).map(|z| z.serial()),
            Some(1_700_000_123)
        );
    }
}
