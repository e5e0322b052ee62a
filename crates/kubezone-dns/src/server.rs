//! Binding UDP and TCP on every listen address and running the transports.

use std::{
    future::Future,
    net::{SocketAddr, UdpSocket},
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    thread::JoinHandle,
    time::Duration,
};

use tokio::{net::TcpListener, runtime::Handle, sync::watch, task::JoinSet};
use tracing::info;

use crate::{
    DnsHandler,
    listen::{self, BindError},
    tcp, udp,
};

/// Why the server could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Bind(#[from] BindError),
    #[error("DNS server stopped: {0}")]
    Stopped(String),
}

/// TCP connection handling (RFC 7766).
#[derive(Clone, Copy, Debug)]
pub struct TcpSettings {
    /// A connection with no complete query for this long is closed (RFC 7766 §6.2.3).
    pub idle_timeout: Duration,
    /// Open connections at most; the longest-idle one is closed to admit another.
    pub max_connections: usize,
}

impl Default for TcpSettings {
    fn default() -> Self {
        TcpSettings {
            idle_timeout: Duration::from_secs(10),
            max_connections: 1000,
        }
    }
}

/// A bound DNS server: UDP and TCP on the same port of each listen address.
pub struct DnsServer {
    local_addrs: Vec<SocketAddr>,
    udp_workers: Vec<JoinHandle<()>>,
    udp_stop: Arc<AtomicBool>,
    tcp_tasks: JoinSet<()>,
    tcp_stop: watch::Sender<bool>,
}

impl DnsServer {
    /// Binds every address ([`listen::expand`]: `[::]:P` is both families) and starts
    /// answering. Port 0 picks a free port, the same one for UDP and TCP and for every
    /// address with port 0. Each address gets one UDP worker thread per CPU this process may
    /// use.
    pub async fn bind(
        listen: &[SocketAddr],
        handler: DnsHandler,
        tcp: TcpSettings,
    ) -> Result<DnsServer, ServeError> {
        let workers = std::thread::available_parallelism().map_or(1, usize::from);
        let bound = listen::bind_all(listen, |addr| bind_port(addr, workers))?;
        let udp_stop = Arc::new(AtomicBool::new(false));
        let (tcp_stop, tcp_stopped) = watch::channel(false);
        let mut server = DnsServer {
            local_addrs: Vec::new(),
            udp_workers: Vec::new(),
            udp_stop: udp_stop.clone(),
            tcp_tasks: JoinSet::new(),
            tcp_stop,
        };
        for ((sockets, listener), local) in bound {
            info!(%local, udp_workers = sockets.len(), "serving DNS over UDP and TCP");
            let listener = TcpListener::from_std(listener).map_err(BindError::new("tcp", local))?;
            let threads = udp::spawn_workers(sockets, &handler, &Handle::current(), &udp_stop)
                .map_err(BindError::new("udp", local))?;
            server.udp_workers.extend(threads);
            server.tcp_tasks.spawn(tcp::serve(
                listener,
                handler.clone(),
                tcp,
                tcp_stopped.clone(),
            ));
            server.local_addrs.push(local);
        }
        Ok(server)
    }

    /// The bound addresses, with the ports actually chosen.
    pub fn local_addrs(&self) -> &[SocketAddr] {
        &self.local_addrs
    }

    /// Serves until `shutdown` completes, then finishes the queries in flight.
    pub async fn run_until(mut self, shutdown: impl Future<Output = ()>) -> Result<(), ServeError> {
        shutdown.await;
        self.udp_stop.store(true, Ordering::Relaxed);
        let _ = self.tcp_stop.send(true);
        while self.tcp_tasks.join_next().await.is_some() {}
        let workers = std::mem::take(&mut self.udp_workers);
        tokio::task::spawn_blocking(move || {
            workers.into_iter().filter_map(|w| w.join().err()).count()
        })
        .await
        .map_err(|e| ServeError::Stopped(e.to_string()))
        .and_then(|panicked| match panicked {
            0 => Ok(()),
            n => Err(ServeError::Stopped(format!("{n} UDP workers panicked"))),
        })
    }
}

impl Drop for DnsServer {
    fn drop(&mut self) {
        self.udp_stop.store(true, Ordering::Relaxed);
        let _ = self.tcp_stop.send(true);
    }
}

/// `workers` UDP sockets and a TCP listener on one port of `addr` (port 0: a free one).
fn bind_port(
    addr: SocketAddr,
    workers: usize,
) -> Result<((Vec<UdpSocket>, std::net::TcpListener), SocketAddr), BindError> {
    let port = udp::exclusive_port(addr).map_err(BindError::new("udp", addr))?;
    let local = SocketAddr::new(addr.ip(), port);
    let sockets = (0..workers)
        .map(|_| udp::bind(local))
        .collect::<std::io::Result<Vec<_>>>()
        .map_err(BindError::new("udp", local))?;
    let listener = listen::tcp_listener(local).map_err(BindError::new("tcp", local))?;
    Ok(((sockets, listener), local))
}
