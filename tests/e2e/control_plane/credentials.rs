//! The CA, certificates, keys and static tokens the control plane trusts, and a kubeconfig
//! per user.

use super::*;

impl ControlPlane {
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

    pub(super) fn write_kubeconfig(&self, user: &str, token: &str) {
        self.write_kubeconfig_for(user, json!({ "token": token }));
    }

    pub(super) fn write_kubeconfig_for(&self, user: &str, credentials: serde_json::Value) {
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
        let yaml = serde_norway::to_string(&kubeconfig).expect("kubeconfig yaml");
        fs::write(self.dir.path().join(format!("{user}.kubeconfig")), yaml)
            .expect("write kubeconfig");
    }
}

/// CA, apiserver serving certificate, ServiceAccount signing keys and the static token file.
pub(super) fn write_credentials(dir: &Path) {
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
