//! NSD, Debian's authoritative server, as the reference: started on a loopback port with a zone
//! file, to compare kubezone's answer with NSD's for the same data.
//!
//! scripts/install-test-deps.sh installs it; a missing `nsd` is a failure that says so.

use std::{
    net::{SocketAddr, UdpSocket},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use hickory_proto::{
    op::{Message, ResponseCode},
    rr::RecordType,
};

use crate::harness::{PATIENCE, ask_at, query};

pub struct Nsd {
    child: Child,
    pub addr: SocketAddr,
    dir: tempfile::TempDir,
}

impl Nsd {
    /// Serves `zone` from `zone_file` (its text) and waits until it answers the zone's SOA.
    pub fn start(zone: &str, zone_file: &str) -> Nsd {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path();
        std::fs::write(path.join("zone"), zone_file).expect("write the zone file");
        // Free for UDP and TCP, below the ephemeral range, so no outgoing connection of another
        // test takes it before NSD binds it (a port only checked for UDP once was).
        let port = crate::secondary::free_port();
        let config = format!(
            "server:
	ip-address: 127.0.0.1
	port: {port}
	do-ip6: no
	username: \"\"
	chroot: \"\"
	zonesdir: \"{dir}\"
	database: \"\"
	pidfile: \"{dir}/nsd.pid\"
	zonelistfile: \"{dir}/zone.list\"
	xfrdfile: \"{dir}/xfrd.state\"
	xfrdir: \"{dir}\"
	cookie-secret-file: \"{dir}/cookiesecrets.txt\"
	logfile: \"{dir}/nsd.log\"
	server-count: 1
	verbosity: 0
	# Debian builds NSD with response rate limiting on.
	rrl-ratelimit: 0
	# Like kubezone: no NS or glue beside positive answers.
	minimal-responses: yes
	zonefiles-write: 0
remote-control:
	control-enable: no
zone:
	name: \"{zone}\"
	zonefile: \"zone\"
",
            dir = path.display()
        );
        std::fs::write(path.join("nsd.conf"), config).expect("write nsd.conf");
        let child = Command::new("nsd")
            .arg("-d")
            .arg("-c")
            .arg(path.join("nsd.conf"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot run nsd ({e}); run scripts/install-test-deps.sh to install it")
            });
        let mut nsd = Nsd {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            dir,
        };
        nsd.wait_until_it_answers(zone);
        nsd
    }

    fn wait_until_it_answers(&mut self, zone: &str) {
        let deadline = Instant::now() + PATIENCE;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("nsd exited with {status}:\n{}", self.log());
            }
            if try_ask(self.addr, zone)
                .is_some_and(|r| r.metadata.response_code == ResponseCode::NoError)
            {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("nsd did not answer for {zone}:\n{}", self.log());
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("nsd.log")).unwrap_or_default()
    }

    /// A query for `name`/`qtype` over UDP with EDNS (1232 bytes).
    pub fn ask(&self, name: &str, qtype: RecordType) -> Message {
        ask_at(self.addr, name, qtype)
    }
}

/// The SOA of `zone` from `addr` over UDP, or `None` when nothing answers yet.
fn try_ask(addr: SocketAddr, zone: &str) -> Option<Message> {
    let socket = UdpSocket::bind("127.0.0.1:0").ok()?;
    socket
        .set_read_timeout(Some(Duration::from_millis(200)))
        .ok()?;
    let bytes = query(zone, RecordType::SOA).to_vec().ok()?;
    socket.send_to(&bytes, addr).ok()?;
    let mut buf = vec![0; 65535];
    let (len, _) = socket.recv_from(&mut buf).ok()?;
    Message::from_vec(buf.get(..len)?).ok()
}

impl Drop for Nsd {
    fn drop(&mut self) {
        // SIGTERM, so that NSD stops the server and xfrd processes it forked; SIGKILL would
        // leave them running.
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + PATIENCE;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
