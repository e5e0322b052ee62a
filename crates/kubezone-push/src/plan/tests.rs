use std::{collections::BTreeSet, net::Ipv4Addr, str::FromStr};

use hickory_proto::rr::{
    Name, RData, Record, RecordType,
    rdata::{A, AAAA, CNAME, MX, NS, SOA, TXT},
};

use super::*;
use crate::registry::Registry;

const OWNER: &str = "cluster-east";

fn name(s: &str) -> Name {
    Name::from_ascii(s).expect("test fixture")
}

fn a(s: &str) -> RData {
    RData::A(A(Ipv4Addr::from_str(s).expect("test fixture")))
}

fn txt(s: &str) -> RData {
    RData::TXT(TXT::new(vec![s.to_string()]))
}

fn cname(s: &str) -> RData {
    RData::CNAME(CNAME(name(s)))
}

fn rec(owner: &str, ttl: u32, rdata: RData) -> Record {
    Record::from_rdata(name(owner), ttl, rdata)
}

fn value(owner: &str, resource: Option<&str>) -> String {
    Registry::new(owner, "", "", "")
        .expect("test fixture")
        .value(resource)
}

fn reg(owner: &str) -> RData {
    txt(&value(owner, None))
}

fn rd(rdata: &RData) -> Rdata {
    Rdata::from_rdata(rdata).expect("test fixture")
}

fn set(rdatas: &[RData]) -> BTreeSet<Rdata> {
    rdatas.iter().map(rd).collect()
}

/// The zone example.com. with its SOA and apex NS, and `records`.
fn zone(records: &[Record]) -> PrimaryZone {
    let soa = SOA::new(
        name("ns1.example.com."),
        name("hostmaster.example.com."),
        1,
        3600,
        600,
        86400,
        60,
    );
    let mut all = vec![
        rec("example.com.", 3600, RData::SOA(soa)),
        rec(
            "example.com.",
            3600,
            RData::NS(NS(name("ns1.example.com."))),
        ),
    ];
    all.extend_from_slice(records);
    let (zone, unreadable) = PrimaryZone::from_records(&name("example.com."), &all);
    assert!(unreadable.is_empty());
    zone
}

fn want(owner: &str, ttl: u32, rdatas: &[RData]) -> WantedRRset {
    let record_type = rdatas.first().expect("test fixture").record_type();
    WantedRRset {
        name: name(owner),
        record_type,
        ttl,
        rdatas: set(rdatas),
        resource: Some("ingress/default/web".into()),
    }
}

fn registry() -> Registry {
    Registry::new(OWNER, "", "", "").expect("test fixture")
}

fn run(zone: &PrimaryZone, wanted: &[WantedRRset], policy: Policy) -> Plan {
    plan(zone, wanted, &registry(), policy)
}

fn add(owner: &str, ttl: u32, rdata: &RData) -> Edit {
    Edit::Add {
        name: name(owner),
        record_type: rdata.record_type(),
        ttl,
        rdata: rd(rdata),
    }
}

fn remove(owner: &str, rdata: &RData) -> Edit {
    Edit::Remove {
        name: name(owner),
        record_type: rdata.record_type(),
        rdata: rd(rdata),
    }
}

fn absent(owner: &str, record_type: RecordType) -> Prerequisite {
    Prerequisite::Absent {
        name: name(owner),
        record_type,
    }
}

fn exactly(owner: &str, rdatas: &[RData]) -> Prerequisite {
    Prerequisite::Exactly {
        name: name(owner),
        record_type: rdatas.first().expect("test fixture").record_type(),
        rdatas: set(rdatas),
    }
}

fn ours_web() -> RData {
    txt(&value(OWNER, Some("ingress/default/web")))
}

/// Applies a plan's changes to the zone and plans again: nothing may be left to do.
fn converges(mut zone: PrimaryZone, wanted: &[WantedRRset], policy: Policy) {
    let first = run(&zone, wanted, policy);
    zone.apply(first.changes.iter().flat_map(|c| &c.edits));
    let again = run(&zone, wanted, policy);
    assert_eq!(again.changes, Vec::new(), "a second plan after {first:#?}");
}

#[test]
fn creates_with_the_registry_txt() {
    let zone = zone(&[]);
    let wanted = [want(
        "www.example.com.",
        300,
        &[a("192.0.2.1"), a("192.0.2.2")],
    )];
    let plan = run(&zone, &wanted, Policy::Sync);
    assert_eq!(plan.conflicts, Vec::new());
    assert_eq!(plan.changes.len(), 1);
    let change = &plan.changes[0];
    assert_eq!(change.action, Action::Create);
    assert_eq!(
        change.prerequisites,
        vec![
            absent("www.example.com.", RecordType::A),
            absent("www.example.com.", RecordType::CNAME),
            absent("a-www.example.com.", RecordType::TXT),
        ]
    );
    assert_eq!(
        change.edits,
        vec![
            add("www.example.com.", 300, &a("192.0.2.1")),
            add("www.example.com.", 300, &a("192.0.2.2")),
            add("a-www.example.com.", 300, &ours_web()),
        ]
    );
    converges(zone, &wanted, Policy::Sync);
}

#[test]
fn equal_records_of_ours_change_nothing() {
    let zone = zone(&[
        rec("www.example.com.", 300, a("192.0.2.1")),
        rec("a-www.example.com.", 300, ours_web()),
    ]);
    let wanted = [want("www.example.com.", 300, &[a("192.0.2.1")])];
    for policy in [Policy::Sync, Policy::UpsertOnly, Policy::CreateOnly] {
        assert_eq!(run(&zone, &wanted, policy), Plan::default(), "{policy:?}");
    }
}

#[test]
fn takes_over_external_dns_new_format_without_churn() {
    // Written by external-dns ≥ 0.18 for the same owner id, another resource label, other
    // labels: still nothing to do.
    let external = txt(
        "heritage=external-dns,external-dns/owner=cluster-east,external-dns/resource=service/default/web,external-dns/foo=bar",
    );
    let zone = zone(&[
        rec("www.example.com.", 300, a("192.0.2.1")),
        rec("a-www.example.com.", 300, external),
        rec("api.example.com.", 300, cname("lb.example.net.")),
        rec(
            "cname-api.example.com.",
            300,
            txt("\"heritage=external-dns,external-dns/owner=cluster-east\""),
        ),
    ]);
    let wanted = [
        want("www.example.com.", 300, &[a("192.0.2.1")]),
        want("api.example.com.", 300, &[cname("lb.example.net.")]),
    ];
    assert_eq!(run(&zone, &wanted, Policy::Sync), Plan::default());
}

#[test]
fn takes_over_the_old_format_by_adding_the_new_one() {
    let old = reg(OWNER);
    let zone = zone(&[
        rec("www.example.com.", 300, a("192.0.2.1")),
        rec("www.example.com.", 300, old.clone()),
    ]);
    let wanted = [want("www.example.com.", 300, &[a("192.0.2.1")])];
    let plan = run(&zone, &wanted, Policy::Sync);
    assert_eq!(plan.changes.len(), 1);
    let claim = &plan.changes[0];
    assert_eq!(claim.action, Action::Claim);
    // The records and the old TXT stay as they are; only the new-format TXT is added.
    assert_eq!(
        claim.edits,
        vec![add("a-www.example.com.", 300, &ours_web())]
    );
    assert_eq!(
        claim.prerequisites,
        vec![
            exactly("www.example.com.", &[a("192.0.2.1")]),
            exactly("www.example.com.", &[old]),
            absent("a-www.example.com.", RecordType::TXT),
        ]
    );
    converges(zone.clone(), &wanted, Policy::Sync);
    // external-dns makes this an update, which create-only does not send.
    let create_only = run(&zone, &wanted, Policy::CreateOnly);
    assert_eq!(create_only.changes, Vec::new());
    assert_eq!(create_only.withheld.len(), 1);
}

#[test]
fn updates_records_of_ours() {
    let zone = zone(&[
        rec("www.example.com.", 300, a("192.0.2.1")),
        rec("www.example.com.", 300, a("192.0.2.2")),
        rec("a-www.example.com.", 300, ours_web()),
    ]);
    let wanted = [want(
        "www.example.com.",
        300,
        &[a("192.0.2.2"), a("192.0.2.3")],
    )];
    let plan = run(&zone, &wanted, Policy::UpsertOnly);
    assert_eq!(plan.changes.len(), 1);
    let update = &plan.changes[0];
    assert_eq!(update.action, Action::Update);
    assert_eq!(
        update.prerequisites,
        vec![
            exactly("www.example.com.", &[a("192.0.2.1"), a("192.0.2.2")]),
            exactly("a-www.example.com.", &[ours_web()]),
        ]
    );
    assert_eq!(
        update.edits,
        vec![
            remove("www.example.com.", &a("192.0.2.1")),
            add("www.example.com.", 300, &a("192.0.2.3")),
        ]
    );
    converges(zone.clone(), &wanted, Policy::Sync);
    let create_only = run(&zone, &wanted, Policy::CreateOnly);
    assert_eq!(create_only.changes, Vec::new());
    assert_eq!(create_only.withheld.len(), 1);
}

#[test]
fn a_new_ttl_rewrites_the_rrset() {
    let zone = zone(&[
        rec("www.example.com.", 300, a("192.0.2.1")),
        rec("a-www.example.com.", 300, ours_web()),
    ]);
    let wanted = [want("www.example.com.", 60, &[a("192.0.2.1")])];
    let plan = run(&zone, &wanted, Policy::Sync);
    assert_eq!(
        plan.changes[0].edits,
        vec![
            remove("www.example.com.", &a("192.0.2.1")),
            add("www.example.com.", 60, &a("192.0.2.1")),
        ]
    );
    converges(zone, &wanted, Policy::Sync);
}

#[test]
fn an_update_rewrites_a_stale_registry_value() {
    let stale = txt(&value(OWNER, Some("service/default/old")));
    let zone = zone(&[
        rec("www.example.com.", 300, a("192.0.2.1")),
        rec("a-www.example.com.", 300, stale.clone()),
    ]);
    let wanted = [want("www.example.com.", 300, &[a("192.0.2.9")])];
    let plan = run(&zone, &wanted, Policy::Sync);
    assert_eq!(
        plan.changes[0].edits,
        vec![
            remove("www.example.com.", &a("192.0.2.1")),
            add("www.example.com.", 300, &a("192.0.2.9")),
            remove("a-www.example.com.", &stale),
            add("a-www.example.com.", 300, &ours_web()),
        ]
    );
    converges(zone, &wanted, Policy::Sync);
}

#[test]
fn deletes_only_under_sync() {
    let zone = zone(&[
        rec("old.example.com.", 300, a("192.0.2.1")),
        rec("a-old.example.com.", 300, ours_web()),
    ]);
    let plan = run(&zone, &[], Policy::Sync);
    assert_eq!(plan.changes.len(), 1);
    let delete = &plan.changes[0];
    assert_eq!(delete.action, Action::Delete);
    assert_eq!(
        delete.prerequisites,
        vec![
            exactly("old.example.com.", &[a("192.0.2.1")]),
            exactly("a-old.example.com.", &[ours_web()]),
        ]
    );
    assert_eq!(
        delete.edits,
        vec![
            remove("old.example.com.", &a("192.0.2.1")),
            remove("a-old.example.com.", &ours_web()),
        ]
    );
    converges(zone.clone(), &[], Policy::Sync);
    for policy in [Policy::UpsertOnly, Policy::CreateOnly] {
        let kept = run(&zone, &[], policy);
        assert_eq!(kept.changes, Vec::new(), "{policy:?}");
        assert_eq!(kept.withheld.len(), 1, "{policy:?}");
    }
}

#[test]
fn a_delete_owned_through_the_old_format_removes_it_when_nothing_is_left() {
    let old = reg(OWNER);
    let zone = zone(&[
        rec("old.example.com.", 300, a("192.0.2.1")),
        rec("old.example.com.", 300, old.clone()),
    ]);
    let plan = run(&zone, &[], Policy::Sync);
    assert_eq!(plan.changes.len(), 1);
    assert_eq!(
        plan.changes[0].edits,
        vec![
            remove("old.example.com.", &a("192.0.2.1")),
            remove("old.example.com.", &old),
        ]
    );
    converges(zone, &[], Policy::Sync);
}

#[test]
fn hand_made_records_are_conflicts_and_never_touched() {
    let zone = zone(&[
        rec("www.example.com.", 300, a("192.0.2.1")),
        rec("hand.example.com.", 300, a("192.0.2.7")),
    ]);
    let wanted = [want("www.example.com.", 300, &[a("192.0.2.2")])];
    let plan = run(&zone, &wanted, Policy::Sync);
    assert_eq!(plan.changes, Vec::new());
    assert_eq!(plan.withheld, Vec::new());
    assert_eq!(
        plan.conflicts,
        vec![Conflict {
            name: name("www.example.com."),
            record_type: RecordType::A,
            held_type: RecordType::A,
            holder: Holder::Unowned,
        }]
    );
}

#[test]
fn another_owners_records_are_conflicts_and_never_touched() {
    let theirs = txt("heritage=external-dns,external-dns/owner=cluster-west");
    let zone = zone(&[
        rec("www.example.com.", 300, a("192.0.2.1")),
        rec("a-www.example.com.", 300, theirs.clone()),
        rec("west.example.com.", 300, a("192.0.2.5")),
        rec("a-west.example.com.", 300, theirs),
    ]);
    let west = Holder::Owner("cluster-west".into());
    // Their A is wanted: conflict. Their other A is not: left alone even under sync.
    let plan = run(
        &zone,
        &[want("www.example.com.", 300, &[a("192.0.2.2")])],
        Policy::Sync,
    );
    assert_eq!(plan.changes, Vec::new());
    assert_eq!(plan.conflicts.len(), 1);
    assert_eq!(plan.conflicts[0].holder, west);
    // Another type at a name they hold: external-dns keeps the name theirs, so does kubezone.
    let aaaa = RData::AAAA(AAAA("2001:db8::1".parse().expect("test fixture")));
    let plan = run(
        &zone,
        &[want("www.example.com.", 300, &[aaaa])],
        Policy::Sync,
    );
    assert_eq!(plan.changes, Vec::new());
    assert_eq!(
        plan.conflicts,
        vec![Conflict {
            name: name("www.example.com."),
            record_type: RecordType::AAAA,
            held_type: RecordType::A,
            holder: west,
        }]
    );
}

#[test]
fn another_owners_registry_holds_a_name_without_records() {
    let zone = zone(&[rec(
        "a-www.example.com.",
        300,
        txt("heritage=external-dns,external-dns/owner=cluster-west"),
    )]);
    let plan = run(
        &zone,
        &[want("www.example.com.", 300, &[a("192.0.2.2")])],
        Policy::Sync,
    );
    assert_eq!(plan.changes, Vec::new());
    assert_eq!(
        plan.conflicts[0].holder,
        Holder::Owner("cluster-west".into())
    );
}

#[test]
fn two_owners_claiming_one_rrset_leave_it_to_the_other() {
    let zone = zone(&[
        rec("www.example.com.", 300, a("192.0.2.1")),
        rec("a-www.example.com.", 300, ours_web()),
        rec(
            "a-www.example.com.",
            300,
            txt("heritage=external-dns,external-dns/owner=cluster-west"),
        ),
    ]);
    let plan = run(&zone, &[], Policy::Sync);
    assert_eq!(plan.changes, Vec::new());
}

#[test]
fn a_hand_made_txt_does_not_block_an_address_but_a_cname_does() {
    let zone = zone(&[
        rec("www.example.com.", 300, txt("v=spf1 -all")),
        rec("alias.example.com.", 300, cname("elsewhere.example.net.")),
    ]);
    let wanted = [
        want("www.example.com.", 300, &[a("192.0.2.1")]),
        want("alias.example.com.", 300, &[a("192.0.2.2")]),
    ];
    let plan = run(&zone, &wanted, Policy::Sync);
    assert_eq!(plan.changes.len(), 1);
    assert_eq!(plan.changes[0].name, name("www.example.com."));
    assert_eq!(
        plan.conflicts,
        vec![Conflict {
            name: name("alias.example.com."),
            record_type: RecordType::A,
            held_type: RecordType::CNAME,
            holder: Holder::Unowned,
        }]
    );
}

#[test]
fn a_cname_is_not_created_beside_other_data() {
    let zone = zone(&[rec("www.example.com.", 300, txt("v=spf1 -all"))]);
    let plan = run(
        &zone,
        &[want("www.example.com.", 300, &[cname("lb.example.net.")])],
        Policy::Sync,
    );
    assert_eq!(plan.changes, Vec::new());
    assert_eq!(plan.conflicts[0].held_type, RecordType::TXT);
}

#[test]
fn a_cname_at_a_new_name_requires_the_name_unused() {
    let plan = run(
        &zone(&[]),
        &[want("www.example.com.", 300, &[cname("lb.example.net.")])],
        Policy::Sync,
    );
    assert_eq!(
        plan.changes[0].prerequisites,
        vec![
            absent("www.example.com.", RecordType::CNAME),
            Prerequisite::NameUnused {
                name: name("www.example.com.")
            },
            absent("cname-www.example.com.", RecordType::TXT),
        ]
    );
}

#[test]
fn a_type_change_of_ours_deletes_then_creates() {
    let old = reg(OWNER);
    let zone = zone(&[
        rec("www.example.com.", 300, a("192.0.2.1")),
        rec("www.example.com.", 300, old.clone()),
    ]);
    let wanted = [want("www.example.com.", 300, &[cname("lb.example.net.")])];
    let plan = run(&zone, &wanted, Policy::Sync);
    let actions: Vec<Action> = plan.changes.iter().map(|c| c.action).collect();
    assert_eq!(actions, vec![Action::Delete, Action::Create]);
    let edits: Vec<&Edit> = plan.changes.iter().flat_map(|c| &c.edits).collect();
    // The A goes before the CNAME comes, and the old-format TXT (which a CNAME cannot live
    // beside) with it.
    assert_eq!(
        edits.first(),
        Some(&&remove("www.example.com.", &a("192.0.2.1")))
    );
    assert!(edits.contains(&&remove("www.example.com.", &old)));
    assert_eq!(
        edits.last(),
        Some(&&add("cname-www.example.com.", 300, &ours_web()))
    );
    converges(zone.clone(), &wanted, Policy::Sync);
    // Under upsert-only the A may not go, so the CNAME waits too.
    let upsert = run(&zone, &wanted, Policy::UpsertOnly);
    assert_eq!(upsert.changes, Vec::new());
    assert_eq!(upsert.withheld.len(), 2);
    assert_eq!(upsert.conflicts, Vec::new());
}

#[test]
fn the_apex_soa_and_ns_are_never_touched() {
    let old = reg(OWNER);
    // Even an old-format TXT of ours at the apex does not make its NS ours.
    let zone = zone(&[rec("example.com.", 300, old)]);
    let wanted = [WantedRRset {
        name: name("example.com."),
        record_type: RecordType::NS,
        ttl: 60,
        rdatas: set(&[RData::NS(NS(name("kubezone.example.com.")))]),
        resource: None,
    }];
    let plan = run(&zone, &wanted, Policy::Sync);
    assert_eq!(plan, Plan::default());
}

#[test]
fn apex_records_need_a_prefix_that_keeps_the_registry_in_the_zone() {
    let zone = zone(&[]);
    let wanted = [want("example.com.", 300, &[a("192.0.2.1")])];
    let bare = run(&zone, &wanted, Policy::Sync);
    assert_eq!(bare.changes, Vec::new());
    assert_eq!(
        bare.skipped,
        vec![Skipped {
            name: name("example.com."),
            record_type: RecordType::A,
            reason: Skip::RegistryOutsideZone {
                txt_name: name("a-example.com.")
            },
        }]
    );
    let prefixed = Registry::new(OWNER, "%{record_type}-reg.", "", "").expect("test fixture");
    let prefixed = plan(&zone, &wanted, &prefixed, Policy::Sync);
    assert_eq!(prefixed.skipped, Vec::new());
    assert_eq!(
        prefixed.changes[0].edits.last(),
        Some(&add("a-reg.example.com.", 300, &ours_web()))
    );
}

#[test]
fn types_the_registry_cannot_name_are_skipped() {
    let caa = RData::CAA(hickory_proto::rr::rdata::CAA::new_issue(
        true,
        None,
        Vec::new(),
    ));
    let wanted = [want("www.example.com.", 300, &[caa])];
    let plan = run(&zone(&[]), &wanted, Policy::Sync);
    assert_eq!(plan.changes, Vec::new());
    assert!(matches!(
        plan.skipped[0].reason,
        Skip::Registry(crate::registry::RegistryError::UnsupportedType { .. })
    ));
    let outside = [want("www.example.org.", 300, &[a("192.0.2.1")])];
    let plan = run(&zone(&[]), &outside, Policy::Sync);
    assert_eq!(plan.skipped[0].reason, Skip::OutsideZone);
}

#[test]
fn txt_data_beside_an_old_format_registry_value() {
    let old = reg(OWNER);
    let zone = zone(&[
        rec("www.example.com.", 300, a("192.0.2.1")),
        rec("www.example.com.", 300, old.clone()),
        rec("a-www.example.com.", 300, ours_web()),
    ]);
    let wanted = [
        want("www.example.com.", 300, &[a("192.0.2.1")]),
        want("www.example.com.", 300, &[txt("hello")]),
    ];
    let plan = run(&zone, &wanted, Policy::Sync);
    assert_eq!(plan.changes.len(), 1);
    let create = &plan.changes[0];
    assert_eq!(create.action, Action::Create);
    // The TXT RRset there holds the registry value: it must still be exactly that.
    assert_eq!(create.prerequisites[0], exactly("www.example.com.", &[old]));
    assert_eq!(create.edits[0], add("www.example.com.", 300, &txt("hello")));
    converges(zone, &wanted, Policy::Sync);
}

#[test]
fn aaaa_is_not_owned_through_the_old_format() {
    let aaaa = RData::AAAA(AAAA("2001:db8::1".parse().expect("test fixture")));
    let zone = zone(&[
        rec("www.example.com.", 300, aaaa.clone()),
        rec("www.example.com.", 300, reg(OWNER)),
    ]);
    let plan = run(&zone, &[], Policy::Sync);
    assert_eq!(plan.changes, Vec::new());
    let plan = run(
        &zone,
        &[want(
            "www.example.com.",
            300,
            &[RData::AAAA(AAAA(
                "2001:db8::2".parse().expect("test fixture"),
            ))],
        )],
        Policy::Sync,
    );
    assert_eq!(plan.conflicts[0].holder, Holder::Unowned);
}

#[test]
fn wildcards_take_the_replacement_in_their_registry_name() {
    let registry = Registry::new(OWNER, "", "", "wild").expect("test fixture");
    let wanted = [want("*.apps.example.com.", 300, &[a("192.0.2.1")])];
    let mut zone = zone(&[]);
    let first = plan(&zone, &wanted, &registry, Policy::Sync);
    assert_eq!(
        first.changes[0].edits.last(),
        Some(&add("a-wild.apps.example.com.", 300, &ours_web()))
    );
    zone.apply(first.changes.iter().flat_map(|c| &c.edits));
    assert_eq!(
        plan(&zone, &wanted, &registry, Policy::Sync),
        Plan::default()
    );
    // And once no longer wanted, it is found ours and deleted.
    let gone = plan(&zone, &[], &registry, Policy::Sync);
    assert_eq!(gone.changes.len(), 1);
    assert_eq!(gone.changes[0].action, Action::Delete);
}

/// The zone of external-dns's `testTXTRegistryRecordsNoPrefix`: which records are owned by
/// "owner" is what its test expects (an A ALIAS aside, which RFC 2136 has not).
#[test]
fn ownership_as_external_dns_reads_it() {
    let org = |s: &str| format!("{s}.test-zone.example.org.");
    let reg_owner = "\"heritage=external-dns,external-dns/owner=owner\"";
    let records = [
        rec(&org("foo"), 300, cname("foo.loadbalancer.com.")),
        rec(&org("bar"), 300, cname("my-domain.com.")),
        rec(&org("alias"), 300, a("192.0.2.10")),
        rec(&org("cname-alias"), 300, txt(reg_owner)),
        rec(
            &org("txt.bar"),
            300,
            txt(
                "\"heritage=external-dns,external-dns/owner=owner,external-dns/resource=ingress/default/my-ingress\"",
            ),
        ),
        rec(&org("txt.bar"), 300, cname("baz.test-zone.example.org.")),
        rec(&org("qux"), 300, txt("random")),
        rec(&org("tar"), 300, cname("tar.loadbalancer.com.")),
        rec(
            &org("txt.tar"),
            300,
            txt("\"heritage=external-dns,external-dns/owner=owner-2\""),
        ),
        rec(&org("foobar"), 300, cname("foobar.loadbalancer.com.")),
        rec(&org("foobar"), 300, txt(reg_owner)),
        rec(&org("dualstack"), 300, a("1.1.1.1")),
        rec(&org("dualstack"), 300, txt(reg_owner)),
        rec(
            &org("dualstack"),
            300,
            RData::AAAA(AAAA("2001:db8::1".parse().expect("test fixture"))),
        ),
        rec(
            &org("aaaa-dualstack"),
            300,
            txt("\"heritage=external-dns,external-dns/owner=owner-2\""),
        ),
        rec(
            &org("mail"),
            300,
            RData::MX(MX::new(10, name("onemail.example.com."))),
        ),
        rec(&org("mx-mail"), 300, txt(reg_owner)),
    ];
    let (zone, _) = PrimaryZone::from_records(&name("test-zone.example.org."), &records);
    let registry = Registry::new("owner", "", "", "").expect("test fixture");
    let planned = plan(&zone, &[], &registry, Policy::Sync);
    let deleted: Vec<(String, RecordType)> = planned
        .changes
        .iter()
        .map(|c| (c.name.to_ascii(), c.record_type))
        .collect();
    let mut expected = vec![
        (org("txt.bar"), RecordType::CNAME),
        (org("foobar"), RecordType::CNAME),
        (org("dualstack"), RecordType::A),
        (org("mail"), RecordType::MX),
    ];
    expected.sort_by_key(|(n, _)| name(n));
    assert_eq!(deleted, expected);
    assert!(planned.changes.iter().all(|c| c.action == Action::Delete));
}

#[test]
fn policies_parse_from_config_values() {
    assert_eq!("sync".parse(), Ok(Policy::Sync));
    assert_eq!("upsert-only".parse(), Ok(Policy::UpsertOnly));
    assert_eq!("create-only".parse(), Ok(Policy::CreateOnly));
    assert_eq!(
        "upsert".parse::<Policy>(),
        Err(UnknownPolicy("upsert".into()))
    );
}

#[test]
fn changes_print_as_nsupdate_would_read_them() {
    let plan = run(
        &zone(&[]),
        &[want("www.example.com.", 300, &[a("192.0.2.1")])],
        Policy::Sync,
    );
    let change = &plan.changes[0];
    assert_eq!(
        change.to_string(),
        "create www.example.com. 300 A 192.0.2.1"
    );
    let lines: Vec<String> = change.edits.iter().map(ToString::to_string).collect();
    assert_eq!(lines[0], "update add www.example.com. 300 IN A 192.0.2.1");
    assert!(lines[1].starts_with("update add a-www.example.com. 300 IN TXT "));
    assert_eq!(
        change.prerequisites[0].to_string(),
        "prereq nxrrset www.example.com. IN A"
    );
}

#[test]
fn the_wanted_records_of_a_snapshot() {
    use kubezone_index::{IndexWriter, NameServer, ZoneConfig};
    use kubezone_model::{DnsName, Endpoint, Kind, ObjectRef, Target};

    let dns = |s: &str| DnsName::parse(s).expect("test fixture");
    let config = ZoneConfig {
        origin: dns("example.com"),
        ttl: 60,
        nameserver: NameServer {
            name: dns("ns.example.com"),
            addrs: Vec::new(),
        },
        secondary: None,
        nameservers: Vec::new(),
        soa: Default::default(),
        records: Vec::new(),
        static_written: 0,
        precedence: Kind::DEFAULT_RESOURCES.to_vec(),
        claims: kubezone_index::NameClaims::Shared,
        served: true,
    };
    let (mut writer, reader) = IndexWriter::new(vec![config]);
    writer.apply(
        &ObjectRef::new(Kind::Ingress, Some("default"), "web"),
        [(
            0,
            Endpoint::new(
                dns("www.example.com"),
                vec![Target::parse_ip_or_host("192.0.2.1").expect("test fixture")],
            ),
        )],
        1_700_000_000,
        0,
    );
    writer.set_ready(true);
    writer.publish(1_700_000_000);
    let catalog = reader.load_full();
    let snapshot = catalog.zone(0).expect("test fixture");
    let wanted = wanted_from_snapshot(snapshot);
    assert_eq!(
        wanted,
        vec![WantedRRset {
            name: name("www.example.com."),
            record_type: RecordType::A,
            ttl: 60,
            rdatas: set(&[a("192.0.2.1")]),
            resource: Some("ingress/default/web".into()),
        }]
    );
}

/// A zone shared with a hand-made record set and another cluster: whatever kubezone wants, its
/// edits touch only RRsets it owns or creates, and one round of them leaves nothing to do.
#[test]
fn a_shared_zone_converges_without_touching_the_others() {
    let west = txt("heritage=external-dns,external-dns/owner=cluster-west");
    let others = [
        rec("hand.example.com.", 300, a("192.0.2.100")),
        rec("www.example.com.", 300, txt("v=spf1 -all")),
        rec("west.example.com.", 300, a("192.0.2.101")),
        rec("a-west.example.com.", 300, west),
        rec("alias.example.com.", 300, cname("elsewhere.example.net.")),
    ];
    let mut records = others.to_vec();
    records.extend([
        rec("www.example.com.", 300, a("192.0.2.1")),
        rec("a-www.example.com.", 300, ours_web()),
        rec("gone.example.com.", 300, a("192.0.2.2")),
        rec("gone.example.com.", 300, reg(OWNER)),
        rec("api.example.com.", 300, cname("lb.example.net.")),
        rec("cname-api.example.com.", 300, ours_web()),
    ]);
    let wanted = [
        want("www.example.com.", 300, &[a("192.0.2.1"), a("192.0.2.3")]),
        want("api.example.com.", 300, &[a("192.0.2.4")]),
        want("new.example.com.", 300, &[a("192.0.2.5")]),
        want("hand.example.com.", 300, &[a("192.0.2.6")]),
        want("west.example.com.", 300, &[a("192.0.2.7")]),
        want("alias.example.com.", 300, &[a("192.0.2.8")]),
    ];
    let before = zone(&records);
    let plan = run(&before, &wanted, Policy::Sync);
    let holders: Vec<(String, Holder)> = plan
        .conflicts
        .iter()
        .map(|c| (c.name.to_ascii(), c.holder.clone()))
        .collect();
    assert_eq!(
        holders,
        vec![
            ("alias.example.com.".into(), Holder::Unowned),
            ("hand.example.com.".into(), Holder::Unowned),
            (
                "west.example.com.".into(),
                Holder::Owner("cluster-west".into())
            ),
        ]
    );
    let mut after = before.clone();
    after.apply(plan.changes.iter().flat_map(|c| &c.edits));
    for record in &others {
        let rrset = after.rrset(&record.name, record.record_type());
        assert!(
            rrset.is_some_and(|s| s.rdatas.contains(&rd(&record.data))),
            "{record} was touched"
        );
    }
    assert_eq!(
        after.rrset(&name("gone.example.com."), RecordType::TXT),
        None,
        "the old-format TXT of a name left with nothing of ours"
    );
    assert_eq!(run(&after, &wanted, Policy::Sync).changes, Vec::new());
}

#[test]
fn a_wildcard_without_replacement_keeps_its_star() {
    let wanted = [want("*.apps.example.com.", 300, &[a("192.0.2.1")])];
    let mut zone = zone(&[]);
    let first = run(&zone, &wanted, Policy::Sync);
    assert_eq!(first.skipped, Vec::new());
    let star: Vec<&[u8]> = vec![b"a-*", b"apps", b"example", b"com"];
    assert_eq!(
        first.changes[0].edits.last(),
        Some(&Edit::Add {
            name: Name::from_labels(star).expect("test fixture"),
            record_type: RecordType::TXT,
            ttl: 300,
            rdata: rd(&ours_web()),
        })
    );
    zone.apply(first.changes.iter().flat_map(|c| &c.edits));
    assert_eq!(run(&zone, &wanted, Policy::Sync), Plan::default());
    assert_eq!(run(&zone, &[], Policy::Sync).changes.len(), 1);
}

#[test]
fn a_cname_is_not_created_beside_another_owners_old_format_txt() {
    let zone = zone(&[rec(
        "www.example.com.",
        300,
        txt("heritage=external-dns,external-dns/owner=cluster-west"),
    )]);
    let plan = run(
        &zone,
        &[want("www.example.com.", 300, &[cname("lb.example.net.")])],
        Policy::Sync,
    );
    assert_eq!(plan.changes, Vec::new());
    assert_eq!(
        plan.conflicts[0].holder,
        Holder::Owner("cluster-west".into())
    );
}

#[test]
fn rdata_that_does_not_parse_prints_as_rfc_3597() {
    assert_eq!(
        Rdata::from_wire(&[1, 2, 3]).to_text(RecordType::A),
        "\\# 3 010203"
    );
}

#[test]
fn a_wanted_txt_that_reads_as_a_registry_value_is_skipped() {
    let wanted = [want(
        "www.example.com.",
        300,
        &[txt("heritage=external-dns,external-dns/owner=someone")],
    )];
    let plan = run(&zone(&[]), &wanted, Policy::Sync);
    assert_eq!(plan.changes, Vec::new());
    assert_eq!(plan.skipped[0].reason, Skip::RegistryValue);
}

/// Planning only the names a publish changed gives what planning the whole zone gives for
/// them, and leaves every other name alone (even one the whole-zone plan would change).
#[test]
fn planning_some_names_matches_planning_all_for_them() {
    let registry = Registry::new(OWNER, "", "", "").expect("registry");
    let zone = zone(&[]);
    let wanted = vec![
        want("www.example.com.", 60, &[a("192.0.2.1")]),
        want("api.example.com.", 60, &[a("192.0.2.2")]),
    ];
    let all = plan(&zone, &wanted, &registry, Policy::Sync);
    let only: BTreeSet<Name> = [name("api.example.com.")].into();
    let some = plan_names(&zone, &wanted[1..], &only, &registry, Policy::Sync);
    let for_api: Vec<&Change> = all
        .changes
        .iter()
        .filter(|c| c.to_string().contains("api.example.com."))
        .collect();
    assert!(!for_api.is_empty());
    assert_eq!(some.changes.iter().collect::<Vec<_>>(), for_api);
    assert!(
        some.changes
            .iter()
            .all(|c| !c.to_string().contains("www.example.com.")),
        "{:?}",
        some.changes
    );
}
