//! Fallthrough: admission to the forwarder, the upstream's reply under kubezone's own flags.

use std::{net::SocketAddr, time::Instant};

use hickory_proto::{
    op::{Edns, Message, ResponseCode},
    rr::{
        RecordType,
        rdata::opt::{EdnsOption, NSIDPayload},
    },
};
use kubezone_guard::{RateVerdict, ResponseKey, ResponseKind};
use tracing::{debug, warn};

use super::{Admit, Answerer, Handled, TCP_LIMIT, Transport, account::Seen, respond::limit};
use crate::{
    Admission,
    message::{ExtendedError, Flags, Opt, Reply},
    query::{Query, parse},
    rated,
};

impl Answerer {
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
                    self.account(seen, start, transport, src, Some(&query));
                    return Admit::Drop;
                }
                RateVerdict::Slip => {
                    let mut reply = Reply::new(out, query.header, query.question, 0, opt);
                    reply.mark_truncated();
                    reply.finish(Flags {
                        rcode: seen.rcode,
                        authoritative: false,
                    });
                    self.account(seen, start, transport, src, Some(&query));
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
        servfail(&query, opt, ExtendedError::UPSTREAM_BUSY, out);
        seen.rcode = ResponseCode::ServFail;
        self.account(seen, start, transport, src, Some(&query));
        if transport == Transport::Udp
            && self.rate_limit(packet, src, ResponseKey::ERROR, out) != Handled::Reply
        {
            return Admit::Drop;
        }
        Admit::Reply
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
                servfail(&query, opt, ExtendedError::NO_REACHABLE_AUTHORITY, out);
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
        self.account(seen, start, transport, src, Some(&query));
        (Handled::Reply, rated)
    }
}

/// SERVFAIL for a query fallthrough could not answer, saying why in an Extended DNS Error.
fn servfail(query: &Query<'_>, opt: Option<Opt<'_>>, error: ExtendedError, out: &mut Vec<u8>) {
    let opt = opt.map(|opt| Opt {
        error: Some(error),
        ..opt
    });
    Reply::new(out, query.header, query.question, TCP_LIMIT, opt).finish(Flags {
        rcode: ResponseCode::ServFail,
        authoritative: false,
    });
}

/// The upstream's reply under the client's ID, our EDNS and our flags; if it does not fit, an
/// empty truncated reply so the client retries over TCP. The flags are kubezone's, never the
/// upstream's: RA clear (kubezone does not recurse, RFC 1035 §4.1.1), AD clear (it validates
/// nothing), AA set for an answer, NODATA or NXDOMAIN about a name in one of the zones, which
/// kubezone answers for, and clear for a referral, an error or a name in no zone.
pub(super) fn encode_upstream(
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
pub(super) fn is_referral(reply: &Message) -> bool {
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
