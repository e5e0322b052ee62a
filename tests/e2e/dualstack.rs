//! `listen` on both address families. `[::]:P` serves IPv4 and IPv6 clients, alone or beside
//! `0.0.0.0:P`, over UDP and TCP; explicit addresses of both families work side by side; and
//! every client is seen in its own family, never as an IPv4-mapped IPv6 address.

use std::{
    collections::BTreeSet,
    net::{IpAddr, SocketAddr},
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use hickory_proto::rr::RecordType;

use crate::{
    harness::{
        PATIENCE, Server, Setup, Transport, ZONE, addresses, http_get, query, query_at, reachable,
    },
    objects::ingress,
};

const NAME: &str = "www.example.com.";
const ADDRESS: &str = "192.0.2.10";

fn serve(listen: &[&str], extra: &str) -> Server {
    let web = ingress("web", "www.example.com", &[ADDRESS]);
    Server::start_with(Setup {
        zones: ZONE,
        extra,
        manifests: &[("web.yaml", &web)],
        listen: Some(listen),
        ..Setup::default()
    })
}

/// `dig` at `server` over UDP, or TCP with `+tcp`; its output, words separated by one space.
fn dig(server: SocketAddr, tcp: bool) -> String {
    let mut cmd = Command::new("dig");
    cmd.arg(format!("@{}", server.ip()))
        .args(["-p", &server.port().to_string()])
        .args(["+norec", "+time=2", "+tries=1"]);
    if tcp {
        cmd.arg("+tcp");
    }
    let out = cmd.args([NAME, "A"]).output().unwrap_or_else(|e| {
        panic!("cannot run dig ({e}); run scripts/install-test-deps.sh to install it")
    });
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The (client address, protocol) of every query-log line for [`NAME`].
fn clients_logged(log: &str) -> BTreeSet<(IpAddr, String)> {
    log.lines()
        .filter(|line| line.contains("kubezone::query") && line.contains(&format!("name={NAME}")))
        .filter_map(|line| {
            let field = |key: &str| {
                line.split(&format!(" {key}="))
                    .nth(1)?
                    .split_whitespace()
                    .next()
                    .map(|v| v.trim_matches('"').to_owned())
            };
            let src: SocketAddr = field("src")?.parse().ok()?;
            Some((src.ip(), field("protocol")?))
        })
        .collect()
}

/// Starts kubezone on `listen`, checks it bound `bound` (IPs, all on one port), then asks it
/// over UDP and TCP at 127.0.0.1 and ::1, with hickory and with dig.
fn serves_both_families(listen: &[&str], bound: &[&str]) {
    let s = serve(listen, "queryLog: true\n");
    let local = s.local_addrs();
    let port = local.first().expect("an address").port();
    let clients: Vec<SocketAddr> = ["127.0.0.1", "::1"]
        .iter()
        .map(|ip| SocketAddr::new(ip.parse().expect("ip"), port))
        .collect();
    for &client in &clients {
        for transport in [Transport::Udp, Transport::Tcp] {
            let reply = query_at(client, &query(NAME, RecordType::A), transport)
                .unwrap_or_else(|e| panic!("{transport:?} at {client}: {e}\n{}", s.log()));
            assert_eq!(addresses(&reply), [ADDRESS], "{transport:?} at {client}");
        }
        for tcp in [false, true] {
            let out = dig(client, tcp);
            assert!(out.contains("status: NOERROR"), "dig at {client}: {out}");
            assert!(
                out.contains(&format!("{NAME} 60 IN A {ADDRESS}")),
                "dig at {client}: {out}"
            );
        }
    }

    // The query log shows each client in its own family: what the access list and the rate
    // limiter see too.
    let expected: BTreeSet<(IpAddr, String)> = clients
        .iter()
        .flat_map(|c| ["udp", "tcp"].map(|p| (c.ip(), p.to_owned())))
        .collect();
    let deadline = Instant::now() + PATIENCE;
    while clients_logged(&s.log()).len() < expected.len() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(clients_logged(&s.log()), expected, "{}", s.log());
    assert!(!s.log().contains("::ffff:"), "{}", s.log());

    let ips: BTreeSet<String> = local.iter().map(|a| a.ip().to_string()).collect();
    let expected: BTreeSet<String> = bound.iter().map(|ip| (*ip).to_owned()).collect();
    assert_eq!(ips, expected, "bound {local:?}");
    assert_eq!(local.len(), bound.len(), "bound {local:?}");
    assert!(
        local.iter().all(|a| a.port() == port),
        "port 0 gives every address one port: {local:?}"
    );
}

#[test]
fn the_ipv6_wildcard_serves_both_families() {
    serves_both_families(&["[::]:0"], &["0.0.0.0", "::"]);
}

#[test]
fn both_wildcards_start_and_serve_both_families() {
    serves_both_families(&["0.0.0.0:0", "[::]:0"], &["0.0.0.0", "::"]);
}

/// A port now free on TCP and UDP, IPv4 and IPv6 (std's `[::]` sockets take both families).
fn free_port() -> u16 {
    loop {
        let tcp = std::net::TcpListener::bind("[::]:0").expect("bind [::]:0");
        let port = tcp.local_addr().expect("local address").port();
        if std::net::UdpSocket::bind(("::", port)).is_ok() {
            return port;
        }
    }
}

#[test]
fn both_wildcards_on_one_fixed_port_start_and_serve_both_families() {
    let port = free_port();
    let listen = [format!("0.0.0.0:{port}"), format!("[::]:{port}")];
    serves_both_families(&listen.each_ref().map(String::as_str), &["0.0.0.0", "::"]);
}

#[test]
fn a_loopback_address_of_each_family_serves_both() {
    serves_both_families(&["127.0.0.1:0", "[::1]:0"], &["127.0.0.1", "::1"]);
}

#[test]
fn http_on_the_ipv6_wildcard_serves_both_families() {
    let s = serve(&["127.0.0.1:0"], "http: {listen: \"[::]:0\"}\n");
    s.wait_for_log("serving /healthz", 2);
    let bound: Vec<SocketAddr> = s
        .log()
        .lines()
        .filter(|line| line.contains("serving /healthz"))
        .filter_map(|line| {
            line.split(" http=")
                .nth(1)?
                .split_whitespace()
                .next()?
                .parse()
                .ok()
        })
        .collect();
    let ips: BTreeSet<String> = bound.iter().map(|a| a.ip().to_string()).collect();
    assert_eq!(
        ips,
        BTreeSet::from(["0.0.0.0".into(), "::".into()]),
        "{bound:?}"
    );
    let port = bound.first().expect("an address").port();
    assert!(bound.iter().all(|a| a.port() == port), "{bound:?}");
    for addr in bound {
        assert_eq!(http_get(reachable(addr), "/healthz"), (200, "ok\n".into()));
    }
}

#[test]
fn an_ipv6_address_this_host_lacks_is_an_error_naming_it() {
    // 2001:db8::/32 is the documentation prefix: no interface here has it.
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("kubezone.yaml");
    std::fs::write(
        &config,
        "listen: [\"127.0.0.1:0\", \"[2001:db8::53]:0\"]\nzones:\n  - zone: example.com\n",
    )
    .expect("write config");
    let mut child = Command::new(env!("CARGO_BIN_EXE_kubezone"))
        .arg("--config")
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start kubezone");
    let deadline = Instant::now() + PATIENCE;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("kubezone started although it cannot listen on [2001:db8::53]");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().expect("stderr"), &mut stderr)
        .expect("read stderr");
    assert!(!status.success(), "{stderr}");
    assert!(
        stderr.contains("cannot listen on udp [2001:db8::53]:0"),
        "{stderr}"
    );
}
