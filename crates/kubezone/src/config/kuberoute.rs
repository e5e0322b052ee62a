//! `kuberoute`: the label names kuberoute's Services carry, for migrants whose kuberoute read
//! other names (its `domain_label`, `name_label`, `failover_label` and `quota_label`).

use kubezone_translate::KuberouteLabels;
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawKuberoute {
    domain_label: Option<String>,
    name_label: Option<String>,
    failover_label: Option<String>,
    quota_label: Option<String>,
}

/// The labels, each checked to be a label key (`[prefix/]name`).
pub(super) fn labels(raw: RawKuberoute) -> Result<KuberouteLabels, (String, String)> {
    let mut labels = KuberouteLabels::default();
    for (key, value, slot) in [
        (
            "kuberoute.domainLabel",
            raw.domain_label,
            &mut labels.domain,
        ),
        ("kuberoute.nameLabel", raw.name_label, &mut labels.name),
        (
            "kuberoute.failoverLabel",
            raw.failover_label,
            &mut labels.failover,
        ),
        ("kuberoute.quotaLabel", raw.quota_label, &mut labels.quota),
    ] {
        if let Some(value) = value {
            if !is_label_key(&value) {
                return Err((
                    key.to_string(),
                    format!(
                        "{value:?} is not a label key ([prefix/]name, name at most 63 characters)"
                    ),
                ));
            }
            *slot = value;
        }
    }
    Ok(labels)
}

/// A Kubernetes label key: an optional DNS subdomain prefix and `/`, then a name of at most 63
/// alphanumerics, '-', '_' and '.', beginning and ending with an alphanumeric.
fn is_label_key(key: &str) -> bool {
    let (prefix, name) = match key.rsplit_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, key),
    };
    let name_ok = (1..=63).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        && name
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphanumeric())
        && name
            .bytes()
            .last()
            .is_some_and(|b| b.is_ascii_alphanumeric());
    let prefix_ok = prefix.is_none_or(|p| {
        (1..=253).contains(&p.len())
            && p.split('.').all(|label| {
                !label.is_empty()
                    && label
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            })
    });
    name_ok && prefix_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_keys() {
        for good in ["kuberoute_domain", "example.com/route-name", "a"] {
            assert!(is_label_key(good), "{good}");
        }
        for bad in [
            "",
            "-x",
            "x-",
            "Example.com/x",
            "a/b/c",
            &"x".repeat(64),
            "a b",
        ] {
            assert!(!is_label_key(bad), "{bad}");
        }
    }
}
