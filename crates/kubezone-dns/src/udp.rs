//! UDP: one socket per worker thread on the same port (SO_REUSEPORT), each a plain blocking
//! receive–answer–send loop, so a query costs two system calls and no task switch.

use std::{
    io::ErrorKind,
    net::{SocketAddr, UdpSocket},
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    thread::JoinHandle,
    time::Duration,
};

use socket2::{Domain, Protocol, Socket, Type};
use tokio::runtime::Handle;
use tracing::debug;

use crate::{Admission, Admit, DnsHandler, Handled, Transport};

/// How often an idle worker looks at the stop flag.
const STOP_POLL: Duration = Duration::from_millis(100);
/// Kernel receive buffer asked for: bursts wait here instead of being dropped.
const RECV_BUFFER: usize = 4 << 20;
/// The largest datagram read; anything longer is cut and fails to parse.
const MAX_DATAGRAM: usize = 65535;

/// The port a UDP socket gets on `addr` without SO_REUSEPORT: one no other socket holds,
/// since SO_REUSEPORT would share a port with another process of the same user without a
/// word. The socket is closed again, for [`bind`] to take the port.
pub(crate) fn exclusive_port(addr: SocketAddr) -> std::io::Result<u16> {
    let socket = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    if addr.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    socket.bind(&addr.into())?;
    Ok(socket
        .local_addr()?
        .as_socket()
        .map_or(addr.port(), |local| local.port()))
}

/// A UDP socket bound with SO_REUSEPORT, so several can share one port; IPv6-only when `addr`
/// is IPv6, so that IPv4 clients arrive on IPv4 sockets.
pub(crate) fn bind(addr: SocketAddr) -> std::io::Result<UdpSocket> {
    let socket = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    if addr.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    socket.set_reuse_port(true)?;
    // Best effort: the kernel caps it at net.core.rmem_max.
    let _ = socket.set_recv_buffer_size(RECV_BUFFER);
    socket.bind(&addr.into())?;
    let socket: UdpSocket = socket.into();
    socket.set_read_timeout(Some(STOP_POLL))?;
    Ok(socket)
}

/// Starts one worker thread per socket.
pub(crate) fn spawn_workers(
    sockets: Vec<UdpSocket>,
    handler: &DnsHandler,
    runtime: &Handle,
    stop: &Arc<AtomicBool>,
) -> std::io::Result<Vec<JoinHandle<()>>> {
    sockets
        .into_iter()
        .enumerate()
        .map(|(i, socket)| {
            let worker = Worker {
                socket: Arc::new(socket),
                handler: handler.clone(),
                runtime: runtime.clone(),
                stop: stop.clone(),
            };
            std::thread::Builder::new()
                .name(format!("kubezone-udp-{i}"))
                .spawn(move || worker.run())
        })
        .collect()
}

struct Worker {
    socket: Arc<UdpSocket>,
    handler: DnsHandler,
    runtime: Handle,
    stop: Arc<AtomicBool>,
}

impl Worker {
    fn run(self) {
        let mut packet = vec![0u8; MAX_DATAGRAM];
        let mut out = Vec::with_capacity(4096);
        while !self.stop.load(Ordering::Relaxed) {
            let (len, src) = match self.socket.recv_from(&mut packet) {
                Ok(received) => received,
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    continue;
                }
                Err(error) => {
                    debug!(%error, "UDP receive failed");
                    continue;
                }
            };
            let Some(query) = packet.get(..len) else {
                continue;
            };
            let answerer = self.handler.load();
            match answerer.respond_udp(query, src, &mut out) {
                (Handled::Reply, response) => {
                    if answerer.rate_limit(query, src, response, &mut out) == Handled::Reply {
                        self.send(&out, src);
                    }
                }
                (Handled::Drop | Handled::Transfer, _) => {}
                (Handled::Forward, _) => match answerer.admit(query, Transport::Udp, src, &mut out)
                {
                    Admit::Forward(admission) => self.forward(admission, query.to_vec(), src),
                    Admit::Reply => self.send(&out, src),
                    Admit::Drop => {}
                },
            }
        }
    }

    fn send(&self, reply: &[u8], dst: SocketAddr) {
        if let Err(error) = self.socket.send_to(reply, dst) {
            debug!(%error, %dst, "UDP send failed");
        }
    }

    /// Fallthrough waits on the network, so it leaves the worker for a task; `admission`
    /// bounds how many such tasks there are.
    fn forward(&self, admission: Admission, query: Vec<u8>, src: SocketAddr) {
        let answerer = self.handler.load_full();
        let socket = self.socket.clone();
        self.runtime.spawn(async move {
            let mut out = Vec::new();
            let (handled, response) = answerer.forward_udp(admission, &query, src, &mut out).await;
            if handled == Handled::Reply
                && answerer.rate_limit(&query, src, response, &mut out) == Handled::Reply
                && let Err(error) = socket.send_to(&out, src)
            {
                debug!(%error, dst = %src, "UDP send failed");
            }
        });
    }
}
