//! What each watch is doing, for readiness, logs and (later) `/readyz` and metrics.

use std::{
    fmt,
    sync::{Arc, Mutex, MutexGuard},
};

use tokio::sync::watch;
use tracing::{info, warn};

/// The state of one watch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WatchState {
    /// The first list has not finished yet.
    Listing,
    /// Listed, and watching for changes.
    Synced,
    /// The API server does not serve this resource: its CRD is not installed, or not at the
    /// version kubezone reads. Retried with backoff; served as soon as it appears.
    Missing { message: String },
    /// RBAC does not allow kubezone to `verb` this resource.
    Forbidden { verb: &'static str, message: String },
    /// Any other error (API server unreachable, timeouts, 5xx). Retried with backoff.
    Failing { message: String },
}

impl WatchState {
    fn same_kind_of_state(&self, other: &WatchState) -> bool {
        std::mem::discriminant(self) == std::mem::discriminant(other)
    }
}

impl fmt::Display for WatchState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WatchState::Listing => f.write_str("listing"),
            WatchState::Synced => f.write_str("synced"),
            WatchState::Missing { message } => write!(f, "not served: {message}"),
            WatchState::Forbidden { verb, message } => write!(f, "forbidden to {verb}: {message}"),
            WatchState::Failing { message } => write!(f, "failing: {message}"),
        }
    }
}

/// One watch as reported: what it watches and how it is doing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WatchStatus {
    /// What is watched, as a user reads it: `HTTPRoute` or `Service kube-system/dns1 (glue)`,
    /// with the namespace when the watch is limited to one.
    pub watch: String,
    pub state: WatchState,
    /// Whether its first list ever finished; after that, errors only delay changes.
    pub synced_once: bool,
}

impl WatchStatus {
    /// A watch that no longer holds up readiness: it has listed once, or its resource is not
    /// available to kubezone at all (missing CRD, forbidden).
    pub fn is_settled(&self) -> bool {
        self.synced_once
            || matches!(
                self.state,
                WatchState::Missing { .. } | WatchState::Forbidden { .. }
            )
    }
}

/// The state of every watch of the cluster source, shared with whoever reports on it.
#[derive(Clone, Debug)]
pub struct ClusterStatus {
    watches: Arc<Mutex<Vec<WatchStatus>>>,
    changed: Arc<watch::Sender<()>>,
}

impl Default for ClusterStatus {
    fn default() -> Self {
        ClusterStatus {
            watches: Arc::default(),
            changed: Arc::new(watch::Sender::new(())),
        }
    }
}

impl ClusterStatus {
    /// Every watch, in the order they were registered.
    pub fn watches(&self) -> Vec<WatchStatus> {
        self.lock().clone()
    }

    /// Whether every watch has settled (see [`WatchStatus::is_settled`]).
    pub fn is_settled(&self) -> bool {
        self.lock().iter().all(WatchStatus::is_settled)
    }

    /// Wakes whenever a watch's state changes.
    pub fn subscribe(&self) -> watch::Receiver<()> {
        self.changed.subscribe()
    }

    pub(crate) fn register(&self, watch: String) -> usize {
        let mut watches = self.lock();
        watches.push(WatchStatus {
            watch,
            state: WatchState::Listing,
            synced_once: false,
        });
        watches.len() - 1
    }

    /// Records a new state, logging only when the kind of state changes, so a watch retrying
    /// with backoff logs its problem once rather than on every attempt.
    pub(crate) fn set(&self, id: usize, state: WatchState) {
        let mut watches = self.lock();
        let Some(status) = watches.get_mut(id) else {
            return;
        };
        let changed = !status.state.same_kind_of_state(&state);
        if changed {
            match &state {
                WatchState::Listing => {}
                WatchState::Synced if status.synced_once => {
                    info!(watch = %status.watch, "watching again");
                }
                WatchState::Synced => info!(watch = %status.watch, "listed"),
                WatchState::Missing { .. } | WatchState::Forbidden { .. } => {
                    warn!(watch = %status.watch, "{state}; every other Kind is served meanwhile");
                }
                WatchState::Failing { .. } if status.synced_once => {
                    warn!(watch = %status.watch, "{state}; answering from the last known state");
                }
                WatchState::Failing { .. } => warn!(watch = %status.watch, "{state}"),
            }
        }
        if state == WatchState::Synced {
            status.synced_once = true;
        }
        status.state = state;
        drop(watches);
        self.changed.send_replace(());
    }

    fn lock(&self) -> MutexGuard<'_, Vec<WatchStatus>> {
        // A panic elsewhere while holding the lock leaves plain data behind; keep using it.
        self.watches
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
