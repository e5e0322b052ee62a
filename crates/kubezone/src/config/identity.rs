//! `identity`: the name NSID and CH TXT answers give.

use kubezone_dns::Identity;

use super::raw::RawIdentity;

pub(super) fn build_identity(raw: RawIdentity) -> Result<Identity, (String, String)> {
    let name = match raw.name {
        Some(name) => name,
        None => hostname::get()
            .map_err(|e| e.to_string())
            .and_then(|name| {
                name.into_string()
                    .map_err(|name| format!("{name:?} is not UTF-8"))
            })
            .map_err(|e| {
                (
                    "name".to_string(),
                    format!("is not set and the host name cannot be read: {e}"),
                )
            })?,
    };
    named(&name, raw.nsid, raw.chaos).map_err(|message| ("name".into(), message))
}

/// The identity named `name`, or why the name cannot be one (with the name).
pub(super) fn named(name: &str, nsid: bool, chaos: bool) -> Result<Identity, String> {
    Identity::new(name, nsid, chaos).map_err(|e| format!("{name:?} {e}"))
}
