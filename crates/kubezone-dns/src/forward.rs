//! Fallthrough: sends a query the zones cannot answer to the configured upstreams, within
//! bounds.
//!
//! - At most `max_in_flight` queries wait upstream at once: [`Forwarder::admit`] hands out the
//!   places, and a query that finds none is answered SERVFAIL at once by the caller.
//! - Queries share a few UDP sockets per upstream (`udp_pool`: IDs matched to the waiting
//!   queries) and one TCP connection per upstream for truncated answers and TCP clients
//!   (`tcp_link`, hickory-net's multiplexed client), so descriptors do not grow with the load.
//! - The upstreams are asked in order, those that answered last first. When one has not
//!   answered within `try_next_after` (or has failed), the next is asked too, and the first
//!   answer wins; the whole wait is bounded by `timeout`.
//! - An upstream that failed (no answer in time, an error) is asked last for `recheck`, then in
//!   its turn again, so the next real query probes it.

mod tcp_link;
mod udp_pool;

use std::{
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use futures_util::{StreamExt, stream::FuturesUnordered};
use hickory_proto::op::Message;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tracing::{info, warn};

use tcp_link::TcpLink;
use udp_pool::UdpPool;

pub use udp_pool::SOCKETS as UDP_SOCKETS_PER_UPSTREAM;

/// How fallthrough queries go upstream (the `forwarding` section of the config).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ForwardSettings {
    /// Queries waiting upstream at once, at most; more are answered SERVFAIL at once.
    pub max_in_flight: usize,
    /// A query's whole wait for an answer, from any upstream.
    pub timeout: Duration,
    /// How long an upstream has before the next one is asked too.
    pub try_next_after: Duration,
    /// How long an upstream that failed is asked last.
    pub recheck: Duration,
}

impl Default for ForwardSettings {
    fn default() -> Self {
        ForwardSettings {
            max_in_flight: 1000,
            timeout: Duration::from_secs(2),
            try_next_after: Duration::from_millis(500),
            recheck: Duration::from_secs(10),
        }
    }
}

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
    #[error("no upstream answered within {timeout:?}")]
    Timeout { timeout: Duration },
    #[error("upstream {upstream} sent an unreadable reply: {reason}")]
    BadReply {
        upstream: SocketAddr,
        reason: String,
    },
}

/// A place among the queries waiting upstream, given back when dropped.
#[derive(Debug)]
pub struct Admission {
    _place: OwnedSemaphorePermit,
}

/// Forwards raw queries to the upstreams. Cloning shares the sockets, the connections, the
/// places and what is known of each upstream's health.
#[derive(Clone)]
pub struct Forwarder {
    shared: Arc<Shared>,
}

struct Shared {
    upstreams: Vec<Upstream>,
    settings: ForwardSettings,
    places: Arc<Semaphore>,
    started: Instant,
}

struct Upstream {
    addr: SocketAddr,
    udp: UdpPool,
    tcp: TcpLink,
    /// Milliseconds since [`Shared::started`], plus one, when it last failed; 0 once it
    /// answers.
    failed_at: AtomicU64,
}

impl std::fmt::Debug for Forwarder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Forwarder")
            .field(
                "upstreams",
                &self
                    .shared
                    .upstreams
                    .iter()
                    .map(|u| u.addr)
                    .collect::<Vec<_>>(),
            )
            .field("settings", &self.shared.settings)
            .finish_non_exhaustive()
    }
}

impl Forwarder {
    pub fn new(upstreams: Vec<SocketAddr>, settings: ForwardSettings) -> Forwarder {
        let max_in_flight = settings.max_in_flight.clamp(1, Semaphore::MAX_PERMITS);
        Forwarder {
            shared: Arc::new(Shared {
                upstreams: upstreams
                    .into_iter()
                    .map(|addr| Upstream {
                        addr,
                        udp: UdpPool::new(addr),
                        tcp: TcpLink::new(addr, settings.timeout, max_in_flight),
                        failed_at: AtomicU64::new(0),
                    })
                    .collect(),
                settings,
                places: Arc::new(Semaphore::new(max_in_flight)),
                started: Instant::now(),
            }),
        }
    }

    pub fn settings(&self) -> ForwardSettings {
        self.shared.settings
    }

    /// A place for one more query upstream; `None` when `max_in_flight` queries wait already.
    pub fn admit(&self) -> Option<Admission> {
        self.shared
            .places
            .clone()
            .try_acquire_owned()
            .ok()
            .map(|place| Admission { _place: place })
    }

    /// Sends `query` (a whole DNS message) upstream, over TCP when the client used TCP or the
    /// UDP reply was truncated, holding `admission` until it ends.
    pub async fn forward(
        &self,
        query: &[u8],
        tcp: bool,
        _admission: &Admission,
    ) -> Result<Message, ForwardError> {
        let timeout = self.shared.settings.timeout;
        let deadline = tokio::time::Instant::now() + timeout;
        let mut order = self.shared.order(self.shared.now()).into_iter();
        let mut asked = Vec::new();
        let mut attempts = FuturesUnordered::new();
        let mut last = ForwardError::NoUpstream;
        let mut next_at = tokio::time::Instant::now();
        let mut hurry = true;
        loop {
            if attempts.is_empty() && order.len() == 0 {
                return Err(last);
            }
            tokio::select! {
                Some((at, took, result)) = attempts.next(), if !attempts.is_empty() => {
                    let Some(upstream) = self.shared.upstreams.get(at) else {
                        continue;
                    };
                    asked.retain(|a| *a != at);
                    match result {
                        Ok(reply) => {
                            // A slow answer does not bring an upstream back to the front.
                            if took <= self.shared.settings.try_next_after {
                                self.shared.answered(upstream);
                            }
                            return Ok(reply);
                        }
                        Err(error) => {
                            self.shared.failed(upstream, &error);
                            last = error;
                            // Nothing to wait for from this one: ask the next now.
                            next_at = tokio::time::Instant::now();
                            hurry = true;
                        }
                    }
                }
                () = tokio::time::sleep_until(next_at), if order.len() > 0 => {
                    if !hurry {
                        // Slow: asked last until it answers in time again.
                        for upstream in asked.iter().filter_map(|a| self.shared.upstreams.get(*a)) {
                            self.shared.failed(upstream, &ForwardError::Timeout {
                                timeout: self.shared.settings.try_next_after,
                            });
                        }
                    }
                    if let Some(at) = order.next() {
                        asked.push(at);
                        attempts.push(self.attempt(at, query, tcp));
                    }
                    next_at = tokio::time::Instant::now() + self.shared.settings.try_next_after;
                    hurry = false;
                }
                () = tokio::time::sleep_until(deadline) => {
                    let error = ForwardError::Timeout { timeout };
                    for upstream in asked.iter().filter_map(|a| self.shared.upstreams.get(*a)) {
                        self.shared.failed(upstream, &error);
                    }
                    return Err(error);
                }
            }
        }
    }

    /// One upstream's answer to `query`: over UDP, then TCP if truncated; or TCP alone.
    async fn attempt(
        &self,
        at: usize,
        query: &[u8],
        tcp: bool,
    ) -> (usize, Duration, Result<Message, ForwardError>) {
        let start = Instant::now();
        let Some(upstream) = self.shared.upstreams.get(at) else {
            return (at, Duration::ZERO, Err(ForwardError::NoUpstream));
        };
        let result = async {
            if !tcp {
                let reply = upstream
                    .udp
                    .exchange(query)
                    .await
                    .map_err(|e| upstream.io(e))?;
                let reply = upstream.parse(&reply)?;
                if !reply.metadata.truncation {
                    return Ok(reply);
                }
            }
            let message = Message::from_vec(query).map_err(|e| ForwardError::Io {
                upstream: upstream.addr,
                source: std::io::Error::new(std::io::ErrorKind::InvalidInput, e.to_string()),
            })?;
            upstream
                .tcp
                .exchange(&message)
                .await
                .map_err(|e| upstream.io(e))
        }
        .await;
        (at, start.elapsed(), result)
    }

    /// UDP sockets open to the upstreams now, for tests and metrics.
    pub fn udp_sockets(&self) -> usize {
        self.shared.upstreams.iter().map(|u| u.udp.open()).sum()
    }
}

impl Shared {
    fn now(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis())
            .unwrap_or(u64::MAX - 1)
            .saturating_add(1)
    }

    /// Upstream positions in the order to ask them: those not failed within `recheck` in the
    /// configured order, then the failed ones, longest failed first.
    fn order(&self, now: u64) -> Vec<usize> {
        let recheck = u64::try_from(self.settings.recheck.as_millis()).unwrap_or(u64::MAX);
        let failed_at = |u: &Upstream| {
            let at = u.failed_at.load(Ordering::Relaxed);
            (at != 0 && now.saturating_sub(at) < recheck).then_some(at)
        };
        let mut order: Vec<(Option<u64>, usize)> = self
            .upstreams
            .iter()
            .enumerate()
            .map(|(i, u)| (failed_at(u), i))
            .collect();
        // `None` sorts first; the sort is stable, so healthy ones keep the configured order.
        order.sort_by_key(|(failed, _)| *failed);
        order.into_iter().map(|(_, i)| i).collect()
    }

    fn answered(&self, upstream: &Upstream) {
        if upstream.failed_at.swap(0, Ordering::Relaxed) != 0 {
            info!(upstream = %upstream.addr, "fallthrough upstream answers again");
        }
    }

    fn failed(&self, upstream: &Upstream, error: &ForwardError) {
        // Logged when it turns from answering to failing, not for every query.
        if upstream.failed_at.swap(self.now(), Ordering::Relaxed) == 0 {
            warn!(
                upstream = %upstream.addr,
                %error,
                recheck = ?self.settings.recheck,
                "fallthrough upstream failed; asked last until the recheck"
            );
        }
    }
}

impl Upstream {
    fn io(&self, source: std::io::Error) -> ForwardError {
        ForwardError::Io {
            upstream: self.addr,
            source,
        }
    }

    fn parse(&self, bytes: &[u8]) -> Result<Message, ForwardError> {
        Message::from_vec(bytes).map_err(|e| ForwardError::BadReply {
            upstream: self.addr,
            reason: e.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use hickory_proto::{
        op::{Message, Query},
        rr::{Name, RecordType},
    };
    use tokio::net::UdpSocket;

    use super::*;

    fn query(name: &str) -> Vec<u8> {
        let mut m = Message::query();
        m.metadata.id = 7;
        m.add_query(Query::query(
            Name::from_ascii(name).expect("name"),
            RecordType::A,
        ));
        m.to_vec().expect("encode")
    }

    /// A UDP upstream on loopback that counts the queries it gets and, when `answer` says so,
    /// replies with what it returns (any number of datagrams).
    async fn upstream(
        answer: impl Fn(&Message) -> Vec<Message> + Send + 'static,
    ) -> (SocketAddr, Arc<AtomicUsize>) {
        let socket = UdpSocket::bind("127.0.0.1:0").await.expect("bind");
        let addr = socket.local_addr().expect("addr");
        let count = Arc::new(AtomicUsize::new(0));
        let seen = count.clone();
        tokio::spawn(async move {
            let mut buf = vec![0; 4096];
            while let Ok((len, from)) = socket.recv_from(&mut buf).await {
                seen.fetch_add(1, Ordering::Relaxed);
                let Ok(query) = Message::from_vec(&buf[..len]) else {
                    continue;
                };
                for reply in answer(&query) {
                    let _ = socket.send_to(&reply.to_vec().expect("encode"), from).await;
                }
            }
        });
        (addr, count)
    }

    fn answer(query: &Message) -> Vec<Message> {
        vec![query.clone().into_response()]
    }

    #[tokio::test]
    async fn a_failed_upstream_is_asked_last_then_probed_again_after_the_recheck() {
        let (silent, silent_count) = upstream(|_| Vec::new()).await;
        let (live, live_count) = upstream(answer).await;
        let forwarder = Forwarder::new(
            vec![silent, live],
            ForwardSettings {
                try_next_after: Duration::from_millis(50),
                recheck: Duration::from_millis(300),
                ..ForwardSettings::default()
            },
        );
        let place = forwarder.admit().expect("a place");
        for i in 0..5 {
            let name = format!("n{i}.example.com.");
            let reply = forwarder
                .forward(&query(&name), false, &place)
                .await
                .expect("the second upstream answers");
            assert_eq!(reply.queries[0].name().to_ascii(), name);
        }
        assert_eq!(
            silent_count.load(Ordering::Relaxed),
            1,
            "asked last after failing"
        );
        assert_eq!(live_count.load(Ordering::Relaxed), 5);
        tokio::time::sleep(Duration::from_millis(400)).await;
        forwarder
            .forward(&query("again.example.com."), false, &place)
            .await
            .expect("answered");
        assert_eq!(
            silent_count.load(Ordering::Relaxed),
            2,
            "probed after the recheck"
        );
        assert!(forwarder.udp_sockets() <= 2 * UDP_SOCKETS_PER_UPSTREAM);
    }

    #[tokio::test]
    async fn a_reply_with_the_id_but_another_question_is_not_taken() {
        let (addr, _) = upstream(|query| {
            let mut forged = query.clone().into_response();
            forged.queries[0] = Query::query(
                Name::from_ascii("forged.example.net.").expect("name"),
                RecordType::A,
            );
            forged.metadata.response_code = hickory_proto::op::ResponseCode::NXDomain;
            vec![forged, query.clone().into_response()]
        })
        .await;
        let forwarder = Forwarder::new(vec![addr], ForwardSettings::default());
        let place = forwarder.admit().expect("a place");
        // The question is matched in any case, as upstreams may not keep the 0x20 case.
        let reply = forwarder
            .forward(&query("WwW.Example.COM."), false, &place)
            .await
            .expect("answered");
        assert_eq!(
            reply.metadata.response_code,
            hickory_proto::op::ResponseCode::NoError
        );
        assert_eq!(reply.queries[0].name().to_ascii(), "WwW.Example.COM.");
    }

    #[tokio::test]
    async fn places_are_bounded_and_given_back() {
        let forwarder = Forwarder::new(
            vec!["127.0.0.1:9".parse().expect("addr")],
            ForwardSettings {
                max_in_flight: 2,
                ..ForwardSettings::default()
            },
        );
        let (a, b) = (forwarder.admit(), forwarder.admit());
        assert!(a.is_some() && b.is_some());
        assert!(forwarder.admit().is_none(), "the cap");
        drop(a);
        assert!(forwarder.admit().is_some(), "a place given back");
    }
}
