//! BIND (`named`) as a secondary: its configuration, and what its log says about transfers.

use std::{fmt::Write, path::Path};

use super::{Spec, Transfer, TransferKind, bare};

/// The folder (in the server's) where BIND keeps the zones a catalog lists.
pub const CATALOG_MEMBERS: &str = "catalog-members";

/// `named.conf` for `spec`, everything in `dir`, listening on 127.0.0.1:`port`.
pub fn config(spec: &Spec, dir: &Path, port: u16) -> String {
    let dir = dir.display();
    let primary = spec.primary;
    let key = spec
        .tsig
        .as_ref()
        .map(|t| format!(" key \"{}\"", t.name))
        .unwrap_or_default();
    let primaries = format!("{} port {}{key};", primary.ip(), primary.port());
    // A NOTIFY signed with the key, or from the primary's address when there is none.
    let notifiers = match &spec.tsig {
        Some(tsig) => format!("key \"{}\";", tsig.name),
        None => format!("{};", primary.ip()),
    };
    let mut catalogs = String::new();
    if !spec.catalogs.is_empty() {
        catalogs.push_str("    catalog-zones {\n");
        for catalog in &spec.catalogs {
            let _ = writeln!(
                catalogs,
                "        zone \"{catalog}\" default-primaries {{ {primaries} }} \
                 in-memory no zone-directory \"{CATALOG_MEMBERS}\" min-update-interval 1;"
            );
        }
        catalogs.push_str("    };\n");
    }
    let mut config = format!(
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
    allow-notify {{ {notifiers} }};
    allow-transfer {{ 127.0.0.1; }};
{catalogs}}};
controls {{ }};
"
    );
    if let Some(tsig) = &spec.tsig {
        let _ = writeln!(
            config,
            "key \"{}\" {{ algorithm {}; secret \"{}\"; }};",
            tsig.name, tsig.algorithm, tsig.secret
        );
    }
    for zone in spec.zones.iter().chain(&spec.catalogs) {
        let _ = write!(
            config,
            "zone \"{zone}\" {{
    type secondary;
    file \"{file}.db\";
    primaries {{ {primaries} }};
}};
",
            file = bare(zone)
        );
    }
    config
}

/// The transfers of `zone`: at debug level 3 BIND logs `transfer of 'Z/IN' from A: got
/// incremental response` (or `got nonincremental response`), then `transfer of 'Z/IN' from
/// A: Transfer completed: ... (serial N)`.
pub fn transfers(log: &str, zone: &str) -> Vec<Transfer> {
    let tag = format!("transfer of '{}/IN' from ", bare(zone));
    let mut kind = None;
    let mut transfers = Vec::new();
    for line in log.lines() {
        let Some((_, event)) = line.split_once(&tag) else {
            continue;
        };
        if event.ends_with(": got incremental response") {
            kind = Some(TransferKind::Ixfr);
        } else if event.ends_with(": got nonincremental response") {
            kind = Some(TransferKind::Axfr);
        } else if event.contains(": Transfer completed: ")
            && let Some(kind) = kind.take()
            && let Some(serial) = event
                .rsplit_once("(serial ")
                .and_then(|(_, rest)| rest.strip_suffix(')')?.parse().ok())
        {
            transfers.push(Transfer { kind, serial });
        }
    }
    transfers
}

/// The lines where a refresh or transfer of `zone` failed: `zone Z/IN: refresh: failure
/// trying primary A ...`, `transfer of 'Z/IN' from A: failed while receiving responses: ...`,
/// or a `Transfer status:` other than success.
pub fn failures(log: &str, zone: &str) -> Vec<String> {
    let zone = bare(zone);
    let of_zone = [
        format!("zone {zone}/IN: "),
        format!("transfer of '{zone}/IN' "),
    ];
    log.lines()
        .filter(|l| of_zone.iter().any(|z| l.contains(z.as_str())))
        .filter(|l| {
            l.contains("failure")
                || l.contains("failed")
                || (l.contains("Transfer status: ") && !l.ends_with("Transfer status: success"))
        })
        .map(str::to_string)
        .collect()
}
