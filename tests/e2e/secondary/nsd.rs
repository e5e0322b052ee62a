//! NSD as a secondary: its configuration, and what its log says about transfers.

use std::{collections::BTreeMap, fmt::Write, path::Path};

use super::{Spec, Transfer, TransferKind, bare};

/// `nsd.conf` for `spec`, everything in `dir`, listening on 127.0.0.1:`port`.
pub fn config(spec: &Spec, dir: &Path, port: u16) -> String {
    let dir = dir.display();
    let mut config = format!(
        "server:
	ip-address: 127.0.0.1
	port: {port}
	do-ip6: no
	username: \"\"
	chroot: \"\"
	zonesdir: \"{dir}\"
	# Keeps the transferred zones across a restart (NSD writes no zone files here).
	database: \"{dir}/nsd.db\"
	zonefiles-write: 0
	pidfile: \"{dir}/nsd.pid\"
	zonelistfile: \"{dir}/zone.list\"
	xfrdfile: \"{dir}/xfrd.state\"
	xfrdir: \"{dir}\"
	cookie-secret-file: \"{dir}/cookiesecrets.txt\"
	logfile: \"{dir}/{log}\"
	server-count: 1
	# 1 logs each committed transfer.
	verbosity: 1
	# Debian builds NSD with response rate limiting on.
	rrl-ratelimit: 0
remote-control:
	control-enable: no
",
        log = super::LOG
    );
    let key = match &spec.tsig {
        Some(tsig) => {
            let _ = write!(
                config,
                "key:\n\tname: \"{}\"\n\talgorithm: {}\n\tsecret: \"{}\"\n",
                tsig.name, tsig.algorithm, tsig.secret
            );
            tsig.name.as_str()
        }
        None => "NOKEY",
    };
    let primary = spec.primary;
    for zone in &spec.zones {
        let _ = write!(
            config,
            "zone:
	name: \"{zone}\"
	zonefile: \"{file}.zone\"
	request-xfr: {ip}@{port} {key}
	allow-notify: {ip} {key}
	provide-xfr: 127.0.0.1 NOKEY
	# Keeps each IXFR received (an AXFR drops them): how the harness tells them apart.
	store-ixfr: yes
",
            file = bare(zone),
            ip = primary.ip(),
            port = primary.port(),
        );
    }
    config
}

/// The transfers of `zone`, oldest first.
///
/// NSD 4.6 logs the serial of each transfer it commits, `xfrd: zone Z committed "received
/// update to serial N at TIME from PRIMARY[ TSIG verified with key K]"`, at any verbosity
/// from 1, but not whether it was an AXFR or an IXFR. It is configured to keep each IXFR it
/// receives (`store-ixfr`) and drops them all on an AXFR, so an IXFR from the serial before a
/// transfer gets an incremental answer (`incremental_from`) exactly when that transfer and
/// every later one were IXFRs. An IXFR once seen is kept in `seen` (by zone and position in
/// the log); one that a later AXFR hid before it was seen is reported as an AXFR.
pub fn transfers(
    log: &str,
    zone: &str,
    seen: &mut BTreeMap<(String, usize), TransferKind>,
    incremental_from: impl Fn(u32) -> bool,
) -> Vec<Transfer> {
    let serials = transfer_serials(log, zone);
    let mut transfers = Vec::new();
    for (i, &serial) in serials.iter().enumerate() {
        let key = (zone.to_string(), i);
        let kind = match seen.get(&key) {
            Some(&kind) => kind,
            None => match i.checked_sub(1).and_then(|p| serials.get(p)) {
                Some(&from) if incremental_from(from) => {
                    seen.insert(key, TransferKind::Ixfr);
                    TransferKind::Ixfr
                }
                _ => TransferKind::Axfr,
            },
        };
        transfers.push(Transfer { kind, serial });
    }
    transfers
}

/// The serial of each transfer of `zone` NSD committed, oldest first.
fn transfer_serials(log: &str, zone: &str) -> Vec<u32> {
    let marker = format!(
        "xfrd: zone {} committed \"received update to serial ",
        bare(zone)
    );
    log.lines()
        .filter_map(|l| l.split_once(&marker))
        .filter_map(|(_, rest)| rest.split_whitespace().next()?.parse().ok())
        .collect()
}

/// The lines where xfrd gave up on a query or transfer of `zone`: an error code from the
/// primary (`received error code SERVER NOT AUTHORITATIVE FOR ZONE`), a bad TSIG (`tsig error
/// (Bad Signature)`, `bad tsig signature`), a bad transfer.
pub fn failures(log: &str, zone: &str) -> Vec<String> {
    let prefix = format!("xfrd: zone {}", bare(zone));
    log.lines()
        .filter(|l| {
            // The zone's name ends there (another zone's may go on).
            l.split_once(&prefix)
                .is_some_and(|(_, rest)| rest.starts_with([' ', ',', ':']))
        })
        .filter(|l| {
            ["error", "tsig", "bad transfer", "failed"]
                .iter()
                .any(|n| l.contains(n))
        })
        .map(str::to_string)
        .collect()
}
