//! The answer path: a hickory-server [`RequestHandler`](hickory_server::server::RequestHandler)
//! that answers every query from the current zone index snapshot, as `spec/dns.md` says.
//!
//! [`resolve`] is the pure decision (which records, which rcode); [`DnsHandler`] adds the
//! protocol around it (opcode, class, EDNS, payload size, fallthrough); [`serve`] binds the
//! sockets.

mod fallthrough;
mod fit;
mod forward;
mod handler;
mod resolve;
mod server;

pub use fallthrough::{Fallthrough, FallthroughPolicy};
pub use forward::{ForwardError, Forwarder};
pub use handler::{Answerer, DnsHandler, MAX_UDP_PAYLOAD};
pub use resolve::{Answer, Resolution, resolve, resolve_in_zone};
pub use server::{DnsServer, ServeError, TcpSettings};

#[cfg(test)]
mod tests;
