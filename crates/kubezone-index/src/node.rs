//! What a reader finds at a name: pre-built RRsets and why they are there.

use std::sync::Arc;

use hickory_proto::rr::{RData, Record, RecordType};
use kubezone_model::{Kind, ObjectRef};

use crate::{
    Conflict,
    wire::{FIXED_LEN, Tails, encode_tail},
};

/// Every record of one type at one name, built once when the name changes, and kept both as
/// records (for `explain` and forwarding) and pre-encoded for the answer path.
#[derive(Clone, Debug, PartialEq)]
pub struct RRset {
    records: Vec<Record>,
    /// The records' wire form after the owner name; see [`crate::wire`].
    wire: Box<[u8]>,
    record_type: RecordType,
}

impl RRset {
    /// `records` must be non-empty, of one type, with one owner and one TTL, and of a type
    /// the index builds (A, AAAA, CNAME, TXT, NS, SOA).
    pub(crate) fn new(records: Vec<Record>) -> Option<RRset> {
        let record_type = records.first()?.record_type();
        let mut wire = Vec::new();
        for record in &records {
            encode_tail(record, &mut wire)?;
        }
        Some(RRset {
            records,
            wire: wire.into_boxed_slice(),
            record_type,
        })
    }

    pub fn record_type(&self) -> RecordType {
        self.record_type
    }

    pub fn records(&self) -> &[Record] {
        &self.records
    }

    /// The pre-encoded records, each without its owner name.
    pub fn tails(&self) -> Tails<'_> {
        Tails::new(&self.wire)
    }

    /// Bytes of all tails together.
    pub fn tails_len(&self) -> usize {
        self.wire.len()
    }

    /// Number of records.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// The CNAME target as lower-case wire bytes (an index key), if this is a CNAME RRset.
    pub fn cname_key(&self) -> Option<&[u8]> {
        if self.record_type != RecordType::CNAME {
            return None;
        }
        self.wire.get(FIXED_LEN..)
    }

    /// The CNAME target, if this is a CNAME RRset.
    pub fn cname_target(&self) -> Option<&hickory_proto::rr::Name> {
        match &self.records.first()?.data {
            RData::CNAME(target) => Some(&target.0),
            _ => None,
        }
    }
}

/// What kind of name a node is; a few names are the zone's own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeRole {
    /// A name from objects, or an empty non-terminal.
    Ordinary,
    /// The zone apex: SOA and NS live here.
    Apex,
    /// `<apex>.<zone>` or `<secondary>.<zone>`: answers its glue, and nothing exists below it.
    NameServer,
}

/// Everything a reader needs about one name.
#[derive(Debug, PartialEq)]
pub struct NameNode {
    rrsets: Vec<RRset>,
    role: NodeRole,
    provenance: Option<Box<Provenance>>,
}

/// Why a name has the records it has: for `explain` and conflict reports.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Provenance {
    /// The Kind that won precedence.
    pub winner: Option<Kind>,
    /// Objects whose records are served here.
    pub sources: Vec<ObjectRef>,
    /// Claims that lost.
    pub conflicts: Vec<Conflict>,
}

impl NameNode {
    pub(crate) fn new(
        rrsets: Vec<RRset>,
        role: NodeRole,
        provenance: Option<Box<Provenance>>,
    ) -> NameNode {
        NameNode {
            rrsets,
            role,
            provenance,
        }
    }

    /// The node shared by every empty non-terminal.
    pub(crate) fn empty_non_terminal() -> Arc<NameNode> {
        Arc::new(NameNode::new(Vec::new(), NodeRole::Ordinary, None))
    }

    pub fn rrsets(&self) -> &[RRset] {
        &self.rrsets
    }

    pub fn rrset(&self, rtype: RecordType) -> Option<&RRset> {
        self.rrsets.iter().find(|r| r.record_type() == rtype)
    }

    pub fn cname(&self) -> Option<&RRset> {
        self.rrset(RecordType::CNAME)
    }

    pub fn role(&self) -> NodeRole {
        self.role
    }

    /// An empty non-terminal: exists, has no records.
    pub fn is_empty_non_terminal(&self) -> bool {
        self.rrsets.is_empty()
    }

    pub fn provenance(&self) -> Option<&Provenance> {
        self.provenance.as_deref()
    }
}
