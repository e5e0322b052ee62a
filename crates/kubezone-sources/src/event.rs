use std::{fmt, net::IpAddr};

use kubezone_model::{Kind, ObjectRef};
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
    /// Made-up objects (`fake`).
    pub const FAKE: SourceId = SourceId("fake");

    pub const fn new(name: &'static str) -> Self {
        SourceId(name)
    }

    pub fn as_str(self) -> &'static str {
        self.0
    }

    /// The source of cluster `name` of several (`cluster east`). Each name's text is kept
    /// once for the life of the process, so a reload reuses it rather than leaking again.
    pub fn cluster(name: &str) -> Self {
        static NAMES: std::sync::Mutex<Vec<&'static str>> = std::sync::Mutex::new(Vec::new());
        let text = format!("cluster {name}");
        let mut names = NAMES
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(known) = names.iter().find(|n| **n == text) {
            return SourceId(known);
        }
        let leaked: &'static str = Box::leak(text.into_boxed_str());
        names.push(leaked);
        SourceId(leaked)
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
    Synced { source: SourceId },
    /// A list that replaces the source's objects of `scope` begins. The source's changes to
    /// objects in `scope` until the matching `ReplaceEnd` are applied together at its end, so
    /// readers see the old state of that Kind or the new one, never a mix; changes to anything
    /// else keep being published as they come.
    ReplaceBegin { source: SourceId, scope: Scope },
    /// The list of `scope` is over: complete, or cut short by an error (what it returned so far
    /// is newer than what was there, and is kept).
    ReplaceEnd { source: SourceId, scope: Scope },
    /// The addresses of a Service that serves as the zones' nameserver (their glue), and when
    /// it was last written (unix seconds; 0 unknown or deleted).
    Glue {
        source: SourceId,
        service: ServiceName,
        addrs: Vec<IpAddr>,
        written: u32,
    },
    /// Several clusters: cluster `cluster` (its place in `clusters:`) has been out of reach
    /// longer than its `staleAfter` (its targets leave the global names), or is back.
    ClusterStale {
        source: SourceId,
        cluster: u16,
        stale: bool,
    },
}

/// What one watch lists and a replacement is about: a Kind, in one namespace or in all of them
/// (and for cluster-scoped Kinds).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Scope {
    pub kind: Kind,
    /// `None` for every namespace.
    pub namespace: Option<String>,
}

impl Scope {
    /// Whether `object` is one this scope lists.
    pub fn covers(&self, object: &ObjectRef) -> bool {
        object.kind() == self.kind
            && self
                .namespace
                .as_deref()
                .is_none_or(|ns| object.namespace() == Some(ns))
    }
}

/// As a log line or `/readyz?verbose` names a watch: `Service`, `Ingress in namespace shop`.
impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{} in namespace {ns}", self.kind),
            None => write!(f, "{}", self.kind),
        }
    }
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
            | SourceEvent::ReplaceBegin { source, .. }
            | SourceEvent::ReplaceEnd { source, .. }
            | SourceEvent::Glue { source, .. }
            | SourceEvent::ClusterStale { source, .. } => *source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scope_covers_its_kind_in_its_namespace() {
        let all = Scope {
            kind: Kind::Service,
            namespace: None,
        };
        let shop = Scope {
            kind: Kind::Service,
            namespace: Some("shop".into()),
        };
        let web = ObjectRef::new(Kind::Service, Some("shop"), "web");
        let other = ObjectRef::new(Kind::Service, Some("other"), "web");
        let ingress = ObjectRef::new(Kind::Ingress, Some("shop"), "web");
        assert!(all.covers(&web) && all.covers(&other) && !all.covers(&ingress));
        assert!(shop.covers(&web) && !shop.covers(&other) && !shop.covers(&ingress));
        let nodes = Scope {
            kind: Kind::Node,
            namespace: None,
        };
        assert!(nodes.covers(&ObjectRef::new(Kind::Node, None, "node-1")));
        assert_eq!(shop.to_string(), "Service in namespace shop");
        assert_eq!(nodes.to_string(), "Node");
    }
}
