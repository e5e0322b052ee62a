//! Counters for the answer path: sharded per thread, summed when scraped.
//!
//! Every UDP worker counts every query. With one shared atomic per counter, the cores would pass
//! its cache line back and forth on every query; here each thread adds to a shard of its own
//! (one per CPU, taken round-robin by threads), and `/metrics` sums the shards. Counting a
//! query is an index computation and two or three uncontended atomic adds: no lock, no label
//! lookup, no shared cache line.

use std::{
    cell::Cell,
    sync::{
        Arc, RwLock,
        atomic::{AtomicU64, AtomicUsize, Ordering},
    },
    time::Duration,
};

use hickory_proto::{op::ResponseCode, rr::RecordType};
use prometheus::{
    IntCounter,
    core::{Collector, Desc},
    proto::{Bucket, Counter, Histogram, LabelPair, Metric, MetricFamily, MetricType},
};

/// Query types counted by name; any other is counted as `other`.
pub const TYPES: [&str; 14] = [
    "A", "AAAA", "CNAME", "TXT", "NS", "SOA", "SRV", "PTR", "MX", "CAA", "HTTPS", "SVCB", "ANY",
    "other",
];
/// Response codes counted by name; any other is counted as `other`.
pub const RCODES: [&str; 8] = [
    "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", "BADVERS", "other",
];
/// The latency histogram's upper bounds, in seconds.
const BUCKETS: [f64; 17] = [
    0.000_01, 0.000_025, 0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025,
    0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];
const SLOTS: usize = TYPES.len() * RCODES.len();

/// How many shards: the CPUs this process may use, at least 1.
fn shard_count() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

thread_local! {
    /// This thread's shard, taken the first time it counts.
    static SHARD: Cell<Option<usize>> = const { Cell::new(None) };
}
static NEXT_SHARD: AtomicUsize = AtomicUsize::new(0);

fn my_shard(shards: usize) -> usize {
    SHARD.with(|shard| {
        let index = shard.get().unwrap_or_else(|| {
            let index = NEXT_SHARD.fetch_add(1, Ordering::Relaxed);
            shard.set(Some(index));
            index
        });
        index % shards.max(1)
    })
}

/// One shard's counts: a separate allocation, so two shards never share a cache line but at
/// their ends.
struct Shard {
    /// By type × rcode.
    queries: Box<[AtomicU64; SLOTS]>,
}

/// One zone's counts (or, for the name "", the queries of names in no zone), kept for as long
/// as the process runs so that a reload carries the counts on.
pub(crate) struct ZoneCounts {
    shards: Box<[Shard]>,
}

impl ZoneCounts {
    fn new(shards: usize) -> ZoneCounts {
        ZoneCounts {
            shards: (0..shards.max(1))
                .map(|_| Shard {
                    queries: Box::new(std::array::from_fn(|_| AtomicU64::new(0))),
                })
                .collect(),
        }
    }

    fn add(&self, slot: usize) {
        if let Some(counter) = self
            .shards
            .get(my_shard(self.shards.len()))
            .and_then(|s| s.queries.get(slot))
        {
            counter.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn total(&self, slot: usize) -> u64 {
        self.shards
            .iter()
            .filter_map(|s| s.queries.get(slot))
            .map(|c| c.load(Ordering::Relaxed))
            .sum()
    }
}

struct LatencyShard {
    /// Observations at or below each bound, not cumulative; the last slot is +Inf.
    buckets: Box<[AtomicU64; BUCKETS.len() + 1]>,
    sum_nanos: AtomicU64,
}

/// The answer latency histogram, sharded like the counters.
pub(crate) struct Latency {
    shards: Box<[LatencyShard]>,
}

impl Latency {
    fn new(shards: usize) -> Latency {
        Latency {
            shards: (0..shards.max(1))
                .map(|_| LatencyShard {
                    buckets: Box::new(std::array::from_fn(|_| AtomicU64::new(0))),
                    sum_nanos: AtomicU64::new(0),
                })
                .collect(),
        }
    }

    fn observe(&self, elapsed: Duration) {
        let Some(shard) = self.shards.get(my_shard(self.shards.len())) else {
            return;
        };
        let seconds = elapsed.as_secs_f64();
        let bucket = BUCKETS.partition_point(|bound| *bound < seconds);
        if let Some(count) = shard.buckets.get(bucket) {
            count.fetch_add(1, Ordering::Relaxed);
        }
        let nanos = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        shard.sum_nanos.fetch_add(nanos, Ordering::Relaxed);
    }
}

/// Every zone's counts and the latency histogram, exported as `queries_total` and
/// `query_duration_seconds`. Registered once; every config's [`QueryCounters`] adds to it.
/// Cloning shares it.
#[derive(Clone)]
pub(crate) struct QueryStore(Arc<Store>);

struct Store {
    shards: usize,
    zones: RwLock<Vec<(String, Arc<ZoneCounts>)>>,
    latency: Arc<Latency>,
    descs: Vec<Desc>,
}

const QUERIES_HELP: &str =
    "DNS queries answered, by zone (empty: none of ours), query type and rcode.";
const LATENCY_HELP: &str =
    "Time from a query's arrival at the handler to its answer being handed to the socket.";

impl QueryStore {
    pub(crate) fn new() -> QueryStore {
        let shards = shard_count();
        let descs = [
            Desc::new(
                "queries_total".into(),
                QUERIES_HELP.into(),
                vec!["zone".into(), "type".into(), "rcode".into()],
                Default::default(),
            ),
            Desc::new(
                "query_duration_seconds".into(),
                LATENCY_HELP.into(),
                Vec::new(),
                Default::default(),
            ),
        ]
        .into_iter()
        .filter_map(Result::ok)
        .collect();
        QueryStore(Arc::new(Store {
            shards,
            zones: RwLock::new(Vec::new()),
            latency: Arc::new(Latency::new(shards)),
            descs,
        }))
    }

    /// The counts of zone `name` (`""`: names in no zone), made the first time it is asked for.
    fn zone(&self, name: &str) -> Arc<ZoneCounts> {
        if let Some((_, counts)) = self
            .0
            .zones
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .find(|(n, _)| n == name)
        {
            return counts.clone();
        }
        let mut zones = self.0.zones.write().unwrap_or_else(|e| e.into_inner());
        if let Some((_, counts)) = zones.iter().find(|(n, _)| n == name) {
            return counts.clone();
        }
        let counts = Arc::new(ZoneCounts::new(self.0.shards));
        zones.push((name.to_string(), counts.clone()));
        counts
    }

    pub(crate) fn counters(
        &self,
        zones: &[String],
        forwards: IntCounter,
        forward_failures: IntCounter,
        forward_rejections: IntCounter,
    ) -> QueryCounters {
        QueryCounters {
            zones: zones
                .iter()
                .map(String::as_str)
                .chain([""])
                .map(|name| self.zone(name))
                .collect(),
            latency: self.0.latency.clone(),
            forwards,
            forward_failures,
            forward_rejections,
        }
    }
}

fn label(name: &str, value: &str) -> LabelPair {
    let mut pair = LabelPair::default();
    pair.set_name(name.to_string());
    pair.set_value(value.to_string());
    pair
}

impl Collector for QueryStore {
    fn desc(&self) -> Vec<&Desc> {
        self.0.descs.iter().collect()
    }

    fn collect(&self) -> Vec<MetricFamily> {
        let mut queries = MetricFamily::default();
        queries.set_name("queries_total".into());
        queries.set_help(QUERIES_HELP.into());
        queries.set_field_type(MetricType::COUNTER);
        let zones = self
            .0
            .zones
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let mut metrics = Vec::with_capacity(zones.len() * SLOTS);
        for (zone, counts) in &zones {
            for (t, qtype) in TYPES.iter().enumerate() {
                for (r, rcode) in RCODES.iter().enumerate() {
                    let mut counter = Counter::default();
                    counter.set_value(counts.total(t * RCODES.len() + r) as f64);
                    let mut metric = Metric::default();
                    // In label-name order, as the text format is compared.
                    metric.set_label(vec![
                        label("rcode", rcode),
                        label("type", qtype),
                        label("zone", zone),
                    ]);
                    metric.set_counter(counter);
                    metrics.push(metric);
                }
            }
        }
        queries.set_metric(metrics);

        let mut latency = MetricFamily::default();
        latency.set_name("query_duration_seconds".into());
        latency.set_help(LATENCY_HELP.into());
        latency.set_field_type(MetricType::HISTOGRAM);
        let mut counts = [0u64; BUCKETS.len() + 1];
        let mut sum_nanos: u64 = 0;
        for shard in self.0.latency.shards.iter() {
            for (total, count) in counts.iter_mut().zip(shard.buckets.iter()) {
                *total += count.load(Ordering::Relaxed);
            }
            sum_nanos = sum_nanos.saturating_add(shard.sum_nanos.load(Ordering::Relaxed));
        }
        let mut cumulative = 0;
        let buckets = BUCKETS
            .iter()
            .zip(counts)
            .map(|(bound, count)| {
                cumulative += count;
                let mut bucket = Bucket::default();
                bucket.set_upper_bound(*bound);
                bucket.set_cumulative_count(cumulative);
                bucket
            })
            .collect();
        let mut histogram = Histogram::default();
        histogram.set_sample_count(counts.iter().sum());
        histogram.set_sample_sum(sum_nanos as f64 / 1e9);
        histogram.set_bucket(buckets);
        let mut metric = Metric::default();
        metric.set_histogram(histogram);
        latency.set_metric(vec![metric]);
        vec![queries, latency]
    }
}

/// The answer path's handle on the counters of one config's zones.
pub struct QueryCounters {
    /// The zones in the index's order, then the one for names in none of them.
    zones: Vec<Arc<ZoneCounts>>,
    latency: Arc<Latency>,
    forwards: IntCounter,
    forward_failures: IntCounter,
    forward_rejections: IntCounter,
}

impl QueryCounters {
    /// Counts one answered query: `zone` is the index of the zone the name fell in.
    pub fn answered(
        &self,
        zone: Option<usize>,
        qtype: RecordType,
        rcode: ResponseCode,
        elapsed: Duration,
    ) {
        let last = self.zones.len().saturating_sub(1);
        let zone = zone.filter(|z| *z < last).unwrap_or(last);
        if let Some(counts) = self.zones.get(zone) {
            counts.add(type_slot(qtype) * RCODES.len() + rcode_slot(rcode));
        }
        self.latency.observe(elapsed);
    }

    pub fn forwarded(&self) {
        self.forwards.inc();
    }

    pub fn forward_failed(&self) {
        self.forward_failures.inc();
    }

    /// A fallthrough query answered SERVFAIL at once: `maxInFlight` queries wait upstream.
    pub fn forward_rejected(&self) {
        self.forward_rejections.inc();
    }
}

fn type_slot(qtype: RecordType) -> usize {
    match qtype {
        RecordType::A => 0,
        RecordType::AAAA => 1,
        RecordType::CNAME => 2,
        RecordType::TXT => 3,
        RecordType::NS => 4,
        RecordType::SOA => 5,
        RecordType::SRV => 6,
        RecordType::PTR => 7,
        RecordType::MX => 8,
        RecordType::CAA => 9,
        RecordType::HTTPS => 10,
        RecordType::SVCB => 11,
        RecordType::ANY => 12,
        _ => 13,
    }
}

fn rcode_slot(rcode: ResponseCode) -> usize {
    match rcode {
        ResponseCode::NoError => 0,
        ResponseCode::FormErr => 1,
        ResponseCode::ServFail => 2,
        ResponseCode::NXDomain => 3,
        ResponseCode::NotImp => 4,
        ResponseCode::Refused => 5,
        ResponseCode::BADVERS => 6,
        _ => 7,
    }
}
