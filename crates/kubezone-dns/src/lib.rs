//! The answer path: from query bytes to reply bytes, answered from the current zone index
//! snapshot as `spec/dns.md` says, and the UDP and TCP transports that carry them.
//!
//! [`resolve`] is the pure decision (which records, which rcode); [`Answerer`] adds the
//! protocol around it (opcode, class, EDNS and its options, payload size, fallthrough, the
//! server's [`Identity`]) and writes the reply from pre-encoded RRsets; [`DnsServer`] binds the
//! sockets ([`listen`]: which ones a `listen` list means) and runs the transports.

// Everything here handles input from the network or the cluster: nothing may panic on it.
#![cfg_attr(
    not(test),
    deny(clippy::expect_used, clippy::indexing_slicing, clippy::panic)
)]

mod ecs;
mod fallthrough;
mod forward;
mod handler;
mod identity;
pub mod listen;
mod locality;
mod message;
mod query;
mod rated;
mod resolve;
mod server;
mod tcp;
mod udp;

pub use fallthrough::{Fallthrough, FallthroughPolicy};
pub use forward::{Admission, ForwardError, ForwardSettings, Forwarder, UDP_SOCKETS_PER_UPSTREAM};
pub use handler::{Admit, Answerer, DnsHandler, Handled, MAX_UDP_PAYLOAD, Transport};
pub use identity::{Identity, IdentityError, MAX_IDENTITY_LEN};
pub use locality::{Choice, Client, Locality, Reason};
pub use resolve::{Answer, Owner, Part, Resolution, Section, resolve, resolve_in_zone};
pub use server::{DnsServer, ServeError, TcpSettings};

#[cfg(test)]
mod locality_tests;
#[cfg(test)]
mod rated_tests;
#[cfg(test)]
mod reply_tests;
#[cfg(test)]
mod tests;
