//! Fuzz targets for kubezone, as plain functions.
//!
//! Each target takes arbitrary bytes and panics when an invariant breaks (not only when the code
//! under test panics). The cargo-fuzz project in `fuzz/` calls them from one-line binaries, and
//! `tests/replay.rs` runs every committed corpus and regression file through them, so a fixed
//! crash stays fixed under a plain `cargo test`.
//!
//! The `request` target (DNS query bytes → response) is not here yet: the answer path is being
//! rewritten. Its seed corpus is ([`request::seeds`]), so the target is one more function.

mod checks;
mod config;
pub mod corpus;
mod manifest;
pub mod request;
mod translate;

pub use config::config;
pub use corpus::{CorpusError, inputs};
pub use manifest::manifest;
pub use translate::translate;

/// A target body: arbitrary bytes in, a panic when an invariant breaks.
pub type Target = fn(&[u8]);

/// The targets that have a body, by the name of their cargo-fuzz binary and corpus folder.
pub const TARGETS: [(&str, Target); 3] = [
    ("translate", translate),
    ("config", config),
    ("manifest", manifest),
];
