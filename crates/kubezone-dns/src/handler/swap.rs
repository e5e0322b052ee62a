//! The answerer the transports share, swapped as a whole on reload.

use std::sync::Arc;

use arc_swap::ArcSwap;
use kubezone_index::IndexReader;

use super::Answerer;
use crate::{FallthroughPolicy, Forwarder};

/// Answers queries with the current [`Answerer`]; the transports share one.
#[derive(Clone)]
pub struct DnsHandler {
    current: Arc<ArcSwap<Answerer>>,
}

impl DnsHandler {
    pub fn new(
        index: IndexReader,
        fallthrough: FallthroughPolicy,
        forwarder: Option<Forwarder>,
    ) -> DnsHandler {
        DnsHandler::from(Answerer::new(index, fallthrough, forwarder))
    }

    /// Answers with `answerer` from now on; queries in flight finish with the old one.
    pub fn replace(&self, answerer: Answerer) {
        self.current.store(Arc::new(answerer));
    }

    /// The current answerer, for one query: a lock-free load with no reference count.
    pub fn load(&self) -> arc_swap::Guard<Arc<Answerer>> {
        self.current.load()
    }

    /// The current answerer, owned, for work that awaits (fallthrough).
    pub fn load_full(&self) -> Arc<Answerer> {
        self.current.load_full()
    }
}

impl From<Answerer> for DnsHandler {
    fn from(answerer: Answerer) -> DnsHandler {
        DnsHandler {
            current: Arc::new(ArcSwap::from_pointee(answerer)),
        }
    }
}
