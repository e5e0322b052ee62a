//! TSIG keys (RFC 8945 §4): a name, an HMAC algorithm and a shared secret, and the ring of keys
//! the server knows by name. No `Debug` here shows a secret.

use std::{collections::HashMap, fmt, str::FromStr};

use hickory_proto::rr::{Name, TSigner, rdata::tsig::TsigAlgorithm};

use crate::TransferError;

/// The clock difference, in seconds, that signatures allow: BIND's and Knot's default.
pub const FUDGE: u16 = 300;

/// The HMAC algorithms hickory-proto computes (through ring). hmac-sha224 is not among them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    HmacSha256,
    HmacSha384,
    HmacSha512,
}

impl Algorithm {
    pub const ALL: [Algorithm; 3] = [
        Algorithm::HmacSha256,
        Algorithm::HmacSha384,
        Algorithm::HmacSha512,
    ];

    /// The name on the wire and in BIND and Knot configs.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::HmacSha256 => "hmac-sha256",
            Algorithm::HmacSha384 => "hmac-sha384",
            Algorithm::HmacSha512 => "hmac-sha512",
        }
    }

    /// The length of an untruncated MAC, in bytes.
    pub fn mac_len(self) -> usize {
        match self {
            Algorithm::HmacSha256 => 32,
            Algorithm::HmacSha384 => 48,
            Algorithm::HmacSha512 => 64,
        }
    }

    /// "hmac-sha256, hmac-sha384, hmac-sha512", for error messages.
    pub fn known() -> String {
        Algorithm::ALL.map(Algorithm::name).join(", ")
    }

    pub(crate) fn to_hickory(self) -> TsigAlgorithm {
        match self {
            Algorithm::HmacSha256 => TsigAlgorithm::HmacSha256,
            Algorithm::HmacSha384 => TsigAlgorithm::HmacSha384,
            Algorithm::HmacSha512 => TsigAlgorithm::HmacSha512,
        }
    }

    /// The algorithm a TSIG record names, in any case (hickory matches lower case only).
    pub(crate) fn from_hickory(algorithm: &TsigAlgorithm) -> Option<Algorithm> {
        match algorithm {
            TsigAlgorithm::HmacSha256 => Some(Algorithm::HmacSha256),
            TsigAlgorithm::HmacSha384 => Some(Algorithm::HmacSha384),
            TsigAlgorithm::HmacSha512 => Some(Algorithm::HmacSha512),
            TsigAlgorithm::Unknown(name) => name.to_ascii().parse().ok(),
            _ => None,
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Algorithm {
    type Err = TransferError;

    /// Any case, with or without the final dot of the wire name.
    fn from_str(text: &str) -> Result<Algorithm, TransferError> {
        let bare = text.strip_suffix('.').unwrap_or(text);
        Algorithm::ALL
            .into_iter()
            .find(|a| a.name().eq_ignore_ascii_case(bare))
            .ok_or_else(|| TransferError::UnknownAlgorithm {
                name: text.to_string(),
                known: Algorithm::known(),
            })
    }
}

/// A shared secret's bytes. Never printed.
#[derive(Clone)]
pub struct Secret(Vec<u8>);

impl Secret {
    /// The secret as `tsig-keygen` and `openssl rand -base64` print it. Whitespace anywhere is
    /// ignored, so a file's final newline or a wrapped line does not matter.
    pub fn from_base64(text: &str) -> Result<Secret, TransferError> {
        let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
        let bytes = data_encoding::BASE64
            .decode(compact.as_bytes())
            .map_err(|e| TransferError::SecretNotBase64 {
                length: compact.chars().count(),
                reason: e.to_string(),
            })?;
        Secret::from_bytes(bytes)
    }

    pub fn from_bytes(bytes: Vec<u8>) -> Result<Secret, TransferError> {
        if bytes.is_empty() {
            return Err(TransferError::EmptySecret);
        }
        Ok(Secret(bytes))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret(<{} bytes, redacted>)", self.0.len())
    }
}

/// A named key. Cloning shares the secret.
#[derive(Clone)]
pub struct Key {
    signer: TSigner,
    algorithm: Algorithm,
}

impl Key {
    /// `name` is a DNS name, absolute whether or not it ends in a dot (`xfr-key` is `xfr-key.`),
    /// kept in lower case as the MAC covers it (RFC 8945 §4.3.3).
    pub fn new(name: &str, algorithm: Algorithm, secret: Secret) -> Result<Key, TransferError> {
        let bad = |reason: &str| TransferError::KeyName {
            name: name.to_string(),
            reason: reason.to_string(),
        };
        if name.is_empty() {
            return Err(bad("it is empty"));
        }
        let mut parsed = Name::from_ascii(name).map_err(|e| bad(&e.to_string()))?;
        parsed.set_fqdn(true);
        if parsed.is_root() {
            return Err(bad("the root cannot name a key"));
        }
        let signer = TSigner::new(
            secret.0,
            algorithm.to_hickory(),
            parsed.to_lowercase(),
            FUDGE,
        )
        .map_err(|e| bad(&e.to_string()))?;
        Ok(Key { signer, algorithm })
    }

    /// Absolute and lower case.
    pub fn name(&self) -> &Name {
        self.signer.signer_name()
    }

    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    pub(crate) fn signer(&self) -> &TSigner {
        &self.signer
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Key")
            .field("name", &self.name().to_ascii())
            .field("algorithm", &self.algorithm)
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// The keys the server knows, by name (in any case).
#[derive(Clone, Default)]
pub struct KeyRing {
    keys: HashMap<Name, Key>,
}

impl KeyRing {
    /// Two keys of one name (in any case) are an error naming it.
    pub fn new(keys: impl IntoIterator<Item = Key>) -> Result<KeyRing, TransferError> {
        let mut ring = KeyRing::default();
        for key in keys {
            ring.insert(key)?;
        }
        Ok(ring)
    }

    pub fn insert(&mut self, key: Key) -> Result<(), TransferError> {
        let name = key.name().clone();
        if self.keys.contains_key(&name) {
            return Err(TransferError::DuplicateKey {
                name: name.to_ascii(),
            });
        }
        self.keys.insert(name, key);
        Ok(())
    }

    pub fn get(&self, name: &Name) -> Option<&Key> {
        let mut name = name.clone();
        name.set_fqdn(true);
        self.keys.get(&name)
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The keys in the order of their names.
    pub fn iter(&self) -> impl Iterator<Item = &Key> {
        let mut keys: Vec<&Key> = self.keys.values().collect();
        keys.sort_by(|a, b| a.name().cmp(b.name()));
        keys.into_iter()
    }
}

impl fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret() -> Secret {
        Secret::from_base64("c2VjcmV0LWtleS1tYXRlcmlhbC0zMi1ieXRlcy4uLi4=").expect("base64")
    }

    #[test]
    fn algorithms_parse_in_any_case_and_name_the_known_ones_otherwise() {
        assert_eq!(
            "hmac-sha256".parse::<Algorithm>().ok(),
            Some(Algorithm::HmacSha256)
        );
        assert_eq!(
            "HMAC-SHA512.".parse::<Algorithm>().ok(),
            Some(Algorithm::HmacSha512)
        );
        assert_eq!(
            "hmac-sha384".parse::<Algorithm>().ok(),
            Some(Algorithm::HmacSha384)
        );
        let error = "hmac-md5".parse::<Algorithm>().expect_err("unsupported");
        assert_eq!(
            error.to_string(),
            "\"hmac-md5\" is not a TSIG algorithm kubezone supports \
             (use hmac-sha256, hmac-sha384, hmac-sha512)"
        );
        assert!("hmac-sha224".parse::<Algorithm>().is_err());
        for algorithm in Algorithm::ALL {
            assert_eq!(
                Algorithm::from_hickory(&algorithm.to_hickory()),
                Some(algorithm)
            );
            assert_eq!(
                Algorithm::from_hickory(&TsigAlgorithm::Unknown(
                    Name::from_ascii(algorithm.name().to_uppercase()).expect("name")
                )),
                Some(algorithm)
            );
        }
        assert_eq!(Algorithm::from_hickory(&TsigAlgorithm::HmacSha1), None);
    }

    #[test]
    fn secrets_ignore_whitespace_and_never_print() {
        let wrapped = Secret::from_base64("  c2VjcmV0LWtleS1tYXRlcmlh\nbC0zMi1ieXRlcy4uLi4=\n")
            .expect("base64");
        assert_eq!(wrapped.len(), 32);
        assert_eq!(format!("{wrapped:?}"), "Secret(<32 bytes, redacted>)");
        let error = Secret::from_base64("s3cr3t-wo rd!").expect_err("not base64");
        assert_eq!(
            error.to_string(),
            "the secret (12 characters, not shown) is not base64: invalid symbol at 6"
        );
        assert!(matches!(
            Secret::from_base64(" \n"),
            Err(TransferError::EmptySecret)
        ));
    }

    #[test]
    fn key_names_are_absolute_lower_case_dns_names() {
        let key = Key::new("XFR-Key", Algorithm::HmacSha256, secret()).expect("key");
        assert_eq!(key.name().to_ascii(), "xfr-key.");
        assert_eq!(
            format!("{key:?}"),
            "Key { name: \"xfr-key.\", algorithm: HmacSha256, secret: \"<redacted>\" }"
        );
        for bad in ["", ".", "a..b", &"x".repeat(64)] {
            let error = Key::new(bad, Algorithm::HmacSha256, secret()).expect_err(bad);
            assert!(
                error
                    .to_string()
                    .starts_with(&format!("{bad:?} is not a DNS name")),
                "{error}"
            );
        }
    }

    #[test]
    fn the_ring_finds_keys_in_any_case_and_refuses_a_name_twice() {
        let ring = KeyRing::new([
            Key::new("xfr-key", Algorithm::HmacSha256, secret()).expect("key"),
            Key::new("notify.example.", Algorithm::HmacSha512, secret()).expect("key"),
        ])
        .expect("ring");
        let name = Name::from_ascii("XFR-KEY.").expect("name");
        assert_eq!(
            ring.get(&name).map(Key::algorithm),
            Some(Algorithm::HmacSha256)
        );
        assert!(
            ring.get(&Name::from_ascii("other.").expect("name"))
                .is_none()
        );
        assert_eq!(
            format!("{ring:?}"),
            "[Key { name: \"notify.example.\", algorithm: HmacSha512, secret: \"<redacted>\" }, \
             Key { name: \"xfr-key.\", algorithm: HmacSha256, secret: \"<redacted>\" }]"
        );
        let error = KeyRing::new([
            Key::new("xfr-key", Algorithm::HmacSha256, secret()).expect("key"),
            Key::new("XFR-key.", Algorithm::HmacSha512, secret()).expect("key"),
        ])
        .expect_err("twice");
        assert_eq!(error.to_string(), "key xfr-key. is listed twice");
    }
}
