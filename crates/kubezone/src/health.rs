//! Liveness and readiness: ready once every source has synced, and not ready from the moment
//! the server starts to stop (the lameduck), so load balancers drain it first.

use std::{
    fmt::Write,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
};

use arc_swap::ArcSwap;
use kubezone_index::IndexReader;
use kubezone_sources::{ClusterStatus, SourceId};

use crate::replacements::ReplacementsView;

/// What readiness is read from: the running pipeline's index, sources and lists under way.
pub struct Readiness {
    pub reader: IndexReader,
    pub sources: Vec<SourceId>,
    pub cluster: Option<ClusterStatus>,
    pub replacements: ReplacementsView,
}

#[derive(Clone)]
pub struct Health {
    current: Arc<ArcSwap<Readiness>>,
    stopping: Arc<AtomicBool>,
}

impl Health {
    pub fn new(readiness: Readiness) -> Health {
        Health {
            current: Arc::new(ArcSwap::from_pointee(readiness)),
            stopping: Arc::new(AtomicBool::new(false)),
        }
    }

    /// After a reload: readiness comes from the new pipeline.
    pub fn replace(&self, readiness: Readiness) {
        self.current.store(Arc::new(readiness));
    }

    pub fn stopping(&self) {
        self.stopping.store(true, Ordering::SeqCst);
    }

    pub fn is_ready(&self) -> bool {
        !self.stopping.load(Ordering::SeqCst) && self.current.load().reader.load().is_ready()
    }

    /// The current catalog, for explain.
    pub fn reader(&self) -> IndexReader {
        self.current.load().reader.clone()
    }

    /// One line per fact: the verdict, each source and each watch.
    pub fn detail(&self) -> String {
        let current = self.current.load();
        let catalog = current.reader.load();
        let mut out = String::new();
        let verdict = if self.stopping.load(Ordering::SeqCst) {
            "not ready: stopping"
        } else if catalog.is_ready() {
            "ready"
        } else {
            "not ready: waiting for every source's first sync"
        };
        let _ = writeln!(out, "{verdict}");
        let sources: Vec<&str> = current.sources.iter().map(|s| s.as_str()).collect();
        let _ = writeln!(out, "sources: {}", sources.join(", "));
        for zone in catalog.zones() {
            let _ = writeln!(
                out,
                "zone {}: serial {}, {} names",
                zone.origin(),
                zone.serial(),
                zone.len()
            );
        }
        if let Some(cluster) = &current.cluster {
            for watch in cluster.watches() {
                let _ = writeln!(out, "watch {}: {}", watch.watch, watch.state);
            }
        }
        for list in current.replacements.lines() {
            let _ = writeln!(out, "{list}");
        }
        out
    }
}
