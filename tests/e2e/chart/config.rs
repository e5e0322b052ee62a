//! Values that become kubezone's config: zones, fallthrough, nameservers, SOA, static records,
//! transfer and TSIG keys, and a k8s_gateway chart's values file taken unchanged.

use super::*;

#[test]
fn several_zones_share_the_settings() {
    for domain in [
        "[example.com, example.org]",
        "\"example.com example.org\"",
        "\"example.com, Example.org.\"",
    ] {
        let rendered = render(&format!("domain: {domain}\nttl: 300\n"));
        let config = rendered.config();
        let zones = config["zones"].as_array().expect("zones");
        let names: Vec<&str> = zones
            .iter()
            .map(|z| z["zone"].as_str().expect("zone"))
            .collect();
        assert_eq!(names, ["example.com", "example.org"], "domain: {domain}");
        for zone in zones {
            assert_eq!(zone["ttl"], 300);
            assert_eq!(zone["apex"], zones[0]["apex"]);
        }
    }
    let error = template_fails("{}\n");
    assert!(error.contains("domain is required"), "{error}");
}

#[test]
fn tenancy_gateway_consent_and_forwarding_reach_every_zone() {
    let rendered = render(
        "domain: [example.com, example.org]
tenancy:
  namespaces: [team-a, team-b]
  namespaceSelector: dns.example.com/publish=true
  claims: firstNamespace
gatewayConsent: listeners
fallthrough:
  enabled: true
  upstream: [10.0.0.10]
  forwarding: {maxInFlight: 200, timeoutMilliseconds: 1500}
",
    );
    let config = rendered.config();
    for zone in config["zones"].as_array().expect("zones") {
        assert_eq!(zone["namespaces"], json!(["team-a", "team-b"]));
        assert_eq!(zone["namespaceSelector"], "dns.example.com/publish=true");
        assert_eq!(zone["claims"], "firstNamespace");
        assert_eq!(zone["gatewayConsent"], "listeners");
    }
    assert_eq!(
        config["forwarding"],
        json!({"maxInFlight": 200, "timeoutMilliseconds": 1500})
    );
    assert_eq!(config["kubernetes"]["events"], true);
    kubezone_check(rendered.config_text());

    // The defaults: every namespace, shared names, consent from the route's status.
    let config = render("domain: example.com\n").config();
    assert_eq!(config["zones"][0].get("namespaces"), None);
    assert_eq!(config["zones"][0]["claims"], "shared");
    assert_eq!(config["zones"][0]["gatewayConsent"], "status");
}

#[test]
fn fallthrough_forwards_to_the_upstream() {
    let rendered = render(
        "domain: [example.com, example.org]
fallthrough:
  enabled: true
  zones: [legacy.example.com]
  upstream: [10.0.0.10, \"10.0.0.11:5353\"]
",
    );
    let config = rendered.config();
    assert_eq!(config["upstream"], json!(["10.0.0.10", "10.0.0.11:5353"]));
    assert_eq!(
        config["zones"][0]["fallthrough"],
        json!(["legacy.example.com"])
    );
    assert_eq!(config["zones"][1]["fallthrough"], false);

    let all = render("domain: example.com\nfallthrough: {enabled: true, upstream: [10.0.0.10]}\n");
    assert_eq!(all.config()["zones"][0]["fallthrough"], true);

    let error = template_fails("domain: example.com\nfallthrough: {enabled: true}\n");
    assert!(error.contains("fallthrough.upstream"), "{error}");
    let error = template_fails(
        "domain: example.com\nfallthrough: {enabled: true, zones: [example.net], upstream: [10.0.0.10]}\n",
    );
    assert!(
        error.contains("\"example.net\" is in none of the domains"),
        "{error}"
    );
}

#[test]
fn secondary_nameserver_and_filters_reach_the_config() {
    let rendered = render(
        "domain: example.com
apex: ns1.dns
secondary: ns2.dns
secondaryGlue: [192.0.2.54, 2001:db8::54]
filters:
  ingressClasses: [nginx]
  gatewayClasses: [eg]
  serviceLabelSelectors: [\"app=web\", \"tier in (a,b)\"]
nodeAddressType: ExternalIP
queryLog: true
debug: {enabled: true}
",
    );
    let config = rendered.config();
    let zone = &config["zones"][0];
    assert_eq!(zone["apex"], "ns1.dns");
    assert_eq!(zone["secondary"], "ns2.dns");
    assert_eq!(zone["secondaryGlue"], json!(["192.0.2.54", "2001:db8::54"]));
    assert_eq!(zone["ingressClasses"], json!(["nginx"]));
    assert_eq!(zone["gatewayClasses"], json!(["eg"]));
    assert_eq!(
        zone["serviceLabelSelectors"],
        json!(["app=web", "tier in (a,b)"])
    );
    assert_eq!(zone["nodeAddressType"], "ExternalIP");
    assert_eq!(config["queryLog"], true);
    assert_eq!(
        rendered.container()["args"],
        json!([
            "--config",
            "/etc/kubezone/kubezone.yaml",
            "--log-format",
            "json",
            "--log-level",
            "debug"
        ])
    );
}

#[test]
fn the_name_template_and_annotation_filter_reach_every_zone() {
    let rendered = render(
        r#"domain: [example.com, example.org]
filters:
  annotationFilter: "dns.example.com/private notin (true)"
nameTemplate: '{{ .Namespace }}-{{ .Name }}.example.com, {{ index .Labels "app" }}.example.org'
"#,
    );
    let config = rendered.config();
    for zone in config["zones"].as_array().expect("zones") {
        assert_eq!(
            zone["annotationFilter"],
            "dns.example.com/private notin (true)"
        );
        assert_eq!(
            zone["nameTemplate"],
            r#"{{ .Namespace }}-{{ .Name }}.example.com, {{ index .Labels "app" }}.example.org"#
        );
    }
    kubezone_check(rendered.config_text());
    // Unset, neither key is written.
    let config = render("domain: example.com\n").config();
    assert!(config["zones"][0].get("nameTemplate").is_none());
    assert!(config["zones"][0].get("annotationFilter").is_none());
}

#[test]
fn soa_nameservers_and_static_records_reach_each_domain() {
    let rendered = render(
        "domain: [example.com, example.org]
soa: {rname: hostmaster@example.com, expire: 2419200}
nameservers: [ns1.provider.net.]
records:
  example.com: [\"@ 3600 MX 10 mail.example.com.\", \"mail A 192.0.2.25\", \"lab NS ns.lab.example.net.\"]
",
    );
    let config = rendered.config();
    let (com, org) = (&config["zones"][0], &config["zones"][1]);
    for zone in [com, org] {
        assert_eq!(
            zone["soa"],
            json!({"rname": "hostmaster@example.com", "expire": 2_419_200})
        );
        assert_eq!(zone["nameservers"], json!(["ns1.provider.net."]));
    }
    assert_eq!(
        com["records"],
        json!([
            "@ 3600 MX 10 mail.example.com.",
            "mail A 192.0.2.25",
            "lab NS ns.lab.example.net."
        ])
    );
    assert!(
        org.get("records").is_none(),
        "records are per domain: {org}"
    );
    kubezone_check(rendered.config_text());
}

#[test]
fn transfer_tsig_keys_from_secrets_and_a_catalog_reach_the_config() {
    let rendered = render(
        "domain: [example.com, example.org]
transfer:
  allow: [10.0.0.0/8]
  keys: [xfr-key]
  notify: [10.1.2.3, \"10.1.2.4:5353\"]
  catalog: {enabled: true, zone: catalog.kubezone.invalid}
tsigKeys:
  - {name: xfr-key, secretName: kubezone-xfr, secretKey: key}
",
    );
    let config = rendered.config();
    for zone in [&config["zones"][0], &config["zones"][1], &config["catalog"]] {
        assert_eq!(
            zone["transfer"],
            json!({"allow": ["10.0.0.0/8"], "keys": ["xfr-key"], "notify": ["10.1.2.3", "10.1.2.4:5353"]})
        );
    }
    assert_eq!(config["catalog"]["zone"], "catalog.kubezone.invalid");
    assert_eq!(
        config["tsigKeys"],
        json!([{"name": "xfr-key", "algorithm": "hmac-sha256", "secretFile": "/etc/kubezone-tsig/xfr-key/secret"}])
    );
    let pod = rendered.pod();
    let volume = pod["spec"]["volumes"]
        .as_array()
        .and_then(|v| v.iter().find(|v| v["name"] == "tsig-xfr-key"))
        .expect("the key's volume");
    assert_eq!(volume["secret"]["secretName"], "kubezone-xfr");
    assert_eq!(
        volume["secret"]["items"],
        json!([{"key": "key", "path": "secret"}])
    );
    let mounts = &rendered.container()["volumeMounts"];
    assert!(
        mounts.as_array().is_some_and(|m| m
            .iter()
            .any(|m| m["mountPath"] == "/etc/kubezone-tsig/xfr-key")),
        "{mounts}"
    );
    // kubezone accepts the config, the Secret's file standing in at a temporary path.
    let dir = tempfile::tempdir().expect("tempdir");
    let secret = dir.path().join("secret");
    fs::write(&secret, "ytgbPL4Nc61BdQix0OsEpV2tMsqYpk/sMyWaQYxknhg=\n").expect("write");
    kubezone_check(&rendered.config_text().replace(
        "/etc/kubezone-tsig/xfr-key/secret",
        &secret.display().to_string(),
    ));
    // Without `allow`, nothing of transfer is rendered.
    let config = render("domain: example.com\ntransfer: {keys: [xfr-key]}\n").config();
    assert!(config["zones"][0].get("transfer").is_none(), "{config}");
    assert!(config.get("catalog").is_none(), "{config}");
}

#[test]
fn a_k8s_gateway_values_file_works_unchanged() {
    // The shape of k8s_gateway's chart values; its CoreDNS-only keys are ignored.
    let rendered = render(
        "image:
  registry: ghcr.io
  repository: example/kubezone
  tag: 0.1.0
  pullPolicy: IfNotPresent
domain: example.com
ttl: 300
watchedResources: [Ingress, Service]
filters:
  ingressClasses: [nginx]
  gatewayClasses: []
secondary: \"\"
fallthrough:
  enabled: false
  zones: []
apex: \"\"
dnsChallenge:
  enabled: false
  domain: dns01.clouddns.com
extraZonePlugins:
  - name: log
  - name: health
    configBlock: |-
      lameduck 5s
serviceAccount:
  create: true
  name: \"\"
  annotations: {}
service:
  type: LoadBalancer
  port: 53
  annotations: {}
  useTcp: true
nodeSelector: {}
affinity: {}
replicaCount: 1
priorityClassName: \"\"
debug:
  enabled: false
secure: true
zoneFiles: []
extraVolumes: []
extraVolumeMounts: []
",
    );
    assert_eq!(
        rendered.container()["image"],
        "ghcr.io/example/kubezone:0.1.0"
    );
    let zone = &rendered.config()["zones"][0];
    assert_eq!(zone["ttl"], 300);
    assert_eq!(zone["resources"], json!(["Ingress", "Service"]));
    assert_eq!(zone["ingressClasses"], json!(["nginx"]));
}

#[test]
fn push_reaches_every_domain_with_its_key() {
    let rendered = render(
        "domain: [example.com, example.org]
push:
  server: \"192.0.2.53\"
  key: update-key
  owner: cluster-east
  policy: upsert-only
  serve: false
tsigKeys:
  - {name: update-key, secretName: kubezone-update, secretKey: secret}
",
    );
    let config = rendered.config();
    for zone in [&config["zones"][0], &config["zones"][1]] {
        assert_eq!(
            zone["push"],
            json!({"server": "192.0.2.53", "key": "update-key", "owner": "cluster-east", "policy": "upsert-only", "interval": "60s"})
        );
        assert_eq!(zone["serve"], json!(false));
    }
    // Without a server, no push and every domain served.
    let plain = render("domain: example.com\n").config();
    assert!(plain["zones"][0].get("push").is_none(), "{plain}");
    assert!(plain["zones"][0].get("serve").is_none(), "{plain}");
}

#[test]
fn several_clusters_get_their_kubeconfigs_from_secrets() {
    let rendered = render(
        "domain: [example.com, example.org]
clusters:
  - {name: east, clients: [10.1.0.0/16]}
  - {name: west, kubeconfigSecret: {name: kubezone-west}, context: w, clients: [10.2.0.0/16], staleAfter: 2m}
localCluster: east
globalNames:
  example.com: {selector: \"tier=front\", preference: local-first}
",
    );
    let config = rendered.config();
    assert!(config.get("kubernetes").is_none(), "{config}");
    assert_eq!(config["localCluster"], json!("east"));
    assert_eq!(config["clusters"][0]["name"], json!("east"));
    assert!(
        config["clusters"][0].get("kubeconfig").is_none(),
        "{config}"
    );
    assert_eq!(
        config["clusters"][1]["kubeconfig"],
        json!("/etc/kubezone/clusters/west/kubeconfig")
    );
    assert_eq!(config["clusters"][1]["staleAfter"], json!("2m"));
    assert_eq!(
        config["zones"][0]["global"],
        json!({"selector": "tier=front", "preference": "local-first"})
    );
    assert!(config["zones"][1].get("global").is_none(), "{config}");
    // West's Secret is mounted where the config looks for it.
    let pod = rendered.pod();
    let volume = pod["spec"]["volumes"]
        .as_array()
        .and_then(|v| {
            v.iter()
                .find(|v| v["secret"]["secretName"] == json!("kubezone-west"))
        })
        .unwrap_or_else(|| panic!("no volume of the Secret kubezone-west: {pod}"));
    let mount = rendered.container()["volumeMounts"]
        .as_array()
        .and_then(|m| m.iter().find(|m| m["name"] == volume["name"]))
        .unwrap_or_else(|| panic!("the Secret is not mounted: {pod}"));
    assert_eq!(mount["mountPath"], json!("/etc/kubezone/clusters/west"));
    // A remote cluster without a Secret is refused by name.
    let file = Values::new(
        "domain: example.com\nclusters: [{name: east}, {name: west}]\nlocalCluster: east\n",
    );
    let output = run(helm()
        .args(["template", RELEASE, "--values"])
        .arg(file.path())
        .arg(chart_dir()));
    assert!(!output.status.success());
    assert!(
        text(&output.stderr).contains("west"),
        "{}",
        text(&output.stderr)
    );
}
