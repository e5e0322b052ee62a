//! `rateLimit` and `acl`: the guards' settings, each value checked and named.

use kubezone_guard::{AclAction, AclConfig, GuardError, IpNet, RateLimitConfig, parse_cidr};

use super::raw::{RawAcl, RawAclAction, RawRateLimit};

pub(super) fn build_acl(raw: RawAcl) -> Result<AclConfig, (String, String)> {
    if raw.allow.is_empty() {
        return Err(("allow".into(), GuardError::EmptyAllow.to_string()));
    }
    Ok(AclConfig {
        allow: cidrs("allow", &raw.allow)?,
        action: match raw.action {
            RawAclAction::Refuse => AclAction::Refuse,
            RawAclAction::Drop => AclAction::Drop,
        },
    })
}

pub(super) fn build_rate_limit(raw: RawRateLimit) -> Result<RateLimitConfig, (String, String)> {
    /// A number too large for its field is out of range too, reported as written.
    fn fit<T: TryFrom<u64>>(
        key: &str,
        value: Option<u64>,
        default: T,
    ) -> Result<T, (String, String)> {
        let Some(v) = value else {
            return Ok(default);
        };
        T::try_from(v).map_err(|_| {
            let range = RateLimitConfig::RANGES
                .iter()
                .find(|(k, _, _)| *k == key)
                .map(|(_, min, max)| format!(" {min}..={max}"))
                .unwrap_or_default();
            (key.to_string(), format!("{v} is out of range{range}"))
        })
    }
    /// A rate that, left out, follows `responsesPerSecond`.
    fn own_rate(key: &str, value: Option<u64>) -> Result<Option<u32>, (String, String)> {
        value.map(|v| fit(key, Some(v), 0)).transpose()
    }
    let defaults = RateLimitConfig::default();
    let config = RateLimitConfig {
        responses_per_second: fit(
            "responsesPerSecond",
            raw.responses_per_second,
            defaults.responses_per_second,
        )?,
        nxdomains_per_second: own_rate("nxdomainsPerSecond", raw.nxdomains_per_second)?,
        nodata_per_second: own_rate("nodataPerSecond", raw.nodata_per_second)?,
        referrals_per_second: own_rate("referralsPerSecond", raw.referrals_per_second)?,
        errors_per_second: own_rate("errorsPerSecond", raw.errors_per_second)?,
        all_per_second: fit("allPerSecond", raw.all_per_second, defaults.all_per_second)?,
        window: fit("window", raw.window, defaults.window)?,
        slip: fit("slip", raw.slip, defaults.slip)?,
        ipv4_prefix_length: fit(
            "ipv4PrefixLength",
            raw.ipv4_prefix_length,
            defaults.ipv4_prefix_length,
        )?,
        ipv6_prefix_length: fit(
            "ipv6PrefixLength",
            raw.ipv6_prefix_length,
            defaults.ipv6_prefix_length,
        )?,
        exempt: cidrs("exempt", &raw.exempt)?,
        max_table_size: fit("maxTableSize", raw.max_table_size, defaults.max_table_size)?,
    };
    config.validate().map_err(|e| match e {
        GuardError::OutOfRange {
            key,
            value,
            min,
            max,
        } => (
            key.to_string(),
            format!("{value} is out of range {min}..={max}"),
        ),
        other => (String::new(), other.to_string()),
    })?;
    Ok(config)
}

/// Networks (or single addresses) under `key`, each error naming its index and value.
pub(super) fn cidrs(key: &str, list: &[String]) -> Result<Vec<IpNet>, (String, String)> {
    list.iter()
        .enumerate()
        .map(|(i, text)| parse_cidr(text).map_err(|e| (format!("{key}[{i}]"), e.to_string())))
        .collect()
}
