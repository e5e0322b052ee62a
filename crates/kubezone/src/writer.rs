//! The index writer task: the one owner of the translator and the zone index.
//!
//! It drains every pending source event, applies them, and publishes one snapshot for the
//! batch, so a burst of changes costs one publish and readers never see half of a file. While a
//! source replaces part of its data (a relist), nothing is published until it is done.

use std::{
    collections::BTreeSet,
    time::{SystemTime, UNIX_EPOCH},
};

use kubezone_index::{Conflict, IndexWriter};
use kubezone_metrics::Metrics;
use kubezone_model::{Kind, ObjectRef};
use kubezone_sources::{Change, ServiceName, SourceEvent, SourceId};
use kubezone_translate::{Translated, Translator};
use tokio::sync::mpsc;
use tracing::{debug, info, warn};

pub struct Writer {
    translator: Translator,
    index: IndexWriter,
    /// Sources that have not delivered their first full state yet.
    unsynced: BTreeSet<SourceId>,
    /// Replacements under way; publishing waits for all of them.
    replacing: usize,
    /// Per zone, the Service whose addresses are its nameserver glue.
    glue: Vec<Option<ServiceName>>,
    /// Where skipped objects, conflicts and records per zone are counted, with the zone names.
    metrics: Option<(Metrics, Vec<String>)>,
}

impl Writer {
    pub fn new(
        translator: Translator,
        mut index: IndexWriter,
        sources: &[SourceId],
        glue: Vec<Option<ServiceName>>,
    ) -> Writer {
        let unsynced: BTreeSet<SourceId> = sources.iter().copied().collect();
        if unsynced.is_empty() {
            index.set_ready(true);
            index.publish(now_unix());
        }
        Writer {
            translator,
            index,
            unsynced,
            replacing: 0,
            glue,
            metrics: None,
        }
    }

    pub fn with_metrics(mut self, metrics: Metrics, zones: Vec<String>) -> Writer {
        self.metrics = Some((metrics, zones));
        self
    }

    /// Applies events until every sender is gone.
    pub async fn run(mut self, mut events: mpsc::Receiver<SourceEvent>) {
        while let Some(event) = events.recv().await {
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
            self.index.publish(now_unix());
            if let Some((metrics, zones)) = &self.metrics {
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
                    let translated = match &change {
                        Change::Apply { object, object_ref } => {
                            self.translator.apply_as(object, object_ref.clone())
                        }
                        Change::Delete(object) => self.translator.delete(object),
                    };
                    self.apply(translated);
                }
            }
            SourceEvent::Synced { source } => {
                if self.unsynced.remove(&source) {
                    info!(%source, "source synced");
                }
                if self.unsynced.is_empty() {
                    self.index.set_ready(true);
                }
            }
            SourceEvent::ReplaceBegin { .. } => self.replacing += 1,
            SourceEvent::ReplaceEnd { .. } => self.replacing = self.replacing.saturating_sub(1),
            SourceEvent::Glue { service, addrs, .. } => {
                info!(%service, ?addrs, "nameserver glue");
                for (zone, glue) in self.glue.iter().enumerate() {
                    if glue.as_ref() == Some(&service) {
                        self.index.set_nameservers(zone, addrs.clone(), None);
                    }
                }
            }
        }
    }

    fn apply(&mut self, translated: Translated) {
        for problem in &translated.problems {
            warn!(object = %problem.object, "skipped: {problem}");
            if let Some((metrics, _)) = &self.metrics {
                metrics.skipped(problem.object.kind());
            }
        }
        for update in translated.updates {
            let endpoints = update.endpoints.into_iter().map(|z| (z.zone, z.endpoint));
            for conflict in self.index.apply(&update.object, endpoints) {
                if let Some((metrics, _)) = &self.metrics {
                    metrics.conflict(update.object.kind());
                }
                if matches!(conflict, Conflict::Reserved { .. }) && self.is_glue(&update.object) {
                    // The server's own Service names the nameserver host: expected, and its
                    // addresses are served as the glue.
                    debug!(object = %update.object, "conflict: {conflict}");
                } else {
                    warn!(object = %update.object, "conflict: {conflict}");
                }
            }
        }
    }
}

impl Writer {
    fn is_glue(&self, object: &ObjectRef) -> bool {
        object.kind() == Kind::Service
            && self.glue.iter().flatten().any(|service| {
                object.namespace() == Some(service.namespace.as_str())
                    && object.name() == service.name
            })
    }
}

/// Seconds since the epoch, for SOA serials.
pub fn now_unix() -> u32 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u32::try_from(d.as_secs()).unwrap_or(u32::MAX))
}

#[cfg(test)]
mod tests {
    use kubezone_index::{IndexWriter, NameServer, ZoneConfig};
    use kubezone_model::{DnsName, Kind};
    use kubezone_sources::{Change, ServiceName, SourceEvent, SourceId};
    use kubezone_translate::{KubeObject, Translator, ZoneFilter};

    use super::Writer;

    fn setup(sources: &[SourceId]) -> (Writer, kubezone_index::IndexReader) {
        let origin = DnsName::parse("example.com").expect("zone");
        let zone = ZoneConfig {
            origin: origin.clone(),
            ttl: 60,
            nameserver: NameServer {
                name: DnsName::parse("dns1.kube-system.example.com").expect("ns"),
                addrs: Vec::new(),
            },
            secondary: None,
            precedence: Kind::DEFAULT_RESOURCES.to_vec(),
        };
        let (index, reader) = IndexWriter::new(vec![zone], 1);
        let writer = Writer::new(
            Translator::new(vec![ZoneFilter::new(origin)]),
            index,
            sources,
            vec![None],
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
        writer.glue = vec![Some(ServiceName {
            namespace: "kube-system".into(),
            name: "dns1".into(),
        })];
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
}
