//! Reverse zones: PTR records for the addresses the forward zones serve.
//!
//! A zone whose origin is under `in-addr.arpa.` or `ip6.arpa.` and whose labels are octets
//! (nibbles) holds the reverse names of an address prefix. The forward zones report, for each
//! name they rebuild, the addresses it now serves ([`AddressChange`]); [`ReverseIndex`] keeps who
//! serves each address a reverse zone covers, ordered so that the first is the one the PTR
//! points at, and hands back the PTRs whose target may have moved. The cost of a change is
//! that of the names it rebuilt, whatever the size of the zones.

use std::{cmp::Ordering, collections::BTreeMap, net::IpAddr};

use hashbrown::HashMap;
use hickory_proto::rr::{RData, RecordType, rdata::PTR};
use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use kubezone_model::{DnsName, ObjectRef, RecordData, Target};
use smallvec::SmallVec;

use crate::{
    NameKey, NameNode,
    build::Claim,
    key::{OwnedKey, parent_of},
};

/// Why a zone under `in-addr.arpa.` or `ip6.arpa.` cannot hold the reverse name of any address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReverseZoneError {
    #[error(
        "{zone}: label {label:?} is not an octet (0 to 255, without leading zeros), so no IPv4 address has its reverse name in this zone"
    )]
    NotAnOctet { zone: String, label: String },
    #[error(
        "{zone}: {labels} labels below in-addr.arpa., but an IPv4 address's reverse name has 4"
    )]
    TooManyOctets { zone: String, labels: usize },
    #[error(
        "{zone}: label {label:?} is not a nibble (one hex digit), so no IPv6 address has its reverse name in this zone"
    )]
    NotANibble { zone: String, label: String },
    #[error("{zone}: {labels} labels below ip6.arpa., but an IPv6 address's reverse name has 32")]
    TooManyNibbles { zone: String, labels: usize },
}

/// The addresses whose reverse names `origin` holds: `Some` for a reverse zone, `None` for any
/// other zone, including an RFC 2317 classless zone (`0/25.2.0.192.in-addr.arpa.`), whose names
/// are not reverse names and which is served as an ordinary zone.
pub fn reverse_network(origin: &DnsName) -> Result<Option<IpNet>, ReverseZoneError> {
    let labels: Vec<&[u8]> = origin.as_name().iter().collect();
    let zone = || origin.to_string();
    match labels.as_slice() {
        [below @ .., family, arpa] if arpa.eq_ignore_ascii_case(b"arpa") => {
            if family.eq_ignore_ascii_case(b"in-addr") {
                v4_network(below, zone)
            } else if family.eq_ignore_ascii_case(b"ip6") {
                v6_network(below, zone).map(Some)
            } else {
                Ok(None)
            }
        }
        _ => Ok(None),
    }
}

fn v4_network(
    below: &[&[u8]],
    zone: impl Fn() -> String,
) -> Result<Option<IpNet>, ReverseZoneError> {
    if below
        .iter()
        .any(|label| !label.iter().all(u8::is_ascii_digit))
    {
        return Ok(None);
    }
    if below.len() > 4 {
        return Err(ReverseZoneError::TooManyOctets {
            zone: zone(),
            labels: below.len(),
        });
    }
    let mut octets = [0u8; 4];
    // The labels name the address from its last octet, so the rightmost is the first.
    for (octet, label) in octets.iter_mut().zip(below.iter().rev()) {
        let text = String::from_utf8_lossy(label);
        *octet = match text.parse::<u8>() {
            Ok(value) if value.to_string() == text => value,
            _ => {
                return Err(ReverseZoneError::NotAnOctet {
                    zone: zone(),
                    label: text.into_owned(),
                });
            }
        };
    }
    let bits = u8::try_from(below.len() * 8).unwrap_or(32);
    Ok(Ipv4Net::new(octets.into(), bits).ok().map(IpNet::V4))
}

fn v6_network(below: &[&[u8]], zone: impl Fn() -> String) -> Result<IpNet, ReverseZoneError> {
    if below.len() > 32 {
        return Err(ReverseZoneError::TooManyNibbles {
            zone: zone(),
            labels: below.len(),
        });
    }
    let mut address: u128 = 0;
    for (i, label) in below.iter().rev().enumerate() {
        let nibble = match label {
            [digit] => char::from(*digit).to_digit(16),
            _ => None,
        };
        let Some(nibble) = nibble else {
            return Err(ReverseZoneError::NotANibble {
                zone: zone(),
                label: String::from_utf8_lossy(label).into_owned(),
            });
        };
        address |= u128::from(nibble) << (124 - 4 * i);
    }
    let bits = u8::try_from(below.len() * 4).unwrap_or(128);
    Ipv6Net::new(address.into(), bits)
        .map(IpNet::V6)
        .map_err(|_| ReverseZoneError::TooManyNibbles {
            zone: zone(),
            labels: below.len(),
        })
}

/// The reverse name of `addr` (`1.0.0.10.in-addr.arpa.`, nibbles in lower case under
/// `ip6.arpa.`) as an index key.
pub(crate) fn reverse_key(addr: IpAddr) -> OwnedKey {
    let mut key = Vec::with_capacity(74);
    match addr {
        IpAddr::V4(v4) => {
            for octet in v4.octets().iter().rev() {
                let text = octet.to_string();
                key.push(text.len() as u8);
                key.extend_from_slice(text.as_bytes());
            }
            key.extend_from_slice(b"\x07in-addr\x04arpa\x00");
        }
        IpAddr::V6(v6) => {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            for byte in v6.octets().iter().rev() {
                for nibble in [byte & 0x0f, byte >> 4] {
                    key.push(1);
                    key.push(HEX.get(usize::from(nibble)).copied().unwrap_or(b'0'));
                }
            }
            key.extend_from_slice(b"\x03ip6\x04arpa\x00");
        }
    }
    key.into()
}

/// Orders two keys as RFC 4034 §6.1 orders names: label by label from the root, a label that
/// is a prefix of another first. Keys are lower case already.
pub(crate) fn canonical_cmp(a: &[u8], b: &[u8]) -> Ordering {
    let (a, b) = (labels(a), labels(b));
    a.iter()
        .rev()
        .zip(b.iter().rev())
        .map(|(x, y)| x.cmp(y))
        .find(|o| o.is_ne())
        .unwrap_or_else(|| a.len().cmp(&b.len()))
}

fn labels(key: &[u8]) -> SmallVec<[&[u8]; 8]> {
    let mut out = SmallVec::new();
    let mut rest = key;
    while let Some(&len) = rest.first() {
        let len = usize::from(len);
        let Some(label) = rest.get(1..=len).filter(|_| len > 0) else {
            break;
        };
        out.push(label);
        rest = rest.get(len + 1..).unwrap_or_default();
    }
    out
}

/// Whether `key` is `ancestor` or below it.
pub(crate) fn at_or_below(key: &[u8], ancestor: &[u8]) -> bool {
    let mut current = Some(key);
    while let Some(name) = current {
        if name.len() < ancestor.len() {
            return false;
        }
        if name == ancestor {
            return true;
        }
        current = parent_of(name);
    }
    false
}

/// One address a forward name serves, and where it comes from.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ServedAddress {
    pub addr: IpAddr,
    /// The rank of the claim that gave it: 0 for the config (static records, nameserver glue),
    /// else 1 + its Kind's place in its zone's `resources`.
    pub rank: u8,
    pub object: ObjectRef,
    /// When that object was written (unix seconds; 0 unknown), for the reverse zone's serial.
    pub written: u32,
}

/// What one name of a forward zone serves after a rebuild (nothing: it stopped serving any).
#[derive(Debug)]
pub(crate) struct AddressChange {
    pub name: OwnedKey,
    pub served: Vec<ServedAddress>,
}

/// The PTR a reverse name serves: its forward name and the object behind that name's address.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Ptr {
    pub target: OwnedKey,
    pub object: ObjectRef,
    pub written: u32,
}

/// A reverse name whose PTR may have changed: `ptr` is what it serves now (`None`: no address
/// maps there any more).
#[derive(Debug)]
pub(crate) struct PtrChange {
    pub zone: usize,
    pub name: OwnedKey,
    pub ptr: Option<Ptr>,
}

/// The rank of a derived PTR in its reverse zone: after every Kind, so that the zone's own
/// objects and static records at a reverse name come first.
pub(crate) const DERIVED_RANK: u8 = u8::MAX;

/// The claim a derived PTR makes on its reverse name.
pub(crate) fn ptr_claim(ptr: &Ptr) -> Option<Claim> {
    let target = NameKey::from_wire(&ptr.target)?.0.to_name()?;
    let data = RecordData::from_rdata(&RData::PTR(PTR(target))).ok()?;
    Some(Claim {
        rank: DERIVED_RANK,
        object: ptr.object.clone(),
        targets: vec![Target::Record(data)],
        ttl: None,
        note: None,
        global: None,
    })
}

/// Whether a derived PTR is served beside `claims` (a reverse name's admitted claims): only
/// where no object of the reverse zone claims the name, and the static records set no PTR,
/// CNAME or NS there (which replace it, or make the name an alias or a zone cut).
pub(crate) fn ptr_fits(claims: &[Claim]) -> bool {
    claims.iter().all(|claim| {
        claim.rank == 0
            && claim.targets.iter().all(|target| {
                let rtype = match target {
                    Target::Host(_) => RecordType::CNAME,
                    Target::Record(record) => record.record_type(),
                    _ => return true,
                };
                !matches!(rtype, RecordType::PTR | RecordType::CNAME | RecordType::NS)
            })
    })
}

/// The addresses `node` serves (its A and AAAA RRsets), each with the first of `claims` (sorted
/// by rank) among the node's sources that gave it. `nameserver` stands for the nameserver
/// host's glue, which no claim gives.
pub(crate) fn served_addresses(
    node: &NameNode,
    claims: &[Claim],
    nameserver: Option<&ObjectRef>,
    written: impl Fn(&ObjectRef) -> u32,
) -> Vec<ServedAddress> {
    let addrs: SmallVec<[IpAddr; 2]> = node_addresses(node).collect();
    if addrs.is_empty() {
        return Vec::new();
    }
    if let Some(object) = nameserver {
        return addrs
            .into_iter()
            .map(|addr| ServedAddress {
                addr,
                rank: 0,
                object: object.clone(),
                written: 0,
            })
            .collect();
    }
    let provenance = node.provenance();
    let sources = provenance.as_deref().map_or(&[][..], |p| &p.sources[..]);
    addrs
        .into_iter()
        .filter_map(|addr| {
            let claim = claims.iter().find(|claim| {
                sources.contains(&claim.object)
                    && claim.targets.iter().any(|t| target_addr(t) == Some(addr))
            })?;
            Some(ServedAddress {
                addr,
                rank: claim.rank,
                object: claim.object.clone(),
                written: written(&claim.object),
            })
        })
        .collect()
}

/// The addresses in a node's A and AAAA RRsets.
pub(crate) fn node_addresses(node: &NameNode) -> impl Iterator<Item = IpAddr> + '_ {
    [RecordType::A, RecordType::AAAA]
        .into_iter()
        .filter_map(|rtype| node.rrset(rtype))
        .flat_map(|rrset| rrset.tails().rdatas())
        .filter_map(addr_of)
}

fn addr_of(rdata: &[u8]) -> Option<IpAddr> {
    match rdata.len() {
        4 => <[u8; 4]>::try_from(rdata).ok().map(IpAddr::from),
        16 => <[u8; 16]>::try_from(rdata).ok().map(IpAddr::from),
        _ => None,
    }
}

/// The address a target serves, if it is an A or AAAA record.
fn target_addr(target: &Target) -> Option<IpAddr> {
    match target {
        Target::V4(a) => Some(IpAddr::V4(*a)),
        Target::V6(a) => Some(IpAddr::V6(*a)),
        Target::Record(record)
            if matches!(record.record_type(), RecordType::A | RecordType::AAAA) =>
        {
            addr_of(record.rdata())
        }
        _ => None,
    }
}

/// One forward name serving one address, in the order that picks the PTR's target: the
/// address, then the rank of what gave it (the config first, then its Kind's place in
/// `resources`), then the name in canonical order, then the zone. Replicas receive the same
/// objects in different orders (watch events interleave, files are read as they come), so the
/// choice depends only on the set of claimants, never on which arrived first; canonical order
/// is the one DNSSEC and zone files use, defined for any two names whatever their case.
#[derive(Clone, Debug, PartialEq, Eq)]
struct ClaimantKey {
    addr: IpAddr,
    rank: u8,
    name: OwnedKey,
    zone: usize,
}

impl Ord for ClaimantKey {
    fn cmp(&self, other: &Self) -> Ordering {
        self.addr
            .cmp(&other.addr)
            .then(self.rank.cmp(&other.rank))
            .then_with(|| canonical_cmp(&self.name, &other.name))
            .then(self.zone.cmp(&other.zone))
    }
}

impl PartialOrd for ClaimantKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// The object behind a claimant's address.
#[derive(Clone, Debug)]
struct Claimant {
    object: ObjectRef,
    written: u32,
}

/// The (address, rank) pairs one forward name claims.
type Claimed = SmallVec<[(IpAddr, u8); 2]>;

/// Who serves each address that a reverse zone covers.
pub(crate) struct ReverseIndex {
    /// The reverse zones (id, the addresses they hold), the most specific first: an address
    /// gets its PTR in the longest zone, the one queries for its reverse name reach.
    zones: Vec<(usize, IpNet)>,
    /// Every (address, forward name) pair, in the order above; one ordered map, so an address
    /// that thousands of names share (an ingress controller's) costs a lookup, not a scan.
    claimants: BTreeMap<ClaimantKey, Claimant>,
    /// What each forward name (zone, key) claims here, to take it back on the next change.
    names: HashMap<(usize, OwnedKey), Claimed>,
    /// Addresses whose claimants changed since the PTRs were last computed.
    touched: Vec<IpAddr>,
}

impl ReverseIndex {
    /// `None` when the config has no reverse zone: nothing is tracked then.
    pub(crate) fn new(mut zones: Vec<(usize, IpNet)>) -> Option<ReverseIndex> {
        if zones.is_empty() {
            return None;
        }
        zones.sort_by_key(|(id, net)| (std::cmp::Reverse(net.prefix_len()), *id));
        Some(ReverseIndex {
            zones,
            claimants: BTreeMap::new(),
            names: HashMap::new(),
            touched: Vec::new(),
        })
    }

    /// The reverse zone that holds `addr`'s reverse name.
    fn zone_of(&self, addr: IpAddr) -> Option<usize> {
        self.zones
            .iter()
            .find(|(_, net)| net.contains(&addr))
            .map(|(id, _)| *id)
    }

    /// Takes in what names of forward zone `zone` serve now.
    pub(crate) fn record(&mut self, zone: usize, changes: Vec<AddressChange>) {
        for change in changes {
            let id = (zone, change.name);
            for (addr, rank) in self.names.remove(&id).unwrap_or_default() {
                self.claimants.remove(&ClaimantKey {
                    addr,
                    rank,
                    name: id.1.clone(),
                    zone,
                });
                self.touched.push(addr);
            }
            let mut claimed = Claimed::new();
            for served in change.served {
                if self.zone_of(served.addr).is_none() {
                    continue;
                }
                self.claimants.insert(
                    ClaimantKey {
                        addr: served.addr,
                        rank: served.rank,
                        name: id.1.clone(),
                        zone,
                    },
                    Claimant {
                        object: served.object,
                        written: served.written,
                    },
                );
                claimed.push((served.addr, served.rank));
                self.touched.push(served.addr);
            }
            if !claimed.is_empty() {
                self.names.insert(id, claimed);
            }
        }
    }

    /// The PTR each address touched since the last call serves now.
    pub(crate) fn take_changes(&mut self) -> Vec<PtrChange> {
        let mut touched = std::mem::take(&mut self.touched);
        touched.sort_unstable();
        touched.dedup();
        touched
            .into_iter()
            .filter_map(|addr| {
                Some(PtrChange {
                    zone: self.zone_of(addr)?,
                    name: reverse_key(addr),
                    ptr: self.first(addr),
                })
            })
            .collect()
    }

    /// The first claimant of `addr`, as a PTR.
    fn first(&self, addr: IpAddr) -> Option<Ptr> {
        let lowest = ClaimantKey {
            addr,
            rank: 0,
            // The root sorts before every name.
            name: OwnedKey::from(&[0u8][..]),
            zone: 0,
        };
        let (key, claimant) = self.claimants.range(lowest..).next()?;
        (key.addr == addr).then(|| Ptr {
            target: key.name.clone(),
            object: claimant.object.clone(),
            written: claimant.written,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use hickory_proto::rr::Name;
    use kubezone_model::Kind;

    use super::*;

    fn network(zone: &str) -> Result<Option<IpNet>, ReverseZoneError> {
        reverse_network(&DnsName::parse(zone).expect("name"))
    }

    fn net(s: &str) -> Option<IpNet> {
        Some(IpNet::from_str(s).expect("net"))
    }

    #[test]
    fn reverse_origins_map_to_their_prefix() {
        assert_eq!(network("10.in-addr.arpa"), Ok(net("10.0.0.0/8")));
        assert_eq!(network("2.0.192.In-Addr.Arpa."), Ok(net("192.0.2.0/24")));
        assert_eq!(network("1.2.0.192.in-addr.arpa"), Ok(net("192.0.2.1/32")));
        assert_eq!(network("in-addr.arpa"), Ok(net("0.0.0.0/0")));
        assert_eq!(
            network("8.b.d.0.1.0.0.2.ip6.arpa"),
            Ok(net("2001:db8::/32"))
        );
        assert_eq!(network("D.0.1.0.0.2.IP6.ARPA"), Ok(net("2001:d00::/24")));
        assert_eq!(network("ip6.arpa"), Ok(net("::/0")));
    }

    #[test]
    fn other_zones_and_classless_zones_are_not_reverse_zones() {
        assert_eq!(network("example.com"), Ok(None));
        assert_eq!(network("arpa"), Ok(None));
        assert_eq!(network("home.arpa"), Ok(None));
        assert_eq!(network("0-25.2.0.192.in-addr.arpa"), Ok(None));
    }

    #[test]
    fn labels_no_address_can_have_are_errors_naming_the_label() {
        let err = network("300.10.in-addr.arpa").expect_err("not an octet");
        assert!(err.to_string().contains("\"300\""), "{err}");
        assert!(network("010.in-addr.arpa").is_err(), "a leading zero");
        assert!(network("1.2.3.4.5.in-addr.arpa").is_err());
        let err = network("ab.ip6.arpa").expect_err("not a nibble");
        assert!(err.to_string().contains("\"ab\""), "{err}");
        assert!(network("g.ip6.arpa").is_err());
        let long = format!("{}ip6.arpa", "0.".repeat(33));
        assert!(network(&long).is_err());
    }

    #[test]
    fn reverse_keys_are_the_names_hickory_makes() {
        for addr in ["10.0.0.1", "192.0.2.255", "2001:db8::1", "::ffff:10.0.0.1"] {
            let addr: IpAddr = addr.parse().expect("ip");
            let name = Name::from(addr);
            let key = NameKey::new(&name).expect("key");
            assert_eq!(&*reverse_key(addr), key.as_bytes(), "{addr}");
        }
    }

    fn key(name: &str) -> OwnedKey {
        crate::key::owned_key(&Name::from_ascii(name).expect("name")).expect("key")
    }

    #[test]
    fn canonical_order_is_hickorys() {
        let names = [
            "example.",
            "a.example.",
            "yljkjljk.a.example.",
            "z.a.example.",
            "zabc.a.example.",
            "z.example.",
            "*.z.example.",
            "b.example.",
            "example.org.",
            "a.b.",
        ];
        let mut by_key: Vec<&str> = names.to_vec();
        by_key.sort_by(|a, b| canonical_cmp(&key(a), &key(b)));
        let mut by_name: Vec<&str> = names.to_vec();
        by_name.sort_by_key(|n| Name::from_ascii(n).expect("name"));
        assert_eq!(by_key, by_name);
        assert_eq!(by_key.first(), Some(&"a.b."));
    }

    #[test]
    fn below_is_by_whole_labels() {
        assert!(at_or_below(&key("a.b.example."), &key("b.example.")));
        assert!(at_or_below(&key("b.example."), &key("b.example.")));
        assert!(!at_or_below(&key("ab.example."), &key("b.example.")));
    }

    fn served(addr: &str, rank: u8, object: &str) -> ServedAddress {
        ServedAddress {
            addr: addr.parse().expect("ip"),
            rank,
            object: ObjectRef::new(Kind::Ingress, Some("ns"), object),
            written: 7,
        }
    }

    fn targets(index: &mut ReverseIndex) -> Vec<(String, Option<String>)> {
        index
            .take_changes()
            .into_iter()
            .map(|c| {
                let show = |k: &[u8]| {
                    NameKey::from_wire(k)
                        .and_then(|(k, _)| k.to_name())
                        .map(|n| n.to_string())
                        .unwrap_or_default()
                };
                (show(&c.name), c.ptr.map(|p| show(&p.target)))
            })
            .collect()
    }

    #[test]
    fn the_first_claimant_by_rank_then_name_wins_and_the_next_takes_over() {
        let mut index = ReverseIndex::new(vec![(1, "10.0.0.0/8".parse().expect("net"))])
            .expect("a reverse zone");
        index.record(
            0,
            vec![
                AddressChange {
                    name: key("b.example."),
                    served: vec![served("10.0.0.1", 2, "b")],
                },
                AddressChange {
                    name: key("a.example."),
                    served: vec![served("10.0.0.1", 2, "a"), served("192.0.2.1", 2, "a")],
                },
            ],
        );
        assert_eq!(
            targets(&mut index),
            [(
                "1.0.0.10.in-addr.arpa.".into(),
                Some("a.example.".to_string())
            )],
            "192.0.2.1 is outside every reverse zone"
        );
        // A better rank beats the name order.
        index.record(
            0,
            vec![AddressChange {
                name: key("b.example."),
                served: vec![served("10.0.0.1", 1, "b")],
            }],
        );
        assert_eq!(targets(&mut index)[0].1.as_deref(), Some("b.example."));
        index.record(
            0,
            vec![AddressChange {
                name: key("b.example."),
                served: Vec::new(),
            }],
        );
        assert_eq!(targets(&mut index)[0].1.as_deref(), Some("a.example."));
        index.record(
            0,
            vec![AddressChange {
                name: key("a.example."),
                served: Vec::new(),
            }],
        );
        assert_eq!(
            targets(&mut index),
            [("1.0.0.10.in-addr.arpa.".into(), None)]
        );
        assert!(index.claimants.is_empty() && index.names.is_empty());
    }

    #[test]
    fn the_most_specific_reverse_zone_holds_the_ptr() {
        let mut index = ReverseIndex::new(vec![
            (1, "10.0.0.0/8".parse().expect("net")),
            (2, "10.1.0.0/16".parse().expect("net")),
        ])
        .expect("reverse zones");
        index.record(
            0,
            vec![AddressChange {
                name: key("a.example."),
                served: vec![served("10.1.2.3", 1, "a"), served("10.2.0.1", 1, "a")],
            }],
        );
        let zones: Vec<usize> = index.take_changes().iter().map(|c| c.zone).collect();
        assert_eq!(zones, [2, 1]);
    }
}
