use std::net::IpAddr;

use kubezone_model::{DnsName, Kind};

/// What the index needs to know about one zone.
#[derive(Clone, Debug)]
pub struct ZoneConfig {
    pub origin: DnsName,
    /// Record TTL, and the SOA minimum.
    pub ttl: u32,
    /// `<apex>.<zone>`: the SOA MNAME and first NS.
    pub nameserver: NameServer,
    /// `<secondary>.<zone>`: a second NS.
    pub secondary: Option<NameServer>,
    /// Kinds in precedence order; a name takes all its records from the first Kind that has any.
    pub precedence: Vec<Kind>,
}

/// A nameserver host of the zone and its glue addresses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NameServer {
    pub name: DnsName,
    pub addrs: Vec<IpAddr>,
}

impl ZoneConfig {
    pub(crate) fn rank(&self, kind: Kind) -> Option<u8> {
        self.precedence
            .iter()
            .position(|k| *k == kind)
            .and_then(|p| u8::try_from(p).ok())
    }

    pub(crate) fn nameservers(&self) -> impl Iterator<Item = &NameServer> {
        std::iter::once(&self.nameserver).chain(self.secondary.as_ref())
    }
}
