//! What can be wrong with an object's fields. Every variant names the field and the bad value,
//! so a log line alone tells the user what to fix.

use std::fmt;

use kubezone_model::{NameError, ObjectRef, TargetError};

/// One field of one object that could not become a record. The rest of the object is still
/// translated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TranslateError {
    #[error("{field} = {value:?}: {source}")]
    InvalidName {
        field: String,
        value: String,
        #[source]
        source: NameError,
    },
    #[error("{field} = {value:?}: {source}")]
    InvalidTarget {
        field: String,
        value: String,
        #[source]
        source: TargetError,
    },
    /// A well-formed value of the wrong sort, such as an IPv6 address under record type A.
    #[error("{field} = {value:?}: not {expected}")]
    TargetMismatch {
        field: String,
        value: String,
        expected: &'static str,
    },
    #[error(
        "{field} = {value:?}: unsupported record type; expected A, AAAA, CNAME, TXT, MX, SRV, NS, PTR, NAPTR or CAA"
    )]
    UnsupportedRecordType { field: String, value: String },
    #[error("{field} = {value:?}: {reason}")]
    InvalidRecordData {
        field: String,
        value: String,
        reason: String,
    },
    #[error("{field} = {value:?}: unsupported address type; expected IPAddress or Hostname")]
    UnsupportedAddressType { field: String, value: String },
    #[error("{field} = {value:?}: invalid TTL: {reason}")]
    InvalidTtl {
        field: String,
        value: String,
        reason: &'static str,
    },
    /// A value kubezone does not know, perhaps from a newer API; what depends on it is left out.
    #[error("{field} = {value:?}: unknown value; expected {expected}")]
    UnknownValue {
        field: String,
        value: String,
        expected: &'static str,
    },
    #[error("{field} = {value:?}: invalid label selector: {reason}")]
    InvalidSelector {
        field: String,
        value: String,
        reason: String,
    },
    /// A zone's `nameTemplate` could not be rendered for the object; `field` names the zone.
    #[error("{field} {template:?}: {reason}")]
    TemplateFailed {
        field: String,
        template: String,
        reason: String,
    },
    /// A zone's `nameTemplate` rendered something that is not a name.
    #[error("{field} {template:?} gave {value:?}: {reason}")]
    TemplateName {
        field: String,
        template: String,
        value: String,
        reason: String,
    },
}

impl TranslateError {
    pub(crate) fn invalid_name(field: String, value: &str, source: NameError) -> Self {
        TranslateError::InvalidName {
            field,
            value: value.to_string(),
            source,
        }
    }

    /// The field the bad value was found in, as a path into the object.
    pub fn field(&self) -> &str {
        match self {
            TranslateError::InvalidName { field, .. }
            | TranslateError::InvalidTarget { field, .. }
            | TranslateError::TargetMismatch { field, .. }
            | TranslateError::UnsupportedRecordType { field, .. }
            | TranslateError::InvalidRecordData { field, .. }
            | TranslateError::UnsupportedAddressType { field, .. }
            | TranslateError::InvalidTtl { field, .. }
            | TranslateError::UnknownValue { field, .. }
            | TranslateError::InvalidSelector { field, .. }
            | TranslateError::TemplateFailed { field, .. }
            | TranslateError::TemplateName { field, .. } => field,
        }
    }

    /// The bad value, verbatim.
    pub fn value(&self) -> &str {
        match self {
            TranslateError::InvalidName { value, .. }
            | TranslateError::InvalidTarget { value, .. }
            | TranslateError::TargetMismatch { value, .. }
            | TranslateError::UnsupportedRecordType { value, .. }
            | TranslateError::InvalidRecordData { value, .. }
            | TranslateError::UnsupportedAddressType { value, .. }
            | TranslateError::InvalidTtl { value, .. }
            | TranslateError::UnknownValue { value, .. }
            | TranslateError::InvalidSelector { value, .. }
            | TranslateError::TemplateName { value, .. } => value,
            // What failed is the template itself.
            TranslateError::TemplateFailed { template, .. } => template,
        }
    }
}

/// A [`TranslateError`] and the object it was found in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub object: ObjectRef,
    pub error: TranslateError,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.object, self.error)
    }
}

impl std::error::Error for Problem {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}
