//! Fallthrough: sends a query the zones cannot answer to the configured upstreams.

use std::{net::SocketAddr, time::Duration};

use hickory_proto::op::Message;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpStream, UdpSocket},
    time::timeout,
};

/// Why no upstream answered.
#[derive(Debug, thiserror::Error)]
pub enum ForwardError {
    #[error("no upstream is configured")]
    NoUpstream,
    #[error("upstream {upstream}: {source}")]
    Io {
        upstream: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("upstream {upstream} did not answer within {timeout:?}")]
    Timeout {
        upstream: SocketAddr,
        timeout: Duration,
    },
    #[error("upstream {upstream} sent an unreadable reply: {reason}")]
    BadReply {
        upstream: SocketAddr,
        reason: String,
    },
}

/// Forwards raw queries to upstream servers, trying each in order.
#[derive(Clone, Debug)]
pub struct Forwarder {
    upstreams: Vec<SocketAddr>,
    timeout: Duration,
}

impl Forwarder {
    pub fn new(upstreams: Vec<SocketAddr>, timeout: Duration) -> Forwarder {
        Forwarder { upstreams, timeout }
    }

    /// Sends `query` (a whole DNS message) upstream; over TCP when the client used TCP or the
    /// UDP reply was truncated. The reply keeps the query's ID.
    pub async fn forward(&self, query: &[u8], tcp: bool) -> Result<Message, ForwardError> {
        let mut last = ForwardError::NoUpstream;
        for &upstream in &self.upstreams {
            let attempt = if tcp {
                self.over_tcp(upstream, query).await
            } else {
                match self.over_udp(upstream, query).await {
                    Ok(reply) if reply.metadata.truncation => self.over_tcp(upstream, query).await,
                    other => other,
                }
            };
            match attempt {
                Ok(reply) => return Ok(reply),
                Err(e) => last = e,
            }
        }
        Err(last)
    }

    async fn over_udp(&self, upstream: SocketAddr, query: &[u8]) -> Result<Message, ForwardError> {
        let io = |source| ForwardError::Io { upstream, source };
        let local: SocketAddr = if upstream.is_ipv4() {
            ([0, 0, 0, 0], 0).into()
        } else {
            ([0u16; 8], 0).into()
        };
        let socket = UdpSocket::bind(local).await.map_err(io)?;
        socket.connect(upstream).await.map_err(io)?;
        socket.send(query).await.map_err(io)?;
        let mut buf = vec![0; 65535];
        let id = query_id(query);
        let deadline = tokio::time::Instant::now() + self.timeout;
        loop {
            let len = tokio::time::timeout_at(deadline, socket.recv(&mut buf))
                .await
                .map_err(|_| ForwardError::Timeout {
                    upstream,
                    timeout: self.timeout,
                })?
                .map_err(io)?;
            let reply = parse(upstream, buf.get(..len).unwrap_or_default())?;
            // A stray datagram with another ID is not our answer.
            if Some(reply.metadata.id) == id {
                return Ok(reply);
            }
        }
    }

    async fn over_tcp(&self, upstream: SocketAddr, query: &[u8]) -> Result<Message, ForwardError> {
        let exchange = async {
            let mut stream = TcpStream::connect(upstream).await?;
            let len = u16::try_from(query.len()).unwrap_or(u16::MAX);
            let mut framed = Vec::with_capacity(query.len() + 2);
            framed.extend_from_slice(&len.to_be_bytes());
            framed.extend_from_slice(query);
            stream.write_all(&framed).await?;
            let reply_len = stream.read_u16().await?;
            let mut reply = vec![0; usize::from(reply_len)];
            stream.read_exact(&mut reply).await?;
            Ok::<_, std::io::Error>(reply)
        };
        let reply = timeout(self.timeout, exchange)
            .await
            .map_err(|_| ForwardError::Timeout {
                upstream,
                timeout: self.timeout,
            })?
            .map_err(|source| ForwardError::Io { upstream, source })?;
        parse(upstream, &reply)
    }
}

fn query_id(query: &[u8]) -> Option<u16> {
    Some(u16::from_be_bytes([*query.first()?, *query.get(1)?]))
}

fn parse(upstream: SocketAddr, bytes: &[u8]) -> Result<Message, ForwardError> {
    Message::from_vec(bytes).map_err(|e| ForwardError::BadReply {
        upstream,
        reason: e.to_string(),
    })
}
