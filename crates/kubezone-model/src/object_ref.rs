use std::{fmt, sync::Arc};

use crate::Kind;

/// Which Kubernetes object a record came from: kind/namespace/name.
///
/// Cheap to clone, because every record of an object carries one, and small, because the index
/// keeps one per object: namespace and name share one string.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ObjectRef(Arc<ObjectRefInner>);

#[derive(PartialEq, Eq, Hash)]
struct ObjectRefInner {
    kind: Kind,
    /// Where the name starts in `text`: after `<namespace>/`, or at 0 without a namespace.
    name_at: usize,
    text: Box<str>,
}

impl ObjectRef {
    pub fn new(kind: Kind, namespace: Option<&str>, name: &str) -> Self {
        let (text, name_at) = match namespace.filter(|ns| !ns.is_empty()) {
            Some(ns) => (format!("{ns}/{name}"), ns.len() + 1),
            None => (name.to_string(), 0),
        };
        ObjectRef(Arc::new(ObjectRefInner {
            kind,
            name_at,
            text: text.into_boxed_str(),
        }))
    }

    pub fn kind(&self) -> Kind {
        self.0.kind
    }

    pub fn namespace(&self) -> Option<&str> {
        let at = self.0.name_at.checked_sub(1)?;
        self.0.text.get(..at)
    }

    pub fn name(&self) -> &str {
        self.0.text.get(self.0.name_at..).unwrap_or_default()
    }
}

/// By kind, then namespace (none first), then name.
impl Ord for ObjectRef {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.kind(), self.namespace(), self.name()).cmp(&(
            other.kind(),
            other.namespace(),
            other.name(),
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
        write!(f, "{}/{}", self.0.kind, self.0.text)
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
