//! The zone index: names → pre-built RRsets, one map per zone.
//!
//! One [`IndexWriter`] owns the index. It applies each object's new endpoints as a diff against
//! what the object claimed before, so an update costs time proportional to the object, and then
//! publishes a [`Catalog`] snapshot. Readers ([`IndexReader`]) load the current snapshot without
//! ever waiting on the writer. The name tables are persistent (`table.rs`), so a publish shares
//! all unchanged names with the previous snapshot.

// Everything here handles input from the network or the cluster: nothing may panic on it.
#![cfg_attr(
    not(test),
    deny(clippy::expect_used, clippy::indexing_slicing, clippy::panic)
)]

mod build;
mod catalog;
mod clusters;
mod config;
mod conflict;
mod key;
mod node;
mod ownership;
mod reverse;
mod serial;
mod table;
pub mod wire;
mod zone;

pub use catalog::{Catalog, IndexReader, IndexWriter};
pub use config::{NameClaims, NameServer, SoaConfig, StaticRecord, ZoneConfig};
pub use conflict::{Conflict, NameConflict};
pub use key::{MAX_KEY_LEN, NameKey};
pub use node::{NameNode, NodeRole, Provenance, RRset};
pub use reverse::{ReverseZoneError, reverse_network};
pub use serial::SerialFloor;
pub use zone::{Lookup, ZoneSnapshot};

#[cfg(test)]
mod clusters_tests;
#[cfg(test)]
mod reverse_tests;
#[cfg(test)]
mod tests;
