//! kubezone's Prometheus metrics, every name starting with `kubezone_`.
//!
//! One [`Metrics`] owns the registry. The answer path gets [`QueryCounters`]: every
//! zone × type × rcode counter is resolved when it is built and sharded per thread, so counting
//! a query is an index computation and an uncontended atomic add, with no lock, no label lookup
//! and no cache line shared between cores (`query.rs`).

mod clusters;
mod events;
mod guard;
mod push;
mod query;
mod replacements;
mod sources;
mod zones;

use prometheus::{Encoder, IntCounter, IntCounterVec, IntGaugeVec, Opts, Registry, TextEncoder};

pub use clusters::ClusterGauges;
pub use events::EventCounters;
pub use guard::GuardCounters;
pub use push::PushCounters;
pub use query::{QueryCounters, RCODES, TYPES};
pub use replacements::OpenReplacement;
pub use sources::{FakeCounter, WatchCounters};
pub use zones::TransferCounters;

/// Every metric kubezone exports.
#[derive(Clone)]
pub struct Metrics {
    registry: Registry,
    queries: query::QueryStore,
    records: IntGaugeVec,
    pub(crate) watch_events: IntCounterVec,
    pub(crate) watch_errors: IntCounterVec,
    pub(crate) watch_last_sync: prometheus::GaugeVec,
    pub(crate) crd_missing: IntGaugeVec,
    pub(crate) skipped: IntCounterVec,
    conflicts: IntCounterVec,
    forwards: IntCounter,
    forward_failures: IntCounter,
    forward_rejections: IntCounter,
    pub(crate) rrl_dropped: IntCounterVec,
    pub(crate) rrl_slipped: IntCounterVec,
    pub(crate) acl_rejected: IntCounterVec,
    pub(crate) zone_serial: IntGaugeVec,
    pub(crate) last_publish: prometheus::Gauge,
    pub(crate) transfers: IntCounterVec,
    pub(crate) notifies: IntCounterVec,
    pub(crate) journal_bytes: IntGaugeVec,
    pub(crate) events: IntCounterVec,
    pub(crate) replacements_open: IntGaugeVec,
    pub(crate) replacement_oldest: std::sync::Arc<replacements::Oldest>,
    fake_changes: IntCounter,
    pub(crate) push_changes: IntCounterVec,
    pub(crate) push_messages: IntCounterVec,
    pub(crate) push_failures: IntCounterVec,
    pub(crate) push_conflicts: IntGaugeVec,
    pub(crate) push_last_success: prometheus::GaugeVec,
    pub(crate) cluster_up: IntGaugeVec,
    pub(crate) cluster_stale: IntGaugeVec,
    pub(crate) cluster_data_age: prometheus::GaugeVec,
}

impl Metrics {
    /// Registers every metric, with build information for `version`.
    pub fn new(version: &str) -> Metrics {
        let registry =
            Registry::new_custom(Some("kubezone".into()), None).unwrap_or_else(|_| Registry::new());
        let metrics = Metrics {
            queries: query::QueryStore::new(),
            records: IntGaugeVec::new(
                Opts::new("records", "Names served, by zone and the Kind of the objects that claim them."),
                &["zone", "kind"],
            )
            .unwrap_or_else(unreachable_metric),
            watch_events: IntCounterVec::new(
                Opts::new("watch_events_total", "Events received from the Kubernetes API, by watched Kind."),
                &["cluster", "kind"],
            )
            .unwrap_or_else(unreachable_metric),
            watch_errors: IntCounterVec::new(
                Opts::new("watch_errors_total", "Errors of Kubernetes watches and lists, by Kind; each is retried with backoff."),
                &["cluster", "kind"],
            )
            .unwrap_or_else(unreachable_metric),
            watch_last_sync: prometheus::GaugeVec::new(
                Opts::new("watch_last_sync_timestamp_seconds", "When a Kind's list last finished, or its watch last recovered (Unix time)."),
                &["cluster", "kind"],
            )
            .unwrap_or_else(unreachable_metric),
            crd_missing: IntGaugeVec::new(
                Opts::new("crd_missing", "1 while a Kind's CRD is not installed, or not served at the version kubezone reads."),
                &["cluster", "kind"],
            )
            .unwrap_or_else(unreachable_metric),
            skipped: IntCounterVec::new(
                Opts::new("objects_skipped_total", "Objects, or names and targets in them, skipped as invalid, by Kind."),
                &["kind"],
            )
            .unwrap_or_else(unreachable_metric),
            conflicts: IntCounterVec::new(
                Opts::new("name_conflicts_total", "Name conflicts found while applying objects (shadowed Kinds, names claimed by another namespace, namespaces a zone does not admit, CNAME beside addresses, reserved names), by the Kind of the object not served."),
                &["kind"],
            )
            .unwrap_or_else(unreachable_metric),
            forwards: IntCounter::new("fallthrough_forwards_total", "Queries forwarded upstream by fallthrough.")
                .unwrap_or_else(unreachable_metric),
            forward_failures: IntCounter::new(
                "fallthrough_failures_total",
                "Forwarded queries no upstream answered (answered SERVFAIL).",
            )
            .unwrap_or_else(unreachable_metric),
            forward_rejections: IntCounter::new(
                "fallthrough_rejected_total",
                "Fallthrough queries not forwarded because forwarding.maxInFlight queries were waiting upstream (answered SERVFAIL at once).",
            )
            .unwrap_or_else(unreachable_metric),
            rrl_dropped: IntCounterVec::new(
                Opts::new("rrl_dropped_total", "UDP responses not sent because their account was over its rateLimit rate, by the account's kind (answer, nodata, nxdomain, referral, error; all: allPerSecond)."),
                &["kind"],
            )
            .unwrap_or_else(unreachable_metric),
            rrl_slipped: IntCounterVec::new(
                Opts::new("rrl_slipped_total", "Rate-limited UDP responses sent instead as an empty truncated reply (TC=1), so the client retries over TCP, by the kind of response."),
                &["kind"],
            )
            .unwrap_or_else(unreachable_metric),
            acl_rejected: IntCounterVec::new(
                Opts::new("acl_rejected_total", "Queries from clients outside acl.allow, by the action taken (refuse, drop)."),
                &["action"],
            )
            .unwrap_or_else(unreachable_metric),
            zone_serial: IntGaugeVec::new(
                Opts::new("zone_serial", "Each zone's SOA serial as last published."),
                &["zone"],
            )
            .unwrap_or_else(unreachable_metric),
            last_publish: prometheus::Gauge::new(
                "index_last_publish_timestamp_seconds",
                "When the index writer last published what it applied (Unix time).",
            )
            .unwrap_or_else(unreachable_metric),
            transfers: IntCounterVec::new(
                Opts::new("transfers_total", "Zone transfer requests (AXFR, IXFR), by zone and outcome: axfr, ixfr, up_to_date, refused, busy, failed."),
                &["zone", "outcome"],
            )
            .unwrap_or_else(unreachable_metric),
            notifies: IntCounterVec::new(
                Opts::new("notify_total", "NOTIFYs sent to secondaries for a new serial, by zone and result: acknowledged, or unanswered after every retry."),
                &["zone", "result"],
            )
            .unwrap_or_else(unreachable_metric),
            journal_bytes: IntGaugeVec::new(
                Opts::new("transfer_journal_bytes", "Memory held by each zone's IXFR journal."),
                &["zone"],
            )
            .unwrap_or_else(unreachable_metric),
            events: IntCounterVec::new(
                Opts::new("events_total", "Kubernetes Events written on objects that are skipped, invalid or not served in full, by result: published, failed, gone (not in the cluster), dropped (queue full)."),
                &["result"],
            )
            .unwrap_or_else(unreachable_metric),
            replacements_open: IntGaugeVec::new(
                Opts::new("replacements_open", "Replacements under way (a watch's list: its changes are held and applied in one step when it ends), by source and the Kind and namespace (empty: all) the watch lists."),
                &["source", "kind", "namespace"],
            )
            .unwrap_or_else(unreachable_metric),
            replacement_oldest: std::sync::Arc::new(replacements::Oldest::new()),
            fake_changes: IntCounter::new(
                "fake_changes_total",
                "Changes the fake source made after its first objects (new addresses, deletes, re-creates).",
            )
            .unwrap_or_else(unreachable_metric),
            push_changes: IntCounterVec::new(
                Opts::new("push_changes_total", "Changes push mode sent to a zone's primary (creates, updates, deletes of RRsets), by zone."),
                &["zone"],
            )
            .unwrap_or_else(unreachable_metric),
            push_messages: IntCounterVec::new(
                Opts::new("push_updates_total", "UPDATE messages the primary accepted, by zone."),
                &["zone"],
            )
            .unwrap_or_else(unreachable_metric),
            push_failures: IntCounterVec::new(
                Opts::new("push_failures_total", "Push steps that failed, by zone and fault: transient (unreachable, slow, SERVFAIL), not_allowed (REFUSED, NOTAUTH, TSIG), prerequisite (the zone changed meanwhile); each is retried."),
                &["zone", "fault"],
            )
            .unwrap_or_else(unreachable_metric),
            push_conflicts: IntGaugeVec::new(
                Opts::new("push_conflicts", "Names and types kubezone wants on the primary that another owner, or nobody, holds there: left alone, by zone."),
                &["zone"],
            )
            .unwrap_or_else(unreachable_metric),
            push_last_success: prometheus::GaugeVec::new(
                Opts::new("push_last_success_timestamp_seconds", "When the zone's primary was last brought up to date (Unix time)."),
                &["zone"],
            )
            .unwrap_or_else(unreachable_metric),
            cluster_up: IntGaugeVec::new(
                Opts::new("cluster_up", "1 while a cluster's API server answers its watches, 0 while it is out of reach (several clusters)."),
                &["cluster"],
            )
            .unwrap_or_else(unreachable_metric),
            cluster_stale: IntGaugeVec::new(
                Opts::new("cluster_stale", "1 once a cluster has been out of reach longer than its staleAfter: its targets have left the global names."),
                &["cluster"],
            )
            .unwrap_or_else(unreachable_metric),
            cluster_data_age: prometheus::GaugeVec::new(
                Opts::new("cluster_data_age_seconds", "How long a cluster's data has gone without being confirmed by its API server; 0 while it answers."),
                &["cluster"],
            )
            .unwrap_or_else(unreachable_metric),
            registry,
        };
        // Every label exists from the start, so a dashboard sees 0 rather than no series.
        for action in ["refuse", "drop"] {
            metrics.acl_rejected.with_label_values(&[action]);
        }
        GuardCounters::new(&metrics);
        EventCounters::new(&metrics);
        let build = IntGaugeVec::new(
            Opts::new(
                "build_info",
                "Always 1; the labels say which kubezone runs.",
            ),
            &["version"],
        )
        .unwrap_or_else(unreachable_metric);
        build.with_label_values(&[version]).set(1);
        let collectors: Vec<Box<dyn prometheus::core::Collector>> = vec![
            Box::new(metrics.queries.clone()),
            Box::new(metrics.records.clone()),
            Box::new(metrics.watch_events.clone()),
            Box::new(metrics.watch_errors.clone()),
            Box::new(metrics.watch_last_sync.clone()),
            Box::new(metrics.crd_missing.clone()),
            Box::new(metrics.skipped.clone()),
            Box::new(metrics.conflicts.clone()),
            Box::new(metrics.forwards.clone()),
            Box::new(metrics.forward_failures.clone()),
            Box::new(metrics.forward_rejections.clone()),
            Box::new(metrics.rrl_dropped.clone()),
            Box::new(metrics.rrl_slipped.clone()),
            Box::new(metrics.acl_rejected.clone()),
            Box::new(metrics.zone_serial.clone()),
            Box::new(metrics.last_publish.clone()),
            Box::new(metrics.transfers.clone()),
            Box::new(metrics.notifies.clone()),
            Box::new(metrics.journal_bytes.clone()),
            Box::new(metrics.events.clone()),
            Box::new(metrics.replacements_open.clone()),
            Box::new(replacements::OldestCollector(
                metrics.replacement_oldest.clone(),
            )),
            Box::new(metrics.fake_changes.clone()),
            Box::new(metrics.push_changes.clone()),
            Box::new(metrics.push_messages.clone()),
            Box::new(metrics.push_failures.clone()),
            Box::new(metrics.push_conflicts.clone()),
            Box::new(metrics.push_last_success.clone()),
            Box::new(metrics.cluster_up.clone()),
            Box::new(metrics.cluster_stale.clone()),
            Box::new(metrics.cluster_data_age.clone()),
            Box::new(build),
            #[cfg(target_os = "linux")]
            Box::new(prometheus::process_collector::ProcessCollector::for_self()),
        ];
        for collector in collectors {
            // Names are fixed and distinct: registering cannot fail but for a bug.
            let _ = metrics.registry.register(collector);
        }
        metrics
    }

    /// Counters for the answer path, for zones named `zones` (in the index's order).
    pub fn query_counters(&self, zones: &[String]) -> QueryCounters {
        self.queries.counters(
            zones,
            self.forwards.clone(),
            self.forward_failures.clone(),
            self.forward_rejections.clone(),
        )
    }

    /// Counters for the query guards, to pass to `GuardConfig::build` as its observer.
    pub fn guard_counters(&self) -> GuardCounters {
        GuardCounters::new(self)
    }

    /// Counters of the Events written on objects.
    pub fn event_counters(&self) -> EventCounters {
        EventCounters::new(self)
    }

    /// The gauges of one cluster of several.
    pub fn cluster_gauges(&self, cluster: &str) -> ClusterGauges {
        ClusterGauges::new(self, cluster)
    }

    /// Counters for one watched Kind.
    pub fn watch_counters(&self, kind: kubezone_model::Kind) -> WatchCounters {
        WatchCounters::new(self, kind, "")
    }

    /// Counters for one watched Kind of one of several clusters (`cluster` empty for the
    /// one-cluster form).
    pub fn watch_counters_in(&self, kind: kubezone_model::Kind, cluster: &str) -> WatchCounters {
        WatchCounters::new(self, kind, cluster)
    }

    /// Push mode's metrics for one zone.
    pub fn push_counters(&self, zone: &str) -> PushCounters {
        PushCounters::new(self, zone)
    }

    /// The fake source's count of changes.
    pub fn fake_changes(&self) -> FakeCounter {
        FakeCounter(self.fake_changes.clone())
    }

    /// Sets the number of names a zone serves for a Kind.
    pub fn set_records(&self, zone: &str, kind: kubezone_model::Kind, names: i64) {
        self.records
            .with_label_values(&[zone, kind.as_str()])
            .set(names);
    }

    pub fn skipped(&self, kind: kubezone_model::Kind) {
        self.skipped.with_label_values(&[kind.as_str()]).inc();
    }

    pub fn conflict(&self, kind: kubezone_model::Kind) {
        self.conflicts.with_label_values(&[kind.as_str()]).inc();
    }

    /// The text exposition format, for `/metrics`.
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        // Writing to a Vec fails only on metric families that break the format: a bug.
        let _ = TextEncoder::new().encode(&self.registry.gather(), &mut out);
        String::from_utf8(out).unwrap_or_default()
    }
}

/// Metric options are constants; a failure here is a bug found by the first test.
#[allow(clippy::needless_pass_by_value)]
fn unreachable_metric<T>(error: prometheus::Error) -> T {
    panic!("invalid metric definition: {error}")
}

#[cfg(test)]
mod tests;
