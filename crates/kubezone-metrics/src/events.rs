//! Counters of the Kubernetes Events kubezone writes on objects it does not serve in full.

use prometheus::IntCounter;

use crate::Metrics;

/// How each report ended.
#[derive(Clone)]
pub struct EventCounters {
    /// Written (or counted into an existing Event's series).
    pub published: IntCounter,
    /// Refused by the API server (RBAC, validation) or not sent (connection).
    pub failed: IntCounter,
    /// The object is not in the cluster (a manifests object, or deleted since).
    pub gone: IntCounter,
    /// Not sent because the queue was full.
    pub dropped: IntCounter,
}

impl EventCounters {
    pub(crate) fn new(metrics: &Metrics) -> EventCounters {
        let counter = |result: &str| metrics.events.with_label_values(&[result]);
        EventCounters {
            published: counter("published"),
            failed: counter("failed"),
            gone: counter("gone"),
            dropped: counter("dropped"),
        }
    }
}
