//! What an object's labels and annotations say about all of its records: ignore it, or a TTL.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::TranslateError;

/// Labels that make an object contribute nothing; the second is k8s_gateway's, for migrants.
const IGNORE_LABELS: [&str; 2] = ["kubezone.io/ignore", "k8s-gateway.dns/ignore"];

/// TTL annotations, the first one present wins; the others are external-dns's two spellings,
/// for migrants.
const TTL_ANNOTATIONS: [&str; 3] = [
    "kubezone.io/ttl",
    "external-dns.alpha.kubernetes.io/ttl",
    "external-dns.kubernetes.io/ttl",
];

/// external-dns accepts TTLs from 1 s to the largest signed 32-bit value (RFC 2181 §8).
const MAX_TTL: u64 = i32::MAX as u64;

pub(crate) fn is_ignored(meta: &ObjectMeta) -> bool {
    meta.labels.as_ref().is_some_and(|labels| {
        IGNORE_LABELS
            .iter()
            .any(|key| labels.get(*key).is_some_and(|v| v == "true"))
    })
}

/// The object's own TTL, if an annotation sets one.
pub(crate) fn ttl_annotation(meta: &ObjectMeta) -> Result<Option<u32>, TranslateError> {
    let Some(annotations) = &meta.annotations else {
        return Ok(None);
    };
    let Some((key, value)) = TTL_ANNOTATIONS
        .iter()
        .find_map(|key| annotations.get(*key).map(|value| (key, value)))
    else {
        return Ok(None);
    };
    parse_ttl(value)
        .map(Some)
        .map_err(|reason| TranslateError::InvalidTtl {
            field: format!("metadata.annotations[{key:?}]"),
            value: value.clone(),
            reason,
        })
}

/// Seconds (`300`), or for external-dns migrants a Go duration in whole h/m/s (`5m`, `1h30m`).
fn parse_ttl(text: &str) -> Result<u32, &'static str> {
    const RANGE: &str = "must be between 1 and 2147483647 seconds";
    let text = text.trim();
    let seconds = if text.bytes().all(|b| b.is_ascii_digit()) && !text.is_empty() {
        text.parse::<u64>().map_err(|_| RANGE)?
    } else {
        parse_duration(text)?
    };
    if seconds == 0 || seconds > MAX_TTL {
        return Err(RANGE);
    }
    u32::try_from(seconds).map_err(|_| RANGE)
}

fn parse_duration(text: &str) -> Result<u64, &'static str> {
    const SYNTAX: &str = "expected seconds (300) or a duration in h, m and s (5m, 1h30m)";
    if text.is_empty() {
        return Err(SYNTAX);
    }
    let mut total: u64 = 0;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit()).ok_or(SYNTAX)?;
        if digits == 0 {
            return Err(SYNTAX);
        }
        let (number, tail) = rest.split_at(digits);
        let number: u64 = number.parse().map_err(|_| SYNTAX)?;
        let mut units = tail.chars();
        let scale = match units.next() {
            Some('h') => 3600,
            Some('m') => 60,
            Some('s') => 1,
            _ => return Err(SYNTAX),
        };
        rest = units.as_str();
        total = number
            .checked_mul(scale)
            .and_then(|s| total.checked_add(s))
            .ok_or("must be between 1 and 2147483647 seconds")?;
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn meta(labels: &[(&str, &str)], annotations: &[(&str, &str)]) -> ObjectMeta {
        let map = |pairs: &[(&str, &str)]| -> Option<BTreeMap<String, String>> {
            Some(
                pairs
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
            )
        };
        ObjectMeta {
            labels: map(labels),
            annotations: map(annotations),
            ..ObjectMeta::default()
        }
    }

    #[test]
    fn ignore_labels() {
        assert!(is_ignored(&meta(&[("kubezone.io/ignore", "true")], &[])));
        assert!(is_ignored(&meta(
            &[("k8s-gateway.dns/ignore", "true")],
            &[]
        )));
        assert!(!is_ignored(&meta(&[("kubezone.io/ignore", "false")], &[])));
        assert!(!is_ignored(&meta(&[], &[("kubezone.io/ignore", "true")])));
        assert!(!is_ignored(&ObjectMeta::default()));
    }

    #[test]
    fn ttl_values() {
        assert_eq!(parse_ttl("300"), Ok(300));
        assert_eq!(parse_ttl(" 60 "), Ok(60));
        assert_eq!(parse_ttl("5m"), Ok(300));
        assert_eq!(parse_ttl("1h30m15s"), Ok(5415));
        assert_eq!(parse_ttl("2147483647"), Ok(2_147_483_647));
        for bad in [
            "",
            "0",
            "-5",
            "1.5",
            "2147483648",
            "5x",
            "m",
            "1h30",
            "99999999999999999999",
        ] {
            assert!(parse_ttl(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn ttl_annotation_precedence_and_errors() {
        let both = meta(
            &[],
            &[
                ("kubezone.io/ttl", "30"),
                ("external-dns.alpha.kubernetes.io/ttl", "90"),
            ],
        );
        assert_eq!(ttl_annotation(&both), Ok(Some(30)));
        let migrant = meta(&[], &[("external-dns.alpha.kubernetes.io/ttl", "1m")]);
        assert_eq!(ttl_annotation(&migrant), Ok(Some(60)));
        let newer = meta(&[], &[("external-dns.kubernetes.io/ttl", "2m")]);
        assert_eq!(ttl_annotation(&newer), Ok(Some(120)));
        assert_eq!(ttl_annotation(&meta(&[], &[])), Ok(None));
        let err = ttl_annotation(&meta(&[], &[("kubezone.io/ttl", "soon")])).expect_err("bad");
        assert_eq!(err.field(), "metadata.annotations[\"kubezone.io/ttl\"]");
        assert!(err.to_string().contains("\"soon\""), "{err}");
    }
}
