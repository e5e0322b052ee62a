//! Push mode against real primaries from Debian (BIND and Knot on loopback, with a TSIG update
//! policy): records appear, change and disappear with the objects; hand-made records and another
//! owner's are never touched; a wrong key is refused and reported; a zone external-dns wrote
//! with the same owner id is taken over without a change; a primary stopped during changes
//! converges once it is back; `kubezone plan` says what it would do and changes nothing.

use std::time::{Duration, Instant};

use hickory_proto::{
    op::{Message, MessageType, OpCode, Query},
    rr::{DNSClass, Name, RData, Record, RecordType, rdata::TXT},
};
use kubezone_push::{Primary, Updater};

use crate::{
    harness::{Server, Setup, addresses, ask_at},
    primaries::{PrimaryServer, Software, UPDATE_KEY, UPDATE_SECRET, key},
};

/// How long a change may take to reach the primary (it is pushed on the next publish).
const PUSH_PATIENCE: Duration = Duration::from_secs(20);

const OWNER: &str = "kubezone-e2e";

fn config(primary: &PrimaryServer, secret: &str) -> String {
    format!(
        "http: {{listen: \"127.0.0.1:0\"}}\ntsigKeys: [{{name: {UPDATE_KEY}, secret: \"{secret}\"}}]\n",
    ) + &format!("# primary {}\n", primary.addr())
}

fn zones(primary: &PrimaryServer) -> String {
    format!(
        "  - zone: example.test\n    glue: [\"192.0.2.53\"]\n    push: {{server: \"{}\", key: {UPDATE_KEY}, owner: {OWNER}, interval: 2s}}\n",
        primary.addr()
    )
}

fn service(name: &str, ip: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: {name}\n  namespace: shop\n  annotations: {{external-dns.alpha.kubernetes.io/hostname: {name}.example.test}}\nspec:\n  type: LoadBalancer\nstatus:\n  loadBalancer:\n    ingress: [{{ip: \"{ip}\"}}]\n"
    )
}

fn txts(primary: &PrimaryServer, name: &str) -> Vec<String> {
    ask_at(primary.addr(), name, RecordType::TXT)
        .answers
        .iter()
        .filter_map(|r| match &r.data {
            RData::TXT(txt) => Some(txt.to_string()),
            _ => None,
        })
        .collect()
}

fn on_primary(primary: &PrimaryServer, name: &str, expected: &[&str]) {
    let deadline = Instant::now() + PUSH_PATIENCE;
    loop {
        let got = addresses(&ask_at(primary.addr(), name, RecordType::A));
        if got == expected {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{}: {name} is {got:?}, not {expected:?}\n{}",
            primary.name(),
            primary.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn serial(primary: &PrimaryServer) -> u32 {
    match ask_at(primary.addr(), "example.test.", RecordType::SOA)
        .answers
        .first()
        .map(|r| &r.data)
    {
        Some(RData::SOA(soa)) => soa.serial,
        other => panic!("no SOA from {}: {other:?}", primary.name()),
    }
}

/// Adds records to the primary with the update key, as another tool would.
fn add_by_hand(primary: &PrimaryServer, records: Vec<Record>) {
    let zone = Name::from_ascii("example.test.").expect("zone");
    let mut message = Message::new(0, MessageType::Query, OpCode::Update);
    message.add_query(Query::query(zone.clone(), RecordType::SOA));
    for mut record in records {
        record.dns_class = DNSClass::IN;
        message.add_authority(record);
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime
        .block_on(async {
            let mut updater = Updater::new(Primary::new(
                primary.addr(),
                Some(key(UPDATE_KEY, UPDATE_SECRET)),
            ));
            updater.update(message).await
        })
        .expect("the update is accepted");
}

fn a(name: &str, ip: &str) -> Record {
    Record::from_rdata(
        Name::from_ascii(name).expect("name"),
        300,
        RData::A(ip.parse().expect("ip")),
    )
}

fn txt(name: &str, value: &str) -> Record {
    Record::from_rdata(
        Name::from_ascii(name).expect("name"),
        300,
        RData::TXT(TXT::new(vec![value.to_string()])),
    )
}

fn registry(owner: &str, resource: &str) -> String {
    format!("heritage=external-dns,external-dns/owner={owner},external-dns/resource={resource}")
}

fn push_lines(s: &Server) -> String {
    s.http_get("/readyz?verbose")
        .1
        .lines()
        .filter(|l| l.starts_with("push "))
        .collect::<Vec<_>>()
        .join("\n")
}

fn wait_push_state(s: &Server, needle: &str) -> String {
    let deadline = Instant::now() + PUSH_PATIENCE;
    loop {
        let lines = push_lines(s);
        if lines.contains(needle) {
            return lines;
        }
        assert!(
            Instant::now() < deadline,
            "no {needle:?} in the push state: {lines}\n{}",
            s.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Records appear, change and disappear with the objects, on BIND and on Knot; the hand-made
/// records and another owner's stay as they are.
#[test]
fn records_follow_the_objects_and_nothing_else_is_touched() {
    for software in Software::ALL {
        let primary = PrimaryServer::start(software);
        // Another owner's record at a name kubezone will want too.
        add_by_hand(
            &primary,
            vec![
                a("taken.example.test.", "192.0.2.99"),
                txt(
                    "a-taken.example.test.",
                    &registry("someone-else", "service/other/taken"),
                ),
            ],
        );
        let s = Server::start_with(Setup {
            zones: &zones(&primary),
            extra: &config(&primary, UPDATE_SECRET),
            manifests: &[
                ("web.yaml", &service("web", "192.0.2.10")),
                ("taken.yaml", &service("taken", "192.0.2.11")),
            ],
            ..Setup::default()
        });
        on_primary(&primary, "web.example.test.", &["192.0.2.10"]);
        let owned = txts(&primary, "a-web.example.test.");
        assert!(
            owned
                .iter()
                .any(|t| t.contains(&format!("external-dns/owner={OWNER}"))
                    && t.contains("external-dns/resource=service/shop/web")),
            "{owned:?}"
        );
        // The conflict is left alone, and reported.
        let state = wait_push_state(&s, "conflicts");
        assert!(state.contains("in sync"), "{state}");
        assert_eq!(
            addresses(&ask_at(
                primary.addr(),
                "taken.example.test.",
                RecordType::A
            )),
            ["192.0.2.99"]
        );
        assert!(s.log().contains("taken.example.test"), "{}", s.log());
        let (_, why) = s.http_get("/debug/explain?name=taken.example.test");
        assert!(
            why.contains("push: left alone") && why.contains("someone-else"),
            "{why}"
        );
        assert_eq!(s.metric_sum("kubezone_push_conflicts"), 1.0);
        assert!(s.metric_sum("kubezone_push_changes_total") >= 1.0);

        // A change, then a delete.
        s.write_manifest("web.yaml", &service("web", "192.0.2.20"));
        on_primary(&primary, "web.example.test.", &["192.0.2.20"]);
        std::fs::remove_file(s.manifests().join("web.yaml")).expect("remove");
        on_primary(&primary, "web.example.test.", &[]);
        assert!(txts(&primary, "a-web.example.test.").is_empty());

        // What was there by hand is as it was.
        assert_eq!(
            addresses(&ask_at(
                primary.addr(),
                "manual.example.test.",
                RecordType::A
            )),
            ["192.0.2.1"],
            "{}",
            primary.name()
        );
        assert_eq!(
            txts(&primary, "manual.example.test."),
            ["made by hand"],
            "{}",
            primary.name()
        );
    }
}

/// A wrong key is refused by the primary and reported; nothing is written.
#[test]
fn a_wrong_key_is_refused_and_reported() {
    let primary = PrimaryServer::start(Software::Bind);
    let wrong = "d3Jvbmcgc2VjcmV0IHdyb25nIHNlY3JldCB3cm9uZyBzZWNyZXQ=";
    let s = Server::start_with(Setup {
        zones: &zones(&primary),
        extra: &config(&primary, wrong),
        manifests: &[("web.yaml", &service("web", "192.0.2.10"))],
        ..Setup::default()
    });
    let state = wait_push_state(&s, "failing");
    assert!(
        state.contains("BADSIG") || state.contains("signature"),
        "{state}"
    );
    assert!(s.log().contains("push:"), "{}", s.log());
    assert!(s.metric_sum("kubezone_push_failures_total") >= 1.0);
    assert!(addresses(&ask_at(primary.addr(), "web.example.test.", RecordType::A)).is_empty());
}

/// A zone external-dns wrote with the same owner id is taken over: nothing changes on the
/// primary, not even its serial.
#[test]
fn a_zone_external_dns_wrote_is_taken_over_without_churn() {
    let primary = PrimaryServer::start(Software::Bind);
    add_by_hand(
        &primary,
        vec![
            {
                let mut record = a("web.example.test.", "192.0.2.10");
                record.ttl = 60;
                record
            },
            {
                // external-dns gives its registry TXT the record's TTL.
                let mut record = txt("a-web.example.test.", &registry(OWNER, "service/shop/web"));
                record.ttl = 60;
                record
            },
        ],
    );
    let before = serial(&primary);
    let s = Server::start_with(Setup {
        zones: &zones(&primary),
        extra: &config(&primary, UPDATE_SECRET),
        manifests: &[("web.yaml", &service("web", "192.0.2.10"))],
        ..Setup::default()
    });
    let state = wait_push_state(&s, "in sync");
    let plan = std::process::Command::new(env!("CARGO_BIN_EXE_kubezone"))
        .args(["plan", "--config"])
        .arg(s.dir.path().join("kubezone.yaml"))
        .output()
        .expect("run kubezone plan");
    let plan = String::from_utf8_lossy(&plan.stdout).to_string();
    assert!(state.contains("0 changes"), "{state}\n{plan}\n{}", s.log());
    assert_eq!(
        serial(&primary),
        before,
        "the primary's zone did not change"
    );
}

/// The primary stops while objects change; once it is back, one reconciliation brings it up to
/// date, and `kubezone plan` then has nothing left to do.
#[test]
fn a_primary_back_from_a_stop_converges() {
    let mut primary = PrimaryServer::start(Software::Bind);
    let s = Server::start_with(Setup {
        zones: &zones(&primary),
        extra: &config(&primary, UPDATE_SECRET),
        manifests: &[("web.yaml", &service("web", "192.0.2.10"))],
        ..Setup::default()
    });
    on_primary(&primary, "web.example.test.", &["192.0.2.10"]);
    primary.stop();
    s.write_manifest("web.yaml", &service("web", "192.0.2.30"));
    s.write_manifest("api.yaml", &service("api", "192.0.2.31"));
    wait_push_state(&s, "failing");
    primary.restart();
    on_primary(&primary, "web.example.test.", &["192.0.2.30"]);
    on_primary(&primary, "api.example.test.", &["192.0.2.31"]);

    let plan = std::process::Command::new(env!("CARGO_BIN_EXE_kubezone"))
        .args(["plan", "--config"])
        .arg(s.dir.path().join("kubezone.yaml"))
        .output()
        .expect("run kubezone plan");
    let out = String::from_utf8_lossy(&plan.stdout);
    assert!(
        plan.status.success(),
        "{out}\n{}",
        String::from_utf8_lossy(&plan.stderr)
    );
    assert!(out.contains("zone example.test."), "{out}");
    assert!(out.contains("no change"), "{out}");
}

/// `kubezone plan` prints what it would send and sends nothing; `--apply` sends it.
#[test]
fn plan_prints_the_changes_and_apply_makes_them() {
    let primary = PrimaryServer::start(Software::Knot);
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join("manifests")).expect("mkdir");
    std::fs::write(
        dir.path().join("manifests/web.yaml"),
        service("web", "192.0.2.40"),
    )
    .expect("write");
    let config_path = dir.path().join("kubezone.yaml");
    std::fs::write(
        &config_path,
        format!(
            "manifests: [manifests]\ntsigKeys: [{{name: {UPDATE_KEY}, secret: \"{UPDATE_SECRET}\"}}]\nzones:\n{}",
            zones(&primary)
        ),
    )
    .expect("write config");
    let run = |apply: bool| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_kubezone"));
        command.args(["plan", "--config"]).arg(&config_path);
        if apply {
            command.arg("--apply");
        }
        let output = command.output().expect("run kubezone plan");
        let out = String::from_utf8_lossy(&output.stdout).to_string();
        assert!(
            output.status.success(),
            "{out}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        out
    };
    let out = run(false);
    assert!(
        out.contains("web.example.test") && out.contains("192.0.2.40"),
        "{out}"
    );
    assert!(addresses(&ask_at(primary.addr(), "web.example.test.", RecordType::A)).is_empty());
    let out = run(true);
    assert!(out.contains("sent"), "{out}");
    on_primary(&primary, "web.example.test.", &["192.0.2.40"]);
    assert!(run(false).contains("no change"));
}

/// A zone with `serve: false` is pushed but not answered: queries for it are refused, as for
/// any name outside kubezone's zones.
#[test]
fn a_zone_that_is_only_pushed_is_not_answered() {
    let primary = PrimaryServer::start(Software::Bind);
    let s = Server::start_with(Setup {
        zones: &format!(
            "  - zone: served.test\n    glue: [\"192.0.2.53\"]\n{}    serve: false\n",
            zones(&primary)
        ),
        extra: &config(&primary, UPDATE_SECRET),
        manifests: &[("web.yaml", &service("web", "192.0.2.10"))],
        ..Setup::default()
    });
    on_primary(&primary, "web.example.test.", &["192.0.2.10"]);
    let reply = s.ask("web.example.test.", RecordType::A);
    assert_eq!(
        reply.metadata.response_code,
        hickory_proto::op::ResponseCode::Refused,
        "{reply:?}"
    );
    // The zone beside it, served as usual, still answers.
    let soa = s.ask("served.test.", RecordType::SOA);
    assert_eq!(
        soa.metadata.response_code,
        hickory_proto::op::ResponseCode::NoError,
        "{soa:?}"
    );
    assert_eq!(soa.answers.len(), 1, "{soa:?}");
}
