//! Logs through tracing, as text or JSON. The query log (`queryLog`, target `kubezone::query`)
//! goes through a writer thread of its own that drops lines when it falls behind, so a busy
//! server never waits on stderr in its UDP workers; every other line is written at once.

use std::io::IsTerminal;

use tracing_appender::non_blocking::{NonBlockingBuilder, WorkerGuard};
use tracing_subscriber::{
    EnvFilter, Layer, filter::filter_fn, fmt, layer::SubscriberExt, util::SubscriberInitExt,
};

/// The target of the query log's lines.
const QUERY_TARGET: &str = "kubezone::query";
/// Query log lines that may wait for the writer thread before new ones are dropped.
const QUERY_LOG_BACKLOG: usize = 64 * 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
}

/// Keep it for as long as the process logs: dropping it flushes the query log.
pub struct Logging {
    _queries: WorkerGuard,
}

pub fn init(level: &str, format: Format) -> Result<Logging, String> {
    let directives = if level.contains("hickory") {
        level.to_string()
    } else {
        format!("{level},hickory_proto=warn,hickory_net=warn")
    };
    let filter =
        EnvFilter::try_new(&directives).map_err(|e| format!("invalid log level {level:?}: {e}"))?;
    let ansi = std::io::stderr().is_terminal();
    let (queries, guard) = NonBlockingBuilder::default()
        .lossy(true)
        .buffered_lines_limit(QUERY_LOG_BACKLOG)
        .thread_name("kubezone-query-log")
        .finish(std::io::stderr());
    let is_query = |meta: &tracing::Metadata<'_>| meta.target() == QUERY_TARGET;
    let (rest, query_log) = match format {
        Format::Text => (
            fmt::layer()
                .with_ansi(ansi)
                .with_writer(std::io::stderr)
                .with_filter(filter_fn(move |m| !is_query(m)))
                .boxed(),
            fmt::layer()
                .with_ansi(ansi)
                .with_writer(queries)
                .with_filter(filter_fn(is_query))
                .boxed(),
        ),
        Format::Json => (
            fmt::layer()
                .json()
                .with_writer(std::io::stderr)
                .with_filter(filter_fn(move |m| !is_query(m)))
                .boxed(),
            fmt::layer()
                .json()
                .with_writer(queries)
                .with_filter(filter_fn(is_query))
                .boxed(),
        ),
    };
    tracing_subscriber::registry()
        .with(filter)
        .with(rest)
        .with(query_log)
        .try_init()
        .map_err(|e| format!("cannot start logging: {e}"))?;
    Ok(Logging { _queries: guard })
}
