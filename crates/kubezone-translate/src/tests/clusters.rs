//! Objects of one of several clusters: per-cluster default names, global marks and selectors,
//! the preference annotation, and joins that stay inside a cluster.

use kubezone_model::{ClusterId, Preference};

use super::*;
use crate::{GlobalNames, LabelSelector};

fn east() -> ClusterId {
    ClusterId::new(0, "east")
}

fn service(meta: &str) -> KubeObject {
    obj(&format!(
        r#"
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: shop
{meta}
spec:
  type: LoadBalancer
  ports: [{{port: 443}}]
status:
  loadBalancer:
    ingress: [{{ip: 192.0.2.5}}]
"#
    ))
}

/// `<zone> <name> <global>` per endpoint.
fn names_of(translator: &mut Translator, object: &KubeObject) -> (Vec<String>, Vec<String>) {
    let reference = ObjectRef::in_cluster(Some(east()), Kind::Service, Some("shop"), "web");
    let out = translator.apply_as(object, reference, 0);
    let update = out.updates.first().expect("an update");
    assert_eq!(update.object.to_string(), "Service/shop/web@east");
    let names = update
        .endpoints
        .iter()
        .map(|z| {
            let global = z.endpoint.global.map_or("-", Preference::as_str);
            format!("{} {} {global}", z.zone, z.endpoint.name)
        })
        .collect();
    (names, problems(&out))
}

#[test]
fn a_service_of_a_cluster_is_named_in_its_cluster() {
    let mut t = translator(&["example.com"]);
    let (names, problems) = names_of(&mut t, &service(""));
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(names, ["0 web.shop.east.example.com. -"]);
}

#[test]
fn a_global_service_is_also_named_without_its_cluster() {
    for meta in [
        "  labels: {kubezone.io/global: \"true\"}",
        "  annotations: {kubezone.io/global: \"true\"}",
        "  labels: {mirror.semaphore.uw.io/global-service: \"true\"}",
    ] {
        let mut t = translator(&["example.com"]);
        let (names, problems) = names_of(&mut t, &service(meta));
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(
            names,
            [
                "0 web.shop.east.example.com. -",
                "0 web.shop.example.com. all"
            ],
            "{meta}"
        );
    }
}

#[test]
fn semaphore_s_local_first_strategy_is_read() {
    let mut t = translator(&["example.com"]);
    let (names, _) = names_of(
        &mut t,
        &service(
            "  labels: {mirror.semaphore.uw.io/global-service: \"true\", mirror.semaphore.uw.io/global-service-routing-strategy: local-first}",
        ),
    );
    assert_eq!(
        names,
        [
            "0 web.shop.east.example.com. -",
            "0 web.shop.example.com. local-first"
        ]
    );
}

#[test]
fn a_zone_selector_and_preference_make_a_service_global() {
    let mut zone = zone("example.com");
    zone.global = GlobalNames {
        selector: Some("tier=front".parse::<LabelSelector>().expect("selector")),
        preference: Preference::LocalFirst,
    };
    let mut t = Translator::new(vec![zone]);
    let (names, _) = names_of(&mut t, &service("  labels: {tier: front}"));
    assert_eq!(
        names,
        [
            "0 web.shop.east.example.com. -",
            "0 web.shop.example.com. local-first"
        ]
    );
    // The annotation overrides the zone's preference; a hostname is global too.
    let (names, _) = names_of(
        &mut t,
        &service(
            "  labels: {tier: front}\n  annotations: {kubezone.io/preference: all, external-dns.alpha.kubernetes.io/hostname: shop.example.com}",
        ),
    );
    assert_eq!(names, ["0 shop.example.com. all"]);
    let (_, problems) = names_of(
        &mut t,
        &service("  labels: {tier: front}\n  annotations: {kubezone.io/preference: nearest}"),
    );
    assert_eq!(
        problems,
        [
            "Service/shop/web@east: metadata.annotations[kubezone.io/preference] = \"nearest\": unknown value; expected all or local-first"
        ]
    );
}

#[test]
fn an_endpoint_slice_joins_the_service_of_its_own_cluster_only() {
    let mut t = translator(&["example.com"]);
    let node_port = obj(r#"
apiVersion: v1
kind: Service
metadata:
  name: np
  namespace: shop
  annotations: {external-dns.alpha.kubernetes.io/hostname: np.example.com}
spec:
  type: NodePort
  externalTrafficPolicy: Local
  ports: [{port: 80, nodePort: 30080}]
"#);
    let east_ref = ObjectRef::in_cluster(Some(east()), Kind::Service, Some("shop"), "np");
    t.apply_as(&node_port, east_ref, 0);
    let slice = obj(r#"
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: np-1
  namespace: shop
  labels: {kubernetes.io/service-name: np}
addressType: IPv4
endpoints:
- addresses: [10.0.0.1]
  nodeName: n1
  conditions: {ready: true}
"#);
    // A slice of another cluster names the Service of that cluster, which is not there.
    let west = ObjectRef::in_cluster(
        Some(ClusterId::new(1, "west")),
        Kind::EndpointSlice,
        Some("shop"),
        "np-1",
    );
    let out = t.apply_as(&slice, west, 0);
    assert!(
        !updated(&out).contains(&"Service/shop/np@east".to_string()),
        "{:?}",
        updated(&out)
    );
    let east_slice = ObjectRef::in_cluster(Some(east()), Kind::EndpointSlice, Some("shop"), "np-1");
    let out = t.apply_as(&slice, east_slice, 0);
    assert!(
        updated(&out).contains(&"Service/shop/np@east".to_string()),
        "{:?}",
        updated(&out)
    );
}

#[test]
fn a_name_template_reads_the_cluster() {
    let mut zone = zone("example.com");
    zone.name_template = Some(
        "{{.Name}}-{{.Cluster}}.example.com"
            .parse()
            .expect("template"),
    );
    let mut t = Translator::new(vec![zone]);
    let (names, problems) = names_of(&mut t, &service(""));
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(names, ["0 web-east.example.com. -"]);
}
