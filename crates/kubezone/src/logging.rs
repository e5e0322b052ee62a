//! Logs through tracing, as text or JSON. No line per query: hickory's per-request logs are
//! kept at warn unless the filter asks for them.

use std::io::IsTerminal;

use tracing_subscriber::{EnvFilter, fmt};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
}

pub fn init(level: &str, format: Format) -> Result<(), String> {
    let directives = if level.contains("hickory") {
        level.to_string()
    } else {
        format!("{level},hickory_proto=warn,hickory_net=warn")
    };
    let filter =
        EnvFilter::try_new(&directives).map_err(|e| format!("invalid log level {level:?}: {e}"))?;
    let builder = fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    match format {
        Format::Text => builder.try_init(),
        Format::Json => builder.json().try_init(),
    }
    .map_err(|e| format!("cannot start logging: {e}"))
}
