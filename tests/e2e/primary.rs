//! kubezone as the primary of real secondaries: NSD, Knot and BIND transfer its zone (AXFR),
//! are told of every new serial (NOTIFY) and take the changes incrementally (IXFR), also after
//! being down; clients outside `transfer.allow` are refused.

use std::{
    net::SocketAddr,
    time::{Duration, Instant},
};

use crate::{
    harness::{PATIENCE, Server, Setup, write_atomically},
    objects::ingress,
    secondary::{
        Secondary, Software, Spec, TransferKind, assert_same_records, axfr, free_port, soa_serial,
    },
};

const ZONE: &str = "example.com";

/// A failure bound: transfers on loopback take milliseconds.
const WAIT: Duration = Duration::from_secs(10);

/// `transfer.notify` for secondaries on loopback `ports`.
pub fn notify_list(ports: &[u16]) -> String {
    let notify: Vec<String> = ports.iter().map(|p| format!("\"127.0.0.1:{p}\"")).collect();
    notify.join(", ")
}

/// A secondary of each kind in `software`, on the matching port of `ports`, of `primary`, as
/// `spec` makes it from a secondary of nothing.
pub fn secondaries_at(
    primary: SocketAddr,
    software: &[Software],
    ports: &[u16],
    spec: impl Fn(Spec) -> Spec,
) -> Vec<Secondary> {
    software
        .iter()
        .zip(ports)
        .map(|(software, port)| {
            let mut spec = spec(Spec::new(primary, &[]));
            spec.port = Some(*port);
            Secondary::start(*software, spec)
        })
        .collect()
}

/// The zone section: example.com with a few static records, transferable from `allow`, and
/// NOTIFY sent to the secondaries on `ports`.
fn zones(allow: &str, ports: &[u16]) -> String {
    format!(
        "  - zone: example.com\n    glue: [192.0.2.53]\n    records: [\"@ MX 10 mail.example.com.\", \"mail A 192.0.2.25\", \"@ TXT \\\"v=spf1 mx -all\\\"\"]\n    transfer: {{allow: [{allow}], notify: [{}]}}\n",
        notify_list(ports)
    )
}

fn manifests() -> Vec<(&'static str, String)> {
    vec![
        (
            "web.yaml",
            ingress("web", "www.example.com", &["192.0.2.10", "2001:db8::10"]),
        ),
        (
            "shop.yaml",
            ingress("shop", "shop.example.com", &["192.0.2.20"]),
        ),
    ]
}

struct Lab {
    kubezone: Server,
    secondaries: Vec<Secondary>,
}

/// kubezone with the standard manifests, and one secondary of each kind, each told of changes.
fn lab() -> Lab {
    let ports: Vec<u16> = Software::ALL.iter().map(|_| free_port()).collect();
    let files = manifests();
    let refs: Vec<(&str, &str)> = files.iter().map(|(n, c)| (*n, c.as_str())).collect();
    let kubezone = Server::start_with(Setup {
        zones: &zones("127.0.0.0/8", &ports),
        extra: "http: {listen: \"127.0.0.1:0\"}\n",
        manifests: &refs,
        ..Setup::default()
    });
    let secondaries = secondaries_at(kubezone.addr, &Software::ALL, &ports, |spec| Spec {
        zones: vec![ZONE.into()],
        ..spec
    });
    Lab {
        kubezone,
        secondaries,
    }
}

fn serial_of(kubezone: &Server) -> u32 {
    soa_serial(kubezone.addr, ZONE).expect("kubezone answers the SOA")
}

/// Waits until kubezone serves a serial other than `old`.
fn next_serial(kubezone: &Server, old: u32) -> u32 {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let serial = serial_of(kubezone);
        if serial != old {
            return serial;
        }
        assert!(
            Instant::now() < deadline,
            "the serial stayed {old}:\n{}",
            kubezone.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Changes an address and adds a name, in a later second than anything before, so the new
/// serial is the file's modification time.
fn change(kubezone: &Server, round: u32) {
    std::thread::sleep(Duration::from_millis(1100));
    let manifests = kubezone.manifests();
    write_atomically(
        &manifests.join("web.yaml"),
        &ingress(
            "web",
            "www.example.com",
            &[&format!("192.0.2.{}", 100 + round), "2001:db8::10"],
        ),
    );
    write_atomically(
        &manifests.join(format!("new{round}.yaml")),
        &ingress(
            &format!("new{round}"),
            &format!("new{round}.example.com"),
            &["192.0.2.50"],
        ),
    );
}

fn assert_serves_what_kubezone_serves(kubezone: &Server, secondary: &Secondary) {
    let ours = axfr(kubezone.addr, ZONE, None).expect("AXFR from kubezone");
    assert_same_records(&ours, &secondary.records(ZONE), &secondary.name());
}

#[test]
fn nsd_knot_and_bind_serve_exactly_what_kubezone_serves_and_follow_its_changes() {
    let Lab {
        kubezone,
        mut secondaries,
    } = lab();
    let first = serial_of(&kubezone);
    for secondary in &mut secondaries {
        secondary.wait_for_serial(ZONE, first, WAIT);
        assert_serves_what_kubezone_serves(&kubezone, secondary);
    }

    change(&kubezone, 1);
    let second = next_serial(&kubezone, first);
    for secondary in &mut secondaries {
        secondary.wait_for_serial(ZONE, second, WAIT);
        assert_serves_what_kubezone_serves(&kubezone, secondary);
        let last = secondary.transfers(ZONE).last().copied();
        assert_eq!(
            last.map(|t| (t.kind, t.serial)),
            Some((TransferKind::Ixfr, second)),
            "{} took the change incrementally:\n{}",
            secondary.name(),
            secondary.log()
        );
    }

    // What an IXFR from the first serial carries: the new SOA, the old SOA and what went, the
    // new SOA and what came, the new SOA.
    let out = crate::dig::dig_at(
        kubezone.addr,
        &["+tcp", "+noall", "+answer", ZONE, &format!("IXFR={first}")],
    );
    let soas = out.lines().filter(|l| l.contains(" SOA ")).count();
    assert_eq!(soas, 4, "an incremental answer:\n{out}");
    assert!(out.contains("new1.example.com."), "{out}");
    assert!(out.contains("192.0.2.101"), "{out}");

    let (_, metrics) = kubezone.http_get("/metrics");
    for (line, at_least) in [
        (
            "kubezone_transfers_total{outcome=\"axfr\",zone=\"example.com.\"}",
            3.0,
        ),
        (
            "kubezone_transfers_total{outcome=\"ixfr\",zone=\"example.com.\"}",
            3.0,
        ),
        (
            "kubezone_notify_total{result=\"acknowledged\",zone=\"example.com.\"}",
            6.0,
        ),
        (
            "kubezone_zone_serial{zone=\"example.com.\"}",
            f64::from(second),
        ),
    ] {
        let value: f64 = metrics
            .lines()
            .find_map(|l| l.strip_prefix(line))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("no {line} in:\n{metrics}"));
        assert!(value >= at_least, "{line} {value}");
    }
}

#[test]
fn a_secondary_that_was_down_during_changes_catches_up() {
    let Lab {
        kubezone,
        mut secondaries,
    } = lab();
    let first = serial_of(&kubezone);
    for secondary in &mut secondaries {
        secondary.wait_for_serial(ZONE, first, WAIT);
        secondary.stop();
    }
    let mut serial = first;
    for round in 1..=3 {
        change(&kubezone, round);
        serial = next_serial(&kubezone, serial);
    }
    for secondary in &mut secondaries {
        secondary.restart();
    }
    // One more change: its NOTIFY sends them to kubezone, three versions behind.
    change(&kubezone, 4);
    serial = next_serial(&kubezone, serial);
    for secondary in &mut secondaries {
        secondary.wait_for_serial(ZONE, serial, WAIT);
        assert_serves_what_kubezone_serves(&kubezone, secondary);
    }
}

#[test]
fn clients_outside_transfer_allow_are_refused() {
    let files = manifests();
    let refs: Vec<(&str, &str)> = files.iter().map(|(n, c)| (*n, c.as_str())).collect();
    let kubezone = Server::start_with(Setup {
        zones: &zones("192.0.2.0/24", &[]),
        manifests: &refs,
        ..Setup::default()
    });
    let out = kdig(kubezone.addr, &[ZONE, "AXFR"]);
    assert!(out.contains("server replied with error 'REFUSED'"), "{out}");
    let out = kdig(kubezone.addr, &["+notcp", ZONE, "IXFR=1"]);
    assert!(out.contains("server replied with error 'REFUSED'"), "{out}");
    kubezone.wait_for_log("zone transfer refused: not in transfer.allow", 1);
    // A zone without `transfer` is refused as before.
    let out = kdig(kubezone.addr, &["other.example.org", "AXFR"]);
    assert!(out.contains("server replied with error 'REFUSED'"), "{out}");
}

/// `kdig` at `addr`, its output and errors together (it reports a refused transfer on stderr).
fn kdig(addr: std::net::SocketAddr, args: &[&str]) -> String {
    let out = std::process::Command::new("kdig")
        .arg(format!("@{}", addr.ip()))
        .args(["-p", &addr.port().to_string(), "+time=2", "+retry=0"])
        .args(args)
        .output()
        .expect("run kdig (scripts/install-test-deps.sh installs it)");
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn a_change_through_the_api_server_reaches_every_secondary_by_ixfr() {
    use crate::cluster::{
        cluster, kubernetes_section, load_balancer_service, load_balancer_status,
    };
    let cp = cluster();
    let ns = cp.fresh_namespace("xfr");
    cp.apply_yaml(&load_balancer_service(&ns, "web"));
    cp.apply_status_yaml(&load_balancer_status(&ns, "web", &["192.0.2.70"]));
    let ports: Vec<u16> = Software::ALL.iter().map(|_| free_port()).collect();
    let kubezone = Server::start_with(Setup {
        zones: &format!(
            "  - zone: example.com\n    glue: [192.0.2.53]\n    transfer: {{allow: [127.0.0.1], notify: [{}]}}\n",
            notify_list(&ports)
        ),
        extra: &kubernetes_section(cp, &[&ns]),
        ..Setup::default()
    });
    let mut secondaries = secondaries_at(kubezone.addr, &Software::ALL, &ports, |spec| Spec {
        zones: vec![ZONE.into()],
        ..spec
    });
    let first = serial_of(&kubezone);
    for secondary in &mut secondaries {
        secondary.wait_for_serial(ZONE, first, WAIT);
    }

    // The load balancer's new address: a status write through the API.
    std::thread::sleep(Duration::from_millis(1100));
    cp.apply_status_yaml(&load_balancer_status(&ns, "web", &["192.0.2.71"]));
    let second = next_serial(&kubezone, first);
    for secondary in &mut secondaries {
        secondary.wait_for_serial(ZONE, second, WAIT);
        assert_serves_what_kubezone_serves(&kubezone, secondary);
        assert!(
            secondary
                .records(ZONE)
                .iter()
                .any(|r| r.starts_with(&format!("web.{ns}.example.com. "))
                    && r.ends_with(" 192.0.2.71")),
            "{:?}",
            secondary.records(ZONE)
        );
        assert_eq!(
            secondary.transfers(ZONE).last().map(|t| (t.kind, t.serial)),
            Some((TransferKind::Ixfr, second)),
            "{}",
            secondary.name()
        );
    }
}

#[test]
fn knot_and_bind_take_every_zone_the_catalog_lists_and_new_ones_on_reload() {
    const CATALOG: &str = "catalog.kubezone.test";
    let ports: Vec<u16> = [Software::Knot, Software::Bind]
        .iter()
        .map(|_| free_port())
        .collect();
    let notify = notify_list(&ports);
    let config = |zones: &[&str]| {
        let mut text = String::new();
        for zone in zones {
            text.push_str(&format!(
                "  - zone: {zone}\n    glue: [192.0.2.53]\n    transfer: {{allow: [127.0.0.1], notify: [{notify}]}}\n"
            ));
        }
        text
    };
    let files = manifests();
    let refs: Vec<(&str, &str)> = files.iter().map(|(n, c)| (*n, c.as_str())).collect();
    let catalog = format!(
        "catalog: {{zone: {CATALOG}, transfer: {{allow: [127.0.0.1], notify: [{notify}]}}}}\n"
    );
    let kubezone = Server::start_with(Setup {
        zones: &config(&["example.com"]),
        extra: &catalog,
        manifests: &refs,
        ..Setup::default()
    });
    let mut consumers = secondaries_at(
        kubezone.addr,
        &[Software::Knot, Software::Bind],
        &ports,
        |spec| spec.with_catalogs(&[CATALOG]),
    );
    let serial = serial_of(&kubezone);
    for consumer in &mut consumers {
        consumer.wait_for_serial(ZONE, serial, WAIT);
        assert_serves_what_kubezone_serves(&kubezone, consumer);
    }

    // A second zone in the config: the catalog lists it, and the consumers take it.
    let path = kubezone.dir.path().join("kubezone.yaml");
    let text = std::fs::read_to_string(&path).expect("config");
    std::thread::sleep(Duration::from_millis(1100));
    let more = config(&["example.com", "example.org"]);
    write_atomically(&path, &text.replace(&config(&["example.com"]), &more));
    kubezone.wait_for_log("reloaded: serving the new config", 1);
    let org = soa_serial(kubezone.addr, "example.org").expect("example.org served");
    let listed = axfr(kubezone.addr, CATALOG, None).expect("the catalog by AXFR");
    assert!(
        listed.iter().any(|r| r.ends_with(" PTR example.org.")),
        "{listed:#?}\n{}",
        kubezone.log()
    );
    for consumer in &mut consumers {
        consumer.wait_for_serial("example.org", org, WAIT);
    }
}

/// DNSEndpoints giving `names` A records, in files of 10,000 endpoints.
pub fn many_names(names: usize) -> Vec<(String, String)> {
    (0..names.div_ceil(10_000))
        .map(|file| {
            let mut text = format!(
                "apiVersion: externaldns.k8s.io/v1alpha1\nkind: DNSEndpoint\nmetadata: {{name: bulk{file}, namespace: bulk}}\nspec:\n  endpoints:\n"
            );
            for i in (file * 10_000)..((file + 1) * 10_000).min(names) {
                text.push_str(&format!(
                    "  - {{dnsName: host{i}.bulk.example.com, recordType: A, targets: [\"10.{}.{}.{}\"]}}\n",
                    i >> 16,
                    (i >> 8) & 0xFF,
                    i & 0xFF
                ));
            }
            (format!("bulk{file}.yaml"), text)
        })
        .collect()
}

#[test]
fn a_zone_of_100000_names_transfers_while_every_udp_query_is_answered() {
    const NAMES: usize = 100_000;
    let files = many_names(NAMES);
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(n, c)| (n.as_str(), c.as_str()))
        .collect();
    let kubezone = Server::spawn(Setup {
        zones: "  - zone: example.com\n    glue: [192.0.2.53]\n    transfer: {allow: [127.0.0.1]}\n",
        manifests: &refs,
        ..Setup::default()
    });
    kubezone.wait_until_ready_within(Duration::from_secs(120));
    let queries = kubezone.dir.path().join("queries.txt");
    let lines: String = (0..1000)
        .map(|i| format!("host{i}.bulk.example.com A\n"))
        .collect();
    std::fs::write(&queries, lines).expect("write the query file");
    let mut dnsperf = std::process::Command::new("dnsperf")
        .args(["-s", "127.0.0.1", "-p", &kubezone.addr.port().to_string()])
        .arg("-d")
        .arg(&queries)
        .args(["-l", "8", "-Q", "2000", "-t", "2"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("run dnsperf (scripts/install-test-deps.sh installs it)");
    std::thread::sleep(Duration::from_secs(1));
    let started = Instant::now();
    let out = crate::dig::dig_at(kubezone.addr, &["+tcp", "+noall", "+stats", ZONE, "AXFR"]);
    let took = started.elapsed();
    assert!(
        dnsperf.try_wait().expect("dnsperf's state").is_none(),
        "dnsperf ended before the transfer did, so the count below would not cover it"
    );
    let dnsperf = dnsperf.wait_with_output().expect("dnsperf's output");
    let size = out
        .lines()
        .find_map(|l| l.strip_prefix(";; XFR size: "))
        .unwrap_or_else(|| panic!("no XFR size in:\n{out}"));
    println!(
        "FIGURE AXFR of {NAMES} names from kubezone (debug build) while dnsperf ran at 2,000 q/s: {size}, {:.2} s",
        took.as_secs_f64()
    );
    let records: usize = size
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .expect("a record count");
    // The names, the apex's SOA (twice) and NS, the nameserver host's A.
    assert_eq!(records, NAMES + 4, "{size}");
    let text = String::from_utf8_lossy(&dnsperf.stdout);
    let field = |label: &str| -> u64 {
        text.lines()
            .find_map(|l| l.trim().strip_prefix(label))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {label:?} in dnsperf's output:\n{text}"))
    };
    println!(
        "FIGURE dnsperf during the transfer: sent {}, lost {}",
        field("Queries sent:"),
        field("Queries lost:")
    );
    assert!(field("Queries sent:") > 10_000, "{text}");
    assert_eq!(field("Queries lost:"), 0, "{text}");
    assert!(
        took < Duration::from_secs(7),
        "the transfer ended within dnsperf's run ({took:?}), so every query above ran beside it"
    );
}

const KEY_SECRET: &str = "ytgbPL4Nc61BdQix0OsEpV2tMsqYpk/sMyWaQYxknhg=";

#[test]
fn with_tsig_every_secondary_transfers_signed_and_takes_signed_notify() {
    let key = crate::secondary::Tsig::new("transfer-key", "hmac-sha256", KEY_SECRET);
    let ports: Vec<u16> = Software::ALL.iter().map(|_| free_port()).collect();
    let files = manifests();
    let refs: Vec<(&str, &str)> = files.iter().map(|(n, c)| (*n, c.as_str())).collect();
    let kubezone = Server::start_with(Setup {
        zones: &format!(
            "  - zone: example.com\n    glue: [192.0.2.53]\n    transfer: {{allow: [127.0.0.0/8], keys: [transfer-key], notify: [{}]}}\n",
            notify_list(&ports)
        ),
        extra: &format!(
            "tsigKeys: [{{name: transfer-key, algorithm: hmac-sha256, secret: \"{KEY_SECRET}\"}}]\n"
        ),
        manifests: &refs,
        ..Setup::default()
    });
    let mut secondaries = secondaries_at(kubezone.addr, &Software::ALL, &ports, |spec| {
        Spec {
            zones: vec![ZONE.into()],
            ..spec
        }
        .with_tsig(&key)
    });
    let first = serial_of(&kubezone);
    for secondary in &mut secondaries {
        secondary.wait_for_serial(ZONE, first, WAIT);
    }
    change(&kubezone, 1);
    let second = next_serial(&kubezone, first);
    let ours = axfr(kubezone.addr, ZONE, Some(&key)).expect("a signed AXFR");
    for secondary in &mut secondaries {
        // The secondaries accept NOTIFY only signed with the key (the harness's config).
        secondary.wait_for_serial(ZONE, second, WAIT);
        assert_same_records(&ours, &secondary.records(ZONE), &secondary.name());
        assert_eq!(
            secondary.transfers(ZONE).last().map(|t| t.kind),
            Some(TransferKind::Ixfr),
            "{}",
            secondary.log()
        );
    }
}

#[test]
fn a_transfer_without_the_key_or_with_a_wrong_one_is_refused_with_notauth() {
    let files = manifests();
    let refs: Vec<(&str, &str)> = files.iter().map(|(n, c)| (*n, c.as_str())).collect();
    let kubezone = Server::start_with(Setup {
        zones: "  - zone: example.com\n    glue: [192.0.2.53]\n    transfer: {allow: [127.0.0.1], keys: [transfer-key]}\n",
        extra: &format!(
            "http: {{listen: \"127.0.0.1:0\"}}\ntsigKeys:\n  - {{name: transfer-key, secret: \"{KEY_SECRET}\"}}\n  - {{name: other-key, secret: \"{KEY_SECRET}\"}}\n"
        ),
        manifests: &refs,
        ..Setup::default()
    });
    let wrong = "hmac-sha256:transfer-key:sbgJ8zzGEbyBTxehcU6uDH6DQP032VTY6ApLEPGkirY=";
    let unknown = format!("hmac-sha256:nobody:{KEY_SECRET}");
    let other = format!("hmac-sha256:other-key:{KEY_SECRET}");
    let right = format!("hmac-sha256:transfer-key:{KEY_SECRET}");
    for (args, says) in [
        (vec![ZONE, "AXFR"], "NOTAUTH"),
        (vec!["-y", wrong, ZONE, "AXFR"], "BADSIG"),
        (vec!["-y", &unknown, ZONE, "AXFR"], "BADKEY"),
        (vec!["-y", &other, ZONE, "AXFR"], "NOTAUTH"),
    ] {
        let out = kdig(kubezone.addr, &args);
        assert!(out.contains(says), "{args:?} should get {says}:\n{out}");
        assert!(
            !out.contains("\tSOA\t"),
            "{args:?} transferred records:\n{out}"
        );
    }
    let out = kdig(kubezone.addr, &["-y", &right, ZONE, "AXFR"]);
    assert!(
        out.contains("\tSOA\t") && out.contains("www.example.com."),
        "{out}"
    );
    kubezone.wait_for_log(
        "zone transfer refused: unsigned, and transfer.keys requires a key",
        1,
    );
    // Once per client and zone in the log; every refusal in the metric.
    let (_, metrics) = kubezone.http_get("/metrics");
    assert!(
        metrics.contains("kubezone_transfers_total{outcome=\"refused\",zone=\"example.com.\"} 4"),
        "{metrics}"
    );
}
