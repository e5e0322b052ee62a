//! A zone's `transfer` section: who may transfer it (AXFR, IXFR), with which TSIG keys, and which
//! secondaries are sent NOTIFY.

use std::net::{IpAddr, SocketAddr};

use kubezone_guard::{CidrSet, parse_cidr};
use kubezone_model::DnsName;
use kubezone_transfer::{DEFAULT_JOURNAL_BYTES, ZoneTransfer};
use serde::Deserialize;

/// `transfer:` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawTransfer {
    #[serde(default)]
    allow: Vec<String>,
    #[serde(default)]
    keys: Vec<String>,
    #[serde(default)]
    notify: Vec<String>,
    journal_bytes: Option<u64>,
}

/// A zone's checked transfer settings, and the names of the TSIG keys it requires.
#[derive(Debug, Clone)]
pub struct Transfer {
    pub settings: ZoneTransfer,
    /// Key names as written; the config finds them in `tsigKeys` and puts them in
    /// `settings.keys`.
    pub keys: Vec<String>,
}

/// The largest journal a zone may keep.
const MAX_JOURNAL_BYTES: u64 = 1 << 30;

/// Errors are (key under `transfer`, message).
pub(super) fn transfer(raw: RawTransfer, zone: &DnsName) -> Result<Transfer, (String, String)> {
    let allow = raw
        .allow
        .iter()
        .enumerate()
        .map(|(i, text)| {
            parse_cidr(text).map_err(|e| (format!("transfer.allow[{i}]"), e.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let notify = raw
        .notify
        .iter()
        .enumerate()
        .map(|(i, text)| {
            target(text).ok_or_else(|| {
                (
                    format!("transfer.notify[{i}]"),
                    format!("{text:?} is not ip or ip:port"),
                )
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let journal_bytes = match raw.journal_bytes {
        None => DEFAULT_JOURNAL_BYTES,
        Some(n) if n <= MAX_JOURNAL_BYTES => usize::try_from(n).unwrap_or(DEFAULT_JOURNAL_BYTES),
        Some(n) => {
            return Err((
                "transfer.journalBytes".into(),
                format!("{n} is out of range 0..={MAX_JOURNAL_BYTES}"),
            ));
        }
    };
    let mut keys: Vec<String> = Vec::new();
    for (i, key) in raw.keys.iter().enumerate() {
        let name = DnsName::parse(key)
            .map_err(|e| (format!("transfer.keys[{i}]"), format!("{key:?}: {e}")))?;
        let name = name.to_string();
        if !keys.contains(&name) {
            keys.push(name);
        }
    }
    Ok(Transfer {
        settings: ZoneTransfer {
            zone: zone.as_name().clone(),
            allow: CidrSet::new(&allow),
            notify,
            journal_bytes,
            keys: Vec::new(),
        },
        keys,
    })
}

/// `ip` (port 53) or `ip:port`, IPv6 as `[addr]:port` or bare.
fn target(text: &str) -> Option<SocketAddr> {
    text.parse::<SocketAddr>().ok().or_else(|| {
        text.parse::<IpAddr>()
            .ok()
            .map(|ip| SocketAddr::new(ip, 53))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zone() -> DnsName {
        DnsName::parse("example.com").expect("zone")
    }

    fn raw(yaml: &str) -> RawTransfer {
        serde_norway::from_str(yaml).expect("yaml")
    }

    #[test]
    fn the_issue_example_reads_with_its_meanings() {
        let t = transfer(
            raw(r#"{allow: [10.0.0.0/8, "::1/128"], keys: [xfr-key], notify: ["192.0.2.10", "192.0.2.11:5353"]}"#),
            &zone(),
        )
        .expect("valid");
        assert!(t.settings.allow.contains("10.1.2.3".parse().expect("ip")));
        assert!(t.settings.allow.contains("::1".parse().expect("ip")));
        assert!(!t.settings.allow.contains("192.0.2.1".parse().expect("ip")));
        assert_eq!(
            t.settings.notify,
            [
                "192.0.2.10:53".parse::<SocketAddr>().expect("addr"),
                "192.0.2.11:5353".parse().expect("addr")
            ]
        );
        assert_eq!(t.keys, ["xfr-key."]);
        assert_eq!(t.settings.journal_bytes, DEFAULT_JOURNAL_BYTES);
    }

    #[test]
    fn bad_values_are_named() {
        for (yaml, key, value) in [
            ("{allow: [10.0.0.0/33]}", "transfer.allow[0]", "10.0.0.0/33"),
            ("{notify: [somewhere]}", "transfer.notify[0]", "somewhere"),
            ("{keys: [\"bad key\"]}", "transfer.keys[0]", "bad key"),
            (
                "{journalBytes: 99999999999}",
                "transfer.journalBytes",
                "99999999999",
            ),
        ] {
            let (k, message) = transfer(raw(yaml), &zone()).expect_err(yaml);
            assert_eq!(k, key, "{message}");
            assert!(message.contains(value), "{message} should name {value}");
        }
    }
}
