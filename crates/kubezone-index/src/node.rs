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

    /// An RRset from records of one type, owner and TTL (their owner is not kept); `None` when
    /// there are none or one does not encode. For tools and tests: the index builds its own.
    pub fn from_records(records: Vec<Record>) -> Option<RRset> {
        RRset::new(records)
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
#[derive(Clone, Debug, PartialEq)]
pub struct NameNode {
    key: OwnedKey,
    rrsets: Box<[RRset]>,
    role: NodeRole,
    why: Why,
    /// A `local-first` name's RRsets per cluster; `None` for every other name, so they cost
    /// one pointer and no allocation.
    local: Option<Box<Variants>>,
}

/// Per cluster id, sorted and unique, the RRsets its clients get: the node's whole answer for
/// them, not only the types that differ.
type Variants = Box<[(u16, Box<[RRset]>)]>;

/// A node's provenance, kept small for the common case of one object and no conflict.
#[derive(Clone, Debug, PartialEq)]
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
            local: None,
        }
    }

    /// This node with per-cluster variants of its RRsets (a `local-first` name): a client of
    /// cluster `id` gets that variant instead of [`NameNode::rrsets`], which stay the merged
    /// RRsets of every cluster. A cluster without RRsets has no variant (its clients get them
    /// all); of two variants for one cluster the first is kept. An empty list means none.
    pub fn with_local(mut self, local: Vec<(u16, Vec<RRset>)>) -> NameNode {
        let mut variants: Vec<(u16, Box<[RRset]>)> = local
            .into_iter()
            .filter(|(_, rrsets)| !rrsets.is_empty())
            .map(|(id, rrsets)| (id, rrsets.into_boxed_slice()))
            .collect();
        variants.sort_by_key(|(id, _)| *id);
        variants.dedup_by_key(|(id, _)| *id);
        self.local = (!variants.is_empty()).then(|| Box::new(variants.into_boxed_slice()));
        self
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

    /// The RRsets a client of `cluster` gets: its cluster's variant when this node has one,
    /// else the merged [`NameNode::rrsets`].
    pub fn rrsets_for(&self, cluster: Option<u16>) -> &[RRset] {
        if let (Some(local), Some(cluster)) = (self.local.as_deref(), cluster)
            && let Ok(at) = local.binary_search_by_key(&cluster, |(id, _)| *id)
            && let Some((_, rrsets)) = local.get(at)
        {
            return rrsets;
        }
        &self.rrsets
    }

    /// The RRset of `rtype` a client of `cluster` gets (see [`NameNode::rrsets_for`]).
    pub fn rrset_for(&self, rtype: RecordType, cluster: Option<u16>) -> Option<&RRset> {
        self.rrsets_for(cluster)
            .iter()
            .find(|r| r.record_type() == rtype)
    }

    /// Whether clients of some cluster get RRsets of their own here (a `local-first` name),
    /// so the answer depends on where the client is.
    #[inline]
    pub fn is_local_first(&self) -> bool {
        self.local.is_some()
    }

    /// The per-cluster variants by cluster id, for tools; zone transfer serves the merged
    /// RRsets.
    pub fn local(&self) -> impl Iterator<Item = (u16, &[RRset])> {
        self.local
            .as_deref()
            .into_iter()
            .flat_map(|local| local.iter().map(|(id, rrsets)| (*id, &rrsets[..])))
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
        // What some clients are served changes the zone as well.
        for (id, rrsets) in self.local() {
            id.hash(&mut hasher);
            for rrset in rrsets {
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

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use hickory_proto::rr::{RData, rdata::A};

    use super::*;

    fn a(last: u8) -> RRset {
        let owner = Name::from_str("app.example.com.").expect("name");
        let record = Record::from_rdata(owner, 60, RData::A(A::new(10, 0, 0, last)));
        RRset::from_records(vec![record]).expect("an RRset")
    }

    fn node() -> NameNode {
        let key = OwnedKey::from(&b"\x03app\x07example\x03com\x00"[..]);
        NameNode::new(key, vec![a(1)], NodeRole::Ordinary, None)
    }

    #[test]
    fn a_cluster_with_a_variant_gets_it_and_every_other_client_the_merged_rrsets() {
        let plain = node();
        assert!(!plain.is_local_first());
        assert_eq!(plain.rrsets_for(Some(1)), plain.rrsets());
        let local = node().with_local(vec![(2, vec![a(2)]), (1, vec![a(3)])]);
        assert!(local.is_local_first());
        assert_eq!(local.rrsets_for(Some(1)), &[a(3)]);
        assert_eq!(local.rrsets_for(Some(2)), &[a(2)]);
        assert_eq!(local.rrsets_for(Some(9)), &[a(1)]);
        assert_eq!(local.rrsets_for(None), &[a(1)]);
        assert_eq!(local.rrset_for(RecordType::A, Some(2)), Some(&a(2)));
        assert_eq!(local.rrset_for(RecordType::AAAA, Some(2)), None);
        assert_eq!(local.rrset(RecordType::A), Some(&a(1)));
        assert_eq!(local.local().map(|(id, _)| id).collect::<Vec<_>>(), [1, 2]);
    }

    #[test]
    fn empty_variants_are_none_and_the_first_of_one_cluster_is_kept() {
        assert!(!node().with_local(Vec::new()).is_local_first());
        assert!(!node().with_local(vec![(1, Vec::new())]).is_local_first());
        let twice = node().with_local(vec![(1, vec![a(4)]), (1, vec![a(5)])]);
        assert_eq!(twice.rrsets_for(Some(1)), &[a(4)]);
    }

    #[test]
    fn variants_count_in_equality_and_the_content_hash() {
        let local = node().with_local(vec![(1, vec![a(3)])]);
        assert_ne!(node(), local);
        assert_ne!(node().content_hash(), local.content_hash());
        let other = node().with_local(vec![(2, vec![a(3)])]);
        assert_ne!(local, other);
        assert_ne!(local.content_hash(), other.content_hash());
        assert_eq!(local, node().with_local(vec![(1, vec![a(3)])]));
    }
}
