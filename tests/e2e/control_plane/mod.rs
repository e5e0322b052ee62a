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

mod crds;
mod credentials;
mod objects;
mod processes;
mod rbac;
mod tests;

pub use crds::Crds;
use credentials::write_credentials;
use processes::{Process, Reaper, free_port};

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
