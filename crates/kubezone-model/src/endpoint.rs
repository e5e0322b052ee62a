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
    /// A global name (several clusters): the targets of every cluster's object of the same
    /// kind, namespace and name merge here, and how clients are given them. `None`: the
    /// name belongs to one object as usual.
    pub global: Option<Preference>,
}

/// Which of a global name's targets a client gets.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Preference {
    /// Every cluster's.
    #[default]
    All,
    /// Its own cluster's while that cluster has some, else every cluster's.
    LocalFirst,
}

impl Preference {
    pub fn as_str(self) -> &'static str {
        match self {
            Preference::All => "all",
            Preference::LocalFirst => "local-first",
        }
    }

    /// `all` or `local-first`, as the config and the annotation spell them.
    pub fn parse(text: &str) -> Option<Preference> {
        match text {
            "all" => Some(Preference::All),
            "local-first" => Some(Preference::LocalFirst),
            _ => None,
        }
    }
}

impl Endpoint {
    pub fn new(name: DnsName, targets: Vec<Target>) -> Self {
        Endpoint {
            name,
            targets,
            ttl: None,
            note: None,
            global: None,
        }
    }

    pub fn with_ttl(mut self, ttl: Option<u32>) -> Self {
        self.ttl = ttl;
        self
    }

    pub fn with_global(mut self, global: Option<Preference>) -> Self {
        self.global = global;
        self
    }

    pub fn with_note(mut self, note: Option<Arc<str>>) -> Self {
        self.note = note;
        self
    }
}
