//! The annotations users of k8s_gateway, external-dns and mate already write on their objects,
//! read the way those tools read them, so a migrant's objects keep their names unchanged.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

/// Hostname annotations, the first one set wins: k8s_gateway's own, external-dns's two
/// spellings, then mate's.
pub(crate) const HOSTNAME: [&str; 4] = [
    "coredns.io/hostname",
    "external-dns.alpha.kubernetes.io/hostname",
    "external-dns.kubernetes.io/hostname",
    "zalando.org/dnsname",
];

/// external-dns reads each of its annotations under both prefixes; the older one first.
const EXTERNAL_DNS_PREFIXES: [&str; 2] = [
    "external-dns.alpha.kubernetes.io/",
    "external-dns.kubernetes.io/",
];

/// An annotation that is set (not blank): its full key, for error messages, and its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Annotation<'a> {
    pub key: &'a str,
    pub value: &'a str,
}

impl Annotation<'_> {
    /// `metadata.annotations["<key>"]`, the field a problem names.
    pub(crate) fn field(&self) -> String {
        format!("metadata.annotations[{:?}]", self.key)
    }

    /// The comma-separated items of the value, trimmed, blanks left out.
    pub(crate) fn items(&self) -> impl Iterator<Item = &str> {
        self.value
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
    }
}

/// The first of `keys` that is set on the object.
pub(crate) fn first<'a>(meta: &'a ObjectMeta, keys: &[&str]) -> Option<Annotation<'a>> {
    let annotations = meta.annotations.as_ref()?;
    keys.iter().find_map(|key| set(annotations, key))
}

/// external-dns's annotation `name` (`target`, `access`, ...) under either prefix.
pub(crate) fn external_dns<'a>(meta: &'a ObjectMeta, name: &str) -> Option<Annotation<'a>> {
    let annotations = meta.annotations.as_ref()?;
    EXTERNAL_DNS_PREFIXES.iter().find_map(|prefix| {
        let key = format!("{prefix}{name}");
        set(annotations, &key)
    })
}

fn set<'a>(annotations: &'a BTreeMap<String, String>, key: &str) -> Option<Annotation<'a>> {
    annotations
        .get_key_value(key)
        .filter(|(_, value)| !value.trim().is_empty())
        .map(|(key, value)| Annotation {
            key: key.as_str(),
            value: value.as_str(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(pairs: &[(&str, &str)]) -> ObjectMeta {
        ObjectMeta {
            annotations: Some(
                pairs
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            ),
            ..ObjectMeta::default()
        }
    }

    #[test]
    fn the_first_set_hostname_annotation_wins_and_blanks_do_not_count() {
        let m = meta(&[
            ("coredns.io/hostname", "  "),
            ("zalando.org/dnsname", "mate.example.com"),
            (
                "external-dns.kubernetes.io/hostname",
                "a.example.com, b.example.com,",
            ),
        ]);
        let found = first(&m, &HOSTNAME).expect("one is set");
        assert_eq!(found.key, "external-dns.kubernetes.io/hostname");
        assert_eq!(
            found.items().collect::<Vec<_>>(),
            ["a.example.com", "b.example.com"]
        );
        assert_eq!(
            found.field(),
            "metadata.annotations[\"external-dns.kubernetes.io/hostname\"]"
        );
        let mate = meta(&[("zalando.org/dnsname", "mate.example.com")]);
        assert_eq!(
            first(&mate, &HOSTNAME).map(|a| a.value),
            Some("mate.example.com")
        );
        assert_eq!(first(&ObjectMeta::default(), &HOSTNAME), None);
    }

    #[test]
    fn external_dns_annotations_under_either_prefix_the_alpha_one_first() {
        let both = meta(&[
            ("external-dns.kubernetes.io/target", "10.0.0.2"),
            ("external-dns.alpha.kubernetes.io/target", "10.0.0.1"),
        ]);
        assert_eq!(
            external_dns(&both, "target").map(|a| a.value),
            Some("10.0.0.1")
        );
        let new = meta(&[("external-dns.kubernetes.io/access", "private")]);
        assert_eq!(
            external_dns(&new, "access").map(|a| a.key),
            Some("external-dns.kubernetes.io/access")
        );
        assert_eq!(external_dns(&new, "target"), None);
    }
}
