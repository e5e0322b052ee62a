//! TCP (RFC 7766): pipelined queries per connection, each answered as soon as it is ready, so a
//! query waiting upstream holds up none after it (replies out of order, RFC 7766 §6.2.1.1); an
//! idle timeout that only a complete message resets, so a client trickling bytes (slow-loris)
//! is closed like an idle one; and a cap on open connections that closes the longest-idle one
//! to let a new client in, so idle connections cannot lock others out.

use std::{
    collections::HashMap,
    future::Future,
    net::SocketAddr,
    pin::Pin,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use futures_util::{StreamExt, stream::FuturesUnordered};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{
        TcpListener, TcpStream,
        tcp::{OwnedReadHalf, OwnedWriteHalf},
    },
    sync::{Notify, mpsc, watch},
    task::{JoinHandle, JoinSet},
    time::timeout_at,
};
use tracing::debug;

use crate::{Admit, DnsHandler, Handled, TcpSettings, Transport};

/// One open connection, as the accept loop sees it.
struct Connection {
    /// Milliseconds since the server started, at the last complete query.
    last_active: AtomicU64,
    evict: Notify,
}

/// Open connections, to enforce the cap.
struct Connections {
    started: Instant,
    next_id: AtomicU64,
    open: Mutex<HashMap<u64, Arc<Connection>>>,
    max: usize,
}

impl Connections {
    fn now(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Registers a new connection, first closing the longest-idle one when at the cap.
    fn admit(&self) -> (u64, Arc<Connection>) {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let connection = Arc::new(Connection {
            last_active: AtomicU64::new(self.now()),
            evict: Notify::new(),
        });
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        while open.len() >= self.max.max(1) {
            let Some((&oldest, _)) = open
                .iter()
                .min_by_key(|(_, c)| c.last_active.load(Ordering::Relaxed))
            else {
                break;
            };
            if let Some(evicted) = open.remove(&oldest) {
                evicted.evict.notify_one();
            }
        }
        open.insert(id, connection.clone());
        (id, connection)
    }

    fn close(&self, id: u64) {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        open.remove(&id);
    }
}

/// Accepts connections until `shutdown` turns true, then waits for open ones to finish their
/// current query.
pub(crate) async fn serve(
    listener: TcpListener,
    handler: DnsHandler,
    settings: TcpSettings,
    mut shutdown: watch::Receiver<bool>,
) {
    let connections = Arc::new(Connections {
        started: Instant::now(),
        next_id: AtomicU64::new(0),
        open: Mutex::new(HashMap::new()),
        max: settings.max_connections,
    });
    let mut tasks = JoinSet::new();
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = shutdown.wait_for(|stop| *stop) => break,
        };
        // Reap finished tasks so the set does not grow.
        while tasks.try_join_next().is_some() {}
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(error) => {
                // Out of descriptors, most likely: back off instead of spinning.
                debug!(%error, "TCP accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let (id, connection) = connections.admit();
        let connections = connections.clone();
        let handler = handler.clone();
        let shutdown = shutdown.clone();
        tasks.spawn(async move {
            tokio::select! {
                () = connection.evict.notified() => debug!(%peer, "TCP connection closed to admit another"),
                () = serve_connection(stream, peer, &handler, settings, &connection, &connections, shutdown) => {}
            }
            connections.close(id);
        });
    }
    drop(listener);
    while tasks.join_next().await.is_some() {}
}

async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    handler: &DnsHandler,
    settings: TcpSettings,
    connection: &Connection,
    connections: &Connections,
    mut shutdown: watch::Receiver<bool>,
) {
    let _ = stream.set_nodelay(true);
    let (reader, mut writer) = stream.into_split();
    // Reading goes on beside the answers, so a query waiting upstream holds up nothing.
    let (queries, mut incoming) = mpsc::channel(1);
    let reader = AbortOnDrop(tokio::spawn(read_queries(
        reader,
        peer,
        settings.idle_timeout,
        queries,
    )));
    let mut forwards: FuturesUnordered<Forwarded> = FuturesUnordered::new();
    let mut reading = true;
    let mut out = Vec::with_capacity(4096);
    let mut frame = Vec::with_capacity(4096);
    loop {
        if !reading && forwards.is_empty() {
            return;
        }
        let query = tokio::select! {
            query = incoming.recv(), if reading && forwards.len() < MAX_FORWARDS_PER_CONNECTION => {
                match query {
                    Some(query) => query,
                    None => {
                        reading = false;
                        continue;
                    }
                }
            }
            Some(reply) = forwards.next(), if !forwards.is_empty() => {
                match reply {
                    Some(reply) if write_frame(&mut writer, &reply, &mut frame, peer, settings).await => continue,
                    _ => return,
                }
            }
            () = stopping(&mut shutdown), if reading => {
                // Stop reading; answer what waits upstream, then close.
                reader.0.abort();
                reading = false;
                continue;
            }
        };
        connection
            .last_active
            .store(connections.now(), Ordering::Relaxed);
        let handled = {
            let answerer = handler.load();
            answerer.respond(&query, Transport::Tcp, peer, &mut out)
        };
        let handled = match handled {
            Handled::Forward => {
                let answerer = handler.load_full();
                match answerer.admit(&query, Transport::Tcp, peer, &mut out) {
                    Admit::Forward(admission) => {
                        forwards.push(Box::pin(async move {
                            let mut out = Vec::new();
                            let handled = answerer
                                .forward(admission, &query, Transport::Tcp, peer, &mut out)
                                .await;
                            (handled == Handled::Reply).then_some(out)
                        }));
                        continue;
                    }
                    Admit::Reply => Handled::Reply,
                    Admit::Drop => Handled::Drop,
                }
            }
            Handled::Transfer => {
                // Writes its own messages; the connection stays open for more queries.
                let answerer = handler.load_full();
                if let Err(error) = answerer.transfer(&query, peer, &mut writer).await {
                    debug!(%error, %peer, "zone transfer ended early");
                    return;
                }
                continue;
            }
            other => other,
        };
        if handled != Handled::Reply {
            // Nothing sensible can follow an unreadable message on a stream.
            return;
        }
        if !write_frame(&mut writer, &out, &mut frame, peer, settings).await {
            return;
        }
    }
}

/// Resolves once the server stops; its output holds no lock of the channel.
async fn stopping(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stop| *stop).await;
}

/// Forwarded queries one connection may have waiting upstream at once; past it, the connection
/// reads no more until one is answered.
const MAX_FORWARDS_PER_CONNECTION: usize = 64;

/// A query waiting upstream: its reply, or nothing to send.
type Forwarded = Pin<Box<dyn Future<Output = Option<Vec<u8>>> + Send>>;

/// Aborts the task when the connection ends, however it ends.
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Reads length-prefixed queries into `queries` until the stream ends, fails or is idle (no
/// complete message within `idle_timeout`), then drops the sender.
async fn read_queries(
    mut reader: OwnedReadHalf,
    peer: SocketAddr,
    idle_timeout: Duration,
    queries: mpsc::Sender<Vec<u8>>,
) {
    loop {
        // A whole message must arrive within the idle timeout; bytes alone do not extend it.
        let deadline = tokio::time::Instant::now() + idle_timeout;
        let mut query = Vec::with_capacity(512);
        match timeout_at(deadline, read_message(&mut reader, &mut query)).await {
            Ok(Ok(true)) => {}
            Ok(Ok(false)) => return,
            Ok(Err(error)) => {
                debug!(%error, %peer, "TCP read failed");
                return;
            }
            Err(_) => {
                debug!(%peer, "TCP connection idle, closed");
                return;
            }
        }
        if queries.send(query).await.is_err() {
            return;
        }
    }
}

/// Writes `reply` with its length prefix; false when the connection is done for.
async fn write_frame(
    writer: &mut OwnedWriteHalf,
    reply: &[u8],
    frame: &mut Vec<u8>,
    peer: SocketAddr,
    settings: TcpSettings,
) -> bool {
    let Ok(len) = u16::try_from(reply.len()) else {
        return false;
    };
    frame.clear();
    frame.extend_from_slice(&len.to_be_bytes());
    frame.extend_from_slice(reply);
    let deadline = tokio::time::Instant::now() + settings.idle_timeout;
    match timeout_at(deadline, writer.write_all(frame)).await {
        Ok(Ok(())) => true,
        Ok(Err(error)) => {
            debug!(%error, %peer, "TCP write failed");
            false
        }
        Err(_) => {
            debug!(%peer, "TCP client not reading, closed");
            false
        }
    }
}

/// Reads one length-prefixed message into `buf`. `Ok(false)` at a clean end of stream.
async fn read_message(stream: &mut OwnedReadHalf, buf: &mut Vec<u8>) -> std::io::Result<bool> {
    let mut len = [0u8; 2];
    match stream.read_exact(&mut len).await {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(false),
        Err(e) => return Err(e),
    }
    let len = usize::from(u16::from_be_bytes(len));
    buf.clear();
    buf.resize(len, 0);
    stream.read_exact(buf).await?;
    Ok(true)
}
