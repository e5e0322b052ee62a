//! Reading targets out of status fields.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kubezone_model::{Target, TargetError};

use crate::{TranslateError, annotations, output::Builder};

/// external-dns's `target` annotation: addresses or host names that replace what the object
/// would answer with. `None` when it is not set; a value that is neither is reported and left
/// out.
pub(crate) fn annotated(b: &mut Builder<'_>, meta: &ObjectMeta) -> Option<Vec<Target>> {
    let annotation = annotations::external_dns(meta, "target")?;
    let mut result = Vec::new();
    for item in annotation.items() {
        let target = Target::parse_ip_or_host(item)
            .map_err(|source| invalid(annotation.field(), item, source));
        result.extend(b.check(target));
    }
    Some(result)
}

/// An A or AAAA target.
pub(crate) fn ip(field: String, value: &str) -> Result<Target, TranslateError> {
    Target::parse_ip(value).map_err(|source| invalid(field, value, source))
}

/// A CNAME target. An IP address is a valid host name to the parser but never what was meant.
pub(crate) fn host(field: String, value: &str) -> Result<Target, TranslateError> {
    if Target::parse_ip(value).is_ok() {
        return Err(mismatch(field, value, "a host name (it is an IP address)"));
    }
    Target::parse_host(value).map_err(|source| invalid(field, value, source))
}

/// `status.loadBalancer.ingress[]` of a Service or an Ingress, given as (ip, hostname) pairs.
/// An entry with both uses the ip, as k8s_gateway does; an entry with neither is skipped.
pub(crate) fn load_balancer<'s>(
    b: &mut Builder<'_>,
    entries: impl IntoIterator<Item = (Option<&'s str>, Option<&'s str>)>,
) -> Vec<Target> {
    let mut targets = Vec::new();
    for (i, (ip_value, hostname)) in entries.into_iter().enumerate() {
        let field = |leaf: &str| format!("status.loadBalancer.ingress[{i}].{leaf}");
        let target = match (non_empty(ip_value), non_empty(hostname)) {
            (Some(value), _) => ip(field("ip"), value),
            (None, Some(value)) => host(field("hostname"), value),
            (None, None) => continue,
        };
        targets.extend(b.check(target));
    }
    targets
}

pub(crate) fn non_empty(value: Option<&str>) -> Option<&str> {
    value.filter(|v| !v.trim().is_empty())
}

/// A target of the wrong family for its record type.
pub(crate) fn mismatch(field: String, value: &str, expected: &'static str) -> TranslateError {
    TranslateError::TargetMismatch {
        field,
        value: value.to_string(),
        expected,
    }
}

/// Wraps a [`TargetError`] with its field.
pub(crate) fn invalid(field: String, value: &str, source: TargetError) -> TranslateError {
    TranslateError::InvalidTarget {
        field,
        value: value.to_string(),
        source,
    }
}
