//! kubezone: authoritative DNS for what Kubernetes exposes.

mod check;
mod config;
mod logging;
mod serve;
mod writer;

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
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Check a configuration and the manifests it names, then exit: 0 when usable.
    Check,
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    if let Err(e) = logging::init(&cli.log_level, cli.log_format) {
        eprintln!("kubezone: {e}");
        return std::process::ExitCode::from(2);
    }
    let Some(path) = cli.config else {
        eprintln!("kubezone: --config FILE is required");
        return std::process::ExitCode::from(2);
    };
    match cli.command {
        Some(Command::Check) => check::run(&path),
        None => match run_server(&path) {
            Ok(()) => std::process::ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("kubezone: {e:#}");
                std::process::ExitCode::FAILURE
            }
        },
    }
}

fn run_server(path: &std::path::Path) -> anyhow::Result<()> {
    let config = config::Config::load(path)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(serve::serve(config))
}
