use std::{
    fmt,
    net::{IpAddr, Ipv4Addr, Ipv6Addr},
};

use crate::{DnsName, NameError, RecordData};

/// What a name points at. The record type follows from the variant.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Target {
    /// An A record.
    V4(Ipv4Addr),
    /// An AAAA record.
    V6(Ipv6Addr),
    /// A CNAME record: the load balancer or gateway reported a host name.
    Host(DnsName),
    /// A TXT record.
    Text(String),
    /// A record of another type (MX, SRV, NS, PTR, CAA, ...), or a TXT with several strings.
    Record(RecordData),
}

/// A target value that cannot become a record. The display names the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    #[error("{value:?} is not an IPv4 address")]
    NotIpv4 { value: String },
    #[error("{value:?} is not an IPv6 address")]
    NotIpv6 { value: String },
    #[error("{value:?} is not an IP address")]
    NotIp { value: String },
    #[error("host name target: {0}")]
    Host(#[from] NameError),
}

impl Target {
    /// An address of either family.
    pub fn from_ip(ip: IpAddr) -> Self {
        match ip {
            IpAddr::V4(v4) => Target::V4(v4),
            IpAddr::V6(v6) => Target::V6(v6),
        }
    }

    /// Parses an IPv4 or IPv6 address, as found in `status.loadBalancer.ingress[].ip`.
    pub fn parse_ip(value: &str) -> Result<Self, TargetError> {
        value
            .trim()
            .parse::<IpAddr>()
            .map(Target::from_ip)
            .map_err(|_| TargetError::NotIp {
                value: value.to_string(),
            })
    }

    /// Parses a host name, as found in `status.loadBalancer.ingress[].hostname`.
    pub fn parse_host(value: &str) -> Result<Self, TargetError> {
        Ok(Target::Host(DnsName::parse(value.trim())?))
    }

    /// Parses an address, or else a host name: for fields that may hold either.
    pub fn parse_ip_or_host(value: &str) -> Result<Self, TargetError> {
        Target::parse_ip(value).or_else(|_| Target::parse_host(value))
    }

    pub fn is_address(&self) -> bool {
        matches!(self, Target::V4(_) | Target::V6(_))
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::V4(a) => write!(f, "A {a}"),
            Target::V6(a) => write!(f, "AAAA {a}"),
            Target::Host(h) => write!(f, "CNAME {h}"),
            Target::Text(t) => write!(f, "TXT {t:?}"),
            Target::Record(r) => write!(f, "{r}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_addresses_and_hosts() {
        assert_eq!(
            Target::parse_ip("10.0.0.1"),
            Ok(Target::V4(Ipv4Addr::new(10, 0, 0, 1)))
        );
        assert_eq!(
            Target::parse_ip("2001:db8::1"),
            Ok(Target::V6("2001:db8::1".parse().expect("v6")))
        );
        assert!(matches!(
            Target::parse_ip_or_host("lb-1.elb.amazonaws.com"),
            Ok(Target::Host(_))
        ));
        let err = Target::parse_ip("10.0.0.300").expect_err("invalid");
        assert!(err.to_string().contains("10.0.0.300"));
        assert!(Target::parse_ip_or_host("not a host").is_err());
    }
}
