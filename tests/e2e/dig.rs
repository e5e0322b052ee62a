//! The same answers as a user sees them through Debian's `dig` and `kdig`.
//!
//! The README's test command installs both (scripts/install-test-deps.sh); a missing tool is a
//! failure that says so, never a silent skip.

use std::process::Command;

use crate::{
    harness::{Server, ZONE},
    objects::{as_refs, ingress, standard},
};

/// Runs `dig` or `kdig` against `server` without recursion; its output, one space between
/// words.
pub fn tool(name: &str, server: &Server, args: &[&str]) -> String {
    tool_at(name, server.addr, args)
}

/// `dig` at `addr`, as [`tool`] runs it.
pub fn dig_at(addr: std::net::SocketAddr, args: &[&str]) -> String {
    tool_at("dig", addr, args)
}

fn tool_at(name: &str, addr: std::net::SocketAddr, args: &[&str]) -> String {
    let port = addr.port().to_string();
    let at = format!("@{}", addr.ip());
    let mut cmd = Command::new(name);
    match name {
        "dig" => cmd.args([at.as_str(), "-p", &port, "+norec", "+time=2", "+tries=1"]),
        _ => cmd.args([at.as_str(), "-p", &port, "+norec", "+time=2", "+retry=0"]),
    };
    let out = cmd.args(args).output().unwrap_or_else(|e| {
        panic!("cannot run {name} ({e}); run scripts/install-test-deps.sh to install it")
    });
    // dig aligns columns with tabs or spaces depending on name length: compare words.
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect::<Vec<_>>()
        .join("\n")
}

fn server() -> Server {
    let mut files = standard();
    let many: Vec<String> = (1..=100).map(|i| format!("10.1.0.{i}")).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    files.push(("big.yaml", ingress("big", "big.example.com", &many)));
    Server::start(ZONE, &as_refs(&files))
}

#[test]
fn dig_sees_authoritative_answers_nodata_and_nxdomain() {
    let s = server();
    let out = tool("dig", &s, &["www.example.com", "A"]);
    assert!(out.contains("status: NOERROR"), "{out}");
    assert!(out.contains("flags: qr aa"), "{out}");
    assert!(out.contains("www.example.com. 60 IN A 10.0.0.1"), "{out}");
    let out = tool("dig", &s, &["www.example.com", "AAAA"]);
    assert!(
        out.contains("status: NOERROR") && out.contains("ANSWER: 0"),
        "{out}"
    );
    assert!(out.contains("SOA dns1.kube-system.example.com."), "{out}");
    let out = tool("dig", &s, &["nope.example.com", "A"]);
    assert!(out.contains("status: NXDOMAIN"), "{out}");
    let out = tool("dig", &s, &["example.com", "NS"]);
    assert!(
        out.contains("dns1.kube-system.example.com. 60 IN A 192.0.2.53"),
        "{out}"
    );
}

#[test]
fn dig_retries_a_truncated_answer_over_tcp_and_gets_it_all() {
    let s = server();
    let out = tool("dig", &s, &["+bufsize=512", "big.example.com", "A"]);
    assert!(out.contains("Truncated, retrying in TCP mode"), "{out}");
    assert!(out.contains("ANSWER: 100"), "{out}");
    let out = tool("dig", &s, &["+tcp", "big.example.com", "A"]);
    assert!(out.contains("ANSWER: 100"), "{out}");
}

#[test]
fn kdig_agrees() {
    let s = server();
    let out = tool("kdig", &s, &["www.example.com", "A"]);
    assert!(out.contains("status: NOERROR"), "{out}");
    assert!(out.contains("10.0.0.2"), "{out}");
    let out = tool("kdig", &s, &["+tcp", "a.b.w.example.com", "A"]);
    assert!(out.contains("a.b.w.example.com."), "{out}");
    assert!(out.contains("10.0.2.1"), "{out}");
    let out = tool("kdig", &s, &["txt.example.com", "TXT"]);
    assert!(out.contains("\"hello world\""), "{out}");
}
