//! EDNS Client Subnet (RFC 7871): the network a resolver says its client is in, read from the
//! query's OPT, and the copy the reply carries back with the prefix its answer holds for.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The option code of ECS (RFC 7871 §6).
pub(crate) const CLIENT_SUBNET: u16 = 8;
/// FAMILY, SOURCE PREFIX-LENGTH and SCOPE PREFIX-LENGTH.
const FIXED_LEN: usize = 4;
const IPV4: u16 = 1;
const IPV6: u16 = 2;

/// A well-formed ECS option of a query.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ClientSubnet {
    family: u16,
    source: u8,
    /// ADDRESS as sent (its first `address_len()` bytes), the rest zero.
    address: [u8; 16],
    /// The reply's SCOPE PREFIX-LENGTH: 0 (the answer holds for every client) unless a
    /// local-first answer says otherwise. The query's own is ignored: it must be 0 there, and
    /// nothing depends on it.
    scope: u8,
}

/// Why an ECS option is refused with FORMERR (RFC 7871 §6, §7.1.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Malformed {
    /// Shorter than its fixed fields, or than its OPTION-LENGTH says.
    Short,
    /// A FAMILY other than IPv4 (1) and IPv6 (2).
    Family(u16),
    /// A SOURCE PREFIX-LENGTH longer than the family's addresses.
    SourcePrefix(u8),
    /// ADDRESS is not exactly the bytes SOURCE PREFIX-LENGTH needs.
    AddressLength,
    /// ADDRESS has bits set beyond SOURCE PREFIX-LENGTH.
    BitsBeyondPrefix,
    /// More than one ECS option: which client would the answer be for?
    Repeated,
}

impl ClientSubnet {
    /// Reads the ECS option among `options` (an OPT's RDATA), if there is one.
    pub fn find(options: &[u8]) -> Result<Option<ClientSubnet>, Malformed> {
        let mut found = None;
        for (code, data) in crate::query::options(options) {
            if code != CLIENT_SUBNET {
                continue;
            }
            if found.is_some() {
                return Err(Malformed::Repeated);
            }
            found = Some(ClientSubnet::parse(data.ok_or(Malformed::Short)?)?);
        }
        Ok(found)
    }

    fn parse(data: &[u8]) -> Result<ClientSubnet, Malformed> {
        let Some((&[f0, f1, source, _scope], address)) = data.split_first_chunk::<FIXED_LEN>()
        else {
            return Err(Malformed::Short);
        };
        let family = u16::from_be_bytes([f0, f1]);
        let max = match family {
            IPV4 => 32,
            IPV6 => 128,
            other => return Err(Malformed::Family(other)),
        };
        if source > max {
            return Err(Malformed::SourcePrefix(source));
        }
        let subnet = ClientSubnet {
            family,
            source,
            address: [0; 16],
            scope: 0,
        };
        if address.len() != subnet.address_len() {
            return Err(Malformed::AddressLength);
        }
        // The bits of the last byte past the prefix must be zero (RFC 7871 §6).
        let spare = (8 - source % 8) % 8;
        if address
            .last()
            .is_some_and(|last| last & ((1u8 << spare) - 1) != 0)
        {
            return Err(Malformed::BitsBeyondPrefix);
        }
        let mut bytes = [0; 16];
        if let Some(slot) = bytes.get_mut(..address.len()) {
            slot.copy_from_slice(address);
        }
        Ok(ClientSubnet {
            address: bytes,
            ..subnet
        })
    }

    /// The client's address to choose a cluster by; `None` for a SOURCE PREFIX-LENGTH of 0,
    /// which asks for an answer that uses no address (RFC 7871 §7.1.2): not the resolver's
    /// own either.
    pub fn address(&self) -> Option<IpAddr> {
        if self.source == 0 {
            return None;
        }
        Some(match self.family {
            IPV4 => {
                let [a, b, c, d, ..] = self.address;
                IpAddr::V4(Ipv4Addr::new(a, b, c, d))
            }
            _ => IpAddr::V6(Ipv6Addr::from(self.address)),
        })
    }

    /// This option as a reply's, for an answer that holds for every address sharing `scope`
    /// leading bits with the client's.
    pub fn with_scope(&self, scope: u8) -> ClientSubnet {
        ClientSubnet { scope, ..*self }
    }

    /// The option's size in the reply, OPTION-CODE and OPTION-LENGTH included.
    pub fn option_len(&self) -> usize {
        4 + FIXED_LEN + self.address_len()
    }

    /// The option's data for the reply: FAMILY, SOURCE PREFIX-LENGTH and ADDRESS as the query
    /// had them (RFC 7871 §7.2.1), and the reply's SCOPE PREFIX-LENGTH.
    pub fn data(&self) -> ([u8; FIXED_LEN], &[u8]) {
        let [f0, f1] = self.family.to_be_bytes();
        let address = self.address.get(..self.address_len()).unwrap_or_default();
        ([f0, f1, self.source, self.scope], address)
    }

    fn address_len(&self) -> usize {
        usize::from(self.source).div_ceil(8)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(data: &[u8]) -> Result<ClientSubnet, Malformed> {
        ClientSubnet::parse(data)
    }

    #[test]
    fn well_formed_options_read_and_echo_as_sent() {
        let subnet = parse(&[0, 1, 20, 0, 10, 1, 0x10]).expect("well formed");
        assert_eq!(subnet.address(), Some("10.1.16.0".parse().expect("ip")));
        let echoed = subnet.with_scope(16);
        assert_eq!(echoed.data(), ([0, 1, 20, 16], &[10, 1, 0x10][..]));
        assert_eq!(echoed.option_len(), 4 + 4 + 3);
        let subnet = parse(&[0, 2, 48, 0, 0x20, 0x01, 0x0d, 0xb8, 0, 1]).expect("v6");
        assert_eq!(subnet.address(), Some("2001:db8:1::".parse().expect("ip")));
        let subnet = parse(&[0, 1, 32, 0, 192, 0, 2, 1]).expect("a /32");
        assert_eq!(subnet.address(), Some("192.0.2.1".parse().expect("ip")));
    }

    #[test]
    fn a_source_prefix_of_zero_gives_no_address() {
        let subnet = parse(&[0, 1, 0, 0]).expect("well formed");
        assert_eq!(subnet.address(), None);
        assert_eq!(subnet.data(), ([0, 1, 0, 0], &[][..]));
    }

    #[test]
    fn each_malformed_option_is_refused_with_its_reason() {
        assert_eq!(parse(&[0, 1, 0]), Err(Malformed::Short));
        assert_eq!(parse(&[0, 3, 0, 0]), Err(Malformed::Family(3)));
        assert_eq!(
            parse(&[0, 1, 33, 0, 1, 2, 3, 4, 5]),
            Err(Malformed::SourcePrefix(33))
        );
        assert_eq!(parse(&[0, 2, 129, 0]), Err(Malformed::SourcePrefix(129)));
        assert_eq!(parse(&[0, 1, 24, 0, 10, 1]), Err(Malformed::AddressLength));
        assert_eq!(
            parse(&[0, 1, 16, 0, 10, 1, 0]),
            Err(Malformed::AddressLength)
        );
        assert_eq!(
            parse(&[0, 1, 20, 0, 10, 1, 0x18]),
            Err(Malformed::BitsBeyondPrefix)
        );
        assert_eq!(parse(&[0, 1, 1, 0, 0xC0]), Err(Malformed::BitsBeyondPrefix));
    }

    #[test]
    fn a_second_option_is_refused_and_other_options_are_skipped() {
        let ecs = [0, 8, 0, 4, 0, 1, 0, 0];
        let mut two = ecs.to_vec();
        two.extend_from_slice(&ecs);
        assert_eq!(ClientSubnet::find(&two), Err(Malformed::Repeated));
        let with_nsid = [0, 3, 0, 0, 0, 8, 0, 5, 0, 1, 8, 0, 10];
        let subnet = ClientSubnet::find(&with_nsid).expect("well formed");
        assert_eq!(
            subnet.and_then(|s| s.address()),
            Some("10.0.0.0".parse().expect("ip"))
        );
        assert_eq!(ClientSubnet::find(&[0, 3, 0, 0]), Ok(None));
        assert_eq!(
            ClientSubnet::find(&[0, 8, 0, 5, 0, 1, 8, 0]),
            Err(Malformed::Short)
        );
    }
}
