//! `kubezone --config FILE`: wires the pipeline (sources → writer → index) to the DNS server and
//! the HTTP endpoints, and runs the lifecycle: reload on SIGHUP or a changed config file, and on
//! SIGTERM a lameduck (not ready, still answering) before stopping.
//!
//! When a task of the running pipeline stops (a source, the writer: none ever ends while it
//! works), the index would freeze behind a server that says it is ready. Instead the failure is
//! logged, `/readyz` turns 503 and names it, DNS answers the last state for the lameduck, and
//! the process exits 1, so that Kubernetes restarts it with every source read afresh.
//! Restarting the task in place is not sound: a source started again sends its whole state
//! without saying what it no longer has, and a writer started again has lost the index.

use std::{future::Future, path::PathBuf, pin::Pin, time::Duration};

use kubezone_dns::{DnsHandler, DnsServer, TcpSettings};
use kubezone_metrics::Metrics;
use tracing::{error, info, warn};

use crate::{
    config::Config,
    health::Health,
    http::{HttpState, serve_http},
    pipeline::Pipeline,
};

/// How often the config file is compared with what runs (ConfigMap updates swap a symlink, which
/// file notifications miss).
const CONFIG_CHECK_EVERY: Duration = Duration::from_secs(1);
/// How long a reloaded config may take to sync before it is given up and the old one kept.
const RELOAD_PATIENCE: Duration = Duration::from_secs(120);

type Reloaded = Pin<Box<dyn Future<Output = Result<(Pipeline, Config), String>> + Send>>;

pub async fn serve(
    path: PathBuf,
    config: Config,
    load: impl Fn() -> Result<Config, String>,
) -> anyhow::Result<()> {
    // Read now, not once serving: an edit made while the sources sync must count as a change.
    let first_text = std::fs::read_to_string(&path).ok();
    let metrics = config
        .http
        .as_ref()
        .filter(|h| h.metrics)
        .map(|_| Metrics::new(env!("CARGO_PKG_VERSION")));
    let mut pipeline = Pipeline::start(&config, metrics.as_ref(), None).await?;
    let handler = DnsHandler::from(pipeline.answerer(&config, metrics.as_ref()));
    let health = Health::new(pipeline.readiness());
    let _http = match &config.http {
        Some(http) => Some(
            serve_http(
                http.listen,
                HttpState {
                    health: health.clone(),
                    metrics: metrics.clone(),
                },
            )
            .await
            .map_err(|e| anyhow::anyhow!("http.listen {}: {e}", http.listen))?,
        ),
        None => None,
    };
    let tcp = TcpSettings {
        idle_timeout: config.tcp_idle_timeout,
        max_connections: config.tcp_max_connections,
    };
    let server = DnsServer::bind(&config.listen, handler.clone(), tcp).await?;
    pipeline.serve_transfers();
    info!(addrs = ?server.local_addrs(), zones = config.zones.len(), "kubezone is serving");

    // Set when a task's failure ends the process.
    let mut failure = None;
    let control = async {
        let mut running = config;
        let mut shutdown = std::pin::pin!(shutdown_signal());
        let mut hangup = hangup_signal();
        let mut check = tokio::time::interval(CONFIG_CHECK_EVERY);
        let mut last_text = first_text;
        let mut pending: Option<Reloaded> = None;
        loop {
            let reload_because = tokio::select! {
                () = &mut shutdown => break,
                failed = pipeline.failed() => {
                    error!(
                        lameduck_seconds = running.lameduck.as_secs_f64(),
                        "{failed}; not ready from now on, exiting once the lameduck ends so that \
                         the process is restarted"
                    );
                    health.failed(failed.clone());
                    failure = Some(failed);
                    break;
                }
                () = next_hangup(&mut hangup) => "SIGHUP",
                _ = check.tick() => {
                    let text = std::fs::read_to_string(&path).ok();
                    if text.is_none() || text == last_text {
                        continue;
                    }
                    last_text = text;
                    "the config file changed"
                }
                result = finish(&mut pending), if pending.is_some() => {
                    pending = None;
                    match result {
                        Ok((mut next, config)) => {
                            handler.replace(next.answerer(&config, metrics.as_ref()));
                            health.replace(next.readiness());
                            next.serve_transfers();
                            pipeline = next;
                            running = config;
                            info!("reloaded: serving the new config");
                        }
                        Err(e) => error!("reload failed, the running config stays: {e}"),
                    }
                    continue;
                }
            };
            info!("reloading: {reload_because}");
            let next = load();
            if let Ok(next) = &next {
                warn_restart_only(&running, next);
            }
            pending = Some(Box::pin(prepare(
                next,
                metrics.clone(),
                pipeline.reader.clone(),
            )));
        }
        health.stopping();
        info!(
            lameduck_seconds = running.lameduck.as_secs_f64(),
            "stopping: not ready now, answering until the lameduck ends"
        );
        tokio::time::sleep(running.lameduck).await;
        drop(pipeline);
    };
    server.run_until(control).await?;
    if let Some(failure) = failure {
        anyhow::bail!("{failure}");
    }
    info!("stopped");
    Ok(())
}

/// Starts the new config's pipeline and waits until it has synced.
async fn prepare(
    config: Result<Config, String>,
    metrics: Option<Metrics>,
    running: kubezone_index::IndexReader,
) -> Result<(Pipeline, Config), String> {
    let config = config?;
    let mut pipeline = Pipeline::start(&config, metrics.as_ref(), Some(&running))
        .await
        .map_err(|e| format!("{e:#}"))?;
    tokio::time::timeout(RELOAD_PATIENCE, pipeline.ready())
        .await
        .map_err(|_| {
            format!(
                "the new config's sources did not sync within {} s",
                RELOAD_PATIENCE.as_secs()
            )
        })?
        .map_err(|failure| format!("in the new config, {failure}"))?;
    Ok((pipeline, config))
}

/// Sockets stay as they are on reload; say so when the new config moves them.
fn warn_restart_only(running: &Config, next: &Config) {
    if running.listen != next.listen {
        warn!("`listen` changed: it takes effect at the next restart");
    }
    if running.http.as_ref().map(|h| h.listen) != next.http.as_ref().map(|h| h.listen)
        || running.http.as_ref().map(|h| h.metrics) != next.http.as_ref().map(|h| h.metrics)
    {
        warn!("`http` changed: it takes effect at the next restart");
    }
    if running.tcp_idle_timeout != next.tcp_idle_timeout
        || running.tcp_max_connections != next.tcp_max_connections
    {
        warn!("`tcp` changed: it takes effect at the next restart");
    }
}

/// The reload under way, if any.
async fn finish(pending: &mut Option<Reloaded>) -> Result<(Pipeline, Config), String> {
    match pending {
        Some(reload) => reload.as_mut().await,
        None => std::future::pending().await,
    }
}

#[cfg(unix)]
type Hangup = Option<tokio::signal::unix::Signal>;
#[cfg(not(unix))]
type Hangup = Option<()>;

#[cfg(unix)]
fn hangup_signal() -> Hangup {
    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) {
        Ok(signal) => Some(signal),
        Err(e) => {
            error!("cannot listen for SIGHUP: {e}");
            None
        }
    }
}

#[cfg(not(unix))]
fn hangup_signal() -> Hangup {
    None
}

#[cfg(unix)]
async fn next_hangup(signal: &mut Hangup) {
    match signal {
        Some(s) => {
            s.recv().await;
        }
        None => std::future::pending().await,
    }
}

#[cfg(not(unix))]
async fn next_hangup(_: &mut Hangup) {
    std::future::pending().await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            error!("cannot listen for Ctrl-C: {e}");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                error!("cannot listen for SIGTERM: {e}");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => info!("interrupted"),
        () = term => info!("SIGTERM received"),
    }
}
