//! Replacements under way: a watch's list, whose changes the index writer holds back until the
//! list ends. How many each watch has open, and how long the oldest has been open, which grows
//! without end when a list hangs.

use std::{
    collections::BTreeMap,
    sync::{
        Arc, Mutex, MutexGuard, PoisonError,
        atomic::{AtomicU64, Ordering},
    },
    time::Instant,
};

use kubezone_model::Kind;
use prometheus::{Gauge, IntGauge, core::Collector, core::Desc, proto::MetricFamily};

use crate::{Metrics, unreachable_metric};

/// The age of the oldest replacement under way, computed when scraped.
pub(crate) struct Oldest {
    gauge: Gauge,
    opened: Mutex<BTreeMap<u64, Instant>>,
    next: AtomicU64,
}

impl Oldest {
    pub(crate) fn new() -> Oldest {
        Oldest {
            gauge: Gauge::new(
                "replacement_oldest_open_seconds",
                "How long the oldest replacement under way (a watch's list, its changes held until it ends) has been open; 0 when none is.",
            )
            .unwrap_or_else(unreachable_metric),
            opened: Mutex::default(),
            next: AtomicU64::new(0),
        }
    }

    fn opened(&self) -> MutexGuard<'_, BTreeMap<u64, Instant>> {
        // Plain data: a panic elsewhere while holding the lock leaves nothing half done.
        self.opened.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Registered in the registry; reads the clock at each scrape.
pub(crate) struct OldestCollector(pub(crate) Arc<Oldest>);

impl Collector for OldestCollector {
    fn desc(&self) -> Vec<&Desc> {
        self.0.gauge.desc()
    }

    fn collect(&self) -> Vec<MetricFamily> {
        let oldest = self.0.opened().values().min().copied();
        self.0
            .gauge
            .set(oldest.map_or(0.0, |at| at.elapsed().as_secs_f64()));
        self.0.gauge.collect()
    }
}

/// One replacement under way, counted until it is dropped: when its list ends, or when its
/// writer stops (a reload, the process stopping) with the list still open.
pub struct OpenReplacement {
    gauge: IntGauge,
    oldest: Arc<Oldest>,
    id: u64,
}

impl Drop for OpenReplacement {
    fn drop(&mut self) {
        self.gauge.dec();
        self.oldest.opened().remove(&self.id);
    }
}

impl Metrics {
    /// Counts a replacement of `kind` (in `namespace`, empty for all) from `source` as under
    /// way from now until the returned value is dropped.
    pub fn replacement_opened(&self, source: &str, kind: Kind, namespace: &str) -> OpenReplacement {
        let gauge = self
            .replacements_open
            .with_label_values(&[source, kind.as_str(), namespace]);
        gauge.inc();
        let id = self.replacement_oldest.next.fetch_add(1, Ordering::Relaxed);
        self.replacement_oldest.opened().insert(id, Instant::now());
        OpenReplacement {
            gauge,
            oldest: self.replacement_oldest.clone(),
            id,
        }
    }
}
