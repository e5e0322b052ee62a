//! `explain`: why a name resolves as it does — its records, the objects behind them, the Kind
//! that won precedence and any conflicts. Shared by `kubezone explain` and `/debug/explain`.

use std::fmt::Write;

use hickory_proto::rr::Name;
use kubezone_index::{Catalog, Lookup, NameKey, NodeRole};

/// A plain-text explanation of `name` in `catalog`.
pub fn explain(catalog: &Catalog, name: &str) -> String {
    let mut out = String::new();
    let parsed = Name::from_utf8(name).map(|mut n| {
        n.set_fqdn(true);
        n
    });
    let (Ok(qname), true) = (&parsed, !name.is_empty()) else {
        let _ = writeln!(out, "{name:?} is not a DNS name");
        return out;
    };
    let _ = writeln!(out, "name: {qname}");
    let Some(key) = NameKey::new(qname) else {
        let _ = writeln!(out, "not a name kubezone can serve");
        return out;
    };
    let Some(zone) = catalog.zone_for(&key) else {
        let _ = writeln!(
            out,
            "zone: none (served zones: {}); queries for it are refused or fall through",
            catalog
                .zones()
                .map(|z| z.origin().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        );
        return out;
    };
    let _ = writeln!(out, "zone: {} (serial {})", zone.origin(), zone.serial());
    if !catalog.is_ready() {
        let _ = writeln!(
            out,
            "note: not every source has synced yet; queries get SERVFAIL"
        );
    }
    let (node, wildcard) = match zone.lookup(&key) {
        Lookup::Found(node) => (node, false),
        Lookup::Wildcard(node) => (node, true),
        Lookup::NxDomain { below_nameserver } => {
            let why = if below_nameserver {
                "it is below the zone's nameserver host, where nothing exists"
            } else {
                "no object claims it, and no wildcard covers it"
            };
            let _ = writeln!(out, "answer: NXDOMAIN: {why}");
            return out;
        }
    };
    if wildcard {
        let _ = writeln!(out, "answered from a wildcard (RFC 4592)");
    }
    match node.role() {
        NodeRole::Apex => {
            let _ = writeln!(out, "role: the zone apex (SOA and NS)");
        }
        NodeRole::NameServer => {
            let _ = writeln!(out, "role: the zone's nameserver host (glue)");
        }
        NodeRole::Ordinary => {}
    }
    if node.is_empty_non_terminal() {
        let _ = writeln!(
            out,
            "answer: NODATA for every type: an empty non-terminal (names exist below it)"
        );
        return out;
    }
    let _ = writeln!(out, "records:");
    for rrset in node.rrsets() {
        for record in rrset.records(qname) {
            let _ = writeln!(
                out,
                "  {} {} {} {}",
                record.name,
                record.ttl,
                record.record_type(),
                record.data
            );
        }
    }
    if let Some(provenance) = node.provenance() {
        if let Some(winner) = provenance.winner {
            let _ = writeln!(out, "precedence: {winner} won");
        }
        let _ = writeln!(out, "from:");
        for object in &provenance.sources {
            let _ = writeln!(out, "  {object}");
        }
        if !provenance.conflicts.is_empty() {
            let _ = writeln!(out, "conflicts:");
            for conflict in &provenance.conflicts {
                let _ = writeln!(out, "  {conflict}");
            }
        }
    }
    out
}
