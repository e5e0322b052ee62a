use std::fmt;

use kubezone_model::ObjectRef;
use kubezone_translate::KubeObject;

/// Which source an event comes from, so the index writer can tell when every source has synced
/// and replace only one source's data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SourceId(&'static str);

impl SourceId {
    /// The manifests folder.
    pub const MANIFESTS: SourceId = SourceId("manifests");

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
    Apply(KubeObject),
    /// The object is gone.
    Delete(ObjectRef),
}

impl Change {
    /// The object this change is about.
    pub fn object_ref(&self) -> ObjectRef {
        match self {
            Change::Apply(object) => object.object_ref(),
            Change::Delete(object_ref) => object_ref.clone(),
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
    Synced { source: SourceId },
}

impl SourceEvent {
    pub fn source(&self) -> SourceId {
        match self {
            SourceEvent::Changes { source, .. } | SourceEvent::Synced { source } => *source,
        }
    }
}
