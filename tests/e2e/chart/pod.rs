//! The Deployment and its pod: ports, security context, replicas and disruption budget, volumes,
//! identity, scheduling, shutdown timing, and the image the chart names.

use super::*;

#[test]
fn defaults_serve_udp_and_tcp_on_53_from_a_locked_down_pod() {
    let rendered = render("domain: example.com\n");
    let name = fullname();

    let service = rendered.get("Service", &name);
    assert_eq!(service["spec"]["type"], "LoadBalancer");
    assert_eq!(
        rendered.service_ports(&name),
        BTreeSet::from([
            (53, "TCP".to_owned(), "dns-tcp".to_owned()),
            (53, "UDP".to_owned(), "dns-udp".to_owned()),
        ])
    );
    let container = rendered.container();
    let ports: BTreeSet<(String, u64, String)> = container["ports"]
        .as_array()
        .expect("container ports")
        .iter()
        .map(|p| {
            (
                p["name"].as_str().expect("name").to_owned(),
                p["containerPort"].as_u64().expect("containerPort"),
                p["protocol"].as_str().expect("protocol").to_owned(),
            )
        })
        .collect();
    assert_eq!(
        ports,
        BTreeSet::from([
            ("dns-tcp".to_owned(), 1053, "TCP".to_owned()),
            ("dns-udp".to_owned(), 1053, "UDP".to_owned()),
            ("http".to_owned(), 8080, "TCP".to_owned()),
        ])
    );
    assert_eq!(
        service["spec"]["selector"],
        rendered.one("Deployment")["spec"]["selector"]["matchLabels"]
    );

    assert_eq!(
        container["args"],
        json!([
            "--config",
            "/etc/kubezone/kubezone.yaml",
            "--log-format",
            "json"
        ])
    );
    let security = &container["securityContext"];
    assert_eq!(security["runAsNonRoot"], true);
    assert!(security["runAsUser"].as_u64().is_some_and(|uid| uid != 0));
    assert_eq!(security["readOnlyRootFilesystem"], true);
    assert_eq!(security["allowPrivilegeEscalation"], false);
    assert_eq!(security["capabilities"]["drop"], json!(["ALL"]));
    assert_eq!(security["seccompProfile"]["type"], "RuntimeDefault");
    let pod_security = &rendered.pod()["spec"]["securityContext"];
    assert_eq!(pod_security["runAsNonRoot"], true);
    assert_eq!(pod_security["seccompProfile"]["type"], "RuntimeDefault");

    assert_eq!(
        container["livenessProbe"]["httpGet"],
        json!({"path": "/healthz", "port": "http"})
    );
    assert_eq!(
        container["readinessProbe"]["httpGet"],
        json!({"path": "/readyz", "port": "http"})
    );
    let config = rendered.config();
    let grace = rendered.pod()["spec"]["terminationGracePeriodSeconds"]
        .as_u64()
        .expect("terminationGracePeriodSeconds");
    let lameduck = config["lameduckSeconds"].as_u64().expect("lameduckSeconds");
    assert!(grace > lameduck, "grace {grace}s, lameduck {lameduck}s");

    // The config, mounted read-only, rolls the pods when it changes.
    let configmap = rendered.one("ConfigMap");
    assert_eq!(
        container["volumeMounts"],
        json!([{"name": "config", "mountPath": "/etc/kubezone", "readOnly": true}])
    );
    assert_eq!(
        rendered.pod()["spec"]["volumes"],
        json!([{"name": "config", "configMap": {"name": configmap["metadata"]["name"]}}])
    );
    let checksum = rendered.pod()["metadata"]["annotations"]["checksum/config"]
        .as_str()
        .expect("checksum/config annotation");
    assert!(checksum.len() == 64 && checksum.bytes().all(|b| b.is_ascii_hexdigit()));

    // Both families, whichever the cluster gives the pod.
    assert_eq!(config["listen"], json!(["[::]:1053"]));
    assert_eq!(
        config["http"],
        json!({"listen": "[::]:8080", "metrics": true})
    );
    // In-cluster, writing Events on objects not served in full.
    assert_eq!(config["kubernetes"], json!({"events": true}));
    // Each pod says its name in NSID and CH TXT answers.
    assert_eq!(config["identity"], json!({"nsid": true, "chaos": true}));
    assert_eq!(
        container["env"],
        json!([{
            "name": "KUBEZONE_IDENTITY",
            "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}},
        }])
    );
    let zones = config["zones"].as_array().expect("zones");
    assert_eq!(zones.len(), 1);
    assert_eq!(zones[0]["zone"], "example.com");
    // Glue is read from the Service `apex` names: this release's own.
    assert_eq!(
        zones[0]["apex"],
        format!(
            "{}.{}",
            service["metadata"]["name"].as_str().expect("name"),
            rendered.namespace
        )
    );
    assert_eq!(zones[0]["fallthrough"], false);
    assert!(
        zones[0].get("resources").is_none(),
        "kubezone's default Kinds"
    );

    let account = rendered.one("ServiceAccount");
    assert_eq!(
        rendered.pod()["spec"]["serviceAccountName"],
        account["metadata"]["name"]
    );
    assert_eq!(
        rendered.one("ClusterRoleBinding")["subjects"],
        json!([{
            "kind": "ServiceAccount",
            "name": account["metadata"]["name"],
            "namespace": rendered.namespace,
        }])
    );
    assert_eq!(rendered.one("Deployment")["spec"]["replicas"], 1);
    assert!(!rendered.has("PodDisruptionBudget"));
    assert!(!rendered.has("ServiceMonitor"));
    assert_eq!(rendered.all("Service").len(), 1, "no metrics Service");
}

#[test]
fn udp_or_tcp_can_be_turned_off() {
    let name = fullname();
    let udp = render("domain: example.com\nservice: {useTcp: false}\n");
    assert_eq!(
        udp.service_ports(&name),
        BTreeSet::from([(53, "UDP".to_owned(), "dns-udp".to_owned())])
    );
    let tcp = render("domain: example.com\nservice: {useUdp: false, port: 5353}\n");
    assert_eq!(
        tcp.service_ports(&name),
        BTreeSet::from([(5353, "TCP".to_owned(), "dns-tcp".to_owned())])
    );
    let error = template_fails("domain: example.com\nservice: {useUdp: false, useTcp: false}\n");
    assert!(error.contains("no port"), "{error}");
}

#[test]
fn two_replicas_get_a_pod_disruption_budget() {
    let rendered = render("domain: example.com\nreplicaCount: 2\n");
    assert_eq!(rendered.one("Deployment")["spec"]["replicas"], 2);
    let budget = &rendered.one("PodDisruptionBudget")["spec"];
    assert_eq!(budget["maxUnavailable"], 1);
    assert_eq!(
        budget["selector"]["matchLabels"],
        rendered.one("Deployment")["spec"]["selector"]["matchLabels"]
    );

    let off =
        render("domain: example.com\nreplicaCount: 2\npodDisruptionBudget: {enabled: false}\n");
    assert!(!off.has("PodDisruptionBudget"));

    let forced = render(
        "domain: example.com\nreplicaCount: 1\npodDisruptionBudget: {enabled: true, minAvailable: 1}\n",
    );
    let budget = &forced.one("PodDisruptionBudget")["spec"];
    assert_eq!(budget["minAvailable"], 1);
    assert!(budget.get("maxUnavailable").is_none());
}

#[test]
fn extra_volumes_are_mounted_beside_the_config() {
    let rendered = render(
        "domain: example.com
extraVolumes:
  - name: tsig
    secret: {secretName: tsig}
extraVolumeMounts:
  - name: tsig
    mountPath: /etc/tsig
    readOnly: true
env:
  - name: KUBEZONE_LOG
    value: kubezone=debug
",
    );
    let volumes: Vec<&str> = rendered.pod()["spec"]["volumes"]
        .as_array()
        .expect("volumes")
        .iter()
        .map(|v| v["name"].as_str().expect("name"))
        .collect();
    assert_eq!(volumes, ["config", "tsig"]);
    let mounts: Vec<(&str, &str)> = rendered.container()["volumeMounts"]
        .as_array()
        .expect("mounts")
        .iter()
        .map(|m| {
            (
                m["name"].as_str().expect("name"),
                m["mountPath"].as_str().expect("mountPath"),
            )
        })
        .collect();
    assert_eq!(mounts, [("config", "/etc/kubezone"), ("tsig", "/etc/tsig")]);
    assert_eq!(
        env_value(&rendered, "KUBEZONE_LOG"),
        json!({"name": "KUBEZONE_LOG", "value": "kubezone=debug"})
    );
}

#[test]
fn identity_names_each_pod_and_can_be_turned_off() {
    let pod_name = json!({
        "name": "KUBEZONE_IDENTITY",
        "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}},
    });
    let rendered = render("domain: example.com\nidentity: {chaos: false}\n");
    assert_eq!(
        rendered.config()["identity"],
        json!({"nsid": true, "chaos": false})
    );
    assert_eq!(env_value(&rendered, "KUBEZONE_IDENTITY"), pod_name);
    // Beside the values' own variables.
    let rendered = render("domain: example.com\nenv: [{name: KUBEZONE_LOG, value: debug}]\n");
    assert_eq!(env_value(&rendered, "KUBEZONE_IDENTITY"), pod_name);
    assert_eq!(env_value(&rendered, "KUBEZONE_LOG")["value"], "debug");

    let off = render("domain: example.com\nidentity: {enabled: false}\n");
    assert!(
        off.config().get("identity").is_none(),
        "{}",
        off.config_text()
    );
    assert!(
        off.container().get("env").is_none(),
        "no environment at all"
    );
    let off = render(
        "domain: example.com\nidentity: {enabled: false}\nenv: [{name: KUBEZONE_LOG, value: debug}]\n",
    );
    assert_eq!(env_value(&off, "KUBEZONE_IDENTITY"), Value::Null);
    assert_eq!(env_value(&off, "KUBEZONE_LOG")["value"], "debug");
}

#[test]
fn scheduling_values_reach_the_pod() {
    let rendered = render(
        "domain: example.com
nodeSelector: {kubernetes.io/os: linux}
tolerations:
  - {key: dedicated, operator: Equal, value: dns, effect: NoSchedule}
affinity:
  podAntiAffinity:
    preferredDuringSchedulingIgnoredDuringExecution:
      - weight: 100
        podAffinityTerm:
          topologyKey: kubernetes.io/hostname
          labelSelector:
            matchLabels: {app.kubernetes.io/name: kubezone}
topologySpreadConstraints:
  - maxSkew: 1
    topologyKey: topology.kubernetes.io/zone
    whenUnsatisfiable: ScheduleAnyway
    labelSelector:
      matchLabels:
        app.kubernetes.io/instance: '{{ .Release.Name }}'
podAnnotations: {example.com/team: dns}
podLabels: {example.com/tier: edge}
",
    );
    let spec = &rendered.pod()["spec"];
    assert_eq!(spec["nodeSelector"], json!({"kubernetes.io/os": "linux"}));
    assert_eq!(spec["tolerations"][0]["value"], "dns");
    assert_eq!(
        spec["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"][0]["weight"],
        100
    );
    // Templated, as in k8s_gateway's chart.
    assert_eq!(
        spec["topologySpreadConstraints"][0]["labelSelector"]["matchLabels"]["app.kubernetes.io/instance"],
        RELEASE
    );
    let metadata = &rendered.pod()["metadata"];
    assert_eq!(metadata["annotations"]["example.com/team"], "dns");
    assert_eq!(metadata["labels"]["example.com/tier"], "edge");
}

#[test]
fn a_grace_period_shorter_than_the_lameduck_is_refused() {
    let error = template_fails(
        "domain: example.com\nlameduckSeconds: 30\nterminationGracePeriodSeconds: 30\n",
    );
    assert!(
        error.contains("must be longer than lameduckSeconds"),
        "{error}"
    );
    let rendered =
        render("domain: example.com\nlameduckSeconds: 30\nterminationGracePeriodSeconds: 45\n");
    assert_eq!(rendered.config()["lameduckSeconds"], 30);
    assert_eq!(rendered.pod()["spec"]["terminationGracePeriodSeconds"], 45);
}

#[test]
fn the_image_fits_the_chart() {
    // scripts/dockerfile-build.sh runs the Dockerfile's build; this checks what it cannot.
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let dockerfile = fs::read_to_string(root.join("Dockerfile")).expect("read Dockerfile");
    let instructions: Vec<&str> = dockerfile
        .lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('#'))
        .collect();
    let exposed: BTreeSet<&str> = instructions
        .iter()
        .filter_map(|l| l.strip_prefix("EXPOSE "))
        .flat_map(str::split_whitespace)
        .collect();
    let rendered = template("domain: example.com\n");
    let ports: BTreeSet<String> = rendered.container()["ports"]
        .as_array()
        .expect("container ports")
        .iter()
        .map(|p| {
            format!(
                "{}/{}",
                p["containerPort"],
                p["protocol"].as_str().expect("protocol").to_lowercase()
            )
        })
        .collect();
    assert_eq!(
        exposed,
        ports.iter().map(String::as_str).collect::<BTreeSet<_>>()
    );

    // distroless's `nonroot` is uid 65532: the chart's runAsUser.
    let last_from = instructions
        .iter()
        .rev()
        .find(|l| l.starts_with("FROM "))
        .expect("a FROM");
    assert!(last_from.ends_with(":nonroot"), "{last_from}");
    assert!(instructions.contains(&"USER nonroot:nonroot"));
    assert_eq!(rendered.container()["securityContext"]["runAsUser"], 65532);

    // The builder's Rust is the workspace's rust-version.
    let manifest = fs::read_to_string(root.join("Cargo.toml")).expect("read Cargo.toml");
    let rust_version = manifest
        .lines()
        .find_map(|l| l.strip_prefix("rust-version = "))
        .expect("rust-version in Cargo.toml")
        .trim_matches('"');
    assert!(
        instructions.contains(&format!("ARG RUST_VERSION={rust_version}").as_str()),
        "the Dockerfile builds with Rust {rust_version}"
    );
    assert!(
        instructions
            .iter()
            .any(|l| l.starts_with("ENTRYPOINT") && l.contains("kubezone")),
        "ENTRYPOINT is kubezone"
    );
}
