//! A zone's `nameTemplate` names Services and Ingresses that have no hostname of their own,
//! its `annotationFilter` keeps objects out, and `kubezone check` refuses a bad template.

use std::process::Command;

use hickory_proto::{op::ResponseCode, rr::RecordType};

use crate::harness::{Server, addresses};

const ZONES: &str = r#"  - zone: example.com
    glue: ["192.0.2.53"]
    nameTemplate: "{{ .Namespace }}-{{ .Name }}.example.com, {{ index .Labels \"app.kubernetes.io/name\" }}.apps.example.com"
    annotationFilter: "dns.example.com/private notin (true)"
"#;

/// A LoadBalancer Service with `meta` lines under `metadata`.
fn service(name: &str, meta: &str, ip: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: {name}\n  namespace: shop\n{meta}spec:\n  type: LoadBalancer\nstatus:\n  loadBalancer:\n    ingress:\n    - ip: {ip}\n"
    )
}

/// An Ingress whose only rule has no host.
fn catch_all_ingress(name: &str, ip: &str) -> String {
    format!(
        "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata:\n  name: {name}\n  namespace: shop\n  labels: {{app.kubernetes.io/name: {name}}}\nspec:\n  rules:\n  - http:\n      paths: [{{path: /, pathType: Prefix, backend: {{service: {{name: web, port: {{number: 80}}}}}}}}]\nstatus:\n  loadBalancer:\n    ingress:\n    - ip: {ip}\n"
    )
}

fn is_nxdomain(r: &hickory_proto::op::Message) -> bool {
    r.metadata.response_code == ResponseCode::NXDomain
}

#[test]
fn a_service_and_an_ingress_without_hosts_are_named_by_the_template() {
    let web = service(
        "web",
        "  labels: {app.kubernetes.io/name: storefront}\n",
        "192.0.2.10",
    );
    let hidden = service(
        "hidden",
        "  labels: {app.kubernetes.io/name: hidden}\n  annotations: {dns.example.com/private: \"true\"}\n",
        "192.0.2.11",
    );
    let unlabelled = service("bare", "", "192.0.2.12");
    let cart = catch_all_ingress("cart", "192.0.2.20");
    let s = Server::start(
        ZONES,
        &[
            ("web.yaml", &web),
            ("hidden.yaml", &hidden),
            ("bare.yaml", &unlabelled),
            ("cart.yaml", &cart),
        ],
    );
    for (name, ip) in [
        ("shop-web.example.com.", "192.0.2.10"),
        ("storefront.apps.example.com.", "192.0.2.10"),
        ("shop-cart.example.com.", "192.0.2.20"),
        ("cart.apps.example.com.", "192.0.2.20"),
        // The unlabelled Service keeps the name its label was not needed for.
        ("shop-bare.example.com.", "192.0.2.12"),
    ] {
        assert_eq!(addresses(&s.ask(name, RecordType::A)), [ip], "{name}");
    }
    // The template replaces the default name, and the filtered-out Service has none.
    for name in [
        "web.shop.example.com.",
        "shop-hidden.example.com.",
        "hidden.apps.example.com.",
    ] {
        assert!(is_nxdomain(&s.ask(name, RecordType::A)), "{name}");
    }
    // The name the missing label would have made is reported, naming the object and template.
    let log = s.log();
    assert!(
        log.contains("Service/shop/bare") && log.contains("nameTemplate"),
        "{log}"
    );
    assert!(log.contains("<no value>.apps.example.com"), "{log}");

    // A change of annotation moves the Service out of the zone without a restart.
    s.write_manifest(
        "web.yaml",
        &service(
            "web",
            "  labels: {app.kubernetes.io/name: storefront}\n  annotations: {dns.example.com/private: \"true\"}\n",
            "192.0.2.10",
        ),
    );
    s.eventually("shop-web.example.com.", RecordType::A, is_nxdomain);
}

#[test]
fn check_refuses_a_bad_template_naming_the_key_and_the_text() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("kubezone.yaml");
    for (template, reason) in [
        ("{{ .Name ", "no closing }}"),
        ("{{ upper .Name }}.example.com", "upper"),
        ("{{ .name }}.example.com", ".name"),
    ] {
        std::fs::write(
            &path,
            format!("zones:\n  - zone: other.org\n  - zone: example.com\n    nameTemplate: '{template}'\n"),
        )
        .expect("write");
        let out = Command::new(env!("CARGO_BIN_EXE_kubezone"))
            .args(["check", "--config", path.to_str().expect("utf-8")])
            .output()
            .expect("run kubezone");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!out.status.success(), "{template}: {text}");
        assert!(text.contains("zones[1].nameTemplate"), "{text}");
        assert!(text.contains(template), "{text}");
        assert!(text.contains(reason), "{text}");
    }
}
