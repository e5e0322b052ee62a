//! What answers queries, and how a config builds it.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use kubezone_guard::{Guard, ResponseKey};
use kubezone_index::IndexReader;
use kubezone_metrics::QueryCounters;
use kubezone_transfer::Transfers;

use crate::{FallthroughPolicy, Forwarder, Identity, Locality};

impl Answerer {
    pub fn new(
        index: IndexReader,
        fallthrough: FallthroughPolicy,
        forwarder: Option<Forwarder>,
    ) -> Answerer {
        Answerer {
            index,
            fallthrough: Arc::new(fallthrough),
            forwarder,
            counters: None,
            query_log: false,
            guard: None,
            identity: None,
            transfers: None,
            locality: None,
            upstream_keys: Arc::default(),
        }
    }

    /// Offers zone transfers (AXFR, IXFR) of the zones `transfers` has.
    pub fn with_transfers(mut self, transfers: Option<Arc<Transfers>>) -> Answerer {
        self.transfers = transfers;
        self
    }

    /// Names this server in NSID and CH TXT answers, as `identity` says.
    pub fn with_identity(mut self, identity: Option<Identity>) -> Answerer {
        self.identity = identity.map(Arc::new);
        self
    }

    /// Checks every query against the access list and every UDP response against the rate
    /// limit.
    pub fn with_guard(mut self, guard: Guard) -> Answerer {
        let on = guard.acl.is_some() || guard.rate_limit.is_some();
        self.guard = on.then(|| Arc::new(guard));
        self
    }

    /// Answers `local-first` names by the client's cluster as `locality` places it (by the
    /// query's EDNS Client Subnet, else its source address). `None`: every client gets every
    /// cluster's records, as with one cluster.
    pub fn with_locality(mut self, locality: Option<Arc<Locality>>) -> Answerer {
        self.locality = locality;
        self
    }

    /// Counts every query (by zone, type and rcode) and its latency.
    pub fn with_counters(mut self, counters: Arc<QueryCounters>) -> Answerer {
        self.counters = Some(counters);
        self
    }

    /// Logs a line per query, at info.
    pub fn with_query_log(mut self, on: bool) -> Answerer {
        self.query_log = on;
        self
    }
}

/// What answers queries: the index, fallthrough and the counters. Swapped as a whole when the
/// configuration is reloaded.
#[derive(Clone)]
pub struct Answerer {
    pub(super) index: IndexReader,
    pub(super) fallthrough: Arc<FallthroughPolicy>,
    pub(super) forwarder: Option<Forwarder>,
    pub(super) counters: Option<Arc<QueryCounters>>,
    pub(super) query_log: bool,
    pub(super) guard: Option<Arc<Guard>>,
    pub(super) identity: Option<Arc<Identity>>,
    pub(super) transfers: Option<Arc<Transfers>>,
    /// Each cluster's client networks, for `local-first` names.
    pub(super) locality: Option<Arc<Locality>>,
    /// Per zone, the rate-limit keys of the last upstream NXDOMAIN and referral, which are
    /// counted by a name the query does not tell: checked before forwarding.
    pub(super) upstream_keys: Arc<Mutex<HashMap<usize, [Option<ResponseKey>; 2]>>>,
}
