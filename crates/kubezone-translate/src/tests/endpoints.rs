//! NodePort and headless Services: answers that follow EndpointSlices and Nodes, and
//! kuberoute's failover.

use super::*;
use crate::NodeAddressType;

fn node(name: &str, ready: bool, internal: &str, external: Option<&str>) -> KubeObject {
    let external = external
        .map(|e| format!("\n    - {{type: ExternalIP, address: {e}}}"))
        .unwrap_or_default();
    obj(&format!(
        r#"
apiVersion: v1
kind: Node
metadata: {{name: {name}}}
status:
  conditions:
  - {{type: Ready, status: "{}"}}
  addresses:
    - {{type: Hostname, address: {name}}}
    - {{type: InternalIP, address: {internal}}}{external}
"#,
        if ready { "True" } else { "False" }
    ))
}

/// A slice of Service shop/web; each endpoint is (address, ready, node, hostname).
fn slice(name: &str, endpoints: &[(&str, bool, &str, Option<&str>)]) -> KubeObject {
    let mut items = String::new();
    for (address, ready, node, hostname) in endpoints {
        let hostname = hostname
            .map(|h| format!(", hostname: {h}"))
            .unwrap_or_default();
        items.push_str(&format!(
            "\n  - {{addresses: [\"{address}\"], conditions: {{ready: {ready}}}, nodeName: {node}{hostname}}}"
        ));
    }
    obj(&format!(
        r#"
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: {name}
  namespace: shop
  labels: {{kubernetes.io/service-name: web}}
addressType: IPv4
endpoints:{items}
"#
    ))
}

fn node_port(meta: &str, spec: &str) -> KubeObject {
    obj(&format!(
        r#"
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: shop
{meta}
spec:
  type: NodePort
{spec}
  ports:
  - {{name: http, port: 80, nodePort: 30080}}
"#
    ))
}

const HOSTNAME: &str =
    "  annotations: {external-dns.alpha.kubernetes.io/hostname: web.example.com}";

fn cluster(t: &mut Translator) {
    t.apply(&node("n1", true, "192.168.0.1", Some("203.0.113.1")));
    t.apply(&node("n2", true, "192.168.0.2", Some("203.0.113.2")));
    t.apply(&node("n3", true, "192.168.0.3", Some("203.0.113.3")));
}

fn addresses(out: &Translated) -> Vec<String> {
    lines(out, "Service/shop/web")
        .into_iter()
        .filter(|l| l.contains(" web.example.com. "))
        .collect()
}

#[test]
fn a_node_port_service_answers_with_every_ready_nodes_external_ip() {
    let mut t = translator(&["example.com"]);
    cluster(&mut t);
    t.apply(&node("n3", false, "192.168.0.3", Some("203.0.113.3")));
    let out = t.apply(&node_port(HOSTNAME, ""));
    assert!(out.problems.is_empty(), "{:?}", problems(&out));
    assert_eq!(
        lines(&out, "Service/shop/web"),
        [
            "0 web.example.com. A 203.0.113.1",
            "0 web.example.com. A 203.0.113.2",
            "0 _http._tcp.web.example.com. SRV 0 100 30080 web.example.com.",
        ]
    );
    // n3 becomes Ready: the Service is re-translated.
    let out = t.apply(&node("n3", true, "192.168.0.3", Some("203.0.113.3")));
    assert_eq!(updated(&out), ["Node/n3", "Service/shop/web"]);
    assert_eq!(addresses(&out).len(), 3);
    // A status write that changes nothing kubezone reads re-translates nothing.
    let out = t.apply(&node("n3", true, "192.168.0.3", Some("203.0.113.3")));
    assert_eq!(updated(&out), ["Node/n3"]);
    // A cordoned node takes no new traffic.
    let cordoned = obj(r#"
apiVersion: v1
kind: Node
metadata: {name: n2}
spec: {unschedulable: true}
status:
  conditions: [{type: Ready, status: "True"}]
  addresses: [{type: ExternalIP, address: 203.0.113.2}]
"#);
    let out = t.apply(&cordoned);
    assert_eq!(
        addresses(&out),
        [
            "0 web.example.com. A 203.0.113.1",
            "0 web.example.com. A 203.0.113.3"
        ]
    );
    let out = t.delete(&ObjectRef::new(Kind::Node, None, "n1"));
    assert_eq!(addresses(&out), ["0 web.example.com. A 203.0.113.3"]);
}

#[test]
fn local_traffic_policy_answers_with_the_nodes_of_ready_endpoints() {
    let mut t = translator(&["example.com"]);
    cluster(&mut t);
    t.apply(&node_port(HOSTNAME, "  externalTrafficPolicy: Local"));
    let out = t.apply(&slice(
        "web-1",
        &[
            ("10.1.0.1", true, "n1", None),
            ("10.1.0.2", false, "n2", None),
        ],
    ));
    assert_eq!(
        updated(&out),
        ["EndpointSlice/shop/web-1", "Service/shop/web"]
    );
    assert_eq!(addresses(&out), ["0 web.example.com. A 203.0.113.1"]);
    // The endpoint on n2 becomes ready.
    let out = t.apply(&slice(
        "web-1",
        &[
            ("10.1.0.1", true, "n1", None),
            ("10.1.0.2", true, "n2", None),
        ],
    ));
    assert_eq!(
        addresses(&out),
        [
            "0 web.example.com. A 203.0.113.1",
            "0 web.example.com. A 203.0.113.2"
        ]
    );
    // n1 goes NotReady: its ready endpoint no longer counts.
    let out = t.apply(&node("n1", false, "192.168.0.1", Some("203.0.113.1")));
    assert_eq!(addresses(&out), ["0 web.example.com. A 203.0.113.2"]);
    // The slice goes away: no node runs an endpoint, the name has no records.
    let out = t.delete(&oref(Kind::EndpointSlice, "shop", "web-1"));
    assert_eq!(
        updated(&out),
        ["EndpointSlice/shop/web-1", "Service/shop/web"]
    );
    assert!(lines(&out, "Service/shop/web").is_empty());
}

#[test]
fn slices_may_come_before_their_service_and_other_services_are_not_touched() {
    let mut t = translator(&["example.com"]);
    cluster(&mut t);
    let out = t.apply(&slice("web-1", &[("10.1.0.1", true, "n2", None)]));
    assert_eq!(updated(&out), ["EndpointSlice/shop/web-1"]);
    let out = t.apply(&node_port(HOSTNAME, "  externalTrafficPolicy: Local"));
    assert_eq!(addresses(&out), ["0 web.example.com. A 203.0.113.2"]);
    // A slice of another Service re-translates only that one.
    let other = obj(r#"
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: db-1, namespace: shop, labels: {kubernetes.io/service-name: db}}
addressType: IPv4
endpoints: [{addresses: ["10.1.9.9"], nodeName: n1}]
"#);
    assert_eq!(updated(&t.apply(&other)), ["EndpointSlice/shop/db-1"]);
}

#[test]
fn access_annotation_and_the_zones_node_address_type() {
    let mut zones = vec![zone("example.com"), zone("internal.example")];
    zones[1].node_port_address = Some(NodeAddressType::InternalIp);
    let mut t = Translator::new(zones);
    cluster(&mut t);
    let both = "  annotations: {external-dns.alpha.kubernetes.io/hostname: \"web.example.com,web.internal.example\"}";
    let out = t.apply(&node_port(both, ""));
    let a: Vec<String> = lines(&out, "Service/shop/web")
        .into_iter()
        .filter(|l| l.contains(" A "))
        .collect();
    assert_eq!(
        a,
        [
            "0 web.example.com. A 203.0.113.1",
            "0 web.example.com. A 203.0.113.2",
            "0 web.example.com. A 203.0.113.3",
            "1 web.internal.example. A 192.168.0.1",
            "1 web.internal.example. A 192.168.0.2",
            "1 web.internal.example. A 192.168.0.3",
        ]
    );
    let private = "  annotations:\n    external-dns.alpha.kubernetes.io/hostname: web.example.com\n    external-dns.kubernetes.io/access: private";
    let out = t.apply(&node_port(private, ""));
    assert_eq!(addresses(&out)[0], "0 web.example.com. A 192.168.0.1");
    let bad = "  annotations:\n    external-dns.alpha.kubernetes.io/hostname: web.example.com\n    external-dns.alpha.kubernetes.io/access: secret";
    let out = t.apply(&node_port(bad, ""));
    assert_one_problem(
        &out,
        "Service/shop/web",
        "metadata.annotations[\"external-dns.alpha.kubernetes.io/access\"]",
        "secret",
    );
    // The name is still served, with the default addresses.
    assert_eq!(addresses(&out)[0], "0 web.example.com. A 203.0.113.1");
}

#[test]
fn nodes_without_external_ips_answer_with_internal_ones() {
    let mut t = translator(&["example.com"]);
    t.apply(&node("n1", true, "192.168.0.1", None));
    let out = t.apply(&node_port(HOSTNAME, ""));
    assert_eq!(addresses(&out), ["0 web.example.com. A 192.168.0.1"]);
}

#[test]
fn a_node_port_service_without_a_name_has_none() {
    let mut t = translator(&["example.com"]);
    cluster(&mut t);
    let out = t.apply(&node_port("", ""));
    assert!(lines(&out, "Service/shop/web").is_empty());
}

fn kuberoute_service(quota: &str) -> KubeObject {
    node_port(
        &format!(
            "  labels: {{kuberoute_domain: example.com, kuberoute_name: quatsch, kuberoute_failover: failover.example.com, kuberoute_quota: \"{quota}\"}}"
        ),
        "",
    )
}

fn quatsch(out: &Translated) -> Vec<String> {
    let records = out
        .updates
        .iter()
        .find(|u| u.object.to_string() == "Service/shop/web")
        .expect("the Service is re-translated");
    lines_of(records)
        .into_iter()
        .filter(|l| l.contains(" quatsch.example.com. "))
        .collect()
}

fn note(out: &Translated) -> String {
    out.updates
        .iter()
        .flat_map(|u| &u.endpoints)
        .find_map(|z| z.endpoint.note.as_deref().map(String::from))
        .expect("a note")
}

#[test]
fn kuberoute_fails_over_below_the_quota_and_comes_back_at_it() {
    let mut t = translator(&["example.com"]);
    cluster(&mut t);
    t.apply(&node("n4", true, "192.168.0.4", Some("203.0.113.4")));
    t.apply(&node("n5", true, "192.168.0.5", Some("203.0.113.5")));
    t.apply(&kuberoute_service("80"));
    let all_ready =
        |ready: usize| -> Vec<(&'static str, bool, &'static str, Option<&'static str>)> {
            ["n1", "n2", "n3", "n4", "n5"]
                .iter()
                .enumerate()
                .map(|(i, n)| {
                    (
                        ["10.1.0.1", "10.1.0.2", "10.1.0.3", "10.1.0.4", "10.1.0.5"][i],
                        i < ready,
                        *n,
                        None,
                    )
                })
                .collect()
        };
    // 4 of 5 nodes ready: exactly the quota, the nodes answer.
    let out = t.apply(&slice("web-1", &all_ready(4)));
    assert_eq!(quatsch(&out).len(), 4, "{:?}", quatsch(&out));
    assert!(
        note(&out).contains("the ready nodes answer"),
        "{}",
        note(&out)
    );
    // 3 of 5: below 80%, a CNAME to the failover name.
    let out = t.apply(&slice("web-1", &all_ready(3)));
    assert_eq!(
        quatsch(&out),
        ["0 quatsch.example.com. CNAME failover.example.com."]
    );
    assert!(
        note(&out).contains("failover to failover.example.com."),
        "{}",
        note(&out)
    );
    // Back to 4 of 5: the nodes again.
    let out = t.apply(&slice("web-1", &all_ready(4)));
    assert_eq!(quatsch(&out).len(), 4);
    // None ready: failover whatever the quota.
    t.apply(&kuberoute_service("0"));
    let out = t.apply(&slice("web-1", &all_ready(0)));
    assert_eq!(
        quatsch(&out),
        ["0 quatsch.example.com. CNAME failover.example.com."]
    );
}

#[test]
fn kuberoute_label_names_are_configurable_and_bad_values_reported() {
    let labels = KuberouteLabels {
        domain: "route/domain".into(),
        name: "route/name".into(),
        failover: "route/failover".into(),
        quota: "route/quota".into(),
    };
    let mut t = translator(&["example.com"]).with_kuberoute(labels);
    cluster(&mut t);
    t.apply(&slice("web-1", &[("10.1.0.1", true, "n1", None)]));
    let out = t.apply(&node_port(
        "  labels: {route/domain: example.com, route/name: quatsch, route/quota: \"120\"}",
        "",
    ));
    assert_one_problem(
        &out,
        "Service/shop/web",
        "metadata.labels[\"route/quota\"]",
        "120",
    );
    assert_eq!(quatsch(&out), ["0 quatsch.example.com. A 203.0.113.1"]);
}

fn headless(meta: &str, spec: &str) -> KubeObject {
    obj(&format!(
        r#"
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: shop
{meta}
spec:
  clusterIP: None
{spec}
"#
    ))
}

#[test]
fn a_headless_service_answers_with_ready_endpoints_and_pod_hostnames() {
    let mut t = translator(&["example.com"]);
    cluster(&mut t);
    t.apply(&slice(
        "web-1",
        &[
            ("10.1.0.1", true, "n1", Some("web-0")),
            ("10.1.0.2", false, "n2", Some("web-1")),
            ("10.1.0.3", true, "n3", None),
        ],
    ));
    let out = t.apply(&headless(HOSTNAME, ""));
    assert!(out.problems.is_empty(), "{:?}", problems(&out));
    assert_eq!(
        lines(&out, "Service/shop/web"),
        [
            "0 web.example.com. A 10.1.0.1",
            "0 web.example.com. A 10.1.0.3",
            "0 web-0.web.example.com. A 10.1.0.1",
        ]
    );
    let out = t.apply(&headless(HOSTNAME, "  publishNotReadyAddresses: true"));
    assert_eq!(lines(&out, "Service/shop/web").len(), 5);
    let node_ips = "  annotations:\n    external-dns.alpha.kubernetes.io/hostname: web.example.com\n    external-dns.alpha.kubernetes.io/endpoints-type: NodeExternalIP";
    let out = t.apply(&headless(node_ips, ""));
    assert_eq!(
        addresses(&out),
        [
            "0 web.example.com. A 203.0.113.1",
            "0 web.example.com. A 203.0.113.3"
        ]
    );
    // Without a name, a headless Service has none.
    assert!(lines(&t.apply(&headless("", "")), "Service/shop/web").is_empty());
}

#[test]
fn internal_hostname_names_the_cluster_ip_and_target_replaces_targets() {
    let mut t = translator(&["example.com"]);
    let out = t.apply(&obj(r#"
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: shop
  annotations:
    external-dns.kubernetes.io/internal-hostname: web.internal.example.com
    zalando.org/dnsname: web.example.com
    external-dns.alpha.kubernetes.io/target: "198.51.100.7,bad name"
    external-dns.kubernetes.io/ttl: 5m
spec:
  type: LoadBalancer
  clusterIP: 10.96.0.10
  clusterIPs: [10.96.0.10, "fd00::10"]
  ports: [{name: https, port: 443}]
status:
  loadBalancer:
    ingress: [{ip: 192.0.2.5}]
"#));
    assert_one_problem(
        &out,
        "Service/shop/web",
        "metadata.annotations[\"external-dns.alpha.kubernetes.io/target\"]",
        "bad name",
    );
    assert_eq!(
        lines(&out, "Service/shop/web"),
        [
            "0 web.internal.example.com. A 10.96.0.10 ttl=300",
            "0 web.internal.example.com. AAAA fd00::10 ttl=300",
            "0 web.example.com. A 198.51.100.7 ttl=300",
            "0 _https._tcp.web.example.com. SRV 0 100 443 web.example.com. ttl=300",
        ]
    );
}

#[test]
fn srv_records_can_be_turned_off_and_skip_cname_targets() {
    let mut zones = vec![zone("example.com")];
    zones[0].srv_records = false;
    let mut t = Translator::new(zones);
    let lb = |status: &str| {
        obj(&format!(
            r#"
apiVersion: v1
kind: Service
metadata: {{name: web, namespace: shop}}
spec:
  type: LoadBalancer
  ports: [{{name: dns, port: 53, protocol: UDP}}]
status:
  loadBalancer:
    ingress: [{status}]
"#
        ))
    };
    let out = t.apply(&lb("{ip: 192.0.2.5}"));
    assert_eq!(
        lines(&out, "Service/shop/web"),
        ["0 web.shop.example.com. A 192.0.2.5"]
    );
    let mut t = translator(&["example.com"]);
    let out = t.apply(&lb("{ip: 192.0.2.5}"));
    assert!(lines(&out, "Service/shop/web").contains(
        &"0 _dns._udp.web.shop.example.com. SRV 0 100 53 web.shop.example.com.".to_string()
    ));
    let out = t.apply(&lb("{hostname: lb.example.net}"));
    assert_eq!(
        lines(&out, "Service/shop/web"),
        ["0 web.shop.example.com. CNAME lb.example.net."]
    );
}
