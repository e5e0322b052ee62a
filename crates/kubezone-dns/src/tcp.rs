//! TCP (RFC 7766): pipelined queries per connection, answered in order; an idle timeout that
//! only a complete message resets, so a client trickling bytes (slow-loris) is closed like an
//! idle one; and a cap on open connections that closes the longest-idle one to let a new client
//! in, so idle connections cannot lock others out.

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
    sync::{Notify, watch},
    task::JoinSet,
    time::timeout_at,
};
use tracing::debug;

use crate::{DnsHandler, Handled, TcpSettings, Transport};

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
    mut stream: TcpStream,
    peer: SocketAddr,
    handler: &DnsHandler,
    settings: TcpSettings,
    connection: &Connection,
    connections: &Connections,
    mut shutdown: watch::Receiver<bool>,
) {
    let _ = stream.set_nodelay(true);
    let mut query = Vec::with_capacity(512);
    let mut out = Vec::with_capacity(4096);
    let mut frame = Vec::with_capacity(4096);
    loop {
        // A whole message must arrive within the idle timeout; bytes alone do not extend it.
        let deadline = tokio::time::Instant::now() + settings.idle_timeout;
        let read = tokio::select! {
            read = timeout_at(deadline, read_message(&mut stream, &mut query)) => read,
            _ = shutdown.wait_for(|stop| *stop) => return,
        };
        match read {
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
                answerer
                    .forward(&query, Transport::Tcp, peer, &mut out)
                    .await
            }
            Handled::Transfer => {
                // Writes its own messages; the connection stays open for more queries.
                let answerer = handler.load_full();
                if let Err(error) = answerer.transfer(&query, peer, &mut stream).await {
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
        let Ok(len) = u16::try_from(out.len()) else {
            return;
        };
        frame.clear();
        frame.extend_from_slice(&len.to_be_bytes());
        frame.extend_from_slice(&out);
        let deadline = tokio::time::Instant::now() + settings.idle_timeout;
        match timeout_at(deadline, stream.write_all(&frame)).await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => {
                debug!(%error, %peer, "TCP write failed");
                return;
            }
            Err(_) => {
                debug!(%peer, "TCP client not reading, closed");
                return;
            }
        }
    }
}

/// Reads one length-prefixed message into `buf`. `Ok(false)` at a clean end of stream.
async fn read_message(stream: &mut TcpStream, buf: &mut Vec<u8>) -> std::io::Result<bool> {
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
