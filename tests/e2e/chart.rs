//! The Helm chart (`charts/kubezone`): `helm lint` and `helm template` over a matrix of values,
//! assertions on the rendered objects, the rendered config through `kubezone check`, and every
//! rendered object applied to a real kube-apiserver by server-side dry run with strict field
//! validation, so a schema mistake fails here and not at install time.
//!
//! helm comes from `scripts/helm.sh` (built once, cached).

use std::{
    collections::BTreeSet,
    fs,
    path::{Path, PathBuf},
    process::{Command, Output, Stdio},
    sync::OnceLock,
};

use serde::Deserialize;
use serde_json::{Value, json};

use crate::control_plane::ControlPlane;

const CLUSTER_ROLE_FILE: &str = include_str!("../../charts/kubezone/files/clusterrole.yaml");
const CHART_README: &str = include_str!("../../charts/kubezone/README.md");
const RELEASE: &str = "dns";

fn chart_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../charts/kubezone")
}

/// The folder `scripts/helm.sh` built (or found cached), once per test process.
fn helm_built() -> &'static Path {
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let built = BUILT.get_or_init(|| {
        crate::harness::run_build_script("helm.sh", "the chart tests need its helm")
    });
    match built {
        Ok(dir) => dir,
        Err(message) => panic!("{message}"),
    }
}

/// A helm command that keeps its cache and config out of the user's home.
fn helm() -> Command {
    static HOME: OnceLock<tempfile::TempDir> = OnceLock::new();
    let home = HOME
        .get_or_init(|| {
            tempfile::Builder::new()
                .prefix("kubezone-helm-home-")
                .tempdir()
                .expect("create helm's home folder")
        })
        .path();
    let mut command = Command::new(helm_built().join("bin/helm"));
    command
        .env("HELM_CACHE_HOME", home.join("cache"))
        .env("HELM_CONFIG_HOME", home.join("config"))
        .env("HELM_DATA_HOME", home.join("data"))
        .env_remove("KUBECONFIG")
        .stdin(Stdio::null());
    command
}

fn run(command: &mut Command) -> Output {
    command
        .output()
        .unwrap_or_else(|e| panic!("run {command:?}: {e}"))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A values file in its own temporary folder.
struct Values {
    dir: tempfile::TempDir,
}

impl Values {
    fn new(yaml: &str) -> Values {
        let dir = tempfile::Builder::new()
            .prefix("kubezone-chart-")
            .tempdir()
            .expect("create a temporary folder");
        fs::write(dir.path().join("values.yaml"), yaml).expect("write values.yaml");
        Values { dir }
    }

    fn path(&self) -> PathBuf {
        self.dir.path().join("values.yaml")
    }
}

/// What `helm template` printed, parsed.
struct Rendered {
    yaml: String,
    objects: Vec<Value>,
    namespace: String,
}

impl Rendered {
    fn all(&self, kind: &str) -> Vec<&Value> {
        self.objects.iter().filter(|o| o["kind"] == kind).collect()
    }

    fn has(&self, kind: &str) -> bool {
        !self.all(kind).is_empty()
    }

    /// The only object of `kind` named `name`.
    fn get(&self, kind: &str, name: &str) -> &Value {
        let found: Vec<&Value> = self
            .all(kind)
            .into_iter()
            .filter(|o| o["metadata"]["name"] == name)
            .collect();
        assert_eq!(found.len(), 1, "one {kind} {name} in\n{}", self.yaml);
        found[0]
    }

    /// The only object of `kind`.
    fn one(&self, kind: &str) -> &Value {
        let found = self.all(kind);
        assert_eq!(found.len(), 1, "one {kind} in\n{}", self.yaml);
        found[0]
    }

    fn pod(&self) -> &Value {
        &self.one("Deployment")["spec"]["template"]
    }

    fn container(&self) -> &Value {
        let containers = self.pod()["spec"]["containers"]
            .as_array()
            .expect("containers");
        assert_eq!(containers.len(), 1, "one container");
        &containers[0]
    }

    fn config_text(&self) -> &str {
        self.one("ConfigMap")["data"]["kubezone.yaml"]
            .as_str()
            .expect("ConfigMap has kubezone.yaml")
    }

    /// kubezone's config file, as JSON.
    fn config(&self) -> Value {
        let yaml: serde_yaml::Value =
            serde_yaml::from_str(self.config_text()).expect("the config is YAML");
        serde_json::to_value(yaml).expect("the config as JSON")
    }

    /// The Service's ports as (port, protocol, targetPort).
    fn service_ports(&self, name: &str) -> BTreeSet<(u64, String, String)> {
        self.get("Service", name)["spec"]["ports"]
            .as_array()
            .expect("Service ports")
            .iter()
            .map(|p| {
                (
                    p["port"].as_u64().expect("port"),
                    p["protocol"].as_str().expect("protocol").to_owned(),
                    p["targetPort"]
                        .as_str()
                        .expect("named targetPort")
                        .to_owned(),
                )
            })
            .collect()
    }
}

fn parse_documents(yaml: &str) -> Vec<Value> {
    serde_yaml::Deserializer::from_str(yaml)
        .map(|document| serde_yaml::Value::deserialize(document).expect("valid YAML"))
        .filter(|value| !value.is_null())
        .map(|value| serde_json::to_value(value).expect("YAML as JSON"))
        .collect()
}

/// `helm template` into a fresh namespace of the shared control plane, after `helm lint
/// --strict`; then the config through `kubezone check`. No dry run: see [`render`].
fn template(values: &str) -> Rendered {
    let cluster = ControlPlane::shared();
    let namespace = cluster.fresh_namespace("chart");
    template_in(values, &namespace)
}

fn template_in(values: &str, namespace: &str) -> Rendered {
    let file = Values::new(values);
    let lint = run(helm()
        .args(["lint", "--strict", "--namespace", namespace, "--values"])
        .arg(file.path())
        .arg(chart_dir()));
    assert!(
        lint.status.success(),
        "helm lint --strict with\n{values}\n{}{}",
        text(&lint.stdout),
        text(&lint.stderr)
    );
    let output = run(helm()
        .args(["template", RELEASE, "--namespace", namespace, "--values"])
        .arg(file.path())
        .arg(chart_dir()));
    assert!(
        output.status.success(),
        "helm template with\n{values}\n{}",
        text(&output.stderr)
    );
    let yaml = text(&output.stdout);
    let rendered = Rendered {
        objects: parse_documents(&yaml),
        yaml,
        namespace: namespace.to_owned(),
    };
    kubezone_check(rendered.config_text());
    rendered
}

/// [`template`], then every object dry-run applied to the apiserver.
fn render(values: &str) -> Rendered {
    let rendered = template(values);
    dry_run(&rendered);
    rendered
}

fn dry_run(rendered: &Rendered) {
    let cluster = ControlPlane::shared();
    if rendered.has("ServiceMonitor") {
        install_service_monitor_crd(cluster);
    }
    if let Err(refused) = cluster.dry_run_apply_yaml(&rendered.yaml) {
        panic!(
            "the apiserver refused rendered objects:\n{refused}\n--- rendered\n{}",
            rendered.yaml
        );
    }
}

fn install_service_monitor_crd(cluster: &ControlPlane) {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        let path = helm_built().join("crds/servicemonitor.yaml");
        let yaml =
            fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
        cluster.install_crd_yaml(&yaml);
    });
}

/// `helm template` must fail; its error output.
fn template_fails(values: &str) -> String {
    let file = Values::new(values);
    let output = run(helm()
        .args(["template", RELEASE, "--namespace", "chart", "--values"])
        .arg(file.path())
        .arg(chart_dir()));
    assert!(
        !output.status.success(),
        "helm template succeeded with\n{values}\n{}",
        text(&output.stdout)
    );
    text(&output.stderr)
}

/// `kubezone check` on a rendered config. Its `kubernetes: {}` means in-cluster, which check
/// loads; the control plane's kubeconfig stands in for the pod's, and a file of a test secret
/// for each TSIG key's mounted Secret.
fn kubezone_check(config: &str) {
    let dir = tempfile::Builder::new()
        .prefix("kubezone-chart-config-")
        .tempdir()
        .expect("create a temporary folder");
    let path = dir.path().join("kubezone.yaml");
    let secret = dir.path().join("secret");
    fs::write(&secret, "ytgbPL4Nc61BdQix0OsEpV2tMsqYpk/sMyWaQYxknhg=\n").expect("write");
    let mut config = config.to_string();
    while let Some(at) = config.find("/etc/kubezone-tsig/") {
        let end = config[at..].find('"').map_or(config.len(), |e| at + e);
        config.replace_range(at..end, &secret.display().to_string());
    }
    let config = config.as_str();
    fs::write(&path, config).expect("write the config");
    let output = run(Command::new(env!("CARGO_BIN_EXE_kubezone"))
        .args(["check", "--config"])
        .arg(&path)
        .env("KUBECONFIG", ControlPlane::shared().admin_kubeconfig())
        .env_remove("KUBEZONE_CONFIG")
        .stdin(Stdio::null()));
    assert!(
        output.status.success(),
        "kubezone check refused the rendered config:\n{config}\n{}{}",
        text(&output.stdout),
        text(&output.stderr)
    );
}

fn fullname() -> String {
    format!("{RELEASE}-kubezone")
}

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
    let role: serde_yaml::Value =
        serde_yaml::from_str(CLUSTER_ROLE_FILE).expect("files/clusterrole.yaml");
    serde_json::to_value(role).expect("as JSON")["rules"].clone()
}

fn resources(rendered: &Rendered) -> BTreeSet<(String, String)> {
    rule_set(&rendered.one("ClusterRole")["rules"])
        .into_iter()
        .map(|(group, resource, verbs)| {
            assert_eq!(verbs, ["get", "list", "watch"], "verbs of {resource}");
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
    assert_eq!(config["kubernetes"], json!({}));
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
    let cases: [(&str, &[(&str, &str)]); 4] = [
        // Services stay: the glue is read from the apex Service.
        (
            "[Ingress]",
            &[("", "services"), ("networking.k8s.io", "ingresses")],
        ),
        (
            "[HTTPRoute, Service]",
            &[
                ("", "services"),
                ("", "namespaces"),
                ("gateway.networking.k8s.io", "gateways"),
                ("gateway.networking.k8s.io", "httproutes"),
            ],
        ),
        ("[Node]", &[("", "services"), ("", "nodes")]),
        (
            "[DNSEndpoint, tlsroute, GRPCRoute]",
            &[
                ("", "services"),
                ("", "namespaces"),
                ("gateway.networking.k8s.io", "gateways"),
                ("gateway.networking.k8s.io", "grpcroutes"),
                ("gateway.networking.k8s.io", "tlsroutes"),
                ("externaldns.k8s.io", "dnsendpoints"),
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
        let listed: Value = serde_yaml::from_str::<serde_yaml::Value>(watched)
            .map(|v| serde_json::to_value(v).expect("JSON"))
            .expect("YAML list");
        assert_eq!(rendered.config()["zones"][0]["resources"], listed);
    }

    let error = template_fails("domain: example.com\nwatchedResources: [Ingress, Pod]\n");
    assert!(error.contains("\"Pod\" is not one of"), "{error}");
}

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
fn service_monitor_scrapes_metrics_from_a_cluster_ip_service() {
    let rendered = render(
        "domain: example.com
prometheus:
  monitor:
    enabled: true
    interval: 30s
    additionalLabels: {release: prometheus}
",
    );
    let monitor = rendered.one("ServiceMonitor");
    assert_eq!(monitor["metadata"]["labels"]["release"], "prometheus");
    assert_eq!(
        monitor["spec"]["endpoints"],
        json!([{"port": "http-metrics", "path": "/metrics", "interval": "30s"}])
    );
    let metrics = rendered.get("Service", &format!("{}-metrics", fullname()));
    assert_eq!(metrics["spec"]["type"], "ClusterIP");
    assert_eq!(
        metrics["spec"]["ports"],
        json!([{"name": "http-metrics", "port": 8080, "targetPort": "http", "protocol": "TCP"}])
    );
    let labels = metrics["metadata"]["labels"]
        .as_object()
        .expect("metrics Service labels");
    for (key, value) in monitor["spec"]["selector"]["matchLabels"]
        .as_object()
        .expect("ServiceMonitor selector")
    {
        assert_eq!(
            labels.get(key),
            Some(value),
            "ServiceMonitor selects on {key}"
        );
    }
    assert_eq!(
        monitor["spec"]["namespaceSelector"]["matchNames"],
        json!([rendered.namespace])
    );
    // /metrics is never on the public DNS Service.
    assert!(
        rendered
            .service_ports(&fullname())
            .iter()
            .all(|(port, _, _)| *port == 53)
    );
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

/// The container's environment variable `name`, or null.
fn env_value(rendered: &Rendered, name: &str) -> Value {
    rendered.container()["env"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|e| e["name"] == name)
        .cloned()
        .unwrap_or(Value::Null)
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
fn service_options_reach_the_service() {
    let rendered = render(
        "domain: example.com
service:
  annotations: {service.beta.kubernetes.io/aws-load-balancer-type: nlb}
  labels: {example.com/exposed: \"true\"}
  loadBalancerIP: 192.0.2.53
  loadBalancerClass: example.com/lb
  loadBalancerSourceRanges: [192.0.2.0/24]
  externalTrafficPolicy: Local
  ipFamilyPolicy: PreferDualStack
  nodePort: 30053
",
    );
    let service = rendered.get("Service", &fullname());
    let spec = &service["spec"];
    assert_eq!(
        service["metadata"]["annotations"]["service.beta.kubernetes.io/aws-load-balancer-type"],
        "nlb"
    );
    assert_eq!(service["metadata"]["labels"]["example.com/exposed"], "true");
    assert_eq!(spec["loadBalancerIP"], "192.0.2.53");
    assert_eq!(spec["loadBalancerClass"], "example.com/lb");
    assert_eq!(spec["loadBalancerSourceRanges"], json!(["192.0.2.0/24"]));
    assert_eq!(spec["externalTrafficPolicy"], "Local");
    assert_eq!(spec["ipFamilyPolicy"], "PreferDualStack");
    for port in spec["ports"].as_array().expect("ports") {
        assert_eq!(port["nodePort"], 30053);
    }
}

#[test]
fn an_ipv6_only_cluster_gets_an_ipv6_service_and_a_pod_listening_on_ipv6() {
    // Rendered only: the test apiserver's Service range is IPv4, so a dry run refuses IPv6.
    let rendered = template(
        "domain: example.com
service:
  ipFamilyPolicy: SingleStack
  ipFamilies: [IPv6]
",
    );
    let spec = &rendered.get("Service", &fullname())["spec"];
    assert_eq!(spec["ipFamilyPolicy"], "SingleStack");
    assert_eq!(spec["ipFamilies"], json!(["IPv6"]));
    let config = rendered.config();
    assert_eq!(config["listen"], json!(["[::]:1053"]));
    assert_eq!(config["http"]["listen"], "[::]:8080");
    // The kubelet probes the pod's own address, IPv6 here, which `[::]:8080` covers.
    let container = rendered.container();
    for probe in ["livenessProbe", "readinessProbe"] {
        let get = &container[probe]["httpGet"];
        assert_eq!(get["port"], "http", "{probe}: {get}");
        assert!(get.get("host").is_none(), "{probe}: {get}");
    }
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
fn the_dry_run_refuses_a_field_the_schema_lacks() {
    // helm renders anything; the apiserver is what knows the schema.
    let rendered = template("domain: example.com\npodSecurityContext: {runAsUsr: 1000}\n");
    let refused = ControlPlane::shared()
        .dry_run_apply_yaml(&rendered.yaml)
        .expect_err("a misspelt field is refused");
    assert!(refused.contains("runAsUsr"), "{refused}");
    assert!(refused.contains("Deployment"), "{refused}");
}

/// The `helm install` commands of the chart README's "Two nameservers" section, as argument
/// lists (after `helm`), `\` continuations joined.
fn readme_install_commands() -> Vec<Vec<String>> {
    let section = CHART_README
        .split("## Two nameservers")
        .nth(1)
        .expect("the chart README has a \"Two nameservers\" section");
    let section = section.split("\n## ").next().unwrap_or(section);
    let joined = section.replace("\\\n", " ");
    joined
        .lines()
        .map(str::trim)
        .filter(|line| line.starts_with("helm install "))
        .map(|line| line.split_whitespace().skip(1).map(str::to_owned).collect())
        .collect()
}

#[test]
fn the_readmes_dual_nameserver_install_names_each_release_the_others_secondary() {
    let commands = readme_install_commands();
    assert_eq!(commands.len(), 2, "two helm install commands: {commands:?}");
    let cluster = ControlPlane::shared();
    let mut apexes = Vec::new();
    let mut configs = Vec::new();
    for command in &commands {
        // install <release> charts/kubezone --namespace <ns> ... as template, from the root.
        let namespace = command
            .iter()
            .position(|a| a == "--namespace")
            .map(|i| command[i + 1].clone())
            .expect("--namespace");
        cluster.create_namespace(&namespace);
        let args: Vec<&str> = command
            .iter()
            .map(String::as_str)
            .filter(|a| *a != "--create-namespace")
            .collect();
        assert_eq!(args[0], "install");
        assert_eq!(args[2], "charts/kubezone");
        let output = run(helm()
            .arg("template")
            .args(&args[1..])
            .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")));
        assert!(
            output.status.success(),
            "helm template {args:?}: {}",
            text(&output.stderr)
        );
        let yaml = text(&output.stdout);
        let rendered = Rendered {
            objects: parse_documents(&yaml),
            yaml,
            namespace: namespace.clone(),
        };
        kubezone_check(rendered.config_text());
        dry_run(&rendered);
        let service = rendered.one("Service")["metadata"]["name"]
            .as_str()
            .expect("Service name")
            .to_owned();
        let config = rendered.config();
        assert_eq!(config["zones"][0]["apex"], format!("{service}.{namespace}"));
        apexes.push(format!("{service}.{namespace}"));

        // NOTES.txt: the delegation records and a dig to try.
        let notes = run(helm()
            .args(["install", "--dry-run=client", "--kubeconfig"])
            .arg(cluster.admin_kubeconfig())
            .args(&args[1..])
            .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")));
        assert!(notes.status.success(), "{}", text(&notes.stderr));
        let notes = text(&notes.stdout);
        let notes = notes.split("NOTES:").nth(1).expect("NOTES printed");
        let secondary = config["zones"][0]["secondary"].as_str().expect("secondary");
        for line in [
            format!("example.com.  3600  IN  NS  {service}.{namespace}.example.com."),
            format!("example.com.  3600  IN  NS  {secondary}.example.com."),
            format!("{service}.{namespace}.example.com.  3600  IN  A  <KUBEZONE_IP>"),
            "dig @$KUBEZONE_IP +norec example.com SOA".to_owned(),
        ] {
            assert!(notes.contains(&line), "NOTES lack {line:?}:\n{notes}");
        }
        configs.push(config);
    }
    assert_ne!(apexes[0], apexes[1]);
    assert_eq!(configs[0]["zones"][0]["secondary"], apexes[1]);
    assert_eq!(configs[1]["zones"][0]["secondary"], apexes[0]);
    for config in &configs {
        assert_eq!(
            config["zones"][0]["secondaryGlue"].as_array().map(Vec::len),
            Some(1)
        );
    }
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
