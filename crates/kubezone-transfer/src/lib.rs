//! Zone transfer beside the answer path: kubezone as the primary of standard secondaries.
//!
//! - `versions`: the snapshot of each zone at each new serial, and `journal`, the bounded
//!   record of the changes between them;
//! - `serve`: AXFR (RFC 5936) and IXFR (RFC 1995) responses, streamed in messages of bounded
//!   size (`message`) from one version (`records`);
//! - `notify`: NOTIFY (RFC 1996) to the secondaries when a zone gets a new serial;
//! - `keys` and `tsig`: TSIG (RFC 8945): the configured [`KeyRing`], checking a signed request
//!   ([`KeyRing::verify_request`], with the error replies of a [`Refusal`]), signing each
//!   message of a response ([`ResponseSigner`]), and signing NOTIFY as a client with its
//!   replies checked ([`Key::sign_request`], [`ReplyVerifier`]). Times are unix seconds,
//!   handed in by the caller.
//!
//! The answer path hands AXFR and IXFR requests here and never waits on anything here; an
//! updater task (`Transfers::run`) takes each new version from the published snapshots.

// Everything here handles input from the network: nothing may panic on it.
#![cfg_attr(
    not(test),
    deny(clippy::expect_used, clippy::indexing_slicing, clippy::panic)
)]

mod error;
mod journal;
mod keys;
mod message;
mod notify;
mod records;
mod serve;
mod tsig;
mod versions;

use std::{
    collections::HashSet,
    net::{IpAddr, SocketAddr},
    sync::{Arc, Mutex},
};

use hickory_proto::rr::Name;
use kubezone_guard::CidrSet;
use kubezone_index::{IndexReader, NameKey};
use tokio::sync::{Notify, Semaphore, watch};

pub use error::{ReplyProblem, TransferError};
pub use journal::{Change, Journal, Records};
pub use keys::{Algorithm, FUDGE, Key, KeyRing, Secret};
pub use serve::MESSAGE_LIMIT;
pub use tsig::{MAX_UNSIGNED_MESSAGES, Refusal, Rejected, ReplyVerifier, ResponseSigner, Verified};
pub use versions::Version;

/// Transfers at once, across all zones; more are refused until one ends.
pub const MAX_TRANSFERS: usize = 16;
/// The journal's bound per zone, in bytes, unless configured.
pub const DEFAULT_JOURNAL_BYTES: usize = 4 << 20;

/// One zone's transfer settings (`transfer:` in the config).
#[derive(Clone, Debug)]
pub struct ZoneTransfer {
    /// The zone's origin.
    pub zone: Name,
    /// Clients that may transfer the zone; empty: nobody.
    pub allow: CidrSet,
    /// Secondaries told of every new serial.
    pub notify: Vec<SocketAddr>,
    /// The journal's bound in bytes.
    pub journal_bytes: usize,
    /// When set, a transfer must be signed with one of these keys (from the key ring), and
    /// NOTIFY is signed with the first.
    pub keys: Vec<Name>,
}

/// Told of each transfer and NOTIFY, for metrics.
pub trait Observer: Send + Sync {
    fn transfer(&self, zone: &str, outcome: Outcome);
    fn notified(&self, zone: &str, acknowledged: bool);
    /// The zone's journal now holds `bytes`.
    fn journal(&self, zone: &str, bytes: usize);
}

/// How a transfer request ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Axfr,
    Ixfr,
    /// The client was current: the SOA alone.
    UpToDate,
    /// Not in `allow`, or the wrong key.
    Refused,
    /// Too many transfers at once.
    Busy,
    Failed,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Axfr => "axfr",
            Outcome::Ixfr => "ixfr",
            Outcome::UpToDate => "up_to_date",
            Outcome::Refused => "refused",
            Outcome::Busy => "busy",
            Outcome::Failed => "failed",
        }
    }
}

struct Zone {
    config: ZoneTransfer,
    /// The origin as a lower-case wire name.
    origin: Vec<u8>,
    name: String,
    versions: versions::Versions,
    serial: watch::Sender<u32>,
}

/// Every zone that is transferred: their versions, and the settings requests are checked
/// against. Shared by the transports (requests) and the updater task (new versions).
pub struct Transfers {
    zones: Vec<Zone>,
    keys: KeyRing,
    running: Arc<Semaphore>,
    refused: Mutex<HashSet<(IpAddr, usize)>>,
    observer: Option<Arc<dyn Observer>>,
}

impl Transfers {
    /// The zones' settings, and the TSIG keys requests may be signed with.
    pub fn new(zones: Vec<ZoneTransfer>, keys: KeyRing) -> Transfers {
        let zones = zones
            .into_iter()
            .map(|config| Zone {
                origin: wire_name(&config.zone),
                name: config.zone.to_string(),
                versions: versions::Versions::new(config.journal_bytes),
                serial: watch::channel(0).0,
                config,
            })
            .collect();
        Transfers {
            zones,
            keys,
            running: Arc::new(Semaphore::new(MAX_TRANSFERS)),
            refused: Mutex::new(HashSet::new()),
            observer: None,
        }
    }

    pub fn with_observer(mut self, observer: Arc<dyn Observer>) -> Transfers {
        self.observer = Some(observer);
        self
    }

    /// Whether a request for `zone` (lower-case wire name) is one to hand here.
    pub fn serves(&self, zone: &NameKey) -> bool {
        self.zones.iter().any(|z| z.origin == zone.as_bytes())
    }

    /// The current version of `zone`, for tools and tests.
    pub fn version(&self, zone: &Name) -> Option<Arc<Version>> {
        let origin = wire_name(zone);
        self.zones
            .iter()
            .find(|z| z.origin == origin)
            .and_then(|z| z.versions.current())
    }

    /// Takes the new versions from `reader`'s catalog: each zone whose serial moved gets a
    /// journal entry and a NOTIFY. Returns how many zones moved.
    pub fn update(&self, reader: &IndexReader) -> usize {
        let catalog = reader.load_full();
        if !catalog.is_ready() {
            return 0;
        }
        let mut moved = 0;
        for zone in &self.zones {
            let Some(snapshot) = catalog.zones().find(|s| s.origin() == &zone.config.zone) else {
                continue;
            };
            if let Some(serial) = zone.versions.advance(snapshot) {
                moved += 1;
                zone.serial.send_replace(serial);
                if let (Some(observer), Some(version)) = (&self.observer, zone.versions.current()) {
                    observer.journal(&zone.name, version.journal.bytes());
                }
            }
        }
        moved
    }

    /// Follows the index: on each publish (`published` is notified by the writer), takes the
    /// new versions; and sends NOTIFY to each zone's secondaries. Runs until aborted.
    pub async fn run(self: Arc<Self>, reader: IndexReader, published: Arc<Notify>) {
        let mut notifiers = tokio::task::JoinSet::new();
        for zone in &self.zones {
            // Signed with the zone's first key, as its secondaries expect.
            let key = zone
                .config
                .keys
                .first()
                .and_then(|name| self.keys.get(name))
                .cloned();
            for &target in &zone.config.notify {
                notifiers.spawn(notify::notifier(
                    zone.config.zone.clone(),
                    target,
                    zone.serial.subscribe(),
                    key.clone(),
                    self.observer.clone(),
                ));
            }
        }
        loop {
            self.update(&reader);
            published.notified().await;
        }
    }
}

/// Seconds since the epoch, for TSIG.
pub(crate) fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// A name as lower-case wire bytes.
pub(crate) fn wire_name(name: &Name) -> Vec<u8> {
    NameKey::new(name)
        .map(|k| k.as_bytes().to_vec())
        .unwrap_or_default()
}
