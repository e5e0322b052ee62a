//! One TCP connection to a primary: DNS messages framed by their two-byte length (RFC 1035
//! §4.2.2, RFC 7766), with every step bounded by a timeout. AXFR and UPDATE share it.

use std::{io, net::SocketAddr, time::Duration};

use hickory_proto::op::ResponseCode;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

/// Why an exchange with the primary broke off below DNS: each caller names it in its own error.
#[derive(Debug)]
pub(crate) enum LinkError {
    /// No connection: refused, unreachable, or not within the timeout.
    Connect(io::Error),
    /// Nothing moved within the timeout while doing `during`.
    Timeout { during: &'static str },
    /// The connection failed, or the primary closed it, after it was made.
    Broken(io::Error),
}

/// A connected stream to one primary.
#[derive(Debug)]
pub(crate) struct Link {
    stream: TcpStream,
    timeout: Duration,
}

impl Link {
    pub(crate) async fn connect(server: SocketAddr, timeout: Duration) -> Result<Link, LinkError> {
        let connect = TcpStream::connect(server);
        let stream = match tokio::time::timeout(timeout, connect).await {
            Ok(Ok(stream)) => stream,
            Ok(Err(error)) => return Err(LinkError::Connect(error)),
            Err(_) => {
                return Err(LinkError::Connect(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("no connection within {timeout:?}"),
                )));
            }
        };
        // Messages are written whole; Nagle would only hold the next one back.
        stream.set_nodelay(true).map_err(LinkError::Connect)?;
        Ok(Link { stream, timeout })
    }

    /// Sends one message with its length in front.
    pub(crate) async fn send(&mut self, message: &[u8]) -> Result<(), LinkError> {
        let len = u16::try_from(message.len()).map_err(|_| {
            LinkError::Broken(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "a message of {} bytes does not fit TCP framing",
                    message.len()
                ),
            ))
        })?;
        let mut framed = Vec::with_capacity(message.len() + 2);
        framed.extend_from_slice(&len.to_be_bytes());
        framed.extend_from_slice(message);
        match tokio::time::timeout(self.timeout, self.stream.write_all(&framed)).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(error)) => Err(LinkError::Broken(error)),
            Err(_) => Err(LinkError::Timeout { during: "sending" }),
        }
    }

    /// The next message. `Ok(None)`: the primary closed the connection between messages.
    pub(crate) async fn receive(&mut self) -> Result<Option<Vec<u8>>, LinkError> {
        let timeout = self.timeout;
        let read = async {
            let mut len = [0u8; 2];
            match self.stream.read_exact(&mut len).await {
                Ok(_) => {}
                Err(error) if error.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
                Err(error) => return Err(error),
            }
            let mut message = vec![0u8; usize::from(u16::from_be_bytes(len))];
            self.stream.read_exact(&mut message).await?;
            Ok(Some(message))
        };
        match tokio::time::timeout(timeout, read).await {
            Ok(Ok(message)) => Ok(message),
            Ok(Err(error)) => Err(LinkError::Broken(error)),
            Err(_) => Err(LinkError::Timeout {
                during: "waiting for the reply",
            }),
        }
    }

    /// Whether the connection is still good to send on: not closed by the primary (servers
    /// close idle connections, BIND after 30 s) and holding nothing unread.
    pub(crate) fn is_usable(&self) -> bool {
        let mut probe = [0u8; 1];
        matches!(self.stream.try_read(&mut probe), Err(e) if e.kind() == io::ErrorKind::WouldBlock)
    }
}

/// An RCODE by its mnemonic, as RFC 1035, 2136 and the servers' logs spell it.
pub(crate) fn rcode_name(rcode: ResponseCode) -> String {
    match rcode {
        ResponseCode::NoError => "NOERROR".into(),
        ResponseCode::FormErr => "FORMERR".into(),
        ResponseCode::ServFail => "SERVFAIL".into(),
        ResponseCode::NXDomain => "NXDOMAIN".into(),
        ResponseCode::NotImp => "NOTIMP".into(),
        ResponseCode::Refused => "REFUSED".into(),
        ResponseCode::YXDomain => "YXDOMAIN".into(),
        ResponseCode::YXRRSet => "YXRRSET".into(),
        ResponseCode::NXRRSet => "NXRRSET".into(),
        ResponseCode::NotAuth => "NOTAUTH".into(),
        ResponseCode::NotZone => "NOTZONE".into(),
        other => format!("RCODE{}", u16::from(other)),
    }
}

/// Seconds since the epoch, for TSIG.
pub(crate) fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
