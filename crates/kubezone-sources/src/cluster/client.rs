//! Connecting to the cluster: the configured kubeconfig, else `$KUBECONFIG`, else
//! `~/.kube/config`, else the in-cluster service account.

use std::path::PathBuf;

use kube::{
    Client,
    config::{Config, KubeConfigOptions, Kubeconfig, KubeconfigError},
};

use crate::ClusterError;

/// The `kubernetes:` section of the config.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClusterConfig {
    /// A kubeconfig file; when unset, the usual places are tried in order.
    pub kubeconfig: Option<PathBuf>,
    /// A context of the kubeconfig other than its current one.
    pub context: Option<String>,
    /// Namespaces to watch; empty for all.
    pub namespaces: Vec<String>,
    /// Whether to write Kubernetes Events on objects that are skipped, invalid or not served in
    /// full.
    pub events: bool,
}

impl Default for ClusterConfig {
    fn default() -> Self {
        ClusterConfig {
            kubeconfig: None,
            context: None,
            namespaces: Vec::new(),
            events: true,
        }
    }
}

/// A client for `config`. Makes no request: every auth method kube-rs knows (tokens, client
/// certificates, exec plugins, OIDC) is set up here and runs on the first request.
pub async fn connect(config: &ClusterConfig) -> Result<Client, ClusterError> {
    connect_with_url(config).await.map(|(client, _)| client)
}

/// [`connect`], and the API server's URL, for messages.
pub async fn connect_with_url(config: &ClusterConfig) -> Result<(Client, String), ClusterError> {
    let client_config = client_config(config).await?;
    let url = client_config
        .cluster_url
        .to_string()
        .trim_end_matches('/')
        .to_owned();
    let client = Client::try_from(client_config).map_err(ClusterError::Client)?;
    Ok((client, url))
}

async fn client_config(config: &ClusterConfig) -> Result<Config, ClusterError> {
    let options = KubeConfigOptions {
        context: config.context.clone(),
        ..KubeConfigOptions::default()
    };
    let from_file = |kubeconfig: Kubeconfig, path: String| async move {
        Config::from_custom_kubeconfig(kubeconfig, &options)
            .await
            .map_err(|source| ClusterError::Kubeconfig { path, source })
    };
    let client_config = match &config.kubeconfig {
        Some(path) => {
            let kubeconfig =
                Kubeconfig::read_from(path).map_err(|source| ClusterError::Kubeconfig {
                    path: path.display().to_string(),
                    source,
                })?;
            from_file(kubeconfig, path.display().to_string()).await?
        }
        None => match Kubeconfig::read() {
            Ok(kubeconfig) => from_file(kubeconfig, default_place()).await?,
            Err(source) if std::env::var_os("KUBECONFIG").is_some() => {
                return Err(ClusterError::Kubeconfig {
                    path: default_place(),
                    source,
                });
            }
            Err(KubeconfigError::FindPath | KubeconfigError::ReadConfig(..))
                if config.context.is_none() =>
            {
                Config::incluster().map_err(ClusterError::InCluster)?
            }
            Err(source) => {
                return Err(ClusterError::Kubeconfig {
                    path: default_place(),
                    source,
                });
            }
        },
    };
    let mut client_config = client_config;
    // A connection that goes silent (a partition, an API server that hangs) would otherwise
    // hold a watch or a list forever: the watches end every WATCH_TIMEOUT, so a read that
    // waits longer than READ_TIMEOUT has lost its server.
    client_config.read_timeout.get_or_insert(READ_TIMEOUT);
    Ok(client_config)
}

/// How long a watch runs before the API server ends it and kubezone resumes it (from the
/// resource version it had): well below the client's read timeout.
pub const WATCH_TIMEOUT: u32 = 55;

/// The longest a request may go without a byte from the API server.
pub const READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(75);

fn default_place() -> String {
    match std::env::var("KUBECONFIG") {
        Ok(paths) if !paths.is_empty() => format!("$KUBECONFIG ({paths})"),
        _ => "~/.kube/config".into(),
    }
}
