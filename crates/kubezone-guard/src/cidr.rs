//! Sets of networks matched with precomputed masks. IPv4-mapped IPv6 addresses
//! (`::ffff:a.b.c.d`, what a dual-stack socket reports for an IPv4 client) are matched as IPv4,
//! on both sides.

use std::net::IpAddr;

use ipnet::{IpNet, Ipv4Net};

use crate::GuardError;

/// Parses `10.0.0.0/8`, `2001:db8::/32`, or a bare address (one host). A network with bits set
/// past its length (`10.0.0.1/8`) is refused: it is usually a typo for something else.
pub fn parse_cidr(text: &str) -> Result<IpNet, GuardError> {
    let text = text.trim();
    let net = match text.parse::<IpNet>() {
        Ok(net) => net,
        Err(net_error) => match text.parse::<IpAddr>() {
            Ok(addr) => IpNet::from(addr),
            Err(_) => {
                return Err(GuardError::Cidr {
                    value: text.to_string(),
                    reason: net_error.to_string(),
                });
            }
        },
    };
    if net.trunc() != net {
        return Err(GuardError::HostBits {
            value: text.to_string(),
            suggestion: net.trunc().to_string(),
        });
    }
    Ok(net)
}

/// Networks, as (network, mask) pairs per family.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CidrSet {
    v4: Vec<(u32, u32)>,
    v6: Vec<(u128, u128)>,
}

impl CidrSet {
    pub fn new<'a>(nets: impl IntoIterator<Item = &'a IpNet>) -> CidrSet {
        let mut set = CidrSet::default();
        for net in nets {
            match net {
                IpNet::V4(n) => set.push_v4(*n),
                IpNet::V6(n) => match (n.addr().to_ipv4_mapped(), n.prefix_len()) {
                    // ::ffff:10.0.0.0/104 is 10.0.0.0/8.
                    (Some(v4), len @ 96..) => {
                        if let Ok(n) = Ipv4Net::new(v4, len - 96) {
                            set.push_v4(n.trunc());
                        }
                    }
                    _ => set
                        .v6
                        .push((u128::from(n.network()), u128::from(n.netmask()))),
                },
            }
        }
        set
    }

    fn push_v4(&mut self, n: Ipv4Net) {
        self.v4
            .push((u32::from(n.network()), u32::from(n.netmask())));
    }

    pub fn is_empty(&self) -> bool {
        self.v4.is_empty() && self.v6.is_empty()
    }

    /// Whether `client` is in one of the networks.
    #[inline]
    pub fn contains(&self, client: IpAddr) -> bool {
        match client.to_canonical() {
            IpAddr::V4(a) => {
                let a = u32::from(a);
                self.v4.iter().any(|&(net, mask)| a & mask == net)
            }
            IpAddr::V6(a) => {
                let a = u128::from(a);
                self.v6.iter().any(|&(net, mask)| a & mask == net)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(nets: &[&str]) -> CidrSet {
        let nets: Vec<IpNet> = nets
            .iter()
            .map(|n| parse_cidr(n).expect("valid network"))
            .collect();
        CidrSet::new(&nets)
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("address")
    }

    #[test]
    fn parses_networks_and_bare_addresses() {
        assert_eq!(
            parse_cidr("10.0.0.0/8").map(|n| n.to_string()),
            Ok("10.0.0.0/8".into())
        );
        assert_eq!(
            parse_cidr("::1").map(|n| n.to_string()),
            Ok("::1/128".into())
        );
        assert_eq!(
            parse_cidr(" 192.0.2.7 ").map(|n| n.to_string()),
            Ok("192.0.2.7/32".into())
        );
    }

    #[test]
    fn refuses_garbage_and_host_bits_naming_the_value() {
        for bad in ["10.0.0.0/33", "ten/8", "", "10.0.0/8", "2001:db8::/129"] {
            let err = parse_cidr(bad).expect_err(bad).to_string();
            assert!(err.contains(&format!("{:?}", bad.trim())), "{err}");
        }
        let err = parse_cidr("10.1.2.3/8").expect_err("host bits");
        assert_eq!(
            err,
            GuardError::HostBits {
                value: "10.1.2.3/8".into(),
                suggestion: "10.0.0.0/8".into()
            }
        );
    }

    #[test]
    fn matches_v4_and_v6_by_prefix() {
        let s = set(&["10.0.0.0/8", "192.168.1.0/24", "2001:db8:1::/48", "::1"]);
        assert!(s.contains(ip("10.255.0.1")));
        assert!(s.contains(ip("192.168.1.200")));
        assert!(!s.contains(ip("192.168.2.1")));
        assert!(!s.contains(ip("11.0.0.1")));
        assert!(s.contains(ip("2001:db8:1:ffff::1")));
        assert!(!s.contains(ip("2001:db8:2::1")));
        assert!(s.contains(ip("::1")));
        assert!(!s.contains(ip("::2")));
    }

    #[test]
    fn v4_mapped_v6_is_v4_on_both_sides() {
        let s = set(&["10.0.0.0/8"]);
        assert!(s.contains(ip("::ffff:10.1.2.3")));
        assert!(!s.contains(ip("::ffff:11.1.2.3")));
        let mapped = set(&["::ffff:192.0.2.0/120"]);
        assert!(mapped.contains(ip("192.0.2.9")));
        assert!(mapped.contains(ip("::ffff:192.0.2.9")));
        assert!(!mapped.contains(ip("192.0.3.9")));
    }

    #[test]
    fn zero_length_networks_match_their_whole_family() {
        let s = set(&["0.0.0.0/0"]);
        assert!(s.contains(ip("203.0.113.1")));
        assert!(s.contains(ip("::ffff:203.0.113.1")));
        assert!(!s.contains(ip("2001:db8::1")));
        assert!(CidrSet::default().is_empty());
        assert!(!CidrSet::default().contains(ip("127.0.0.1")));
    }
}
