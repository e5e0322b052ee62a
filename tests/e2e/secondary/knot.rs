//! Knot as a secondary: its configuration, and what its log says about transfers.

use std::{fmt::Write, path::Path};

use super::{Spec, Transfer, TransferKind};

/// `knot.conf` for `spec`, everything in `dir`, listening on 127.0.0.1:`port`.
pub fn config(spec: &Spec, dir: &Path, port: u16) -> String {
    let dir = dir.display();
    let primary = spec.primary;
    let mut config = format!(
        "server:
    listen: 127.0.0.1@{port}
    rundir: \"{dir}\"
log:
  - target: stderr
    any: info
database:
    storage: \"{dir}\"
"
    );
    let key = match &spec.tsig {
        Some(tsig) => {
            let _ = write!(
                config,
                "key:
  - id: {}
    algorithm: {}
    secret: {}
",
                tsig.name, tsig.algorithm, tsig.secret
            );
            format!("\n    key: {}", tsig.name)
        }
        None => String::new(),
    };
    let _ = write!(
        config,
        "remote:
  - id: primary
    address: {ip}@{pport}{key}
acl:
  - id: notify-from-primary
    address: {ip}
    action: notify{key}
  - id: transfer-to-loopback
    address: 127.0.0.1
    action: transfer
template:
  # Every zone, and every member of a catalog.
  - id: default
    master: primary
    acl: [notify-from-primary, transfer-to-loopback]
    # The zone lives in the journal only, which keeps it across a restart.
    zonefile-sync: -1
    zonefile-load: none
    journal-content: all
zone:
",
        ip = primary.ip(),
        pport = primary.port(),
    );
    for zone in &spec.zones {
        let _ = writeln!(config, "  - domain: {zone}");
    }
    for catalog in &spec.catalogs {
        let _ = write!(
            config,
            "  - domain: {catalog}
    catalog-role: interpret
    catalog-template: default
"
        );
    }
    config
}

/// The transfers of `zone`: Knot logs `[Z.] AXFR, incoming, remote A, finished, ...` (or
/// `IXFR, ...`), then `[Z.] refresh, remote A, zone updated, ..., serial OLD -> NEW, ...`.
pub fn transfers(log: &str, zone: &str) -> Vec<Transfer> {
    let tag = format!("[{}.] ", zone.trim_end_matches('.'));
    let mut kind = None;
    let mut transfers = Vec::new();
    for line in log.lines() {
        let Some((_, event)) = line.split_once(&tag) else {
            continue;
        };
        if event.contains(", incoming, ") && event.contains(", finished") {
            if event.starts_with("AXFR") {
                kind = Some(TransferKind::Axfr);
            } else if event.starts_with("IXFR") {
                kind = Some(TransferKind::Ixfr);
            }
        } else if event.starts_with("refresh, ")
            && event.contains("zone updated")
            && let Some(kind) = kind.take()
            && let Some(serial) = event
                .split_once(" -> ")
                .and_then(|(_, rest)| rest.split(',').next()?.trim().parse().ok())
        {
            transfers.push(Transfer { kind, serial });
        }
    }
    transfers
}

/// The lines where a refresh or transfer of `zone` failed: `[Z.] refresh, remote A, failed
/// (...)`, `[Z.] AXFR, incoming, remote A, failed (...)`.
pub fn failures(log: &str, zone: &str) -> Vec<String> {
    let tag = format!("[{}.] ", zone.trim_end_matches('.'));
    log.lines()
        .filter(|l| {
            l.split_once(&tag).is_some_and(|(_, event)| {
                (event.starts_with("refresh,") || event.contains("XFR, incoming"))
                    && event.contains("failed")
            })
        })
        .map(str::to_string)
        .collect()
}
