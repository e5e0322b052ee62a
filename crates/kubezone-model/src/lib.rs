//! The vocabulary shared by translation, the zone index and the answer path.
//!
//! Nothing here does I/O. A Kubernetes object becomes a list of [`Endpoint`]s (a DNS name and
//! its [`Target`]s), each tagged with the [`ObjectRef`] it came from so that every answer can be
//! explained.

// Everything here handles input from the network or the cluster: nothing may panic on it.
#![cfg_attr(
    not(test),
    deny(clippy::expect_used, clippy::indexing_slicing, clippy::panic)
)]

mod cluster;
mod endpoint;
mod kind;
mod name;
mod object_ref;
mod record;
mod target;

pub use cluster::ClusterId;
pub use endpoint::{Endpoint, Preference};
pub use kind::{Kind, UnknownKind};
pub use name::{DnsName, NameError};
pub use object_ref::ObjectRef;
pub use record::{RecordData, RecordDataError};
pub use target::{Target, TargetError};

pub use hickory_proto::rr::{Name, RecordType};
