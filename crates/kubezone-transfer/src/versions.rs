//! The versions a zone is transferred at: the snapshot taken when each serial first appeared,
//! and the journal of changes between them.
//!
//! The answer path may serve newer records under the same serial for up to a second (the
//! serial waits for the clock, `kubezone-index`'s `serial.rs`); transfers never do: a serial,
//! once taken here, always stands for the same records.

use std::sync::Arc;

use arc_swap::ArcSwapOption;
use hickory_proto::rr::RecordType;
use kubezone_index::{ZoneSnapshot, wire::Tails};

use crate::journal::{Change, Journal};

/// What a transfer reads: one version, and the changes that led to it.
#[derive(Clone)]
pub struct Version {
    pub snapshot: ZoneSnapshot,
    pub journal: Journal,
}

impl Version {
    pub fn serial(&self) -> u32 {
        self.snapshot.serial()
    }

    /// The SOA record at this version, owner-less (the owner is the origin).
    pub fn soa_tail(&self) -> Option<Box<[u8]>> {
        soa_tail(&self.snapshot)
    }
}

/// The owner-less SOA of a snapshot, as the index stored it.
pub(crate) fn soa_tail(snapshot: &ZoneSnapshot) -> Option<Box<[u8]>> {
    let apex = snapshot.get(snapshot.origin())?;
    let mut tails: Tails<'_> = apex.rrset(RecordType::SOA)?.tails();
    tails.next().map(Box::from)
}

/// One zone's current version, swapped whole so readers never wait.
pub(crate) struct Versions {
    current: ArcSwapOption<Version>,
    journal_bytes: usize,
}

impl Versions {
    pub(crate) fn new(journal_bytes: usize) -> Versions {
        Versions {
            current: ArcSwapOption::empty(),
            journal_bytes,
        }
    }

    pub(crate) fn current(&self) -> Option<Arc<Version>> {
        self.current.load_full()
    }

    /// Takes `snapshot` as the next version if its serial is new. Returns the new serial, for
    /// NOTIFY. Only the updater task calls this.
    pub(crate) fn advance(&self, snapshot: &ZoneSnapshot) -> Option<u32> {
        let old = self.current.load_full();
        if old
            .as_ref()
            .is_some_and(|old| old.serial() == snapshot.serial())
        {
            return None;
        }
        let mut journal = old
            .as_ref()
            .map_or_else(|| Journal::new(self.journal_bytes), |o| o.journal.clone());
        if let Some(old) = &old
            && let (Some(from), Some(to)) = (old.soa_tail(), soa_tail(snapshot))
        {
            journal.push(Change::between(
                (old.serial(), from),
                (snapshot.serial(), to),
                snapshot.changes_since(&old.snapshot),
            ));
        }
        self.current.store(Some(Arc::new(Version {
            snapshot: snapshot.clone(),
            journal,
        })));
        Some(snapshot.serial())
    }
}
