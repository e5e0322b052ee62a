//! Every kind of invalid name or target is skipped and reported, and the rest still served.

use super::*;

fn ingress(host: &str, ip: &str) -> KubeObject {
    obj(&format!(
        r#"
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {{name: web, namespace: shop}}
spec:
  rules:
  - host: good.example.com
  - host: "{host}"
status:
  loadBalancer:
    ingress:
    - ip: "{ip}"
    - ip: 192.0.2.1
"#
    ))
}

#[test]
fn invalid_names_are_skipped_with_a_problem() {
    let long_label = format!("{}.example.com", "a".repeat(64));
    let long_name = format!("{}.example.com", vec!["a".repeat(63); 4].join("."));
    let cases = [
        "bad_name!.example.com".to_string(),
        "bad label.example.com".to_string(),
        "-bad.example.com".to_string(),
        "a..example.com".to_string(),
        long_label,
        long_name,
        "www.*.example.com".to_string(),
        "w*.example.com".to_string(),
    ];
    let mut t = translator(&["example.com"]);
    for host in cases {
        let out = t.apply(&ingress(&host, "192.0.2.2"));
        assert_eq!(
            lines(&out, "Ingress/shop/web"),
            [
                "0 good.example.com. A 192.0.2.1",
                "0 good.example.com. A 192.0.2.2"
            ],
            "{host}"
        );
        assert_one_problem(&out, "Ingress/shop/web", "spec.rules[1].host", &host);
    }
}

#[test]
fn invalid_ips_are_skipped_with_a_problem() {
    let mut t = translator(&["example.com"]);
    for ip in ["192.0.2.256", "not-an-ip", "2001:db8:::1", "192.0.2.1/24"] {
        let out = t.apply(&ingress("other.example.com", ip));
        assert_eq!(
            lines(&out, "Ingress/shop/web"),
            [
                "0 good.example.com. A 192.0.2.1",
                "0 other.example.com. A 192.0.2.1"
            ],
            "{ip}"
        );
        assert_one_problem(
            &out,
            "Ingress/shop/web",
            "status.loadBalancer.ingress[0].ip",
            ip,
        );
    }
}

#[test]
fn problem_display_names_object_field_and_value() {
    let mut t = translator(&["example.com"]);
    let out = t.apply(&ingress("www.*.example.com", "192.0.2.2"));
    let text = problems(&out).join("\n");
    assert!(
        text.starts_with("Ingress/shop/web: spec.rules[1].host = \"www.*.example.com\": "),
        "{text}"
    );
    assert!(text.contains("'*'"), "says why: {text}");
}
