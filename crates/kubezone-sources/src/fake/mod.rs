//! The fake source: made-up objects and a steady churn of changes to them, for demos, load
//! tests and soak tests, sent exactly as the other sources send theirs so that they take the
//! whole path (translation, index, answers).
//!
//! `objects.rs` says what each object looks like, `churn.rs` which object changes next (from a
//! seed, so runs can be compared), `pace.rs` when.

use std::{num::NonZeroU32, time::SystemTime};

use kubezone_metrics::FakeCounter;
use kubezone_model::{DnsName, Kind, NameError};
use tokio::{sync::mpsc, time::Instant};
use tracing::info;

mod churn;
mod objects;
mod pace;
#[cfg(test)]
mod tests;

pub use objects::{FAKE_KINDS, FAKE_NAMESPACES, MANAGED_BY};

use crate::{Change, SourceEvent, SourceId};
use churn::Churn;
use objects::Blueprint;
use pace::Pace;

/// Objects per `Changes` event while the first state is sent, so a large start is applied in
/// steps rather than held in one list.
const FIRST_STATE_CHUNK: u32 = 1024;

/// What to make up, already checked against the zones by the config.
#[derive(Clone, Debug, PartialEq)]
pub struct FakeConfig {
    /// Objects made at start; at least 1.
    pub objects: u32,
    /// Changes a second after the first state, spread evenly; 0 for none.
    pub changes_per_second: u32,
    pub seed: u64,
    /// Every name is `<app>-<i>.<namespace>.<zone>`.
    pub zone: DnsName,
    /// Which of [`FAKE_KINDS`] to make, in turn.
    pub kinds: Vec<Kind>,
    /// The namespaces to spread objects over; empty for [`FAKE_NAMESPACES`].
    pub namespaces: Vec<String>,
    /// Set on every Ingress, for a zone that serves only some classes.
    pub ingress_class: Option<String>,
}

/// Why a [`FakeConfig`] cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum FakeError {
    #[error("objects is 0; at least 1 is needed")]
    NoObjects,
    #[error("the fake source makes Service, Ingress and DNSEndpoint objects, not {0}")]
    Kind(Kind),
    #[error("no Kind to make: the zone serves none of Service, Ingress and DNSEndpoint")]
    NoKind,
    #[error("the objects' names would not all be usable: {source}")]
    Name {
        #[source]
        source: NameError,
    },
}

/// Made-up objects and their changes.
pub struct FakeSource {
    churn: Churn,
    pace: Pace,
    config: FakeConfig,
    /// Counts the changes after the first state, when metrics are on.
    changes: Option<FakeCounter>,
}

impl FakeSource {
    pub const ID: SourceId = SourceId::FAKE;

    pub fn new(config: FakeConfig) -> Result<FakeSource, FakeError> {
        let objects = NonZeroU32::new(config.objects).ok_or(FakeError::NoObjects)?;
        let blueprint = Blueprint::new(
            &config.zone,
            config.kinds.clone(),
            config.namespaces.clone(),
            config.ingress_class.clone(),
            config.objects,
        )?;
        Ok(FakeSource {
            churn: Churn::new(blueprint, objects, config.seed),
            pace: Pace::new(config.changes_per_second),
            config,
            changes: None,
        })
    }

    /// Counts every change after the first state in `changes`.
    pub fn with_counter(mut self, changes: FakeCounter) -> FakeSource {
        self.changes = Some(changes);
        self
    }

    /// Sends every object (in `Changes` of [`FIRST_STATE_CHUNK`]) and `Synced`, then the
    /// changes as they fall due, each batch in one `Changes`, until `events` is closed. Never
    /// fails: nothing it does can.
    pub async fn run(mut self, events: mpsc::Sender<SourceEvent>) {
        let source = Self::ID;
        let objects = self.churn.objects();
        let written = now_unix();
        let mut slot = 0;
        while slot < objects {
            let end = slot.saturating_add(FIRST_STATE_CHUNK).min(objects);
            let changes = (slot..end).map(|s| self.churn.create(s, written)).collect();
            if events
                .send(SourceEvent::Changes { source, changes })
                .await
                .is_err()
            {
                return;
            }
            slot = end;
        }
        if events.send(SourceEvent::Synced { source }).await.is_err() {
            return;
        }
        info!(
            objects,
            changes_per_second = self.config.changes_per_second,
            seed = self.config.seed,
            zone = %self.config.zone,
            "fake objects sent"
        );

        let start = Instant::now();
        let mut sent: u64 = 0;
        loop {
            // Nothing more is ever due when the pace is still (or past any run's length).
            let next = self
                .pace
                .due(sent + 1)
                .and_then(|due| start.checked_add(due));
            tokio::select! {
                () = events.closed() => return,
                () = sleep_until(next) => {}
            }
            // Everything due by now, at least the one woken for; after a stall, at most one
            // second's worth at once.
            let due = self
                .pace
                .due_by(start.elapsed())
                .max(sent + 1)
                .min(sent + self.pace.batch_limit());
            let written = now_unix();
            let changes: Vec<Change> = (sent..due)
                .map(|_| self.churn.next_change(written))
                .collect();
            if let Some(counter) = &self.changes {
                counter.changed(due - sent);
            }
            sent = due;
            if events
                .send(SourceEvent::Changes { source, changes })
                .await
                .is_err()
            {
                return;
            }
        }
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Now in unix seconds: when a made-up object was written, for the zones' serials.
fn now_unix() -> u32 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| u32::try_from(d.as_secs()).unwrap_or(u32::MAX))
}
