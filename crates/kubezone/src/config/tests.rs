use super::*;
use kubezone_guard::{AclAction, AclConfig, IpNet, RateLimitConfig, ResponseKey, ResponseKind};
use kubezone_translate::GatewayConsent;

fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::parse(Path::new("/etc/kubezone/kubezone.yaml"), text)
}

#[test]
fn the_issue_example_parses_with_its_meanings() {
    let config = parse(
        r#"
listen: ["127.0.0.1:1053"]
zones:
  - zone: example.com
    ttl: 60
    apex: dns1.kube-system
    secondary: dns2.kube-system
    resources: [HTTPRoute, TLSRoute, GRPCRoute, Ingress, Service, DNSEndpoint]
    ingressClasses: []
    gatewayClasses: []
    serviceLabelSelectors: ["app=web", "tier in (a,b)"]
    fallthrough: false
upstream: []
manifests: [examples]
"#,
    )
    .expect("valid");
    assert_eq!(config.listen, ["127.0.0.1:1053".parse().expect("addr")]);
    let zone = &config.zones[0];
    assert_eq!(zone.index.origin.to_string(), "example.com.");
    assert_eq!(
        zone.index.nameserver.name.to_string(),
        "dns1.kube-system.example.com."
    );
    assert_eq!(
        zone.index.secondary.as_ref().map(|s| s.name.to_string()),
        Some("dns2.kube-system.example.com.".to_string())
    );
    assert_eq!(zone.index.precedence, Kind::DEFAULT_RESOURCES);
    assert_eq!(zone.filter.service_selectors.len(), 2);
    assert_eq!(zone.fallthrough, Fallthrough::Off);
    assert_eq!(config.manifests, [PathBuf::from("/etc/kubezone/examples")]);
}

#[test]
fn an_unknown_key_is_named() {
    let err = parse("zones: [{zone: example.com, tll: 60}]").expect_err("typo");
    assert!(err.to_string().contains("tll"), "{err}");
    let err = parse("zones: [{zone: example.com}]\nlisten_on: []").expect_err("typo");
    assert!(err.to_string().contains("listen_on"), "{err}");
}

#[test]
fn bad_values_are_named_with_their_key() {
    for (text, key, value) in [
        ("zones: [{zone: 'bad zone'}]", "zones[0].zone", "bad zone"),
        (
            "zones: [{zone: example.com, resources: [Pod]}]",
            "zones[0].resources[0]",
            "Pod",
        ),
        (
            "zones: [{zone: example.com}]\nlisten: [localhost]",
            "listen[0]",
            "localhost",
        ),
        (
            "zones: [{zone: example.com}]\nupstream: [nowhere]",
            "upstream[0]",
            "nowhere",
        ),
        (
            "zones: [{zone: example.com, serviceLabelSelectors: ['app in (']}]",
            "zones[0].serviceLabelSelectors[0]",
            "app in (",
        ),
        (
            "zones: [{zone: example.com, resources: [HTTPRoute, Namespace]}]",
            "zones[0].resources[1]",
            "Namespace owns no names",
        ),
        (
            "zones: [{zone: example.com, gatewayConsent: trust}]",
            "zones[0].gatewayConsent",
            "trust",
        ),
        (
            "zones: [{zone: example.com}, {zone: 300.10.in-addr.arpa}]",
            "zones[1].zone",
            "label \"300\" is not an octet",
        ),
        (
            "zones: [{zone: db8.1.0.0.2.ip6.arpa}]",
            "zones[0].zone",
            "label \"db8\" is not a nibble",
        ),
        (
            "zones: [{zone: a.org}, {zone: example.com, nameTemplate: '{{ .Name '}]",
            "zones[1].nameTemplate",
            "{{ .Name ",
        ),
        (
            "zones: [{zone: example.com, nameTemplate: '{{ upper .Name }}.example.com'}]",
            "zones[0].nameTemplate",
            "function upper not defined",
        ),
        (
            "zones: [{zone: example.com, nameTemplate: '{{ .name }}.example.com'}]",
            "zones[0].nameTemplate",
            "no field .name",
        ),
        (
            "zones: [{zone: example.com, annotationFilter: 'dns in (a'}]",
            "zones[0].annotationFilter",
            "dns in (a",
        ),
    ] {
        let err = parse(text).expect_err(text).to_string();
        assert!(err.contains(key), "{err} should name {key}");
        assert!(err.contains(value), "{err} should name {value}");
    }
}

#[test]
fn fallthrough_needs_an_upstream_and_takes_sub_zones() {
    let err = parse("zones: [{zone: example.com, fallthrough: true}]").expect_err("no upstream");
    assert!(err.to_string().contains("upstream"), "{err}");
    let config = parse(
            "zones: [{zone: example.com, fallthrough: [legacy, old.example.com]}]\nupstream: ['127.0.0.1:5300', '::1']",
        )
        .expect("valid");
    let Fallthrough::Zones(names) = &config.zones[0].fallthrough else {
        panic!("expected sub-zones");
    };
    let names: Vec<_> = names.iter().map(ToString::to_string).collect();
    assert_eq!(names, ["legacy.example.com.", "old.example.com."]);
    assert_eq!(config.upstream[1], "[::1]:53".parse().expect("addr"));
}

#[test]
fn forwarding_keys_are_named_with_their_section() {
    let config = parse("zones: [{zone: example.com}]").expect("valid");
    assert_eq!(config.forwarding, ForwardSettings::default());
    assert_eq!(config.forwarding.max_in_flight, 1000);
    let config =
        parse("zones: [{zone: example.com}]\nforwarding: {maxInFlight: 64}").expect("valid");
    assert_eq!(config.forwarding.max_in_flight, 64);
    let err = parse("zones: [{zone: example.com}]\nforwarding: {maxInFlight: 0}").expect_err("0");
    assert!(
        err.to_string()
            .contains("forwarding.maxInFlight: 0 is out of range 1..=10000"),
        "{err}"
    );
    let err = parse("zones: [{zone: example.com}]\nforwarding: {maxInflight: 5}")
        .expect_err("unknown key");
    assert!(err.to_string().contains("maxInflight"), "{err}");
}

#[test]
fn gateway_consent_is_status_unless_a_zone_trusts_the_listeners() {
    let config = parse(
            "zones: [{zone: example.com}, {zone: example.org, gatewayConsent: listeners}, {zone: example.net, gatewayConsent: status}]",
        )
        .expect("valid");
    let consent: Vec<GatewayConsent> = config
        .zones
        .iter()
        .map(|z| z.filter.gateway_consent)
        .collect();
    assert_eq!(
        consent,
        [
            GatewayConsent::Status,
            GatewayConsent::Listeners,
            GatewayConsent::Status
        ]
    );
}

#[test]
fn defaults_serve_out_of_the_box() {
    let config = parse("zones: [{zone: example.com}]").expect("valid");
    assert_eq!(config.listen, ["127.0.0.1:1053".parse().expect("addr")]);
    assert_eq!(config.zones[0].index.ttl, 60);
    assert_eq!(
        config.zones[0].index.nameserver.name.to_string(),
        "dns1.kube-system.example.com."
    );
}

#[test]
fn the_kubernetes_section_resolves_paths_and_checks_namespaces() {
    let config = parse(
            "zones: [{zone: example.com}]\nkubernetes: {kubeconfig: kube/config, context: prod, namespaces: [a, b, a]}",
        )
        .expect("valid");
    assert_eq!(
        config.kubernetes,
        Some(ClusterConfig {
            kubeconfig: Some(PathBuf::from("/etc/kubezone/kube/config")),
            context: Some("prod".into()),
            namespaces: vec!["a".into(), "b".into()],
            events: true,
        })
    );
    let config = parse("zones: [{zone: example.com}]\nkubernetes: {}").expect("valid");
    assert_eq!(config.kubernetes, Some(ClusterConfig::default()));
    assert_eq!(
        parse("zones: [{zone: example.com}]")
            .map(|c| c.kubernetes.is_none())
            .ok(),
        Some(true)
    );
    let err = parse("zones: [{zone: example.com}]\nkubernetes: {namespaces: [Shop]}")
        .expect_err("not a namespace");
    assert!(
        err.to_string().contains("kubernetes.namespaces[0]"),
        "{err}"
    );
    assert!(err.to_string().contains("Shop"), "{err}");
    let err =
        parse("zones: [{zone: example.com}]\nkubernetes: {namespace: [a]}").expect_err("typo");
    assert!(err.to_string().contains("namespace"), "{err}");
}

#[test]
fn http_lameduck_and_query_log() {
    let config = parse("zones: [{zone: example.com}]").expect("valid");
    assert_eq!(config.http, None, "no HTTP listener unless asked for");
    assert_eq!(config.lameduck, Duration::from_secs(5));
    assert!(!config.query_log);
    let config = parse(
            "zones: [{zone: example.com}]\nhttp: {listen: '0.0.0.0:8080'}\nlameduckSeconds: 0\nqueryLog: true",
        )
        .expect("valid");
    assert_eq!(
        config.http,
        Some(HttpConfig {
            listen: "0.0.0.0:8080".parse().expect("addr"),
            metrics: true
        })
    );
    assert_eq!(config.lameduck, Duration::ZERO);
    assert!(config.query_log);
    let err = parse("zones: [{zone: example.com}]\nhttp: {listen: ':8080'}").expect_err("bad");
    assert!(err.to_string().contains("http.listen"), "{err}");
    let err = parse("zones: [{zone: example.com}]\nhttp: {listen: '127.0.0.1:1053'}")
        .expect_err("same as DNS");
    assert!(err.to_string().contains("http.listen"), "{err}");
    for (dns, http, says) in [
        (
            "[::]:53",
            "0.0.0.0:53",
            "0.0.0.0:53 is also a DNS address in `listen`",
        ),
        (
            "0.0.0.0:53",
            "[::]:53",
            "[::]:53 shares 0.0.0.0:53 with `listen`",
        ),
    ] {
        let err = parse(&format!(
            "zones: [{{zone: example.com}}]\nlisten: ['{dns}']\nhttp: {{listen: '{http}'}}"
        ))
        .expect_err("both take 0.0.0.0:53");
        assert!(
            err.to_string().contains(&format!("http.listen: {says}")),
            "{err}"
        );
    }
    parse("zones: [{zone: example.com}]\nlisten: ['[::]:53']\nhttp: {listen: '[::]:8080'}")
        .expect("apart");
}

#[test]
fn glue_comes_from_the_apex_service_unless_configured() {
    let config = parse(
            "zones: [{zone: a.example, apex: ns.dns}, {zone: b.example, glue: [192.0.2.1]}, {zone: c.example, apex: ns}]",
        )
        .expect("valid");
    let glue: Vec<Option<String>> = config
        .zones
        .iter()
        .map(|z| z.glue_services.nameserver.as_ref().map(ToString::to_string))
        .collect();
    assert_eq!(glue, [Some("dns/ns".to_string()), None, None]);
    let config = parse(
            "zones: [{zone: a.example, secondary: dns2.kube-system}, {zone: b.example, secondary: ns2, secondaryGlue: [192.0.2.2]}]",
        )
        .expect("valid");
    let secondary: Vec<Option<String>> = config
        .zones
        .iter()
        .map(|z| z.glue_services.secondary.as_ref().map(ToString::to_string))
        .collect();
    assert_eq!(secondary, [Some("kube-system/dns2".to_string()), None]);
}

#[test]
fn resources_accept_any_case_but_not_twice() {
    let config =
        parse("zones: [{zone: example.com, resources: [ingress, service, Node]}]").expect("valid");
    assert_eq!(
        config.zones[0].index.precedence,
        [Kind::Ingress, Kind::Service, Kind::Node]
    );
    assert!(parse("zones: [{zone: example.com, resources: [Ingress, ingress]}]").is_err());
    assert!(parse("zones: [{zone: example.com}, {zone: EXAMPLE.com.}]").is_err());
}

#[test]
fn identity_is_off_by_default_and_names_the_host_unless_named() {
    let config = parse("zones: [{zone: example.com}]").expect("valid");
    assert_eq!(config.identity, None);
    let config = parse(
        "zones: [{zone: example.com}]\nidentity: {name: kubezone-0, nsid: true, chaos: false}",
    )
    .expect("valid");
    assert_eq!(
        config.identity,
        Some(Identity::new("kubezone-0", true, false).expect("valid"))
    );
    let config = parse("zones: [{zone: example.com}]\nidentity: {}").expect("valid");
    let host = hostname::get()
        .expect("host name")
        .into_string()
        .expect("UTF-8");
    assert_eq!(
        config.identity,
        Some(Identity::new(&host, true, true).expect("valid"))
    );
}

#[test]
fn the_identity_flag_overrides_the_name_and_turns_identity_on() {
    let mut config = parse("zones: [{zone: example.com}]").expect("valid");
    config.override_identity("kubezone-7").expect("valid");
    assert_eq!(
        config.identity,
        Some(Identity::new("kubezone-7", true, true).expect("valid"))
    );
    let mut config =
        parse("zones: [{zone: example.com}]\nidentity: {name: file, chaos: false}").expect("valid");
    config.override_identity("flag").expect("valid");
    assert_eq!(
        config.identity,
        Some(Identity::new("flag", true, false).expect("valid"))
    );
    let err = config
        .override_identity(&"x".repeat(300))
        .expect_err("too long");
    assert!(
        err.contains(&"x".repeat(300)) && err.contains("300 bytes"),
        "{err}"
    );
}

#[test]
fn bad_identity_values_are_named_with_their_key() {
    let zones = "zones: [{zone: example.com}]\n";
    let long = "n".repeat(256);
    for (text, key, value) in [
        ("identity: {name: ''}", "identity.name", "empty"),
        (
            &format!("identity: {{name: {long}}}")[..],
            "identity.name",
            &long[..],
        ),
        ("identity: {name: \"a\\tb\"}", "identity.name", "\\t"),
        (
            "identity: {nsid: yes please}",
            "identity.nsid",
            "yes please",
        ),
        ("identity: {nsdi: true}", "nsdi", "nsdi"),
    ] {
        let err = parse(&format!("{zones}{text}"))
            .expect_err(text)
            .to_string();
        assert!(err.contains(key), "{err} should name {key}");
        assert!(err.contains(value), "{err} should name {value}");
    }
}

#[test]
fn guards_are_off_by_default_and_tcp_allows_1000_connections() {
    let config = parse("zones: [{zone: example.com}]").expect("valid");
    assert_eq!(config.guard, GuardConfig::default());
    assert_eq!(config.tcp_max_connections, 1000);
    let guard = config.build_guard(None);
    assert!(guard.acl.is_none() && guard.rate_limit.is_none());
    let config = parse("zones: [{zone: example.com}]\ntcp: {maxConnections: 5}").expect("valid");
    assert_eq!(config.tcp_max_connections, 5);
    let err = parse("zones: [{zone: example.com}]\ntcp: {maxConnections: 0}").expect_err("0");
    assert!(err.to_string().contains("tcp.maxConnections: 0 "), "{err}");
}

#[test]
fn the_rate_limit_and_acl_example_parses_with_its_meanings() {
    let config = parse(
        r#"
zones: [{zone: example.com}]
rateLimit:
  responsesPerSecond: 20
  nxdomainsPerSecond: 10
  errorsPerSecond: 0
  allPerSecond: 100
  window: 15
  slip: 2
  ipv4PrefixLength: 24
  ipv6PrefixLength: 56
  exempt: [10.0.0.0/8]
acl:
  allow: [10.0.0.0/8, 192.168.0.0/16, "::1/128"]
  action: refuse
"#,
    )
    .expect("valid");
    let net = |s: &str| s.parse::<IpNet>().expect("net");
    assert_eq!(
        config.guard.rate_limit,
        Some(RateLimitConfig {
            responses_per_second: 20,
            nxdomains_per_second: Some(10),
            nodata_per_second: None,
            referrals_per_second: None,
            errors_per_second: Some(0),
            all_per_second: 100,
            window: 15,
            slip: 2,
            ipv4_prefix_length: 24,
            ipv6_prefix_length: 56,
            exempt: vec![net("10.0.0.0/8")],
            max_table_size: 65_536,
        })
    );
    assert_eq!(
        config.guard.acl,
        Some(AclConfig {
            allow: vec![net("10.0.0.0/8"), net("192.168.0.0/16"), net("::1/128")],
            action: AclAction::Refuse,
        })
    );
    let guard = config.build_guard(None);
    let client = "192.168.3.4".parse().expect("addr");
    assert_eq!(guard.check_acl(client), kubezone_guard::Verdict::Allow);
    assert_eq!(
        guard.check_acl("172.16.0.1".parse().expect("addr")),
        kubezone_guard::Verdict::Refuse
    );
    let now = std::time::Instant::now();
    let limiter = guard.rate_limit.as_ref().expect("rate limiting on");
    let sent = |key, n| {
        (0..n)
            .filter(|_| guard.check_rate(client, key, now) == kubezone_guard::RateVerdict::Send)
            .count()
    };
    let zone = b"\x07example\x03com\x00";
    let answer = limiter.key(ResponseKind::Answer, zone, 1);
    let nxdomain = limiter.key(ResponseKind::NxDomain, zone, 1);
    assert_eq!(sent(answer, 30), 20);
    assert_eq!(sent(nxdomain, 30), 10);
    // Errors are not limited on their own, but all 100 per second are: 60 are spent.
    assert_eq!(sent(ResponseKey::ERROR, 40), 40);
    assert_eq!(sent(ResponseKey::ERROR, 1), 0);
}

#[test]
fn rate_limit_keys_default_and_acl_drops_when_asked() {
    let config = parse(
        "zones: [{zone: example.com}]\nrateLimit: {}\nacl: {allow: [127.0.0.1], action: drop}",
    )
    .expect("valid");
    assert_eq!(config.guard.rate_limit, Some(RateLimitConfig::default()));
    assert_eq!(
        config.guard.acl.map(|a| (a.allow, a.action)),
        Some((vec!["127.0.0.1/32".parse().expect("net")], AclAction::Drop))
    );
}

#[test]
fn bad_guard_values_are_named_with_their_key() {
    let zones = "zones: [{zone: example.com}]\n";
    for (text, key, value) in [
        (
            "rateLimit: {exempt: [10.0.0.0/33]}",
            "rateLimit.exempt[0]",
            "10.0.0.0/33",
        ),
        (
            "rateLimit: {exempt: [10.0.0.0/8, 10.1.2.3/8]}",
            "rateLimit.exempt[1]",
            "10.1.2.3/8",
        ),
        (
            "rateLimit: {responsesPerSecond: 0}",
            "rateLimit.responsesPerSecond",
            "0",
        ),
        ("rateLimit: {window: 0}", "rateLimit.window", "0"),
        (
            "rateLimit: {nxdomainsPerSecond: 1000001}",
            "rateLimit.nxdomainsPerSecond",
            "1000001",
        ),
        (
            "rateLimit: {nodataPerSecond: 5000000000}",
            "rateLimit.nodataPerSecond",
            "5000000000",
        ),
        (
            "rateLimit: {referralsPerSecond: 2000000}",
            "rateLimit.referralsPerSecond",
            "2000000",
        ),
        (
            "rateLimit: {errorsPerSecond: 1000001}",
            "rateLimit.errorsPerSecond",
            "1000001",
        ),
        (
            "rateLimit: {allPerSecond: 1000001}",
            "rateLimit.allPerSecond",
            "1000001",
        ),
        ("rateLimit: {slip: 11}", "rateLimit.slip", "11"),
        (
            "rateLimit: {ipv4PrefixLength: 33}",
            "rateLimit.ipv4PrefixLength",
            "33",
        ),
        (
            "rateLimit: {ipv6PrefixLength: 300}",
            "rateLimit.ipv6PrefixLength",
            "300",
        ),
        (
            "rateLimit: {maxTableSize: 5000000000}",
            "rateLimit.maxTableSize",
            "5000000000",
        ),
        ("acl: {allow: [localhost]}", "acl.allow[0]", "localhost"),
        ("acl: {allow: []}", "acl.allow", "empty"),
        (
            "acl: {allow: [10.0.0.0/8], action: reject}",
            "action",
            "reject",
        ),
        (
            "rateLimit: {responsesPerSec: 5}",
            "responsesPerSec",
            "responsesPerSec",
        ),
    ] {
        let err = parse(&format!("{zones}{text}"))
            .expect_err(text)
            .to_string();
        assert!(err.contains(key), "{err} should name {key}");
        assert!(err.contains(value), "{err} should name {value}");
    }
}

#[test]
fn reverse_zones_and_classless_zones_load() {
    let config = parse(
        "zones:\n  - {zone: example.com}\n  - {zone: 10.in-addr.arpa}\n  - {zone: 8.b.d.0.1.0.0.2.ip6.arpa}\n  - zone: 0-25.2.0.192.in-addr.arpa\n    records: [\"1 PTR host.example.com.\"]\n",
    )
    .expect("loads");
    let networks: Vec<String> = config
        .zones
        .iter()
        .map(|z| match kubezone_index::reverse_network(&z.index.origin) {
            Ok(Some(net)) => net.to_string(),
            Ok(None) => "forward".into(),
            Err(e) => e.to_string(),
        })
        .collect();
    assert_eq!(
        networks,
        ["forward", "10.0.0.0/8", "2001:db8::/32", "forward"]
    );
}

#[test]
fn name_templates_and_annotation_filters_are_per_zone() {
    let config = parse(
        r#"
zones:
  - zone: example.com
    nameTemplate: "{{.Namespace}}-{{.Name}}.example.com"
    annotationFilter: "dns in (public), !private"
  - zone: other.org
    nameTemplate: "  "
"#,
    )
    .expect("valid");
    let zone = &config.zones[0].filter;
    assert_eq!(
        zone.name_template.as_ref().map(|t| t.as_str()),
        Some("{{.Namespace}}-{{.Name}}.example.com")
    );
    assert_eq!(
        zone.annotation_filter.as_ref().map(|f| f.as_str()),
        Some("dns in (public), !private")
    );
    // A blank template is no template, and no filter admits every object.
    let other = &config.zones[1].filter;
    assert_eq!(other.name_template, None);
    assert_eq!(other.annotation_filter, None);
}

#[test]
fn push_settings_and_their_key() {
    let config = parse(
        "zones:\n  - zone: example.com\n    push: {server: \"127.0.0.1:5300\", key: update-key, owner: cluster-east, policy: upsert-only, interval: 5m}\ntsigKeys: [{name: update-key, secret: \"c2VjcmV0IHNlY3JldCBzZWNyZXQgc2VjcmV0IQ==\"}]\n",
    )
    .expect("valid");
    let push = config.zones[0].push.as_ref().expect("push");
    assert_eq!(push.server, "127.0.0.1:5300".parse().expect("addr"));
    assert_eq!(push.owner, "cluster-east");
    assert_eq!(push.policy, super::PushPolicy::UpsertOnly);
    assert_eq!(push.interval, std::time::Duration::from_secs(300));
    let err = parse(
        "zones:\n  - zone: example.com\n    push: {server: \"127.0.0.1\", key: nope, owner: east}\n",
    )
    .expect_err("the key is not defined")
    .to_string();
    assert!(
        err.contains("zones[0].push.key") && err.contains("nope"),
        "{err}"
    );
    let err = parse(
        "zones:\n  - zone: example.com\n    push: {server: \"127.0.0.1\", key: k, owner: east, policy: everything}\n",
    )
    .expect_err("no such policy")
    .to_string();
    assert!(err.contains("everything"), "{err}");
}

#[test]
fn serve_false_needs_push_and_no_transfer() {
    let keys = "tsigKeys: [{name: k, secret: \"c2VjcmV0IHNlY3JldCBzZWNyZXQgc2VjcmV0IQ==\"}]\n";
    let config = parse(&format!(
        "zones:\n  - zone: example.com\n    serve: false\n    push: {{server: \"127.0.0.1\", key: k, owner: east}}\n{keys}"
    ))
    .expect("valid");
    assert!(!config.zones[0].index.served);
    for (zone, needle) in [
        ("{zone: example.com, serve: false}", "no push"),
        (
            "{zone: example.com, serve: false, push: {server: \"127.0.0.1\", key: k, owner: east}, transfer: {allow: [127.0.0.1]}}",
            "transfer",
        ),
    ] {
        let err = parse(&format!("zones: [{zone}]\n{keys}"))
            .expect_err(zone)
            .to_string();
        assert!(
            err.contains("zones[0].serve") && err.contains(needle),
            "{err}"
        );
    }
}

#[test]
fn several_clusters_are_read_and_checked() {
    let config = parse(
        "zones: [{zone: example.com, global: {selector: 'tier=front', preference: local-first}}]\n\
         localCluster: east\n\
         clusters:\n\
         - {name: east, clients: [10.1.0.0/16]}\n\
         - {name: west, kubeconfig: west.kubeconfig, context: w, clients: [10.2.0.0/16, 10.3.0.7], staleAfter: 90s, namespaces: [shop]}\n",
    )
    .expect("valid");
    assert_eq!(config.local_cluster, Some(0));
    let west = config.clusters.get(1).expect("west");
    assert_eq!((west.id.index(), west.id.name()), (1, "west"));
    assert_eq!(
        west.kube.kubeconfig.as_deref(),
        Some(Path::new("/etc/kubezone/west.kubeconfig"))
    );
    assert_eq!(west.stale_after, Duration::from_secs(90));
    assert_eq!(
        west.clients,
        [
            "10.2.0.0/16".parse::<ipnet::IpNet>().expect("net"),
            "10.3.0.7/32".parse().expect("net")
        ]
    );
    assert_eq!(
        config.clusters.first().map(|c| c.stale_after),
        Some(DEFAULT_STALE_AFTER)
    );
    let zone = config.zones.first().expect("zone");
    assert_eq!(
        zone.filter.global.preference,
        kubezone_model::Preference::LocalFirst
    );

    for (text, key, value) in [
        (
            "clusters: [{name: East, kubeconfig: k}]",
            "clusters[0].name",
            "East",
        ),
        (
            "clusters: [{name: a, kubeconfig: k}, {name: a, kubeconfig: k}]",
            "clusters[1].name",
            "listed twice",
        ),
        (
            "clusters: [{name: a}]",
            "clusters[0].kubeconfig",
            "needs a kubeconfig",
        ),
        (
            "clusters: [{name: a, kubeconfig: k, clients: [10.1.0.0/33]}]",
            "clusters[0].clients[0]",
            "10.1.0.0/33",
        ),
        (
            "clusters: [{name: a, kubeconfig: k, clients: [10.1.0.0/16]}, {name: b, kubeconfig: k, clients: [10.1.0.0/16]}]",
            "clusters[1].clients[0]",
            "already cluster a's",
        ),
        (
            "clusters: [{name: a, kubeconfig: k, staleAfter: soon}]",
            "clusters[0].staleAfter",
            "soon",
        ),
        (
            "clusters: [{name: a, kubeconfig: k}]\nlocalCluster: b",
            "localCluster",
            "\"b\"",
        ),
        (
            "clusters: [{name: a, kubeconfig: k}]\nkubernetes: {}",
            "clusters",
            "not both",
        ),
    ] {
        let text = format!("zones: [{{zone: example.com}}]\n{text}");
        let err = parse(&text).expect_err(&text).to_string();
        assert!(err.contains(key), "{err} should name {key}");
        assert!(err.contains(value), "{err} should name {value}");
    }
    for (text, key, value) in [
        (
            "zones: [{zone: example.com, global: {preference: nearest}}]\nclusters: [{name: a, kubeconfig: k}]",
            "zones[0].global.preference",
            "nearest",
        ),
        (
            "zones: [{zone: example.com, global: {selector: 'a in ('}}]\nclusters: [{name: a, kubeconfig: k}]",
            "zones[0].global.selector",
            "a in (",
        ),
        (
            "zones: [{zone: example.com, global: {}}]",
            "zones[0].global",
            "several clusters",
        ),
    ] {
        let err = parse(text).expect_err(text).to_string();
        assert!(err.contains(key), "{err} should name {key}");
        assert!(err.contains(value), "{err} should name {value}");
    }
}
