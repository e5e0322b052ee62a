//! Whole Corefiles → exact configs and warnings.

use super::*;

const HEADER: &str = "# kubezone config migrated from a CoreDNS Corefile by `kubezone migrate`.\n# Check it with `kubezone check --config FILE` before serving it.\n";

/// The Corefile migrates to `yaml` (after the comment header) with exactly `warnings`, and the
/// YAML uses only keys kubezone's strict parser knows.
#[track_caller]
fn assert_migrates(corefile: &str, yaml: &str, warnings: &[&str]) {
    let migration = migrate(corefile).expect("migrates");
    assert_eq!(migration.warnings, warnings);
    let mut expected = HEADER.to_string();
    if warnings.is_empty() {
        expected.push_str("# Every directive was carried over.\n");
    } else {
        expected.push_str("#\n# Not carried over, or different in kubezone:\n");
        for w in warnings {
            expected.push_str(&format!("# - {w}\n"));
        }
    }
    expected.push('\n');
    expected.push_str(yaml.strip_prefix('\n').unwrap_or(yaml));
    assert_eq!(migration.config, expected);
    assert_known_keys(&migration.config);
}

/// Top-level and zone keys of kubezone's config (crates/kubezone/src/config.rs).
fn assert_known_keys(config: &str) {
    let value: serde_norway::Value = serde_norway::from_str(config).expect("YAML");
    let top = value.as_mapping().expect("a mapping");
    for key in top.keys() {
        let key = key.as_str().expect("string key");
        assert!(
            [
                "listen",
                "http",
                "lameduckSeconds",
                "queryLog",
                "kubernetes",
                "upstream",
                "zones",
                "manifests",
                "tcp"
            ]
            .contains(&key),
            "unknown top-level key {key}"
        );
    }
    for zone in top["zones"].as_sequence().expect("zones") {
        for key in zone.as_mapping().expect("zone").keys() {
            let key = key.as_str().expect("string key");
            assert!(
                [
                    "zone",
                    "ttl",
                    "apex",
                    "glue",
                    "secondary",
                    "secondaryGlue",
                    "resources",
                    "ingressClasses",
                    "gatewayClasses",
                    "serviceLabelSelectors",
                    "nodeAddressType",
                    "fallthrough"
                ]
                .contains(&key),
                "unknown zone key {key}"
            );
        }
    }
}

/// The k8s_gateway README's example, in a server block: everything carries over.
#[test]
fn the_k8s_gateway_readme_example() {
    assert_migrates(
        r#".:53 {
    k8s_gateway example.com {
        resources Ingress
        ttl 30
        apex exdns-1-k8s-gateway.kube-system
        secondary exdns-2-k8s-gateway.kube-system
        kubeconfig /.kube/config
    }
}
"#,
        r#"
listen:
- 0.0.0.0:53
zones:
- zone: example.com
  ttl: 30
  apex: exdns-1-k8s-gateway.kube-system
  secondary: exdns-2-k8s-gateway.kube-system
  resources:
  - Ingress
kubernetes:
  kubeconfig: /.kube/config
"#,
        &[],
    );
}

/// The README's zone transfer example: kubezone refuses AXFR.
#[test]
fn the_k8s_gateway_readme_zone_transfer_example() {
    assert_migrates(
        r#".:53 {
    k8s_gateway example.com {
        resources Ingress Service
    }

    transfer {
        to * 192.0.2.1
    }
}
"#,
        r#"
listen:
- 0.0.0.0:53
zones:
- zone: example.com
  ttl: 60
  apex: dns1.kube-system
  resources:
  - Ingress
  - Service
kubernetes: {}
"#,
        &[
            r#"line 6: transfer is not carried over: kubezone refuses zone transfers (AXFR/IXFR); run a second kubezone as the secondary nameserver (zones[].secondary)"#,
        ],
    );
}

/// What the k8s_gateway chart renders with its default values.
#[test]
fn the_k8s_gateway_chart_corefile() {
    assert_migrates(
        r#".:1053 {
    k8s_gateway example.com {
      apex exdns-k8s-gateway.kube-system
      ttl 300
      resources Ingress Service
    }
    log
    errors
    health {
      lameduck 5s
    }
    ready
    prometheus 0.0.0.0:9153
    forward . /etc/resolv.conf
    loop
    reload
    loadbalance
}
"#,
        r#"
listen:
- 0.0.0.0:1053
zones:
- zone: example.com
  ttl: 300
  apex: exdns-k8s-gateway.kube-system
  resources:
  - Ingress
  - Service
kubernetes: {}
http:
  listen: 0.0.0.0:9153
  metrics: true
lameduckSeconds: 5
queryLog: true
"#,
        &[
            r#"line 8: errors: nothing to carry over, kubezone logs its errors itself"#,
            r#"line 9: health: kubezone serves its liveness endpoint on `http.listen` (0.0.0.0:9153), not on 0.0.0.0:8080: point the liveness probe there"#,
            r#"line 12: ready: readiness is built in, kubezone is ready once every watched Kind has been listed; /readyz is on `http.listen` (0.0.0.0:9153), not on 0.0.0.0:8181: point the readiness probe there"#,
            r#"line 13: prometheus: metrics are served at http://0.0.0.0:9153/metrics with kubezone_* names; CoreDNS's coredns_* metrics do not exist, update dashboards and alerts"#,
            r#"line 14: forward is not carried over: without fallthrough it only answered names outside the k8s_gateway zones, and kubezone refuses those (REFUSED) as it is authoritative only; keep a resolver for them"#,
            r#"line 15: loop: nothing to carry over, kubezone does not recurse and cannot loop on itself"#,
            r#"line 16: reload: nothing to carry over, kubezone reloads its config on SIGHUP and when the file changes"#,
            r#"line 17: loadbalance is not carried over: kubezone does not rotate A/AAAA records; resolvers and clients pick among them"#,
        ],
    );
}

#[test]
fn several_zones_ports_and_server_blocks() {
    assert_migrates(
        r#"# Two delegated zones on the standard port, a third on its own port.
example.com example.org:53 {
    k8s_gateway {
        resources HTTPRoute Ingress Service
        fallthrough legacy.example.com
    }
    forward . 192.0.2.1 [2001:db8::1]:5353 {
        policy sequential
    }
    log
}

lab.example.net:1053 {
    k8s_gateway lab.example.net {
        resources DNSEndpoint
        ttl 10
    }
}

.:53 {
    forward . 9.9.9.9
    cache 30
}
"#,
        r#"
listen:
- 0.0.0.0:53
- 0.0.0.0:1053
zones:
- zone: example.com
  ttl: 60
  apex: dns1.kube-system
  resources:
  - HTTPRoute
  - Ingress
  - Service
  fallthrough:
  - legacy.example.com
- zone: example.org
  ttl: 60
  apex: dns1.kube-system
  resources:
  - HTTPRoute
  - Ingress
  - Service
- zone: lab.example.net
  ttl: 10
  apex: dns1.kube-system
  resources:
  - DNSEndpoint
upstream:
- 192.0.2.1
- '[2001:db8::1]:5353'
kubernetes: {}
queryLog: true
"#,
        &[
            r#"line 20: server block `.:53` has no k8s_gateway and is not carried over: kubezone answers only its zones and refuses other names (REFUSED)"#,
            r#"kubezone serves every zone on every `listen` address; CoreDNS served each server block's zones on that block's own addresses only"#,
        ],
    );
}

#[test]
fn every_directive() {
    assert_migrates(
        r#"(common) {
    errors
    prometheus :9153
}

dns://.:5353 {
    import common
    bind 127.0.0.1 ::1
    k8s_gateway Example.COM. {$EXTRA_ZONE} {
        resources Service ingress HTTPRoute Node VirtualServer
        ttl 120
        apex ns1.dns
        secondary ns2.dns
        kubeconfig kube/config prod
        fallthrough example.com
        ingressClasses nginx traefik
        gatewayClasses cilium
        serviceLabelSelectors "app in (web, api)" tier=frontend
        nodeAddressType ExternalIP
        clientFiltering
        soa 7200 1800 86400
        loadBalancerAddressPreference ip
        hostmaster admin
    }
    forward . dns://10.0.0.10 tls://1.1.1.1 /etc/resolv.conf {
        max_fails 3
        policy random
    }
    health localhost:8080 {
        lameduck 1500ms
    }
    ready
    log . "{common} {rcode}"
    template IN A acme.example.com {
        answer "{{ .Name }} 60 IN A 192.0.2.1"
    }
    transfer {
        to *
    }
    whoami
    import extra/*.conf
}
"#,
        r#"
listen:
- 127.0.0.1:5353
- '[::1]:5353'
zones:
- zone: example.com
  ttl: 120
  apex: ns1.dns
  secondary: ns2.dns
  resources:
  - Service
  - Ingress
  - HTTPRoute
  - Node
  ingressClasses:
  - nginx
  - traefik
  gatewayClasses:
  - cilium
  serviceLabelSelectors:
  - app in (web, api)
  - tier=frontend
  nodeAddressType: ExternalIP
  fallthrough: true
- zone: '{$EXTRA_ZONE}'
  ttl: 120
  apex: ns1.dns
  secondary: ns2.dns
  resources:
  - Service
  - Ingress
  - HTTPRoute
  - Node
  ingressClasses:
  - nginx
  - traefik
  gatewayClasses:
  - cilium
  serviceLabelSelectors:
  - app in (web, api)
  - tier=frontend
  nodeAddressType: ExternalIP
upstream:
- 10.0.0.10
kubernetes:
  kubeconfig: kube/config
  context: prod
http:
  listen: 0.0.0.0:9153
  metrics: true
lameduckSeconds: 2
queryLog: true
"#,
        &[
            r#"line 2: errors: nothing to carry over, kubezone logs its errors itself"#,
            r#"line 3: prometheus: metrics are served at http://0.0.0.0:9153/metrics with kubezone_* names; CoreDNS's coredns_* metrics do not exist, update dashboards and alerts"#,
            r#"line 9: {$EXTRA_ZONE} is an environment placeholder, left as-is: kubezone's config does not expand environment variables, write its value"#,
            r#"line 10: resource "ingress" is carried over as Ingress; k8s_gateway matches the exact spelling and ignored it"#,
            r#"line 10: resource "VirtualServer" is not carried over: kubezone serves HTTPRoute, TLSRoute, GRPCRoute, Ingress, Service, DNSEndpoint, Node"#,
            r#"line 14: kubeconfig kube/config is relative: kubezone resolves it against the config file's folder, CoreDNS against its working directory"#,
            r#"line 20: clientFiltering is not carried over: kubezone does not filter answers by EDNS Client Subnet; every address of a name is answered"#,
            r#"line 21: k8s_gateway `soa` (refresh, retry, expire) is not carried over: kubezone sets the SOA timers itself"#,
            r#"line 23: unknown k8s_gateway directive `hostmaster` is not carried over"#,
            r#"line 25: forward also answered names outside the k8s_gateway zones; kubezone refuses those (REFUSED) as it is authoritative only; keep a resolver for them"#,
            r#"line 25: forward to tls://1.1.1.1 cannot be carried over: kubezone forwards over plain DNS (UDP, TCP on truncation), not DNS over TLS"#,
            r#"line 25: forward to /etc/resolv.conf cannot be carried over: kubezone does not read resolver files; put the resolvers' addresses (ip or ip:port) in `upstream`"#,
            r#"line 26: forward option `max_fails` is not carried over: kubezone tries the upstreams in order over UDP, retrying over TCP when an answer is truncated"#,
            r#"line 27: forward option `policy` is not carried over: kubezone tries the upstreams in order over UDP, retrying over TCP when an answer is truncated"#,
            r#"line 29: health: kubezone serves its liveness endpoint on `http.listen` (0.0.0.0:9153), not on 127.0.0.1:8080: point the liveness probe there"#,
            r#"line 30: lameduck 1500ms is rounded up to 2 seconds"#,
            r#"line 32: ready: readiness is built in, kubezone is ready once every watched Kind has been listed; /readyz is on `http.listen` (0.0.0.0:9153), not on 0.0.0.0:8181: point the readiness probe there"#,
            r#"line 33: log: its names, format and classes are not carried over; `queryLog: true` logs every query in kubezone's format"#,
            r#"line 34: plugin `template` is not carried over: kubezone serves only what Kubernetes objects publish; publish such records as DNSEndpoint objects (in the cluster or in `manifests`)"#,
            r#"line 37: transfer is not carried over: kubezone refuses zone transfers (AXFR/IXFR); run a second kubezone as the secondary nameserver (zones[].secondary)"#,
            r#"line 40: plugin `whoami` is not carried over: kubezone has no equivalent"#,
            r#"line 41: `import extra/*.conf` is not followed: no snippet of that name is defined above it, and files are not read; paste the imported directives in its place and migrate again"#,
        ],
    );
}

#[test]
fn fallthrough_applies_per_zone_and_needs_a_usable_forward() {
    assert_migrates(
        r#".:53 {
    k8s_gateway a.example b.example {
        resources Ingress
        fallthrough old.a.example other.test
    }
    forward a.example 192.0.2.53 192.0.2.54
}
other.example {
    k8s_gateway {
        resources Service
        fallthrough
    }
    forward . /etc/resolv.conf
}
third.example {
    k8s_gateway {
        resources Service
        fallthrough
    }
}
"#,
        r#"
listen:
- 0.0.0.0:53
zones:
- zone: a.example
  ttl: 60
  apex: dns1.kube-system
  resources:
  - Ingress
  fallthrough:
  - old.a.example
- zone: b.example
  ttl: 60
  apex: dns1.kube-system
  resources:
  - Ingress
- zone: other.example
  ttl: 60
  apex: dns1.kube-system
  resources:
  - Service
- zone: third.example
  ttl: 60
  apex: dns1.kube-system
  resources:
  - Service
upstream:
- 192.0.2.53
- 192.0.2.54
kubernetes: {}
"#,
        &[
            r#"line 4: fallthrough zone other.test is outside k8s_gateway's zones and had no effect"#,
            r#"line 6: forward also answered names outside the k8s_gateway zones; kubezone refuses those (REFUSED) as it is authoritative only; keep a resolver for them"#,
            r#"line 6: forward FROM a.example: kubezone sends every fallthrough query to `upstream`, whatever its name"#,
            r#"line 6: forward picked among its targets at random; kubezone tries `upstream` in order"#,
            r#"line 11: fallthrough is not carried over: kubezone's fallthrough forwards to `upstream`, and none of the targets of the forward on line 13 can be one; add `upstream` and `fallthrough` by hand"#,
            r#"line 13: forward to /etc/resolv.conf cannot be carried over: kubezone does not read resolver files; put the resolvers' addresses (ip or ip:port) in `upstream`"#,
            r#"line 18: fallthrough is not carried over: it passed unanswered names to the next plugin, and this server block has no forward; kubezone's fallthrough only forwards to `upstream`"#,
        ],
    );
}

#[test]
fn one_cluster_one_http_listener_one_zone_each() {
    assert_migrates(
        r#"example.com:53 {
    k8s_gateway example.com {
        resources Ingress
        kubeconfig /etc/kube/a.yaml
    }
    prometheus :9153
    health {
        lameduck 10s
    }
}
example.com:1053 example.org:1053 {
    k8s_gateway {
        resources Service
        kubeconfig /etc/kube/b.yaml
    }
    prometheus :9253
    health {
        lameduck 5s
    }
}
"#,
        r#"
listen:
- 0.0.0.0:53
- 0.0.0.0:1053
zones:
- zone: example.com
  ttl: 60
  apex: dns1.kube-system
  resources:
  - Ingress
- zone: example.org
  ttl: 60
  apex: dns1.kube-system
  resources:
  - Service
kubernetes:
  kubeconfig: /etc/kube/a.yaml
http:
  listen: 0.0.0.0:9153
  metrics: true
lameduckSeconds: 10
"#,
        &[
            r#"line 6: prometheus: metrics are served at http://0.0.0.0:9153/metrics with kubezone_* names; CoreDNS's coredns_* metrics do not exist, update dashboards and alerts"#,
            r#"line 7: health: kubezone serves its liveness endpoint on `http.listen` (0.0.0.0:9153), not on 0.0.0.0:8080: point the liveness probe there"#,
            r#"line 12: this k8s_gateway watches another cluster than line 2's: kubezone watches one cluster, the first one is carried over"#,
            r#"line 12: zone example.com is also served on line 2 with other settings: kubezone serves a zone once, the first one is carried over"#,
            r#"line 16: prometheus differs from line 6's; kubezone has one, the first is carried over"#,
            r#"line 18: lameduck differs from line 8's; kubezone has one, the first is carried over"#,
            r#"kubezone serves every zone on every `listen` address; CoreDNS served each server block's zones on that block's own addresses only"#,
        ],
    );
}

#[test]
fn a_braceless_block_and_k8s_gateway_defaults() {
    assert_migrates(
        r#"example.com
k8s_gateway
"#,
        r#"
listen:
- 0.0.0.0:53
zones:
- zone: example.com
  ttl: 60
  apex: dns1.kube-system
  resources:
  - Ingress
  - Service
kubernetes: {}
"#,
        &[
            r#"line 2: k8s_gateway without `resources` serves Ingress and Service only: carried over as `resources: [Ingress, Service]` (kubezone's own default adds HTTPRoute, TLSRoute, GRPCRoute and DNSEndpoint)"#,
        ],
    );
}

#[test]
fn broken_corefiles_are_errors_with_their_line() {
    for (corefile, error) in [
        (
            ".:53 {\n    k8s_gateway example.com {\n        resources Ingress\n    }\n}\n    log\n}\n",
            "line 7: unbalanced `}`",
        ),
        (
            ".:53 {\n    k8s_gateway example.com {\n        resources Ingress\n}\n",
            "line 1: `{` is never closed",
        ),
        (
            ".:53 {\n    k8s_gateway example.com {\n        serviceLabelSelectors \"app=web\n    }\n}\n",
            "line 3: unterminated quoted string",
        ),
        (
            "k8s_gateway example.com {\n    resources Ingress\n}\n",
            "line 1: k8s_gateway must be inside a server block, e.g. `.:53 { k8s_gateway example.com }`",
        ),
        (
            ".:53 {\n    forward . 1.1.1.1\n}\n",
            "the Corefile has no k8s_gateway plugin: there is nothing to migrate",
        ),
        (
            "",
            "the Corefile has no k8s_gateway plugin: there is nothing to migrate",
        ),
        (
            ".:53 {\n    log\n    k8s_gateway\n}\n",
            "line 3: k8s_gateway names no zone kubezone can serve",
        ),
    ] {
        let err = migrate(corefile).expect_err(corefile);
        assert_eq!(err.to_string(), error, "{corefile:?}");
    }
}

#[test]
fn a_root_zone_is_left_out_with_a_warning() {
    let migration =
        migrate(".:53 {\n    k8s_gateway . example.com {\n        resources Service\n    }\n}\n")
            .expect("migrates");
    assert_eq!(
        migration.warnings,
        [
            "line 2: zone `.` (the root) is not carried over: kubezone serves named zones; name them on the k8s_gateway line"
        ]
    );
    assert!(migration.config.contains("- zone: example.com\n"));
    assert!(!migration.config.contains("zone: ."));
}

#[test]
fn warnings_are_comments_above_the_yaml() {
    let migration =
        migrate(".:53 {\n    k8s_gateway example.com\n    whoami\n}\n").expect("migrates");
    let comments: Vec<&str> = migration
        .config
        .lines()
        .take_while(|l| l.starts_with('#'))
        .collect();
    for warning in &migration.warnings {
        assert!(
            comments.contains(&format!("# - {warning}").as_str()),
            "{warning} is not in {comments:?}"
        );
    }
    let value: serde_norway::Value = serde_norway::from_str(&migration.config).expect("YAML");
    assert_eq!(value["zones"][0]["zone"].as_str(), Some("example.com"));
}

#[test]
fn encrypted_transports_and_interface_binds_are_not_carried_over() {
    let migration = migrate(
        "tls://example.com:853 {\n    k8s_gateway {\n        resources Ingress\n    }\n}\nexample.org:5353 {\n    bind eth0 192.0.2.10\n    k8s_gateway example.org {\n        resources Ingress\n    }\n}\n",
    )
    .expect("migrates");
    assert_eq!(
        migration.warnings,
        [
            "line 1: `tls://example.com:853` is DNS over TLS: kubezone serves plain DNS over UDP and TCP only, so its port is not carried over",
            "line 7: bind \"eth0\" is not carried over: kubezone listens on IP addresses, not interface names",
            "kubezone serves every zone on every `listen` address; CoreDNS served each server block's zones on that block's own addresses only",
        ]
    );
    let config: serde_norway::Value = serde_norway::from_str(&migration.config).expect("YAML");
    assert_eq!(
        config["listen"],
        serde_norway::from_str::<serde_norway::Value>("['192.0.2.10:5353']").expect("YAML")
    );
    assert_eq!(config["zones"][0]["zone"].as_str(), Some("example.com"));
    assert_eq!(config["zones"][1]["zone"].as_str(), Some("example.org"));
}
