//! Which cluster a client is in, for names whose preference is `local-first`: each cluster's
//! client networks, and the cluster kubezone runs in for clients in none of them.

use std::net::IpAddr;

use hickory_proto::rr::RecordType;
use ipnet::IpNet;
use kubezone_index::{NameNode, RRset};

/// Each cluster's client networks and the local cluster; built from the config, shared by every
/// query.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Locality {
    v4: Vec<Network>,
    v6: Vec<Network>,
    local: Option<u16>,
}

/// One client network, its address left-aligned in 128 bits so both families compare alike.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Network {
    net: IpNet,
    bits: u128,
    len: u8,
    cluster: u16,
}

/// The cluster a client's answers come from, why, and for which prefix of its address that
/// choice holds (the SCOPE PREFIX-LENGTH of an ECS reply, RFC 7871 §7.2.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Choice {
    /// `None`: every cluster's targets.
    pub cluster: Option<u16>,
    pub reason: Reason,
    /// Every address sharing this many leading bits with the client gets the same choice.
    pub scope: u8,
}

/// Why a client got the cluster it got.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    /// The client is in this network of the cluster (the longest that holds it).
    Network(IpNet),
    /// The client is in no cluster's network: the cluster kubezone runs in.
    LocalCluster,
    /// The client is in no cluster's network and no local cluster is set: all targets.
    AllTargets,
}

impl Locality {
    /// `networks`: each cluster's client networks, by cluster id (host bits are ignored; of two
    /// equal networks the first listed wins). `local`: the cluster kubezone runs in, whose
    /// targets clients in no network get; `None` gives them every cluster's targets.
    pub fn new(networks: Vec<(IpNet, u16)>, local: Option<u16>) -> Locality {
        let mut locality = Locality {
            local,
            ..Locality::default()
        };
        for (net, cluster) in networks {
            let net = net.trunc();
            let network = Network {
                net,
                bits: left_aligned(net.addr()),
                len: net.prefix_len(),
                cluster,
            };
            match net {
                IpNet::V4(_) => locality.v4.push(network),
                IpNet::V6(_) => locality.v6.push(network),
            }
        }
        locality
    }

    /// The cluster `client` gets answers from: the cluster of the longest network that holds
    /// it, else the local cluster, else all. An IPv4-mapped IPv6 address is matched as IPv4 (its
    /// scope counted in IPv6 bits, 96 + the IPv4 scope).
    pub fn cluster_for(&self, client: IpAddr) -> Choice {
        match client {
            IpAddr::V4(_) => self.choose(&self.v4, left_aligned(client)),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => {
                    let choice = self.choose(&self.v4, left_aligned(IpAddr::V4(v4)));
                    Choice {
                        scope: 96 + choice.scope,
                        ..choice
                    }
                }
                None => self.choose(&self.v6, left_aligned(client)),
            },
        }
    }

    /// The choice for a client that gave no address (an ECS SOURCE PREFIX-LENGTH of 0): what a
    /// client in no network gets, valid for every address.
    pub fn cluster_for_anyone(&self) -> Choice {
        Choice {
            scope: 0,
            ..self.unmatched()
        }
    }

    fn unmatched(&self) -> Choice {
        Choice {
            cluster: self.local,
            reason: match self.local {
                Some(_) => Reason::LocalCluster,
                None => Reason::AllTargets,
            },
            scope: 0,
        }
    }

    /// One pass: the longest network holding `client`, and the scope. The scope is the
    /// shortest prefix of the client whose every address gets the same choice: at least the
    /// matched network's length, and longer than the bits the client shares with any network
    /// that does not hold it (a more specific network inside the matched one, or for a client
    /// in none, the nearest network), so the block overlaps none of them. A client in no
    /// network thus gets the widest scope that is still true, rather than its source prefix,
    /// and resolvers can share the answer among every client around it.
    fn choose(&self, networks: &[Network], client: u128) -> Choice {
        let mut best: Option<&Network> = None;
        let mut scope = 0;
        for network in networks {
            let shared = (client ^ network.bits).leading_zeros();
            if shared >= u32::from(network.len) {
                scope = scope.max(network.len);
                if best.is_none_or(|b| network.len > b.len) {
                    best = Some(network);
                }
            } else {
                // `shared` < len ≤ 128, so it fits.
                scope = scope.max(u8::try_from(shared + 1).unwrap_or(u8::MAX));
            }
        }
        let choice = match best {
            Some(network) => Choice {
                cluster: Some(network.cluster),
                reason: Reason::Network(network.net),
                scope: 0,
            },
            None => self.unmatched(),
        };
        Choice { scope, ..choice }
    }
}

fn left_aligned(addr: IpAddr) -> u128 {
    match addr {
        IpAddr::V4(v4) => u128::from(u32::from(v4)) << 96,
        IpAddr::V6(v6) => u128::from(v6),
    }
}

/// The client of one query as the answer path sees it: its cluster is looked up only when the
/// answer reaches a local-first node, so plain names cost nothing.
#[derive(Debug)]
pub struct Client<'l> {
    locality: Option<&'l Locality>,
    /// `None`: the client gave no address (ECS /0), the answer is for everyone.
    address: Option<IpAddr>,
    choice: Option<Choice>,
}

impl<'l> Client<'l> {
    /// A client `locality` places by `address` (from ECS, else the source address); without a
    /// locality every client gets the merged RRsets.
    pub fn new(locality: Option<&'l Locality>, address: Option<IpAddr>) -> Client<'l> {
        Client {
            locality,
            address,
            choice: None,
        }
    }

    /// A client that gets the merged RRsets, for tools and tests.
    pub fn anyone() -> Client<'static> {
        Client::new(None, None)
    }

    /// The decision made for this query, if the answer reached a local-first node.
    pub fn choice(&self) -> Option<Choice> {
        self.choice
    }

    /// The RRsets of `node` this client gets.
    #[inline]
    pub fn rrsets<'n>(&mut self, node: &'n NameNode) -> &'n [RRset] {
        if node.is_local_first() {
            self.local_rrsets(node)
        } else {
            node.rrsets()
        }
    }

    /// The RRset of `rtype` at `node` this client gets.
    #[inline]
    pub fn rrset<'n>(&mut self, node: &'n NameNode, rtype: RecordType) -> Option<&'n RRset> {
        if node.is_local_first() {
            self.local_rrsets(node)
                .iter()
                .find(|r| r.record_type() == rtype)
        } else {
            node.rrset(rtype)
        }
    }

    /// Kept out of line: plain names, nearly all, pay one pointer test.
    #[inline(never)]
    fn local_rrsets<'n>(&mut self, node: &'n NameNode) -> &'n [RRset] {
        node.rrsets_for(self.cluster())
    }

    fn cluster(&mut self) -> Option<u16> {
        let locality = self.locality?;
        let choice = *self.choice.get_or_insert_with(|| match self.address {
            Some(address) => locality.cluster_for(address),
            None => locality.cluster_for_anyone(),
        });
        choice.cluster
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(s: &str) -> IpNet {
        s.parse().expect("network")
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("address")
    }

    fn locality(local: Option<u16>) -> Locality {
        Locality::new(
            vec![
                (net("10.1.0.0/16"), 1),
                (net("10.2.0.0/16"), 2),
                (net("10.2.7.0/24"), 3),
                (net("2001:db8:1::/48"), 1),
            ],
            local,
        )
    }

    #[test]
    fn the_longest_network_holding_the_client_wins_with_its_length_as_scope() {
        let l = locality(None);
        let choice = l.cluster_for(ip("10.1.2.3"));
        assert_eq!(choice.cluster, Some(1));
        assert_eq!(choice.reason, Reason::Network(net("10.1.0.0/16")));
        assert_eq!(choice.scope, 16);
        let choice = l.cluster_for(ip("10.2.7.9"));
        assert_eq!((choice.cluster, choice.scope), (Some(3), 24));
        assert_eq!(choice.reason, Reason::Network(net("10.2.7.0/24")));
    }

    #[test]
    fn a_network_inside_the_matched_one_narrows_the_scope() {
        // 10.2.6.1 is in 10.2.0.0/16 but 10.2.7.0/24 shares 23 bits with it: only the /24
        // around it is sure to get cluster 2.
        let choice = locality(None).cluster_for(ip("10.2.6.1"));
        assert_eq!((choice.cluster, choice.scope), (Some(2), 24));
    }

    #[test]
    fn a_client_in_no_network_gets_the_local_cluster_or_all_for_a_block_that_overlaps_none() {
        let choice = locality(Some(7)).cluster_for(ip("192.0.2.1"));
        assert_eq!(choice.cluster, Some(7));
        assert_eq!(choice.reason, Reason::LocalCluster);
        // 192.x shares no leading bit with 10.x: the /1 around it overlaps no network.
        assert_eq!(choice.scope, 1);
        let choice = locality(None).cluster_for(ip("10.3.0.1"));
        assert_eq!(choice.cluster, None);
        assert_eq!(choice.reason, Reason::AllTargets);
        // 10.3 shares 15 bits with 10.2: 10.3.0.0/16 is the widest block that overlaps no
        // network.
        assert_eq!(choice.scope, 16);
        assert_eq!(
            Locality::new(Vec::new(), None)
                .cluster_for(ip("10.1.0.1"))
                .scope,
            0
        );
    }

    #[test]
    fn ipv6_and_ipv4_mapped_clients() {
        let l = locality(None);
        let choice = l.cluster_for(ip("2001:db8:1::5"));
        assert_eq!((choice.cluster, choice.scope), (Some(1), 48));
        assert_eq!(l.cluster_for(ip("2001:db8:2::5")).cluster, None);
        let choice = l.cluster_for(ip("::ffff:10.2.7.1"));
        assert_eq!((choice.cluster, choice.scope), (Some(3), 96 + 24));
        // An IPv4 network never holds an IPv6 client, nor the reverse.
        assert_eq!(l.cluster_for(ip("a01::1")).cluster, None);
    }

    #[test]
    fn a_client_without_an_address_gets_the_unmatched_choice_for_everyone() {
        let choice = locality(Some(2)).cluster_for_anyone();
        assert_eq!((choice.cluster, choice.scope), (Some(2), 0));
        assert_eq!(choice.reason, Reason::LocalCluster);
        assert_eq!(
            locality(None).cluster_for_anyone().reason,
            Reason::AllTargets
        );
    }

    #[test]
    fn host_bits_of_a_network_are_ignored_and_the_first_of_equals_wins() {
        let l = Locality::new(vec![(net("10.1.2.3/16"), 4), (net("10.1.0.0/16"), 5)], None);
        let choice = l.cluster_for(ip("10.1.200.1"));
        assert_eq!((choice.cluster, choice.scope), (Some(4), 16));
    }
}
