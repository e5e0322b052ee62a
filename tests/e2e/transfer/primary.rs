//! Knot as a reference primary: zones from zone files, transfers to loopback (signed with a
//! TSIG key when given), NOTIFY to the secondaries it is told about, and IXFR from the
//! differences between one zone file and the next (`zonefile-load: difference`, kept in the
//! journal).

use std::{
    fmt::Write,
    net::SocketAddr,
    path::Path,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use crate::{
    harness::PATIENCE,
    secondary::{Tsig, axfr, free_port, soa_serial},
};

pub struct Primary {
    child: Child,
    addr: SocketAddr,
    dir: tempfile::TempDir,
    tsig: Option<Tsig>,
    zones: Vec<String>,
    notify: Vec<SocketAddr>,
}

impl Primary {
    /// Serves each `(zone, zone file text)` and waits until it answers for all of them.
    pub fn start(zones: &[(&str, &str)], tsig: Option<&Tsig>) -> Primary {
        let dir = tempfile::tempdir().expect("tempdir");
        for (zone, text) in zones {
            std::fs::write(dir.path().join(file_name(zone)), text).expect("write zone file");
        }
        let log = std::fs::File::create(dir.path().join("knot.log")).expect("create log");
        let addr = SocketAddr::from(([127, 0, 0, 1], free_port()));
        let tsig = tsig.cloned();
        let names: Vec<String> = zones.iter().map(|(z, _)| z.to_string()).collect();
        let config = dir.path().join("knot.conf");
        std::fs::write(
            &config,
            config_text(addr, dir.path(), tsig.as_ref(), &names, &[]),
        )
        .expect("write knot.conf");
        let child = Command::new("knotd")
            .arg("-c")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot run knotd ({e}); run scripts/install-test-deps.sh to install it")
            });
        let mut primary = Primary {
            child,
            addr,
            dir,
            tsig,
            zones: names,
            notify: Vec::new(),
        };
        for (zone, text) in zones {
            primary.wait_for_serial(zone, serial_in(text));
        }
        primary
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Sends NOTIFY for every zone to `secondaries` from now on (a configuration reload).
    pub fn notify_to(&mut self, secondaries: &[SocketAddr]) {
        self.notify = secondaries.to_vec();
        let config = config_text(
            self.addr,
            self.dir.path(),
            self.tsig.as_ref(),
            &self.zones,
            &self.notify,
        );
        std::fs::write(self.dir.path().join("knot.conf"), config).expect("write knot.conf");
        self.knotc(&["reload"]);
    }

    /// Replaces `zone`'s zone file with `text` (with a higher serial) and reloads it; returns
    /// once it serves the new serial. Knot then sends NOTIFY and keeps the change for IXFR.
    pub fn update(&mut self, zone: &str, text: &str) {
        std::fs::write(self.dir.path().join(file_name(zone)), text).expect("write zone file");
        self.knotc(&["zone-reload", zone]);
        self.wait_for_serial(zone, serial_in(text));
    }

    /// Sends NOTIFY for `zone` again, to every secondary it knows.
    pub fn notify(&self, zone: &str) {
        self.knotc(&["zone-notify", zone]);
    }

    pub fn serial(&self, zone: &str) -> Option<u32> {
        soa_serial(self.addr, zone)
    }

    /// Everything it serves for `zone`, by AXFR (signed when it has a key): sorted zone-file
    /// lines, the SOA once.
    pub fn records(&self, zone: &str) -> Vec<String> {
        axfr(self.addr, zone, self.tsig.as_ref())
            .unwrap_or_else(|e| panic!("AXFR of {zone} from the primary: {e}\n{}", self.log()))
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("knot.log")).unwrap_or_default()
    }

    fn wait_for_serial(&mut self, zone: &str, serial: u32) {
        let deadline = Instant::now() + PATIENCE;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("the primary exited with {status}:\n{}", self.log());
            }
            if self.serial(zone) == Some(serial) {
                return;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        panic!(
            "the primary does not serve {zone} with serial {serial}:\n{}",
            self.log()
        );
    }

    /// `knotc` on the primary's control socket, blocking until the event is done.
    fn knotc(&self, args: &[&str]) {
        let out = Command::new("knotc")
            .arg("-s")
            .arg(self.dir.path().join("knot.sock"))
            .arg("-b")
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("cannot run knotc ({e})"));
        assert!(
            out.status.success(),
            "knotc {args:?} failed: {}{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            self.log()
        );
    }
}

impl Drop for Primary {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn file_name(zone: &str) -> String {
    format!("{}.zone", zone.trim_end_matches('.'))
}

/// The serial of the SOA in a zone file written as `@ SOA mname rname SERIAL ...` on one line.
fn serial_in(text: &str) -> u32 {
    text.lines()
        .find_map(|l| {
            let mut fields = l.split_whitespace().skip_while(|f| *f != "SOA");
            fields.nth(3)?.parse().ok()
        })
        .unwrap_or_else(|| panic!("no one-line SOA in the zone file:\n{text}"))
}

/// `knot.conf` for a primary at `addr` of `zones`, everything in `dir`, notifying `notify`.
fn config_text(
    addr: SocketAddr,
    dir: &Path,
    tsig: Option<&Tsig>,
    zones: &[String],
    notify: &[SocketAddr],
) -> String {
    let dir = dir.display();
    let mut config = format!(
        "server:
    listen: {ip}@{port}
    rundir: \"{dir}\"
log:
  - target: stderr
    any: info
database:
    storage: \"{dir}\"
control:
    listen: \"{dir}/knot.sock\"
",
        ip = addr.ip(),
        port = addr.port()
    );
    let key = match tsig {
        Some(tsig) => {
            let _ = write!(
                config,
                "key:\n  - id: {}\n    algorithm: {}\n    secret: {}\n",
                tsig.name, tsig.algorithm, tsig.secret
            );
            format!("\n    key: {}", tsig.name)
        }
        None => String::new(),
    };
    if !notify.is_empty() {
        config.push_str("remote:\n");
        for (i, addr) in notify.iter().enumerate() {
            let _ = write!(
                config,
                "  - id: secondary{i}\n    address: {}@{}{key}\n",
                addr.ip(),
                addr.port()
            );
        }
    }
    let notify = if notify.is_empty() {
        String::new()
    } else {
        let ids: Vec<String> = (0..notify.len()).map(|i| format!("secondary{i}")).collect();
        format!("\n    notify: [{}]", ids.join(", "))
    };
    let _ = write!(
        config,
        "acl:
  - id: transfer
    address: 127.0.0.0/8
    action: transfer{key}
template:
  - id: default
    file: \"{dir}/%s.zone\"
    acl: transfer{notify}
    # Each new zone file is compared with the zone, and the difference kept for IXFR.
    zonefile-load: difference
    journal-content: changes
    zonefile-sync: -1
zone:
"
    );
    for zone in zones {
        let _ = writeln!(config, "  - domain: {zone}");
    }
    config
}
