//! The catalog zone (RFC 9432): a zone that lists the zones kubezone transfers, so a secondary
//! configured once (Knot's `catalog-role: interpret`, BIND's `catalog-zones`) picks up every
//! zone kubezone serves, and new ones as they appear.
//!
//! It is one more zone of the config, made of static records only:
//! `version.<catalog> TXT "2"` and one `<id>.zones.<catalog> PTR <member>` per member.

use kubezone_dns::Fallthrough;
use kubezone_index::{NameServer, StaticRecord, ZoneConfig};
use kubezone_model::{DnsName, RecordData};
use kubezone_translate::ZoneFilter;
use serde::Deserialize;

use super::{
    GlueServices, Zone,
    transfer::{RawTransfer, transfer},
};

/// `catalog:` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawCatalog {
    zone: String,
    transfer: RawTransfer,
}

/// The catalog zone listing `members` (the zones with `transfer` settings). `written` is the
/// config file's modification time: the catalog changes only with the config, so that is when
/// its records were written. Errors are (key under `catalog`, message).
pub(super) fn catalog(
    raw: RawCatalog,
    members: &[&DnsName],
    written: u32,
) -> Result<Zone, (String, String)> {
    let origin = DnsName::parse(&raw.zone).map_err(|e| ("zone".to_string(), e.to_string()))?;
    let record = |name: String,
                  data: RecordData,
                  source: String|
     -> Result<StaticRecord, (String, String)> {
        Ok(StaticRecord {
            name: DnsName::parse(&name).map_err(|e| ("zone".to_string(), e.to_string()))?,
            ttl: None,
            data,
            source,
        })
    };
    let mut records = vec![record(
        format!("version.{origin}"),
        RecordData::parse_typed("TXT", "\"2\"", None)
            .map_err(|e| ("zone".into(), e.to_string()))?,
        "catalog version".into(),
    )?];
    for member in members {
        let data = RecordData::parse_typed("PTR", &member.to_string(), None)
            .map_err(|e| ("zone".to_string(), e.to_string()))?;
        records.push(record(
            format!("{}.zones.{origin}", member_id(member)),
            data,
            format!("catalog member {member}"),
        )?);
    }
    let transfer = transfer(raw.transfer, &origin)?;
    let mut filter = ZoneFilter::new(origin.clone());
    filter.resources = Vec::new();
    let nameserver = NameServer {
        // RFC 9432 §4.1: the NS RRset is never used; this host has no address.
        name: DnsName::parse(&format!("invalid.{origin}"))
            .map_err(|e| ("zone".into(), e.to_string()))?,
        addrs: Vec::new(),
    };
    let mut index = ZoneConfig::new(origin, nameserver);
    index.precedence = Vec::new();
    index.records = records;
    index.static_written = written;
    Ok(Zone {
        index,
        filter,
        fallthrough: Fallthrough::Off,
        glue_services: GlueServices::default(),
        transfer: Some(transfer),
        push: None,
    })
}

/// A member's unique id (RFC 9432 §4.2): a stable label from its name, the same in every
/// replica and release (FNV-1a, 64 bits, as hex).
fn member_id(member: &DnsName) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in member.to_string().to_ascii_lowercase().bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{hash:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(yaml: &str) -> RawCatalog {
        serde_norway::from_str(yaml).expect("yaml")
    }

    #[test]
    fn a_catalog_lists_its_members_with_stable_ids() {
        let a = DnsName::parse("example.com").expect("name");
        let b = DnsName::parse("example.org").expect("name");
        let zone = catalog(
            raw("{zone: catalog.kubezone.invalid, transfer: {allow: [127.0.0.1]}}"),
            &[&a, &b],
            1_800_000_000,
        )
        .expect("valid");
        let lines: Vec<String> = zone
            .index
            .records
            .iter()
            .map(|r| format!("{} {}", r.name, r.data))
            .collect();
        assert_eq!(lines[0], "version.catalog.kubezone.invalid. TXT 2");
        assert_eq!(lines.len(), 3);
        assert!(
            lines[1].ends_with(".zones.catalog.kubezone.invalid. PTR example.com."),
            "{lines:?}"
        );
        assert_eq!(
            member_id(&a),
            member_id(&DnsName::parse("EXAMPLE.com.").expect("name"))
        );
        assert_ne!(member_id(&a), member_id(&b));
        assert_eq!(zone.index.static_written, 1_800_000_000);
        assert!(
            zone.filter.resources.is_empty(),
            "no object claims a catalog name"
        );
        assert!(zone.transfer.is_some());
    }
}
