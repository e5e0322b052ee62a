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

fn now_unix() -> u32 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u32::try_from(d.as_secs()).unwrap_or(u32::MAX))
}
