//! Which zone serves a name: the longest one containing it, and only if it takes the object.

use super::*;

fn ingress(hosts: &[&str]) -> KubeObject {
    let rules: String = hosts
        .iter()
        .map(|h| format!("\n  - host: \"{h}\""))
        .collect();
    obj(&format!(
        r#"
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {{name: web, namespace: shop}}
spec:
  ingressClassName: nginx
  rules:{rules}
status:
  loadBalancer:
    ingress:
    - ip: 192.0.2.1
"#
    ))
}

#[test]
fn the_longest_zone_wins() {
    let mut t = translator(&["example.com", "apps.example.com"]);
    let out = t.apply(&ingress(&[
        "www.example.com",
        "x.apps.example.com",
        "apps.example.com",
    ]));
    assert_eq!(
        lines(&out, "Ingress/shop/web"),
        [
            "0 www.example.com. A 192.0.2.1",
            "1 apps.example.com. A 192.0.2.1",
            "1 x.apps.example.com. A 192.0.2.1",
        ]
    );
}

#[test]
fn a_shorter_zone_does_not_pick_up_a_name_the_longest_refuses() {
    // The longest zone does not serve Ingress.
    let mut t = Translator::new(vec![
        zone("example.com"),
        zone_with("apps.example.com", &[Kind::Service]),
    ]);
    let out = t.apply(&ingress(&["www.example.com", "x.apps.example.com"]));
    assert_eq!(
        lines(&out, "Ingress/shop/web"),
        ["0 www.example.com. A 192.0.2.1"]
    );

    // The longest zone's filter refuses the Ingress.
    let mut picky = zone("apps.example.com");
    picky.ingress_classes = vec!["traefik".into()];
    let mut t = Translator::new(vec![zone("example.com"), picky]);
    let out = t.apply(&ingress(&["www.example.com", "x.apps.example.com"]));
    assert_eq!(
        lines(&out, "Ingress/shop/web"),
        ["0 www.example.com. A 192.0.2.1"]
    );
}

#[test]
fn relative_names_are_made_absolute_then_placed() {
    // `web.apps` relative to example.com lands in apps.example.com, the longest zone.
    let mut t = translator(&["example.com", "apps.example.com"]);
    let out = t.apply(&obj(r#"
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: shop
  annotations: {coredns.io/hostname: "web.apps, api.apps.example.com"}
spec: {type: LoadBalancer}
status: {loadBalancer: {ingress: [{ip: 192.0.2.1}]}}
"#));
    assert_eq!(
        lines(&out, "Service/shop/web"),
        [
            "1 api.apps.example.com. A 192.0.2.1",
            "1 web.apps.apps.example.com. A 192.0.2.1",
            "1 web.apps.example.com. A 192.0.2.1",
        ]
    );
}

#[test]
fn output_is_sorted_and_merged() {
    let mut t = translator(&["example.com", "b.org", "a.net"]);
    let out = t.apply(&ingress(&[
        "z.a.net",
        "y.example.com",
        "x.b.org",
        "y.example.com",
        "Y.Example.COM.",
    ]));
    let records = out.updates.first().expect("one update");
    let names: Vec<(usize, String)> = records
        .endpoints
        .iter()
        .map(|e| (e.zone, e.endpoint.name.to_string()))
        .collect();
    assert_eq!(
        names,
        [
            (0, "y.example.com.".to_string()),
            (1, "x.b.org.".into()),
            (2, "z.a.net.".into())
        ]
    );
}
