//! Counters for the answer path, resolved up front.

use std::time::Duration;

use hickory_proto::{op::ResponseCode, rr::RecordType};
use prometheus::{Histogram, IntCounter, IntCounterVec};

/// Query types counted by name; any other is counted as `other`.
pub const TYPES: [&str; 14] = [
    "A", "AAAA", "CNAME", "TXT", "NS", "SOA", "SRV", "PTR", "MX", "CAA", "HTTPS", "SVCB", "ANY",
    "other",
];
/// Response codes counted by name; any other is counted as `other`.
pub const RCODES: [&str; 8] = [
    "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", "BADVERS", "other",
];

/// Every zone × type × rcode counter, and the answer latency histogram.
pub struct QueryCounters {
    /// Zones, then one slot for names in none of them.
    zones: usize,
    counters: Vec<IntCounter>,
    latency: Histogram,
    forwards: IntCounter,
    forward_failures: IntCounter,
    forward_rejections: IntCounter,
}

impl QueryCounters {
    pub(crate) fn new(
        queries: &IntCounterVec,
        latency: Histogram,
        zones: &[String],
        forwards: IntCounter,
        forward_failures: IntCounter,
        forward_rejections: IntCounter,
    ) -> QueryCounters {
        let mut counters = Vec::with_capacity((zones.len() + 1) * TYPES.len() * RCODES.len());
        for zone in zones.iter().map(String::as_str).chain([""]) {
            for qtype in TYPES {
                for rcode in RCODES {
                    counters.push(queries.with_label_values(&[zone, qtype, rcode]));
                }
            }
        }
        QueryCounters {
            zones: zones.len(),
            counters,
            latency,
            forwards,
            forward_failures,
            forward_rejections,
        }
    }

    /// Counts one answered query: `zone` is the index of the zone the name fell in.
    pub fn answered(
        &self,
        zone: Option<usize>,
        qtype: RecordType,
        rcode: ResponseCode,
        elapsed: Duration,
    ) {
        let zone = zone.filter(|z| *z < self.zones).unwrap_or(self.zones);
        let at = (zone * TYPES.len() + type_slot(qtype)) * RCODES.len() + rcode_slot(rcode);
        if let Some(counter) = self.counters.get(at) {
            counter.inc();
        }
        self.latency.observe(elapsed.as_secs_f64());
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
