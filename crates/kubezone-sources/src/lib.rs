//! Where kubezone's objects come from.
//!
//! Every source sends [`SourceEvent`]s to the index writer: first the whole state it knows, then
//! [`SourceEvent::Synced`], then only differences. There are three sources, whose objects are
//! merged as if they came from one cluster:
//! - the manifests folder ([`ManifestsSource`]): YAML and JSON files as `kubectl get -o yaml`
//!   prints them, watched on disk so edits are served without a restart;
//! - the Kubernetes API ([`ClusterSource`]): one watch per Kind the zones serve;
//! - made-up objects and a steady churn of changes to them ([`FakeSource`]), for demos and
//!   load tests.

// Everything here handles input from files or the cluster: nothing may panic on it.
#![cfg_attr(
    not(test),
    deny(clippy::expect_used, clippy::indexing_slicing, clippy::panic)
)]

mod cluster;
mod error;
mod event;
mod fake;
mod manifests;

pub use cluster::{
    ClusterConfig, ClusterSource, ClusterStatus, EventReports, ObjectReport, ProbeProblem,
    ProbeReport, WatchState, WatchStatus, WatchedObject, api_resource, connect, event_recorder,
    probe, read_watched_object, resource_name, service_addresses, watched_kinds,
};
pub use error::{ClusterError, ManifestError, SourceError};
pub use event::{Change, Scope, ServiceName, SourceEvent, SourceId};
pub use fake::{FAKE_KINDS, FAKE_NAMESPACES, FakeConfig, FakeError, FakeSource, MANAGED_BY};
pub use manifests::{ManifestsSource, manifest_files, parse_manifest};
