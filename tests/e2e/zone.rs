//! The zone itself: static records from the config beside objects, delegations answered as NSD
//! answers them, glue from the apex Service in the manifests, SOA and NS under the config's
//! control, and a serial that replicas agree on and that moves only with the content.

use std::{
    path::Path,
    time::{Duration, SystemTime},
};

use hickory_proto::{
    op::{Message, ResponseCode},
    rr::{RData, RecordType},
};

use crate::{
    harness::{PATIENCE, Server, Setup, lines},
    nsd::Nsd,
};

const INGRESS: &str = "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: web, namespace: shop}\nspec: {rules: [{host: www.example.com}]}\nstatus: {loadBalancer: {ingress: [{ip: \"192.0.2.10\"}]}}\n";

/// A DNSEndpoint that hands `_acme-challenge.www` to another server.
const ACME: &str = "apiVersion: externaldns.k8s.io/v1alpha1\nkind: DNSEndpoint\nmetadata: {name: acme, namespace: shop}\nspec:\n  endpoints:\n  - {dnsName: _acme-challenge.www.example.com, recordType: NS, targets: [ns.acme.example.net]}\n  - {dnsName: example.com, recordType: MX, targets: [\"20 backup-mx.example.net\"]}\n";

const STATIC_ZONE: &str = r#"  - zone: example.com
    glue: ["192.0.2.53"]
    records:
      - "@ 3600 MX 10 mail.example.com."
      - "@ TXT \"v=spf1 mx -all\""
      - "@ CAA 0 issue \"letsencrypt.org\""
      - "mail A 192.0.2.25"
      - "www TXT \"google-site-verification=abc\""
      - "_sip._tcp SRV 10 5 5060 sip.example.com."
      - "lab NS ns1.lab.example.com."
      - "lab NS ns.other.example.net."
      - "ns1.lab A 192.0.2.80"
"#;

fn data(reply: &Message) -> Vec<String> {
    let mut v: Vec<String> = lines(&reply.answers);
    v.sort();
    v
}

#[test]
fn static_records_are_served_beside_objects_and_explained() {
    let s = Server::start_with(Setup {
        zones: STATIC_ZONE,
        extra: "http: {listen: \"127.0.0.1:0\"}\n",
        manifests: &[("web.yaml", INGRESS), ("acme.yaml", ACME)],
        ..Setup::default()
    });
    assert_eq!(
        data(&s.ask("example.com.", RecordType::MX)),
        ["example.com. 3600 MX 10 mail.example.com."],
        "the config's MX replaces the DNSEndpoint's"
    );
    assert_eq!(
        data(&s.ask("example.com.", RecordType::TXT)),
        ["example.com. 60 TXT v=spf1 mx -all"]
    );
    assert_eq!(
        data(&s.ask("example.com.", RecordType::CAA)),
        ["example.com. 60 CAA 0 issue \"letsencrypt.org\""]
    );
    assert_eq!(
        data(&s.ask("_sip._tcp.example.com.", RecordType::SRV)),
        ["_sip._tcp.example.com. 60 SRV 10 5 5060 sip.example.com."]
    );
    // The Ingress's address and the static TXT sit side by side at www.
    assert_eq!(
        data(&s.ask("www.example.com.", RecordType::A)),
        ["www.example.com. 60 A 192.0.2.10"]
    );
    assert_eq!(
        data(&s.ask("www.example.com.", RecordType::TXT)),
        ["www.example.com. 60 TXT google-site-verification=abc"]
    );
    let (code, text) = s.http_get("/debug/explain?name=www.example.com");
    assert_eq!(code, 200);
    for expected in [
        "the config's static record zones[0].records[4]",
        "Ingress/shop/web",
    ] {
        assert!(text.contains(expected), "{expected:?} in:\n{text}");
    }
    let (_, apex) = s.http_get("/debug/explain?name=example.com");
    assert!(
        apex.contains(
            "MX from DNSEndpoint/shop/acme is not served: the config's static records set it"
        ),
        "{apex}"
    );
}

#[test]
fn a_bad_static_record_stops_the_start_naming_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("kubezone.yaml");
    std::fs::write(
        &config,
        "zones:\n  - zone: example.com\n    records: [\"@ MX ten mail\"]\n",
    )
    .expect("write");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_kubezone"))
        .args(["check", "--config"])
        .arg(&config)
        .output()
        .expect("run kubezone check");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("zones[0].records[0]"), "{err}");
    assert!(err.contains("@ MX ten mail"), "{err}");
}

/// A zone file for NSD with what kubezone serves in `STATIC_ZONE` plus the ACME delegation,
/// under kubezone's own SOA and NS.
fn nsd_zone(soa: &str) -> String {
    format!(
        "$ORIGIN example.com.\n$TTL 60\n{soa}\n\
         @ NS dns1.kube-system.example.com.\n\
         dns1.kube-system A 192.0.2.53\n\
         @ 3600 MX 10 mail.example.com.\n\
         @ TXT \"v=spf1 mx -all\"\n\
         @ CAA 0 issue \"letsencrypt.org\"\n\
         mail A 192.0.2.25\n\
         www A 192.0.2.10\n\
         www TXT \"google-site-verification=abc\"\n\
         _sip._tcp SRV 10 5 5060 sip.example.com.\n\
         lab NS ns1.lab.example.com.\n\
         lab NS ns.other.example.net.\n\
         ns1.lab A 192.0.2.80\n\
         _acme-challenge.www NS ns.acme.example.net.\n"
    )
}

/// What a checker compares: rcode, AA, and each section's records (sorted).
fn shape(reply: &Message) -> String {
    let sorted = |records: &[hickory_proto::rr::Record]| {
        let mut v = lines(records);
        v.sort();
        v.join(" | ")
    };
    format!(
        "{} aa={} answer=[{}] authority=[{}] additional=[{}]",
        reply.metadata.response_code,
        reply.metadata.authoritative,
        sorted(&reply.answers),
        sorted(&reply.authorities),
        sorted(&reply.additionals),
    )
}

#[test]
fn delegations_get_the_referrals_nsd_gives() {
    let s = Server::start(STATIC_ZONE, &[("web.yaml", INGRESS), ("acme.yaml", ACME)]);
    let soa = s.ask("example.com.", RecordType::SOA);
    let soa = soa.answers.first().expect("an SOA").to_string();
    let nsd = Nsd::start("example.com.", &nsd_zone(&soa));
    for (name, qtype) in [
        ("lab.example.com.", RecordType::NS),
        ("lab.example.com.", RecordType::A),
        ("lab.example.com.", RecordType::DS),
        ("ns1.lab.example.com.", RecordType::A),
        ("deep.below.lab.example.com.", RecordType::TXT),
        ("_acme-challenge.www.example.com.", RecordType::TXT),
        ("www.example.com.", RecordType::A),
        ("example.com.", RecordType::NS),
    ] {
        let ours = s.ask(name, qtype);
        let theirs = nsd.ask(name, qtype);
        assert_eq!(shape(&ours), shape(&theirs), "{name} {qtype}");
    }
    let referral = s.ask("x.lab.example.com.", RecordType::A);
    assert_eq!(referral.metadata.response_code, ResponseCode::NoError);
    assert!(
        !referral.metadata.authoritative,
        "a referral is not authoritative"
    );
    assert!(
        lines(&referral.additionals).contains(&"ns1.lab.example.com. 60 A 192.0.2.80".to_string()),
        "glue below the cut: {referral:?}"
    );
}

const DNS1_SERVICE: &str = "apiVersion: v1\nkind: Service\nmetadata: {name: dns1, namespace: kube-system}\nspec: {type: LoadBalancer}\nstatus: {loadBalancer: {ingress: [{ip: \"192.0.2.61\"}, {ip: \"2001:db8::61\"}]}}\n";

#[test]
fn glue_comes_from_the_apex_service_in_the_manifests() {
    let s = Server::start(
        "  - zone: example.com\n",
        &[("dns.yaml", DNS1_SERVICE), ("web.yaml", INGRESS)],
    );
    assert_eq!(
        data(&s.ask("dns1.kube-system.example.com.", RecordType::A)),
        ["dns1.kube-system.example.com. 60 A 192.0.2.61"]
    );
    assert_eq!(
        data(&s.ask("dns1.kube-system.example.com.", RecordType::AAAA)),
        ["dns1.kube-system.example.com. 60 AAAA 2001:db8::61"]
    );
    let ns = s.ask("example.com.", RecordType::NS);
    let mut glue = lines(&ns.additionals);
    glue.sort();
    assert_eq!(
        glue,
        [
            "dns1.kube-system.example.com. 60 A 192.0.2.61",
            "dns1.kube-system.example.com. 60 AAAA 2001:db8::61",
        ]
    );
    // Its address changes with the Service.
    s.write_manifest(
        "dns.yaml",
        &DNS1_SERVICE.replace("192.0.2.61", "192.0.2.62"),
    );
    s.eventually("dns1.kube-system.example.com.", RecordType::A, |r| {
        data(r) == ["dns1.kube-system.example.com. 60 A 192.0.2.62"]
    });
}

#[test]
fn soa_fields_and_extra_nameservers_come_from_the_config() {
    let s = Server::start(
        "  - zone: example.com\n    glue: [192.0.2.53]\n    nameservers: [ns1.provider.net., ns3]\n    soa: {rname: hostmaster@example.org, refresh: 7200, retry: 900, expire: 2419200, negativeTtl: 30}\n    records: [\"ns3 A 192.0.2.55\"]\n",
        &[],
    );
    let soa = s.ask("example.com.", RecordType::SOA);
    let Some(RData::SOA(fields)) = soa.answers.first().map(|r| &r.data) else {
        panic!("no SOA: {soa:?}");
    };
    assert_eq!(fields.mname.to_string(), "dns1.kube-system.example.com.");
    assert_eq!(fields.rname.to_string(), "hostmaster.example.org.");
    assert_eq!(
        (fields.refresh, fields.retry, fields.expire, fields.minimum),
        (7200, 900, 2_419_200, 30)
    );
    let negative = s.ask("nope.example.com.", RecordType::A);
    assert_eq!(
        negative.authorities.first().map(|r| r.ttl),
        Some(30),
        "negative answers last min(SOA TTL, MINIMUM)"
    );
    let ns = s.ask("example.com.", RecordType::NS);
    assert_eq!(
        data(&ns),
        [
            "example.com. 60 NS dns1.kube-system.example.com.",
            "example.com. 60 NS ns1.provider.net.",
            "example.com. 60 NS ns3.example.com.",
        ]
    );
    let mut glue = lines(&ns.additionals);
    glue.sort();
    assert_eq!(
        glue,
        [
            "dns1.kube-system.example.com. 60 A 192.0.2.53",
            "ns3.example.com. 60 A 192.0.2.55",
        ]
    );
}

fn serial(s: &Server) -> u32 {
    let reply = s.ask("example.com.", RecordType::SOA);
    match reply.answers.first().map(|r| &r.data) {
        Some(RData::SOA(soa)) => soa.serial,
        _ => panic!("no SOA: {reply:?}"),
    }
}

fn modified(path: &Path) -> u32 {
    let modified = std::fs::metadata(path)
        .and_then(|m| m.modified())
        .expect("mtime");
    let seconds = modified
        .duration_since(SystemTime::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs();
    u32::try_from(seconds).expect("fits")
}

/// Writes `content` to `path` in a second later than `after` (unix seconds), so that its
/// modification time is a newer write than anything before.
fn write_after(path: &Path, content: &str, after: u32) {
    while modified_now() <= after {
        std::thread::sleep(Duration::from_millis(50));
    }
    crate::harness::write_atomically(path, content);
}

fn modified_now() -> u32 {
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs();
    u32::try_from(now).expect("fits")
}

const OTHER: &str = "---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: web, namespace: other}\nspec: {rules: [{host: www.other.org}]}\nstatus: {loadBalancer: {ingress: [{ip: \"198.51.100.1\"}]}}\n";

fn serial_of(s: &Server, zone: &str) -> u32 {
    let reply = s.ask(zone, RecordType::SOA);
    match reply.answers.first().map(|r| &r.data) {
        Some(RData::SOA(soa)) => soa.serial,
        _ => panic!("no SOA: {reply:?}"),
    }
}

#[test]
fn replicas_started_apart_agree_on_the_serial_and_only_changes_move_it() {
    let shared = tempfile::tempdir().expect("tempdir");
    let file = shared.path().join("web.yaml");
    std::fs::write(&file, format!("{INGRESS}{OTHER}")).expect("write");
    let written = modified(&file);
    let replica = |_: usize| {
        Server::start_with(Setup {
            zones: "  - zone: example.com\n    glue: [192.0.2.53]\n  - zone: other.org\n    glue: [192.0.2.53]\n",
            manifests_dir: Some(shared.path()),
            ..Setup::default()
        })
    };
    let first = replica(1);
    std::thread::sleep(Duration::from_secs(2));
    let second = replica(2);
    println!(
        "FIGURE serials of two replicas started 2 s apart: {} and {}",
        serial(&first),
        serial(&second)
    );
    assert_eq!(
        serial(&first),
        written,
        "the newest write, not the start time"
    );
    assert_eq!(serial(&second), written);

    // A change that leaves example.com's records as they were (a label) does not move its
    // serial; the same write changes other.org's address, which shows it was applied.
    let labelled = INGRESS.replace("namespace: shop}", "namespace: shop, labels: {team: a}}");
    write_after(
        &file,
        &format!(
            "{labelled}{}",
            OTHER.replace("198.51.100.1", "198.51.100.2")
        ),
        written,
    );
    first.eventually("www.other.org.", RecordType::A, |r| {
        crate::harness::addresses(r) == ["198.51.100.2"]
    });
    assert_eq!(serial(&first), written, "no record of example.com changed");
    assert_eq!(
        serial_of(&first, "other.org."),
        modified(&file),
        "other.org's did"
    );

    // A new address moves both to the file's new modification time.
    write_after(
        &file,
        &format!(
            "{}{}",
            labelled.replace("192.0.2.10", "192.0.2.11"),
            OTHER.replace("198.51.100.1", "198.51.100.2")
        ),
        modified(&file),
    );
    let rewritten = modified(&file);
    for replica in [&first, &second] {
        replica.eventually("www.example.com.", RecordType::A, |r| {
            crate::harness::addresses(r) == ["192.0.2.11"]
        });
        let deadline = std::time::Instant::now() + PATIENCE;
        while serial(replica) != rewritten && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        assert_eq!(serial(replica), rewritten);
    }

    // A restart computes the same serial from the same data.
    drop(first);
    let again = replica(3);
    assert_eq!(serial(&again), rewritten);
}
