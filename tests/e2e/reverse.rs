//! Reverse zones: `dig -x` finds the forward name of every address the forward zones serve
//! from the manifests folder, the first by precedence when names share an address, and the
//! PTRs follow a changed manifest.

use hickory_proto::{
    op::{Message, ResponseCode},
    rr::{RData, RecordType},
};

use crate::{
    dig::tool,
    harness::{Server, Setup},
    objects::{ingress, service},
};

const ZONES: &str = r#"  - zone: example.com
    glue: ["192.0.2.53"]
  - zone: 10.in-addr.arpa
    glue: ["192.0.2.53"]
    nameservers: [dns1.kube-system.example.com.]
    records:
      - "5.0.0 PTR mail.example.com."
  - zone: 8.b.d.0.1.0.0.2.ip6.arpa
    glue: ["192.0.2.53"]
"#;

fn server() -> Server {
    Server::start_with(Setup {
        zones: ZONES,
        extra: "http: {listen: \"127.0.0.1:0\"}\n",
        manifests: &[
            (
                "web.yaml",
                &ingress("web", "www.example.com", &["10.0.0.1", "2001:db8::1"]),
            ),
            ("api.yaml", &service("api", "shop", "10.0.0.1")),
            ("db.yaml", &service("db", "shop", "10.0.0.2")),
            (
                "legacy.yaml",
                &ingress("legacy", "legacy.example.com", &["10.0.0.5"]),
            ),
            (
                "outside.yaml",
                &ingress("outside", "outside.example.com", &["192.0.2.80"]),
            ),
        ],
        ..Setup::default()
    })
}

/// `dig -x addr`'s answer lines.
fn dig_x(s: &Server, addr: &str) -> String {
    tool("dig", s, &["+noall", "+answer", "-x", addr])
}

fn ptr_of(reply: &Message) -> Vec<String> {
    reply
        .answers
        .iter()
        .filter_map(|r| match &r.data {
            RData::PTR(ptr) => Some(ptr.0.to_string()),
            _ => None,
        })
        .collect()
}

fn serial(s: &Server) -> u32 {
    let reply = s.ask("10.in-addr.arpa.", RecordType::SOA);
    match reply.answers.first().map(|r| &r.data) {
        Some(RData::SOA(soa)) => soa.serial,
        other => panic!("no SOA for 10.in-addr.arpa.: {other:?}"),
    }
}

#[test]
fn dig_x_finds_the_first_name_by_precedence() {
    let s = server();
    assert_eq!(
        dig_x(&s, "10.0.0.1"),
        "1.0.0.10.in-addr.arpa. 60 IN PTR www.example.com.",
        "the Ingress comes before the Service in resources"
    );
    assert_eq!(
        dig_x(&s, "2001:db8::1"),
        "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa. 60 IN PTR www.example.com."
    );
    assert_eq!(
        dig_x(&s, "10.0.0.2"),
        "2.0.0.10.in-addr.arpa. 60 IN PTR db.shop.example.com."
    );
    assert_eq!(
        dig_x(&s, "10.0.0.5"),
        "5.0.0.10.in-addr.arpa. 60 IN PTR mail.example.com.",
        "the reverse zone's own static PTR"
    );
    let out = tool("dig", &s, &["-x", "10.0.0.9"]);
    assert!(out.contains("status: NXDOMAIN"), "{out}");
    assert!(out.contains("flags: qr aa"), "{out}");
    assert!(
        out.contains("10.in-addr.arpa. 60 IN SOA dns1.kube-system.10.in-addr.arpa."),
        "{out}"
    );
    let out = tool("dig", &s, &["-x", "192.0.2.80"]);
    assert!(out.contains("status: REFUSED"), "no zone holds it: {out}");
    let ns = tool("dig", &s, &["+noall", "+answer", "10.in-addr.arpa", "NS"]);
    assert!(
        ns.contains("10.in-addr.arpa. 60 IN NS dns1.kube-system.example.com."),
        "{ns}"
    );

    let (code, text) = s.http_get("/debug/explain?name=1.0.0.10.in-addr.arpa");
    assert_eq!(code, 200);
    assert!(
        text.contains("the reverse of www.example.com., whose address Ingress/default/web gives"),
        "{text}"
    );
}

#[test]
fn a_changed_manifest_moves_the_ptr() {
    let s = server();
    let before = serial(&s);
    // The Ingress leaves 10.0.0.1 for 10.0.0.7: the Service it shadowed there takes over.
    s.write_manifest(
        "web.yaml",
        &ingress("web", "www.example.com", &["10.0.0.7", "2001:db8::1"]),
    );
    s.eventually("7.0.0.10.in-addr.arpa.", RecordType::PTR, |r| {
        ptr_of(r) == ["www.example.com."]
    });
    assert_eq!(
        dig_x(&s, "10.0.0.1"),
        "1.0.0.10.in-addr.arpa. 60 IN PTR api.shop.example.com."
    );
    // The serial never runs ahead of the clock: a change within the second the zone was
    // loaded in gets its serial at the next second.
    let deadline = std::time::Instant::now() + crate::harness::PATIENCE;
    while serial(&s) <= before {
        assert!(
            std::time::Instant::now() < deadline,
            "the reverse zone's serial moves"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }

    std::fs::remove_file(s.manifests().join("api.yaml")).expect("remove");
    s.eventually("1.0.0.10.in-addr.arpa.", RecordType::PTR, |r| {
        r.metadata.response_code == ResponseCode::NXDomain
    });
    assert_eq!(
        dig_x(&s, "10.0.0.7"),
        "7.0.0.10.in-addr.arpa. 60 IN PTR www.example.com."
    );
}
