//! A real Kubernetes control plane for the live-cluster tests: etcd and kube-apiserver, built by
//! `scripts/control-plane.sh`, on loopback ports with RBAC and static-token authentication.
//!
//! Use [`ControlPlane::shared`] for tests that leave the cluster as they found it (each in its own
//! namespace), and [`ControlPlane::start`] for tests that stop the apiserver, change RBAC or
//! remove CRDs. There is no controller-manager: namespaces never finish terminating and nothing
//! garbage-collects, so tests create fresh names instead of cleaning up.
//!
//! The helpers are blocking and run their Kubernetes calls on the control plane's own Tokio
//! runtime, so they work from plain `#[test]` functions and from async code alike.

use std::{
    collections::BTreeSet,
    fs,
    future::Future,
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, ChildStdin, Command, Stdio},
    sync::{
        Mutex, MutexGuard, OnceLock,
        atomic::{AtomicUsize, Ordering},
        mpsc,
    },
    time::{Duration, Instant},
};

use k8s_openapi::{
    api::{
        authorization::v1::SubjectAccessReview,
        core::v1::{Namespace, Secret, Service},
    },
    apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition,
};
use kube::{
    Client, Config,
    api::{Api, DeleteParams, DynamicObject, ListParams, Patch, PatchParams, PostParams},
    config::{KubeConfigOptions, Kubeconfig},
    core::GroupVersionKind,
    discovery::{self, Scope},
};
use serde::Deserialize;
use serde_json::json;

/// Bound for the control plane to come up; generous because the machine may be busy compiling.
const STARTUP_PATIENCE: Duration = Duration::from_secs(90);
/// Bound for things the apiserver does in the background: CRDs becoming Established, RBAC
/// changes reaching the authorizer, CRD deletion.
const PATIENCE: Duration = Duration::from_secs(30);

// Who kubezone's ServiceAccount token authenticates as.
pub const KUBEZONE_NAMESPACE: &str = "kubezone";
pub const KUBEZONE_SERVICE_ACCOUNT: &str = "kubezone";
pub const KUBEZONE_USER: &str = "system:serviceaccount:kubezone:kubezone";
const KUBEZONE_GROUPS: &str =
    "system:serviceaccounts,system:serviceaccounts:kubezone,system:authenticated";
const ADMIN_TOKEN: &str = "kubezone-e2e-admin-token";
const KUBEZONE_TOKEN: &str = "kubezone-e2e-kubezone-token";
const FIELD_MANAGER: &str = "kubezone-e2e";

/// The ClusterRole the Helm chart ships; kubezone runs under exactly this in the tests.
const CLUSTER_ROLE: &str = include_str!("../../charts/kubezone/files/clusterrole.yaml");

/// CRD bundles built by `scripts/control-plane.sh`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Crds {
    /// GatewayClass, Gateway, HTTPRoute, GRPCRoute, TLSRoute (all served at v1), ReferenceGrant.
    GatewayApi,
    /// external-dns's DNSEndpoint (`externaldns.k8s.io/v1alpha1`).
    DnsEndpoint,
}

impl Crds {
    fn file(self) -> &'static str {
        match self {
            Crds::GatewayApi => "gateway-api.yaml",
            Crds::DnsEndpoint => "dnsendpoint.yaml",
        }
    }
}

/// How to start a control plane.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Extra kube-apiserver flags, e.g. `--watch-cache-sizes=services#0`.
    pub apiserver_args: Vec<String>,
}

pub struct ControlPlane {
    dir: tempfile::TempDir,
    bin: PathBuf,
    crds: PathBuf,
    port: u16,
    etcd_url: String,
    etcd: Mutex<Option<Process>>,
    apiserver: Mutex<Option<Process>>,
    apiserver_args: Mutex<Vec<String>>,
    runtime: Option<tokio::runtime::Runtime>,
    reaper: Option<Reaper>,
}

impl ControlPlane {
    /// One control plane per test process, started on first use. Don't stop it, change RBAC
    /// or remove CRDs on it; use [`ControlPlane::start`] for that.
    pub fn shared() -> &'static ControlPlane {
        static SHARED: OnceLock<ControlPlane> = OnceLock::new();
        SHARED.get_or_init(ControlPlane::start)
    }

    pub fn start() -> ControlPlane {
        ControlPlane::start_with(Options::default())
    }

    pub fn start_with(options: Options) -> ControlPlane {
        let built = built();
        let dir = tempfile::Builder::new()
            .prefix("kubezone-control-plane-")
            .tempdir()
            .expect("create the control plane's temporary folder");
        // Removes the folder if this process dies before Drop runs (and for `shared`, which
        // never drops).
        let reaper = Reaper::spawn(dir.path());
        write_credentials(dir.path());

        let port = free_port();
        let etcd_client = free_port();
        let etcd_peer = free_port();
        let etcd_url = format!("http://127.0.0.1:{etcd_client}");
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("control-plane")
            .enable_all()
            .build()
            .expect("build the control plane's Tokio runtime");
        let control_plane = ControlPlane {
            bin: built.join("bin"),
            crds: built.join("crds"),
            port,
            etcd_url: etcd_url.clone(),
            etcd: Mutex::new(None),
            apiserver: Mutex::new(None),
            apiserver_args: Mutex::new(options.apiserver_args),
            runtime: Some(runtime),
            reaper: Some(reaper),
            dir,
        };
        control_plane.write_kubeconfig("admin", ADMIN_TOKEN);
        control_plane.write_kubeconfig("kubezone", KUBEZONE_TOKEN);
        let dir = control_plane.dir.path();
        control_plane.write_kubeconfig_for(
            "kubezone-client-certificate",
            json!({
                "client-certificate": dir.join("kubezone-client.crt"),
                "client-key": dir.join("kubezone-client.key"),
            }),
        );
        // An exec credential plugin, as cloud CLIs are: it prints the ServiceAccount's token.
        let credential = json!({
            "apiVersion": "client.authentication.k8s.io/v1",
            "kind": "ExecCredential",
            "status": { "token": KUBEZONE_TOKEN },
        });
        control_plane.write_kubeconfig_for(
            "kubezone-exec",
            json!({ "exec": {
                "apiVersion": "client.authentication.k8s.io/v1",
                "command": "sh",
                "args": ["-c", format!("printf '%s' '{credential}'")],
                "interactiveMode": "Never",
            }}),
        );

        let etcd_dir = control_plane.dir.path().join("etcd");
        let peer_url = format!("http://127.0.0.1:{etcd_peer}");
        let etcd = Process::spawn(
            "etcd",
            &control_plane.bin.join("etcd"),
            &[
                "--name=kubezone-e2e".to_owned(),
                format!("--data-dir={}", etcd_dir.display()),
                format!("--listen-client-urls={etcd_url}"),
                format!("--advertise-client-urls={etcd_url}"),
                format!("--listen-peer-urls={peer_url}"),
                format!("--initial-advertise-peer-urls={peer_url}"),
                format!("--initial-cluster=kubezone-e2e={peer_url}"),
                // A test cluster's data need not survive a power cut.
                "--unsafe-no-fsync".to_owned(),
                "--log-level=warn".to_owned(),
            ],
            &control_plane.dir.path().join("etcd.log"),
        );
        *lock(&control_plane.etcd) = Some(etcd);
        control_plane.start_apiserver();
        control_plane
    }

    /// `https://127.0.0.1:<port>`.
    pub fn server_url(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }

    /// The CA that signed the apiserver's serving certificate.
    pub fn ca_file(&self) -> PathBuf {
        self.dir.path().join("ca.crt")
    }

    /// A kubeconfig for user `admin` in group `system:masters`.
    pub fn admin_kubeconfig(&self) -> PathBuf {
        self.dir.path().join("admin.kubeconfig")
    }

    /// A kubeconfig for kubezone's ServiceAccount ([`KUBEZONE_USER`]); it may do nothing until
    /// [`ControlPlane::grant_kubezone`].
    pub fn kubezone_kubeconfig(&self) -> PathBuf {
        self.dir.path().join("kubezone.kubeconfig")
    }

    /// A new client for the admin. Its background task runs on the control plane's runtime, so
    /// it works from any runtime for as long as the control plane lives.
    pub fn admin_client(&self) -> Client {
        self.client(&self.admin_kubeconfig())
    }

    /// A new client for kubezone's ServiceAccount.
    pub fn kubezone_client(&self) -> Client {
        self.client(&self.kubezone_kubeconfig())
    }

    fn client(&self, kubeconfig: &Path) -> Client {
        let kubeconfig = Kubeconfig::read_from(kubeconfig).expect("read kubeconfig");
        let config = self
            .block_on(Config::from_custom_kubeconfig(
                kubeconfig,
                &KubeConfigOptions::default(),
            ))
            .expect("load kubeconfig");
        let _runtime = self.runtime().enter();
        Client::try_from(config).expect("build kube client")
    }

    /// Runs `future` to completion on the control plane's runtime, from any thread (also from
    /// inside another runtime).
    pub fn block_on<F>(&self, future: F) -> F::Output
    where
        F: Future + Send,
        F::Output: Send,
    {
        let runtime = self.runtime();
        std::thread::scope(|scope| {
            scope
                .spawn(|| runtime.block_on(future))
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        })
    }

    fn runtime(&self) -> &tokio::runtime::Runtime {
        self.runtime.as_ref().expect("runtime lives until drop")
    }

    /// Creates or updates every object in `yaml` (one or more documents) by server-side apply,
    /// as the admin. Namespaced objects without a namespace go to `default`.
    pub fn apply_yaml(&self, yaml: &str) {
        let client = self.admin_client();
        self.block_on(async {
            for object in documents(yaml) {
                let (api, name) = api_for(&client, &object).await;
                api.patch(&name, &apply_params(), &Patch::Apply(&object))
                    .await
                    .unwrap_or_else(|e| panic!("apply {}: {e}", describe(&object)));
            }
        });
    }

    /// Server-side applies every object in `yaml` as the admin with `dryRun=All` and strict
    /// field validation: the apiserver checks each object against its schema (unknown and
    /// duplicate fields included) and admission, and stores nothing. The error lists every
    /// refused object. Namespaced objects without a namespace go to `default`.
    pub fn dry_run_apply_yaml(&self, yaml: &str) -> Result<(), String> {
        let client = self.admin_client();
        let params = apply_params().dry_run().validation_strict();
        let refused: Vec<String> = self.block_on(async {
            let mut refused = Vec::new();
            for object in documents(yaml) {
                let (api, name) = api_for(&client, &object).await;
                if let Err(e) = api.patch(&name, &params, &Patch::Apply(&object)).await {
                    refused.push(format!("{}: {e}", describe(&object)));
                }
            }
            refused
        });
        if refused.is_empty() {
            Ok(())
        } else {
            Err(refused.join("\n"))
        }
    }

    /// Applies the `status` of every object in `yaml` through the status subresource, e.g. a
    /// Service's `status.loadBalancer`. The objects must exist.
    pub fn apply_status_yaml(&self, yaml: &str) {
        let client = self.admin_client();
        self.block_on(async {
            for object in documents(yaml) {
                let (api, name) = api_for(&client, &object).await;
                api.patch_status(&name, &apply_params(), &Patch::Apply(&object))
                    .await
                    .unwrap_or_else(|e| panic!("apply status of {}: {e}", describe(&object)));
            }
        });
    }

    /// Deletes every object named in `yaml`; objects that don't exist are fine.
    pub fn delete_yaml(&self, yaml: &str) {
        let client = self.admin_client();
        self.block_on(async {
            for object in documents(yaml) {
                let (api, name) = api_for(&client, &object).await;
                match api.delete(&name, &DeleteParams::default()).await {
                    Ok(_) => {}
                    Err(kube::Error::Api(status)) if status.is_not_found() => {}
                    Err(e) => panic!("delete {}: {e}", describe(&object)),
                }
            }
        });
    }

    /// Deletes one object; `namespace` is ignored for cluster-scoped Kinds.
    pub fn delete(&self, api_version: &str, kind: &str, namespace: Option<&str>, name: &str) {
        let mut metadata = json!({ "name": name });
        if let Some(namespace) = namespace {
            metadata["namespace"] = json!(namespace);
        }
        let object = json!({ "apiVersion": api_version, "kind": kind, "metadata": metadata });
        self.delete_yaml(&object.to_string());
    }

    pub fn create_namespace(&self, name: &str) {
        self.apply_yaml(&format!(
            "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {name}\n"
        ));
    }

    /// Creates a namespace named `<prefix>-<n>` that no other test in this process uses.
    pub fn fresh_namespace(&self, prefix: &str) -> String {
        static NEXT: AtomicUsize = AtomicUsize::new(1);
        let name = format!("{prefix}-{}", NEXT.fetch_add(1, Ordering::Relaxed));
        self.create_namespace(&name);
        name
    }

    /// Installs CRDs and waits until the apiserver serves them: condition Established, and
    /// every served version of their Kinds in discovery.
    pub fn install_crds(&self, crds: Crds) {
        self.install_crd_yaml(&self.crd_yaml(crds));
    }

    /// Like [`ControlPlane::install_crds`], for CRDs given as YAML (e.g. the ServiceMonitor CRD
    /// that `scripts/helm.sh` fetches).
    pub fn install_crd_yaml(&self, yaml: &str) {
        self.apply_yaml(yaml);
        let client = self.admin_client();
        let api: Api<CustomResourceDefinition> = Api::all(client.clone());
        for name in object_names(yaml) {
            let established = || {
                self.block_on(api.get_opt(&name))
                    .expect("get CRD")
                    .and_then(|crd| crd.status)
                    .and_then(|status| status.conditions)
                    .is_some_and(|conditions| {
                        conditions
                            .iter()
                            .any(|c| c.type_ == "Established" && c.status == "True")
                    })
            };
            wait_until(&format!("CRD {name} is Established"), established);
        }
        for gvk in served_kinds(yaml) {
            wait_until(&format!("discovery has {gvk:?}"), || {
                self.block_on(discovery::pinned_kind(&client, &gvk)).is_ok()
            });
        }
    }

    /// Deletes CRDs (and so every object of their Kinds) and waits until they are gone, also
    /// from discovery.
    pub fn uninstall_crds(&self, crds: Crds) {
        let yaml = self.crd_yaml(crds);
        self.delete_yaml(&yaml);
        let client = self.admin_client();
        let api: Api<CustomResourceDefinition> = Api::all(client.clone());
        for name in object_names(&yaml) {
            wait_until(&format!("CRD {name} is deleted"), || {
                self.block_on(api.get_opt(&name))
                    .expect("get CRD")
                    .is_none()
            });
        }
        for gvk in served_kinds(&yaml) {
            wait_until(&format!("discovery no longer has {gvk:?}"), || {
                self.block_on(discovery::pinned_kind(&client, &gvk))
                    .is_err()
            });
        }
    }

    /// The CRDs of a bundle, as `scripts/control-plane.sh` built them.
    pub fn crd_yaml(&self, crds: Crds) -> String {
        let path = self.crds.join(crds.file());
        fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
    }

    /// Binds kubezone's ServiceAccount to the chart's ClusterRole and waits until the
    /// authorizer lets it read every Kind in it.
    pub fn grant_kubezone(&self) {
        self.set_kubezone_cluster_role(cluster_role_without(None));
    }

    /// Like [`ControlPlane::grant_kubezone`], but with `resource` (e.g. `"services"`, or
    /// `"httproutes"` in group `"gateway.networking.k8s.io"`) taken out of the ClusterRole;
    /// waits until kubezone may no longer list it.
    pub fn grant_kubezone_except(&self, group: &str, resource: &str) {
        self.set_kubezone_cluster_role(cluster_role_without(Some((group, resource))));
    }

    fn set_kubezone_cluster_role(&self, role: serde_json::Value) {
        self.apply_yaml(&role.to_string());
        self.apply_yaml(&format!(
            "apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: kubezone
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: kubezone
subjects:
  - kind: ServiceAccount
    name: {KUBEZONE_SERVICE_ACCOUNT}
    namespace: {KUBEZONE_NAMESPACE}
"
        ));
        let granted = rules(&role);
        let admin = self.admin_client();
        for (group, resource) in rules(&cluster_role_without(None)) {
            let expected = granted.contains(&(group.clone(), resource.clone()));
            for verb in ["get", "list", "watch"] {
                wait_until(
                    &format!("kubezone may {verb} {resource}.{group}: {expected}"),
                    || self.block_on(kubezone_can(&admin, verb, &group, &resource)) == expected,
                );
            }
        }
    }

    /// Whether kubezone's ServiceAccount may `verb` `resource` in `group` cluster-wide, as the
    /// apiserver's authorizer decides right now.
    pub fn kubezone_can(&self, verb: &str, group: &str, resource: &str) -> bool {
        self.block_on(kubezone_can(&self.admin_client(), verb, group, resource))
    }

    /// Kills the apiserver (etcd keeps running), as in an outage.
    pub fn stop_apiserver(&self) {
        if let Some(mut apiserver) = lock(&self.apiserver).take() {
            apiserver.kill();
        }
    }

    /// Starts the apiserver on the same port and etcd, and waits until it is ready.
    pub fn start_apiserver(&self) {
        self.spawn_apiserver();
        self.wait_ready();
    }

    /// Starts the apiserver without waiting for it to be ready (etcd may be stalled);
    /// [`ControlPlane::wait_apiserver_ready`] waits.
    pub fn spawn_apiserver(&self) {
        let mut apiserver = lock(&self.apiserver);
        assert!(apiserver.is_none(), "the apiserver is already running");
        let args = self.apiserver_flags();
        *apiserver = Some(Process::spawn(
            "kube-apiserver",
            &self.bin.join("kube-apiserver"),
            &args,
            &self.dir.path().join("kube-apiserver.log"),
        ));
    }

    /// Waits until the apiserver's /readyz says ok.
    pub fn wait_apiserver_ready(&self) {
        self.wait_ready();
    }

    /// Freezes the apiserver with SIGSTOP: its connections stay open and nothing answers, as
    /// in a hung process. [`ControlPlane::resume_apiserver`] undoes it.
    pub fn pause_apiserver(&self) {
        signal(&self.apiserver, "kube-apiserver", "STOP");
    }

    pub fn resume_apiserver(&self) {
        signal(&self.apiserver, "kube-apiserver", "CONT");
    }

    /// Freezes etcd with SIGSTOP: the apiserver keeps running, and whatever it needs from etcd
    /// times out. [`ControlPlane::resume_etcd`] undoes it.
    pub fn pause_etcd(&self) {
        signal(&self.etcd, "etcd", "STOP");
    }

    pub fn resume_etcd(&self) {
        signal(&self.etcd, "etcd", "CONT");
    }

    /// Lists the collection at `path` (e.g. `/api/v1/services`) as the admin, given up after
    /// `patience`: `Ok(200)`, the error status code, or why there was none (a timeout, a refused
    /// connection). For naming what a misbehaving apiserver answers.
    pub fn probe_list(&self, path: &str, patience: Duration) -> Result<u16, String> {
        let client = self.admin_client();
        self.block_on(async {
            let request = kube::core::Request::new(path)
                .list(&ListParams::default())
                .map_err(|e| e.to_string())?;
            match tokio::time::timeout(patience, client.request_text(request)).await {
                Ok(Ok(_)) => Ok(200),
                Ok(Err(kube::Error::Api(status))) => Ok(status.code),
                Ok(Err(e)) => Err(e.to_string()),
                Err(_) => Err(format!("no answer within {patience:?}")),
            }
        })
    }

    /// Restarts the apiserver with `args` in place of the extra flags it ran with.
    /// Compacts etcd's history up to now, straight through etcd's own API (the apiserver may be
    /// down), so a watch resuming from an older resourceVersion gets `410 Gone`.
    pub fn compact_etcd(&self) {
        let header = etcd_post(&self.etcd_url, "/v3/kv/range", &json!({"key": "AA=="}));
        let revision = header["header"]["revision"]
            .as_str()
            .map(str::to_owned)
            .unwrap_or_else(|| panic!("etcd gave no revision: {header}"));
        etcd_post(
            &self.etcd_url,
            "/v3/kv/compaction",
            &json!({"revision": revision, "physical": true}),
        );
    }

    pub fn restart_apiserver_with(&self, args: &[&str]) {
        self.stop_apiserver();
        *lock(&self.apiserver_args) = args.iter().map(|a| (*a).to_owned()).collect();
        self.start_apiserver();
    }

    fn apiserver_flags(&self) -> Vec<String> {
        let dir = self.dir.path();
        let file = |name: &str| dir.join(name).display().to_string();
        let mut flags = vec![
            "--bind-address=127.0.0.1".to_owned(),
            "--advertise-address=127.0.0.1".to_owned(),
            format!("--secure-port={}", self.port),
            format!("--etcd-servers={}", self.etcd_url),
            "--authorization-mode=RBAC".to_owned(),
            format!("--token-auth-file={}", file("tokens.csv")),
            format!("--client-ca-file={}", file("ca.crt")),
            format!("--tls-cert-file={}", file("apiserver.crt")),
            format!("--tls-private-key-file={}", file("apiserver.key")),
            format!("--cert-dir={}", file("apiserver-certs")),
            "--service-account-issuer=https://kubernetes.default.svc".to_owned(),
            format!("--service-account-key-file={}", file("service-account.pub")),
            format!(
                "--service-account-signing-key-file={}",
                file("service-account.key")
            ),
            "--service-cluster-ip-range=10.96.0.0/16".to_owned(),
            // Endpoints of the `kubernetes` Service may not be loopback addresses.
            "--endpoint-reconciler-type=none".to_owned(),
            "--profiling=false".to_owned(),
        ];
        flags.extend(lock(&self.apiserver_args).iter().cloned());
        flags
    }

    fn wait_ready(&self) {
        let client = self.admin_client();
        let deadline = Instant::now() + STARTUP_PATIENCE;
        loop {
            for (name, process) in [("kube-apiserver", &self.apiserver), ("etcd", &self.etcd)] {
                if let Some(process) = lock(process).as_mut()
                    && let Some(status) = process.exited()
                {
                    panic!("{name} exited ({status}) while starting\n{}", self.logs());
                }
            }
            let ready = self.block_on(async {
                let request = kube::core::Request::new("")
                    .get("readyz", &Default::default())
                    .expect("readyz request");
                tokio::time::timeout(Duration::from_secs(5), client.request_text(request)).await
            });
            if matches!(ready, Ok(Ok(ref body)) if body.trim() == "ok") {
                return;
            }
            if Instant::now() > deadline {
                panic!(
                    "kube-apiserver not ready after {STARTUP_PATIENCE:?} (last /readyz: {ready:?})\n{}",
                    self.logs()
                );
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// The tails of the etcd and kube-apiserver logs, for failure messages.
    pub fn logs(&self) -> String {
        ["etcd.log", "kube-apiserver.log"]
            .iter()
            .map(|name| {
                let text = fs::read_to_string(self.dir.path().join(name)).unwrap_or_default();
                let lines: Vec<&str> = text.lines().collect();
                let tail = lines[lines.len().saturating_sub(30)..].join("\n");
                format!("--- {name} (last 30 lines)\n{tail}\n")
            })
            .collect()
    }

    /// A kubeconfig for kubezone's ServiceAccount authenticating with a client certificate
    /// signed by the cluster CA, instead of a token.
    pub fn kubezone_kubeconfig_client_certificate(&self) -> PathBuf {
        self.dir
            .path()
            .join("kubezone-client-certificate.kubeconfig")
    }

    /// A kubeconfig for kubezone's ServiceAccount whose token comes from an exec plugin.
    pub fn kubezone_kubeconfig_exec(&self) -> PathBuf {
        self.dir.path().join("kubezone-exec.kubeconfig")
    }

    fn write_kubeconfig(&self, user: &str, token: &str) {
        self.write_kubeconfig_for(user, json!({ "token": token }));
    }

    fn write_kubeconfig_for(&self, user: &str, credentials: serde_json::Value) {
        let kubeconfig = json!({
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{ "name": "e2e", "cluster": {
                "server": self.server_url(),
                "certificate-authority": self.ca_file(),
            }}],
            "users": [{ "name": user, "user": credentials }],
            "contexts": [{ "name": user, "context": { "cluster": "e2e", "user": user } }],
            "current-context": user,
        });
        let yaml = serde_yaml::to_string(&kubeconfig).expect("kubeconfig yaml");
        fs::write(self.dir.path().join(format!("{user}.kubeconfig")), yaml)
            .expect("write kubeconfig");
    }
}

impl Drop for ControlPlane {
    fn drop(&mut self) {
        self.stop_apiserver();
        if let Some(mut etcd) = lock(&self.etcd).take() {
            etcd.kill();
        }
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
        if let Some(reaper) = self.reaper.take() {
            reaper.dismiss();
        }
    }
}

/// The folder `scripts/control-plane.sh` built (or found cached), once per test process.
fn built() -> &'static Path {
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let built = BUILT.get_or_init(|| {
        crate::harness::run_build_script(
            "control-plane.sh",
            "the live-cluster tests need its etcd and kube-apiserver",
        )
    });
    match built {
        Ok(dir) => dir,
        Err(message) => panic!("{message}"),
    }
}

/// CA, apiserver serving certificate, ServiceAccount signing keys and the static token file.
fn write_credentials(dir: &Path) {
    // Arguments separated by whitespace; none contains any.
    let openssl = |args: &str| {
        let output = Command::new("openssl")
            .args(args.split_whitespace())
            .current_dir(dir)
            .stdin(Stdio::null())
            .output()
            .expect("run openssl (Debian package openssl; scripts/install-test-deps.sh)");
        assert!(
            output.status.success(),
            "openssl {args}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    };
    openssl(
        "req -x509 -newkey rsa:2048 -nodes -days 3650 -keyout ca.key -out ca.crt
         -subj /CN=kubezone-e2e-ca
         -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign",
    );
    openssl(
        "req -x509 -newkey rsa:2048 -nodes -days 3650 -CA ca.crt -CAkey ca.key
         -keyout apiserver.key -out apiserver.crt -subj /CN=kube-apiserver
         -addext subjectAltName=IP:127.0.0.1,DNS:localhost
         -addext basicConstraints=critical,CA:FALSE
         -addext keyUsage=critical,digitalSignature,keyEncipherment
         -addext extendedKeyUsage=serverAuth",
    );
    // The same user as kubezone's token, for the client-certificate kubeconfig.
    openssl(&format!(
        "req -x509 -newkey rsa:2048 -nodes -days 3650 -CA ca.crt -CAkey ca.key
         -keyout kubezone-client.key -out kubezone-client.crt
         -subj /CN={KUBEZONE_USER}/O=system:serviceaccounts
         -addext basicConstraints=critical,CA:FALSE
         -addext keyUsage=critical,digitalSignature,keyEncipherment
         -addext extendedKeyUsage=clientAuth"
    ));
    openssl("genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out service-account.key");
    openssl("pkey -in service-account.key -pubout -out service-account.pub");
    fs::write(
        dir.join("tokens.csv"),
        format!(
            "{ADMIN_TOKEN},admin,admin,\"system:masters\"\n\
             {KUBEZONE_TOKEN},{KUBEZONE_USER},kubezone,\"{KUBEZONE_GROUPS}\"\n"
        ),
    )
    .expect("write tokens.csv");
}

/// A loopback port nothing listens on now and that this process has not handed out before.
fn free_port() -> u16 {
    static HANDED_OUT: Mutex<BTreeSet<u16>> = Mutex::new(BTreeSet::new());
    loop {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let port = listener.local_addr().expect("local address").port();
        if lock(&HANDED_OUT).insert(port) {
            return port;
        }
    }
}

/// Sends `signal` (e.g. "STOP") to a running etcd or apiserver.
fn signal(process: &Mutex<Option<Process>>, name: &str, signal: &str) {
    let pid = lock(process)
        .as_ref()
        .map(|p| p.child.id())
        .unwrap_or_else(|| panic!("{name} is not running"));
    let status = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(pid.to_string())
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -{signal} {name} ({pid}) failed");
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + PATIENCE;
    while !condition() {
        assert!(
            Instant::now() < deadline,
            "timed out after {PATIENCE:?} waiting until {what}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// An etcd or kube-apiserver process; never outlives the test process.
struct Process {
    child: Child,
}

impl Process {
    /// Starts `program` under `setpriv --pdeathsig SIGKILL`, so the kernel kills it when this
    /// process dies however it dies. The signal fires when the *thread* that forked it exits, and
    /// test threads exit after each test, so the fork happens on one thread that lives as long
    /// as the process.
    fn spawn(name: &str, program: &Path, args: &[String], log: &Path) -> Process {
        type Job = (Command, mpsc::Sender<std::io::Result<Child>>);
        static SPAWNER: OnceLock<mpsc::Sender<Job>> = OnceLock::new();
        let spawner = SPAWNER.get_or_init(|| {
            let (jobs, incoming) = mpsc::channel::<Job>();
            std::thread::Builder::new()
                .name("control-plane-spawner".to_owned())
                .spawn(move || {
                    for (mut command, reply) in incoming {
                        let _ = reply.send(command.spawn());
                    }
                })
                .expect("start the spawner thread");
            jobs
        });
        let log_file = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .expect("open log file");
        let mut command = Command::new("setpriv");
        command
            .args(["--pdeathsig", "SIGKILL", "--"])
            .arg(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(log_file.try_clone().expect("clone log file"))
            .stderr(log_file);
        let (reply, child) = mpsc::channel();
        spawner
            .send((command, reply))
            .expect("spawner thread is alive");
        let child = child
            .recv()
            .expect("spawner thread replies")
            .unwrap_or_else(|e| panic!("start {name} under setpriv (util-linux): {e}"));
        Process { child }
    }

    fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A shell that removes the control plane's folder once this process's end of its stdin
/// closes, i.e. when the process exits without dropping the control plane.
struct Reaper {
    child: Child,
    _stdin: ChildStdin,
}

impl Reaper {
    fn spawn(dir: &Path) -> Reaper {
        let mut child = Command::new("sh")
            .args([
                "-c",
                // Ignores Ctrl-C, which reaches the whole process group; waits for the killed
                // etcd to stop writing.
                "trap '' INT HUP TERM; cat >/dev/null; sleep 1; rm -rf -- \"$1\"",
                "control-plane-reaper",
            ])
            .arg(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the cleanup shell");
        let stdin = child.stdin.take().expect("piped stdin");
        Reaper {
            child,
            _stdin: stdin,
        }
    }

    /// Drop removes the folder itself; the reaper is not needed.
    fn dismiss(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The objects in a multi-document YAML; empty documents are skipped.
/// A JSON request to etcd's gRPC gateway; its JSON reply.
fn etcd_post(etcd_url: &str, path: &str, body: &serde_json::Value) -> serde_json::Value {
    use std::io::{Read, Write};
    let host = etcd_url.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(host).expect("connect to etcd");
    stream
        .set_read_timeout(Some(PATIENCE))
        .expect("read timeout");
    let body = body.to_string();
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("write to etcd");
    let mut reply = String::new();
    stream.read_to_string(&mut reply).expect("read from etcd");
    let (head, json) = reply.split_once("\r\n\r\n").expect("an HTTP reply");
    assert!(head.starts_with("HTTP/1.1 200"), "etcd {path}: {reply}");
    serde_json::from_str(json).unwrap_or_else(|e| panic!("etcd {path}: {e}: {json}"))
}

fn documents(yaml: &str) -> Vec<DynamicObject> {
    serde_yaml::Deserializer::from_str(yaml)
        .map(|document| serde_yaml::Value::deserialize(document).expect("valid YAML"))
        .filter(|value| !value.is_null())
        .map(|value| {
            let value = serde_json::to_value(value).expect("YAML as JSON");
            serde_json::from_value(value).expect("a Kubernetes object")
        })
        .collect()
}

fn object_names(yaml: &str) -> Vec<String> {
    documents(yaml)
        .into_iter()
        .map(|object| object.metadata.name.expect("object has a name"))
        .collect()
}

fn describe(object: &DynamicObject) -> String {
    let kind = object.types.as_ref().map_or("?", |t| t.kind.as_str());
    let namespace = object.metadata.namespace.as_deref().unwrap_or("");
    let name = object.metadata.name.as_deref().unwrap_or("?");
    format!("{kind} {namespace}/{name}")
}

fn apply_params() -> PatchParams {
    PatchParams::apply(FIELD_MANAGER).force()
}

/// The API of an object's Kind, found by discovery, and the object's name.
async fn api_for(client: &Client, object: &DynamicObject) -> (Api<DynamicObject>, String) {
    let types = object
        .types
        .as_ref()
        .unwrap_or_else(|| panic!("{} has no apiVersion/kind", describe(object)));
    let gvk = GroupVersionKind::try_from(types).expect("apiVersion is group/version");
    let (resource, capabilities) = discovery::pinned_kind(client, &gvk)
        .await
        .unwrap_or_else(|e| panic!("discover {}: {e}", describe(object)));
    let api = match capabilities.scope {
        Scope::Namespaced => Api::namespaced_with(
            client.clone(),
            object.metadata.namespace.as_deref().unwrap_or("default"),
            &resource,
        ),
        Scope::Cluster => Api::all_with(client.clone(), &resource),
    };
    let name = object.metadata.name.clone().expect("object has a name");
    (api, name)
}

/// Asks the authorizer through a SubjectAccessReview.
async fn kubezone_can(admin: &Client, verb: &str, group: &str, resource: &str) -> bool {
    let review: SubjectAccessReview = serde_json::from_value(json!({
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SubjectAccessReview",
        "spec": {
            "user": KUBEZONE_USER,
            "groups": KUBEZONE_GROUPS.split(',').collect::<Vec<_>>(),
            "resourceAttributes": { "verb": verb, "group": group, "resource": resource },
        },
    }))
    .expect("SubjectAccessReview");
    Api::<SubjectAccessReview>::all(admin.clone())
        .create(&PostParams::default(), &review)
        .await
        .expect("create SubjectAccessReview")
        .status
        .is_some_and(|status| status.allowed)
}

/// Group, served versions and Kind of each CRD in `yaml`.
fn served_kinds(yaml: &str) -> Vec<GroupVersionKind> {
    let mut kinds = Vec::new();
    for crd in documents(yaml) {
        let spec = &crd.data["spec"];
        let (group, kind) = (&spec["group"], &spec["names"]["kind"]);
        for version in spec["versions"].as_array().into_iter().flatten() {
            if version["served"] == true
                && let (Some(group), Some(version), Some(kind)) =
                    (group.as_str(), version["name"].as_str(), kind.as_str())
            {
                kinds.push(GroupVersionKind::gvk(group, version, kind));
            }
        }
    }
    kinds
}

/// The chart's ClusterRole, optionally without one (group, resource).
fn cluster_role_without(except: Option<(&str, &str)>) -> serde_json::Value {
    let yaml: serde_yaml::Value = serde_yaml::from_str(CLUSTER_ROLE).expect("clusterrole.yaml");
    let mut role = serde_json::to_value(yaml).expect("clusterrole.yaml as JSON");
    if let Some((group, resource)) = except
        && let Some(rules) = role["rules"].as_array_mut()
    {
        for rule in rules.iter_mut() {
            let in_group = rule["apiGroups"]
                .as_array()
                .is_some_and(|groups| groups.iter().any(|g| g == group));
            if in_group && let Some(resources) = rule["resources"].as_array_mut() {
                resources.retain(|r| r != resource);
            }
        }
        rules.retain(|rule| rule["resources"].as_array().is_some_and(|r| !r.is_empty()));
    }
    role
}

/// The (group, resource) pairs a ClusterRole grants.
fn rules(role: &serde_json::Value) -> BTreeSet<(String, String)> {
    let strings = |value: &serde_json::Value| -> Vec<String> {
        value
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .filter_map(|s| s.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut pairs = BTreeSet::new();
    for rule in role["rules"].as_array().into_iter().flatten() {
        for group in strings(&rule["apiGroups"]) {
            for resource in strings(&rule["resources"]) {
                pairs.insert((group.clone(), resource));
            }
        }
    }
    pairs
}

#[test]
fn admin_creates_a_load_balancer_service_and_sets_its_status() {
    let cluster = ControlPlane::shared();
    let namespace = cluster.fresh_namespace("lb");
    cluster.apply_yaml(&format!(
        "apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: {namespace}
spec:
  type: LoadBalancer
  ports:
    - port: 80
"
    ));
    cluster.apply_status_yaml(&format!(
        "apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: {namespace}
status:
  loadBalancer:
    ingress:
      - ip: 192.0.2.10
      - ip: 2001:db8::10
"
    ));
    let services: Api<Service> = Api::namespaced(cluster.admin_client(), &namespace);
    let service = cluster.block_on(services.get("web")).expect("get Service");
    let ips: Vec<String> = service
        .status
        .and_then(|s| s.load_balancer)
        .and_then(|lb| lb.ingress)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|ingress| ingress.ip)
        .collect();
    assert_eq!(ips, ["192.0.2.10", "2001:db8::10"]);
    let cluster_ip = service.spec.and_then(|s| s.cluster_ip);
    assert!(
        cluster_ip
            .as_deref()
            .is_some_and(|ip| ip.starts_with("10.96.")),
        "cluster IP from the service range, got {cluster_ip:?}"
    );
}

#[test]
fn kubezone_may_read_only_what_its_cluster_role_grants() {
    let cluster = ControlPlane::start();
    let services: Api<Service> = Api::all(cluster.kubezone_client());
    let list = || cluster.block_on(services.list(&ListParams::default()));
    match list() {
        Err(kube::Error::Api(status)) if status.code == 403 => {}
        other => panic!("kubezone listed services without RBAC: {other:?}"),
    }

    cluster.grant_kubezone();
    list().expect("kubezone lists services after grant_kubezone");
    let secrets: Api<Secret> = Api::all(cluster.kubezone_client());
    match cluster.block_on(secrets.list(&ListParams::default())) {
        Err(kube::Error::Api(status)) if status.code == 403 => {}
        other => panic!("the chart's ClusterRole does not grant secrets: {other:?}"),
    }

    cluster.grant_kubezone_except("", "services");
    match list() {
        Err(kube::Error::Api(status)) if status.code == 403 => {}
        other => panic!("kubezone listed services after they left its role: {other:?}"),
    }
    assert!(cluster.kubezone_can("watch", "networking.k8s.io", "ingresses"));
}

#[test]
fn gateway_api_routes_and_dns_endpoints_are_served_at_the_versions_kubezone_reads() {
    let cluster = ControlPlane::shared();
    cluster.install_crds(Crds::GatewayApi);
    cluster.install_crds(Crds::DnsEndpoint);
    let namespace = cluster.fresh_namespace("routes");
    let objects = format!(
        "apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: web, namespace: {namespace}}}
spec:
  parentRefs: [{{name: gw}}]
  hostnames: [web.example.test]
---
apiVersion: gateway.networking.k8s.io/v1
kind: TLSRoute
metadata: {{name: tls, namespace: {namespace}}}
spec:
  parentRefs: [{{name: gw}}]
  hostnames: [tls.example.test]
  rules:
    - backendRefs: [{{name: backend, port: 443}}]
---
apiVersion: externaldns.k8s.io/v1alpha1
kind: DNSEndpoint
metadata: {{name: records, namespace: {namespace}}}
spec:
  endpoints:
    - dnsName: txt.example.test
      recordType: A
      targets: [192.0.2.20]
"
    );
    cluster.apply_yaml(&objects);
    let client = cluster.admin_client();
    for object in documents(&objects) {
        let (api, name) = cluster.block_on(api_for(&client, &object));
        let stored = cluster.block_on(api.get(&name)).expect("get back");
        assert_eq!(stored.types, object.types);
        assert_eq!(
            stored.data["spec"]["hostnames"],
            object.data["spec"]["hostnames"]
        );
    }
}

#[test]
fn data_survives_an_apiserver_restart() {
    let cluster = ControlPlane::start();
    let namespace = cluster.fresh_namespace("outage");
    let configmap = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: kept, namespace: {namespace}}}\ndata: {{a: b}}\n"
    );
    cluster.apply_yaml(&configmap);
    let client = cluster.admin_client();

    cluster.stop_apiserver();
    let namespaces: Api<Namespace> = Api::all(client.clone());
    assert!(
        cluster.block_on(namespaces.get(&namespace)).is_err(),
        "the apiserver answered while stopped"
    );

    cluster.restart_apiserver_with(&["--watch-cache-sizes=configmaps#0"]);
    // The client from before the outage reconnects.
    let configmaps: Api<DynamicObject> = Api::namespaced_with(
        client,
        &namespace,
        &kube::discovery::ApiResource::erase::<k8s_openapi::api::core::v1::ConfigMap>(&()),
    );
    let kept = cluster
        .block_on(configmaps.get("kept"))
        .expect("ConfigMap survives");
    assert_eq!(kept.data["data"]["a"], "b");
}

#[test]
fn uninstalled_crds_take_their_objects_along() {
    let cluster = ControlPlane::start();
    cluster.install_crds(Crds::DnsEndpoint);
    let namespace = cluster.fresh_namespace("crds");
    let endpoint = format!(
        "apiVersion: externaldns.k8s.io/v1alpha1
kind: DNSEndpoint
metadata: {{name: records, namespace: {namespace}}}
spec:
  endpoints: [{{dnsName: a.example.test, recordType: A, targets: [192.0.2.30]}}]
"
    );
    cluster.apply_yaml(&endpoint);
    cluster.delete(
        "externaldns.k8s.io/v1alpha1",
        "DNSEndpoint",
        Some(&namespace),
        "records",
    );
    cluster.apply_yaml(&endpoint);

    cluster.uninstall_crds(Crds::DnsEndpoint);
    let client = cluster.admin_client();
    let gvk = GroupVersionKind::gvk("externaldns.k8s.io", "v1alpha1", "DNSEndpoint");
    assert!(
        cluster
            .block_on(discovery::pinned_kind(&client, &gvk))
            .is_err(),
        "DNSEndpoint is still served"
    );

    cluster.install_crds(Crds::DnsEndpoint);
    let (api, _) = cluster.block_on(api_for(&client, &documents(&endpoint)[0]));
    let left = cluster
        .block_on(api.list(&ListParams::default()))
        .expect("list DNSEndpoints");
    assert!(left.items.is_empty(), "DNSEndpoints outlived their CRD");
}
