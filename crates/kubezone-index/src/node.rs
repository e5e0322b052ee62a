//! What a reader finds at a name: pre-built RRsets and why they are there.

use std::{borrow::Cow, sync::Arc};

use hickory_proto::rr::{Name, Record, RecordType};
use kubezone_model::{DnsName, Kind, ObjectRef};

use crate::{
    Conflict,
    key::OwnedKey,
    wire::{FIXED_LEN, Tails, decode, encode_tail, rdata_bytes},
};

/// Every record of one type at one name, built once when the name changes and kept only in
/// wire form: the answer path copies the bytes, and tools decode them on demand.
#[derive(Clone, Debug, PartialEq)]
pub struct RRset {
    /// The records' wire form after the owner name; see [`crate::wire`].
    wire: Box<[u8]>,
    record_type: RecordType,
    len: u16,
}

impl RRset {
    /// `records` must be non-empty, of one type, with one owner and one TTL.
    pub(crate) fn new(records: Vec<Record>) -> Option<RRset> {
        let first = records.first()?;
        let (rtype, ttl) = (first.record_type(), first.ttl);
        let rdatas: Vec<Vec<u8>> = records
            .iter()
            .map(|r| rdata_bytes(&r.data))
            .collect::<Option<_>>()?;
        RRset::from_rdatas(rtype, ttl, rdatas.iter().map(Vec::as_slice))
    }

    /// An RRset of `rtype` from RDATA in wire form; `None` when there is none.
    pub(crate) fn from_rdatas<'a>(
        rtype: RecordType,
        ttl: u32,
        rdatas: impl IntoIterator<Item = &'a [u8]>,
    ) -> Option<RRset> {
        let mut wire = Vec::new();
        let mut len: u16 = 0;
        for rdata in rdatas {
            encode_tail(rtype, ttl, rdata, &mut wire)?;
            len = len.checked_add(1)?;
        }
        (len > 0).then(|| RRset {
            wire: wire.into_boxed_slice(),
            record_type: rtype,
            len,
        })
    }

    pub fn record_type(&self) -> RecordType {
        self.record_type
    }

    /// The records, owned by `owner`: decoded from the wire form, for tools and tests.
    pub fn records(&self, owner: &Name) -> Vec<Record> {
        decode(owner, self.tails())
    }

    /// The pre-encoded records, each without its owner name.
    pub fn tails(&self) -> Tails<'_> {
        Tails::new(&self.wire)
    }

    /// Number of records.
    pub fn len(&self) -> usize {
        usize::from(self.len)
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The CNAME target as lower-case wire bytes (an index key), if this is a CNAME RRset.
    pub fn cname_key(&self) -> Option<&[u8]> {
        if self.record_type != RecordType::CNAME {
            return None;
        }
        self.wire.get(FIXED_LEN..)
    }

    /// The target names of an NS RRset as lower-case wire bytes (index keys).
    pub fn ns_keys(&self) -> impl Iterator<Item = &[u8]> {
        let ns = self.record_type == RecordType::NS;
        self.tails().rdatas().filter(move |_| ns)
    }

    /// The TTL of the records (an RRset has one, RFC 2181 §5.2).
    pub fn ttl(&self) -> u32 {
        self.wire
            .get(4..8)
            .and_then(|b| b.try_into().ok())
            .map_or(0, u32::from_be_bytes)
    }

    /// The CNAME target, if this is a CNAME RRset.
    pub fn cname_target(&self) -> Option<Name> {
        let key = self.cname_key()?;
        crate::NameKey::from_wire(key).and_then(|(key, _)| key.to_name())
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
    /// A zone cut: an NS RRset below the apex hands this name and everything below it to other
    /// servers, so queries get a referral.
    Delegation,
}

/// Everything a reader needs about one name.
#[derive(Debug, PartialEq)]
pub struct NameNode {
    key: OwnedKey,
    rrsets: Box<[RRset]>,
    role: NodeRole,
    why: Why,
}

/// A node's provenance, kept small for the common case of one object and no conflict.
#[derive(Debug, PartialEq)]
enum Why {
    Nothing,
    One(ObjectRef),
    Full(Box<Provenance>),
}

impl Why {
    fn new(provenance: Option<Provenance>) -> Why {
        match provenance {
            None => Why::Nothing,
            Some(p) => match (&p.winner, &p.sources[..], &p.conflicts[..], &p.notes[..]) {
                (Some(winner), [one], [], [])
                    if one.kind() == *winner && p.reverse_of.is_none() =>
                {
                    Why::One(one.clone())
                }
                _ => Why::Full(Box::new(p)),
            },
        }
    }
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
    /// What the served objects say about their targets (a kuberoute failover and its reason).
    pub notes: Vec<(ObjectRef, Arc<str>)>,
    /// In a reverse zone, the forward name whose address this name is the reverse of, when
    /// its PTR comes from the forward zones; the object behind that address is in `sources`.
    pub reverse_of: Option<DnsName>,
}

impl NameNode {
    pub(crate) fn new(
        key: OwnedKey,
        rrsets: Vec<RRset>,
        role: NodeRole,
        provenance: Option<Provenance>,
    ) -> NameNode {
        NameNode {
            key,
            rrsets: rrsets.into_boxed_slice(),
            role,
            why: Why::new(provenance),
        }
    }

    pub(crate) fn empty_non_terminal(key: OwnedKey) -> NameNode {
        NameNode::new(key, Vec::new(), NodeRole::Ordinary, None)
    }

    /// The name as lower-case wire bytes.
    pub fn key(&self) -> &[u8] {
        &self.key
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

    /// A hash of what this node serves (its key, role and RRsets, the SOA left out since the
    /// serial lives there), for telling whether a zone's content changed.
    pub(crate) fn content_hash(&self) -> u64 {
        use std::hash::{DefaultHasher, Hash, Hasher};
        let mut hasher = DefaultHasher::new();
        self.key.hash(&mut hasher);
        (self.role as u8).hash(&mut hasher);
        for rrset in self.rrsets.iter() {
            if rrset.record_type != RecordType::SOA {
                rrset.wire.hash(&mut hasher);
            }
        }
        hasher.finish()
    }

    /// An empty non-terminal: exists, has no records.
    pub fn is_empty_non_terminal(&self) -> bool {
        self.rrsets.is_empty()
    }

    pub fn provenance(&self) -> Option<Cow<'_, Provenance>> {
        match &self.why {
            Why::Nothing => None,
            Why::One(object) => Some(Cow::Owned(Provenance {
                winner: Some(object.kind()),
                sources: vec![object.clone()],
                conflicts: Vec::new(),
                notes: Vec::new(),
                reverse_of: None,
            })),
            Why::Full(provenance) => Some(Cow::Borrowed(provenance)),
        }
    }
}
