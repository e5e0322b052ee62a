//! etcd and kube-apiserver as child processes: started, stopped, frozen, restarted with other
//! flags, and removed with their folder if the test process dies.

use super::*;

impl ControlPlane {
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

    /// Restarts the apiserver with `args` in place of the extra flags it ran with.
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
}

/// A loopback port nothing listens on now and that this process has not handed out before.
pub(super) fn free_port() -> u16 {
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

/// An etcd or kube-apiserver process; never outlives the test process.
pub(super) struct Process {
    child: Child,
}

impl Process {
    /// Starts `program` under `setpriv --pdeathsig SIGKILL`, so the kernel kills it when this
    /// process dies however it dies. The signal fires when the *thread* that forked it exits, and
    /// test threads exit after each test, so the fork happens on one thread that lives as long
    /// as the process.
    pub(super) fn spawn(name: &str, program: &Path, args: &[String], log: &Path) -> Process {
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

    pub(super) fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A shell that removes the control plane's folder once this process's end of its stdin
/// closes, i.e. when the process exits without dropping the control plane.
pub(super) struct Reaper {
    child: Child,
    _stdin: ChildStdin,
}

impl Reaper {
    pub(super) fn spawn(dir: &Path) -> Reaper {
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
    pub(super) fn dismiss(mut self) {
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
