//! Where kubezone's objects come from.
//!
//! Every source sends [`SourceEvent`]s to the index writer: first the whole state it knows, then
//! [`SourceEvent::Synced`], then only differences. Today there is one source, the manifests
//! folder ([`ManifestsSource`]): YAML and JSON files as `kubectl get -o yaml` prints them,
//! watched on disk so edits are served without a restart.

mod error;
mod event;
mod folder;
mod manifest;
mod manifests;
mod store;
mod walk;
mod watch;

pub use error::{ManifestError, SourceError};
pub use event::{Change, SourceEvent, SourceId};
pub use manifest::parse_manifest;
pub use manifests::ManifestsSource;
pub use walk::manifest_files;
