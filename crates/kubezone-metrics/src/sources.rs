//! Counters of the sources: one watched Kind's, the fake source's.

use kubezone_model::Kind;
use prometheus::{Gauge, IntCounter, IntGauge};

use crate::Metrics;

/// A watch's events and errors, when it last synced, and whether its CRD is missing.
#[derive(Clone)]
pub struct WatchCounters {
    pub events: IntCounter,
    pub errors: IntCounter,
    /// Objects that do not fit their type, skipped.
    pub skipped: IntCounter,
    last_sync: Gauge,
    crd_missing: IntGauge,
}

impl WatchCounters {
    pub(crate) fn new(metrics: &Metrics, kind: Kind, cluster: &str) -> WatchCounters {
        let label = [cluster, kind.as_str()];
        WatchCounters {
            events: metrics.watch_events.with_label_values(&label),
            errors: metrics.watch_errors.with_label_values(&label),
            skipped: metrics.skipped.with_label_values(&[kind.as_str()]),
            last_sync: metrics.watch_last_sync.with_label_values(&label),
            crd_missing: metrics.crd_missing.with_label_values(&label),
        }
    }

    /// The Kind listed (or its watch recovered) at `unix_seconds`.
    pub fn synced(&self, unix_seconds: f64) {
        self.last_sync.set(unix_seconds);
        self.crd_missing.set(0);
    }

    pub fn crd_missing(&self, missing: bool) {
        self.crd_missing.set(i64::from(missing));
    }
}

/// The changes the fake source made after its first objects.
#[derive(Clone)]
pub struct FakeCounter(pub(crate) IntCounter);

impl FakeCounter {
    pub fn changed(&self, changes: u64) {
        self.0.inc_by(changes);
    }
}
