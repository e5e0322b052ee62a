//! Knot as the primary: an `acl` with `action: update` and the key (docs/push.md).

use std::path::Path;

use super::{READER_KEY, READER_SECRET, UPDATE_KEY, UPDATE_SECRET, ZONE, zone_file_name};

pub const CONFIG: &str = "knot.conf";

/// `knot.conf`: everything in `dir`, listening on 127.0.0.1:`port`.
pub fn config(dir: &Path, port: u16) -> String {
    let dir = dir.display();
    let file = zone_file_name();
    format!(
        "server:
    listen: 127.0.0.1@{port}
    rundir: \"{dir}\"
log:
  - target: stderr
    any: info
database:
    storage: \"{dir}\"
key:
  - id: {UPDATE_KEY}
    algorithm: hmac-sha256
    secret: {UPDATE_SECRET}
  - id: {READER_KEY}
    algorithm: hmac-sha256
    secret: {READER_SECRET}
acl:
  - id: push
    key: {UPDATE_KEY}
    action: [transfer, update]
  - id: read
    key: {READER_KEY}
    action: transfer
zone:
  - domain: {ZONE}
    storage: \"{dir}\"
    file: \"{file}\"
    acl: [push, read]
"
    )
}
