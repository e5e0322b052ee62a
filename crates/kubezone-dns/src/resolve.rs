//! The answer to one question, from one catalog snapshot, as `spec/dns.md` lays out.
//!
//! Pure: no I/O and no clock, so every row of the answer table is unit-tested here.

use hickory_proto::{
    op::ResponseCode,
    rr::{Name, Record, RecordType},
};
use kubezone_index::{Catalog, Lookup, NameKey, NameNode, RRset, ZoneSnapshot};
use smallvec::SmallVec;

use crate::{FallthroughPolicy, locality::Client};

/// Longest CNAME chain followed inside our zones; longer chains are left to the resolver.
const MAX_CNAME_CHAIN: usize = 8;

/// Whose records an RRset holds in the answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Owner<'c> {
    /// The name asked, as the client wrote it: an exact match, or a wildcard synthesis.
    Query,
    /// Another name, as lower-case wire bytes (a CNAME target, the zone apex, a glue host).
    Name(&'c [u8]),
}

/// One RRset in a section, borrowed from the snapshot.
#[derive(Clone, Copy, Debug)]
pub struct Part<'c> {
    pub owner: Owner<'c>,
    pub rrset: &'c RRset,
}

impl Part<'_> {
    /// The records with their owner, for tests and tools; the answer path copies wire bytes.
    pub fn records(&self, qname: &Name) -> Vec<Record> {
        let owner = match self.owner {
            Owner::Query => Some(qname.clone()),
            Owner::Name(key) => NameKey::from_wire(key).and_then(|(key, _)| key.to_name()),
        };
        owner.map_or_else(Vec::new, |owner| self.rrset.records(&owner))
    }
}

/// RRsets of one section, in order. Inline sizes cover every answer kubezone builds except
/// long CNAME chains, so the common query allocates nothing.
pub type Section<'c> = SmallVec<[Part<'c>; 2]>;

/// What the server says back.
#[derive(Debug, Default)]
pub struct Answer<'c> {
    pub rcode: ResponseCode,
    pub authoritative: bool,
    pub answers: Section<'c>,
    pub authorities: Section<'c>,
    pub additionals: Section<'c>,
    /// The name the answer came from, in lower-case wire format: the query name's node, or the
    /// wildcard that covers it; the zone's origin for NXDOMAIN. Rate limiting counts responses
    /// by it, as BIND does.
    pub matched: &'c [u8],
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

/// Resolves `qname`/`qtype` against `catalog`, with every cluster's records at a
/// `local-first` name (the answer for a client kubezone cannot place).
pub fn resolve<'c>(
    catalog: &'c Catalog,
    qname: &NameKey,
    qtype: RecordType,
    fallthrough: &FallthroughPolicy,
) -> Resolution<'c> {
    resolve_in_zone(catalog, qname, qtype, fallthrough, &mut Client::anyone()).1
}

/// [`resolve`] for `client`, whose cluster picks the records of `local-first` names (looked up
/// only when the answer reaches one), also saying which zone (by index) the name fell in, for
/// per-zone counters.
pub fn resolve_in_zone<'c>(
    catalog: &'c Catalog,
    qname: &NameKey,
    qtype: RecordType,
    fallthrough: &FallthroughPolicy,
    client: &mut Client<'_>,
) -> (Option<usize>, Resolution<'c>) {
    let Some(zone) = catalog.zone_for(qname) else {
        return (None, Resolution::Refused);
    };
    (
        Some(zone.id()),
        resolve_zone(catalog, zone, qname, qtype, fallthrough, client),
    )
}

fn resolve_zone<'c>(
    catalog: &'c Catalog,
    zone: &'c ZoneSnapshot,
    key: &NameKey,
    qtype: RecordType,
    fallthrough: &FallthroughPolicy,
    client: &mut Client<'_>,
) -> Resolution<'c> {
    if !catalog.is_ready() {
        return Resolution::NotReady;
    }
    let mut answer = Answer {
        authoritative: true,
        ..Answer::default()
    };
    match zone.lookup(key) {
        Lookup::Found(node) | Lookup::Wildcard(node) => {
            answer.matched = node.key();
            answer_node(catalog, zone, node, key, qtype, client, &mut answer)
        }
        // DS belongs to the parent side of a cut (RFC 4035 §3.1.4.1): this zone has none.
        Lookup::Referral(cut) if qtype == RecordType::DS && cut.key() == key.as_bytes() => {
            answer.matched = cut.key();
            negative(zone, ResponseCode::NoError, &mut answer);
        }
        Lookup::Referral(cut) => {
            // Referrals are rate-limited by their delegation point, as BIND does.
            answer.matched = cut.key();
            referral(zone, cut, &mut answer);
        }
        Lookup::NxDomain { below_nameserver } => {
            if !below_nameserver && fallthrough.applies(zone.id(), key) {
                return Resolution::Fallthrough;
            }
            answer.matched = zone.origin_key();
            negative(zone, ResponseCode::NXDomain, &mut answer);
        }
    }
    Resolution::Answer(answer)
}

/// Answers from a node that exists, or a wildcard standing in for the query name, with the
/// RRsets `client` gets there.
fn answer_node<'c>(
    catalog: &'c Catalog,
    zone: &'c ZoneSnapshot,
    node: &'c NameNode,
    key: &NameKey,
    qtype: RecordType,
    client: &mut Client<'_>,
    answer: &mut Answer<'c>,
) {
    if qtype != RecordType::CNAME
        && let Some(cname) = client.rrset(node, RecordType::CNAME)
    {
        answer.answers.push(Part {
            owner: Owner::Query,
            rrset: cname,
        });
        follow_cname(catalog, cname, key, qtype, client, answer);
        return;
    }
    let rrset = match qtype {
        // RFC 8482: one RRset of the name, not all of them.
        RecordType::ANY => client.rrsets(node).first(),
        _ => client.rrset(node, qtype),
    };
    match rrset {
        Some(rrset) => {
            answer.answers.push(Part {
                owner: Owner::Query,
                rrset,
            });
            if rrset.record_type() == RecordType::NS {
                glue(zone, rrset, &mut answer.additionals);
            }
        }
        None => negative(zone, ResponseCode::NoError, answer),
    }
}

/// Adds what a CNAME target in our zones has of `qtype`; a target elsewhere is left to the
/// resolver. The rcode is that of the last name in the chain (RFC 6604). A loop ends at the
/// first name already in the chain (`qname` or an earlier target), so each RRset is in the
/// answer once, as NSD answers it.
fn follow_cname<'c>(
    catalog: &'c Catalog,
    first: &'c RRset,
    qname: &NameKey,
    qtype: RecordType,
    client: &mut Client<'_>,
    answer: &mut Answer<'c>,
) {
    let mut current = first;
    for _ in 0..MAX_CNAME_CHAIN {
        let Some(target) = current.cname_key() else {
            return;
        };
        // Targets and keys are both lower-case wire names, so bytes compare names.
        let repeated = target == qname.as_bytes()
            || answer
                .answers
                .iter()
                .any(|part| part.owner == Owner::Name(target));
        if repeated {
            return;
        }
        let Some((key, _)) = NameKey::from_wire(target) else {
            return;
        };
        let Some(zone) = catalog.zone_for(&key) else {
            return;
        };
        let owner = Owner::Name(target);
        let node = match zone.lookup(&key) {
            Lookup::Found(node) | Lookup::Wildcard(node) => node,
            // Delegated away: the resolver follows the chain from here.
            Lookup::Referral(_) => return,
            Lookup::NxDomain { .. } => {
                negative(zone, ResponseCode::NXDomain, answer);
                return;
            }
        };
        if let Some(next) = client.rrset(node, RecordType::CNAME) {
            if answer.answers.len() > MAX_CNAME_CHAIN {
                return;
            }
            answer.answers.push(Part { owner, rrset: next });
            current = next;
            continue;
        }
        let rrset = match qtype {
            RecordType::ANY => client.rrsets(node).first(),
            _ => client.rrset(node, qtype),
        };
        match rrset {
            Some(rrset) => answer.answers.push(Part { owner, rrset }),
            None => negative(zone, ResponseCode::NoError, answer),
        }
        return;
    }
}

/// A referral to the servers of a zone cut (RFC 1034 §4.3.2): not authoritative, the cut's NS
/// RRset in the authority section and the addresses of its targets in additional.
fn referral<'c>(zone: &'c ZoneSnapshot, cut: &'c NameNode, answer: &mut Answer<'c>) {
    answer.authoritative = false;
    if let Some(ns) = cut.rrset(RecordType::NS) {
        answer.authorities.push(Part {
            owner: Owner::Name(cut.key()),
            rrset: ns,
        });
        glue(zone, ns, &mut answer.additionals);
    }
}

/// The A and AAAA RRsets of the NS targets that lie in `zone`, glue below a cut included.
fn glue<'c>(zone: &'c ZoneSnapshot, ns: &'c RRset, additionals: &mut Section<'c>) {
    for target in ns.ns_keys() {
        let in_zone = NameKey::from_wire(target).is_some_and(|(key, _)| zone.contains(&key));
        if in_zone {
            additionals.extend(zone.addresses(target).map(|rrset| Part {
                owner: Owner::Name(target),
                rrset,
            }));
        }
    }
}

/// NXDOMAIN or NODATA: the zone's SOA in the authority section (RFC 2308).
fn negative<'c>(zone: &'c ZoneSnapshot, rcode: ResponseCode, answer: &mut Answer<'c>) {
    answer.rcode = rcode;
    if let Some(soa) = zone.negative_soa_rrset() {
        answer.authorities.push(Part {
            owner: Owner::Name(zone.origin_key()),
            rrset: soa,
        });
    }
}
