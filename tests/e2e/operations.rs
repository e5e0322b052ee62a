//! Running kubezone as a service: metrics, readiness, explain, query log, SIGTERM with a
//! lameduck, and reload.

use std::time::{Duration, Instant};

use hickory_proto::rr::RecordType;

use crate::{
    cluster::kubernetes_section,
    control_plane::ControlPlane,
    harness::{PATIENCE, Server, Setup, addresses, write_atomically},
    objects,
};

const ZONE: &str = "  - zone: example.com\n    glue: [192.0.2.53]\n";
const HTTP: &str = "http: {listen: \"127.0.0.1:0\"}\nlameduckSeconds: 1\n";

fn service(name: &str, ip: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Service\nmetadata: {{name: {name}, namespace: shop}}\nspec: {{type: LoadBalancer}}\nstatus: {{loadBalancer: {{ingress: [{{ip: \"{ip}\"}}]}}}}\n"
    )
}

/// The value of the metric line that starts with `series`.
fn metric(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(series) && l[series.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

#[test]
fn metrics_appear_and_count() {
    let web = service("web", "192.0.2.1");
    let bad = objects::ingress("bad", "under_score!.example.com", &["192.0.2.5"]);
    let s = Server::start_with(Setup {
        zones: ZONE,
        extra: HTTP,
        manifests: &[("web.yaml", &web), ("bad.yaml", &bad)],
        ..Setup::default()
    });
    for _ in 0..3 {
        assert_eq!(
            addresses(&s.ask("web.shop.example.com.", RecordType::A)),
            ["192.0.2.1"]
        );
    }
    s.ask("nope.example.com.", RecordType::A);
    s.ask("elsewhere.org.", RecordType::TXT);
    let (code, text) = s.http_get("/metrics");
    assert_eq!(code, 200);
    let series = |s: &str| metric(&text, s);
    assert_eq!(
        series(r#"kubezone_queries_total{rcode="NOERROR",type="A",zone="example.com."}"#),
        // The harness's readiness probe asked for the SOA, not A.
        Some(3.0),
        "{text}"
    );
    assert_eq!(
        series(r#"kubezone_queries_total{rcode="NXDOMAIN",type="A",zone="example.com."}"#),
        Some(1.0)
    );
    assert_eq!(
        series(r#"kubezone_queries_total{rcode="REFUSED",type="TXT",zone=""}"#),
        Some(1.0)
    );
    assert!(series("kubezone_query_duration_seconds_count").is_some_and(|n| n >= 5.0));
    assert_eq!(
        series(r#"kubezone_records{kind="Service",zone="example.com."}"#),
        Some(1.0)
    );
    assert_eq!(
        series(r#"kubezone_objects_skipped_total{kind="Ingress"}"#),
        Some(1.0),
        "{text}"
    );
    assert!(text.contains("kubezone_build_info{version="), "{text}");
    assert!(series("kubezone_process_resident_memory_bytes").is_some_and(|b| b > 0.0));
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        assert!(line.starts_with("kubezone_"), "{line}");
    }
}

#[test]
fn metrics_can_be_switched_off() {
    let s = Server::start_with(Setup {
        zones: ZONE,
        extra: "http: {listen: \"127.0.0.1:0\", metrics: false}\n",
        manifests: &[],
        ..Setup::default()
    });
    assert_eq!(s.http_get("/metrics").0, 404);
    assert_eq!(s.http_get("/healthz"), (200, "ok\n".into()));
}

#[test]
fn explain_says_which_objects_and_kind_answer_a_name() {
    let web = service("web", "192.0.2.1");
    let clash = "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: front, namespace: shop}\nspec: {rules: [{host: web.shop.example.com}]}\nstatus: {loadBalancer: {ingress: [{ip: \"192.0.2.9\"}]}}\n";
    let s = Server::start_with(Setup {
        zones: ZONE,
        extra: HTTP,
        manifests: &[("web.yaml", &web), ("clash.yaml", clash)],
        ..Setup::default()
    });
    let (code, text) = s.http_get("/debug/explain?name=web.shop.example.com");
    assert_eq!(code, 200);
    for expected in [
        "web.shop.example.com. 60 A 192.0.2.9",
        "precedence: Ingress won",
        "Ingress/shop/front",
        "Service/shop/web",
    ] {
        assert!(text.contains(expected), "{expected:?} in:\n{text}");
    }
    let (_, missing) = s.http_get("/debug/explain?name=nope.example.com");
    assert!(missing.contains("NXDOMAIN"), "{missing}");
    assert_eq!(s.http_get("/debug/explain").0, 400);

    // The same from the command line, reading the same config.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kubezone"))
        .args(["explain", "web.shop.example.com", "--config"])
        .arg(s.dir.path().join("kubezone.yaml"))
        .output()
        .expect("run kubezone explain");
    let cli = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{cli}");
    assert!(cli.contains("precedence: Ingress won"), "{cli}");
    assert!(cli.contains("Service/shop/web"), "{cli}");
}

#[test]
fn the_query_log_is_off_by_default_and_can_be_switched_on() {
    let quiet = Server::start(ZONE, &[]);
    quiet.ask("www.example.com.", RecordType::A);
    let loud = Server::start_with(Setup {
        zones: ZONE,
        extra: "queryLog: true\n",
        manifests: &[],
        ..Setup::default()
    });
    loud.ask("www.example.com.", RecordType::AAAA);
    let deadline = Instant::now() + PATIENCE;
    while !loud.log().contains("name=www.example.com.") {
        assert!(Instant::now() < deadline, "{}", loud.log());
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(loud.log().contains("qtype=AAAA"), "{}", loud.log());
    assert!(!quiet.log().contains("www.example.com"), "{}", quiet.log());
}

#[test]
fn sigterm_turns_not_ready_then_stops_after_the_lameduck() {
    let web = service("web", "192.0.2.1");
    let mut s = Server::start_with(Setup {
        zones: ZONE,
        extra: "http: {listen: \"127.0.0.1:0\"}\nlameduckSeconds: 2\n",
        manifests: &[("web.yaml", &web)],
        ..Setup::default()
    });
    let http = s.http_addr();
    assert_eq!(s.http_get("/readyz").0, 200);
    let sent = Instant::now();
    s.signal("TERM");
    let deadline = Instant::now() + PATIENCE;
    while crate::harness::http_get(http, "/readyz").0 != 503 {
        assert!(Instant::now() < deadline, "{}", s.log());
        std::thread::sleep(Duration::from_millis(10));
    }
    // Not ready, and still answering: load balancers drain it meanwhile.
    assert_eq!(
        addresses(&s.ask("web.shop.example.com.", RecordType::A)),
        ["192.0.2.1"]
    );
    assert_eq!(s.wait_exit(PATIENCE), Some(0), "{}", s.log());
    assert!(
        sent.elapsed() >= Duration::from_secs(2),
        "stopped before the lameduck ended"
    );
}

#[test]
fn a_reload_serves_the_new_config_and_a_bad_one_keeps_the_old() {
    let web = service("web", "192.0.2.1");
    let s = Server::start_with(Setup {
        zones: ZONE,
        extra: HTTP,
        manifests: &[("web.yaml", &web)],
        ..Setup::default()
    });
    let config = s.dir.path().join("kubezone.yaml");
    let original = std::fs::read_to_string(&config).expect("config");

    // A broken config: logged, and the running one stays.
    write_atomically(&config, &format!("{original}\nbogusKey: 1\n"));
    let deadline = Instant::now() + PATIENCE;
    while !s.log().contains("reload failed") {
        assert!(Instant::now() < deadline, "{}", s.log());
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(s.log().contains("bogusKey"), "{}", s.log());
    assert_eq!(
        addresses(&s.ask("web.shop.example.com.", RecordType::A)),
        ["192.0.2.1"]
    );

    // A good one with another zone, taken on the file change; then on SIGHUP.
    write_atomically(
        &config,
        &original.replace(
            "zones:\n",
            "zones:\n  - zone: example.net\n    glue: [192.0.2.53]\n",
        ),
    );
    s.eventually("example.net.", RecordType::SOA, |reply| {
        reply.metadata.response_code == hickory_proto::op::ResponseCode::NoError
    });
    assert_eq!(
        addresses(&s.ask("web.shop.example.com.", RecordType::A)),
        ["192.0.2.1"]
    );
    let reloads = s.log().matches("reloaded").count();
    s.signal("HUP");
    let deadline = Instant::now() + PATIENCE;
    while s.log().matches("reloaded").count() == reloads {
        assert!(Instant::now() < deadline, "{}", s.log());
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(s.log().contains("reloading: SIGHUP"), "{}", s.log());
}

#[test]
fn readiness_follows_the_cluster_sync_and_names_each_watch() {
    let cp = ControlPlane::start();
    cp.grant_kubezone();
    cp.stop_apiserver();
    let s = Server::spawn(Setup {
        zones: "  - zone: example.com\n",
        extra: &format!("{HTTP}{}", kubernetes_section(&cp, &[])),
        manifests: &[],
        ..Setup::default()
    });
    let (code, detail) = s.http_get("/readyz?verbose");
    assert_eq!(code, 503, "{detail}");
    assert!(detail.contains("watch Service:"), "{detail}");
    cp.start_apiserver();
    let deadline = Instant::now() + Duration::from_secs(40);
    while s.http_get("/readyz").0 != 200 {
        assert!(
            Instant::now() < deadline,
            "{}\n{}",
            s.http_get("/readyz?verbose").1,
            s.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // An API server just back may answer 403 until its RBAC cache has the roles: a settled
    // state too, retried until the watch learns the CRD is missing.
    let missing = "watch HTTPRoute: not served: the CRD httproutes.gateway.networking.k8s.io is not installed";
    let mut detail = s.http_get("/readyz?verbose").1;
    while !detail.contains(missing) {
        assert!(Instant::now() < deadline, "{detail}");
        std::thread::sleep(Duration::from_millis(100));
        detail = s.http_get("/readyz?verbose").1;
    }
    assert!(detail.contains("watch Service: synced"), "{detail}");
    let (_, text) = s.http_get("/metrics");
    assert_eq!(
        metric(
            &text,
            r#"kubezone_crd_missing{cluster="",kind="HTTPRoute"}"#
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        metric(&text, r#"kubezone_crd_missing{cluster="",kind="Service"}"#),
        Some(0.0)
    );
    assert!(
        metric(
            &text,
            r#"kubezone_watch_errors_total{cluster="",kind="Service"}"#
        )
        .is_some_and(|n| n >= 1.0)
    );
}
