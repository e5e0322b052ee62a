//! DNSEndpoint: each `spec.endpoints[]` is one name with its own record type, targets and TTL.

use std::net::IpAddr;

use kubezone_model::{DnsName, ObjectRef, RecordData, Target, TargetError};

use crate::{
    DnsEndpoint, ObjectRecords, Problem, TranslateError, ZoneFilter, output::Builder, targets,
};

pub(crate) fn translate(
    zones: &[ZoneFilter],
    dns_endpoint: &DnsEndpoint,
    object: ObjectRef,
) -> (ObjectRecords, Vec<Problem>) {
    let mut b = Builder::new(zones, object);
    b.metadata(&dns_endpoint.metadata);
    for (i, endpoint) in dns_endpoint.spec.endpoints.iter().enumerate() {
        let field = |leaf: &str| format!("spec.endpoints[{i}].{leaf}");
        let name = DnsName::parse(&endpoint.dns_name).map_err(|source| {
            TranslateError::invalid_name(field("dnsName"), &endpoint.dns_name, source)
        });
        let Some(name) = b.check(name) else {
            continue;
        };
        // A name of another domain is someone else's: its record type is none of our business.
        let Some(zone) = b.zone_for(&name, |_| true) else {
            continue;
        };
        let Some(record_type) = b.check(RecordType::parse(
            field("recordType"),
            &endpoint.record_type,
        )) else {
            continue;
        };
        let ttl = b
            .check(record_ttl(field("recordTTL"), endpoint.record_ttl))
            .flatten();
        let mut found = Vec::new();
        for (j, value) in endpoint.targets.iter().enumerate() {
            let field = format!("spec.endpoints[{i}].targets[{j}]");
            found.extend(b.check(record_type.target(field, value)));
        }
        b.add(zone, name, &found, ttl);
    }
    b.finish()
}

#[derive(Debug, Clone, Copy)]
enum RecordType {
    A,
    Aaaa,
    Cname,
    Txt,
    /// MX, SRV, NS, PTR, NAPTR or CAA: targets in presentation form, as external-dns writes
    /// them (`10 mail.example.com` for MX). NS below the apex delegates the name.
    Other(kubezone_model::RecordType),
}

/// The types external-dns's DNSEndpoint carries besides A, AAAA, CNAME and TXT.
const OTHER_TYPES: [&str; 6] = ["MX", "SRV", "NS", "PTR", "NAPTR", "CAA"];

impl RecordType {
    /// external-dns writes them upper-case; hand-written manifests are forgiven the case.
    fn parse(field: String, value: &str) -> Result<Self, TranslateError> {
        let upper = value.trim().to_ascii_uppercase();
        match upper.as_str() {
            "A" => Ok(RecordType::A),
            "AAAA" => Ok(RecordType::Aaaa),
            "CNAME" => Ok(RecordType::Cname),
            "TXT" => Ok(RecordType::Txt),
            other if OTHER_TYPES.contains(&other) => {
                other.parse().map(RecordType::Other).map_err(|_| {
                    TranslateError::UnsupportedRecordType {
                        field,
                        value: value.to_string(),
                    }
                })
            }
            _ => Err(TranslateError::UnsupportedRecordType {
                field,
                value: value.to_string(),
            }),
        }
    }

    fn target(self, field: String, value: &str) -> Result<Target, TranslateError> {
        let ip = value.trim().parse::<IpAddr>();
        match (self, ip) {
            (RecordType::A, Ok(IpAddr::V4(v4))) => Ok(Target::V4(v4)),
            (RecordType::A, Ok(IpAddr::V6(_))) => Err(targets::mismatch(
                field,
                value,
                "an IPv4 address, as record type A needs",
            )),
            (RecordType::A, Err(_)) => Err(targets::invalid(
                field,
                value,
                TargetError::NotIpv4 {
                    value: value.to_string(),
                },
            )),
            (RecordType::Aaaa, Ok(IpAddr::V6(v6))) => Ok(Target::V6(v6)),
            (RecordType::Aaaa, Ok(IpAddr::V4(_))) => Err(targets::mismatch(
                field,
                value,
                "an IPv6 address, as record type AAAA needs",
            )),
            (RecordType::Aaaa, Err(_)) => Err(targets::invalid(
                field,
                value,
                TargetError::NotIpv6 {
                    value: value.to_string(),
                },
            )),
            (RecordType::Cname, _) => targets::host(field, value),
            (RecordType::Txt, _) => Ok(Target::Text(value.to_string())),
            (RecordType::Other(rtype), _) => RecordData::parse(rtype, value, None)
                .map(Target::Record)
                .map_err(|e| TranslateError::InvalidRecordData {
                    field,
                    value: value.to_string(),
                    reason: e.to_string(),
                }),
        }
    }
}

/// `recordTTL`: unset or 0 means the zone's TTL, as in external-dns, where 0 is "not configured".
fn record_ttl(field: String, ttl: Option<i64>) -> Result<Option<u32>, TranslateError> {
    match ttl {
        None | Some(0) => Ok(None),
        Some(seconds) if seconds > 0 && seconds <= i64::from(i32::MAX) => u32::try_from(seconds)
            .map(Some)
            .map_err(|_| ttl_error(field, seconds)),
        Some(seconds) => Err(ttl_error(field, seconds)),
    }
}

fn ttl_error(field: String, seconds: i64) -> TranslateError {
    TranslateError::InvalidTtl {
        field,
        value: seconds.to_string(),
        reason: "must be between 0 and 2147483647 seconds",
    }
}
