//! Turns the claims on one name into the RRsets it serves, applying precedence, the config's
//! static records, the CNAME rules of `spec/dns.md` and zone cuts.

use std::{
    borrow::Cow,
    collections::{BTreeMap, BTreeSet},
    sync::Arc,
};

use hickory_proto::rr::RecordType;
use kubezone_model::{DnsName, Kind, ObjectRef, Preference, Target};
use smallvec::SmallVec;

use crate::{Conflict, NameKey, Provenance, RRset, wire::encode_name};

/// One object's claim on one name.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Claim {
    /// 0 for the config's static records, else 1 + the position of the object's Kind in the
    /// zone's `resources`; lower sorts first.
    pub rank: u8,
    pub object: ObjectRef,
    pub targets: Vec<Target>,
    pub ttl: Option<u32>,
    /// Why the object's targets are what they are, shown by `explain`.
    pub note: Option<Arc<str>>,
    /// A global name of several clusters (`clusters.rs`).
    pub global: Option<Preference>,
}

/// What a set of claims resolves to.
pub(crate) struct Built {
    pub rrsets: Vec<RRset>,
    pub provenance: Provenance,
    /// NS below the apex: the name is a zone cut.
    pub cut: bool,
}

/// A longest TXT character-string (RFC 1035 §3.3).
const TXT_CHUNK: usize = 255;

/// Builds the RRsets of a name from `claims`, which are sorted by rank.
///
/// Static records (Kind `Config`) replace the objects' records of the same type and sit beside
/// the other types; among objects, the first Kind in `resources` supplies every record. At the
/// apex (`at_apex`) no CNAME and no NS from claims are served: SOA and NS are the zone's own.
pub(crate) fn build(claims: &[Claim], zone_ttl: u32, at_apex: bool) -> Built {
    let mut provenance = Provenance::default();
    // Rank 0 is the config's own records; a PTR a reverse zone derives from a static record of
    // a forward zone is still a Kind::Config object, but ranks last (`reverse.rs`).
    let (statics, objects): (Vec<&Claim>, Vec<&Claim>) = claims.iter().partition(|c| c.rank == 0);
    let winners: Vec<&Claim> = match objects.first() {
        Some(first) => {
            let (winners, losers): (Vec<&Claim>, Vec<&Claim>) =
                objects.iter().partition(|c| c.rank == first.rank);
            let winner_kind = first.object.kind();
            provenance.winner = Some(winner_kind);
            provenance.conflicts = losers
                .iter()
                .map(|c| Conflict::Shadowed {
                    winner: winner_kind,
                    loser: c.object.clone(),
                })
                .collect();
            winners
        }
        None => {
            provenance.winner = (!statics.is_empty()).then_some(Kind::Config);
            Vec::new()
        }
    };
    provenance.sources = statics
        .iter()
        .chain(&winners)
        .map(|c| c.object.clone())
        .collect();
    provenance.notes = winners
        .iter()
        .filter_map(|c| Some((c.object.clone(), c.note.clone()?)))
        .collect();

    let mut sets = Sets::collect(&winners, zone_ttl);
    sets.cname_alone(&mut provenance.conflicts);
    if !statics.is_empty() {
        let mut from_config = Sets::collect(&statics, zone_ttl);
        from_config.cname_alone(&mut provenance.conflicts);
        sets.override_with(from_config, &mut provenance.conflicts);
    }
    if at_apex {
        for rtype in [RecordType::CNAME, RecordType::NS] {
            if let Some(dropped) = sets.types.remove(&u16::from(rtype)) {
                provenance.conflicts.extend(dropped.objects.into_iter().map(
                    |object| match rtype {
                        RecordType::NS => Conflict::ApexNs { object },
                        _ => Conflict::CnameBesideData { object },
                    },
                ));
            }
        }
    }
    let cut = !at_apex && sets.types.contains_key(&u16::from(RecordType::NS));
    if cut {
        let others: Vec<u16> = sets
            .types
            .keys()
            .copied()
            .filter(|t| *t != u16::from(RecordType::NS))
            .collect();
        for rtype in others {
            if let Some(dropped) = sets.types.remove(&rtype) {
                provenance
                    .conflicts
                    .extend(
                        dropped
                            .objects
                            .into_iter()
                            .map(|object| Conflict::AtZoneCut {
                                object,
                                rtype: RecordType::from(rtype),
                            }),
                    );
            }
        }
    }
    let rrsets = sets
        .types
        .into_iter()
        .filter_map(|(rtype, typed)| {
            RRset::from_rdatas(
                RecordType::from(rtype),
                typed.ttl,
                typed.values.iter().map(|v| &**v),
            )
        })
        .collect();
    Built {
        rrsets,
        provenance,
        cut,
    }
}

/// The records of some claims by type (the type code, so RRsets come out in type order).
struct Sets {
    types: BTreeMap<u16, Typed>,
}

/// The RDATA of one type, the RRset TTL (the lowest any claim asks for, since an RRset has one
/// TTL, RFC 2181 §5.2), and the objects that gave them, for conflict reports.
struct Typed {
    values: BTreeSet<Box<[u8]>>,
    ttl: u32,
    objects: SmallVec<[ObjectRef; 1]>,
    /// For CNAME: which object gave each target, to name it when the target is dropped.
    givers: Vec<(Box<[u8]>, ObjectRef)>,
}

impl Sets {
    fn collect(claims: &[&Claim], zone_ttl: u32) -> Sets {
        let mut types: BTreeMap<u16, Typed> = BTreeMap::new();
        for claim in claims {
            let ttl = claim.ttl.unwrap_or(zone_ttl);
            for target in &claim.targets {
                let (rtype, rdata) = rdata_of(target);
                let typed = types.entry(u16::from(rtype)).or_insert_with(|| Typed {
                    values: BTreeSet::new(),
                    ttl: u32::MAX,
                    objects: SmallVec::new(),
                    givers: Vec::new(),
                });
                typed.ttl = typed.ttl.min(ttl);
                if !typed.objects.contains(&claim.object) {
                    typed.objects.push(claim.object.clone());
                }
                if rtype == RecordType::CNAME && !typed.givers.iter().any(|(v, _)| **v == *rdata) {
                    typed
                        .givers
                        .push((rdata.clone().into(), claim.object.clone()));
                }
                if !typed.values.contains(&*rdata) {
                    typed.values.insert(rdata.into());
                }
            }
        }
        Sets { types }
    }

    /// A CNAME never sits beside other data (RFC 2181 §10.1), and a name has one CNAME: the
    /// other data wins, else the first target in wire order.
    fn cname_alone(&mut self, conflicts: &mut Vec<Conflict>) {
        let cname = u16::from(RecordType::CNAME);
        if self.types.len() > 1 {
            if let Some(dropped) = self.types.remove(&cname) {
                conflicts.extend(
                    dropped
                        .objects
                        .into_iter()
                        .map(|object| Conflict::CnameBesideData { object }),
                );
            }
            return;
        }
        let Some(typed) = self.types.get_mut(&cname) else {
            return;
        };
        let Some(served) = typed.values.pop_first() else {
            return;
        };
        for dropped in std::mem::take(&mut typed.values) {
            let object = typed
                .givers
                .iter()
                .find(|(v, _)| **v == *dropped)
                .map(|(_, o)| o.clone());
            if let (Some(object), Some(served), Some(dropped)) =
                (object, name_of(&served), name_of(&dropped))
            {
                conflicts.push(Conflict::CnameTargets {
                    object,
                    served,
                    dropped,
                });
            }
        }
        typed.values.insert(served);
    }

    /// The config's records replace the objects' records of the same type; a CNAME from either
    /// side cannot stay beside the other's data.
    fn override_with(&mut self, config: Sets, conflicts: &mut Vec<Conflict>) {
        let cname = u16::from(RecordType::CNAME);
        let replaced: Vec<u16> = if config.types.contains_key(&cname) {
            self.types.keys().copied().collect()
        } else {
            config
                .types
                .keys()
                .copied()
                .chain(std::iter::once(cname))
                .filter(|t| self.types.contains_key(t))
                .collect()
        };
        for rtype in replaced {
            if let Some(dropped) = self.types.remove(&rtype) {
                conflicts.extend(
                    dropped
                        .objects
                        .into_iter()
                        .map(|object| Conflict::Overridden {
                            object,
                            rtype: RecordType::from(rtype),
                        }),
                );
            }
        }
        self.types.extend(config.types);
    }
}

/// A target's record type and RDATA.
fn rdata_of(target: &Target) -> (RecordType, Cow<'_, [u8]>) {
    match target {
        Target::V4(a) => (RecordType::A, Cow::Owned(a.octets().to_vec())),
        Target::V6(a) => (RecordType::AAAA, Cow::Owned(a.octets().to_vec())),
        Target::Host(host) => {
            let mut wire = Vec::new();
            encode_name(host.as_name(), &mut wire);
            (RecordType::CNAME, Cow::Owned(wire))
        }
        Target::Text(text) => (RecordType::TXT, Cow::Owned(txt_rdata(text))),
        Target::Record(record) => (record.record_type(), Cow::Borrowed(record.rdata())),
    }
}

/// A name from its wire form, as a validated name for reports.
pub(crate) fn name_of(wire: &[u8]) -> Option<DnsName> {
    let (key, _) = NameKey::from_wire(wire)?;
    DnsName::from_name(&key.to_name()?).ok()
}

/// A text as TXT RDATA: split into 255-byte character-strings.
pub(crate) fn txt_rdata(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    if bytes.is_empty() {
        return vec![0];
    }
    let mut out = Vec::with_capacity(bytes.len() + bytes.len() / TXT_CHUNK + 1);
    for chunk in bytes.chunks(TXT_CHUNK) {
        // Chunks are at most 255 bytes.
        out.push(chunk.len() as u8);
        out.extend_from_slice(chunk);
    }
    out
}

/// Address RRsets for a nameserver host.
pub(crate) fn address_rrsets(addrs: &[std::net::IpAddr], ttl: u32) -> Vec<RRset> {
    let mut v4: BTreeSet<[u8; 4]> = BTreeSet::new();
    let mut v6: BTreeSet<[u8; 16]> = BTreeSet::new();
    for addr in addrs {
        match addr {
            std::net::IpAddr::V4(a) => {
                v4.insert(a.octets());
            }
            std::net::IpAddr::V6(a) => {
                v6.insert(a.octets());
            }
        }
    }
    RRset::from_rdatas(RecordType::A, ttl, v4.iter().map(|a| &a[..]))
        .into_iter()
        .chain(RRset::from_rdatas(
            RecordType::AAAA,
            ttl,
            v6.iter().map(|a| &a[..]),
        ))
        .collect()
}

#[cfg(test)]
mod tests {
    use hickory_proto::rr::Name;
    use kubezone_model::{Kind, RecordData};

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
            note: None,
            global: None,
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
        let built = build(&claims, 60, false);
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
        let built = build(&claims, 60, false);
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
        let built = build(&claims, 60, false);
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
        let built = build(&claims, 60, true);
        assert!(built.rrsets.is_empty());
        assert_eq!(built.provenance.conflicts.len(), 1);
    }

    #[test]
    fn rrset_ttl_is_the_lowest_asked() {
        let mut a = claim(Kind::DnsEndpoint, 5, "a", vec![ip("10.0.0.1")]);
        a.ttl = Some(30);
        let b = claim(Kind::DnsEndpoint, 5, "b", vec![ip("10.0.0.2")]);
        let built = build(&[a, b], 60, false);
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
        assert_eq!(txt.len(), 603);
        assert_eq!((txt[0], txt[256], txt[512]), (255, 255, 90));
    }

    fn config(index: usize, name_type_data: &str) -> Claim {
        let (rtype, data) = name_type_data.split_once(' ').expect("type and data");
        Claim {
            rank: 0,
            object: ObjectRef::new(Kind::Config, None, &format!("records[{index}]")),
            targets: vec![Target::Record(
                RecordData::parse_typed(rtype, data, None).expect("record"),
            )],
            ttl: Some(3600),
            note: None,
            global: None,
        }
    }

    fn shown(b: &Built) -> Vec<String> {
        b.rrsets
            .iter()
            .flat_map(|r| r.records(&owner()))
            .map(|r| format!("{} {} {}", r.ttl, r.record_type(), r.data))
            .collect()
    }

    #[test]
    fn static_records_replace_their_type_and_sit_beside_the_others() {
        let claims = vec![
            config(0, "TXT \"v=spf1 -all\""),
            config(1, "MX 10 mail.example.com."),
            claim(Kind::Ingress, 4, "web", vec![ip("10.0.0.1")]),
            claim(
                Kind::DnsEndpoint,
                6,
                "txt",
                vec![Target::Text("old".into())],
            ),
        ];
        let built = build(&claims, 60, false);
        assert_eq!(
            shown(&built),
            [
                "60 A 10.0.0.1",
                "3600 MX 10 mail.example.com.",
                "3600 TXT v=spf1 -all"
            ]
        );
        assert_eq!(built.provenance.winner, Some(Kind::Ingress));
        assert_eq!(
            built.provenance.sources.len(),
            3,
            "both lines and the Ingress"
        );
        assert!(matches!(
            &built.provenance.conflicts[..],
            [Conflict::Shadowed { winner: Kind::Ingress, loser }] if loser.kind() == Kind::DnsEndpoint
        ));
    }

    #[test]
    fn a_static_type_the_winner_also_has_is_overridden_and_reported() {
        let claims = vec![
            config(0, "A 192.0.2.1"),
            claim(
                Kind::Ingress,
                4,
                "web",
                vec![ip("10.0.0.1"), host("lb.example.net")],
            ),
        ];
        let built = build(&claims, 60, false);
        assert_eq!(shown(&built), ["3600 A 192.0.2.1"]);
        assert!(matches!(
            &built.provenance.conflicts[..],
            [
                Conflict::CnameBesideData { .. },
                Conflict::Overridden {
                    rtype: RecordType::A,
                    ..
                }
            ]
        ));
    }

    #[test]
    fn a_static_cname_replaces_every_object_record() {
        let claims = vec![
            config(0, "CNAME elsewhere.example.net."),
            claim(Kind::Ingress, 4, "web", vec![ip("10.0.0.1")]),
        ];
        let built = build(&claims, 60, false);
        assert_eq!(shown(&built), ["3600 CNAME elsewhere.example.net."]);
        assert_eq!(built.provenance.conflicts.len(), 1);
    }

    #[test]
    fn ns_below_the_apex_is_a_cut_and_keeps_only_ns() {
        let claims = vec![
            config(0, "NS ns1.lab.example.net."),
            config(1, "NS ns2.lab.example.net."),
            config(2, "TXT hello"),
            claim(Kind::Ingress, 4, "web", vec![ip("10.0.0.1")]),
        ];
        let built = build(&claims, 60, false);
        assert!(built.cut);
        assert_eq!(
            shown(&built),
            [
                "3600 NS ns1.lab.example.net.",
                "3600 NS ns2.lab.example.net."
            ]
        );
        assert_eq!(
            built.provenance.conflicts.len(),
            2,
            "{:?}",
            built.provenance.conflicts
        );
        let at_apex = build(&claims, 60, true);
        assert!(!at_apex.cut);
        assert!(
            at_apex
                .provenance
                .conflicts
                .iter()
                .any(|c| matches!(c, Conflict::ApexNs { .. }))
        );
    }
}
