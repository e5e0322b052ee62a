use crate::{DnsName, Target};

/// One name and what it points at, as translated from one object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    pub name: DnsName,
    pub targets: Vec<Target>,
    /// The object's own TTL (DNSEndpoint `recordTTL`, the `ttl` annotation); else the zone's.
    pub ttl: Option<u32>,
}

impl Endpoint {
    pub fn new(name: DnsName, targets: Vec<Target>) -> Self {
        Endpoint {
            name,
            targets,
            ttl: None,
        }
    }

    pub fn with_ttl(mut self, ttl: Option<u32>) -> Self {
        self.ttl = ttl;
        self
    }
}
