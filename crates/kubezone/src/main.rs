//! kubezone: authoritative DNS for what Kubernetes exposes.

mod allocator;
mod check;
mod clusters;
mod explain;
mod health;
mod http;
mod logging;
mod pipeline;
mod push;
mod replacements;
mod reports;
mod serve;
mod supervise;
mod writer;

// The config module is the library's, which the fuzzers also use.
use kubezone::config;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(name = "kubezone", version, about)]
struct Cli {
    /// The configuration file (YAML).
    #[arg(long, short, global = true, env = "KUBEZONE_CONFIG")]
    config: Option<PathBuf>,
    /// Log level or filter, e.g. `info` or `kubezone=debug`.
    #[arg(long, global = true, env = "KUBEZONE_LOG", default_value = "info")]
    log_level: String,
    /// Log format.
    #[arg(long, global = true, env = "KUBEZONE_LOG_FORMAT", value_enum, default_value_t = logging::Format::Text)]
    log_format: logging::Format,
    #[command(flatten)]
    overrides: Overrides,
    #[command(subcommand)]
    command: Option<Command>,
}

/// Keys of the config file the command line sets.
#[derive(clap::Args, Debug, Default, Clone)]
struct Overrides {
    #[command(flatten)]
    kubernetes: KubernetesFlags,
    /// Name this server in NSID and CH TXT id.server/hostname.bind answers, which this turns
    /// on (overrides `identity.name`).
    #[arg(long, global = true, env = "KUBEZONE_IDENTITY", value_name = "NAME")]
    identity: Option<String>,
}

impl Overrides {
    fn apply(&self, config: &mut config::Config) -> Result<(), String> {
        self.kubernetes.apply(config)?;
        if let Some(name) = &self.identity {
            config
                .override_identity(name)
                .map_err(|message| format!("--identity (KUBEZONE_IDENTITY): {message}"))?;
        }
        Ok(())
    }
}

/// The `kubernetes:` section of the config, from the command line; any of them turns the
/// cluster source on, and each overrides its key in the file.
#[derive(clap::Args, Debug, Default, Clone)]
struct KubernetesFlags {
    /// Watch the cluster of this kubeconfig (default: $KUBECONFIG, ~/.kube/config, in-cluster).
    #[arg(long, global = true)]
    kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use instead of its current one.
    #[arg(long, global = true)]
    context: Option<String>,
    /// Watch only these namespaces (repeat, or separate with commas; default: all).
    #[arg(long = "namespace", global = true, value_delimiter = ',')]
    namespaces: Vec<String>,
    /// Watch the cluster found the usual way, even without a `kubernetes:` section.
    #[arg(long, global = true)]
    in_cluster: bool,
}

impl KubernetesFlags {
    fn apply(&self, config: &mut config::Config) -> Result<(), String> {
        let any = self.kubeconfig.is_some()
            || self.context.is_some()
            || !self.namespaces.is_empty()
            || self.in_cluster;
        if !any {
            return Ok(());
        }
        let cluster = config.kubernetes.get_or_insert_with(Default::default);
        if let Some(path) = &self.kubeconfig {
            cluster.kubeconfig = Some(path.clone());
        }
        if let Some(context) = &self.context {
            cluster.context = Some(context.clone());
        }
        if !self.namespaces.is_empty() {
            cluster.namespaces = config::namespaces(&self.namespaces)
                .map_err(|(_, message)| format!("--namespace: {message}"))?;
        }
        Ok(())
    }
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Check a configuration, the files it names and its manifests, then exit: 0 when usable.
    /// The cluster is not contacted unless --probe is given.
    Check {
        /// Also connect to the cluster, and check that its API server serves every Kind the
        /// zones need at the version kubezone reads, and that RBAC lets kubezone get, list and
        /// watch them where it would.
        #[arg(long)]
        probe: bool,
    },
    /// Say why a name resolves as it does: its records, the objects behind them, the Kind that
    /// won precedence, and conflicts. Reads the config's sources (and cluster) first.
    Explain {
        /// The name, e.g. www.example.com.
        name: String,
        /// With several clusters: which cluster a client at this address gets, and its records.
        #[arg(long)]
        client: Option<std::net::IpAddr>,
    },
    /// For each zone with `push`: read the primary's zone and print the changes a
    /// reconciliation would send, what the policy holds back, and the conflicts left alone.
    /// Reads the config's sources (and cluster) first. Nothing is changed unless --apply is given.
    Plan {
        /// Send the changes (one reconciliation, then exit: for jobs).
        #[arg(long)]
        apply: bool,
    },
    /// Print the kubezone config equivalent to a CoreDNS Corefile that uses k8s_gateway, and
    /// say what cannot be carried over.
    Migrate {
        /// The Corefile to read.
        #[arg(long)]
        corefile: PathBuf,
    },
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let _logging = match logging::init(&cli.log_level, cli.log_format) {
        Ok(logging) => logging,
        Err(e) => {
            eprintln!("kubezone: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    allocator::purge_in_background();
    if let Some(Command::Migrate { corefile }) = &cli.command {
        return migrate(corefile);
    }
    let Some(path) = cli.config else {
        eprintln!("kubezone: --config FILE is required");
        return std::process::ExitCode::from(2);
    };
    match cli.command {
        Some(Command::Migrate { .. }) => std::process::ExitCode::SUCCESS,
        Some(Command::Check { probe }) => check::run(&path, load(&path, &cli.overrides), probe),
        Some(Command::Explain { name, client }) => {
            match explain(&path, &cli.overrides, &name, client) {
                Ok(text) => {
                    print!("{text}");
                    std::process::ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("kubezone: {e:#}");
                    std::process::ExitCode::FAILURE
                }
            }
        }
        Some(Command::Plan { apply }) => match plan(&path, &cli.overrides, apply) {
            Ok(text) => {
                print!("{text}");
                std::process::ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("kubezone: {e:#}");
                std::process::ExitCode::FAILURE
            }
        },
        None => match run_server(&path, cli.overrides) {
            Ok(()) => std::process::ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("kubezone: {e:#}");
                std::process::ExitCode::FAILURE
            }
        },
    }
}

/// The config file with the command line's overrides.
fn load(path: &std::path::Path, flags: &Overrides) -> Result<config::Config, String> {
    let mut config = config::Config::load(path).map_err(|e| e.to_string())?;
    flags.apply(&mut config)?;
    Ok(config)
}

/// How long `explain` waits for the sources to sync.
const EXPLAIN_PATIENCE: std::time::Duration = std::time::Duration::from_secs(60);

fn explain(
    path: &std::path::Path,
    flags: &Overrides,
    name: &str,
    client: Option<std::net::IpAddr>,
) -> anyhow::Result<String> {
    let config = load(path, flags).map_err(anyhow::Error::msg)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let pipeline = synced_pipeline(&config).await?;
        let locality = pipeline::locality(&config);
        let client = client.map(|address| explain::ForClient {
            address,
            locality: &locality.0,
            clusters: &locality.1,
        });
        Ok(explain::explain_for(&pipeline.reader.load(), name, client))
    })
}

/// The config's sources and index, once every source has synced (for commands that read it).
async fn synced_pipeline(config: &config::Config) -> anyhow::Result<pipeline::Pipeline> {
    let mut pipeline = pipeline::Pipeline::start(config, None, None).await?;
    tokio::time::timeout(EXPLAIN_PATIENCE, pipeline.ready())
        .await
        .map_err(|_| {
            anyhow::anyhow!(
                "the sources did not sync within {} s",
                EXPLAIN_PATIENCE.as_secs()
            )
        })?
        .map_err(|failure| anyhow::anyhow!("{failure}"))?;
    Ok(pipeline)
}

/// `kubezone plan`: the index from the config's sources, then each pushed zone's plan.
fn plan(path: &std::path::Path, flags: &Overrides, apply: bool) -> anyhow::Result<String> {
    let config = load(path, flags).map_err(anyhow::Error::msg)?;
    let pushes = push::zone_pushes(&config, None);
    if pushes.is_empty() {
        anyhow::bail!("no zone has `push`: there is nothing to plan");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let pipeline = synced_pipeline(&config).await?;
        let mut out = String::new();
        for push in pushes {
            out.push_str(
                &push
                    .once(&pipeline.reader, apply)
                    .await
                    .map_err(anyhow::Error::msg)?,
            );
        }
        Ok(out)
    })
}

fn migrate(corefile: &std::path::Path) -> std::process::ExitCode {
    let text = match std::fs::read_to_string(corefile) {
        Ok(text) => text,
        Err(e) => {
            eprintln!("kubezone migrate: {}: {e}", corefile.display());
            return std::process::ExitCode::FAILURE;
        }
    };
    match kubezone_migrate::migrate(&text) {
        Ok(migration) => {
            print!("{}", migration.config);
            for warning in &migration.warnings {
                eprintln!("kubezone migrate: {warning}");
            }
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("kubezone migrate: {}: {e}", corefile.display());
            std::process::ExitCode::FAILURE
        }
    }
}

fn run_server(path: &std::path::Path, flags: Overrides) -> anyhow::Result<()> {
    let config = load(path, &flags).map_err(anyhow::Error::msg)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let reload_path = path.to_path_buf();
    runtime.block_on(serve::serve(path.to_path_buf(), config, move || {
        load(&reload_path, &flags)
    }))
}
