//! A network namespace of the test's own, and the processes it runs there.
//!
//! The namespace has only `lo`, so nothing sent inside it can leave: any address may be put on
//! `lo` without reaching the host it names elsewhere.

use std::{
    fs::File,
    net::IpAddr,
    os::unix::process::CommandExt,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::atomic::{AtomicUsize, Ordering},
    time::{Duration, Instant},
};

/// A namespace named uniquely for this process and call; deleted on drop.
pub struct Netns {
    name: String,
}

impl Netns {
    pub fn create(tag: &str) -> Netns {
        static SEQ: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "kz-{tag}-{}-{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        );
        run(Command::new("ip").args(["netns", "add", &name]));
        let netns = Netns { name };
        netns.ip(&["link", "set", "lo", "up"]);
        netns
    }

    /// Puts `addr` on the namespace's `lo`, as a host address.
    pub fn add_address(&self, addr: IpAddr) {
        match addr {
            IpAddr::V4(a) => self.ip(&["addr", "add", &format!("{a}/32"), "dev", "lo"]),
            // nodad: usable at once, not after duplicate address detection.
            IpAddr::V6(a) => self.ip(&["addr", "add", &format!("{a}/128"), "dev", "lo", "nodad"]),
        }
    }

    fn ip(&self, args: &[&str]) {
        run(Command::new("ip").arg("-n").arg(&self.name).args(args));
    }

    /// `program` to be run inside the namespace.
    pub fn command(&self, program: &str) -> Command {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.name, program]);
        cmd
    }

    /// Runs `program` to its end inside the namespace; its stdout, or a panic with its stderr.
    pub fn output(&self, program: &str, args: &[&str]) -> String {
        let out = self
            .command(program)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| {
                panic!("cannot run {program} ({e}); scripts/install-test-deps.sh installs it")
            });
        assert!(
            out.status.success(),
            "{program} {args:?} failed ({}):\n{}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Starts `program` in the namespace, in a process group of its own (NSD forks), with
    /// stdout and stderr in `log`.
    pub fn spawn(&self, what: &str, program: &str, args: &[&str], log: &Path) -> Daemon {
        let file = File::create(log).expect("create log file");
        let child = self
            .command(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(file.try_clone().expect("log file"))
            .stderr(file)
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {program} ({e})"));
        Daemon {
            child,
            what: what.to_string(),
            log: log.to_path_buf(),
        }
    }

    /// Polls `server` with dig until it answers `zone SOA` authoritatively; panics with the
    /// server's log after a while.
    pub fn wait_for_soa(&self, server: IpAddr, zone: &str, daemon: &Daemon) {
        let at = format!("@{server}");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let out = self
                .command("dig")
                .args([&at, "+norec", "+time=1", "+tries=1", zone, "SOA"])
                .output()
                .expect("run dig (scripts/install-test-deps.sh installs it)");
            let out = String::from_utf8_lossy(&out.stdout);
            if out.contains("status: NOERROR") && out.contains(" aa") && out.contains("ANSWER: 1") {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{} never answered {zone} SOA at {server}; last reply:\n{out}\nlog:\n{}",
                daemon.what,
                daemon.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "delete", &self.name])
            .status();
    }
}

/// A server started in a namespace; its process group is killed on drop.
pub struct Daemon {
    child: Child,
    what: String,
    log: PathBuf,
}

impl Daemon {
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        // The group id is the child's pid (process_group(0)); `ip netns exec` execs in place.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .status();
        let _ = self.child.wait();
    }
}

fn run(cmd: &mut Command) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?} ({e}); iproute2 provides ip"));
    assert!(
        out.status.success(),
        "{cmd:?} failed ({}); the zone checks need root for network namespaces:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}
