use super::*;
use crate::LabelSelector;

fn lb_service(extra_meta: &str, extra_spec: &str, status: &str) -> KubeObject {
    obj(&format!(
        r#"
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: shop
{extra_meta}
spec:
  type: LoadBalancer
{extra_spec}
  ports:
  - port: 80
status:
  loadBalancer:
    ingress:
{status}
"#
    ))
}

const LB_IP: &str = "    - ip: 192.0.2.5";

#[test]
fn default_name_is_name_namespace_zone_for_every_zone_serving_service() {
    let zones = vec![
        zone("example.com"),
        zone_with("other.org", &[Kind::Ingress]),
        zone("third.net"),
    ];
    let mut t = Translator::new(zones);
    let out = t.apply(&lb_service("", "", LB_IP));
    assert!(out.problems.is_empty(), "{:?}", problems(&out));
    assert_eq!(
        lines(&out, "Service/shop/web"),
        [
            "0 web.shop.example.com. A 192.0.2.5",
            "2 web.shop.third.net. A 192.0.2.5"
        ]
    );
}

#[test]
fn only_load_balancers_and_external_names() {
    let mut t = translator(&["example.com"]);
    for service_type in ["ClusterIP", "NodePort"] {
        let out = t.apply(&obj(&format!(
            r#"
apiVersion: v1
kind: Service
metadata: {{name: web, namespace: shop}}
spec:
  type: {service_type}
  externalIPs: [192.0.2.9]
status:
  loadBalancer:
    ingress:
    - ip: 192.0.2.5
"#
        )));
        assert_eq!(updated(&out), ["Service/shop/web"]);
        assert!(lines(&out, "Service/shop/web").is_empty(), "{service_type}");
    }
    let out = t.apply(&obj(
        "apiVersion: v1\nkind: Service\nmetadata: {name: db, namespace: shop}\nspec: {type: ExternalName, externalName: db.prod.example.net}\n",
    ));
    assert_eq!(
        lines(&out, "Service/shop/db"),
        ["0 db.shop.example.com. CNAME db.prod.example.net."]
    );
    let out = t.apply(&obj(
        "apiVersion: v1\nkind: Service\nmetadata: {name: db, namespace: shop}\nspec: {type: ExternalName, externalName: 'not a host'}\n",
    ));
    assert!(lines(&out, "Service/shop/db").is_empty());
    assert!(
        problems(&out).iter().any(|p| p.contains("not a host")),
        "{:?}",
        problems(&out)
    );
    // No type at all is ClusterIP.
    let out = t.apply(&obj(
        "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\n",
    ));
    assert!(lines(&out, "Service/shop/web").is_empty());
}

#[test]
fn hostname_annotation_relative_absolute_and_wildcard() {
    let mut t = translator(&["example.com", "other.org"]);
    let out = t.apply(&lb_service(
        r#"  annotations:
    coredns.io/hostname: "web, api.example.com , *.apps,x.other.org.,,gone.elsewhere.net."
    external-dns.alpha.kubernetes.io/hostname: not-used.example.com"#,
        "",
        LB_IP,
    ));
    assert!(out.problems.is_empty(), "{:?}", problems(&out));
    assert_eq!(
        lines(&out, "Service/shop/web"),
        [
            "0 api.example.com. A 192.0.2.5",
            "0 *.apps.example.com. A 192.0.2.5",
            "0 web.example.com. A 192.0.2.5",
            "1 *.apps.other.org. A 192.0.2.5",
            "1 web.other.org. A 192.0.2.5",
            "1 x.other.org. A 192.0.2.5",
        ]
    );
}

#[test]
fn each_hostname_annotation_is_read_in_order() {
    let mut t = translator(&["example.com"]);
    for (key, expected) in [
        ("external-dns.alpha.kubernetes.io/hostname", "alpha"),
        ("external-dns.kubernetes.io/hostname", "beta"),
    ] {
        let meta = format!("  annotations:\n    {key}: {expected}.example.com");
        let out = t.apply(&lb_service(&meta, "", LB_IP));
        assert_eq!(
            lines(&out, "Service/shop/web"),
            [format!("0 {expected}.example.com. A 192.0.2.5")]
        );
    }
    // The alpha spelling comes before the newer one.
    let meta = "  annotations:\n    external-dns.kubernetes.io/hostname: beta\n    external-dns.alpha.kubernetes.io/hostname: alpha";
    let out = t.apply(&lb_service(meta, "", LB_IP));
    assert_eq!(
        lines(&out, "Service/shop/web"),
        ["0 alpha.example.com. A 192.0.2.5"]
    );
}

#[test]
fn external_ips_win_over_load_balancer_status() {
    let mut t = translator(&["example.com"]);
    let out = t.apply(&lb_service(
        "",
        "  externalIPs: [198.51.100.1, 2001:db8::5]",
        LB_IP,
    ));
    assert_eq!(
        lines(&out, "Service/shop/web"),
        [
            "0 web.shop.example.com. A 198.51.100.1",
            "0 web.shop.example.com. AAAA 2001:db8::5",
        ]
    );
}

#[test]
fn load_balancer_hostname_and_ttl() {
    let mut t = translator(&["example.com"]);
    let out = t.apply(&lb_service(
        "  annotations:\n    kubezone.io/ttl: \"15\"",
        "",
        "    - hostname: abc.elb.amazonaws.com",
    ));
    assert_eq!(
        lines(&out, "Service/shop/web"),
        ["0 web.shop.example.com. CNAME abc.elb.amazonaws.com. ttl=15"]
    );
}

#[test]
fn service_selectors() {
    let mut z = zone("example.com");
    z.service_selectors = vec![
        "app in (web,api),tier!=internal"
            .parse::<LabelSelector>()
            .expect("valid"),
        "expose".parse().expect("valid"),
    ];
    let mut t = Translator::new(vec![z]);
    let labelled = |labels: &str| lb_service(&format!("  labels: {{{labels}}}"), "", LB_IP);
    let served = |t: &mut Translator, o| !lines(&t.apply(&o), "Service/shop/web").is_empty();
    assert!(served(&mut t, labelled("app: web")));
    assert!(served(&mut t, labelled("app: api, tier: front")));
    assert!(!served(&mut t, labelled("app: api, tier: internal")));
    assert!(!served(&mut t, labelled("app: db")));
    assert!(served(&mut t, labelled("app: db, expose: \"\"")));
    assert!(!served(&mut t, lb_service("", "", LB_IP)));
}

#[test]
fn invalid_hostnames_and_ips_are_skipped_with_a_problem() {
    let mut t = translator(&["example.com"]);
    let out = t.apply(&lb_service(
        "  annotations:\n    coredns.io/hostname: \"good, bad..name\"",
        "  externalIPs: [198.51.100.1, 198.51.100.300]",
        LB_IP,
    ));
    assert_eq!(
        lines(&out, "Service/shop/web"),
        ["0 good.example.com. A 198.51.100.1"]
    );
    let p = problems(&out);
    assert_eq!(p.len(), 2, "{p:?}");
    assert!(
        p.iter().any(
            |p| p.contains("metadata.annotations[\"coredns.io/hostname\"]")
                && p.contains("bad..name")
        ),
        "{p:?}"
    );
    assert!(
        p.iter()
            .any(|p| p.contains("spec.externalIPs[1]") && p.contains("198.51.100.300")),
        "{p:?}"
    );
}
