//! The secondaries harness (`secondary.rs`) against a primary that already speaks AXFR, IXFR,
//! NOTIFY and TSIG: Knot serving zone files. NSD, Knot and BIND each transfer the zone, with
//! and without TSIG, pick up a change by NOTIFY and IXFR (also after being down), refuse to
//! serve what a wrong key could not transfer, and (Knot and BIND) take zones from a catalog.

pub mod primary;

use std::time::Duration;

use primary::Primary;

use crate::secondary::{
    Secondary, Software, Spec, Transfer, TransferKind, Tsig, assert_same_records,
};

const ZONE: &str = "transfer.test";

/// A failure bound: transfers on loopback take milliseconds.
const WAIT: Duration = Duration::from_secs(5);

fn key() -> Tsig {
    Tsig::new(
        "transfer-key",
        "hmac-sha256",
        "ytgbPL4Nc61BdQix0OsEpV2tMsqYpk/sMyWaQYxknhg=",
    )
}

/// The same key name and algorithm with another secret.
fn wrong_key() -> Tsig {
    Tsig::new(
        "transfer-key",
        "hmac-sha256",
        "sbgJ8zzGEbyBTxehcU6uDH6DQP032VTY6ApLEPGkirY=",
    )
}

/// A zone of several types; `changed` drops the TXT record, changes an address and adds a
/// name, so an IXFR has deletions and additions.
fn zone_text(zone: &str, serial: u32, changed: bool) -> String {
    let mut text = format!(
        "$ORIGIN {zone}.
$TTL 300
@ SOA ns1.{zone}. hostmaster.{zone}. {serial} 3600 600 86400 300
@ NS ns1
@ MX 10 mail
ns1 A 192.0.2.1
mail A 192.0.2.25
www AAAA 2001:db8::10
_sip._tcp SRV 10 5 5060 www
"
    );
    if changed {
        text.push_str("www A 192.0.2.11\nnew CNAME www\n");
    } else {
        text.push_str("www A 192.0.2.10\n@ TXT \"v=spf1 -all\"\n");
    }
    text
}

fn spec(primary: &Primary, tsig: Option<&Tsig>) -> Spec {
    let spec = Spec::new(primary.addr(), &[ZONE]);
    match tsig {
        Some(key) => spec.with_tsig(key),
        None => spec,
    }
}

fn all_secondaries(spec: &Spec) -> Vec<Secondary> {
    Software::ALL
        .into_iter()
        .map(|software| Secondary::start(software, spec.clone()))
        .collect()
}

const fn axfr(serial: u32) -> Transfer {
    Transfer {
        kind: TransferKind::Axfr,
        serial,
    }
}

const fn ixfr(serial: u32) -> Transfer {
    Transfer {
        kind: TransferKind::Ixfr,
        serial,
    }
}

/// Each secondary transfers the zone and serves exactly the primary's records.
fn whole_zone(tsig: Option<&Tsig>) {
    let primary = Primary::start(&[(ZONE, &zone_text(ZONE, 1, false))], tsig);
    let expected = primary.records(ZONE);
    assert_eq!(expected.len(), 9, "{expected:#?}");
    for mut secondary in all_secondaries(&spec(&primary, tsig)) {
        secondary.wait_for_serial(ZONE, 1, WAIT);
        assert_same_records(&expected, &secondary.records(ZONE), &secondary.name());
        assert_eq!(
            secondary.transfers(ZONE),
            [axfr(1)],
            "{}:\n{}",
            secondary.name(),
            secondary.log()
        );
    }
}

#[test]
fn each_secondary_transfers_the_zone() {
    whole_zone(None);
}

#[test]
fn each_secondary_transfers_the_zone_with_tsig() {
    whole_zone(Some(&key()));
}

/// After a change on the primary, its NOTIFY (signed when there is a key) brings each
/// secondary the change by IXFR; the refresh timer (an hour) plays no part.
fn change_by_notify_and_ixfr(tsig: Option<&Tsig>) {
    let mut primary = Primary::start(&[(ZONE, &zone_text(ZONE, 1, false))], tsig);
    let mut secondaries = all_secondaries(&spec(&primary, tsig));
    for secondary in &mut secondaries {
        secondary.wait_for_serial(ZONE, 1, WAIT);
    }
    let addrs: Vec<_> = secondaries.iter().map(Secondary::addr).collect();
    primary.notify_to(&addrs);
    primary.update(ZONE, &zone_text(ZONE, 2, true));
    let expected = primary.records(ZONE);
    assert!(
        expected.iter().any(|r| r.starts_with("new.")),
        "{expected:#?}"
    );
    for secondary in &mut secondaries {
        secondary.wait_for_serial(ZONE, 2, WAIT);
        assert_same_records(&expected, &secondary.records(ZONE), &secondary.name());
        assert_eq!(
            secondary.transfers(ZONE),
            [axfr(1), ixfr(2)],
            "{}:\n{}",
            secondary.name(),
            secondary.log()
        );
    }
}

#[test]
fn a_change_reaches_each_secondary_by_notify_and_ixfr() {
    change_by_notify_and_ixfr(None);
}

#[test]
fn a_change_reaches_each_secondary_by_notify_and_ixfr_with_tsig() {
    change_by_notify_and_ixfr(Some(&key()));
}

/// A secondary that was down while the zone changed comes back with what it had (serial 1),
/// and the next NOTIFY brings it only the difference.
#[test]
fn a_secondary_that_was_down_catches_up_by_ixfr() {
    let mut primary = Primary::start(&[(ZONE, &zone_text(ZONE, 1, false))], None);
    let mut secondaries = all_secondaries(&spec(&primary, None));
    for secondary in &mut secondaries {
        secondary.wait_for_serial(ZONE, 1, WAIT);
        secondary.stop();
    }
    let addrs: Vec<_> = secondaries.iter().map(Secondary::addr).collect();
    primary.notify_to(&addrs);
    primary.update(ZONE, &zone_text(ZONE, 2, true));
    for secondary in &mut secondaries {
        secondary.restart();
    }
    primary.notify(ZONE);
    let expected = primary.records(ZONE);
    for secondary in &mut secondaries {
        secondary.wait_for_serial(ZONE, 2, WAIT);
        assert_same_records(&expected, &secondary.records(ZONE), &secondary.name());
        assert_eq!(
            secondary.transfers(ZONE),
            [axfr(1), ixfr(2)],
            "{}:\n{}",
            secondary.name(),
            secondary.log()
        );
    }
}

/// A secondary whose key has the primary's name but another secret gets nothing: it logs
/// the failure at once and serves no zone, and nothing waits for a retry.
#[test]
fn a_wrong_tsig_key_fails_the_transfer() {
    let primary = Primary::start(&[(ZONE, &zone_text(ZONE, 1, false))], Some(&key()));
    for mut secondary in all_secondaries(&spec(&primary, Some(&wrong_key()))) {
        let failures = secondary.wait_for_transfer_failure(ZONE, WAIT);
        assert!(
            failures.iter().any(|l| l.to_lowercase().contains("tsig")),
            "{}: no failure names TSIG: {failures:#?}",
            secondary.name()
        );
        assert_eq!(secondary.serial(ZONE), None, "{}", secondary.name());
        assert_eq!(secondary.transfers(ZONE), [], "{}", secondary.name());
    }
}

const CATALOG: &str = "catalog.test";

/// A catalog zone (RFC 9432, version 2) listing `members`.
fn catalog_text(serial: u32, members: &[&str]) -> String {
    let mut text = format!(
        "$ORIGIN {CATALOG}.
$TTL 0
@ SOA invalid. invalid. {serial} 3600 600 86400 0
@ NS invalid.
version TXT \"2\"
"
    );
    for member in members {
        let id = member.split('.').next().unwrap_or(member);
        text.push_str(&format!("{id}.zones PTR {member}.\n"));
    }
    text
}

/// Knot and BIND, given only the catalog zone, serve the zones it lists, and a zone added
/// to the catalog once it changes.
#[test]
fn knot_and_bind_serve_the_zones_a_catalog_lists() {
    let members = ["one.test", "two.test", "three.test"];
    let mut zones = vec![(CATALOG.to_string(), catalog_text(1, &members[..2]))];
    zones.extend(
        members
            .iter()
            .map(|m| (m.to_string(), zone_text(m, 1, false))),
    );
    let zones: Vec<(&str, &str)> = zones
        .iter()
        .map(|(z, t)| (z.as_str(), t.as_str()))
        .collect();
    let mut primary = Primary::start(&zones, Some(&key()));
    let spec = Spec::new(primary.addr(), &[])
        .with_catalogs(&[CATALOG])
        .with_tsig(&key());
    let mut secondaries: Vec<Secondary> = Software::ALL
        .into_iter()
        .filter(|s| s.reads_catalogs())
        .map(|s| Secondary::start(s, spec.clone()))
        .collect();
    for secondary in &mut secondaries {
        for member in &members[..2] {
            secondary.wait_for_serial(member, 1, WAIT);
            assert_same_records(
                &primary.records(member),
                &secondary.records(member),
                &format!("{member} on the {}", secondary.name()),
            );
        }
        assert_eq!(secondary.serial(members[2]), None, "{}", secondary.name());
    }
    let addrs: Vec<_> = secondaries.iter().map(Secondary::addr).collect();
    primary.notify_to(&addrs);
    primary.update(CATALOG, &catalog_text(2, &members));
    for secondary in &mut secondaries {
        secondary.wait_for_serial(members[2], 1, WAIT);
        assert_same_records(
            &primary.records(members[2]),
            &secondary.records(members[2]),
            &format!("{} on the {}", members[2], secondary.name()),
        );
    }
}
