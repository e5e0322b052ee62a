//! One TCP connection to an upstream, kept open and shared by every query that goes over TCP
//! (a truncated UDP answer, a client that asked over TCP): hickory-net's multiplexed TCP client,
//! which gives each query an ID of its own on the connection and matches the replies. A
//! connection the upstream has closed is replaced on next use.

use std::{io, net::SocketAddr, time::Duration};

use futures_util::StreamExt;
use hickory_net::{
    DnsHandle, NetError, runtime::TokioRuntimeProvider, tcp::TcpClientStream, xfer::DnsExchange,
};
use hickory_proto::op::{DnsRequest, DnsRequestOptions, Message};
use tokio::sync::Mutex;

type Exchange = DnsExchange<TokioRuntimeProvider>;

pub(super) struct TcpLink {
    upstream: SocketAddr,
    /// For connecting, and for each query on the connection.
    timeout: Duration,
    /// Queries on the connection at once, at most.
    max_in_flight: usize,
    /// The open connection and how many have been opened before it.
    connection: Mutex<(u64, Option<Exchange>)>,
    /// Holds the connections' background tasks: dropping the last clone aborts them, so it
    /// lives as long as the link.
    runtime: TokioRuntimeProvider,
}

impl TcpLink {
    pub(super) fn new(upstream: SocketAddr, timeout: Duration, max_in_flight: usize) -> TcpLink {
        TcpLink {
            upstream,
            timeout,
            max_in_flight,
            connection: Mutex::new((0, None)),
            runtime: TokioRuntimeProvider::new(),
        }
    }

    /// Asks `query` on the connection, opening one if there is none. A query that fails on a
    /// connection opened earlier is asked again once on a new one: the upstream may have
    /// closed an idle connection (RFC 7766 §6.2.3).
    pub(super) async fn exchange(&self, query: &Message) -> io::Result<Message> {
        let mut failure = io::Error::other("not asked");
        for may_retry in [true, false] {
            let (generation, exchange, fresh) = self.connection().await?;
            let request = DnsRequest::new(query.clone(), DnsRequestOptions::default());
            match exchange.send(request).next().await {
                Some(Ok(response)) => return Ok(response.into_message()),
                // The stream ends without a reply at hickory's timeout.
                None => return Err(io::ErrorKind::TimedOut.into()),
                Some(Err(NetError::Busy)) => {
                    return Err(io::Error::other("too many queries on the TCP connection"));
                }
                Some(Err(error)) => {
                    self.close(generation).await;
                    failure = io::Error::other(error);
                    if fresh || !may_retry {
                        break;
                    }
                }
            }
        }
        Err(failure)
    }

    /// The open connection (a handle to it), its generation and whether it was opened now.
    async fn connection(&self) -> io::Result<(u64, Exchange, bool)> {
        let mut connection = self.connection.lock().await;
        if let Some(exchange) = &connection.1 {
            return Ok((connection.0, exchange.clone(), false));
        }
        let exchange = TcpClientStream::exchange(
            self.upstream,
            None,
            self.timeout,
            Some(self.max_in_flight),
            self.runtime.clone(),
        )
        .await
        .map_err(io::Error::other)?;
        connection.0 += 1;
        connection.1 = Some(exchange.clone());
        Ok((connection.0, exchange, true))
    }

    /// Forgets connection `generation`, unless another query has replaced it already.
    async fn close(&self, generation: u64) {
        let mut connection = self.connection.lock().await;
        if connection.0 == generation {
            connection.1 = None;
        }
    }
}
