//! Push mode's counters, per zone: changes sent, UPDATE messages, failures by fault, conflicts
//! left alone, and when the primary was last in sync.

use prometheus::{Gauge, IntCounter, IntGauge};

use crate::Metrics;

/// One pushed zone's metrics.
#[derive(Clone)]
pub struct PushCounters {
    pub changes: IntCounter,
    pub messages: IntCounter,
    zone: String,
    metrics: Metrics,
    pub conflicts: IntGauge,
    pub last_success: Gauge,
}

impl PushCounters {
    pub(crate) fn new(metrics: &Metrics, zone: &str) -> PushCounters {
        let counters = PushCounters {
            changes: metrics.push_changes.with_label_values(&[zone]),
            messages: metrics.push_messages.with_label_values(&[zone]),
            zone: zone.to_string(),
            metrics: metrics.clone(),
            conflicts: metrics.push_conflicts.with_label_values(&[zone]),
            last_success: metrics.push_last_success.with_label_values(&[zone]),
        };
        // Each fault's series exists from the start, so a dashboard sees 0.
        for fault in ["transient", "not_allowed", "prerequisite"] {
            counters
                .metrics
                .push_failures
                .with_label_values(&[zone, fault]);
        }
        counters
    }

    /// A step failed: `fault` is `transient`, `not_allowed` or `prerequisite`.
    pub fn failed(&self, fault: &str) {
        self.metrics
            .push_failures
            .with_label_values(&[&self.zone, fault])
            .inc();
    }
}
