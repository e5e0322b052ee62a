use std::{fmt, net::IpAddr};

use kubezone_model::ObjectRef;
use kubezone_translate::KubeObject;

/// Which source an event comes from, so the index writer can tell when every source has synced
/// and replace only one source's data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SourceId(&'static str);

impl SourceId {
    /// The manifests folder.
    pub const MANIFESTS: SourceId = SourceId("manifests");
    /// The Kubernetes API.
    pub const KUBERNETES: SourceId = SourceId("kubernetes");

    pub const fn new(name: &'static str) -> Self {
        SourceId(name)
    }

    pub fn as_str(self) -> &'static str {
        self.0
    }
}

impl fmt::Display for SourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

/// One object added, changed or gone.
#[derive(Clone, Debug)]
pub enum Change {
    /// The object is new or differs from what this source sent before; it replaces any earlier
    /// version with the same [`ObjectRef`].
    Apply {
        object: KubeObject,
        /// The source's own reference, so the translator and the index share it.
        object_ref: ObjectRef,
        /// When the object was last written, in unix seconds (0 unknown): the newest time in
        /// its `managedFields` or its creation, or its file's modification time. The zones'
        /// SOA serials are derived from it.
        written: u32,
    },
    /// The object is gone.
    Delete(ObjectRef),
}

impl Change {
    /// An object with no known write time.
    pub fn apply(object: KubeObject) -> Change {
        let object_ref = object.object_ref();
        Change::Apply {
            object,
            object_ref,
            written: 0,
        }
    }

    /// The object this change is about.
    pub fn object_ref(&self) -> &ObjectRef {
        match self {
            Change::Apply { object_ref, .. } | Change::Delete(object_ref) => object_ref,
        }
    }
}

#[derive(Clone, Debug)]
pub enum SourceEvent {
    /// Applied atomically by the index writer (one snapshot publish per event).
    Changes {
        source: SourceId,
        changes: Vec<Change>,
    },
    /// The source has delivered its first complete state.
    Synced {
        source: SourceId,
    },
    /// A list that replaces some of the source's data begins: nothing is published until the
    /// matching `ReplaceEnd`, so readers see the old state or the new one, never a mix.
    ReplaceBegin {
        source: SourceId,
    },
    ReplaceEnd {
        source: SourceId,
    },
    /// The addresses of a Service that serves as the zones' nameserver (their glue), and when
    /// it was last written (unix seconds; 0 unknown or deleted).
    Glue {
        source: SourceId,
        service: ServiceName,
        addrs: Vec<IpAddr>,
        written: u32,
    },
}

/// A Service by namespace and name, such as the server's own (`dns1.kube-system`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ServiceName {
    pub namespace: String,
    pub name: String,
}

impl fmt::Display for ServiceName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}

impl SourceEvent {
    pub fn source(&self) -> SourceId {
        match self {
            SourceEvent::Changes { source, .. }
            | SourceEvent::Synced { source }
            | SourceEvent::ReplaceBegin { source }
            | SourceEvent::ReplaceEnd { source }
            | SourceEvent::Glue { source, .. } => *source,
        }
    }
}
