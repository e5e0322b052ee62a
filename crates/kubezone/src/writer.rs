//! The index writer task: the one owner of the translator and the zone index.
//!
//! It drains every pending source event, applies them, and publishes one snapshot for the
//! batch, so a burst of changes costs one publish and readers never see half of a file.

use std::{
    collections::BTreeSet,
    time::{SystemTime, UNIX_EPOCH},
};

use kubezone_index::IndexWriter;
use kubezone_sources::{Change, SourceEvent, SourceId};
use kubezone_translate::{Translated, Translator};
use tokio::sync::mpsc;
use tracing::{debug, info, warn};

pub struct Writer {
    translator: Translator,
    index: IndexWriter,
    /// Sources that have not delivered their first full state yet.
    unsynced: BTreeSet<SourceId>,
}

impl Writer {
    pub fn new(translator: Translator, mut index: IndexWriter, sources: &[SourceId]) -> Writer {
        let unsynced: BTreeSet<SourceId> = sources.iter().copied().collect();
        if unsynced.is_empty() {
            index.set_ready(true);
            index.publish(now_unix());
        }
        Writer {
            translator,
            index,
            unsynced,
        }
    }

    /// Applies events until every sender is gone.
    pub async fn run(mut self, mut events: mpsc::Receiver<SourceEvent>) {
        while let Some(event) = events.recv().await {
            self.handle(event);
            while let Ok(event) = events.try_recv() {
                self.handle(event);
            }
            self.index.publish(now_unix());
        }
        debug!("every source has stopped; the index stays as it is");
    }

    /// Applies one event without publishing.
    pub fn handle(&mut self, event: SourceEvent) {
        match event {
            SourceEvent::Changes { source, changes } => {
                debug!(%source, changes = changes.len(), "applying changes");
                for change in changes {
                    let translated = match &change {
                        Change::Apply(object) => self.translator.apply(object),
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
        }
    }

    fn apply(&mut self, translated: Translated) {
        for problem in &translated.problems {
            warn!(object = %problem.object, "skipped: {problem}");
        }
        for update in translated.updates {
            let endpoints = update.endpoints.into_iter().map(|z| (z.zone, z.endpoint));
            for conflict in self.index.apply(&update.object, endpoints) {
                warn!(object = %update.object, "conflict: {conflict}");
            }
        }
    }

    #[cfg(test)]
    pub fn publish(&mut self) {
        self.index.publish(now_unix());
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
    use kubezone_sources::{Change, SourceEvent, SourceId};
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
            changes: vec![Change::Apply(service())],
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
            changes: vec![Change::Apply(svc.clone())],
        });
        writer.handle(SourceEvent::Changes {
            source: SourceId::MANIFESTS,
            changes: vec![Change::Delete(svc.object_ref())],
        });
        writer.publish();
        assert_eq!(reader.load().zone(0).map(|z| z.len()), Some(3));
    }
}
