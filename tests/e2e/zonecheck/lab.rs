//! The lab: a root and a `com.` (NSD) delegating `example.com.` to two nameservers, inside a
//! namespace of its own. The two nameservers are either two kubezone replicas or two NSDs
//! serving what kubezone serves (the reference); both labs use the same names and addresses, so
//! the checkers' messages compare word for word.

use std::{
    net::{IpAddr, Ipv4Addr, Ipv6Addr},
    path::{Path, PathBuf},
    time::Duration,
};

use super::netns::{Daemon, Netns};

/// A nameserver of the lab: its name and its two addresses.
pub struct Host {
    pub name: &'static str,
    pub v4: Ipv4Addr,
    pub v6: Ipv6Addr,
}

impl Host {
    pub fn addrs(&self) -> [IpAddr; 2] {
        [IpAddr::V4(self.v4), IpAddr::V6(self.v6)]
    }
}

// Addresses outside every IANA special-purpose range (RFC 6890), so that Zonemaster's and
// DNSViz's address checks judge the zone, not the lab; each server in a /24 and /48 of its own.
// They exist only on the namespace's `lo`.
pub const ROOT: Host = Host {
    name: "a.root-servers.net.",
    v4: Ipv4Addr::new(11, 0, 1, 53),
    v6: Ipv6Addr::new(0x2a11, 0, 1, 0, 0, 0, 0, 0x53),
};
pub const COM: Host = Host {
    name: "a.gtld-servers.net.",
    v4: Ipv4Addr::new(11, 0, 2, 53),
    v6: Ipv6Addr::new(0x2a11, 0, 2, 0, 0, 0, 0, 0x53),
};
pub const DNS1: Host = Host {
    name: "dns1.kube-system.example.com.",
    v4: Ipv4Addr::new(11, 0, 3, 53),
    v6: Ipv6Addr::new(0x2a11, 0, 3, 0, 0, 0, 0, 0x53),
};
pub const DNS2: Host = Host {
    name: "dns2.kube-system.example.com.",
    v4: Ipv4Addr::new(11, 0, 4, 53),
    v6: Ipv6Addr::new(0x2a11, 0, 4, 0, 0, 0, 0, 0x53),
};

pub const ZONE: &str = "example.com.";

/// The reference's own SOA timers (refresh retry expire minimum): values Zonemaster's default
/// profile accepts (refresh ≥ 4 h, retry ≥ 1 h and below refresh, expire ≥ 7 d, minimum 300 s
/// to 1 d). Everything else in the reference's zone is taken from kubezone's answers.
const REFERENCE_TIMERS: &str = "14400 3600 1209600 300";

pub struct Lab {
    // Declared first: dropped (killed) before the namespace is deleted.
    daemons: Vec<Daemon>,
    pub netns: Netns,
    pub dir: tempfile::TempDir,
}

impl Lab {
    /// The namespace with every lab address, and the root and `com.` servers answering.
    pub fn start(tag: &str) -> Lab {
        let netns = Netns::create(tag);
        for host in [&ROOT, &COM, &DNS1, &DNS2] {
            for addr in host.addrs() {
                netns.add_address(addr);
            }
        }
        let mut dir = tempfile::tempdir().expect("tempdir");
        // Configs, zone files, logs and the checkers' raw output, for a closer look.
        if std::env::var_os("KUBEZONE_ZONECHECK_KEEP").is_some() {
            dir.disable_cleanup(true);
            println!(
                "zone checks: the {tag} lab's folder is {}",
                dir.path().display()
            );
        }
        let mut lab = Lab {
            daemons: Vec::new(),
            netns,
            dir,
        };
        lab.nsd("root", &ROOT, ".", &root_zone(), "");
        lab.nsd("com", &COM, "com.", &com_zone(), "");
        std::fs::write(lab.hints(), hints()).expect("write hints");
        lab
    }

    /// The root hints file, pointing at the lab's root.
    pub fn hints(&self) -> PathBuf {
        self.dir.path().join("root.hints")
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Two kubezone replicas serving a copy of `config/examples`, the second started 2 s after
    /// the first, as a rolling start would.
    pub fn start_kubezone_replicas(&mut self) {
        let manifests = self.path("manifests");
        std::fs::create_dir(&manifests).expect("mkdir manifests");
        for entry in std::fs::read_dir(examples()).expect("config/examples") {
            let path = entry.expect("entry").path();
            if path.extension().is_some_and(|e| e == "yaml") {
                std::fs::copy(&path, manifests.join(path.file_name().expect("name")))
                    .expect("copy example");
            }
        }
        for (i, host) in [&DNS1, &DNS2].into_iter().enumerate() {
            if i > 0 {
                std::thread::sleep(Duration::from_secs(2));
            }
            let config = self.path(&format!("kubezone-{}.yaml", i + 1));
            std::fs::write(&config, kubezone_config(host)).expect("write config");
            let log = self.path(&format!("kubezone-{}.log", i + 1));
            let daemon = self.netns.spawn(
                &format!("kubezone {}", host.name),
                env!("CARGO_BIN_EXE_kubezone"),
                &["--config", config.to_str().expect("utf-8 path")],
                &log,
            );
            self.wait(daemon, host, ZONE);
        }
    }

    /// Two NSDs serving `zone` (a zone file's text), one per nameserver address pair.
    pub fn start_nsd_reference(&mut self, zone: &str) {
        for (i, host) in [&DNS1, &DNS2].into_iter().enumerate() {
            // NSID: a checker that asks learns which of the two answered.
            let nsid = format!("\tnsid: \"ascii_ns{}\"\n", i + 1);
            self.nsd(&format!("ns{}", i + 1), host, ZONE, zone, &nsid);
        }
    }

    fn nsd(&mut self, tag: &str, host: &Host, origin: &str, zone: &str, extra: &str) {
        let dir = self.path(tag);
        std::fs::create_dir(&dir).expect("mkdir");
        std::fs::write(dir.join("zone"), zone).expect("write zone");
        let conf = dir.join("nsd.conf");
        std::fs::write(&conf, nsd_config(&dir, host, origin, extra)).expect("write nsd.conf");
        let daemon = self.netns.spawn(
            &format!("NSD {tag}"),
            "nsd",
            &["-d", "-c", conf.to_str().expect("utf-8 path")],
            &dir.join("stdout.log"),
        );
        self.wait(daemon, host, origin);
    }

    fn wait(&mut self, daemon: Daemon, host: &Host, zone: &str) {
        for addr in host.addrs() {
            self.netns.wait_for_soa(addr, zone, &daemon);
        }
        self.daemons.push(daemon);
    }

    /// `dig` inside the lab: the answer (and additional) records to each query, as zone-file
    /// lines with single spaces.
    pub fn dig(&self, server: IpAddr, options: &[&str], queries: &[(&str, &str)]) -> Vec<String> {
        let at = format!("@{server}");
        let mut args = vec![at.as_str(), "+norec", "+time=2", "+tries=2", "+noall"];
        args.extend_from_slice(options);
        for (name, qtype) in queries {
            args.push(name);
            args.push(qtype);
        }
        self.netns
            .output("dig", &args)
            .lines()
            .filter(|l| !l.is_empty() && !l.starts_with(';'))
            .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect()
    }
}

/// The folder of example objects.
pub fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/examples")
}

fn kubezone_config(host: &Host) -> String {
    format!(
        "# The example objects, one zone, answering on this replica's two addresses.\n\
         listen: [\"{}:53\", \"[{}]:53\"]\n\
         manifests: [manifests]\n\
         zones:\n\
         \x20 - zone: example.com\n\
         \x20   apex: dns1.kube-system\n\
         \x20   glue: [\"{}\", \"{}\"]\n\
         \x20   secondary: dns2.kube-system\n\
         \x20   secondaryGlue: [\"{}\", \"{}\"]\n\
         \x20   records: {}\n",
        host.v4,
        host.v6,
        DNS1.v4,
        DNS1.v6,
        DNS2.v4,
        DNS2.v6,
        example_records()
    )
}

/// The static records `config/kubezone.yaml` gives `example.com`, as a YAML flow list.
fn example_records() -> String {
    let path = examples().join("../kubezone.yaml");
    let text = std::fs::read_to_string(&path).expect("config/kubezone.yaml");
    let config: serde_norway::Value = serde_norway::from_str(&text).expect("YAML");
    let records = config["zones"][0]["records"]
        .as_sequence()
        .expect("config/kubezone.yaml gives example.com static records");
    let quoted: Vec<String> = records
        .iter()
        .map(|r| serde_json::to_string(r.as_str().expect("a string")).expect("JSON"))
        .collect();
    format!("[{}]", quoted.join(", "))
}

fn nsd_config(dir: &Path, host: &Host, origin: &str, extra: &str) -> String {
    let dir = dir.display();
    format!(
        "server:\n\
         \tip-address: {v4}\n\
         \tip-address: {v6}\n\
         \tport: 53\n\
         \tusername: \"\"\n\
         \tchroot: \"\"\n\
         \tzonesdir: \"{dir}\"\n\
         \tdatabase: \"\"\n\
         \tpidfile: \"{dir}/nsd.pid\"\n\
         \tzonelistfile: \"{dir}/zone.list\"\n\
         \txfrdfile: \"{dir}/xfrd.state\"\n\
         \txfrdir: \"{dir}\"\n\
         \tcookie-secret-file: \"{dir}/cookiesecrets.txt\"\n\
         \tlogfile: \"{dir}/nsd.log\"\n\
         \tserver-count: 1\n\
         \tzonefiles-write: 0\n\
         \t# Debian builds NSD with response rate limiting on; the checkers' bursts must not\n\
         \t# meet it.\n\
         \trrl-ratelimit: 0\n\
         {extra}\
         remote-control:\n\
         \tcontrol-enable: no\n\
         zone:\n\
         \tname: \"{origin}\"\n\
         \tzonefile: \"zone\"\n",
        v4 = host.v4,
        v6 = host.v6,
    )
}

fn address_records(host: &Host, ttl: u32) -> String {
    format!(
        "{name} {ttl} IN A {v4}\n{name} {ttl} IN AAAA {v6}\n",
        name = host.name,
        v4 = host.v4,
        v6 = host.v6
    )
}

/// The root: itself, and `com.` delegated with glue. The servers' names under `net.` are
/// plain data of the root zone (there is no `net.` in the lab).
fn root_zone() -> String {
    format!(
        ". 86400 IN SOA {root} nstld.verisign-grs.com. 1 1800 900 604800 86400\n\
         . 518400 IN NS {root}\n\
         {root_addrs}\
         com. 172800 IN NS {com}\n\
         {com_addrs}",
        root = ROOT.name,
        com = COM.name,
        root_addrs = address_records(&ROOT, 518400),
        com_addrs = address_records(&COM, 172800),
    )
}

/// `com.`: `example.com.` delegated to the two nameservers, with glue, as a registry does.
fn com_zone() -> String {
    format!(
        "com. 900 IN SOA {com} nstld.verisign-grs.com. 1 1800 900 604800 86400\n\
         com. 172800 IN NS {com}\n\
         example.com. 172800 IN NS {dns1}\n\
         example.com. 172800 IN NS {dns2}\n\
         {dns1_addrs}{dns2_addrs}",
        com = COM.name,
        dns1 = DNS1.name,
        dns2 = DNS2.name,
        dns1_addrs = address_records(&DNS1, 172800),
        dns2_addrs = address_records(&DNS2, 172800),
    )
}

fn hints() -> String {
    format!(
        ". 3600000 IN NS {root}\n{addrs}",
        root = ROOT.name,
        addrs = address_records(&ROOT, 3600000)
    )
}

/// The names `config/examples/README.md` lists for `example.com.` (its first table), except the
/// nameserver hosts, whose records the reference writes itself (as it does the apex's SOA and
/// NS; the apex's other records are asked for like any name's).
pub fn example_names() -> Vec<String> {
    let readme = std::fs::read_to_string(examples().join("README.md")).expect("examples README");
    let section = readme
        .split("### `example.com.`")
        .nth(1)
        .and_then(|rest| rest.split("\n### ").next())
        .expect("the example.com. section of config/examples/README.md");
    let mut names: Vec<String> = section
        .lines()
        .filter_map(|line| line.strip_prefix("| `"))
        .filter_map(|rest| rest.split('`').next())
        .filter(|name| !name.ends_with(".kube-system.example.com"))
        .map(|name| format!("{name}."))
        .collect();
    names.sort();
    names.dedup();
    assert!(
        names.len() >= 10,
        "too few names read from config/examples/README.md: {names:?}"
    );
    names
}

/// The record types translation can produce for a name.
pub const TYPES: [&str; 7] = ["A", "AAAA", "CNAME", "TXT", "MX", "SRV", "CAA"];

/// Every record `server` answers for `names` and [`TYPES`] (only records owned by the name
/// asked, of the type asked), sorted.
pub fn records_of(lab: &Lab, server: IpAddr, names: &[String]) -> Vec<String> {
    let queries: Vec<(&str, &str)> = names
        .iter()
        .flat_map(|n| TYPES.iter().map(move |t| (n.as_str(), *t)))
        .collect();
    let mut records: Vec<String> = lab
        .dig(server, &["+answer"], &queries)
        .into_iter()
        .filter(|line| {
            let f: Vec<&str> = line.split(' ').collect();
            f.len() > 4
                && queries
                    .iter()
                    .any(|(n, t)| f[0].eq_ignore_ascii_case(n) && f[3] == *t)
        })
        .collect();
    records.sort();
    records.dedup();
    records
}

/// The reference's zone file: kubezone's SOA names with the reference's own serial and timers,
/// kubezone's NS set and glue, and every record kubezone serves for the example names.
pub fn reference_zone(lab: &Lab, names: &[String]) -> String {
    let server = IpAddr::V4(DNS1.v4);
    let soa = lab.dig(server, &["+answer"], &[(ZONE, "SOA")]);
    let soa: Vec<&str> = soa
        .first()
        .map(|l| l.split(' ').collect())
        .unwrap_or_default();
    assert!(
        soa.len() == 11 && soa[3] == "SOA",
        "kubezone's SOA: {soa:?}"
    );
    let (ttl, mname, rname) = (soa[1], soa[4], soa[5]);
    let mut zone = format!("{ZONE} {ttl} IN SOA {mname} {rname} 2025010100 {REFERENCE_TIMERS}\n");
    for line in lab.dig(server, &["+answer", "+additional"], &[(ZONE, "NS")]) {
        zone.push_str(&line);
        zone.push('\n');
    }
    for line in records_of(lab, server, names) {
        zone.push_str(&line);
        zone.push('\n');
    }
    zone
}
