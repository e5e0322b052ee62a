//! The index writer task: the one owner of the translator and the zone index.
//!
//! It drains every pending source event, applies them, and publishes one snapshot for the
//! batch, so a burst of changes costs one publish and readers never see half of a file. While a
//! watch relists its Kind, that Kind's changes are held and applied in one step at the list's
//! end (`replacements.rs`); everything else is published as it comes.

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

use crate::{
    config::GlueServices,
    replacements::{Replacements, ReplacementsView},
    reports::Reports,
};

pub struct Writer {
    translator: Translator,
    /// Several clusters: one translator each (by place in `clusters:`), so the joins
    /// (Gateway ↔ route, Service ↔ EndpointSlice ↔ Node) never cross clusters.
    cluster_translators: Vec<Translator>,
    index: IndexWriter,
    /// Sources that have not delivered their first full state yet.
    unsynced: BTreeSet<SourceId>,
    /// Lists under way, and the changes held until each ends.
    replacements: Replacements,
    /// Per zone, the Services whose addresses are its nameserver hosts' glue.
    glue: Vec<GlueServices>,
    /// Where skipped objects, conflicts and records per zone are counted, with the zone names.
    metrics: Option<(Metrics, Vec<String>)>,
    /// The unix second at which to publish again: a zone's serial waits for the clock.
    retry: Option<u32>,
    /// Woken after each publish (zone transfer takes its versions from there).
    /// Woken after every publish: zone transfer's updater and each zone's push.
    published: Vec<Arc<Notify>>,
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
            cluster_translators: Vec::new(),
            index,
            unsynced,
            replacements: Replacements::default(),
            glue,
            metrics: None,
            retry,
            published: Vec::new(),
            reports: None,
            tenancy,
        }
    }

    /// Translates the objects of `clusters` clusters each on its own.
    pub fn with_clusters(mut self, clusters: usize) -> Writer {
        self.cluster_translators = (0..clusters).map(|_| self.translator.fresh()).collect();
        self
    }

    /// The translator of the object's cluster.
    fn translator_for(&mut self, object: &ObjectRef) -> &mut Translator {
        match object
            .cluster()
            .and_then(|c| self.cluster_translators.get_mut(usize::from(c.index())))
        {
            Some(translator) => translator,
            None => &mut self.translator,
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

    /// Wakes `published` after every publish (besides any given before).
    pub fn with_published(mut self, published: Arc<Notify>) -> Writer {
        self.published.push(published);
        self
    }

    pub fn with_metrics(mut self, metrics: Metrics, zones: Vec<String>) -> Writer {
        self.replacements = std::mem::take(&mut self.replacements).with_metrics(metrics.clone());
        self.metrics = Some((metrics, zones));
        self
    }

    /// The lists under way, for `/readyz?verbose`.
    pub fn replacements(&self) -> ReplacementsView {
        self.replacements.view()
    }

    /// Applies events until every sender is gone.
    pub async fn run(mut self, mut events: mpsc::Receiver<SourceEvent>) {
        loop {
            let retry = self.retry;
            let stuck = self.replacements.next_stuck();
            let event = tokio::select! {
                event = events.recv() => event,
                () = tokio::time::sleep(until_unix(retry.unwrap_or_default())), if retry.is_some() => {
                    self.publish();
                    continue;
                }
                () = sleep_until(stuck), if stuck.is_some() => {
                    self.replacements.report_stuck(std::time::Instant::now());
                    continue;
                }
            };
            let Some(event) = event else {
                break;
            };
            self.handle(event);
            while let Ok(event) = events.try_recv() {
                self.handle(event);
            }
            self.publish();
        }
        debug!("every source has stopped; the index stays as it is");
    }

    /// Publishes what was applied.
    pub fn publish(&mut self) {
        self.retry = self.index.publish(now_unix());
        for published in &self.published {
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

    /// Applies one event without publishing.
    pub fn handle(&mut self, event: SourceEvent) {
        match event {
            SourceEvent::Changes { source, changes } => {
                debug!(%source, changes = changes.len(), "applying changes");
                for change in self.replacements.hold(source, changes) {
                    self.apply_change(&change);
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
            SourceEvent::ClusterStale {
                source,
                cluster,
                stale,
            } => {
                if stale {
                    warn!(%source, "out of reach longer than staleAfter: its targets leave the global names");
                } else {
                    info!(%source, "back: its targets rejoin the global names");
                }
                let conflicts = self.index.set_cluster_stale(cluster, stale);
                self.report_conflicts(conflicts, 0);
            }
            SourceEvent::ReplaceBegin { source, scope } => {
                // Before the index is served nobody sees the state in between: apply as it
                // comes. (A Kind whose list began then and ends after is the one exception.)
                let hold = self.unsynced.is_empty();
                for change in self.replacements.begin(source, scope, hold) {
                    self.apply_change(&change);
                }
            }
            SourceEvent::ReplaceEnd { source, scope } => {
                for change in self.replacements.end(source, &scope) {
                    self.apply_change(&change);
                }
            }
            SourceEvent::Glue {
                service,
                addrs,
                written,
                ..
            } => self.set_glue(&service, addrs, written),
        }
    }

    fn apply_change(&mut self, change: &Change) {
        // The creation time of the object applied; other objects whose records follow from
        // it (a Gateway's routes) keep the one the index has.
        let mut applied = None;
        let translated = match change {
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
                self.translator_for(object_ref)
                    .apply_as(object, object_ref.clone(), *written)
            }
            Change::Delete(object) => {
                if let Some(reports) = &mut self.reports {
                    reports.deleted(object);
                }
                if let Some(glue) = self.glue_of(object) {
                    self.set_glue(&glue, Vec::new(), 0);
                }
                self.translator_for(object).delete(object)
            }
        };
        self.apply(translated, applied);
        // A Namespace's labels may admit or turn away its objects in a zone.
        let object = match change {
            Change::Apply { object_ref, .. } => object_ref,
            Change::Delete(object) => object,
        };
        if object.kind() == Kind::Namespace {
            self.admit_namespace(object.name());
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
        // Several clusters: the labels of the first cluster that has the Namespace.
        let labels = std::iter::once(&self.translator)
            .chain(&self.cluster_translators)
            .find_map(|t| t.namespace_labels(namespace));
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

async fn sleep_until(at: Option<std::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}

/// How long until the unix second `at` begins.
fn until_unix(at: u32) -> Duration {
    let at = UNIX_EPOCH + Duration::from_secs(u64::from(at));
    at.duration_since(SystemTime::now()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use kubezone_index::{IndexWriter, NameServer, ZoneConfig};
    use kubezone_model::{DnsName, Kind};
    use kubezone_sources::{Change, Scope, ServiceName, SourceEvent, SourceId};
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
        writer.publish();
        assert!(!reader.load().is_ready(), "one source is still listing");
        writer.handle(SourceEvent::Synced { source: other });
        writer.publish();
        assert!(reader.load().is_ready());
        let zone_len = reader.load().zone(0).map(|z| z.len());
        assert_eq!(
            zone_len,
            Some(5),
            "apex, ns host, its ENT, the service, its ENT"
        );
    }

    fn scope(kind: Kind, namespace: Option<&str>) -> Scope {
        Scope {
            kind,
            namespace: namespace.map(String::from),
        }
    }

    /// Which of `names` have records in the published index.
    fn served(reader: &kubezone_index::IndexReader, names: &[&str]) -> Vec<String> {
        let catalog = reader.load();
        names
            .iter()
            .filter(|name| {
                let name = hickory_proto::rr::Name::from_ascii(name).expect("name");
                catalog
                    .zone(0)
                    .and_then(|z| z.get(&name))
                    .is_some_and(|node| !node.rrsets().is_empty())
            })
            .map(|name| name.to_string())
            .collect()
    }

    fn lb_service(namespace: &str, name: &str, ip: &str) -> KubeObject {
        KubeObject::from_value(serde_json::json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"type": "LoadBalancer"},
            "status": {"loadBalancer": {"ingress": [{"ip": ip}]}}
        }))
        .expect("valid")
        .expect("a Kind we read")
    }

    fn ingress(name: &str, host: &str) -> KubeObject {
        KubeObject::from_value(serde_json::json!({
            "apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
            "metadata": {"name": name, "namespace": "shop"},
            "spec": {"rules": [{"host": host}]},
            "status": {"loadBalancer": {"ingress": [{"ip": "10.0.0.9"}]}}
        }))
        .expect("valid")
        .expect("a Kind we read")
    }

    fn changes(source: SourceId, changes: Vec<Change>) -> SourceEvent {
        SourceEvent::Changes { source, changes }
    }

    #[test]
    fn a_replacement_is_published_in_one_step() {
        let (mut writer, reader) = setup(&[]);
        let svc = service();
        writer.handle(changes(
            SourceId::KUBERNETES,
            vec![Change::apply(svc.clone())],
        ));
        writer.publish();
        let both = ["web.shop.example.com.", "api.shop.example.com."];
        assert_eq!(served(&reader, &both), ["web.shop.example.com."]);

        let services = scope(Kind::Service, None);
        writer.handle(SourceEvent::ReplaceBegin {
            source: SourceId::KUBERNETES,
            scope: services.clone(),
        });
        // The relist so far has another Service, and the end deletes the one it no longer has.
        writer.handle(changes(
            SourceId::KUBERNETES,
            vec![Change::apply(lb_service("shop", "api", "10.0.0.2"))],
        ));
        writer.publish();
        assert_eq!(
            served(&reader, &both),
            ["web.shop.example.com."],
            "half a relist is not published"
        );
        writer.handle(changes(
            SourceId::KUBERNETES,
            vec![Change::Delete(svc.object_ref())],
        ));
        writer.handle(SourceEvent::ReplaceEnd {
            source: SourceId::KUBERNETES,
            scope: services,
        });
        writer.publish();
        assert_eq!(served(&reader, &both), ["api.shop.example.com."]);
    }

    /// One Kind's relist (or a list that hangs) holds back that Kind only: other Kinds of the
    /// same source, the same Kind from the manifests, and Services of other namespaces than the
    /// one the watch lists are published as they come.
    #[test]
    fn a_relist_holds_back_only_its_own_kind_and_namespace() {
        let (mut writer, reader) = setup(&[]);
        let shop = scope(Kind::Service, Some("shop"));
        writer.handle(SourceEvent::ReplaceBegin {
            source: SourceId::KUBERNETES,
            scope: shop.clone(),
        });
        writer.handle(changes(
            SourceId::KUBERNETES,
            vec![Change::apply(lb_service("shop", "held", "10.0.0.1"))],
        ));
        writer.handle(changes(
            SourceId::KUBERNETES,
            vec![
                Change::apply(lb_service("other", "watched", "10.0.0.2")),
                Change::apply(ingress("store", "store.example.com")),
            ],
        ));
        writer.handle(changes(
            SourceId::MANIFESTS,
            vec![Change::apply(lb_service("shop", "file", "10.0.0.3"))],
        ));
        writer.publish();
        let all = [
            "watched.other.example.com.",
            "store.example.com.",
            "file.shop.example.com.",
            "held.shop.example.com.",
        ];
        assert_eq!(served(&reader, &all), all[..3]);
        let view = writer.replacements().lines();
        assert_eq!(view.len(), 1, "{view:?}");
        assert!(
            view[0].starts_with("list Service in namespace shop (kubernetes): listing since "),
            "{view:?}"
        );

        writer.handle(SourceEvent::ReplaceEnd {
            source: SourceId::KUBERNETES,
            scope: shop,
        });
        writer.publish();
        assert_eq!(served(&reader, &all), all);
        assert!(writer.replacements().lines().is_empty());
    }

    /// Before the index is served nobody sees it, so a list is applied as it comes and a first
    /// list of many objects is not kept twice; once served, lists are held.
    #[test]
    fn a_list_is_held_only_once_the_index_is_served() {
        let (mut writer, _reader) = setup(&[SourceId::KUBERNETES]);
        let services = scope(Kind::Service, None);
        writer.handle(SourceEvent::ReplaceBegin {
            source: SourceId::KUBERNETES,
            scope: services.clone(),
        });
        let passed = writer
            .replacements
            .hold(SourceId::KUBERNETES, vec![Change::apply(service())]);
        assert_eq!(passed.len(), 1, "applied as it comes");
        writer.handle(SourceEvent::ReplaceEnd {
            source: SourceId::KUBERNETES,
            scope: services.clone(),
        });
        writer.handle(SourceEvent::Synced {
            source: SourceId::KUBERNETES,
        });
        writer.handle(SourceEvent::ReplaceBegin {
            source: SourceId::KUBERNETES,
            scope: services,
        });
        let passed = writer
            .replacements
            .hold(SourceId::KUBERNETES, vec![Change::apply(service())]);
        assert!(passed.is_empty(), "held until the end");
    }

    /// Zone 0's nameserver host is Service kube-system/dns1.
    fn dns1_glue() -> GlueServices {
        GlueServices {
            nameserver: Some(ServiceName {
                namespace: "kube-system".into(),
                name: "dns1".into(),
            }),
            secondary: None,
        }
    }

    /// The glue addresses zone 0 serves.
    fn glue_of(reader: &kubezone_index::IndexReader) -> Option<Vec<String>> {
        reader.load().zone(0).map(|z| {
            z.glue()
                .iter()
                .map(|r| r.data.to_string())
                .collect::<Vec<_>>()
        })
    }

    #[test]
    fn glue_follows_the_apex_service() {
        let (mut writer, reader) = setup(&[]);
        writer.glue = vec![dns1_glue()];
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
            writer.publish();
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
        writer.publish();
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
        writer.glue = vec![dns1_glue()];
        let service = glue_service_object("192.0.2.53");
        writer.handle(SourceEvent::Changes {
            source: SourceId::MANIFESTS,
            changes: vec![Change::apply(service.clone())],
        });
        writer.publish();
        assert_eq!(glue_of(&reader), Some(vec!["192.0.2.53".to_string()]));
        writer.handle(SourceEvent::Changes {
            source: SourceId::MANIFESTS,
            changes: vec![Change::Delete(service.object_ref())],
        });
        writer.publish();
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
        writer.publish();
        assert_eq!(
            reader.load().zone(0).map(|z| z.serial()),
            Some(1_700_000_123)
        );
    }
}
