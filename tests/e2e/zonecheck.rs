//! Standard DNS checkers on kubezone's zone: Zonemaster and DNSViz, with NSD serving the same
//! records as the reference (docs/zone-checks.md).
//!
//! Two labs, each a network namespace of its own with the same names and addresses: a root and
//! `com.` (NSD) delegate `example.com.` to `dns1`/`dns2.kube-system.example.com.`, which are two
//! kubezone replicas serving `config/examples` in one, and two NSDs serving what kubezone
//! answered in the other. Every WARNING, ERROR or CRITICAL kubezone gets must also be one NSD
//! gets; what the lab itself causes then cancels out. Seen so far, on both:
//! - Zonemaster ADDRESS02 NAMESERVER_IP_WITHOUT_REVERSE (WARNING): the lab has no reverse zones;
//! - Zonemaster DNSSEC07 NEITHER_DNSKEY_NOR_DS and NOT_SIGNED (NOTICE): nothing is signed;
//! - Zonemaster ZONE09 Z09_MISSING_MAIL_TARGET (NOTICE): the examples have no MX;
//! - no ASN data and no internet: Zonemaster's CONNECTIVITY03 asks the lab's root for
//!   asnlookup.zonemaster.net, gets NXDOMAIN and says nothing; DNSViz's probe logs "No global
//!   IPv4/IPv6 connectivity detected", which is not a finding. DNSViz found nothing on either.

mod checkers;
mod lab;
mod netns;

use std::{
    collections::{BTreeMap, BTreeSet},
    net::IpAddr,
    time::Instant,
};

use checkers::{Finding, Level, Run};
use lab::{DNS1, DNS2, Lab, ZONE};

#[test]
fn zonemaster_and_dnsviz_find_nothing_on_kubezone_they_do_not_find_on_nsd() {
    let started = Instant::now();
    let names = lab::example_names();
    let probe = probe_names(&names);

    let mut kubezone_lab = Lab::start("kz");
    kubezone_lab.start_kubezone_replicas();
    let serials: Vec<String> = [&DNS1, &DNS2]
        .iter()
        .map(|host| {
            let soa = kubezone_lab.dig(IpAddr::V4(host.v4), &["+answer"], &[(ZONE, "SOA")]);
            soa.first()
                .and_then(|l| l.split(' ').nth(6))
                .unwrap_or("none")
                .to_string()
        })
        .collect();
    println!(
        "FIGURE zone checks: SOA serials of the two kubezone replicas, started 2 s apart: {}",
        serials.join(" and ")
    );
    let zone = lab::reference_zone(&kubezone_lab, &names);
    let kubezone = checkers::run(&kubezone_lab, &probe);

    let mut nsd_lab = Lab::start("nsd");
    nsd_lab.start_nsd_reference(&zone);
    // The reference is only a reference if it serves exactly what kubezone serves.
    for host in [&DNS1, &DNS2] {
        for addr in host.addrs() {
            assert_eq!(
                lab::records_of(&nsd_lab, addr, &names),
                lab::records_of(&kubezone_lab, addr, &names),
                "NSD and kubezone at {addr} serve different records; the reference zone:\n{zone}"
            );
        }
    }
    drop(kubezone_lab);
    let nsd = checkers::run(&nsd_lab, &probe);

    // Both checkers must have reached all four nameserver addresses, in both labs: a lab that
    // broke the same way twice would otherwise compare equal.
    let mut addresses: Vec<String> = [&DNS1, &DNS2]
        .iter()
        .flat_map(|h| h.addrs())
        .map(|a: IpAddr| a.to_string())
        .collect();
    addresses.sort();
    for (who, run) in [("kubezone", &kubezone), ("NSD", &nsd)] {
        assert_eq!(
            run.zonemaster_nameservers.len(),
            4,
            "Zonemaster did not reach the four addresses of {who}: {:?}",
            run.zonemaster_nameservers
        );
        assert_eq!(
            run.dnsviz_addresses, addresses,
            "DNSViz did not query the four addresses of {who}"
        );
    }

    println!("zone checks: DNSViz probed {ZONE} {}", probe.join(" "));
    report(&kubezone, &nsd, &zone);
    let nsd_ids: BTreeSet<String> = nsd.findings.iter().map(Finding::id).collect();
    let only_kubezone: Vec<&Finding> = kubezone
        .findings
        .iter()
        .filter(|f| f.level >= Level::Warning && !nsd_ids.contains(&f.id()))
        .collect();
    println!(
        "FIGURE zone checks: one run (two labs, Zonemaster and DNSViz on each) took {:.1} s",
        started.elapsed().as_secs_f64()
    );
    assert!(
        only_kubezone.is_empty(),
        "Zonemaster/DNSViz warn about kubezone's {ZONE} where they do not about NSD's:\n{}",
        only_kubezone
            .iter()
            .map(|f| format!("  {}: {}", f.id(), f.detail))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// The names DNSViz probes besides the zone: the example names, a name each wildcard covers,
/// and the empty non-terminals above them.
fn probe_names(names: &[String]) -> Vec<String> {
    let mut probe: BTreeSet<String> = names.iter().filter(|n| *n != ZONE).cloned().collect();
    for name in names.iter().filter(|n| *n != ZONE) {
        if let Some(below) = name.strip_prefix("*.") {
            probe.insert(format!("covered.{below}"));
        }
        let parent = name.split_once('.').map_or("", |(_, p)| p);
        if parent != ZONE && !parent.is_empty() && !parent.starts_with('*') {
            probe.insert(parent.to_string());
        }
    }
    probe.into_iter().collect()
}

/// Prints both sides' findings, counted per id side by side, then every message in full, and
/// the `FIGURE` line a note can quote.
fn report(kubezone: &Run, nsd: &Run, zone: &str) {
    let mut table: BTreeMap<(Level, String), (usize, usize)> = BTreeMap::new();
    for f in &kubezone.findings {
        table.entry((f.level, f.id())).or_default().0 += 1;
    }
    for f in &nsd.findings {
        table.entry((f.level, f.id())).or_default().1 += 1;
    }
    println!("zone checks: findings (NOTICE and above), count on kubezone | on NSD");
    let mut rows: Vec<_> = table.into_iter().collect();
    rows.sort_by(|((la, a), _), ((lb, b), _)| lb.cmp(la).then_with(|| a.cmp(b)));
    for ((_, id), (k, n)) in rows {
        println!("  {k:>3} | {n:<3} {id}");
    }
    for (who, run) in [("kubezone", kubezone), ("NSD", nsd)] {
        println!("zone checks: {who}, every message");
        for f in &run.findings {
            println!("  {}: {}", f.id(), f.detail);
        }
    }
    println!("zone checks: the reference zone\n{zone}");
    let count = |run: &Run, tool: &str, level: Level| {
        run.findings
            .iter()
            .filter(|f| f.tool == tool && f.level == level)
            .count()
    };
    let side = |tool: &str, levels: &[Level]| {
        levels
            .iter()
            .map(|&l| format!("{l} {}|{}", count(kubezone, tool, l), count(nsd, tool, l)))
            .collect::<Vec<_>>()
            .join(" ")
    };
    println!(
        "FIGURE zone checks, kubezone|NSD: Zonemaster {}; DNSViz {}",
        side(
            "zonemaster",
            &[Level::Critical, Level::Error, Level::Warning, Level::Notice]
        ),
        side("dnsviz", &[Level::Error, Level::Warning])
    );
}
