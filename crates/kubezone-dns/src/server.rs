//! Binding UDP and TCP on every listen address and running hickory's server.

use std::{future::Future, net::SocketAddr, time::Duration};

use hickory_server::Server;
use tokio::net::{TcpListener, UdpSocket};
use tracing::info;

use crate::DnsHandler;

/// Why the server could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot listen on {proto} {addr}: {source}")]
    Bind {
        proto: &'static str,
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("DNS server stopped: {0}")]
    Stopped(String),
}

/// TCP connection handling (RFC 7766).
#[derive(Clone, Copy, Debug)]
pub struct TcpSettings {
    /// A connection with no complete query for this long is closed (RFC 7766 §6.2.3).
    pub idle_timeout: Duration,
    /// Responses buffered per connection.
    pub response_buffer: usize,
}

impl Default for TcpSettings {
    fn default() -> Self {
        TcpSettings {
            idle_timeout: Duration::from_secs(10),
            response_buffer: 32,
        }
    }
}

/// A bound DNS server: UDP and TCP on the same port of each listen address.
pub struct DnsServer {
    server: Server<DnsHandler>,
    local_addrs: Vec<SocketAddr>,
}

impl DnsServer {
    /// Binds every address. Port 0 picks a free port, the same one for UDP and TCP.
    pub async fn bind(
        listen: &[SocketAddr],
        handler: DnsHandler,
        tcp: TcpSettings,
    ) -> Result<DnsServer, ServeError> {
        let mut server = Server::new(handler);
        let mut local_addrs = Vec::new();
        for &addr in listen {
            let (udp, listener) = bind_pair(addr).await?;
            let local = udp.local_addr().map_err(|source| ServeError::Bind {
                proto: "udp",
                addr,
                source,
            })?;
            info!(%local, "serving DNS over UDP and TCP");
            server.register_socket(udp);
            server.register_listener(listener, tcp.idle_timeout, tcp.response_buffer);
            local_addrs.push(local);
        }
        Ok(DnsServer {
            server,
            local_addrs,
        })
    }

    /// The bound addresses, with the ports actually chosen.
    pub fn local_addrs(&self) -> &[SocketAddr] {
        &self.local_addrs
    }

    /// Serves until `shutdown` completes, then finishes the queries in flight.
    pub async fn run_until(mut self, shutdown: impl Future<Output = ()>) -> Result<(), ServeError> {
        tokio::select! {
            done = self.server.block_until_done() => {
                done.map_err(|e| ServeError::Stopped(e.to_string()))
            }
            () = shutdown => self
                .server
                .shutdown_gracefully()
                .await
                .map_err(|e| ServeError::Stopped(e.to_string())),
        }
    }
}

/// UDP and TCP sockets on one port. With port 0 the UDP port is chosen first and TCP follows;
/// a few retries cover the rare case where that TCP port is taken.
async fn bind_pair(addr: SocketAddr) -> Result<(UdpSocket, TcpListener), ServeError> {
    let attempts = if addr.port() == 0 { 16 } else { 1 };
    let mut last = None;
    for _ in 0..attempts {
        let udp = UdpSocket::bind(addr)
            .await
            .map_err(|source| ServeError::Bind {
                proto: "udp",
                addr,
                source,
            })?;
        let port_addr = udp.local_addr().map_err(|source| ServeError::Bind {
            proto: "udp",
            addr,
            source,
        })?;
        match TcpListener::bind(port_addr).await {
            Ok(listener) => return Ok((udp, listener)),
            Err(source) => {
                last = Some(ServeError::Bind {
                    proto: "tcp",
                    addr: port_addr,
                    source,
                })
            }
        }
    }
    Err(last.unwrap_or(ServeError::Stopped("no attempt to bind".into())))
}
