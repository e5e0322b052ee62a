//! `tsigKeys`: the TSIG keys (RFC 8945) that secondaries sign zone transfers with and that
//! kubezone signs NOTIFY with. A secret is written inline or read from a file (a mounted
//! Kubernetes Secret); no message or `Debug` output shows one.

use std::{
    fmt,
    io::Read,
    path::{Path, PathBuf},
};

use hickory_proto::rr::Name;
use kubezone_transfer::{Algorithm, Key, KeyRing, Secret};
use serde::Deserialize;

/// One key as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct RawTsigKey {
    name: String,
    algorithm: Option<String>,
    secret: Option<RawSecret>,
    secret_file: Option<PathBuf>,
}

/// An inline secret, never printed.
#[derive(Deserialize)]
#[serde(transparent)]
pub(super) struct RawSecret(String);

impl fmt::Debug for RawSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// What `tsig-keygen` picks, and what BIND, Knot and NSD all implement.
const DEFAULT_ALGORITHM: Algorithm = Algorithm::HmacSha256;

/// A secret file holds a line of base64; more than this is not one (and `/dev/zero` ends).
const MAX_SECRET_FILE: u64 = 64 * 1024;

/// The checked list. Errors are (key, message), the key from `tsigKeys` down; relative
/// `secretFile` paths resolve against `base`, the config file's folder.
pub(super) fn key_ring(raw: Vec<RawTsigKey>, base: &Path) -> Result<KeyRing, (String, String)> {
    let mut ring = KeyRing::default();
    let mut names = Vec::new();
    for (i, raw) in raw.into_iter().enumerate() {
        let key = build(raw, base).map_err(|(field, message)| {
            let at = match field {
                "" => format!("tsigKeys[{i}]"),
                field => format!("tsigKeys[{i}].{field}"),
            };
            (at, message)
        })?;
        if let Some(first) = names.iter().position(|name| name == key.name()) {
            return Err((
                format!("tsigKeys[{i}].name"),
                format!(
                    "{} is also the name of tsigKeys[{first}]",
                    key.name().to_ascii()
                ),
            ));
        }
        names.push(key.name().clone());
        ring.insert(key)
            .map_err(|e| (format!("tsigKeys[{i}].name"), e.to_string()))?;
    }
    Ok(ring)
}

/// The key a zone's `transfer.keys` names: it must be in the ring.
pub(super) fn required_key(ring: &KeyRing, key: &str) -> Result<Name, String> {
    Name::from_ascii(key)
        .ok()
        .and_then(|name| ring.get(&name))
        .map(|k| k.name().clone())
        .ok_or_else(|| format!("{key:?} is not defined in tsigKeys"))
}

/// One key; errors name the field (empty for the entry as a whole).
fn build(raw: RawTsigKey, base: &Path) -> Result<Key, (&'static str, String)> {
    let algorithm = match &raw.algorithm {
        None => DEFAULT_ALGORITHM,
        Some(text) => text
            .parse()
            .map_err(|e: kubezone_transfer::TransferError| ("algorithm", e.to_string()))?,
    };
    let secret = match (raw.secret, raw.secret_file) {
        (Some(secret), None) => {
            Secret::from_base64(&secret.0).map_err(|e| ("secret", e.to_string()))?
        }
        (None, Some(file)) => secret_file(&base.join(file)).map_err(|e| ("secretFile", e))?,
        (Some(_), Some(_)) => {
            return Err(("", "has both `secret` and `secretFile`; give one".into()));
        }
        (None, None) => {
            return Err((
                "",
                "needs `secret` (base64) or `secretFile` (a file holding it)".into(),
            ));
        }
    };
    Key::new(&raw.name, algorithm, secret).map_err(|e| ("name", e.to_string()))
}

/// The base64 secret in `path`, whitespace around and inside it ignored.
fn secret_file(path: &Path) -> Result<Secret, String> {
    let shown = path.display();
    let cannot = |e: std::io::Error| format!("cannot read {shown}: {e}");
    let file = std::fs::File::open(path).map_err(cannot)?;
    if !file.metadata().map_err(cannot)?.is_file() {
        return Err(format!("{shown} is not a file"));
    }
    let mut text = String::new();
    file.take(MAX_SECRET_FILE + 1)
        .read_to_string(&mut text)
        .map_err(cannot)?;
    if text.len() as u64 > MAX_SECRET_FILE {
        return Err(format!(
            "{shown} is larger than {MAX_SECRET_FILE} bytes, too large for a secret"
        ));
    }
    Secret::from_base64(&text).map_err(|e| {
        let hint = if text.contains("secret \"") {
            "; it looks like a BIND key file: put only the base64 secret in the file"
        } else {
            ""
        };
        format!("{shown}: {e}{hint}")
    })
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use kubezone_transfer::Algorithm;

    use crate::config::{Config, ConfigError};

    const SECRET: &str = "bjr5kkBPUmiy/o1i2kYImEzGszwzh+kvsr31MNkbyp8=";

    fn parse_in(dir: &Path, keys: &str) -> Result<Config, ConfigError> {
        Config::parse(
            &dir.join("kubezone.yaml"),
            &format!("zones: [{{zone: example.com}}]\ntsigKeys:\n{keys}"),
        )
    }

    fn parse(keys: &str) -> Result<Config, ConfigError> {
        parse_in(Path::new("/etc/kubezone"), keys)
    }

    fn invalid(keys: &str) -> (String, String) {
        match parse(keys) {
            Err(ConfigError::Invalid { key, message, .. }) => (key, message),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn keys_are_off_unless_configured() {
        let config = Config::parse(
            Path::new("/etc/kubezone/kubezone.yaml"),
            "zones: [{zone: example.com}]",
        )
        .expect("valid");
        assert!(config.tsig_keys.is_empty());
    }

    #[test]
    fn inline_secrets_make_keys_with_hmac_sha256_by_default() {
        let config = parse(&format!(
            "  - {{name: xfr-key, algorithm: hmac-sha256, secret: \"{SECRET}\"}}\n\
             \x20 - {{name: Notify.Example., algorithm: HMAC-SHA512, secret: \"{SECRET}\"}}\n\
             \x20 - {{name: plain, secret: \"{SECRET}\"}}\n"
        ))
        .expect("valid");
        let keys: Vec<(String, Algorithm)> = config
            .tsig_keys
            .iter()
            .map(|k| (k.name().to_ascii(), k.algorithm()))
            .collect();
        assert_eq!(
            keys,
            [
                ("notify.example.".to_string(), Algorithm::HmacSha512),
                ("plain.".to_string(), Algorithm::HmacSha256),
                ("xfr-key.".to_string(), Algorithm::HmacSha256),
            ]
        );
    }

    #[test]
    fn a_secret_file_is_read_relative_to_the_config_and_trimmed() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(dir.path().join("secrets")).expect("mkdir");
        // As `kubectl create secret` mounts it, and as `openssl rand -base64 64` wraps it.
        std::fs::write(dir.path().join("secrets/xfr"), format!("{SECRET}\n")).expect("write");
        std::fs::write(
            dir.path().join("wrapped"),
            "cfXpQEZ0IP9Z0mHQkHDe9HTPaoCTlH7/5p/U7iS34slVqkMxnZ7BkhHs7Qvufmgi\n\
             r9yPsN/cj5FgKFakhhgWRQ==\n",
        )
        .expect("write");
        let absolute = dir.path().join("wrapped");
        let config = parse_in(
            dir.path(),
            &format!(
                "  - {{name: xfr-key, secretFile: secrets/xfr}}\n\
                 \x20 - {{name: wide, algorithm: hmac-sha512, secretFile: {}}}\n",
                absolute.display()
            ),
        )
        .expect("valid");
        assert_eq!(config.tsig_keys.len(), 2);
    }

    #[test]
    fn bad_keys_are_named_by_index_and_field_without_the_secret() {
        let cases = [
            (
                format!(
                    "  - {{name: a, secret: \"{SECRET}\"}}\n  - {{name: b, secret: \"pa55w0rd-not-b64\"}}"
                ),
                "tsigKeys[1].secret",
                "the secret (16 characters, not shown) is not base64: invalid symbol at 8",
            ),
            (
                format!("  - {{name: a, algorithm: hmac-md5, secret: \"{SECRET}\"}}"),
                "tsigKeys[0].algorithm",
                "\"hmac-md5\" is not a TSIG algorithm kubezone supports \
                 (use hmac-sha256, hmac-sha384, hmac-sha512)",
            ),
            (
                format!("  - {{name: a, algorithm: hmac-sha224, secret: \"{SECRET}\"}}"),
                "tsigKeys[0].algorithm",
                "\"hmac-sha224\" is not a TSIG algorithm kubezone supports \
                 (use hmac-sha256, hmac-sha384, hmac-sha512)",
            ),
            (
                format!(
                    "  - {{name: xfr-key, secret: \"{SECRET}\"}}\n  - {{name: other, secret: \"{SECRET}\"}}\n  - {{name: XFR-KEY., secret: \"{SECRET}\"}}"
                ),
                "tsigKeys[2].name",
                "xfr-key. is also the name of tsigKeys[0]",
            ),
            (
                format!("  - {{name: \"a..b\", secret: \"{SECRET}\"}}"),
                "tsigKeys[0].name",
                "\"a..b\" is not a DNS name: ",
            ),
            (
                format!("  - {{name: \"\", secret: \"{SECRET}\"}}"),
                "tsigKeys[0].name",
                "\"\" is not a DNS name: it is empty",
            ),
            (
                format!("  - {{name: a, secret: \"{SECRET}\", secretFile: /etc/key}}"),
                "tsigKeys[0]",
                "has both `secret` and `secretFile`; give one",
            ),
            (
                "  - {name: a, algorithm: hmac-sha256}".to_string(),
                "tsigKeys[0]",
                "needs `secret` (base64) or `secretFile` (a file holding it)",
            ),
            (
                "  - {name: a, secret: \"  \"}".to_string(),
                "tsigKeys[0].secret",
                "the secret is empty",
            ),
            (
                "  - {name: a, secretFile: missing/key}".to_string(),
                "tsigKeys[0].secretFile",
                "cannot read /etc/kubezone/missing/key: No such file or directory",
            ),
            (
                "  - {name: a, secretFile: /}".to_string(),
                "tsigKeys[0].secretFile",
                "/ is not a file",
            ),
        ];
        for (keys, key, message) in cases {
            let (got_key, got_message) = invalid(&keys);
            assert_eq!(got_key, key, "{keys}");
            assert!(
                got_message.starts_with(message),
                "{keys}: {got_message:?} does not start with {message:?}"
            );
            assert!(!got_message.contains("pa55w0rd"), "{got_message}");
        }
    }

    #[test]
    fn unknown_keys_and_a_bind_key_file_are_explained() {
        match parse(&format!(
            "  - {{name: a, secret: \"{SECRET}\", fudge: 300}}"
        )) {
            Err(ConfigError::Parse { source, .. }) => {
                assert!(
                    source.to_string().contains("unknown field `fudge`"),
                    "{source}"
                )
            }
            other => panic!("{other:?}"),
        }
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            dir.path().join("xfr.key"),
            format!("key \"xfr-key\" {{\n\talgorithm hmac-sha256;\n\tsecret \"{SECRET}\";\n}};\n"),
        )
        .expect("write");
        match parse_in(dir.path(), "  - {name: xfr-key, secretFile: xfr.key}") {
            Err(ConfigError::Invalid { key, message, .. }) => {
                assert_eq!(key, "tsigKeys[0].secretFile");
                assert!(
                    message.ends_with(
                        "; it looks like a BIND key file: put only the base64 secret in the file"
                    ),
                    "{message}"
                );
                assert!(!message.contains(SECRET), "{message}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_zone_requires_keys_that_are_defined() {
        let text = format!(
            "zones: [{{zone: example.com, transfer: {{allow: [127.0.0.1/32], keys: [other-key]}}}}]\n\
             tsigKeys: [{{name: xfr-key, secret: \"{SECRET}\"}}]"
        );
        match Config::parse(Path::new("/etc/kubezone/kubezone.yaml"), &text) {
            Err(ConfigError::Invalid {
                key, message: got, ..
            }) => {
                assert_eq!(key, "zones[0].transfer.keys[0]");
                assert!(
                    got.starts_with("\"other-key.\" is not defined in tsigKeys"),
                    "{got}"
                );
            }
            other => panic!("{other:?}"),
        }
        let text = format!(
            "zones: [{{zone: example.com, transfer: {{allow: [127.0.0.1/32], keys: [XFR-Key]}}}}]\n\
             tsigKeys: [{{name: xfr-key, secret: \"{SECRET}\"}}]"
        );
        let config = Config::parse(Path::new("/etc/kubezone/kubezone.yaml"), &text).expect("valid");
        let keys: Vec<String> = config.zones[0]
            .transfer
            .iter()
            .flat_map(|t| t.settings.keys.iter().map(ToString::to_string))
            .collect();
        assert_eq!(keys, ["xfr-key."], "in any case, as the ring names it");
    }

    #[test]
    fn debug_output_never_shows_a_secret() {
        let config = parse(&format!("  - {{name: xfr-key, secret: \"{SECRET}\"}}")).expect("valid");
        let shown = format!("{config:?}");
        assert!(shown.contains("xfr-key."), "{shown}");
        assert!(!shown.contains(SECRET), "{shown}");
        let raw: Vec<super::RawTsigKey> =
            serde_norway::from_str(&format!("- {{name: xfr-key, secret: \"{SECRET}\"}}"))
                .expect("yaml");
        let shown = format!("{raw:?}");
        assert!(
            shown.contains("<redacted>") && !shown.contains(SECRET),
            "{shown}"
        );
    }
}
