//! The answer to one question, from one catalog snapshot, as `spec/dns.md` lays out.
//!
//! Pure: no I/O and no clock, so every row of the answer table is unit-tested here.

use std::borrow::Cow;

use hickory_proto::{
    op::ResponseCode,
    rr::{Name, Record, RecordType},
};
use kubezone_index::{Catalog, Lookup, NameKey, NameNode, RRset, ZoneSnapshot};

use crate::FallthroughPolicy;

/// Longest CNAME chain followed inside our zones; longer chains are left to the resolver.
const MAX_CNAME_CHAIN: usize = 8;

/// Records of one RRset in a section: borrowed from the snapshot, or synthesised from a
/// wildcard with the query name as owner.
pub type Section<'c> = Vec<Cow<'c, [Record]>>;

/// What the server says back.
#[derive(Debug, Default)]
pub struct Answer<'c> {
    pub rcode: ResponseCode,
    pub authoritative: bool,
    pub answers: Section<'c>,
    pub authorities: Section<'c>,
    pub additionals: Section<'c>,
}

/// The outcome of resolving one question.
#[derive(Debug)]
pub enum Resolution<'c> {
    Answer(Answer<'c>),
    /// The name is not ours, or would be NXDOMAIN in a zone that falls through: ask upstream.
    Fallthrough,
    /// No zone holds the name and nothing falls through.
    Refused,
    /// The sources have not finished their first sync.
    NotReady,
}

/// Resolves `qname`/`qtype` against `catalog`.
pub fn resolve<'c>(
    catalog: &'c Catalog,
    qname: &Name,
    qtype: RecordType,
    fallthrough: &FallthroughPolicy,
) -> Resolution<'c> {
    resolve_in_zone(catalog, qname, qtype, fallthrough).1
}

/// [`resolve`], also saying which zone (by index) the name fell in, for per-zone counters.
pub fn resolve_in_zone<'c>(
    catalog: &'c Catalog,
    qname: &Name,
    qtype: RecordType,
    fallthrough: &FallthroughPolicy,
) -> (Option<usize>, Resolution<'c>) {
    let Some(key) = NameKey::new(qname) else {
        return (None, Resolution::Refused);
    };
    let Some(zone) = catalog.zone_for(&key) else {
        return (None, Resolution::Refused);
    };
    (
        Some(zone.id()),
        resolve_zone(catalog, zone, &key, qname, qtype, fallthrough),
    )
}

fn resolve_zone<'c>(
    catalog: &'c Catalog,
    zone: &'c ZoneSnapshot,
    key: &NameKey,
    qname: &Name,
    qtype: RecordType,
    fallthrough: &FallthroughPolicy,
) -> Resolution<'c> {
    if !catalog.is_ready() {
        return Resolution::NotReady;
    }
    let mut answer = Answer {
        authoritative: true,
        ..Answer::default()
    };
    match zone.lookup(key) {
        Lookup::Found(node) => answer_node(catalog, zone, node, None, qtype, &mut answer),
        Lookup::Wildcard(node) => answer_node(catalog, zone, node, Some(qname), qtype, &mut answer),
        Lookup::NxDomain { below_nameserver } => {
            if !below_nameserver && fallthrough.applies(zone.id(), key) {
                return Resolution::Fallthrough;
            }
            negative(zone, ResponseCode::NXDomain, &mut answer);
        }
    }
    Resolution::Answer(answer)
}

/// Answers from a node that exists (or a wildcard standing in for `owner`).
fn answer_node<'c>(
    catalog: &'c Catalog,
    zone: &'c ZoneSnapshot,
    node: &'c NameNode,
    owner: Option<&Name>,
    qtype: RecordType,
    answer: &mut Answer<'c>,
) {
    if qtype != RecordType::CNAME
        && let Some(cname) = node.cname()
    {
        answer.answers.push(owned_by(cname, owner));
        follow_cname(catalog, cname, qtype, answer);
        return;
    }
    let rrset = match qtype {
        // RFC 8482: one RRset of the name, not all of them.
        RecordType::ANY => node.rrsets().first(),
        _ => node.rrset(qtype),
    };
    match rrset {
        Some(rrset) => {
            answer.answers.push(owned_by(rrset, owner));
            if rrset.record_type() == RecordType::NS {
                answer.additionals.push(Cow::Borrowed(zone.glue()));
            }
        }
        None => negative(zone, ResponseCode::NoError, answer),
    }
}

/// Adds what a CNAME target in our zones has of `qtype`; a target elsewhere is left to the
/// resolver. The rcode is that of the last name in the chain (RFC 6604).
fn follow_cname<'c>(
    catalog: &'c Catalog,
    first: &'c RRset,
    qtype: RecordType,
    answer: &mut Answer<'c>,
) {
    let mut current = first;
    for _ in 0..MAX_CNAME_CHAIN {
        let Some(target) = current.cname_target() else {
            return;
        };
        let Some(key) = NameKey::new(target) else {
            return;
        };
        let Some(zone) = catalog.zone_for(&key) else {
            return;
        };
        let (node, owner) = match zone.lookup(&key) {
            Lookup::Found(node) => (node, None),
            Lookup::Wildcard(node) => (node, Some(target)),
            Lookup::NxDomain { .. } => {
                negative(zone, ResponseCode::NXDomain, answer);
                return;
            }
        };
        if let Some(next) = node.cname() {
            if answer.answers.len() > MAX_CNAME_CHAIN {
                return;
            }
            answer.answers.push(owned_by(next, owner));
            current = next;
            continue;
        }
        let rrset = match qtype {
            RecordType::ANY => node.rrsets().first(),
            _ => node.rrset(qtype),
        };
        match rrset {
            Some(rrset) => answer.answers.push(owned_by(rrset, owner)),
            None => negative(zone, ResponseCode::NoError, answer),
        }
        return;
    }
}

/// NXDOMAIN or NODATA: the zone's SOA in the authority section (RFC 2308).
fn negative<'c>(zone: &'c ZoneSnapshot, rcode: ResponseCode, answer: &mut Answer<'c>) {
    answer.rcode = rcode;
    answer
        .authorities
        .push(Cow::Borrowed(std::slice::from_ref(zone.negative_soa())));
}

/// The RRset as stored, or re-owned by the query name for a wildcard answer.
fn owned_by<'c>(rrset: &'c RRset, owner: Option<&Name>) -> Cow<'c, [Record]> {
    match owner {
        None => Cow::Borrowed(rrset.records()),
        Some(owner) => Cow::Owned(
            rrset
                .records()
                .iter()
                .map(|r| {
                    let mut r = r.clone();
                    r.name = owner.clone();
                    r
                })
                .collect(),
        ),
    }
}
