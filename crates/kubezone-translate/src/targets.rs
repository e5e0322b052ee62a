//! Reading targets out of status fields.

use kubezone_model::{Target, TargetError};

use crate::{TranslateError, output::Builder};

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
