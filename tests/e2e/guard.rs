//! Query guards over real sockets: response rate limiting (UDP only, with accounts per client
//! prefix and kind of response as BIND keys them) and the client ACL (UDP and TCP), from
//! clients bound to different loopback /24s, counted in `/metrics`; the chart's values
//! rendering the keys.

use std::{
    net::{IpAddr, SocketAddr, UdpSocket},
    path::Path,
    process::{Command, Stdio},
    sync::{
        Arc, Barrier,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use hickory_proto::{
    op::{Message, ResponseCode},
    rr::RecordType,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::{
    harness::{PATIENCE, Server, Setup, addresses, query, write_atomically},
    objects,
};

const ZONE: &str = "  - zone: example.com\n    glue: [192.0.2.53]\n";
const NAME: &str = "web.shop.example.com.";
/// Two clients in different /24s; the harness's own probes come from 127.0.0.1.
const SLOW: &str = "127.0.0.1";
const FAST: &str = "127.0.1.1";
const ANSWERS_DROPPED: &str = r#"kubezone_rrl_dropped_total{kind="answer"}"#;
const ANSWERS_SLIPPED: &str = r#"kubezone_rrl_slipped_total{kind="answer"}"#;

fn ip(text: &str) -> IpAddr {
    text.parse().expect("address")
}

fn start(guard: &str) -> Server {
    let web = objects::service("web", "shop", "192.0.2.1");
    Server::start_with(Setup {
        zones: ZONE,
        extra: &format!("http: {{listen: \"127.0.0.1:0\"}}\n{guard}"),
        manifests: &[("web.yaml", &web)],
        ..Setup::default()
    })
}

/// The value of the metric line that starts with `series`.
fn metric(server: &Server, series: &str) -> f64 {
    let (code, text) = server.http_get("/metrics");
    assert_eq!(code, 200, "{text}");
    text.lines()
        .find(|l| l.starts_with(series) && l[series.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no {series} in /metrics:\n{text}"))
}

fn udp_from(local: &str) -> UdpSocket {
    let socket = UdpSocket::bind((ip(local), 0)).expect("bind a loopback client");
    socket
        .set_read_timeout(Some(Duration::from_millis(500)))
        .expect("timeout");
    socket
}

/// One query over UDP from `local`: the reply, or `None` when nothing came back.
fn udp_ask(local: &str, server: SocketAddr, id: u16) -> Option<Message> {
    let socket = udp_from(local);
    let mut message = query(NAME, RecordType::A);
    message.metadata.id = id;
    socket
        .send_to(&message.to_vec().expect("encode"), server)
        .expect("send");
    let mut buf = vec![0; 65535];
    let (len, _) = socket.recv_from(&mut buf).ok()?;
    Some(Message::from_vec(&buf[..len]).expect("decode the reply"))
}

/// One query over TCP from `local`: the reply, or `None` when the server closed the
/// connection or said nothing.
fn tcp_ask(local: &str, server: SocketAddr) -> Option<Message> {
    let bytes = query(NAME, RecordType::A).to_vec().expect("encode");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let socket = tokio::net::TcpSocket::new_v4().expect("socket");
        socket
            .bind(SocketAddr::new(ip(local), 0))
            .expect("bind a loopback client");
        let mut stream = socket.connect(server).await.expect("connect");
        let len = u16::try_from(bytes.len()).expect("short query");
        stream
            .write_all(&len.to_be_bytes())
            .await
            .expect("write length");
        stream.write_all(&bytes).await.expect("write query");
        let read = async {
            let mut len = [0u8; 2];
            stream.read_exact(&mut len).await.ok()?;
            let mut reply = vec![0; usize::from(u16::from_be_bytes(len))];
            stream.read_exact(&mut reply).await.ok()?;
            Some(reply)
        };
        let reply = tokio::time::timeout(Duration::from_secs(2), read)
            .await
            .ok()
            .flatten()?;
        Some(Message::from_vec(&reply).expect("decode the reply"))
    })
}

fn is_answer(reply: &Message) -> bool {
    reply.metadata.response_code == ResponseCode::NoError
        && !reply.metadata.truncation
        && addresses(reply) == ["192.0.2.1"]
}

/// A slipped reply: TC=1, the question echoed, nothing else.
fn is_slip(reply: &Message) -> bool {
    reply.metadata.truncation
        && reply.answers.is_empty()
        && reply.authorities.is_empty()
        && reply.queries.len() == 1
}

#[test]
fn rate_limiting_silences_a_fast_prefix_and_spares_a_slow_one() {
    let s = start("rateLimit: {responsesPerSecond: 10, window: 2, slip: 2}\n");
    // The readiness probes came from the slow client's /24; let its account expire.
    std::thread::sleep(Duration::from_millis(2500));
    let dropped_before = metric(&s, ANSWERS_DROPPED);
    let slipped_before = metric(&s, ANSWERS_SLIPPED);

    // 3 seconds: the fast client sends 100 queries a second, the slow one 2.
    const FAST_QUERIES: u16 = 300;
    let start = Arc::new(Barrier::new(2));
    let server = s.addr;
    let fast = {
        let start = start.clone();
        std::thread::spawn(move || {
            let socket = udp_from(FAST);
            let receiver = socket.try_clone().expect("clone socket");
            let replies = std::thread::spawn(move || {
                let mut replies = Vec::new();
                let mut buf = vec![0; 65535];
                // Replies stop a read timeout after the last one.
                while let Ok((len, _)) = receiver.recv_from(&mut buf) {
                    replies.push(Message::from_vec(&buf[..len]).expect("decode the reply"));
                }
                replies
            });
            start.wait();
            let begin = Instant::now();
            for id in 0..FAST_QUERIES {
                let mut message = query(NAME, RecordType::A);
                message.metadata.id = id;
                socket
                    .send_to(&message.to_vec().expect("encode"), server)
                    .expect("send");
                let next = begin + Duration::from_millis(10 * u64::from(id + 1));
                std::thread::sleep(next.saturating_duration_since(Instant::now()));
            }
            replies.join().expect("receiver")
        })
    };
    start.wait();
    let mut slow_replies = Vec::new();
    for id in 0..6 {
        let asked = Instant::now();
        slow_replies.push(udp_ask(SLOW, server, id));
        std::thread::sleep(Duration::from_millis(500).saturating_sub(asked.elapsed()));
    }
    let fast_replies = fast.join().expect("fast client");

    for (i, reply) in slow_replies.iter().enumerate() {
        let reply = reply
            .as_ref()
            .unwrap_or_else(|| panic!("slow query {i} got no reply\n{}", s.log()));
        assert!(is_answer(reply), "slow query {i}: {reply:?}");
    }
    let answered = fast_replies.iter().filter(|r| is_answer(r)).count();
    let slipped = fast_replies.iter().filter(|r| is_slip(r)).count();
    let silent = usize::from(FAST_QUERIES) - fast_replies.len();
    assert_eq!(
        answered + slipped,
        fast_replies.len(),
        "the fast client got replies that are neither answers nor slips: {fast_replies:?}"
    );
    // One second's credit at first, then over the limit throughout: the rest is limited.
    assert!(
        answered <= 30,
        "fast client answered {answered} times\n{}",
        s.log()
    );
    assert!(slipped > 50, "fast client got {slipped} slipped replies");
    assert!(silent > 50, "fast client got {silent} queries dropped");
    // slip 2: every other limited response slips.
    assert!(
        slipped.abs_diff(silent) <= 1,
        "{slipped} slipped, {silent} dropped"
    );
    assert_eq!(metric(&s, ANSWERS_SLIPPED) - slipped_before, slipped as f64);
    assert_eq!(metric(&s, ANSWERS_DROPPED) - dropped_before, silent as f64);
}

/// Sends `questions` over UDP from `local`, one every 10 ms (100 a second), with their index
/// as ID; the reply to each, or `None` where nothing came back.
fn ask_at_100_per_second(
    local: &str,
    server: SocketAddr,
    questions: &[(String, RecordType)],
) -> Vec<Option<Message>> {
    let socket = udp_from(local);
    socket
        .set_read_timeout(Some(Duration::from_millis(200)))
        .expect("timeout");
    let receiver = socket.try_clone().expect("clone socket");
    let sent = Arc::new(AtomicBool::new(false));
    let replies = {
        let sent = sent.clone();
        std::thread::spawn(move || {
            let mut replies = Vec::new();
            let mut buf = vec![0; 65535];
            // Until a read times out after the last query went out.
            loop {
                match receiver.recv_from(&mut buf) {
                    Ok((len, _)) => {
                        replies.push(Message::from_vec(&buf[..len]).expect("decode the reply"))
                    }
                    Err(_) if sent.load(Ordering::Acquire) => break replies,
                    Err(_) => {}
                }
            }
        })
    };
    let begin = Instant::now();
    for (id, (name, qtype)) in questions.iter().enumerate() {
        let mut message = query(name, *qtype);
        message.metadata.id = u16::try_from(id).expect("fewer than 65536 questions");
        socket
            .send_to(&message.to_vec().expect("encode"), server)
            .expect("send");
        let next = begin + Duration::from_millis(10 * (id as u64 + 1));
        std::thread::sleep(next.saturating_duration_since(Instant::now()));
    }
    sent.store(true, Ordering::Release);
    let mut by_id: Vec<Option<Message>> = questions.iter().map(|_| None).collect();
    for reply in replies.join().expect("receiver") {
        if let Some(slot) = by_id.get_mut(usize::from(reply.metadata.id)) {
            *slot = Some(reply);
        }
    }
    by_id
}

/// The address of `web{i}.shop.example.com.`.
fn web_ip(i: usize) -> String {
    format!("10.1.{}.{}", i / 100, i % 100 + 1)
}

#[test]
fn rate_limiting_counts_many_names_apart_and_one_name_together() {
    const NAMES: usize = 200;
    let services: Vec<String> = (0..NAMES)
        .map(|i| objects::service(&format!("web{i}"), "shop", &web_ip(i)))
        .collect();
    let services = services.join("---\n");
    let s = Server::start_with(Setup {
        zones: ZONE,
        extra: "http: {listen: \"127.0.0.1:0\"}\n\
                rateLimit: {responsesPerSecond: 10, window: 2, slip: 2}\n",
        manifests: &[("web.yaml", &services)],
        ..Setup::default()
    });

    // 200 different names at 100 a second, ten times the limit: each is its own account.
    let many: Vec<_> = (0..NAMES)
        .map(|i| (format!("web{i}.shop.example.com."), RecordType::A))
        .collect();
    let replies = ask_at_100_per_second(FAST, s.addr, &many);
    for (i, reply) in replies.iter().enumerate() {
        let reply = reply
            .as_ref()
            .unwrap_or_else(|| panic!("web{i} got no reply\n{}", s.log()));
        assert_eq!(
            reply.metadata.response_code,
            ResponseCode::NoError,
            "web{i}"
        );
        assert!(!reply.metadata.truncation, "web{i} was slipped: {reply:?}");
        assert_eq!(addresses(reply), [web_ip(i)], "web{i}");
    }
    assert_eq!(metric(&s, ANSWERS_DROPPED), 0.0);
    assert_eq!(metric(&s, ANSWERS_SLIPPED), 0.0);

    // The same client asking one of them 200 times at that rate is limited.
    let one: Vec<_> = (0..NAMES)
        .map(|_| ("web7.shop.example.com.".to_string(), RecordType::A))
        .collect();
    let replies = ask_at_100_per_second(FAST, s.addr, &one);
    let answered = replies
        .iter()
        .flatten()
        .filter(|r| !r.metadata.truncation && addresses(r) == [web_ip(7)])
        .count();
    let slipped = replies.iter().flatten().filter(|r| is_slip(r)).count();
    let silent = replies.iter().filter(|r| r.is_none()).count();
    // One second's credit, then 10 a second over about two seconds.
    assert!(
        answered <= 40,
        "one name answered {answered} times\n{}",
        s.log()
    );
    assert!(slipped > 50, "one name got {slipped} slipped replies");
    assert!(silent > 50, "one name got {silent} queries dropped");
    assert_eq!(answered + slipped + silent, NAMES);
    assert_eq!(metric(&s, ANSWERS_DROPPED), silent as f64);
    assert_eq!(metric(&s, ANSWERS_SLIPPED), slipped as f64);
}

#[test]
fn random_nxdomain_names_under_one_zone_are_limited_together() {
    let s =
        start("rateLimit: {responsesPerSecond: 50, nxdomainsPerSecond: 5, window: 2, slip: 2}\n");
    // 180 names that do not exist, each asked once with varying types, and every tenth
    // query the one name that exists: 10 a second, under its limit of 50.
    let questions: Vec<_> = (0..200)
        .map(|i| match i % 10 {
            0 => (NAME.to_string(), RecordType::A),
            _ => (
                format!("r{i}-{}.example.com.", i * 7919 % 1000),
                [RecordType::A, RecordType::AAAA, RecordType::TXT][i % 3],
            ),
        })
        .collect();
    let replies = ask_at_100_per_second(FAST, s.addr, &questions);
    let (mut nxdomain, mut slipped, mut silent) = (0, 0, 0);
    for (i, ((name, _), reply)) in questions.iter().zip(&replies).enumerate() {
        if name == NAME {
            let reply = reply
                .as_ref()
                .unwrap_or_else(|| panic!("query {i} for {NAME} got no reply\n{}", s.log()));
            assert!(is_answer(reply), "query {i} for {NAME}: {reply:?}");
            continue;
        }
        match reply {
            None => silent += 1,
            Some(r) if is_slip(r) => {
                assert_eq!(r.metadata.response_code, ResponseCode::NXDomain, "{r:?}");
                slipped += 1;
            }
            Some(r) => {
                assert_eq!(r.metadata.response_code, ResponseCode::NXDomain, "{r:?}");
                nxdomain += 1;
            }
        }
    }
    // 180 different names, counted as one stream at nxdomainsPerSecond: 5 at once, then 5 a
    // second over about two seconds.
    assert!(nxdomain >= 5, "only {nxdomain} NXDOMAIN answers");
    assert!(nxdomain <= 20, "{nxdomain} NXDOMAIN answers\n{}", s.log());
    assert!(slipped > 50, "{slipped} slipped");
    assert!(silent > 50, "{silent} dropped");
    assert_eq!(
        metric(&s, r#"kubezone_rrl_dropped_total{kind="nxdomain"}"#),
        silent as f64
    );
    assert_eq!(
        metric(&s, r#"kubezone_rrl_slipped_total{kind="nxdomain"}"#),
        slipped as f64
    );
    assert_eq!(metric(&s, ANSWERS_DROPPED), 0.0);
}

#[test]
fn rate_limiting_leaves_tcp_and_exempt_clients_alone() {
    let s = start("rateLimit: {responsesPerSecond: 1, slip: 0, exempt: [127.0.1.0/24]}\n");
    for id in 0..20 {
        let reply = udp_ask(FAST, s.addr, id);
        assert!(
            reply.as_ref().is_some_and(is_answer),
            "exempt query {id}: {reply:?}"
        );
    }
    for i in 0..20 {
        let reply = tcp_ask(SLOW, s.addr);
        assert!(
            reply.as_ref().is_some_and(is_answer),
            "TCP query {i}: {reply:?}"
        );
    }
    assert_eq!(s.metric_sum("kubezone_rrl_dropped_total"), 0.0);
}

#[test]
fn the_acl_refuses_other_clients_over_udp_and_tcp() {
    let s = start("acl: {allow: [127.0.0.1/32], action: refuse}\n");
    let allowed = udp_ask(SLOW, s.addr, 1);
    assert!(allowed.as_ref().is_some_and(is_answer), "{allowed:?}");
    let allowed = tcp_ask(SLOW, s.addr);
    assert!(allowed.as_ref().is_some_and(is_answer), "{allowed:?}");

    let refused = |reply: Option<Message>, transport: &str| {
        let reply = reply.unwrap_or_else(|| panic!("no {transport} reply\n{}", s.log()));
        assert_eq!(
            reply.metadata.response_code,
            ResponseCode::Refused,
            "{transport}: {reply:?}"
        );
        assert!(reply.answers.is_empty(), "{transport}: {reply:?}");
    };
    refused(udp_ask(FAST, s.addr, 2), "UDP");
    refused(tcp_ask(FAST, s.addr), "TCP");
    assert_eq!(
        metric(&s, r#"kubezone_acl_rejected_total{action="refuse"}"#),
        2.0
    );
    assert_eq!(
        metric(&s, r#"kubezone_acl_rejected_total{action="drop"}"#),
        0.0
    );
}

#[test]
fn the_acl_drops_other_clients_when_asked() {
    let s = start("acl: {allow: [127.0.0.1/32], action: drop}\n");
    assert!(udp_ask(SLOW, s.addr, 1).as_ref().is_some_and(is_answer));
    assert!(tcp_ask(SLOW, s.addr).as_ref().is_some_and(is_answer));
    let udp = udp_ask(FAST, s.addr, 2);
    assert!(udp.is_none(), "UDP reply to a dropped client: {udp:?}");
    let tcp = tcp_ask(FAST, s.addr);
    assert!(tcp.is_none(), "TCP reply to a dropped client: {tcp:?}");
    assert_eq!(
        metric(&s, r#"kubezone_acl_rejected_total{action="drop"}"#),
        2.0
    );
}

#[test]
fn a_reload_brings_the_new_acl() {
    let s = start("acl: {allow: [127.0.0.1/32]}\n");
    let refused = udp_ask(FAST, s.addr, 1);
    assert_eq!(
        refused.map(|r| r.metadata.response_code),
        Some(ResponseCode::Refused)
    );
    let config = s.dir.path().join("kubezone.yaml");
    let original = std::fs::read_to_string(&config).expect("config");
    write_atomically(
        &config,
        &original.replace("[127.0.0.1/32]", "[127.0.0.1/32, 127.0.1.0/24]"),
    );
    let deadline = Instant::now() + PATIENCE;
    loop {
        if udp_ask(FAST, s.addr, 2).as_ref().is_some_and(is_answer) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the reloaded ACL never let {FAST} in\n{}",
            s.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(udp_ask(SLOW, s.addr, 3).as_ref().is_some_and(is_answer));
}

/// `helm template` of the chart with `values`: the config file it renders.
fn chart_config(values: &str) -> String {
    let helm = match crate::harness::run_build_script("helm.sh", "the chart test needs its helm") {
        Ok(dir) => dir.join("bin/helm"),
        Err(message) => panic!("{message}"),
    };
    let chart = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../charts/kubezone");
    let home = tempfile::tempdir().expect("helm home");
    let file = home.path().join("values.yaml");
    std::fs::write(&file, values).expect("write values");
    let output = Command::new(&helm)
        .args(["template", "dns", "--namespace", "dns", "--values"])
        .arg(&file)
        .arg(&chart)
        .env("HELM_CACHE_HOME", home.path().join("cache"))
        .env("HELM_CONFIG_HOME", home.path().join("config"))
        .env("HELM_DATA_HOME", home.path().join("data"))
        .env_remove("KUBECONFIG")
        .stdin(Stdio::null())
        .output()
        .expect("run helm");
    assert!(
        output.status.success(),
        "helm template with\n{values}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let rendered = String::from_utf8_lossy(&output.stdout);
    let config_map = rendered
        .split("\n---")
        .find(|doc| doc.contains("kind: ConfigMap"))
        .unwrap_or_else(|| panic!("no ConfigMap in\n{rendered}"));
    let document: serde_json::Value = serde_norway::from_str(config_map).expect("YAML");
    document["data"]["kubezone.yaml"]
        .as_str()
        .expect("data.kubezone.yaml")
        .to_string()
}

#[test]
fn the_chart_renders_guard_values_that_kubezone_accepts() {
    let config = chart_config(
        "domain: example.com\nservice: {externalTrafficPolicy: Local}\n\
         rateLimit: {enabled: true, responsesPerSecond: 50, nxdomainsPerSecond: 5, \
                     allPerSecond: 400, exempt: [10.0.0.0/8]}\n\
         acl: {enabled: true, allow: [10.0.0.0/8, \"2001:db8::/32\"], action: drop}\n\
         tcp: {maxConnections: 200}\n",
    );
    let parsed: serde_json::Value = serde_norway::from_str(&config).expect("config YAML");
    assert_eq!(
        parsed["rateLimit"],
        serde_json::json!({
            "responsesPerSecond": 50, "nxdomainsPerSecond": 5, "allPerSecond": 400,
            "window": 15, "slip": 2, "ipv4PrefixLength": 24,
            "ipv6PrefixLength": 56, "exempt": ["10.0.0.0/8"], "maxTableSize": 65536
        })
    );
    assert_eq!(
        parsed["acl"],
        serde_json::json!({"allow": ["10.0.0.0/8", "2001:db8::/32"], "action": "drop"})
    );
    assert_eq!(parsed["tcp"]["maxConnections"], 200);

    // kubezone accepts it (without the in-cluster section, which needs a cluster).
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("kubezone.yaml");
    std::fs::write(&file, config.replace("kubernetes: {}", "")).expect("write config");
    let check = Command::new(env!("CARGO_BIN_EXE_kubezone"))
        .args(["check", "--config"])
        .arg(&file)
        .env_remove("KUBEZONE_CONFIG")
        .stdin(Stdio::null())
        .output()
        .expect("run kubezone check");
    assert!(
        check.status.success(),
        "kubezone check refused:\n{config}\n{}",
        String::from_utf8_lossy(&check.stderr)
    );

    // Off by default: neither section is rendered.
    let config = chart_config("domain: example.com\n");
    let parsed: serde_json::Value = serde_norway::from_str(&config).expect("config YAML");
    assert!(parsed.get("rateLimit").is_none(), "{config}");
    assert!(parsed.get("acl").is_none(), "{config}");
    assert_eq!(parsed["tcp"]["maxConnections"], 1000);
}
