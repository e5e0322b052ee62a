use std::net::IpAddr;

use kubezone_model::{DnsName, Kind, RecordData};

/// What the index needs to know about one zone.
#[derive(Clone, Debug)]
pub struct ZoneConfig {
    pub origin: DnsName,
    /// Record TTL, and the TTL of the SOA and NS RRsets.
    pub ttl: u32,
    /// `<apex>.<zone>`: the SOA MNAME and first NS.
    pub nameserver: NameServer,
    /// `<secondary>.<zone>`: a second NS.
    pub secondary: Option<NameServer>,
    /// More NS names, in the zone or not (`nameservers` in the config).
    pub nameservers: Vec<DnsName>,
    pub soa: SoaConfig,
    /// The config's static records.
    pub records: Vec<StaticRecord>,
    /// When the static records were written (unix seconds), counted as an object's write time
    /// for the serial; 0 for most zones, whose serial follows their objects alone. A catalog
    /// zone, made of nothing else, takes the config file's modification time.
    pub static_written: u32,
    /// Kinds in precedence order; a name takes all its records from the first Kind that has any.
    pub precedence: Vec<Kind>,
    /// Whether objects of several namespaces may claim one name.
    pub claims: NameClaims,
    /// Whether queries are answered for it: a zone only pushed to a primary (`serve: false`)
    /// is built like any other but answered as outside every zone.
    pub served: bool,
}

/// Who may serve a name that objects of another namespace already claim.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum NameClaims {
    /// Every namespace: `resources` decides between Kinds, and objects of one Kind share.
    #[default]
    Shared,
    /// Only the namespace whose object claimed the name first (the oldest creationTimestamp,
    /// then namespace and name); the others are reported as conflicts until it lets go.
    FirstNamespace,
}

/// The SOA's fields other than MNAME and the serial.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SoaConfig {
    /// RNAME, the mailbox of the person responsible, as a name (`hostmaster.example.com.`).
    /// `None`: `hostmaster.<zone>`.
    pub rname: Option<DnsName>,
    pub refresh: u32,
    pub retry: u32,
    pub expire: u32,
    /// The SOA MINIMUM: how long resolvers cache a negative answer, at most the SOA's TTL
    /// (RFC 2308 §4–5).
    pub negative_ttl: u32,
}

impl Default for SoaConfig {
    /// Values Zonemaster accepts without a warning: refresh ≥ 4 h, retry ≥ 1 h and below
    /// refresh, expire ≥ 1 week, minimum within 300 s to 1 day.
    fn default() -> Self {
        SoaConfig {
            rname: None,
            refresh: 14_400,
            retry: 3_600,
            expire: 1_209_600,
            negative_ttl: 300,
        }
    }
}

/// One static record from the config.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StaticRecord {
    pub name: DnsName,
    pub ttl: Option<u32>,
    pub data: RecordData,
    /// Where it was written (`zones[0].records[2]`), for `explain` and conflict reports.
    pub source: String,
}

/// A nameserver host of the zone and its glue addresses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NameServer {
    pub name: DnsName,
    pub addrs: Vec<IpAddr>,
}

impl ZoneConfig {
    /// A zone with the default SOA, no extra nameservers, no static records and the default
    /// `resources`.
    pub fn new(origin: DnsName, nameserver: NameServer) -> ZoneConfig {
        ZoneConfig {
            origin,
            ttl: 60,
            nameserver,
            secondary: None,
            nameservers: Vec::new(),
            soa: SoaConfig::default(),
            records: Vec::new(),
            static_written: 0,
            precedence: Kind::DEFAULT_RESOURCES.to_vec(),
            claims: NameClaims::Shared,
            served: true,
        }
    }

    /// 0 for static records, else 1 + the Kind's position in `resources`.
    pub(crate) fn rank(&self, kind: Kind) -> Option<u8> {
        if kind == Kind::Config {
            return Some(0);
        }
        self.precedence
            .iter()
            .position(|k| *k == kind)
            .and_then(|p| u8::try_from(p + 1).ok())
    }

    /// The hosts whose glue the config gives.
    pub(crate) fn hosts(&self) -> impl Iterator<Item = &NameServer> {
        std::iter::once(&self.nameserver).chain(self.secondary.as_ref())
    }

    /// Every NS name at the apex, each once, the apex host first.
    pub(crate) fn ns_names(&self) -> Vec<&DnsName> {
        let mut names: Vec<&DnsName> = self.hosts().map(|ns| &ns.name).collect();
        for name in &self.nameservers {
            if !names.contains(&name) {
                names.push(name);
            }
        }
        names
    }
}
