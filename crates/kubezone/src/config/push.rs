//! A zone's `push` section (issue 17): the primary kubezone keeps in sync by RFC 2136 UPDATE,
//! the TSIG key it signs with, the owner id of its ownership records, the policy and how often
//! the whole zone is reconciled.

use std::{net::SocketAddr, time::Duration};

use kubezone_push::registry::Registry;
use serde::Deserialize;

/// `push:` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawPush {
    server: String,
    key: String,
    owner: String,
    #[serde(default)]
    policy: PushPolicy,
    interval: Option<String>,
    #[serde(default)]
    txt_prefix: String,
    #[serde(default)]
    txt_suffix: String,
    #[serde(default)]
    txt_wildcard_replacement: String,
}

/// What kubezone may do to the records it owns on the primary, as external-dns's `--policy`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub enum PushPolicy {
    /// Create, update and delete.
    #[default]
    #[serde(rename = "sync")]
    Sync,
    /// Create and update, never delete.
    #[serde(rename = "upsert-only")]
    UpsertOnly,
    /// Only create.
    #[serde(rename = "create-only")]
    CreateOnly,
}

/// A zone's checked push settings; `key` is checked against `tsigKeys` by the caller.
#[derive(Debug, Clone)]
pub struct Push {
    pub server: SocketAddr,
    pub key: String,
    pub owner: String,
    pub policy: PushPolicy,
    /// A full reconciliation this often, besides pushing each change at once.
    pub interval: Duration,
    /// The ownership records: the owner id and where its TXT records go.
    pub registry: Registry,
}

/// external-dns's default `--interval`.
const DEFAULT_INTERVAL: Duration = Duration::from_secs(60);

/// Errors are (key under `push`, message).
pub(super) fn push(raw: RawPush) -> Result<Push, (String, String)> {
    let server = parse_server(&raw.server).ok_or_else(|| {
        (
            "push.server".to_string(),
            format!("{:?} is not ip or ip:port", raw.server),
        )
    })?;
    // external-dns writes the owner id into TXT values between commas and `=`: neither may
    // appear in it, nor may it be empty.
    let owner = raw.owner.trim().to_string();
    if owner.is_empty()
        || owner.len() > 63
        || !owner
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        return Err((
            "push.owner".into(),
            format!(
                "{:?} is not an owner id (1 to 63 letters, digits, '-', '_' or '.')",
                raw.owner
            ),
        ));
    }
    let interval = match raw.interval.as_deref() {
        None => DEFAULT_INTERVAL,
        Some(text) => super::duration::parse(text).ok_or_else(|| {
            (
                "push.interval".to_string(),
                format!("{text:?} is not a duration from 1s to 24h (60, 60s, 5m, 1h)"),
            )
        })?,
    };
    if !raw.txt_prefix.is_empty() && !raw.txt_suffix.is_empty() {
        return Err((
            "push.txtPrefix".into(),
            "txtPrefix and txtSuffix cannot both be set (as external-dns's --txt-prefix and --txt-suffix)"
                .into(),
        ));
    }
    let registry = Registry::new(
        &owner,
        &raw.txt_prefix,
        &raw.txt_suffix,
        &raw.txt_wildcard_replacement,
    )
    .map_err(|e| ("push.txtPrefix".to_string(), e.to_string()))?;
    Ok(Push {
        server,
        key: raw.key,
        owner,
        policy: raw.policy,
        interval,
        registry,
    })
}

/// `ip` (port 53) or `ip:port`, IPv6 in brackets with a port.
fn parse_server(text: &str) -> Option<SocketAddr> {
    let text = text.trim();
    text.parse::<SocketAddr>().ok().or_else(|| {
        text.parse::<std::net::IpAddr>()
            .ok()
            .map(|ip| SocketAddr::new(ip, 53))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(server: &str, owner: &str, interval: Option<&str>) -> RawPush {
        RawPush {
            server: server.into(),
            key: "update-key".into(),
            owner: owner.into(),
            policy: PushPolicy::default(),
            interval: interval.map(String::from),
            txt_prefix: String::new(),
            txt_suffix: String::new(),
            txt_wildcard_replacement: String::new(),
        }
    }

    #[test]
    fn settings_and_their_defaults() {
        let p = push(raw("192.0.2.53", "cluster-east", None)).expect("valid");
        assert_eq!(p.server, "192.0.2.53:53".parse().expect("addr"));
        assert_eq!(p.policy, PushPolicy::Sync);
        assert_eq!(p.interval, Duration::from_secs(60));
        let p = push(raw("[::1]:5353", "east", Some("1m30s"))).expect("valid");
        assert_eq!(p.server.port(), 5353);
        assert_eq!(p.interval, Duration::from_secs(90));
    }

    #[test]
    fn bad_values_name_their_key() {
        for (raw, key) in [
            (raw("primary.example", "east", None), "push.server"),
            (raw("192.0.2.53", "", None), "push.owner"),
            (raw("192.0.2.53", "a,b", None), "push.owner"),
            (raw("192.0.2.53", "east", Some("0s")), "push.interval"),
            (raw("192.0.2.53", "east", Some("soon")), "push.interval"),
            (raw("192.0.2.53", "east", Some("48h")), "push.interval"),
        ] {
            let (at, message) = push(raw).expect_err("invalid");
            assert_eq!(at, key, "{message}");
        }
    }
}
