//! Push mode (issue 17): keep a zone on an existing primary (BIND, Knot, PowerDNS, ...) in sync
//! with what kubezone would serve, by RFC 2136 UPDATE signed with TSIG, touching only the records
//! it owns through external-dns's TXT registry.
//!
//! - `registry`: external-dns's ownership records, read and written;
//! - `plan`: the changes from the primary's zone to what is wanted, by policy, and conflicts;
//! - `batch`: those changes as UPDATE messages in bounded batches, with prerequisites;
//! - `axfr`: reading the primary's zone; `client`: sending UPDATEs; `link`: the TCP connection
//!   both use; `backoff`: retry pacing.

// Everything here handles input from the network: nothing may panic on it.
#![cfg_attr(
    not(test),
    deny(clippy::expect_used, clippy::indexing_slicing, clippy::panic)
)]

mod axfr;
mod backoff;
pub mod batch;
mod client;
mod error;
mod link;
pub mod plan;
pub mod registry;

#[cfg(test)]
mod fake_primary;

pub use axfr::{AxfrError, TransferredZone};
pub use backoff::{Backoff, Jitter, Pacing, Random};
pub use client::{DEFAULT_TIMEOUT, Fault, Primary, UpdateError, Updater};
pub use error::PushError;
