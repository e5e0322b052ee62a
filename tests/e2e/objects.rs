//! Manifests used across the tests, written as `kubectl get -o yaml` prints them.

/// An Ingress for `host` whose load balancer has `ips`.
pub fn ingress(name: &str, host: &str, ips: &[&str]) -> String {
    let ingress: String = ips.iter().map(|ip| format!("\n      - ip: {ip}")).collect();
    format!(
        r#"apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: {name}
  namespace: default
spec:
  rules:
  - host: "{host}"
status:
  loadBalancer:
    ingress:{ingress}
"#
    )
}

/// A DNSEndpoint with one endpoint.
pub fn dns_endpoint(name: &str, dns_name: &str, record_type: &str, targets: &[&str]) -> String {
    let targets: String = targets.iter().map(|t| format!("\n    - {t:?}")).collect();
    format!(
        r#"apiVersion: externaldns.k8s.io/v1alpha1
kind: DNSEndpoint
metadata:
  name: {name}
  namespace: default
spec:
  endpoints:
  - dnsName: {dns_name}
    recordType: {record_type}
    targets:{targets}
"#
    )
}

/// A LoadBalancer Service in `namespace` with an IP.
pub fn service(name: &str, namespace: &str, ip: &str) -> String {
    format!(
        r#"apiVersion: v1
kind: Service
metadata:
  name: {name}
  namespace: {namespace}
spec:
  type: LoadBalancer
  ports:
  - port: 80
status:
  loadBalancer:
    ingress:
    - ip: {ip}
"#
    )
}

/// The set most answer tests share.
pub fn standard() -> Vec<(&'static str, String)> {
    vec![
        (
            "web.yaml",
            ingress("web", "www.example.com", &["10.0.0.1", "10.0.0.2"]),
        ),
        ("svc.yaml", service("svc1", "ns1", "10.0.1.1")),
        (
            "v6.yaml",
            dns_endpoint("v6", "v6.example.com", "AAAA", &["2001:db8::1"]),
        ),
        (
            "txt.yaml",
            dns_endpoint("txt", "txt.example.com", "TXT", &["hello world"]),
        ),
        (
            "wild.yaml",
            ingress("wild", "*.w.example.com", &["10.0.2.1"]),
        ),
        ("s.yaml", ingress("s", "s.w.example.com", &["10.0.2.2"])),
        (
            "elb.yaml",
            dns_endpoint(
                "elb",
                "elb.example.com",
                "CNAME",
                &["lb-1.elb.amazonaws.com"],
            ),
        ),
        (
            "alias.yaml",
            dns_endpoint("alias", "alias.example.com", "CNAME", &["www.example.com"]),
        ),
    ]
}

/// `standard()` as the borrowed pairs `Server::start` takes.
pub fn as_refs<'a>(files: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    files.iter().map(|(n, c)| (*n, c.as_str())).collect()
}
