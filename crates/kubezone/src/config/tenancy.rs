//! A zone's tenant boundary: `namespaces`, `namespaceSelector` and `claims`.

use kubezone_index::NameClaims;
use kubezone_translate::{LabelSelector, NamespaceFilter};
use serde::Deserialize;

/// `claims` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) enum RawClaims {
    #[default]
    Shared,
    FirstNamespace,
}

impl From<RawClaims> for NameClaims {
    fn from(raw: RawClaims) -> NameClaims {
        match raw {
            RawClaims::Shared => NameClaims::Shared,
            RawClaims::FirstNamespace => NameClaims::FirstNamespace,
        }
    }
}

/// The namespaces a zone admits, each checked to be a namespace name (RFC 1123 label).
pub(super) fn namespace_filter(
    names: &[String],
    selector: Option<&str>,
) -> Result<NamespaceFilter, (String, String)> {
    let mut filter = NamespaceFilter::default();
    for (i, name) in names.iter().enumerate() {
        if !is_dns_label(name) {
            return Err((
                format!("namespaces[{i}]"),
                format!(
                    "{name:?} is not a namespace name (lower-case letters, digits and '-', at most 63)"
                ),
            ));
        }
        filter.names.insert(name.clone());
    }
    if let Some(selector) = selector {
        let parsed = selector
            .parse::<LabelSelector>()
            .map_err(|e| ("namespaceSelector".to_string(), e.to_string()))?;
        filter.selector = Some(parsed);
    }
    Ok(filter)
}

/// A Kubernetes namespace name: an RFC 1123 label.
fn is_dns_label(name: &str) -> bool {
    let bytes = name.as_bytes();
    (1..=63).contains(&bytes.len())
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
        && bytes.first().is_some_and(u8::is_ascii_alphanumeric)
        && bytes.last().is_some_and(u8::is_ascii_alphanumeric)
}
