use std::{fmt, sync::Arc};

use crate::Kind;

/// Which Kubernetes object a record came from: kind/namespace/name.
///
/// Cheap to clone, because every record of an object carries one.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectRef(Arc<ObjectRefInner>);

#[derive(PartialEq, Eq, Hash, PartialOrd, Ord)]
struct ObjectRefInner {
    kind: Kind,
    namespace: Option<String>,
    name: String,
}

impl ObjectRef {
    pub fn new(kind: Kind, namespace: Option<&str>, name: &str) -> Self {
        ObjectRef(Arc::new(ObjectRefInner {
            kind,
            namespace: namespace.filter(|ns| !ns.is_empty()).map(str::to_string),
            name: name.to_string(),
        }))
    }

    pub fn kind(&self) -> Kind {
        self.0.kind
    }

    pub fn namespace(&self) -> Option<&str> {
        self.0.namespace.as_deref()
    }

    pub fn name(&self) -> &str {
        &self.0.name
    }
}

impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0.namespace {
            Some(ns) => write!(f, "{}/{}/{}", self.0.kind, ns, self.0.name),
            None => write!(f, "{}/{}", self.0.kind, self.0.name),
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
    }
}
