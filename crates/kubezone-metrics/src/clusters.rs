//! Several clusters: whether each one's API server answers, how old its data is, and whether
//! it has gone stale.

use prometheus::{Gauge, IntGauge};

use crate::Metrics;

/// One cluster's gauges.
#[derive(Clone)]
pub struct ClusterGauges {
    pub up: IntGauge,
    pub stale: IntGauge,
    pub data_age: Gauge,
}

impl ClusterGauges {
    pub(crate) fn new(metrics: &Metrics, cluster: &str) -> ClusterGauges {
        ClusterGauges {
            up: metrics.cluster_up.with_label_values(&[cluster]),
            stale: metrics.cluster_stale.with_label_values(&[cluster]),
            data_age: metrics.cluster_data_age.with_label_values(&[cluster]),
        }
    }
}
