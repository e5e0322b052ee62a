//! `kubezone --config FILE`: wires sources → writer → index → DNS server.

use std::time::Duration;

use kubezone_dns::{DnsHandler, DnsServer, FallthroughPolicy, Forwarder, TcpSettings};
use kubezone_index::{IndexReader, IndexWriter};
use kubezone_model::Kind;
use kubezone_sources::{ClusterSource, ManifestsSource, SourceId, connect};
use kubezone_translate::Translator;
use tokio::sync::mpsc;
use tracing::{error, info};

use crate::{
    config::Config,
    writer::{Writer, now_unix},
};

/// How long an upstream has to answer a fallthrough query.
const UPSTREAM_TIMEOUT: Duration = Duration::from_secs(2);
/// Source events that may wait for the writer before a source slows down.
const EVENT_BACKLOG: usize = 1024;

/// Starts the index writer and every configured source. Returns the read side of the index.
///
/// Fails only when the cluster cannot be reached at all (no usable kubeconfig): an error the
/// user must fix, rather than a server that answers SERVFAIL forever.
pub async fn start_index(config: &Config) -> anyhow::Result<IndexReader> {
    let (index, reader) = IndexWriter::new(
        config.zones.iter().map(|z| z.index.clone()).collect(),
        now_unix(),
    );
    let translator = Translator::new(config.zones.iter().map(|z| z.filter.clone()).collect());
    let (events, receiver) = mpsc::channel(EVENT_BACKLOG);
    let mut sources = Vec::new();
    if !config.manifests.is_empty() {
        sources.push(SourceId::MANIFESTS);
        let source = ManifestsSource::new(config.manifests.clone());
        let events = events.clone();
        tokio::spawn(async move {
            if let Err(e) = source.run(events).await {
                error!("manifests source stopped: {e}");
            }
        });
    }
    let mut glue = vec![None; config.zones.len()];
    if let Some(cluster) = &config.kubernetes {
        sources.push(SourceId::KUBERNETES);
        let kinds: Vec<Kind> = config
            .zones
            .iter()
            .flat_map(|z| z.filter.resources.iter().copied())
            .collect();
        glue = config
            .zones
            .iter()
            .map(|z| z.glue_service.clone())
            .collect();
        let client = connect(cluster).await?;
        let source = ClusterSource::new(
            client,
            cluster.namespaces.clone(),
            kinds,
            glue.iter().flatten().cloned().collect(),
        );
        let events = events.clone();
        tokio::spawn(source.run(events));
    }
    drop(events);
    let writer = Writer::new(translator, index, &sources, glue);
    tokio::spawn(writer.run(receiver));
    Ok(reader)
}

pub async fn serve(config: Config) -> anyhow::Result<()> {
    let reader = start_index(&config).await?;
    let fallthrough = FallthroughPolicy::new(
        &config
            .zones
            .iter()
            .map(|z| z.fallthrough.clone())
            .collect::<Vec<_>>(),
    );
    let forwarder = (!config.upstream.is_empty())
        .then(|| Forwarder::new(config.upstream.clone(), UPSTREAM_TIMEOUT));
    let handler = DnsHandler::new(reader, fallthrough, forwarder);
    let tcp = TcpSettings {
        idle_timeout: config.tcp_idle_timeout,
        ..TcpSettings::default()
    };
    let server = DnsServer::bind(&config.listen, handler, tcp).await?;
    info!(addrs = ?server.local_addrs(), zones = config.zones.len(), "kubezone is serving");
    server.run_until(shutdown_signal()).await?;
    info!("stopped");
    Ok(())
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
