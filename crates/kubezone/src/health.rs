//! Liveness and readiness: ready once every source has synced, and not ready from the moment
//! the server starts to stop (the lameduck) or one of its tasks has stopped, so load balancers
//! drain it first.

use std::{
    fmt::Write,
    net::IpAddr,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
};

use arc_swap::{ArcSwap, ArcSwapOption};
use kubezone_index::IndexReader;
use kubezone_sources::{ClusterStatus, SourceId};

use kubezone_dns::Locality;

use crate::{
    clusters::ClusterView,
    explain::{ForClient, explain_for},
    push::PushStatus,
    replacements::ReplacementsView,
    supervise::TaskFailure,
};

/// What readiness is read from: the running pipeline's index, sources and lists under way.
pub struct Readiness {
    pub reader: IndexReader,
    pub sources: Vec<SourceId>,
    pub cluster: Option<ClusterStatus>,
    /// Several clusters: each one's reach and watches.
    pub clusters: Vec<ClusterView>,
    pub replacements: ReplacementsView,
    /// Each pushed zone's state.
    pub push: PushStatus,
    /// Several clusters: each one's client networks, and their names by place.
    pub locality: Option<(Arc<Locality>, Vec<String>)>,
}

#[derive(Clone)]
pub struct Health {
    current: Arc<ArcSwap<Readiness>>,
    stopping: Arc<AtomicBool>,
    /// The task whose end is stopping the process.
    failed: Arc<ArcSwapOption<TaskFailure>>,
}

impl Health {
    pub fn new(readiness: Readiness) -> Health {
        Health {
            current: Arc::new(ArcSwap::from_pointee(readiness)),
            stopping: Arc::new(AtomicBool::new(false)),
            failed: Arc::new(ArcSwapOption::empty()),
        }
    }

    /// A task of the running pipeline stopped: not ready from now on.
    pub fn failed(&self, failure: TaskFailure) {
        self.failed.store(Some(Arc::new(failure)));
    }

    /// After a reload: readiness comes from the new pipeline.
    pub fn replace(&self, readiness: Readiness) {
        self.current.store(Arc::new(readiness));
    }

    pub fn stopping(&self) {
        self.stopping.store(true, Ordering::SeqCst);
    }

    pub fn is_ready(&self) -> bool {
        !self.stopping.load(Ordering::SeqCst)
            && self.failed.load().is_none()
            && self.current.load().reader.load().is_ready()
    }

    /// `explain` of `name`, and with several clusters what `client` gets there.
    pub fn explain(&self, name: &str, client: Option<IpAddr>) -> String {
        let current = self.current.load();
        let client = match (client, &current.locality) {
            (Some(address), Some((locality, clusters))) => Some(ForClient {
                address,
                locality,
                clusters,
            }),
            _ => None,
        };
        explain_for(&current.reader.load(), name, client)
    }

    /// What push mode left alone at `name` on a primary, for explain.
    pub fn push_conflicts(&self, name: &str) -> Vec<String> {
        self.current.load().push.conflicts_at(name)
    }

    /// One line per fact: the verdict, each source and each watch.
    pub fn detail(&self) -> String {
        let current = self.current.load();
        let catalog = current.reader.load();
        let mut out = String::new();
        let verdict = if let Some(failure) = &*self.failed.load() {
            format!("not ready: {failure}; the process exits once the lameduck ends")
        } else if self.stopping.load(Ordering::SeqCst) {
            "not ready: stopping".into()
        } else if catalog.is_ready() {
            "ready".into()
        } else {
            "not ready: waiting for every source's first sync".into()
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
        for cluster in &current.clusters {
            cluster.lines(&mut out);
        }
        for list in current.replacements.lines() {
            let _ = writeln!(out, "{list}");
        }
        for line in current.push.lines() {
            let _ = writeln!(out, "{line}");
        }
        out
    }
}
