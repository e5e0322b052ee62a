//! A server that cannot stall in silence: a list that hangs holds back its own Kind only, and
//! is reported as stuck; a source that stops turns `/readyz` 503, names itself and ends the
//! process with exit code 1, so that Kubernetes restarts it.

use std::{
    path::Path,
    time::{Duration, Instant},
};

use hickory_proto::rr::RecordType;

use crate::{
    cluster::{ZONES, kubernetes_section, load_balancer_service, load_balancer_status},
    control_plane::ControlPlane,
    harness::{PATIENCE, Server, Setup, ZONE, addresses},
    objects::ingress,
};

const HTTP: &str = "http: {listen: \"127.0.0.1:0\"}\nlameduckSeconds: 5\n";
/// Long enough for a watch retrying with backoff (at most 5 s between attempts, plus jitter).
const RETRY_PATIENCE: Duration = Duration::from_secs(40);
/// kubezone reports a list as stuck after 20 s (`STUCK_AFTER`); a bound for that.
const STUCK_PATIENCE: Duration = Duration::from_secs(40);

fn app(ip: &str) -> String {
    ingress("app", "app.example.com", &[ip])
}

fn readyz_verbose(s: &Server) -> (u16, String) {
    s.http_get("/readyz?verbose")
}

/// Polls `/readyz?verbose` until a line passes `check`; that line.
fn readyz_line(s: &Server, patience: Duration, check: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + patience;
    loop {
        let (_, body) = readyz_verbose(s);
        if let Some(line) = body.lines().find(|l| check(l)) {
            return line.to_string();
        }
        assert!(
            Instant::now() < deadline,
            "no such line in /readyz?verbose:\n{body}\n{}",
            s.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A list that hangs: the API server is stopped (SIGSTOP) while a watch lists. Here the watches
/// of Kinds whose CRDs are not installed list again every few seconds, so one of them is always
/// about to list; once the API server is stopped, that list never ends (the Kubernetes client
/// has no timeout on it). It used to hold back every publish, manifest edits included, until
/// the API server came back.
#[test]
fn a_list_hung_on_a_stopped_api_server_holds_back_nothing_else_and_is_reported() {
    let cp = ControlPlane::start();
    cp.grant_kubezone();
    cp.create_namespace("shop");
    cp.apply_yaml(&load_balancer_service("shop", "web"));
    cp.apply_status_yaml(&load_balancer_status("shop", "web", &["192.0.2.60"]));
    let s = Server::start_with(Setup {
        zones: ZONES,
        extra: &format!("{HTTP}{}", kubernetes_section(&cp, &[])),
        manifests: &[("app.yaml", &app("10.1.0.1"))],
        ..Setup::default()
    });
    let web = |r: &hickory_proto::op::Message| addresses(r) == ["192.0.2.60"];
    s.eventually("web.shop.example.com.", RecordType::A, web);
    s.eventually("app.example.com.", RecordType::A, |r| {
        addresses(r) == ["10.1.0.1"]
    });

    cp.pause_apiserver();
    let listing = readyz_line(&s, RETRY_PATIENCE, |l| {
        l.starts_with("list ") && l.contains("(kubernetes): listing since ")
    });
    eprintln!("FIGURE hung list: {listing}");

    // Manifest edits are published while the list hangs, and the cluster's last state stays.
    s.write_manifest("app.yaml", &app("10.1.0.2"));
    s.eventually("app.example.com.", RecordType::A, |r| {
        addresses(r) == ["10.1.0.2"]
    });
    assert!(web(&s.ask("web.shop.example.com.", RecordType::A)));

    // Reported as stuck: which watch, since when; still ready, as it answers the last state.
    let deadline = Instant::now() + STUCK_PATIENCE;
    let warning = loop {
        if let Some(line) = s
            .log()
            .lines()
            .find(|l| l.contains("WARN") && l.contains("stuck: this list has not ended"))
        {
            break line.to_string();
        }
        assert!(
            Instant::now() < deadline,
            "no stuck list logged:\n{}",
            s.log()
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    eprintln!("FIGURE stuck list logged: {warning}");
    assert!(
        warning.contains("watch=") && warning.contains("since=") && warning.contains("Z"),
        "{warning}"
    );
    readyz_line(&s, PATIENCE, |l| l.contains(": stuck, listing since "));
    let (code, detail) = readyz_verbose(&s);
    eprintln!("FIGURE /readyz?verbose with a stuck list ({code}):\n{detail}");
    assert_eq!(code, 200, "{detail}");
    // Every watch that was about to list is stuck; the log names one of them.
    let stuck: Vec<&str> = detail
        .lines()
        .filter(|l| l.contains(": stuck, listing since "))
        .filter_map(|l| l.strip_prefix("list ")?.split(" (kubernetes)").next())
        .collect();
    assert!(
        stuck
            .iter()
            .any(|watch| warning.contains(&format!("watch={watch} "))),
        "the log and /readyz name the same watch: {warning} / {stuck:?}"
    );
    assert!(s.metric_sum("kubezone_replacements_open") >= 1.0);
    let oldest = s.metric_sum("kubezone_replacement_oldest_open_seconds");
    assert!(oldest >= 20.0, "{oldest}");

    s.write_manifest("app.yaml", &app("10.1.0.3"));
    s.eventually("app.example.com.", RecordType::A, |r| {
        addresses(r) == ["10.1.0.3"]
    });

    // Once the API server runs again the list ends, and cluster changes flow.
    cp.resume_apiserver();
    s.wait_for_log("the stuck list has ended", 1);
    cp.apply_status_yaml(&load_balancer_status("shop", "web", &["192.0.2.61"]));
    s.eventually_within(
        RETRY_PATIENCE,
        "web.shop.example.com.",
        RecordType::A,
        |r| addresses(r) == ["192.0.2.61"],
    );
    let (_, detail) = readyz_verbose(&s);
    assert!(!detail.contains("stuck"), "{detail}");
}

fn running_as_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let uids = status
                .lines()
                .find_map(|l| l.strip_prefix("Uid:"))?
                .to_string();
            uids.split_whitespace().nth(1).map(|euid| euid == "0")
        })
        .unwrap_or(false)
}

fn make_unreadable(folder: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(folder, std::fs::Permissions::from_mode(0o000))
        .unwrap_or_else(|e| panic!("chmod {}: {e}", folder.display()));
}

/// A source that stops: the manifests folder is one kubezone cannot read (a volume mounted
/// with permissions its user lacks), so its source cannot watch it and ends at once. It used to
/// be logged and nothing else: the server never became ready, said only that it was waiting
/// for the sources, and ran on. Root reads any folder, so under root kubezone runs without the
/// capabilities that allow it (`setpriv`), as a pod's non-root user would.
#[test]
fn a_source_that_stops_turns_readyz_503_names_it_and_exits_1() {
    let dir = tempfile::tempdir().expect("tempdir");
    let folder = dir.path().join("mounted");
    std::fs::create_dir(&folder).expect("mkdir");
    std::fs::write(folder.join("app.yaml"), app("10.1.0.1")).expect("write");
    make_unreadable(&folder);
    let as_root: &[&str] = &[
        "setpriv",
        "--inh-caps=-all",
        "--bounding-set=-dac_override,-dac_read_search",
        "--",
    ];
    let mut s = Server::spawn(Setup {
        zones: ZONE,
        extra: HTTP,
        manifests_dir: Some(&folder),
        run_under: if running_as_root() { as_root } else { &[] },
        ..Setup::default()
    });

    // The process is up at once; the source stops right after.
    let verdict = readyz_line(&s, PATIENCE, |l| l.starts_with("not ready: the manifests"));
    let (code, detail) = readyz_verbose(&s);
    eprintln!("FIGURE /readyz?verbose after the source stopped ({code}):\n{detail}");
    assert_eq!(code, 503, "{detail}");
    assert!(
        verdict.starts_with("not ready: the manifests source stopped: cannot watch ")
            && verdict.contains(&folder.display().to_string())
            && verdict.contains("Permission denied"),
        "{detail}"
    );
    // Not ready, but still answering (SERVFAIL: never synced) until the lameduck ends.
    let reply = s.ask("app.example.com.", RecordType::A);
    assert_eq!(
        reply.metadata.response_code,
        hickory_proto::op::ResponseCode::ServFail
    );
    let code = s.wait_exit(Duration::from_secs(30));
    let log = s.log();
    assert_eq!(code, Some(1), "{log}");
    let error = log
        .lines()
        .find(|l| l.contains("ERROR") && l.contains("the manifests source stopped"))
        .unwrap_or_else(|| panic!("the failure is logged as an error:\n{log}"));
    assert!(error.contains("Permission denied"), "{error}");
    assert!(
        log.contains("kubezone: the manifests source stopped: cannot watch"),
        "the exit names the cause:\n{log}"
    );
    use std::os::unix::fs::PermissionsExt;
    let _ = std::fs::set_permissions(&folder, std::fs::Permissions::from_mode(0o755));
}
