//! external-dns's TXT registry: who owns a record, kept in TXT records beside it.
//!
//! The format follows external-dns (`registry/txt/registry.go`, `registry/mapper/mapper.go`,
//! `endpoint/labels.go`) so that a zone it managed can be taken over with the same owner id:
//!
//! - the value is `heritage=external-dns,external-dns/owner=<id>,external-dns/resource=<ref>`
//!   (labels sorted by key), one TXT string on the wire (RFC 2136 providers write it quoted in
//!   zone-file syntax, so the quotes are not part of the data);
//! - the new format (external-dns ≥ 0.12, the only one written since 0.18) puts it at a name
//!   derived from the record's name and type: `a-www.example.com.` for `www.example.com. A`,
//!   with `--txt-prefix`/`--txt-suffix` added to the first label and `%{record_type}` in
//!   either replaced by the type;
//! - the old format put it at the record's own name, covering every type there but AAAA.
//!
//! kubezone writes the new format only, reads both (the new one first, as external-dns does),
//! and counts a record as owned only when a registry TXT names that owner for its name and type.

use std::collections::BTreeMap;

use hickory_proto::rr::{Name, RecordType};

/// The `heritage` every registry value starts with.
const HERITAGE: &str = "external-dns";
/// The placeholder for the record type in a prefix or suffix.
const RECORD_TYPE_TEMPLATE: &str = "%{record_type}";
/// external-dns's key of the owner label.
pub const OWNER_LABEL: &str = "owner";
/// external-dns's key of the label naming the Kubernetes object behind a record.
pub const RESOURCE_LABEL: &str = "resource";
/// A label external-dns keeps for encrypted values and never writes out in plain text.
const ENCRYPTION_NONCE_LABEL: &str = "txt-encryption-nonce";

/// The record types external-dns's registry can name (`supportedRecords`, in its order, which
/// decides how an ambiguous name is read). Records of other types cannot be owned.
pub const SUPPORTED_TYPES: [RecordType; 10] = [
    RecordType::A,
    RecordType::AAAA,
    RecordType::CNAME,
    RecordType::NS,
    RecordType::MX,
    RecordType::PTR,
    RecordType::SRV,
    RecordType::NAPTR,
    RecordType::TXT,
    RecordType::DNAME,
];

/// Why a registry setting or name is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    #[error("push owner id is empty; external-dns's registry needs one")]
    EmptyOwner,
    #[error(
        "push owner id {owner:?} contains {what}, which external-dns's registry value cannot hold"
    )]
    BadOwner { owner: String, what: &'static str },
    #[error(
        "push txtPrefix {prefix:?} and txtSuffix {suffix:?} are both set; external-dns allows one"
    )]
    PrefixAndSuffix { prefix: String, suffix: String },
    #[error("record type {record_type} of {name} cannot be named by external-dns's registry")]
    UnsupportedType {
        name: String,
        record_type: RecordType,
    },
    #[error("registry name {txt_name:?} for {name} {record_type} is not a valid name: {reason}")]
    BadTxtName {
        name: String,
        record_type: RecordType,
        txt_name: String,
        reason: String,
    },
}

/// Why a TXT value is not a registry record ([`Labels::parse`]); such a TXT is ordinary data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LabelsError {
    #[error("no heritage=external-dns in TXT value {value:?}")]
    NoHeritage { value: String },
    #[error("heritage {found:?} is not external-dns in TXT value {value:?}")]
    OtherHeritage { found: String, value: String },
}

/// The labels of one registry value (external-dns's `endpoint.Labels`), sorted by key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Labels(BTreeMap<String, String>);

impl Labels {
    /// The labels kubezone writes: its owner id and, when known, the object behind the record.
    pub fn new(owner: &str, resource: Option<&str>) -> Labels {
        let mut labels = BTreeMap::new();
        labels.insert(OWNER_LABEL.to_owned(), owner.to_owned());
        if let Some(resource) = resource.filter(|r| !r.is_empty()) {
            labels.insert(RESOURCE_LABEL.to_owned(), resource.to_owned());
        }
        Labels(labels)
    }

    /// Reads a TXT value as external-dns's `NewLabelsFromStringPlain` does: quotes around it
    /// dropped, tokens split at `,`, each at its first `=`; tokens without `=` and keys outside
    /// `external-dns/` ignored; a `heritage` other than `external-dns` refuses the value (even
    /// when another `heritage` token follows), and so does a value without one.
    pub fn parse(value: &str) -> Result<Labels, LabelsError> {
        let text = value.trim_matches('"');
        let mut labels = BTreeMap::new();
        let mut heritage = false;
        for token in text.split(',') {
            let Some((key, val)) = token.split_once('=') else {
                continue;
            };
            if key == "heritage" {
                if val != HERITAGE {
                    return Err(LabelsError::OtherHeritage {
                        found: val.to_owned(),
                        value: value.to_owned(),
                    });
                }
                heritage = true;
                continue;
            }
            if key.starts_with(HERITAGE) {
                let key = key
                    .strip_prefix(concat!("external-dns", "/"))
                    .unwrap_or(key);
                labels.insert(key.to_owned(), val.to_owned());
            }
        }
        if !heritage {
            return Err(LabelsError::NoHeritage {
                value: value.to_owned(),
            });
        }
        Ok(Labels(labels))
    }

    /// The value as external-dns's `SerializePlain(false)` writes it.
    pub fn serialize(&self) -> String {
        let mut out = format!("heritage={HERITAGE}");
        for (key, val) in &self.0 {
            if key == ENCRYPTION_NONCE_LABEL {
                continue;
            }
            out.push_str(&format!(",{HERITAGE}/{key}={val}"));
        }
        out
    }

    /// The owner id; `None` when the value names none (or an empty one), which external-dns
    /// treats as owned by nobody.
    pub fn owner(&self) -> Option<&str> {
        self.get(OWNER_LABEL).filter(|o| !o.is_empty())
    }

    pub fn resource(&self) -> Option<&str> {
        self.get(RESOURCE_LABEL)
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }
}

/// What a registry TXT's name says it covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Covered {
    /// The record's name, lower case, without the final dot (external-dns's endpoint name).
    pub name: String,
    /// The record's type (new format), or `None` for the old format, which covers every type
    /// at the name but AAAA.
    pub record_type: Option<RecordType>,
}

/// external-dns's TXT registry for one owner: where its records go and what they say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registry {
    owner: String,
    prefix: String,
    suffix: String,
    wildcard_replacement: String,
}

impl Registry {
    /// external-dns's `--txt-owner-id`, `--txt-prefix`, `--txt-suffix` and
    /// `--txt-wildcard-replacement` (affixes lower-cased, as its mapper does).
    pub fn new(
        owner: &str,
        prefix: &str,
        suffix: &str,
        wildcard_replacement: &str,
    ) -> Result<Registry, RegistryError> {
        if owner.is_empty() {
            return Err(RegistryError::EmptyOwner);
        }
        // A comma would split the value into tokens; a quote at either end is trimmed when
        // read. Either way the owner read back would not be the owner written.
        let bad = if owner.contains(',') {
            Some("a comma")
        } else if owner.starts_with('"') || owner.ends_with('"') {
            Some("a quote at its start or end")
        } else {
            None
        };
        if let Some(what) = bad {
            return Err(RegistryError::BadOwner {
                owner: owner.to_owned(),
                what,
            });
        }
        if !prefix.is_empty() && !suffix.is_empty() {
            return Err(RegistryError::PrefixAndSuffix {
                prefix: prefix.to_owned(),
                suffix: suffix.to_owned(),
            });
        }
        Ok(Registry {
            owner: owner.to_owned(),
            prefix: prefix.to_ascii_lowercase(),
            suffix: suffix.to_ascii_lowercase(),
            wildcard_replacement: wildcard_replacement.to_ascii_lowercase(),
        })
    }

    pub fn owner(&self) -> &str {
        &self.owner
    }

    /// The registry value kubezone writes for a record made from `resource`.
    pub fn value(&self, resource: Option<&str>) -> String {
        Labels::new(&self.owner, resource).serialize()
    }

    /// The name of the new-format registry TXT of `name`'s `record_type` RRset. Built label by
    /// label, so a wildcard without a replacement gives `a-*.example.com.` as external-dns does
    /// (a valid name on the wire, if not a host name).
    pub fn txt_name(&self, name: &Name, record_type: RecordType) -> Result<Name, RegistryError> {
        let endpoint = endpoint_name(name);
        let Some(type_text) = type_text(record_type) else {
            return Err(RegistryError::UnsupportedType {
                name: endpoint,
                record_type,
            });
        };
        let lower = name.to_lowercase();
        let mut labels = lower.iter();
        let first = labels
            .next()
            .map(|l| String::from_utf8_lossy(l).into_owned())
            .unwrap_or_default();
        // The affixes may hold dots: they make labels of their own.
        let head = self.to_txt_name(&first, type_text);
        let all: Vec<&[u8]> = head.split('.').map(str::as_bytes).chain(labels).collect();
        let bad = |reason: String| RegistryError::BadTxtName {
            name: endpoint.clone(),
            record_type,
            txt_name: format!("{head}.{}", endpoint.split_once('.').map_or("", |(_, r)| r)),
            reason,
        };
        let wire_len: usize = all.iter().map(|l| l.len() + 1).sum::<usize>() + 1;
        if wire_len > 255 {
            return Err(bad(format!("{wire_len} bytes long, more than 255")));
        }
        Name::from_labels(all).map_err(|e| bad(e.to_string()))
    }

    /// external-dns's `ToTXTName`: type and affixes on the first label, the rest unchanged.
    pub fn to_txt_name(&self, dns: &str, record_type: &str) -> String {
        let record_type = record_type.to_ascii_lowercase();
        let (first, rest) = match dns.split_once('.') {
            Some((first, rest)) => (first, Some(rest)),
            None => (dns, None),
        };
        let prefix = self.prefix.replace(RECORD_TYPE_TEMPLATE, &record_type);
        let suffix = self.suffix.replace(RECORD_TYPE_TEMPLATE, &record_type);
        let mut first = if !self.wildcard_replacement.is_empty() && first == "*" {
            self.wildcard_replacement.clone()
        } else {
            first.to_owned()
        };
        if !self.type_in_affix() {
            first = format!("{record_type}-{first}");
        }
        match rest {
            None => format!("{prefix}{first}{suffix}"),
            Some(rest) => format!("{prefix}{first}{suffix}.{rest}"),
        }
    }

    /// external-dns's `ToEndpointName`: what a registry TXT named `txt` covers, or `None` where
    /// external-dns reads no name from it.
    pub fn covered_by(&self, txt: &str) -> Option<Covered> {
        let lower = txt.to_ascii_lowercase();
        let (name, record_type) = if self.is_prefix() {
            self.drop_affix(&lower)?
        } else {
            let dots = self.suffix.matches('.').count();
            let parts: Vec<&str> = lower.splitn(dots + 2, '.').collect();
            if parts.len() <= dots {
                return None;
            }
            let head = parts.get(..=dots).unwrap_or(&parts).join(".");
            let (first, record_type) = self.drop_affix(&head)?;
            match parts.get(dots + 1) {
                None => (first, record_type),
                Some(rest) => (format!("{first}.{rest}"), record_type),
            }
        };
        Some(Covered { name, record_type })
    }

    /// The key under which external-dns looks up the registry of a record at `name`: its
    /// endpoint name with a leading `*` label replaced by the wildcard replacement.
    pub fn lookup_name(&self, name: &Name) -> String {
        let endpoint = endpoint_name(name);
        if self.wildcard_replacement.is_empty() {
            return endpoint;
        }
        match endpoint.split_once('.') {
            Some(("*", rest)) => format!("{}.{rest}", self.wildcard_replacement),
            None if endpoint == "*" => self.wildcard_replacement.clone(),
            _ => endpoint,
        }
    }

    fn type_in_affix(&self) -> bool {
        self.prefix.contains(RECORD_TYPE_TEMPLATE) || self.suffix.contains(RECORD_TYPE_TEMPLATE)
    }

    /// external-dns reads a prefix whenever no suffix is set (also with neither).
    fn is_prefix(&self) -> bool {
        self.suffix.is_empty()
    }

    /// external-dns's `dropAffixExtractType`; `None` where it returns no name.
    fn drop_affix(&self, name: &str) -> Option<(String, Option<RecordType>)> {
        let mut prefix = self.prefix.clone();
        let mut suffix = self.suffix.clone();
        if self.type_in_affix() {
            for record_type in SUPPORTED_TYPES {
                let text = type_text(record_type).unwrap_or_default();
                let typed_prefix = prefix.replace(RECORD_TYPE_TEMPLATE, text);
                let typed_suffix = suffix.replace(RECORD_TYPE_TEMPLATE, text);
                if self.is_prefix() {
                    if let Some(rest) = name.strip_prefix(&typed_prefix) {
                        return Some((rest.to_owned(), Some(record_type)));
                    }
                } else if let Some(rest) = name.strip_suffix(&typed_suffix) {
                    return Some((rest.to_owned(), Some(record_type)));
                }
            }
            // Registry names written before the type was in the affix.
            prefix = prefix.replace(RECORD_TYPE_TEMPLATE, "");
            suffix = suffix.replace(RECORD_TYPE_TEMPLATE, "");
        }
        let rest = if self.is_prefix() {
            name.strip_prefix(&prefix)?
        } else {
            name.strip_suffix(&suffix)?
        };
        Some(type_from_first_token(rest))
    }
}

/// external-dns's `extractRecordTypeDefaultPosition`: a leading `<type>-` names the type.
fn type_from_first_token(name: &str) -> (String, Option<RecordType>) {
    let first = name.split('-').next().unwrap_or_default();
    for record_type in SUPPORTED_TYPES {
        if type_text(record_type) == Some(first) {
            let rest = name.strip_prefix(first).unwrap_or(name);
            let rest = rest.strip_prefix('-').unwrap_or(rest);
            return (rest.to_owned(), Some(record_type));
        }
    }
    (name.to_owned(), None)
}

/// The lower-case mnemonic external-dns uses for a type it supports.
pub fn type_text(record_type: RecordType) -> Option<&'static str> {
    Some(match record_type {
        RecordType::A => "a",
        RecordType::AAAA => "aaaa",
        RecordType::CNAME => "cname",
        RecordType::NS => "ns",
        RecordType::MX => "mx",
        RecordType::PTR => "ptr",
        RecordType::SRV => "srv",
        RecordType::NAPTR => "naptr",
        RecordType::TXT => "txt",
        RecordType::DNAME => "dname",
        _ => return None,
    })
}

/// A name as external-dns spells an endpoint: lower case, no final dot, labels as they are
/// (not escaped: `*` stays `*` inside a label, as in `a-*.example.com`).
pub fn endpoint_name(name: &Name) -> String {
    let labels: Vec<String> = name
        .to_lowercase()
        .iter()
        .map(|l| String::from_utf8_lossy(l).into_owned())
        .collect();
    labels.join(".")
}

/// external-dns's resource label for an object: `<kind>/<namespace>/<name>`, with its sources'
/// spellings of the kind (`crd` for a DNSEndpoint, the lower-case Kind for routes), and
/// `node/<name>` for a Node. `None` for the config's own records, which no object makes.
pub fn resource_label(object: &kubezone_model::ObjectRef) -> Option<String> {
    use kubezone_model::Kind;
    let kind = match object.kind() {
        Kind::Ingress => "ingress",
        Kind::Service => "service",
        Kind::DnsEndpoint => "crd",
        Kind::HttpRoute => "httproute",
        Kind::TlsRoute => "tlsroute",
        Kind::GrpcRoute => "grpcroute",
        Kind::TcpRoute => "tcproute",
        Kind::UdpRoute => "udproute",
        Kind::Gateway => "gateway",
        Kind::ListenerSet => "listenerset",
        Kind::Namespace => "namespace",
        Kind::EndpointSlice => "endpointslice",
        Kind::Node => return Some(format!("node/{}", object.name())),
        Kind::Config => return None,
    };
    Some(match object.namespace() {
        Some(namespace) => format!("{kind}/{namespace}/{}", object.name()),
        None => format!("{kind}/{}", object.name()),
    })
}

#[cfg(test)]
mod tests;
