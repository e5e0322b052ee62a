use std::fmt;

use hickory_proto::rr::Name;

/// A validated, lower-case, fully qualified host name that may own records.
///
/// Kubernetes lets users write almost anything in a host field or an annotation, so every name
/// is checked here once, and the rest of kubezone can rely on it.
///
/// Boxed, because a hickory `Name` is 80 bytes inline and every `Target` would pay for it.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DnsName(Box<Name>);

/// Why a string is not a usable DNS name. The display names the offending value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("empty name")]
    Empty,
    #[error("name {name:?} is {len} bytes long; the limit is 255")]
    TooLong { name: String, len: usize },
    #[error("name {name:?} has an empty label")]
    EmptyLabel { name: String },
    #[error("label {label:?} of {name:?} is {len} bytes long; the limit is 63")]
    LabelTooLong {
        name: String,
        label: String,
        len: usize,
    },
    #[error("label {label:?} of {name:?} has a character other than a-z, 0-9, '-' or '_'")]
    BadCharacter { name: String, label: String },
    #[error("label {label:?} of {name:?} starts or ends with '-'")]
    BadHyphen { name: String, label: String },
    #[error("name {name:?} has '*' other than as its whole first label")]
    MisplacedWildcard { name: String },
    #[error("name {name:?} is not inside zone {zone}")]
    OutsideZone { name: String, zone: String },
}

const MAX_NAME_WIRE_LEN: usize = 255;
const MAX_LABEL_LEN: usize = 63;

impl DnsName {
    /// Parses an absolute name; a trailing dot is optional.
    pub fn parse(text: &str) -> Result<Self, NameError> {
        let trimmed = text.strip_suffix('.').unwrap_or(text);
        if trimmed.is_empty() {
            return Err(NameError::Empty);
        }
        let lower = trimmed.to_ascii_lowercase();
        // Wire length: one length byte per label, the labels, and the root byte.
        let wire_len = lower.len() + 2;
        if wire_len > MAX_NAME_WIRE_LEN {
            return Err(NameError::TooLong {
                name: text.to_string(),
                len: wire_len,
            });
        }
        for (i, label) in lower.split('.').enumerate() {
            check_label(text, label, i == 0)?;
        }
        let name = Name::from_ascii(format!("{lower}.")).map_err(|_| NameError::BadCharacter {
            name: text.to_string(),
            label: lower.clone(),
        })?;
        Ok(DnsName(Box::new(name)))
    }

    /// Parses `text` as a name in `zone`: either relative to it (`www` → `www.<zone>`) or
    /// absolute and ending in it. A name outside the zone is an error.
    pub fn parse_in_zone(text: &str, zone: &DnsName) -> Result<Self, NameError> {
        let candidate = DnsName::parse(text)?;
        if zone.contains(&candidate) {
            return Ok(candidate);
        }
        let relative = text.strip_suffix('.').unwrap_or(text);
        if text.ends_with('.') {
            return Err(NameError::OutsideZone {
                name: text.to_string(),
                zone: zone.to_string(),
            });
        }
        DnsName::parse(&format!("{relative}.{zone}"))
    }

    /// Wraps an already lower-case, fully qualified hickory name after checking it.
    pub fn from_name(name: &Name) -> Result<Self, NameError> {
        DnsName::parse(&name.to_ascii())
    }

    pub fn as_name(&self) -> &Name {
        &self.0
    }

    pub fn into_name(self) -> Name {
        *self.0
    }

    /// Whether the first label is `*`.
    pub fn is_wildcard(&self) -> bool {
        self.0.is_wildcard()
    }

    /// Whether `other` is this name or below it.
    pub fn contains(&self, other: &DnsName) -> bool {
        self.0.zone_of(&other.0)
    }

    pub fn num_labels(&self) -> usize {
        usize::from(self.0.num_labels())
    }
}

fn check_label(name: &str, label: &str, first: bool) -> Result<(), NameError> {
    let err_label = || label.to_string();
    if label.is_empty() {
        return Err(NameError::EmptyLabel {
            name: name.to_string(),
        });
    }
    if label.len() > MAX_LABEL_LEN {
        return Err(NameError::LabelTooLong {
            name: name.to_string(),
            label: err_label(),
            len: label.len(),
        });
    }
    if label == "*" {
        return if first {
            Ok(())
        } else {
            Err(NameError::MisplacedWildcard {
                name: name.to_string(),
            })
        };
    }
    if label.contains('*') {
        return Err(NameError::MisplacedWildcard {
            name: name.to_string(),
        });
    }
    if !label
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
    {
        return Err(NameError::BadCharacter {
            name: name.to_string(),
            label: err_label(),
        });
    }
    if label.starts_with('-') || label.ends_with('-') {
        return Err(NameError::BadHyphen {
            name: name.to_string(),
            label: err_label(),
        });
    }
    Ok(())
}

impl fmt::Display for DnsName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // hickory's Display decodes punycode (`xn--…`) to Unicode, which is not a name this type
        // parses back; names are shown and re-parsed as written.
        f.write_str(&self.0.to_ascii())
    }
}

impl fmt::Debug for DnsName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DnsName({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zone() -> DnsName {
        DnsName::parse("example.com").expect("valid zone")
    }

    #[test]
    fn accepts_ordinary_names_and_lowercases() {
        let n = DnsName::parse("WWW.Example.COM.").expect("valid");
        assert_eq!(n.to_string(), "www.example.com.");
        assert!(DnsName::parse("_acme-challenge.example.com").is_ok());
        assert!(
            DnsName::parse("*.apps.example.com")
                .expect("wildcard")
                .is_wildcard()
        );
    }

    #[test]
    fn rejects_each_kind_of_bad_name() {
        assert_eq!(DnsName::parse(""), Err(NameError::Empty));
        assert!(matches!(
            DnsName::parse("a..example.com"),
            Err(NameError::EmptyLabel { .. })
        ));
        let long_label = "a".repeat(64);
        assert!(matches!(
            DnsName::parse(&format!("{long_label}.example.com")),
            Err(NameError::LabelTooLong { len: 64, .. })
        ));
        let long_name = vec!["a".repeat(60); 5].join(".");
        assert!(matches!(
            DnsName::parse(&long_name),
            Err(NameError::TooLong { .. })
        ));
        assert!(matches!(
            DnsName::parse("www.*.example.com"),
            Err(NameError::MisplacedWildcard { .. })
        ));
        assert!(matches!(
            DnsName::parse("w*w.example.com"),
            Err(NameError::MisplacedWildcard { .. })
        ));
        assert!(matches!(
            DnsName::parse("bad name.example.com"),
            Err(NameError::BadCharacter { .. })
        ));
        assert!(matches!(
            DnsName::parse("-x.example.com"),
            Err(NameError::BadHyphen { .. })
        ));
    }

    #[test]
    fn punycode_labels_display_as_written() {
        let name = DnsName::parse("web.xn--ple.example.com").expect("valid");
        assert_eq!(name.to_string(), "web.xn--ple.example.com.");
        assert_eq!(DnsName::parse(&name.to_string()), Ok(name));
        let zone = DnsName::parse("xn--bcher-kva.example").expect("valid");
        let relative = DnsName::parse_in_zone("www", &zone).expect("relative");
        assert_eq!(relative.to_string(), "www.xn--bcher-kva.example.");
    }

    #[test]
    fn the_error_names_the_value() {
        let err = DnsName::parse("www.*.example.com").expect_err("invalid");
        assert!(err.to_string().contains("www.*.example.com"), "{err}");
    }

    #[test]
    fn names_in_zone_are_relative_or_absolute() {
        let z = zone();
        assert_eq!(
            DnsName::parse_in_zone("www", &z)
                .expect("relative")
                .to_string(),
            "www.example.com."
        );
        assert_eq!(
            DnsName::parse_in_zone("www.example.com", &z)
                .expect("absolute")
                .to_string(),
            "www.example.com."
        );
        assert_eq!(
            DnsName::parse_in_zone("*.apps", &z)
                .expect("wildcard")
                .to_string(),
            "*.apps.example.com."
        );
        assert!(matches!(
            DnsName::parse_in_zone("www.other.org.", &z),
            Err(NameError::OutsideZone { .. })
        ));
    }
}
