//! Zones, server addresses and listen addresses as a Corefile writes them.

use std::net::{IpAddr, SocketAddr};

use crate::notes::Notes;

/// A zone as kubezone's config takes it: lower case, no trailing dot (the root stays `.`).
/// Environment placeholders keep their case.
pub fn zone(text: &str) -> String {
    let zone = match text.strip_suffix('.') {
        Some(trimmed) if !trimmed.is_empty() => trimmed,
        _ => text,
    };
    if zone.contains('{') {
        zone.to_string()
    } else {
        zone.to_ascii_lowercase()
    }
}

/// Whether `name` is `zone` or below it (`.` contains everything), ignoring case.
pub fn within(name: &str, zone: &str) -> bool {
    let (name, zone) = (name.to_ascii_lowercase(), zone.to_ascii_lowercase());
    zone == "." || name == zone || name.ends_with(&format!(".{zone}"))
}

/// A name relative to the zone (`apex`, `secondary`); a trailing dot would make it absolute.
pub fn relative(text: &str, key: &str, line: usize, notes: &mut Notes) -> String {
    match text.strip_suffix('.') {
        Some(trimmed) => {
            notes.at(
                line,
                format!("{key} {text:?} ends with a dot; kubezone takes it relative to the zone, as {trimmed:?}"),
            );
            trimmed.to_string()
        }
        None => text.to_string(),
    }
}

/// A server block key: `[scheme://]zone[:port]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerKey {
    pub scheme: String,
    pub zone: String,
    pub port: Option<u16>,
}

pub fn server_key(text: &str) -> ServerKey {
    let (scheme, rest) = match text.split_once("://") {
        Some((scheme, rest)) => (scheme.to_ascii_lowercase(), rest),
        None => ("dns".to_string(), text),
    };
    let (host, port) = match rest.rsplit_once(':') {
        Some((host, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => {
            (host, port.parse().ok())
        }
        _ => (rest, None),
    };
    let host = if host.is_empty() { "." } else { host };
    ServerKey {
        scheme,
        zone: zone(host),
        port,
    }
}

/// `host:port` for an HTTP listener as CoreDNS's plugins write it (`:9153`, `localhost:8080`,
/// `[::]:9153`), as kubezone needs it: `ip:port`.
pub fn http_listen(text: &str) -> Option<String> {
    let (host, port) = text.rsplit_once(':')?;
    let port: u16 = port.parse().ok()?;
    let ip: IpAddr = match host {
        "" => IpAddr::from([0, 0, 0, 0]),
        "localhost" => IpAddr::from([127, 0, 0, 1]),
        _ => host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host)
            .parse()
            .ok()?,
    };
    Some(SocketAddr::new(ip, port).to_string())
}

/// A forward target kubezone can use as an upstream (`ip` or `ip:port`), scheme `dns://`
/// dropped.
pub fn upstream(text: &str) -> Option<String> {
    let bare = text.strip_prefix("dns://").unwrap_or(text);
    let valid = bare.parse::<SocketAddr>().is_ok() || bare.parse::<IpAddr>().is_ok();
    valid.then(|| bare.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_keys() {
        let key = |scheme: &str, zone: &str, port: Option<u16>| ServerKey {
            scheme: scheme.into(),
            zone: zone.into(),
            port,
        };
        assert_eq!(server_key(".:53"), key("dns", ".", Some(53)));
        assert_eq!(server_key("."), key("dns", ".", None));
        assert_eq!(server_key(":1053"), key("dns", ".", Some(1053)));
        assert_eq!(
            server_key("example.com.:1053"),
            key("dns", "example.com", Some(1053))
        );
        assert_eq!(
            server_key("dns://example.com"),
            key("dns", "example.com", None)
        );
        assert_eq!(
            server_key("TLS://Example.com:853"),
            key("tls", "example.com", Some(853))
        );
    }

    #[test]
    fn http_listen_addresses() {
        assert_eq!(http_listen(":9153").as_deref(), Some("0.0.0.0:9153"));
        assert_eq!(
            http_listen("localhost:9153").as_deref(),
            Some("127.0.0.1:9153")
        );
        assert_eq!(http_listen("[::]:8080").as_deref(), Some("[::]:8080"));
        assert_eq!(
            http_listen("10.0.0.1:8181").as_deref(),
            Some("10.0.0.1:8181")
        );
        assert_eq!(http_listen("metrics.local:9153"), None);
        assert_eq!(http_listen("9153"), None);
    }

    #[test]
    fn upstreams_and_zones() {
        assert_eq!(upstream("1.1.1.1").as_deref(), Some("1.1.1.1"));
        assert_eq!(upstream("dns://8.8.8.8:53").as_deref(), Some("8.8.8.8:53"));
        assert_eq!(
            upstream("[2001:db8::1]:53").as_deref(),
            Some("[2001:db8::1]:53")
        );
        assert_eq!(upstream("2001:db8::1").as_deref(), Some("2001:db8::1"));
        assert_eq!(upstream("tls://1.1.1.1"), None);
        assert_eq!(upstream("/etc/resolv.conf"), None);
        assert!(within("a.Example.com", "example.com"));
        assert!(within("example.com", "example.com"));
        assert!(within("example.com", "."));
        assert!(!within("badexample.com", "example.com"));
        assert_eq!(zone("Example.COM."), "example.com");
        assert_eq!(zone("{$Zone}"), "{$Zone}");
        assert_eq!(zone("."), ".");
    }
}
