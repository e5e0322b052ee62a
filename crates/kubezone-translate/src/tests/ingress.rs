use super::*;

const WEB: &str = r#"
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
  namespace: shop
spec:
  ingressClassName: nginx
  rules:
  - host: web.example.com
    http:
      paths:
      - path: /
        pathType: Prefix
        backend:
          service:
            name: web
            port:
              number: 80
  - host: "*.apps.example.com"
  - http:
      paths: []
  - host: web.example.com
status:
  loadBalancer:
    ingress:
    - ip: 192.0.2.1
    - ip: 2001:db8::1
    - ip: 192.0.2.1
"#;

#[test]
fn every_rule_host_points_at_the_load_balancer() {
    let mut t = translator(&["example.com"]);
    let out = t.apply(&obj(WEB));
    assert!(out.problems.is_empty(), "{:?}", problems(&out));
    assert_eq!(
        lines(&out, "Ingress/shop/web"),
        [
            "0 *.apps.example.com. A 192.0.2.1",
            "0 *.apps.example.com. AAAA 2001:db8::1",
            "0 web.example.com. A 192.0.2.1",
            "0 web.example.com. AAAA 2001:db8::1",
        ]
    );
}

#[test]
fn a_load_balancer_hostname_is_a_cname_and_ip_wins_over_hostname() {
    let mut t = translator(&["example.com"]);
    let out = t.apply(&obj(r#"
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, namespace: shop}
spec:
  rules:
  - host: web.example.com
status:
  loadBalancer:
    ingress:
    - hostname: lb-1.elb.amazonaws.com
    - ip: 192.0.2.7
      hostname: ignored.example.net
"#));
    assert_eq!(
        lines(&out, "Ingress/shop/web"),
        [
            "0 web.example.com. A 192.0.2.7",
            "0 web.example.com. CNAME lb-1.elb.amazonaws.com.",
        ]
    );
}

#[test]
fn without_load_balancer_status_there_are_no_records() {
    let mut t = translator(&["example.com"]);
    let out = t.apply(&obj(r#"
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, namespace: shop}
spec:
  rules:
  - host: web.example.com
"#));
    assert_eq!(updated(&out), ["Ingress/shop/web"]);
    assert!(lines(&out, "Ingress/shop/web").is_empty());
}

fn classed(class_name: Option<&str>, annotation: Option<&str>) -> KubeObject {
    let annotation = annotation
        .map(|a| format!("\n  annotations:\n    kubernetes.io/ingress.class: {a}"))
        .unwrap_or_default();
    let class_name = class_name
        .map(|c| format!("\n  ingressClassName: {c}"))
        .unwrap_or_default();
    obj(&format!(
        r#"
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
  namespace: shop{annotation}
spec:{class_name}
  rules:
  - host: web.example.com
status:
  loadBalancer:
    ingress:
    - ip: 192.0.2.1
"#
    ))
}

#[test]
fn ingress_classes_filter() {
    let mut z = zone("example.com");
    z.ingress_classes = vec!["nginx".into()];
    let mut t = Translator::new(vec![z]);
    let served =
        |t: &mut Translator, o: KubeObject| !lines(&t.apply(&o), "Ingress/shop/web").is_empty();
    assert!(served(&mut t, classed(Some("nginx"), None)));
    assert!(served(&mut t, classed(None, Some("nginx"))));
    assert!(!served(&mut t, classed(Some("traefik"), None)));
    assert!(!served(&mut t, classed(None, Some("traefik"))));
    assert!(!served(&mut t, classed(None, None)));

    let mut open = translator(&["example.com"]);
    assert!(served(&mut open, classed(None, None)));
    assert!(served(&mut open, classed(Some("traefik"), None)));
}

#[test]
fn ttl_annotations() {
    let mut t = translator(&["example.com"]);
    let with = |key: &str, value: &str| {
        obj(&format!(
            r#"
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
  namespace: shop
  annotations:
    {key}: "{value}"
spec:
  rules:
  - host: web.example.com
status:
  loadBalancer:
    ingress:
    - ip: 192.0.2.1
"#
        ))
    };
    let out = t.apply(&with("kubezone.io/ttl", "30"));
    assert_eq!(
        lines(&out, "Ingress/shop/web"),
        ["0 web.example.com. A 192.0.2.1 ttl=30"]
    );
    let out = t.apply(&with("external-dns.alpha.kubernetes.io/ttl", "120"));
    assert_eq!(
        lines(&out, "Ingress/shop/web"),
        ["0 web.example.com. A 192.0.2.1 ttl=120"]
    );

    let out = t.apply(&with("kubezone.io/ttl", "-1"));
    assert_eq!(
        lines(&out, "Ingress/shop/web"),
        ["0 web.example.com. A 192.0.2.1"]
    );
    assert_one_problem(
        &out,
        "Ingress/shop/web",
        "metadata.annotations[\"kubezone.io/ttl\"]",
        "-1",
    );
}

#[test]
fn names_of_other_domains_are_dropped_quietly() {
    let mut t = translator(&["example.com"]);
    let out = t.apply(&obj(r#"
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, namespace: shop, annotations: {kubezone.io/ttl: nonsense}}
spec:
  rules:
  - host: web.elsewhere.net
status:
  loadBalancer:
    ingress:
    - ip: not-an-ip
"#));
    assert!(lines(&out, "Ingress/shop/web").is_empty());
    // Nothing of ours, so nothing to complain about either.
    assert!(out.problems.is_empty(), "{:?}", problems(&out));
}

#[test]
fn external_dns_target_annotation_replaces_the_load_balancer() {
    let mut t = translator(&["example.com"]);
    let out = t.apply(&obj(r#"
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
  namespace: shop
  annotations: {external-dns.kubernetes.io/target: "lb.example.net"}
spec:
  rules: [{host: www.example.com}]
status:
  loadBalancer:
    ingress: [{ip: 192.0.2.10}]
"#));
    assert!(out.problems.is_empty(), "{:?}", problems(&out));
    assert_eq!(
        lines(&out, "Ingress/shop/web"),
        ["0 www.example.com. CNAME lb.example.net."]
    );
}
