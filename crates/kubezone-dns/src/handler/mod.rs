//! From query bytes to reply bytes: protocol checks, EDNS, size limits, then [`resolve`].
//!
//! Synchronous except for fallthrough, so the transports call it straight from their loops.
//! `answerer.rs` holds what answers and `swap.rs` swaps it on reload; `respond.rs` parses a
//! query once and answers it; `rate.rs` is the UDP rate limit; `upstream.rs` is fallthrough;
//! `account.rs` counts and logs each query.

mod account;
mod answerer;
mod rate;
mod respond;
mod swap;
mod upstream;

pub use answerer::Answerer;
pub use swap::DnsHandler;

use crate::Admission;

/// The UDP payload kubezone uses at most: DNS Flag Day 2020's recommendation.
pub const MAX_UDP_PAYLOAD: u16 = 1232;

/// The UDP limit for a client without EDNS (RFC 1035 §4.2.1).
const PLAIN_UDP_PAYLOAD: u16 = 512;

/// The largest DNS message over TCP (RFC 1035 §4.2.2).
const TCP_LIMIT: usize = u16::MAX as usize;

/// How a query arrived; it sets the size limit and how fallthrough asks upstream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    Udp,
    Tcp,
}

impl Transport {
    fn name(self) -> &'static str {
        match self {
            Transport::Udp => "udp",
            Transport::Tcp => "tcp",
        }
    }
}

/// What to do with a packet after [`Answerer::respond`].
#[derive(Debug, PartialEq, Eq)]
pub enum Handled {
    /// Send the bytes now in the output buffer.
    Reply,
    /// Send nothing.
    Drop,
    /// Fallthrough: take a place upstream with [`Answerer::admit`], then ask with
    /// [`Answerer::forward`].
    Forward,
    /// An AXFR or IXFR over TCP: stream the response with [`Answerer::transfer`].
    Transfer,
}

/// Whether a fallthrough query goes upstream ([`Answerer::admit`]).
#[derive(Debug)]
pub enum Admit {
    /// Ask upstream with [`Answerer::forward`], holding this place until it ends.
    Forward(Admission),
    /// Send the reply now in the output buffer instead: SERVFAIL when `maxInFlight` queries
    /// wait upstream already, or the slipped reply of a client over its rate limit.
    Reply,
    /// Send nothing: a client over its rate limit.
    Drop,
}
