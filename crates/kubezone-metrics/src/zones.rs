//! Each zone's state as the writer publishes it, and zone transfer to secondaries.

use kubezone_transfer::{Observer, Outcome};

use crate::Metrics;

impl Metrics {
    /// A publish made everything applied so far visible: each zone's serial, and when.
    pub fn published(&self, zones: &[(String, u32)], unix_seconds: f64) {
        for (zone, serial) in zones {
            self.zone_serial
                .with_label_values(&[zone])
                .set(i64::from(*serial));
        }
        self.last_publish.set(unix_seconds);
    }

    /// The observer zone transfer reports to.
    pub fn transfer_counters(&self) -> TransferCounters {
        TransferCounters {
            metrics: self.clone(),
        }
    }
}

/// Counts transfers by zone and outcome, NOTIFYs by zone and whether they were acknowledged,
/// and each zone's journal size.
#[derive(Clone)]
pub struct TransferCounters {
    metrics: Metrics,
}

impl Observer for TransferCounters {
    fn transfer(&self, zone: &str, outcome: Outcome) {
        self.metrics
            .transfers
            .with_label_values(&[zone, outcome.as_str()])
            .inc();
    }

    fn notified(&self, zone: &str, acknowledged: bool) {
        let result = if acknowledged {
            "acknowledged"
        } else {
            "unanswered"
        };
        self.metrics
            .notifies
            .with_label_values(&[zone, result])
            .inc();
    }

    fn journal(&self, zone: &str, bytes: usize) {
        self.metrics
            .journal_bytes
            .with_label_values(&[zone])
            .set(i64::try_from(bytes).unwrap_or(i64::MAX));
    }
}
