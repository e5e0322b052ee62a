//! The journal: the differences between the zone's recent versions, for IXFR (RFC 1995).
//!
//! Each entry takes the zone from one serial to the next as the records removed and added,
//! in wire form. The journal is bounded in bytes: the oldest entries go first, and a secondary
//! whose serial is older than the journal gets the whole zone instead.

use std::{collections::VecDeque, sync::Arc};

use hickory_proto::rr::RecordType;
use kubezone_index::{NameNode, RRset};

/// Records as (owner, tail) pairs packed into one buffer: a one-byte owner length, the owner's
/// lower-case wire name, a two-byte tail length, then the tail (TYPE, CLASS, TTL, RDLENGTH,
/// RDATA), as `kubezone_index::wire` stores them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Records {
    bytes: Vec<u8>,
    count: usize,
}

impl Records {
    pub(crate) fn push(&mut self, owner: &[u8], tail: &[u8]) {
        let (Ok(owner_len), Ok(tail_len)) = (u8::try_from(owner.len()), u16::try_from(tail.len()))
        else {
            return;
        };
        self.bytes.push(owner_len);
        self.bytes.extend_from_slice(owner);
        self.bytes.extend_from_slice(&tail_len.to_be_bytes());
        self.bytes.extend_from_slice(tail);
        self.count += 1;
    }

    /// (owner, tail) in the order pushed.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        let mut rest = &self.bytes[..];
        std::iter::from_fn(move || {
            let (&owner_len, after) = rest.split_first()?;
            let (owner, after) = after.split_at_checked(usize::from(owner_len))?;
            let (len, after) = after.split_at_checked(2)?;
            let len = u16::from_be_bytes(len.try_into().ok()?);
            let (tail, after) = after.split_at_checked(usize::from(len))?;
            rest = after;
            Some((owner, tail))
        })
    }

    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    fn bytes(&self) -> usize {
        self.bytes.capacity()
    }
}

/// One step between versions: from serial `from` to serial `to`.
#[derive(Debug, PartialEq, Eq)]
pub struct Change {
    pub from: u32,
    pub to: u32,
    /// The SOA at `from` and at `to`, owner-less (the owner is the zone's origin).
    pub from_soa: Box<[u8]>,
    pub to_soa: Box<[u8]>,
    pub removed: Records,
    pub added: Records,
}

impl Change {
    /// The difference between two versions of a zone's names: `changes` as
    /// [`kubezone_index::ZoneSnapshot::changes_since`] gives them. SOA records are left out;
    /// they frame the change instead.
    pub(crate) fn between<'a>(
        from: (u32, Box<[u8]>),
        to: (u32, Box<[u8]>),
        changes: impl IntoIterator<Item = (Option<&'a NameNode>, Option<&'a NameNode>)>,
    ) -> Change {
        let mut change = Change {
            from: from.0,
            to: to.0,
            from_soa: from.1,
            to_soa: to.1,
            removed: Records::default(),
            added: Records::default(),
        };
        for (old, new) in changes {
            let old_tails = tails(old);
            let new_tails = tails(new);
            let owner = old.or(new).map(NameNode::key).unwrap_or_default();
            for tail in old_tails.iter().filter(|t| !new_tails.contains(t)) {
                change.removed.push(owner, tail);
            }
            for tail in new_tails.iter().filter(|t| !old_tails.contains(t)) {
                change.added.push(owner, tail);
            }
        }
        change
    }

    /// Memory held, roughly.
    pub fn bytes(&self) -> usize {
        std::mem::size_of::<Change>()
            + self.from_soa.len()
            + self.to_soa.len()
            + self.removed.bytes()
            + self.added.bytes()
    }

    /// Whether the step changes nothing but the serial.
    pub fn is_empty(&self) -> bool {
        self.removed.is_empty() && self.added.is_empty()
    }
}

/// Every record of a node but its SOA, each tail once.
fn tails(node: Option<&NameNode>) -> Vec<&[u8]> {
    node.map(|n| n.rrsets())
        .unwrap_or_default()
        .iter()
        .filter(|r| r.record_type() != RecordType::SOA)
        .flat_map(RRset::tails)
        .collect()
}

/// Recent changes, oldest first, at most `limit` bytes.
#[derive(Clone, Debug)]
pub struct Journal {
    changes: VecDeque<Arc<Change>>,
    bytes: usize,
    limit: usize,
}

impl Journal {
    pub fn new(limit: usize) -> Journal {
        Journal {
            changes: VecDeque::new(),
            bytes: 0,
            limit,
        }
    }

    /// Appends a change, dropping the oldest ones past the bound. A change larger than the
    /// whole bound is not kept, and empties the journal: its secondaries need the whole zone.
    pub fn push(&mut self, change: Change) {
        let size = change.bytes();
        if self
            .changes
            .back()
            .is_some_and(|last| last.to != change.from)
            || size > self.limit
        {
            self.changes.clear();
            self.bytes = 0;
        }
        if size > self.limit {
            return;
        }
        self.bytes += size;
        self.changes.push_back(Arc::new(change));
        while self.bytes > self.limit {
            match self.changes.pop_front() {
                Some(old) => self.bytes -= old.bytes(),
                None => break,
            }
        }
    }

    /// The changes that take a zone from `serial` to the newest version, or `None` when the
    /// journal does not reach back that far (or never had that serial).
    pub fn since(&self, serial: u32) -> Option<Vec<Arc<Change>>> {
        let start = self.changes.iter().position(|c| c.from == serial)?;
        Some(self.changes.iter().skip(start).cloned().collect())
    }

    /// Memory held by the changes.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    pub fn len(&self) -> usize {
        self.changes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(from: u32, to: u32, added: usize) -> Change {
        let mut records = Records::default();
        for i in 0..added {
            records.push(
                b"\x03www\x07example\x00",
                &[0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 0, 0, i as u8],
            );
        }
        Change {
            from,
            to,
            from_soa: Box::new([]),
            to_soa: Box::new([]),
            removed: Records::default(),
            added: records,
        }
    }

    #[test]
    fn records_read_back_as_pushed() {
        let c = change(1, 2, 3);
        let got: Vec<u8> = c.added.iter().map(|(_, tail)| tail[13]).collect();
        assert_eq!(got, [0, 1, 2]);
        assert!(
            c.added
                .iter()
                .all(|(owner, _)| owner == b"\x03www\x07example\x00")
        );
        assert_eq!(c.added.len(), 3);
    }

    #[test]
    fn the_chain_from_a_serial_reaches_the_newest_version() {
        let mut journal = Journal::new(1 << 20);
        for serial in 1..5 {
            journal.push(change(serial, serial + 1, 1));
        }
        let serials = |v: Option<Vec<Arc<Change>>>| {
            v.map(|cs| cs.iter().map(|c| (c.from, c.to)).collect::<Vec<_>>())
        };
        assert_eq!(serials(journal.since(3)), Some(vec![(3, 4), (4, 5)]));
        assert_eq!(serials(journal.since(1)).map(|v| v.len()), Some(4));
        assert_eq!(
            journal.since(5),
            None,
            "current: nothing to send (the caller checks)"
        );
        assert_eq!(journal.since(0), None, "older than the journal");
    }

    #[test]
    fn the_bound_drops_the_oldest_changes_and_a_gap_empties_it() {
        let one = change(1, 2, 10).bytes();
        let mut journal = Journal::new(one * 3);
        for serial in 1..=5 {
            journal.push(change(serial, serial + 1, 10));
        }
        assert_eq!(journal.len(), 3);
        assert!(journal.bytes() <= one * 3);
        assert_eq!(journal.since(2), None, "dropped");
        assert!(journal.since(3).is_some());
        // A change that does not follow the last one (a reload) starts the journal afresh.
        journal.push(change(100, 101, 1));
        assert_eq!(journal.len(), 1);
        assert_eq!(journal.since(5), None);
        // One change larger than the bound is not kept at all.
        journal.push(change(101, 102, 1000));
        assert!(journal.is_empty());
    }
}
