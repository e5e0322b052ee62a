//! `explain`: why a name resolves as it does — its records, the objects behind them, the Kind
//! that won precedence and any conflicts. Shared by `kubezone explain` and `/debug/explain`.

use std::{fmt::Write, net::IpAddr};

use hickory_proto::rr::Name;
use kubezone_dns::{Locality, Reason};
use kubezone_index::{Catalog, Lookup, NameKey, NodeRole};
use kubezone_model::Kind;

/// A client to explain a name for (several clusters): its address, each cluster's client
/// networks, and the clusters' names by place in `clusters:`.
pub struct ForClient<'a> {
    pub address: IpAddr,
    pub locality: &'a Locality,
    pub clusters: &'a [String],
}

/// A plain-text explanation of `name` in `catalog`.
#[cfg(test)]
pub fn explain(catalog: &Catalog, name: &str) -> String {
    explain_for(catalog, name, None)
}

/// [`explain`], and what `client` gets at a local-first name.
pub fn explain_for(catalog: &Catalog, name: &str, client: Option<ForClient<'_>>) -> String {
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
        Lookup::Referral(cut) => {
            let cut_name = NameKey::from_wire(cut.key())
                .and_then(|(k, _)| k.to_name())
                .map(|n| n.to_string())
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "answer: a referral (not authoritative): {cut_name} is delegated to"
            );
            for rrset in cut.rrsets() {
                for record in rrset.records(&Name::root()) {
                    let _ = writeln!(
                        out,
                        "  {cut_name} {} {} {}",
                        record.ttl,
                        record.record_type(),
                        record.data
                    );
                }
            }
            if cut.key() != key.as_bytes() {
                let _ = writeln!(out, "records below a delegation are not served here");
            }
            write_provenance(&mut out, cut);
            return out;
        }
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
        NodeRole::Delegation => {
            let _ = writeln!(out, "role: a zone cut (delegated)");
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
    write_records(&mut out, node.rrsets(), qname, "  ");
    write_provenance(&mut out, node);
    if let Some(client) = client {
        write_client(&mut out, node, qname, &client);
    }
    out
}

/// Which cluster `client` gets and why, and the records it gets.
fn write_client(
    out: &mut String,
    node: &kubezone_index::NameNode,
    qname: &Name,
    client: &ForClient<'_>,
) {
    let choice = client.locality.cluster_for(client.address);
    let cluster = |index: u16| {
        client
            .clusters
            .get(usize::from(index))
            .cloned()
            .unwrap_or_else(|| index.to_string())
    };
    let why = match (choice.cluster, choice.reason) {
        (Some(c), Reason::Network(network)) => {
            format!("cluster {} (its client network {network})", cluster(c))
        }
        (Some(c), _) => format!(
            "cluster {} (the local cluster: the client is in no cluster's network)",
            cluster(c)
        ),
        (None, _) => {
            "every cluster (the client is in no cluster's network and there is no localCluster)"
                .to_string()
        }
    };
    let _ = writeln!(out, "client {}: {why}", client.address);
    if !node.is_local_first() {
        let _ = writeln!(
            out,
            "  the name is not local-first: every client gets the records above"
        );
        return;
    }
    let own = choice
        .cluster
        .is_some_and(|c| !std::ptr::eq(node.rrsets_for(Some(c)), node.rrsets()));
    if choice.cluster.is_some() && !own {
        let _ = writeln!(
            out,
            "  its cluster has no records here, so it gets every cluster's (failover)"
        );
    }
    let _ = writeln!(out, "  records for this client:");
    write_records(out, node.rrsets_for(choice.cluster), qname, "    ");
}

/// One line per record, owned by `qname`, each after `indent`.
fn write_records(out: &mut String, rrsets: &[kubezone_index::RRset], qname: &Name, indent: &str) {
    for rrset in rrsets {
        for record in rrset.records(qname) {
            let _ = writeln!(
                out,
                "{indent}{} {} {} {}",
                record.name,
                record.ttl,
                record.record_type(),
                record.data
            );
        }
    }
}

/// The objects (and static records) behind a node, the Kind that won and any conflicts.
fn write_provenance(out: &mut String, node: &kubezone_index::NameNode) {
    if let Some(provenance) = node.provenance() {
        // A PTR from the forward zones: its object is the last source, after static records.
        let (derived, sources) = match (&provenance.reverse_of, provenance.sources.split_last()) {
            (Some(forward), Some((object, statics))) => (Some((forward, object)), statics),
            _ => (None, &provenance.sources[..]),
        };
        if let Some(winner) = provenance.winner.filter(|k| *k != Kind::Config)
            && derived.is_none()
        {
            let _ = writeln!(out, "precedence: {winner} won");
        }
        let _ = writeln!(out, "from:");
        for object in sources {
            if object.kind() == Kind::Config {
                let _ = writeln!(out, "  the config's static record {}", object.name());
            } else {
                let _ = writeln!(out, "  {object}");
            }
        }
        if let Some((forward, object)) = derived {
            let by = if object.kind() == Kind::Config {
                format!("the config's {}", object.name())
            } else {
                object.to_string()
            };
            let _ = writeln!(
                out,
                "  the reverse of {forward}, whose address {by} gives (the first name by precedence with this address)"
            );
        }
        for (object, note) in &provenance.notes {
            let _ = writeln!(out, "why: {object}: {note}");
        }
        if !provenance.conflicts.is_empty() {
            let _ = writeln!(out, "conflicts:");
            for conflict in &provenance.conflicts {
                let _ = writeln!(out, "  {conflict}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use kubezone_index::{IndexWriter, NameServer, ZoneConfig};
    use kubezone_model::{DnsName, Endpoint, Kind, ObjectRef, Target};

    use super::explain;

    fn zone(origin: &str) -> ZoneConfig {
        let dns = |s: &str| DnsName::parse(s).expect("name");
        ZoneConfig::new(
            dns(origin),
            NameServer {
                name: dns(&format!("dns1.kube-system.{origin}")),
                addrs: vec!["192.0.2.53".parse().expect("ip")],
            },
        )
    }

    #[test]
    fn a_derived_ptr_names_its_forward_name_and_object() {
        let (mut w, r) = IndexWriter::new(vec![zone("example.com"), zone("10.in-addr.arpa")]);
        let web = ObjectRef::new(Kind::Ingress, Some("shop"), "web");
        let endpoint = Endpoint::new(
            DnsName::parse("www.example.com").expect("name"),
            vec![Target::parse_ip("10.0.0.1").expect("ip")],
        );
        w.apply(&web, [(0, endpoint)], 1, 0);
        w.publish(1);
        let text = explain(&r.load(), "1.0.0.10.in-addr.arpa");
        assert!(text.contains("zone: 10.in-addr.arpa."), "{text}");
        assert!(
            text.contains("1.0.0.10.in-addr.arpa. 60 PTR www.example.com."),
            "{text}"
        );
        assert!(
            text.contains("the reverse of www.example.com., whose address Ingress/shop/web gives"),
            "{text}"
        );
        assert!(!text.contains("precedence:"), "{text}");
    }
}
