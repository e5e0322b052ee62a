//! The Helm chart (`charts/kubezone`): `helm lint` and `helm template` over a matrix of values,
//! assertions on the rendered objects, the rendered config through `kubezone check`, and every
//! rendered object applied to a real kube-apiserver by server-side dry run with strict field
//! validation, so a schema mistake fails here and not at install time.
//!
//! helm comes from `scripts/helm.sh` (built once, cached).

mod config;
mod pod;
mod rbac;
mod readme;
mod service;

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
        let yaml: serde_norway::Value =
            serde_norway::from_str(self.config_text()).expect("the config is YAML");
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
    serde_norway::Deserializer::from_str(yaml)
        .map(|document| serde_norway::Value::deserialize(document).expect("valid YAML"))
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

/// `kubezone check` on a rendered config, as on a laptop: its `kubernetes: {}` (in-cluster) is
/// not contacted, so no kubeconfig is needed; a file of a test secret stands in for each TSIG
/// key's mounted Secret, which check reads.
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
        // Not there, as outside a cluster.
        .env("KUBECONFIG", dir.path().join("kubeconfig"))
        .env_remove("KUBEZONE_CONFIG")
        .stdin(Stdio::null()));
    assert!(
        output.status.success(),
        "kubezone check refused the rendered config:\n{config}\n{}{}",
        text(&output.stdout),
        text(&output.stderr)
    );
    assert!(
        text(&output.stdout).contains("the cluster was not contacted"),
        "{}",
        text(&output.stdout)
    );
}

fn fullname() -> String {
    format!("{RELEASE}-kubezone")
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
fn the_dry_run_refuses_a_field_the_schema_lacks() {
    // helm renders anything; the apiserver is what knows the schema.
    let rendered = template("domain: example.com\npodSecurityContext: {runAsUsr: 1000}\n");
    let refused = ControlPlane::shared()
        .dry_run_apply_yaml(&rendered.yaml)
        .expect_err("a misspelt field is refused");
    assert!(refused.contains("runAsUsr"), "{refused}");
    assert!(refused.contains("Deployment"), "{refused}");
}
