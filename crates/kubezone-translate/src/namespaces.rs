//! A zone's tenant boundary: which namespaces may publish names in it (`namespaces`,
//! `namespaceSelector`).

use std::collections::{BTreeMap, BTreeSet};

use crate::LabelSelector;

/// Which namespaces may publish in a zone. Cluster-scoped objects (Nodes) are the operator's
/// and always may.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NamespaceFilter {
    /// Empty: any namespace (that the selector admits).
    pub names: BTreeSet<String>,
    /// Matched against the Namespace object's labels; a namespace whose Namespace object is
    /// not known matches only a selector that selects everything.
    pub selector: Option<LabelSelector>,
}

impl NamespaceFilter {
    /// Whether every namespace may publish.
    pub fn is_open(&self) -> bool {
        self.names.is_empty()
            && self
                .selector
                .as_ref()
                .is_none_or(LabelSelector::selects_all)
    }

    /// Whether the filter reads Namespace labels at all.
    pub fn needs_labels(&self) -> bool {
        self.selector.as_ref().is_some_and(|s| !s.selects_all())
    }

    /// Why `namespace` (whose Namespace object has `labels`; `None` when it is not known) may
    /// not publish in the zone, or `None` when it may.
    pub fn refuses(
        &self,
        namespace: Option<&str>,
        labels: Option<&BTreeMap<String, String>>,
    ) -> Option<String> {
        let namespace = namespace?;
        if !self.names.is_empty() && !self.names.contains(namespace) {
            let allowed: Vec<&str> = self.names.iter().map(String::as_str).collect();
            return Some(format!(
                "namespace {namespace} is not in the zone's namespaces [{}]",
                allowed.join(", ")
            ));
        }
        let selector = self.selector.as_ref().filter(|s| !s.selects_all())?;
        match labels {
            Some(labels) if selector.matches(labels) => None,
            Some(_) => Some(format!(
                "namespace {namespace}'s labels do not match the zone's namespaceSelector {:?}",
                selector.as_str()
            )),
            None => Some(format!(
                "namespace {namespace} has no Namespace object to match the zone's namespaceSelector {:?} against",
                selector.as_str()
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::NamespaceFilter;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
            .collect()
    }

    #[test]
    fn an_open_filter_admits_everyone() {
        let open = NamespaceFilter::default();
        assert!(open.is_open());
        assert_eq!(open.refuses(Some("any"), None), None);
    }

    #[test]
    fn a_list_of_names_admits_only_those() {
        let filter = NamespaceFilter {
            names: ["shop".to_string(), "blog".to_string()].into(),
            selector: None,
        };
        assert_eq!(filter.refuses(Some("shop"), None), None);
        let refused = filter.refuses(Some("other"), None).expect("refused");
        assert!(
            refused.contains("other") && refused.contains("[blog, shop]"),
            "{refused}"
        );
        assert_eq!(filter.refuses(None, None), None, "cluster scoped");
    }

    #[test]
    fn a_selector_reads_the_namespaces_labels() {
        let filter = NamespaceFilter {
            names: Default::default(),
            selector: Some("dns=public".parse().expect("selector")),
        };
        assert!(!filter.is_open() && filter.needs_labels());
        assert_eq!(
            filter.refuses(Some("a"), Some(&labels(&[("dns", "public")]))),
            None
        );
        let refused = filter
            .refuses(Some("a"), Some(&labels(&[("dns", "private")])))
            .expect("refused");
        assert!(refused.contains("dns=public"), "{refused}");
        let unknown = filter.refuses(Some("a"), None).expect("refused");
        assert!(unknown.contains("no Namespace object"), "{unknown}");
    }

    #[test]
    fn names_and_selector_must_both_hold() {
        let filter = NamespaceFilter {
            names: ["a".to_string()].into(),
            selector: Some("dns=public".parse().expect("selector")),
        };
        let public = labels(&[("dns", "public")]);
        assert_eq!(filter.refuses(Some("a"), Some(&public)), None);
        assert!(filter.refuses(Some("b"), Some(&public)).is_some());
        assert!(filter.refuses(Some("a"), Some(&labels(&[]))).is_some());
    }
}
