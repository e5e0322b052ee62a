//! A few UDP sockets to one upstream, shared by every forwarded query: a query takes a free
//! message ID on one of them, and its reply is the datagram that comes back with that ID and
//! the same question. A flood of queries costs IDs, not sockets.

use std::{
    collections::{HashMap, hash_map::Entry},
    io,
    net::SocketAddr,
    sync::{
        Arc, Mutex, PoisonError,
        atomic::{AtomicU64, AtomicUsize, Ordering},
    },
};

use tokio::{
    net::UdpSocket,
    sync::{OnceCell, oneshot},
    task::AbortHandle,
};
use tracing::debug;

/// Sockets per upstream. Each holds up to 65,536 waiting queries; more than one spreads the
/// kernel's receive work and the source ports.
pub const SOCKETS: usize = 4;
/// The largest reply read.
const MAX_REPLY: usize = 65535;
/// Random IDs drawn before looking for a free one in order.
const RANDOM_TRIES: usize = 16;

/// The sockets to one upstream, opened on first use.
pub(super) struct UdpPool {
    upstream: SocketAddr,
    sockets: Vec<OnceCell<PooledSocket>>,
    next: AtomicUsize,
}

/// Queries waiting on one socket, by the ID they were sent with.
type Waiting = Mutex<HashMap<u16, Waiter>>;

struct Waiter {
    /// Which query this is, so a ticket never removes a later query that took the same ID.
    serial: u64,
    /// The question as sent, which the reply must repeat (in any case).
    question: Vec<u8>,
    reply: oneshot::Sender<io::Result<Vec<u8>>>,
}

struct PooledSocket {
    socket: Arc<UdpSocket>,
    serials: AtomicU64,
    waiting: Arc<Waiting>,
    receiver: AbortHandle,
}

impl Drop for PooledSocket {
    fn drop(&mut self) {
        self.receiver.abort();
    }
}

impl UdpPool {
    pub(super) fn new(upstream: SocketAddr) -> UdpPool {
        UdpPool {
            upstream,
            sockets: (0..SOCKETS).map(|_| OnceCell::new()).collect(),
            next: AtomicUsize::new(0),
        }
    }

    /// Sends `query` (a whole message with one question) under an ID of its own and waits for
    /// the reply, however long the caller lets it.
    pub(super) async fn exchange(&self, query: &[u8]) -> io::Result<Vec<u8>> {
        let question = question(query)
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no single question"))?
            .to_vec();
        let at = self.next.fetch_add(1, Ordering::Relaxed) % SOCKETS.max(1);
        let cell = self
            .sockets
            .get(at)
            .ok_or_else(|| io::Error::other("no socket"))?;
        let pooled = cell
            .get_or_try_init(|| PooledSocket::open(self.upstream))
            .await?;
        let (tx, rx) = oneshot::channel();
        let serial = pooled.serials.fetch_add(1, Ordering::Relaxed);
        let ticket = Ticket::take(&pooled.waiting, serial, question, tx)?;
        let mut packet = query.to_vec();
        if let Some(id) = packet.get_mut(..2) {
            id.copy_from_slice(&ticket.id.to_be_bytes());
        }
        pooled.socket.send(&packet).await?;
        let reply = rx
            .await
            .map_err(|_| io::Error::other("the socket's receiver stopped"))?;
        drop(ticket);
        reply
    }

    /// Sockets open now.
    pub(super) fn open(&self) -> usize {
        self.sockets.iter().filter(|c| c.initialized()).count()
    }
}

impl PooledSocket {
    /// A socket connected to `upstream` (so the kernel passes only its datagrams), on a port
    /// the kernel picks, and the task that hands its replies to the waiting queries.
    async fn open(upstream: SocketAddr) -> io::Result<PooledSocket> {
        let local: SocketAddr = if upstream.is_ipv4() {
            ([0, 0, 0, 0], 0).into()
        } else {
            ([0u16; 8], 0).into()
        };
        let socket = Arc::new(UdpSocket::bind(local).await?);
        socket.connect(upstream).await?;
        let waiting = Arc::new(Waiting::default());
        let receiver = tokio::spawn(receive(socket.clone(), waiting.clone(), upstream));
        Ok(PooledSocket {
            socket,
            serials: AtomicU64::new(0),
            waiting,
            receiver: receiver.abort_handle(),
        })
    }
}

/// Hands each datagram to the query waiting for its ID and question; anything else (a late
/// reply whose query gave up, a forgery) is dropped.
async fn receive(socket: Arc<UdpSocket>, waiting: Arc<Waiting>, upstream: SocketAddr) {
    let mut buf = vec![0; MAX_REPLY];
    loop {
        match socket.recv(&mut buf).await {
            Ok(len) => {
                let reply = buf.get(..len).unwrap_or_default();
                let Some(id) = reply.first_chunk::<2>().map(|b| u16::from_be_bytes(*b)) else {
                    continue;
                };
                let mut waiting = waiting.lock().unwrap_or_else(PoisonError::into_inner);
                if let Entry::Occupied(entry) = waiting.entry(id)
                    && question(reply)
                        .is_some_and(|q| q.eq_ignore_ascii_case(&entry.get().question))
                {
                    let _ = entry.remove().reply.send(Ok(reply.to_vec()));
                }
            }
            // ICMP port unreachable: nothing listens there, so no query on this socket will
            // be answered; each tries the next upstream now rather than at its timeout.
            Err(error) if error.kind() == io::ErrorKind::ConnectionRefused => {
                let mut waiting = waiting.lock().unwrap_or_else(PoisonError::into_inner);
                for (_, waiter) in waiting.drain() {
                    let _ = waiter
                        .reply
                        .send(Err(io::Error::from(io::ErrorKind::ConnectionRefused)));
                }
            }
            Err(error) => {
                debug!(%error, %upstream, "receiving from the upstream failed");
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
        }
    }
}

/// A query's ID on a socket, given back when the query stops waiting (answered, timed out or
/// abandoned because another upstream answered first).
struct Ticket<'w> {
    waiting: &'w Waiting,
    id: u16,
    serial: u64,
}

impl<'w> Ticket<'w> {
    fn take(
        waiting: &'w Waiting,
        serial: u64,
        question: Vec<u8>,
        reply: oneshot::Sender<io::Result<Vec<u8>>>,
    ) -> io::Result<Ticket<'w>> {
        let mut map = waiting.lock().unwrap_or_else(PoisonError::into_inner);
        // Random, so a forger off the path has to guess it.
        let id = (0..RANDOM_TRIES)
            .map(|_| rand::random::<u16>())
            .find(|id| !map.contains_key(id))
            .or_else(|| (0..=u16::MAX).find(|id| !map.contains_key(id)))
            .ok_or_else(|| io::Error::other("every message ID of the socket is in use"))?;
        map.insert(
            id,
            Waiter {
                serial,
                question,
                reply,
            },
        );
        Ok(Ticket {
            waiting,
            id,
            serial,
        })
    }
}

impl Drop for Ticket<'_> {
    fn drop(&mut self) {
        let mut map = self.waiting.lock().unwrap_or_else(PoisonError::into_inner);
        if map.get(&self.id).is_some_and(|w| w.serial == self.serial) {
            map.remove(&self.id);
        }
    }
}

/// The question section of a message with exactly one question: its name (uncompressed, as a
/// question's always is), type and class.
pub(super) fn question(message: &[u8]) -> Option<&[u8]> {
    if message.get(4..6)? != [0, 1] {
        return None;
    }
    let mut at = 12;
    loop {
        let len = usize::from(*message.get(at)?);
        if len == 0 {
            break;
        }
        if len & 0xC0 != 0 {
            return None;
        }
        at += 1 + len;
    }
    message.get(12..at + 5)
}
