use std::{io, path::PathBuf};

/// Why one manifest file could not be read. The display always starts with the path, and with
/// the line where one is known, so a log line points straight at the problem.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("{}: cannot read: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// The file is not valid YAML (or JSON, for a `.json` file).
    #[error("{}:{line}:{column}: {message}", path.display())]
    Syntax {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    /// A document parsed, but is not an object kubezone can use: no `kind`, not a mapping, or a
    /// Kind kubezone reads whose fields do not fit its type. `line` is where the document starts.
    #[error("{}:{line}: {message}", path.display())]
    Document {
        path: PathBuf,
        line: usize,
        message: String,
    },
}

impl ManifestError {
    pub fn path(&self) -> &std::path::Path {
        match self {
            ManifestError::Read { path, .. }
            | ManifestError::Syntax { path, .. }
            | ManifestError::Document { path, .. } => path,
        }
    }

    /// The 1-based line the error is about, when known.
    pub fn line(&self) -> Option<usize> {
        match self {
            ManifestError::Read { .. } => None,
            ManifestError::Syntax { line, .. } | ManifestError::Document { line, .. } => {
                Some(*line)
            }
        }
    }
}

/// Why a source stopped.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("manifests path {}: {source}", path.display())]
    Path {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot watch {} for changes: {source}", path.display())]
    Watch {
        path: PathBuf,
        #[source]
        source: notify::Error,
    },
    #[error("the file watcher stopped")]
    WatcherStopped,
    #[error("reading manifests failed: {0}")]
    Task(#[from] tokio::task::JoinError),
    /// A watch of the cluster source ended, which it never does on its own (it retries every
    /// error): `reason` is its panic, or that it ended.
    #[error("the watch of {watch} stopped: {reason}")]
    WatchStopped { watch: String, reason: String },
}

/// Why the cluster source cannot start. Errors of single watches are not here: they are retried,
/// and reported through [`ClusterStatus`](crate::ClusterStatus).
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error("kubeconfig {path}: {source}")]
    Kubeconfig {
        path: String,
        #[source]
        source: kube::config::KubeconfigError,
    },
    #[error("no kubeconfig found ($KUBECONFIG, ~/.kube/config), and not running in a cluster: {0}")]
    InCluster(#[source] kube::config::InClusterError),
    #[error("cannot create a Kubernetes client: {0}")]
    Client(#[source] kube::Error),
}
