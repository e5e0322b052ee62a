//! BIND as the primary: `update-policy { grant update-key zonesub ANY; }` (docs/push.md).

use std::path::Path;

use super::{READER_KEY, READER_SECRET, UPDATE_KEY, UPDATE_SECRET, ZONE, zone_file_name};

pub const CONFIG: &str = "named.conf";

/// `named.conf`: everything in `dir`, listening on 127.0.0.1:`port`.
pub fn config(dir: &Path, port: u16) -> String {
    let dir = dir.display();
    let zone = ZONE.trim_end_matches('.');
    let file = zone_file_name();
    format!(
        "options {{
    directory \"{dir}\";
    pid-file \"{dir}/named.pid\";
    session-keyfile \"{dir}/session.key\";
    managed-keys-directory \"{dir}\";
    listen-on port {port} {{ 127.0.0.1; }};
    listen-on-v6 {{ none; }};
    recursion no;
    dnssec-validation no;
    notify no;
}};
controls {{ }};
key \"{UPDATE_KEY}\" {{ algorithm hmac-sha256; secret \"{UPDATE_SECRET}\"; }};
key \"{READER_KEY}\" {{ algorithm hmac-sha256; secret \"{READER_SECRET}\"; }};
zone \"{zone}\" {{
    type primary;
    file \"{file}\";
    allow-transfer {{ key {UPDATE_KEY}; key {READER_KEY}; }};
    update-policy {{ grant {UPDATE_KEY} zonesub ANY; }};
}};
"
    )
}
