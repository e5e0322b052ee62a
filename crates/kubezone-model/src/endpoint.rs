use std::sync::Arc;

use crate::{DnsName, Target};

/// One name and what it points at, as translated from one object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    pub name: DnsName,
    pub targets: Vec<Target>,
    /// The object's own TTL (DNSEndpoint `recordTTL`, the `ttl` annotation); else the zone's.
    pub ttl: Option<u32>,
    /// Why the targets are what they are, when that is a decision `explain` should show (a
    /// kuberoute failover, say).
    pub note: Option<Arc<str>>,
}

impl Endpoint {
    pub fn new(name: DnsName, targets: Vec<Target>) -> Self {
        Endpoint {
            name,
            targets,
            ttl: None,
            note: None,
        }
    }

    pub fn with_ttl(mut self, ttl: Option<u32>) -> Self {
        self.ttl = ttl;
        self
    }

    pub fn with_note(mut self, note: Option<Arc<str>>) -> Self {
        self.note = note;
        self
    }
}
