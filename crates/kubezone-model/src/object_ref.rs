use std::{fmt, sync::Arc};

use crate::{ClusterId, Kind};

/// Which Kubernetes object a record came from: kind/namespace/name, and its cluster when
/// kubezone reads several.
///
/// Cheap to clone, because every record of an object carries one, and small, because the index
/// keeps one per object: namespace and name share one string.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ObjectRef(Arc<ObjectRefInner>);

#[derive(PartialEq, Eq, Hash)]
struct ObjectRefInner {
    kind: Kind,
    /// `None` for the one-cluster form, the manifests folder and the config.
    cluster: Option<ClusterId>,
    /// Where the name starts in `text`: after `<namespace>/`, or at 0 without a namespace.
    name_at: usize,
    text: Box<str>,
}

impl ObjectRef {
    pub fn new(kind: Kind, namespace: Option<&str>, name: &str) -> Self {
        ObjectRef::in_cluster(None, kind, namespace, name)
    }

    /// An object of one of several clusters (`None`: of the only one, or of no cluster).
    pub fn in_cluster(
        cluster: Option<ClusterId>,
        kind: Kind,
        namespace: Option<&str>,
        name: &str,
    ) -> Self {
        let (text, name_at) = match namespace.filter(|ns| !ns.is_empty()) {
            Some(ns) => (format!("{ns}/{name}"), ns.len() + 1),
            None => (name.to_string(), 0),
        };
        ObjectRef(Arc::new(ObjectRefInner {
            kind,
            cluster,
            name_at,
            text: text.into_boxed_str(),
        }))
    }

    pub fn kind(&self) -> Kind {
        self.0.kind
    }

    pub fn cluster(&self) -> Option<&ClusterId> {
        self.0.cluster.as_ref()
    }

    /// The same object as seen in no particular cluster: what objects of several clusters
    /// that share a global name have in common.
    pub fn without_cluster(&self) -> ObjectRef {
        match self.0.cluster {
            None => self.clone(),
            Some(_) => ObjectRef::new(self.kind(), self.namespace(), self.name()),
        }
    }

    pub fn namespace(&self) -> Option<&str> {
        let at = self.0.name_at.checked_sub(1)?;
        self.0.text.get(..at)
    }

    pub fn name(&self) -> &str {
        self.0.text.get(self.0.name_at..).unwrap_or_default()
    }
}

/// By kind, then namespace (none first), then name, then cluster (none first).
impl Ord for ObjectRef {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.kind(), self.namespace(), self.name(), self.cluster()).cmp(&(
            other.kind(),
            other.namespace(),
            other.name(),
            other.cluster(),
        ))
    }
}

impl PartialOrd for ObjectRef {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.0.kind, self.0.text)?;
        match &self.0.cluster {
            Some(cluster) => write!(f, "@{cluster}"),
            None => Ok(()),
        }
    }
}

impl fmt::Debug for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn displays_kind_namespace_name() {
        let r = ObjectRef::new(Kind::Ingress, Some("shop"), "web");
        assert_eq!(r.to_string(), "Ingress/shop/web");
        let n = ObjectRef::new(Kind::Node, None, "node-1");
        assert_eq!(n.to_string(), "Node/node-1");
        assert_eq!(ObjectRef::new(Kind::Node, Some(""), "n").namespace(), None);
        assert_eq!(r.namespace(), Some("shop"));
        assert_eq!(r.name(), "web");
        let east = ObjectRef::in_cluster(
            Some(ClusterId::new(0, "east")),
            Kind::Service,
            Some("shop"),
            "web",
        );
        assert_eq!(east.to_string(), "Service/shop/web@east");
        assert_ne!(east, ObjectRef::new(Kind::Service, Some("shop"), "web"));
        assert_eq!(
            east.without_cluster(),
            ObjectRef::new(Kind::Service, Some("shop"), "web")
        );
    }

    #[test]
    fn orders_by_kind_namespace_name_and_tells_namespace_from_name() {
        let a = ObjectRef::new(Kind::Ingress, Some("a"), "b/c");
        let b = ObjectRef::new(Kind::Ingress, Some("a/b"), "c");
        assert_ne!(a, b);
        assert_eq!(
            a.to_string(),
            b.to_string(),
            "only the display is ambiguous"
        );
        let mut refs = [
            ObjectRef::new(Kind::Service, Some("a"), "x"),
            ObjectRef::new(Kind::Ingress, Some("b"), "a"),
            ObjectRef::new(Kind::Ingress, Some("a"), "z"),
            ObjectRef::new(Kind::Ingress, None, "zz"),
        ];
        refs.sort();
        let shown: Vec<String> = refs.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            ["Ingress/zz", "Ingress/a/z", "Ingress/b/a", "Service/a/x"]
        );
    }
}
