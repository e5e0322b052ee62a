//! The query log never holds up an answer: with `queryLog: true` and a stderr nobody reads, the
//! log's pipe fills within a few hundred queries; every query after that is still answered (the
//! log drops lines instead of making a UDP worker wait).

use std::{
    net::{SocketAddr, UdpSocket},
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use hickory_proto::rr::RecordType;

use crate::{
    harness::{PATIENCE, addresses, query},
    objects::ingress,
};

#[test]
fn a_full_query_log_pipe_holds_up_no_answer() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join("manifests")).expect("mkdir");
    std::fs::write(
        dir.path().join("manifests/web.yaml"),
        ingress("web", "www.example.com", &["192.0.2.10"]),
    )
    .expect("write");
    let port = crate::secondary::free_port();
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let config = dir.path().join("kubezone.yaml");
    std::fs::write(
        &config,
        format!(
            "listen: [\"{addr}\"]\nmanifests: [manifests]\nqueryLog: true\nzones:\n  - zone: example.com\n    glue: [192.0.2.53]\n"
        ),
    )
    .expect("write config");
    // stderr is a pipe that nothing reads: once its buffer is full, a write to it waits.
    let mut child = Command::new(env!("CARGO_BIN_EXE_kubezone"))
        .args(["--config"])
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start kubezone");
    let socket = UdpSocket::bind("127.0.0.1:0").expect("bind");
    socket
        .set_read_timeout(Some(Duration::from_millis(500)))
        .expect("timeout");
    let ask = || -> Option<Vec<String>> {
        let bytes = query("www.example.com.", RecordType::A).to_vec().ok()?;
        socket.send_to(&bytes, addr).ok()?;
        let mut buf = [0u8; 4096];
        let (len, _) = socket.recv_from(&mut buf).ok()?;
        let reply = hickory_proto::op::Message::from_vec(buf.get(..len)?).ok()?;
        Some(addresses(&reply))
    };
    let deadline = Instant::now() + PATIENCE;
    while ask().as_deref() != Some(&["192.0.2.10".to_string()][..]) {
        assert!(Instant::now() < deadline, "kubezone never answered");
    }
    // Each logged query is a line of a hundred bytes or more: 5,000 of them overflow any pipe
    // buffer (64 KiB by default) many times.
    let mut unanswered = 0;
    for _ in 0..5_000 {
        if ask().is_none() {
            unanswered += 1;
            if unanswered == 3 {
                break;
            }
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(
        unanswered, 0,
        "queries went unanswered while the log's pipe was full"
    );
}
