//! The ClusterRole: the chart's own file by default, and only the resources the zones watch.

use super::*;

const CLUSTER_ROLE_FILE: &str = include_str!("../../../charts/kubezone/files/clusterrole.yaml");

/// (apiGroup, resource, verbs) of every rule, in order.
fn rule_set(rules: &Value) -> Vec<(String, String, Vec<String>)> {
    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .expect("a list")
            .iter()
            .map(|s| s.as_str().expect("a string").to_owned())
            .collect()
    };
    let mut out = Vec::new();
    for rule in rules.as_array().expect("rules") {
        for group in strings(&rule["apiGroups"]) {
            for resource in strings(&rule["resources"]) {
                out.push((group.clone(), resource, strings(&rule["verbs"])));
            }
        }
    }
    out
}

fn file_rules() -> Value {
    let role: serde_norway::Value =
        serde_norway::from_str(CLUSTER_ROLE_FILE).expect("files/clusterrole.yaml");
    serde_json::to_value(role).expect("as JSON")["rules"].clone()
}

fn resources(rendered: &Rendered) -> BTreeSet<(String, String)> {
    rule_set(&rendered.one("ClusterRole")["rules"])
        .into_iter()
        .map(|(group, resource, verbs)| {
            // Events are written, never read; everything else is read, never written.
            let expected: &[&str] = if resource == "events" {
                &["create", "patch"]
            } else {
                &["get", "list", "watch"]
            };
            assert_eq!(verbs, expected, "verbs of {resource}");
            (group, resource)
        })
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> BTreeSet<(String, String)> {
    list.iter()
        .map(|(g, r)| ((*g).to_owned(), (*r).to_owned()))
        .collect()
}

#[test]
fn default_cluster_role_has_exactly_the_files_rules() {
    let rendered = render("domain: example.com\n");
    let role = rendered.one("ClusterRole");
    assert_eq!(rule_set(&role["rules"]), rule_set(&file_rules()));
    assert_eq!(role["metadata"]["name"], fullname());
    assert_eq!(
        role["metadata"]["labels"]["app.kubernetes.io/instance"],
        RELEASE
    );
    let binding = rendered.one("ClusterRoleBinding");
    assert_eq!(
        binding["roleRef"],
        json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": fullname()})
    );
}

#[test]
fn watched_resources_shrink_the_cluster_role() {
    let cases: [(&str, &[(&str, &str)]); 5] = [
        // Services stay: the glue is read from the apex Service. Events are written on objects
        // not served in full.
        (
            "[Ingress]",
            &[
                ("", "services"),
                ("networking.k8s.io", "ingresses"),
                ("events.k8s.io", "events"),
            ],
        ),
        // Services bring their EndpointSlices and the Nodes (NodePort and headless Services).
        (
            "[HTTPRoute, Service]",
            &[
                ("", "services"),
                ("", "nodes"),
                ("", "namespaces"),
                ("discovery.k8s.io", "endpointslices"),
                ("gateway.networking.k8s.io", "gateways"),
                ("gateway.networking.k8s.io", "listenersets"),
                ("gateway.networking.k8s.io", "httproutes"),
                ("events.k8s.io", "events"),
            ],
        ),
        (
            "[Node]",
            &[("", "services"), ("", "nodes"), ("events.k8s.io", "events")],
        ),
        (
            "[DNSEndpoint, tlsroute, GRPCRoute]",
            &[
                ("", "services"),
                ("", "namespaces"),
                ("gateway.networking.k8s.io", "gateways"),
                ("gateway.networking.k8s.io", "listenersets"),
                ("gateway.networking.k8s.io", "grpcroutes"),
                ("gateway.networking.k8s.io", "tlsroutes"),
                ("externaldns.k8s.io", "dnsendpoints"),
                ("events.k8s.io", "events"),
            ],
        ),
        (
            "[UDPRoute, tcproute]",
            &[
                ("", "services"),
                ("", "namespaces"),
                ("gateway.networking.k8s.io", "gateways"),
                ("gateway.networking.k8s.io", "listenersets"),
                ("gateway.networking.k8s.io", "tcproutes"),
                ("gateway.networking.k8s.io", "udproutes"),
                ("events.k8s.io", "events"),
            ],
        ),
    ];
    for (watched, expected) in cases {
        let rendered = render(&format!(
            "domain: example.com\nwatchedResources: {watched}\n"
        ));
        assert_eq!(
            resources(&rendered),
            pairs(expected),
            "watchedResources {watched}"
        );
        let listed: Value = serde_norway::from_str::<serde_norway::Value>(watched)
            .map(|v| serde_json::to_value(v).expect("JSON"))
            .expect("YAML list");
        assert_eq!(rendered.config()["zones"][0]["resources"], listed);
    }

    // Without Events, no write at all; a namespaceSelector reads Namespaces.
    let rendered = render(
        "domain: example.com\nwatchedResources: [Ingress]\nevents: false\ntenancy: {namespaceSelector: team=web}\n",
    );
    assert_eq!(
        resources(&rendered),
        pairs(&[
            ("", "services"),
            ("", "namespaces"),
            ("networking.k8s.io", "ingresses")
        ])
    );
    assert_eq!(rendered.config()["kubernetes"]["events"], false);
    assert_eq!(
        rendered.config()["zones"][0]["namespaceSelector"],
        "team=web"
    );
    // The whole file without watchedResources, but for Events when they are off.
    let rendered = render("domain: example.com\nevents: false\n");
    assert!(
        !resources(&rendered).contains(&("events.k8s.io".to_owned(), "events".to_owned())),
        "events: false"
    );

    let error = template_fails("domain: example.com\nwatchedResources: [Ingress, Pod]\n");
    assert!(error.contains("\"Pod\" is not one of"), "{error}");
}
