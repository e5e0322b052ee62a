//! Turns the claims on one name into the RRsets it serves, applying precedence and the CNAME
//! rules of `spec/dns.md`.

use std::{
    collections::{BTreeMap, BTreeSet},
    net::{Ipv4Addr, Ipv6Addr},
};

use hickory_proto::rr::{
    Name, RData, Record,
    rdata::{A, AAAA, CNAME, TXT},
};
use kubezone_model::{DnsName, ObjectRef, Target};

use crate::{Conflict, Provenance, RRset};

/// One object's claim on one name.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Claim {
    /// Position of the object's Kind in the zone's `resources`; lower wins.
    pub rank: u8,
    pub object: ObjectRef,
    pub targets: Vec<Target>,
    pub ttl: Option<u32>,
}

/// What a set of claims resolves to.
pub(crate) struct Built {
    pub rrsets: Vec<RRset>,
    pub provenance: Provenance,
}

/// A longest TXT character-string (RFC 1035 §3.3).
const TXT_CHUNK: usize = 255;

/// Builds the RRsets of `owner` from `claims`, which are sorted by rank.
///
/// `allow_cname` is false at the zone apex, where SOA and NS always exist.
pub(crate) fn build(owner: &Name, claims: &[Claim], zone_ttl: u32, allow_cname: bool) -> Built {
    let mut provenance = Provenance::default();
    let Some(first) = claims.first() else {
        return Built {
            rrsets: Vec::new(),
            provenance,
        };
    };
    let (winners, losers): (Vec<&Claim>, Vec<&Claim>) =
        claims.iter().partition(|c| c.rank == first.rank);
    let winner_kind = first.object.kind();
    provenance.winner = Some(winner_kind);
    provenance.sources = winners.iter().map(|c| c.object.clone()).collect();
    provenance.conflicts = losers
        .iter()
        .map(|c| Conflict::Shadowed {
            winner: winner_kind,
            loser: c.object.clone(),
        })
        .collect();

    let mut v4 = Typed::<Ipv4Addr>::default();
    let mut v6 = Typed::<Ipv6Addr>::default();
    let mut txt = Typed::<String>::default();
    let mut hosts: BTreeMap<DnsName, (ObjectRef, u32)> = BTreeMap::new();
    for claim in &winners {
        let ttl = claim.ttl.unwrap_or(zone_ttl);
        for target in &claim.targets {
            match target {
                Target::V4(a) => v4.add(*a, ttl),
                Target::V6(a) => v6.add(*a, ttl),
                Target::Text(t) => txt.add(t.clone(), ttl),
                Target::Host(h) => {
                    hosts
                        .entry(h.clone())
                        .or_insert_with(|| (claim.object.clone(), ttl));
                }
            }
        }
    }

    let has_other_data = !(v4.is_empty() && v6.is_empty() && txt.is_empty());
    let mut rrsets = Vec::new();
    if has_other_data || !allow_cname {
        provenance
            .conflicts
            .extend(hosts.values().map(|(object, _)| Conflict::CnameBesideData {
                object: object.clone(),
            }));
    } else {
        let mut hosts = hosts.into_iter();
        if let Some((served, (_, ttl))) = hosts.next() {
            for (dropped, (object, _)) in hosts {
                provenance.conflicts.push(Conflict::CnameTargets {
                    object,
                    served: served.clone(),
                    dropped,
                });
            }
            let record =
                Record::from_rdata(owner.clone(), ttl, RData::CNAME(CNAME(served.into_name())));
            rrsets.extend(RRset::new(vec![record]));
        }
    }
    rrsets.extend(v4.rrset(owner, |a| RData::A(A(a))));
    rrsets.extend(v6.rrset(owner, |a| RData::AAAA(AAAA(a))));
    rrsets.extend(txt.rrset(owner, |t| RData::TXT(txt_rdata(&t))));
    Built { rrsets, provenance }
}

/// Values of one record type and the RRset TTL: the lowest any claim asks for, since an RRset
/// has one TTL (RFC 2181 §5.2).
struct Typed<T> {
    values: BTreeSet<T>,
    ttl: u32,
}

impl<T> Default for Typed<T> {
    fn default() -> Self {
        Typed {
            values: BTreeSet::new(),
            ttl: u32::MAX,
        }
    }
}

impl<T: Ord> Typed<T> {
    fn add(&mut self, value: T, ttl: u32) {
        self.values.insert(value);
        self.ttl = self.ttl.min(ttl);
    }

    fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    fn rrset(self, owner: &Name, rdata: impl Fn(T) -> RData) -> Option<RRset> {
        let ttl = self.ttl;
        RRset::new(
            self.values
                .into_iter()
                .map(|v| Record::from_rdata(owner.clone(), ttl, rdata(v)))
                .collect(),
        )
    }
}

/// Splits a text longer than 255 bytes into 255-byte character-strings.
pub(crate) fn txt_rdata(text: &str) -> TXT {
    let bytes = text.as_bytes();
    if bytes.is_empty() {
        return TXT::from_bytes(vec![b""]);
    }
    TXT::from_bytes(bytes.chunks(TXT_CHUNK).collect())
}

/// Address records for a nameserver host.
pub(crate) fn address_rrsets(owner: &Name, addrs: &[std::net::IpAddr], ttl: u32) -> Vec<RRset> {
    let mut v4 = Typed::<Ipv4Addr>::default();
    let mut v6 = Typed::<Ipv6Addr>::default();
    for addr in addrs {
        match addr {
            std::net::IpAddr::V4(a) => v4.add(*a, ttl),
            std::net::IpAddr::V6(a) => v6.add(*a, ttl),
        }
    }
    v4.rrset(owner, |a| RData::A(A(a)))
        .into_iter()
        .chain(v6.rrset(owner, |a| RData::AAAA(AAAA(a))))
        .collect()
}

#[cfg(test)]
mod tests {
    use hickory_proto::rr::RecordType;
    use kubezone_model::Kind;

    use super::*;

    fn owner() -> Name {
        Name::from_ascii("www.example.com.").expect("name")
    }

    fn claim(kind: Kind, rank: u8, name: &str, targets: Vec<Target>) -> Claim {
        Claim {
            rank,
            object: ObjectRef::new(kind, Some("ns"), name),
            targets,
            ttl: None,
        }
    }

    fn ip(s: &str) -> Target {
        Target::parse_ip(s).expect("ip")
    }

    fn host(s: &str) -> Target {
        Target::parse_host(s).expect("host")
    }

    fn types(b: &Built) -> Vec<RecordType> {
        b.rrsets.iter().map(RRset::record_type).collect()
    }

    #[test]
    fn first_kind_supplies_every_record_and_same_kind_merges() {
        let claims = vec![
            claim(Kind::Ingress, 3, "a", vec![ip("10.0.0.1")]),
            claim(Kind::Ingress, 3, "b", vec![ip("10.0.0.2"), ip("10.0.0.1")]),
            claim(
                Kind::Service,
                4,
                "svc",
                vec![ip("10.9.9.9"), ip("2001:db8::1")],
            ),
        ];
        let built = build(&owner(), &claims, 60, true);
        assert_eq!(types(&built), [RecordType::A]);
        assert_eq!(built.rrsets[0].len(), 2, "union without duplicates");
        assert_eq!(built.provenance.winner, Some(Kind::Ingress));
        assert_eq!(built.provenance.sources.len(), 2);
        assert!(matches!(
            &built.provenance.conflicts[..],
            [Conflict::Shadowed { winner: Kind::Ingress, loser }] if loser.name() == "svc"
        ));
    }

    #[test]
    fn addresses_win_over_cname_and_the_conflict_is_reported() {
        let claims = vec![
            claim(Kind::Ingress, 3, "a", vec![ip("10.0.0.1")]),
            claim(Kind::Ingress, 3, "b", vec![host("lb.elb.example.net")]),
        ];
        let built = build(&owner(), &claims, 60, true);
        assert_eq!(types(&built), [RecordType::A]);
        assert!(matches!(
            &built.provenance.conflicts[..],
            [Conflict::CnameBesideData { object }] if object.name() == "b"
        ));
    }

    #[test]
    fn one_cname_per_name() {
        let claims = vec![
            claim(Kind::Ingress, 3, "a", vec![host("b.example.net")]),
            claim(Kind::Ingress, 3, "b", vec![host("a.example.net")]),
        ];
        let built = build(&owner(), &claims, 60, true);
        assert_eq!(types(&built), [RecordType::CNAME]);
        assert_eq!(
            built.rrsets[0].cname_target().map(|n| n.to_string()),
            Some("a.example.net.".to_string())
        );
        assert_eq!(built.provenance.conflicts.len(), 1);
    }

    #[test]
    fn no_cname_where_not_allowed() {
        let claims = vec![claim(Kind::Ingress, 3, "a", vec![host("b.example.net")])];
        let built = build(&owner(), &claims, 60, false);
        assert!(built.rrsets.is_empty());
        assert_eq!(built.provenance.conflicts.len(), 1);
    }

    #[test]
    fn rrset_ttl_is_the_lowest_asked() {
        let mut a = claim(Kind::DnsEndpoint, 5, "a", vec![ip("10.0.0.1")]);
        a.ttl = Some(30);
        let b = claim(Kind::DnsEndpoint, 5, "b", vec![ip("10.0.0.2")]);
        let built = build(&owner(), &[a, b], 60, true);
        assert!(
            built.rrsets[0]
                .records(&owner())
                .iter()
                .all(|r| r.ttl == 30)
        );
    }

    #[test]
    fn long_txt_is_split_into_255_byte_strings() {
        let text = "x".repeat(600);
        let txt = txt_rdata(&text);
        let lens: Vec<usize> = txt.txt_data.iter().map(|s| s.len()).collect();
        assert_eq!(lens, [255, 255, 90]);
    }
}
