//! From query bytes to reply bytes: protocol checks, EDNS, size limits, then [`resolve`].
//!
//! Synchronous except for fallthrough, so the transports call it straight from their loops.

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{Arc, Mutex, PoisonError},
    time::Instant,
};

use arc_swap::ArcSwap;
use hickory_proto::{
    op::{Edns, Message, ResponseCode},
    rr::{
        DNSClass, RecordType,
        rdata::opt::{EdnsCode, EdnsOption, NSIDPayload},
    },
};
use kubezone_guard::{Guard, RateLimiter, RateVerdict, ResponseKey, ResponseKind, Verdict};
use kubezone_index::IndexReader;
use kubezone_metrics::QueryCounters;
use kubezone_transfer::Transfers;
use tracing::{debug, info, warn};

use crate::{
    Admission, FallthroughPolicy, Forwarder, Identity, Resolution,
    message::{ADDITIONAL, ExtendedError, Flags, Opt, Reply},
    query::{Header, Query, Unreadable, parse},
    rated, resolve_in_zone,
};

/// The UDP payload kubezone uses at most: DNS Flag Day 2020's recommendation.
pub const MAX_UDP_PAYLOAD: u16 = 1232;
/// The UDP limit for a client without EDNS (RFC 1035 §4.2.1).
const PLAIN_UDP_PAYLOAD: u16 = 512;
/// The largest DNS message over TCP (RFC 1035 §4.2.2).
const TCP_LIMIT: usize = u16::MAX as usize;

/// How a query arrived; it sets the size limit and how fallthrough asks upstream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    Udp,
    Tcp,
}

impl Transport {
    fn name(self) -> &'static str {
        match self {
            Transport::Udp => "udp",
            Transport::Tcp => "tcp",
        }
    }
}

/// What to do with a packet after [`Answerer::respond`].
#[derive(Debug, PartialEq, Eq)]
pub enum Handled {
    /// Send the bytes now in the output buffer.
    Reply,
    /// Send nothing.
    Drop,
    /// Fallthrough: take a place upstream with [`Answerer::admit`], then ask with
    /// [`Answerer::forward`].
    Forward,
    /// An AXFR or IXFR over TCP: stream the response with [`Answerer::transfer`].
    Transfer,
}

/// Whether a fallthrough query goes upstream ([`Answerer::admit`]).
#[derive(Debug)]
pub enum Admit {
    /// Ask upstream with [`Answerer::forward`], holding this place until it ends.
    Forward(Admission),
    /// Send the reply now in the output buffer instead: SERVFAIL when `maxInFlight` queries
    /// wait upstream already, or the slipped reply of a client over its rate limit.
    Reply,
    /// Send nothing: a client over its rate limit.
    Drop,
}

/// What answers queries: the index, fallthrough and the counters. Swapped as a whole when the
/// configuration is reloaded.
#[derive(Clone)]
pub struct Answerer {
    index: IndexReader,
    fallthrough: Arc<FallthroughPolicy>,
    forwarder: Option<Forwarder>,
    counters: Option<Arc<QueryCounters>>,
    query_log: bool,
    guard: Option<Arc<Guard>>,
    identity: Option<Arc<Identity>>,
    transfers: Option<Arc<Transfers>>,
    /// Per zone, the rate-limit keys of the last upstream NXDOMAIN and referral, which are
    /// counted by a name the query does not tell: checked before forwarding.
    upstream_keys: Arc<Mutex<HashMap<usize, [Option<ResponseKey>; 2]>>>,
}

impl Answerer {
    pub fn new(
        index: IndexReader,
        fallthrough: FallthroughPolicy,
        forwarder: Option<Forwarder>,
    ) -> Answerer {
        Answerer {
            index,
            fallthrough: Arc::new(fallthrough),
            forwarder,
            counters: None,
            query_log: false,
            guard: None,
            identity: None,
            transfers: None,
            upstream_keys: Arc::default(),
        }
    }

    /// Offers zone transfers (AXFR, IXFR) of the zones `transfers` has.
    pub fn with_transfers(mut self, transfers: Option<Arc<Transfers>>) -> Answerer {
        self.transfers = transfers;
        self
    }

    /// Names this server in NSID and CH TXT answers, as `identity` says.
    pub fn with_identity(mut self, identity: Option<Identity>) -> Answerer {
        self.identity = identity.map(Arc::new);
        self
    }

    /// Checks every query against the access list and every UDP response against the rate
    /// limit.
    pub fn with_guard(mut self, guard: Guard) -> Answerer {
        let on = guard.acl.is_some() || guard.rate_limit.is_some();
        self.guard = on.then(|| Arc::new(guard));
        self
    }

    /// Counts every query (by zone, type and rcode) and its latency.
    pub fn with_counters(mut self, counters: Arc<QueryCounters>) -> Answerer {
        self.counters = Some(counters);
        self
    }

    /// Logs a line per query, at info.
    pub fn with_query_log(mut self, on: bool) -> Answerer {
        self.query_log = on;
        self
    }
}

/// Answers queries with the current [`Answerer`]; the transports share one.
#[derive(Clone)]
pub struct DnsHandler {
    current: Arc<ArcSwap<Answerer>>,
}

impl DnsHandler {
    pub fn new(
        index: IndexReader,
        fallthrough: FallthroughPolicy,
        forwarder: Option<Forwarder>,
    ) -> DnsHandler {
        DnsHandler::from(Answerer::new(index, fallthrough, forwarder))
    }

    /// Answers with `answerer` from now on; queries in flight finish with the old one.
    pub fn replace(&self, answerer: Answerer) {
        self.current.store(Arc::new(answerer));
    }

    /// The current answerer, for one query: a lock-free load with no reference count.
    pub fn load(&self) -> arc_swap::Guard<Arc<Answerer>> {
        self.current.load()
    }

    /// The current answerer, owned, for work that awaits (fallthrough).
    pub fn load_full(&self) -> Arc<Answerer> {
        self.current.load_full()
    }
}

impl From<Answerer> for DnsHandler {
    fn from(answerer: Answerer) -> DnsHandler {
        DnsHandler {
            current: Arc::new(ArcSwap::from_pointee(answerer)),
        }
    }
}

/// What one query was, for counters and the query log, and what the UDP rate limit counts its
/// reply under.
struct Seen {
    zone: Option<usize>,
    qtype: RecordType,
    rcode: ResponseCode,
    rated: ResponseKey,
    /// Signed with TSIG, and answered here rather than by zone transfer: the reply is signed
    /// (or the signature refused) before it goes.
    signed: bool,
}

impl Answerer {
    /// Answers `packet` into `out`. On [`Handled::Forward`], call [`Answerer::forward`].
    pub fn respond(
        &self,
        packet: &[u8],
        transport: Transport,
        src: SocketAddr,
        out: &mut Vec<u8>,
    ) -> Handled {
        self.respond_rated(packet, transport, src, out).0
    }

    /// Answers a UDP query as [`Answerer::respond`] does, also saying what the rate limit
    /// counts the reply under, for [`Answerer::rate_limit`].
    pub fn respond_udp(
        &self,
        packet: &[u8],
        src: SocketAddr,
        out: &mut Vec<u8>,
    ) -> (Handled, ResponseKey) {
        self.respond_rated(packet, Transport::Udp, src, out)
    }

    fn respond_rated(
        &self,
        packet: &[u8],
        transport: Transport,
        src: SocketAddr,
        out: &mut Vec<u8>,
    ) -> (Handled, ResponseKey) {
        let start = Instant::now();
        let (handled, seen) = match self.guard.as_deref().map(|g| g.check_acl(src.ip())) {
            None | Some(Verdict::Allow) => self.answer(packet, transport, src, out),
            Some(Verdict::Drop) => return (Handled::Drop, ResponseKey::ERROR),
            Some(Verdict::Refuse) => refuse_client(packet, out),
        };
        let rated = seen.rated;
        if seen.signed
            && handled == Handled::Reply
            && let Some(transfers) = &self.transfers
        {
            // A secondary's signed SOA check (RFC 8945): signed back with the same key.
            transfers.sign_reply(packet, out);
        }
        if handled != Handled::Forward {
            self.account(seen, start, transport, src, packet);
        }
        (handled, rated)
    }

    /// Streams the response to an AXFR or IXFR that [`Answerer::respond`] handed on
    /// ([`Handled::Transfer`]) to `writer`, length-prefixed as on TCP.
    pub async fn transfer<W: tokio::io::AsyncWrite + Unpin>(
        &self,
        packet: &[u8],
        peer: SocketAddr,
        writer: &mut W,
    ) -> std::io::Result<()> {
        match &self.transfers {
            Some(transfers) => transfers.serve_tcp(packet, peer, writer).await,
            None => Ok(()),
        }
    }

    /// Applies the response rate limit to a UDP reply in `out` about to go to `client`, counted
    /// under `response` (from [`Answerer::respond_udp`] or [`Answerer::forward_udp`]): send
    /// it, drop it, or slip an empty truncated reply in its place so a real client retries
    /// over TCP.
    pub fn rate_limit(
        &self,
        packet: &[u8],
        client: SocketAddr,
        response: ResponseKey,
        out: &mut Vec<u8>,
    ) -> Handled {
        let Some(guard) = self.guard.as_deref() else {
            return Handled::Reply;
        };
        if guard.rate_limit.is_none() {
            return Handled::Reply;
        }
        match guard.check_rate(client.ip(), response, Instant::now()) {
            RateVerdict::Send => Handled::Reply,
            RateVerdict::Drop => Handled::Drop,
            RateVerdict::Slip => match parse(packet) {
                Ok(query) => {
                    let opt = opt(&query, MAX_UDP_PAYLOAD);
                    let rcode = rcode_of(out);
                    let mut reply = Reply::new(out, query.header, query.question, 0, opt);
                    reply.mark_truncated();
                    reply.finish(Flags {
                        rcode,
                        authoritative: false,
                    });
                    Handled::Reply
                }
                Err(_) => Handled::Drop,
            },
        }
    }

    /// The rate limiter, for a query that came over UDP (TCP is never limited).
    fn limiter(&self, transport: Transport) -> Option<&RateLimiter> {
        match transport {
            Transport::Udp => self.guard.as_deref()?.rate_limit.as_ref(),
            Transport::Tcp => None,
        }
    }

    fn answer(
        &self,
        packet: &[u8],
        transport: Transport,
        src: SocketAddr,
        out: &mut Vec<u8>,
    ) -> (Handled, Seen) {
        let mut seen = Seen {
            zone: None,
            qtype: RecordType::NULL,
            rcode: ResponseCode::FormErr,
            rated: ResponseKey::ERROR,
            signed: false,
        };
        let query = match parse(packet) {
            Ok(query) => query,
            Err(Unreadable::Drop) => return (Handled::Drop, seen),
            Err(Unreadable::FormErr { header }) => {
                let header = Header {
                    id: header.id,
                    opcode: header.opcode,
                    recursion_desired: header.recursion_desired,
                    checking_disabled: false,
                };
                Reply::new(out, header, &[], TCP_LIMIT, None).finish(Flags {
                    rcode: ResponseCode::FormErr,
                    authoritative: false,
                });
                return (Handled::Reply, seen);
            }
        };
        seen.qtype = query.qtype;
        seen.signed = query.signed;
        let limit = limit(&query, transport);
        let opt = self.opt(&query, limit);
        let question = query.question;
        let refuse = |rcode: ResponseCode, error: Option<ExtendedError>, out: &mut Vec<u8>| {
            let echo = if rcode == ResponseCode::FormErr {
                &[][..]
            } else {
                question
            };
            let opt = opt.map(|opt| Opt { error, ..opt });
            Reply::new(out, query.header, echo, TCP_LIMIT, opt).finish(Flags {
                rcode,
                authoritative: false,
            });
            (Handled::Reply, rcode)
        };
        let refused = if query.edns.is_some_and(|e| e.version > 0) {
            Some(ResponseCode::BADVERS)
        } else if query.header.opcode != 0 {
            Some(ResponseCode::NotImp)
        } else if query.question_count != 1 {
            Some(ResponseCode::FormErr)
        } else if let Some(txt) = self.chaos_txt(&query) {
            let mut reply = Reply::new(out, query.header, question, usize::from(limit), opt);
            reply.query_answer(txt);
            // Not authoritative, as NSD answers: CH is no zone of ours.
            reply.finish(Flags {
                rcode: ResponseCode::NoError,
                authoritative: false,
            });
            seen.rcode = ResponseCode::NoError;
            return (Handled::Reply, seen);
        } else if let Some(transfers) = self.transfers.as_deref().filter(|t| {
            query.qclass == DNSClass::IN
                && matches!(query.qtype, RecordType::AXFR | RecordType::IXFR)
                && t.serves(&query.key)
        }) {
            seen.rcode = ResponseCode::NoError;
            // Signed (or refused) by zone transfer itself.
            seen.signed = false;
            return match transport {
                Transport::Tcp => (Handled::Transfer, seen),
                Transport::Udp => {
                    transfers.serve_udp(packet, src, out);
                    (Handled::Reply, seen)
                }
            };
        } else if query.qclass != DNSClass::IN
            // Zone transfer of a zone without `transfer` settings.
            || matches!(query.qtype, RecordType::AXFR | RecordType::IXFR)
        {
            Some(ResponseCode::Refused)
        } else {
            None
        };
        if let Some(rcode) = refused {
            let (handled, rcode) = refuse(rcode, None, out);
            seen.rcode = rcode;
            return (handled, seen);
        }

        let catalog = self.index.load();
        let (zone, resolution) =
            resolve_in_zone(&catalog, &query.key, query.qtype, &self.fallthrough);
        seen.zone = zone;
        let failed = match resolution {
            Resolution::Answer(answer) => Err(answer),
            Resolution::Refused => Ok((
                ResponseCode::Refused,
                Some(ExtendedError::NOT_AUTHORITATIVE),
            )),
            Resolution::NotReady => Ok((ResponseCode::ServFail, Some(ExtendedError::NOT_READY))),
            Resolution::Fallthrough if self.forwarder.is_some() => {
                return (Handled::Forward, seen);
            }
            Resolution::Fallthrough => Ok((ResponseCode::ServFail, None)),
        };
        let answer = match failed {
            Err(answer) => answer,
            Ok((rcode, error)) => {
                let (handled, rcode) = refuse(rcode, error, out);
                seen.rcode = rcode;
                return (handled, seen);
            }
        };
        seen.rcode = answer.rcode;
        if let Some(limiter) = self.limiter(transport) {
            seen.rated = rated::answer_key(limiter, &answer, query.qtype);
        }
        let mut reply = Reply::new(out, query.header, query.question, usize::from(limit), opt);
        let _ = reply.section(1, &answer.answers)
            && reply.section(2, &answer.authorities)
            && reply.section(ADDITIONAL, &answer.additionals);
        reply.finish(Flags {
            rcode: answer.rcode,
            authoritative: answer.authoritative,
        });
        (Handled::Reply, seen)
    }

    /// The reply's OPT for `query`, with this server's name when the query asked for it.
    fn opt<'a>(&'a self, query: &Query<'_>, limit: u16) -> Option<Opt<'a>> {
        let mut opt = opt(query, limit)?;
        // Options are read only when identity is on and the client sent some.
        if let (Some(identity), Some(edns)) = (self.identity.as_deref(), query.edns)
            && edns.has_option(u16::from(EdnsCode::NSID))
        {
            opt.nsid = identity.nsid_payload();
        }
        Some(opt)
    }

    /// The CH TXT record naming this server, when `query` asks for it and that is on.
    fn chaos_txt(&self, query: &Query<'_>) -> Option<&[u8]> {
        if query.qclass != DNSClass::CH {
            return None;
        }
        self.identity
            .as_deref()?
            .chaos_txt(query.key.as_bytes(), query.qtype)
    }

    /// Decides whether a query [`Answerer::respond`] handed on for fallthrough goes upstream.
    /// Not when its client (over UDP) is over its rate limit already, for the responses an
    /// upstream's reply would be counted under: the limiter's verdict then, without asking.
    /// Not when `maxInFlight` queries wait upstream already: SERVFAIL at once, with Extended
    /// DNS Error 23, counted.
    pub fn admit(
        &self,
        packet: &[u8],
        transport: Transport,
        src: SocketAddr,
        out: &mut Vec<u8>,
    ) -> Admit {
        let start = Instant::now();
        let Ok(query) = parse(packet) else {
            return Admit::Drop;
        };
        let Some(forwarder) = &self.forwarder else {
            return Admit::Drop;
        };
        let zone = self.index.load().zone_for(&query.key).map(|z| z.id());
        let limit = limit(&query, transport);
        let opt = self.opt(&query, limit);
        let mut seen = Seen {
            zone,
            qtype: query.qtype,
            rcode: ResponseCode::ServFail,
            rated: ResponseKey::ERROR,
            signed: false,
        };
        if let (Some(guard), Some(limiter)) = (self.guard.as_deref(), self.limiter(transport))
            && let Some(key) = self.over_limit(limiter, &query, zone, src, start)
        {
            seen.rcode = match key.kind() {
                ResponseKind::Answer | ResponseKind::NoData | ResponseKind::Referral => {
                    ResponseCode::NoError
                }
                ResponseKind::NxDomain => ResponseCode::NXDomain,
                ResponseKind::Error => ResponseCode::ServFail,
            };
            match guard.check_rate(src.ip(), key, start) {
                RateVerdict::Drop => {
                    self.account(seen, start, transport, src, packet);
                    return Admit::Drop;
                }
                RateVerdict::Slip => {
                    let mut reply = Reply::new(out, query.header, query.question, 0, opt);
                    reply.mark_truncated();
                    reply.finish(Flags {
                        rcode: seen.rcode,
                        authoritative: false,
                    });
                    self.account(seen, start, transport, src, packet);
                    return Admit::Reply;
                }
                // Credit came back in the meantime.
                RateVerdict::Send => {}
            }
        }
        if let Some(admission) = forwarder.admit() {
            return Admit::Forward(admission);
        }
        if let Some(counters) = &self.counters {
            counters.forward_rejected();
        }
        let opt = opt.map(|opt| Opt {
            error: Some(ExtendedError::UPSTREAM_BUSY),
            ..opt
        });
        Reply::new(out, query.header, query.question, TCP_LIMIT, opt).finish(Flags {
            rcode: ResponseCode::ServFail,
            authoritative: false,
        });
        seen.rcode = ResponseCode::ServFail;
        self.account(seen, start, transport, src, packet);
        if transport == Transport::Udp
            && self.rate_limit(packet, src, ResponseKey::ERROR, out) != Handled::Reply
        {
            return Admit::Drop;
        }
        Admit::Reply
    }

    /// The key of a response `query`'s client is already over its limit for, among those an
    /// upstream's reply could be counted under: an answer or NODATA for the name, the zone's
    /// last upstream NXDOMAIN or referral, an error.
    fn over_limit(
        &self,
        limiter: &RateLimiter,
        query: &Query<'_>,
        zone: Option<usize>,
        src: SocketAddr,
        now: Instant,
    ) -> Option<ResponseKey> {
        let name = query.key.as_bytes();
        let qtype = u16::from(query.qtype);
        let remembered = zone
            .and_then(|z| {
                let keys = self
                    .upstream_keys
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                keys.get(&z).copied()
            })
            .unwrap_or_default();
        [
            Some(limiter.key(ResponseKind::Answer, name, qtype)),
            Some(limiter.key(ResponseKind::NoData, name, qtype)),
            Some(ResponseKey::ERROR),
        ]
        .into_iter()
        .chain(remembered)
        .flatten()
        .find(|key| limiter.in_debt(src.ip(), *key, now))
    }

    /// Remembers the key of an upstream's NXDOMAIN or referral in `zone`, for
    /// [`Answerer::over_limit`].
    fn remember_upstream_key(&self, zone: Option<usize>, key: ResponseKey) {
        let slot = match key.kind() {
            ResponseKind::NxDomain => 0,
            ResponseKind::Referral => 1,
            _ => return,
        };
        let Some(zone) = zone else {
            return;
        };
        let mut keys = self
            .upstream_keys
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let remembered = keys.entry(zone).or_default();
        if let Some(at) = remembered.get_mut(slot) {
            *at = Some(key);
        }
    }

    /// Asks upstream for a query [`Answerer::admit`] let through, and writes its reply into
    /// `out`; SERVFAIL (Extended DNS Error 22) when no upstream answers.
    pub async fn forward(
        &self,
        admission: Admission,
        packet: &[u8],
        transport: Transport,
        src: SocketAddr,
        out: &mut Vec<u8>,
    ) -> Handled {
        self.forward_rated(admission, packet, transport, src, out)
            .await
            .0
    }

    /// Forwards a UDP query as [`Answerer::forward`] does, also saying what the rate limit
    /// counts the reply under, for [`Answerer::rate_limit`].
    pub async fn forward_udp(
        &self,
        admission: Admission,
        packet: &[u8],
        src: SocketAddr,
        out: &mut Vec<u8>,
    ) -> (Handled, ResponseKey) {
        self.forward_rated(admission, packet, Transport::Udp, src, out)
            .await
    }

    async fn forward_rated(
        &self,
        admission: Admission,
        packet: &[u8],
        transport: Transport,
        src: SocketAddr,
        out: &mut Vec<u8>,
    ) -> (Handled, ResponseKey) {
        let start = Instant::now();
        let Ok(query) = parse(packet) else {
            return (Handled::Drop, ResponseKey::ERROR);
        };
        let limit = limit(&query, transport);
        let opt = self.opt(&query, limit);
        let zone = self.index.load().zone_for(&query.key).map(|z| z.id());
        if let Some(counters) = &self.counters {
            counters.forwarded();
        }
        let Some(forwarder) = &self.forwarder else {
            return (Handled::Drop, ResponseKey::ERROR);
        };
        let mut rated = ResponseKey::ERROR;
        let result = forwarder
            .forward(packet, transport == Transport::Tcp, &admission)
            .await;
        drop(admission);
        let rcode = match result {
            Ok(reply) => {
                if let Some(limiter) = self.limiter(transport) {
                    rated = rated::upstream_key(limiter, &reply, &query.key, query.qtype);
                    self.remember_upstream_key(zone, rated);
                }
                encode_upstream(reply, &query, zone.is_some(), usize::from(limit), opt, out)
            }
            Err(error) => {
                if let Some(counters) = &self.counters {
                    counters.forward_failed();
                }
                debug!(%error, "fallthrough failed");
                let opt = opt.map(|opt| Opt {
                    error: Some(ExtendedError::NO_REACHABLE_AUTHORITY),
                    ..opt
                });
                Reply::new(out, query.header, query.question, TCP_LIMIT, opt).finish(Flags {
                    rcode: ResponseCode::ServFail,
                    authoritative: false,
                });
                ResponseCode::ServFail
            }
        };
        let seen = Seen {
            zone,
            qtype: query.qtype,
            rcode,
            rated,
            signed: false,
        };
        self.account(seen, start, transport, src, packet);
        (Handled::Reply, rated)
    }

    fn account(
        &self,
        seen: Seen,
        start: Instant,
        transport: Transport,
        src: SocketAddr,
        packet: &[u8],
    ) {
        if self.counters.is_none() && !self.query_log {
            return;
        }
        let elapsed = start.elapsed();
        if let Some(counters) = &self.counters {
            counters.answered(seen.zone, seen.qtype, seen.rcode, elapsed);
        }
        if self.query_log {
            let name = parse(packet)
                .ok()
                .and_then(|q| q.key.to_name())
                .map(|n| n.to_string())
                .unwrap_or_default();
            info!(
                target: "kubezone::query",
                %src,
                protocol = transport.name(),
                %name,
                qtype = %seen.qtype,
                rcode = %seen.rcode,
                micros = elapsed.as_micros() as u64,
                "query"
            );
        }
    }
}

/// REFUSED for a client the access list turns away: the question only, and why.
fn refuse_client(packet: &[u8], out: &mut Vec<u8>) -> (Handled, Seen) {
    let mut seen = Seen {
        zone: None,
        qtype: RecordType::NULL,
        rcode: ResponseCode::Refused,
        rated: ResponseKey::ERROR,
        signed: false,
    };
    match parse(packet) {
        Ok(query) => {
            seen.qtype = query.qtype;
            let opt = opt(&query, MAX_UDP_PAYLOAD).map(|opt| Opt {
                error: Some(ExtendedError::PROHIBITED),
                ..opt
            });
            Reply::new(out, query.header, query.question, TCP_LIMIT, opt).finish(Flags {
                rcode: ResponseCode::Refused,
                authoritative: false,
            });
            (Handled::Reply, seen)
        }
        Err(_) => (Handled::Drop, seen),
    }
}

/// The rcode of a reply already written (the low four bits of the header's flags).
fn rcode_of(reply: &[u8]) -> ResponseCode {
    ResponseCode::from(0, reply.get(3).map_or(0, |flags| flags & 0x0F))
}

/// The size a reply may take.
fn limit(query: &Query<'_>, transport: Transport) -> u16 {
    match (query.edns, transport) {
        (_, Transport::Tcp) => u16::MAX,
        (None, Transport::Udp) => PLAIN_UDP_PAYLOAD,
        (Some(edns), Transport::Udp) => edns.payload.clamp(PLAIN_UDP_PAYLOAD, MAX_UDP_PAYLOAD),
    }
}

/// The reply's OPT: there exactly when the query had one (RFC 6891 §7), advertising what
/// `limit` allows, with the query's DO bit.
fn opt(query: &Query<'_>, limit: u16) -> Option<Opt<'static>> {
    query.edns.map(|edns| Opt {
        payload: limit.clamp(PLAIN_UDP_PAYLOAD, MAX_UDP_PAYLOAD),
        dnssec_ok: edns.dnssec_ok,
        nsid: None,
        error: None,
    })
}

/// The upstream's reply under the client's ID, our EDNS and our flags; if it does not fit, an
/// empty truncated reply so the client retries over TCP. The flags are kubezone's, never the
/// upstream's: RA clear (kubezone does not recurse, RFC 1035 §4.1.1), AD clear (it validates
/// nothing), AA set for an answer, NODATA or NXDOMAIN about a name in one of the zones, which
/// kubezone answers for, and clear for a referral, an error or a name in no zone.
fn encode_upstream(
    mut reply: Message,
    query: &Query<'_>,
    in_zone: bool,
    limit: usize,
    opt: Option<Opt<'_>>,
    out: &mut Vec<u8>,
) -> ResponseCode {
    let rcode = reply.metadata.response_code;
    let authoritative = in_zone
        && matches!(rcode, ResponseCode::NoError | ResponseCode::NXDomain)
        && !is_referral(&reply);
    reply.metadata.id = query.header.id;
    reply.metadata.recursion_desired = query.header.recursion_desired;
    reply.metadata.checking_disabled = query.header.checking_disabled;
    reply.metadata.recursion_available = false;
    reply.metadata.authentic_data = false;
    reply.metadata.authoritative = authoritative;
    let edns = opt.map(|opt| {
        let mut edns = Edns::new();
        edns.set_max_payload(opt.payload);
        edns.set_version(0);
        edns.set_dnssec_ok(opt.dnssec_ok);
        if let Some(nsid) = opt.nsid.and_then(|n| NSIDPayload::new(n).ok()) {
            edns.options_mut().insert(EdnsOption::NSID(nsid));
        }
        edns
    });
    match edns {
        Some(edns) => {
            reply.set_edns(edns);
        }
        None => {
            reply.edns = None;
        }
    }
    match reply.to_vec() {
        Ok(bytes) if bytes.len() <= limit => {
            out.clear();
            out.extend_from_slice(&bytes);
        }
        encoded => {
            if let Err(error) = encoded {
                warn!(%error, "cannot encode the upstream's reply");
            }
            let mut truncated = Reply::new(out, query.header, query.question, 0, opt);
            truncated.mark_truncated();
            truncated.finish(Flags {
                rcode,
                authoritative,
            });
        }
    }
    rcode
}

/// A referral: no answer, NS records in authority and no SOA beside them.
fn is_referral(reply: &Message) -> bool {
    reply.answers.is_empty()
        && reply
            .authorities
            .iter()
            .any(|r| r.record_type() == RecordType::NS)
        && !reply
            .authorities
            .iter()
            .any(|r| r.record_type() == RecordType::SOA)
}
