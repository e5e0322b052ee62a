//! A zone's own data from the config: its SOA fields, extra NS names and static records.
//!
//! Static records are RFC 1035 presentation form, one record per string, relative to the zone
//! (`@` is the apex). hickory-proto's zone-file parser reads them, so quoting, escapes and
//! relative names in the data mean what they mean in a zone file.

use hickory_proto::{
    rr::{DNSClass, Name, RecordType},
    serialize::txt::Parser,
};
use kubezone_index::{SoaConfig, StaticRecord};
use kubezone_model::{DnsName, RecordData};
use serde::Deserialize;

/// `soa:` as written; every key has a default.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawSoa {
    rname: Option<String>,
    refresh: Option<u64>,
    retry: Option<u64>,
    expire: Option<u64>,
    negative_ttl: Option<u64>,
}

/// The largest value of an SOA timer or TTL (RFC 2181 §8).
const MAX_TIMER: u64 = i32::MAX as u64;

/// The checked `soa` section. Errors are (key, message).
pub(super) fn soa(raw: RawSoa, origin: &DnsName) -> Result<SoaConfig, (String, String)> {
    let defaults = SoaConfig::default();
    let timer = |key: &str, value: Option<u64>, default: u32| -> Result<u32, (String, String)> {
        match value {
            None => Ok(default),
            Some(v) if v <= MAX_TIMER => u32::try_from(v).map_err(|_| out_of_range(key, v)),
            Some(v) => Err(out_of_range(key, v)),
        }
    };
    let rname = raw
        .rname
        .map(|text| mailbox(&text, origin).map_err(|message| ("soa.rname".to_string(), message)))
        .transpose()?;
    let config = SoaConfig {
        rname,
        refresh: timer("soa.refresh", raw.refresh, defaults.refresh)?,
        retry: timer("soa.retry", raw.retry, defaults.retry)?,
        expire: timer("soa.expire", raw.expire, defaults.expire)?,
        negative_ttl: timer("soa.negativeTtl", raw.negative_ttl, defaults.negative_ttl)?,
    };
    if config.retry >= config.refresh {
        return Err((
            "soa.retry".into(),
            format!(
                "{} must be below refresh ({}): a secondary retries sooner than it refreshes",
                config.retry, config.refresh
            ),
        ));
    }
    if config.expire <= config.refresh {
        return Err((
            "soa.expire".into(),
            format!(
                "{} must be above refresh ({}), or secondaries expire the zone before refreshing it",
                config.expire, config.refresh
            ),
        ));
    }
    Ok(config)
}

fn out_of_range(key: &str, value: u64) -> (String, String) {
    (
        key.to_string(),
        format!("{value} is out of range 0..={MAX_TIMER}"),
    )
}

/// RNAME: `hostmaster.example.com.` as in a zone file, or `hostmaster@example.com`; relative
/// names are in the zone.
fn mailbox(text: &str, origin: &DnsName) -> Result<DnsName, String> {
    let name = match text.split_once('@') {
        Some((local, domain)) if !local.contains('.') => format!("{local}.{domain}."),
        Some(_) => {
            return Err(format!(
                "{text:?}: a mailbox with a dot before '@' cannot be an RNAME"
            ));
        }
        None => text.to_string(),
    };
    let parsed = if name.ends_with('.') {
        DnsName::parse(&name)
    } else {
        DnsName::parse(&format!("{name}.{origin}"))
    };
    parsed.map_err(|e| format!("{text:?} is not a mailbox name: {e}"))
}

/// `nameservers`: absolute names end with a dot, others are in the zone.
pub(super) fn nameservers(
    list: &[String],
    origin: &DnsName,
) -> Result<Vec<DnsName>, (String, String)> {
    let mut names: Vec<DnsName> = Vec::new();
    for (i, text) in list.iter().enumerate() {
        let name = if text.ends_with('.') {
            DnsName::parse(text)
        } else {
            DnsName::parse(&format!("{text}.{origin}"))
        }
        .map_err(|e| (format!("nameservers[{i}]"), e.to_string()))?;
        if name.is_wildcard() {
            return Err((
                format!("nameservers[{i}]"),
                format!("{text:?} is a wildcard"),
            ));
        }
        if !names.contains(&name) {
            names.push(name);
        }
    }
    Ok(names)
}

/// Names the config reserves in the zone: the nameserver hosts, where nothing else may live.
pub(super) struct Reserved<'a> {
    pub hosts: Vec<&'a DnsName>,
}

/// `records`: every string one record, checked against each other and the zone.
pub(super) fn records(
    list: &[String],
    origin: &DnsName,
    zone_index: usize,
    reserved: &Reserved<'_>,
) -> Result<Vec<StaticRecord>, (String, String)> {
    let mut out: Vec<StaticRecord> = Vec::new();
    for (i, text) in list.iter().enumerate() {
        let key = format!("records[{i}]");
        let record = record(text, origin)
            .map_err(|message| (key.clone(), format!("{text:?}: {message}")))?;
        let rtype = record.data.record_type();
        let at_apex = record.name == *origin;
        let refuse = |message: String| (key.clone(), format!("{text:?}: {message}"));
        if at_apex && rtype == RecordType::NS {
            return Err(refuse(
                "the apex NS set comes from `apex`, `secondary` and `nameservers`".into(),
            ));
        }
        if at_apex && rtype == RecordType::CNAME {
            return Err(refuse(
                "the apex cannot have a CNAME (RFC 1034 §3.6.2)".into(),
            ));
        }
        if let Some(host) = reserved.hosts.iter().find(|h| h.contains(&record.name)) {
            return Err(refuse(format!(
                "{host} is this server's own name; its addresses come from `glue` or its Service"
            )));
        }
        if let Some(other) = out.iter().find(|o| {
            o.name == record.name
                && (o.data.record_type() == RecordType::CNAME) != (rtype == RecordType::CNAME)
        }) {
            return Err(refuse(format!(
                "a CNAME cannot sit beside other data at {} ({})",
                record.name, other.source
            )));
        }
        out.push(StaticRecord {
            source: format!("zones[{zone_index}].{key}"),
            ..record
        });
    }
    // Data below a delegation is never served, except addresses (glue for its servers).
    for record in &out {
        let glue = matches!(record.data.record_type(), RecordType::A | RecordType::AAAA);
        let cut = out.iter().find(|cut| {
            cut.data.record_type() == RecordType::NS
                && cut.name != *origin
                && cut.name.contains(&record.name)
                && (cut.name != record.name || record.data.record_type() != RecordType::NS)
        });
        if let Some(cut) = cut
            && !(glue && cut.name != record.name)
        {
            let at = record.source.rsplit('.').next().unwrap_or_default();
            return Err((
                at.to_string(),
                format!(
                    "{} {} is at or below the delegation {} ({}) and would never be served; only A and AAAA glue belong below a cut",
                    record.name,
                    record.data.record_type(),
                    cut.name,
                    cut.source
                ),
            ));
        }
    }
    Ok(out)
}

/// One record in presentation form. Without a TTL it takes the zone's.
fn record(text: &str, origin: &DnsName) -> Result<StaticRecord, String> {
    let line = text.trim();
    if line.is_empty() {
        return Err("empty record".into());
    }
    if line.contains(['\n', '\r']) {
        return Err("one record per string".into());
    }
    if line.starts_with('$') {
        return Err("zone-file directives ($ORIGIN, $TTL, $INCLUDE) are not accepted".into());
    }
    let origin_name: Name = origin.as_name().clone();
    let parse = |input: String| Parser::new(input, None, Some(origin_name.clone())).parse();
    let (records, ttl_given) = match parse(format!("{line}\n")) {
        Ok((_, records)) => (records, true),
        Err(e) if e.to_string().contains("ttl not specified") => {
            let (_, records) = parse(format!("$TTL 0\n{line}\n")).map_err(|e| e.to_string())?;
            (records, false)
        }
        Err(e) => return Err(e.to_string()),
    };
    let mut all = records
        .into_values()
        .flat_map(|set| set.records_without_rrsigs().cloned().collect::<Vec<_>>());
    let record = all.next().ok_or("no record")?;
    if all.next().is_some() {
        return Err("one record per string".into());
    }
    if record.dns_class != DNSClass::IN {
        return Err(format!("class {} is not served; only IN", record.dns_class));
    }
    let name = DnsName::from_name(&record.name).map_err(|e| e.to_string())?;
    if !origin.contains(&name) {
        return Err(format!("{name} is not in the zone {origin}"));
    }
    let data = RecordData::from_rdata(&record.data).map_err(|e| e.to_string())?;
    Ok(StaticRecord {
        name,
        ttl: ttl_given.then_some(record.ttl),
        data,
        source: String::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin() -> DnsName {
        DnsName::parse("example.com").expect("zone")
    }

    fn parse(lines: &[&str]) -> Result<Vec<String>, (String, String)> {
        let ns = DnsName::parse("dns1.kube-system.example.com").expect("ns");
        let reserved = Reserved { hosts: vec![&ns] };
        let list: Vec<String> = lines.iter().map(|s| s.to_string()).collect();
        records(&list, &origin(), 0, &reserved).map(|records| {
            records
                .iter()
                .map(|r| format!("{} {:?} {} {}", r.name, r.ttl, r.data, r.source))
                .collect()
        })
    }

    #[test]
    fn the_issue_example_reads_as_a_zone_file_would() {
        let got = parse(&[
            "@ 3600 MX 10 mail.example.com.",
            "@ TXT \"v=spf1 -all\"",
            "@ CAA 0 issue \"letsencrypt.org\"",
            "_sip._tcp SRV 10 5 5060 sip.example.com.",
            "lab NS ns.lab.example.net.",
            "www IN 300 A 192.0.2.1",
            "mail AAAA 2001:db8::25",
            "alias CNAME www",
        ])
        .expect("valid");
        assert_eq!(
            got,
            [
                "example.com. Some(3600) MX 10 mail.example.com. zones[0].records[0]",
                "example.com. None TXT v=spf1 -all zones[0].records[1]",
                "example.com. None CAA 0 issue \"letsencrypt.org\" zones[0].records[2]",
                "_sip._tcp.example.com. None SRV 10 5 5060 sip.example.com. zones[0].records[3]",
                "lab.example.com. None NS ns.lab.example.net. zones[0].records[4]",
                "www.example.com. Some(300) A 192.0.2.1 zones[0].records[5]",
                "mail.example.com. None AAAA 2001:db8::25 zones[0].records[6]",
                "alias.example.com. None CNAME www.example.com. zones[0].records[7]",
            ]
        );
    }

    #[test]
    fn bad_records_are_named_with_their_index_and_text() {
        for (lines, key, says) in [
            (&["@ MX ten mail"][..], "records[0]", "@ MX ten mail"),
            (&["www 60 A 300.1.1.1"], "records[0]", "300.1.1.1"),
            (
                &["www.example.org. A 192.0.2.1"],
                "records[0]",
                "not in the zone",
            ),
            (&["@ NS ns1.example.net."], "records[0]", "nameservers"),
            (&["@ CNAME www"], "records[0]", "CNAME"),
            (&["@ SOA a. b. 1 2 3 4 5"], "records[0]", "SOA"),
            (
                &["www A 192.0.2.1", "www CNAME other"],
                "records[1]",
                "(zones[0].records[0])",
            ),
            (&["$INCLUDE /etc/passwd"], "records[0]", "directives"),
            (
                &["www A 192.0.2.1\nftp A 192.0.2.2"],
                "records[0]",
                "one record",
            ),
            (
                &["x.dns1.kube-system A 192.0.2.1"],
                "records[0]",
                "own name",
            ),
            (&["www CH TXT hi"], "records[0]", "class"),
            (
                &["lab NS ns.lab", "www.lab TXT hi"],
                "records[1]",
                "delegation lab.example.com.",
            ),
            (&["www BOGUS 1"], "records[0]", "BOGUS"),
        ] {
            let (k, message) = parse(lines).expect_err(lines[0]);
            assert_eq!(k, key, "{message}");
            assert!(message.contains(says), "{message} should say {says}");
        }
        assert!(
            parse(&["lab NS ns.lab", "ns.lab A 192.0.2.53"]).is_ok(),
            "glue below a cut"
        );
    }

    #[test]
    fn soa_fields_default_to_what_zonemaster_accepts_and_are_checked() {
        let config = soa(RawSoa::default(), &origin()).expect("defaults");
        assert_eq!(config, SoaConfig::default());
        let raw = RawSoa {
            rname: Some("dns-admin@example.org".into()),
            refresh: Some(7200),
            retry: Some(600),
            expire: Some(604_800),
            negative_ttl: Some(60),
        };
        let config = soa(raw, &origin()).expect("valid");
        assert_eq!(
            config.rname.map(|n| n.to_string()),
            Some("dns-admin.example.org.".into())
        );
        let bad = |raw: RawSoa| soa(raw, &origin()).expect_err("invalid");
        let (key, message) = bad(RawSoa {
            retry: Some(20_000),
            ..RawSoa::default()
        });
        assert_eq!(key, "soa.retry");
        assert!(message.contains("20000"), "{message}");
        let (key, _) = bad(RawSoa {
            expire: Some(3_000_000_000),
            ..RawSoa::default()
        });
        assert_eq!(key, "soa.expire");
        let (key, _) = bad(RawSoa {
            rname: Some("a.b@example.com".into()),
            ..RawSoa::default()
        });
        assert_eq!(key, "soa.rname");
    }

    #[test]
    fn nameservers_are_absolute_with_a_dot_and_relative_without() {
        let names = nameservers(
            &["ns1.provider.net.".into(), "ns3".into(), "ns3".into()],
            &origin(),
        )
        .expect("valid");
        let names: Vec<String> = names.iter().map(ToString::to_string).collect();
        assert_eq!(names, ["ns1.provider.net.", "ns3.example.com."]);
        let (key, _) = nameservers(&["bad name.".into()], &origin()).expect_err("invalid");
        assert_eq!(key, "nameservers[0]");
    }
}
